"""Latency and HTTP rules: DNS, the application protocol, the first byte, and the hints that
spare a returning visitor round trips (HSTS, HTTP/3). Checks are pure functions of the
ScanResult.

Thresholds (also in the rules' text):
- DNS: a lookup over ``SLOW_DNS_MS`` (100 ms) is slow: by then a nearby server would have
  finished the TCP handshake; a TTL under ``SHORT_TTL_S`` (60 s) sends resolvers back to your
  authoritative servers about once a minute.
- First byte: slow when over ``SLOW_TTFB_MS`` (200 ms) *and* over ``TTFB_RTT_FACTOR`` (4) times
  the measured RTT: one RTT of it is the network, the rest is the server; both conditions keep a
  far-away but fast server from being blamed for the distance.
- HSTS: a max-age under ``MIN_HSTS_MAX_AGE_S`` (about six months) lapses between occasional
  visits.
"""

from __future__ import annotations

from httpsaudit.results import (
    ConnectionResult,
    HttpResponse,
    ProbeId,
    ScanResult,
    Support,
)
from httpsaudit.rules.model import (
    Advice,
    Category,
    CheckContext,
    EvidenceValue,
    Localized,
    Rule,
    RuleStatus,
    Saving,
    ServerKind,
    Severity,
    Snippet,
    Verdict,
)

SLOW_DNS_MS = 100.0
SHORT_TTL_S = 60
SLOW_TTFB_MS = 200.0
TTFB_RTT_FACTOR = 4.0
MIN_HSTS_MAX_AGE_S = 15768000  # 182.5 days: six months
# A visitor who types the name without HSTS: a TCP handshake to port 80, then the request
# that gets the redirect, before the HTTPS connection starts.
HTTP_REDIRECT_ROUND_TRIPS = 2
# DNS answers that say nothing about an HTTPS record (no answer, or a broken resolver).
DNS_INCONCLUSIVE = frozenset({"timeout", "servfail", "error"})

NGINX_HSTS = 'add_header Strict-Transport-Security "max-age=31536000" always;'
HSTS_SNIPPETS = {
    ServerKind.NGINX: Snippet(NGINX_HSTS),
    ServerKind.APACHE: Snippet('Header always set Strict-Transport-Security "max-age=31536000"'),
    ServerKind.HAPROXY: Snippet(
        'http-response set-header Strict-Transport-Security "max-age=31536000"'
    ),
    ServerKind.CADDY: Snippet('header Strict-Transport-Security "max-age=31536000"'),
}
DNS_NOT_A_SERVER_SETTING = (
    "DNS is answered by your DNS provider, not by {server}: change it there (the provider's "
    "authoritative servers, the CNAME chain, the record's TTL)."
)


def _dns_snippets() -> dict[ServerKind, Snippet]:
    names = {
        ServerKind.NGINX: "nginx",
        ServerKind.APACHE: "Apache httpd",
        ServerKind.HAPROXY: "HAProxy",
        ServerKind.CADDY: "Caddy",
    }
    return {
        kind: Snippet(DNS_NOT_A_SERVER_SETTING.format(server=name), not_configurable=True)
        for kind, name in names.items()
    }


def _connection(scan: ScanResult) -> ConnectionResult:
    result = scan.connection.result
    if result is None:  # the engine checks requires first; this keeps mypy honest
        raise ValueError("connection probe result missing")
    return result


def _median(connection: ConnectionResult, phase: str, single: float) -> float:
    """The median over ``--samples`` when there were several, else the one measurement."""
    for stats in connection.stats:
        if stats.phase == phase and stats.samples > 1:
            return stats.median_ms
    return single


def _response(connection: ConnectionResult) -> HttpResponse | Verdict:
    """The timed request's response, or the verdict for a scan that got none."""
    if connection.http is not None:
        return connection.http
    reason = connection.http_error or "the timed connection sent no HTTP request"
    return Verdict(RuleStatus.UNKNOWN, {"reason": f"no HTTP response: {reason}"})


# -- NET001 / NET002: DNS ------------------------------------------------------------------------

