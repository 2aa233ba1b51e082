"""Protection against a forced fallback to an older version than both sides speak.

Two independent defences: TLS_FALLBACK_SCSV (RFC 7507), which an old-style client retrying with
a lower version sends and the server must refuse, and the TLS 1.3 downgrade sentinel (RFC 8446
§4.1.3), which lets a TLS 1.3 client notice a TLS 1.2 ServerHello that an attacker provoked.
"""

from __future__ import annotations

from httpsaudit.net.raw_hello import AnswerKind, HelloAnswer
from httpsaudit.probes.base import ProbeContext
from httpsaudit.probes.hellos import hello_for_version
from httpsaudit.probes.versions import alert_name, answer_hello
from httpsaudit.results import DowngradeResult, ProbeId, Support, VersionsResult
from httpsaudit.tls.codes import AlertDescription, ProtocolVersion, version_label


class DowngradeProbe:
    """One fallback hello with the SCSV, and one TLS 1.2 hello where the sentinel applies."""

    probe_id = ProbeId.DOWNGRADE
    requires: tuple[ProbeId, ...] = (ProbeId.VERSIONS,)

    def run(self, context: ProbeContext) -> DowngradeResult:
        versions = context.result_of(ProbeId.VERSIONS, VersionsResult)
        supported = sorted(
            (
                ProtocolVersion(version.version_code)
                for version in versions.versions
                if version.support is Support.SUPPORTED
            ),
            reverse=True,
        )
        server_name = context.target.sni
        fallback_scsv = Support.NOT_TESTED
        fallback_answer_text: str | None = None
        tls12_answer: HelloAnswer | None = None
        if len(supported) >= 2:
            # RFC 7507 §3: a client retrying below its best version adds the SCSV; the server
            # must refuse when it supports a higher version than the one offered.
            fallback_version = supported[1]
            answer = context.hello(
                hello_for_version(fallback_version, server_name=server_name, fallback_scsv=True)
            )
            fallback_scsv, fallback_answer_text = judge_fallback(answer)
            if fallback_version == ProtocolVersion.TLSv1_2:
                tls12_answer = answer
        downgrade_sentinel: bool | None = None
        if ProtocolVersion.TLSv1_3 in supported and ProtocolVersion.TLSv1_2 in supported:
            if tls12_answer is None or tls12_answer.server_hello is None:
                # The SCSV hello was refused (as it should be): a plain TLS 1.2 hello instead.
                tls12_answer = context.hello(
                    hello_for_version(ProtocolVersion.TLSv1_2, server_name=server_name)
                )
            downgrade_sentinel = sentinel_of(tls12_answer)
        return DowngradeResult(
            fallback_scsv=fallback_scsv,
            fallback_scsv_answer=fallback_answer_text,
            downgrade_sentinel=downgrade_sentinel,
        )


def judge_fallback(answer: HelloAnswer) -> tuple[Support, str]:
    """RFC 7507 §3: only inappropriate_fallback(86) is a refusal for the SCSV's sake."""
    if answer.kind is AnswerKind.ALERT:
        name = alert_name(answer)
        if answer.alert is not None and answer.alert.description == (
            AlertDescription.INAPPROPRIATE_FALLBACK
        ):
            return Support.SUPPORTED, f"alert {name}"
        # Another alert to a version the server otherwise accepts says nothing about the SCSV.
        return Support.UNKNOWN, f"alert {name}"
    hello = answer_hello(answer)
    if hello is not None:
        return Support.NOT_SUPPORTED, f"{answer.kind.value} {version_label(hello.selected_version)}"
    return Support.UNKNOWN, answer.kind.value


def sentinel_of(answer: HelloAnswer) -> bool | None:
    """Whether a TLS 1.2 ServerHello carries DOWNGRD; None when no TLS 1.2 ServerHello came."""
    hello = answer.server_hello
    if hello is None or hello.selected_version != ProtocolVersion.TLSv1_2:
        return None
    # RFC 8446 §4.1.3: a TLS 1.3 server negotiating TLS 1.2 ends its random with DOWNGRD\x01.
    return hello.downgrade_sentinel
