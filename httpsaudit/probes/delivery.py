"""How the certificate reaches the client: what the chain weighs and whether it is assembled
right, what the key type costs a client, whether the server holds both an ECDSA and an RSA
certificate, and the validity checks browsers apply.

Chain, key costs and hygiene read what the timed connection and the certificate probe captured.
Only the dual-certificate check connects: two connections, one offering ECDSA signature
algorithms alone, one RSA alone. Nothing is ever fetched: AIA caIssuers URLs are reported, not
followed.
"""

from __future__ import annotations

import base64
import concurrent.futures
import datetime
import functools
import itertools
import json
import statistics
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID

from httpsaudit.errors import (
    ConnectionLost,
    DecodeError,
    HttpsAuditError,
    Phase,
    PhaseTimeout,
    RemoteProtocolError,
    Unsupported,
)
from httpsaudit.net.clock import now_ns, wall_time
from httpsaudit.net.raw_hello import AnswerKind, ReadUntil
from httpsaudit.probes.base import ProbeContext, ProbeFailed
from httpsaudit.probes.certificate import describe_certificate
from httpsaudit.probes.hellos import hello_for_version
from httpsaudit.results import (
    CertificateDeliveryResult,
    CertificateInfo,
    CertificateResult,
    ChainVerification,
    ChainWeight,
    ConnectionResult,
    DualCertificates,
    KeyCost,
    ProbeId,
    Support,
    ValidityHygiene,
    VersionsResult,
)
from httpsaudit.tls.certificates import load_certificate
from httpsaudit.tls.client import NEED_DATA, ClientConnection, ClientParams
from httpsaudit.tls.codec import Reader
from httpsaudit.tls.codes import HandshakeType, ProtocolVersion, SignatureScheme
from httpsaudit.tls.events import AlertReceived, CertificateReceived, ConnectionClosed
from httpsaudit.tls.messages import parse_certificate_list_tls12
from httpsaudit.tls.suites import describe_suite, suites_for_version

# RFC 6928 §2: a new connection may send 10 segments before the first ACK; 1460 bytes is the
# MSS of a 1500-byte Ethernet path. A first flight larger than this waits a round trip.
INITIAL_WINDOW_SEGMENTS = 10
SEGMENT_BYTES = 1460
INITIAL_WINDOW_BYTES = INITIAL_WINDOW_SEGMENTS * SEGMENT_BYTES

# Verifications timed per key; the median of this many is stable to a few percent here, and
# the five keys together take about 20 ms.
VERIFICATIONS_PER_KEY = 51
RSA_SAMPLES_FILE = "rsa_signature_samples.json"
# RSA keys above this are not timed: a fresh RSA-8192 key takes seconds to generate.
MAX_TIMED_RSA_BITS = 4096
# Reads and events allowed before the server's Certificate; a first flight is a few records.
MAX_HANDSHAKE_STEPS = 256

# Weak keys as browsers and the CA/Browser Forum Baseline Requirements (§6.1.5) see them.
MIN_RSA_BITS = 2048
MIN_EC_BITS = 256

_SECONDS_PER_DAY = 86400
# Maximum leaf lifetime by the date the certificate was issued (its notBefore), compared with
# notAfter - notBefore as Chrome's cert_verify_proc does, with its day counts for months. Rows:
# the Baseline Requirements' 60 months (from 2012-07-01) and 39 months (from 2015-04-01), Ballot
# 193's 825 days, the 398 days browsers enforced from 2020-09-01 (Ballot SC31), then Ballot
# SC-081's schedule: 200, 100 and finally 47 days.
_PRE_BASELINE_MAX_LIFETIME_DAYS = 3652  # ten years, for certificates older than the BRs
MAX_LIFETIME_BY_ISSUANCE: tuple[tuple[datetime.datetime, int], ...] = (
    (datetime.datetime(2012, 7, 1, tzinfo=datetime.UTC), 1827),
    (datetime.datetime(2015, 4, 1, tzinfo=datetime.UTC), 1188),
    (datetime.datetime(2018, 3, 1, tzinfo=datetime.UTC), 825),
    (datetime.datetime(2020, 9, 1, tzinfo=datetime.UTC), 398),
    (datetime.datetime(2026, 3, 15, tzinfo=datetime.UTC), 200),
    (datetime.datetime(2027, 3, 15, tzinfo=datetime.UTC), 100),
    (datetime.datetime(2029, 3, 15, tzinfo=datetime.UTC), 47),
)

