"""Cipher suites per protocol version: which the server accepts, in which order it prefers them,
and two choices that cost clients (AES-128 vs AES-256; ChaCha20 for phones without AES
hardware).

A hello offering a list of suites gets one accepted suite back (the server's pick) or a refusal
that settles every suite offered. Removing the pick and offering the rest again finds N suites
in N + 1 hellos, but each waits for the one before: a chain of N + 1 connections, once the
longest of the whole audit. Here every version is searched at once, in rounds of parallel
hellos, each planned only from earlier rounds' answers:

- Lines. The candidates are cut into lines of suites a server takes or leaves together: for
  the family of the suite the versions probe saw, its AES-GCM and ChaCha20, its AES-CBC and
  its CCM/Camellia/ARIA; the other key exchanges its certificate allows; then everything else.
  Each line repeats the removal on its own, offering only suites no hello has settled. A line
  that picks from a mixed group splits along the pick's family, so no line becomes a long
  chain, and a group taken whole ends without a refusal: N suites cost about N hellos plus one
  per line that ends refused.
- Preference. Lines list their suites in reverse of our offer order. A pick that is not the
  first accepted suite listed defies the client's order: the server has its own. Two picks that
  contradict each other (a over b, then b over a), none defying the client: the server follows
  the client's order.
- Rank. Round one also offers everything in our order; under server preference that is the
  first of a rank chain (the whole list minus what it ranked) for at most ``MAX_RANK_HELLOS``
  rounds. Every pick beats the other accepted suites of its hello; those relations rank much
  of the rest, and ``unranked_count`` says how many at the end are not ranked.
- Choices. At the highest version, round one asks AES-256-then-AES-128 and ChaCha20-first
  directly, in place of that family's AEAD line.

TLS 1.3 hellos carry an empty key_share, so the HelloRetryRequest names the suite with no key
generated (RFC 8446 §4.1.4).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import enum
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from httpsaudit.errors import (
    HttpsAuditError,
    LocalProtocolError,
    Phase,
    PhaseTimeout,
    RemoteProtocolError,
    Unsupported,
)
from httpsaudit.net.raw_hello import AnswerKind, HelloAnswer
from httpsaudit.probes.base import HELLO_TIMEOUT_S, HelloPool, ProbeContext, ProbeFailed
from httpsaudit.probes.hellos import hello_for_version
from httpsaudit.results import (
    CipherSuiteInfo,
    CipherSuitesResult,
    ProbeId,
    Support,
    VersionCipherSuites,
    VersionsResult,
)
from httpsaudit.tls.codes import CipherSuite, ProtocolVersion, name_of, version_label
from httpsaudit.tls.hello import DEFAULT_SIGNATURE_SCHEMES, LARGE_HELLO_BYTES, ClientHelloSpec
from httpsaudit.tls.suites import describe_suite, suites_for_version

# testssl.sh records servers that fail on a hello listing 128 suites or more; the renegotiation
# SCSV takes one slot, so one hello offers at most this many candidates. Every version's
# candidate list fits in one hello (tested), which the rank hellos need.
MAX_SUITES_PER_HELLO = 126
# dsa_sha256 and dsa_sha1 (RFC 5246 §7.4.1.4.1 hash/signature pairs): without a DSA entry in
# signature_algorithms a DHE_DSS server must refuse its own suites.
DSA_SIGNATURE_SCHEMES = (0x0402, 0x0202)
# Rank hellos per version, round one's included. They run beside the lines, so 4 keeps the
# chain of dependent connections at the lines' own depth (3-4 rounds on common servers);
# relations from the other hellos rank more, and what they cannot stays unranked.
MAX_RANK_HELLOS = 4

SERVER = "server"
CLIENT = "client"
SINGLE = "single"
UNKNOWN = "unknown"

_AES_GCM = frozenset({"AES-128-GCM", "AES-256-GCM"})
_CHACHA20 = frozenset({"CHACHA20-POLY1305"})
# Suite classes a server takes or leaves as a whole (OpenSSL's DEFAULT and HIGH and Mozilla's
# profiles all cut along them): mainstream AEAD, AES-CBC, uncommon (CCM, Camellia, ARIA) and
# legacy (3DES, RC4, DES, IDEA, SEED, NULL). Inside a class, kinds of at most 3 suites per
# family (SHA-1 vs SHA-2 MACs, CCM vs CCM_8) keep each line's chain short.
_MAINSTREAM_AEAD = _AES_GCM | _CHACHA20
_AES_CBC = frozenset({"AES-128-CBC", "AES-256-CBC"})
_MAINSTREAM_CLASSES = frozenset({"aead", "aes-cbc"})
# Key exchanges a server's certificate alone makes possible (static ECDH needs an ECDH key).
_CERTIFICATE_EXCHANGES = frozenset({"ECDHE", "DHE", "RSA"})
_TLS13_FAMILY = ("any", "any")

Family = tuple[str, str]  # (key exchange, authentication)


class CipherSuitesProbe:
    """Accepted suites and preference per supported version, from raw hellos only.

    ``accepted`` is in the server's preference order when ``preference`` is "server" (the last
    ``unranked_count`` of them not ranked against each other). With "client" preference the
    server takes whatever the client lists first, so the order is our own offer order.
    """

    probe_id = ProbeId.CIPHER_SUITES
    requires: tuple[ProbeId, ...] = (ProbeId.VERSIONS,)

    def run(self, context: ProbeContext) -> CipherSuitesResult:
        return enumerate_cipher_suites(context).result


@dataclasses.dataclass(frozen=True, slots=True)
class SuitesEnumeration:
    """The probe's result and, per version, its chain of dependent hellos (rounds)."""

    result: CipherSuitesResult
    rounds_by_version: dict[str, int]


