"""Session resumption rules: what a returning visitor pays when resumption fails, and what a
resumable session risks. Checks are pure functions of the ScanResult.

TLS 1.2 is judged the way a client meets it: a browser offers a ticket and a Session ID at once
and resumes by whichever works, so one working mechanism makes TLS 1.2 resumable (RES003,
RES005, RES008); the two mechanisms each still have their own low-severity rule.
"""

from __future__ import annotations

from collections.abc import Iterable

from httpsaudit.results import (
    ProbeId,
    ResumptionAttempts,
    ResumptionResult,
    ScanResult,
    Support,
    TicketFacts,
)
from httpsaudit.rules.engine import detect_server
from httpsaudit.rules.model import (
    Advice,
    Category,
    CheckContext,
    Evidence,
    EvidenceValue,
    Localized,
    Rule,
    RuleStatus,
    ServerKind,
    Severity,
    Snippet,
    Verdict,
)

SESSION_ID = "session_id"
SESSION_TICKET = "session_ticket"
TLS13_PSK = "tls13_psk"
# The protocol version of each mechanism: a client is served if one of its version's works.
VERSION_OF = {SESSION_ID: "TLSv1.2", SESSION_TICKET: "TLSv1.2", TLS13_PSK: "TLSv1.3"}

# Longest ticket lifetime accepted: one day, as Mozilla's server-side TLS configurations use
# (ssl_session_timeout 1d). Resumption within a day covers returning visitors; beyond it the
# ticket key must live on, widening what its theft would expose.
MAX_TICKET_LIFETIME_S = 86400
# nginx 1.23.2 rotates its own ticket keys, but only with a shared-memory ssl_session_cache
# and no ssl_session_ticket_key (CHANGES, 1.23.2). Earlier releases never rotate them.
NGINX_ROTATES_TICKET_KEYS_FROM = (1, 23, 2)

REFERENCES_RESUMPTION = (
    "RFC 5246 §7.4.1.2",
    "RFC 5077",
    "RFC 8446 §2.2",
    "https://wiki.mozilla.org/Security/Server_Side_TLS",
)
REFERENCE_SPRINGALL = (
    "Springall, Durumeric, Halderman: Measuring the Security Harm of TLS Crypto Shortcuts "
    "(IMC 2016), https://jhalderm.com/pub/papers/forward-secrecy-imc16.pdf"
)

# -- Shared advice text ------------------------------------------------------------------------

NGINX_SESSION_CACHE = (
    "ssl_session_cache shared:SSL:10m;  # about 40,000 sessions\nssl_session_timeout 1h;"
)
APACHE_SESSION_CACHE = (
    'SSLSessionCache "shmcb:/var/run/apache2/ssl_scache(512000)"\nSSLSessionCacheTimeout 3600'
)
HAPROXY_SESSION_CACHE = (
    "global\n"
    "    tune.ssl.cachesize 20000  # sessions; 0 turns the cache off\n"
    "    tune.ssl.lifetime 3600"
)
CADDY_TICKETS_ON = '{"apps": {"tls": {"session_tickets": {"disabled": false}}}}'
NGINX_TICKET_KEY_FILES = (
    "ssl_session_ticket_key /etc/nginx/tickets/current.key;   # openssl rand 80 > current.key\n"
    "ssl_session_ticket_key /etc/nginx/tickets/previous.key;  # yesterday's key, still opens"
)


def _resumption(scan: ScanResult) -> ResumptionResult:
    result = scan.resumption.result
    if result is None:  # the engine checks requires first; this keeps mypy honest
        raise ValueError("resumption probe result missing")
    return result


def _unknown(reason: str, evidence: Evidence) -> Verdict:
    """The probe ran but could not answer this rule's question: unknown, never passed."""
    return Verdict(RuleStatus.UNKNOWN, {"reason": reason, **evidence})


def _counts(prefix: str, attempts: ResumptionAttempts) -> dict[str, EvidenceValue]:
    return {
        f"{prefix}_support": attempts.support.value,
        f"{prefix}_attempts": attempts.attempts,
        f"{prefix}_resumed": attempts.resumed,
    }


def _rounds_saved(*attempts: ResumptionAttempts) -> int:
    """Round trips a resumption saves: the measured full handshake's, less the resumed one."""
    full = max((entry.full_round_trips or 0 for entry in attempts), default=0)
    return max(full - 1, 0) if full else 1


def _why_not_tested(attempts: ResumptionAttempts) -> str:
    return attempts.note or f"{attempts.mechanism} was not tested"


# -- RES001 / RES002: one TLS 1.2 mechanism missing ------------------------------------------------


