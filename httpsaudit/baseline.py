"""Baselines: compare a scan with an earlier JSON report, so a deploy must not regress.

A baseline is a report written by ``httpsaudit scan --format json``. From it we read the
findings (rule id, severity, status), the score and grade, the timed connection's phase times
and the TLS 1.2 / 1.3 ticket key names. A current failed finding is *new* when the baseline did
not fail that rule, *worse* when it failed it at a lower severity; only those count for the gate.
``httpsaudit diff`` shows the whole comparison: new, fixed, worse, better, score, timings, keys.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from httpsaudit.errors import UsageError
from httpsaudit.rules.engine import RuleReport
from httpsaudit.rules.model import Finding, RuleStatus, Severity

PHASES = ("dns", "tcp", "tls", "ttfb")
PHASE_LABELS = {"dns": "DNS", "tcp": "TCP", "tls": "TLS", "ttfb": "TTFB"}
TICKET_VERSIONS = (("tls12_tickets", "TLSv1.2"), ("tls13_tickets", "TLSv1.3"))
# A report bigger than this is not one of ours (a full report with --debug is ~200 kB).
MAX_REPORT_BYTES = 50 * 1024 * 1024
FAILED = RuleStatus.FAILED.value
_CHECKED = frozenset({RuleStatus.PASSED.value, RuleStatus.NOT_APPLICABLE.value})


class BaselineError(UsageError):
    """A baseline or diff input that is not a usable JSON report; ``str()`` names the file."""


@dataclass(frozen=True, slots=True)
class ReportFinding:
    """One rule's outcome as a report recorded it."""

    rule_id: str
    severity: Severity
    status: str  # a RuleStatus value
    message: str

    @classmethod
    def of(cls, finding: Finding) -> ReportFinding:
        return cls(finding.rule_id, finding.severity, finding.status.value, finding.message)

    @property
    def failed(self) -> bool:
        return self.status == FAILED


@dataclass(frozen=True, slots=True)
class ReportSnapshot:
    """What a comparison needs from one report."""

    label: str  # the file name, or "this scan"
    target: str  # host:port
    started_at: str | None
    score: int | None
    grade: str | None
    findings: Mapping[str, ReportFinding]  # by rule id, every status
    timings_ms: Mapping[str, float | None]  # dns, tcp, tls, ttfb (medians over samples)
    ticket_key_names: Mapping[str, tuple[str, ...] | None]  # TLSv1.2/1.3; None: not measured


class Change(enum.StrEnum):
    """How one rule moved between two reports."""

    NEW = "new"  # fails now, did not fail before
    WORSE = "worse"  # failed before too, at a lower severity
    FIXED = "fixed"  # failed before, checked and passing now
    BETTER = "better"  # fails at a lower severity now
    UNCHANGED = "unchanged"  # fails at the same severity
    NOT_CHECKED = "not_checked"  # failed before, unknown or ignored now: cannot say


@dataclass(frozen=True, slots=True)
class FindingChange:
    """One rule that failed in either report."""

    rule_id: str
    change: Change
    old_severity: Severity | None
    new_severity: Severity | None
    message: str  # the newest message we have


@dataclass(frozen=True, slots=True)
class TicketKeyComparison:
    """One protocol version's ticket key names in both reports."""

    version: str
    old: tuple[str, ...] | None
    new: tuple[str, ...] | None

    @property
    def rotated(self) -> bool | None:
        """False when a key name seen before is still in use; None when either is missing."""
        if not self.old or not self.new:
            return None
        return not set(self.old) & set(self.new)


@dataclass(frozen=True, slots=True)
class Comparison:
    """Everything ``httpsaudit diff`` reports."""

    old: ReportSnapshot
    new: ReportSnapshot
    changes: tuple[FindingChange, ...]
    tickets: tuple[TicketKeyComparison, ...]

    def of(self, change: Change) -> tuple[FindingChange, ...]:
        return tuple(item for item in self.changes if item.change is change)

    @property
    def same_target(self) -> bool:
        return self.old.target == self.new.target


# -- reading reports ------------------------------------------------------------------------


def _read_capped(path: Path, limit_bytes: int) -> bytes:
    """The file's bytes; BaselineError naming the file when unreadable or over ``limit_bytes``."""
    try:
        with path.open("rb") as stream:
            data = stream.read(limit_bytes + 1)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read it: {exc.strerror or exc}") from exc
    if len(data) > limit_bytes:
        raise BaselineError(f"{path}: over {limit_bytes} bytes: not an httpsaudit report")
    return data


