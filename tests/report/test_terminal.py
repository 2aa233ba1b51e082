"""The human report, rendered from real scans of loopback lab servers.

Each test scans a server configured one way and asserts the words a reader needs; timing values
are never asserted, only that the phases and flights are there and drawn.
"""

from __future__ import annotations

import io
import socket

import pytest
from rich.console import Console

from httpsaudit.net.dns import ResolverAddress
from httpsaudit.probes.base import ScanOptions
from httpsaudit.report.terminal import render
from httpsaudit.results import ScanResult
from httpsaudit.scan import scan
from httpsaudit.target import parse_address, parse_target
from tests.pki import TestPKI
from tests.servers import DnsServer, NginxServer, OpenSSLServer, RawServer

WIDTH = 100
SECTION_TITLES = ("Timing", "Negotiated", "HTTP", "DNS", "Certificate chain", "Probes")


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


def closed_port() -> int:
    """A loopback port nothing listens on: bound by us, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    assert "median" not in text
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
    assert "connection   failed" in text


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
