"""0-RTT early data rules: a replayed first flight must not run a request twice. Checks are
pure functions of the ScanResult.

The probe replays two ways (the byte-identical first flight on a new connection, and the same
ticket in a new ClientHello). A replay *served* (answered with anything but 425 Too Early) is
EARLY001; a replay whose early data was *accepted* but not seen served is EARLY002, so one
weakness never counts twice.
"""

from __future__ import annotations

from httpsaudit.results import EarlyDataResult, ProbeId, ReplayCheck, ScanResult, Support
from httpsaudit.rules.model import (
    Advice,
    Category,
    CheckContext,
    EvidenceValue,
    Localized,
    Rule,
    RuleStatus,
    ServerKind,
    Severity,
    Snippet,
    Verdict,
)

TOO_EARLY_STATUS = 425  # RFC 8470 §5.2: the server refuses to process a request from early data

REFERENCES = (
    "RFC 8446 §2.3",
    "RFC 8446 §8",
    "RFC 8446 §E.5",
    "RFC 8470",
)

NGINX_EARLY_DATA_OFF = Snippet(
    "ssl_early_data off;\n"
    "# or keep it on and let the application refuse what must not run twice (RFC 8470):\n"
    "# proxy_set_header Early-Data $ssl_early_data;  # the app answers 425 Too Early"
)
APACHE_NO_EARLY_DATA = Snippet(
    "Apache httpd (mod_ssl) never accepts TLS 1.3 early data: 0-RTT is accepted by a proxy or "
    "CDN in front of it, so turn it off (or add replay protection) there.",
    not_configurable=True,
)
HAPROXY_NO_0RTT = Snippet(
    "# remove allow-0rtt from the bind line, or make early requests wait for the handshake:\n"
    "bind :443 ssl crt /etc/haproxy/site.pem\n"
    "# http-request wait-for-handshake"
)
CADDY_NO_EARLY_DATA = Snippet(
    "Caddy (Go's crypto/tls) never accepts TLS 1.3 early data over TCP: 0-RTT is accepted by a "
    "proxy or CDN in front of it, so turn it off (or add replay protection) there.",
    not_configurable=True,
)


def _early_data(scan: ScanResult) -> EarlyDataResult:
    result = scan.early_data.result
    if result is None:  # the engine checks requires first; this keeps mypy honest
        raise ValueError("early data probe result missing")
    return result


def _replays(result: EarlyDataResult) -> dict[str, ReplayCheck]:
    return {"exact_replay": result.exact_replay, "ticket_reuse": result.ticket_reuse}


def _evidence(result: EarlyDataResult) -> dict[str, EvidenceValue]:
    evidence: dict[str, EvidenceValue] = {
        "early_data_accepted": result.accepted.value,
        "max_early_data_bytes": result.max_early_data_bytes,
        "method": result.method,
    }
    for name, replay in _replays(result).items():
        evidence[f"{name}_early_data_accepted"] = replay.early_data_accepted
        evidence[f"{name}_served"] = replay.served
        evidence[f"{name}_status"] = replay.status
    evidence["served_replays"] = tuple(_served(result))
    evidence["accepted_replays"] = tuple(_accepted_unserved(result))
    return evidence


def _served(result: EarlyDataResult) -> list[str]:
    return [name for name, replay in _replays(result).items() if replay.served is True]


def _accepted_unserved(result: EarlyDataResult) -> list[str]:
    """Replays whose early data TLS accepted, neither served nor refused with a 425."""
    return [
        name
        for name, replay in _replays(result).items()
        if replay.early_data_accepted is True
        and replay.served is not True
        and replay.status != TOO_EARLY_STATUS
    ]


def _not_taken(result: EarlyDataResult, evidence: dict[str, EvidenceValue]) -> Verdict | None:
    """Not applicable when the server takes no 0-RTT at all; unknown when that is unclear."""
    if result.accepted is Support.SUPPORTED:
        return None
    if result.offered is Support.NOT_SUPPORTED or result.accepted is Support.NOT_SUPPORTED:
        return Verdict.not_applicable("the server does not accept 0-RTT early data", evidence)
    return Verdict(
        RuleStatus.UNKNOWN, {"reason": "0-RTT acceptance could not be tested", **evidence}
    )


def replay_served(scan: ScanResult, context: CheckContext) -> Verdict:
    """A replayed 0-RTT request was answered: the server ran it a second time."""
    result = _early_data(scan)
    evidence = _evidence(result)
    skip = _not_taken(result, evidence)
    if skip is not None:
        return skip
    replays = _replays(result)
    if evidence["served_replays"]:
        return Verdict.failed(evidence)
    if all(replay.tested and replay.served is False for replay in replays.values()):
        return Verdict.passed(evidence)
    untested = [replay.note or name for name, replay in replays.items() if replay.served is None]
    return Verdict(
        RuleStatus.UNKNOWN, {"reason": "; ".join(untested) or "replays not tested", **evidence}
    )


