"""The human report, rendered from real scans of loopback lab servers.

Each test scans a server configured one way and asserts the words a reader needs; timing values
are never asserted, only that the phases and flights are there and drawn. The last part pins the
exact layout of the capability sections on results constructed by hand, so their shape is fixed
before (and independently of) the probes that fill them.
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import socket
from typing import Any

import pytest
from rich.console import Console

from httpsaudit.errors import ErrorKind, Phase
from httpsaudit.net.dns import ResolverAddress
from httpsaudit.probes import PROBES
from httpsaudit.probes.base import ScanOptions
from httpsaudit.report.terminal import render
from httpsaudit.results import (
    AlpnResult,
    CertificateDeliveryResult,
    ChainWeight,
    CipherSuiteInfo,
    CipherSuitesResult,
    ClientSimulationResult,
    CrossAddressResumption,
    Direction,
    DowngradeResult,
    DualCertificates,
    EarlyDataResult,
    FalseStartResult,
    FirstByteTiming,
    Flight,
    GroupsResult,
    GroupSupport,
    Http3HintsResult,
    KeyCost,
    KeyExchangeResult,
    OcspResponseFacts,
    OcspResult,
    ProbeError,
    ProbeId,
    ProbeOutcome,
    ProbeStatus,
    ReplayCheck,
    ResumptionAttempts,
    ResumptionResult,
    ScanResult,
    SimulatedClient,
    Support,
    SvcbRecord,
    TicketFacts,
    ValidityHygiene,
    VersionCipherSuites,
    VersionsResult,
    VersionSupport,
)
from httpsaudit.scan import scan
from httpsaudit.target import parse_address, parse_target
from httpsaudit.tls.codes import CipherSuite
from httpsaudit.tls.suites import describe_suite
from tests.pki import CA_ISSUERS_URL, CRL_URL, OCSP_URL, TestPKI
from tests.servers import DnsServer, NginxServer, OpenSSLServer, RawServer

WIDTH = 100
CAPABILITY_TITLES = (
    "Protocol versions",
    "Cipher suites",
    "Key exchange",
    "False Start",
    "ALPN and HTTP/3",
    "Client simulation",
    "Session resumption",
    "Early data (0-RTT)",
)
# Issue 6: what it costs to deliver the certificate and prove it is not revoked.
CERTIFICATE_TITLES = ("OCSP stapling", "Certificate delivery")
SECTION_TITLES = (
    "Timing",
    "Negotiated",
    "HTTP",
    "DNS",
    *CAPABILITY_TITLES,
    "Certificate chain",
    *CERTIFICATE_TITLES,
    "Probes",
)
NOT_IN_SCAN = "not part of this scan"
# The orchestrator module (``httpsaudit.scan`` the attribute is the scan function).
SCAN_MODULE = importlib.import_module("httpsaudit.scan")


# -- helpers ------------------------------------------------------------------------------


def scan_loopback(pki: TestPKI, port: int, *, samples: int = 1) -> ScanResult:
    """Scan ``localhost:<port>`` connecting to 127.0.0.1, trusting only the lab root."""
    target = parse_target(f"localhost:{port}", connect_to=(parse_address("127.0.0.1"),))
    return scan(target, ScanOptions(samples=samples, ca_file=pki.root_path, timeout_s=10))


def render_text(result: ScanResult, width: int = WIDTH) -> str:
    """The report as a plain-text terminal would show it."""
    output = io.StringIO()
    render(result, Console(file=output, width=width, color_system=None))
    return output.getvalue()


def line_starting(text: str, prefix: str) -> str:
    """The first report line that starts with ``prefix``; fails the test when there is none."""
    for line in text.splitlines():
        if line.startswith(prefix):
            return line
    pytest.fail(f"no line starts with {prefix!r} in:\n{text}")


def section(text: str, title: str) -> str:
    """The body of one report section: the lines after its title rule, up to the next rule."""
    lines = text.splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith(f"{title} ─")]
    assert starts, f"no {title!r} section in:\n{text}"
    body: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if line and not line.startswith(" "):
            break
        body.append(line)
    return "\n".join(body)


def body(text: str, title: str) -> str:
    """A section's body as compared exactly: trailing blanks and blank last lines trimmed."""
    return "\n".join(line.rstrip() for line in section(text, title).splitlines()).rstrip("\n")


