"""Proof that the test lab is real: the PKI validates, and every server does what it promises.

Later tests trust these helpers blindly, so each one is checked here against an independent
client (Python ``ssl``, raw sockets, dnspython) with exact values.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime
import ipaddress
import os
import socket
import ssl
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.rdatatype
import dns.resolver
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, Subject, VerificationError

from tests.pki import CA_ISSUERS_URL, CRL_URL, OCSP_URL, Issued, OcspStatus, TestPKI
from tests.servers import (
    DEFAULT_RESPONSE,
    REQUIRE_SERVERS_ENV,
    DelayProxy,
    DnsServer,
    NginxServer,
    OpenSSLServer,
    PythonTlsServer,
    RawBehaviour,
    RawServer,
    ServerStartError,
    has_ipv6_loopback,
    require_binary,
    require_loopback,
)

GOOD_LEAVES = ["rsa2048", "rsa4096", "ecdsa_p256", "ecdsa_p384", "ed25519"]
GOOD_LEAVES += ["no_revocation_info", "must_staple"]
REQUEST = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"

needs_ipv6 = pytest.mark.skipif(not has_ipv6_loopback(), reason="::1 cannot be bound here")


def verify_for(pki: TestPKI, issued: Issued, subject: Subject) -> list[str]:
    verifier = PolicyBuilder().store(Store([pki.root])).build_server_verifier(subject)
    chain = verifier.verify(issued.certificate, list(issued.chain[1:]))
    return [c.subject.rfc4514_string() for c in chain]


def client_context(pki: TestPKI, alpn: list[str] | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.root_path))
    if alpn:
        context.set_alpn_protocols(alpn)
    return context


def tls_exchange(
    host: str, port: int, context: ssl.SSLContext, request: bytes = REQUEST
) -> tuple[str | None, str | None, bytes]:
    """Handshake (verifying ``localhost``), send ``request``, read to EOF."""
    with (
        socket.create_connection((host, port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(request)
        response = b""
        while chunk := tls.recv(65536):
            response += chunk
        return tls.version(), tls.selected_alpn_protocol(), response


def tls_handshake(host: str, port: int, context: ssl.SSLContext) -> tuple[str | None, str | None]:
    """Handshake only (verifying ``localhost``); no close_notify, an h2 server talks first."""
    with (
        socket.create_connection((host, port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return tls.version(), tls.selected_alpn_protocol()


def read_to_eof(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def client_hello_bytes() -> bytes:
    """A real ClientHello from Python's ssl, taken from a memory BIO before any network I/O."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ssl.create_default_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def assert_process_gone(pid: int) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# --- PKI ---------------------------------------------------------------------------------------


def test_ca_certificates_have_the_lab_names_and_p256_keys(pki: TestPKI) -> None:
    # Given the session PKI
    # Then root and intermediate carry the documented names and ECDSA P-256 keys
    assert pki.root.subject.rfc4514_string() == "CN=httpsaudit Test Root,O=httpsaudit test lab"
    assert pki.root.issuer == pki.root.subject
    assert pki.intermediate.subject.rfc4514_string() == (
        "CN=httpsaudit Test Intermediate,O=httpsaudit test lab"
    )
    assert pki.intermediate.issuer == pki.root.subject
    for key in (pki.root_key, pki.intermediate_key):
        assert key.curve.name == "secp256r1"
    constraints = pki.intermediate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert (constraints.critical, constraints.value.ca, constraints.value.path_length) == (
        True,
        True,
        0,
    )
    assert x509.load_pem_x509_certificate(pki.root_path.read_bytes()) == pki.root


@pytest.mark.parametrize("name", GOOD_LEAVES)
def test_good_leaf_chains_to_the_root_for_localhost(pki: TestPKI, name: str) -> None:
    # Given a good leaf and the chain its server would send
    issued: Issued = getattr(pki, name)
    # When it is verified against the root alone
    chain = verify_for(pki, issued, x509.DNSName("localhost"))
    # Then the path is leaf -> intermediate -> root
    assert chain == [
        "CN=localhost,O=httpsaudit test lab",
        "CN=httpsaudit Test Intermediate,O=httpsaudit test lab",
        "CN=httpsaudit Test Root,O=httpsaudit test lab",
    ]
    assert issued.chain == (issued.certificate, pki.intermediate)


