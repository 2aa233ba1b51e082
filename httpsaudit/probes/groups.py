"""Key-exchange groups: which the server accepts in TLS 1.3 and 1.2, the order it prefers them
in, its TLS 1.2 DHE prime, and whether a browser-like hello costs a HelloRetryRequest.

TLS 1.3 is read from hellos with an empty key_share: the server names the group it wants in a
HelloRetryRequest, or refuses (RFC 8446 §4.1.4, §4.2.8). Every answer is evidence of two kinds:
the group named is supported, a refusal rules out every group offered; and the group named is
ranked at least as high as every other group offered, strictly higher than those listed before
it (a server that let the client's order decide would have taken the earlier one). TLS 1.2 has
no such shortcut: the ECDHE curve is read from ServerKeyExchange (RFC 8422 §5.4) and the FFDHE
group from the DH prime it carries (RFC 7919 §4).

Preference is measured, not assumed. OpenSSL 3.5 and later rank groups in *tiers* and follow the
client's order inside a tier (X25519MLKEM768 and SecP256r1MLKEM768 share the top tier of
OpenSSL 4.0's defaults). The hellos go out in a few rounds of parallel offers rather than one
long elimination chain, so the order is known only as far as the answers reach within
``MAX_TLS13_ROUNDS``; the groups beyond are reported unranked, never in a guessed order.
"""

from __future__ import annotations

import concurrent.futures
import enum
import functools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

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

# Rounds of parallel TLS 1.3 hellos, each waiting for the answers of the one before: the
# probe's depth in sequential connections. Four find and rank every group of OpenSSL's default
# lists (3.0 and 4.0); relations still open after them leave the rest of the order unranked.
MAX_TLS13_ROUNDS = 4
# The order most servers rank groups in: OpenSSL 3.0's default list, with the ML-KEM hybrids on
# top as OpenSSL 3.5+, BoringSSL and Go rank them. Hellos list groups in the reverse of it, so
# against such a server every group named was listed last and is proven strictly preferred at
# no extra cost. It decides how many hellos an answer takes, never the answer.
EXPECTED_ORDER: tuple[int, ...] = (
    NamedGroup.X25519MLKEM768,
    NamedGroup.SecP256r1MLKEM768,
    NamedGroup.SecP384r1MLKEM1024,
    NamedGroup.x25519,
    NamedGroup.secp256r1,
    NamedGroup.x448,
    NamedGroup.secp521r1,
    NamedGroup.secp384r1,
    *FFDHE_GROUPS,
)
# EXPECTED_ORDER cut into runs a server tends to accept or refuse together, each searched by its
# own chain of hellos, with the round the chain starts in. The chain for x25519 and P-256 starts
# a round late, because the first hello (every group) usually names one of them. No run is
# longer than 3, so every chain ends within MAX_TLS13_ROUNDS.
_RUNS: tuple[tuple[tuple[int, ...], int], ...] = (
    (EXPECTED_ORDER[0:3], 1),  # the ML-KEM hybrids
    (EXPECTED_ORDER[3:5], 2),  # x25519, secp256r1
    (EXPECTED_ORDER[5:8], 1),  # x448, secp521r1, secp384r1
    (EXPECTED_ORDER[8:10], 1),  # ffdhe2048, ffdhe3072
    (EXPECTED_ORDER[10:13], 1),  # ffdhe4096, ffdhe6144, ffdhe8192
)
_LISTING_POSITION = {group: -index for index, group in enumerate(EXPECTED_ORDER)}
_REPORT_POSITION = {group: index for index, group in enumerate(ALL_GROUPS)}


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
    """Each group's support (TLS 1.3 and 1.2), the TLS 1.3 ranking, DHE, the browser hello.

    TLS 1.3, TLS 1.2 ECDHE and TLS 1.2 DHE run side by side, each a few rounds deep: at most
    ``MAX_TLS13_ROUNDS`` sequential connections for TLS 1.3, 3 for the curves, 2 for DHE.
    Connections against OpenSSL 3.0's defaults: 12 for TLS 1.3 (browser hello included), 5 to 6
    for the curves, 1 to 2 for DHE. The ML-KEM hybrids exist only in TLS 1.3, so their TLS 1.2
    verdict is ``not_tested``.
    """

    probe_id = ProbeId.GROUPS
    requires: tuple[ProbeId, ...] = (ProbeId.VERSIONS,)

    def run(self, context: ProbeContext) -> GroupsResult:
        versions = context.result_of(ProbeId.VERSIONS, VersionsResult)
        server_name = context.target.sni
        with (
            context.hello_pool() as hellos,
            concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="groups-tls12") as side,
        ):
            # TLS 1.2 curves and DHE each run in a thread of their own beside TLS 1.3; all
            # draw their hellos from the pool, whose workers never wait on other hellos.
            curves_future = dhe_future = None
            if speaks(versions, ProtocolVersion.TLSv1_2):
                curves_future = side.submit(probe_tls12_curves, hellos, server_name)
                dhe_future = side.submit(probe_tls12_dhe, hellos, server_name)
            tls13 = Tls13Groups.untested()
            if speaks(versions, ProtocolVersion.TLSv1_3):
                tls13 = Tls13Groups.measure(hellos, server_name)
            tls12_support: dict[int, Support] = {}
            dhe_prime_bits = None
            if curves_future is not None and dhe_future is not None:
                dhe_prime_bits, ffdhe = dhe_future.result()
                tls12_support = {**curves_future.result(), **ffdhe}
        return GroupsResult(
            groups=tuple(
                GroupSupport(
                    group=name_of(NamedGroup, group),
                    code=int(group),
                    tls13=tls13.support[group],
                    tls12=tls12_support.get(group, Support.NOT_TESTED),
                )
                for group in ALL_GROUPS
            ),
            tls13_preference=_names(group for tier in tls13.tiers for group in tier),
            tls13_preference_kind=tls13.preference_kind,
            tls13_preference_tiers=tuple(_names(tier) for tier in tls13.tiers),
            browser_hello_group=_name_or_none(tls13.browser_group),
            browser_hello_retry=tls13.browser_retry,
            dhe_prime_bits=dhe_prime_bits,
            tls13_unranked_groups=_names(tls13.unranked),
        )


