"""OCSP stapling: does the server staple a response (RFC 6066 §8 in TLS 1.2, RFC 8446 §4.4.2.1
in TLS 1.3), from which connection on, and would a client accept what it staples (RFC 6960)?

Servers fetch their staple lazily (nginx asks its responder only when a client first wants one,
answers that handshake without a staple, and staples once the answer is in), so TLS 1.2 and
TLS 1.3 are asked side by side, a round at a time: a version stops at its first staple, and one
without gets ``STAPLING_ATTEMPTS_PER_VERSION`` handshakes in all (the one that set the fetch off
and one after it). A version still without a staple after another version stapled gets one more
handshake, so "not in this version" always means "not even once the server had a staple". A
leaf without an OCSP responder URL gets one handshake per version: no server can fetch a staple
for it, and one handshake still records a staple configured from a file.

Connections: 2, one round, when both versions staple at once; 4 in two rounds for a lazy stapler
or one that never staples; 1 per version for a leaf without an OCSP URL. Every connection ends
with close_notify.

The first staple is verified against the chain sent on its own connection: its status, the
CertID (serial, issuer name and key hashes), who signed it and whether that signer may
(the issuer, or a delegated responder it issued with the OCSPSigning EKU, RFC 6960 §4.2.2.2),
and its validity window. Every reason a client would reject it becomes a sentence in
``problems``; a staple that does not parse is one of them, never an exception.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, SignatureAlgorithmOID

from httpsaudit.errors import DecodeError, HttpsAuditError, Unsupported
from httpsaudit.net.clock import wall_time
from httpsaudit.net.openssl_client import ClientConfig
from httpsaudit.probes.base import ProbeContext, ProbeFailed
from httpsaudit.results import (
    CertificateResult,
    LeafDetails,
    OcspResponseFacts,
    OcspResult,
    ProbeId,
    Support,
    VersionsResult,
)
from httpsaudit.tls.certificates import load_certificate
from httpsaudit.tls.codes import ProtocolVersion

# Handshakes per version before "does not staple": nginx answers the handshake that triggers
# its responder fetch without a staple and staples once the answer is in, a responder round trip
# later; the next round of handshakes comes at least two round trips to the server after that.
STAPLING_ATTEMPTS_PER_VERSION = 2
# A leaf without an OCSP URL: nothing to fetch, so waiting for a lazy fetch is pointless.
ATTEMPTS_WITHOUT_RESPONDER = 1
# Clock skew forgiven on thisUpdate and nextUpdate, as OpenSSL's OCSP_check_validity is called
# by its ocsp tool (-validity_period defaults to 5 minutes).
CLOCK_SKEW_S = 300
# close_notify needs no longer than this.
CLOSE_TIMEOUT_S = 1.0
# response_status of bytes that are no OCSPResponse at all (RFC 6960 has no code for it).
UNPARSEABLE = "unparseable"
NOT_OCSP = (
    "not a valid OCSP response: the stapled bytes do not parse as an OCSPResponse (RFC 6960 §4.2.1)"
)

_VERSIONS = (ProtocolVersion.TLSv1_2, ProtocolVersion.TLSv1_3)


class OcspProbe:
    """Asks for a staple in TLS 1.2 and 1.3 side by side, at most 2 rounds (3 when only one
    version stapled late), and verifies the first staple."""

    probe_id = ProbeId.OCSP
    requires: tuple[ProbeId, ...] = (ProbeId.CONNECTION, ProbeId.VERSIONS, ProbeId.CERTIFICATE)

    def run(self, context: ProbeContext) -> OcspResult:
        versions = context.result_of(ProbeId.VERSIONS, VersionsResult)
        leaf = context.result_of(ProbeId.CERTIFICATE, CertificateResult).leaf
        offered = [version for version in _VERSIONS if version.label in versions.supported]
        if not offered:
            raise Unsupported("stapling is checked in TLS 1.2 and 1.3; the server offers neither")
        per_version = (
            STAPLING_ATTEMPTS_PER_VERSION if leaf.ocsp_urls else ATTEMPTS_WITHOUT_RESPONDER
        )
        attempts = _Attempts(support=dict.fromkeys(offered, Support.UNKNOWN))
        try:
            with concurrent.futures.ThreadPoolExecutor(
                len(offered), thread_name_prefix="ocsp"
            ) as pool:
                while due := attempts.due(per_version):
                    futures = [pool.submit(_attempt, context, version) for version in due]
                    attempts.record_round(
                        due, [future.result() for future in futures], context.deadline.expired
                    )
        except HttpsAuditError as exc:  # only when the scan's deadline ran out
            raise ProbeFailed(exc, _result(leaf, attempts)) from exc
        result = _result(leaf, attempts)
        if attempts.first_error is not None and all(
            attempts.support[version] is Support.UNKNOWN for version in offered
        ):
            # Not one handshake went through: nothing was measured.
            raise ProbeFailed(attempts.first_error, result)
        return result


@dataclass(slots=True)
class _Attempts:
    """Handshakes so far, all versions together, and the first staple with its chain.

    Handshakes are numbered round by round, TLS 1.2 before TLS 1.3 within a round, so the
    numbers do not depend on which of two parallel handshakes finished first.
    """

    support: dict[ProtocolVersion, Support]
    tried: int = 0
    first_stapled: int | None = None
    staple: bytes | None = None
    chain: tuple[bytes, ...] = ()
    first_error: HttpsAuditError | None = None
    made: dict[ProtocolVersion, int] = field(default_factory=dict)
    # Set for a version once one of its handshakes started after another version's staple.
    asked_after_a_staple: set[ProtocolVersion] = field(default_factory=set)
    pending: set[ProtocolVersion] = field(default_factory=set)  # may still staple

    def __post_init__(self) -> None:
        self.pending = set(self.support)

    def due(self, allowed: int) -> list[ProtocolVersion]:
        """The versions to ask again in the next round, in _VERSIONS order."""
        stapled_elsewhere = self.staple is not None
        return [
            version
            for version in _VERSIONS
            if version in self.pending
            and (
                self.made.get(version, 0) < allowed
                or (stapled_elsewhere and version not in self.asked_after_a_staple)
            )
        ]

    def record_round(
        self,
        versions: Sequence[ProtocolVersion],
        outcomes: Sequence[_Outcome],
        deadline_expired: bool,
    ) -> None:
        """Fold one round's handshakes in; raise the first error if the deadline ran out."""
        stapled_before = self.staple is not None
        if deadline_expired:
            for version in versions:
                if version in self.pending:
                    self.support[version] = Support.UNKNOWN  # its handshakes were cut short
        for version, outcome in zip(versions, outcomes, strict=True):
            self.tried += 1
            self.made[version] = self.made.get(version, 0) + 1
            if stapled_before:
                self.asked_after_a_staple.add(version)
            if isinstance(outcome, HttpsAuditError):
                if deadline_expired:
                    raise outcome
                # A refusal now, after the versions probe saw this version work: say unknown.
                if self.first_error is None:
                    self.first_error = outcome
                self._close(version, Support.UNKNOWN)
                continue
            negotiated, staple, chain = outcome
            if negotiated != version.label:
                self._close(version, Support.UNKNOWN)
            elif staple:
                if self.staple is None:
                    self.staple, self.chain = staple, chain
                    self.first_stapled = self.tried
                self._close(version, Support.SUPPORTED)
            else:
                self.support[version] = Support.NOT_SUPPORTED  # unless a later round staples

    def _close(self, version: ProtocolVersion, support: Support) -> None:
        self.support[version] = support
        self.pending.discard(version)