@pytest.mark.parametrize(
    "subject",
    [
        x509.DNSName("lab.test"),
        x509.DNSName("www.lab.test"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ],
)
def test_default_leaf_is_valid_for_every_lab_name(pki: TestPKI, subject: Subject) -> None:
    # Given the default leaf / When verified for another lab name or loopback IP / Then it passes
    assert len(verify_for(pki, pki.ecdsa_p256, subject)) == 3


@pytest.mark.parametrize(
    ("name", "key_type", "size_bits"),
    [
        ("rsa2048", rsa.RSAPrivateKey, 2048),
        ("rsa4096", rsa.RSAPrivateKey, 4096),
        ("ecdsa_p256", ec.EllipticCurvePrivateKey, 256),
        ("ecdsa_p384", ec.EllipticCurvePrivateKey, 384),
        ("ed25519", ed25519.Ed25519PrivateKey, None),
    ],
)
def test_leaf_keys_have_the_named_type_and_size(
    pki: TestPKI, name: str, key_type: type, size_bits: int | None
) -> None:
    # Given a leaf named after its key / Then the key matches the name
    issued: Issued = getattr(pki, name)
    assert isinstance(issued.private_key, key_type)
    assert getattr(issued.private_key, "key_size", None) == size_bits
    assert issued.certificate.public_key() == issued.private_key.public_key()


def test_expired_leaf_fails_only_on_time(pki: TestPKI) -> None:
    # Given the expired leaf (notAfter ten days ago)
    not_after = pki.expired.certificate.not_valid_after_utc
    age = datetime.datetime.now(datetime.UTC) - not_after
    assert datetime.timedelta(days=9) < age < datetime.timedelta(days=11)
    # When verified now / Then the verifier names the validity period
    with pytest.raises(VerificationError, match="not valid at validation time"):
        verify_for(pki, pki.expired, x509.DNSName("localhost"))
    # And it verifies at a time inside its validity
    verifier = (
        PolicyBuilder()
        .store(Store([pki.root]))
        .time(not_after - datetime.timedelta(days=1))
        .build_server_verifier(x509.DNSName("localhost"))
    )
    assert len(verifier.verify(pki.expired.certificate, [pki.intermediate])) == 3


def test_wrong_name_leaf_fails_on_the_name(pki: TestPKI) -> None:
    san = pki.wrong_name.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert list(san.value) == [x509.DNSName("other.invalid")]
    with pytest.raises(VerificationError, match="no matching subjectAltName"):
        verify_for(pki, pki.wrong_name, x509.DNSName("localhost"))
    assert len(verify_for(pki, pki.wrong_name, x509.DNSName("other.invalid"))) == 3


def test_missing_intermediate_leaf_sends_only_itself(pki: TestPKI) -> None:
    # Given the leaf whose server omits the intermediate
    issued = pki.missing_intermediate
    assert issued.chain == (issued.certificate,)
    assert issued.intermediates_path is None
    assert x509.load_pem_x509_certificates(issued.chain_path.read_bytes()) == [issued.certificate]
    # When verified with what the server sends / Then no path to the root is found
    with pytest.raises(VerificationError, match="candidates exhausted"):
        verify_for(pki, issued, x509.DNSName("localhost"))
    # And the leaf itself is fine once the client already has the intermediate
    verifier = (
        PolicyBuilder().store(Store([pki.root])).build_server_verifier(x509.DNSName("localhost"))
    )
    assert len(verifier.verify(issued.certificate, [pki.intermediate])) == 3


def test_self_signed_leaf_is_outside_the_lab_root(pki: TestPKI) -> None:
    issued = pki.self_signed
    assert issued.certificate.issuer == issued.certificate.subject
    assert issued.chain == (issued.certificate,)
    assert issued.intermediates_path is None
    with pytest.raises(VerificationError, match="candidates exhausted"):
        verify_for(pki, issued, x509.DNSName("localhost"))


def test_leaf_extensions_carry_revocation_pointers_and_server_auth(pki: TestPKI) -> None:
    extensions = pki.ecdsa_p256.certificate.extensions
    access = extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [(d.access_method, d.access_location.value) for d in access] == [
        (AuthorityInformationAccessOID.OCSP, OCSP_URL),
        (AuthorityInformationAccessOID.CA_ISSUERS, CA_ISSUERS_URL),
    ]
    points = extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [name.value for point in points for name in point.full_name or []] == [CRL_URL]
    assert list(extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH
    ]
    usage = extensions.get_extension_for_class(x509.KeyUsage)
    assert (usage.critical, usage.value.digital_signature, usage.value.key_encipherment) == (
        True,
        True,
        False,
    )
    rsa_usage = pki.rsa2048.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert rsa_usage.key_encipherment is True
    aki = extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = pki.intermediate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    with pytest.raises(x509.ExtensionNotFound):
        extensions.get_extension_for_class(x509.TLSFeature)


def test_no_revocation_info_leaf_lacks_aia_and_crl(pki: TestPKI) -> None:
    extensions = pki.no_revocation_info.certificate.extensions
    for extension_type in (x509.AuthorityInformationAccess, x509.CRLDistributionPoints):
        with pytest.raises(x509.ExtensionNotFound):
            extensions.get_extension_for_class(extension_type)


def test_must_staple_leaf_has_status_request_feature(pki: TestPKI) -> None:
    feature = pki.must_staple.certificate.extensions.get_extension_for_class(x509.TLSFeature)
    assert list(feature.value) == [x509.TLSFeatureType.status_request]


def test_issued_files_hold_exactly_the_objects(pki: TestPKI) -> None:
    issued = pki.rsa2048
    assert x509.load_pem_x509_certificate(issued.cert_path.read_bytes()) == issued.certificate
    key = serialization.load_pem_private_key(issued.key_path.read_bytes(), password=None)
    assert key.public_key() == issued.private_key.public_key()
    assert issued.key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert x509.load_pem_x509_certificates(issued.chain_path.read_bytes()) == list(issued.chain)
    assert issued.intermediates_path is not None
    assert x509.load_pem_x509_certificates(issued.intermediates_path.read_bytes()) == [
        pki.intermediate
    ]
    assert issued.chain_der_sizes == tuple(
        len(c.public_bytes(serialization.Encoding.DER)) for c in issued.chain
    )
    assert issued.chain_der_sizes[0] > pki.ecdsa_p256.chain_der_sizes[0]


def _verify_ocsp_signature(response: ocsp.OCSPResponse, signer: x509.Certificate) -> None:
    public_key = signer.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert response.signature_hash_algorithm is not None
    public_key.verify(
        response.signature,
        response.tbs_response_bytes,
        ec.ECDSA(response.signature_hash_algorithm),
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("good", ocsp.OCSPCertStatus.GOOD),
        ("revoked", ocsp.OCSPCertStatus.REVOKED),
        ("unknown", ocsp.OCSPCertStatus.UNKNOWN),
    ],
)
def test_ocsp_response_has_the_status_and_the_intermediate_signature(
    pki: TestPKI, status: OcspStatus, expected: ocsp.OCSPCertStatus
) -> None:
    # Given an OCSP response for the default leaf
    der = pki.ocsp_response(pki.ecdsa_p256, status)
    # When parsed
    response = ocsp.load_der_ocsp_response(der)
    # Then it is a successful, intermediate-signed answer about exactly that certificate
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status == expected
    assert response.serial_number == pki.ecdsa_p256.certificate.serial_number
    assert response.certificates == []
    _verify_ocsp_signature(response, pki.intermediate)
    assert (response.revocation_time_utc is not None) == (status == "revoked")
    now = datetime.datetime.now(datetime.UTC)
    assert response.this_update_utc < now
    assert response.next_update_utc is not None
    assert response.next_update_utc > now + datetime.timedelta(days=6)


