"""Key-exchange groups: which the server accepts in TLS 1.3 and 1.2, the order it prefers them
in, its TLS 1.2 DHE prime, and whether a browser-like hello costs a HelloRetryRequest.

TLS 1.3 support is read from hellos with an empty key_share: the server names a group it
accepts in a HelloRetryRequest, or refuses (RFC 8446 §4.1.4, §4.2.8); removing each pick and
asking again yields every supported group and the server's order at once. TLS 1.2
has no such shortcut: the ECDHE curve is read from ServerKeyExchange (RFC 8422 §5.4) and the
FFDHE group from the DH prime it carries (RFC 7919 §4).

Preference is measured, not assumed. OpenSSL 3.5 and later rank groups in *tiers* and follow the
client's order inside a tier (X25519MLKEM768 and SecP256r1MLKEM768 share the top tier of
OpenSSL 4.0's defaults), so "the same pick in both orders" cannot tell the whole story: the order
is found by elimination, then each neighbouring pair is offered the other way round.
"""

from __future__ import annotations

import concurrent.futures
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec

from httpsaudit.errors import DecodeError
from httpsaudit.net.raw_hello import AnswerKind, HelloAnswer, ReadUntil
from httpsaudit.probes.base import HelloPool, ProbeContext
from httpsaudit.probes.hellos import ALL_GROUPS, TLS12_CURVES, hello_for_version, key_share
from httpsaudit.results import GroupsResult, GroupSupport, ProbeId, Support, VersionsResult
from httpsaudit.tls.certificates import load_certificate
from httpsaudit.tls.codec import Reader
from httpsaudit.tls.codes import HandshakeType, NamedGroup, ProtocolVersion, name_of
from httpsaudit.tls.hello import ClientHelloSpec
from httpsaudit.tls.messages import parse_certificate_list_tls12, parse_server_key_exchange
from httpsaudit.tls.suites import TLS12_SUITES, describe_suite

FFDHE_GROUPS: tuple[int, ...] = (
    NamedGroup.ffdhe2048,
    NamedGroup.ffdhe3072,
    NamedGroup.ffdhe4096,
    NamedGroup.ffdhe6144,
    NamedGroup.ffdhe8192,
)
# What a TLS 1.2 client that speaks DHE lists. RFC 7919 §4: a server that knows FFDHE picks a
# group from this list, and must not choose DHE at all when it can use none of them.
TLS12_DHE_OFFER_GROUPS: tuple[int, ...] = (*TLS12_CURVES, *FFDHE_GROUPS)
# Chrome's and Firefox's supported_groups; they send a key share for x25519 alone.
BROWSER_HELLO_GROUPS: tuple[int, ...] = (
    NamedGroup.X25519MLKEM768,
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.secp384r1,
)
BROWSER_KEY_SHARE_GROUP = NamedGroup.x25519
# How a server says no to a hello; a timeout is no answer at all.
REFUSALS = frozenset({AnswerKind.ALERT, AnswerKind.CLOSED, AnswerKind.RESET})

# Preference kinds. "tiered": the server ranks groups in tiers and lets the client's order
# decide within a tier (OpenSSL >= 3.5 group tuples).
SERVER = "server"
CLIENT = "client"
TIERED = "tiered"
SINGLE = "single"
UNKNOWN = "unknown"


def suites_with_key_exchange(key_exchange: str) -> tuple[int, ...]:
    """Every TLS 1.2 suite whose key exchange is ``key_exchange`` ("ECDHE", "DHE", "RSA")."""
    return tuple(
        int(suite)
        for suite in TLS12_SUITES
        if (facts := describe_suite(suite)) is not None and facts.key_exchange == key_exchange
    )


# ECDSA- and RSA-authenticated alike, so the kind of certificate never decides the answer.
TLS12_ECDHE_SUITES = suites_with_key_exchange("ECDHE")
TLS12_DHE_SUITES = suites_with_key_exchange("DHE")

# RFC 7919 Appendix A: p = 2^b - 2^(b-64) + {[2^(b-130) e] + X} * 2^64 - 1, with X per group.
_FFDHE_DEFINITIONS: dict[int, tuple[int, int]] = {
    NamedGroup.ffdhe2048: (2048, 560316),
    NamedGroup.ffdhe3072: (3072, 2625351),
    NamedGroup.ffdhe4096: (4096, 5736041),
    NamedGroup.ffdhe6144: (6144, 15705020),
    NamedGroup.ffdhe8192: (8192, 10965728),
}
# Extra bits carried while summing the series for e, so truncation never reaches kept bits.
_E_GUARD_BITS = 64
_CERTIFICATE_CURVES: dict[str, int] = {
    "secp256r1": NamedGroup.secp256r1,
    "secp384r1": NamedGroup.secp384r1,
    "secp521r1": NamedGroup.secp521r1,
}