_Outcome = tuple[str, bytes, tuple[bytes, ...]] | HttpsAuditError


def _attempt(context: ProbeContext, version: ProtocolVersion) -> _Outcome:
    """One handshake in ``version`` asking for a staple; an error is returned, not raised,
    so the other version's handshake of the same round still counts."""
    config = (
        context.client.variant(max_version="TLSv1.2")
        if version is ProtocolVersion.TLSv1_2
        else None
    )
    try:
        return _handshake(context, config)
    except HttpsAuditError as exc:
        return exc


def _handshake(
    context: ProbeContext, config: ClientConfig | None
) -> tuple[str, bytes, tuple[bytes, ...]]:
    """One handshake: the version it got, the staple (b"" for none) and the chain sent."""
    with context.tcp() as transport:
        connection = context.client.wrap(transport, sni=context.target.sni, config=config)
        try:
            record = connection.handshake(context.phase_deadline())
        finally:
            connection.close(context.deadline.child(CLOSE_TIMEOUT_S))
    chain = record.peer_certificates.ders if record.peer_certificates is not None else ()
    return record.version, record.ocsp_staple or b"", chain


def _result(leaf: LeafDetails, attempts: _Attempts) -> OcspResult:
    tls12 = attempts.support.get(ProtocolVersion.TLSv1_2, Support.NOT_TESTED)
    tls13 = attempts.support.get(ProtocolVersion.TLSv1_3, Support.NOT_TESTED)
    response = None
    if attempts.staple is not None:
        now = datetime.datetime.fromtimestamp(wall_time(), datetime.UTC)
        response = analyse_staple(attempts.staple, attempts.chain, now)
    return OcspResult(
        ocsp_urls=leaf.ocsp_urls,
        crl_urls=leaf.crl_urls,
        revocation_info=revocation_info(leaf.ocsp_urls, leaf.crl_urls),
        tls12_stapled=tls12,
        tls13_stapled=tls13,
        connections_tried=attempts.tried,
        first_stapled_connection=attempts.first_stapled,
        response=response,
        must_staple=leaf.must_staple,
        # RFC 7633: a client honouring the leaf's TLS Feature refuses a handshake without one.
        must_staple_violated=leaf.must_staple
        and attempts.staple is None
        and Support.NOT_SUPPORTED in (tls12, tls13),
    )


