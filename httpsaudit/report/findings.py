"""What every findings format shares: order, counts, the target's address, savings in words.

The formats (terminal, JSON, SARIF, JUnit, Markdown) must agree on these, so they live here and
nowhere else. Nothing here styles text for one medium; each format escapes for its own.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence

from httpsaudit.results import ScanResult, ScanTarget
from httpsaudit.rules.engine import RuleReport
from httpsaudit.rules.model import Finding, RuleStatus, Saving, Severity

# Worst first: the order findings are read in.
SEVERITY_ORDER: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))
# The statuses of rules that were evaluated but did not fail, in the order they are counted.
NOT_FAILED: tuple[RuleStatus, ...] = (
    RuleStatus.PASSED,
    RuleStatus.UNKNOWN,
    RuleStatus.NOT_APPLICABLE,
    RuleStatus.IGNORED,
)
STATUS_WORDS: Mapping[RuleStatus, str] = {
    RuleStatus.FAILED: "failed",
    RuleStatus.PASSED: "passed",
    RuleStatus.UNKNOWN: "unknown",
    RuleStatus.NOT_APPLICABLE: "not applicable",
    RuleStatus.IGNORED: "ignored",
}

# A rule title may carry evidence placeholders ("... (offered: {offered_versions})"); a title
# shown without evidence (SARIF shortDescription, a Markdown summary) drops that part.
_PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
_PLACEHOLDER_PARENTHESES = re.compile(r"\s*\([^()]*\{[A-Za-z_][A-Za-z0-9_]*\}[^()]*\)")
_PLACEHOLDER_TAIL = re.compile(r"\s*:\s*[^:]*\{[A-Za-z_][A-Za-z0-9_]*\}.*$", re.DOTALL)
# Characters kept as they are in a path segment of the SARIF artifact URI (RFC 3986 unreserved).
_URI_UNSAFE = re.compile(r"[^A-Za-z0-9._~-]")


def failed_by_severity(report: RuleReport) -> list[tuple[Severity, list[Finding]]]:
    """Failed findings grouped worst severity first, registry order kept within a group."""
    failed = report.failed()
    groups = [
        (severity, [finding for finding in failed if finding.severity is severity])
        for severity in SEVERITY_ORDER
    ]
    return [(severity, findings) for severity, findings in groups if findings]


def status_counts(findings: Sequence[Finding]) -> dict[RuleStatus, int]:
    """How many rules ended in each status; every status is present, zero or not."""
    counts = dict.fromkeys(RuleStatus, 0)
    for finding in findings:
        counts[finding.status] += 1
    return counts


def unknown_reasons(findings: Sequence[Finding]) -> list[tuple[str, list[str]]]:
    """Unknown rules grouped by why they could not be judged: one failed probe, many rules."""
    grouped: dict[str, list[str]] = {}
    for finding in findings:
        if finding.status is RuleStatus.UNKNOWN:
            grouped.setdefault(finding.reason or "no reason given", []).append(finding.rule_id)
    return list(grouped.items())


def plain_title(title: str) -> str:
    """A rule title without its evidence placeholders: "TLS 1.3 is not offered"."""
    text = _PLACEHOLDER_PARENTHESES.sub("", title)
    text = _PLACEHOLDER_TAIL.sub("", text)
    return _PLACEHOLDER.sub("...", text).strip() or title


def format_ms(value: float) -> str:
    """Milliseconds with precision that suits their size: 0.18, 12.4, 230."""
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:.0f}"


def saving_text(saving: Saving | None) -> str | None:
    """The saving in plain words ("1 round trip, about 42.0 ms"), or None when there is none."""
    if saving is None:
        return None
    parts: list[str] = []
    if saving.round_trips:
        noun = "round trip" if saving.round_trips == 1 else "round trips"
        parts.append(f"{saving.round_trips} {noun}")
    if saving.ms is not None and saving.ms > 0:
        parts.append(f"about {format_ms(saving.ms)} ms")
    if saving.bytes:
        parts.append(f"{saving.bytes} bytes")
    return ", ".join(parts) or None


def host_port(target: ScanTarget) -> str:
    """``host:port`` with an IPv6 literal in brackets."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{host}:{target.port}"


def target_url(target: ScanTarget) -> str:
    """The audited address as a URL: ``https://host:port/path`` (port always written)."""
    return f"https://{host_port(target)}{target.path}"


def artifact_path(target: ScanTarget) -> str:
    """A stable, scheme-less relative path naming the target: ``example.com_443/api``.

    GitHub code scanning rejects absolute ``https:`` artifact URIs ("SARIF URI scheme did not
    match the checkout URI scheme") and a colon in the first path segment, so the port is
    written after an underscore and anything outside RFC 3986's unreserved set becomes ``_``.
    """
    segments = [_URI_UNSAFE.sub("_", f"{target.host}_{target.port}")]
    path = target.path.split("?", 1)[0].split("#", 1)[0]
    segments.extend(_URI_UNSAFE.sub("_", part) for part in path.split("/") if part)
    return "/".join(segments)


def utc_time(started_at: str) -> datetime.datetime | None:
    """The scan's RFC 3339 start as an aware UTC datetime; None if it does not parse."""
    try:
        moment = datetime.datetime.fromisoformat(started_at)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def snippet_label(finding: Finding) -> str:
    """What the config snippet is for: one server, or every server we know (none detected)."""
    if finding.server is not None:
        return f"{finding.server} config"
    return "config for each server (the server was not detected)"


def connection_error_text(scan: ScanResult, *, none: str = "no TLS session") -> str:
    """Why the timed connection set up no TLS session, with the phase it stopped in
    ("TCP: connection refused"): what every report says of an unreachable target."""
    outcome = scan.connection
    if outcome.error is None:
        return outcome.skip_reason or none
    phase = f"{outcome.error.phase.value.upper()}: " if outcome.error.phase is not None else ""
    return f"{phase}{outcome.error.message}"