class GroupsProbe:
    """Each group alone (TLS 1.3 and 1.2), the TLS 1.3 ranking, DHE, and the browser hello.

    Connections with TLS 1.3: n + 1 hellos to find and rank n supported groups, n - 1 pair
    checks for tiers, and one browser hello. With TLS 1.2: 1 to 6 for the ECDHE curves, 1 to 5
    for DHE. The ML-KEM hybrids exist only in TLS 1.3, so their TLS 1.2 verdict is
    ``not_tested``.
    """

    probe_id = ProbeId.GROUPS
    requires: tuple[ProbeId, ...] = (ProbeId.VERSIONS,)

    def run(self, context: ProbeContext) -> GroupsResult:
        versions = context.result_of(ProbeId.VERSIONS, VersionsResult)
        server_name = context.target.sni
        with (
            context.hello_pool() as hellos,
            concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="groups-tls12") as side,
        ):
            # TLS 1.2 is worked out in a thread of its own beside TLS 1.3; both draw their
            # hellos from the pool, whose workers never wait on other hellos.
            tls12_future = None
            if speaks(versions, ProtocolVersion.TLSv1_2):
                tls12_future = side.submit(Tls12Groups.measure, hellos, server_name)
            tls13 = Tls13Groups.untested()
            if speaks(versions, ProtocolVersion.TLSv1_3):
                tls13 = Tls13Groups.measure(hellos, server_name)
            tls12 = Tls12Groups({}, None) if tls12_future is None else tls12_future.result()
        return GroupsResult(
            groups=tuple(
                GroupSupport(
                    group=name_of(NamedGroup, group),
                    code=int(group),
                    tls13=tls13.support[group],
                    tls12=tls12.support.get(group, Support.NOT_TESTED),
                )
                for group in ALL_GROUPS
            ),
            tls13_preference=tuple(name_of(NamedGroup, group) for group in tls13.preference),
            tls13_preference_kind=tls13.preference_kind,
            tls13_preference_tiers=tuple(
                tuple(name_of(NamedGroup, group) for group in tier) for tier in tls13.tiers
            ),
            browser_hello_group=_name_or_none(tls13.browser_group),
            browser_hello_retry=tls13.browser_retry,
            dhe_prime_bits=tls12.dhe_prime_bits,
        )


def speaks(versions: VersionsResult, version: ProtocolVersion) -> bool:
    """Whether the versions probe found ``version`` supported."""
    return any(
        entry.version_code == version and entry.support is Support.SUPPORTED
        for entry in versions.versions
    )


def _name_or_none(group: int | None) -> str | None:
    return None if group is None else name_of(NamedGroup, group)


# -- TLS 1.3 -------------------------------------------------------------------------------


def tls13_groups_hello(server_name: str | None, groups: Sequence[int]) -> ClientHelloSpec:
    """A TLS 1.3 hello listing ``groups`` in this order, with an empty key_share."""
    return hello_for_version(ProtocolVersion.TLSv1_3, server_name=server_name, groups=tuple(groups))


def browser_hello(server_name: str | None) -> ClientHelloSpec:
    """Chrome's and Firefox's choice: four groups listed, one real x25519 key share."""
    return hello_for_version(
        ProtocolVersion.TLSv1_3,
        server_name=server_name,
        groups=BROWSER_HELLO_GROUPS,
        key_shares=(key_share(BROWSER_KEY_SHARE_GROUP),),
    )


def tls13_selected_group(answer: HelloAnswer) -> int | None:
    """The group a TLS 1.3 HelloRetryRequest asks for, or the ServerHello's key share group."""
    hello = answer.hello_retry_request or answer.server_hello
    if hello is None or hello.selected_version != ProtocolVersion.TLSv1_3:
        return None
    return hello.key_share_group