def _one_tls12_mechanism(
    missing: ResumptionAttempts, other: ResumptionAttempts, context: CheckContext
) -> Verdict:
    """Fail when ``missing`` does not resume while ``other`` does; neither is RES003's."""
    prefix = missing.mechanism
    evidence: dict[str, EvidenceValue] = {
        **_counts(prefix, missing),
        f"{other.mechanism}_support": other.support.value,
        f"{prefix}_note": missing.note,
    }
    if missing.support is Support.NOT_TESTED:
        return Verdict.not_applicable(_why_not_tested(missing), evidence)
    if missing.support is Support.UNKNOWN:
        return _unknown(missing.note or f"{prefix} resumption could not be tested", evidence)
    if missing.support is Support.SUPPORTED:
        return Verdict.passed(evidence)
    if other.support is Support.NOT_SUPPORTED:
        return Verdict.not_applicable(
            "neither TLS 1.2 mechanism resumes: RES003 reports it", evidence
        )
    return Verdict.failed(evidence, saving=context.saving(_rounds_saved(missing)))


def session_id_missing(scan: ScanResult, context: CheckContext) -> Verdict:
    """Session ID resumption fails while tickets work: only ticket-less clients pay."""
    result = _resumption(scan)
    return _one_tls12_mechanism(result.session_id, result.session_ticket, context)


def session_ticket_missing(scan: ScanResult, context: CheckContext) -> Verdict:
    """Ticket resumption fails while Session IDs work: resumption stays on one server."""
    result = _resumption(scan)
    return _one_tls12_mechanism(result.session_ticket, result.session_id, context)


# -- RES003: no TLS 1.2 resumption at all -------------------------------------------------------


def tls12_resumption_missing(scan: ScanResult, context: CheckContext) -> Verdict:
    """Neither Session ID nor ticket resumes: every returning TLS 1.2 visit is a full one."""
    result = _resumption(scan)
    session_id, ticket = result.session_id, result.session_ticket
    evidence: dict[str, EvidenceValue] = {
        **_counts(SESSION_ID, session_id),
        **_counts(SESSION_TICKET, ticket),
        "full_round_trips": ticket.full_round_trips or session_id.full_round_trips,
        "server_flight_bytes_full": ticket.server_flight_bytes_full
        or session_id.server_flight_bytes_full,
    }
    supports = {session_id.support, ticket.support}
    if Support.SUPPORTED in supports:
        return Verdict.passed(evidence)
    if Support.NOT_TESTED in supports:
        return Verdict.not_applicable(_why_not_tested(session_id), evidence)
    if Support.UNKNOWN in supports:
        notes = "; ".join(note for note in (session_id.note, ticket.note) if note)
        return _unknown(notes or "TLS 1.2 resumption could not be tested", evidence)
    return Verdict.failed(evidence, saving=context.saving(_rounds_saved(session_id, ticket)))


# -- RES004: no TLS 1.3 resumption ------------------------------------------------------------


def tls13_resumption_missing(scan: ScanResult, context: CheckContext) -> Verdict:
    """TLS 1.3 PSK resumption fails: the chain and signatures again on every return visit."""
    result = _resumption(scan)
    psk = result.tls13_psk
    tickets = result.tls13_tickets
    evidence: dict[str, EvidenceValue] = {
        **_counts(TLS13_PSK, psk),
        "tls13_psk_note": psk.note,
        "tickets_per_connection": tickets.tickets_per_connection if tickets else 0,
        "server_flight_bytes_full": psk.server_flight_bytes_full,
    }
    if psk.support is Support.NOT_TESTED:
        return Verdict.not_applicable(_why_not_tested(psk), evidence)
    if psk.support is Support.UNKNOWN:
        return _unknown(psk.note or "TLS 1.3 resumption could not be tested", evidence)
    if psk.support is Support.SUPPORTED:
        return Verdict.passed(evidence)
    if tickets is None:
        return Verdict.failed(evidence, message=TLS13_NO_TICKETS)
    return Verdict.failed(evidence)


TLS13_NO_TICKETS = Localized(
    en="TLS 1.3 sessions cannot be resumed: the server sends no session ticket, so every "
    "return visit repeats the full handshake ({server_flight_bytes_full} bytes from the server)",
    zh="TLS 1.3 会话无法恢复:服务器不发送会话票据,每次回访都要重做完整握手"
    "(服务器发送 {server_flight_bytes_full} 字节)",
)


# -- RES005: resumption that works only sometimes -------------------------------------------------


def _best_rate(mechanisms: Iterable[ResumptionAttempts]) -> float | None:
    """The best rate among mechanisms that resumed at least once; None when none did."""
    rates = [entry.resumption_rate for entry in mechanisms if entry.support is Support.SUPPORTED]
    return max(rates) if rates else None