def test_ocsp_response_offsets_and_delegated_signer(pki: TestPKI) -> None:
    # Given a stale response signed by the delegated responder
    der = pki.ocsp_response(
        pki.must_staple,
        this_update_offset=datetime.timedelta(days=-10),
        next_update_offset=datetime.timedelta(days=-3),
        signer=pki.ocsp_responder,
    )
    response = ocsp.load_der_ocsp_response(der)
    # Then it carries the responder certificate, its signature, and the past window
    assert response.certificates == [pki.ocsp_responder.certificate]
    _verify_ocsp_signature(response, pki.ocsp_responder.certificate)
    assert response.next_update_utc is not None
    assert response.next_update_utc < datetime.datetime.now(datetime.UTC)
    # And a leaf outside the intermediate has no OCSP
    with pytest.raises(ValueError, match="not issued by the intermediate"):
        pki.ocsp_response(pki.self_signed)


# --- require_binary / loopback guard -----------------------------------------------------------


def test_require_binary_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = "httpsaudit-no-such-binary"
    monkeypatch.delenv(REQUIRE_SERVERS_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match=missing):
        require_binary(missing)
    monkeypatch.setenv(REQUIRE_SERVERS_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match=REQUIRE_SERVERS_ENV):
        require_binary(missing)
    assert Path(require_binary("sh")).name == "sh"