def _parse_json(data: bytes, where: str) -> object:
    """JSON or BaselineError naming ``where``; json lets bytes that are not UTF-8 and nesting
    past Python's recursion limit through as other exceptions."""
    try:
        return json.loads(data)
    except RecursionError as exc:
        raise BaselineError(f"{where}: not valid JSON: nested too deeply") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{where}: not JSON ({exc})") from exc


def load_report(path: Path, *, label: str | None = None) -> ReportSnapshot:
    """A JSON report from disk; BaselineError (one line, naming the file) when it is not one.
    ``label`` names it in output (default: the file name)."""
    document = _parse_json(_read_capped(path, MAX_REPORT_BYTES), str(path))
    return snapshot_of_document(document, label=label or path.name, where=str(path))


# A fleet report holds one report per target: allow a few thousand targets.
MAX_FLEET_REPORT_BYTES = 512 * 1024 * 1024


def load_reports(path: Path) -> tuple[ReportSnapshot, ...]:
    """Every target's report in a file: one report, a fleet document (``--format json`` with
    several targets) or JSON Lines (``--format jsonl``)."""
    data = _read_capped(path, MAX_FLEET_REPORT_BYTES)
    try:
        documents: list[object] = [_parse_json(data, str(path))]
    except BaselineError:
        if len(data.splitlines()) < 2:
            raise
        documents = [  # JSON Lines: one report per line
            _parse_json(line, f"{path}:{number}")
            for number, line in enumerate(data.splitlines(), start=1)
            if line.strip()
        ]
    if len(documents) == 1 and isinstance(documents[0], dict):
        fleet = documents[0]
        if fleet.get("kind") == "fleet":
            reports = fleet.get("reports")
            if not isinstance(reports, list):
                raise BaselineError(f"{path}: a fleet report without a reports list")
            documents = reports
    return tuple(
        snapshot_of_document(
            document,
            label=path.name,
            where=str(path) if len(documents) == 1 else f"{path}: report {index + 1}",
        )
        for index, document in enumerate(documents)
    )


def snapshot_of_document(document: object, *, label: str, where: str) -> ReportSnapshot:
    """Read the parts we compare from a parsed JSON report."""
    if not isinstance(document, dict) or "schema_version" not in document:
        raise BaselineError(f"{where}: not an httpsaudit JSON report (no schema_version)")
    raw_findings = document.get("findings")
    if not isinstance(raw_findings, list):
        raise BaselineError(
            f"{where}: the report has no findings list; write it with "
            "'httpsaudit scan --format json' (rules enabled)"
        )
    findings: dict[str, ReportFinding] = {}
    for index, raw in enumerate(raw_findings):
        finding = _finding(raw, f"{where}: findings[{index}]")
        findings[finding.rule_id] = finding
    score = document.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise BaselineError(f"{where}: score: {score!r} is not a number")
    grade = document.get("grade")
    return ReportSnapshot(
        label=label,
        target=_target(document.get("target")),
        started_at=_text(document.get("started_at")),
        score=round(score) if score is not None else None,
        grade=grade if isinstance(grade, str) else None,
        findings=findings,
        timings_ms=_timings(_path(document, "probes", "connection", "result")),
        ticket_key_names=_ticket_keys(_path(document, "probes", "resumption", "result")),
    )


def _finding(raw: object, where: str) -> ReportFinding:
    if not isinstance(raw, dict):
        raise BaselineError(f"{where}: expected an object")
    rule_id = raw.get("rule_id", raw.get("id"))
    if not isinstance(rule_id, str) or not rule_id:
        raise BaselineError(f"{where}: rule_id missing")
    status = raw.get("status")
    if status not in {member.value for member in RuleStatus}:
        raise BaselineError(f"{where} ({rule_id}): status: {status!r} is not a rule status")
    return ReportFinding(
        rule_id=rule_id,
        severity=_severity(raw.get("severity"), f"{where} ({rule_id}): severity"),
        status=str(status),
        message=str(raw.get("message") or raw.get("title") or ""),
    )


def _severity(value: object, where: str) -> Severity:
    """A severity written as its label (``"high"``) or its number (3)."""
    if isinstance(value, str) and value.upper() in Severity.__members__:
        return Severity[value.upper()]
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return Severity(value)
        except ValueError:
            pass
    raise BaselineError(f"{where}: {value!r} is not a severity")