# The two offers of the dual-certificate check (RFC 8446 §4.2.3 schemes). RSA includes the
# PKCS #1 schemes: TLS 1.2 signs with them, and TLS 1.3 lists them for certificates.
ECDSA_SCHEMES: tuple[int, ...] = (
    SignatureScheme.ecdsa_secp256r1_sha256,
    SignatureScheme.ecdsa_secp384r1_sha384,
    SignatureScheme.ecdsa_secp521r1_sha512,
)
RSA_SCHEMES: tuple[int, ...] = (
    SignatureScheme.rsa_pss_rsae_sha256,
    SignatureScheme.rsa_pss_rsae_sha384,
    SignatureScheme.rsa_pss_rsae_sha512,
    SignatureScheme.rsa_pkcs1_sha256,
    SignatureScheme.rsa_pkcs1_sha384,
    SignatureScheme.rsa_pkcs1_sha512,
)
# RFC 8446 §4.4.3: what a TLS 1.3 server signs (64 spaces, the context string, a zero byte and
# a transcript hash), so the timed verification is the one a client really does.
_SIGNED_CONTENT = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + bytes(32)


class CertificateDeliveryProbe:
    """Chain weight, key costs and hygiene from earlier results; two connections for the
    dual-certificate check."""

    probe_id = ProbeId.CERTIFICATE_DELIVERY
    requires: tuple[ProbeId, ...] = (ProbeId.CONNECTION, ProbeId.CERTIFICATE, ProbeId.VERSIONS)

    def run(self, context: ProbeContext) -> CertificateDeliveryResult:
        connection = context.result_of(ProbeId.CONNECTION, ConnectionResult)
        certificate = context.result_of(ProbeId.CERTIFICATE, CertificateResult)
        versions = context.result_of(ProbeId.VERSIONS, VersionsResult)
        if connection.peer_certificates is None:
            raise Unsupported("the server sent no certificate")
        ders = connection.peer_certificates.ders
        certificates = [load_certificate(der) for der in ders]
        try:
            leaf_key = certificates[0].public_key()
        except (UnsupportedAlgorithm, ValueError) as exc:  # decoded only when read
            raise DecodeError(f"the leaf's public key does not parse: {exc}") from exc
        first_flight = connection.tls.server_first_flight_bytes if connection.tls else 0
        chain = chain_weight(certificates, ders, certificate, first_flight)
        hygiene = validity_hygiene(certificates[0], certificate)
        failure: HttpsAuditError | None = None
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="delivery-keys") as pool:
            # Key generation (RSA-4096 above all) runs while the two offers are on the wire.
            keys_ready = pool.submit(_warm_keys, leaf_key)
            try:
                dual = dual_certificates(context, versions)
            except HttpsAuditError as exc:
                failure = exc
                dual = DualCertificates(None, None, dual=False, version=None)
            keys_ready.result()
        # Timed after the offers, so our own socket work does not share the clock.
        costs = key_costs(leaf_key, certificate.certificates[0].key_description)
        result = CertificateDeliveryResult(
            chain=chain, key_costs=costs, dual_certificates=dual, hygiene=hygiene
        )
        if failure is not None:
            raise ProbeFailed(failure, result) from failure
        return result


# -- chain weight and assembly -------------------------------------------------------------