def revocation_info(ocsp_urls: Sequence[str], crl_urls: Sequence[str]) -> str:
    """What a client can check revocation with: decides whether stapling advice applies."""
    if ocsp_urls and crl_urls:
        return "ocsp+crl"
    if ocsp_urls:
        return "ocsp"
    if crl_urls:
        return "crl"
    return "none"


# -- Verifying a staple ----------------------------------------------------------------------


@dataclass(slots=True)
class _Findings:
    """What the checks found so far; frozen into OcspResponseFacts at the end."""

    response_status: str
    cert_status: str | None = None
    revocation_time: str | None = None
    revocation_reason: str | None = None
    serial_matches: bool | None = None
    issuer_key_hash_matches: bool | None = None
    signature_valid: bool | None = None
    signer: str | None = None
    delegated_ocsp_signing: bool | None = None
    produced_at: str | None = None
    this_update: str | None = None
    next_update: str | None = None
    age_s: int | None = None
    expires_in_s: int | None = None
    stale: bool = False
    problems: list[str] = field(default_factory=list)

    def facts(self, response_bytes: int) -> OcspResponseFacts:
        return OcspResponseFacts(
            response_bytes=response_bytes,
            response_status=self.response_status,
            cert_status=self.cert_status,
            revocation_time=self.revocation_time,
            revocation_reason=self.revocation_reason,
            serial_matches=self.serial_matches,
            issuer_key_hash_matches=self.issuer_key_hash_matches,
            signature_valid=self.signature_valid,
            signer=self.signer,
            delegated_ocsp_signing=self.delegated_ocsp_signing,
            produced_at=self.produced_at,
            this_update=self.this_update,
            next_update=self.next_update,
            age_s=self.age_s,
            expires_in_s=self.expires_in_s,
            stale=self.stale,
            problems=tuple(self.problems),
        )