def resumption_unreliable(scan: ScanResult, context: CheckContext) -> Verdict:
    """Resumed on some attempts, not all: the load-balancer symptom (or an evicting cache).

    Judged per protocol version by its best mechanism: a TLS 1.2 client offers its ticket and
    its Session ID together, so Session IDs failing where tickets always work cost it nothing.
    """
    result = _resumption(scan)
    everything = (result.session_id, result.session_ticket, result.tls13_psk)
    evidence: dict[str, EvidenceValue] = {
        "resumed_counts": tuple(
            f"{entry.mechanism} {entry.resumed}/{entry.attempts}"
            for entry in everything
            if entry.attempts
        ),
        "resumption_rates_percent": tuple(
            round(100 * entry.resumption_rate) for entry in everything if entry.attempts
        ),
    }
    by_version = {
        "TLSv1.2": _best_rate((result.session_id, result.session_ticket)),
        "TLSv1.3": _best_rate((result.tls13_psk,)),
    }
    unreliable = tuple(
        version for version, rate in by_version.items() if rate is not None and rate < 1.0
    )
    evidence["unreliable_versions"] = unreliable
    rates = [rate for rate in by_version.values() if rate is not None]
    evidence["lowest_rate_percent"] = round(100 * min(rates)) if rates else None
    if unreliable:
        return Verdict.failed(evidence)
    if all(rate is None for rate in by_version.values()):
        return Verdict.not_applicable("no mechanism resumed even once", evidence)
    return Verdict.passed(evidence)


# -- RES006: ticket lifetime ---------------------------------------------------------------------


def _lifetime(tickets: TicketFacts | None) -> int | None:
    """The lifetime the server announced; 0 in TLS 1.2 means "unspecified" (RFC 5077 §3.3)."""
    if tickets is None or not tickets.lifetime_hint_s:
        return None
    return tickets.lifetime_hint_s


def ticket_lifetime_too_long(scan: ScanResult, context: CheckContext) -> Verdict:
    """Tickets announced as valid for more than a day."""
    result = _resumption(scan)
    tls12, tls13 = _lifetime(result.tls12_tickets), _lifetime(result.tls13_tickets)
    evidence: dict[str, EvidenceValue] = {
        "tls12_lifetime_hint_s": tls12,
        "tls13_lifetime_hint_s": tls13,
        "limit_s": MAX_TICKET_LIFETIME_S,
    }
    longest = max((value for value in (tls12, tls13) if value is not None), default=None)
    evidence["longest_lifetime_hint_s"] = longest
    evidence["longest_lifetime_hours"] = None if longest is None else round(longest / 3600, 1)
    if longest is None:
        return Verdict.not_applicable("the server issued no ticket with a lifetime", evidence)
    if longest > MAX_TICKET_LIFETIME_S:
        return Verdict.failed(evidence)
    return Verdict.passed(evidence)


# -- RES007: ticket key rotation -------------------------------------------------------------------


def ticket_key_not_rotated(scan: ScanResult, context: CheckContext) -> Verdict:
    """Stateless tickets from server software that does not rotate their key by itself.

    One scan cannot watch a key change; what it can see is which key sealed this scan's tickets
    and which software (from the Server header) issued them. ``httpsaudit diff`` compares the
    key names of two reports, which is where a key that never changes shows itself.
    """
    result = _resumption(scan)
    key_names = tuple(
        dict.fromkeys(
            name
            for tickets in (result.tls12_tickets, result.tls13_tickets)
            if tickets is not None
            for name in tickets.key_names
        )
    )
    server = detect_server(scan)
    evidence: dict[str, EvidenceValue] = {
        "key_names": key_names,
        "server": server.display if server else None,
        "server_version": ".".join(map(str, server.version)) if server and server.version else None,
        "session_id_support": result.session_id.support.value,
    }
    if not key_names:
        # Nothing sealed by a ticket key: sessions live in the server's cache only.
        return Verdict.passed(evidence)
    if server is None:
        return Verdict.not_applicable(
            "the Server header does not name the software; compare the ticket key names of "
            "two reports with httpsaudit diff",
            evidence,
        )
    if server.kind is ServerKind.CADDY:
        return Verdict.passed(evidence)  # Caddy rotates every 12 h by default
    if server.kind in (ServerKind.APACHE, ServerKind.HAPROXY):
        return Verdict.failed(evidence)  # neither rotates a key it generated itself
    if server.version is None:
        return Verdict.not_applicable(
            "nginx hides its version (server_tokens off): before 1.23.2 it never rotates "
            "ticket keys; compare the key names of two reports with httpsaudit diff",
            evidence,
        )
    if server.version < NGINX_ROTATES_TICKET_KEYS_FROM:
        return Verdict.failed(evidence)
    if result.session_id.support is Support.NOT_SUPPORTED:
        return Verdict.failed(evidence, message=NGINX_NO_SHARED_CACHE)
    return Verdict.passed(evidence)


NGINX_NO_SHARED_CACHE = Localized(
    en="{server} rotates session ticket keys only with a shared session cache, and Session ID "
    "resumption found no cache (key name {key_names})",
    zh="{server} 只有在启用共享会话缓存时才会自动轮换票据密钥,而 Session ID 恢复测试表明没有缓存"
    "(密钥名 {key_names})",
)


# -- RES008: resumption across backends ------------------------------------------------------