def enumerate_cipher_suites(context: ProbeContext) -> SuitesEnumeration:
    """Every supported version searched side by side, each in rounds of parallel hellos."""
    versions = context.result_of(ProbeId.VERSIONS, VersionsResult)
    supported = sorted(
        (entry.version_code for entry in versions.versions if entry.support is Support.SUPPORTED),
        reverse=True,
    )
    if not supported:
        raise Unsupported("no protocol version is supported, so no suite can be offered")
    hints = {entry.version_code: _suite_code(entry.cipher_suite) for entry in versions.versions}
    with context.hello_pool() as pool:
        # Pad past the F5 256-511 byte trap (RFC 7685) unless padding itself was refused.
        offers = _Offers(context, pool, pad=versions.tolerates_large_hello is not False)
        with concurrent.futures.ThreadPoolExecutor(
            len(supported), thread_name_prefix="suites"
        ) as searches:
            futures = [
                searches.submit(
                    _search_version, offers, version, hints.get(version), version == supported[0]
                )
                for version in supported
            ]
            outcomes = [_outcome(future) for future in futures]
    found = [outcome for outcome in outcomes if isinstance(outcome, _VersionFindings)]
    error = next((outcome for outcome in outcomes if isinstance(outcome, Exception)), None)
    if isinstance(error, Unsupported):
        raise error
    if error is not None:
        partial = CipherSuitesResult(tuple(findings.suites for findings in found), None, None)
        raise ProbeFailed(error, partial) from error
    top = found[0]
    return SuitesEnumeration(
        result=CipherSuitesResult(
            versions=tuple(findings.suites for findings in found),
            prefers_aes128_over_aes256=top.prefers_aes128_over_aes256,
            honours_chacha20_preference=top.honours_chacha20_preference,
        ),
        rounds_by_version={findings.suites.version: findings.rounds for findings in found},
    )


def _outcome(
    future: concurrent.futures.Future[_VersionFindings],
) -> _VersionFindings | HttpsAuditError:
    try:
        return future.result()
    except HttpsAuditError as exc:
        return exc


def _suite_code(name: str | None) -> int | None:
    try:
        return int(CipherSuite[name]) if name is not None else None
    except KeyError:
        return None