NO_DNS = "no DNS lookup: the target or --connect-to is an address"


def dns_slow(scan: ScanResult, context: CheckContext) -> Verdict:
    """The name took over 100 ms to resolve."""
    connection = _connection(scan)
    dns = connection.dns
    if dns is None:
        return Verdict.not_applicable(NO_DNS, {"dns_ms": None, "threshold_ms": SLOW_DNS_MS})
    dns_ms = round(_median(connection, "dns", dns.duration_ms), 1)
    evidence: dict[str, EvidenceValue] = {
        "dns_ms": dns_ms,
        "threshold_ms": SLOW_DNS_MS,
        "resolver": dns.resolver,
        "dns_server": dns.server,
        "cname_chain": dns.cname_chain,
    }
    return Verdict.failed(evidence) if dns_ms > SLOW_DNS_MS else Verdict.passed(evidence)


def dns_ttl_short(scan: ScanResult, context: CheckContext) -> Verdict:
    """The address records may be cached for under a minute."""
    dns = _connection(scan).dns
    if dns is None:
        return Verdict.not_applicable(NO_DNS, {"dns_ttl_s": None, "minimum_ttl_s": SHORT_TTL_S})
    evidence: dict[str, EvidenceValue] = {
        "dns_ttl_s": dns.ttl_s,
        "minimum_ttl_s": SHORT_TTL_S,
        "resolver": dns.resolver,
        "cname_chain": dns.cname_chain,
    }
    if dns.ttl_s is None:
        return Verdict.not_applicable(
            f"the {dns.resolver} resolver reports no TTL", evidence
        )  # getaddrinfo never does
    return Verdict.failed(evidence) if dns.ttl_s < SHORT_TTL_S else Verdict.passed(evidence)


# -- ALPN001: HTTP/2 ------------------------------------------------------------------------------


def h2_not_offered(scan: ScanResult, context: CheckContext) -> Verdict:
    """The server does not select h2: browsers fall back to HTTP/1.1 and open more connections."""
    alpn = scan.alpn.result
    if alpn is None:  # the engine checks requires first
        raise ValueError("ALPN probe result missing")
    tls = _connection(scan).tls
    evidence: dict[str, EvidenceValue] = {
        "h2": alpn.h2.value,
        "http11": alpn.http11.value,
        "selected_for_browser_offer": alpn.selected_for_browser_offer,
        "tls_round_trips": tls.round_trips if tls else None,
    }
    if alpn.h2 is Support.SUPPORTED:
        return Verdict.passed(evidence)
    if alpn.h2 is not Support.NOT_SUPPORTED:
        return Verdict(RuleStatus.UNKNOWN, {"reason": "h2 support could not be tested", **evidence})
    # Each connection HTTP/2 spares costs the TCP handshake and the TLS one.
    per_connection = 1 + (tls.round_trips if tls else 1)
    return Verdict.failed(evidence, saving=context.saving(per_connection))


# -- HTTP001: time to first byte ----------------------------------------------------------------


def ttfb_slow(scan: ScanResult, context: CheckContext) -> Verdict:
    """The first response byte came over 200 ms and over 4 RTTs after the request."""
    connection = _connection(scan)
    response = _response(connection)
    if isinstance(response, Verdict):
        return response
    ttfb_ms = round(_median(connection, "ttfb", response.ttfb_ms), 1)
    rtt_ms = connection.rtt_estimate_ms
    # What the server itself spent: everything above the one round trip physics needs.
    server_time_ms = round(ttfb_ms - (rtt_ms or 0.0), 1)
    evidence: dict[str, EvidenceValue] = {
        "ttfb_ms": ttfb_ms,
        "rtt_ms": None if rtt_ms is None else round(rtt_ms, 1),
        "server_time_ms": server_time_ms,
        "ttfb_rtt_ratio": round(ttfb_ms / rtt_ms, 1) if rtt_ms else None,
        "threshold_ms": SLOW_TTFB_MS,
        "rtt_factor": TTFB_RTT_FACTOR,
    }
    slow = ttfb_ms > SLOW_TTFB_MS and (rtt_ms is None or ttfb_ms > TTFB_RTT_FACTOR * rtt_ms)
    if not slow:
        return Verdict.passed(evidence)
    return Verdict.failed(evidence, saving=Saving(ms=server_time_ms))