def resumption_across_addresses(scan: ScanResult, context: CheckContext) -> Verdict:
    """A session from one address does not resume on another, for a whole protocol version."""
    result = _resumption(scan)
    cells = result.cross_address
    evidence: dict[str, EvidenceValue] = {
        "addresses": result.addresses,
        "failed_cells": tuple(
            f"{cell.mechanism} {cell.from_address} -> {cell.to_address}"
            for cell in cells
            if cell.resumed is False
        ),
    }
    outcomes: dict[tuple[str, str, str], list[bool]] = {}
    for cell in cells:
        if cell.resumed is not None:
            key = (VERSION_OF[cell.mechanism], cell.from_address, cell.to_address)
            outcomes.setdefault(key, []).append(cell.resumed)
    failing = tuple(
        f"{version} {origin} -> {destination}"
        for (version, origin, destination), resumed in outcomes.items()
        if not any(resumed)
    )
    evidence["failing_pairs"] = failing
    if not result.addresses:
        return Verdict.not_applicable(
            "one address only: give every backend with --connect-to to test this", evidence
        )
    if failing:
        return Verdict.failed(evidence)
    if not outcomes:
        return _unknown("no session was resumed or refused across addresses", evidence)
    return Verdict.passed(evidence)


# -- RES009: psk_ke ------------------------------------------------------------------------------


def psk_ke_accepted(scan: ScanResult, context: CheckContext) -> Verdict:
    """TLS 1.3 resumption on the PSK alone (RFC 8446 §4.2.9 psk_ke): no forward secrecy."""
    result = _resumption(scan)
    evidence: dict[str, EvidenceValue] = {
        "psk_ke": result.psk_ke.value,
        "psk_dhe_ke": result.psk_dhe_ke.value,
        "tls13_psk_support": result.tls13_psk.support.value,
    }
    if result.tls13_psk.support in (Support.NOT_TESTED, Support.NOT_SUPPORTED):
        return Verdict.not_applicable("TLS 1.3 resumption does not work at all", evidence)
    if result.psk_ke is Support.SUPPORTED:
        return Verdict.failed(evidence)
    if result.psk_ke is Support.NOT_SUPPORTED:
        return Verdict.passed(evidence)
    return _unknown("psk_ke could not be tested", evidence)


# -- The rules -------------------------------------------------------------------------------------

SESSION_ID_MISSING = Rule(
    id="RES001",
    name="session-id-resumption-missing",
    severity=Severity.LOW,
    category=Category.LATENCY,
    title=Localized(
        en="TLS 1.2 clients without a ticket cannot resume by Session ID",
        zh="不使用会话票据的 TLS 1.2 客户端无法通过 Session ID 恢复会话",
    ),
    why=Localized(
        en="A Session ID names a session in the server's cache. Without that cache, a TLS 1.2 "
        "client that does not use tickets, or whose ticket the server can no longer open, pays "
        "a full handshake on every new connection: one more round trip, the certificate chain "
        "again, and its signature checks. Browsers resume with tickets first, so while tickets "
        "work this costs little.",
        zh="Session ID 指向服务器会话缓存中的一个会话。没有缓存时,不使用票据的 TLS 1.2 客户端"
        "(或票据已无法被服务器解开的客户端)每次新建连接都要做完整握手:多一个往返,重新下载证书链"
        "并再次验证签名。浏览器优先用票据恢复会话,所以只要票据可用,这个问题影响不大。",
    ),
    requires=(ProbeId.RESUMPTION,),
    check=session_id_missing,
    advice=Advice(
        summary=Localized(
            en="Keep a shared session cache so Session IDs resume too: that saves "
            "{saved_round_trips} round trip, about {saved_ms} ms at your measured RTT, on each "
            "returning TLS 1.2 connection that comes without a ticket.",
            zh="启用共享会话缓存,让 Session ID 也能恢复会话:不带票据回访的 TLS 1.2 连接每次节省 "
            "{saved_round_trips} 个往返,按实测 RTT 约 {saved_ms} 毫秒。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(NGINX_SESSION_CACHE),
            ServerKind.APACHE: Snippet(APACHE_SESSION_CACHE),
            ServerKind.HAPROXY: Snippet(HAPROXY_SESSION_CACHE),
            ServerKind.CADDY: Snippet(
                "Caddy (Go's crypto/tls) keeps no Session ID cache and resumes with session "
                "tickets only, which every current browser uses: nothing to configure.",
                not_configurable=True,
            ),
        },
        references=REFERENCES_RESUMPTION,
    ),
)

