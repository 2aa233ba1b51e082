"""Certificate rules: whether clients accept the chain, what it costs to deliver, and whether
its revocation status travels with it (OCSP stapling). Checks are pure functions of the
ScanResult; each fact is reported by one rule (an expired leaf is CERT001's, not also an
"untrusted chain"), and a rule defers to the more specific one with a not-applicable reason.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

from httpsaudit.results import (
    CertificateDeliveryResult,
    CertificateInfo,
    CertificateResult,
    KeyCost,
    OcspResult,
    ProbeId,
    ScanResult,
    Support,
)
from httpsaudit.rules.model import (
    Advice,
    Category,
    CheckContext,
    EvidenceValue,
    Localized,
    Rule,
    Saving,
    ServerKind,
    Severity,
    Snippet,
    Verdict,
)

# Days before expiry that warn (medium) and alarm (high). A short-lived certificate is renewed
# when about a third of its life is left (Let's Encrypt's advice), so for lifetimes under 90
# days the thresholds shrink with the lifetime: a 47-day certificate warns at 15 days left.
WARNING_DAYS = 30
URGENT_DAYS = 7
WARNING_SHARE_OF_LIFETIME = 3  # warn with less than lifetime / 3 left
URGENT_SHARE_OF_LIFETIME = 6  # alarm with less than lifetime / 6 left
# Bytes of a Certificate message entry besides the DER: a uint24 length, plus in TLS 1.3 a
# uint16 extensions length (RFC 5246 §7.4.2, RFC 8446 §4.4.2).
ENTRY_OVERHEAD_BYTES = {"TLSv1.3": 5}
ENTRY_OVERHEAD_BYTES_DEFAULT = 3
# Largest RSA key that costs nothing extra; larger keys buy no security a browser asks for.
RSA_BITS_ENOUGH = 2048
REFERENCE_ECDSA = "ECDSA P-256"
REFERENCE_RSA = "RSA-2048"
# Verification problems with a rule of their own in this family (same probe, same evidence).
_REPORTED_ELSEWHERE = frozenset({"expired", "name_mismatch", "missing_intermediate"})
_RSA_DESCRIPTION = re.compile(r"^RSA-(\d+)$")
_SECONDS_PER_DAY = 86400

MOZILLA_GUIDELINES = "https://wiki.mozilla.org/Security/Server_Side_TLS"
BASELINE_REQUIREMENTS = "https://cabforum.org/working-groups/server/baseline-requirements/"


# -- reading the probes ----------------------------------------------------------------------


def _certificate(scan: ScanResult) -> CertificateResult:
    result = scan.certificate.result
    if result is None:  # the engine checks requires first; this keeps mypy honest
        raise ValueError("certificate probe result missing")
    return result


def _delivery(scan: ScanResult) -> CertificateDeliveryResult:
    result = scan.certificate_delivery.result
    if result is None:
        raise ValueError("certificate delivery probe result missing")
    return result


def _ocsp(scan: ScanResult) -> OcspResult:
    result = scan.ocsp.result
    if result is None:
        raise ValueError("OCSP probe result missing")
    return result


def _not_a_root(info: CertificateInfo) -> bool:
    """Everything a client checks the dates of: the leaf and intermediates, not a root sent
    along (clients use their own copy of a root, or none)."""
    return info.position == 0 or not (info.self_signed and info.is_ca)


def _negotiated_version(scan: ScanResult) -> str | None:
    connection = scan.connection.result
    return connection.tls.version if connection is not None and connection.tls else None


def _entry_bytes(scan: ScanResult, info: CertificateInfo) -> int:
    """What one certificate adds to the Certificate message of the timed handshake."""
    version = _negotiated_version(scan) or ""
    return info.der_bytes + ENTRY_OVERHEAD_BYTES.get(version, ENTRY_OVERHEAD_BYTES_DEFAULT)


def _parse_time(text: str) -> datetime.datetime | None:
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def _trim_saving(context: CheckContext, removed_bytes: int, scan: ScanResult) -> Saving:
    """Bytes saved by sending less; a round trip too when that brings an oversized first
    flight back under the initial congestion window."""
    delivery = scan.certificate_delivery.result
    round_trips = 0
    if delivery is not None and delivery.chain.exceeds_initial_window:
        chain = delivery.chain
        if chain.server_first_flight_bytes - removed_bytes <= chain.initial_window_bytes:
            round_trips = 1
    if round_trips:
        timed = context.saving(round_trips)
        return Saving(round_trips=round_trips, ms=timed.ms, bytes=removed_bytes)
    return Saving(bytes=removed_bytes)


# -- snippets shared by rules that end in "install a new certificate" ------------------------

_INSTALL_NGINX = Snippet(
    "# the new certificate with its intermediates (leaf first), and its key:\n"
    "ssl_certificate     /etc/ssl/example.com/fullchain.pem;\n"
    "ssl_certificate_key /etc/ssl/example.com/privkey.pem;\n"
    "# nginx reads certificates at start and on reload: nginx -s reload"
)
_INSTALL_APACHE = Snippet(
    "# the new certificate with its intermediates (leaf first), and its key:\n"
    "SSLCertificateFile    /etc/ssl/example.com/fullchain.pem\n"
    "SSLCertificateKeyFile /etc/ssl/example.com/privkey.pem\n"
    "# Apache reads certificates at start and on reload: apachectl graceful",
    min_version=(2, 4, 8),
    before_text=(
        "# before 2.4.8 the intermediates go in a file of their own:\n"
        "SSLCertificateFile      /etc/ssl/example.com/cert.pem\n"
        "SSLCertificateKeyFile   /etc/ssl/example.com/privkey.pem\n"
        "SSLCertificateChainFile /etc/ssl/example.com/chain.pem\n"
        "# then: apachectl graceful"
    ),
)
_INSTALL_HAPROXY = Snippet(
    "# one PEM: the new leaf, its intermediates, then the key\n"
    "#   cat cert.pem chain.pem privkey.pem > /etc/haproxy/certs/example.com.pem\n"
    "frontend https\n"
    "    bind :443 ssl crt /etc/haproxy/certs/example.com.pem\n"
    "# then reload (or, from 2.2, swap it live: set ssl cert / commit ssl cert)"
)
_INSTALL_CADDY = Snippet(
    "# Caddy obtains and renews certificates itself when the site has a public name and no\n"
    "# tls line with files; for a certificate you manage, point it at the new files:\n"
    "example.com {\n"
    "    tls /etc/ssl/example.com/fullchain.pem /etc/ssl/example.com/privkey.pem\n"
    "}"
)
_INSTALL_SNIPPETS = {
    ServerKind.NGINX: _INSTALL_NGINX,
    ServerKind.APACHE: _INSTALL_APACHE,
    ServerKind.HAPROXY: _INSTALL_HAPROXY,
    ServerKind.CADDY: _INSTALL_CADDY,
}

# The chain file as it should be: the leaf, then each intermediate, each once, no root.
_CHAIN_NGINX = Snippet(
    "# fullchain.pem: the leaf, then the intermediate that signed it (then its issuer, if\n"
    "# that is an intermediate too); each once, no root. ACME clients write this file.\n"
    "ssl_certificate     /etc/ssl/example.com/fullchain.pem;\n"
    "ssl_certificate_key /etc/ssl/example.com/privkey.pem;"
)
_CHAIN_APACHE = Snippet(
    "# fullchain.pem: the leaf, then its intermediates in order; each once, no root\n"
    "SSLCertificateFile    /etc/ssl/example.com/fullchain.pem\n"
    "SSLCertificateKeyFile /etc/ssl/example.com/privkey.pem",
    min_version=(2, 4, 8),
    before_text=(
        "# before 2.4.8: the leaf alone, and its intermediates in order in the chain file\n"
        "SSLCertificateFile      /etc/ssl/example.com/cert.pem\n"
        "SSLCertificateKeyFile   /etc/ssl/example.com/privkey.pem\n"
        "SSLCertificateChainFile /etc/ssl/example.com/chain.pem"
    ),
)
_CHAIN_HAPROXY = Snippet(
    "# one PEM: the leaf, its intermediates in order (each once, no root), then the key\n"
    "#   cat cert.pem chain.pem privkey.pem > /etc/haproxy/certs/example.com.pem\n"
    "frontend https\n"
    "    bind :443 ssl crt /etc/haproxy/certs/example.com.pem"
)
_CHAIN_CADDY = Snippet(
    "# certificates Caddy manages are sent as its CA issued them; for your own files, the\n"
    "# certificate file holds the leaf, then its intermediates in order, no root:\n"
    "example.com {\n"
    "    tls /etc/ssl/example.com/fullchain.pem /etc/ssl/example.com/privkey.pem\n"
    "}"
)
_CHAIN_SNIPPETS = {
    ServerKind.NGINX: _CHAIN_NGINX,
    ServerKind.APACHE: _CHAIN_APACHE,
    ServerKind.HAPROXY: _CHAIN_HAPROXY,
    ServerKind.CADDY: _CHAIN_CADDY,
}


# -- validity --------------------------------------------------------------------------------


def certificate_expired(scan: ScanResult, context: CheckContext) -> Verdict:
    """A certificate the client checks is past its notAfter (or the verifier says so)."""
    certificate = _certificate(scan)
    expired = [i for i in certificate.certificates if _not_a_root(i) and i.days_left < 0]
    verifier = tuple(
        problem.message
        for problem in certificate.verification.problems
        if problem.reason == "expired"
    )
    leaf = certificate.certificates[0]
    if not expired and not verifier:
        return Verdict.passed({"days_left": leaf.days_left, "not_after": leaf.not_after})
    first = expired[0] if expired else None
    days_expired = None
    started = _parse_time(scan.started_at)
    ended = _parse_time(first.not_after) if first is not None else None
    if started is not None and ended is not None:
        days_expired = round((started - ended).total_seconds() / _SECONDS_PER_DAY)
    evidence: dict[str, EvidenceValue] = {
        "expired_positions": tuple(info.position for info in expired),
        "subject": first.subject if first is not None else None,
        "not_after": first.not_after if first is not None else None,
        "days_expired": days_expired,
        "verifier_messages": verifier,
    }
    if first is None:
        message = Localized(
            en="A certificate in the chain the client builds has expired: {verifier_messages}",
            zh="客户端构建的证书链中有证书已过期:{verifier_messages}",
        )
        return Verdict.failed(evidence, message=message)
    return Verdict.failed(evidence)


def _soonest_to_expire(certificate: CertificateResult) -> CertificateInfo:
    checked = [info for info in certificate.certificates if _not_a_root(info)]
    return min(checked, key=lambda info: info.days_left)


def _thresholds(info: CertificateInfo) -> tuple[int, int]:
    """(warning, urgent) days for this certificate's lifetime."""
    lifetime = max(info.lifetime_days, 1)
    warning = min(WARNING_DAYS, max(1, lifetime // WARNING_SHARE_OF_LIFETIME))
    urgent = min(URGENT_DAYS, max(1, lifetime // URGENT_SHARE_OF_LIFETIME))
    return warning, urgent


def _expiry_evidence(info: CertificateInfo) -> dict[str, EvidenceValue]:
    warning, urgent = _thresholds(info)
    return {
        "days_left": info.days_left,
        "not_after": info.not_after,
        "subject": info.subject,
        "position": info.position,
        "lifetime_days": info.lifetime_days,
        "warning_days": warning,
        "urgent_days": urgent,
    }


def expires_soon(scan: ScanResult, context: CheckContext) -> Verdict:
    """Fewer than ``warning_days`` whole days left, but more than ``urgent_days``."""
    info = _soonest_to_expire(_certificate(scan))
    evidence = _expiry_evidence(info)
    warning, urgent = _thresholds(info)
    if info.days_left < 0:
        return Verdict.not_applicable("already expired: CERT001 reports it", evidence)
    if info.days_left < urgent:
        return Verdict.not_applicable(
            f"fewer than {urgent} days left: CERT003 reports it", evidence
        )
    return Verdict.failed(evidence) if info.days_left < warning else Verdict.passed(evidence)


def expires_imminently(scan: ScanResult, context: CheckContext) -> Verdict:
    """Fewer than ``urgent_days`` whole days left (7, less for short-lived certificates)."""
    info = _soonest_to_expire(_certificate(scan))
    evidence = _expiry_evidence(info)
    _warning, urgent = _thresholds(info)
    if info.days_left < 0:
        return Verdict.not_applicable("already expired: CERT001 reports it", evidence)
    return Verdict.failed(evidence) if info.days_left < urgent else Verdict.passed(evidence)


def name_mismatch(scan: ScanResult, context: CheckContext) -> Verdict:
    """The leaf's subjectAltNames do not cover the name the client asked for (RFC 6125)."""
    leaf = _certificate(scan).leaf
    evidence: dict[str, EvidenceValue] = {
        "name_checked": leaf.name_checked,
        "subject_alt_names": leaf.subject_alt_names,
    }
    return Verdict.passed(evidence) if leaf.name_matches else Verdict.failed(evidence)


def chain_untrusted(scan: ScanResult, context: CheckContext) -> Verdict:
    """The verifier refuses the chain for a reason no more specific rule here reports."""
    verification = _certificate(scan).verification
    problems = [p for p in verification.problems if p.reason not in _REPORTED_ELSEWHERE]
    evidence: dict[str, EvidenceValue] = {
        "trust_store": verification.trust_store,
        "reasons": tuple(problem.reason for problem in problems),
        "problems": tuple(problem.message for problem in problems),
    }
    return Verdict.failed(evidence) if problems else Verdict.passed(evidence)


def missing_intermediate(scan: ScanResult, context: CheckContext) -> Verdict:
    """The top of the chain sent is a leaf whose issuer the client cannot find; roots never
    sign server certificates (Baseline Requirements §6.1.7), so an intermediate is missing."""
    certificate = _certificate(scan)
    problems = certificate.verification.problems
    missing = next((p for p in problems if p.reason == "missing_intermediate"), None)
    sent = certificate.certificates
    evidence: dict[str, EvidenceValue] = {
        "certificates_sent": len(sent),
        "leaf_issuer": sent[0].issuer,
        "ca_issuers_urls": certificate.leaf.ca_issuers_urls,
    }
    if missing is not None:
        top = sent[min(missing.depth, len(sent) - 1)]
        return Verdict.failed({**evidence, "missing_issuer": top.issuer})
    if any(problem.reason == "unknown_issuer" for problem in problems):
        return Verdict.not_applicable(
            "the chain ends in a CA whose issuer the trust store does not know: a missing "
            "cross-certificate and an untrusted root look alike without fetching (see CERT005)",
            evidence,
        )
    return Verdict.passed(evidence)


# -- delivery: bytes, order, the first flight ----------------------------------------------


def root_in_chain(scan: ScanResult, context: CheckContext) -> Verdict:
    """A self-signed CA after the leaf: clients trust their own copy or none, never this one."""
    infos = _certificate(scan).certificates
    chain = _delivery(scan).chain
    roots = [info for info in infos[1:] if info.self_signed and info.is_ca]
    evidence: dict[str, EvidenceValue] = {
        "certificates": chain.certificates,
        "chain_der_bytes": chain.chain_der_bytes,
        "server_first_flight_bytes": chain.server_first_flight_bytes,
    }
    if not roots:
        return Verdict.passed({**evidence, "root_positions": ()})
    removed = sum(_entry_bytes(scan, info) for info in roots)
    evidence = {
        **evidence,
        "root_positions": tuple(info.position for info in roots),
        "root_subject": roots[0].subject,
        "root_bytes": removed,
    }
    saving = _trim_saving(context, removed, scan)
    message = None
    if saving.round_trips:
        message = Localized(
            en="The server sends the root certificate {root_subject}, and those {saved_bytes} "
            "bytes push its first flight past the initial congestion window: dropping it saves "
            "{saved_round_trips} round trip, about {saved_ms} ms per new connection",
            zh="服务器发送了根证书 {root_subject},这 {saved_bytes} 字节让首轮数据超出了"
            " TCP 初始拥塞窗口:去掉它,每个新连接可节省 {saved_round_trips} 个往返,"
            "约 {saved_ms} 毫秒",
        )
    return Verdict.failed(evidence, message=message, saving=saving)


def chain_misassembled(scan: ScanResult, context: CheckContext) -> Verdict:
    """Certificates sent twice, or not each followed by its issuer (RFC 8446 §4.4.2)."""
    infos = _certificate(scan).certificates
    chain = _delivery(scan).chain
    duplicate_bytes = sum(
        _entry_bytes(scan, infos[position])
        for position in chain.duplicates
        if position < len(infos)
    )
    evidence: dict[str, EvidenceValue] = {
        "duplicate_positions": chain.duplicates,
        "duplicate_bytes": duplicate_bytes,
        "order_problems": chain.order_problems,
        "certificates": chain.certificates,
    }
    if not chain.duplicates and chain.order_ok:
        return Verdict.passed(evidence)
    saving = _trim_saving(context, duplicate_bytes, scan) if duplicate_bytes else None
    if not chain.duplicates:
        message = Localized(
            en="The chain is sent out of order: {order_problems}",
            zh="证书链的发送顺序不对:{order_problems}",
        )
    elif chain.order_ok:
        message = Localized(
            en="The chain repeats certificates at positions {duplicate_positions}: "
            "{duplicate_bytes} bytes sent twice",
            zh="证书链在位置 {duplicate_positions} 重复发送了证书,白白多发 {duplicate_bytes} 字节",
        )
    else:
        message = None
    return Verdict.failed(evidence, message=message, saving=saving)


def first_flight_over_window(scan: ScanResult, context: CheckContext) -> Verdict:
    """RFC 6928: 10 segments may leave before the first ACK; more waits a round trip."""
    chain = _delivery(scan).chain
    evidence: dict[str, EvidenceValue] = {
        "server_first_flight_bytes": chain.server_first_flight_bytes,
        "initial_window_bytes": chain.initial_window_bytes,
        "excess_bytes": max(0, chain.server_first_flight_bytes - chain.initial_window_bytes),
        "certificate_message_bytes": chain.certificate_message_bytes,
        "certificates": chain.certificates,
    }
    if not chain.exceeds_initial_window:
        return Verdict.passed(evidence)
    return Verdict.failed(evidence, saving=context.saving(1))


# -- keys and signatures -------------------------------------------------------------------


def _cost(costs: Sequence[KeyCost], *, leaf: bool = False, key: str = "") -> KeyCost | None:
    return next(
        (c for c in costs if (c.is_leaf if leaf else c.key_description == key)),
        None,
    )


def _wire_bytes(cost: KeyCost | None) -> int | None:
    """What a key puts on the wire in one handshake: its SubjectPublicKeyInfo in the
    certificate and one signature in CertificateVerify (or ServerKeyExchange)."""
    return None if cost is None else cost.public_key_bytes + cost.signature_bytes


def rsa_only(scan: ScanResult, context: CheckContext) -> Verdict:
    """An RSA leaf for a client that takes ECDSA, and no ECDSA certificate to choose."""
    leaf = _certificate(scan).certificates[0]
    delivery = _delivery(scan)
    dual = delivery.dual_certificates
    evidence: dict[str, EvidenceValue] = {
        "leaf_key": leaf.key_description,
        "ecdsa_certificate_served": dual.ecdsa_certificate,
        "rsa_certificate_served": dual.rsa_certificate,
        "dual_certificates": dual.dual,
    }
    if leaf.key_type != "RSA" or dual.dual:
        return Verdict.passed(evidence)
    leaf_cost = _cost(delivery.key_costs, leaf=True)
    ecdsa_cost = _cost(delivery.key_costs, key=REFERENCE_ECDSA)
    leaf_bytes, ecdsa_bytes = _wire_bytes(leaf_cost), _wire_bytes(ecdsa_cost)
    evidence = {
        **evidence,
        "leaf_key_wire_bytes": leaf_bytes,
        "ecdsa_p256_wire_bytes": ecdsa_bytes,
        "leaf_verify_us": leaf_cost.verify_us if leaf_cost is not None else None,
        "ecdsa_p256_verify_us": ecdsa_cost.verify_us if ecdsa_cost is not None else None,
    }
    saved = leaf_bytes - ecdsa_bytes if leaf_bytes is not None and ecdsa_bytes is not None else None
    return Verdict.failed(evidence, saving=Saving(bytes=saved))


def _rsa_bits(description: str | None) -> int | None:
    match = _RSA_DESCRIPTION.match(description or "")
    return int(match.group(1)) if match else None


def rsa_key_oversized(scan: ScanResult, context: CheckContext) -> Verdict:
    """RSA above 2048 bits: more bytes and much slower signatures, for no browser's benefit."""
    leaf = _certificate(scan).certificates[0]
    delivery = _delivery(scan)
    served = (leaf.key_description, delivery.dual_certificates.rsa_certificate)
    rsa_keys = [(d, bits) for d in served if d and (bits := _rsa_bits(d)) is not None]
    if not rsa_keys:
        return Verdict.not_applicable(
            "the server has no RSA certificate", {"leaf_key": leaf.key_description}
        )
    description, bits = max(rsa_keys, key=lambda pair: pair[1])
    key_cost = _cost(delivery.key_costs, key=description)
    enough_cost = _cost(delivery.key_costs, key=REFERENCE_RSA)
    evidence: dict[str, EvidenceValue] = {
        "rsa_key": description,
        "key_bits": bits,
        "key_wire_bytes": _wire_bytes(key_cost),
        "rsa2048_wire_bytes": _wire_bytes(enough_cost),
        "key_verify_us": key_cost.verify_us if key_cost is not None else None,
        "rsa2048_verify_us": enough_cost.verify_us if enough_cost is not None else None,
    }
    if bits <= RSA_BITS_ENOUGH:
        return Verdict.passed(evidence)
    key_bytes, enough_bytes = _wire_bytes(key_cost), _wire_bytes(enough_cost)
    saved = key_bytes - enough_bytes if key_bytes is not None and enough_bytes is not None else None
    return Verdict.failed(evidence, saving=Saving(bytes=saved))


def weak_key(scan: ScanResult, context: CheckContext) -> Verdict:
    """RSA under 2048 bits or EC under 256 anywhere in the chain, or in the RSA fallback."""
    delivery = _delivery(scan)
    weak = list(delivery.hygiene.weak_keys)
    fallback = delivery.dual_certificates.rsa_certificate
    fallback_bits = _rsa_bits(fallback)
    leaf_key = _certificate(scan).certificates[0].key_description
    if fallback_bits is not None and fallback_bits < RSA_BITS_ENOUGH and fallback != leaf_key:
        weak.append(f"RSA-only clients: {fallback}")
    evidence: dict[str, EvidenceValue] = {"weak_keys": tuple(weak), "leaf_key": leaf_key}
    return Verdict.failed(evidence) if weak else Verdict.passed(evidence)


def sha1_signature(scan: ScanResult, context: CheckContext) -> Verdict:
    """A certificate below the root signed with SHA-1 (roots' own signatures are not checked)."""
    infos = _certificate(scan).certificates
    positions = _delivery(scan).hygiene.sha1_signatures
    signed = [infos[position] for position in positions if position < len(infos)]
    evidence: dict[str, EvidenceValue] = {
        "sha1_positions": positions,
        "sha1_subjects": tuple(info.subject for info in signed),
        "signature_algorithms": tuple(info.signature_algorithm for info in signed),
    }
    return Verdict.failed(evidence) if positions else Verdict.passed(evidence)


def lifetime_over_maximum(scan: ScanResult, context: CheckContext) -> Verdict:
    """The leaf outlives the CA/Browser Forum maximum in force on the day it was issued."""
    hygiene = _delivery(scan).hygiene
    leaf = _certificate(scan).certificates[0]
    evidence: dict[str, EvidenceValue] = {
        "lifetime_days": hygiene.lifetime_days,
        "max_lifetime_days": hygiene.max_lifetime_days,
        "not_before": leaf.not_before,
        "not_after": leaf.not_after,
    }
    return Verdict.failed(evidence) if hygiene.exceeds_max_lifetime else Verdict.passed(evidence)


# -- OCSP stapling ---------------------------------------------------------------------------


def _stapling(ocsp: OcspResult) -> dict[str, Support]:
    return {"TLSv1.2": ocsp.tls12_stapled, "TLSv1.3": ocsp.tls13_stapled}


def _stapling_evidence(ocsp: OcspResult) -> dict[str, EvidenceValue]:
    return {
        "ocsp_urls": ocsp.ocsp_urls,
        "tls12_stapled": ocsp.tls12_stapled.value,
        "tls13_stapled": ocsp.tls13_stapled.value,
        "connections_tried": ocsp.connections_tried,
        "first_stapled_connection": ocsp.first_stapled_connection,
    }


def ocsp_not_stapled(scan: ScanResult, context: CheckContext) -> Verdict:
    """The leaf names an OCSP responder, and the server staples no answer from it.

    A server that fetches lazily may miss the first handshakes, so a version is blamed only
    when it still went without after another version had stapled.
    """
    ocsp = _ocsp(scan)
    evidence = _stapling_evidence(ocsp)
    if not ocsp.ocsp_urls:
        return Verdict.not_applicable(
            "the leaf names no OCSP responder: nothing to staple (many CAs, Let's Encrypt "
            "among them, now publish revocation by CRL only)",
            evidence,
        )
    if ocsp.must_staple and ocsp.response is None:
        return Verdict.not_applicable("must-staple leaf: OCSP003 reports it", evidence)
    if ocsp.response is None:
        if Support.NOT_SUPPORTED not in _stapling(ocsp).values():
            return Verdict.not_applicable("no handshake could ask for a staple", evidence)
        return Verdict.failed(evidence)
    # The probe asks a version again after another one stapled: a version still without a
    # staple then had one to send and did not (a lazy fetch is over by then).
    missing = [
        version for version, support in _stapling(ocsp).items() if support is Support.NOT_SUPPORTED
    ]
    if not missing:
        return Verdict.passed(evidence)
    message = Localized(
        en="The server staples OCSP in some versions but not in {unstapled_versions}",
        zh="服务器只在部分协议版本中装订 OCSP 响应,{unstapled_versions} 中没有",
    )
    return Verdict.failed({**evidence, "unstapled_versions": tuple(missing)}, message=message)


def _without_revocation(ocsp: OcspResult) -> tuple[str, ...]:
    """The staple's problems, less the revocation itself (OCSP004 reports that)."""
    response = ocsp.response
    if response is None:
        return ()
    if response.cert_status != "revoked":
        return response.problems
    return tuple(problem for problem in response.problems if "revoked" not in problem)


def staple_invalid(scan: ScanResult, context: CheckContext) -> Verdict:
    """The stapled response is one a client would reject: stale, from the future, about
    another certificate, badly signed, or not a successful OCSP response at all."""
    ocsp = _ocsp(scan)
    response = ocsp.response
    if response is None:
        return Verdict.not_applicable("the server stapled nothing", _stapling_evidence(ocsp))
    problems = _without_revocation(ocsp)
    evidence: dict[str, EvidenceValue] = {
        "problems": problems,
        "response_status": response.response_status,
        "cert_status": response.cert_status,
        "this_update": response.this_update,
        "next_update": response.next_update,
        "expires_in_s": response.expires_in_s,
        "stale": response.stale,
        "signer": response.signer,
        "must_staple": ocsp.must_staple,
    }
    return Verdict.failed(evidence) if problems else Verdict.passed(evidence)


def must_staple_unstapled(scan: ScanResult, context: CheckContext) -> Verdict:
    """RFC 7633: a must-staple leaf without a staple is refused by clients that enforce it,
    including on the handshakes a lazily fetching server answers before its first fetch."""
    ocsp = _ocsp(scan)
    evidence: dict[str, EvidenceValue] = {
        **_stapling_evidence(ocsp),
        "must_staple": ocsp.must_staple,
    }
    if not ocsp.must_staple:
        return Verdict.not_applicable("the leaf does not demand a staple", evidence)
    if ocsp.must_staple_violated:
        return Verdict.failed(evidence)
    first = ocsp.first_stapled_connection
    if first is not None and first > 1:
        message = Localized(
            en="The certificate demands OCSP stapling, and the first {unstapled_handshakes} "
            "handshake(s) came without a staple",
            zh="证书要求必须装订 OCSP,但最先的 {unstapled_handshakes} 次握手没有带上装订响应",
        )
        return Verdict.failed({**evidence, "unstapled_handshakes": first - 1}, message=message)
    if ocsp.response is None:
        return Verdict.not_applicable("no handshake could ask for a staple", evidence)
    return Verdict.passed(evidence)


def certificate_revoked(scan: ScanResult, context: CheckContext) -> Verdict:
    """The server's own staple says its certificate is revoked."""
    ocsp = _ocsp(scan)
    response = ocsp.response
    if response is None or response.cert_status is None:
        return Verdict.not_applicable(
            "no readable staple to say (revocation is not looked up anywhere else)",
            _stapling_evidence(ocsp),
        )
    evidence: dict[str, EvidenceValue] = {
        "cert_status": response.cert_status,
        "revocation_time": response.revocation_time,
        "revocation_reason": response.revocation_reason,
        "this_update": response.this_update,
    }
    return (
        Verdict.failed(evidence) if response.cert_status == "revoked" else Verdict.passed(evidence)
    )


# -- the rules -------------------------------------------------------------------------------

CERTIFICATE_EXPIRED = Rule(
    id="CERT001",
    name="certificate-expired",
    severity=Severity.CRITICAL,
    category=Category.RELIABILITY,
    title=Localized(
        en="The certificate {subject} expired on {not_after} ({days_expired} days ago)",
        zh="证书 {subject} 已于 {not_after} 过期({days_expired} 天前)",
    ),
    why=Localized(
        en="Every browser and TLS library refuses an expired certificate: visitors get a full-"
        "page error they can only click through at their own risk, and API clients, apps and "
        "monitoring fail outright. Nothing about the connection works until it is replaced.",
        zh="所有浏览器和 TLS 库都会拒绝过期证书:访客看到整页的安全错误,只能自担风险强行继续;"
        "API 客户端、移动应用和监控则直接失败。证书不换掉,这个站点对谁都不可用。",
    ),
    requires=(ProbeId.CERTIFICATE,),
    check=certificate_expired,
    advice=Advice(
        summary=Localized(
            en="Renew the certificate now, install it with its intermediates and reload the "
            "server; then automate renewal (an ACME client such as certbot, acme.sh or lego, "
            "or Caddy's built-in one) and alert on expiry well before the last week.",
            zh="立即续期证书,连同中间证书一起部署并重新加载服务器;然后把续期自动化"
            "(certbot、acme.sh、lego 等 ACME 客户端,或 Caddy 自带的自动证书),"
            "并在到期前足够早的时候告警,别等到最后一周。",
        ),
        snippets=_INSTALL_SNIPPETS,
        references=("RFC 5280 §4.1.2.5", "RFC 8555", BASELINE_REQUIREMENTS),
    ),
)

EXPIRES_SOON = Rule(
    id="CERT002",
    name="certificate-expires-soon",
    severity=Severity.MEDIUM,
    category=Category.RELIABILITY,
    title=Localized(
        en="The certificate {subject} expires in {days_left} days ({not_after})",
        zh="证书 {subject} 将在 {days_left} 天后({not_after})过期",
    ),
    why=Localized(
        en="With fewer than 30 days left (less for a certificate that lives under 90 days), "
        "renewal should already have happened: automated renewal runs with about a third of "
        "the lifetime left, so a certificate this close to its end usually means renewal is "
        "failing or was never set up. When it runs out, every client refuses the site.",
        zh="剩余不足 30 天(有效期短于 90 天的证书阈值相应缩短)时,本应已经完成续期:"
        "自动续期通常在有效期还剩约三分之一时进行,证书拖到这个时候还没换,"
        "多半是续期失败了或者根本没有配置。一旦过期,所有客户端都会拒绝访问。",
    ),
    requires=(ProbeId.CERTIFICATE,),
    check=expires_soon,
    advice=Advice(
        summary=Localized(
            en="Renew within the next days (warning threshold: {warning_days} days), install "
            "the new certificate and reload; then find out why automated renewal did not.",
            zh="请在近几天内续期(告警阈值:{warning_days} 天),部署新证书并重新加载;"
            "再查清自动续期为什么没有生效。",
        ),
        snippets=_INSTALL_SNIPPETS,
        references=("RFC 8555", "https://letsencrypt.org/docs/integration-guide/"),
    ),
)

EXPIRES_IMMINENTLY = Rule(
    id="CERT003",
    name="certificate-expires-imminently",
    severity=Severity.HIGH,
    category=Category.RELIABILITY,
    title=Localized(
        en="The certificate {subject} expires in {days_left} days ({not_after})",
        zh="证书 {subject} 仅剩 {days_left} 天就要过期({not_after})",
    ),
    why=Localized(
        en="Fewer than 7 days remain (less for a certificate that lives under 42 days): an "
        "outage is days away. When the certificate expires every browser shows an error page "
        "and every API client fails.",
        zh="剩余不足 7 天(有效期短于 42 天的证书阈值相应缩短),距离全面故障只有几天了。"
        "证书一过期,所有浏览器都会显示错误页,所有 API 客户端都会连接失败。",
    ),
    requires=(ProbeId.CERTIFICATE,),
    check=expires_imminently,
    advice=Advice(
        summary=Localized(
            en="Renew today (alarm threshold: {urgent_days} days), install the new certificate "
            "and reload; then repair automated renewal and its monitoring.",
            zh="今天就续期(紧急阈值:{urgent_days} 天),"
            "部署新证书并重新加载;然后修好自动续期和相应的监控。",
        ),
        snippets=_INSTALL_SNIPPETS,
        references=("RFC 8555", "https://letsencrypt.org/docs/integration-guide/"),
    ),
)

NAME_MISMATCH = Rule(
    id="CERT004",
    name="certificate-name-mismatch",
    severity=Severity.CRITICAL,
    category=Category.RELIABILITY,
    title=Localized(
        en="The certificate does not cover {name_checked} (it names: {subject_alt_names})",
        zh="证书不包含 {name_checked}(证书中的名称:{subject_alt_names})",
    ),
    why=Localized(
        en="Clients accept a certificate only for the names in its subjectAltName; the "
        "subject's common name is ignored. Any other name gets a hard error. Often the server "
        "answers with its default site's certificate because no server block matches the "
        "name the client sent (SNI).",
        zh="客户端只认证书 subjectAltName 中列出的名称,subject 里的 CN 会被忽略,其他名称一律报错。"
        "常见原因是没有哪个 server 配置块匹配客户端通过 SNI 发来的名称,"
        "于是服务器回了默认站点的证书。",
    ),
    requires=(ProbeId.CERTIFICATE,),
    check=name_mismatch,
    advice=Advice(
        summary=Localized(
            en="Serve a certificate whose subjectAltName lists {name_checked} (or a wildcard "
            "one label above it) from the server block that answers for that name.",
            zh="让负责 {name_checked} 的 server 配置块使用 subjectAltName 中包含该名称"
            "(或上一级通配符)的证书。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "server {\n"
                "    listen 443 ssl;\n"
                "    server_name example.com www.example.com;  # every name clients use\n"
                "    ssl_certificate     /etc/ssl/example.com/fullchain.pem;  # SANs: the same\n"
                "    ssl_certificate_key /etc/ssl/example.com/privkey.pem;\n"
                "}"
            ),
            ServerKind.APACHE: Snippet(
                "<VirtualHost *:443>\n"
                "    ServerName  example.com\n"
                "    ServerAlias www.example.com\n"
                "    SSLEngine on\n"
                "    SSLCertificateFile    /etc/ssl/example.com/fullchain.pem\n"
                "    SSLCertificateKeyFile /etc/ssl/example.com/privkey.pem\n"
                "</VirtualHost>"
            ),
            ServerKind.HAPROXY: Snippet(
                "# HAProxy picks a certificate by SNI from the names inside each PEM; put one\n"
                "# PEM per site in a directory, the fallback one named first:\n"
                "frontend https\n"
                "    bind :443 ssl crt /etc/haproxy/certs/default.pem crt /etc/haproxy/certs/"
            ),
            ServerKind.CADDY: Snippet(
                "# list every name in the site address; Caddy gets a certificate covering them\n"
                "example.com, www.example.com {\n"
                '    respond "ok"\n'
                "}"
            ),
        },
        references=("RFC 6125 §6.4", "RFC 9525", "RFC 6066 §3"),
    ),
)

CHAIN_UNTRUSTED = Rule(
    id="CERT005",
    name="certificate-chain-untrusted",
    severity=Severity.CRITICAL,
    category=Category.RELIABILITY,
    title=Localized(
        en="Clients would not trust the certificate chain (trust store: {trust_store}): {problems}",
        zh="客户端不会信任这条证书链(信任库:{trust_store}):{problems}",
    ),
    why=Localized(
        en="A client accepts a chain only if it leads to a root in its trust store, with every "
        "signature valid and every certificate allowed to do its job. A self-signed "
        "certificate or one from a private CA is refused by every client that has not been "
        "told to trust it. (For a private CA, scan with --ca-file ROOT.pem: the result is "
        "then what your own clients see.)",
        zh="只有当证书链能一路验证到客户端信任库中的某个根证书,且每个签名都有效、每张证书的用途都合规时,"
        "客户端才会接受。自签名证书或私有 CA 签发的证书,在没有专门配置信任的客户端上都会被拒绝。"
        "(如果是私有 CA,请用 --ca-file ROOT.pem 扫描,结果才反映你自己的客户端所见。)",
    ),
    requires=(ProbeId.CERTIFICATE,),
    check=chain_untrusted,
    advice=Advice(
        summary=Localized(
            en="Serve a certificate from a CA your clients trust (a public CA for a public "
            "site; ACME makes it free and automatic), with its intermediates.",
            zh="使用客户端信任的 CA 签发的证书(公开站点请用公共 CA,借助 ACME 可以免费且自动化),"
            "并带上中间证书。",
        ),
        snippets=_INSTALL_SNIPPETS,
        references=("RFC 5280 §6", "RFC 8555", MOZILLA_GUIDELINES),
    ),
)

MISSING_INTERMEDIATE = Rule(
    id="CERT006",
    name="missing-intermediate",
    severity=Severity.HIGH,
    category=Category.RELIABILITY,
    title=Localized(
        en="The server does not send the intermediate certificate {missing_issuer} that "
        "issued its certificate",
        zh="服务器没有发送签发其证书的中间证书 {missing_issuer}",
    ),
    why=Localized(
        en="Clients hold roots, not intermediates. Some browsers paper over a missing one "
        "(Chrome on desktop fetches it from the caIssuers URL, Firefox keeps a list), but "
        "curl, Python, Go, Java, Android apps and most API clients fail with an unknown-issuer "
        "error; the browsers that do fetch it pay extra round trips to another server first.",
        zh="客户端内置的是根证书,不是中间证书。"
        "部分浏览器能替你补上(桌面版 Chrome 会从 caIssuers 地址下载,"
        "Firefox 自带一份中间证书列表),但 curl、Python、Go、Java、Android 应用和大多数 API 客户端"
        "会直接报“未知颁发者”而失败;即便是会下载的浏览器,也要先多花几个往返去连另一台服务器。",
    ),
    requires=(ProbeId.CERTIFICATE,),
    check=missing_intermediate,
    advice=Advice(
        summary=Localized(
            en="Send the full chain: your certificate first, then the intermediate(s) that "
            "issued it (the CA publishes them; the leaf names one at {ca_issuers_urls}).",
            zh="发送完整证书链:先是你的证书,然后是签发它的中间证书(由 CA 提供;证书中给出的下载地址:"
            "{ca_issuers_urls})。",
        ),
        snippets=_CHAIN_SNIPPETS,
        references=("RFC 8446 §4.4.2", "RFC 5246 §7.4.2", "RFC 5280 §4.2.2.1"),
    ),
)

ROOT_IN_CHAIN = Rule(
    id="CERT007",
    name="root-in-chain",
    severity=Severity.LOW,
    category=Category.LATENCY,
    title=Localized(
        en="The server sends the root certificate {root_subject}: {saved_bytes} bytes of "
        "every handshake for nothing",
        zh="服务器发送了根证书 {root_subject}:每次握手白白多发 {saved_bytes} 字节",
    ),
    why=Localized(
        en="A client trusts a root because it already holds its own copy; a root that arrives "
        "in the handshake is never trusted for having been sent. It only adds bytes to the "
        "server's first flight, which can push it past the initial congestion window and "
        "cost a round trip.",
        zh="客户端之所以信任某个根证书,是因为本地已有一份;握手中发来的根证书不会因此被信任。"
        "它只会让服务器的首轮数据变大,甚至超出 TCP 初始拥塞窗口,多花一个往返。",
    ),
    requires=(ProbeId.CERTIFICATE, ProbeId.CERTIFICATE_DELIVERY),
    check=root_in_chain,
    advice=Advice(
        summary=Localized(
            en="Remove the root from the chain file: send the leaf and its intermediates only. "
            "That saves {saved_bytes} bytes on every new connection.",
            zh="把根证书从证书链文件中删掉,只发送服务器证书和中间证书,"
            "每个新连接可省 {saved_bytes} 字节。",
        ),
        snippets=_CHAIN_SNIPPETS,
        references=("RFC 8446 §4.4.2", "RFC 5246 §7.4.2"),
    ),
)

CHAIN_MISASSEMBLED = Rule(
    id="CERT008",
    name="chain-misassembled",
    severity=Severity.LOW,
    category=Category.RELIABILITY,
    title=Localized(
        en="The chain repeats certificates ({duplicate_positions}) and is out of order: "
        "{order_problems}",
        zh="证书链既有重复证书(位置 {duplicate_positions}),顺序也不对:{order_problems}",
    ),
    why=Localized(
        en="Each certificate should be followed by the one that issued it, each sent once. "
        "Modern browsers sort a jumbled chain out, but stricter TLS stacks (older Java, "
        "embedded clients) follow the order given and fail; repeated certificates are bytes "
        "in the first flight that no client needs.",
        zh="证书链里每张证书后面应紧跟签发它的证书,且每张只发一次。现代浏览器能理顺乱序的证书链,"
        "但较严格的 TLS 实现(旧版 Java、嵌入式客户端)按发送顺序验证,会直接失败;"
        "重复的证书则是首轮数据里谁都用不上的字节。",
    ),
    requires=(ProbeId.CERTIFICATE, ProbeId.CERTIFICATE_DELIVERY),
    check=chain_misassembled,
    advice=Advice(
        summary=Localized(
            en="Rebuild the chain file: the leaf, then the intermediate that signed it, then "
            "that one's issuer if it is an intermediate too; each once, no root.",
            zh="重新拼装证书链文件:先放服务器证书,再放签发它的中间证书,如果上一级仍是中间证书就接着放;"
            "每张只放一次,不放根证书。",
        ),
        snippets=_CHAIN_SNIPPETS,
        references=("RFC 8446 §4.4.2", "RFC 5246 §7.4.2"),
    ),
)

FIRST_FLIGHT_OVER_WINDOW = Rule(
    id="CERT009",
    name="first-flight-exceeds-initial-window",
    severity=Severity.MEDIUM,
    category=Category.LATENCY,
    title=Localized(
        en="The server's first flight is {server_first_flight_bytes} bytes, over the "
        "{initial_window_bytes}-byte initial congestion window",
        zh="服务器首轮发送 {server_first_flight_bytes} 字节,超过了 {initial_window_bytes} 字节的 "
        "TCP 初始拥塞窗口",
    ),
    why=Localized(
        en="A new TCP connection may send about 10 segments (14600 bytes) before it must wait "
        "for the client's acknowledgement (RFC 6928). A first flight (ServerHello, "
        "certificates, signature) larger than that arrives in two parts, a full round trip "
        "apart, on every new connection. The certificate chain is almost always what makes it "
        "big. (The window assumed is Linux's default; a server with a larger initcwnd may not "
        "pay the round trip.)",
        zh="新建的 TCP 连接在收到客户端确认之前,大约只能发送 10 个报文段(14600 字节,RFC 6928)。"
        "服务器首轮数据(ServerHello、证书、签名)一旦超过这个大小,就要分两次送达,中间隔一个完整往返,"
        "而且每个新连接都如此。把首轮撑大的几乎总是证书链。(这里按 Linux 默认窗口估算;"
        "若服务器调大了 initcwnd,可能不会多付这个往返。)",
    ),
    requires=(ProbeId.CERTIFICATE_DELIVERY,),
    check=first_flight_over_window,
    advice=Advice(
        summary=Localized(
            en="Cut {excess_bytes} bytes from what the server sends before it waits: drop the "
            "root and any extra or repeated certificates from the chain file, and prefer an "
            "ECDSA certificate under an ECDSA intermediate (far smaller keys and signatures "
            "than RSA). Fitting the window saves {saved_round_trips} round trip, about "
            "{saved_ms} ms per new connection at your measured RTT.",
            zh="把服务器首轮数据削减 {excess_bytes} 字节:"
            "从证书链文件中删掉根证书以及多余或重复的证书,"
            "并优先使用由 ECDSA 中间证书签发的 ECDSA 证书(密钥和签名都比 RSA 小得多)。"
            "首轮能装进初始窗口,每个新连接可节省 {saved_round_trips} 个往返,"
            "按实测 RTT 约 {saved_ms} 毫秒。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "# the chain file: leaf + needed intermediates only, ECDSA where possible\n"
                "ssl_certificate     /etc/ssl/example.com/ecdsa-fullchain.pem;\n"
                "ssl_certificate_key /etc/ssl/example.com/ecdsa-privkey.pem;"
            ),
            ServerKind.APACHE: Snippet(
                "# the chain file: leaf + needed intermediates only, ECDSA where possible\n"
                "SSLCertificateFile    /etc/ssl/example.com/ecdsa-fullchain.pem\n"
                "SSLCertificateKeyFile /etc/ssl/example.com/ecdsa-privkey.pem"
            ),
            ServerKind.HAPROXY: Snippet(
                "# the PEM: leaf + needed intermediates only (ECDSA where possible), then the key\n"
                "frontend https\n"
                "    bind :443 ssl crt /etc/haproxy/certs/example.com.pem"
            ),
            ServerKind.CADDY: Snippet(
                "# Caddy's managed certificates are ECDSA P-256 with their CA's chain; if a tls\n"
                "# line loads your own files, trim the chain in them, or let Caddy manage it:\n"
                "{\n"
                "    key_type p256\n"
                "}"
            ),
        },
        references=("RFC 6928", "RFC 8446 §4.4.2", "RFC 8879"),
    ),
)

RSA_ONLY = Rule(
    id="CERT010",
    name="rsa-certificate-only",
    severity=Severity.LOW,
    category=Category.LATENCY,
    title=Localized(
        en="The server has only an RSA certificate ({leaf_key}); an ECDSA P-256 one would "
        "save {saved_bytes} bytes per handshake and most of the server's signing work",
        zh="服务器只有 RSA 证书({leaf_key});换成 ECDSA P-256 证书,每次握手可省 {saved_bytes} 字节,"
        "服务器的签名开销也会大幅下降",
    ),
    why=Localized(
        en="Every full handshake makes the server sign once with its certificate key. An RSA "
        "signature costs the server several times the CPU of an ECDSA P-256 one, and the RSA "
        "key and signature take hundreds of bytes more on the wire. Every current browser and TLS "
        "library takes ECDSA; keeping an RSA certificate beside it, for the rare old client "
        "that does not, costs nothing: the server picks per handshake.",
        zh="每次完整握手,服务器都要用证书私钥签名一次。RSA 签名的 CPU 开销是 ECDSA P-256 的数倍,"
        "RSA 公钥和签名在线路上也要多占几百字节。当今所有浏览器和 TLS 库都支持 ECDSA;"
        "再保留一张 RSA 证书给极少数不支持的客户端也没有代价,服务器会在每次握手时自动挑选。",
    ),
    requires=(ProbeId.CERTIFICATE, ProbeId.CERTIFICATE_DELIVERY),
    check=rsa_only,
    advice=Advice(
        summary=Localized(
            en="Add an ECDSA P-256 certificate next to the RSA one: clients that take ECDSA "
            "(nearly all) get it, the rest keep getting RSA. That saves {saved_bytes} bytes "
            "per handshake and most of the server's signing CPU.",
            zh="在 RSA 证书之外再配一张 ECDSA P-256 证书:支持 ECDSA 的客户端(几乎全部)会用它,"
            "其余客户端仍用 RSA。每次握手可省 {saved_bytes} 字节,服务器签名的 CPU 开销也大多省掉。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "# nginx >= 1.11.0 loads both and picks per handshake\n"
                "ssl_certificate     /etc/ssl/example.com/ecdsa-fullchain.pem;\n"
                "ssl_certificate_key /etc/ssl/example.com/ecdsa-privkey.pem;\n"
                "ssl_certificate     /etc/ssl/example.com/rsa-fullchain.pem;\n"
                "ssl_certificate_key /etc/ssl/example.com/rsa-privkey.pem;\n"
                "# certbot: certonly --key-type ecdsa --cert-name example.com-ecdsa -d example.com"
            ),
            ServerKind.APACHE: Snippet(
                "# one pair per key type in the same VirtualHost; mod_ssl picks per handshake\n"
                "SSLCertificateFile    /etc/ssl/example.com/ecdsa-fullchain.pem\n"
                "SSLCertificateKeyFile /etc/ssl/example.com/ecdsa-privkey.pem\n"
                "SSLCertificateFile    /etc/ssl/example.com/rsa-fullchain.pem\n"
                "SSLCertificateKeyFile /etc/ssl/example.com/rsa-privkey.pem"
            ),
            ServerKind.HAPROXY: Snippet(
                "# a bundle: two PEMs (chain + key) named <crt>.ecdsa and <crt>.rsa, loaded by\n"
                "# naming <crt> without its suffix; HAProxy serves ECDSA when the client takes it\n"
                "#   /etc/haproxy/certs/example.com.pem.ecdsa\n"
                "#   /etc/haproxy/certs/example.com.pem.rsa\n"
                "frontend https\n"
                "    bind :443 ssl crt /etc/haproxy/certs/example.com.pem"
            ),
            ServerKind.CADDY: Snippet(
                "# Caddy's managed certificates are ECDSA P-256 unless told otherwise: drop any\n"
                "# key_type rsa2048/rsa4096, or set it back\n"
                "{\n"
                "    key_type p256\n"
                "}"
            ),
        },
        references=(
            "RFC 8446 §4.4.2.2",
            "https://nginx.org/en/docs/http/ngx_http_ssl_module.html#ssl_certificate",
            "https://httpd.apache.org/docs/2.4/mod/mod_ssl.html#sslcertificatefile",
            "https://docs.haproxy.org/2.8/configuration.html#5.1-crt",
            MOZILLA_GUIDELINES,
        ),
    ),
)

RSA_KEY_OVERSIZED = Rule(
    id="CERT011",
    name="rsa-key-oversized",
    severity=Severity.LOW,
    category=Category.LATENCY,
    title=Localized(
        en="The RSA certificate key is {key_bits} bits ({rsa_key}): {saved_bytes} bytes more "
        "per handshake than RSA-2048, and far slower signatures",
        zh="RSA 证书密钥为 {key_bits} 位({rsa_key}):每次握手比 RSA-2048 多 {saved_bytes} 字节,"
        "签名也慢得多",
    ),
    why=Localized(
        en="RSA signing time grows roughly with the cube of the key size: an RSA-4096 "
        "signature costs the server several times an RSA-2048 one on every full handshake. "
        "RSA-2048 is what CAs and browsers require, and NIST rates it acceptable through 2030; "
        "the way on from there is ECDSA (later post-quantum signatures), not a longer RSA "
        "key. A larger key adds bytes and CPU, not a security level any client checks.",
        zh="RSA 签名耗时大致随密钥长度的三次方增长:每次完整握手,"
        "RSA-4096 签名的服务器开销是 RSA-2048 的"
        "好几倍。RSA-2048 正是 CA 和浏览器要求的强度,NIST 认为它到 2030 年都可接受;"
        "再往后的出路是 ECDSA(以及日后的后量子签名),而不是更长的 RSA 密钥。"
        "更长的密钥只增加字节和 CPU,并不带来任何客户端会检查的安全等级。",
    ),
    requires=(ProbeId.CERTIFICATE, ProbeId.CERTIFICATE_DELIVERY),
    check=rsa_key_oversized,
    advice=Advice(
        summary=Localized(
            en="Reissue with an RSA-2048 key, or better an ECDSA P-256 one (keep RSA-2048 "
            "beside it for old clients): {saved_bytes} bytes less per handshake.",
            zh="用 RSA-2048 密钥重新签发证书,更好的做法是改用 ECDSA P-256(同时保留一张 RSA-2048 "
            "证书照顾老客户端):每次握手少 {saved_bytes} 字节。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "# new key and certificate, e.g. certbot --key-type rsa --rsa-key-size 2048\n"
                "# (or openssl req -new -newkey rsa:2048 -nodes -keyout privkey.pem -out req.csr)\n"
                "ssl_certificate     /etc/ssl/example.com/fullchain.pem;\n"
                "ssl_certificate_key /etc/ssl/example.com/privkey.pem;"
            ),
            ServerKind.APACHE: Snippet(
                "# new key and certificate, e.g. certbot --key-type rsa --rsa-key-size 2048\n"
                "SSLCertificateFile    /etc/ssl/example.com/fullchain.pem\n"
                "SSLCertificateKeyFile /etc/ssl/example.com/privkey.pem"
            ),
            ServerKind.HAPROXY: Snippet(
                "# new key and certificate (openssl req -new -newkey rsa:2048 ...), one PEM\n"
                "frontend https\n"
                "    bind :443 ssl crt /etc/haproxy/certs/example.com.pem"
            ),
            ServerKind.CADDY: Snippet("{\n    key_type p256  # or rsa2048; never rsa4096\n}"),
        },
        references=("NIST SP 800-57 Part 1 Rev. 5 §5.6", BASELINE_REQUIREMENTS),
    ),
)

WEAK_KEY = Rule(
    id="CERT012",
    name="weak-certificate-key",
    severity=Severity.HIGH,
    category=Category.SECURITY,
    title=Localized(
        en="Weak certificate keys: {weak_keys}",
        zh="证书密钥强度不足:{weak_keys}",
    ),
    why=Localized(
        en="RSA keys under 2048 bits and elliptic curves under 256 bits are within reach of "
        "well-funded attackers; CAs may not issue them (Baseline Requirements §6.1.5), "
        "browsers refuse them, and so does OpenSSL at security level 2, the default of many "
        "Linux distributions.",
        zh="低于 2048 位的 RSA 密钥和低于 256 位的椭圆曲线密钥,对资源充足的攻击者来说已可破解;"
        "CA 不得签发(Baseline Requirements §6.1.5),浏览器会拒绝,"
        "许多 Linux 发行版默认采用的 OpenSSL 安全级别 2 也会拒绝。",
    ),
    requires=(ProbeId.CERTIFICATE, ProbeId.CERTIFICATE_DELIVERY),
    check=weak_key,
    advice=Advice(
        summary=Localized(
            en="Generate a new ECDSA P-256 (or RSA-2048) key, have the certificate reissued "
            "for it, install it and reload; a weak intermediate means asking the CA for its "
            "current chain.",
            zh="生成新的 ECDSA P-256(或 RSA-2048)密钥,用它重新签发证书、部署并重新加载;"
            "若是中间证书强度不足,请向 CA 索取其当前的证书链。",
        ),
        snippets=_INSTALL_SNIPPETS,
        references=(BASELINE_REQUIREMENTS, "NIST SP 800-131A Rev. 2"),
    ),
)

SHA1_SIGNATURE = Rule(
    id="CERT013",
    name="sha1-signature",
    severity=Severity.HIGH,
    category=Category.SECURITY,
    title=Localized(
        en="Certificates signed with SHA-1 at positions {sha1_positions}: {sha1_subjects}",
        zh="位置 {sha1_positions} 的证书使用 SHA-1 签名:{sha1_subjects}",
    ),
    why=Localized(
        en="SHA-1 collisions are practical (SHAttered, 2017; chosen-prefix in 2020), so a "
        "SHA-1 signature no longer proves who issued a certificate. Browsers refuse SHA-1 "
        "signed certificates below the root, and OpenSSL 3 does at its default security "
        "level.",
        zh="SHA-1 碰撞已可实际构造(2017 年的 SHAttered,2020 年的选择前缀碰撞),SHA-1 签名"
        "已无法证明证书由谁签发。浏览器拒绝根证书以下任何使用 SHA-1 签名的证书,"
        "OpenSSL 3 在默认安全级别下也会拒绝。",
    ),
    requires=(ProbeId.CERTIFICATE, ProbeId.CERTIFICATE_DELIVERY),
    check=sha1_signature,
    advice=Advice(
        summary=Localized(
            en="Have the certificate reissued with a SHA-256 signature (any CA does so by "
            "default today); for a SHA-1 intermediate, install the CA's current chain.",
            zh="请 CA 用 SHA-256 签名重新签发证书(如今所有 CA 默认如此);若是中间证书用了 SHA-1,"
            "请换上 CA 当前提供的证书链。",
        ),
        snippets=_INSTALL_SNIPPETS,
        references=(
            BASELINE_REQUIREMENTS,
            "https://shattered.io/",
            "https://security.googleblog.com/2014/09/gradually-sunsetting-sha-1.html",
        ),
    ),
)

LIFETIME_OVER_MAXIMUM = Rule(
    id="CERT014",
    name="certificate-lifetime-over-maximum",
    severity=Severity.MEDIUM,
    category=Category.RELIABILITY,
    title=Localized(
        en="The certificate is valid for {lifetime_days} days, over the {max_lifetime_days}-day "
        "maximum for certificates issued on {not_before}",
        zh="证书有效期为 {lifetime_days} 天,超过了 {not_before} 签发的证书所允许的 "
        "{max_lifetime_days} 天上限",
    ),
    why=Localized(
        en="The CA/Browser Forum caps how long a publicly trusted certificate may live, and "
        "the cap keeps shrinking (398 days from September 2020; 200 days from March 2026, 100 "
        "from March 2027, 47 from March 2029). CAs may not issue past the cap of the day, and "
        "Safari and Chrome refuse a public certificate issued since September 2020 that lives "
        "longer than 398 days. Certificates from a private CA are not held to it, but long "
        "lifetimes there still mean rare, manual, error-prone renewals.",
        zh="CA/浏览器论坛规定了公共信任证书的最长有效期,而且上限在不断缩短(2020 年 9 月起 398 天;"
        "2026 年 3 月起 200 天,2027 年 3 月起 100 天,2029 年 3 月起 47 天)。"
        "CA 不得签发超出当时上限的证书;对 2020 年 9 月以来签发、有效期超过 398 天的公共证书,"
        "Safari 和 Chrome 会直接拒绝。私有 CA 的证书不受此限,"
        "但有效期过长同样意味着续期稀少、靠手工、容易出错。",
    ),
    requires=(ProbeId.CERTIFICATE, ProbeId.CERTIFICATE_DELIVERY),
    check=lifetime_over_maximum,
    advice=Advice(
        summary=Localized(
            en="Reissue the certificate for at most {max_lifetime_days} days, and automate "
            "renewal (ACME) so the shrinking limits never need a manual step.",
            zh="把证书重新签发为不超过 {max_lifetime_days} 天的有效期,并用 ACME 自动续期,"
            "这样上限再缩短也无需人工介入。",
        ),
        snippets=_INSTALL_SNIPPETS,
        references=(
            BASELINE_REQUIREMENTS,
            "https://cabforum.org/2025/04/11/ballot-sc081v3-introduce-schedule-of-reducing-"
            "validity-and-data-reuse-periods/",
            "https://support.apple.com/en-us/102028",
        ),
    ),
)

_STAPLING_NGINX = Snippet(
    "ssl_stapling        on;\n"
    "ssl_stapling_verify on;\n"
    "# the issuer's chain, to check the responses nginx fetches\n"
    "ssl_trusted_certificate /etc/ssl/example.com/chain.pem;\n"
    "# nginx resolves the responder's name itself\n"
    "resolver 127.0.0.53 valid=300s;\n"
    "# nginx fetches on demand: the first handshake after a (re)start goes without"
)
_STAPLING_APACHE = Snippet(
    "# outside any <VirtualHost>:\n"
    "SSLStaplingCache shmcb:/var/run/apache2/ocsp_stapling(128000)\n"
    "# in the TLS <VirtualHost>:\n"
    "SSLUseStapling on"
)
_STAPLING_HAPROXY = Snippet(
    "# bind :443 ssl crt-list /etc/haproxy/crt-list.txt, with this line in the list;\n"
    "# HAProxy fetches the response and keeps it fresh\n"
    "/etc/haproxy/certs/example.com.pem [ocsp-update on]",
    min_version=(2, 8),
    before_text=(
        "# before 2.8: put the DER response next to the PEM as example.com.pem.ocsp (read at\n"
        "# start) and refresh it before it expires, e.g. from cron:\n"
        '#   openssl ocsp -issuer chain.pem -cert cert.pem -url "$URL" \\\n'
        "#       -respout example.com.pem.ocsp\n"
        '#   echo "set ssl ocsp-response $(base64 -w0 example.com.pem.ocsp)" | \\\n'
        "#       socat stdio /run/haproxy/admin.sock\n"
        "frontend https\n"
        "    bind :443 ssl crt /etc/haproxy/certs/example.com.pem"
    ),
)
_STAPLING_CADDY = Snippet(
    '# Caddy staples by default: remove "ocsp_stapling off" from the global options\n'
    "{\n"
    "    # ocsp_stapling off\n"
    "}"
)

OCSP_NOT_STAPLED = Rule(
    id="OCSP001",
    name="ocsp-not-stapled",
    severity=Severity.LOW,
    category=Category.LATENCY,
    title=Localized(
        en="The server staples no OCSP response, though its certificate names a responder "
        "({ocsp_urls})",
        zh="服务器没有装订 OCSP 响应,而证书中指定了 OCSP 服务地址({ocsp_urls})",
    ),
    why=Localized(
        en="Without a staple, a client that checks revocation online must ask the CA's "
        "responder before it trusts the certificate: a DNS lookup, a connection and an HTTP "
        "request to another server on the first visit, and the CA learns which site is being "
        "visited. Most clients give up quietly when the responder is slow, so this costs time "
        "more than safety. A certificate without an OCSP URL is not judged: CAs may publish "
        "revocation by CRL only since 2023 (CA/B Forum ballot SC-063), and Let's Encrypt ended "
        "its OCSP service in 2025.",
        zh="没有装订响应时,在线检查吊销状态的客户端必须先去问 CA 的 OCSP 服务器,才能信任证书:"
        "首次访问要多一次 DNS 查询、一条连接和一个 HTTP 请求,而且 CA 会因此得知用户在访问哪个站点。"
        "多数客户端在 OCSP 服务器响应慢时会默默放弃检查,所以这里主要损失的是时间而非安全。"
        "证书中没有 OCSP 地址时本规则不适用:自 2023 年起 CA 可以只通过 CRL 发布吊销信息"
        "(CA/B 论坛 SC-063 号投票),Let's Encrypt 也已在 2025 年停止了 OCSP 服务。",
    ),
    requires=(ProbeId.OCSP,),
    check=ocsp_not_stapled,
    advice=Advice(
        summary=Localized(
            en="Turn on OCSP stapling: the server fetches the CA's signed answer from "
            "{ocsp_urls} itself and sends it in the handshake, so no visitor has to ask.",
            zh="开启 OCSP 装订:"
            "由服务器自己从 {ocsp_urls} 获取 CA 签名的响应并随握手发送,访客就无需再去查询。",
        ),
        snippets={
            ServerKind.NGINX: _STAPLING_NGINX,
            ServerKind.APACHE: _STAPLING_APACHE,
            ServerKind.HAPROXY: _STAPLING_HAPROXY,
            ServerKind.CADDY: _STAPLING_CADDY,
        },
        references=(
            "RFC 6066 §8",
            "RFC 8446 §4.4.2.1",
            "RFC 6960",
            "https://cabforum.org/2023/07/14/ballot-sc063v4-make-ocsp-optional-require-crls-"
            "and-incentivize-automation/",
            "https://letsencrypt.org/2024/07/23/replacing-ocsp-with-crls.html",
        ),
    ),
)

STAPLE_INVALID = Rule(
    id="OCSP002",
    name="ocsp-staple-invalid",
    severity=Severity.HIGH,
    category=Category.RELIABILITY,
    title=Localized(
        en="The stapled OCSP response would be rejected: {problems}",
        zh="服务器装订的 OCSP 响应会被客户端拒绝:{problems}",
    ),
    why=Localized(
        en="A staple is only worth something if the client can verify it: signed by the "
        "certificate's issuer (or its delegated responder), about this very certificate, and "
        "inside its thisUpdate-nextUpdate window. Some clients (Firefox among them) show an "
        "error page for a stale or bad staple instead of ignoring it, and for a must-staple "
        "certificate every enforcing client does. Stale staples usually come from a response "
        "file nobody refreshes.",
        zh="装订的响应只有能被客户端验证时才有意义:要由证书的签发者(或其授权的 OCSP 签名者)签名、"
        "针对的正是这张证书、并处于 thisUpdate 到 nextUpdate 的有效期内。部分客户端(包括 Firefox)"
        "遇到过期或无效的装订响应会直接显示错误页而不是忽略它;对必须装订的证书,所有执行该要求的客户端都会如此。"
        "过期的装订响应通常来自一个没人更新的响应文件。",
    ),
    requires=(ProbeId.OCSP,),
    check=staple_invalid,
    advice=Advice(
        summary=Localized(
            en="Staple only fresh, valid responses: let the server fetch and verify them "
            "itself, or refresh the response file well before its nextUpdate ({next_update}).",
            zh="只装订新鲜且有效的响应:让服务器自己获取并校验,或者在 nextUpdate({next_update})"
            "之前及早更新响应文件。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "# let nginx fetch and check its staples rather than serve a file that goes stale\n"
                "ssl_stapling        on;\n"
                "ssl_stapling_verify on;\n"
                "ssl_trusted_certificate /etc/ssl/example.com/chain.pem;\n"
                "resolver 127.0.0.53 valid=300s;\n"
                "# with ssl_stapling_file instead: refresh the file and reload before nextUpdate"
            ),
            ServerKind.APACHE: Snippet(
                "SSLUseStapling on\n"
                '# do not pass responder errors or made-up "try later" answers to clients\n'
                "SSLStaplingReturnResponderErrors off\n"
                "SSLStaplingFakeTryLater off"
            ),
            ServerKind.HAPROXY: _STAPLING_HAPROXY,
            ServerKind.CADDY: Snippet(
                "Caddy fetches, verifies and refreshes its staples itself and does not staple a "
                "response it cannot use; there is nothing to set. Its log says why a fetch failed.",
                not_configurable=True,
            ),
        },
        references=("RFC 6960 §3.2", "RFC 6960 §4.2.2.2", "RFC 6066 §8"),
    ),
)