def analyse_staple(
    staple: bytes, chain_ders: Sequence[bytes], now: datetime.datetime
) -> OcspResponseFacts:
    """Verify a stapled DER OCSPResponse against the chain sent with it (leaf first), at
    ``now``; malformed input becomes a problem, never an exception."""
    try:
        response = ocsp.load_der_ocsp_response(staple)
    except ValueError:
        findings = _Findings(response_status=UNPARSEABLE, problems=[NOT_OCSP])
        return findings.facts(len(staple))
    status = response.response_status
    if status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        # RFC 6960 §4.2.1: only a successful response has responseBytes.
        name = status.name.lower()
        findings = _Findings(response_status=name)
        findings.problems.append(
            f"the response status is {name}, not successful: "
            "it carries no certificate status (RFC 6960 §4.2.1)"
        )
        return findings.facts(len(staple))
    findings = _Findings(response_status="successful")
    try:
        _check_successful(response, chain_ders, now, findings)
    except (ValueError, TypeError):
        # cryptography parses a response's inner fields (names, included certificates) only
        # when they are read, and refuses some names with TypeError (a BIT STRING value under
        # an OID other than x500UniqueIdentifier): a staple that fails then is as unparseable
        # as one that fails at once.
        findings = _Findings(response_status=UNPARSEABLE, problems=[NOT_OCSP])
    return findings.facts(len(staple))


def _check_successful(
    response: ocsp.OCSPResponse,
    chain_ders: Sequence[bytes],
    now: datetime.datetime,
    findings: _Findings,
) -> None:
    """Every check of a successful response; a field that fails once read raises."""
    leaf, issuer = _leaf_and_issuer(chain_ders, findings.problems)
    single = _single_response(response, leaf, findings.problems)
    if single is not None:
        _check_cert_status(single, findings)
        _check_cert_id(single, leaf, issuer, findings)
    _check_signature(response, issuer, now, findings)
    if single is not None:
        _check_times(response, single, now, findings)


def _leaf_and_issuer(
    chain_ders: Sequence[bytes], problems: list[str]
) -> tuple[x509.Certificate | None, x509.Certificate | None]:
    """The leaf, and the certificate in the chain that signed it (None when not sent)."""
    if not chain_ders:
        problems.append("the server sent no certificate to match the response against")
        return None, None
    try:
        leaf = load_certificate(chain_ders[0])
        # Names are parsed when read: a leaf whose names do not parse cannot be matched either.
        self_issued = leaf.subject == leaf.issuer
    except (DecodeError, ValueError, TypeError):
        problems.append("the leaf certificate does not parse: the response cannot be matched")
        return None, None
    candidates = [leaf] if self_issued else []
    for der in chain_ders[1:]:
        try:
            candidates.append(load_certificate(der))
        except DecodeError:
            continue
    issuer = next((candidate for candidate in candidates if _issued_by(leaf, candidate)), None)
    if issuer is None:
        problems.append(
            "the leaf's issuer certificate was not sent: "
            "the response's issuer and signer cannot be checked"
        )
    return leaf, issuer


def _single_response(
    response: ocsp.OCSPResponse, leaf: x509.Certificate | None, problems: list[str]
) -> ocsp.OCSPSingleResponse | None:
    """The SingleResponse about the leaf, else the first one (then the serial check fails)."""
    singles = list(response.responses)
    if not singles:
        problems.append("the response carries no certificate status")
        return None
    if leaf is not None:
        for single in singles:
            if single.serial_number == leaf.serial_number:
                return single
    return singles[0]


def _check_cert_status(single: ocsp.OCSPSingleResponse, findings: _Findings) -> None:
    """RFC 6960 §2.2: good, revoked (with a time and maybe a reason) or unknown."""
    status = single.certificate_status
    findings.cert_status = status.name.lower()
    if status is ocsp.OCSPCertStatus.REVOKED:
        revoked_at = single.revocation_time_utc
        unstated = "not given"
        try:
            reason = single.revocation_reason
        except ValueError:
            # A code RFC 5280 §5.3.1 does not define: still a revocation, with no known reason.
            reason, unstated = None, "a code outside RFC 5280"
        findings.revocation_time = revoked_at.isoformat() if revoked_at is not None else None
        findings.revocation_reason = reason.name if reason is not None else None
        findings.problems.append(
            f"the responder says the certificate is revoked (since {findings.revocation_time}, "
            f"reason: {findings.revocation_reason or unstated})"
        )
    elif status is ocsp.OCSPCertStatus.UNKNOWN:
        findings.problems.append("the responder does not know the certificate (status unknown)")