def speaks(versions: VersionsResult, version: ProtocolVersion) -> bool:
    """Whether the versions probe found ``version`` supported."""
    return any(
        entry.version_code == version and entry.support is Support.SUPPORTED
        for entry in versions.versions
    )


def _name_or_none(group: int | None) -> str | None:
    return None if group is None else name_of(NamedGroup, group)


def _names(groups: Iterable[int]) -> tuple[str, ...]:
    return tuple(name_of(NamedGroup, group) for group in groups)


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


def listing(groups: Iterable[int]) -> tuple[int, ...]:
    """``groups`` in the order our hellos list them: the reverse of EXPECTED_ORDER."""
    return tuple(sorted(set(groups), key=_LISTING_POSITION.__getitem__))


def report_order(groups: Iterable[int]) -> tuple[int, ...]:
    """``groups`` in the order results name them (ALL_GROUPS), e.g. the members of a tier."""
    return tuple(sorted(set(groups), key=_REPORT_POSITION.__getitem__))


class Rank(enum.IntEnum):
    """What the answers say about one group against another."""

    UNRELATED = 0
    AT_LEAST = 1  # ranked at least as high: the same tier or a higher one
    ABOVE = 2  # ranked strictly higher


class Answer(enum.Enum):
    """How a TLS 1.3 groups hello ended."""

    NAMED = "named"  # a HelloRetryRequest (or ServerHello) named one of the offered groups
    REFUSED = "refused"  # none of the offered groups is acceptable
    NO_ANSWER = "no_answer"  # silence, or a group we did not offer: proves nothing


def read_answer(offered: Sequence[int], answer: HelloAnswer) -> tuple[Answer, int | None]:
    """What one hello offering ``offered`` proved, and the group it named."""
    named = tls13_selected_group(answer)
    if named is not None:
        return (Answer.NAMED, named) if named in offered else (Answer.NO_ANSWER, None)
    return (Answer.REFUSED if answer.kind in REFUSALS else Answer.NO_ANSWER), None