def _path(document: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(document, dict):
            return None
        document = document.get(key)
    return document


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _target(value: object) -> str:
    host, port = _path(value, "host"), _path(value, "port")
    if isinstance(host, str) and isinstance(port, int):
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return "?"


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _timings(connection: object) -> dict[str, float | None]:
    """Median phase times over the samples; the single sample's when there are no stats."""
    timings: dict[str, float | None] = dict.fromkeys(PHASES)
    stats = _path(connection, "stats")
    if isinstance(stats, list):
        for entry in stats:
            phase = _path(entry, "phase")
            if isinstance(phase, str) and phase in timings:
                timings[phase] = _number(_path(entry, "median_ms"))
    samples = _path(connection, "samples")
    if isinstance(samples, list) and samples:
        for phase in PHASES:
            if timings[phase] is None:
                timings[phase] = _number(_path(samples[0], f"{phase}_ms"))
    return timings


def _ticket_keys(resumption: object) -> dict[str, tuple[str, ...] | None]:
    keys: dict[str, tuple[str, ...] | None] = {}
    for field_name, version in TICKET_VERSIONS:
        names = _path(resumption, field_name, "key_names")
        keys[version] = (
            tuple(str(name) for name in names) if isinstance(names, list) and names else None
        )
    return keys


# -- comparing ------------------------------------------------------------------------------


def compare(old: ReportSnapshot, new: ReportSnapshot) -> Comparison:
    """Every rule that failed in either report, and how it moved; ticket keys per version."""
    changes: list[FindingChange] = []
    for rule_id in [*new.findings, *(key for key in old.findings if key not in new.findings)]:
        change = _change(old.findings.get(rule_id), new.findings.get(rule_id))
        if change is not None:
            changes.append(change)
    tickets = tuple(
        TicketKeyComparison(
            version, old.ticket_key_names.get(version), new.ticket_key_names.get(version)
        )
        for _field, version in TICKET_VERSIONS
    )
    return Comparison(old, new, tuple(changes), tickets)


def _change(old: ReportFinding | None, new: ReportFinding | None) -> FindingChange | None:
    was_failed = old is not None and old.failed
    if new is not None and new.failed:
        if old is None or not was_failed:
            return FindingChange(new.rule_id, Change.NEW, None, new.severity, new.message)
        if new.severity > old.severity:
            kind = Change.WORSE
        elif new.severity < old.severity:
            kind = Change.BETTER
        else:
            kind = Change.UNCHANGED
        return FindingChange(new.rule_id, kind, old.severity, new.severity, new.message)
    if old is None or not was_failed:
        return None
    fixed = new is not None and new.status in _CHECKED
    kind = Change.FIXED if fixed else Change.NOT_CHECKED
    return FindingChange(old.rule_id, kind, old.severity, None, old.message)


def regressions(baseline: ReportSnapshot, current: Sequence[Finding]) -> tuple[Finding, ...]:
    """The current failed findings that are new or worse than in the baseline: the only ones a
    gate with ``--baseline`` counts."""
    counted: list[Finding] = []
    for finding in current:
        if finding.status is not RuleStatus.FAILED:
            continue
        change = _change(baseline.findings.get(finding.rule_id), ReportFinding.of(finding))
        if change is not None and change.change in (Change.NEW, Change.WORSE):
            counted.append(finding)
    return tuple(counted)


def snapshot_of_rules(
    report: RuleReport, *, label: str, target: str, started_at: str | None
) -> ReportSnapshot:
    """The current scan's findings as a snapshot (timings and keys left out)."""
    return ReportSnapshot(
        label=label,
        target=target,
        started_at=started_at,
        score=report.score,
        grade=report.grade,
        findings={finding.rule_id: ReportFinding.of(finding) for finding in report.findings},
        timings_ms=dict.fromkeys(PHASES),
        ticket_key_names={},
    )


# -- rendering ------------------------------------------------------------------------------


def _severity_move(change: FindingChange) -> str:
    old = change.old_severity.label if change.old_severity is not None else None
    new = change.new_severity.label if change.new_severity is not None else None
    if old and new and old != new:
        return f"{old} -> {new}"
    return new or old or ""


def _ms(value: float | None) -> str:
    """Milliseconds with the precision their size deserves (loopback times are sub-ms)."""
    if value is None:
        return "-"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def _delta(old: float | None, new: float | None) -> str:
    if old is None or new is None:
        return "-"
    change = new - old
    return f"{change:+.2f}" if abs(change) < 10 else f"{change:+.1f}"


def render_text(comparison: Comparison) -> str:
    """The comparison for people: what changed first, then score, timings and ticket keys."""
    old, new = comparison.old, comparison.new
    lines = [
        f"{old.label} ({old.started_at or 'time unknown'}) -> "
        f"{new.label} ({new.started_at or 'time unknown'})",
        f"target: {new.target}"
        if comparison.same_target
        else f"targets differ: {old.target} -> {new.target}",
        "",
    ]
    if old.score is not None and new.score is not None:
        lines.append(
            f"score: {old.score} ({old.grade}) -> {new.score} ({new.grade})  "
            f"{new.score - old.score:+d}"
        )
    lines.append("findings:")
    shown = [
        change
        for change in comparison.changes
        if change.change not in (Change.UNCHANGED, Change.NOT_CHECKED)
    ]
    order = (Change.NEW, Change.WORSE, Change.FIXED, Change.BETTER)
    for kind in order:
        for change in comparison.of(kind):
            lines.append(
                f"  {kind.value:<7} {change.rule_id:<9} {_severity_move(change):<16} "
                f"{change.message}".rstrip()
            )
    if not shown:
        lines.append("  no change")
    unchanged = comparison.of(Change.UNCHANGED)
    if unchanged:
        ids = ", ".join(change.rule_id for change in unchanged)
        lines.append(f"  still failing: {ids}")
    not_checked = comparison.of(Change.NOT_CHECKED)
    if not_checked:
        ids = ", ".join(change.rule_id for change in not_checked)
        lines.append(f"  failed before, not checked now: {ids}")
    lines += ["", f"timings (ms):  {'old':>8}  {'new':>8}  {'change':>8}"]
    for phase in PHASES:
        before, after = old.timings_ms.get(phase), new.timings_ms.get(phase)
        lines.append(
            f"  {PHASE_LABELS[phase]:<12}{_ms(before):>8}  {_ms(after):>8}  "
            f"{_delta(before, after):>8}".rstrip()
        )
    lines += ["", "session ticket keys:"]
    for tickets in comparison.tickets:
        lines.append(f"  {tickets.version}: {_ticket_text(tickets, old, new)}")
    return "\n".join(lines) + "\n"


def _ticket_text(tickets: TicketKeyComparison, old: ReportSnapshot, new: ReportSnapshot) -> str:
    if not tickets.old and not tickets.new:
        return "no ticket key names in either report"
    if not tickets.old or not tickets.new:
        missing = old.label if not tickets.old else new.label
        return f"no ticket key name in {missing}; cannot compare"
    if tickets.rotated is False:
        shared = ", ".join(sorted(set(tickets.old) & set(tickets.new)))
        return (
            f"{shared}: ticket key not rotated between these reports "
            f"({old.started_at or '?'} and {new.started_at or '?'})"
        )
    return f"rotated: {', '.join(tickets.old)} -> {', '.join(tickets.new)}"


JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def to_json(comparison: Comparison) -> dict[str, JsonValue]:
    """The comparison as a JSON document (keys stable, units in the names)."""
    old, new = comparison.old, comparison.new

    def side(snapshot: ReportSnapshot) -> dict[str, JsonValue]:
        return {
            "report": snapshot.label,
            "target": snapshot.target,
            "started_at": snapshot.started_at,
            "score": snapshot.score,
            "grade": snapshot.grade,
        }

    def change(item: FindingChange) -> dict[str, JsonValue]:
        return {
            "rule_id": item.rule_id,
            "old_severity": item.old_severity.label if item.old_severity is not None else None,
            "new_severity": item.new_severity.label if item.new_severity is not None else None,
            "message": item.message,
        }

    timings: dict[str, JsonValue] = {}
    for phase in PHASES:
        before, after = old.timings_ms.get(phase), new.timings_ms.get(phase)
        timings[f"{phase}_ms"] = {
            "old": before,
            "new": after,
            "change": None if before is None or after is None else round(after - before, 3),
        }
    return {
        "old": side(old),
        "new": side(new),
        "same_target": comparison.same_target,
        "score_change": None if old.score is None or new.score is None else new.score - old.score,
        "findings": {kind.value: [change(item) for item in comparison.of(kind)] for kind in Change},
        "timings": timings,
        "ticket_keys": {
            tickets.version: {
                "old": list(tickets.old) if tickets.old is not None else None,
                "new": list(tickets.new) if tickets.new is not None else None,
                "rotated": tickets.rotated,
            }
            for tickets in comparison.tickets
        },
    }