def chain_weight(
    certificates: Sequence[x509.Certificate],
    ders: Sequence[bytes],
    certificate: CertificateResult,
    server_first_flight_bytes: int,
) -> ChainWeight:
    """Bytes and assembly of the chain as sent; ``ders`` and ``certificates`` leaf first."""
    infos = certificate.certificates
    duplicates: list[int] = []
    seen: set[bytes] = set()
    for position, der in enumerate(ders):
        if der in seen:
            duplicates.append(position)
        seen.add(der)
    # A repeated certificate is reported once, as a duplicate; order is judged without it.
    distinct = [position for position in range(len(ders)) if position not in duplicates]
    order_problems = tuple(
        problem
        for child, parent in itertools.pairwise(distinct)
        if (problem := _order_problem(certificates, infos, distinct, child, parent)) is not None
    )
    return ChainWeight(
        certificates=len(ders),
        chain_der_bytes=certificate.chain_der_bytes,
        certificate_message_bytes=certificate.certificate_message_bytes,
        server_first_flight_bytes=server_first_flight_bytes,
        initial_window_bytes=INITIAL_WINDOW_BYTES,
        exceeds_initial_window=server_first_flight_bytes > INITIAL_WINDOW_BYTES,
        # A self-signed CA after the leaf: clients have it already or reject it anyway.
        root_included=any(info.self_signed and info.is_ca for info in infos[1:]),
        duplicates=tuple(duplicates),
        order_ok=not order_problems,
        order_problems=order_problems,
        missing_intermediate=missing_intermediate(certificate.verification),
        ca_issuers_urls=ca_issuers_urls(certificates[-1]),
    )


def _order_problem(
    certificates: Sequence[x509.Certificate],
    infos: Sequence[CertificateInfo],
    distinct: Sequence[int],
    child: int,
    parent: int,
) -> str | None:
    """RFC 8446 §4.4.2 (and RFC 5246 §7.4.2): each certificate certifies the one before it."""
    signed = signed_by(certificates[child], certificates[parent])
    if signed is not False:
        return None
    if certificates[child].issuer == certificates[parent].subject:
        return (
            f"position {child}: position {parent} has its issuer's name "
            f"({infos[child].issuer}) but not the key that signed it"
        )
    problem = (
        f"position {child} ({infos[child].subject}) is issued by {infos[child].issuer}, "
        f"not by position {parent} ({infos[parent].subject})"
    )
    elsewhere = [
        position
        for position in distinct
        if position not in (child, parent)
        and signed_by(certificates[child], certificates[position]) is not False
    ]
    if elsewhere:
        problem += f"; its issuer is at position {elsewhere[0]}"
    return problem


def signed_by(child: x509.Certificate, issuer: x509.Certificate) -> bool | None:
    """Whether ``issuer`` issued ``child``: names match and its key verifies the signature.

    cryptography 50's X.509 check refuses SHA-1 signatures, so PKCS #1 v1.5 and ECDSA ones are
    checked by hand. None when the names match but nothing here can check the signature (DSA,
    unknown algorithms): the names are then all we can go on.
    """
    if child.issuer != issuer.subject:
        return False
    try:
        child.verify_directly_issued_by(issuer)
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):
        try:
            issuer_key = issuer.public_key()
        except (ValueError, UnsupportedAlgorithm):
            return None  # an issuer key we cannot read: the names are all we can go on
        return _verify_legacy_signature(child, issuer_key)
    return True


def _verify_legacy_signature(
    child: x509.Certificate, key: CertificatePublicKeyTypes
) -> bool | None:
    """PKCS #1 v1.5 and ECDSA signatures over digests cryptography's X.509 check refuses."""
    try:
        digest = child.signature_hash_algorithm
        if digest is None:
            return None
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(digest))
        else:
            return None
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    return True


def missing_intermediate(verification: ChainVerification) -> bool | None:
    """Judged from the verifier's verdict on the chain it built, never by fetching.

    True: the top of the chain is a leaf whose issuer the client cannot find; a root never
    signs a server certificate directly (Baseline Requirements §6.1.7), so an intermediate is
    missing. None: the top is a CA whose issuer is unknown; a missing cross-certificate and an
    untrusted root look the same without fetching its caIssuers. False otherwise.
    """
    reasons = {problem.reason for problem in verification.problems}
    if "missing_intermediate" in reasons:
        return True
    if "unknown_issuer" in reasons:
        return None
    return False


