"""A certificate OpenSSL accepts whose fields cryptography decodes only when read, and then
refuses: every probe that reads it fails with a decode error, none with an internal error."""

from __future__ import annotations

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from httpsaudit.errors import ErrorKind
from httpsaudit.results import ProbeStatus
from tests.pki import Issued, TestPKI
from tests.scanning import scan_local
from tests.servers import OpenSSLServer


def bit_string_common_name_leaf(pki: TestPKI) -> Issued:
    """A leaf whose subject common name is re-tagged BIT STRING after signing: OpenSSL serves
    it, cryptography raises TypeError the first time the subject is read."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    marker = "\x00lazy-field-marker"
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, marker)]))
        .issuer_name(pki.intermediate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(pki.intermediate_key, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    value_at = der.index(marker.encode())
    assert der[value_at - 2] == UTF8_STRING_TAG
    patched = der[: value_at - 2] + bytes([BIT_STRING_TAG]) + der[value_at - 1 :]
    leaf = x509.load_der_x509_certificate(patched)
    return pki._write("bit-string-cn", leaf, key, (leaf, pki.intermediate))


UTF8_STRING_TAG = 0x0C
BIT_STRING_TAG = 0x03


def test_a_bit_string_common_name_is_a_decode_failure_never_an_internal_error(
    pki: TestPKI,
) -> None:
    # Given a server whose leaf names its subject with a BIT STRING common name
    leaf = bit_string_common_name_leaf(pki)
    with OpenSSLServer(leaf) as server:
        # When it is scanned
        result = scan_local(server.port, ca_file=pki.root_path)
    # Then no probe reports a bug, the TLS session itself was fine
    assert result.reachable
    kinds = {
        outcome.probe.value: outcome.error.kind
        for outcome in result.outcomes()
        if outcome.error is not None
    }
    assert ErrorKind.INTERNAL not in kinds.values()
    # And the certificate probe says the leaf does not parse
    assert result.certificate.status is ProbeStatus.FAILED
    assert kinds["certificate"] is ErrorKind.DECODE
    assert result.certificate.error is not None
    assert "does not parse" in result.certificate.error.message
