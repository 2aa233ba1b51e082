"""TLS 1.2 False Start eligibility (RFC 7918): may a browser send its request before the
server's Finished, saving one round trip on a TLS 1.2 connection?

Browsers apply a stricter rule than RFC 7918 §5 allows: Chrome (BoringSSL
``ssl_can_false_start``) wants TLS 1.2, ECDHE, an AEAD suite and a negotiated ALPN protocol;
Firefox (``CanFalseStartCallback``) wants TLS 1.2, ECDHE and AEAD. We judge by Chrome's, the
strictest, so "eligible" holds for both. DHE does not qualify in either browser.

Mostly a derivation from the versions, key-exchange and ALPN probes. The one fact they may
lack is the ALPN answer *in TLS 1.2* when the server also speaks TLS 1.3 (the ALPN probe's
handshakes then ran TLS 1.3): one raw TLS 1.2 hello reads it from the cleartext ServerHello.
"""

from __future__ import annotations

from httpsaudit.net.raw_hello import AnswerKind, HelloAnswer
from httpsaudit.probes.alpn import BROWSER_OFFER
from httpsaudit.probes.base import ProbeContext
from httpsaudit.probes.hellos import hello_for_version
from httpsaudit.probes.key_exchange import BROWSER_TLS12_SUITES
from httpsaudit.results import (
    AlpnResult,
    FalseStartResult,
    KeyExchangeResult,
    ProbeId,
    Support,
    VersionsResult,
)
from httpsaudit.tls.codec import Reader
from httpsaudit.tls.codes import (
    AlertDescription,
    CipherSuite,
    ExtensionType,
    ProtocolVersion,
    name_of,
)
from httpsaudit.tls.suites import TLS12_SUITES, describe_suite

# The key exchange both browsers insist on before sending data early.
FALSE_START_KEY_EXCHANGE = "ECDHE"
NOT_OFFERED = "TLS 1.2 not offered"
NO_ALPN = "no ALPN negotiated"
_NOT_AEAD = {
    "CBC": "CBC suite: not AEAD",
    "stream": "RC4 stream cipher suite: not AEAD",
    "none": "NULL cipher suite: not AEAD",
}


class FalseStartProbe:
    """The browser False Start rule applied to what a browser gets in TLS 1.2; 0 or 1 hello."""

    probe_id = ProbeId.FALSE_START
    requires: tuple[ProbeId, ...] = (ProbeId.VERSIONS, ProbeId.KEY_EXCHANGE, ProbeId.ALPN)

    def run(self, context: ProbeContext) -> FalseStartResult:
        versions = context.result_of(ProbeId.VERSIONS, VersionsResult)
        key_exchange = context.result_of(ProbeId.KEY_EXCHANGE, KeyExchangeResult)
        alpn = context.result_of(ProbeId.ALPN, AlpnResult)
        # Modern clients speak TLS 1.3 to such a server: 1-RTT whatever False Start says.
        moot = _support(versions, ProtocolVersion.TLSv1_3) is Support.SUPPORTED
        tls12 = _support(versions, ProtocolVersion.TLSv1_2)
        if tls12 is Support.NOT_SUPPORTED or (
            tls12 is not Support.SUPPORTED and not key_exchange.tls12_supported
        ):
            return FalseStartResult(
                eligible=False, moot=moot, reasons=(NOT_OFFERED,), cipher_suite=None, alpn=None
            )
        suite = _suite_code(key_exchange.cipher_suite)
        refusal: str | None = None
        if suite is not None and not moot:
            # Every handshake was TLS 1.2, so the ALPN probe's browser offer is the answer.
            negotiated = alpn.selected_for_browser_offer
        else:
            suite, negotiated, refusal = _tls12_hello(context, suite)
        reasons = (refusal,) if refusal is not None else _reasons(suite, negotiated)
        return FalseStartResult(
            eligible=not reasons,
            moot=moot,
            reasons=reasons,
            cipher_suite=name_of(CipherSuite, suite) if suite is not None else None,
            alpn=negotiated,
        )


