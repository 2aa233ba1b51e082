"""The JSON report: a stable, versioned document that validates against ``schema.json``.

Keys are the dataclass field names (units in the names), in declaration order, so two reports
diff cleanly. Fields marked internal (raw DER, tracebacks) stay out unless ``debug``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from importlib import resources
from typing import cast

from httpsaudit.results import ScanResult

SCHEMA_VERSION = "1.0"
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


def report_dict(
    scan: ScanResult, *, exit_code: int | None = None, debug: bool = False
) -> dict[str, JsonValue]:
    """The whole report as plain JSON types."""
    document: dict[str, JsonValue] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "httpsaudit", "version": scan.tool_version},
        "target": _convert(scan.target, debug=debug),
        "started_at": scan.started_at,
        "duration_ms": scan.duration_ms,
        "reachable": scan.reachable,
        "connections": scan.connections,
        "probes": {
            outcome.probe.value: _convert(outcome, debug=debug) for outcome in scan.outcomes()
        },
    }
    if exit_code is not None:
        document["exit_code"] = exit_code
    return document


def render(scan: ScanResult, *, exit_code: int | None = None, debug: bool = False) -> str:
    """Pretty-printed JSON text ending in a newline."""
    document = report_dict(scan, exit_code=exit_code, debug=debug)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def load_schema() -> dict[str, JsonValue]:
    """The published JSON Schema shipped inside the package."""
    text = resources.files("httpsaudit.report").joinpath("schema.json").read_text("utf-8")
    return cast(dict[str, JsonValue], json.loads(text))