@pytest.mark.parametrize("address", ["192.0.2.1", "0.0.0.0", "::"])
def test_lab_refuses_non_loopback_addresses(address: str) -> None:
    with pytest.raises(ValueError, match="loopback only"):
        require_loopback(address)
    with pytest.raises(ValueError, match="loopback only"):
        DelayProxy(address, 443, 10.0)


# --- OpenSSLServer -----------------------------------------------------------------------------


def test_openssl_server_speaks_tls13_with_the_full_chain(pki: TestPKI) -> None:
    # Given s_server with the default leaf
    with OpenSSLServer(pki.ecdsa_p256) as server:
        assert (server.host, server.pid > 0, server.port > 0) == ("127.0.0.1", True, True)
        # When a verifying client fetches /
        version, _alpn, response = tls_exchange(server.host, server.port, client_context(pki))
        pid = server.pid
    # Then TLS 1.3 was negotiated, -www answered, and the process is gone afterwards
    assert version == "TLSv1.3"
    assert response.startswith(b"HTTP/1.0 200 ok\r\nContent-type: text/html\r\n\r\n")
    assert_process_gone(pid)


def test_openssl_server_passes_extra_args(pki: TestPKI) -> None:
    with OpenSSLServer(pki.rsa2048, "-no_tls1_3") as server:
        version, _alpn, _response = tls_exchange(server.host, server.port, client_context(pki))
    assert version == "TLSv1.2"


def test_openssl_server_with_missing_intermediate_fails_client_verification(pki: TestPKI) -> None:
    with OpenSSLServer(pki.missing_intermediate) as server:
        assert "-cert_chain" not in server.command
        with pytest.raises(ssl.SSLCertVerificationError) as raised:
            tls_exchange(server.host, server.port, client_context(pki))
    assert raised.value.verify_message == "unable to get local issuer certificate"


@needs_ipv6
def test_openssl_server_on_ipv6_loopback(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256, host="::1") as server:
        assert "ACCEPT [::1]:" in server.stdout_text
        version, _alpn, _response = tls_exchange("::1", server.port, client_context(pki))
    assert version == "TLSv1.3"


def test_openssl_server_start_failure_reports_stderr(pki: TestPKI) -> None:
    with (
        pytest.raises(ServerStartError, match="-no_such_flag") as raised,
        OpenSSLServer(pki.ecdsa_p256, "-no_such_flag"),
    ):
        pass
    assert "stderr:" in str(raised.value)


# --- NginxServer -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def basic_nginx(pki: TestPKI) -> Iterator[NginxServer]:
    with NginxServer("basic", pki.rsa2048) as server:
        yield server


