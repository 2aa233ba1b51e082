"""Hostile certificates and staples, scanned end to end as a user does: a chain of 100
certificates, a 1 MB certificate, malformed DER, and an OCSP staple of random bytes."""

from __future__ import annotations

import random
import ssl
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from httpsaudit.tls.codes import ExtensionType
from httpsaudit.tls.records import MAX_HANDSHAKE_MESSAGE_BYTES
from tests.hostile.tls_scripts import (
    SPLICE,
    Answer,
    OfferedHello,
    Script,
    Splice,
    Tls13Flight,
    assert_no_session_and_engine_refused,
    certificate_tls12,
    issue_padded,
    scan_checked,
    scan_scripted_tls,
    tls12_certificate_flight,
    tls12_stapling_flight,
    tls13_with_x25519,
)
from tests.pki import TestPKI, issue_under_intermediates
from tests.servers import PythonTlsServer

CHAIN_CERTIFICATES = 100
# A single certificate of a little over 1 MiB: four times the largest handshake message the
# engine reassembles, and ten times OpenSSL's default max_cert_list (100 KiB).
PADDING_BYTES = 2**20
# A SEQUENCE claiming 256 bytes, followed by 40: DER that no parser can read.
MALFORMED_DER = b"\x30\x82\x01\x00" + b"\x02" * 40
# "Random" bytes, fixed so a failure reproduces: 700 of them, about a real staple's size.
STAPLE = random.Random(9).randbytes(700)


def tls13_script(pki: TestPKI, build: Callable[[Tls13Flight], Tls13Flight]) -> Script:
    """A whole TLS 1.3 server (answering one HTTP request) whose flight ``build`` shapes."""

    def script(hello: OfferedHello, _index: int) -> Answer | Splice:
        if not tls13_with_x25519(hello):
            return SPLICE
        flight = build(Tls13Flight(hello, pki.ecdsa_p256).server_hello().encrypted_extensions())
        flight.certificate_verify().finished()
        return Answer(bytes(flight.wire), then=flight.serve_request)

    return script


# -- 100 certificates ------------------------------------------------------------------------


def test_tls12_chain_of_100_certificates(pki: TestPKI, tmp_path: Path) -> None:
    # Given a TLS 1.2 server sending a leaf under 99 intermediates
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(CHAIN_CERTIFICATES)]
    issued = issue_under_intermediates(pki, "chain100", keys[0], keys[1:])
    assert len(issued.chain) == CHAIN_CERTIFICATES
    with PythonTlsServer(issued, maximum_version=ssl.TLSVersion.TLSv1_2) as server:
        # When the user scans it
        run = scan_checked(server.port, pki, tmp_path)
    # Then the scan is complete: a chain that long is reported, not a reason to fail
    assert run.returncode == 0
    assert {name for name, status in run.statuses().items() if status != "completed"} == {
        "early_data"
    }
    assert run.probe("early_data")["skip_reason"] == "TLSv1.3 is not offered by the server"
    # And the certificate probes count every certificate sent
    assert len(run.result("certificate")["certificates"]) == CHAIN_CERTIFICATES
    chain = run.result("certificate_delivery")["chain"]
    assert chain["certificates"] == CHAIN_CERTIFICATES
    assert chain["exceeds_initial_window"] is True


# -- one certificate of 1 MB -----------------------------------------------------------------


def test_tls12_one_megabyte_certificate(pki: TestPKI, tmp_path: Path) -> None:
    # Given a TLS 1.2 server whose leaf carries 1 MiB of extension (the server's own TLS stack
    # cuts the Certificate message into records of 2^14 bytes)
    issued = issue_padded(pki, tmp_path / "padded", PADDING_BYTES)
    with PythonTlsServer(issued, maximum_version=ssl.TLSVersion.TLSv1_2) as server:
        # When the user scans it
        run = scan_checked(server.port, pki, tmp_path)
    # Then no TLS session: OpenSSL refuses the message (its own limit), exit 3
    assert run.returncode == 3
    assert run.error("connection") == ("handshake", "tls")
    # And the probes that only need the ServerHello still ran: TLS 1.2 is spoken
    assert run.result("versions")["supported"] == ["TLSv1.2"]
    assert run.status("cipher_suites") == "completed"
    # And those that need the whole first flight fail saying why, with our cap named
    for probe in ("groups", "key_exchange", "client_simulation"):
        assert run.error(probe) == ("protocol", "tls")
        assert "a handshake message too long to read" in run.message(probe)
        assert f"exceeds {MAX_HANDSHAKE_MESSAGE_BYTES}" in run.message(probe)


def test_tls13_one_megabyte_certificate(pki: TestPKI, tmp_path: Path) -> None:
    # Given a TLS 1.2 + 1.3 server with the same 1 MiB leaf
    issued = issue_padded(pki, tmp_path / "padded", PADDING_BYTES)
    with PythonTlsServer(issued) as server:
        # When the user scans it
        run = scan_checked(server.port, pki, tmp_path)
    # Then no TLS session, exit 3; the versions are still read from the ServerHellos
    assert run.returncode == 3
    assert run.error("connection") == ("handshake", "tls")
    assert run.result("versions")["supported"] == ["TLSv1.2", "TLSv1.3"]
    # And our TLS 1.3 engine stops at its reassembly cap, as a decode error in the handshake
    assert run.error("early_data") == ("decode", "tls")
    assert f"exceeds {MAX_HANDSHAKE_MESSAGE_BYTES}" in run.message("early_data")