SESSION_TICKET_MISSING = Rule(
    id="RES002",
    name="session-ticket-resumption-missing",
    severity=Severity.LOW,
    category=Category.LATENCY,
    title=Localized(
        en="TLS 1.2 session tickets do not resume (Session IDs do)",
        zh="TLS 1.2 会话票据无法恢复会话(Session ID 可以)",
    ),
    why=Localized(
        en="A Session ID resumes only on the server whose cache holds it; behind several servers, "
        "or once the cache evicts it, the client pays a full handshake again. A session ticket "
        "carries the session with the client and opens on every server that holds the ticket "
        "key, and browsers offer tickets first.",
        zh="Session ID 只能在保存该会话的那台服务器上恢复;后端有多台服务器或缓存条目被淘汰时,"
        "客户端又要做完整握手。会话票据由客户端携带,任何持有票据密钥的服务器都能解开,"
        "而且浏览器会优先使用票据。",
    ),
    requires=(ProbeId.RESUMPTION,),
    check=session_ticket_missing,
    advice=Advice(
        summary=Localized(
            en="Issue session tickets under a key you rotate daily and share across servers, so "
            "returning TLS 1.2 clients resume wherever they land: {saved_round_trips} round trip, "
            "about {saved_ms} ms at your measured RTT, each time a Session ID would have missed.",
            zh="启用会话票据,票据密钥每天轮换并在所有服务器间共享,让回访的 TLS 1.2 客户端无论落到"
            "哪台服务器都能恢复会话:每次 Session ID 未命中时节省 {saved_round_trips} 个往返,"
            "按实测 RTT 约 {saved_ms} 毫秒。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "ssl_session_cache shared:SSL:10m;  # with a shared cache nginx rotates ticket "
                "keys itself\nssl_session_tickets on;",
                min_version=NGINX_ROTATES_TICKET_KEYS_FROM,
                before_text="ssl_session_tickets on;\n"
                "# nginx before 1.23.2 never rotates the key it makes at start: give it key "
                "files,\n# a new one first every day and yesterday's second, then nginx -s "
                "reload\n" + NGINX_TICKET_KEY_FILES,
            ),
            ServerKind.APACHE: Snippet(
                "SSLSessionTickets on\n"
                "SSLSessionTicketKeyFile /etc/apache2/tickets.key  # openssl rand 48; replace "
                "daily, then apachectl graceful"
            ),
            ServerKind.HAPROXY: Snippet(
                "# remove no-tls-tickets from the bind line and ssl-default-bind-options\n"
                "bind :443 ssl crt /etc/haproxy/site.pem tls-ticket-keys "
                "/etc/haproxy/tls-ticket-keys"
            ),
            ServerKind.CADDY: Snippet(CADDY_TICKETS_ON),
        },
        references=(*REFERENCES_RESUMPTION, REFERENCE_SPRINGALL),
    ),
)

TLS12_RESUMPTION_MISSING = Rule(
    id="RES003",
    name="tls12-resumption-missing",
    severity=Severity.HIGH,
    category=Category.LATENCY,
    title=Localized(
        en="TLS 1.2 sessions cannot be resumed at all: every return visit pays a full handshake",
        zh="TLS 1.2 会话完全无法恢复:每次回访都要重做完整握手",
    ),
    why=Localized(
        en="With neither a session cache nor tickets, every returning TLS 1.2 visitor pays a full "
        "handshake: 2 round trips instead of 1, the whole certificate chain on the wire again, "
        "the client's signature checks, and the server's private-key operation on every "
        "connection.",
        zh="既没有会话缓存也没有票据时,每个回访的 TLS 1.2 客户端都要做完整握手:2 个往返而不是 1 "
        "个,证书链重新传输,客户端重新验证签名,服务器每个连接都要做一次私钥运算。",
    ),
    requires=(ProbeId.RESUMPTION,),
    check=tls12_resumption_missing,
    advice=Advice(
        summary=Localized(
            en="Turn on session resumption: it saves {saved_round_trips} round trip, about "
            "{saved_ms} ms at your measured RTT, on every returning TLS 1.2 connection, plus the "
            "server's private-key operation.",
            zh="启用会话恢复:每个回访的 TLS 1.2 连接节省 {saved_round_trips} 个往返,按实测 RTT "
            "约 {saved_ms} 毫秒,还省去服务器的私钥运算。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(NGINX_SESSION_CACHE),
            ServerKind.APACHE: Snippet(APACHE_SESSION_CACHE + "\nSSLSessionTickets on"),
            ServerKind.HAPROXY: Snippet(
                HAPROXY_SESSION_CACHE + "\n# and no no-tls-tickets on the bind lines"
            ),
            ServerKind.CADDY: Snippet(CADDY_TICKETS_ON),
        },
        references=REFERENCES_RESUMPTION,
    ),
)