# -- HTTP002: HTTP/3 hints -----------------------------------------------------------------------


def http3_not_advertised(scan: ScanResult, context: CheckContext) -> Verdict:
    """Neither an Alt-Svc h3 header nor a DNS HTTPS record with h3."""
    hints = scan.http3_hints.result
    if hints is None:  # the engine checks requires first
        raise ValueError("HTTP/3 hints probe result missing")
    evidence: dict[str, EvidenceValue] = {
        "alt_svc": hints.alt_svc,
        "alt_svc_h3": hints.alt_svc_h3,
        "https_record_h3": hints.https_record_h3,
        "dns_status": hints.dns_status,
    }
    if hints.alt_svc_h3 or hints.https_record_h3:
        return Verdict.passed(evidence)
    if hints.dns_status in DNS_INCONCLUSIVE:
        return Verdict(
            RuleStatus.UNKNOWN,
            {"reason": f"the HTTPS record query ended in {hints.dns_status}", **evidence},
        )
    return Verdict.failed(evidence, saving=context.saving(1))


# -- HTTP003 / HTTP004: HSTS -----------------------------------------------------------------------


def hsts_max_age(header: str) -> int | None:
    """The max-age of a Strict-Transport-Security value; None when browsers would ignore it.

    RFC 6797 §6.1: directives are case-insensitive, a value may be a quoted-string, and a
    header with a directive twice (or no max-age) is invalid.
    """
    found: list[str] = []
    for directive in header.split(";"):
        name, _, value = directive.strip().partition("=")
        if name.strip().lower() == "max-age":
            found.append(value.strip().strip('"'))
    if len(found) != 1 or not found[0].isdigit():
        return None
    return int(found[0])


def _hsts_evidence(response: HttpResponse) -> dict[str, EvidenceValue]:
    header = response.strict_transport_security
    max_age = hsts_max_age(header) if header is not None else None
    return {
        "hsts_header": header,
        "hsts_max_age_s": max_age,
        "hsts_max_age_days": None if max_age is None else round(max_age / 86400, 2),
        "http_status": response.status,
    }


def hsts_missing(scan: ScanResult, context: CheckContext) -> Verdict:
    """No valid Strict-Transport-Security header on the HTTPS response."""
    response = _response(_connection(scan))
    if isinstance(response, Verdict):
        return response
    evidence = _hsts_evidence(response)
    if evidence["hsts_max_age_s"] is not None:
        return Verdict.passed(evidence)
    saving = context.saving(HTTP_REDIRECT_ROUND_TRIPS)
    if evidence["hsts_header"] is not None:
        return Verdict.failed(evidence, message=HSTS_INVALID, saving=saving)
    return Verdict.failed(evidence, saving=saving)


HSTS_INVALID = Localized(
    en="The Strict-Transport-Security header has no valid max-age, so browsers ignore it: "
    "{hsts_header}",
    zh="Strict-Transport-Security 头没有有效的 max-age,浏览器会忽略它:{hsts_header}",
)


def hsts_max_age_short(scan: ScanResult, context: CheckContext) -> Verdict:
    """HSTS with a max-age under six months."""
    response = _response(_connection(scan))
    if isinstance(response, Verdict):
        return response
    evidence = {**_hsts_evidence(response), "minimum_max_age_s": MIN_HSTS_MAX_AGE_S}
    max_age = evidence["hsts_max_age_s"]
    if not isinstance(max_age, int):
        return Verdict.not_applicable("no valid HSTS header: HTTP003 reports it", evidence)
    return Verdict.failed(evidence) if max_age < MIN_HSTS_MAX_AGE_S else Verdict.passed(evidence)


# -- The rules -------------------------------------------------------------------------------------