@dataclass(slots=True)
class Tls13Evidence:
    """Everything the TLS 1.3 answers proved: support, refusals and direct rank relations."""

    supported: set[int] = field(default_factory=set)
    refused: set[int] = field(default_factory=set)
    relations: dict[tuple[int, int], Rank] = field(default_factory=dict)

    def record(self, offered: Sequence[int], answer: HelloAnswer) -> tuple[Answer, int | None]:
        """Learn from one answer to a hello listing ``offered`` in that order."""
        outcome, named = read_answer(offered, answer)
        if outcome is Answer.REFUSED:
            self.refused.update(offered)
        elif named is not None:
            self.supported.add(named)
            # RFC 8446 §4.2.7: the client's list is in its preference order. A server that let
            # it decide within a tier would have named an earlier group of that tier.
            before = True
            for group in offered:
                if group == named:
                    before = False
                elif before:
                    self._relate(named, group, Rank.ABOVE)
                else:
                    self._relate(named, group, Rank.AT_LEAST)
        return outcome, named

    def record_support(self, answer: HelloAnswer, offered: Collection[int]) -> None:
        """A hello with a real key share proves only that the group it got is supported."""
        named = tls13_selected_group(answer)
        if named is not None and named in offered:
            self.supported.add(named)

    def _relate(self, higher: int, lower: int, rank: Rank) -> None:
        key = (higher, lower)
        self.relations[key] = max(self.relations.get(key, Rank.UNRELATED), rank)

    @property
    def settled(self) -> set[int]:
        return self.supported | self.refused

    @property
    def conflicting(self) -> set[int]:
        """Groups both named and refused: a server whose answers do not fit together."""
        return self.supported & self.refused

    def closure(self) -> dict[tuple[int, int], Rank]:
        """Relations implied by transitivity through supported groups (an unsupported one
        outranks nothing), strict when any link is."""
        ranks = dict(self.relations)
        through = self.supported - self.refused
        for middle in ALL_GROUPS:
            if middle not in through:
                continue
            uppers = [(a, rank) for (a, b), rank in ranks.items() if b == middle and a != middle]
            lowers = [(b, rank) for (a, b), rank in ranks.items() if a == middle and b != middle]
            for upper, first in uppers:
                for lower, second in lowers:
                    if upper == lower:
                        continue
                    implied = Rank.ABOVE if Rank.ABOVE in (first, second) else Rank.AT_LEAST
                    key = (upper, lower)
                    ranks[key] = max(ranks.get(key, Rank.UNRELATED), implied)
        return ranks


@dataclass(frozen=True, slots=True)
class Ranking:
    """The tiers the evidence settles, best first, and why it stopped where it did."""

    tiers: tuple[tuple[int, ...], ...]
    inconsistent: bool  # answers contradict any ranking in tiers: nothing is ranked
    leaderless: bool  # stopped because no remaining group is known to rank above the rest


def rank_groups(evidence: Tls13Evidence) -> Ranking:
    """The longest run of top tiers the evidence determines.

    A tier is settled when one group ranks at least as high as every group left, the groups
    that rank at least as high as it share its tier, and it ranks strictly above all others,
    including groups whose support is unknown (had they been supported they could sit anywhere).
    """
    ranks = evidence.closure()
    supported = evidence.supported - evidence.refused
    unsettled = set(ALL_GROUPS) - evidence.settled
    if evidence.conflicting or any(
        ranks.get((a, b)) is Rank.ABOVE and (b, a) in ranks for a in supported for b in supported
    ):
        return Ranking((), inconsistent=True, leaderless=False)

    def at_least(a: int, b: int) -> bool:
        return ranks.get((a, b), Rank.UNRELATED) >= Rank.AT_LEAST

    remaining = set(supported)
    tiers: list[tuple[int, ...]] = []
    while remaining:
        leader = next(
            (a for a in report_order(remaining) if all(at_least(a, b) for b in remaining - {a})),
            None,
        )
        if leader is None:
            return Ranking(tuple(tiers), inconsistent=False, leaderless=True)
        tier = {leader} | {b for b in remaining if at_least(b, leader)}
        below = (remaining - tier) | unsettled
        if any(ranks.get((leader, c)) is not Rank.ABOVE for c in below):
            break
        tiers.append(report_order(tier))
        remaining -= tier
    return Ranking(tuple(tiers), inconsistent=False, leaderless=False)


