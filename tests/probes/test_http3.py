"""HTTP/3 hints: Alt-Svc from a real nginx response, HTTPS records from the lab DNS server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from httpsaudit.net.dns import ResolverAddress
from httpsaudit.probes.http3 import AltService, Http3HintsProbe, parse_alt_svc
from httpsaudit.results import Http3HintsResult, ProbeOutcome, ProbeStatus, SvcbRecord
from httpsaudit.scan import run_probe
from tests.pki import TestPKI
from tests.probe_context import make_context, run_probe_on
from tests.servers import DnsServer, NginxServer, OpenSSLServer

# An ECHConfigList as published in real HTTPS records (base64 of its wire form).
ECH_CONFIG = (
    "AEX+DQBBpQAgACB/bGRVC+sFn2EWtGvUR04U91G3YhKjgfQnGPJpIC+sMQAEAAEAAQASY2xvdWRmbGFyZS1lY2gu"
    "Y29tAAA="
)
LAB_ZONE = {
    "www.example.test.": [
        ("HTTPS", f'1 . alpn="h3,h2" port=443 ipv4hint=127.0.0.1 ech="{ECH_CONFIG}"'),
        ("HTTPS", '2 backup.example.test. alpn="h2" port=8443 ipv6hint=::1'),
        ("A", "127.0.0.1"),
    ],
    "h2only.example.test.": [("HTTPS", '1 . alpn="h2"'), ("A", "127.0.0.1")],
    "nodata.example.test.": [("A", "127.0.0.1")],
    "silent.example.test.": [("DROP", "")],
}


def hints_of(outcome: ProbeOutcome[object]) -> Http3HintsResult:
    assert outcome.status is ProbeStatus.COMPLETED, outcome.error
    assert isinstance(outcome.result, Http3HintsResult)
    # The probe never opens a connection of its own
    assert outcome.connections == 0
    return outcome.result


def hints_via_lab_dns(
    name: str, tls_port: int, dns_server: DnsServer, pki: TestPKI, *, timeout_s: float = 20.0
) -> Http3HintsResult:
    """The probe for ``name`` (reached with --connect-to) asking the lab DNS server."""
    context = make_context(tls_port, ca_file=pki.root_path, name=name, timeout_s=timeout_s)
    resolver = ResolverAddress(dns_server.host, dns_server.port)
    context.options = replace(context.options, resolver=resolver)
    return hints_of(run_probe(Http3HintsProbe(), context))


# -- Alt-Svc from the response -------------------------------------------------------------


def test_nginx_alt_svc_advertises_h3(pki: TestPKI) -> None:
    # Given nginx sending Alt-Svc: h3=":443"; ma=86400 (the basic template's default)
    with NginxServer("basic", pki.ecdsa_p256) as server:
        # When the hints probe reads the timed connection's response for localhost
        outcome = run_probe_on(Http3HintsProbe(), server.port, ca_file=pki.root_path)
    # Then h3 is advertised, and localhost is never looked up in DNS (RFC 6761)
    assert hints_of(outcome) == Http3HintsResult(
        alt_svc='h3=":443"; ma=86400',
        alt_svc_h3=True,
        https_records=(),
        https_record_h3=False,
        dns_status="not_queried",
    )


def test_nginx_without_alt_svc(pki: TestPKI) -> None:
    # Given nginx sending no Alt-Svc header
    with NginxServer("basic", pki.ecdsa_p256, extra_headers="") as server:
        # When the hints probe runs
        outcome = run_probe_on(Http3HintsProbe(), server.port, ca_file=pki.root_path)
    # Then there is no hint at all
    assert hints_of(outcome) == Http3HintsResult(
        alt_svc=None,
        alt_svc_h3=False,
        https_records=(),
        https_record_h3=False,
        dns_status="not_queried",
    )


def test_nginx_alt_svc_with_h2_only(pki: TestPKI) -> None:
    # Given nginx advertising an alternative that is not HTTP/3
    header = "add_header Alt-Svc 'h2=\"alt.example.test:443\"; ma=3600' always;"
    with NginxServer("basic", pki.ecdsa_p256, extra_headers=header) as server:
        # When the hints probe runs
        outcome = run_probe_on(Http3HintsProbe(), server.port, ca_file=pki.root_path)
    # Then the header is kept but h3 is not advertised
    hints = hints_of(outcome)
    assert hints.alt_svc == 'h2="alt.example.test:443"; ma=3600'
    assert hints.alt_svc_h3 is False


def test_ip_literal_target_is_not_looked_up(pki: TestPKI) -> None:
    # Given a target that is an IP literal (no name to ask DNS about)
    with OpenSSLServer(pki.ecdsa_p256) as server:
        # When the hints probe runs
        outcome = run_probe_on(
            Http3HintsProbe(), server.port, ca_file=pki.root_path, name="127.0.0.1"
        )
    # Then DNS is not queried, and s_server -www sends no Alt-Svc
    hints = hints_of(outcome)
    assert hints.dns_status == "not_queried"
    assert hints.alt_svc is None
    assert hints.alt_svc_h3 is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            'h3=":443"; ma=86400, h3-29=":443"',
            (AltService("h3", "", 443, 86400), AltService("h3-29", "", 443, 86400)),
        ),
        ('h3-29=":8443"', (AltService("h3-29", "", 8443, 86400),)),
        ("clear", ()),
        ('h2="alt.example.test:443"', (AltService("h2", "alt.example.test", 443, 86400),)),
        ('h3="[::1]:443"; ma=60; persist=1', (AltService("h3", "::1", 443, 60),)),
        ('h3=":443"; ma=0', (AltService("h3", "", 443, 0),)),
        ('h3%2D29=":443"', (AltService("h3-29", "", 443, 86400),)),
        (
            'h2="a,b;c:443", h3=":443" ; ma="600"',
            (AltService("h2", "a,b;c", 443, 86400), AltService("h3", "", 443, 600)),
        ),
        ('h3=":port", h3, =":443", h3=":²", h3=":0"', ()),
    ],
)
def test_alt_svc_parsing(value: str, expected: tuple[AltService, ...]) -> None:
    # Given an Alt-Svc field value (RFC 7838 §3), When it is parsed, Then these alternatives
    assert parse_alt_svc(value) == expected


@given(st.text(max_size=200))
def test_alt_svc_parser_never_raises(value: str) -> None:
    # Given any header text a server might send, When it is parsed, Then nothing is raised
    for alternative in parse_alt_svc(value):
        assert 0 < alternative.port < 65536


# -- DNS HTTPS records ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab_dns() -> Iterator[DnsServer]:
    with DnsServer(LAB_ZONE) as server:
        yield server


@pytest.fixture(scope="module")
def lab_tls(pki: TestPKI) -> Iterator[NginxServer]:
    with NginxServer("basic", pki.ecdsa_p256) as server:
        yield server


def test_https_records_parsed_exactly(
    pki: TestPKI, lab_dns: DnsServer, lab_tls: NginxServer
) -> None:
    # Given www.example.test with two HTTPS records, one with h3, an IPv4 hint and ECH
    # When the hints probe runs for it (connecting with --connect-to, asking the lab DNS)
    queries_before = lab_dns.queries
    hints = hints_via_lab_dns("www.example.test", lab_tls.port, lab_dns, pki)
    # Then both records are read field by field, in priority order
    assert hints.dns_status == "answer"
    assert hints.https_records == (
        SvcbRecord(
            priority=1,
            target=".",
            alpn=("h3", "h2"),
            port=443,
            ipv4hint=("127.0.0.1",),
            ipv6hint=(),
            ech=True,
        ),
        SvcbRecord(
            priority=2,
            target="backup.example.test",
            alpn=("h2",),
            port=8443,
            ipv4hint=(),
            ipv6hint=("::1",),
            ech=False,
        ),
    )
    assert hints.https_record_h3 is True
    # And the Alt-Svc header is still read from the response
    assert hints.alt_svc_h3 is True
    # And exactly one DNS question was asked
    assert lab_dns.queries - queries_before == 1


def test_https_record_without_h3(pki: TestPKI, lab_dns: DnsServer, lab_tls: NginxServer) -> None:
    # Given a name whose HTTPS record lists h2 only
    hints = hints_via_lab_dns("h2only.example.test", lab_tls.port, lab_dns, pki)
    # Then the record is there but promises no HTTP/3
    assert hints.dns_status == "answer"
    assert hints.https_records == (
        SvcbRecord(
            priority=1, target=".", alpn=("h2",), port=None, ipv4hint=(), ipv6hint=(), ech=False
        ),
    )
    assert hints.https_record_h3 is False


@pytest.mark.parametrize(
    ("name", "status"),
    [("nodata.example.test", "nodata"), ("missing.example.test", "nxdomain")],
)
def test_no_https_record_is_an_answer(
    pki: TestPKI, lab_dns: DnsServer, lab_tls: NginxServer, name: str, status: str
) -> None:
    # Given a name without an HTTPS record, or no such name at all
    hints = hints_via_lab_dns(name, lab_tls.port, lab_dns, pki)
    # Then the probe completes and says so
    assert hints.dns_status == status
    assert hints.https_records == ()
    assert hints.https_record_h3 is False


def test_dns_silence_is_a_timeout(pki: TestPKI, lab_dns: DnsServer, lab_tls: NginxServer) -> None:
    # Given a DNS server that never answers for the name, and a scan with 2 s to go
    hints = hints_via_lab_dns("silent.example.test", lab_tls.port, lab_dns, pki, timeout_s=2.0)
    # Then the probe still completes, with a timeout status
    assert hints.dns_status == "timeout"
    assert hints.https_records == ()