class _Offers:
    """Sends hellos, alone or side by side, and reads which suite, if any, the server picked."""

    def __init__(self, context: ProbeContext, pool: HelloPool, *, pad: bool) -> None:
        self._context = context
        self._pool = pool
        self._pad = pad

    def picks(self, version: int, offers: Sequence[Sequence[int]]) -> list[int | None]:
        """The server's pick from each list (in this client order), all sent side by side."""
        futures = [self._pool.submit(self._hello(version, tuple(suites))) for suites in offers]
        return [
            _read_pick(future.result(), version, suites)
            for future, suites in zip(futures, offers, strict=True)
        ]

    def _hello(self, version: int, suites: tuple[int, ...]) -> ClientHelloSpec:
        if not 0 < len(suites) <= MAX_SUITES_PER_HELLO:
            raise LocalProtocolError(f"a hello cannot offer {len(suites)} cipher suites")
        spec = hello_for_version(
            version, server_name=self._context.target.sni, cipher_suites=suites
        )
        if version <= ProtocolVersion.TLSv1_2:
            spec = dataclasses.replace(
                spec, signature_algorithms=(*DEFAULT_SIGNATURE_SCHEMES, *DSA_SIGNATURE_SCHEMES)
            )
        if self._pad and spec.with_extensions:
            spec = dataclasses.replace(spec, pad_to_bytes=LARGE_HELLO_BYTES)
        return spec


def _read_pick(answer: HelloAnswer, version: int, suites: Sequence[int]) -> int | None:
    """The suite the server picked from ``suites``; None = refused."""
    if answer.kind is AnswerKind.TIMEOUT:
        raise PhaseTimeout(
            f"no answer within {HELLO_TIMEOUT_S:g} s to a {version_label(version)} hello "
            f"offering {len(suites)} cipher suites",
            phase=Phase.TLS,
        )
    if answer.kind is AnswerKind.HELLO_RETRY_REQUEST:
        hello = answer.hello_retry_request
    elif answer.kind is AnswerKind.SERVER_HELLO:
        hello = answer.server_hello
    else:  # alert, close or reset: the server has no suite it will use from this list
        return None
    if hello is None or hello.selected_version != version:
        # It negotiated a lower version instead (RFC 5246 §E.1): no suite left at this one.
        return None
    if hello.cipher_suite not in suites:
        # RFC 8446 §4.1.3 / RFC 5246 §7.4.1.3: the suite must be one the client offered.
        raise RemoteProtocolError(
            f"the server picked {name_of(CipherSuite, hello.cipher_suite)}, "
            "which the hello did not offer"
        )
    return hello.cipher_suite


# -- one version's search: rounds of parallel hellos -------------------------------------------


class _Role(enum.Enum):
    RANK = "rank"  # the whole list minus what is ranked: the server's next choice
    LINE = "line"  # one line's unsettled suites (or its question, first)


@dataclasses.dataclass(frozen=True, slots=True)
class _Line:
    """Suites one chain of hellos must settle; ``question`` is asked as is, first."""

    members: tuple[int, ...]
    question: tuple[int, ...] | None = None
    question_kind: str | None = None  # "aes" | "chacha20"


@dataclasses.dataclass(frozen=True, slots=True)
class _Offer:
    role: _Role
    suites: tuple[int, ...]
    line: _Line | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class _Ranking:
    """Accepted suites in order, the first ``exact_count`` of them certainly so."""

    order: tuple[int, ...]
    exact_count: int