def ca_issuers_urls(certificate: x509.Certificate) -> tuple[str, ...]:
    """The AIA caIssuers URLs of ``certificate`` (RFC 5280 §4.2.2.1): where its issuer lives."""
    try:
        access = certificate.extensions.get_extension_for_oid(
            ExtensionOID.AUTHORITY_INFORMATION_ACCESS
        ).value
    except (x509.ExtensionNotFound, ValueError):
        return ()
    if not isinstance(access, x509.AuthorityInformationAccess):
        return ()
    return tuple(
        description.access_location.value
        for description in access
        if description.access_method == AuthorityInformationAccessOID.CA_ISSUERS
        and isinstance(description.access_location, x509.UniformResourceIdentifier)
    )


# -- key economics ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeySpec:
    """A key type and size to generate and time; ``curve`` only for ECDSA."""

    algorithm: str  # "RSA" | "ECDSA" | "Ed25519" | "Ed448"
    bits: int
    curve: type[ec.EllipticCurve] | None = None


REFERENCE_KEYS: tuple[tuple[str, KeySpec], ...] = (
    ("ECDSA P-256", KeySpec("ECDSA", 256, ec.SECP256R1)),
    ("RSA-2048", KeySpec("RSA", 2048)),
    ("RSA-3072", KeySpec("RSA", 3072)),
    ("RSA-4096", KeySpec("RSA", 4096)),
)


@dataclass(frozen=True, slots=True)
class SignedSample:
    """A public key and its signature over ``_SIGNED_CONTENT``: all that timing a verification
    needs."""

    public_key: CertificatePublicKeyTypes
    signature: bytes


# Made once per process. RSA samples ship with the package (rsa_signature_samples.json):
# generating an RSA-4096 key takes 0.3 to 2 s, more than the rest of a scan's CPU together.
_SAMPLES: dict[KeySpec, SignedSample] = {}
_SAMPLES_LOCK = threading.Lock()


def _signed_sample(spec: KeySpec) -> SignedSample:
    with _SAMPLES_LOCK:
        sample = _SAMPLES.get(spec)
        if sample is None:
            sample = _shipped_rsa_samples().get(spec) or _fresh_sample(spec)
            _SAMPLES[spec] = sample
        return sample


@functools.cache
def _shipped_rsa_samples() -> dict[KeySpec, SignedSample]:
    text = resources.files("httpsaudit.probes").joinpath(RSA_SAMPLES_FILE).read_text("utf-8")
    samples: dict[KeySpec, SignedSample] = {}
    for entry in json.loads(text)["samples"].values():
        public = serialization.load_der_public_key(base64.b64decode(entry["spki_der"]))
        if isinstance(public, rsa.RSAPublicKey):
            samples[KeySpec("RSA", public.key_size)] = SignedSample(
                public, base64.b64decode(entry["signature"])
            )
    return samples


def _fresh_sample(spec: KeySpec) -> SignedSample:
    key = _generate(spec)
    return SignedSample(key.public_key(), _sign(key))


def _generate(spec: KeySpec) -> CertificateIssuerPrivateKeyTypes:
    if spec.algorithm == "RSA":
        return rsa.generate_private_key(65537, spec.bits)
    if spec.algorithm == "ECDSA" and spec.curve is not None:
        return ec.generate_private_key(spec.curve())
    if spec.algorithm == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if spec.algorithm == "Ed448":
        return ed448.Ed448PrivateKey.generate()
    raise ValueError(f"no generator for {spec}")


