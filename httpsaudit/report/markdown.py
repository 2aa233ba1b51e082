"""A CI job summary in GitHub-flavoured Markdown (``$GITHUB_STEP_SUMMARY``, GitLab, PR comments).

Everything that came from the server or the user (messages carry evidence such as header values
and certificate names) is escaped, so it reads as text and can neither break the table (``|``),
open code spans (backticks) nor inject HTML. Config snippets sit in fenced code blocks whose fence
is longer than any backtick run inside them.

A fleet (``render_fleet``) opens with one table row per target, then each target's section as
``render`` writes it. GitHub refuses a step summary over 1 MiB, so the sections are cut, with a
note saying how many are missing; the table is always whole.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from httpsaudit.report.findings import (
    STATUS_WORDS,
    connection_error_text,
    failed_by_severity,
    format_ms,
    host_port,
    plain_title,
    saving_text,
    snippet_label,
    status_counts,
    unknown_reasons,
)
from httpsaudit.report.fleet import worst_finding
from httpsaudit.results import ProbeStatus, ScanResult
from httpsaudit.rules.engine import RuleReport
from httpsaudit.rules.model import Category, Finding, RuleStatus

# CommonMark lets a backslash escape any ASCII punctuation; these are the ones that can start
# markup inline (emphasis, code, links, HTML, tables, strikethrough, autolinks, entities).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#!&])")
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NOT_MEASURED = "n/a"
# GitHub's limit on what one step writes to $GITHUB_STEP_SUMMARY; a bigger summary is refused.
STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024
# The fence language GitHub highlights each server's config with.
_SNIPPET_LANGUAGE = {"nginx": "nginx", "apache": "apache", "haproxy": "", "caddy": ""}


def escape(value: object) -> str:
    """Inline text that renders as itself: one line, markup characters escaped."""
    text = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", str(value))
    text = _LINE_BREAKS.sub(" ", text.strip())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def paragraphs(value: str) -> str:
    """Multi-line text kept as paragraphs, each escaped."""
    blocks = [block for block in re.split(r"\n\s*\n", value) if block.strip()]
    return "\n\n".join(escape(block) for block in blocks)


def fenced(text: str, language: str = "") -> str:
    """A fenced code block that no backtick run inside ``text`` can close early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text.rstrip("\n"))
    return f"{fence}{language}\n{body}\n{fence}"


def _ms_or_na(value: float | None) -> str:
    return f"{format_ms(value)} ms" if value is not None else _NOT_MEASURED


def _title(scan: ScanResult, rules: RuleReport) -> str:
    verdict = (
        f"grade {rules.grade}, score {rules.score}/100"
        if rules.score is not None
        else "no grade: no TLS session"
    )
    return f"## httpsaudit: {escape(host_port(scan.target))}{escape(scan.target.path)} - {verdict}"


def _scores(rules: RuleReport) -> str:
    parts = [
        f"{category.value} {rules.category_scores[category]}"
        for category in Category
        if category in rules.category_scores
    ]
    line = f"**Scores:** {', '.join(parts)}" if parts else "**Scores:** none"
    server = rules.server.display if rules.server is not None else "not detected"
    return f"{line} · **Server:** {escape(server)}"


def _timing(scan: ScanResult) -> str:
    connection = scan.connection.result
    if connection is None:
        return "**Timing:** not measured (no connection)"
    dns = connection.dns.duration_ms if connection.dns is not None else None
    tcp = connection.tcp.duration_ms if connection.tcp is not None else None
    tls = connection.tls.handshake_ms if connection.tls is not None else None
    ttfb = connection.http.ttfb_ms if connection.http is not None else None
    parts = [
        f"DNS {_ms_or_na(dns)}",
        f"TCP {_ms_or_na(tcp)}",
        f"TLS {_ms_or_na(tls)}",
        f"TTFB {_ms_or_na(ttfb)}",
    ]
    if connection.tls is not None:
        trips = connection.tls.round_trips
        noun = "round trip" if trips == 1 else "round trips"
        parts.append(f"{escape(connection.tls.version)} in {trips} {noun}")
    if connection.rtt_estimate_ms is not None:
        parts.append(f"RTT about {format_ms(connection.rtt_estimate_ms)} ms")
    return f"**Timing:** {' · '.join(parts)}"


def _failure(scan: ScanResult) -> str | None:
    outcome = scan.connection
    if outcome.status is ProbeStatus.COMPLETED:
        return None
    if outcome.error is not None:
        phase = outcome.error.phase.value.upper() if outcome.error.phase is not None else "?"
        return (
            f"> **Connection failed** ({outcome.error.kind.value} in {phase}): "
            f"{escape(outcome.error.message)}"
        )
    return f"> **Connection not attempted:** {escape(outcome.skip_reason or 'no reason given')}"


def _table(rules: RuleReport) -> list[str]:
    groups = failed_by_severity(rules)
    if not groups:
        return ["No rule failed."]
    lines = [
        "| Severity | Rule | Finding | Saving |",
        "| --- | --- | --- | --- |",
    ]
    for severity, findings in groups:
        for finding in findings:
            saving = saving_text(finding.saving)
            lines.append(
                f"| {severity.label} | `{finding.rule_id}` {escape(finding.name)}"
                f" | {escape(finding.message)} | {escape(saving) if saving else '-'} |"
            )
    return lines