class SuiteSearch:
    """One version's search, sans I/O: ``plan()`` the next round, ``absorb()`` its picks.

    Everything decided here depends only on earlier rounds' answers, so a server that answers
    the same way gets the same hellos, in the same rounds.
    """

    def __init__(self, version: int, hint: int | None, *, ask_choices: bool) -> None:
        self.version = version
        self.candidates = _chacha20_last(suites_for_version(version))
        self._position = {code: index for index, code in enumerate(self.candidates)}
        self.accepted: dict[int, None] = {}  # in the order found
        self.refused: set[int] = set()
        self.hellos: list[tuple[tuple[int, ...], int | None]] = []
        self.ranked: list[int] = []  # the rank chain's picks: the server's order, if it has one
        self.rank_hellos = 0
        self.rank_open = True
        self.answers: dict[str, tuple[tuple[int, ...], int | None]] = {}
        self.rounds = 0
        self.lines = _first_lines(self.candidates, version, hint, ask_choices=ask_choices)

    @property
    def settled(self) -> bool:
        return all(code in self.accepted or code in self.refused for code in self.candidates)

    def plan(self) -> list[_Offer]:
        """The next round's hellos; empty when every suite is settled and ranking is done."""
        offers: list[_Offer] = []
        if self.rounds == 0 or self._ranking_continues():
            offers.append(_Offer(_Role.RANK, self._rank_offer()))
        for line in self.lines:
            if line.question is not None:
                offers.append(_Offer(_Role.LINE, line.question, line))
            else:
                # Reversed: the line holding the forward pick then lists another accepted suite
                # first, and a server that follows the client shows it by taking that one.
                suites = _reversed_offer_order(self._unsettled(line.members))
                offers.append(_Offer(_Role.LINE, suites, line))
        return offers

    def absorb(self, offers: Sequence[_Offer], picks: Sequence[int | None]) -> None:
        """Record a round's answers, then split or end each line."""
        for offer, pick in zip(offers, picks, strict=True):
            self.hellos.append((offer.suites, pick))
            if pick is None:
                self.refused.update(offer.suites)
            else:
                self.accepted.setdefault(pick)
        lines: list[_Line] = []
        for offer, pick in zip(offers, picks, strict=True):
            if offer.role is _Role.RANK:
                self.rank_hellos += 1
                if pick is None:
                    self.rank_open = False
                else:
                    self.ranked.append(pick)
            elif offer.line is not None:
                lines.extend(self._follow(offer.line, offer.suites, pick))
        # Picks that contradict each other (a beat b, then b beat a): no server order to rank.
        if self.server_ranking() is None:
            self.rank_open = False
        self.lines = lines
        self.rounds += 1

    def _follow(self, line: _Line, offered: tuple[int, ...], pick: int | None) -> list[_Line]:
        if line.question is not None and line.question_kind is not None:
            self.answers[line.question_kind] = (offered, pick)
            rest = self._unsettled(line.members)
            return [_Line(rest)] if rest else []
        rest = self._unsettled(line.members)
        if pick is None or not rest:
            return []
        if pick not in line.members:
            return [_Line(rest)]
        return [_Line(part) for part in _split(rest, pick)]

    def _unsettled(self, suites: Iterable[int]) -> tuple[int, ...]:
        return tuple(
            code for code in suites if code not in self.accepted and code not in self.refused
        )

    def _ranking_continues(self) -> bool:
        """Another rank hello is due: ranking is open, within budget, and not already done.

        Done needs every suite settled: a line may yet find a suite that outranks the rest.
        """
        if not self.rank_open or self.rank_hellos >= MAX_RANK_HELLOS:
            return False
        if self.settled:
            ranking = self.server_ranking()
            if ranking is None or ranking.exact_count >= len(self.accepted) - 1:
                return False
        return bool(self._rank_offer())

    def _rank_offer(self) -> tuple[int, ...]:
        """Everything not yet ranked and not refused: the server picks its next choice."""
        ranked = set(self.ranked)
        if self.settled:
            # Every accepted suite is known, so relations rank as surely as the chain does.
            ranking = self.server_ranking()
            if ranking is not None:
                ranked = set(ranking.order[: ranking.exact_count])
        skip = ranked | self.refused
        return tuple(code for code in self.candidates if code not in skip)

    def server_ranking(self) -> _Ranking | None:
        """Accepted suites ordered by what each pick beat; None when the picks contradict."""
        return _rank_by_picks(tuple(self.accepted), self.hellos, self._position)

    def order_in_offer(self, codes: Iterable[int]) -> tuple[int, ...]:
        return tuple(sorted(codes, key=self._position.__getitem__))


