"""Evaluate the rules over a ScanResult: findings, a score, a grade, and the CI gate.

Scoring (also in the README and ``httpsaudit explain scoring``): every category starts at 100
and loses, per failed rule in it, a penalty by severity (critical 40, high 20, medium 8, low 3,
info 0), floored at 0. The overall score weighs latency 40%, security 40%, reliability 20%.
Grades: A >= 90, B >= 80, C >= 70, D >= 60, else F; any critical finding caps the grade at F.
Rules that are unknown, not applicable or ignored do not move the score.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from httpsaudit.results import ProbeStatus, ScanResult
from httpsaudit.rules.model import (
    Category,
    CheckContext,
    Evidence,
    Finding,
    Lifecycle,
    Localized,
    Rule,
    RuleStatus,
    ServerKind,
    Severity,
    Snippet,
)

PENALTY: Mapping[Severity, int] = {
    Severity.CRITICAL: 40,
    Severity.HIGH: 20,
    Severity.MEDIUM: 8,
    Severity.LOW: 3,
    Severity.INFO: 0,
}
CATEGORY_WEIGHT: Mapping[Category, float] = {
    Category.LATENCY: 0.4,
    Category.SECURITY: 0.4,
    Category.RELIABILITY: 0.2,
}
GRADES = ((90, "A"), (80, "B"), (70, "C"), (60, "D"))
NO_REASON = Localized(en="no reason given", zh="未给出原因")
_OUTCOME_TEXT: Mapping[RuleStatus, Localized] = {
    RuleStatus.PASSED: Localized(en="passed", zh="通过"),
    RuleStatus.NOT_APPLICABLE: Localized(en="not applicable: {reason}", zh="不适用:{reason}"),
    RuleStatus.UNKNOWN: Localized(en="unknown: {reason}", zh="无法判断:{reason}"),
    RuleStatus.IGNORED: Localized(en="ignored: {reason}", zh="已忽略:{reason}"),
}
_SERVER_HEADER = re.compile(r"^\s*(nginx|apache|caddy|haproxy)(?:/([0-9][0-9.]*))?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class DetectedServer:
    """The server software, from the Server header; version when it says one."""

    kind: ServerKind
    version: tuple[int, ...] | None

    @property
    def display(self) -> str:
        version = ".".join(str(part) for part in self.version) if self.version else ""
        return f"{self.kind.value} {version}".strip()


@dataclass(frozen=True, slots=True)
class Selection:
    """Which rules run and how heavy they are: --select/--ignore and the policy file."""

    select: tuple[str, ...] = ()  # ids, names or id prefixes; empty means every rule
    ignore: tuple[str, ...] = ()
    severity_overrides: Mapping[str, Severity] = field(default_factory=dict)

    def chooses(self, rule: Rule) -> bool:
        if self.select and not any(_matches(rule, token) for token in self.select):
            return False
        return not any(_matches(rule, token) for token in self.ignore)

    def severity_of(self, rule: Rule) -> Severity:
        return self.severity_overrides.get(
            rule.id, self.severity_overrides.get(rule.name, rule.severity)
        )


def _matches(rule: Rule, token: str) -> bool:
    token = token.strip()
    return rule.name == token.lower() or rule.id.upper().startswith(token.upper())


@dataclass(frozen=True, slots=True)
class RuleReport:
    """Every rule's finding, the score and grade, and what the server was taken to be."""

    findings: tuple[Finding, ...]
    # None without a TLS session: nothing was measured, so no score (never a clean 100).
    score: int | None
    grade: str | None
    category_scores: Mapping[Category, int]  # empty when score is None
    server: DetectedServer | None
    lang: str

    def failed(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.status is RuleStatus.FAILED)

    def worst(self) -> Severity | None:
        failed = self.failed()
        return max((finding.severity for finding in failed), default=None)


def detect_server(scan: ScanResult) -> DetectedServer | None:
    """nginx/Apache/Caddy/HAProxy from the Server header of the timed request."""
    connection = scan.connection.result
    header = connection.http.server if connection is not None and connection.http else None
    if not header:
        return None
    match = _SERVER_HEADER.match(header)
    if match is None:
        return None
    version = (
        tuple(int(part) for part in match.group(2).split(".") if part) if match.group(2) else None
    )
    return DetectedServer(ServerKind(match.group(1).lower()), version or None)


def _snippet_for(rule: Rule, server: DetectedServer | None) -> tuple[str | None, str | None]:
    """The config lines for the detected server, or every server's when none was detected."""
    if server is None:
        parts = [
            f"# {kind.value}\n{_version_text(snippet, None)}"
            for kind, snippet in rule.advice.snippets.items()
        ]
        return ("\n\n".join(parts) or None), None
    snippet = rule.advice.snippets.get(server.kind)
    if snippet is None:
        return None, server.kind.value
    return _version_text(snippet, server.version), server.kind.value