TLS13_RESUMPTION_MISSING = Rule(
    id="RES004",
    name="tls13-resumption-missing",
    severity=Severity.MEDIUM,
    category=Category.LATENCY,
    title=Localized(
        en="TLS 1.3 sessions cannot be resumed: every return visit repeats the full handshake "
        "({server_flight_bytes_full} bytes from the server)",
        zh="TLS 1.3 会话无法恢复:每次回访都要重做完整握手(服务器发送 {server_flight_bytes_full} "
        "字节)",
    ),
    why=Localized(
        en="A full TLS 1.3 handshake is already 1 round trip, but without resumption every "
        "returning visitor downloads and verifies the certificate chain again, the server "
        "signs again on every connection, and 0-RTT is impossible: it needs a resumable "
        "ticket. The extra bytes can also overflow the first TCP window and cost a round trip.",
        zh="TLS 1.3 完整握手本身只需 1 个往返,但没有会话恢复时,每个回访者都要重新下载并验证证书链,"
        "服务器每个连接都要重新签名,而且无法使用 0-RTT(它依赖可恢复的票据)。多出的字节还可能超出 "
        "TCP 初始拥塞窗口,再多花一个往返。",
    ),
    requires=(ProbeId.RESUMPTION,),
    check=tls13_resumption_missing,
    advice=Advice(
        summary=Localized(
            en="Let TLS 1.3 clients resume: keep a session cache (stateful tickets) or session "
            "tickets on, and honour the tickets you send.",
            zh="让 TLS 1.3 客户端能够恢复会话:启用会话缓存(有状态票据)或会话票据,并且接受自己"
            "发出的票据。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(NGINX_SESSION_CACHE),
            ServerKind.APACHE: Snippet(APACHE_SESSION_CACHE + "\nSSLSessionTickets on"),
            ServerKind.HAPROXY: Snippet(HAPROXY_SESSION_CACHE),
            ServerKind.CADDY: Snippet(CADDY_TICKETS_ON),
        },
        references=("RFC 8446 §2.2", "RFC 8446 §4.6.1", "RFC 8446 §2.3"),
    ),
)

RESUMPTION_UNRELIABLE = Rule(
    id="RES005",
    name="resumption-unreliable",
    severity=Severity.MEDIUM,
    category=Category.RELIABILITY,
    title=Localized(
        en="Session resumption works only some of the time: {resumed_counts}",
        zh="会话恢复时好时坏:{resumed_counts}",
    ),
    why=Localized(
        en="Resumption that works on some connections and not on others is the signature of "
        "several servers behind one name that do not share session state: the load balancer "
        "sends a returning visitor to a server that cannot open its ticket or find its Session "
        "ID, and that visit pays a full handshake. A session cache too small to keep sessions "
        "does the same.",
        zh="会话恢复有时成功有时失败,通常说明同一个域名后面有多台服务器却不共享会话状态:负载均衡器"
        "把回访者分到一台解不开其票据、也找不到其 Session ID 的服务器,这次访问就得做完整握手。"
        "会话缓存太小、条目被过早淘汰也会如此。",
    ),
    requires=(ProbeId.RESUMPTION,),
    check=resumption_unreliable,
    advice=Advice(
        summary=Localized(
            en="Share resumption state across every server behind the name: the same ticket key "
            "files on each (rotated together), or route each client back to its server; and make "
            "the session cache large enough not to evict.",
            zh="让同一域名后的所有服务器共享会话恢复状态:每台服务器使用相同的票据密钥文件"
            "(并同步轮换),或让客户端始终回到同一台服务器;同时把会话缓存设得足够大,避免条目被淘汰。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "# the same key files on every server, rotated together\n"
                + NGINX_TICKET_KEY_FILES
                + "\nssl_session_cache shared:SSL:10m;"
            ),
            ServerKind.APACHE: Snippet(
                "SSLSessionTicketKeyFile /etc/apache2/tickets.key  # the same file on every "
                'server\nSSLSessionCache "shmcb:/var/run/apache2/ssl_scache(512000)"'
            ),
            ServerKind.HAPROXY: Snippet(
                "# the same key file on every node, rotated together\n"
                "bind :443 ssl crt /etc/haproxy/site.pem tls-ticket-keys "
                "/etc/haproxy/tls-ticket-keys"
            ),
            ServerKind.CADDY: Snippet(
                '{"apps": {"tls": {"session_tickets": {"key_source": {"source": "distributed"}}}}}'
            ),
        },
        references=("RFC 5077 §4", "https://nginx.org/en/docs/http/ngx_http_ssl_module.html"),
    ),
)