def _first_lines(
    candidates: tuple[int, ...], version: int, hint: int | None, *, ask_choices: bool
) -> list[_Line]:
    """Round one's lines: the hinted family in its classes, its certificate's other key
    exchanges one line each, everything else in one line.

    The versions probe's pick (``hint``) names a family the server uses; its mainstream AEAD
    suites, its AES-CBC suites and its CCM/Camellia/ARIA suites are each usually all taken or
    all left, so each is one line. At the highest version the AES-256-then-AES-128 and
    ChaCha20-first questions stand in for the AEAD line. TLS 1.3 suites are all one family.
    """
    family = _TLS13_FAMILY if version >= ProtocolVersion.TLSv1_3 else None
    if family is None and hint is not None and hint in candidates:
        family = _group(hint).family
    lines: list[_Line] = []
    owned: set[int] = set()

    def add(line: _Line) -> None:
        if line.members:
            lines.append(line)
            owned.update(line.members)

    if family is not None:
        groups = {code: _group(code) for code in candidates}
        mine = [code for code in candidates if groups[code].family == family]
        aead = [code for code in mine if groups[code].suite_class == "aead"]
        if ask_choices:
            for question in _questions(aead):
                add(question)
        add(_Line(tuple(code for code in aead if code not in owned)))
        for suite_class in ("aes-cbc", "uncommon"):
            add(_Line(tuple(code for code in mine if groups[code].suite_class == suite_class)))
        # The same certificate serves the other key exchanges of its kind (DHE_RSA and RSA
        # beside ECDHE_RSA): each such family is a line of its own.
        for other in dict.fromkeys(group.family for group in groups.values()):
            if other != family and other[1] == family[1] and other[0] in _CERTIFICATE_EXCHANGES:
                add(_Line(tuple(code for code in candidates if groups[code].family == other)))
    add(_Line(tuple(code for code in candidates if code not in owned)))
    return lines


def _questions(aead: Sequence[int]) -> list[_Line]:
    """The two choices asked at the highest version, as lines that then settle their suites.

    AES-256-GCM then AES-128-GCM: which one the server takes. ChaCha20 first, then every
    AES-GCM of the same family: does a client without AES hardware get ChaCha20.
    """
    by_cipher = {_encryption(code): code for code in aead}
    aes128, aes256 = by_cipher.get("AES-128-GCM"), by_cipher.get("AES-256-GCM")
    chacha20 = by_cipher.get("CHACHA20-POLY1305")
    aes = tuple(code for code in aead if code in (aes128, aes256))
    questions: list[_Line] = []
    if aes128 is not None and aes256 is not None:
        questions.append(_Line(aes, (aes256, aes128), "aes"))
    if chacha20 is not None and aes:
        questions.append(_Line((chacha20,), (chacha20, *aes), "chacha20"))
    return questions


def _split(rest: tuple[int, ...], pick: int) -> list[tuple[int, ...]]:
    """A line's unsettled suites after it picked ``pick``, cut along the pick's family.

    The pick's own kind is probably accepted whole and needs no refusal to finish. A line of
    one family splits into its classes (the pick's own class per kind; uncommon and legacy
    together, as servers that take neither are many), so a family with many accepted kinds
    finds them side by side. A line of many families splits into the pick's kind, the rest of
    its family (one line: one refusal when the server took just that kind) and everything
    else, legacy ciphers included, which servers usually refuse as a whole.
    """
    chosen = _group(pick)
    one_family = all(_group(code).family == chosen.family for code in rest)
    parts: dict[tuple[str, ...], list[int]] = {}
    for code in rest:
        group = _group(code)
        if group.family == chosen.family and group.kind == chosen.kind:
            key: tuple[str, ...] = ("own",)
        elif one_family and group.suite_class == chosen.suite_class:
            key = ("kind", group.kind)
        elif one_family:
            mainstream = group.suite_class in _MAINSTREAM_CLASSES
            key = ("class", group.suite_class if mainstream else "rare")
        elif group.family == chosen.family and group.suite_class != "legacy":
            key = ("family",)
        else:
            key = ("others",)
        parts.setdefault(key, []).append(code)
    others = parts.pop(("others",), [])
    return [tuple(part) for part in (*parts.values(), others) if part]