def _check_cert_id(
    single: ocsp.OCSPSingleResponse,
    leaf: x509.Certificate | None,
    issuer: x509.Certificate | None,
    findings: _Findings,
) -> None:
    """RFC 6960 §4.1.1 CertID: the leaf's serial, and hashes of its issuer's name and key."""
    if leaf is None:
        return
    findings.serial_matches = single.serial_number == leaf.serial_number
    if not findings.serial_matches:
        findings.problems.append(
            f"the response is about serial {single.serial_number:x}, "
            f"not the leaf's serial {leaf.serial_number:x}"
        )
    if issuer is None:
        return
    try:
        # The request a client would send for this leaf holds the CertID the answer must echo.
        expected = (
            ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, single.hash_algorithm).build()
        )
    except (UnsupportedAlgorithm, ValueError):
        findings.problems.append(
            "the CertID hash algorithm is not one of SHA-1/SHA-2: its issuer cannot be checked"
        )
        return
    issuer_name = issuer.subject.rfc4514_string()
    findings.issuer_key_hash_matches = expected.issuer_key_hash == single.issuer_key_hash
    if not findings.issuer_key_hash_matches:
        findings.problems.append(
            f"the CertID's issuerKeyHash is not the hash of the key of {issuer_name}, "
            "the leaf's issuer"
        )
    if expected.issuer_name_hash != single.issuer_name_hash:
        findings.problems.append(
            f"the CertID's issuerNameHash is not the hash of {issuer_name}, the leaf's issuer"
        )


def _check_signature(
    response: ocsp.OCSPResponse,
    issuer: x509.Certificate | None,
    now: datetime.datetime,
    findings: _Findings,
) -> None:
    """Who signed (RFC 6960 §4.2.2.2): the issuer, or a responder it issued with the
    OCSPSigning EKU. The signer is the certificate the responder ID names, as clients look
    it up; failing that, any certificate at hand whose key verifies the signature."""
    try:
        included = list(response.certificates)
    except ValueError:
        included = []
        findings.problems.append("the certificates included in the response do not parse")
    candidates = ([issuer] if issuer is not None else []) + included
    signing = next((c for c in candidates if _responder_id_names(response, c)), None)
    if signing is None:
        signing = next((c for c in candidates if _key_verifies(c, response) is True), None)
        if signing is None:
            findings.signer = "unknown"
            if not candidates:
                return  # no issuer sent and no certificate included: already a problem
            findings.problems.append(
                "the responder ID names neither the leaf's issuer nor a certificate in the "
                "response, and no key at hand verifies the signature"
            )
            return
        findings.problems.append(
            f"the responder ID does not name {_subject(signing)}, whose key made the "
            "signature: clients look the signer up by that ID"
        )
    verified = _key_verifies(signing, response)
    findings.signature_valid = verified
    if verified is None:
        findings.problems.append(
            f"the signature algorithm {response.signature_algorithm_oid.dotted_string} "
            "is not checked here"
        )
    elif not verified:
        findings.problems.append(
            f"the signature does not verify with the key of {_subject(signing)}, "
            "whom the responder ID names"
        )
    if issuer is None:
        findings.signer = "unknown"  # the problem "issuer not sent" is already listed
        return
    if signing == issuer:
        findings.signer = "issuer"
        return
    if not _issued_by(signing, issuer):
        findings.signer = "unknown"
        findings.problems.append(
            f"signed by {_subject(signing)}, which the leaf's issuer did not issue: "
            "it may not answer for this certificate (RFC 6960 §4.2.2.2)"
        )
        return
    findings.signer = "delegated"
    findings.delegated_ocsp_signing = _has_ocsp_signing(signing)
    if not findings.delegated_ocsp_signing:
        findings.problems.append(
            f"the delegated responder {_subject(signing)} lacks the OCSPSigning extended "
            "key usage (RFC 6960 §4.2.2.2)"
        )
    not_before, not_after = signing.not_valid_before_utc, signing.not_valid_after_utc
    if not not_before <= now <= not_after:
        findings.problems.append(
            f"the delegated responder certificate {_subject(signing)} is not valid now "
            f"(valid from {not_before.isoformat()} to {not_after.isoformat()})"
        )