def leaf_key_spec(key: CertificatePublicKeyTypes) -> KeySpec | None:
    """The kind of key to time in place of the leaf's; None when it is not timed (DSA, RSA over
    ``MAX_TIMED_RSA_BITS``, curves this cryptography cannot generate)."""
    if isinstance(key, rsa.RSAPublicKey):
        return KeySpec("RSA", key.key_size) if key.key_size <= MAX_TIMED_RSA_BITS else None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return KeySpec("ECDSA", key.key_size, type(key.curve))
    if isinstance(key, ed25519.Ed25519PublicKey):
        return KeySpec("Ed25519", 256)
    if isinstance(key, ed448.Ed448PublicKey):
        return KeySpec("Ed448", 456)
    return None


def _warm_keys(leaf_key: CertificatePublicKeyTypes) -> None:
    """Make (once per process) every signed sample ``key_costs`` will time."""
    specs = [spec for _description, spec in REFERENCE_KEYS]
    leaf_spec = leaf_key_spec(leaf_key)
    if leaf_spec is not None:
        specs.insert(0, leaf_spec)
    for spec in specs:
        try:
            _signed_sample(spec)
        except (ValueError, UnsupportedAlgorithm):
            continue  # key_costs leaves this row out


def key_costs(leaf_key: CertificatePublicKeyTypes, leaf_description: str) -> tuple[KeyCost, ...]:
    """The leaf's key beside ECDSA P-256 and RSA-2048/3072/4096, measured on this machine.

    Sizes of the leaf row are the leaf's own: its SubjectPublicKeyInfo and the signature its
    key makes. Its verification is timed on another key of the same type and size, signing
    what a TLS 1.3 server signs: we never hold the server's private key, and verifying costs
    the same for any key of one type and size. A reference equal to the leaf's type is left out.
    """
    costs: list[KeyCost] = []
    leaf_spec = leaf_key_spec(leaf_key)
    if leaf_spec is not None:
        try:
            verify_us = _median_verify_us(_signed_sample(leaf_spec))
        except (ValueError, UnsupportedAlgorithm):
            verify_us = None
        if verify_us is not None:
            costs.append(
                KeyCost(
                    key_description=leaf_description,
                    is_leaf=True,
                    public_key_bytes=_public_key_bytes(leaf_key),
                    signature_bytes=signature_bytes(leaf_key),
                    verify_us=verify_us,
                )
            )
    for description, spec in REFERENCE_KEYS:
        if description == leaf_description:
            continue
        sample = _signed_sample(spec)
        costs.append(
            KeyCost(
                key_description=description,
                is_leaf=False,
                public_key_bytes=_public_key_bytes(sample.public_key),
                signature_bytes=signature_bytes(sample.public_key),
                verify_us=_median_verify_us(sample),
            )
        )
    return tuple(costs)


