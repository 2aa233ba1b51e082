"""Which protocol versions the server speaks, and whether unusual but valid hellos upset it.

Each version is offered alone in a raw hello, so a server that negotiates down cannot pass for
supporting what it was offered. Two more hellos test tolerance of GREASE (RFC 8701) and of a
hello padded past 512 bytes (RFC 7685): an intolerant server or middlebox makes clients fall
back, which costs a round trip and, worse, a weaker version.
"""

from __future__ import annotations

import dataclasses

from httpsaudit.net.raw_hello import AnswerKind, HelloAnswer
from httpsaudit.probes.base import ProbeContext
from httpsaudit.probes.hellos import grease_values, hello_for_version
from httpsaudit.results import ProbeId, Support, VersionsResult, VersionSupport
from httpsaudit.tls.codes import (
    AlertDescription,
    CipherSuite,
    ProtocolVersion,
    name_of,
    version_label,
)
from httpsaudit.tls.hello import GREASE_VALUES, LARGE_HELLO_BYTES, ClientHelloSpec
from httpsaudit.tls.messages import ServerHello
from httpsaudit.tls.suites import suites_for_version

# Offered one at a time, oldest first; SSL 2.0 has a different hello format and is not probed.
PROBED_VERSIONS: tuple[ProtocolVersion, ...] = (
    ProtocolVersion.SSLv3,
    ProtocolVersion.TLSv1_0,
    ProtocolVersion.TLSv1_1,
    ProtocolVersion.TLSv1_2,
    ProtocolVersion.TLSv1_3,
)
# RFC 8446 §4.2.1: supported_versions can name TLS 1.0 and later; SSL 3.0 has no extensions.
OLDEST_LISTABLE_VERSION = ProtocolVersion.TLSv1_0


class VersionsProbe:
    """Five one-version hellos, then two tolerance hellos (and a plain one if either fails)."""

    probe_id = ProbeId.VERSIONS
    requires: tuple[ProbeId, ...] = (ProbeId.CONNECTION,)

    def run(self, context: ProbeContext) -> VersionsResult:
        server_name = context.target.sni
        specs = [hello_for_version(version, server_name=server_name) for version in PROBED_VERSIONS]
        # The timed connection already named the best version and a suite it takes: the
        # tolerance hellos can go out beside the version hellos instead of a round after them.
        guessed = _negotiated(context)
        with context.hello_pool() as pool:
            early = pool.submit_call(check_tolerance, context, guessed) if guessed else None
            answers = pool.exchange_all(specs)
            versions = tuple(
                version_support(version, answer)
                for version, answer in zip(PROBED_VERSIONS, answers, strict=True)
            )
            supported = tuple(
                version.version for version in versions if version.support is Support.SUPPORTED
            )
            chosen_suites = {
                version: hello.cipher_suite
                for version, support, answer in zip(PROBED_VERSIONS, versions, answers, strict=True)
                if support.support is Support.SUPPORTED
                and (hello := answer_hello(answer)) is not None
            }
            guess_held = bool(guessed) and max(guessed) == max(chosen_suites, default=None)
            tolerance = (
                early.result()
                if early is not None and guess_held
                else check_tolerance(context, chosen_suites)
            )
        return VersionsResult(
            versions=versions,
            supported=supported,
            highest=supported[-1] if supported else None,
            lowest=supported[0] if supported else None,
            tolerates_grease=tolerance.grease,
            tolerates_large_hello=tolerance.large_hello,
            intolerance=tolerance.problems,
        )


def _negotiated(context: ProbeContext) -> dict[ProtocolVersion, int]:
    """The version and suite the timed connection agreed on, when it got that far."""
    connection = context.connection.result if context.connection is not None else None
    tls = connection.tls if connection is not None else None
    if tls is None or tls.cipher_suite_code is None:
        return {}
    try:
        version = ProtocolVersion(tls.version_code)
    except ValueError:
        return {}
    return {version: tls.cipher_suite_code}


def answer_hello(answer: HelloAnswer) -> ServerHello | None:
    """The ServerHello or HelloRetryRequest, whichever the server sent."""
    return answer.server_hello or answer.hello_retry_request


def alert_name(answer: HelloAnswer) -> str | None:
    """``internal_error`` for alert 80: the spelling of RFC 8446 §6."""
    if answer.alert is None:
        return None
    return name_of(AlertDescription, answer.alert.description).lower()


def describe_refusal(answer: HelloAnswer) -> str:
    """How a server refused a hello, in words."""
    if answer.kind is AnswerKind.ALERT:
        return f"was answered with alert {alert_name(answer)}"
    if answer.kind is AnswerKind.RESET:
        return "was answered with a connection reset"
    if answer.kind is AnswerKind.TIMEOUT:
        return "got no answer before the timeout"
    return "was answered by closing the connection"