# -- malformed DER ---------------------------------------------------------------------------


def tls12_malformed_der(hello: OfferedHello, _index: int) -> Answer | Splice:
    flight = tls12_certificate_flight(hello, certificate_tls12([MALFORMED_DER]))
    return SPLICE if flight is None else Answer(flight)


def test_tls12_certificate_of_malformed_der(
    pki: TestPKI, backend: tuple[str, int], tmp_path: Path
) -> None:
    # Given a server whose TLS 1.2 Certificate message holds DER that does not parse (TLS 1.3
    # probe hellos, which offer no TLS 1.2 suite, reach a real server)
    # When the user scans it
    run, _ = scan_scripted_tls(tls12_malformed_der, pki, tmp_path, backend=backend)
    # Then no TLS session: exit 3, OpenSSL refused the certificate
    assert run.returncode == 3
    assert run.error("connection") == ("handshake", "tls")
    # And the raw probes read the flight without choking on the certificate
    assert run.result("versions")["supported"] == ["TLSv1.2", "TLSv1.3"]
    assert run.result("key_exchange")["kind"] == "ECDHE"
    assert run.status("groups") == "completed"
    # And the certificate probes, with nothing to read, say so
    assert run.status("certificate") == "skipped"


def test_tls13_certificate_of_malformed_der(
    pki: TestPKI, backend: tuple[str, int], tmp_path: Path
) -> None:
    # Given a TLS 1.3 server whose encrypted Certificate holds DER that does not parse
    script = tls13_script(pki, lambda flight: flight.certificate([MALFORMED_DER]))
    # When the user scans it
    run, _ = scan_scripted_tls(script, pki, tmp_path, backend=backend)
    # Then no TLS session: exit 3
    # And our engine refuses it as bad_certificate (RFC 8446 §6.2)
    assert_no_session_and_engine_refused(
        run, "BAD_CERTIFICATE: the leaf certificate does not parse"
    )


def test_scripted_tls13_server_is_a_working_server(
    pki: TestPKI, backend: tuple[str, int], tmp_path: Path
) -> None:
    # Given the same scripted TLS 1.3 server with the lab chain: the control for the tests
    # above and below, so what fails there is the hostility, not the lab
    script = tls13_script(pki, lambda flight: flight.certificate())
    # When the user scans it
    run, _ = scan_scripted_tls(script, pki, tmp_path, backend=backend)
    # Then it is a clean, complete scan of a TLS 1.3 server
    assert run.returncode == 0
    assert set(run.statuses().values()) == {"completed"}
    assert run.result("connection")["tls"]["version"] == "TLSv1.3"
    assert run.result("certificate")["verification"]["trusted"] is True


# -- an OCSP staple of random bytes ----------------------------------------------------------


def tls12_random_staple(pki: TestPKI) -> Script:
    def script(hello: OfferedHello, _index: int) -> Answer | Splice:
        if hello.offers_tls13 or ExtensionType.STATUS_REQUEST not in hello.extensions:
            return SPLICE
        flight = tls12_stapling_flight(hello, pki.ecdsa_p256, STAPLE)
        return SPLICE if flight is None else Answer(flight)

    return script


def test_tls12_certificate_status_of_random_bytes(
    pki: TestPKI, backend: tuple[str, int], tmp_path: Path
) -> None:
    # Given a server whose TLS 1.2 CertificateStatus carries random bytes (TLS 1.3 reaches a
    # real server that staples nothing)
    # When the user scans it
    run, _ = scan_scripted_tls(tls12_random_staple(pki), pki, tmp_path, backend=backend)
    # Then the scan is complete: the TLS 1.3 session is fine
    assert run.returncode == 0
    assert run.status("connection") == "completed"
    # And the OCSP probe does not count the TLS 1.2 answer as a staple, nor as none: OpenSSL
    # refused the handshake, so it is unknown
    ocsp = run.result("ocsp")
    assert (ocsp["tls12_stapled"], ocsp["tls13_stapled"]) == ("unknown", "not_supported")
    assert ocsp["response"] is None
    # And TLS 1.2 resumption says why it could not even start
    note = run.result("resumption")["session_id"]["note"]
    assert note.startswith("full handshake failed: TLS: ")
    assert "bad certificate status response" in note


def test_random_bytes_stapled_in_tls12_and_tls13(
    pki: TestPKI, backend: tuple[str, int], tmp_path: Path
) -> None:
    # Given a server that staples the same random bytes in TLS 1.2 (CertificateStatus) and in
    # TLS 1.3 (the leaf's status_request entry extension, RFC 8446 §4.4.2.1)
    tls12 = tls12_random_staple(pki)
    tls13 = tls13_script(pki, lambda flight: flight.certificate(staple=STAPLE))

    def script(hello: OfferedHello, index: int) -> Answer | Splice:
        answer = tls13(hello, index)
        return tls12(hello, index) if isinstance(answer, Splice) else answer

    # When the user scans it
    run, _ = scan_scripted_tls(script, pki, tmp_path, backend=backend)
    # Then OpenSSL refuses every handshake that carries the staple: no session, exit 3
    assert run.returncode == 3
    assert run.error("connection") == ("handshake", "tls")
    assert "bad certificate status response" in run.message("connection")
    # And our own engine, which asks for no staple, completes against the same server
    assert run.status("early_data") == "completed"
    assert run.result("versions")["supported"] == ["TLSv1.2", "TLSv1.3"]