class _Group(NamedTuple):
    family: Family
    suite_class: str  # aead, aes-cbc, uncommon or legacy
    kind: str  # the class split finer: aes-cbc-sha1, ccm8, camellia-sha2, ...


def _group(code: int) -> _Group:
    """Where a suite sits among the groups a server takes or leaves together."""
    facts = describe_suite(code)
    if facts is None:  # every candidate comes from the named table
        raise LocalProtocolError(f"no facts for cipher suite {name_of(CipherSuite, code)}")
    family = (facts.key_exchange, facts.authentication)
    encryption = facts.encryption
    mac = "sha1" if facts.name.endswith("_SHA") else "sha2"
    if encryption in _MAINSTREAM_AEAD:
        return _Group(family, "aead", "aead")
    if encryption in _AES_CBC:
        return _Group(family, "aes-cbc", f"aes-cbc-{mac}")
    if "CCM" in encryption:
        return _Group(family, "uncommon", "ccm8" if encryption.endswith("-8") else "ccm")
    if encryption.startswith("CAMELLIA"):
        return _Group(family, "uncommon", f"camellia-{mac}")
    if encryption.startswith("ARIA"):
        return _Group(family, "uncommon", "aria")
    return _Group(family, "legacy", "legacy")


def _rank_by_picks(
    accepted: tuple[int, ...],
    hellos: Sequence[tuple[tuple[int, ...], int | None]],
    position: dict[int, int],
) -> _Ranking | None:
    """Order the accepted suites by "picked over" relations, ties in our offer order.

    Under server preference each pick beats every other accepted suite in its hello. A hello
    that lists ChaCha20 first and got ChaCha20 proves nothing: OpenSSL's PRIORITIZE_CHACHA
    bends the server's order for exactly that client. Position i is exact when it is known to
    beat every suite after it. None when the relations have a cycle (no single order).
    """
    known = set(accepted)
    beats: dict[int, set[int]] = {code: set() for code in accepted}
    for offered, pick in hellos:
        if pick is None or pick not in known:
            continue
        if _is_chacha20(offered[0]) and _is_chacha20(pick):
            continue
        beats[pick].update(code for code in offered if code in known and code != pick)
    above = {code: 0 for code in accepted}
    for losers in beats.values():
        for loser in losers:
            above[loser] += 1
    order: list[int] = []
    ready = sorted((code for code in accepted if above[code] == 0), key=position.__getitem__)
    while ready:
        code = ready.pop(0)
        order.append(code)
        for loser in beats[code]:
            above[loser] -= 1
            if above[loser] == 0:
                ready.append(loser)
        ready.sort(key=position.__getitem__)
    if len(order) != len(accepted):
        return None
    below = {code: _reachable(code, beats) for code in accepted}
    exact = 0
    for index, code in enumerate(order):
        if not below[code].issuperset(order[index + 1 :]):
            break
        exact = index + 1
    return _Ranking(tuple(order), exact)


def _reachable(start: int, beats: dict[int, set[int]]) -> set[int]:
    seen: set[int] = set()
    stack = list(beats[start])
    while stack:
        code = stack.pop()
        if code not in seen:
            seen.add(code)
            stack.extend(beats[code])
    return seen


# -- after the rounds: preference, order and the two choices -----------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _VersionFindings:
    suites: VersionCipherSuites
    rounds: int
    prefers_aes128_over_aes256: bool | None
    honours_chacha20_preference: bool | None


@dataclasses.dataclass(frozen=True, slots=True)
class _Verdict:
    preference: str
    order: tuple[int, ...]
    unranked_count: int = 0


