"""A throwaway PKI for tests: root, intermediate and leaves built fresh each session.

Nothing here is committed to disk outside the directory given to ``TestPKI.create``, so no key
ever lands in git, and every certificate's quirk (expired, wrong name, missing intermediate) is
made on purpose and named after it.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificateIssuerPublicKeyTypes,
)
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

ROOT_COMMON_NAME = "httpsaudit Test Root"
INTERMEDIATE_COMMON_NAME = "httpsaudit Test Intermediate"
ORGANIZATION = "httpsaudit test lab"

OCSP_URL = "http://ocsp.lab.test/"
CA_ISSUERS_URL = "http://ca.lab.test/intermediate.der"
CRL_URL = "http://crl.lab.test/intermediate.crl"

DEFAULT_DNS_NAMES = ("localhost", "lab.test", "*.lab.test")
DEFAULT_IP_ADDRESSES = ("127.0.0.1", "::1")

# Leaves live long enough for any test session, and far less than the 398-day browser limit.
LEAF_LIFETIME = datetime.timedelta(days=90)
CA_LIFETIME = datetime.timedelta(days=3650)
# Backdated so a client clock a little behind ours still sees every certificate as valid.
BACKDATE = datetime.timedelta(days=1)
# CAs start a year back so the expired leaf verifies at a time inside its own validity.
CA_BACKDATE = datetime.timedelta(days=365)

OcspStatus = Literal["good", "revoked", "unknown"]
OcspSigner = tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _signature_hash(key: CertificateIssuerPrivateKeyTypes) -> hashes.SHA256 | None:
    """RSA, ECDSA and DSA sign a digest; EdDSA and ML-DSA sign the message, so take no hash."""
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | dsa.DSAPrivateKey):
        return hashes.SHA256()
    return None


def _pem(certificates: Sequence[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def _key_pem(key: CertificateIssuerPrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _subject_alternative_name(
    dns_names: Sequence[str], ip_addresses: Sequence[str]
) -> x509.SubjectAlternativeName:
    general_names: list[x509.GeneralName] = [x509.DNSName(name) for name in dns_names]
    general_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ip_addresses]
    return x509.SubjectAlternativeName(general_names)


def _key_usage(*, digital_signature: bool, key_encipherment: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass(frozen=True)
class Issued:
    """A leaf certificate, its key, and the chain a server should send, all written as PEM."""

    name: str
    certificate: x509.Certificate
    private_key: CertificateIssuerPrivateKeyTypes
    chain: tuple[x509.Certificate, ...]
    cert_path: Path
    key_path: Path
    chain_path: Path
    intermediates_path: Path | None

    @property
    def chain_der_sizes(self) -> tuple[int, ...]:
        """Sizes of what a server sends, leaf first: certificate bytes dominate handshake size."""
        return tuple(len(c.public_bytes(serialization.Encoding.DER)) for c in self.chain)

    @property
    def public_key(self) -> CertificateIssuerPublicKeyTypes:
        return self.private_key.public_key()


class TestPKI:
    """Root CA -> intermediate CA -> named leaves, one instance per test session."""

    __test__: ClassVar[bool] = False

    def __init__(
        self,
        *,
        directory: Path,
        root: x509.Certificate,
        root_key: ec.EllipticCurvePrivateKey,
        intermediate: x509.Certificate,
        intermediate_key: ec.EllipticCurvePrivateKey,
    ) -> None:
        self.directory = directory
        self.root = root
        self.root_key = root_key
        self.intermediate = intermediate
        self.intermediate_key = intermediate_key
        self.root_path = directory / "root.pem"
        self.root_path.write_bytes(_pem([root]))
        self.intermediate_path = directory / "intermediate.pem"
        self.intermediate_path.write_bytes(_pem([intermediate]))

        p256 = ec.SECP256R1()
        self.rsa2048 = self.issue("rsa2048", rsa.generate_private_key(65537, 2048))
        self.rsa4096 = self.issue("rsa4096", rsa.generate_private_key(65537, 4096))
        self.ecdsa_p256 = self.issue("ecdsa_p256", ec.generate_private_key(p256))
        self.ecdsa_p384 = self.issue("ecdsa_p384", ec.generate_private_key(ec.SECP384R1()))
        self.ed25519 = self.issue("ed25519", ed25519.Ed25519PrivateKey.generate())
        now = _now()
        self.expired = self.issue(
            "expired",
            ec.generate_private_key(p256),
            not_before=now - datetime.timedelta(days=100),
            not_after=now - datetime.timedelta(days=10),
        )
        self.wrong_name = self.issue(
            "wrong_name",
            ec.generate_private_key(p256),
            dns_names=("other.invalid",),
            ip_addresses=(),
        )
        self.missing_intermediate = self.issue(
            "missing_intermediate", ec.generate_private_key(p256), send_intermediate=False
        )
        self.no_revocation_info = self.issue(
            "no_revocation_info", ec.generate_private_key(p256), revocation_info=False
        )
        self.must_staple = self.issue(
            "must_staple", ec.generate_private_key(p256), must_staple=True
        )
        self.self_signed = self._issue_self_signed("self_signed", ec.generate_private_key(p256))
        self.ocsp_responder = self._issue_ocsp_responder("ocsp_responder")

    @classmethod
    def create(cls, directory: Path) -> TestPKI:
        """Generate every key and certificate under ``directory`` (a pytest tmp dir)."""
        directory.mkdir(parents=True, exist_ok=True)
        now = _now()
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name(ROOT_COMMON_NAME)
        root = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CA_BACKDATE)
            .not_valid_after(now + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                _key_usage(digital_signature=True, key_encipherment=False, ca=True), critical=True
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                critical=False,
            )
            .sign(root_key, hashes.SHA256())
        )
        intermediate_key = ec.generate_private_key(ec.SECP256R1())
        intermediate = (
            x509.CertificateBuilder()
            .subject_name(_name(INTERMEDIATE_COMMON_NAME))
            .issuer_name(root.subject)
            .public_key(intermediate_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CA_BACKDATE)
            .not_valid_after(now + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                _key_usage(digital_signature=True, key_encipherment=False, ca=True), critical=True
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(intermediate_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                critical=False,
            )
            .sign(root_key, hashes.SHA256())
        )
        return cls(
            directory=directory,
            root=root,
            root_key=root_key,
            intermediate=intermediate,
            intermediate_key=intermediate_key,
        )

    def issue(
        self,
        name: str,
        key: CertificateIssuerPrivateKeyTypes,
        *,
        dns_names: Sequence[str] = DEFAULT_DNS_NAMES,
        ip_addresses: Sequence[str] = DEFAULT_IP_ADDRESSES,
        not_before: datetime.datetime | None = None,
        not_after: datetime.datetime | None = None,
        revocation_info: bool = True,
        must_staple: bool = False,
        send_intermediate: bool = True,
    ) -> Issued:
        """Issue a server leaf under the intermediate; the keywords make one thing wrong each."""
        now = _now()
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(dns_names[0]))
            .issuer_name(self.intermediate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - BACKDATE)
            .not_valid_after(not_after or now + LEAF_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                _key_usage(
                    digital_signature=True,
                    # RSA key exchange (TLS 1.2 RSA suites) encrypts to the certificate key.
                    key_encipherment=isinstance(key, rsa.RSAPrivateKey),
                    ca=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(_subject_alternative_name(dns_names, ip_addresses), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.intermediate_key.public_key()
                ),
                critical=False,
            )
        )
        if revocation_info:
            builder = builder.add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier(OCSP_URL),
                        ),
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.CA_ISSUERS,
                            x509.UniformResourceIdentifier(CA_ISSUERS_URL),
                        ),
                    ]
                ),
                critical=False,
            ).add_extension(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            full_name=[x509.UniformResourceIdentifier(CRL_URL)],
                            relative_name=None,
                            reasons=None,
                            crl_issuer=None,
                        )
                    ]
                ),
                critical=False,
            )
        if must_staple:
            builder = builder.add_extension(
                x509.TLSFeature([x509.TLSFeatureType.status_request]), critical=False
            )
        certificate = builder.sign(self.intermediate_key, hashes.SHA256())
        chain = (certificate, self.intermediate) if send_intermediate else (certificate,)
        return self._write(name, certificate, key, chain)

    def _issue_self_signed(self, name: str, key: ec.EllipticCurvePrivateKey) -> Issued:
        """A leaf that names itself as issuer: valid names, but outside any trust store."""
        now = _now()
        subject = _name(DEFAULT_DNS_NAMES[0])
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + LEAF_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                _key_usage(digital_signature=True, key_encipherment=False, ca=False), critical=True
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                _subject_alternative_name(DEFAULT_DNS_NAMES, DEFAULT_IP_ADDRESSES), critical=False
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        return self._write(name, certificate, key, (certificate,))

    def _issue_ocsp_responder(self, name: str) -> Issued:
        """A delegated OCSP signer (RFC 6960 §4.2.2.2): the intermediate lends it OCSPSigning."""
        now = _now()
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name("httpsaudit Test OCSP Responder"))
            .issuer_name(self.intermediate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + LEAF_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                _key_usage(digital_signature=True, key_encipherment=False, ca=False), critical=True
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False
            )
            .add_extension(x509.OCSPNoCheck(), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.intermediate_key.public_key()
                ),
                critical=False,
            )
            .sign(self.intermediate_key, hashes.SHA256())
        )
        return self._write(name, certificate, key, (certificate, self.intermediate))

    def _write(
        self,
        name: str,
        certificate: x509.Certificate,
        key: CertificateIssuerPrivateKeyTypes,
        chain: tuple[x509.Certificate, ...],
    ) -> Issued:
        cert_path = self.directory / f"{name}.crt.pem"
        key_path = self.directory / f"{name}.key.pem"
        chain_path = self.directory / f"{name}.chain.pem"
        cert_path.write_bytes(_pem([certificate]))
        key_path.write_bytes(_key_pem(key))
        key_path.chmod(0o600)
        chain_path.write_bytes(_pem(chain))
        intermediates_path: Path | None = None
        if len(chain) > 1:
            intermediates_path = self.directory / f"{name}.intermediates.pem"
            intermediates_path.write_bytes(_pem(chain[1:]))
        return Issued(
            name=name,
            certificate=certificate,
            private_key=key,
            chain=chain,
            cert_path=cert_path,
            key_path=key_path,
            chain_path=chain_path,
            intermediates_path=intermediates_path,
        )

    def ocsp_response(
        self,
        issued: Issued,
        status: OcspStatus = "good",
        *,
        this_update_offset: datetime.timedelta = datetime.timedelta(hours=-1),
        next_update_offset: datetime.timedelta | None = datetime.timedelta(days=7),
        signer: Issued | OcspSigner | None = None,
        revocation_offset: datetime.timedelta = datetime.timedelta(days=-2),
    ) -> bytes:
        """A DER OCSP response for ``issued``, by default signed by its issuer, the intermediate.

        Offsets are relative to now, so stale (negative ``next_update_offset``) and not yet valid
        (positive ``this_update_offset``) responses are one argument away. ``signer`` may be a
        delegated responder (``pki.ocsp_responder``) or any (certificate, key) pair, e.g. the root
        for a wrong-signer case; a signer other than the issuer is included in the response.
        """
        if issued.certificate.issuer != self.intermediate.subject:
            raise ValueError(f"{issued.name} is not issued by the intermediate; no OCSP for it")
        signer_certificate: x509.Certificate
        signer_key: CertificateIssuerPrivateKeyTypes
        if signer is None:
            signer_certificate, signer_key = self.intermediate, self.intermediate_key
        elif isinstance(signer, Issued):
            signer_certificate, signer_key = signer.certificate, signer.private_key
        else:
            signer_certificate, signer_key = signer
        now = _now()
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=issued.certificate,
            issuer=self.intermediate,
            algorithm=hashes.SHA1(),  # noqa: S303 - RFC 6960 CertID hash every responder accepts
            cert_status={
                "good": ocsp.OCSPCertStatus.GOOD,
                "revoked": ocsp.OCSPCertStatus.REVOKED,
                "unknown": ocsp.OCSPCertStatus.UNKNOWN,
            }[status],
            this_update=now + this_update_offset,
            next_update=None if next_update_offset is None else now + next_update_offset,
            revocation_time=now + revocation_offset if status == "revoked" else None,
            revocation_reason=x509.ReasonFlags.key_compromise if status == "revoked" else None,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, signer_certificate)
        if signer_certificate != self.intermediate:
            builder = builder.certificates([signer_certificate])
        response = builder.sign(signer_key, _signature_hash(signer_key))
        return response.public_bytes(serialization.Encoding.DER)


# -- OCSP stapling helpers (tests/probes/test_ocsp.py) ---------------------------------------

# id-pkix-ocsp-basic (RFC 6960 §4.2.1), DER-encoded with its OID tag and length.
_OCSP_BASIC_OID_DER = bytes.fromhex("06092b0601050507300101")


def _der(tag: int, body: bytes) -> bytes:
    """One DER TLV (definite length, short or long form)."""
    if len(body) < 0x80:
        length = bytes([len(body)])
    else:
        size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(size)]) + size
    return bytes([tag]) + length + body


def hollow_ocsp_response(inner: bytes) -> bytes:
    """A successful OCSPResponse whose BasicOCSPResponse is ``inner`` (random bytes, say).

    s_server and nginx parse only the outer layer and staple it as is; raw random bytes as a
    status file make s_server fail every handshake with internal_error instead.
    """
    response_bytes = _der(0x30, _OCSP_BASIC_OID_DER + _der(0x04, inner))
    return _der(0x30, _der(0x0A, b"\x00") + _der(0xA0, response_bytes))


# -- Chains for the certificate delivery tests (tests/probes/test_delivery.py) ---------------

# AlgorithmIdentifier DER of ecdsa-with-SHA1 (RFC 3279 §2.2.3: no parameters), a signature
# cryptography's X.509 builder refuses to make.
_ECDSA_WITH_SHA1_DER = bytes.fromhex("300906072a8648ce3d0401")


def _tlv(tag: int, body: bytes) -> bytes:
    """One DER element with a definite length (short or long form)."""
    if len(body) < 0x80:
        length = bytes([len(body)])
    else:
        size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(size)]) + size
    return bytes([tag]) + length + body


def _tlv_elements(contents: bytes) -> list[bytes]:
    """Split the contents of a DER SEQUENCE into its elements, each with its own header."""
    elements: list[bytes] = []
    offset = 0
    while offset < len(contents):
        header = 2
        length = contents[offset + 1]
        if length & 0x80:
            count = length & 0x7F
            length = int.from_bytes(contents[offset + 2 : offset + 2 + count], "big")
            header += count
        elements.append(contents[offset : offset + header + length])
        offset += header + length
    return elements


def _tlv_contents(element: bytes) -> bytes:
    length = element[1]
    return element[2 + (length & 0x7F if length & 0x80 else 0) :]


def _ca_certificate(
    subject: x509.Name,
    key: CertificateIssuerPrivateKeyTypes,
    issuer: x509.Certificate,
    issuer_key: CertificateIssuerPrivateKeyTypes,
) -> x509.Certificate:
    """An intermediate CA with no path length limit, so chains may be as deep as a test needs."""
    now = _now()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CA_BACKDATE)
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            _key_usage(digital_signature=True, key_encipherment=False, ca=True), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, _signature_hash(issuer_key))
    )


def issue_under_intermediates(
    pki: TestPKI,
    name: str,
    leaf_key: CertificateIssuerPrivateKeyTypes,
    intermediate_keys: Sequence[CertificateIssuerPrivateKeyTypes],
) -> Issued:
    """A leaf under ``len(intermediate_keys)`` fresh intermediates below the test root.

    The first key makes the intermediate the root signs, the last the one that signs the leaf;
    the chain is sent leaf first, each certificate followed by its issuer. A key may repeat
    (RSA-4096 generation is slow; a heavy chain only needs heavy certificates).
    """
    if not intermediate_keys:
        raise ValueError("at least one intermediate")
    issuer = pki.root
    issuer_key: CertificateIssuerPrivateKeyTypes = pki.root_key
    intermediates: list[x509.Certificate] = []
    for index, key in enumerate(intermediate_keys, start=1):
        issuer = _ca_certificate(_name(f"{name} intermediate {index}"), key, issuer, issuer_key)
        issuer_key = key
        intermediates.append(issuer)
    now = _now()
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(DEFAULT_DNS_NAMES[0]))
        .issuer_name(issuer.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + LEAF_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(
                digital_signature=True,
                key_encipherment=isinstance(leaf_key, rsa.RSAPrivateKey),
                ca=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            _subject_alternative_name(DEFAULT_DNS_NAMES, DEFAULT_IP_ADDRESSES), critical=False
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, _signature_hash(issuer_key))
    )
    return pki._write(name, leaf, leaf_key, (leaf, *reversed(intermediates)))


def send_chain(
    pki: TestPKI, issued: Issued, name: str, chain: Sequence[x509.Certificate]
) -> Issued:
    """``issued``'s leaf and key with another chain to send: the root appended, certificates
    repeated or out of order. ``chain`` starts with the leaf; servers send it as written."""
    if not chain or chain[0] != issued.certificate:
        raise ValueError("the chain to send starts with the leaf")
    return pki._write(name, issued.certificate, issued.private_key, tuple(chain))


def sha1_signed(pki: TestPKI, name: str, key: CertificateIssuerPrivateKeyTypes) -> Issued:
    """A leaf the intermediate signs with ecdsa-with-SHA1, as CAs did before 2016.

    cryptography 50's X.509 builder refuses SHA-1 ("not supported for signatures"), but its
    ECDSA primitive still signs a SHA-1 digest; so the leaf is built as usual, then its
    TBSCertificate gets the SHA-1 algorithm identifier (RFC 5280 §4.1.2.3: it must equal the
    outer one) and is signed again.
    """
    if not isinstance(pki.intermediate_key, ec.EllipticCurvePrivateKey):
        raise TypeError("the test intermediate is expected to be ECDSA")
    modern = pki.issue(name, key).certificate
    fields = _tlv_elements(_tlv_contents(modern.tbs_certificate_bytes))
    fields[2] = _ECDSA_WITH_SHA1_DER  # version, serialNumber, then signature
    tbs = _tlv(0x30, b"".join(fields))
    signature = pki.intermediate_key.sign(tbs, ec.ECDSA(hashes.SHA1()))  # noqa: S303
    der = _tlv(0x30, tbs + _ECDSA_WITH_SHA1_DER + _tlv(0x03, b"\x00" + signature))
    certificate = x509.load_der_x509_certificate(der)
    return pki._write(name, certificate, key, (certificate, pki.intermediate))