@dataclass(frozen=True, slots=True)
class Tls13Groups:
    """What the TLS 1.3 hellos found; ``preference`` is empty unless the server ranks groups."""

    support: dict[int, Support]
    preference: tuple[int, ...]
    preference_kind: str
    tiers: tuple[tuple[int, ...], ...]
    browser_group: int | None
    browser_retry: bool | None

    @classmethod
    def untested(cls) -> Tls13Groups:
        return cls(dict.fromkeys(ALL_GROUPS, Support.NOT_TESTED), (), UNKNOWN, (), None, None)

    @classmethod
    def measure(cls, hellos: HelloPool, server_name: str | None) -> Tls13Groups:
        browser = hellos.submit(browser_hello(server_name))
        ranking = rank_tls13_groups(hellos, server_name, ALL_GROUPS)
        supported = ranking.order
        support = {
            group: Support.SUPPORTED if group in supported else ranking.verdict_for_the_rest
            for group in ALL_GROUPS
        }
        tiers = ranking.tiers
        kind = preference_kind(tiers, supported)
        preference = () if kind in {CLIENT, UNKNOWN} else tuple(g for tier in tiers for g in tier)
        browser_group, browser_retry = browser_cost(browser.result())
        ranked = () if kind in {CLIENT, UNKNOWN} else tiers
        return cls(support, preference, kind, ranked, browser_group, browser_retry)


@dataclass(frozen=True, slots=True)
class Tls13Ranking:
    """What elimination found: the groups picked, in order, and the server's tiers."""

    order: tuple[int, ...]
    tiers: tuple[tuple[int, ...], ...]
    verdict_for_the_rest: Support  # NOT_SUPPORTED when the server refused them, else UNKNOWN


def rank_tls13_groups(
    hellos: HelloPool, server_name: str | None, candidates: Sequence[int]
) -> Tls13Ranking:
    """Support and preference from one elimination over ``candidates``.

    Offer every remaining group with empty key shares, drop the one the HelloRetryRequest
    names, repeat until the server refuses: the picks are exactly the supported groups, in the
    order the server picks them when the client lists groups as we do (one hello per supported
    group, plus the refusal). Whether two neighbours share a tier is asked by listing the later
    one first: a server that still picks the earlier one ranks it higher. Those pair checks
    run while the elimination goes on. Tiers are empty when the answers do not fit together.
    """
    order: list[int] = []
    pair_checks: list[concurrent.futures.Future[HelloAnswer]] = []
    remaining = list(candidates)
    rest = Support.NOT_SUPPORTED
    while remaining:
        answer = hellos.exchange(tls13_groups_hello(server_name, remaining))
        picked = tls13_selected_group(answer)
        if picked is None:
            # A refusal means none of the rest is usable; silence proves nothing.
            rest = Support.NOT_SUPPORTED if answer.kind in REFUSALS else Support.UNKNOWN
            break
        if picked not in remaining:  # a group we did not offer: a broken server
            rest = Support.UNKNOWN
            break
        if order:
            pair_checks.append(hellos.submit(tls13_groups_hello(server_name, (picked, order[-1]))))
        order.append(picked)
        remaining.remove(picked)
    return Tls13Ranking(tuple(order), _tiers(order, pair_checks), rest)


def _tiers(
    order: Sequence[int], pair_checks: Sequence[concurrent.futures.Future[HelloAnswer]]
) -> tuple[tuple[int, ...], ...]:
    if not order:
        return ()
    tiers: list[list[int]] = [[order[0]]]
    for higher, lower, check in zip(order[:-1], order[1:], pair_checks, strict=True):
        picked = tls13_selected_group(check.result())
        if picked == lower:
            tiers[-1].append(lower)
        elif picked == higher:
            tiers.append([lower])
        else:
            return ()
    return tuple(tuple(tier) for tier in tiers)


def preference_kind(tiers: Sequence[Sequence[int]], supported: Sequence[int]) -> str:
    """``server`` (strict order), ``client``, ``tiered``, ``single`` or ``unknown``."""
    if len(supported) == 1:
        return SINGLE
    if not tiers:
        return UNKNOWN
    if len(tiers) == 1:
        return CLIENT
    if all(len(tier) == 1 for tier in tiers):
        return SERVER
    return TIERED


def browser_cost(answer: HelloAnswer) -> tuple[int | None, bool | None]:
    """The group chosen for the browser hello, and whether it took a HelloRetryRequest."""
    group = tls13_selected_group(answer)
    if group is None:
        return None, None
    return group, answer.hello_retry_request is not None


# -- TLS 1.2 -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Tls12KeyExchange:
    """What a TLS 1.2 first flight says about key exchange."""

    cipher_suite: int
    key_exchange: str  # from the suite's name: "ECDHE", "DHE", "RSA", or "unknown"
    authentication: str
    curve: int | None  # ECDHE: the named curve in ServerKeyExchange
    dh_prime: int | None  # DHE: the prime in ServerKeyExchange
    leaf_der: bytes | None