DNS_SLOW = Rule(
    id="NET001",
    name="dns-slow",
    severity=Severity.LOW,
    category=Category.LATENCY,
    title=Localized(
        en="Resolving the name took {dns_ms} ms (over {threshold_ms} ms)",
        zh="域名解析耗时 {dns_ms} 毫秒(超过 {threshold_ms} 毫秒)",
    ),
    why=Localized(
        en="Nothing else can start before the name resolves: every first visit, and every visit "
        "after the cached answer expires, waits this long before its first packet. It was "
        "measured from this machine through its resolver; a slow answer means the resolver had "
        "to ask your authoritative servers (far away, slow, or behind a long CNAME chain), "
        "which every visitor's resolver also does from time to time.",
        zh="域名解析完成之前什么都不能开始:每次首次访问、以及缓存过期后的每次访问,在发出第一个数据包"
        "之前都要等这么久。该时间是从本机经由其解析器测得的;解析慢说明解析器不得不去问你的权威"
        "服务器(距离远、响应慢,或 CNAME 链太长),每个访问者的解析器也时常要这样做。",
    ),
    requires=(ProbeId.CONNECTION,),
    check=dns_slow,
    advice=Advice(
        summary=Localized(
            en="Use a DNS provider with anycast authoritative servers near your users, shorten "
            "the CNAME chain ({cname_chain}), and keep TTLs long enough for resolvers to cache.",
            zh="选用在用户附近有任播(anycast)权威服务器的 DNS 服务商,缩短 CNAME 链"
            "({cname_chain}),并把 TTL 设得足够长,让解析器能够缓存。",
        ),
        snippets=_dns_snippets(),
        references=("RFC 1034 §4.3.2", "https://web.dev/articles/ttfb"),
    ),
)

DNS_TTL_SHORT = Rule(
    id="NET002",
    name="dns-ttl-short",
    severity=Severity.LOW,
    category=Category.LATENCY,
    title=Localized(
        en="DNS answers may be cached for only {dns_ttl_s} s (under {minimum_ttl_s} s)",
        zh="DNS 应答只能缓存 {dns_ttl_s} 秒(不足 {minimum_ttl_s} 秒)",
    ),
    why=Localized(
        en="A resolver keeps an answer for its TTL, then must ask your authoritative servers "
        "again; with a TTL under a minute, visitors pay a full lookup again and again. A "
        "caching resolver reports the time its copy has left, so a low number can also be an "
        "answer about to expire: check the TTL your zone sets.",
        zh="解析器只在 TTL 期间缓存应答,之后必须重新询问你的权威服务器;TTL 不足一分钟时,访问者会"
        "一次又一次地付出完整的解析时间。带缓存的解析器报告的是其副本剩余的时间,所以数值偏小也可能"
        "只是缓存快要过期:请核对区域文件里设置的 TTL。",
    ),
    requires=(ProbeId.CONNECTION,),
    check=dns_ttl_short,
    advice=Advice(
        summary=Localized(
            en="Set the address records' TTL to at least {minimum_ttl_s} s (300 s or more unless "
            "you fail over by DNS).",
            zh="把地址记录的 TTL 设为至少 {minimum_ttl_s} 秒(除非依赖 DNS 做故障切换,否则建议 "
            "300 秒以上)。",
        ),
        snippets=_dns_snippets(),
        references=("RFC 1035 §3.2.1", "RFC 2181 §8"),
    ),
)