def _search_version(
    offers: _Offers, version: int, hint: int | None, ask_choices: bool
) -> _VersionFindings:
    """Run one version's rounds, settle its preference, then (at the top) the two choices."""
    search = SuiteSearch(version, hint, ask_choices=ask_choices)
    while plan := search.plan():
        search.absorb(plan, offers.picks(version, [offer.suites for offer in plan]))
    verdict = _judge(search)
    if verdict is None:
        verdict = _judge_by_reversal(search, offers)
    aes128: bool | None = None
    chacha20: bool | None = None
    if ask_choices:
        aes128, chacha20 = _choices(search, verdict.order, offers)
    suites = VersionCipherSuites(
        version=version_label(version),
        version_code=version,
        accepted=tuple(_info(code) for code in verdict.order),
        preference=verdict.preference,
        unranked_count=verdict.unranked_count,
    )
    return _VersionFindings(suites, search.rounds, aes128, chacha20)


def _judge(search: SuiteSearch) -> _Verdict | None:
    """Server or client preference from the hellos already answered; None = cannot tell.

    A pick that is not the first accepted suite of its list defies the client's order: the
    server has its own. Two picks that contradict each other (a chosen over b in one hello, b
    over a in another, each listed first where chosen) and no pick defying the client is a
    server that follows the client. When neither shows (the forward pick's line held no other
    accepted suite), one more hello decides.
    """
    accepted = tuple(search.accepted)
    if not accepted:
        return _Verdict(UNKNOWN, ())
    if len(accepted) == 1:
        return _Verdict(SINGLE, accepted)
    in_offer_order = search.order_in_offer(accepted)
    unknown = _Verdict(UNKNOWN, _ranked_first(search.ranked, in_offer_order))
    defies_client = any(
        not _first_accepted_listed(offered, pick, search.accepted)
        for offered, pick in search.hellos
        if pick is not None
    )
    if search.server_ranking() is None:
        return unknown if defies_client else _Verdict(CLIENT, in_offer_order)
    if not defies_client:
        return None
    return _server_verdict(search) or unknown


def _judge_by_reversal(search: SuiteSearch, offers: _Offers) -> _Verdict:
    """Offer the accepted suites reversed: the forward pick again means the server decides."""
    order = _ranked_first(search.ranked, search.order_in_offer(search.accepted))
    backwards = _reversed_offer(order)
    (pick,) = offers.picks(search.version, [backwards])
    search.hellos.append((backwards, pick))
    search.rounds += 1
    unknown = _Verdict(UNKNOWN, order)
    if pick == order[0]:
        return _server_verdict(search) or unknown
    if pick == backwards[0] and order == search.order_in_offer(order):
        return _Verdict(CLIENT, order)
    return unknown


def _server_verdict(search: SuiteSearch) -> _Verdict | None:
    """The server's order as far as its picks show it; None when they contradict."""
    ranking = search.server_ranking()
    if ranking is None:
        return None
    return _Verdict(SERVER, ranking.order, len(ranking.order) - ranking.exact_count)


def _first_accepted_listed(offered: Sequence[int], pick: int, accepted: dict[int, None]) -> bool:
    return next((code for code in offered if code in accepted), None) == pick


def _ranked_first(ranked: Sequence[int], in_offer_order: Sequence[int]) -> tuple[int, ...]:
    return (*ranked, *(code for code in in_offer_order if code not in ranked))


def _reversed_offer(accepted: Sequence[int]) -> tuple[int, ...]:
    """The accepted suites reversed, ChaCha20 moved behind the rest when two others remain.

    OpenSSL's PRIORITIZE_CHACHA lets a client that lists ChaCha20 first override the server's
    order; with ChaCha20 leading the reversed list such a server would look client-ordered.
    """
    backwards = list(reversed(accepted))
    others = [suite for suite in backwards if not _is_chacha20(suite)]
    if _is_chacha20(backwards[0]) and len(others) >= 2:
        return (*others, *(suite for suite in backwards if _is_chacha20(suite)))
    return tuple(backwards)


