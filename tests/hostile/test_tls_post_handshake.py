"""Hostile TLS 1.3 records around the end of the handshake, scanned as a user does: application
data before the server's Finished, and a flood of NewSessionTickets after it."""

from __future__ import annotations

from pathlib import Path

from httpsaudit.tls.codes import ContentType
from httpsaudit.tls.tickets import MAX_POST_HANDSHAKE_MESSAGES
from tests.hostile.tls_scripts import (
    SPLICE,
    Answer,
    OfferedHello,
    Script,
    Splice,
    Tls13Flight,
    assert_no_session_and_engine_refused,
    scan_checked,
    scan_scripted_tls,
    tls13_with_x25519,
)
from tests.pki import TestPKI
from tests.servers import DEFAULT_RESPONSE, PythonTlsServer

# NewSessionTickets a flooding server sends after each full handshake (RFC 8446 §4.6.1 sets no
# limit; OpenSSL's default is 2): far past every cap on our side.
TICKET_FLOOD = 10_000


def early_application_data(pki: TestPKI) -> Script:
    """A TLS 1.3 server that sends an HTTP response under its handshake keys after its
    CertificateVerify and before its Finished (RFC 8446 §2: application data waits for
    Finished), on the engine's own key schedule and record protection."""

    def script(hello: OfferedHello, _index: int) -> Answer | Splice:
        if not tls13_with_x25519(hello):
            return SPLICE
        flight = Tls13Flight(hello, pki.ecdsa_p256).server_hello().encrypted_extensions()
        flight.certificate().certificate_verify()
        flight.protected(ContentType.APPLICATION_DATA, DEFAULT_RESPONSE).finished()
        return Answer(bytes(flight.wire), then=flight.serve_request)

    return script


def test_tls13_application_data_before_finished(
    pki: TestPKI, backend: tuple[str, int], tmp_path: Path
) -> None:
    # Given a TLS 1.3 server that slips its response in before its Finished (raw probe hellos
    # and TLS 1.2 reach a real server)
    # When the user scans it
    run, _ = scan_scripted_tls(early_application_data(pki), pki, tmp_path, backend=backend)
    # Then OpenSSL refuses the handshake: no session, exit 3
    # And our engine refuses the record at the state it arrived in, not later
    assert_no_session_and_engine_refused(
        run, "UNEXPECTED_MESSAGE: application data in state wait_finished"
    )
    # And TLS 1.2 and the raw probes still measured the real server behind
    assert run.result("resumption")["session_id"]["support"] == "supported"
    assert run.result("versions")["supported"] == ["TLSv1.2", "TLSv1.3"]


def test_new_session_ticket_flood(pki: TestPKI, tmp_path: Path) -> None:
    # Given a real TLS 1.3 server that sends 10 000 tickets after every full handshake
    server = PythonTlsServer(pki.ecdsa_p256)
    server.context.num_tickets = TICKET_FLOOD
    with server:
        # When the user scans it
        run = scan_checked(server.port, pki, tmp_path)
    # Then the scan is complete and clean: tickets are not a reason to fail
    assert run.returncode == 0
    assert set(run.statuses().values()) == {"completed"}
    # And TLS 1.3 resumption works, while the ticket reader stops at its cap and says so
    # rather than report the cap as the server's number of tickets
    psk = run.result("resumption")["tls13_psk"]
    assert (psk["support"], psk["resumed"]) == ("supported", psk["attempts"])
    assert psk["note"] == (
        f"ticket details not read: more than {MAX_POST_HANDSHAKE_MESSAGES} post-handshake "
        "messages: reading stopped there"
    )
    tickets = run.result("resumption")["tls13_tickets"]
    assert tickets["tickets_per_connection"] is None
    # Only the resumed handshakes' tickets (one each) were read whole
    assert tickets["tickets_seen"] == psk["resumed"]
