"""Reports for a scan of many targets: one row per target, and writers that stream.

JSON Lines and JSON write each target's report the moment it is done and keep only its summary
row, so memory stays flat however long the target list is. SARIF, JUnit and Markdown are one
document whose header needs every target; their writers keep the (result, findings) pairs until
the end.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Protocol

from httpsaudit.report import json as json_report
from httpsaudit.report.findings import connection_error_text, plain_title
from httpsaudit.results import ScanResult
from httpsaudit.rules.engine import RuleReport
from httpsaudit.rules.model import Finding

# Rows of a fleet report, and the states a target can end in.
SCANNED = "scanned"
NOT_SCANNED = "not_scanned"  # Ctrl-C came before it started
FAILED = "failed"  # the scan itself broke (a bug): exit 5, no report


@dataclass(frozen=True, slots=True)
class WorstFinding:
    """The one finding a summary row names: what to fix first on that target."""

    rule_id: str
    severity: str
    title: str


@dataclass(frozen=True, slots=True)
class TargetRow:
    """What the summary table and the fleet JSON say about one target."""

    index: int  # position in the user's list
    input: str
    status: str
    exit_code: int | None
    reachable: bool | None = None
    interrupted: bool = False
    grade: str | None = None
    score: int | None = None
    handshake_ms: float | None = None
    connections: int | None = None
    failed_findings: int | None = None
    worst: WorstFinding | None = None
    error: str | None = None


def worst_finding(rules: RuleReport | None) -> WorstFinding | None:
    """The most severe failed finding; the first in rule order breaks ties."""
    failed: list[Finding] = list(rules.failed()) if rules is not None else []
    if not failed:
        return None
    top = max(failed, key=lambda finding: finding.severity)  # max keeps the first of equals
    return WorstFinding(
        rule_id=top.rule_id, severity=top.severity.label, title=plain_title(top.title)
    )


def row_for(
    index: int, text: str, result: ScanResult, rules: RuleReport | None, exit_code: int
) -> TargetRow:
    """The summary row of a scanned target; the report itself is written and dropped."""
    connection = result.connection.result
    tls = connection.tls if connection is not None else None
    return TargetRow(
        index=index,
        input=text,
        status=SCANNED,
        exit_code=exit_code,
        reachable=result.reachable,
        interrupted=result.interrupted,
        grade=rules.grade if rules is not None else None,
        score=rules.score if rules is not None else None,
        handshake_ms=tls.handshake_ms if tls is not None else None,
        connections=result.connections,
        failed_findings=len(rules.failed()) if rules is not None else None,
        worst=worst_finding(rules),
        error=connection_error_text(result) if result.connection.error is not None else None,
    )


@dataclass(frozen=True, slots=True)
class FleetSummary:
    """The end of a fleet run, written after the last report."""

    rows: tuple[TargetRow, ...]  # in the user's order
    started_at: str
    duration_ms: float
    interrupted: bool
    exit_code: int

    def counts(self) -> dict[str, int]:
        scanned = [row for row in self.rows if row.status == SCANNED]
        return {
            "targets": len(self.rows),
            "scanned": len(scanned),
            "unreachable": sum(1 for row in scanned if row.reachable is False),
            "with_findings": sum(1 for row in scanned if row.failed_findings),
            "not_scanned": sum(1 for row in self.rows if row.status == NOT_SCANNED),
            "failed": sum(1 for row in self.rows if row.status == FAILED),
        }


def row_dict(row: TargetRow) -> dict[str, json_report.JsonValue]:
    """A summary row as JSON (keys documented in fleet-schema.json)."""
    worst: json_report.JsonValue = None
    if row.worst is not None:
        worst = {
            "rule_id": row.worst.rule_id,
            "severity": row.worst.severity,
            "title": row.worst.title,
        }
    return {
        "input": row.input,
        "status": row.status,
        "exit_code": row.exit_code,
        "reachable": row.reachable,
        "interrupted": row.interrupted,
        "grade": row.grade,
        "score": row.score,
        "handshake_ms": row.handshake_ms,
        "connections": row.connections,
        "failed_findings": row.failed_findings,
        "worst_finding": worst,
        "error": row.error,
    }


def summary_dict(summary: FleetSummary) -> dict[str, json_report.JsonValue]:
    """The fleet document's closing "summary" object."""
    counts: dict[str, json_report.JsonValue] = dict(summary.counts())
    return {
        "duration_ms": summary.duration_ms,
        "interrupted": summary.interrupted,
        "exit_code": summary.exit_code,
        "counts": counts,
        "targets": [row_dict(row) for row in summary.rows],
    }