def _details(finding: Finding) -> str:
    summary = html.escape(f"{finding.rule_id} {plain_title(finding.title)}", quote=False)
    parts = [f"<details><summary>{summary}</summary>", ""]
    if finding.advice:
        parts.append(paragraphs(finding.advice))
    if finding.snippet:
        language = _SNIPPET_LANGUAGE.get(finding.server or "", "")
        parts.extend(["", f"{escape(snippet_label(finding))}:", ""])
        parts.append(fenced(finding.snippet, language))
    if finding.references:
        references = ", ".join(escape(reference) for reference in finding.references)
        parts.extend(["", f"References: {references}"])
    parts.extend(["", "</details>"])
    return "\n".join(parts)


def _probes(scan: ScanResult) -> str:
    outcomes = scan.outcomes()
    counts = {
        status: sum(1 for outcome in outcomes if outcome.status is status) for status in ProbeStatus
    }
    line = ", ".join(f"{counts[status]} {status.value}" for status in ProbeStatus)
    failures = [
        f"{outcome.probe.value} ({outcome.error.kind.value})"
        for outcome in outcomes
        if outcome.status is ProbeStatus.FAILED and outcome.error is not None
    ]
    if failures:
        line += f"; failed: {escape(', '.join(failures))}"
    return f"**Probes:** {line}"


def _rules_line(rules: RuleReport) -> list[str]:
    counts = status_counts(rules.findings)
    tally = ", ".join(f"{counts[status]} {STATUS_WORDS[status]}" for status in RuleStatus)
    lines = [f"**Rules:** {tally}"]
    reasons = unknown_reasons(rules.findings)
    if reasons:
        lines.append("")
    for reason, rule_ids in reasons:
        lines.append(f"- unknown {', '.join(rule_ids)}: {escape(reason)}")
    return lines


def render(scan: ScanResult, rules: RuleReport) -> str:
    """The job summary, ending in a newline."""
    blocks: list[str] = [_title(scan, rules), _scores(rules)]
    failure = _failure(scan)
    if failure is not None:
        blocks.append(failure)
    blocks.append(_timing(scan))
    blocks.append("### Findings")
    blocks.append("\n".join(_table(rules)))
    blocks.extend(
        _details(finding)
        for _severity, findings in failed_by_severity(rules)
        for finding in findings
    )
    blocks.append(_probes(scan))
    blocks.append("\n".join(_rules_line(rules)))
    return "\n\n".join(blocks) + "\n"


def _fleet_row(scan: ScanResult, rules: RuleReport) -> str:
    """One target's summary row; an unreachable target has no grade rather than a clean one."""
    connection = scan.connection.result
    tls = connection.tls if connection is not None else None
    worst = worst_finding(rules)
    if not scan.reachable:
        verdict = f"unreachable: {escape(connection_error_text(scan))}"
    elif worst is not None:
        verdict = f"{worst.severity} `{worst.rule_id}` {escape(worst.title)}"
    else:
        verdict = "none"
    if scan.interrupted:
        verdict += " (interrupted)"
    cells = [
        escape(scan.target.input),
        rules.grade or "-",
        str(rules.score) if rules.score is not None else "-",
        f"{format_ms(tls.handshake_ms)} ms" if tls is not None else "-",
        str(len(rules.failed())),
        verdict,
    ]
    return f"| {' | '.join(cells)} |"


def _fleet_summary(entries: Sequence[tuple[ScanResult, RuleReport]]) -> str:
    unreachable = sum(1 for scan, _rules in entries if not scan.reachable)
    with_findings = sum(1 for _scan, rules in entries if rules.failed())
    noun = "target" if len(entries) == 1 else "targets"
    lines = [
        f"# httpsaudit: {len(entries)} {noun}",
        "",
        f"**Targets:** {len(entries)} · **unreachable:** {unreachable}"
        f" · **with failed findings:** {with_findings}",
        "",
        "| Target | Grade | Score | TLS handshake | Failed | Worst finding |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines.extend(_fleet_row(scan, rules) for scan, rules in entries)
    return "\n".join(lines) + "\n"


def _cut_note(shown: int, total: int, limit_bytes: int) -> str:
    left_out = total - shown
    return (
        f"> **Details cut:** the sections of the last {left_out} of {total} targets are left out"
        f" (the table above lists every target) to keep this summary within"
        f" {limit_bytes} bytes, the most a GitHub step summary may hold."
        f" The JSON report has every target in full.\n"
    )


def render_fleet(
    entries: Sequence[tuple[ScanResult, RuleReport]],
    *,
    limit_bytes: int = STEP_SUMMARY_LIMIT_BYTES,
) -> str:
    """The fleet's job summary: the table, then each target's section while within the limit."""
    summary = _fleet_summary(entries)
    used = len(summary.encode("utf-8"))
    sections: list[str] = []
    sizes: list[int] = []
    for scan, rules in entries:
        section = "\n" + render(scan, rules)
        size = len(section.encode("utf-8"))
        if used + size > limit_bytes:
            break
        sections.append(section)
        sizes.append(size)
        used += size
    else:
        return summary + "".join(sections)
    # Over the limit: drop sections from the end until the note fits too (it may not when the
    # table alone is as big; GitHub then refuses the summary, which the note still explains).
    note = "\n" + _cut_note(0, len(entries), limit_bytes)
    room = limit_bytes - len(note.encode("utf-8"))
    while sections and used > room:
        sections.pop()
        used -= sizes.pop()
    note = "\n" + _cut_note(len(sections), len(entries), limit_bytes)
    return summary + note + "".join(sections)