MUST_STAPLE_UNSTAPLED = Rule(
    id="OCSP003",
    name="must-staple-without-staple",
    severity=Severity.CRITICAL,
    category=Category.RELIABILITY,
    title=Localized(
        en="The certificate demands OCSP stapling (must-staple), and the server sends no staple",
        zh="证书要求必须装订 OCSP(must-staple),但服务器没有发送装订响应",
    ),
    why=Localized(
        en="A must-staple certificate (TLS Feature extension, RFC 7633) tells clients to "
        "refuse any handshake that comes without a valid staple. Firefox enforces it: every "
        "such handshake ends in an error page. A server that fetches its staple lazily fails "
        "the first visitors after each restart the same way.",
        zh="带有必须装订标记(TLS Feature 扩展,"
        "RFC 7633)的证书要求客户端拒绝任何不带有效装订响应的握手。"
        "Firefox 会执行这一要求,这样的握手一律以错误页告终。按需延迟获取装订响应的服务器,"
        "每次重启后的头几位访客也会这样失败。",
    ),
    requires=(ProbeId.OCSP,),
    check=must_staple_unstapled,
    advice=Advice(
        summary=Localized(
            en="Staple on every handshake, including the first after a restart, or replace the "
            "certificate with one without must-staple (most CAs no longer issue it).",
            zh="确保每次握手(包括重启后的第一次)都带上装订响应,或者换一张不带必须装订标记的证书"
            "(多数 CA 已不再签发这种证书)。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "# nginx's own fetch misses the first handshakes after a start: staple from a\n"
                "# file refreshed by cron (openssl ocsp ... -respout ocsp.der; nginx -s reload)\n"
                "ssl_stapling      on;\n"
                "ssl_stapling_file /etc/ssl/example.com/ocsp.der;"
            ),
            ServerKind.APACHE: Snippet(
                "# outside any <VirtualHost>:\n"
                "SSLStaplingCache shmcb:/var/run/apache2/ocsp_stapling(128000)\n"
                "# in the TLS <VirtualHost> (mod_ssl fetches before answering the handshake):\n"
                "SSLUseStapling on\n"
                "SSLStaplingReturnResponderErrors off"
            ),
            ServerKind.HAPROXY: _STAPLING_HAPROXY,
            ServerKind.CADDY: Snippet(
                "Caddy gets a staple when it loads a certificate, before serving it, and keeps it "
                "fresh; there is nothing to set. If Caddy serves this certificate unstapled, its "
                "log says why its OCSP responder could not be reached.",
                not_configurable=True,
            ),
        },
        references=("RFC 7633", "RFC 6066 §8", "https://letsencrypt.org/2024/12/05/ending-ocsp/"),
    ),
)

