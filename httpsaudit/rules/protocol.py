"""Protocol-version rules: what a new connection costs in round trips, and what old versions
risk. Checks are pure functions of the ScanResult."""

from __future__ import annotations

from httpsaudit.results import ProbeId, ScanResult, Support, VersionsResult
from httpsaudit.rules.model import (
    Advice,
    Category,
    CheckContext,
    Localized,
    Rule,
    ServerKind,
    Severity,
    Snippet,
    Verdict,
)

OLD_VERSIONS = ("SSLv3", "TLSv1.0", "TLSv1.1")


def _versions(scan: ScanResult) -> VersionsResult:
    result = scan.versions.result
    if result is None:  # the engine checks requires first; this keeps mypy honest
        raise ValueError("versions probe result missing")
    return result


def tls13_disabled(scan: ScanResult, context: CheckContext) -> Verdict:
    """TLS 1.3 offered: pass. Otherwise a full handshake costs one more round trip."""
    versions = _versions(scan)
    evidence = {"offered_versions": versions.supported}
    if "TLSv1.3" in versions.supported:
        return Verdict.passed(evidence)
    if not versions.supported:
        return Verdict.not_applicable("the server accepted no protocol version", evidence)
    return Verdict.failed(evidence, saving=context.saving(1))


def old_versions_offered(scan: ScanResult, context: CheckContext) -> Verdict:
    """SSL 3.0, TLS 1.0 or 1.1 accepted (RFC 8996 deprecates TLS 1.0 and 1.1)."""
    versions = _versions(scan)
    old = tuple(
        entry.version
        for entry in versions.versions
        if entry.version in OLD_VERSIONS and entry.support is Support.SUPPORTED
    )
    evidence = {"old_versions": old, "offered_versions": versions.supported}
    return Verdict.failed(evidence) if old else Verdict.passed(evidence)


TLS13_DISABLED = Rule(
    id="TLS001",
    name="tls13-disabled",
    severity=Severity.HIGH,
    category=Category.LATENCY,
    title=Localized(
        en="TLS 1.3 is not offered (offered: {offered_versions})",
        zh="服务器未启用 TLS 1.3(当前支持:{offered_versions})",
    ),
    why=Localized(
        en="A full TLS 1.3 handshake takes 1 round trip; TLS 1.2 takes 2 (1 only with False "
        "Start). TLS 1.3 also drops every legacy cipher and is the only way to 0-RTT.",
        zh="TLS 1.3 完整握手只需 1 个往返,TLS 1.2 需要 2 个(False Start 时为 1 个)。"
        "TLS 1.3 同时去掉了所有过时的密码套件,也是实现 0-RTT 的唯一途径。",
    ),
    requires=(ProbeId.VERSIONS,),
    check=tls13_disabled,
    advice=Advice(
        summary=Localized(
            en="Enable TLS 1.3 next to TLS 1.2: it saves {saved_round_trips} round trip, "
            "about {saved_ms} ms per new connection at your measured RTT.",
            zh="在 TLS 1.2 之外启用 TLS 1.3:每个新连接节省 {saved_round_trips} 个往返,"
            "按实测 RTT 约 {saved_ms} 毫秒。",
        ),
        snippets={
            ServerKind.NGINX: Snippet("ssl_protocols TLSv1.2 TLSv1.3;"),
            ServerKind.APACHE: Snippet("SSLProtocol -all +TLSv1.2 +TLSv1.3"),
            ServerKind.HAPROXY: Snippet(
                "global\n    ssl-default-bind-options ssl-min-ver TLSv1.2 ssl-max-ver TLSv1.3"
            ),
            ServerKind.CADDY: Snippet("tls {\n    protocols tls1.2 tls1.3\n}"),
        },
        references=("RFC 8446 §2", "https://wiki.mozilla.org/Security/Server_Side_TLS"),
    ),
)

OLD_VERSIONS_OFFERED = Rule(
    id="TLS002",
    name="old-versions-offered",
    severity=Severity.MEDIUM,
    category=Category.SECURITY,
    title=Localized(
        en="Deprecated protocol versions are accepted: {old_versions}",
        zh="服务器仍接受已废弃的协议版本:{old_versions}",
    ),
    why=Localized(
        en="SSL 3.0, TLS 1.0 and TLS 1.1 are deprecated (RFC 8996): they rely on SHA-1 and "
        "CBC constructions with known attacks, and no current browser needs them.",
        zh="SSL 3.0、TLS 1.0 和 TLS 1.1 已被 RFC 8996 废弃:它们依赖 SHA-1 和存在已知攻击的 "
        "CBC 构造,现代浏览器都不再需要。",
    ),
    requires=(ProbeId.VERSIONS,),
    check=old_versions_offered,
    advice=Advice(
        summary=Localized(
            en="Accept TLS 1.2 and TLS 1.3 only.",
            zh="只接受 TLS 1.2 和 TLS 1.3。",
        ),
        snippets={
            ServerKind.NGINX: Snippet("ssl_protocols TLSv1.2 TLSv1.3;"),
            ServerKind.APACHE: Snippet("SSLProtocol -all +TLSv1.2 +TLSv1.3"),
            ServerKind.HAPROXY: Snippet("global\n    ssl-default-bind-options ssl-min-ver TLSv1.2"),
            ServerKind.CADDY: Snippet("tls {\n    protocols tls1.2 tls1.3\n}"),
        },
        references=("RFC 8996",),
    ),
)

RULES = (TLS13_DISABLED, OLD_VERSIONS_OFFERED)
