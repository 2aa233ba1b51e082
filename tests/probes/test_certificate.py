"""The certificate chain as sent, judged against real servers built from the test PKI."""

from __future__ import annotations

import ssl

import pytest

from httpsaudit.probes.certificate import name_matches
from httpsaudit.results import CertificateResult, ProbeStatus
from tests.pki import CA_ISSUERS_URL, CRL_URL, OCSP_URL, Issued, TestPKI
from tests.scanning import scan_local
from tests.servers import OpenSSLServer, PythonTlsServer


def scan_certificate(
    issued: Issued, pki: TestPKI, *extra: str, trust_root: bool = True
) -> CertificateResult:
    with OpenSSLServer(issued, *extra) as server:
        result = scan_local(server.port, ca_file=pki.root_path if trust_root else None)
    # An untrusted chain is a finding: the timed connection must still complete.
    assert result.connection.status is ProbeStatus.COMPLETED, result.connection.error
    assert result.certificate.status is ProbeStatus.COMPLETED, result.certificate.error
    assert result.certificate.connections == 0
    assert result.certificate.result is not None
    return result.certificate.result


def test_ecdsa_chain_as_sent(pki: TestPKI) -> None:
    # Given a server sending an ECDSA P-256 leaf and its intermediate
    certificate = scan_certificate(pki.ecdsa_p256, pki)
    # Then both certificates are described exactly
    leaf, intermediate = certificate.certificates
    assert leaf.key_type == "ECDSA"
    assert leaf.key_bits == 256
    assert leaf.key_curve == "P-256"
    assert leaf.key_description == "ECDSA P-256"
    assert leaf.signature_algorithm == "ecdsa-with-SHA256"
    assert leaf.signature_hash == "sha256"
    assert leaf.is_ca is False
    assert leaf.subject == pki.ecdsa_p256.certificate.subject.rfc4514_string()
    assert leaf.issuer == pki.intermediate.subject.rfc4514_string()
    assert leaf.serial_hex == f"{pki.ecdsa_p256.certificate.serial_number:x}"
    assert intermediate.is_ca is True
    assert intermediate.subject == pki.intermediate.subject.rfc4514_string()
    # And the chain weighs what the fixture produced
    sizes = pki.ecdsa_p256.chain_der_sizes
    assert tuple(info.der_bytes for info in certificate.certificates) == sizes
    assert certificate.chain_der_bytes == sum(sizes)
    # TLS 1.3 Certificate message: header, context, list length, per entry length + extensions
    assert certificate.certificate_message_bytes == 4 + 1 + 3 + sum(5 + size for size in sizes)
    # And the leaf's names and revocation pointers are read
    assert "DNS:localhost" in certificate.leaf.subject_alt_names
    assert "IP:127.0.0.1" in certificate.leaf.subject_alt_names
    assert certificate.leaf.name_matches is True
    assert certificate.leaf.ocsp_urls == (OCSP_URL,)
    assert certificate.leaf.ca_issuers_urls == (CA_ISSUERS_URL,)
    assert certificate.leaf.crl_urls == (CRL_URL,)
    assert certificate.leaf.must_staple is False
    # And with the test root trusted, the chain is trusted
    assert certificate.verification.trusted is True
    assert certificate.verification.problems == ()
    assert certificate.verification.trust_store == "system+ca-file"


@pytest.mark.parametrize(
    ("leaf_name", "key_type", "bits", "description"),
    [
        ("rsa2048", "RSA", 2048, "RSA-2048"),
        ("rsa4096", "RSA", 4096, "RSA-4096"),
        ("ecdsa_p384", "ECDSA", 384, "ECDSA P-384"),
        ("ed25519", "Ed25519", 256, "Ed25519"),
    ],
)
def test_key_types(
    pki: TestPKI, leaf_name: str, key_type: str, bits: int, description: str
) -> None:
    # Given a server with this kind of leaf key
    certificate = scan_certificate(getattr(pki, leaf_name), pki)
    # Then the key is named the way people talk about it
    leaf = certificate.certificates[0]
    assert (leaf.key_type, leaf.key_bits, leaf.key_description) == (key_type, bits, description)
    assert certificate.verification.trusted is True


