"""The CI job summary: GitHub-flavoured Markdown that server text cannot restructure."""

from __future__ import annotations

import dataclasses
import re
import socket

import pytest

from httpsaudit.report.markdown import escape, fenced, render
from httpsaudit.rules.model import RuleStatus
from tests.report.conftest import Audit
from tests.report.findings_cases import (
    FINDINGS,
    HOSTILE_HEADER,
    assert_golden,
    constructed_scan,
    hand_built_report,
)
from tests.scanning import scan_local

# A table cell boundary: a pipe not escaped by a backslash.
_CELL_BOUNDARY = re.compile(r"(?<!\\)\|")


def table_rows(text: str) -> list[list[str]]:
    """The findings table's body rows, split into cells at unescaped pipes."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    assert lines[0] == "| Severity | Rule | Finding | Saving |"
    assert lines[1] == "| --- | --- | --- | --- |"
    return [[cell.strip() for cell in _CELL_BOUNDARY.split(line)[1:-1]] for line in lines[2:]]


def test_hand_built_golden() -> None:
    assert_golden("hand_built.md", render(constructed_scan(), hand_built_report()))


def test_table_has_one_row_per_failed_finding_worst_first() -> None:
    # Given failed findings with pipes, backticks and markup in their server text
    text = render(constructed_scan(), hand_built_report())
    # When the table is split at unescaped pipes
    rows = table_rows(text)
    # Then every row has exactly four cells, worst severity first
    assert all(len(row) == 4 for row in rows)
    assert [row[0] for row in rows] == ["critical", "high", "medium", "low", "info"]
    assert [row[1] for row in rows] == [
        "`CERT901` certificate-expired",
        "`TLS001` tls13-disabled",
        "`KEX901` rsa-key-exchange",
        "`NET901` server-header-verbose",
        "`ALPN901` no-http3-hint",
    ]
    assert rows[1][3] == "1 round trip, about 21.3 ms"
    assert rows[4][3] == "-"


def test_server_text_is_escaped() -> None:
    text = render(constructed_scan(), hand_built_report())
    row = next(row for row in table_rows(text) if "NET901" in row[1])
    # No raw markup survives: every special character carries its backslash.
    assert row[2] == (
        "The Server header says: Apache \\| \\`rm -rf\\` \\<b\\>\\*bold\\*\\</b\\> "
        "\\\\x1b\\[31mred\\\\x1b\\[0m"
    )
    assert "\x1b" not in text
    assert "<b>" not in text
    assert HOSTILE_HEADER not in text


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("a|b", "a\\|b"),
        ("`code`", "\\`code\\`"),
        ("line one\nline two", "line one line two"),
        ("<script>alert(1)</script>", "\\<script\\>alert(1)\\</script\\>"),
        ("[link](https://evil.example)", "\\[link\\](https://evil.example)"),
        ("*em* _em_ ~~s~~ # h !", "\\*em\\* \\_em\\_ \\~\\~s\\~\\~ \\# h \\!"),
        ("&amp; \\", "\\&amp; \\\\"),
        ("证书 — bücher", "证书 — bücher"),
    ],
)
def test_escape(raw: str, shown: str) -> None:
    assert escape(raw) == shown


def test_fence_outlasts_backticks_in_the_snippet() -> None:
    block = fenced("a ``` b\n````", "nginx")
    assert block == "`````nginx\na ``` b\n````\n`````"


def test_details_follow_the_table_with_advice_and_snippet() -> None:
    text = render(constructed_scan(), hand_built_report())
    summaries = re.findall(r"<details><summary>(.*?)</summary>", text)
    assert summaries == [
        "CERT901 The certificate has expired",
        "TLS001 TLS 1.3 is not offered",
        "KEX901 Static RSA key exchange is chosen",
        "NET901 The Server header says",
        "ALPN901 No HTTP/3 hint",
    ]
    assert "````nginx\nssl_certificate     /etc/ssl/shop.example/fullchain.pem;" in text
    assert "```nginx\nssl_protocols TLSv1.2 TLSv1.3;\n```" in text


def test_rules_line_counts_every_status_and_names_unknown_reasons() -> None:
    text = render(constructed_scan(), hand_built_report())
    assert "**Rules:** 5 failed, 1 passed, 2 unknown, 1 not applicable, 1 ignored" in text
    assert "- unknown KEX902, KEX903: the groups probe failed: no answer within 10.0 s" in text


def test_no_failed_rule() -> None:
    passed = tuple(f for f in FINDINGS if f.status is not RuleStatus.FAILED)
    text = render(constructed_scan(), hand_built_report(passed, server=None))
    assert "No rule failed." in text
    assert "<details>" not in text
    assert "**Server:** not detected" in text


# -- real scans ---------------------------------------------------------------------------


def test_real_scan_summary(tls12_audit: Audit) -> None:
    # Given a TLS 1.2-only server audited with every registered rule
    audit = tls12_audit
    # When the summary is rendered
    text = render(audit.scan, audit.rules)
    # Then the title names the target, grade and score
    assert text.splitlines()[0] == (
        f"## httpsaudit: localhost:{audit.port}/ - grade {audit.rules.grade}, "
        f"score {audit.rules.score}/100"
    )
    # And the timing line has every phase (DNS not resolved: --connect-to an IP) in ms
    timing = next(line for line in text.splitlines() if line.startswith("**Timing:**"))
    assert re.fullmatch(
        r"\*\*Timing:\*\* DNS n/a · TCP [0-9.]+ ms · TLS [0-9.]+ ms · TTFB [0-9.]+ ms"
        r" · TLSv1\.2 in 2 round trips · RTT about [0-9.]+ ms",
        timing,
    ), timing
    # And TLS001 is a row with its saving, with the snippet for every server below
    row = next(row for row in table_rows(text) if "TLS001" in row[1])
    assert row[:3] == [
        "high",
        "`TLS001` tls13-disabled",
        "TLS 1.3 is not offered (offered: TLSv1.2)",
    ]
    assert row[3].startswith("1 round trip")
    assert "config for each server (the server was not detected):" in text
    assert "# nginx\nssl_protocols TLSv1.2 TLSv1.3;" in text
    # And the probe and rule tallies close the summary
    probes = sum(1 for _ in audit.scan.outcomes())
    line = next(line for line in text.splitlines() if line.startswith("**Probes:**"))
    counts = [int(number) for number in re.findall(r"(\d+) (?:completed|failed|skipped)", line)]
    assert sum(counts) == probes
    assert text.endswith("\n")


def closed_port() -> int:
    """A loopback port nothing listens on: bound by us, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_unreachable_target() -> None:
    # Given a port that refuses connections, and rules that could not be judged
    result = scan_local(closed_port(), ca_file=None, timeout_s=5.0)
    findings = tuple(
        dataclasses.replace(f, status=RuleStatus.UNKNOWN, reason="the versions probe failed")
        for f in FINDINGS[:2]
    )
    # When the summary is rendered
    text = render(result, hand_built_report(findings, server=None))
    # Then it says where the connection failed, measures nothing, and fails no rule
    assert re.search(r"^> \*\*Connection failed\*\* \(connect in TCP\): .+", text, re.MULTILINE)
    timing = next(line for line in text.splitlines() if line.startswith("**Timing:**"))
    assert "TLS n/a" in timing or timing == "**Timing:** not measured (no connection)"
    assert "No rule failed." in text
    assert "- unknown TLS001, TLS002: the versions probe failed" in text