CERTIFICATE_REVOKED = Rule(
    id="OCSP004",
    name="certificate-revoked",
    severity=Severity.CRITICAL,
    category=Category.SECURITY,
    title=Localized(
        en="The server's own OCSP staple says its certificate is revoked (since "
        "{revocation_time}, reason: {revocation_reason})",
        zh="服务器自己装订的 OCSP 响应表明其证书已被吊销(吊销时间 {revocation_time},"
        "原因:{revocation_reason})",
    ),
    why=Localized(
        en="The CA has withdrawn the certificate, often because its key leaked or it was "
        "issued in error. Every client that reads the staple refuses the connection, and "
        "the key behind it must be treated as compromised.",
        zh="CA 已撤销这张证书,常见原因是私钥泄露或误签发。读取装订响应的客户端都会拒绝连接,"
        "而这张证书对应的私钥也必须视为已泄露。",
    ),
    requires=(ProbeId.OCSP,),
    check=certificate_revoked,
    advice=Advice(
        summary=Localized(
            en="Replace the certificate now with one issued for a new key, install it and "
            "reload; the CA revoked this one on {revocation_time} ({revocation_reason}).",
            zh="立即为新生成的私钥签发新证书,部署并重新加载;"
            "CA 已于 {revocation_time} 吊销了当前证书"
            "(原因:{revocation_reason})。",
        ),
        snippets=_INSTALL_SNIPPETS,
        references=("RFC 6960 §2.2", "RFC 5280 §5.3.1", BASELINE_REQUIREMENTS),
    ),
)

RULES: tuple[Rule, ...] = (
    CERTIFICATE_EXPIRED,
    EXPIRES_SOON,
    EXPIRES_IMMINENTLY,
    NAME_MISMATCH,
    CHAIN_UNTRUSTED,
    MISSING_INTERMEDIATE,
    ROOT_IN_CHAIN,
    CHAIN_MISASSEMBLED,
    FIRST_FLIGHT_OVER_WINDOW,
    RSA_ONLY,
    RSA_KEY_OVERSIZED,
    WEAK_KEY,
    SHA1_SIGNATURE,
    LIFETIME_OVER_MAXIMUM,
    OCSP_NOT_STAPLED,
    STAPLE_INVALID,
    MUST_STAPLE_UNSTAPLED,
    CERTIFICATE_REVOKED,
)
