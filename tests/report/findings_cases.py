"""Findings built by hand for the layout tests of every findings format.

The scan is constructed too, so nothing here varies between runs: the golden files under
``tests/report/golden/`` are compared byte for byte. The findings cover every severity and
status, and put hostile server text (pipes, backticks, markup, control characters) and
non-ASCII text where server text goes: messages, reasons and evidence.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any

import pytest

from httpsaudit.results import (
    ConnectionResult,
    Direction,
    DnsResult,
    Flight,
    HttpResponse,
    ProbeId,
    ProbeOutcome,
    ProbeStatus,
    ScanResult,
    ScanTarget,
    TcpConnect,
    TlsHandshake,
)
from httpsaudit.rules.engine import DetectedServer, RuleReport, score
from httpsaudit.rules.model import (
    Category,
    Evidence,
    Finding,
    RuleStatus,
    Saving,
    ServerKind,
    Severity,
)

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
# Set to 1 to rewrite the golden files from the current output (then review the diff).
UPDATE_GOLDEN_ENV = "HTTPSAUDIT_UPDATE_GOLDEN"
NOT_IN_SCAN = "not part of this scan"
# Server text as a hostile or merely unusual server might send it.
HOSTILE_HEADER = "Apache | `rm -rf` <b>*bold*</b> \x1b[31mred\x1b[0m"
UNICODE_NAME = "bücher.example — 证书"
GROUPS_FAILED = "the groups probe failed: no answer within 10.0 s"


def assert_golden(name: str, text: str) -> None:
    """``text`` equals ``golden/<name>``; with HTTPSAUDIT_UPDATE_GOLDEN=1 it is written instead."""
    path = GOLDEN_DIR / name
    if os.environ.get(UPDATE_GOLDEN_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "\n".join(
            difflib.unified_diff(
                expected.splitlines(), text.splitlines(), "golden", "rendered", lineterm=""
            )
        )
        pytest.fail(
            f"{name} differs from its golden file ({UPDATE_GOLDEN_ENV}=1 rewrites it):\n{diff}"
        )


# -- a scan built by hand -----------------------------------------------------------------

TARGET = ScanTarget(
    input="shop.example",
    host="shop.example",
    port=443,
    path="/",
    sni="shop.example",
    connect_to=(),
)
FLIGHTS = (
    Flight(Direction.CLIENT, ("ClientHello",), 517, 1, 0.0, 0.0),
    Flight(
        Direction.SERVER,
        ("ServerHello", "Certificate", "ServerKeyExchange", "ServerHelloDone"),
        2904,
        4,
        21.6,
        22.4,
    ),
    Flight(
        Direction.CLIENT, ("ClientKeyExchange", "ChangeCipherSpec", "Finished"), 93, 3, 23.0, 23.0
    ),
    Flight(Direction.SERVER, ("ChangeCipherSpec", "Finished"), 51, 2, 44.1, 44.1),
)
CONNECTION = ConnectionResult(
    dns=DnsResult(
        name="shop.example",
        resolver="dnspython",
        server="192.0.2.53",
        addresses=("192.0.2.10",),
        cname_chain=(),
        ttl_s=300,
        duration_ms=12.5,
    ),
    tcp=TcpConnect("192.0.2.10", 443, 21.3),
    tls=TlsHandshake(
        version="TLSv1.2",
        version_code=0x0303,
        cipher_suite="TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        cipher_suite_code=0xC02B,
        group="x25519",
        group_code=0x001D,
        alpn="http/1.1",
        sni="shop.example",
        handshake_ms=44.1,
        round_trips=2,
        hello_retry_request=False,
        flights=FLIGHTS,
        client_hello_bytes=517,
        server_first_flight_bytes=2904,
        session_id_bytes=32,
        certificate_message_bytes=2104,
    ),
    http=HttpResponse(
        protocol="HTTP/1.1",
        method="GET",
        path="/",
        status=200,
        reason="OK",
        ttfb_ms=23.8,
        server=HOSTILE_HEADER,
        alt_svc=None,
        strict_transport_security=None,
        location=None,
        header_bytes=231,
    ),
    peer_certificates=None,
    samples=(),
    stats=(),
    rtt_estimate_ms=21.3,
)


def _skipped(probe_id: ProbeId) -> ProbeOutcome[Any]:
    return ProbeOutcome(probe_id, ProbeStatus.SKIPPED, None, skip_reason=NOT_IN_SCAN)


def constructed_scan(target: ScanTarget = TARGET) -> ScanResult:
    """A scan that reached the server: the timed connection only, every other probe skipped."""
    outcomes: dict[str, Any] = {
        probe_id.value: _skipped(probe_id)
        for probe_id in ProbeId
        if probe_id is not ProbeId.CONNECTION
    }
    return ScanResult(
        tool_version="0.0.0-test",
        target=target,
        started_at="2026-01-02T03:04:05+00:00",
        duration_ms=1234.5,
        connection=ProbeOutcome(
            ProbeId.CONNECTION, ProbeStatus.COMPLETED, CONNECTION, connections=1, duration_ms=101.7
        ),
        connections=1,
        **outcomes,
    )


# -- findings built by hand ---------------------------------------------------------------


def finding(
    rule_id: str,
    name: str,
    severity: Severity,
    category: Category,
    status: RuleStatus,
    *,
    title: str = "",
    message: str = "",
    evidence: Evidence | None = None,
    saving: Saving | None = None,
    advice: str | None = None,
    snippet: str | None = None,
    server: str | None = None,
    references: tuple[str, ...] = (),
    reason: str | None = None,
    why: str = "",
) -> Finding:
    """A Finding with the defaults a non-failed rule has."""
    return Finding(
        rule_id=rule_id,
        name=name,
        severity=severity,
        category=category,
        status=status,
        title=title or f"Title of {rule_id}",
        message=message or title or f"Message of {rule_id}",
        evidence=evidence or {},
        saving=saving,
        advice=advice,
        snippet=snippet,
        server=server,
        references=references,
        reason=reason,
        why=why or f"Why {rule_id} matters.",
    )


FINDINGS = (
    finding(
        "TLS001",
        "tls13-disabled",
        Severity.HIGH,
        Category.LATENCY,
        RuleStatus.FAILED,
        title="TLS 1.3 is not offered (offered: {offered_versions})",
        message="TLS 1.3 is not offered (offered: TLSv1.2)",
        evidence={"offered_versions": ("TLSv1.2",)},
        saving=Saving(round_trips=1, ms=21.3),
        advice="Enable TLS 1.3 next to TLS 1.2: it saves 1 round trip, about 21.3 ms per new "
        "connection at your measured RTT.",
        snippet="ssl_protocols TLSv1.2 TLSv1.3;",
        server="nginx",
        references=("RFC 8446 §2", "https://wiki.mozilla.org/Security/Server_Side_TLS"),
        why="A full TLS 1.3 handshake takes 1 round trip; TLS 1.2 takes 2.",
    ),
    finding(
        "TLS002",
        "old-versions-offered",
        Severity.MEDIUM,
        Category.SECURITY,
        RuleStatus.PASSED,
        title="Deprecated protocol versions are accepted: {old_versions}",
        evidence={"old_versions": (), "offered_versions": ("TLSv1.2",)},
        references=("RFC 8996",),
    ),
    finding(
        "CERT901",
        "certificate-expired",
        Severity.CRITICAL,
        Category.SECURITY,
        RuleStatus.FAILED,
        title="The certificate has expired",
        message=f"The certificate for {UNICODE_NAME} expired 3 days ago",
        evidence={
            "not_after": "2025-12-30T00:00:00+00:00",
            "days_left": -3,
            "subject": UNICODE_NAME,
        },
        advice="Renew it and reload: `certbot renew | systemctl reload nginx`.",
        snippet="ssl_certificate     /etc/ssl/shop.example/fullchain.pem;\n"
        "ssl_certificate_key /etc/ssl/shop.example/privkey.pem;\n"
        "# ``` is not a fence here",
        server="nginx",
        references=("RFC 5280 §4.1.2.5",),
    ),
    finding(
        "KEX901",
        "rsa-key-exchange",
        Severity.MEDIUM,
        Category.SECURITY,
        RuleStatus.FAILED,
        title="Static RSA key exchange is chosen",
        message="Static RSA key exchange is chosen: TLS_RSA_WITH_AES_128_GCM_SHA256",
        evidence={"suite": "TLS_RSA_WITH_AES_128_GCM_SHA256", "forward_secret": False},
        saving=Saving(round_trips=0, ms=None, bytes=256),
        advice="Prefer ECDHE suites.",
        snippet="ssl_ciphers ECDHE+AESGCM:ECDHE+CHACHA20;",
        server="nginx",
    ),
    finding(
        "NET901",
        "server-header-verbose",
        Severity.LOW,
        Category.LATENCY,
        RuleStatus.FAILED,
        title="The Server header says: {server_header}",
        message=f"The Server header says: {HOSTILE_HEADER}",
        evidence={"server_header": HOSTILE_HEADER},
        saving=Saving(round_trips=0, ms=0.4, bytes=None),
        advice=f"Shorten it; clients ignore it. Now: {HOSTILE_HEADER}",
        snippet="server_tokens off;",
        server="nginx",
    ),
    finding(
        "ALPN901",
        "no-http3-hint",
        Severity.INFO,
        Category.RELIABILITY,
        RuleStatus.FAILED,
        title="No HTTP/3 hint",
        message="No Alt-Svc header or HTTPS record advertises HTTP/3",
        advice="Advertise HTTP/3 once the server speaks it.",
        server="nginx",
    ),
    finding(
        "KEX902",
        "x25519-not-preferred",
        Severity.MEDIUM,
        Category.LATENCY,
        RuleStatus.UNKNOWN,
        reason=GROUPS_FAILED,
    ),
    finding(
        "KEX903",
        "no-hybrid-group",
        Severity.INFO,
        Category.SECURITY,
        RuleStatus.UNKNOWN,
        reason=GROUPS_FAILED,
    ),
    finding(
        "EARLY901",
        "zero-rtt-replay",
        Severity.HIGH,
        Category.SECURITY,
        RuleStatus.NOT_APPLICABLE,
        reason="the server does not offer TLS 1.3",
        evidence={"reason": "the server does not offer TLS 1.3"},
    ),
    finding(
        "RES901",
        "no-ticket-resumption",
        Severity.LOW,
        Category.LATENCY,
        RuleStatus.IGNORED,
        reason="deselected",
    ),
)
SERVER = DetectedServer(ServerKind.NGINX, (1, 24, 0))


def hand_built_report(
    findings: tuple[Finding, ...] = FINDINGS, server: DetectedServer | None = SERVER
) -> RuleReport:
    """A RuleReport over ``findings`` scored by the engine's own formula."""
    overall, categories, grade = score(findings)
    return RuleReport(findings, overall, grade, categories, server, "en")