def test_nginx_basic_serves_ok_with_default_headers(pki: TestPKI, basic_nginx: NginxServer) -> None:
    # Given the basic template with default parameters
    # When a verifying client fetches /
    version, _alpn, response = tls_exchange(basic_nginx.host, basic_nginx.port, client_context(pki))
    # Then the status, body, HSTS and Alt-Svc headers are exactly the template's
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert version == "TLSv1.3"
    assert lines[0] == b"HTTP/1.1 200 OK"
    assert b"Strict-Transport-Security: max-age=31536000" in lines
    assert b'Alt-Svc: h3=":443"; ma=86400' in lines
    assert body == b"ok\n"
    assert "listen 127.0.0.1:" in basic_nginx.config_text


def test_nginx_runs_one_worker_inside_its_prefix(basic_nginx: NginxServer) -> None:
    if not Path(f"/proc/{basic_nginx.pid}/task/{basic_nginx.pid}/children").exists():
        pytest.skip("/proc children list unavailable")
    assert len(_children(basic_nginx.pid)) == 1  # worker_processes 1
    for temp in ("client_body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp"):
        assert (basic_nginx.prefix / temp).is_dir()
    assert (basic_nginx.prefix / "nginx.pid").read_text().strip() == str(basic_nginx.pid)


def test_nginx_parameters_change_the_config(pki: TestPKI) -> None:
    # Given http2 on, TLS 1.2 only and no extra headers
    with NginxServer(
        "basic", pki.ecdsa_p256, http2="http2", protocols="TLSv1.2", extra_headers=""
    ) as server:
        # When clients connect with and without ALPN h2
        _version, alpn = tls_handshake(server.host, server.port, client_context(pki, ["h2"]))
        version, _alpn, response = tls_exchange(server.host, server.port, client_context(pki))
        master, workers = server.pid, _children(server.pid)
    # Then h2 is negotiated, the version is TLS 1.2, and neither header is sent
    assert alpn == "h2"
    assert version == "TLSv1.2"
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Strict-Transport-Security" not in response
    assert b"Alt-Svc" not in response
    # And master and workers are gone after exit
    for pid in [master, *workers]:
        assert_process_gone(pid)


def _children(pid: int) -> list[int]:
    children_file = Path(f"/proc/{pid}/task/{pid}/children")
    if not children_file.exists():
        return []
    return [int(child) for child in children_file.read_text().split()]


class _NginxOnBusyPortFirst(NginxServer):
    """Hands nginx a port another socket already listens on, then free ones."""

    def __init__(self, busy_port: int, template_name: str, issued: Issued) -> None:
        super().__init__(template_name, issued)
        self.busy_port = busy_port
        self.tried: list[int] = []

    def _pick_port(self) -> int:
        port = super()._pick_port() if self.tried else self.busy_port
        self.tried.append(port)
        return port


def test_nginx_retries_on_a_busy_port(pki: TestPKI) -> None:
    # Given a port already taken by a listening socket
    with socket.create_server(("127.0.0.1", 0)) as squatter:
        busy_port = squatter.getsockname()[1]
        # When nginx is first offered that port
        with _NginxOnBusyPortFirst(busy_port, "basic", pki.ecdsa_p256) as server:
            # Then it ends up on another port and serves TLS there
            assert server.port != busy_port
            assert server.tried == [busy_port, server.port]
            version, _alpn, _response = tls_exchange(server.host, server.port, client_context(pki))
    assert version == "TLSv1.3"


def test_nginx_start_failure_reports_its_error_log(pki: TestPKI) -> None:
    with (
        pytest.raises(ServerStartError, match='invalid value "TLSv9"'),
        NginxServer("basic", pki.ecdsa_p256, protocols="TLSv9"),
    ):
        pass


# --- PythonTlsServer ---------------------------------------------------------------------------


