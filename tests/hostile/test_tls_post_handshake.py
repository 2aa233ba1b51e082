"""Hostile TLS 1.3 records around the end of the handshake, scanned as a user does: application
data before the server's Finished, and a flood of NewSessionTickets after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from httpsaudit.tls.codes import CipherSuite, ContentType, NamedGroup
from httpsaudit.tls.tickets import MAX_POST_HANDSHAKE_MESSAGES
from tests.hostile.tls_scripts import (
    SPLICE,
    Answer,
    OfferedHello,
    ScanRun,
    Script,
    ScriptedTlsServer,
    Splice,
    Tls13Flight,
    scan_cli,
)
from tests.pki import TestPKI
from tests.servers import DEFAULT_RESPONSE, PythonTlsServer

# NewSessionTickets a flooding server sends after each full handshake (RFC 8446 §4.6.1 sets no
# limit; OpenSSL's default is 2): far past every cap on our side.
TICKET_FLOOD = 10_000


@pytest.fixture(scope="module")
def backend(pki: TestPKI) -> Iterator[tuple[str, int]]:
    """The real TLS 1.2 + 1.3 server every spliced connection reaches."""
    with PythonTlsServer(pki.ecdsa_p256) as server:
        yield ("127.0.0.1", server.port)


def scan(port: int, pki: TestPKI, tmp_path: Path) -> ScanRun:
    run = scan_cli(port, pki.root_path, tmp_path / "report.json")
    assert run.crashes() == []
    return run


def early_application_data(pki: TestPKI) -> Script:
    """A TLS 1.3 server that sends an HTTP response under its handshake keys after its
    CertificateVerify and before its Finished (RFC 8446 §2: application data waits for
    Finished), on the engine's own key schedule and record protection."""

    def script(hello: OfferedHello, _index: int) -> Answer | Splice:
        if not (
            hello.offers_tls13
            and NamedGroup.x25519 in hello.key_shares
            and CipherSuite.TLS_AES_128_GCM_SHA256 in hello.cipher_suites
        ):
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
    with ScriptedTlsServer(early_application_data(pki), backend=backend) as server:
        # When the user scans it
        run = scan(server.port, pki, tmp_path)
    # Then OpenSSL refuses the handshake: no session, exit 3
    assert run.returncode == 3
    assert run.error("connection") == ("handshake", "tls")
    # And our engine refuses the record at the state it arrived in, not later
    assert run.error("early_data") == ("protocol", "tls")
    assert run.message("early_data").startswith(
        "UNEXPECTED_MESSAGE: application data in state wait_finished"
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
        run = scan(server.port, pki, tmp_path)
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