def _support(versions: VersionsResult, version: ProtocolVersion) -> Support:
    for entry in versions.versions:
        if entry.version_code == version:
            return entry.support
    return Support.NOT_TESTED


def _suite_code(name: str | None) -> int | None:
    """The code of a suite named as ``results`` name them: IANA name, or ``0xNNNN``."""
    if name is None:
        return None
    if name in CipherSuite.__members__:
        return int(CipherSuite[name])
    if name.startswith("0x"):
        try:
            return int(name, 16)
        except ValueError:
            return None
    return None


def _tls12_hello(
    context: ProbeContext, known_suite: int | None
) -> tuple[int | None, str | None, str | None]:
    """(suite, ALPN, refusal) for a browser-like TLS 1.2 hello offering "h2, http/1.1".

    The suite the key-exchange probe saw goes first, then that probe's browser-like list, so
    the answer concerns the same suite; every other TLS 1.2 suite follows, so that only ALPN
    can make the server refuse.
    """
    listed = (known_suite,) if known_suite is not None else ()
    suites = tuple(dict.fromkeys((*listed, *BROWSER_TLS12_SUITES, *TLS12_SUITES)))
    spec = hello_for_version(
        ProtocolVersion.TLSv1_2,
        server_name=context.target.sni,
        cipher_suites=suites,
        alpn=BROWSER_OFFER,
    )
    answer = context.hello(spec)
    hello = answer.server_hello
    if hello is not None and hello.selected_version == ProtocolVersion.TLSv1_2:
        suite = known_suite if known_suite is not None else hello.cipher_suite
        extension = hello.extension(ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION)
        return suite, _selected_protocol(extension), None
    if (
        answer.alert is not None
        and answer.alert.description == AlertDescription.NO_APPLICATION_PROTOCOL
    ):
        # RFC 7301 §3.2: no protocol in common; the handshake would not even complete.
        return known_suite, None, None
    return known_suite, None, f"a browser-like TLS 1.2 hello {_refusal(answer)}"


def _refusal(answer: HelloAnswer) -> str:
    if answer.kind is AnswerKind.ALERT and answer.alert is not None:
        return f"was refused with alert {name_of(AlertDescription, answer.alert.description)}"
    if answer.server_hello is not None:
        version = name_of(ProtocolVersion, answer.server_hello.selected_version)
        return f"was answered with {version} instead of TLS 1.2"
    return f"got no ServerHello ({answer.kind.value})"


def _selected_protocol(extension: bytes | None) -> str | None:
    """RFC 7301 §3.1: the server's ALPN extension names exactly one protocol."""
    if extension is None:
        return None
    reader = Reader(extension)
    names = reader.sub_reader(2, "protocol_name_list", minimum=2, maximum=2**16 - 1)
    name = names.opaque(1, "protocol_name", minimum=1, maximum=255)
    names.expect_end("protocol_name_list")
    reader.expect_end("application_layer_protocol_negotiation")
    return name.decode("ascii", "replace")


def _reasons(suite: int | None, negotiated: str | None) -> tuple[str, ...]:
    """Why a browser would wait for the server's Finished, in the order it checks."""
    reasons: list[str] = []
    facts = describe_suite(suite) if suite is not None else None
    if facts is None:
        reasons.append(
            "cipher suite unknown: cannot tell its key exchange"
            if suite is None
            else f"unknown cipher suite 0x{suite:04x}: cannot tell its key exchange"
        )
    else:
        if facts.key_exchange == "RSA":
            reasons.append("static RSA key exchange: no forward secrecy")
        elif facts.key_exchange != FALSE_START_KEY_EXCHANGE:
            reasons.append(
                f"{facts.key_exchange} key exchange: browsers False Start only after ECDHE"
            )
        if facts.mode != "AEAD":
            reasons.append(_NOT_AEAD.get(facts.mode, f"{facts.mode} suite: not AEAD"))
    if negotiated is None:
        reasons.append(NO_ALPN)
    return tuple(reasons)