H2_NOT_OFFERED = Rule(
    id="ALPN001",
    name="h2-not-offered",
    severity=Severity.MEDIUM,
    category=Category.LATENCY,
    title=Localized(
        en="HTTP/2 is not offered (browsers get: {selected_for_browser_offer})",
        zh="服务器不支持 HTTP/2(浏览器协商到:{selected_for_browser_offer})",
    ),
    why=Localized(
        en="Over HTTP/1.1 a connection carries one request at a time, so browsers open up to six "
        "connections to the origin, each paying its own TCP and TLS handshakes, and requests "
        "still queue behind each other. HTTP/2 multiplexes every request over one connection "
        "with compressed headers (RFC 9113).",
        zh="HTTP/1.1 的一个连接同一时间只能处理一个请求,浏览器因此会对同一源站开最多六个连接,"
        "每个都要单独完成 TCP 和 TLS 握手,请求之间仍会排队。"
        "HTTP/2 在一个连接上多路复用所有请求,并压缩请求头(RFC 9113)。",
    ),
    requires=(ProbeId.ALPN, ProbeId.CONNECTION),
    check=h2_not_offered,
    advice=Advice(
        summary=Localized(
            en="Enable HTTP/2: a page's requests then share one connection instead of opening "
            "more, each of which costs {saved_round_trips} round trips (TCP + TLS), about "
            "{saved_ms} ms at your measured RTT, before its first request.",
            zh="启用 HTTP/2:页面的请求共用一个连接,不必再开新连接;每个新连接在发出第一个请求前要花 "
            "{saved_round_trips} 个往返(TCP + TLS),按实测 RTT 约 {saved_ms} 毫秒。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "http2 on;", min_version=(1, 25, 1), before_text="listen 443 ssl http2;"
            ),
            ServerKind.APACHE: Snippet("Protocols h2 http/1.1  # needs mod_http2"),
            ServerKind.HAPROXY: Snippet("bind :443 ssl crt /etc/haproxy/site.pem alpn h2,http/1.1"),
            ServerKind.CADDY: Snippet("{\n    servers {\n        protocols h1 h2 h3\n    }\n}"),
        },
        references=(
            "RFC 9113",
            "RFC 7301",
            "https://nginx.org/en/docs/http/ngx_http_v2_module.html",
        ),
    ),
)

TTFB_SLOW = Rule(
    id="HTTP001",
    name="ttfb-slow",
    severity=Severity.MEDIUM,
    category=Category.LATENCY,
    title=Localized(
        en="The first response byte came {ttfb_ms} ms after the request, {ttfb_rtt_ratio} times "
        "the measured RTT of {rtt_ms} ms",
        zh="请求发出 {ttfb_ms} 毫秒后才收到响应的第一个字节,是实测 RTT({rtt_ms} 毫秒)的 "
        "{ttfb_rtt_ratio} 倍",
    ),
    why=Localized(
        en="Time to first byte is one round trip of network plus the time the server takes to "
        "produce the response. Beyond a few round trips it is almost all server time: a slow "
        "application, a cold cache, or a backend connection opened per request. The page can "
        "do nothing until that byte arrives.",
        zh="首字节时间等于一个网络往返加上服务器生成响应所用的时间。超过几个往返之后,几乎全是服务器"
        "时间:应用慢、缓存未命中,或每个请求都新建到后端的连接。这个字节到达之前,页面什么也做不了。",
    ),
    requires=(ProbeId.CONNECTION,),
    check=ttfb_slow,
    advice=Advice(
        summary=Localized(
            en="Find where the server's {server_time_ms} ms go: cache what can be cached, keep "
            "connections to the backend open, and profile the application's slowest step.",
            zh="找出服务器这 {server_time_ms} 毫秒花在哪里:能缓存的就缓存,与后端保持长连接,"
            "并分析应用中最慢的环节。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "proxy_cache_path /var/cache/nginx keys_zone=pages:10m;\n"
                "upstream app {\n"
                "    server 127.0.0.1:8080;\n"
                "    keepalive 16;  # reuse backend connections\n"
                "}\n"
                "# in the location:\n"
                "proxy_pass http://app;\n"
                "proxy_http_version 1.1;\n"
                'proxy_set_header Connection "";\n'
                "proxy_cache pages;\n"
                "proxy_cache_valid 200 1m;"
            ),
            ServerKind.APACHE: Snippet(
                "CacheEnable disk /\n"
                "CacheDefaultExpire 60\n"
                "# mod_proxy reuses backend connections unless disablereuse=On is set\n"
                "ProxyPass / http://127.0.0.1:8080/"
            ),
            ServerKind.HAPROXY: Snippet(
                "cache pages\n"
                "    total-max-size 64\n"
                "    max-age 60\n"
                "backend app\n"
                "    http-request cache-use pages\n"
                "    http-response cache-store pages\n"
                "    http-reuse safe\n"
                "    server app1 127.0.0.1:8080"
            ),
            ServerKind.CADDY: Snippet(
                "reverse_proxy 127.0.0.1:8080 {\n"
                "    transport http {\n"
                "        keepalive 90s\n"
                "    }\n"
                "}\n"
                "# Caddy has no built-in response cache: cache in the application"
            ),
        },
        references=("https://web.dev/articles/ttfb", "RFC 9111"),
    ),
)

