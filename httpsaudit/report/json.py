"""The JSON report: a stable, versioned document that validates against ``schema.json``.

Keys are the dataclass field names (units in the names), in declaration order, so two reports
diff cleanly. Fields marked internal (raw DER, tracebacks) stay out unless ``debug``. When the
rules were evaluated, the score, grade and every finding (all statuses) follow the probes.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from importlib import resources
from typing import cast

from httpsaudit.results import ScanResult
from httpsaudit.rules.engine import DetectedServer, RuleReport
from httpsaudit.rules.model import Category, Finding, Saving

# 1.2 added "interrupted" (the scan was stopped by Ctrl-C; unfinished probes are skipped).
# 1.1 added the rules keys (score, grade, category_scores, server, lang, findings): optional
# and additive, so a minor bump; a 1.0 consumer with a closed schema must see the change.
SCHEMA_VERSION = "1.2"
JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def _convert(value: object, *, debug: bool) -> JsonValue:
    if isinstance(value, enum.Enum):  # before str/int: StrEnum and IntEnum are both
        return cast(JsonValue, value.value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        converted: dict[str, JsonValue] = {}
        for field in dataclasses.fields(value):
            if not debug and field.metadata.get("json", True) is False:
                continue
            converted[field.name] = _convert(getattr(value, field.name), debug=debug)
        return converted
    if isinstance(value, tuple | list):
        return [_convert(item, debug=debug) for item in value]
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot put {type(value).__name__} in a JSON report")


def _evidence(evidence: Mapping[str, object]) -> dict[str, JsonValue]:
    """Measured values as they are; tuples become arrays."""
    return {key: _convert(value, debug=False) for key, value in evidence.items()}


def _saving(saving: Saving | None) -> JsonValue:
    if saving is None:
        return None
    return {"round_trips": saving.round_trips, "ms": saving.ms, "bytes": saving.bytes}


def _server(server: DetectedServer | None) -> JsonValue:
    if server is None:
        return None
    version = ".".join(str(part) for part in server.version) if server.version else None
    return {"kind": server.kind.value, "version": version}


def finding_dict(finding: Finding) -> dict[str, JsonValue]:
    """One finding with stable keys in ``Finding`` declaration order; severity as its label."""
    return {
        "rule_id": finding.rule_id,
        "name": finding.name,
        "severity": finding.severity.label,
        "category": finding.category.value,
        "status": finding.status.value,
        "title": finding.title,
        "message": finding.message,
        "evidence": _evidence(finding.evidence),
        "saving": _saving(finding.saving),
        "advice": finding.advice,
        "snippet": finding.snippet,
        "server": finding.server,
        "references": list(finding.references),
        "reason": finding.reason,
        "why": finding.why,
        "internal_error": finding.internal_error,
    }


def rules_dict(rules: RuleReport) -> dict[str, JsonValue]:
    """The rules keys of the report: present together, or not at all."""
    return {
        "score": rules.score,
        "grade": rules.grade,
        "category_scores": (
            {
                category.value: rules.category_scores[category]
                for category in Category
                if category in rules.category_scores
            }
            if rules.score is not None
            else None
        ),
        "server": _server(rules.server),
        "lang": rules.lang,
        "findings": [finding_dict(finding) for finding in rules.findings],
    }


def report_dict(
    scan: ScanResult,
    *,
    rules: RuleReport | None = None,
    exit_code: int | None = None,
    debug: bool = False,
) -> dict[str, JsonValue]:
    """The whole report as plain JSON types; the rules keys only when ``rules`` is given."""
    document: dict[str, JsonValue] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "httpsaudit", "version": scan.tool_version},
        "target": _convert(scan.target, debug=debug),
        "started_at": scan.started_at,
        "duration_ms": scan.duration_ms,
        "reachable": scan.reachable,
        "connections": scan.connections,
        "interrupted": scan.interrupted,
        "probes": {
            outcome.probe.value: _convert(outcome, debug=debug) for outcome in scan.outcomes()
        },
    }
    if rules is not None:
        document.update(rules_dict(rules))
    if exit_code is not None:
        document["exit_code"] = exit_code
    return document


def render(
    scan: ScanResult,
    *,
    rules: RuleReport | None = None,
    exit_code: int | None = None,
    debug: bool = False,
) -> str:
    """Pretty-printed JSON text ending in a newline."""
    document = report_dict(scan, rules=rules, exit_code=exit_code, debug=debug)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load_schema() -> dict[str, JsonValue]:
    """The published JSON Schema shipped inside the package."""
    text = resources.files("httpsaudit.report").joinpath("schema.json").read_text("utf-8")
    return cast(dict[str, JsonValue], json.loads(text))


def load_fleet_schema() -> dict[str, JsonValue]:
    """The fleet document's schema; its reports refer to ``load_schema()`` by ``$id``."""
    text = resources.files("httpsaudit.report").joinpath("fleet-schema.json").read_text("utf-8")
    return cast(dict[str, JsonValue], json.loads(text))