def test_python_tls_server_serves_concurrent_connections(pki: TestPKI) -> None:
    # Given the Python server with the default response
    with PythonTlsServer(pki.ecdsa_p384) as server:
        context = client_context(pki, ["http/1.1"])
        # When eight clients fetch at once
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            futures = [
                pool.submit(tls_exchange, server.host, server.port, context) for _ in range(8)
            ]
            results = [future.result() for future in futures]
    # Then each got TLS 1.3, ALPN http/1.1 and the exact response, closed cleanly
    assert results == [("TLSv1.3", "http/1.1", DEFAULT_RESPONSE)] * 8
    assert DEFAULT_RESPONSE.startswith(b"HTTP/1.1 200 OK\r\nServer: python-lab\r\n")
    assert server.connections == 8
    assert server.errors == []


def test_python_tls_server_version_cap_and_custom_response(pki: TestPKI) -> None:
    answer = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
    with PythonTlsServer(
        pki.ed25519, maximum_version=ssl.TLSVersion.TLSv1_2, alpn=(), response=answer
    ) as server:
        result = tls_exchange(server.host, server.port, client_context(pki, ["http/1.1"]))
    assert result == ("TLSv1.2", None, answer)


@needs_ipv6
def test_python_tls_server_on_ipv6_loopback(pki: TestPKI) -> None:
    with PythonTlsServer(pki.ecdsa_p256, host="::1") as server:
        assert server.host == "::1"
        _version, _alpn, response = tls_exchange("::1", server.port, client_context(pki))
    assert response == DEFAULT_RESPONSE


def test_python_tls_server_records_a_rejected_handshake(pki: TestPKI) -> None:
    with (
        PythonTlsServer(pki.wrong_name) as server,
        pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"),
    ):
        tls_exchange(server.host, server.port, client_context(pki))
    assert len(server.errors) == 1
    assert "SSL" in server.errors[0]


# --- RawServer ---------------------------------------------------------------------------------


def raw_exchange(server: RawServer, payload: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(payload)
        return read_to_eof(sock)


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        ("garbage", RawServer.GARBAGE),
        ("http", RawServer.HTTP_RESPONSE),
        ("truncated", RawServer.TRUNCATED_RECORD),
    ],
)
def test_raw_server_answers_a_client_hello_with_fixed_bytes(
    behaviour: RawBehaviour, expected: bytes
) -> None:
    hello = client_hello_bytes()
    with RawServer(behaviour) as server:
        # When two clients send a real ClientHello
        answers = [raw_exchange(server, hello) for _ in range(2)]
    # Then each gets exactly the promised bytes then EOF, after the whole hello was read
    assert answers == [expected, expected]
    assert server.received == [hello, hello]
    assert server.errors == []


def test_raw_server_fixed_answers_look_as_promised() -> None:
    assert len(RawServer.GARBAGE) == 64
    assert RawServer.GARBAGE[0] not in range(20, 25)  # no TLS content type
    assert RawServer.HTTP_RESPONSE.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    record = RawServer.TRUNCATED_RECORD
    assert len(record) == 20
    assert (record[0], record[1:3], struct.unpack("!H", record[3:5])[0]) == (0x16, b"\x03\x03", 500)
    assert record[5] == 0x02  # ServerHello


def test_raw_server_reset_sends_rst_after_the_hello() -> None:
    hello = client_hello_bytes()
    with RawServer("reset") as server:
        with pytest.raises(ConnectionResetError):
            raw_exchange(server, hello)
        assert server.received == [hello]


def test_raw_server_close_closes_at_once() -> None:
    with (
        RawServer("close") as server,
        socket.create_connection((server.host, server.port), timeout=5) as sock,
    ):
        assert sock.recv(1) == b""


def test_raw_server_silent_holds_the_connection_until_stopped() -> None:
    with contextlib.ExitStack() as cleanup:
        with RawServer("silent") as server:
            sock = cleanup.enter_context(
                socket.create_connection((server.host, server.port), timeout=0.3)
            )
            # Given a client that sent its ClientHello to the silent server
            sock.sendall(client_hello_bytes())
            # Then nothing comes back while the server runs
            with pytest.raises(TimeoutError):
                sock.recv(1)
        # And stopping the server ends the connection
        sock.settimeout(5)
        assert sock.recv(1) == b""


# --- DnsServer ---------------------------------------------------------------------------------

