"""The Findings section of the human report: score, what failed worst first, the fix, the tally.

Real audits of lab servers check the words a reader needs; the hand-built findings pin the exact
layout (golden files) at two widths, one of them on an ASCII-only console.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from httpsaudit.report.findings import STATUS_WORDS, status_counts
from httpsaudit.report.terminal import render
from httpsaudit.results import ScanResult
from httpsaudit.rules.engine import RuleReport
from httpsaudit.rules.model import RuleStatus
from tests.report.conftest import Audit
from tests.report.findings_cases import (
    FINDINGS,
    assert_golden,
    constructed_scan,
    hand_built_report,
)

WIDTH = 100


def render_text(
    scan: ScanResult, rules: RuleReport | None, width: int = WIDTH, *, ascii_only: bool = False
) -> str:
    """The report as a plain terminal shows it; ``ascii_only`` writes through an ASCII stream."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii" if ascii_only else "utf-8")
    render(scan, Console(file=stream, width=width, color_system=None), rules=rules)
    stream.flush()
    return raw.getvalue().decode("ascii" if ascii_only else "utf-8")


def body(text: str, title: str) -> str:
    """A section's body lines (after its title rule, up to the next), trailing blanks trimmed.

    The title rule is drawn with box characters, or dashes on an ASCII console.
    """
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith((f"{title} ─", f"{title} -"))]
    assert starts, f"no {title!r} section in:\n{text}"
    found: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if line and not line.startswith(" "):
            break
        found.append(line.rstrip())
    return "\n".join(found).rstrip("\n")


# -- real audits --------------------------------------------------------------------------


def test_findings_come_after_the_header_and_before_timing(tls12_audit: Audit) -> None:
    # Given a TLS 1.2-only server audited with every registered rule
    text = render_text(tls12_audit.scan, tls12_audit.rules)
    # Then the Findings section is the first section, right before Timing
    rules = [
        line for line in text.splitlines() if line and not line.startswith((" ", "│", "╭", "╰"))
    ]
    assert rules[0].startswith("Findings ─")
    assert rules[1].startswith("Timing")


def test_real_failed_rule_reads_as_advice(tls12_audit: Audit) -> None:
    audit = tls12_audit
    findings = body(render_text(audit.scan, audit.rules), "Findings")
    lines = findings.splitlines()
    # The score line, then TLS001 under HIGH with message, saving, advice and every server's config
    assert lines[0].startswith(
        f"  score {audit.rules.score}/100, grade {audit.rules.grade}   (latency "
    )
    assert "  HIGH (" in findings
    assert "  ✗ TLS001 tls13-disabled  [latency]" in lines
    assert "    TLS 1.3 is not offered (offered: TLSv1.2)" in lines
    assert any(line.startswith("    saves 1 round trip") for line in lines)
    assert any(line.startswith("    Enable TLS 1.3 next to TLS 1.2") for line in lines)
    assert "    config for each server (the server was not detected):" in lines
    assert "      # nginx" in lines
    assert "      ssl_protocols TLSv1.2 TLSv1.3;" in lines
    # And the tally counts every rule the registry holds, whatever their number
    counts = status_counts(audit.rules.findings)
    tally = ", ".join(f"{counts[status]} {STATUS_WORDS[status]}" for status in RuleStatus)
    assert f"  rules: {tally}" in lines


def test_nginx_gets_its_own_snippet_and_version(nginx_audit: Audit) -> None:
    findings = body(render_text(nginx_audit.scan, nginx_audit.rules), "Findings")
    assert "   server: nginx" in findings.splitlines()[0]
    assert "    nginx config:" in findings
    assert "      ssl_protocols TLSv1.2 TLSv1.3;" in findings
    assert "SSLProtocol" not in findings


def test_no_rules_no_findings_section(tls12_audit: Audit) -> None:
    text = render_text(tls12_audit.scan, None)
    assert "Findings ─" not in text
    assert text == render_text(tls12_audit.scan, None)


# -- findings built by hand ---------------------------------------------------------------


def test_hand_built_golden_unicode_100() -> None:
    text = render_text(constructed_scan(), hand_built_report())
    assert_golden("hand_built_findings_100.txt", body(text, "Findings") + "\n")


def test_hand_built_golden_ascii_60() -> None:
    # Given an ASCII-only console 60 columns wide and findings with non-ASCII text
    text = render_text(constructed_scan(), hand_built_report(), width=60, ascii_only=True)
    # Then the section is pure ASCII (escapes stand in) and matches the golden file
    assert_golden("hand_built_findings_ascii_60.txt", body(text, "Findings") + "\n")


@pytest.mark.parametrize("width", [40, 60, 80, 100, 140])
def test_no_line_is_wider_than_the_console(width: int) -> None:
    text = render_text(constructed_scan(), hand_built_report(), width=width)
    for line in text.splitlines():
        assert Console(width=width).measure(line).maximum <= width, line


def test_severity_groups_run_from_critical_to_info() -> None:
    findings = body(render_text(constructed_scan(), hand_built_report()), "Findings")
    headings = [line.strip() for line in findings.splitlines() if line.strip().endswith("(1)")]
    assert headings == ["CRITICAL (1)", "HIGH (1)", "MEDIUM (1)", "LOW (1)", "INFO (1)"]


def test_control_characters_are_escaped() -> None:
    text = render_text(constructed_scan(), hand_built_report())
    assert "\x1b" not in text
    assert "\\x1b[31mred\\x1b[0m" in text


def test_colour_is_emphasis_only() -> None:
    # Rendered with colour and without, the words are the same.
    console = Console(file=io.StringIO(), width=WIDTH, color_system="truecolor", record=True)
    render(constructed_scan(), console, rules=hand_built_report())
    assert console.export_text() == render_text(constructed_scan(), hand_built_report())


def test_no_failed_rule_says_so() -> None:
    passed = tuple(f for f in FINDINGS if f.status is not RuleStatus.FAILED)
    findings = body(
        render_text(constructed_scan(), hand_built_report(passed, server=None)), "Findings"
    )
    assert (
        findings.splitlines()[0]
        == "  score 100/100, grade A   (latency 100, security 100, reliability 100)"
    )
    assert "  ✓ no rule failed" in findings
    assert "  rules: 0 failed, 1 passed, 2 unknown, 1 not applicable, 1 ignored" in findings
