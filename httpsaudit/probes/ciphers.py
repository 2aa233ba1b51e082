"""Cipher suites per protocol version: which the server accepts, in which order it prefers them,
and two choices that cost clients (AES-128 vs AES-256; ChaCha20 for phones without AES
hardware).

Enumeration offers every candidate, notes the server's pick, removes it and offers the rest
again until the server refuses: N accepted suites cost N + 1 hellos (one suite per connection
would cost a hundred), and under server preference the picks come out in the server's own
order. TLS 1.3 hellos carry an empty key_share, so the HelloRetryRequest names the suite with
no key generated (RFC 8446 §4.1.4).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from httpsaudit.errors import (
    HttpsAuditError,
    LocalProtocolError,
    Phase,
    PhaseTimeout,
    RemoteProtocolError,
    Unsupported,
)
from httpsaudit.net.raw_hello import AnswerKind
from httpsaudit.probes.base import HELLO_TIMEOUT_S, ProbeContext, ProbeFailed
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
# SCSV takes one slot, so one hello offers at most this many candidates.
MAX_SUITES_PER_HELLO = 126
# dsa_sha256 and dsa_sha1 (RFC 5246 §7.4.1.4.1 hash/signature pairs): without a DSA entry in
# signature_algorithms a DHE_DSS server must refuse its own suites.
DSA_SIGNATURE_SCHEMES = (0x0402, 0x0202)

SERVER = "server"
CLIENT = "client"
SINGLE = "single"
UNKNOWN = "unknown"

_AES_GCM = frozenset({"AES-128-GCM", "AES-256-GCM"})
_CHACHA20 = frozenset({"CHACHA20-POLY1305"})


class CipherSuitesProbe:
    """Accepted suites and preference per supported version, from raw hellos only.

    ``accepted`` is in the server's preference order when ``preference`` is "server". With
    "client" preference the server takes whatever the client lists first, so the order is just
    the order we discovered the suites in (our own offer order), not a server choice.
    """

    probe_id = ProbeId.CIPHER_SUITES
    requires: tuple[ProbeId, ...] = (ProbeId.VERSIONS,)

    def run(self, context: ProbeContext) -> CipherSuitesResult:
        versions = context.result_of(ProbeId.VERSIONS, VersionsResult)
        supported = sorted(
            (
                entry.version_code
                for entry in versions.versions
                if entry.support is Support.SUPPORTED
            ),
            reverse=True,
        )
        if not supported:
            raise Unsupported("no protocol version is supported, so no suite can be offered")
        # Pad past the F5 256-511 byte trap (RFC 7685) unless padding itself was refused.
        offers = _Offers(context, pad=versions.tolerates_large_hello is not False)
        found: list[VersionCipherSuites] = []
        try:
            for version in supported:
                found.append(_version_suites(offers, version))
            highest = found[0]
            aes128 = _prefers_aes128_over_aes256(offers, highest)
            chacha20 = _honours_chacha20_preference(offers, highest)
        except Unsupported:
            raise
        except HttpsAuditError as exc:
            raise ProbeFailed(exc, CipherSuitesResult(tuple(found), None, None)) from exc
        return CipherSuitesResult(
            versions=tuple(found),
            prefers_aes128_over_aes256=aes128,
            honours_chacha20_preference=chacha20,
        )


class _Offers:
    """Sends one hello per offer and reads which suite, if any, the server picked."""

    def __init__(self, context: ProbeContext, *, pad: bool) -> None:
        self._context = context
        self._pad = pad

    def pick(self, version: int, suites: Sequence[int]) -> int | None:
        """The suite the server picks from ``suites`` (in this client order); None = refused."""
        answer = self._context.hello(self._hello(version, tuple(suites)))
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

    def _hello(self, version: int, suites: tuple[int, ...]) -> ClientHelloSpec:
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


def _version_suites(offers: _Offers, version: int) -> VersionCipherSuites:
    offer_order = _chacha20_last(suites_for_version(version))
    accepted = _enumerate(offers, version, offer_order)
    preference = _preference(offers, version, accepted, offer_order)
    return VersionCipherSuites(
        version=version_label(version),
        version_code=version,
        accepted=tuple(_info(code) for code in accepted),
        preference=preference,
    )


def _enumerate(offers: _Offers, version: int, offer_order: Sequence[int]) -> list[int]:
    """Every suite the server accepts at ``version``, in the order it picked them."""
    remaining = list(offer_order)
    accepted: list[int] = []
    while remaining:  # each round removes at least one suite, so this ends
        window = remaining[:MAX_SUITES_PER_HELLO]
        winner = offers.pick(version, window)
        if winner is None:
            # Nothing in this window is acceptable; a list longer than one hello goes on.
            del remaining[: len(window)]
            continue
        accepted.append(winner)
        remaining.remove(winner)
    return accepted


def _preference(
    offers: _Offers, version: int, accepted: Sequence[int], offer_order: Sequence[int]
) -> str:
    """Offer the accepted suites reversed: the forward pick again means the server decides.

    The enumeration's first pick is the forward answer; one more hello gives the reverse.
    "client" also needs the enumeration to have followed our offer order at every step.
    """
    if not accepted:
        return UNKNOWN
    if len(accepted) == 1:
        return SINGLE
    backwards = _reversed_offer(accepted)
    pick = offers.pick(version, backwards)
    if pick == accepted[0]:
        return SERVER
    in_offer_order = [suite for suite in offer_order if suite in accepted]
    if pick == backwards[0] and list(accepted) == in_offer_order:
        return CLIENT
    return UNKNOWN


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


def _prefers_aes128_over_aes256(offers: _Offers, top: VersionCipherSuites) -> bool | None:
    """Offer AES-256-GCM then AES-128-GCM (same key exchange): True when AES-128 wins.

    None unless both are accepted at the highest version. A client-ordered server takes
    AES-256 here, so it answers False.
    """
    pair = _same_exchange_pair(top.accepted, frozenset({"AES-256-GCM"}), frozenset({"AES-128-GCM"}))
    if pair is None:
        return None
    pick = offers.pick(top.version_code, pair)
    return None if pick is None else pick == pair[1]


def _honours_chacha20_preference(offers: _Offers, top: VersionCipherSuites) -> bool | None:
    """Offer ChaCha20-Poly1305 first, then AES-GCM (same key exchange): True when ChaCha20 wins.

    Client order or OpenSSL's PRIORITIZE_CHACHA gives True; a server insisting on its AES order
    gives False. None when the highest version accepts ChaCha20 or AES-GCM not at all (with
    one key exchange for both): there is no choice to make.
    """
    pair = _same_exchange_pair(top.accepted, _CHACHA20, _AES_GCM)
    if pair is None:
        return None
    pick = offers.pick(top.version_code, pair)
    return None if pick is None else pick == pair[0]


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


def _is_chacha20(code: int) -> bool:
    facts = describe_suite(code)
    return facts is not None and facts.encryption in _CHACHA20


def _info(code: int) -> CipherSuiteInfo:
    facts = describe_suite(code)
    if facts is None:  # pick() only returns suites we offered, and every candidate is named
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