def version_support(version: ProtocolVersion, answer: HelloAnswer) -> VersionSupport:
    """Supported only when the server selects exactly ``version``.

    A server that cannot speak the offered version may negotiate down (RFC 5246 §E.1), so a
    TLS 1.0 ServerHello to a TLS 1.2 hello says "not 1.2". For TLS 1.3 a HelloRetryRequest
    already carries the selected version (RFC 8446 §4.1.4).
    """
    hello = answer_hello(answer)
    server_version = hello.selected_version if hello is not None else None
    supported = server_version == version
    return VersionSupport(
        version=version.label,
        version_code=int(version),
        support=Support.SUPPORTED if supported else Support.NOT_SUPPORTED,
        answer=answer.kind.value,
        server_version_code=server_version,
        alert=alert_name(answer),
        cipher_suite=name_of(CipherSuite, hello.cipher_suite)
        if supported and hello is not None
        else None,
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Tolerance:
    """The verdicts of the tolerance hellos and what went wrong, in words."""

    grease: bool | None
    large_hello: bool | None
    problems: tuple[str, ...]


def tolerance_hello(
    chosen_suites: dict[ProtocolVersion, int], server_name: str | None
) -> ClientHelloSpec | None:
    """A TLS 1.3-capable hello listing every version the server speaks, or None if none fits.

    It lists the TLS 1.3 suites and, for older versions, the suite each one chose: the hello
    stays small (about 210 bytes, below the 256-511 byte range some servers mishandle, RFC 7685
    §1), yet any server gets a suite it accepts.
    """
    versions = sorted(
        (version for version in chosen_suites if version >= OLDEST_LISTABLE_VERSION), reverse=True
    )
    if not versions:
        return None
    suites: list[int] = []
    if ProtocolVersion.TLSv1_3 in versions:
        suites.extend(suites_for_version(ProtocolVersion.TLSv1_3))
    for version in versions:
        if version < ProtocolVersion.TLSv1_3 and chosen_suites[version] not in suites:
            suites.append(chosen_suites[version])
    base = hello_for_version(
        ProtocolVersion.TLSv1_3, server_name=server_name, cipher_suites=tuple(suites)
    )
    # RFC 8446 §4.2.1: servers that know supported_versions ignore legacy_version; older ones
    # read it, so it names the best pre-1.3 version we list.
    return dataclasses.replace(
        base,
        supported_versions=tuple(versions),
        legacy_version=min(versions[0], ProtocolVersion.TLSv1_2),
    )


def judge_tolerance(answer: HelloAnswer, expected_version: int) -> str | None:
    """None when the server answered as it answers a plain hello, else what it did instead."""
    hello = answer_hello(answer)
    if hello is None:
        return describe_refusal(answer)
    if hello.selected_version != expected_version:
        return (
            f"got {version_label(hello.selected_version)} instead of "
            f"{version_label(expected_version)}"
        )
    # RFC 8701 §3: a server must never select a GREASE value.
    if hello.cipher_suite in GREASE_VALUES:
        return f"was answered with the GREASE cipher suite 0x{hello.cipher_suite:04x}"
    if hello.key_share_group in GREASE_VALUES:
        return f"was answered with the GREASE group 0x{hello.key_share_group:04x}"
    return None


def check_tolerance(context: ProbeContext, chosen_suites: dict[ProtocolVersion, int]) -> Tolerance:
    """GREASE and padded hellos; the plain hello runs only to explain a failure."""
    plain = tolerance_hello(chosen_suites, context.target.sni)
    if plain is None:
        return Tolerance(grease=None, large_hello=None, problems=())
    expected = plain.supported_versions[0]
    with_grease = dataclasses.replace(plain, grease=grease_values())
    padded = dataclasses.replace(plain, pad_to_bytes=LARGE_HELLO_BYTES)
    grease_answer, padded_answer = context.hellos([with_grease, padded])
    grease_problem = judge_tolerance(grease_answer, expected)
    padded_problem = judge_tolerance(padded_answer, expected)
    if grease_problem is None and padded_problem is None:
        return Tolerance(grease=True, large_hello=True, problems=())
    # A failure counts against GREASE or size only if the same hello without them works.
    plain_answer = context.hello(plain)
    plain_problem = judge_tolerance(plain_answer, expected)
    plain_bytes = plain_answer.client_hello_bytes
    plain_outcome = (
        f"got {version_label(expected)}" if plain_problem is None else f"{plain_problem} too"
    )
    problems: list[str] = []
    if grease_problem is not None:
        problems.append(
            f"a hello with GREASE values {grease_problem}; "
            f"the same hello without them ({plain_bytes} bytes) {plain_outcome}"
        )
    if padded_problem is not None:
        problems.append(
            f"a hello padded to {padded_answer.client_hello_bytes} bytes {padded_problem}; "
            f"the same hello unpadded ({plain_bytes} bytes) {plain_outcome}"
        )
    blamed = plain_problem is None
    return Tolerance(
        grease=_verdict(grease_problem, blamed=blamed),
        large_hello=_verdict(padded_problem, blamed=blamed),
        problems=tuple(problems),
    )


def _verdict(problem: str | None, *, blamed: bool) -> bool | None:
    """Tolerated; not tolerated; or unknown when even the plain hello failed."""
    if problem is None:
        return True
    return False if blamed else None