LAB_RECORDS = {
    "lab.test": [("A", "127.0.0.1"), ("AAAA", "::1")],
    "www.lab.test": [("CNAME", "alias.lab.test.")],
    "alias.lab.test": [("CNAME", "lab.test.")],
    "dangling.lab.test": [("CNAME", "gone.lab.test.")],
    "drop.lab.test": [("DROP", "")],
}


@pytest.fixture
def dns_server() -> Iterator[DnsServer]:
    with DnsServer(LAB_RECORDS, ttl=60) as server:
        yield server


def resolver_for(server: DnsServer, lifetime_s: float = 2.0) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server.host]
    resolver.port = server.port
    resolver.timeout = lifetime_s
    resolver.lifetime = lifetime_s
    return resolver


def test_dns_server_answers_a_and_aaaa(dns_server: DnsServer) -> None:
    resolver = resolver_for(dns_server)
    a = resolver.resolve("lab.test", "A")
    aaaa = resolver.resolve("lab.test", "AAAA")
    assert [r.to_text() for r in a] == ["127.0.0.1"]
    assert [r.to_text() for r in aaaa] == ["::1"]
    assert a.rrset is not None
    assert a.rrset.ttl == 60
    assert dns_server.queries == 2


def test_dns_server_returns_the_cname_chain(dns_server: DnsServer) -> None:
    answer = resolver_for(dns_server).resolve("www.lab.test", "A")
    assert [(str(r.name), dns.rdatatype.to_text(r.rdtype)) for r in answer.response.answer] == [
        ("www.lab.test.", "CNAME"),
        ("alias.lab.test.", "CNAME"),
        ("lab.test.", "A"),
    ]
    assert str(answer.canonical_name) == "lab.test."
    assert [r.to_text() for r in answer] == ["127.0.0.1"]


def test_dns_server_nxdomain_and_nodata(dns_server: DnsServer) -> None:
    resolver = resolver_for(dns_server)
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("nowhere.lab.test", "A")
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver.resolve("dangling.lab.test", "A")
    with pytest.raises(dns.resolver.NoAnswer):
        resolver.resolve("lab.test", "TXT")


def test_dns_server_never_answers_dropped_names(dns_server: DnsServer) -> None:
    query = dns.message.make_query("drop.lab.test", "A")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.3)
        sock.sendto(query.to_wire(), (dns_server.host, dns_server.port))
        with pytest.raises(TimeoutError):
            sock.recvfrom(512)
    assert dns_server.queries == 1
    with pytest.raises(dns.resolver.LifetimeTimeout):
        resolver_for(dns_server, lifetime_s=0.2).resolve("drop.lab.test", "A")


@needs_ipv6
def test_dns_server_on_ipv6_loopback() -> None:
    with DnsServer({"lab.test": [("AAAA", "::1")]}, host="::1") as server:
        answer = resolver_for(server).resolve("lab.test", "AAAA")
    assert [r.to_text() for r in answer] == ["::1"]


# --- DelayProxy --------------------------------------------------------------------------------


