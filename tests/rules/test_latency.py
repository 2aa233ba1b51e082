"""Latency and HTTP rules on real servers: nginx (fixtures/nginx/basic.conf) with and without
http2, HSTS and Alt-Svc; the lab DNS responder with short TTLs, slow answers and HTTPS records;
and the delay proxy for a slow first byte. Timing asserts are physics only (at least the delay
injected), never wall-clock limits.
"""

from __future__ import annotations

import time

import dns.message
import pytest

from httpsaudit.rules.latency import HTTP3_NOT_ADVERTISED, hsts_max_age
from httpsaudit.rules.model import RuleStatus, ServerKind, Severity
from tests.pki import TestPKI
from tests.rules.evaluation import audit
from tests.rules.test_resumption import nginx_directives, nginx_snippet
from tests.servers import DelayProxy, DnsServer, NginxServer

NAME = "app.lab.test"  # the lab certificate covers *.lab.test
ZONE = {NAME: [("A", "127.0.0.1")]}
DNS_DELAY_S = 0.15
ONE_WAY_DELAY_MS = 150.0
NO_HEADERS = ""
SHORT_HSTS = 'add_header Strict-Transport-Security "max-age=3600" always;'


class SlowDnsServer(DnsServer):
    """The lab DNS responder, answering every question ``DNS_DELAY_S`` late."""

    def answer(self, query: dns.message.Message) -> dns.message.Message | None:
        time.sleep(DNS_DELAY_S)
        return super().answer(query)


def basic(pki: TestPKI, **params: str) -> NginxServer:
    return NginxServer("basic", pki.ecdsa_p256, **params)


def extra_headers(snippet: str) -> str:
    """basic.conf's $extra_headers from the add_header lines of an nginx snippet."""
    return " ".join(
        f"{name} {arguments};"
        for name, arguments in nginx_directives(snippet)
        if name == "add_header"
    )


# -- NET001: slow DNS ------------------------------------------------------------------------


def test_net001_trigger_slow_resolver(pki: TestPKI) -> None:
    # Given a resolver that answers each question 150 ms late
    with basic(pki) as server, SlowDnsServer(ZONE) as resolver:
        finding = audit(
            server.port, pki.root_path, "NET001", name=NAME, resolver_port=resolver.port
        )["NET001"]
    # Then resolving took at least that long, over the 100 ms threshold
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.LOW
    dns_ms = finding.evidence["dns_ms"]
    assert isinstance(dns_ms, float)
    assert dns_ms >= DNS_DELAY_S * 1000
    assert finding.evidence["threshold_ms"] == 100.0
    assert finding.evidence["resolver"] == "dnspython"
    assert finding.evidence["dns_server"] == f"127.0.0.1:{resolver.port}"
    # And no web server can fix DNS: every snippet says so
    assert finding.snippet is not None
    assert "DNS is answered by your DNS provider, not by nginx" in finding.snippet