def _check_times(
    response: ocsp.OCSPResponse,
    single: ocsp.OCSPSingleResponse,
    now: datetime.datetime,
    findings: _Findings,
) -> None:
    """RFC 6960 §4.2.2.1 and §2.4: thisUpdate must not lie ahead, nextUpdate not behind."""
    produced_at = response.produced_at_utc
    this_update = single.this_update_utc
    next_update = single.next_update_utc
    findings.produced_at = produced_at.isoformat()
    findings.this_update = this_update.isoformat()
    findings.next_update = next_update.isoformat() if next_update is not None else None
    findings.age_s = _whole_seconds(now - this_update)
    findings.expires_in_s = _whole_seconds(next_update - now) if next_update is not None else None
    skew = datetime.timedelta(seconds=CLOCK_SKEW_S)
    expired = next_update is not None and next_update < now - skew
    not_yet_valid = this_update > now + skew
    findings.stale = expired or not_yet_valid
    if expired:
        findings.problems.append(
            f"the response expired at {findings.next_update} (nextUpdate): "
            "clients treat a stale staple as none"
        )
    if not_yet_valid:
        findings.problems.append(
            f"the response is not valid until {findings.this_update} (thisUpdate is in the future)"
        )
    if next_update is not None and next_update < this_update:
        findings.problems.append("nextUpdate is earlier than thisUpdate")
    if produced_at > now + skew:
        findings.problems.append(f"producedAt {findings.produced_at} is in the future")


def _whole_seconds(delta: datetime.timedelta) -> int:
    return math.floor(delta.total_seconds())


def _subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        if certificate.issuer != issuer.subject:  # names are parsed here, and may not parse
            return False
        certificate.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _has_ocsp_signing(certificate: x509.Certificate) -> bool:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (x509.ExtensionNotFound, ValueError):
        return False
    return ExtendedKeyUsageOID.OCSP_SIGNING in usage


def _responder_id_names(response: ocsp.OCSPResponse, certificate: x509.Certificate) -> bool:
    """RFC 6960 §4.2.1 ResponderID: byKey is the SHA-1 of the key's BIT STRING, the same
    value as the RFC 5280 §4.2.1.2 key identifier; byName the subject."""
    key_hash = response.responder_key_hash
    if key_hash is not None:
        try:
            identifier = x509.SubjectKeyIdentifier.from_public_key(certificate.public_key())
        except (ValueError, TypeError, UnsupportedAlgorithm):
            return False
        return identifier.digest == key_hash
    return response.responder_name == certificate.subject


def _key_verifies(certificate: x509.Certificate, response: ocsp.OCSPResponse) -> bool | None:
    """``_verifies`` with the certificate's key; a key that does not load verifies nothing."""
    try:
        key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return False
    return _verifies(key, response)


def _verifies(key: CertificatePublicKeyTypes, response: ocsp.OCSPResponse) -> bool | None:
    """Whether ``key`` signed tbsResponseData; None when the algorithm is not checked here
    (RSASSA-PSS parameters are not exposed by cryptography for OCSP responses)."""
    if response.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
        return None
    try:
        algorithm = response.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    signature, data = response.signature, response.tbs_response_bytes
    try:
        if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
        elif algorithm is None:
            return False
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(signature, data, algorithm)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True