def test_expired_leaf_is_a_finding_not_an_abort(pki: TestPKI) -> None:
    certificate = scan_certificate(pki.expired, pki)
    assert certificate.verification.trusted is False
    assert [problem.reason for problem in certificate.verification.problems] == ["expired"]
    problem = certificate.verification.problems[0]
    assert problem.depth == 0
    assert problem.openssl_code == 10
    assert certificate.certificates[0].days_left < 0


def test_wrong_name(pki: TestPKI) -> None:
    certificate = scan_certificate(pki.wrong_name, pki)
    assert certificate.leaf.name_matches is False
    assert certificate.leaf.subject_alt_names == ("DNS:other.invalid",)
    assert certificate.verification.name_matches is False
    assert [problem.reason for problem in certificate.verification.problems] == ["name_mismatch"]
    assert "localhost" in certificate.verification.problems[0].message


def test_missing_intermediate(pki: TestPKI) -> None:
    # Given a server that sends only its leaf
    certificate = scan_certificate(pki.missing_intermediate, pki)
    # Then the one certificate sent cannot be chained to the trusted root
    assert len(certificate.certificates) == 1
    reasons = [problem.reason for problem in certificate.verification.problems]
    assert reasons[0] == "missing_intermediate"
    assert certificate.verification.trusted is False


def test_unknown_root_without_ca_file(pki: TestPKI) -> None:
    # Given a chain that ends at our private root, and only the system store
    certificate = scan_certificate(pki.ecdsa_p256, pki, trust_root=False)
    # Then the intermediate's issuer is unknown
    problem = certificate.verification.problems[0]
    assert problem.reason == "unknown_issuer"
    assert problem.depth == 1
    assert certificate.verification.trust_store == "system"


def test_self_signed_leaf(pki: TestPKI) -> None:
    certificate = scan_certificate(pki.self_signed, pki)
    assert certificate.certificates[0].self_signed is True
    assert "self_signed" in [problem.reason for problem in certificate.verification.problems]


def test_must_staple_and_missing_revocation_info(pki: TestPKI) -> None:
    must_staple = scan_certificate(pki.must_staple, pki)
    bare = scan_certificate(pki.no_revocation_info, pki)
    assert must_staple.leaf.must_staple is True
    assert bare.leaf.must_staple is False
    assert bare.leaf.ocsp_urls == ()
    assert bare.leaf.crl_urls == ()
    assert bare.leaf.ca_issuers_urls == ()


def test_tls12_certificate_message_is_measured_on_the_wire(pki: TestPKI) -> None:
    # Given a TLS 1.2 server with an RSA chain
    with PythonTlsServer(pki.rsa2048, maximum_version=ssl.TLSVersion.TLSv1_2) as server:
        result = scan_local(server.port, ca_file=pki.root_path)
    certificate = result.certificate.result
    assert certificate is not None
    sizes = pki.rsa2048.chain_der_sizes
    # Then the exact wire size equals header + list length + 3 bytes per certificate
    assert certificate.certificate_message_bytes == 4 + 3 + sum(3 + size for size in sizes)


@pytest.mark.parametrize(
    ("name", "dns_names", "ip_names", "expected"),
    [
        ("www.example.com", ["www.example.com"], [], True),
        ("WWW.Example.COM.", ["www.example.com"], [], True),
        ("a.example.com", ["*.example.com"], [], True),
        ("example.com", ["*.example.com"], [], False),
        ("a.b.example.com", ["*.example.com"], [], False),
        ("10.0.0.1", ["10.0.0.1"], [], False),
        ("10.0.0.1", [], ["10.0.0.1"], True),
        ("::1", [], ["0:0:0:0:0:0:0:1"], True),
        ("example.com", [], ["10.0.0.1"], False),
    ],
)
def test_name_matching_rules(
    name: str, dns_names: list[str], ip_names: list[str], expected: bool
) -> None:
    assert name_matches(name, dns_names, ip_names) is expected