def _choices(
    search: SuiteSearch, order: tuple[int, ...], offers: _Offers
) -> tuple[bool | None, bool | None]:
    """AES-128 over AES-256, and ChaCha20 for a client listing it first, at the top version.

    Each is asked with suites of one key exchange (the first in ``order`` that has both), so
    only the cipher differs. Round one already asked both for the hinted family (the ChaCha20
    question listing every AES-GCM suite of it after ChaCha20: the server weighs ChaCha20
    against its favourite of them); a hello is sent here only for another family's pair.
    """
    accepted = [_info(code) for code in order]
    # (pair, the index in the pair whose pick means "yes", round one's question)
    questions = (
        (
            _same_exchange_pair(accepted, frozenset({"AES-256-GCM"}), frozenset({"AES-128-GCM"})),
            1,
            search.answers.get("aes"),
        ),
        (_same_exchange_pair(accepted, _CHACHA20, _AES_GCM), 0, search.answers.get("chacha20")),
    )
    picks: list[int | None] = [None, None]
    follow_ups: list[tuple[int, tuple[int, int]]] = []
    for slot, (pair, _, asked) in enumerate(questions):
        if pair is None:
            continue
        if asked is not None and asked[0][0] == pair[0] and pair[1] in asked[0]:
            picks[slot] = asked[1]
        else:
            follow_ups.append((slot, pair))
    if follow_ups:
        answers = offers.picks(search.version, [pair for _, pair in follow_ups])
        search.rounds += 1
        for (slot, _), pick in zip(follow_ups, answers, strict=True):
            picks[slot] = pick
    aes128, chacha20 = (
        None if pair is None or pick is None else pick == pair[yes]
        for (pair, yes, _), pick in zip(questions, picks, strict=True)
    )
    return aes128, chacha20


def _same_exchange_pair(
    accepted: Sequence[CipherSuiteInfo], lead: frozenset[str], rival: frozenset[str]
) -> tuple[int, int] | None:
    """A ``lead`` suite and a ``rival`` suite sharing key exchange and authentication.

    So that only the cipher differs between them; from the first exchange (in accepted
    order) that has both.
    """
    exchanges = dict.fromkeys((info.key_exchange, info.authentication) for info in accepted)
    for exchange in exchanges:
        same = [info for info in accepted if (info.key_exchange, info.authentication) == exchange]
        lead_code = next((info.code for info in same if info.encryption in lead), None)
        rival_code = next((info.code for info in same if info.encryption in rival), None)
        if lead_code is not None and rival_code is not None:
            return lead_code, rival_code
    return None


def _chacha20_last(suites: Sequence[int]) -> tuple[int, ...]:
    """Our offer order with ChaCha20 last, so PRIORITIZE_CHACHA never bends the server order."""
    return (
        *(suite for suite in suites if not _is_chacha20(suite)),
        *(suite for suite in suites if _is_chacha20(suite)),
    )


def _reversed_offer_order(suites: Sequence[int]) -> tuple[int, ...]:
    """Our offer order reversed, ChaCha20 still last (never first: see ``_chacha20_last``)."""
    return _chacha20_last(tuple(reversed(suites)))


def _is_chacha20(code: int) -> bool:
    return _encryption(code) in _CHACHA20


def _encryption(code: int) -> str | None:
    facts = describe_suite(code)
    return facts.encryption if facts is not None else None


def _info(code: int) -> CipherSuiteInfo:
    facts = describe_suite(code)
    if facts is None:  # picks are always suites we offered, and every candidate is named
        raise LocalProtocolError(f"no facts for cipher suite {name_of(CipherSuite, code)}")
    return CipherSuiteInfo(
        name=facts.name,
        code=facts.code,
        key_exchange=facts.key_exchange,
        authentication=facts.authentication,
        encryption=facts.encryption,
        mode=facts.mode,
        encryption_bits=facts.encryption_bits,
        forward_secret=facts.forward_secret,
    )