def tie_checks(evidence: Tls13Evidence) -> list[tuple[int, ...]]:
    """Hellos that settle ``a ranks at least as high as b`` into "same tier" or "above".

    For each tier known so far, the groups it was seen beating only by our listing order are
    listed first and one member of the tier last: if that member is still named it ranks
    strictly above them all, otherwise the group named shares its tier.
    """
    ranks = evidence.closure()
    supported = report_order(evidence.supported - evidence.refused)
    covered: set[int] = set()
    checks: list[tuple[int, ...]] = []
    for group in supported:
        if group in covered:
            continue
        same_tier = {
            other
            for other in supported
            if other == group or ((group, other) in ranks and (other, group) in ranks)
        }
        covered |= same_tier
        open_below = [
            other
            for other in supported
            if other not in same_tier
            and ranks.get((group, other)) is Rank.AT_LEAST
            and (other, group) not in ranks
        ]
        if open_below:
            checks.append((*listing(open_below), group))
    return checks


@dataclass(slots=True)
class Chain:
    """Hellos that search one run of EXPECTED_ORDER, a round at a time.

    Each hello offers what is unsettled of the run plus every group of the later runs not yet
    refused: a group of the run named there ranks above the later runs too, which places whole
    runs against each other. Once a later group is named instead, what is left of the run may be
    unsupported or merely ranked lower, so it is offered alone until named or refused.
    """

    members: tuple[int, ...]
    later: tuple[int, ...]
    first_round: int
    alone: bool = False
    done: bool = False

    def offer(self, round_number: int, evidence: Tls13Evidence) -> tuple[int, ...] | None:
        if self.done or round_number < self.first_round:
            return None
        settled = evidence.settled
        unsettled = [group for group in self.members if group not in settled]
        if not unsettled:
            self.done = True
            return None
        if self.alone:
            return listing(unsettled)
        return listing(
            [*unsettled, *(group for group in self.later if group not in evidence.refused)]
        )

    def advance(self, outcome: Answer, named: int | None) -> None:
        if outcome is not Answer.NAMED:
            self.done = True  # refused: all settled; no answer: the rest stays unknown
        elif named not in self.members:
            if self.alone:
                self.done = True
            self.alone = True


def _chains() -> list[Chain]:
    return [
        Chain(
            members=members,
            later=EXPECTED_ORDER[EXPECTED_ORDER.index(members[-1]) + 1 :],
            first_round=first_round,
        )
        for members, first_round in _RUNS
    ]


@dataclass(frozen=True, slots=True)
class Tls13Groups:
    """What the TLS 1.3 hellos found; ``tiers`` hold the ranked groups, ``unranked`` the
    supported groups whose place was not settled (empty when the client's order decides)."""

    support: dict[int, Support]
    preference_kind: str
    tiers: tuple[tuple[int, ...], ...]
    unranked: tuple[int, ...]
    browser_group: int | None
    browser_retry: bool | None

    @classmethod
    def untested(cls) -> Tls13Groups:
        return cls(dict.fromkeys(ALL_GROUPS, Support.NOT_TESTED), UNKNOWN, (), (), None, None)

    @classmethod
    def measure(cls, hellos: HelloPool, server_name: str | None) -> Tls13Groups:
        browser = hellos.submit(browser_hello(server_name))
        evidence = search_tls13_groups(hellos, server_name, browser)
        browser_group, browser_retry = browser_cost(browser.result())
        support = {group: _verdict(group, evidence) for group in ALL_GROUPS}
        supported = report_order(evidence.supported - evidence.refused)
        ranking = rank_groups(evidence)
        kind = preference_kind(ranking, supported)
        tiers = () if kind in {CLIENT, UNKNOWN} else ranking.tiers
        if kind == SINGLE:
            tiers = (supported,)
        ranked = {group for tier in tiers for group in tier}
        unranked = () if kind == CLIENT else tuple(g for g in supported if g not in ranked)
        return cls(support, kind, tiers, unranked, browser_group, browser_retry)