def closed_port() -> int:
    """A loopback port nothing listens on: bound by us, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def measured(pki: TestPKI) -> ScanResult:
    """One real scan of s_server with its defaults, shared by read-only tests (the constructed
    layouts below replace its capability outcomes with their own)."""
    with OpenSSLServer(pki.ecdsa_p256) as server:
        return scan_loopback(pki, server.port)


# -- successful handshakes ----------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 100, 120])
def test_tls13_report_shows_waterfall_negotiation_and_trust(pki: TestPKI, width: int) -> None:
    # Given a TLS 1.3 s_server with an ECDSA P-256 leaf under the lab CA
    with OpenSSLServer(pki.ecdsa_p256) as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered at a common terminal width
    text = render_text(result, width)

    # Then it names the version, the single round trip, the flights, the key and the verdict
    assert "TLSv1.3" in text
    assert "1 round trip" in text
    assert "ClientHello" in text
    assert "EncryptedExtensions" in text
    assert "ECDSA P-256" in text
    assert "trusted (system+ca-file)" in text
    assert "NOT trusted" not in text
    for title in SECTION_TITLES:
        assert line_starting(text, title)
    # And every phase row carries a bar, with the flights listed between TLS and HTTP
    for phase in ("  TCP connect", "  TLS handshake", "  HTTP first byte"):
        assert "█" in line_starting(text, phase)
    lines = text.splitlines()
    tls_row = lines.index(line_starting(text, "  TLS handshake"))
    http_row = lines.index(line_starting(text, "  HTTP first byte"))
    flights = [line for line in lines[tls_row + 1 : http_row] if line.startswith("    ")]
    assert flights[0].startswith("    → ClientHello")
    assert any(line.startswith("    ← ServerHello") for line in flights)
    # And nothing spills past the console width
    assert all(len(line) <= width for line in lines)


def test_tls12_report_counts_two_round_trips(pki: TestPKI) -> None:
    # Given an s_server limited to TLS 1.2
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    text = render_text(result)

    # Then it shows TLS 1.2, its two round trips and the ServerKeyExchange in the server flight
    assert "TLSv1.2" in text
    assert "2 round trips" in text
    assert "ServerKeyExchange" in text
    assert line_starting(section(text, "Negotiated"), "  version").split()[1] == "TLSv1.2"


def test_hello_retry_request_is_named_and_counted(pki: TestPKI) -> None:
    # Given a server that accepts only P-384, so the first key share is refused with an HRR
    with OpenSSLServer(pki.ecdsa_p256, "-groups", "P-384") as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    text = render_text(result)

    # Then the retry is its own flight, counted as a round trip, and flagged in Negotiated
    assert "    ← HelloRetryRequest" in text
    assert "2 round trips incl. HelloRetryRequest" in text
    negotiated = section(text, "Negotiated")
    assert line_starting(negotiated, "  HelloRetryRequest").split()[1:] == ["yes"]
    assert "secp384r1" in line_starting(negotiated, "  key exchange group")
    # And the capability sections name the cost for a browser-like hello and for real clients
    exchange = section(text, "Key exchange")
    assert line_starting(exchange, "  TLS 1.3 preference").rstrip() == (
        "  TLS 1.3 preference   secp384r1 (the only one accepted)"
    )
    assert line_starting(exchange, "  browser-like hello").rstrip() == (
        "  browser-like hello   secp384r1: costs a HelloRetryRequest (+1 round trip)"
    )
    assert client_row(text, "Chrome")[-3:] == ["secp384r1", "yes", "2"]


def test_rsa_4096_leaf_is_named_in_the_chain_table(pki: TestPKI) -> None:
    # Given a server whose leaf has an RSA-4096 key
    with OpenSSLServer(pki.rsa4096) as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    text = render_text(result)

    # Then the leaf row (#0) names the key, and the intermediate row keeps its own key
    chain = section(text, "Certificate chain")
    assert "RSA-4096" in line_starting(chain, "  0 ")
    assert "ECDSA P-256" in line_starting(chain, "  1 ")


def test_expired_leaf_is_not_trusted_and_says_why(pki: TestPKI) -> None:
    # Given a server whose leaf expired ten days ago
    with OpenSSLServer(pki.expired) as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    text = render_text(result)

    # Then the verdict is NOT trusted, the leaf row says expired, and the reason is a bullet
    chain = section(text, "Certificate chain")
    assert "NOT trusted" in line_starting(chain, "  trust")
    assert "expired" in line_starting(chain, "  0 ")
    bullet = line_starting(chain, "    • ")
    assert "expired" in bullet
    assert "CN=localhost" in bullet


def test_several_samples_add_a_stats_table(pki: TestPKI) -> None:
    # Given three cold connections to the same server
    with OpenSSLServer(pki.ecdsa_p256) as server:
        result = scan_loopback(pki, server.port, samples=3)

    # When the report is rendered
    text = render_text(result)

    # Then a Samples section lists min/median/p90/max for each phase over 3 samples
    assert "Timing (first of 3 cold connections)" in text
    samples = section(text, "Samples")
    assert line_starting(samples, "  phase").split() == [
        "phase",
        "samples",
        "min",
        "ms",
        "median",
        "ms",
        "p90",
        "ms",
        "max",
        "ms",
    ]
    for phase in ("TCP connect", "TLS handshake", "HTTP first byte", "total (wall clock)"):
        row = line_starting(samples, f"  {phase} ")
        assert row.split()[len(phase.split())] == "3"
    assert "fastest of 3 TCP connects" in text


def test_single_sample_has_no_stats_table(pki: TestPKI) -> None:
    # Given one cold connection (the default)
    with OpenSSLServer(pki.ecdsa_p256) as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    text = render_text(result)

    # Then there is no Samples section
    assert not any(line.startswith("Samples") for line in text.splitlines())
    assert "median" not in section(text, "Timing")
    assert line_starting(text, "Timing ─")


def test_nginx_headers_are_shown(pki: TestPKI) -> None:
    # Given nginx sending HSTS and Alt-Svc
    with NginxServer("basic", pki.ecdsa_p256) as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    text = render_text(result)

    # Then the HTTP section shows both header values, the server and the ALPN choice
    http = section(text, "HTTP")
    assert "max-age=31536000" in line_starting(http, "  Strict-Transport-Security")
    assert 'h3=":443"; ma=86400' in line_starting(http, "  Alt-Svc")
    assert "nginx/" in line_starting(http, "  Server")
    assert "200 OK" in line_starting(http, "  status")
    assert "http/1.1" in line_starting(section(text, "Negotiated"), "  ALPN")


def test_missing_hsts_is_called_missing(pki: TestPKI) -> None:
    # Given s_server, which sends neither HSTS nor Alt-Svc
    with OpenSSLServer(pki.ecdsa_p256) as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    text = render_text(result)

    # Then the absence is stated, not left blank
    http = section(text, "HTTP")
    assert line_starting(http, "  Strict-Transport-Security").split()[1:] == ["missing"]
    assert line_starting(http, "  Alt-Svc").split()[1:] == ["none"]


def test_header_values_are_text_not_markup(pki: TestPKI) -> None:
    # Given nginx sending an Alt-Svc value that looks like rich markup and an emoji code
    hostile = "add_header Alt-Svc '[bold]h3[/bold]=\":443\" :smile:' always;"
    with NginxServer("basic", pki.ecdsa_p256, extra_headers=hostile) as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    text = render_text(result)

    # Then the value is printed exactly as sent
    assert '[bold]h3[/bold]=":443" :smile:' in line_starting(section(text, "HTTP"), "  Alt-Svc")


def test_http_failure_after_handshake_keeps_tls_details(pki: TestPKI) -> None:
    # Given nginx that completes TLS and then closes without any HTTP response (444)
    with NginxServer("basic", pki.ecdsa_p256, extra_headers="return 444;") as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    text = render_text(result)

    # Then TLS is reported in full, and the HTTP phase says it failed and why
    assert "TLSv1.3" in text
    assert "failed" in line_starting(text, "  HTTP first byte")
    assert "request failed:" in text
    assert "not reached: the HTTP request failed" in text


# -- where the name came from ------------------------------------------------------------


def test_ip_literal_target_explains_missing_dns_and_sni(pki: TestPKI) -> None:
    # Given a target written as an IP address
    with OpenSSLServer(pki.ecdsa_p256) as server:
        target = parse_target(f"127.0.0.1:{server.port}")
        result = scan(target, ScanOptions(ca_file=pki.root_path, timeout_s=10))

    # When the report is rendered
    text = render_text(result)

    # Then DNS and SNI say why they are absent instead of being blank
    assert "not resolved: the target is an IP address" in text
    assert "none (IP literal)" in line_starting(text, "│ SNI")


def test_dns_section_shows_resolver_chain_and_queries(pki: TestPKI) -> None:
    # Given a lab DNS server where www.lab.test is a CNAME for an A record on loopback
    records = {
        "www.lab.test.": [("CNAME", "edge.lab.test.")],
        "edge.lab.test.": [("A", "127.0.0.1")],
    }
    with DnsServer(records) as dns_server, OpenSSLServer(pki.ecdsa_p256) as server:
        target = parse_target(f"www.lab.test:{server.port}")
        options = ScanOptions(
            ca_file=pki.root_path,
            timeout_s=10,
            resolver=ResolverAddress("127.0.0.1", dns_server.port),
        )
        result = scan(target, options)

    # When the report is rendered
    text = render_text(result)

    # Then the DNS phase has a bar and the section names resolver, server, chain and queries
    assert "█" in line_starting(text, "  DNS ")
    dns = section(text, "DNS")
    assert "dnspython" in line_starting(dns, "  resolver")
    assert "127.0.0.1" in line_starting(dns, "  answered by")
    assert "edge.lab.test" in line_starting(dns, "  CNAME chain")
    assert "300 s" in line_starting(dns, "  TTL")
    assert "A" in line_starting(dns, "  queries").split()
    assert "AAAA" in dns


# -- failures ------------------------------------------------------------------------------


def test_unknown_name_shows_the_dns_failure(pki: TestPKI) -> None:
    # Given a lab DNS server that answers NXDOMAIN for the target name
    with DnsServer({"www.lab.test.": [("A", "127.0.0.1")]}) as dns_server:
        options = ScanOptions(
            ca_file=pki.root_path,
            timeout_s=10,
            resolver=ResolverAddress("127.0.0.1", dns_server.port),
        )
        result = scan(parse_target("missing.lab.test:443"), options)

    # When the report is rendered
    text = render_text(result)

    # Then the failure is shown up front, on the DNS row, and in the DNS section
    assert "connection failed during DNS" in text
    assert "failed" in line_starting(text, "  DNS ")
    assert "NXDOMAIN" in section(text, "DNS")
    assert "no TLS session" in section(text, "Negotiated")


def test_refused_port_renders_the_error_without_raising(pki: TestPKI) -> None:
    # Given a loopback port with nothing listening
    result = scan_loopback(pki, closed_port())

    # When the report is rendered
    text = render_text(result)

    # Then the header is there, the failure is shown first, and later sections say why empty
    assert "connection failed during TCP connect" in text
    assert "connection refused" in text
    assert "not connected" in line_starting(text, "│ connected")
    assert "failed" in line_starting(text, "  TCP connect")
    assert "no TLS session" in text
    assert "skipped: no certificate" in text
    for title in SECTION_TITLES:
        assert line_starting(text, title)


def test_garbage_answer_renders_partial_phases_and_the_error(pki: TestPKI) -> None:
    # Given a TCP server that answers the ClientHello with bytes that are not TLS
    with RawServer("garbage") as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    text = render_text(result)

    # Then TCP connect (which worked) has its bar, and the TLS failure is spelled out
    assert "█" in line_starting(text, "  TCP connect")
    assert "failed" in line_starting(text, "  TLS handshake")
    assert "connection failed during TLS handshake" in text
    assert "not TLS" in text
    assert line_starting(section(text, "Probes"), "  connection").split()[:2] == [
        "connection",
        "failed",
    ]


def test_ascii_console_gets_ascii_bars_and_arrows(pki: TestPKI) -> None:
    # Given a console whose output encoding is ASCII only
    with OpenSSLServer(pki.ecdsa_p256) as server:
        result = scan_loopback(pki, server.port)
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")

    # When the report is rendered to it
    render(result, Console(file=stream, width=WIDTH, color_system=None))
    stream.flush()
    text = raw.getvalue().decode("ascii")

    # Then it was encodable, with '#' bars and '->' arrows standing in
    assert "#" in line_starting(text, "  TLS handshake")
    assert "    -> ClientHello" in text


def test_colour_is_emphasis_only(pki: TestPKI) -> None:
    # Given an expired leaf, which the report colours red
    with OpenSSLServer(pki.expired) as server:
        result = scan_loopback(pki, server.port)

    # When it is rendered once with colour and once without
    console = Console(file=io.StringIO(), width=WIDTH, color_system="truecolor", record=True)
    render(result, console)

    # Then the words are identical: colour never carries a fact alone
    assert console.export_text() == render_text(result)


# -- capability sections from real scans ------------------------------------------------


def test_capability_sections_sit_between_dns_and_the_chain(pki: TestPKI) -> None:
    # Given a scan of a good TLS 1.3 server
    with OpenSSLServer(pki.ecdsa_p256) as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    lines = render_text(result).splitlines()

    # Then every section is there once, the capability sections after DNS, before the chain
    starts = [
        lines.index(line_starting("\n".join(lines), f"{title} ─")) for title in SECTION_TITLES
    ]
    assert starts == sorted(starts)
    assert len(set(starts)) == len(SECTION_TITLES)


def test_probes_outside_the_registry_show_why_they_did_not_run(
    pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a registry holding only the connection and certificate probes
    only_connection_and_certificate = {
        probe_id: PROBES[probe_id] for probe_id in (ProbeId.CONNECTION, ProbeId.CERTIFICATE)
    }
    monkeypatch.setattr(SCAN_MODULE, "PROBES", only_connection_and_certificate)
    with OpenSSLServer(pki.ecdsa_p256) as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    text = render_text(result)

    # Then each capability section gives each of its probes one line with the skip reason
    reason = f"skipped: {NOT_IN_SCAN}"
    assert body(text, "Protocol versions") == (
        f"  versions             {reason}\n  downgrade            {reason}"
    )
    assert body(text, "Cipher suites") == f"  {reason}"
    assert body(text, "Key exchange") == (
        f"  groups               {reason}\n  TLS 1.2 exchange     {reason}"
    )
    assert body(text, "False Start") == f"  {reason}"
    assert body(text, "ALPN and HTTP/3") == (
        f"  ALPN                 {reason}\n  HTTP/3 hints         {reason}"
    )
    assert body(text, "Client simulation") == f"  {reason}"
    assert body(text, "Session resumption") == f"  {reason}"
    assert body(text, "Early data (0-RTT)") == f"  {reason}"
    for title in CERTIFICATE_TITLES:
        assert body(text, title) == f"  {reason}"
    # And the footer lists every probe, the skipped ones with no connection and no time
    footer = section(text, "Probes")
    for probe_id in ProbeId:
        row = line_starting(footer, f"  {probe_id.value} ").split()
        if probe_id in only_connection_and_certificate:
            assert row[1:3] == ["completed", "1" if probe_id is ProbeId.CONNECTION else "0"]
        else:
            assert row[1:4] == ["skipped", "0", "—"]
            assert " ".join(row[4:]) == NOT_IN_SCAN


def client_row(text: str, client: str) -> list[str]:
    """The cells after the client name in the client simulation table (name wraps may follow)."""
    row = line_starting(section(text, "Client simulation"), f"  {client} ")
    return row.removeprefix(f"  {client} ").split()


def test_real_scan_of_a_default_s_server_fills_every_capability_section(
    measured: ScanResult,
) -> None:
    # Given a real scan of s_server with its defaults (TLS 1.2 and 1.3, client order, no ALPN)
    # When the report is rendered
    text = render_text(measured)

    # Then every registered capability probe completed and its section shows what it measured
    for probe_id in PROBES:
        assert line_starting(section(text, "Probes"), f"  {probe_id.value} ").split()[1] == (
            "completed"
        )
    versions = section(text, "Protocol versions")
    assert line_starting(versions, "  SSLv3").rstrip() == (
        "  SSLv3    ✗ not supported  alert handshake_failure"
    )
    for old in ("TLSv1.0", "TLSv1.1"):  # OpenSSL 3.0 at its default security level
        assert line_starting(versions, f"  {old}").rstrip() == (
            f"  {old}  ✗ not supported  alert internal_error"
        )
    assert line_starting(versions, "  TLSv1.2").startswith(
        "  TLSv1.2  ✓ supported      ServerHello TLSv1.2, TLS_ECDHE_ECDSA_WITH_"
    )
    assert line_starting(versions, "  TLSv1.3").startswith(
        "  TLSv1.3  ✓ supported      HelloRetryRequest TLSv1.3, TLS_"
    )
    assert line_starting(versions, "  TLS_FALLBACK_SCSV").rstrip() == (
        "  TLS_FALLBACK_SCSV    honoured (alert inappropriate_fallback)"
    )
    assert line_starting(versions, "  downgrade sentinel").rstrip() == (
        "  downgrade sentinel   sent to a client that offers at most TLS 1.2"
    )
    suites = section(text, "Cipher suites")
    assert line_starting(suites, "  TLSv1.3:").rstrip() == (
        "  TLSv1.3: 3 suites, the server follows the client's order"
    )
    assert line_starting(suites, "  TLSv1.2:").startswith("  TLSv1.2: ")
    assert line_starting(suites, "  honours").rstrip() == (
        "  honours a client's ChaCha20 preference: yes"
    )
    exchange = section(text, "Key exchange")
    assert line_starting(exchange, "  browser-like hello").rstrip() == (
        "  browser-like hello   x25519: no HelloRetryRequest"
    )
    assert line_starting(exchange, "  TLS 1.2 exchange").rstrip() == (
        "  TLS 1.2 exchange     ECDHE, x25519"
    )
    assert line_starting(exchange, "  static RSA").rstrip() == "  static RSA           not accepted"
    false_start = section(text, "False Start")
    assert line_starting(false_start, "  eligible").split() == ["eligible", "no"]
    assert "ALPN" in line_starting(false_start, "  why not")
    assert line_starting(false_start, "  moot: TLS 1.3 is offered")
    assert body(text, "ALPN and HTTP/3") == (
        "  ALPN h2              ✗ not supported\n"
        "  ALPN http/1.1        ✗ not supported\n"
        "  ALPN h2, http/1.1    nothing chosen\n"
        "  Alt-Svc              none\n"
        "  DNS HTTPS records    not queried\n"
        "  HTTP/3               not advertised"
    )
    assert client_row(text, "Chrome")[1:2] == ["TLSv1.3"]
    assert client_row(text, "Chrome")[-3:] == ["x25519", "no", "1"]


def test_real_scan_names_the_servers_suite_order(pki: TestPKI) -> None:
    # Given s_server choosing suites by its own order (-serverpref)
    with OpenSSLServer(pki.ecdsa_p256, "-serverpref") as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    suites = section(render_text(result), "Cipher suites")

    # Then the headings say so, TLS 1.3 suites come in OpenSSL's order, and a client that
    # lists ChaCha20 first does not get it
    assert (
        line_starting(suites, "  TLSv1.3:").rstrip() == "  TLSv1.3: 3 suites, in the server's order"
    )
    assert line_starting(suites, "  TLSv1.2:").rstrip().endswith(" suites, in the server's order")
    lines = suites.splitlines()
    first = lines.index(line_starting(suites, "  TLSv1.3:"))
    assert [line.split()[0] for line in lines[first + 2 : first + 5]] == [
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256",
    ]
    assert line_starting(suites, "  honours").rstrip() == (
        "  honours a client's ChaCha20 preference: no"
    )


def test_real_scan_of_nginx_with_h2_on_tls12_is_false_start_eligible(pki: TestPKI) -> None:
    # Given nginx speaking only TLS 1.2, with HTTP/2 and an Alt-Svc h3 header
    with NginxServer("basic", pki.ecdsa_p256, http2="http2", protocols="TLSv1.2") as server:
        result = scan_loopback(pki, server.port)

    # When the report is rendered
    text = render_text(result)

    # Then TLS 1.3 is refused, the fallback check has nothing to test, False Start is eligible
    # (and not moot), h2 is chosen and HTTP/3 is advertised by the header
    versions = section(text, "Protocol versions")
    assert line_starting(versions, "  TLSv1.3").rstrip() == (
        "  TLSv1.3  ✗ not supported  alert protocol_version"
    )
    assert line_starting(versions, "  TLS_FALLBACK_SCSV").split()[1:] == ["not", "tested"]
    false_start = section(text, "False Start")
    assert line_starting(false_start, "  eligible").split() == ["eligible", "yes"]
    assert line_starting(false_start, "  ALPN").split() == ["ALPN", "h2"]
    assert "moot" not in false_start
    alpn = section(text, "ALPN and HTTP/3")
    assert line_starting(alpn, "  ALPN h2 ").rstrip() == "  ALPN h2              ✓ supported"
    assert line_starting(alpn, "  ALPN h2, http/1.1").rstrip() == (
        "  ALPN h2, http/1.1    h2 chosen"
    )
    assert (
        line_starting(alpn, "  HTTP/3").rstrip() == "  HTTP/3               advertised by Alt-Svc"
    )
    exchange = section(text, "Key exchange")
    assert line_starting(exchange, "  TLS 1.3 preference").rstrip() == (
        "  TLS 1.3 preference   not tested (no TLS 1.3)"
    )
    assert client_row(text, "Chrome")[1:2] == ["TLSv1.2"]


# -- layout of completed sections (constructed results) ----------------------------------
#
# These results are written by hand, not measured: they pin the exact text of each capability
# section, whatever the probes that will fill them find on lab servers. Values are the kind a
# real server gives (an OpenSSL 3.0 s_server with an ECDSA P-256 leaf, unless said otherwise).

S, N, T, U = Support.SUPPORTED, Support.NOT_SUPPORTED, Support.NOT_TESTED, Support.UNKNOWN
ECDSA_AES256_GCM = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"


def suite(code: CipherSuite) -> CipherSuiteInfo:
    """The suite as the cipher suites probe reports it, from the same table of facts."""
    facts = describe_suite(code)
    assert facts is not None
    return CipherSuiteInfo(
        facts.name,
        facts.code,
        facts.key_exchange,
        facts.authentication,
        facts.encryption,
        facts.mode,
        facts.encryption_bits,
        facts.forward_secret,
    )


def completed(probe_id: ProbeId, result: object, connections: int = 1) -> ProbeOutcome[Any]:
    return ProbeOutcome(probe_id, ProbeStatus.COMPLETED, result, connections=connections)


def failed(probe_id: ProbeId, result: object = None) -> ProbeOutcome[Any]:
    error = ProbeError(ErrorKind.TIMEOUT, Phase.TLS, "no answer within 10.0 s")
    return ProbeOutcome(probe_id, ProbeStatus.FAILED, result, error=error, connections=2)


VERSIONS = VersionsResult(
    versions=(
        VersionSupport("SSLv3", 0x0300, N, "alert", None, "handshake_failure", None),
        VersionSupport("TLSv1.0", 0x0301, N, "alert", None, "internal_error", None),
        VersionSupport("TLSv1.1", 0x0302, N, "alert", None, "internal_error", None),
        VersionSupport("TLSv1.2", 0x0303, S, "server_hello", 0x0303, None, ECDSA_AES256_GCM),
        VersionSupport(
            "TLSv1.3", 0x0304, S, "hello_retry_request", 0x0304, None, "TLS_AES_256_GCM_SHA384"
        ),
    ),
    supported=("TLSv1.2", "TLSv1.3"),
    highest="TLSv1.3",
    lowest="TLSv1.2",
    tolerates_grease=True,
    tolerates_large_hello=True,
    intolerance=(),
)
DOWNGRADE = DowngradeResult(S, "alert inappropriate_fallback", True)
CIPHER_SUITES = CipherSuitesResult(
    versions=(
        VersionCipherSuites(
            "TLSv1.3",
            0x0304,
            (
                suite(CipherSuite.TLS_AES_256_GCM_SHA384),
                suite(CipherSuite.TLS_CHACHA20_POLY1305_SHA256),
                suite(CipherSuite.TLS_AES_128_GCM_SHA256),
            ),
            "server",
        ),
        VersionCipherSuites(
            "TLSv1.2",
            0x0303,
            (
                suite(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
                suite(CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256),
                suite(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
                suite(CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA),
            ),
            "client",
        ),
    ),
    prefers_aes128_over_aes256=False,
    honours_chacha20_preference=True,
)
GROUPS = GroupsResult(
    groups=(
        GroupSupport("X25519MLKEM768", 0x11EC, N, T),
        GroupSupport("x25519", 0x001D, S, S),
        GroupSupport("secp256r1", 0x0017, S, S),
        GroupSupport("secp384r1", 0x0018, S, U),
        GroupSupport("ffdhe2048", 0x0100, S, T),
    ),
    tls13_preference=("x25519", "secp256r1", "secp384r1", "ffdhe2048"),
    tls13_preference_kind="server",
    tls13_preference_tiers=(("x25519",), ("secp256r1",), ("secp384r1",), ("ffdhe2048",)),
    browser_hello_group="x25519",
    browser_hello_retry=False,
    dhe_prime_bits=None,
)
KEY_EXCHANGE = KeyExchangeResult(True, "ECDHE", ECDSA_AES256_GCM, "x25519", None, False)
FALSE_START = FalseStartResult(
    eligible=False,
    moot=True,
    reasons=("no application protocol was negotiated with ALPN",),
    cipher_suite=ECDSA_AES256_GCM,
    alpn=None,
)
ALPN = AlpnResult(S, S, "h2")
HTTP3_HINTS = Http3HintsResult(
    alt_svc='h3=":443"; ma=86400',
    alt_svc_h3=True,
    https_records=(SvcbRecord(1, ".", ("h3", "h2"), 8443, ("127.0.0.1",), (), True),),
    https_record_h3=True,
    dns_status="answer",
)
CLIENT_SIMULATION = ClientSimulationResult(
    (
        SimulatedClient(
            "Chrome 131",
            "TLSv1.3",
            "TLS_AES_128_GCM_SHA256",
            "X25519MLKEM768",
            None,
            False,
            1,
            None,
        ),
        SimulatedClient(
            "Safari 18", "TLSv1.3", "TLS_AES_128_GCM_SHA256", "secp384r1", None, True, 2, None
        ),
        SimulatedClient(
            "Android 7.0",
            "TLSv1.2",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "x25519",
            "http/1.1",
            False,
            2,
            None,
        ),
        SimulatedClient(
            "Java 6",
            None,
            None,
            None,
            None,
            False,
            None,
            "alert handshake_failure: no suite in common",
        ),
    )
)

# nginx 1.22 with a shared session cache and tickets on (its keys made at start, never rotated):
# every mechanism resumes every time; a resumed TLS 1.2 flight carries a fresh ticket.
TICKET_KEY_NAME = "3c5e0d2a9b8f4e61a7d3c2b1f0e9d8c7"
RESUMPTION = ResumptionResult(
    session_id=ResumptionAttempts(
        "session_id", S, 5, 5, 1.0, 2.41, 0.92, 1.49, 2, 1, 1342, 137, None
    ),
    session_ticket=ResumptionAttempts(
        "session_ticket", S, 5, 5, 1.0, 2.38, 0.95, 1.43, 2, 1, 1342, 335, None
    ),
    tls13_psk=ResumptionAttempts(
        "tls13_psk", S, 5, 5, 1.0, 1.87, 1.02, 0.85, 1, 1, 1190, 254, None
    ),
    tls12_tickets=TicketFacts("TLSv1.2", 11, None, 300, 192, (TICKET_KEY_NAME,), True, True, None),
    tls13_tickets=TicketFacts("TLSv1.3", 12, 2, 300, 208, (TICKET_KEY_NAME,), True, None, 0),
    psk_dhe_ke=S,
    psk_ke=N,
    addresses=(),  # one address: nothing to try across
    cross_address=(),
)
# nginx's default: no session cache, tickets on. Session IDs are sent but never resumed.
NO_SESSION_CACHE = dataclasses.replace(
    RESUMPTION,
    session_id=dataclasses.replace(
        RESUMPTION.session_id,
        support=N,
        resumed=0,
        resumption_rate=0.0,
        resumed_handshake_ms=None,
        saved_ms=None,
        resumed_round_trips=None,
        server_flight_bytes_resumed=None,
        note="the server sends a Session ID but never resumed it",
    ),
)
# A TLS 1.3-only server with week-long tickets whose key changed during the scan, that allows
# 0-RTT and resumption without (EC)DHE, and resumes only some of the time.
TLS12_NOT_OFFERED = "TLSv1.2 is not offered by the server"
LONG_LIFETIME = dataclasses.replace(
    RESUMPTION,
    session_id=ResumptionAttempts(
        "session_id", T, 0, 0, 0.0, None, None, None, None, None, None, None, TLS12_NOT_OFFERED
    ),
    session_ticket=ResumptionAttempts(
        "session_ticket", T, 0, 0, 0.0, None, None, None, None, None, None, None, TLS12_NOT_OFFERED
    ),
    tls13_psk=dataclasses.replace(
        RESUMPTION.tls13_psk,
        resumed=3,
        resumption_rate=0.6,
        resumed_handshake_ms=1.93,
        saved_ms=-0.06,
    ),
    tls12_tickets=None,
    tls13_tickets=TicketFacts(
        "TLSv1.3",
        12,
        2,
        604800,
        208,
        (TICKET_KEY_NAME, "0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
        False,
        None,
        16384,
    ),
    psk_ke=S,
)
# Backends behind one name, as the probe writes them (HOST:PORT, [V6]:PORT).
B1, B2 = "127.0.0.2:8443", "127.0.0.3:8443"
# Two nginx backends sharing one ssl_session_ticket_key file but no session cache.
TWO_ADDRESSES = dataclasses.replace(
    RESUMPTION,
    addresses=(B1, B2),
    cross_address=(
        CrossAddressResumption("session_id", B1, B2, False),
        CrossAddressResumption("session_id", B2, B1, False),
        CrossAddressResumption("session_ticket", B1, B2, True),
        CrossAddressResumption("session_ticket", B2, B1, True),
        CrossAddressResumption("tls13_psk", B1, B2, True),
        CrossAddressResumption("tls13_psk", B2, B1, True),
    ),
)
# Three addresses, tickets only: the third (IPv6) backend has its own ticket key, and its full
# handshake failed once; one pair was never tried.
V6_BACKEND = "[2001:db8:ffff:ffff:ffff:ffff:ffff:1]:8443"
THREE_ADDRESSES = dataclasses.replace(
    RESUMPTION,
    addresses=(B1, B2, V6_BACKEND),
    cross_address=(
        CrossAddressResumption("session_ticket", B1, B2, True),
        CrossAddressResumption("session_ticket", B1, V6_BACKEND, False),
        CrossAddressResumption("session_ticket", B2, B1, True),
        CrossAddressResumption("session_ticket", B2, V6_BACKEND, False),
        CrossAddressResumption("session_ticket", V6_BACKEND, B1, None),
        CrossAddressResumption("session_ticket", V6_BACKEND, B2, False),
        CrossAddressResumption("tls13_psk", B1, B2, True),
        CrossAddressResumption("tls13_psk", B1, V6_BACKEND, False),
        CrossAddressResumption("tls13_psk", B2, B1, True),
        CrossAddressResumption("tls13_psk", V6_BACKEND, B1, False),
        CrossAddressResumption("tls13_psk", V6_BACKEND, B2, False),
    ),
)
RESUMPTION_VARIANTS = {
    "all-resumed": RESUMPTION,
    "no-session-cache": NO_SESSION_CACHE,
    "long-lifetime": LONG_LIFETIME,
    "two-addresses": TWO_ADDRESSES,
    "three-addresses": THREE_ADDRESSES,
}

# Our TLS 1.3 engine's full handshake with nginx: the client's second flight carries the
# middlebox-compatibility ChangeCipherSpec.
ENGINE_FLIGHTS = (
    Flight(Direction.CLIENT, ("ClientHello",), 1566, 1, 0.0, 0.0),
    Flight(
        Direction.SERVER,
        ("ServerHello", "EncryptedExtensions", "Certificate", "CertificateVerify", "Finished"),
        1595,
        6,
        0.71,
        0.74,
    ),
    Flight(Direction.CLIENT, ("ChangeCipherSpec", "Finished"), 80, 2, 1.69, 1.69),
)
NOT_TESTED_REPLAY = ReplayCheck(False, None, None, None, "no 0-RTT was accepted")
REJECTED_REPLAY = ReplayCheck(True, False, False, None, None)
SERVED_REPLAY = ReplayCheck(True, True, True, 200, None)
# nginx with ssl_early_data on: its tickets are not single-use and nothing stops a replay, so
# the same GET is served again, with the same ticket and from a byte-identical first flight.
EARLY_DATA = EarlyDataResult(
    offered=S,
    max_early_data_bytes=16384,
    accepted=S,
    method="GET",
    status=200,
    timing=FirstByteTiming(2.41, 2, 1.95, 2, 1.02, 1),
    ticket_reuse=SERVED_REPLAY,
    exact_replay=SERVED_REPLAY,
    too_early="not_tested",
    too_early_status=None,
    engine_flights=ENGINE_FLIGHTS,
    engine_handshake_ms=1.71,
    reference_handshake_ms=1.78,
)
# s_server -early_data: OpenSSL's anti-replay lets a ticket's early data in once only.
REPLAY_REJECTED = dataclasses.replace(
    EARLY_DATA, ticket_reuse=REJECTED_REPLAY, exact_replay=REJECTED_REPLAY
)
# Tickets that allow early data, from a server that then rejects it (early data off behind a
# TLS terminator that issues the tickets): the request goes again after the handshake.
OFFERED_NOT_ACCEPTED = dataclasses.replace(
    EARLY_DATA,
    accepted=N,
    timing=FirstByteTiming(2.41, 2, 1.95, 2, None, None),
    ticket_reuse=NOT_TESTED_REPLAY,
    exact_replay=NOT_TESTED_REPLAY,
)
# nginx without ssl_early_data: tickets carry no early_data extension.
NOT_OFFERED = dataclasses.replace(
    OFFERED_NOT_ACCEPTED,
    offered=N,
    max_early_data_bytes=0,
    accepted=T,
    status=None,
    ticket_reuse=ReplayCheck(False, None, None, None, "the server offers no 0-RTT"),
    exact_replay=ReplayCheck(False, None, None, None, "the server offers no 0-RTT"),
)
# --unsafe-probes against nginx told to answer every early request 425 Too Early
# (``if ($ssl_early_data) { return 425; }``): the GET and its replays are answered, not served.
TOO_EARLY = dataclasses.replace(
    EARLY_DATA,
    status=425,
    ticket_reuse=ReplayCheck(True, True, True, 425, None),
    exact_replay=ReplayCheck(True, True, True, 425, None),
    too_early="425",
    too_early_status=425,
)
TLS13_NOT_OFFERED = "TLSv1.3 is not offered by the server"
EARLY_DATA_VARIANTS = {
    "replay-served": EARLY_DATA,
    "replay-rejected": REPLAY_REJECTED,
    "offered-not-accepted": OFFERED_NOT_ACCEPTED,
    "not-offered": NOT_OFFERED,
    "too-early": TOO_EARLY,
}

# s_server -status_file with a good response from the intermediate (tests/pki.py
# ocsp_response): made an hour before the scan, valid for seven days.
OCSP_URLS = (OCSP_URL,)
CRL_URLS = (CRL_URL,)
GOOD_STAPLE = OcspResponseFacts(
    response_bytes=283,
    response_status="successful",
    cert_status="good",
    revocation_time=None,
    revocation_reason=None,
    serial_matches=True,
    issuer_key_hash_matches=True,
    signature_valid=True,
    signer="issuer",
    delegated_ocsp_signing=None,
    produced_at="2026-11-27T05:55:11+00:00",
    this_update="2026-11-27T04:55:11+00:00",
    next_update="2026-12-04T05:55:11+00:00",
    age_s=3600,
    expires_in_s=604800,
    stale=False,
    problems=(),
)
OCSP = OcspResult(
    ocsp_urls=OCSP_URLS,
    crl_urls=CRL_URLS,
    revocation_info="ocsp+crl",
    tls12_stapled=S,
    tls13_stapled=S,
    connections_tried=3,
    first_stapled_connection=1,
    response=GOOD_STAPLE,
    must_staple=False,
    must_staple_violated=False,
)
# nginx ssl_stapling_file with a response from a delegated responder that has the OCSPSigning
# EKU; the first handshake came without a staple, as from a server that fetches it lazily.
DELEGATED = dataclasses.replace(
    OCSP,
    first_stapled_connection=2,
    response=dataclasses.replace(
        GOOD_STAPLE, response_bytes=830, signer="delegated", delegated_ocsp_signing=True
    ),
)
# A response saying the leaf was revoked two days before (key compromise).
REVOKED = dataclasses.replace(
    OCSP,
    response=dataclasses.replace(
        GOOD_STAPLE,
        response_bytes=309,
        cert_status="revoked",
        revocation_time="2026-11-25T05:55:11+00:00",
        revocation_reason="key_compromise",
        problems=(
            "the responder says the certificate is revoked (since 2026-11-25T05:55:11+00:00, "
            "reason: key_compromise)",
        ),
    ),
)
# A response whose nextUpdate passed two hours before the scan: the server kept stapling it.
STALE = dataclasses.replace(
    OCSP,
    response=dataclasses.replace(
        GOOD_STAPLE,
        produced_at="2026-11-20T07:55:11+00:00",
        this_update="2026-11-20T07:55:11+00:00",
        next_update="2026-11-27T03:55:11+00:00",
        age_s=597600,
        expires_in_s=-7200,
        stale=True,
        problems=(
            "the response expired at 2026-11-27T03:55:11+00:00 (nextUpdate): clients treat a "
            "stale staple as none",
        ),
    ),
)
# A response signed by the root (included in it): the signature verifies, but the root did not
# issue the leaf, so it may not answer for it.
WRONGLY_SIGNED = dataclasses.replace(
    OCSP,
    response=dataclasses.replace(
        GOOD_STAPLE,
        response_bytes=776,
        signer="unknown",
        problems=(
            "signed by CN=httpsaudit Test Root,O=httpsaudit test lab, which the leaf's issuer "
            "did not issue: it may not answer for this certificate (RFC 6960 §4.2.2.2)",
        ),
    ),
)
# A must-staple leaf (TLS Feature status_request) on a server that never staples.
MUST_STAPLE_VIOLATED = dataclasses.replace(
    OCSP,
    tls12_stapled=N,
    tls13_stapled=N,
    first_stapled_connection=None,
    response=None,
    must_staple=True,
    must_staple_violated=True,
)
# A leaf without AIA OCSP or CRL distribution points, as many CAs now issue: nothing to staple.
NO_REVOCATION_INFO = dataclasses.replace(
    MUST_STAPLE_VIOLATED,
    ocsp_urls=(),
    crl_urls=(),
    revocation_info="none",
    must_staple=False,
    must_staple_violated=False,
)
# A responder that was busy when the server fetched: the server staples the error it got.
TRY_LATER = dataclasses.replace(
    OCSP,
    response=OcspResponseFacts(
        response_bytes=5,
        response_status="try_later",
        cert_status=None,
        revocation_time=None,
        revocation_reason=None,
        serial_matches=None,
        issuer_key_hash_matches=None,
        signature_valid=None,
        signer=None,
        delegated_ocsp_signing=None,
        produced_at=None,
        this_update=None,
        next_update=None,
        age_s=None,
        expires_in_s=None,
        stale=False,
        problems=(
            "the response status is try_later, not successful: it carries no certificate "
            "status (RFC 6960 §4.2.1)",
        ),
    ),
)
# Stapled bytes that are no OCSPResponse at all.
UNPARSEABLE = dataclasses.replace(
    TRY_LATER,
    response=dataclasses.replace(
        TRY_LATER.response,
        response_bytes=20,
        response_status="unparseable",
        problems=(
            "not a valid OCSP response: the stapled bytes do not parse as an OCSPResponse "
            "(RFC 6960 §4.2.1)",
        ),
    ),
)
OCSP_VARIANTS = {
    "good": OCSP,
    "delegated-lazy": DELEGATED,
    "revoked": REVOKED,
    "stale": STALE,
    "wrongly-signed": WRONGLY_SIGNED,
    "try-later": TRY_LATER,
    "unparseable": UNPARSEABLE,
    "must-staple-violated": MUST_STAPLE_VIOLATED,
    "no-revocation-info": NO_REVOCATION_INFO,
}

# The same s_server: leaf and intermediate, TLS 1.3, the first flight well inside the window.
CHAIN_WEIGHT = ChainWeight(
    certificates=2,
    chain_der_bytes=1218,
    certificate_message_bytes=1236,
    server_first_flight_bytes=1594,
    initial_window_bytes=14600,
    exceeds_initial_window=False,
    root_included=False,
    duplicates=(),
    order_ok=True,
    order_problems=(),
    missing_intermediate=False,
    ca_issuers_urls=(CA_ISSUERS_URL,),
)
# The leaf's key measured, the probe's references beside it (medians on a lab machine); a
# reference of the leaf's own type is left out.
KEY_COSTS = (
    KeyCost("ECDSA P-256", True, 91, 72, 60.9),
    KeyCost("RSA-2048", False, 294, 256, 18.8),
    KeyCost("RSA-3072", False, 422, 384, 37.3),
    KeyCost("RSA-4096", False, 550, 512, 60.4),
)
# Issued in November 2026: CA/B Forum Ballot SC-081 allows 200 days from 15 March 2026.
HYGIENE = ValidityHygiene(
    days_left=89,
    lifetime_days=91,
    max_lifetime_days=200,
    exceeds_max_lifetime=False,
    sha1_signatures=(),
    weak_keys=(),
    name_matches=True,
)
DELIVERY = CertificateDeliveryResult(
    chain=CHAIN_WEIGHT,
    key_costs=KEY_COSTS,
    dual_certificates=DualCertificates("ECDSA P-256", None, False, "TLSv1.3"),
    hygiene=HYGIENE,
)
# Six intermediates, one of them sent twice, and the root: 16 KB before the client can answer.
OVERSIZED = dataclasses.replace(
    DELIVERY,
    chain=ChainWeight(
        certificates=9,
        chain_der_bytes=15634,
        certificate_message_bytes=15687,
        server_first_flight_bytes=16045,
        initial_window_bytes=14600,
        exceeds_initial_window=True,
        root_included=True,
        duplicates=(3,),
        order_ok=False,
        order_problems=("position 2 is not issued by position 3 (the same certificate again)",),
        missing_intermediate=False,
        ca_issuers_urls=(CA_ISSUERS_URL,),
    ),
)
# A leaf sent without its intermediate: a client must fetch it from caIssuers or fail.
MISSING_INTERMEDIATE = dataclasses.replace(
    DELIVERY,
    chain=dataclasses.replace(
        CHAIN_WEIGHT,
        certificates=1,
        chain_der_bytes=725,
        certificate_message_bytes=738,
        server_first_flight_bytes=1101,
        missing_intermediate=True,
    ),
)
# nginx with an ECDSA and an RSA certificate: each client gets the one it can verify.
DUAL = dataclasses.replace(
    DELIVERY, dual_certificates=DualCertificates("ECDSA P-256", "RSA-2048", True, "TLSv1.3")
)
# An old RSA-1024 leaf signed with SHA-1, issued for 825 days, for another name, expiring soon.
WEAK_AND_SHA1 = dataclasses.replace(
    DELIVERY,
    key_costs=(
        KeyCost("RSA-1024", True, 162, 128, 7.9),
        KeyCost("ECDSA P-256", False, 91, 72, 60.9),
        *KEY_COSTS[1:],
    ),
    dual_certificates=DualCertificates(None, "RSA-1024", False, "TLSv1.2"),
    hygiene=ValidityHygiene(
        days_left=12,
        lifetime_days=825,
        max_lifetime_days=398,  # issued in 2024
        exceeds_max_lifetime=True,
        sha1_signatures=(0,),
        weak_keys=("position 0: RSA-1024",),
        name_matches=False,
    ),
)
DELIVERY_VARIANTS = {
    "lab-chain": DELIVERY,
    "oversized": OVERSIZED,
    "missing-intermediate": MISSING_INTERMEDIATE,
    "dual": DUAL,
    "weak-and-sha1": WEAK_AND_SHA1,
}


def constructed_outcomes() -> dict[str, Any]:
    """A completed outcome for every capability probe, keyed by its ScanResult field.

    Typed ``Any`` so it can be spread into ``dataclasses.replace``: each field has its own type.
    """
    outcomes = {
        ProbeId.VERSIONS: completed(ProbeId.VERSIONS, VERSIONS, 7),
        ProbeId.DOWNGRADE: completed(ProbeId.DOWNGRADE, DOWNGRADE, 2),
        ProbeId.CIPHER_SUITES: completed(ProbeId.CIPHER_SUITES, CIPHER_SUITES, 11),
        ProbeId.GROUPS: completed(ProbeId.GROUPS, GROUPS, 20),
        ProbeId.KEY_EXCHANGE: completed(ProbeId.KEY_EXCHANGE, KEY_EXCHANGE, 2),
        ProbeId.FALSE_START: completed(ProbeId.FALSE_START, FALSE_START, 1),
        ProbeId.ALPN: completed(ProbeId.ALPN, ALPN, 3),
        ProbeId.HTTP3_HINTS: completed(ProbeId.HTTP3_HINTS, HTTP3_HINTS, 0),
        ProbeId.CLIENT_SIMULATION: completed(ProbeId.CLIENT_SIMULATION, CLIENT_SIMULATION, 4),
        ProbeId.RESUMPTION: completed(ProbeId.RESUMPTION, RESUMPTION, 23),
        ProbeId.EARLY_DATA: completed(ProbeId.EARLY_DATA, EARLY_DATA, 9),
        ProbeId.OCSP: completed(ProbeId.OCSP, OCSP, 3),
        ProbeId.CERTIFICATE_DELIVERY: completed(ProbeId.CERTIFICATE_DELIVERY, DELIVERY, 2),
    }
    return {probe_id.value: outcome for probe_id, outcome in outcomes.items()}


def with_outcomes(base: ScanResult, **outcomes: ProbeOutcome[Any]) -> ScanResult:
    """``base`` with every capability probe completed as constructed, then ``outcomes``."""
    changes: dict[str, Any] = {**constructed_outcomes(), **outcomes}
    return dataclasses.replace(base, **changes)


def test_protocol_versions_layout(measured: ScanResult) -> None:
    # Given a server with TLS 1.2 and 1.3 that honours TLS_FALLBACK_SCSV
    result = with_outcomes(measured)

    # When the report is rendered
    text = render_text(result)

    # Then each version has a verdict and the answer that proves it, then the tolerance and
    # downgrade checks line up as key/value rows
    assert body(text, "Protocol versions") == (
        "  SSLv3    ✗ not supported  alert handshake_failure\n"
        "  TLSv1.0  ✗ not supported  alert internal_error\n"
        "  TLSv1.1  ✗ not supported  alert internal_error\n"
        "  TLSv1.2  ✓ supported      ServerHello TLSv1.2, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n"
        "  TLSv1.3  ✓ supported      HelloRetryRequest TLSv1.3, TLS_AES_256_GCM_SHA384\n"
        "\n"
        "  GREASE               tolerated\n"
        "  large hello          tolerated\n"
        "  TLS_FALLBACK_SCSV    honoured (alert inappropriate_fallback)\n"
        "  downgrade sentinel   sent to a client that offers at most TLS 1.2"
    )


def test_protocol_versions_layout_of_a_tls10_only_server(measured: ScanResult) -> None:
    # Given a TLS 1.0-only server that negotiates newer hellos down and chokes on GREASE
    suite_name = "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"
    versions = VersionsResult(
        versions=(
            VersionSupport("SSLv3", 0x0300, N, "alert", None, "handshake_failure", None),
            VersionSupport("TLSv1.0", 0x0301, S, "server_hello", 0x0301, None, suite_name),
            VersionSupport("TLSv1.1", 0x0302, N, "server_hello", 0x0301, None, None),
            VersionSupport("TLSv1.2", 0x0303, N, "server_hello", 0x0301, None, None),
            VersionSupport("TLSv1.3", 0x0304, N, "closed", None, None, None),
        ),
        supported=("TLSv1.0",),
        highest="TLSv1.0",
        lowest="TLSv1.0",
        tolerates_grease=False,
        tolerates_large_hello=None,
        intolerance=("a hello with GREASE values got alert decode_error",),
    )
    result = with_outcomes(
        measured,
        versions=completed(ProbeId.VERSIONS, versions),
        downgrade=completed(ProbeId.DOWNGRADE, DowngradeResult(T, None, None)),
    )

    # When the report is rendered
    text = render_text(result)

    # Then a lower ServerHello is called out as negotiating down, the intolerance is explained,
    # and the downgrade checks say they could not be run
    assert body(text, "Protocol versions") == (
        "  SSLv3    ✗ not supported  alert handshake_failure\n"
        "  TLSv1.0  ✓ supported      ServerHello TLSv1.0, TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA\n"
        "  TLSv1.1  ✗ not supported  ServerHello TLSv1.0 (negotiated down)\n"
        "  TLSv1.2  ✗ not supported  ServerHello TLSv1.0 (negotiated down)\n"
        "  TLSv1.3  ✗ not supported  connection closed without an answer\n"
        "\n"
        "  GREASE               NOT tolerated\n"
        "  large hello          not tested\n"
        "  what went wrong      • a hello with GREASE values got alert decode_error\n"
        "  TLS_FALLBACK_SCSV    not tested\n"
        "  downgrade sentinel   not tested"
    )


def test_downgrade_without_protection_is_spelled_out(measured: ScanResult) -> None:
    # Given a server that accepts a fallback hello and sets no downgrade sentinel
    downgrade = DowngradeResult(N, "server_hello TLSv1.1", False)
    result = with_outcomes(measured, downgrade=completed(ProbeId.DOWNGRADE, downgrade))

    # When the report is rendered
    protocol = section(render_text(result), "Protocol versions")

    # Then both rows say NOT, with the answer that shows it
    assert line_starting(protocol, "  TLS_FALLBACK_SCSV").rstrip() == (
        "  TLS_FALLBACK_SCSV    NOT honoured (server_hello TLSv1.1)"
    )
    assert line_starting(protocol, "  downgrade sentinel").rstrip() == (
        "  downgrade sentinel   NOT sent to a client that offers at most TLS 1.2"
    )


def test_cipher_suites_layout(measured: ScanResult) -> None:
    # Given TLS 1.3 suites in the server's order and TLS 1.2 suites in the client's
    result = with_outcomes(measured)

    # When the report is rendered 100 columns wide
    text = render_text(result)

    # Then each version has a heading saying whose order it is, and one table row per suite
    # with the facts advice needs; the two costly choices close the section
    assert body(text, "Cipher suites") == (
        "  TLSv1.3: 3 suites, in the server's order\n"
        "    suite                                          kex    auth   encryption         mode  bits   FS\n"  # noqa: E501
        "    TLS_AES_256_GCM_SHA384                         any    any    AES-256-GCM        AEAD   256  yes\n"  # noqa: E501
        "    TLS_CHACHA20_POLY1305_SHA256                   any    any    CHACHA20-POLY1305  AEAD   256  yes\n"  # noqa: E501
        "    TLS_AES_128_GCM_SHA256                         any    any    AES-128-GCM        AEAD   128  yes\n"  # noqa: E501
        "  TLSv1.2: 4 suites, the server follows the client's order\n"
        "    suite                                          kex    auth   encryption         mode  bits   FS\n"  # noqa: E501
        "    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384        ECDHE  ECDSA  AES-256-GCM        AEAD   256  yes\n"  # noqa: E501
        "    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256  ECDHE  ECDSA  CHACHA20-POLY1305  AEAD   256  yes\n"  # noqa: E501
        "    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256        ECDHE  ECDSA  AES-128-GCM        AEAD   128  yes\n"  # noqa: E501
        "    TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA           ECDHE  ECDSA  AES-256-CBC        CBC    256  yes\n"  # noqa: E501
        "\n"
        "  prefers AES-128-GCM over AES-256-GCM: no\n"
        "  honours a client's ChaCha20 preference: yes"
    )


def test_cipher_suite_names_break_after_underscores_at_80_columns(measured: ScanResult) -> None:
    # Given the same suites
    result = with_outcomes(measured)

    # When the report is rendered 80 columns wide
    text = render_text(result, 80)

    # Then long names break after _WITH_ (or, for TLS 1.3 names, after an underscore) with an
    # indented continuation, and the other columns stay whole
    assert body(text, "Cipher suites") == (
        "  TLSv1.3: 3 suites, in the server's order\n"
        "    suite                       kex    auth   encryption         mode  bits   FS\n"
        "    TLS_AES_256_GCM_SHA384      any    any    AES-256-GCM        AEAD   256  yes\n"
        "    TLS_CHACHA20_POLY1305_      any    any    CHACHA20-POLY1305  AEAD   256  yes\n"
        "      SHA256\n"
        "    TLS_AES_128_GCM_SHA256      any    any    AES-128-GCM        AEAD   128  yes\n"
        "  TLSv1.2: 4 suites, the server follows the client's order\n"
        "    suite                       kex    auth   encryption         mode  bits   FS\n"
        "    TLS_ECDHE_ECDSA_WITH_       ECDHE  ECDSA  AES-256-GCM        AEAD   256  yes\n"
        "      AES_256_GCM_SHA384\n"
        "    TLS_ECDHE_ECDSA_WITH_       ECDHE  ECDSA  CHACHA20-POLY1305  AEAD   256  yes\n"
        "      CHACHA20_POLY1305_SHA256\n"
        "    TLS_ECDHE_ECDSA_WITH_       ECDHE  ECDSA  AES-128-GCM        AEAD   128  yes\n"
        "      AES_128_GCM_SHA256\n"
        "    TLS_ECDHE_ECDSA_WITH_       ECDHE  ECDSA  AES-256-CBC        CBC    256  yes\n"
        "      AES_256_CBC_SHA\n"
        "\n"
        "  prefers AES-128-GCM over AES-256-GCM: no\n"
        "  honours a client's ChaCha20 preference: yes"
    )


def test_cipher_suites_with_unknown_choices_show_a_dash(measured: ScanResult) -> None:
    # Given a server with one TLS 1.2 suite, so neither choice could be tested
    only = VersionCipherSuites(
        "TLSv1.2", 0x0303, (suite(CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA),), "single"
    )
    suites = CipherSuitesResult((only,), None, None)
    result = with_outcomes(measured, cipher_suites=completed(ProbeId.CIPHER_SUITES, suites))

    # When the report is rendered
    text = render_text(result)

    # Then the heading counts one suite (no order to speak of) and both choices are a dash
    assert body(text, "Cipher suites") == (
        "  TLSv1.2: 1 suite\n"
        "    suite                               kex    auth  encryption   mode  bits   FS\n"
        "    TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA  ECDHE  RSA   AES-128-CBC  CBC    128  yes\n"
        "\n"
        "  prefers AES-128-GCM over AES-256-GCM: —\n"
        "  honours a client's ChaCha20 preference: —"
    )


def test_cipher_suites_without_any_accepted_suite(measured: ScanResult) -> None:
    # Given one result with no version enumerated, one with a version that accepted nothing
    nothing = CipherSuitesResult((), None, None)
    empty_version = CipherSuitesResult(
        (VersionCipherSuites("TLSv1.3", 0x0304, (), "unknown"),), None, None
    )

    # When each is rendered
    texts = [
        render_text(with_outcomes(measured, cipher_suites=completed(ProbeId.CIPHER_SUITES, suites)))
        for suites in (nothing, empty_version)
    ]

    # Then each says so in words, with no empty table
    choices = (
        "\n\n  prefers AES-128-GCM over AES-256-GCM: —\n  honours a client's ChaCha20 preference: —"
    )
    assert body(texts[0], "Cipher suites") == "  no protocol version was enumerated" + choices
    assert body(texts[1], "Cipher suites") == "  TLSv1.3: no suite accepted" + choices


def test_key_exchange_layout(measured: ScanResult) -> None:
    # Given groups tested in both versions, a server order, and a browser hello without HRR
    result = with_outcomes(measured)

    # When the report is rendered
    text = render_text(result)

    # Then the groups table has a verdict per version, then the order, the browser-like hello
    # and the TLS 1.2 exchange
    assert body(text, "Key exchange") == (
        "  group           TLS 1.3  TLS 1.2\n"
        "  X25519MLKEM768  ✗ no     — not tested\n"
        "  x25519          ✓ yes    ✓ yes\n"
        "  secp256r1       ✓ yes    ✓ yes\n"
        "  secp384r1       ✓ yes    ? unknown\n"
        "  ffdhe2048       ✓ yes    — not tested\n"
        "\n"
        "  TLS 1.3 preference   x25519, secp256r1, secp384r1, ffdhe2048 (in the server's order)\n"
        "  browser-like hello   x25519: no HelloRetryRequest\n"
        "                       (X25519MLKEM768 + x25519 listed, one x25519 key share)\n"
        "  TLS 1.2 exchange     ECDHE, x25519\n"
        "  TLS 1.2 suite        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n"
        "  static RSA           not accepted"
    )


def test_key_exchange_names_the_hello_retry_cost_and_dhe(measured: ScanResult) -> None:
    # Given a server that prefers secp384r1 (no share for it in a browser hello), picks DHE in
    # TLS 1.2 and still accepts RSA key transport
    groups = dataclasses.replace(
        GROUPS,
        groups=GROUPS.groups[:3],
        tls13_preference=("secp384r1", "x25519"),
        browser_hello_group="secp384r1",
        browser_hello_retry=True,
        dhe_prime_bits=3072,
    )
    dhe = KeyExchangeResult(True, "DHE", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", None, 2048, True)
    result = with_outcomes(
        measured,
        groups=completed(ProbeId.GROUPS, groups),
        key_exchange=completed(ProbeId.KEY_EXCHANGE, dhe),
    )

    # When the report is rendered
    text = render_text(result)

    # Then the extra round trip is named, and so are the DHE primes and the static RSA
    assert body(text, "Key exchange") == (
        "  group           TLS 1.3  TLS 1.2\n"
        "  X25519MLKEM768  ✗ no     — not tested\n"
        "  x25519          ✓ yes    ✓ yes\n"
        "  secp256r1       ✓ yes    ✓ yes\n"
        "\n"
        "  TLS 1.3 preference   secp384r1, x25519 (in the server's order)\n"
        "  browser-like hello   secp384r1: costs a HelloRetryRequest (+1 round trip)\n"
        "                       (X25519MLKEM768 + x25519 listed, one x25519 key share)\n"
        "  TLS 1.2 exchange     DHE, 2048-bit prime\n"
        "  TLS 1.2 suite        TLS_DHE_RSA_WITH_AES_256_GCM_SHA384\n"
        "  static RSA           accepted (no forward secrecy)\n"
        "  TLS 1.2 DHE prime    3072 bits"
    )


def test_key_exchange_without_tls12(measured: ScanResult) -> None:
    # Given a TLS 1.3-only server
    none = KeyExchangeResult(False, None, None, None, None, None)
    result = with_outcomes(measured, key_exchange=completed(ProbeId.KEY_EXCHANGE, none))

    # When the report is rendered
    exchange = section(render_text(result), "Key exchange")

    # Then the TLS 1.2 part is one line saying so, with no suite or static RSA rows
    assert line_starting(exchange, "  TLS 1.2 exchange").rstrip() == (
        "  TLS 1.2 exchange     the server does not offer TLS 1.2"
    )
    assert "static RSA" not in exchange
    assert "TLS 1.2 suite" not in exchange


def test_false_start_layout_when_not_eligible_and_moot(measured: ScanResult) -> None:
    # Given a TLS 1.2 handshake without ALPN on a server that also offers TLS 1.3
    result = with_outcomes(measured)

    # When the report is rendered
    text = render_text(result)

    # Then the verdict, the reason, what it was judged on, and why it does not matter
    assert body(text, "False Start") == (
        "  eligible             no\n"
        "  why not              • no application protocol was negotiated with ALPN\n"
        "  TLS 1.2 suite        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\n"
        "  ALPN                 none negotiated\n"
        "  moot: TLS 1.3 is offered, and it takes 1 round trip without False Start"
    )


def test_false_start_layout_when_eligible(measured: ScanResult) -> None:
    # Given ECDHE + AES-GCM + h2 on a TLS 1.2-only server
    eligible = FalseStartResult(True, False, (), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "h2")
    result = with_outcomes(measured, false_start=completed(ProbeId.FALSE_START, eligible))

    # When the report is rendered
    text = render_text(result)

    # Then it says yes, with no reasons and no moot line
    assert body(text, "False Start") == (
        "  eligible             yes\n"
        "  TLS 1.2 suite        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
        "  ALPN                 h2"
    )


def test_alpn_and_http3_layout(measured: ScanResult) -> None:
    # Given h2 and http/1.1, Alt-Svc h3 and a DNS HTTPS record with h3
    result = with_outcomes(measured)

    # When the report is rendered
    text = render_text(result)

    # Then each protocol, the browser offer's choice, both hints and the verdict are shown
    assert body(text, "ALPN and HTTP/3") == (
        "  ALPN h2              ✓ supported\n"
        "  ALPN http/1.1        ✓ supported\n"
        "  ALPN h2, http/1.1    h2 chosen\n"
        '  Alt-Svc              h3=":443"; ma=86400\n'
        "  DNS HTTPS records    1 . alpn=h3,h2 port=8443 ipv4hint=127.0.0.1 ech\n"
        "  HTTP/3               advertised by Alt-Svc and DNS"
    )


def test_alpn_and_http3_layout_without_either(measured: ScanResult) -> None:
    # Given a server without ALPN, no Alt-Svc, and an IP literal (no DNS question asked)
    alpn = AlpnResult(N, N, None)
    hints = Http3HintsResult(None, False, (), False, "not_queried")
    result = with_outcomes(
        measured,
        alpn=completed(ProbeId.ALPN, alpn),
        http3_hints=completed(ProbeId.HTTP3_HINTS, hints),
    )

    # When the report is rendered
    text = render_text(result)

    # Then every absence is stated
    assert body(text, "ALPN and HTTP/3") == (
        "  ALPN h2              ✗ not supported\n"
        "  ALPN http/1.1        ✗ not supported\n"
        "  ALPN h2, http/1.1    nothing chosen\n"
        "  Alt-Svc              none\n"
        "  DNS HTTPS records    not queried\n"
        "  HTTP/3               not advertised"
    )


def test_client_simulation_layout(measured: ScanResult) -> None:
    # Given four client profiles, one of which could not connect
    result = with_outcomes(measured)

    # When the report is rendered at 100 and at 80 columns
    wide = render_text(result)
    narrow = render_text(result, 80)

    # Then each client is a row (the failed one says so, its reason below the table)
    assert body(wide, "Client simulation") == (
        "                                                                                             round\n"  # noqa: E501
        "  client       version   suite                                          group           HRR  trips\n"  # noqa: E501
        "  Chrome 131   TLSv1.3   TLS_AES_128_GCM_SHA256                         X25519MLKEM768  no       1\n"  # noqa: E501
        "  Safari 18    TLSv1.3   TLS_AES_128_GCM_SHA256                         secp384r1       yes      2\n"  # noqa: E501
        "  Android 7.0  TLSv1.2   TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256  x25519          no       2\n"  # noqa: E501
        "  Java 6       ✗ failed  —                                              —               —        —\n"  # noqa: E501
        "  • Java 6: alert handshake_failure: no suite in common\n"
        "  round trips: before the client's first request byte leaves"
    )
    # And at 80 columns the long suite name breaks after _WITH_ instead of the table spilling
    assert body(narrow, "Client simulation") == (
        "                                                                          round\n"
        "  client       version   suite                       group           HRR  trips\n"
        "  Chrome 131   TLSv1.3   TLS_AES_128_GCM_SHA256      X25519MLKEM768  no       1\n"
        "  Safari 18    TLSv1.3   TLS_AES_128_GCM_SHA256      secp384r1       yes      2\n"
        "  Android 7.0  TLSv1.2   TLS_ECDHE_ECDSA_WITH_       x25519          no       2\n"
        "                           CHACHA20_POLY1305_SHA256\n"
        "  Java 6       ✗ failed  —                           —               —        —\n"
        "  • Java 6: alert handshake_failure: no suite in common\n"
        "  round trips: before the client's first request byte leaves"
    )


def test_long_client_names_wrap_before_suite_names_break(measured: ScanResult) -> None:
    # Given profiles named the way the shipped profiles are, with TLS 1.2 suites
    names = ("Android 7.1 (HttpsURLConnection)", "Java 17 HttpClient, TLS 1.2 only")
    clients = ClientSimulationResult(
        tuple(
            SimulatedClient(name, "TLSv1.2", ECDSA_AES256_GCM, "x25519", None, False, 2, None)
            for name in names
        )
    )
    result = with_outcomes(
        measured, client_simulation=completed(ProbeId.CLIENT_SIMULATION, clients)
    )

    # When the report is rendered 100 columns wide
    simulation = body(render_text(result), "Client simulation")

    # Then the names wrap between words and every suite name stays whole
    assert simulation == (
        f"{'round':>100}\n"
        "  client                        version  suite                                    group   HRR  trips\n"  # noqa: E501
        "  Android 7.1                   TLSv1.2  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384  x25519  no       2\n"  # noqa: E501
        "  (HttpsURLConnection)\n"
        "  Java 17 HttpClient, TLS 1.2   TLSv1.2  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384  x25519  no       2\n"  # noqa: E501
        "  only\n"
        "  round trips: before the client's first request byte leaves"
    )


def resumption_body(
    base: ScanResult, outcome: ResumptionResult | ProbeOutcome[Any], width: int = WIDTH
) -> str:
    """The Session resumption section of ``base`` with that result (or outcome) in it."""
    if isinstance(outcome, ResumptionResult):
        outcome = completed(ProbeId.RESUMPTION, outcome, 23)
    return body(render_text(with_outcomes(base, resumption=outcome), width), "Session resumption")


RESUMPTION_TABLE = (
    "                                                          round  server\n"
    "  mechanism       resumed       handshake ms              trips  flight B\n"
    "  Session ID      ✓ 5/5 (100%)  2.41 → 0.92 (saved 1.49)  2 → 1  1342 → 137\n"
    "  Session Ticket  ✓ 5/5 (100%)  2.38 → 0.95 (saved 1.43)  2 → 1  1342 → 335\n"
    "  TLS 1.3 PSK     ✓ 5/5 (100%)  1.87 → 1.02 (saved 0.85)  1 → 1  1190 → 254\n"
)
RESUMPTION_LEGEND = (
    "  full → resumed handshakes; times are medians, bytes the server's first flight\n"
)


def test_resumption_layout(measured: ScanResult) -> None:
    # Given a server that resumes every way, every time (shared cache and tickets)
    # When the report is rendered at 100 and at 80 columns
    wide = resumption_body(measured, RESUMPTION)
    narrow = resumption_body(measured, RESUMPTION, 80)

    # Then each mechanism is a row with what resuming saves, the tickets' facts follow per
    # version, then the TLS 1.3 key exchange modes and the cross-address line
    assert wide == (
        RESUMPTION_TABLE + RESUMPTION_LEGEND + "\n"
        "  TLS 1.2 tickets\n"
        "    lifetime hint           300 s (5 min)\n"
        "    size                    192 B\n"
        "    key name                3c5e0d2a9b8f4e61a7d3c2b1f0e9d8c7\n"
        "                            one key name in this scan\n"
        "    reissued on resumption  yes\n"
        "    tickets seen            11\n"
        "  TLS 1.3 tickets\n"
        "    lifetime hint           300 s (5 min)\n"
        "    size                    208 B\n"
        "    key name                3c5e0d2a9b8f4e61a7d3c2b1f0e9d8c7\n"
        "                            one key name in this scan\n"
        "    tickets per connection  2\n"
        "    max early data          0 B (no 0-RTT)\n"
        "    tickets seen            12\n"
        "  TLS 1.3 PSK modes\n"
        "    psk_dhe_ke              ✓ accepted (forward secret)\n"
        "    psk_ke                  ✗ not accepted\n"
        "\n"
        "  across addresses: one address only, nothing to compare"
    )
    # And nothing in it needs more than 80 columns
    assert narrow == wide


def test_resumption_layout_when_session_ids_are_not_resumed(measured: ScanResult) -> None:
    # Given nginx's default: no session cache, tickets on
    # When the report is rendered at 100 and at 80 columns
    wide = resumption_body(measured, NO_SESSION_CACHE)
    narrow = resumption_body(measured, NO_SESSION_CACHE, 80)

    # Then the Session ID row shows no resumption and nothing saved, its note follows the
    # table, and the rest of the section is the same as for a server that resumes every way
    table = (
        "                                                          round  server\n"
        "  mechanism       resumed       handshake ms              trips  flight B\n"
        "  Session ID      ✗ 0/5 (0%)    2.41 → —                  2 → —  1342 → —\n"
        "  Session Ticket  ✓ 5/5 (100%)  2.38 → 0.95 (saved 1.43)  2 → 1  1342 → 335\n"
        "  TLS 1.3 PSK     ✓ 5/5 (100%)  1.87 → 1.02 (saved 0.85)  1 → 1  1190 → 254\n"
    )
    note = "  • Session ID: the server sends a Session ID but never resumed it\n"
    rest = resumption_body(measured, RESUMPTION).partition(RESUMPTION_LEGEND)[2]
    assert wide == table + note + RESUMPTION_LEGEND + rest
    assert narrow == wide


def test_resumption_rows_without_attempts(measured: ScanResult) -> None:
    # Given a server whose first full handshake failed for Session ID resumption, and one
    # that issued no ticket, so nothing was attempted
    session_id = ResumptionAttempts(
        "session_id",
        U,
        0,
        0,
        0.0,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        "full handshake failed: TLS: alert handshake_failure",
    )
    session_ticket = ResumptionAttempts(
        "session_ticket",
        N,
        0,
        0,
        0.0,
        2.38,
        None,
        None,
        2,
        None,
        1342,
        None,
        "the server issued no session ticket (RFC 5077)",
    )
    result = dataclasses.replace(
        RESUMPTION, session_id=session_id, session_ticket=session_ticket, tls12_tickets=None
    )

    # When the report is rendered
    text = resumption_body(measured, result)

    # Then each verdict is a word where there is no count to show, with the reason below
    assert text.startswith(
        "                                                          round  server\n"
        "  mechanism       resumed       handshake ms              trips  flight B\n"
        "  Session ID      ? unknown     —                         —      —\n"
        "  Session Ticket  ✗ no          2.38 → —                  2 → —  1342 → —\n"
        "  TLS 1.3 PSK     ✓ 5/5 (100%)  1.87 → 1.02 (saved 0.85)  1 → 1  1190 → 254\n"
        "  • Session ID: full handshake failed: TLS: alert handshake_failure\n"
        "  • Session Ticket: the server issued no session ticket (RFC 5077)\n"
        + RESUMPTION_LEGEND
        + "\n"
        "  TLS 1.2 tickets           none seen\n"
        "  TLS 1.3 tickets\n"
    )


def test_resumption_flags_long_ticket_lifetimes_and_changed_key_names(
    measured: ScanResult,
) -> None:
    # Given a TLS 1.3-only server with week-long tickets sealed by two keys in one scan,
    # 0-RTT allowed, resumption without (EC)DHE accepted, and 3 resumptions out of 5
    # When the report is rendered 80 columns wide
    text = resumption_body(measured, LONG_LIFETIME, 80)

    # Then the TLS 1.2 mechanisms say why they were not tested, the flaky rate and the slower
    # resumption are shown as measured, and the forward-secrecy risks are spelled out
    assert text == (
        "                                                           round  server\n"
        "  mechanism       resumed       handshake ms               trips  flight B\n"
        "  Session ID      — not tested  —                          —      —\n"
        "  Session Ticket  — not tested  —                          —      —\n"
        "  TLS 1.3 PSK     ✓ 3/5 (60%)   1.87 → 1.93 (0.06 slower)  1 → 1  1190 → 254\n"
        "  • Session ID: TLSv1.2 is not offered by the server\n"
        "  • Session Ticket: TLSv1.2 is not offered by the server\n" + RESUMPTION_LEGEND + "\n"
        "  TLS 1.2 tickets           none seen\n"
        "  TLS 1.3 tickets\n"
        "    lifetime hint           604800 s (7 d)\n"
        "                            longer than a day: a forward-secrecy risk if the\n"
        "                            ticket key leaks\n"
        "    size                    208 B\n"
        "    key names               3c5e0d2a9b8f4e61a7d3c2b1f0e9d8c7\n"
        "                            0f1e2d3c4b5a69788796a5b4c3d2e1f0\n"
        "                            2 key names\n"
        "    tickets per connection  2\n"
        "    max early data          16384 B\n"
        "    tickets seen            12\n"
        "  TLS 1.3 PSK modes\n"
        "    psk_dhe_ke              ✓ accepted (forward secret)\n"
        "    psk_ke                  ✓ accepted: no forward secrecy\n"
        "\n"
        "  across addresses: one address only, nothing to compare"
    )
    # And at 100 columns the risk fits on the lifetime's second line
    assert (
        "    lifetime hint           604800 s (7 d)\n"
        "                            longer than a day: a forward-secrecy risk if the ticket key "
        "leaks\n"
    ) in resumption_body(measured, LONG_LIFETIME)


@pytest.mark.parametrize(
    ("version", "lifetime_hint_s", "shown"),
    [
        ("TLSv1.2", 0, "0 s (not specified: the client decides)"),
        ("TLSv1.3", 45, "45 s"),
        ("TLSv1.2", 90, "90 s (1.5 min)"),
        ("TLSv1.2", 5400, "5400 s (90 min)"),
        ("TLSv1.3", 7200, "7200 s (2 h)"),
        ("TLSv1.2", 100000, "100000 s (27.8 h)"),
        ("TLSv1.3", 86400, "86400 s (1 d)"),
        ("TLSv1.2", 90000, "90000 s (25 h)"),
        ("TLSv1.3", 604800, "604800 s (7 d)"),
    ],
)
def test_ticket_lifetimes_in_human_units_and_over_a_day_flagged(
    measured: ScanResult, version: str, lifetime_hint_s: int, shown: str
) -> None:
    # Given tickets of one version with this lifetime hint
    facts = TicketFacts(
        version, 5, None, lifetime_hint_s, 192, (TICKET_KEY_NAME,), True, None, None
    )
    if version == "TLSv1.2":
        result = dataclasses.replace(RESUMPTION, tls12_tickets=facts)
    else:
        result = dataclasses.replace(RESUMPTION, tls13_tickets=facts)

    # When the report is rendered
    text = resumption_body(measured, result)

    # Then the hint is in seconds and in the unit that reads best, and only a hint over a day
    # (86400 s) is a forward-secrecy risk
    lines = text.splitlines()
    heading = lines.index(f"  TLS {version.removeprefix('TLSv')} tickets")
    assert lines[heading + 1] == f"    lifetime hint           {shown}"
    risk = "longer than a day: a forward-secrecy risk if the ticket key leaks"
    assert (lines[heading + 2] == f"                            {risk}") is (
        lifetime_hint_s > 86400
    )


CROSS_ADDRESS_LEGEND = "  ✓ resumed, ✗ full handshake, ? set-up failed, — not tried"


def test_resumption_matrix_of_two_addresses(measured: ScanResult) -> None:
    # Given two backends that share a ticket key but no session cache
    # When the report is rendered
    text = resumption_body(measured, TWO_ADDRESSES)

    # Then one matrix per mechanism says where a session set up on one address resumed,
    # each row an address that set the session up, each column one that was offered it
    assert text.partition("  across addresses")[2] == (
        ": set up on the row's address, offered to the column's\n"
        "\n"
        "  Session ID        to 1  to 2\n"
        "  1 127.0.0.2:8443   —     ✗\n"
        "  2 127.0.0.3:8443   ✗     —\n"
        "\n"
        "  Session Ticket    to 1  to 2\n"
        "  1 127.0.0.2:8443   —     ✓\n"
        "  2 127.0.0.3:8443   ✓     —\n"
        "\n"
        "  TLS 1.3 PSK       to 1  to 2\n"
        "  1 127.0.0.2:8443   —     ✓\n"
        "  2 127.0.0.3:8443   ✓     —\n"
        "\n" + CROSS_ADDRESS_LEGEND
    )
    # And with two addresses but nothing tried across them, the section says so
    untried = dataclasses.replace(TWO_ADDRESSES, cross_address=())
    assert resumption_body(measured, untried).endswith(
        "\n\n  across addresses: not tested on 127.0.0.2:8443, 127.0.0.3:8443"
    )


def test_resumption_matrix_of_three_addresses(measured: ScanResult) -> None:
    # Given three backends tried with tickets only: the IPv6 one has its own ticket key, one
    # of its full handshakes failed, and one pair was never tried
    # When the report is rendered at 80 columns (an IPv6 address is the widest row)
    text = resumption_body(measured, THREE_ADDRESSES, 80)

    # Then only the mechanisms tried have a matrix, each lined up with the others, with ?
    # where the set-up failed and a dash where nothing was tried
    assert text.partition("  across addresses")[2] == (
        ": set up on the row's address, offered to the column's\n"
        "\n"
        "  Session Ticket                                to 1  to 2  to 3\n"
        "  1 127.0.0.2:8443                               —     ✓     ✗\n"
        "  2 127.0.0.3:8443                               ✓     —     ✗\n"
        "  3 [2001:db8:ffff:ffff:ffff:ffff:ffff:1]:8443   ?     ✗     —\n"
        "\n"
        "  TLS 1.3 PSK                                   to 1  to 2  to 3\n"
        "  1 127.0.0.2:8443                               —     ✓     ✗\n"
        "  2 127.0.0.3:8443                               ✓     —     —\n"
        "  3 [2001:db8:ffff:ffff:ffff:ffff:ffff:1]:8443   ✗     ✗     —\n"
        "\n" + CROSS_ADDRESS_LEGEND
    )


def test_resumption_skipped_or_failed_is_one_line(measured: ScanResult) -> None:
    # Given the resumption probe skipped (not registered), then failed with nothing measured
    skipped: ProbeOutcome[Any] = ProbeOutcome(
        ProbeId.RESUMPTION, ProbeStatus.SKIPPED, None, skip_reason=NOT_IN_SCAN
    )
    # When each is rendered
    # Then the section is one line saying why, as the other capability sections do
    assert resumption_body(measured, skipped) == f"  skipped: {NOT_IN_SCAN}"
    assert resumption_body(measured, failed(ProbeId.RESUMPTION)) == (
        "  failed: timeout in TLS handshake: no answer within 10.0 s"
    )


def test_failed_resumption_keeps_what_it_measured(measured: ScanResult) -> None:
    # Given the probe failed after measuring every mechanism once
    outcome = failed(ProbeId.RESUMPTION, NO_SESSION_CACHE)

    # When the report is rendered
    text = resumption_body(measured, outcome)

    # Then the failure comes first and the measured section follows it unchanged
    assert text == (
        "  failed: timeout in TLS handshake: no answer within 10.0 s\n"
        + resumption_body(measured, NO_SESSION_CACHE)
    )


def test_server_supplied_text_in_resumption_is_escaped(measured: ScanResult) -> None:
    # Given a note quoting what a server said and addresses as a hostile --connect-to or DNS
    # answer could spell them (markup, an escape sequence, a bell)
    session_id = dataclasses.replace(RESUMPTION.session_id, note="alert [bold]x[/bold]\x1b[2J")
    hostile = "[red]10.0.0.1[/red]\x07"
    result = dataclasses.replace(
        RESUMPTION,
        session_id=session_id,
        addresses=(B1, hostile),
        cross_address=(CrossAddressResumption("tls13_psk", B1, hostile, True),),
    )

    # When the report is rendered
    text = resumption_body(measured, result)

    # Then markup is printed as sent and control characters are shown escaped
    assert "  • Session ID: alert [bold]x[/bold]\\x1b[2J\n" in text
    assert "  2 [red]10.0.0.1[/red]\\x07   —     —\n" in text
    assert "\x1b" not in text
    assert "\x07" not in text


@pytest.mark.parametrize("width", [80, 100, 120])
@pytest.mark.parametrize("name", sorted(RESUMPTION_VARIANTS))
def test_resumption_variants_fit_the_width(measured: ScanResult, name: str, width: int) -> None:
    # Given one of the constructed resumption results
    result = with_outcomes(
        measured, resumption=completed(ProbeId.RESUMPTION, RESUMPTION_VARIANTS[name])
    )

    # When the whole report is rendered at a common terminal width
    lines = render_text(result, width).splitlines()

    # Then no line spills past it
    assert [line for line in lines if len(line) > width] == []


def test_resumption_in_ascii(measured: ScanResult) -> None:
    # Given a console that can only encode ASCII, and results with every kind of verdict
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    result = dataclasses.replace(THREE_ADDRESSES, session_id=NO_SESSION_CACHE.session_id, psk_ke=U)

    # When the report is rendered to it
    render(
        with_outcomes(measured, resumption=completed(ProbeId.RESUMPTION, result)),
        Console(file=stream, width=WIDTH, color_system=None),
    )
    stream.flush()
    report = raw.getvalue().decode("ascii")
    start = report.index("\nSession resumption -")
    text = "\n".join(
        line.rstrip() for line in report[start : report.index("\nCertificate chain -")].split("\n")
    )

    # Then glyphs and arrows have ASCII stand-ins
    assert "  Session ID      x 0/5 (0%)    2.41 -> -                  2 -> -  1342 -> -\n" in text
    assert "  Session Ticket  + 5/5 (100%)  2.38 -> 0.95 (saved 1.43)  2 -> 1  1342 -> 335\n" in (
        text
    )
    assert "  * Session ID: the server sends a Session ID but never resumed it\n" in text
    assert "  full -> resumed handshakes; times are medians" in text
    assert "    psk_dhe_ke              + accepted (forward secret)\n" in text
    assert "    psk_ke                  ? unknown\n" in text
    assert "  3 [2001:db8:ffff:ffff:ffff:ffff:ffff:1]:8443   ?     x     -\n" in text
    assert "\n  + resumed, x full handshake, ? set-up failed, - not tried" in text


def test_resumption_colour_is_emphasis_only(measured: ScanResult) -> None:
    # Given resumption results with emphasis: a flaky rate, a long lifetime, psk_ke accepted,
    # key names that changed, and a cross-address matrix with failures
    result = dataclasses.replace(LONG_LIFETIME, addresses=THREE_ADDRESSES.addresses)
    result = dataclasses.replace(result, cross_address=THREE_ADDRESSES.cross_address)
    scan_result = with_outcomes(measured, resumption=completed(ProbeId.RESUMPTION, result))

    # When it is rendered once with colour and once without
    console = Console(file=io.StringIO(), width=WIDTH, color_system="truecolor", record=True)
    render(scan_result, console)

    # Then the words are identical: colour never carries a fact alone
    assert console.export_text() == render_text(scan_result)


def early_data_body(
    base: ScanResult, outcome: EarlyDataResult | ProbeOutcome[Any], width: int = WIDTH
) -> str:
    """The Early data (0-RTT) section of ``base`` with that result (or outcome) in it."""
    if isinstance(outcome, EarlyDataResult):
        outcome = completed(ProbeId.EARLY_DATA, outcome, 9)
    return body(render_text(with_outcomes(base, early_data=outcome), width), "Early data (0-RTT)")


EARLY_DATA_TIMING = (
    "  to first response byte      ms  round trips\n"
    "  full handshake + request  2.41            2\n"
    "  PSK resumption + request  1.95            2\n"
    "  PSK + 0-RTT request       1.02            1\n"
    "  saved by 0-RTT            1.39            1\n"
    "  from TCP connected; the saving is against a full handshake + request\n"
)
EARLY_DATA_TIMING_WITHOUT_0RTT = (
    "  to first response byte      ms  round trips\n"
    "  full handshake + request  2.41            2\n"
    "  PSK resumption + request  1.95            2\n"
    "  PSK + 0-RTT request          —            —\n"
    "  saved by 0-RTT               —            —\n"
    "  from TCP connected; the saving is against a full handshake + request\n"
)
EARLY_DATA_ENGINE = (
    "  TLS 1.3 engine       handshake 1.71 ms (reference client 1.78 ms)\n"
    "    → ClientHello 1566 B                                         +0.00 ms\n"
    "    ← ServerHello, EncryptedExtensions, Certificate,           +0.71-0.74\n"
    "      CertificateVerify, Finished 1595 B (6 records)\n"
    "    → ChangeCipherSpec, Finished 80 B (2 records)                +1.69 ms\n"
    "  flight rows: time since the engine's ClientHello was written"
)
NO_UNSAFE_PROBES = "  RFC 8470 Too Early   — not tested (needs --unsafe-probes)\n"


def test_early_data_layout_with_a_served_replay(measured: ScanResult) -> None:
    # Given nginx with ssl_early_data on: 0-RTT accepted, and both replays of the GET served
    # When the report is rendered at 100 and at 80 columns
    wide = early_data_body(measured, EARLY_DATA)
    narrow = early_data_body(measured, EARLY_DATA, 80)

    # Then offer and acceptance come first, then what 0-RTT saves to the first response byte,
    # then each replay's verdict in plain words, RFC 8470 untested, and the engine's flights
    assert (
        wide
        == (
            "  offered              ✓ yes (max early data 16384 B)\n"
            "  accepted             ✓ yes (GET sent as early data, status 200)\n"
            "\n" + EARLY_DATA_TIMING + "\n"
            "  ticket reuse         ✗ the GET was served again (200) on the same ticket: one ticket carries early\n"  # noqa: E501
            "                       data more than once\n"
            "  exact replay         ✗ the replayed GET was served again (200): a recorded first flight can repeat\n"  # noqa: E501
            "                       this request\n" + NO_UNSAFE_PROBES + "\n" + EARLY_DATA_ENGINE
        )
    )
    # And at 80 columns only the verdicts wrap, between words
    assert narrow == wide.replace(
        "on the same ticket: one ticket carries early\n                       data more than",
        "on the same ticket: one\n                       ticket carries early data more than",
    ).replace(
        "a recorded first flight can repeat\n                       this request",
        "a recorded\n                       first flight can repeat this request",
    )


def test_early_data_layout_when_replays_are_rejected(measured: ScanResult) -> None:
    # Given s_server -early_data: 0-RTT accepted, OpenSSL's anti-replay refusing any second use
    # When the report is rendered
    text = early_data_body(measured, REPLAY_REJECTED)

    # Then both replays say rejected, and why that is the safe answer
    assert text == (
        "  offered              ✓ yes (max early data 16384 B)\n"
        "  accepted             ✓ yes (GET sent as early data, status 200)\n"
        "\n" + EARLY_DATA_TIMING + "\n"
        "  ticket reuse         ✓ rejected: a ticket's early data is accepted once only\n"
        "  exact replay         ✓ rejected: the replayed early data was not accepted\n"
        + NO_UNSAFE_PROBES
        + "\n"
        + EARLY_DATA_ENGINE
    )
    assert early_data_body(measured, REPLAY_REJECTED, 80) == text


def test_early_data_layout_when_offered_but_not_accepted(measured: ScanResult) -> None:
    # Given tickets that allow early data from a server that then rejects it
    # When the report is rendered
    text = early_data_body(measured, OFFERED_NOT_ACCEPTED)

    # Then the offer and the refusal are both stated, 0-RTT has no time, and nothing that
    # needs accepted early data was tested
    assert text == (
        "  offered              ✓ yes (max early data 16384 B)\n"
        "  accepted             ✗ no (GET sent as early data, status 200)\n"
        "\n" + EARLY_DATA_TIMING_WITHOUT_0RTT + "\n"
        "  ticket reuse         — not tested: no 0-RTT was accepted\n"
        "  exact replay         — not tested: no 0-RTT was accepted\n"
        "  RFC 8470 Too Early   — not tested (no 0-RTT)\n"
        "\n" + EARLY_DATA_ENGINE
    )


def test_early_data_layout_when_not_offered(measured: ScanResult) -> None:
    # Given nginx without ssl_early_data: its tickets carry no early_data extension
    # When the report is rendered
    text = early_data_body(measured, NOT_OFFERED)

    # Then it says no, with the ticket's 0 B allowance, and everything after is not tested
    assert text == (
        "  offered              ✗ no (max early data 0 B)\n"
        "  accepted             — not tested\n"
        "\n" + EARLY_DATA_TIMING_WITHOUT_0RTT + "\n"
        "  ticket reuse         — not tested: the server offers no 0-RTT\n"
        "  exact replay         — not tested: the server offers no 0-RTT\n"
        "  RFC 8470 Too Early   — not tested (no 0-RTT)\n"
        "\n" + EARLY_DATA_ENGINE
    )


def test_early_data_skipped_or_failed_is_one_line(measured: ScanResult) -> None:
    # Given the probe skipped on a TLS 1.2-only server (0-RTT does not apply), then failed
    # with nothing measured
    skipped: ProbeOutcome[Any] = ProbeOutcome(
        ProbeId.EARLY_DATA, ProbeStatus.SKIPPED, None, skip_reason=TLS13_NOT_OFFERED
    )
    # When each is rendered
    # Then the section is one line saying why, as the other capability sections do
    assert early_data_body(measured, skipped) == f"  skipped: {TLS13_NOT_OFFERED}"
    assert early_data_body(measured, failed(ProbeId.EARLY_DATA)) == (
        "  failed: timeout in TLS handshake: no answer within 10.0 s"
    )


def test_failed_early_data_keeps_what_it_measured(measured: ScanResult) -> None:
    # Given the probe failed during the exact replay, after 0-RTT was accepted and the ticket
    # reuse rejected
    partial = dataclasses.replace(
        REPLAY_REJECTED,
        exact_replay=ReplayCheck(False, None, None, None, "not reached: the probe failed"),
    )

    # When the report is rendered
    text = early_data_body(measured, failed(ProbeId.EARLY_DATA, partial))

    # Then the failure comes first and what was measured follows it unchanged
    assert text == (
        "  failed: timeout in TLS handshake: no answer within 10.0 s\n"
        + early_data_body(measured, partial)
    )
    assert "  exact replay         — not tested: not reached: the probe failed\n" in text


@pytest.mark.parametrize(
    ("check", "shown"),
    [
        pytest.param(
            ReplayCheck(True, True, True, 200, None),
            "✗ the replayed GET was served again (200): a recorded first flight can repeat",
            id="served",
        ),
        pytest.param(
            ReplayCheck(True, True, True, 425, None),
            "✓ answered 425 Too Early: the GET was not processed",
            id="too-early",
        ),
        pytest.param(
            ReplayCheck(True, True, False, None, None),
            "? early data accepted again, not served",
            id="accepted-not-served",
        ),
        pytest.param(
            ReplayCheck(True, True, None, None, "connection reset after the ServerHello"),
            "? early data accepted again, no answer was read",
            id="accepted-no-answer",
        ),
        pytest.param(
            ReplayCheck(True, False, False, None, None),
            "✓ rejected: the replayed early data was not accepted",
            id="rejected",
        ),
        pytest.param(
            ReplayCheck(True, None, None, None, "alert decrypt_error"),
            "? unknown",
            id="unknown",
        ),
        pytest.param(ReplayCheck(False, None, None, None, None), "— not tested", id="untested"),
    ],
)
def test_exact_replay_verdicts(measured: ScanResult, check: ReplayCheck, shown: str) -> None:
    # Given a byte-identical replay of the first flight that ended this way
    result = dataclasses.replace(REPLAY_REJECTED, exact_replay=check)

    # When the report is rendered
    lines = early_data_body(measured, result).splitlines()

    # Then its verdict is in words, and a note (if any) is on the line below
    row = lines.index(line_starting("\n".join(lines), "  exact replay"))
    assert lines[row] == f"  exact replay         {shown}"
    if check.note is not None and check.tested:
        assert lines[row + 1] == f"                       {check.note}"


@pytest.mark.parametrize(
    ("too_early", "status", "accepted", "shown"),
    [
        ("425", 425, S, "✓ 425 Too Early: the request must wait for the handshake"),
        ("held", 201, S, "✓ held until the handshake completed (201)"),
        (
            "served",
            201,
            S,
            "✗ served in early data (201): a replay can repeat a non-idempotent request",
        ),
        ("rejected", None, S, "— early data rejected in TLS: nothing to judge"),
        ("not_tested", None, S, "— not tested (needs --unsafe-probes)"),
        ("not_tested", None, N, "— not tested (no 0-RTT)"),
    ],
)
def test_rfc8470_too_early_verdicts(
    measured: ScanResult, too_early: str, status: int | None, accepted: Support, shown: str
) -> None:
    # Given the RFC 8470 check (a non-idempotent request as early data) ending this way
    result = dataclasses.replace(
        REPLAY_REJECTED, accepted=accepted, too_early=too_early, too_early_status=status
    )

    # When the report is rendered
    text = early_data_body(measured, result)

    # Then the answer is named, and only serving it from early data is a finding
    assert line_starting(text, "  RFC 8470 Too Early") == f"  RFC 8470 Too Early   {shown}"


def test_early_data_timing_edges_and_engine_without_handshake(measured: ScanResult) -> None:
    # Given 0-RTT that was slower than a full handshake on a noisy link, and an engine that
    # made no handshake of its own
    slower = dataclasses.replace(
        REPLAY_REJECTED,
        timing=FirstByteTiming(0.95, 2, 1.01, 2, 1.07, 1),
        engine_flights=(),
        engine_handshake_ms=None,
        reference_handshake_ms=None,
    )
    unmeasured = dataclasses.replace(
        slower, timing=FirstByteTiming(None, None, None, None, None, None)
    )

    # When each is rendered
    slower_text = early_data_body(measured, slower)
    unmeasured_text = early_data_body(measured, unmeasured)

    # Then a negative saving is shown as such, with the round trip still saved; no timing at
    # all is one line; and the engine says it measured nothing
    assert line_starting(slower_text, "  saved by 0-RTT").rstrip() == (
        "  saved by 0-RTT            -0.12            1"
    )
    assert slower_text.endswith("\n  TLS 1.3 engine       no handshake measured")
    assert "\n\n  time to the first response byte: not measured\n\n" in unmeasured_text


def test_server_supplied_text_in_early_data_is_escaped(measured: ScanResult) -> None:
    # Given notes quoting what a server sent (markup, an escape sequence, a bell) and a flight
    # naming an unknown message as the engine reads it
    check = ReplayCheck(True, None, None, None, "alert [bold]x[/bold]\x1b[2J\x07")
    flights = (Flight(Direction.SERVER, ("0xfe\x1b[1m",), 7, 1, 0.5, 0.5),)
    result = dataclasses.replace(
        EARLY_DATA, ticket_reuse=check, exact_replay=check, engine_flights=flights
    )

    # When the report is rendered
    text = early_data_body(measured, result)

    # Then markup is printed as sent and control characters are shown escaped
    assert "                       alert [bold]x[/bold]\\x1b[2J\\x07\n" in text
    assert "    ← 0xfe\\x1b[1m 7 B" in text
    assert "\x1b" not in text
    assert "\x07" not in text


@pytest.mark.parametrize("width", [80, 100, 120])
@pytest.mark.parametrize("name", sorted(EARLY_DATA_VARIANTS))
def test_early_data_variants_fit_the_width(measured: ScanResult, name: str, width: int) -> None:
    # Given one of the constructed early data results
    result = with_outcomes(
        measured, early_data=completed(ProbeId.EARLY_DATA, EARLY_DATA_VARIANTS[name])
    )

    # When the whole report is rendered at a common terminal width
    lines = render_text(result, width).splitlines()

    # Then no line spills past it
    assert [line for line in lines if len(line) > width] == []


def test_early_data_in_ascii(measured: ScanResult) -> None:
    # Given a console that can only encode ASCII, and results with every kind of verdict
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    result = dataclasses.replace(EARLY_DATA, ticket_reuse=REJECTED_REPLAY)

    # When the report is rendered to it
    render(
        with_outcomes(measured, early_data=completed(ProbeId.EARLY_DATA, result)),
        Console(file=stream, width=WIDTH, color_system=None),
    )
    stream.flush()
    report = raw.getvalue().decode("ascii")
    start = report.index("\nEarly data (0-RTT) -")
    text = "\n".join(
        line.rstrip() for line in report[start : report.index("\nCertificate chain -")].split("\n")
    )

    # Then glyphs and arrows have ASCII stand-ins
    assert "  offered              + yes (max early data 16384 B)\n" in text
    assert "  ticket reuse         + rejected: a ticket's early data is accepted once only\n" in (
        text
    )
    assert "  exact replay         x the replayed GET was served again (200): a recorded" in text
    assert "  RFC 8470 Too Early   - not tested (needs --unsafe-probes)\n" in text
    assert "    -> ClientHello 1566 B" in text
    assert "    <- ServerHello, EncryptedExtensions, Certificate," in text


def test_early_data_colour_is_emphasis_only(measured: ScanResult) -> None:
    # Given early data results with emphasis: a served replay, a served ticket reuse, and a
    # non-idempotent request served from early data
    result = dataclasses.replace(EARLY_DATA, too_early="served", too_early_status=201)
    scan_result = with_outcomes(measured, early_data=completed(ProbeId.EARLY_DATA, result))

    # When it is rendered once with colour and once without
    console = Console(file=io.StringIO(), width=WIDTH, color_system="truecolor", record=True)
    render(scan_result, console)

    # Then the words are identical: colour never carries a fact alone
    assert console.export_text() == render_text(scan_result)


def test_served_replay_is_emphasised(measured: ScanResult) -> None:
    # Given a served exact replay and a served ticket reuse
    output = io.StringIO()
    console = Console(file=output, width=WIDTH, color_system="standard", force_terminal=True)

    # When the report is rendered to a colour terminal
    render(with_outcomes(measured), console)

    # Then the replay's finding is bold red and the ticket reuse bold yellow, over the words
    assert "\x1b[1;31m✗ the replayed GET was served again (200)" in output.getvalue()
    assert "\x1b[1;33m✗ the GET was served again (200) on the same ticket" in output.getvalue()


# -- OCSP stapling (constructed) ----------------------------------------------------------


def ocsp_body(base: ScanResult, outcome: OcspResult | ProbeOutcome[Any], width: int = WIDTH) -> str:
    """The OCSP stapling section of ``base`` with that result (or outcome) in it."""
    if isinstance(outcome, OcspResult):
        outcome = completed(ProbeId.OCSP, outcome, 3)
    return body(render_text(with_outcomes(base, ocsp=outcome), width), "OCSP stapling")


OCSP_STAPLED = (
    "  TLS 1.2 stapled      ✓ yes\n"
    "  TLS 1.3 stapled      ✓ yes\n"
    "  first staple         connection 1 of 3\n"
)
OCSP_CHECKS_PASSED = (
    "  serial number        ✓ matches the leaf\n"
    "  issuer key hash      ✓ matches the leaf's issuer\n"
    "  signature            ✓ valid\n"
    "  signer               the leaf's issuer\n"
)
OCSP_FRESH = (
    "  produced at          2026-11-27 05:55:11 UTC\n"
    "  this update          2026-11-27 04:55:11 UTC (1 h ago)\n"
    "  next update          2026-12-04 05:55:11 UTC (expires in 7 d)\n"
)
OCSP_LEAF = (
    "  must-staple          no\n"
    "  OCSP responder       http://ocsp.lab.test/\n"
    "  CRL                  http://crl.lab.test/intermediate.crl"
)
NOT_STAPLED = (
    "  TLS 1.2 stapled      ✗ no\n"
    "  TLS 1.3 stapled      ✗ no\n"
    "  first staple         none in 3 connections\n"
)


def test_ocsp_layout_with_a_good_staple(measured: ScanResult) -> None:
    # Given s_server -status_file with a good response from the leaf's issuer
    # When the report is rendered at 100 and at 80 columns
    wide = ocsp_body(measured, OCSP)
    narrow = ocsp_body(measured, OCSP, 80)

    # Then stapling per version comes first, then the response as a client checks it (status,
    # whose it is, who signed it, its times with age and expiry in human units), then what
    # the leaf says about revocation
    assert wide == (
        OCSP_STAPLED + "\n"
        "  response             successful, 283 B\n"
        "  certificate status   ✓ good\n" + OCSP_CHECKS_PASSED + OCSP_FRESH + "\n" + OCSP_LEAF
    )
    assert narrow == wide


def test_ocsp_layout_of_a_revoked_leaf(measured: ScanResult) -> None:
    # Given a staple saying the leaf was revoked for key compromise
    # When the report is rendered
    text = ocsp_body(measured, REVOKED)

    # Then the status names the revocation, when and why, and the probe's problem is a bullet
    assert text == (
        OCSP_STAPLED + "\n"
        "  response             successful, 309 B\n"
        "  certificate status   ✗ REVOKED 2026-11-25 05:55:11 UTC (key_compromise)\n"
        + OCSP_CHECKS_PASSED
        + OCSP_FRESH
        + "  problems             • the responder says the certificate is revoked (since\n"
        "                         2026-11-25T05:55:11+00:00, reason: key_compromise)\n"
        "\n" + OCSP_LEAF
    )
    assert ocsp_body(measured, REVOKED, 80) == text


def test_ocsp_layout_of_a_stale_staple(measured: ScanResult) -> None:
    # Given a server still stapling a response whose nextUpdate passed two hours ago
    # When the report is rendered
    text = ocsp_body(measured, STALE)

    # Then the age is in days, the expiry says how long ago, and the problem follows
    assert text == (
        OCSP_STAPLED + "\n"
        "  response             successful, 283 B\n"
        "  certificate status   ✓ good\n"
        + OCSP_CHECKS_PASSED
        + "  produced at          2026-11-20 07:55:11 UTC\n"
        "  this update          2026-11-20 07:55:11 UTC (6.9 d ago)\n"
        "  next update          2026-11-27 03:55:11 UTC (EXPIRED 2 h ago)\n"
        "  problems             • the response expired at 2026-11-27T03:55:11+00:00 (nextUpdate):"
        " clients\n"
        "                         treat a stale staple as none\n"
        "\n" + OCSP_LEAF
    )


def test_ocsp_layout_of_a_wrongly_signed_staple(measured: ScanResult) -> None:
    # Given a staple signed by the root, which did not issue the leaf: the signature verifies,
    # but the root may not answer for the leaf
    # When the report is rendered
    text = ocsp_body(measured, WRONGLY_SIGNED)

    # Then the signer row is the finding, and the probe's reason is a bullet
    checks = (
        "  serial number        ✓ matches the leaf\n"
        "  issuer key hash      ✓ matches the leaf's issuer\n"
        "  signature            ✓ valid\n"
        "  signer               ✗ neither the leaf's issuer nor a responder it certified\n"
    )
    assert text == (
        OCSP_STAPLED + "\n"
        "  response             successful, 776 B\n"
        "  certificate status   ✓ good\n"
        + checks
        + OCSP_FRESH
        + "  problems             • signed by CN=httpsaudit Test Root,O=httpsaudit test lab, which"
        " the leaf's\n"
        "                         issuer did not issue: it may not answer for this certificate"
        " (RFC 6960\n"
        "                         §4.2.2.2)\n"
        "\n" + OCSP_LEAF
    )


def test_ocsp_layout_of_a_lazy_staple_from_a_delegated_responder(measured: ScanResult) -> None:
    # Given a server whose first handshake came without a staple, the next ones with a
    # response from a delegated responder that has the OCSP-signing EKU
    # When the report is rendered
    text = ocsp_body(measured, DELEGATED)

    # Then the lazy fetch and the delegated signer are both named
    assert line_starting(text, "  first staple").rstrip() == (
        "  first staple         connection 2 of 3: the server fetches its staple lazily"
    )
    assert line_starting(text, "  response").rstrip() == "  response             successful, 830 B"
    assert line_starting(text, "  signer").rstrip() == (
        "  signer               a delegated responder with the OCSP-signing EKU"
    )


def test_ocsp_layout_of_an_error_response(measured: ScanResult) -> None:
    # Given a server stapling the try_later error its responder gave it, then one stapling
    # bytes that are no OCSP response at all
    # When each is rendered
    try_later = ocsp_body(measured, TRY_LATER)
    unparseable = ocsp_body(measured, UNPARSEABLE)

    # Then the response is one line saying there is no status, with the problem, and no
    # checks that a response without a status cannot have
    assert try_later == (
        OCSP_STAPLED + "\n"
        "  response             ✗ try_later (5 B): no certificate status\n"
        "  problems             • the response status is try_later, not successful: it carries"
        " no certificate\n"
        "                         status (RFC 6960 §4.2.1)\n"
        "\n" + OCSP_LEAF
    )
    assert unparseable == (
        OCSP_STAPLED + "\n"
        "  response             ✗ unparseable (20 B): no certificate status\n"
        "  problems             • not a valid OCSP response: the stapled bytes do not parse as"
        " an\n"
        "                         OCSPResponse (RFC 6960 §4.2.1)\n"
        "\n" + OCSP_LEAF
    )


def test_ocsp_layout_of_a_must_staple_leaf_without_a_staple(measured: ScanResult) -> None:
    # Given a must-staple leaf on a server that never staples
    # When the report is rendered at 100 and at 80 columns
    wide = ocsp_body(measured, MUST_STAPLE_VIOLATED)
    narrow = ocsp_body(measured, MUST_STAPLE_VIOLATED, 80)

    # Then no staple is named per version and over every connection, and the violation is a
    # finding in plain words
    assert wide == (
        NOT_STAPLED + "\n"
        "  must-staple          ✗ the leaf requires a staple and the server sent none: clients"
        " that enforce\n"
        "                       must-staple refuse the connection\n"
        "  OCSP responder       http://ocsp.lab.test/\n"
        "  CRL                  http://crl.lab.test/intermediate.crl"
    )
    assert narrow == wide.replace(
        "sent none: clients that enforce\n                       must-staple",
        "sent none:\n                       clients that enforce must-staple",
    )


def test_ocsp_layout_without_revocation_information(measured: ScanResult) -> None:
    # Given a leaf with neither an OCSP responder nor a CRL, on a server that staples nothing
    # When the report is rendered
    text = ocsp_body(measured, NO_REVOCATION_INFO)

    # Then the missing staple is stated, and so is why no stapling advice follows
    assert text == (
        NOT_STAPLED + "\n"
        "  must-staple          no\n"
        "  revocation           no revocation information: stapling advice does not apply"
    )


def test_ocsp_with_a_crl_but_no_responder_says_stapling_does_not_apply(
    measured: ScanResult,
) -> None:
    # Given a leaf that lists a CRL and no OCSP responder
    result = dataclasses.replace(NO_REVOCATION_INFO, crl_urls=CRL_URLS, revocation_info="crl")

    # When the report is rendered
    text = ocsp_body(measured, result)

    # Then the CRL is listed and the responder row says why stapling is moot
    assert text.endswith(
        "  OCSP responder       none (CRL only): stapling advice does not apply\n"
        "  CRL                  http://crl.lab.test/intermediate.crl"
    )


def test_ocsp_must_staple_honoured_and_tls13_not_tested(measured: ScanResult) -> None:
    # Given a must-staple leaf on a TLS 1.2-only server that staples
    result = dataclasses.replace(OCSP, tls13_stapled=T, connections_tried=2, must_staple=True)

    # When the report is rendered
    text = ocsp_body(measured, result)

    # Then TLS 1.3 is not tested, and must-staple is satisfied
    assert text.startswith(
        "  TLS 1.2 stapled      ✓ yes\n"
        "  TLS 1.3 stapled      — not tested\n"
        "  first staple         connection 1 of 2\n"
    )
    assert line_starting(text, "  must-staple").rstrip() == (
        "  must-staple          yes, and the server staples"
    )


@pytest.mark.parametrize(
    ("change", "key", "shown"),
    [
        pytest.param(
            {"signer": "delegated", "delegated_ocsp_signing": False},
            "signer",
            "✗ a delegated responder WITHOUT the OCSP-signing EKU",
            id="delegated-without-eku",
        ),
        pytest.param(
            {"signer": "delegated", "delegated_ocsp_signing": None},
            "signer",
            "a delegated responder",
            id="delegated-eku-not-read",
        ),
        pytest.param(
            {"cert_status": "unknown"},
            "certificate status",
            "? unknown: the responder does not know this certificate",
            id="status-unknown",
        ),
        pytest.param(
            {"signature_valid": False},
            "signature",
            "✗ does NOT verify",
            id="signature-does-not-verify",
        ),
        pytest.param(
            {"signature_valid": None},
            "signature",
            "— not checked",
            id="signature-not-checked",
        ),
        pytest.param(
            {"serial_matches": False},
            "serial number",
            "✗ does NOT match the leaf",
            id="another-leaf",
        ),
        pytest.param(
            {"issuer_key_hash_matches": None},
            "issuer key hash",
            "— not checked",
            id="issuer-not-checked",
        ),
        pytest.param(
            {"this_update": "2026-11-27T06:00:11+00:00", "age_s": -300, "stale": True},
            "this update",
            "2026-11-27 06:00:11 UTC (in 5 min: not valid yet)",
            id="this-update-in-the-future",
        ),
        pytest.param(
            {"next_update": None, "expires_in_s": None},
            "next update",
            "none: clients judge the response's age themselves",
            id="no-next-update",
        ),
        pytest.param(
            {"age_s": 42},
            "this update",
            "2026-11-27 04:55:11 UTC (42 s ago)",
            id="seconds-old",
        ),
    ],
)
def test_ocsp_response_verdicts(
    measured: ScanResult, change: dict[str, Any], key: str, shown: str
) -> None:
    # Given a good staple with one fact changed
    result = dataclasses.replace(OCSP, response=dataclasses.replace(GOOD_STAPLE, **change))

    # When the report is rendered
    text = ocsp_body(measured, result)

    # Then that fact's row says it in words
    assert line_starting(text, f"  {key}  ").rstrip() == f"  {key:<19}  {shown}"


def test_ocsp_skipped_or_failed_is_one_line(measured: ScanResult) -> None:
    # Given the probe skipped (not registered yet), then failed with nothing measured
    skipped: ProbeOutcome[Any] = ProbeOutcome(
        ProbeId.OCSP, ProbeStatus.SKIPPED, None, skip_reason=NOT_IN_SCAN
    )
    # When each is rendered
    # Then the section is one line saying why, as the other sections do
    assert ocsp_body(measured, skipped) == f"  skipped: {NOT_IN_SCAN}"
    assert ocsp_body(measured, failed(ProbeId.OCSP)) == (
        "  failed: timeout in TLS handshake: no answer within 10.0 s"
    )


def test_failed_ocsp_keeps_what_it_measured(measured: ScanResult) -> None:
    # Given the probe failed after the first connections had been stapled
    # When the report is rendered
    text = ocsp_body(measured, failed(ProbeId.OCSP, OCSP))

    # Then the failure comes first and what was measured follows
    assert text.splitlines()[0] == "  failed: timeout in TLS handshake: no answer within 10.0 s"
    assert text.splitlines()[1:] == ocsp_body(measured, OCSP).splitlines()


def test_server_supplied_text_in_ocsp_is_escaped(measured: ScanResult) -> None:
    # Given a leaf and a staple carrying markup and control characters where text goes
    result = dataclasses.replace(
        OCSP,
        ocsp_urls=("http://[bold]x[/bold]\x1b[2J/",),
        response=dataclasses.replace(
            GOOD_STAPLE,
            cert_status="revoked",
            revocation_time="2026-11-25T05:55:11+00:00",
            revocation_reason="[red]x\x07",
        ),
    )

    # When the report is rendered
    text = ocsp_body(measured, result)

    # Then markup is printed as sent and control characters are shown escaped
    assert "  OCSP responder       http://[bold]x[/bold]\\x1b[2J/\n" in text
    assert "  certificate status   ✗ REVOKED 2026-11-25 05:55:11 UTC ([red]x\\x07)\n" in text
    assert "\x1b" not in text
    assert "\x07" not in text


# -- certificate delivery (constructed) ----------------------------------------------------


def delivery_body(
    base: ScanResult, outcome: CertificateDeliveryResult | ProbeOutcome[Any], width: int = WIDTH
) -> str:
    """The Certificate delivery section of ``base`` with that result (or outcome) in it."""
    if isinstance(outcome, CertificateDeliveryResult):
        outcome = completed(ProbeId.CERTIFICATE_DELIVERY, outcome, 2)
    changed = with_outcomes(base, certificate_delivery=outcome)
    return body(render_text(changed, width), "Certificate delivery")


LAB_CHAIN = (
    "  chain                2 certificates, 1218 B DER\n"
    "  Certificate message  1236 B\n"
    "  first flight         1594 B, within the 14600 B initial window\n"
    "  root sent            no\n"
    "  duplicates           none\n"
    "  order                ✓ each certificate is issued by the next\n"
    "  intermediates        ✓ complete\n"
)
KEY_TABLE = (
    "  key                  public key  signature   verify\n"
    "  ECDSA P-256 (leaf)         91 B       72 B  60.9 µs\n"
    "  RSA-2048                  294 B      256 B  18.8 µs\n"
    "  RSA-3072                  422 B      384 B  37.3 µs\n"
    "  RSA-4096                  550 B      512 B  60.4 µs\n"
    "  verify: median time to check one signature, on this machine\n"
)
ECDSA_ONLY = (
    "  ECDSA-only client    ECDSA P-256\n"
    "  RSA-only client      none: the handshake failed\n"
    "  dual certificates    no (both offers in TLSv1.3)\n"
)
GOOD_HYGIENE = (
    "  days left            89 d\n"
    "  lifetime             91 d, within the CA/B Forum maximum of 200 d\n"
    "  SHA-1 signatures     none\n"
    "  weak keys            none\n"
    "  name                 ✓ matches"
)


def test_delivery_layout_of_the_lab_chain(measured: ScanResult) -> None:
    # Given s_server with an ECDSA P-256 leaf and its intermediate, and no RSA certificate
    # When the report is rendered at 100 and at 80 columns
    wide = delivery_body(measured, DELIVERY)
    narrow = delivery_body(measured, DELIVERY, 80)

    # Then the chain's weight and assembly come first, then the key types side by side with
    # the leaf marked, what ECDSA-only and RSA-only clients get, and the validity checks
    assert wide == LAB_CHAIN + "\n" + KEY_TABLE + "\n" + ECDSA_ONLY + "\n" + GOOD_HYGIENE
    assert narrow == wide


def test_delivery_layout_of_an_oversized_chain_with_root_and_duplicate(
    measured: ScanResult,
) -> None:
    # Given a chain of nine certificates, one sent twice and the root included: 16 KB
    # When the report is rendered at 100 and at 80 columns
    wide = delivery_body(measured, OVERSIZED)
    narrow = delivery_body(measured, OVERSIZED, 80)

    # Then the first flight is over the initial window and says what that costs, and the
    # root, the duplicate and the broken order are each named
    chain = (
        "  chain                9 certificates, 15634 B DER\n"
        "  Certificate message  15687 B\n"
        "  first flight         16045 B, over the 14600 B initial window: needs an extra round"
        " trip\n"
        "  root sent            ✗ yes: bytes no client needs\n"
        "  duplicates           ✗ position 3 repeats an earlier certificate\n"
        "  order                ✗ out of order\n"
        "                       • position 2 is not issued by position 3 (the same certificate"
        " again)\n"
        "  intermediates        ✓ complete\n"
    )
    assert wide == chain + "\n" + KEY_TABLE + "\n" + ECDSA_ONLY + "\n" + GOOD_HYGIENE
    assert narrow == wide.replace(
        "needs an extra round trip", "needs an extra\n                       round trip"
    ).replace(
        "(the same certificate again)", "(the same\n                         certificate again)"
    )
    # And several repeats are listed together
    twice = dataclasses.replace(OVERSIZED.chain, duplicates=(3, 5))
    text = delivery_body(measured, dataclasses.replace(OVERSIZED, chain=twice))
    assert line_starting(text, "  duplicates").rstrip() == (
        "  duplicates           ✗ positions 3, 5 repeat earlier certificates"
    )


def test_delivery_layout_of_a_missing_intermediate(measured: ScanResult) -> None:
    # Given a leaf sent without its intermediate
    # When the report is rendered
    text = delivery_body(measured, MISSING_INTERMEDIATE)

    # Then the gap is a finding, and the caIssuers URL is named but not fetched
    assert text.startswith(
        "  chain                1 certificate, 725 B DER\n"
        "  Certificate message  738 B\n"
        "  first flight         1101 B, within the 14600 B initial window\n"
    )
    assert text.partition("  intermediates")[2].partition("\n\n")[0] == (
        "        ✗ missing: the last certificate sent is not issued by a trusted root\n"
        "                       caIssuers http://ca.lab.test/intermediate.der (not fetched)"
    )


def test_delivery_missing_intermediate_without_ca_issuers_or_not_checked(
    measured: ScanResult,
) -> None:
    # Given a missing intermediate with no caIssuers URL, then a chain that could not be judged
    no_url = dataclasses.replace(
        MISSING_INTERMEDIATE,
        chain=dataclasses.replace(MISSING_INTERMEDIATE.chain, ca_issuers_urls=()),
    )
    unknown = dataclasses.replace(
        DELIVERY, chain=dataclasses.replace(CHAIN_WEIGHT, missing_intermediate=None)
    )

    # When each is rendered
    # Then the first says there is nowhere to fetch it from, the second that it cannot tell
    assert "                       no caIssuers URL to fetch it from\n" in delivery_body(
        measured, no_url
    )
    assert line_starting(delivery_body(measured, unknown), "  intermediates").rstrip() == (
        "  intermediates        — cannot tell: the last certificate's issuer is unknown (a missing"
    )


def test_delivery_layout_of_dual_certificates(measured: ScanResult) -> None:
    # Given nginx with an ECDSA and an RSA certificate
    # When the report is rendered
    text = delivery_body(measured, DUAL)

    # Then each client's certificate is named and the server has both
    assert text == (
        LAB_CHAIN + "\n" + KEY_TABLE + "\n"
        "  ECDSA-only client    ECDSA P-256\n"
        "  RSA-only client      RSA-2048\n"
        "  dual certificates    ✓ yes (both offers in TLSv1.3)\n\n" + GOOD_HYGIENE
    )


def test_delivery_layout_of_a_weak_sha1_leaf(measured: ScanResult) -> None:
    # Given an RSA-1024 leaf signed with SHA-1, issued for 825 days, for another name,
    # expiring in 12 days
    # When the report is rendered at 100 and at 80 columns
    wide = delivery_body(measured, WEAK_AND_SHA1)
    narrow = delivery_body(measured, WEAK_AND_SHA1, 80)

    # Then the weak leaf is marked in the key table and every validity problem is a finding
    assert wide == (
        LAB_CHAIN + "\n"
        "  key                  public key  signature   verify\n"
        "  RSA-1024 (leaf)           162 B      128 B  7.90 µs\n"
        "  ECDSA P-256                91 B       72 B  60.9 µs\n"
        "  RSA-2048                  294 B      256 B  18.8 µs\n"
        "  RSA-3072                  422 B      384 B  37.3 µs\n"
        "  RSA-4096                  550 B      512 B  60.4 µs\n"
        "  verify: median time to check one signature, on this machine\n\n"
        "  ECDSA-only client    none: the handshake failed\n"
        "  RSA-only client      RSA-1024\n"
        "  dual certificates    no (both offers in TLSv1.2)\n\n"
        "  days left            12 d: renew soon\n"
        "  lifetime             ✗ 825 d, over the CA/B Forum maximum of 398 d: browsers reject"
        " it\n"
        "  SHA-1 signatures     ✗ position 0 signed with SHA-1\n"
        "  weak keys            ✗ position 0: RSA-1024\n"
        "  name                 ✗ does NOT match"
    )
    assert narrow == wide.replace(
        "browsers reject it", "browsers\n                       reject it"
    )


def test_delivery_hygiene_of_an_expired_leaf_and_several_findings(measured: ScanResult) -> None:
    # Given an expired leaf, two SHA-1 signatures and two weak keys
    hygiene = dataclasses.replace(
        WEAK_AND_SHA1.hygiene,
        days_left=-10,
        sha1_signatures=(0, 1),
        weak_keys=("position 0: RSA-1024", "position 1: ECDSA P-192"),
    )
    result = dataclasses.replace(WEAK_AND_SHA1, hygiene=hygiene, key_costs=())

    # When the report is rendered
    text = delivery_body(measured, result)

    # Then each is said in words, one weak key a line, and no key table is drawn
    assert "  key costs            not measured\n" in text
    assert text.endswith(
        "  days left            ✗ expired 10 d ago\n"
        "  lifetime             ✗ 825 d, over the CA/B Forum maximum of 398 d: browsers reject"
        " it\n"
        "  SHA-1 signatures     ✗ positions 0, 1 signed with SHA-1\n"
        "  weak keys            ✗ position 0: RSA-1024\n"
        "                       ✗ position 1: ECDSA P-192\n"
        "  name                 ✗ does NOT match"
    )


def test_delivery_skipped_or_failed_is_one_line(measured: ScanResult) -> None:
    # Given the probe skipped (not registered yet), then failed with nothing measured
    skipped: ProbeOutcome[Any] = ProbeOutcome(
        ProbeId.CERTIFICATE_DELIVERY, ProbeStatus.SKIPPED, None, skip_reason=NOT_IN_SCAN
    )
    # When each is rendered
    # Then the section is one line saying why
    assert delivery_body(measured, skipped) == f"  skipped: {NOT_IN_SCAN}"
    assert delivery_body(measured, failed(ProbeId.CERTIFICATE_DELIVERY)) == (
        "  failed: timeout in TLS handshake: no answer within 10.0 s"
    )


def test_server_supplied_text_in_delivery_is_escaped(measured: ScanResult) -> None:
    # Given a missing intermediate whose caIssuers URL and order problem carry control bytes
    chain = dataclasses.replace(
        OVERSIZED.chain,
        missing_intermediate=True,
        ca_issuers_urls=("http://x/[bold]y[/bold]\x1b[2J",),
        order_problems=("position 2\x07 is [i]odd[/i]",),
    )
    result = dataclasses.replace(OVERSIZED, chain=chain)

    # When the report is rendered
    text = delivery_body(measured, result)

    # Then markup is printed as sent and control characters are shown escaped
    assert "caIssuers http://x/[bold]y[/bold]\\x1b[2J (not fetched)\n" in text
    assert "• position 2\\x07 is [i]odd[/i]\n" in text
    assert "\x1b" not in text
    assert "\x07" not in text


@pytest.mark.parametrize("width", [80, 100, 120])
@pytest.mark.parametrize(
    "name",
    [f"ocsp:{name}" for name in OCSP_VARIANTS] + [f"delivery:{name}" for name in DELIVERY_VARIANTS],
)
def test_certificate_variants_fit_the_width(measured: ScanResult, name: str, width: int) -> None:
    # Given one of the constructed OCSP or certificate delivery results
    kind, _, variant = name.partition(":")
    if kind == "ocsp":
        outcomes = {"ocsp": completed(ProbeId.OCSP, OCSP_VARIANTS[variant], 3)}
    else:
        outcomes = {
            "certificate_delivery": completed(
                ProbeId.CERTIFICATE_DELIVERY, DELIVERY_VARIANTS[variant], 2
            )
        }

    # When the whole report is rendered at a common terminal width
    lines = render_text(with_outcomes(measured, **outcomes), width).splitlines()

    # Then no line spills past it
    assert [line for line in lines if len(line) > width] == []


def test_certificate_sections_in_ascii(measured: ScanResult) -> None:
    # Given a console that can only encode ASCII, a good staple and a weak leaf
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    result = with_outcomes(
        measured,
        certificate_delivery=completed(ProbeId.CERTIFICATE_DELIVERY, WEAK_AND_SHA1, 2),
    )

    # When the report is rendered to it
    render(result, Console(file=stream, width=WIDTH, color_system=None))
    stream.flush()
    report = "\n".join(line.rstrip() for line in raw.getvalue().decode("ascii").split("\n"))

    # Then verdict glyphs and the micro sign have ASCII stand-ins
    assert "  TLS 1.2 stapled      + yes\n" in report
    assert "  serial number        + matches the leaf\n" in report
    assert "  RSA-1024 (leaf)           162 B      128 B  7.90 us\n" in report
    assert "  SHA-1 signatures     x position 0 signed with SHA-1\n" in report
    assert "  verify: median time to check one signature, on this machine\n" in report


def test_certificate_colour_is_emphasis_only(measured: ScanResult) -> None:
    # Given every emphasised finding: a must-staple violation, a revoked and wrongly signed
    # staple, an oversized chain and a weak, SHA-1, over-long leaf
    for ocsp, delivery in ((MUST_STAPLE_VIOLATED, OVERSIZED), (REVOKED, WEAK_AND_SHA1)):
        result = with_outcomes(
            measured,
            ocsp=completed(ProbeId.OCSP, ocsp, 3),
            certificate_delivery=completed(ProbeId.CERTIFICATE_DELIVERY, delivery, 2),
        )

        # When it is rendered once with colour and once without
        console = Console(file=io.StringIO(), width=WIDTH, color_system="truecolor", record=True)
        render(result, console)

        # Then the words are identical: colour never carries a fact alone
        assert console.export_text() == render_text(result)


def test_certificate_findings_are_emphasised(measured: ScanResult) -> None:
    # Given a must-staple violation and a first flight over the initial window
    output = io.StringIO()
    console = Console(file=output, width=WIDTH, color_system="standard", force_terminal=True)
    result = with_outcomes(
        measured,
        ocsp=completed(ProbeId.OCSP, MUST_STAPLE_VIOLATED, 3),
        certificate_delivery=completed(ProbeId.CERTIFICATE_DELIVERY, OVERSIZED, 2),
    )

    # When the report is rendered to a colour terminal
    render(result, console)

    # Then the violation is bold red and the extra round trip bold yellow, over the words
    assert "\x1b[1;31m✗ the leaf requires a staple and the server sent none" in output.getvalue()
    assert "\x1b[1;33m16045 B, over the 14600 B initial window" in output.getvalue()


def test_failed_capability_probes_say_how_in_one_line(measured: ScanResult) -> None:
    # Given every capability probe failed with a TLS timeout and nothing measured
    capabilities = [probe_id for probe_id in ProbeId if probe_id.value in constructed_outcomes()]
    failures = {probe_id.value: failed(probe_id) for probe_id in capabilities}
    result = with_outcomes(measured, **failures)

    # When the report is rendered
    text = render_text(result)

    # Then each probe has one line: kind, phase and message
    failure = "failed: timeout in TLS handshake: no answer within 10.0 s"
    assert body(text, "Protocol versions") == (
        f"  versions             {failure}\n  downgrade            {failure}"
    )
    assert body(text, "Cipher suites") == f"  {failure}"
    assert body(text, "Key exchange") == (
        f"  groups               {failure}\n  TLS 1.2 exchange     {failure}"
    )
    assert body(text, "False Start") == f"  {failure}"
    assert body(text, "ALPN and HTTP/3") == (
        f"  ALPN                 {failure}\n  HTTP/3 hints         {failure}"
    )
    assert body(text, "Client simulation") == f"  {failure}"
    assert body(text, "Session resumption") == f"  {failure}"
    assert body(text, "Early data (0-RTT)") == f"  {failure}"
    for title in CERTIFICATE_TITLES:
        assert body(text, title) == f"  {failure}"
    # And the footer shows them failed with their connections
    for probe_id in capabilities:
        row = line_starting(section(text, "Probes"), f"  {probe_id.value} ").split()
        assert row[1:3] == ["failed", "2"]


def test_failed_probe_keeps_what_it_measured(measured: ScanResult) -> None:
    # Given the client simulation failed after two profiles had run
    partial = ClientSimulationResult(CLIENT_SIMULATION.clients[:2])
    result = with_outcomes(measured, client_simulation=failed(ProbeId.CLIENT_SIMULATION, partial))

    # When the report is rendered
    simulation = body(render_text(result), "Client simulation")

    # Then the failure comes first and the clients measured before it follow
    lines = simulation.splitlines()
    assert lines[0] == "  failed: timeout in TLS handshake: no answer within 10.0 s"
    assert [line.split()[:2] for line in lines[3:5]] == [
        ["Chrome", "131"],
        ["Safari", "18"],
    ]


def test_server_supplied_text_in_capabilities_is_escaped(measured: ScanResult) -> None:
    # Given hints whose values carry markup, an escape sequence and a newline, as a hostile
    # server or DNS zone could send them
    hints = Http3HintsResult(
        alt_svc='[bold]h3[/bold]=":443"\x1b[2J',
        alt_svc_h3=True,
        https_records=(SvcbRecord(1, "evil\nexample.", ("h3\x07",), None, (), (), False),),
        https_record_h3=False,
        dns_status="answer",
    )
    result = with_outcomes(measured, http3_hints=completed(ProbeId.HTTP3_HINTS, hints))

    # When the report is rendered
    hints_text = section(render_text(result), "ALPN and HTTP/3")

    # Then the markup is printed as sent and every control character is shown escaped
    assert line_starting(hints_text, "  Alt-Svc").rstrip() == (
        '  Alt-Svc              [bold]h3[/bold]=":443"\\x1b[2J'
    )
    assert line_starting(hints_text, "  DNS HTTPS records").rstrip() == (
        "  DNS HTTPS records    1 evil\\nexample. alpn=h3\\x07"
    )
    assert "\x1b" not in hints_text
    assert "\x07" not in hints_text


@pytest.mark.parametrize("width", [80, 100, 120])
def test_constructed_report_fits_the_width(measured: ScanResult, width: int) -> None:
    # Given every capability section filled
    result = with_outcomes(measured)

    # When the report is rendered at a common terminal width
    lines = render_text(result, width).splitlines()

    # Then nothing spills past it, and every section is there
    assert all(len(line) <= width for line in lines)
    for title in SECTION_TITLES:
        assert any(line.startswith(f"{title} ─") for line in lines)


def test_capability_sections_in_ascii(measured: ScanResult) -> None:
    # Given a console that can only encode ASCII
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")

    # When the filled report is rendered to it
    render(with_outcomes(measured), Console(file=stream, width=WIDTH, color_system=None))
    stream.flush()
    text = raw.getvalue().decode("ascii")

    # Then verdict glyphs have ASCII stand-ins
    assert "  TLSv1.2  + supported      ServerHello TLSv1.2" in text
    assert "  SSLv3    x not supported  alert handshake_failure" in text
    assert "  X25519MLKEM768  x no     - not tested" in text
    assert "  Java 6       x failed  -" in text
    assert "  * Java 6: alert handshake_failure: no suite in common" in text


def test_capability_colour_is_emphasis_only(measured: ScanResult) -> None:
    # Given a report with every capability section filled, a HelloRetryRequest and a failure
    groups = dataclasses.replace(GROUPS, browser_hello_group="secp384r1", browser_hello_retry=True)
    result = with_outcomes(measured, groups=completed(ProbeId.GROUPS, groups))

    # When it is rendered once with colour and once without
    console = Console(file=io.StringIO(), width=WIDTH, color_system="truecolor", record=True)
    render(result, console)

    # Then the words are identical: colour never carries a fact alone
    assert console.export_text() == render_text(result)


def test_real_scan_of_nginx_defaults_resumes_by_ticket_not_by_session_id(pki: TestPKI) -> None:
    # Given nginx with its defaults: no session cache, tickets on
    with NginxServer("basic", pki.ecdsa_p256) as server:
        result = scan_loopback(pki, server.port)
    # When the report is rendered
    resumption = section(render_text(result), "Session resumption")
    # Then Session IDs never resume, tickets and PSKs always do, one key name, no 0-RTT
    row = line_starting(resumption, "  Session ID ").split()
    assert row[2:5] == ["✗", "0/5", "(0%)"]
    assert row[6:8] == ["→", "—"]
    assert "  • Session ID: the server sends a Session ID but never resumed it" in resumption
    for label, trips in (("Session Ticket", ["2", "→", "1"]), ("TLS 1.3 PSK", ["1", "→", "1"])):
        cells = line_starting(resumption, f"  {label} ").removeprefix(f"  {label} ").split()
        assert cells[:3] == ["✓", "5/5", "(100%)"]
        assert cells[8:11] == trips
    lines = [line.rstrip() for line in resumption.splitlines()]
    assert lines.count("    lifetime hint           300 s (5 min)") == 2
    assert "    tickets per connection  2" in lines
    assert "    max early data          0 B (no 0-RTT)" in lines
    assert "    psk_dhe_ke              ✓ accepted (forward secret)" in lines
    assert lines[-1] == "  across addresses: one address only, nothing to compare"