def read_tls12_key_exchange(answer: HelloAnswer) -> Tls12KeyExchange | None:
    """The suite, ServerKeyExchange parameters and leaf of a TLS 1.2 answer (else None)."""
    hello = answer.server_hello
    if hello is None or hello.selected_version != ProtocolVersion.TLSv1_2:
        return None
    facts = describe_suite(hello.cipher_suite)
    key_exchange = facts.key_exchange if facts is not None else "unknown"
    curve = dh_prime = None
    for message in answer.messages_of_type(HandshakeType.SERVER_KEY_EXCHANGE)[:1]:
        if key_exchange == "ECDHE":
            curve = parse_server_key_exchange(Reader(message.body), ecdhe=True).named_group
        elif key_exchange == "DHE":
            # RFC 5246 §7.4.3: ServerDHParams starts with dh_p<1..2^16-1>.
            prime = Reader(message.body).opaque(2, "dh_p", minimum=1, maximum=2**16 - 1)
            dh_prime = int.from_bytes(prime, "big")
    leaf_der = None
    for message in answer.messages_of_type(HandshakeType.CERTIFICATE)[:1]:
        chain = parse_certificate_list_tls12(Reader(message.body))
        leaf_der = chain[0] if chain else None
    return Tls12KeyExchange(
        cipher_suite=hello.cipher_suite,
        key_exchange=key_exchange,
        authentication=facts.authentication if facts is not None else "unknown",
        curve=curve,
        dh_prime=dh_prime,
        leaf_der=leaf_der,
    )