def _version_text(snippet: Snippet, version: tuple[int, ...] | None) -> str:
    if snippet.min_version is None or snippet.before_text is None:
        return snippet.text
    if version is not None and version < snippet.min_version:
        return snippet.before_text
    if version is None:
        needed = ".".join(str(part) for part in snippet.min_version)
        return f"{snippet.text}\n# before {needed}:\n{snippet.before_text}"
    return snippet.text


def _missing_probe(rule: Rule, scan: ScanResult) -> str | None:
    for probe_id in rule.requires:
        outcome = getattr(scan, probe_id.value)
        if outcome.status is not ProbeStatus.COMPLETED:
            detail = outcome.skip_reason or (outcome.error.message if outcome.error else "")
            return f"the {probe_id.value} probe {outcome.status.value}: {detail}".rstrip(": ")
    return None


def _rtt_ms(scan: ScanResult) -> float | None:
    connection = scan.connection.result
    return connection.rtt_estimate_ms if connection is not None else None


def evaluate_rule(
    rule: Rule,
    scan: ScanResult,
    *,
    lang: str,
    server: DetectedServer | None,
    selection: Selection,
) -> Finding:
    """One rule against one scan; a check that raises is reported, never propagated."""
    severity = selection.severity_of(rule)
    status: RuleStatus
    evidence: Evidence = {}
    message = rule.title.get(lang)
    saving = None
    reason: str | None = None
    internal_error = False
    if not selection.chooses(rule) or rule.lifecycle is Lifecycle.REMOVED:
        status, reason = RuleStatus.IGNORED, "deselected"
    elif (missing := _missing_probe(rule, scan)) is not None:
        status, reason = RuleStatus.UNKNOWN, missing
    else:
        try:
            verdict = rule.check(scan, CheckContext(rtt_ms=_rtt_ms(scan)))
        except Exception as exc:  # a bug in a rule must not hide the other findings
            status, reason = RuleStatus.UNKNOWN, f"internal error in the rule: {exc!r}"
            internal_error = True
        else:
            status, evidence, saving = verdict.status, verdict.evidence, verdict.saving
            values = {**evidence, **_saving_values(saving)}
            message = (verdict.message or rule.title).render(lang, values)
            if status in (RuleStatus.NOT_APPLICABLE, RuleStatus.UNKNOWN):
                reason = str(evidence.get("reason", "")) or NO_REASON.get(lang)
    if status is not RuleStatus.FAILED:
        # A title is worded as the problem; a rule that did not fail says what it found.
        message = _OUTCOME_TEXT[status].render(lang, {"reason": reason or ""})
    snippet, server_kind = (None, None)
    advice = None
    if status is RuleStatus.FAILED:
        snippet, server_kind = _snippet_for(rule, server)
        advice = rule.advice.summary.render(lang, {**evidence, **_saving_values(saving)})
    return Finding(
        rule_id=rule.id,
        name=rule.name,
        severity=severity,
        category=rule.category,
        status=status,
        title=rule.title.get(lang),
        message=message,
        evidence=evidence,
        saving=saving,
        advice=advice,
        snippet=snippet,
        server=server_kind,
        references=rule.advice.references,
        reason=reason,
        why=rule.why.get(lang),
        internal_error=internal_error,
    )


def _saving_values(saving: object) -> dict[str, object]:
    if saving is None:
        return {}
    return {
        "saved_round_trips": getattr(saving, "round_trips", None),
        "saved_ms": getattr(saving, "ms", None),
        "saved_bytes": getattr(saving, "bytes", None),
    }


def score(findings: Iterable[Finding]) -> tuple[int, Mapping[Category, int], str]:
    """(overall score, per-category scores, grade) from the failed findings."""
    penalties = dict.fromkeys(Category, 0)
    critical = False
    for finding in findings:
        if finding.status is RuleStatus.FAILED:
            penalties[finding.category] += PENALTY[finding.severity]
            critical = critical or finding.severity is Severity.CRITICAL
    categories = {category: max(0, 100 - penalty) for category, penalty in penalties.items()}
    overall = round(
        sum(CATEGORY_WEIGHT[category] * value for category, value in categories.items())
    )
    grade = "F" if critical else next((letter for floor, letter in GRADES if overall >= floor), "F")
    return overall, categories, grade


def evaluate(
    scan: ScanResult,
    rules: Sequence[Rule],
    *,
    lang: str = "en",
    selection: Selection | None = None,
) -> RuleReport:
    """Every rule, in registry order."""
    chosen = selection or Selection()
    server = detect_server(scan)
    findings = tuple(
        evaluate_rule(rule, scan, lang=lang, server=server, selection=chosen) for rule in rules
    )
    if not scan.reachable:
        return RuleReport(findings, None, None, {}, server, lang)
    overall, categories, grade = score(findings)
    return RuleReport(findings, overall, grade, categories, server, lang)