HTTP3_NOT_ADVERTISED = Rule(
    id="HTTP002",
    name="http3-not-advertised",
    severity=Severity.LOW,
    category=Category.LATENCY,
    title=Localized(
        en="HTTP/3 is not advertised: no Alt-Svc h3 header and no DNS HTTPS record with h3",
        zh="未宣告 HTTP/3:既没有带 h3 的 Alt-Svc 头,也没有带 h3 的 DNS HTTPS 记录",
    ),
    why=Localized(
        en="Browsers use HTTP/3 only once told it exists: by an Alt-Svc header on an earlier "
        "response (RFC 7838) or a DNS HTTPS record before the first connection (RFC 9460). "
        "HTTP/3 runs over QUIC, which sets up transport and encryption in one round trip "
        "instead of TCP's plus TLS's, and a lost packet no longer stalls every stream. This "
        "scan cannot see whether the server speaks QUIC: advertise HTTP/3 only where it does.",
        zh="浏览器只有在得知 HTTP/3 可用后才会使用它:要么之前的响应带有 Alt-Svc 头(RFC 7838),"
        "要么首次连接前查到 DNS HTTPS 记录(RFC 9460)。HTTP/3 基于 QUIC,传输和加密在一个往返内"
        "同时建立,而不是 TCP 一次再加 TLS 一次,丢一个包也不会阻塞所有流。本次扫描看不到服务器是否"
        "支持 QUIC:只有确实支持时才应宣告 HTTP/3。",
    ),
    requires=(ProbeId.HTTP3_HINTS,),
    check=http3_not_advertised,
    advice=Advice(
        summary=Localized(
            en="Serve HTTP/3 and advertise it (an Alt-Svc header, and an HTTPS record with "
            'alpn="h3,h2"): each new connection then saves {saved_round_trips} round trip, about '
            "{saved_ms} ms at your measured RTT.",
            zh='启用 HTTP/3 并宣告它(发送 Alt-Svc 头,并添加 alpn="h3,h2" 的 HTTPS 记录):'
            "每个新连接可节省 {saved_round_trips} 个往返,按实测 RTT 约 {saved_ms} 毫秒。",
        ),
        snippets={
            ServerKind.NGINX: Snippet(
                "listen 443 quic reuseport;\n"
                "http3 on;\n"
                "add_header Alt-Svc 'h3=\":443\"; ma=86400' always;",
                min_version=(1, 25, 0),
                before_text="# nginx before 1.25 cannot serve HTTP/3; after upgrading:\n"
                "# listen 443 quic reuseport;\n"
                "# http3 on;\n"
                "# add_header Alt-Svc 'h3=\":443\"; ma=86400' always;",
            ),
            ServerKind.APACHE: Snippet(
                "Apache httpd cannot serve HTTP/3 (QUIC): put an HTTP/3-capable proxy or CDN in "
                "front of it, which then sends Alt-Svc itself.",
                not_configurable=True,
            ),
            ServerKind.HAPROXY: Snippet(
                "# HAProxy 2.6+ built with QUIC support\n"
                "bind quic4@:443 ssl crt /etc/haproxy/site.pem alpn h3\n"
                "http-after-response add-header alt-svc 'h3=\":443\"; ma=86400'"
            ),
            ServerKind.CADDY: Snippet(
                "# Caddy serves HTTP/3 and sends Alt-Svc by default: open UDP 443 and keep h3\n"
                "{\n    servers {\n        protocols h1 h2 h3\n    }\n}"
            ),
        },
        references=("RFC 9114", "RFC 7838", "RFC 9460 §7.1"),
    ),
)