TICKET_LIFETIME_TOO_LONG = Rule(
    id="RES006",
    name="ticket-lifetime-too-long",
    severity=Severity.MEDIUM,
    category=Category.SECURITY,
    title=Localized(
        en="Session tickets stay valid for {longest_lifetime_hours} hours, more than a day "
        "({longest_lifetime_hint_s} s)",
        zh="会话票据有效期长达 {longest_lifetime_hours} 小时,超过一天"
        "({longest_lifetime_hint_s} 秒)",
    ),
    why=Localized(
        en="A ticket carries the session's secrets sealed with the server's ticket key (or names "
        "them in its cache). Whoever later obtains that key or cache can decrypt every recorded "
        "connection resumed with it, so the longer tickets stay valid, the longer the key must "
        "be kept and the wider that window (Springall et al., IMC 2016). A day is plenty for "
        "returning visitors.",
        zh="票据里装着用服务器票据密钥加密的会话秘密(或指向缓存中的会话)。日后拿到该密钥或缓存的人,"
        "可以解密所有用它恢复、且被记录下来的连接;票据有效期越长,密钥就得保存越久,暴露窗口越大"
        "(Springall 等,IMC 2016)。对回访用户来说,一天足够了。",
    ),
    requires=(ProbeId.RESUMPTION,),
    check=ticket_lifetime_too_long,
    advice=Advice(
        summary=Localized(
            en="Limit session lifetime to a day ({limit_s} s) or less; visitors returning within "
            "it still resume.",
            zh="把会话有效期限制在一天({limit_s} 秒)以内;一天内回访的用户仍然可以恢复会话。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "ssl_session_timeout 1d;  # nginx announces this as the ticket lifetime"
            ),
            ServerKind.APACHE: Snippet("SSLSessionCacheTimeout 86400"),
            ServerKind.HAPROXY: Snippet("global\n    tune.ssl.lifetime 86400"),
            ServerKind.CADDY: Snippet(
                "Caddy (Go's crypto/tls) announces a fixed 7-day lifetime for TLS 1.3 tickets; "
                "what bounds the exposure is its ticket key rotation (every 12 h, 4 keys kept). "
                "Keep rotation on; to shorten it, set apps.tls.session_tickets.rotation_interval "
                "in the JSON config.",
                not_configurable=True,
            ),
        },
        references=("RFC 5077 §5.6", "RFC 8446 §4.6.1", REFERENCE_SPRINGALL),
    ),
)

TICKET_KEY_NOT_ROTATED = Rule(
    id="RES007",
    name="ticket-key-not-rotated",
    severity=Severity.LOW,
    category=Category.SECURITY,
    title=Localized(
        en="Session tickets are sealed by a key that {server} does not rotate by itself "
        "(key name {key_names})",
        zh="会话票据由 {server} 不会自动轮换的密钥加密(密钥名 {key_names})",
    ),
    why=Localized(
        en="One ticket key protects every ticket the server issues. If it never changes until "
        "the next restart, whoever obtains it can decrypt every recorded connection resumed "
        "with a ticket for that whole time (Springall et al., IMC 2016). One scan cannot watch "
        "a key change; it sees which software issued the tickets and whether that software "
        "rotates keys itself. Two reports a day apart with the same key name (httpsaudit diff) "
        "show a key that did not change.",
        zh="一个票据密钥保护服务器发出的所有票据。如果它直到下次重启都不变,拿到它的人就能解密这段时间内"
        "所有用票据恢复、且被记录下来的连接(Springall 等,IMC 2016)。单次扫描看不到密钥轮换,"
        "只能看到是哪种服务器软件签发的票据、该软件是否会自动轮换密钥。相隔一天的两份报告若密钥名相同"
        "(用 httpsaudit diff 比较),说明密钥没有换过。",
    ),
    requires=(ProbeId.RESUMPTION, ProbeId.CONNECTION),
    check=ticket_key_not_rotated,
    advice=Advice(
        summary=Localized(
            en="Rotate the ticket key at least daily, keeping the previous key only to open "
            "tickets already issued; share the same key files across servers.",
            zh="至少每天轮换一次票据密钥,旧密钥只用于解开已发出的票据;所有服务器共用同一组密钥文件。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "ssl_session_cache shared:SSL:10m;  # nginx rotates ticket keys itself with a "
                "shared cache\n# and no ssl_session_ticket_key lines",
                min_version=NGINX_ROTATES_TICKET_KEYS_FROM,
                before_text="# nginx before 1.23.2 never rotates ticket keys: every day write a "
                "new key first,\n# keep yesterday's second, then nginx -s reload (or upgrade)\n"
                + NGINX_TICKET_KEY_FILES,
            ),
            ServerKind.APACHE: Snippet(
                "SSLSessionTicketKeyFile /etc/apache2/tickets.key\n"
                "# every day: openssl rand 48 > /etc/apache2/tickets.key && apachectl graceful"
            ),
            ServerKind.HAPROXY: Snippet(
                "bind :443 ssl crt /etc/haproxy/site.pem tls-ticket-keys "
                "/etc/haproxy/tls-ticket-keys\n"
                "# every day add a new key (openssl rand -base64 48), drop the oldest, and reload"
                "\n# or load it live: set ssl tls-key /etc/haproxy/tls-ticket-keys <base64 key>"
            ),
            ServerKind.CADDY: Snippet(
                '{"apps": {"tls": {"session_tickets": {"rotation_interval": "12h", '
                '"max_keys": 4}}}}'
            ),
        },
        references=(
            "RFC 5077 §5.5",
            "RFC 8446 §2.2",
            "https://nginx.org/en/CHANGES (1.23.2)",
            REFERENCE_SPRINGALL,
        ),
    ),
)