def test_net001_clean_local_resolver(pki: TestPKI) -> None:
    with basic(pki) as server, DnsServer(ZONE) as resolver:
        finding = audit(
            server.port, pki.root_path, "NET001", name=NAME, resolver_port=resolver.port
        )["NET001"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["cname_chain"] == ()


def test_net001_not_applicable_for_an_address(pki: TestPKI) -> None:
    # Given a scan connecting to an address (--connect-to): no lookup to judge
    with basic(pki) as server:
        findings = audit(server.port, pki.root_path, "NET001", "NET002")
    for rule_id in ("NET001", "NET002"):
        assert findings[rule_id].status is RuleStatus.NOT_APPLICABLE


# -- NET002: short TTL ---------------------------------------------------------------------


def test_net002_trigger_thirty_second_ttl(pki: TestPKI) -> None:
    with basic(pki) as server, DnsServer(ZONE, ttl=30) as resolver:
        finding = audit(
            server.port, pki.root_path, "NET002", name=NAME, resolver_port=resolver.port
        )["NET002"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.LOW
    assert finding.evidence["dns_ttl_s"] == 30
    assert finding.evidence["minimum_ttl_s"] == 60
    assert finding.message == "DNS answers may be cached for only 30 s (under 60 s)"


def test_net002_clean_five_minute_ttl(pki: TestPKI) -> None:
    with basic(pki) as server, DnsServer(ZONE, ttl=300) as resolver:
        finding = audit(
            server.port, pki.root_path, "NET002", name=NAME, resolver_port=resolver.port
        )["NET002"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["dns_ttl_s"] == 300


# -- ALPN001: HTTP/2 -------------------------------------------------------------------------


def test_alpn001_trigger_nginx_without_http2(pki: TestPKI) -> None:
    with basic(pki) as server:
        finding = audit(server.port, pki.root_path, "ALPN001")["ALPN001"]
    # Then browsers get HTTP/1.1, and each extra connection costs TCP + TLS 1.3: 2 round trips
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["h2"] == "not_supported"
    assert finding.evidence["selected_for_browser_offer"] == "http/1.1"
    assert finding.evidence["tls_round_trips"] == 1
    assert finding.saving is not None
    assert finding.saving.round_trips == 2
    assert finding.message == "HTTP/2 is not offered (browsers get: http/1.1)"


def test_alpn001_clean_nginx_with_http2(pki: TestPKI) -> None:
    with basic(pki, http2="http2") as server:
        finding = audit(server.port, pki.root_path, "ALPN001")["ALPN001"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["selected_for_browser_offer"] == "h2"


def test_alpn001_nginx_advice_fixes_it(pki: TestPKI) -> None:
    with basic(pki) as server:
        before = audit(server.port, pki.root_path, "ALPN001")["ALPN001"]
    # nginx 1.22 is told the listen-parameter spelling (http2 on; came in 1.25.1)
    assert before.snippet == "listen 443 ssl http2;"
    listen = dict(nginx_directives(before.snippet))["listen"].split()
    with basic(pki, http2=listen[-1]) as server:
        after = audit(server.port, pki.root_path, "ALPN001")["ALPN001"]
    assert after.status is RuleStatus.PASSED


# -- HTTP001: slow first byte --------------------------------------------------------------


def test_http001_trigger_slow_answer_behind_a_delay_proxy(pki: TestPKI) -> None:
    # Given a proxy that holds each chunk 150 ms each way, but connects at once (the RTT
    # estimate stays the loopback's): the first byte looks like a slow server
    with (
        basic(pki) as server,
        DelayProxy("127.0.0.1", server.port, one_way_delay_ms=ONE_WAY_DELAY_MS) as proxy,
    ):
        finding = audit(proxy.port, pki.root_path, "HTTP001")["HTTP001"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.MEDIUM
    ttfb_ms = finding.evidence["ttfb_ms"]
    rtt_ms = finding.evidence["rtt_ms"]
    assert isinstance(ttfb_ms, float)
    assert isinstance(rtt_ms, float)
    # The request and the answer each waited once: at least 2 x 150 ms
    assert ttfb_ms >= 2 * ONE_WAY_DELAY_MS
    assert ttfb_ms > 4 * rtt_ms
    assert finding.evidence["server_time_ms"] == round(ttfb_ms - rtt_ms, 1)
    # And the saving is that server time, in the user's own milliseconds
    assert finding.saving is not None
    assert finding.saving.ms == finding.evidence["server_time_ms"]


def test_http001_clean_direct_nginx(pki: TestPKI) -> None:
    with basic(pki) as server:
        finding = audit(server.port, pki.root_path, "HTTP001")["HTTP001"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["threshold_ms"] == 200.0
    assert finding.evidence["rtt_factor"] == 4.0


# -- HTTP002: HTTP/3 hints -----------------------------------------------------------------


def test_http002_trigger_no_alt_svc_no_https_record(pki: TestPKI) -> None:
    with basic(pki, extra_headers=NO_HEADERS) as server:
        finding = audit(server.port, pki.root_path, "HTTP002")["HTTP002"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.LOW
    assert finding.evidence["alt_svc"] is None
    assert finding.evidence["https_record_h3"] is False
    assert finding.evidence["dns_status"] == "not_queried"  # localhost never goes to DNS
    assert finding.saving is not None
    assert finding.saving.round_trips == 1


def test_http002_clean_alt_svc_h3(pki: TestPKI) -> None:
    # Given basic.conf's default headers, with Alt-Svc: h3=":443"; ma=86400
    with basic(pki) as server:
        finding = audit(server.port, pki.root_path, "HTTP002")["HTTP002"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["alt_svc"] == 'h3=":443"; ma=86400'


def test_http002_clean_https_record_alone(pki: TestPKI) -> None:
    # Given no Alt-Svc header, but a DNS HTTPS record offering h3
    zone = {NAME: [("A", "127.0.0.1"), ("HTTPS", '1 . alpn="h3,h2"')]}
    with basic(pki, extra_headers=NO_HEADERS) as server, DnsServer(zone) as resolver:
        finding = audit(
            server.port, pki.root_path, "HTTP002", name=NAME, resolver_port=resolver.port
        )["HTTP002"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["https_record_h3"] is True
    assert finding.evidence["dns_status"] == "answer"


def test_http002_nginx_advice_fixes_it(pki: TestPKI) -> None:
    with basic(pki, extra_headers=NO_HEADERS) as server:
        before = audit(server.port, pki.root_path, "HTTP002")["HTTP002"]
    assert before.status is RuleStatus.FAILED
    # nginx 1.22 cannot serve HTTP/3: it is told to upgrade, every line commented out
    assert before.snippet == nginx_snippet("HTTP002")
    assert all(line.startswith("#") for line in before.snippet.splitlines())
    # The Alt-Svc line of the advice for nginx 1.25+ is what makes the hint appear
    current = HTTP3_NOT_ADVERTISED.advice.snippets[ServerKind.NGINX].text
    with basic(pki, extra_headers=extra_headers(current)) as server:
        after = audit(server.port, pki.root_path, "HTTP002")["HTTP002"]
    assert after.status is RuleStatus.PASSED


# -- HTTP003: HSTS missing -------------------------------------------------------------------


def test_http003_trigger_no_hsts_header(pki: TestPKI) -> None:
    with basic(pki, extra_headers=NO_HEADERS) as server:
        finding = audit(server.port, pki.root_path, "HTTP003")["HTTP003"]
    # Then a typed name costs the http:// redirect: a TCP handshake and a request
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.MEDIUM
    assert finding.category.value == "security"
    assert finding.evidence["hsts_header"] is None
    assert finding.evidence["http_status"] == 200
    assert finding.saving is not None
    assert finding.saving.round_trips == 2
    assert finding.advice is not None
    assert "skip the http:// redirect, 2 round trips" in finding.advice


def test_http003_trigger_header_without_max_age(pki: TestPKI) -> None:
    # Given a header browsers ignore: no max-age
    headers = 'add_header Strict-Transport-Security "includeSubDomains" always;'
    with basic(pki, extra_headers=headers) as server:
        finding = audit(server.port, pki.root_path, "HTTP003")["HTTP003"]
    assert finding.status is RuleStatus.FAILED
    assert finding.evidence["hsts_header"] == "includeSubDomains"
    assert finding.evidence["hsts_max_age_s"] is None
    assert finding.message == (
        "The Strict-Transport-Security header has no valid max-age, so browsers ignore it: "
        "includeSubDomains"
    )


def test_http003_clean_one_year(pki: TestPKI) -> None:
    with basic(pki) as server:
        finding = audit(server.port, pki.root_path, "HTTP003")["HTTP003"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["hsts_max_age_s"] == 31536000


def test_http003_nginx_advice_fixes_it(pki: TestPKI) -> None:
    with basic(pki, extra_headers=NO_HEADERS) as server:
        before = audit(server.port, pki.root_path, "HTTP003")["HTTP003"]
    assert before.status is RuleStatus.FAILED
    assert before.snippet is not None
    with basic(pki, extra_headers=extra_headers(before.snippet)) as server:
        after = audit(server.port, pki.root_path, "HTTP003")["HTTP003"]
    assert after.status is RuleStatus.PASSED


# -- HTTP004: HSTS too short -----------------------------------------------------------------


def test_http004_trigger_one_hour(pki: TestPKI) -> None:
    with basic(pki, extra_headers=SHORT_HSTS) as server:
        findings = audit(server.port, pki.root_path, "HTTP003", "HTTP004")
    finding = findings["HTTP004"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.LOW
    assert finding.evidence["hsts_max_age_s"] == 3600
    assert finding.evidence["minimum_max_age_s"] == 15768000
    assert finding.message == "Browsers keep HSTS for only 3600 s (about 0.04 days)"
    # And the header itself is valid: HTTP003 passes
    assert findings["HTTP003"].status is RuleStatus.PASSED


def test_http004_clean_one_year(pki: TestPKI) -> None:
    with basic(pki) as server:
        finding = audit(server.port, pki.root_path, "HTTP004")["HTTP004"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["hsts_max_age_days"] == 365.0


def test_http004_not_applicable_without_hsts(pki: TestPKI) -> None:
    with basic(pki, extra_headers=NO_HEADERS) as server:
        finding = audit(server.port, pki.root_path, "HTTP004")["HTTP004"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.reason == "no valid HSTS header: HTTP003 reports it"


def test_http004_nginx_advice_fixes_it(pki: TestPKI) -> None:
    with basic(pki, extra_headers=SHORT_HSTS) as server:
        before = audit(server.port, pki.root_path, "HTTP004")["HTTP004"]
    assert before.status is RuleStatus.FAILED
    assert before.snippet is not None
    with basic(pki, extra_headers=extra_headers(before.snippet)) as server:
        after = audit(server.port, pki.root_path, "HTTP004")["HTTP004"]
    assert after.status is RuleStatus.PASSED


def test_http004_in_chinese(pki: TestPKI) -> None:
    with basic(pki, extra_headers=SHORT_HSTS) as server:
        finding = audit(server.port, pki.root_path, "HTTP004", lang="zh")["HTTP004"]
    assert finding.message == "浏览器只会记住 HSTS 3600 秒(约 0.04 天)"


@pytest.mark.parametrize(
    ("header", "max_age"),
    [
        ("max-age=31536000", 31536000),
        ("max-age=31536000; includeSubDomains; preload", 31536000),
        ('Max-Age="600"', 600),  # names are case-insensitive; values may be quoted
        ("includeSubDomains", None),  # no max-age: ignored
        ("max-age=1; max-age=2", None),  # a directive twice: invalid (RFC 6797 §6.1)
        ("max-age=-5", None),
        ("max-age=", None),
    ],
)
def test_hsts_max_age_as_browsers_read_it(header: str, max_age: int | None) -> None:
    assert hsts_max_age(header) == max_age