def leaf_curve(leaf_der: bytes | None) -> int | None:
    """The named curve of an EC leaf key; None for other keys. ValueError if unreadable."""
    if leaf_der is None:
        raise ValueError("the server sent no certificate")
    try:
        key = load_certificate(leaf_der, what="leaf").public_key()
    except (DecodeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"unreadable leaf key: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return None
    if key.curve.name not in _CERTIFICATE_CURVES:
        raise ValueError(f"leaf key on curve {key.curve.name}, which we do not offer")
    return _CERTIFICATE_CURVES[key.curve.name]


@functools.cache
def ffdhe_prime(group: int) -> int:
    """The RFC 7919 prime of an ffdhe group, computed from its Appendix A definition."""
    bits, offset = _FFDHE_DEFINITIONS[group]
    fraction_bits = bits - 130
    # floor(2^fraction_bits * e) from e = sum(1/k!), in integers with guard bits.
    scale = 1 << (fraction_bits + _E_GUARD_BITS)
    total, term, k = 0, scale, 0
    while term:
        total += term
        k += 1
        term //= k
    e_scaled = total >> _E_GUARD_BITS
    return (1 << bits) - (1 << (bits - 64)) + ((e_scaled + offset) << 64) - 1


def ffdhe_group_of(prime: int) -> int | None:
    """The ffdhe group whose prime this is, or None for any other prime."""
    return next((group for group in FFDHE_GROUPS if ffdhe_prime(group) == prime), None)


def tls12_hello(
    server_name: str | None, suites: tuple[int, ...], groups: Sequence[int]
) -> ClientHelloSpec:
    """A TLS 1.2 hello with these suites and these groups, in this order."""
    return hello_for_version(
        ProtocolVersion.TLSv1_2, server_name=server_name, cipher_suites=suites, groups=tuple(groups)
    )


@dataclass(frozen=True, slots=True)
class Tls12Groups:
    """TLS 1.2 verdicts for the ECDHE curves and the ffdhe groups, and the DHE prime size."""

    support: dict[int, Support]
    dhe_prime_bits: int | None

    @classmethod
    def measure(cls, hellos: HelloPool, server_name: str | None) -> Tls12Groups:
        curves = probe_tls12_curves(hellos, server_name)
        dhe_prime_bits, ffdhe = probe_tls12_dhe(hellos, server_name)
        return cls({**curves, **ffdhe}, dhe_prime_bits)


def probe_tls12_curves(hellos: HelloPool, server_name: str | None) -> dict[int, Support]:
    """Each ECDHE curve, offered with ECDHE-only suites and read back from ServerKeyExchange.

    RFC 8422 §5.1.1: supported_groups also bounds the curve of an ECDSA certificate, so a lone
    secp384r1 is refused by a P-256 server although it does ECDHE on secp384r1. There each
    other curve is offered first and the certificate's curve second; a server that then picks
    the certificate's curve proves the first unsupported only if it follows the client's order,
    which the same all-curves offer in reverse order shows. Otherwise the verdict is unknown.
    """
    every_curve = hellos.exchange(
        tls12_hello(server_name, TLS12_ECDHE_SUITES, TLS12_CURVES), ReadUntil.FIRST_FLIGHT
    )
    baseline = read_tls12_key_exchange(every_curve)
    if baseline is None or baseline.curve is None:
        # Every curve was offered: a refusal means no ECDHE in TLS 1.2 at all.
        refused = baseline is None and every_curve.kind in REFUSALS
        return dict.fromkeys(TLS12_CURVES, Support.NOT_SUPPORTED if refused else Support.UNKNOWN)
    coupled: int | None = None
    coupling_unknown = False
    if baseline.authentication == "ECDSA":
        try:
            coupled = leaf_curve(baseline.leaf_der)
        except ValueError:
            coupling_unknown = True
    to_test = [curve for curve in TLS12_CURVES if curve != baseline.curve]
    specs = [
        tls12_hello(
            server_name,
            TLS12_ECDHE_SUITES,
            (curve,) if coupled is None or coupled == curve else (curve, coupled),
        )
        for curve in to_test
    ]
    reverse = None
    if coupled is not None:
        reverse = hellos.submit(
            tls12_hello(server_name, TLS12_ECDHE_SUITES, TLS12_CURVES[::-1]),
            ReadUntil.FIRST_FLIGHT,
        )
    answers = hellos.exchange_all(specs, ReadUntil.FIRST_FLIGHT)
    reversed_pick = read_tls12_key_exchange(reverse.result()) if reverse is not None else None
    reversed_curve = reversed_pick.curve if reversed_pick is not None else None
    follows_client_order = reversed_curve is not None and reversed_curve != baseline.curve
    support = {baseline.curve: Support.SUPPORTED}
    for curve, answer in zip(to_test, answers, strict=True):
        exchange = read_tls12_key_exchange(answer)
        picked = exchange.curve if exchange is not None else None
        if picked == curve or reversed_curve == curve:
            support[curve] = Support.SUPPORTED
        elif coupled is not None and coupled != curve and picked == coupled:
            support[curve] = Support.NOT_SUPPORTED if follows_client_order else Support.UNKNOWN
        elif exchange is None and answer.kind in REFUSALS and not coupling_unknown:
            support[curve] = Support.NOT_SUPPORTED
        else:
            support[curve] = Support.UNKNOWN
    return {curve: support[curve] for curve in TLS12_CURVES}


def probe_tls12_dhe(
    hellos: HelloPool, server_name: str | None
) -> tuple[int | None, dict[int, Support]]:
    """The DHE prime size a client gets, and which ffdhe groups the server negotiates.

    A server that knows RFC 7919 answers a client listing ffdhe groups with one of them, or
    refuses DHE; if refused, a hello without ffdhe groups asks for the server's own prime.
    OpenSSL 3.0 ignores the list in TLS 1.2 and sends its own RFC 3526 prime: no ffdhe group is
    then negotiated, whatever the prime's size.
    """
    offer = hellos.exchange(
        tls12_hello(server_name, TLS12_DHE_SUITES, TLS12_DHE_OFFER_GROUPS), ReadUntil.FIRST_FLIGHT
    )
    exchange = read_tls12_key_exchange(offer)
    if exchange is None or exchange.dh_prime is None:
        legacy = read_tls12_key_exchange(
            hellos.exchange(
                tls12_hello(server_name, TLS12_DHE_SUITES, TLS12_CURVES), ReadUntil.FIRST_FLIGHT
            )
        )
        bits = legacy.dh_prime.bit_length() if legacy and legacy.dh_prime else None
        verdict = Support.NOT_SUPPORTED if offer.kind in REFUSALS else Support.UNKNOWN
        return bits, dict.fromkeys(FFDHE_GROUPS, verdict)
    bits = exchange.dh_prime.bit_length()
    chosen = ffdhe_group_of(exchange.dh_prime)
    if chosen is None:
        return bits, dict.fromkeys(FFDHE_GROUPS, Support.NOT_SUPPORTED)
    others = [group for group in FFDHE_GROUPS if group != chosen]
    answers = hellos.exchange_all(
        [tls12_hello(server_name, TLS12_DHE_SUITES, (group,)) for group in others],
        ReadUntil.FIRST_FLIGHT,
    )
    support = {chosen: Support.SUPPORTED}
    for group, answer in zip(others, answers, strict=True):
        single = read_tls12_key_exchange(answer)
        if single is not None and single.dh_prime == ffdhe_prime(group):
            support[group] = Support.SUPPORTED
        elif answer.kind in REFUSALS or (single is not None and single.dh_prime is not None):
            support[group] = Support.NOT_SUPPORTED
        else:
            support[group] = Support.UNKNOWN
    return bits, {group: support[group] for group in FFDHE_GROUPS}