def time_exchange(host: str, port: int, context: ssl.SSLContext) -> tuple[float, float]:
    """Seconds to the first response byte: (from connect, from sending on the open connection)."""
    connect_started = time.perf_counter()
    with (
        socket.create_connection((host, port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        request_started = time.perf_counter()
        tls.sendall(REQUEST)
        first = tls.recv(1)
        arrived = time.perf_counter()
        assert first == b"H"
        read_to_eof(tls)
    return arrived - connect_started, arrived - request_started


def test_delay_proxy_adds_the_round_trip_delay(pki: TestPKI) -> None:
    one_way_delay_s = 0.040
    rtt_s = 2 * one_way_delay_s
    context = client_context(pki)
    with (
        PythonTlsServer(pki.ecdsa_p256) as server,
        DelayProxy(server.host, server.port, one_way_delay_s * 1000) as proxy,
    ):
        # Given the same TLS 1.3 exchange direct and through the proxy
        direct_full_s, direct_request_s = time_exchange(server.host, server.port, context)
        proxied_full_s, proxied_request_s = time_exchange(proxy.host, proxy.port, context)
        _version, _alpn, response = tls_exchange(proxy.host, proxy.port, context)
    # Then a request on an open connection pays one RTT: every chunk is held >= the delay, so
    # only timer rounding is allowed for.
    assert proxied_request_s - direct_request_s >= 0.95 * rtt_s
    # And handshake + request pay two RTTs (the SYN is not delayed); 1.5 RTT is a generous floor.
    assert proxied_full_s - direct_full_s >= 1.5 * rtt_s
    assert response == DEFAULT_RESPONSE
    assert proxy.errors == []


def test_delay_proxy_keeps_order_of_a_large_response(pki: TestPKI) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB, many chunks
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    with (
        PythonTlsServer(pki.ecdsa_p256, response=answer) as server,
        DelayProxy(server.host, server.port, 5.0) as proxy,
        concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool,
    ):
        context = client_context(pki)
        futures = [pool.submit(tls_exchange, proxy.host, proxy.port, context) for _ in range(3)]
        responses = [future.result()[2] for future in futures]
    assert responses == [answer] * 3
    assert proxy.connections == 3


def test_delay_proxy_propagates_half_close_both_ways() -> None:
    with (
        RawServer("silent") as silent,
        DelayProxy(silent.host, silent.port, 5.0) as proxy,
        socket.create_connection((proxy.host, proxy.port), timeout=5) as sock,
    ):
        # Given a peer that only answers our FIN with its own
        sock.sendall(b"hello")
        # When we half-close
        sock.shutdown(socket.SHUT_WR)
        # Then its close travels back through the proxy as EOF
        assert sock.recv(1) == b""


def test_delay_proxy_forwards_server_close_after_data() -> None:
    with (
        RawServer("http") as http,
        DelayProxy(http.host, http.port, 5.0) as proxy,
        socket.create_connection((proxy.host, proxy.port), timeout=5) as sock,
    ):
        sock.sendall(b"\x16\x03\x01\x00\x00")
        assert read_to_eof(sock) == RawServer.HTTP_RESPONSE


@pytest.mark.parametrize(
    ("emulate_tcp_handshake", "first_flight_one_ways"), [(True, 3), (False, 1)]
)
def test_delay_proxy_charges_the_tcp_handshake_to_the_first_flight_when_asked(
    pki: TestPKI, emulate_tcp_handshake: bool, first_flight_one_ways: int
) -> None:
    # Structural, not timed (no wall-clock asserts): the hold the proxy gives each chunk is the
    # due time it waits for. The benchmarks show the resulting wall time.
    one_way_delay_ms = 2.0
    context = client_context(pki)
    with (
        PythonTlsServer(pki.ecdsa_p256) as server,
        DelayProxy(
            server.host,
            server.port,
            one_way_delay_ms,
            emulate_tcp_handshake=emulate_tcp_handshake,
        ) as proxy,
    ):
        # Given two TLS 1.3 exchanges one after the other through the proxy
        responses = [tls_exchange(proxy.host, proxy.port, context)[2] for _ in range(2)]
    # When each client->server chunk's hold is counted in one-way delays
    one_ways = [round(hold_s * 1000 / one_way_delay_ms) for hold_s in proxy.client_chunk_holds_s]
    # Then each connection's ClientHello (its first flight, one chunk) carries the emulated
    # SYN / SYN-ACK round trip on top of its one-way delay only when asked
    assert one_ways[0] == first_flight_one_ways
    if emulate_tcp_handshake:  # a ClientHello read in two pieces holds both: at least one each
        assert 2 <= one_ways.count(first_flight_one_ways) < len(one_ways)
    else:
        assert one_ways.count(first_flight_one_ways) == len(one_ways)
    # And every chunk sent after the server answered pays the one-way delay alone
    assert set(one_ways) == {1, first_flight_one_ways}
    assert len(one_ways) >= 4  # ClientHello and Finished + request on each connection
    assert responses == [DEFAULT_RESPONSE] * 2
    assert (proxy.connections, proxy.errors) == (2, [])