def search_tls13_groups(
    hellos: HelloPool,
    server_name: str | None,
    browser: concurrent.futures.Future[HelloAnswer] | None = None,
) -> Tls13Evidence:
    """Rounds of parallel hellos: the run chains, then checks that split ties from strict
    ranks, then (once every chain is done) an offer of the groups no answer has ordered yet.
    Each round waits for the one before; the browser hello, if given, joins the first."""
    evidence = Tls13Evidence()
    chains = _chains()
    for round_number in range(1, MAX_TLS13_ROUNDS + 1):
        offers: dict[tuple[int, ...], list[Chain]] = {}
        for chain in chains:
            offered = chain.offer(round_number, evidence)
            if offered is not None:
                offers.setdefault(offered, []).append(chain)
        for check in tie_checks(evidence):
            offers.setdefault(check, [])
        if all(chain.done for chain in chains):
            ranking = rank_groups(evidence)
            if ranking.leaderless:
                ranked = {group for tier in ranking.tiers for group in tier}
                unordered = evidence.supported - evidence.refused - ranked
                offers.setdefault(listing(unordered), [])
        if not offers:
            break
        answers = hellos.exchange_all([tls13_groups_hello(server_name, o) for o in offers])
        if browser is not None:
            evidence.record_support(browser.result(), BROWSER_HELLO_GROUPS)
            browser = None
        for (offered, owners), answer in zip(offers.items(), answers, strict=True):
            outcome, named = evidence.record(offered, answer)
            for chain in owners:
                chain.advance(outcome, named)
    return evidence


def _verdict(group: int, evidence: Tls13Evidence) -> Support:
    if group in evidence.conflicting:
        return Support.UNKNOWN
    if group in evidence.supported:
        return Support.SUPPORTED
    if group in evidence.refused:
        return Support.NOT_SUPPORTED
    return Support.UNKNOWN


def preference_kind(ranking: Ranking, supported: Sequence[int]) -> str:
    """``server`` (strict order), ``client``, ``tiered``, ``single`` or ``unknown``, judged on
    the tiers the answers settled."""
    if len(supported) == 1:
        return SINGLE
    if ranking.inconsistent or not ranking.tiers:
        return UNKNOWN
    if len(ranking.tiers) == 1 and len(ranking.tiers[0]) == len(supported):
        return CLIENT
    if all(len(tier) == 1 for tier in ranking.tiers):
        return SERVER
    return TIERED


def browser_cost(answer: HelloAnswer) -> tuple[int | None, bool | None]:
    """The group chosen for the browser hello, and whether it took a HelloRetryRequest."""
    group = tls13_selected_group(answer)
    if group is None or group not in BROWSER_HELLO_GROUPS:
        # A group the browser hello never listed is a broken answer (RFC 8446 §4.1.4), not a
        # choice a browser would meet: say nothing rather than name it.
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


def probe_tls12_curves(hellos: HelloPool, server_name: str | None) -> dict[int, Support]:
    """Each ECDHE curve, offered with ECDHE-only suites and read back from ServerKeyExchange.

    RFC 8422 §5.1.1: supported_groups also bounds the curve of an ECDSA certificate, so a lone
    secp384r1 is refused by a P-256 server although it does ECDHE on secp384r1. There each
    other curve is offered first and the certificate's curve second; a server that then picks
    the certificate's curve proves the first unsupported only if it follows the client's order,
    which the same all-curves offer in reverse order shows (sent only when a pick needs it).
    Otherwise the verdict is unknown. Depth: 2 connections, 3 when the reverse offer is needed.
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
    answers = hellos.exchange_all(specs, ReadUntil.FIRST_FLIGHT)
    picks = []
    for answer in answers:
        exchange = read_tls12_key_exchange(answer)
        picks.append(exchange.curve if exchange is not None else None)
    reversed_curve = None
    if coupled is not None and any(
        pick == coupled != curve for curve, pick in zip(to_test, picks, strict=True)
    ):
        reverse = hellos.exchange(
            tls12_hello(server_name, TLS12_ECDHE_SUITES, TLS12_CURVES[::-1]),
            ReadUntil.FIRST_FLIGHT,
        )
        reversed_pick = read_tls12_key_exchange(reverse)
        reversed_curve = reversed_pick.curve if reversed_pick is not None else None
    follows_client_order = reversed_curve is not None and reversed_curve != baseline.curve
    support = {baseline.curve: Support.SUPPORTED}
    for curve, answer, picked in zip(to_test, answers, picks, strict=True):
        if picked == curve or reversed_curve == curve:
            support[curve] = Support.SUPPORTED
        elif coupled is not None and coupled != curve and picked == coupled:
            support[curve] = Support.NOT_SUPPORTED if follows_client_order else Support.UNKNOWN
        elif picked is None and answer.kind in REFUSALS and not coupling_unknown:
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