RESUMPTION_ACROSS_ADDRESSES = Rule(
    id="RES008",
    name="resumption-fails-across-backends",
    severity=Severity.HIGH,
    category=Category.RELIABILITY,
    title=Localized(
        en="Sessions from one server do not resume on another: {failing_pairs}",
        zh="一台服务器建立的会话无法在另一台上恢复:{failing_pairs}",
    ),
    why=Localized(
        en="Clients reach whichever server DNS or the load balancer gives them. When one server "
        "cannot open the tickets another issued (nor find its Session IDs), a returning visitor "
        "who lands elsewhere pays a full handshake; with N servers that is most return visits.",
        zh="客户端连到哪台服务器由 DNS 或负载均衡器决定。如果一台服务器解不开另一台签发的票据"
        "(也找不到它的 Session ID),落到别处的回访者就得做完整握手;服务器有 N 台时,"
        "大多数回访都是如此。",
    ),
    requires=(ProbeId.RESUMPTION,),
    check=resumption_across_addresses,
    advice=Advice(
        summary=Localized(
            en="Give every server behind the name the same ticket keys and rotate them together, "
            "or route each client back to the server it first reached.",
            zh="让同一域名后的所有服务器使用相同的票据密钥并同步轮换,或让客户端始终回到它第一次"
            "连接的那台服务器。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "# the same key files on every server, rotated together\n" + NGINX_TICKET_KEY_FILES
            ),
            ServerKind.APACHE: Snippet(
                "SSLSessionTicketKeyFile /etc/apache2/tickets.key  # the same file on every server"
            ),
            ServerKind.HAPROXY: Snippet(
                "bind :443 ssl crt /etc/haproxy/site.pem tls-ticket-keys "
                "/etc/haproxy/tls-ticket-keys  # the same file on every node"
            ),
            ServerKind.CADDY: Snippet(
                "# Caddy instances sharing storage share their ticket keys\n"
                '{"apps": {"tls": {"session_tickets": {"key_source": {"source": '
                '"distributed"}}}}}'
            ),
        },
        references=("RFC 5077 §4", "https://nginx.org/en/docs/http/ngx_http_ssl_module.html"),
    ),
)

PSK_KE_ACCEPTED = Rule(
    id="RES009",
    name="psk-ke-accepted",
    severity=Severity.MEDIUM,
    category=Category.SECURITY,
    title=Localized(
        en="TLS 1.3 resumption is accepted without a fresh key exchange (psk_ke)",
        zh="服务器接受不带新密钥交换的 TLS 1.3 会话恢复(psk_ke)",
    ),
    why=Localized(
        en="In psk_ke mode a resumed connection's keys come from the ticket's secret alone: "
        "whoever later obtains the ticket key or the resumption secret can decrypt it, so "
        "resumed connections lose forward secrecy. In psk_dhe_ke mode, which every browser "
        "offers, a fresh (EC)DHE exchange keeps each resumed connection forward secret.",
        zh="在 psk_ke 模式下,恢复连接的密钥只来自票据中的秘密:日后拿到票据密钥或恢复秘密的人"
        "就能解密这些连接,恢复的连接因此失去前向安全性。在所有浏览器都支持的 psk_dhe_ke 模式下,"
        "每次恢复都会做一次新的 (EC)DHE 交换,保持前向安全。",
    ),
    requires=(ProbeId.RESUMPTION,),
    check=psk_ke_accepted,
    advice=Advice(
        summary=Localized(
            en="Accept TLS 1.3 resumption only with a fresh (EC)DHE exchange (psk_dhe_ke). "
            "OpenSSL refuses psk_ke unless the AllowNoDHEKEX option is set: clear it.",
            zh="只接受带新 (EC)DHE 交换的 TLS 1.3 会话恢复(psk_dhe_ke)。OpenSSL 默认拒绝 psk_ke,"
            "除非设置了 AllowNoDHEKEX 选项:请去掉它。",
        ),
        snippets={
            ServerKind.NGINX: Snippet("ssl_conf_command Options -AllowNoDHEKEX;"),
            ServerKind.APACHE: Snippet("SSLOpenSSLConfCmd Options -AllowNoDHEKEX"),
            ServerKind.HAPROXY: Snippet(
                "HAProxy has no directive for this: its OpenSSL refuses psk_ke unless "
                "AllowNoDHEKEX is set, so remove that option from the openssl.cnf HAProxy loads "
                "(or from its build).",
                not_configurable=True,
            ),
            ServerKind.CADDY: Snippet(
                "Caddy (Go's crypto/tls) resumes TLS 1.3 only with psk_dhe_ke: psk_ke is "
                "accepted by something in front of it (a proxy or CDN), so fix it there.",
                not_configurable=True,
            ),
        },
        references=("RFC 8446 §2.2", "RFC 8446 §4.2.9", "RFC 8446 §E.1"),
    ),
)

RULES: tuple[Rule, ...] = (
    SESSION_ID_MISSING,
    SESSION_TICKET_MISSING,
    TLS12_RESUMPTION_MISSING,
    TLS13_RESUMPTION_MISSING,
    RESUMPTION_UNRELIABLE,
    TICKET_LIFETIME_TOO_LONG,
    TICKET_KEY_NOT_ROTATED,
    RESUMPTION_ACROSS_ADDRESSES,
    PSK_KE_ACCEPTED,
)