class FleetWriter(Protocol):
    """Receives each target's report as it finishes, then the summary once."""

    def add(
        self, index: int, result: ScanResult, rules: RuleReport | None, exit_code: int
    ) -> None: ...

    def finish(self, summary: FleetSummary) -> None: ...


@dataclass
class JsonLinesWriter:
    """One single-target report per line (the schema of ``--format json`` for one target),
    flushed as each target finishes so a pipe consumer sees it at once."""

    stream: IO[str]
    debug: bool = False

    def add(self, index: int, result: ScanResult, rules: RuleReport | None, exit_code: int) -> None:
        document = json_report.report_dict(
            result, rules=rules, exit_code=exit_code, debug=self.debug
        )
        self.stream.write(json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.stream.flush()

    def finish(self, summary: FleetSummary) -> None:
        self.stream.flush()


@dataclass
class JsonDocumentWriter:
    """One JSON document for the whole run, written incrementally: the header, each report as
    it finishes, then the summary. Valid JSON only once ``finish`` ran."""

    stream: IO[str]
    started_at: str
    tool_version: str
    debug: bool = False
    _count: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        header = {
            "schema_version": json_report.SCHEMA_VERSION,
            "kind": "fleet",
            "tool": {"name": "httpsaudit", "version": self.tool_version},
            "started_at": self.started_at,
        }
        opening = json.dumps(header, indent=2, ensure_ascii=False)
        self.stream.write(opening[: opening.rindex("}")].rstrip() + ',\n  "reports": [')

    def add(self, index: int, result: ScanResult, rules: RuleReport | None, exit_code: int) -> None:
        document = json_report.report_dict(
            result, rules=rules, exit_code=exit_code, debug=self.debug
        )
        text = textwrap.indent(json.dumps(document, indent=2, ensure_ascii=False), "    ")
        self.stream.write(("," if self._count else "") + "\n" + text)
        self._count += 1
        self.stream.flush()

    def finish(self, summary: FleetSummary) -> None:
        closing = "\n  ]" if self._count else "]"
        body = json.dumps(summary_dict(summary), indent=2, ensure_ascii=False)
        self.stream.write(closing + ',\n  "summary": ' + textwrap.indent(body, "  ").lstrip())
        self.stream.write("\n}\n")
        self.stream.flush()


@dataclass
class TextWriter:
    """Each target's terminal report as it finishes, then the summary table."""

    stream: IO[str]
    render_one: Callable[[ScanResult, RuleReport | None, int], str]
    render_summary: Callable[[FleetSummary], str]

    def add(self, index: int, result: ScanResult, rules: RuleReport | None, exit_code: int) -> None:
        self.stream.write(self.render_one(result, rules, exit_code))
        self.stream.flush()

    def finish(self, summary: FleetSummary) -> None:
        self.stream.write(self.render_summary(summary))
        self.stream.flush()


@dataclass
class WholeDocumentWriter:
    """Formats that need every target before the first byte (SARIF, JUnit, Markdown)."""

    stream: IO[str]
    render_all: Callable[[Sequence[tuple[ScanResult, RuleReport]]], str]
    _entries: dict[int, tuple[ScanResult, RuleReport]] = field(default_factory=dict, init=False)

    def add(self, index: int, result: ScanResult, rules: RuleReport | None, exit_code: int) -> None:
        if rules is not None:
            self._entries[index] = (result, rules)

    def finish(self, summary: FleetSummary) -> None:
        # In the order the user listed the targets, whatever order they finished in.
        ordered = [self._entries[index] for index in sorted(self._entries)]
        self.stream.write(self.render_all(ordered))
        self.stream.flush()