def replay_accepted(scan: ScanResult, context: CheckContext) -> Verdict:
    """Replayed early data accepted by TLS, without a 425 and without a seen answer.

    A replay answered 425 Too Early is refused by the application (RFC 8470): protected.
    A replay that was served is EARLY001's finding, so this one then does not apply.
    """
    result = _early_data(scan)
    evidence = _evidence(result)
    skip = _not_taken(result, evidence)
    if skip is not None:
        return skip
    replays = _replays(result)
    if any(replay.served is True for replay in replays.values()):
        return Verdict.not_applicable("a replay was served: EARLY001 reports it", evidence)
    if evidence["accepted_replays"]:
        return Verdict.failed(evidence)
    if all(replay.early_data_accepted is not None for replay in replays.values()):
        return Verdict.passed(evidence)
    untested = [
        replay.note or name
        for name, replay in replays.items()
        if replay.early_data_accepted is None
    ]
    return Verdict(RuleStatus.UNKNOWN, {"reason": "; ".join(untested), **evidence})


REPLAY_SERVED = Rule(
    id="EARLY001",
    name="zero-rtt-replay-served",
    severity=Severity.HIGH,
    category=Category.SECURITY,
    title=Localized(
        en="A replayed 0-RTT request was served again ({served_replays})",
        zh="重放的 0-RTT 请求再次被服务器处理({served_replays})",
    ),
    why=Localized(
        en="Early data travels before the handshake proves the client is live, so anyone on the "
        "path can record a client's first flight and send it again. This server accepted such a "
        "replay and answered the request a second time: a request that changes anything (a "
        "purchase, a vote, a counter) can be made to happen twice, without the attacker "
        "decrypting a byte.",
        zh="0-RTT 早期数据在握手证明客户端在线之前就已发出,路径上的任何人都能录下客户端的首个数据包"
        "再原样重发。这台服务器接受了这样的重放,并再次响应了请求:任何有副作用的请求"
        "(下单、投票、计数)都可能被执行两次,攻击者连一个字节都不用解密。",
    ),
    requires=(ProbeId.EARLY_DATA,),
    check=replay_served,
    advice=Advice(
        summary=Localized(
            en="Turn 0-RTT off, or keep it only where the server refuses replays (a single-use "
            "ticket store or a ClientHello record) and the application answers 425 Too Early to "
            "anything that must not run twice.",
            zh="关闭 0-RTT;或者只在服务器能拒绝重放(票据只能用一次,或记录已见过的 ClientHello)"
            "并且应用对不能执行两次的请求返回 425 Too Early 时才开启。",
        ),
        snippets={
            ServerKind.NGINX: NGINX_EARLY_DATA_OFF,
            ServerKind.APACHE: APACHE_NO_EARLY_DATA,
            ServerKind.HAPROXY: HAPROXY_NO_0RTT,
            ServerKind.CADDY: CADDY_NO_EARLY_DATA,
        },
        references=REFERENCES,
    ),
)

REPLAY_ACCEPTED = Rule(
    id="EARLY002",
    name="zero-rtt-replay-accepted",
    severity=Severity.MEDIUM,
    category=Category.SECURITY,
    title=Localized(
        en="0-RTT is on without replay protection: replayed early data was accepted "
        "({accepted_replays})",
        zh="0-RTT 已开启但没有防重放保护:重放的早期数据被接受({accepted_replays})",
    ),
    why=Localized(
        en="The server took the same early data a second time. No answer to the replay was seen, "
        "so this scan cannot tell whether the request ran twice, but nothing at the TLS layer "
        "stopped it: whatever the application does with early data, an attacker who recorded "
        "the first flight can make it do again.",
        zh="服务器第二次接受了同样的早期数据。本次扫描没有收到对重放的响应,无法判断请求是否被执行了"
        "两次,但 TLS 层没有做任何拦截:应用对早期数据做的任何事,录下首个数据包的攻击者都能让它再做"
        "一次。",
    ),
    requires=(ProbeId.EARLY_DATA,),
    check=replay_accepted,
    advice=Advice(
        summary=Localized(
            en="Refuse replays at the TLS layer (single-use tickets or a ClientHello record), "
            "answer 425 Too Early to requests that must not run twice, or turn 0-RTT off.",
            zh="在 TLS 层拒绝重放(票据只能用一次,或记录已见过的 ClientHello),对不能执行两次的请求"
            "返回 425 Too Early,或者干脆关闭 0-RTT。",
        ),
        snippets={
            ServerKind.NGINX: NGINX_EARLY_DATA_OFF,
            ServerKind.APACHE: APACHE_NO_EARLY_DATA,
            ServerKind.HAPROXY: HAPROXY_NO_0RTT,
            ServerKind.CADDY: CADDY_NO_EARLY_DATA,
        },
        references=REFERENCES,
    ),
)

RULES: tuple[Rule, ...] = (REPLAY_SERVED, REPLAY_ACCEPTED)