def _public_key_bytes(key: CertificatePublicKeyTypes) -> int:
    """Size of the SubjectPublicKeyInfo a certificate carries (RFC 5280 §4.1.2.7)."""
    return len(
        key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def signature_bytes(key: CertificatePublicKeyTypes) -> int:
    """Bytes of one signature by ``key``: the modulus size for RSA, the largest DER encoding
    for ECDSA (it varies by a byte or two with the values, RFC 3279 §2.2.3), fixed for EdDSA
    (RFC 8032 §5.1.6, §5.2.6)."""
    if isinstance(key, rsa.RSAPublicKey):
        return (key.key_size + 7) // 8
    if isinstance(key, ec.EllipticCurvePublicKey):
        largest = (1 << key.curve.key_size) - 1
        return len(encode_dss_signature(largest, largest))
    if isinstance(key, ed25519.Ed25519PublicKey):
        return 64
    if isinstance(key, ed448.Ed448PublicKey):
        return 114
    return 0


def _ecdsa_hash(curve: ec.EllipticCurve) -> hashes.HashAlgorithm:
    # RFC 8446 §4.2.3 pairs each curve with a hash: P-256/SHA-256, P-384/SHA-384, P-521/SHA-512.
    if curve.key_size <= 256:
        return hashes.SHA256()
    if curve.key_size <= 384:
        return hashes.SHA384()
    return hashes.SHA512()


def _rsa_pss() -> padding.PSS:
    # RFC 8446 §4.2.3 rsa_pss_rsae_sha256: MGF1 with SHA-256, salt as long as the digest.
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def _sign(key: CertificateIssuerPrivateKeyTypes) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(_SIGNED_CONTENT, _rsa_pss(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(_SIGNED_CONTENT, ec.ECDSA(_ecdsa_hash(key.curve)))
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return key.sign(_SIGNED_CONTENT)
    raise ValueError(f"no signer for {type(key).__name__}")


def _verify(public: CertificatePublicKeyTypes, signature: bytes) -> None:
    if isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, _SIGNED_CONTENT, _rsa_pss(), hashes.SHA256())
    elif isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, _SIGNED_CONTENT, ec.ECDSA(_ecdsa_hash(public.curve)))
    elif isinstance(public, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        public.verify(signature, _SIGNED_CONTENT)
    else:
        raise ValueError(f"no verifier for {type(public).__name__}")


def _median_verify_us(sample: SignedSample) -> float:
    """Median microseconds of ``VERIFICATIONS_PER_KEY`` verifications, after one untimed."""
    _verify(sample.public_key, sample.signature)
    samples: list[int] = []
    for _ in range(VERIFICATIONS_PER_KEY):
        started = now_ns()
        _verify(sample.public_key, sample.signature)
        samples.append(now_ns() - started)
    return round(statistics.median(samples) / 1000, 2)


# -- dual certificates -----------------------------------------------------------------------


def dual_certificates(context: ProbeContext, versions: VersionsResult) -> DualCertificates:
    """Offer ECDSA signature algorithms alone, then RSA alone, at the highest version spoken.

    TLS 1.3 picks the certificate by signature_algorithms (RFC 8446 §4.4.2.2); TLS 1.2 and
    older by the cipher suite's authentication as well (RFC 5246 §7.4.2), so those offers
    list only ECDSA- or only RSA-authenticated suites. A refusal means no certificate of
    that type.
    """
    version = _highest_version(versions)
    if version is None:
        return DualCertificates(None, None, dual=False, version=None)
    if version == ProtocolVersion.TLSv1_3:
        ecdsa_leaf = _tls13_leaf(context, ECDSA_SCHEMES)
        rsa_leaf = _tls13_leaf(context, RSA_SCHEMES)
    else:
        ecdsa_leaf = _tls12_leaf(context, version, "ECDSA", ECDSA_SCHEMES)
        rsa_leaf = _tls12_leaf(context, version, "RSA", RSA_SCHEMES)
    ecdsa = _describe(ecdsa_leaf)
    rsa_served = _describe(rsa_leaf)
    return DualCertificates(
        ecdsa_certificate=ecdsa[1] if ecdsa else None,
        rsa_certificate=rsa_served[1] if rsa_served else None,
        dual=ecdsa is not None
        and rsa_served is not None
        and ecdsa[0] == "ECDSA"
        and rsa_served[0] == "RSA",
        version=ProtocolVersion(version).label,
    )


def _highest_version(versions: VersionsResult) -> int | None:
    spoken = [
        entry.version_code
        for entry in versions.versions
        if entry.support is Support.SUPPORTED and entry.version_code >= ProtocolVersion.TLSv1_0
    ]
    return max(spoken, default=None)


def _describe(der: bytes | None) -> tuple[str, str] | None:
    """(key type, key description) of a served leaf."""
    if der is None:
        return None
    certificate = load_certificate(der, what="leaf")
    now = datetime.datetime.fromtimestamp(wall_time(), datetime.UTC)
    info = describe_certificate(certificate, der, 0, now)
    return info.key_type, info.key_description


def _tls13_leaf(context: ProbeContext, schemes: tuple[int, ...]) -> bytes | None:
    """The leaf a TLS 1.3 client offering only ``schemes`` gets; None when refused.

    Our own engine reads the encrypted Certificate; the connection is dropped right after it.
    """
    params = replace(ClientParams.generate(context.target.sni), signature_algorithms=schemes)
    engine = ClientConnection(params)
    engine.start()
    deadline = context.phase_deadline()
    with context.tcp() as transport:
        for _ in range(MAX_HANDSHAKE_STEPS):
            outgoing = engine.data_to_send()
            if outgoing:
                transport.send(outgoing, deadline, Phase.TLS)
            event = engine.next_event()
            if event is NEED_DATA:
                try:
                    data, _stamp = transport.receive(deadline, Phase.TLS)
                except ConnectionLost:
                    return None  # a reset is a refusal too
                if not data:
                    return None
                engine.receive_data(data)
            elif isinstance(event, CertificateReceived):
                return event.certificate_ders[0]
            elif isinstance(event, AlertReceived | ConnectionClosed):
                return None
    raise RemoteProtocolError(
        f"no Certificate from the server after {MAX_HANDSHAKE_STEPS} reads and events"
    )


def _tls12_leaf(
    context: ProbeContext, version: int, authentication: str, schemes: tuple[int, ...]
) -> bytes | None:
    """The leaf a client offering only ``authentication`` suites gets, read in the clear."""
    suites = tuple(
        suite
        for suite in suites_for_version(version)
        if (facts := describe_suite(suite)) is not None and facts.authentication == authentication
    )
    spec = replace(
        hello_for_version(version, server_name=context.target.sni, cipher_suites=suites),
        signature_algorithms=schemes,
    )
    answer = context.hello(spec, ReadUntil.FIRST_FLIGHT)
    if answer.kind is AnswerKind.TIMEOUT:
        raise PhaseTimeout(
            f"no answer to a ClientHello offering {authentication} suites only", phase=Phase.TLS
        )
    hello = answer.server_hello
    if answer.kind is not AnswerKind.SERVER_HELLO or hello is None:
        return None
    if hello.selected_version != version:
        return None
    messages = answer.messages_of_type(HandshakeType.CERTIFICATE)
    if not messages:
        return None
    message = messages[0]
    ders = parse_certificate_list_tls12(Reader(message.body, base=message.offset + 4))
    return ders[0] if ders else None


# -- validity hygiene ------------------------------------------------------------------------


def max_lifetime_days(not_before: datetime.datetime) -> int:
    """The CA/Browser Forum maximum for a leaf issued at ``not_before``."""
    maximum = _PRE_BASELINE_MAX_LIFETIME_DAYS
    for effective, days in MAX_LIFETIME_BY_ISSUANCE:
        if not_before >= effective:
            maximum = days
    return maximum


def validity_hygiene(leaf: x509.Certificate, certificate: CertificateResult) -> ValidityHygiene:
    """Lifetime against the rules of its issue date, SHA-1 signatures, weak keys, the name."""
    infos = certificate.certificates
    leaf_info = infos[0]
    not_before = leaf.not_valid_before_utc
    maximum = max_lifetime_days(not_before)
    lifetime_s = (leaf.not_valid_after_utc - not_before).total_seconds()
    return ValidityHygiene(
        days_left=leaf_info.days_left,
        lifetime_days=leaf_info.lifetime_days,
        max_lifetime_days=maximum,
        exceeds_max_lifetime=lifetime_s > maximum * _SECONDS_PER_DAY,
        # A self-signed certificate's own signature is never checked: roots are trusted as is.
        sha1_signatures=tuple(
            info.position
            for info in infos
            if info.signature_hash == "sha1" and not info.self_signed
        ),
        weak_keys=tuple(
            f"position {info.position}: {info.key_description}"
            for info in infos
            if (info.key_type == "RSA" and info.key_bits < MIN_RSA_BITS)
            or (info.key_type == "ECDSA" and info.key_bits < MIN_EC_BITS)
        ),
        name_matches=certificate.verification.name_matches,
    )