HSTS_MISSING = Rule(
    id="HTTP003",
    name="hsts-missing",
    severity=Severity.MEDIUM,
    category=Category.SECURITY,
    title=Localized(
        en="No Strict-Transport-Security header: visitors who type the name start over plain HTTP",
        zh="没有 Strict-Transport-Security 头:直接输入域名的访问者会先走明文 HTTP",
    ),
    why=Localized(
        en="Without HSTS, a visitor who types the name or follows an http:// link connects to "
        "port 80 first and is redirected: a TCP handshake and a request (2 round trips) before "
        "the HTTPS connection even starts, all in the clear, where an attacker on the network "
        "can answer instead (SSL stripping). With HSTS the browser goes straight to HTTPS for "
        "max-age seconds (RFC 6797).",
        zh="没有 HSTS 时,直接输入域名或点击 http:// 链接的访问者会先连到 80 端口再被重定向:"
        "在 HTTPS 连接开始之前,先多了一次 TCP 握手和一次请求(2 个往返),"
        "而且全程明文,网络上的攻击者可以抢先应答(SSL 剥离)。"
        "有了 HSTS,浏览器在 max-age 秒内会直接使用 HTTPS(RFC 6797)。",
    ),
    requires=(ProbeId.CONNECTION,),
    check=hsts_missing,
    advice=Advice(
        summary=Localized(
            en="Send Strict-Transport-Security with a max-age of a year on every HTTPS response: "
            "returning visitors skip the http:// redirect, {saved_round_trips} round trips, about "
            "{saved_ms} ms at your measured RTT, and its attack window with it.",
            zh="在每个 HTTPS 响应中发送 max-age 为一年的 Strict-Transport-Security:回访者不再经过 "
            "http:// 重定向,节省 {saved_round_trips} 个往返(按实测 RTT 约 {saved_ms} 毫秒),"
            "也消除了这段攻击窗口。",
        ),
        snippets=HSTS_SNIPPETS,
        references=("RFC 6797", "https://wiki.mozilla.org/Security/Guidelines/Web_Security"),
    ),
)

HSTS_MAX_AGE_SHORT = Rule(
    id="HTTP004",
    name="hsts-max-age-short",
    severity=Severity.LOW,
    category=Category.SECURITY,
    title=Localized(
        en="Browsers keep HSTS for only {hsts_max_age_s} s (about {hsts_max_age_days} days)",
        zh="浏览器只会记住 HSTS {hsts_max_age_s} 秒(约 {hsts_max_age_days} 天)",
    ),
    why=Localized(
        en="Browsers remember HSTS for max-age seconds after the last visit. A short max-age "
        "lapses between the visits of occasional users, who then meet the http:// redirect "
        "and its attack window again. Six months is the usual minimum; browser preload lists "
        "ask for a year.",
        zh="浏览器在最后一次访问后的 max-age 秒内记住 HSTS。max-age 太短,偶尔来访的用户"
        "在两次访问之间就会过期,于是又要经过 http:// 重定向和那段攻击窗口。"
        "通常至少六个月;浏览器预加载列表要求一年。",
    ),
    requires=(ProbeId.CONNECTION,),
    check=hsts_max_age_short,
    advice=Advice(
        summary=Localized(
            en="Raise max-age to at least six months ({minimum_max_age_s} s); a year (31536000) "
            "is usual.",
            zh="把 max-age 提高到至少六个月({minimum_max_age_s} 秒);常用值为一年(31536000)。",
        ),
        snippets=HSTS_SNIPPETS,
        references=("RFC 6797 §6.1.1", "https://hstspreload.org/"),
    ),
)

RULES: tuple[Rule, ...] = (
    DNS_SLOW,
    DNS_TTL_SHORT,
    H2_NOT_OFFERED,
    TTFB_SLOW,
    HTTP3_NOT_ADVERTISED,
    HSTS_MISSING,
    HSTS_MAX_AGE_SHORT,
)
