"""The certificate chain exactly as the server sent it: weight, keys, validity, names, trust.

It reads the chain the timed connection captured, so it costs no connection of its own.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, SignatureAlgorithmOID

from httpsaudit.errors import Unsupported
from httpsaudit.net.clock import wall_time
from httpsaudit.probes.base import ProbeContext
from httpsaudit.results import (
    CertificateInfo,
    CertificateResult,
    ChainVerification,
    LeafDetails,
    PeerCertificates,
    ProbeId,
    VerifyProblem,
)
from httpsaudit.tls.certificates import load_certificate
from httpsaudit.tls.codes import ProtocolVersion

_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}
_SIGNATURE_NAMES = {
    SignatureAlgorithmOID.RSA_WITH_SHA1: "sha1WithRSAEncryption",
    SignatureAlgorithmOID.RSA_WITH_SHA256: "sha256WithRSAEncryption",
    SignatureAlgorithmOID.RSA_WITH_SHA384: "sha384WithRSAEncryption",
    SignatureAlgorithmOID.RSA_WITH_SHA512: "sha512WithRSAEncryption",
    SignatureAlgorithmOID.RSASSA_PSS: "rsassa-pss",
    SignatureAlgorithmOID.ECDSA_WITH_SHA1: "ecdsa-with-SHA1",
    SignatureAlgorithmOID.ECDSA_WITH_SHA256: "ecdsa-with-SHA256",
    SignatureAlgorithmOID.ECDSA_WITH_SHA384: "ecdsa-with-SHA384",
    SignatureAlgorithmOID.ECDSA_WITH_SHA512: "ecdsa-with-SHA512",
    SignatureAlgorithmOID.ED25519: "ed25519",
    SignatureAlgorithmOID.ED448: "ed448",
    SignatureAlgorithmOID.DSA_WITH_SHA256: "dsa-with-SHA256",
}
# OpenSSL X509_V_ERR_* codes (include/openssl/x509_vfy.h) we explain in plain words.
_EXPIRED = 10
_NOT_YET_VALID = 9
_DEPTH_ZERO_SELF_SIGNED = 18
_SELF_SIGNED_IN_CHAIN = 19
_NO_ISSUER_LOCALLY = 20
_NO_ISSUER = 2
_CANNOT_VERIFY_LEAF_SIGNATURE = 21
_VERIFY_REASONS: dict[int, tuple[str, str]] = {
    7: ("bad_signature", "certificate signature does not verify"),
    22: ("chain_too_long", "certificate chain too long"),
    23: ("revoked", "certificate revoked"),
    24: ("invalid_ca", "issuer is not a valid CA"),
    79: ("invalid_ca", "issuer is not a valid CA"),
    25: ("path_length_exceeded", "path length constraint exceeded"),
    26: ("invalid_purpose", "certificate not valid for TLS server authentication"),
    28: ("rejected", "certificate rejected by the trust store"),
    32: ("invalid_ca", "issuer key usage does not allow certificate signing"),
    34: ("unhandled_critical_extension", "unhandled critical extension"),
    47: ("name_constraints", "name constraints violated"),
    66: ("weak_key", "end-entity key too small"),
    67: ("weak_key", "CA key too small"),
    68: ("weak_signature", "signature digest too weak (SHA-1 or MD5)"),
    48: ("name_constraints", "name constraints violated"),
}
_SECONDS_PER_DAY = 86400
_MUST_STAPLE_STATUS_REQUEST = 5  # RFC 7633: TLS feature value for status_request


class CertificateProbe:
    """Reads the chain captured by the timed connection; makes no connection itself."""

    probe_id = ProbeId.CERTIFICATE
    requires: tuple[ProbeId, ...] = (ProbeId.CONNECTION,)

    def run(self, context: ProbeContext) -> CertificateResult:
        outcome = context.connection
        connection = outcome.result if outcome is not None else None
        if connection is None or connection.peer_certificates is None:
            raise Unsupported("the server sent no certificate (anonymous or PSK handshake)")
        tls13 = (
            connection.tls is not None and connection.tls.version_code == ProtocolVersion.TLSv1_3
        )
        exact = connection.tls.certificate_message_bytes if connection.tls is not None else None
        return analyse_chain(
            connection.peer_certificates,
            name=context.target.name_to_verify,
            tls13=tls13,
            certificate_message_bytes=exact,
        )


def analyse_chain(
    peer: PeerCertificates,
    *,
    name: str,
    tls13: bool,
    certificate_message_bytes: int | None,
) -> CertificateResult:
    """Parse and judge a chain; ``name`` is what the client expects the leaf to cover."""
    certificates = [
        load_certificate(der, what=f"certificate at position {position}")
        for position, der in enumerate(peer.ders)
    ]
    now = datetime.datetime.fromtimestamp(wall_time(), datetime.UTC)
    infos = tuple(
        describe_certificate(certificate, der, position, now)
        for position, (certificate, der) in enumerate(zip(certificates, peer.ders, strict=True))
    )
    leaf = leaf_details(certificates[0], name)
    problems = list(_verify_problems(peer.verify_errors, certificates, infos))
    if not leaf.name_matches:
        names = ", ".join(leaf.subject_alt_names) or "none"
        problems.append(
            VerifyProblem(
                reason="name_mismatch",
                depth=0,
                openssl_code=None,
                message=f"certificate is not valid for {name} (names: {names})",
            )
        )
    chain_der_bytes = sum(len(der) for der in peer.ders)
    return CertificateResult(
        certificates=infos,
        leaf=leaf,
        verification=ChainVerification(
            trusted=not problems,
            name_matches=leaf.name_matches,
            problems=tuple(problems),
            trust_store=peer.trust_store,
        ),
        chain_der_bytes=chain_der_bytes,
        certificate_message_bytes=certificate_message_bytes
        if certificate_message_bytes is not None
        else certificate_message_size(peer.ders, tls13=tls13),
        certificate_message_bytes_exact=certificate_message_bytes is not None,
    )


def certificate_message_size(ders: tuple[bytes, ...], *, tls13: bool) -> int:
    """Handshake-message size of a Certificate message carrying ``ders`` with no extensions.

    RFC 5246 §7.4.2: 4-byte header, uint24 list length, uint24 length per certificate.
    RFC 8446 §4.4.2 adds a context byte and a uint16 extensions length per entry.
    """
    per_entry = 3 + (2 if tls13 else 0)
    return 4 + (1 if tls13 else 0) + 3 + sum(per_entry + len(der) for der in ders)


def _key_facts(certificate: x509.Certificate) -> tuple[str, int, str | None, str]:
    try:
        key = certificate.public_key()
    except (UnsupportedAlgorithm, ValueError):
        # An algorithm cryptography does not know, or a key that is not one (an EC point off
        # its curve): the certificate still parses, its key is just not one we can describe.
        return "unknown", 0, None, "unreadable key"
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size, None, f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = _CURVE_NAMES.get(key.curve.name, key.curve.name)
        return "ECDSA", key.key_size, curve, f"ECDSA {curve}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256, None, "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456, None, "Ed448"
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size, None, f"DSA-{key.key_size}"
    return "unknown", 0, None, type(key).__name__


def describe_certificate(
    certificate: x509.Certificate, der: bytes, position: int, now: datetime.datetime
) -> CertificateInfo:
    """The facts a reader needs about one certificate, measured on the certificate itself."""
    key_type, key_bits, curve, description = _key_facts(certificate)
    oid = certificate.signature_algorithm_oid
    try:
        hash_algorithm = certificate.signature_hash_algorithm
        signature_hash = hash_algorithm.name if hash_algorithm is not None else None
    except UnsupportedAlgorithm:
        signature_hash = None
    not_before = certificate.not_valid_before_utc
    not_after = certificate.not_valid_after_utc
    return CertificateInfo(
        position=position,
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        serial_hex=f"{certificate.serial_number:x}",
        sha256_fingerprint=hashlib.sha256(der).hexdigest(),
        key_type=key_type,
        key_bits=key_bits,
        key_curve=curve,
        key_description=description,
        signature_algorithm=_SIGNATURE_NAMES.get(oid, oid.dotted_string),
        signature_hash=signature_hash,
        not_before=not_before.isoformat(),
        not_after=not_after.isoformat(),
        days_left=int((not_after - now).total_seconds() // _SECONDS_PER_DAY),
        lifetime_days=int((not_after - not_before).total_seconds() // _SECONDS_PER_DAY),
        is_ca=_is_ca(certificate),
        self_signed=certificate.subject == certificate.issuer,
        der_bytes=len(der),
    )


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _extension(
    certificate: x509.Certificate, oid: x509.ObjectIdentifier
) -> x509.Extension[x509.ExtensionType] | None:
    try:
        return certificate.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None
    except ValueError:
        return None


def leaf_details(leaf: x509.Certificate, name: str) -> LeafDetails:
    """Names and revocation pointers; a missing or malformed extension reads as absent."""
    sans: list[str] = []
    dns_names: list[str] = []
    ip_names: list[str] = []
    san = _extension(leaf, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if san is not None and isinstance(san.value, x509.SubjectAlternativeName):
        dns_names = [str(value) for value in san.value.get_values_for_type(x509.DNSName)]
        ip_names = [str(value) for value in san.value.get_values_for_type(x509.IPAddress)]
        sans = [f"DNS:{value}" for value in dns_names] + [f"IP:{value}" for value in ip_names]
    ocsp_urls: list[str] = []
    ca_issuers: list[str] = []
    aia = _extension(leaf, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    if aia is not None and isinstance(aia.value, x509.AuthorityInformationAccess):
        for description in aia.value:
            if not isinstance(description.access_location, x509.UniformResourceIdentifier):
                continue
            location = description.access_location.value
            if description.access_method == AuthorityInformationAccessOID.OCSP:
                ocsp_urls.append(location)
            elif description.access_method == AuthorityInformationAccessOID.CA_ISSUERS:
                ca_issuers.append(location)
    crl_urls: list[str] = []
    crl = _extension(leaf, ExtensionOID.CRL_DISTRIBUTION_POINTS)
    if crl is not None and isinstance(crl.value, x509.CRLDistributionPoints):
        for point in crl.value:
            for general_name in point.full_name or ():
                if isinstance(general_name, x509.UniformResourceIdentifier):
                    crl_urls.append(general_name.value)
    feature = _extension(leaf, ExtensionOID.TLS_FEATURE)
    must_staple = (
        feature is not None
        and isinstance(feature.value, x509.TLSFeature)
        and any(int(value.value) == _MUST_STAPLE_STATUS_REQUEST for value in feature.value)
    )
    return LeafDetails(
        subject_alt_names=tuple(sans),
        name_checked=name,
        name_matches=name_matches(name, dns_names, ip_names),
        ocsp_urls=tuple(ocsp_urls),
        ca_issuers_urls=tuple(ca_issuers),
        crl_urls=tuple(crl_urls),
        must_staple=must_staple,
    )


def name_matches(name: str, dns_names: list[str], ip_names: list[str]) -> bool:
    """RFC 6125 §6.4: IP literals match only iPAddress SANs; a wildcard is a whole leftmost
    label and covers exactly one label. The subject CN is ignored, as browsers do."""
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    if address is not None:
        return any(ipaddress.ip_address(value) == address for value in ip_names)
    wanted = name.rstrip(".").lower()
    for pattern in (value.rstrip(".").lower() for value in dns_names):
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and "." in wanted:
            first, _, rest = wanted.partition(".")
            if first and rest == pattern[2:] and "*" not in rest:
                return True
    return False


def _verify_problems(
    errors: tuple[tuple[int, int], ...],
    certificates: list[x509.Certificate],
    infos: tuple[CertificateInfo, ...],
) -> list[VerifyProblem]:
    problems: list[VerifyProblem] = []
    seen: set[tuple[int, str]] = set()
    for depth, code in errors:
        reason, message = _explain(depth, code, certificates, infos)
        if (depth, reason) in seen:
            continue
        seen.add((depth, reason))
        problems.append(VerifyProblem(reason, depth, code, message))
    return problems


def _explain(
    depth: int,
    code: int,
    certificates: list[x509.Certificate],
    infos: tuple[CertificateInfo, ...],
) -> tuple[str, str]:
    info = infos[depth] if depth < len(infos) else None
    subject = info.subject if info is not None else f"certificate at depth {depth}"
    if code == _EXPIRED:
        when = info.not_after if info is not None else "?"
        return "expired", f"{subject} expired on {when}"
    if code == _NOT_YET_VALID:
        when = info.not_before if info is not None else "?"
        return "not_yet_valid", f"{subject} is not valid before {when}"
    if code == _DEPTH_ZERO_SELF_SIGNED:
        return "self_signed", f"{subject} is self-signed and not trusted"
    if code == _SELF_SIGNED_IN_CHAIN:
        return "untrusted_root", f"the chain ends in {subject}, a root that is not trusted"
    if code in (_NO_ISSUER_LOCALLY, _NO_ISSUER, _CANNOT_VERIFY_LEAF_SIGNATURE):
        issuer = info.issuer if info is not None else "its issuer"
        last_sent = depth >= len(certificates) - 1
        if last_sent and info is not None and not info.is_ca:
            return (
                "missing_intermediate",
                f"the server sent no certificate for {issuer}, the leaf's issuer "
                "(missing intermediate?)",
            )
        return "unknown_issuer", f"{issuer}, the issuer of {subject}, is not trusted"
    reason, message = _VERIFY_REASONS.get(code, ("other", f"X.509 verify error {code}"))
    return reason, f"{subject}: {message}"
