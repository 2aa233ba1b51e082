"""The rules keys of the JSON report: score, grade, server and every finding, schema-validated.

They are present together when the rules were evaluated and absent otherwise; a finding's keys
are ``Finding``'s fields in declaration order, with the severity as its label.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Callable

import jsonschema
import pytest

from httpsaudit.report.json import (
    SCHEMA_VERSION,
    finding_dict,
    load_schema,
    render,
    report_dict,
    rules_dict,
)
from httpsaudit.rules.model import Category, Finding, RuleStatus, ServerKind, Severity
from tests.report.conftest import Audit
from tests.report.findings_cases import (
    FINDINGS,
    assert_golden,
    constructed_scan,
    hand_built_report,
)

Document = dict[str, typing.Any]
RULES_KEYS = ["score", "grade", "category_scores", "server", "lang", "findings"]
BASE_KEYS = [
    "schema_version",
    "tool",
    "target",
    "started_at",
    "duration_ms",
    "reachable",
    "connections",
    "interrupted",
    "probes",
]


@pytest.fixture(scope="module")
def schema() -> Document:
    return typing.cast(Document, load_schema())


@pytest.fixture(scope="module")
def validator(schema: Document) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def assert_valid(validator: jsonschema.Draft202012Validator, document: Document) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors
    )


def hand_built_document() -> Document:
    return typing.cast(Document, report_dict(constructed_scan(), rules=hand_built_report()))


# -- the schema ---------------------------------------------------------------------------


def test_schema_version_is_1_2(schema: Document) -> None:
    # 1.1 added the rules keys, 1.2 "interrupted": additive, so minor versions.
    assert SCHEMA_VERSION == "1.2"
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert schema["$id"].endswith("report-1.2.json")


def test_schema_finding_def_matches_the_dataclass(schema: Document) -> None:
    definition = schema["$defs"]["Finding"]
    fields = [field.name for field in dataclasses.fields(Finding)]
    assert list(definition["properties"]) == fields
    assert definition["required"] == fields
    assert definition["additionalProperties"] is False
    properties = definition["properties"]
    assert properties["severity"]["enum"] == [severity.label for severity in Severity]
    assert properties["category"]["enum"] == [category.value for category in Category]
    assert properties["status"]["enum"] == [status.value for status in RuleStatus]
    assert properties["server"]["enum"] == [*(kind.value for kind in ServerKind), None]
    assert schema["$defs"]["DetectedServer"]["properties"]["kind"]["enum"] == [
        kind.value for kind in ServerKind
    ]
    assert schema["$defs"]["CategoryScores"]["required"] == [c.value for c in Category]


def test_rules_keys_are_optional_only_as_a_group(schema: Document) -> None:
    assert not set(RULES_KEYS) & set(schema["required"])
    assert list(schema["properties"])[len(BASE_KEYS) :] == [*RULES_KEYS, "exit_code"]
    assert schema["dependentRequired"] == {
        key: [other for other in RULES_KEYS if other != key] for key in RULES_KEYS
    }


# -- real audits --------------------------------------------------------------------------


def test_real_audit_validates_with_exact_values(
    tls12_audit: Audit, validator: jsonschema.Draft202012Validator
) -> None:
    # Given a TLS 1.2-only server audited with every registered rule
    audit = tls12_audit
    # When the report is built as the CLI would with the rules
    report = typing.cast(Document, report_dict(audit.scan, rules=audit.rules, exit_code=1))
    # Then it validates, and the rules keys sit between the probes and the exit code
    assert_valid(validator, report)
    assert list(report) == [*BASE_KEYS, *RULES_KEYS, "exit_code"]
    assert report["score"] == audit.rules.score
    assert report["grade"] == audit.rules.grade
    assert list(report["category_scores"]) == ["latency", "security", "reliability"]
    assert report["server"] is None  # s_server sends no Server header
    assert report["lang"] == "en"
    # And every rule has a finding, in registry order, whatever the registry holds
    assert [f["rule_id"] for f in report["findings"]] == [f.rule_id for f in audit.rules.findings]
    tls001 = next(f for f in report["findings"] if f["rule_id"] == "TLS001")
    saving = tls001.pop("saving")
    snippet = tls001.pop("snippet")
    advice = tls001.pop("advice")
    why = tls001.pop("why")
    assert tls001 == {
        "rule_id": "TLS001",
        "name": "tls13-disabled",
        "severity": "high",
        "category": "latency",
        "status": "failed",
        "title": "TLS 1.3 is not offered (offered: {offered_versions})",
        "message": "TLS 1.3 is not offered (offered: TLSv1.2)",
        "evidence": {"offered_versions": ["TLSv1.2"]},
        "server": None,
        "references": ["RFC 8446 §2", "https://wiki.mozilla.org/Security/Server_Side_TLS"],
        "reason": None,
        "internal_error": False,
    }
    assert saving["round_trips"] == 1
    assert saving["bytes"] is None
    assert isinstance(saving["ms"], float)
    assert advice.startswith("Enable TLS 1.3 next to TLS 1.2: it saves 1 round trip, about ")
    assert snippet.startswith("# nginx\nssl_protocols TLSv1.2 TLSv1.3;\n\n# apache\n")
    assert why.startswith("A full TLS 1.3 handshake takes 1 round trip")


def test_real_nginx_audit_names_the_server(
    nginx_audit: Audit, validator: jsonschema.Draft202012Validator
) -> None:
    report = typing.cast(Document, report_dict(nginx_audit.scan, rules=nginx_audit.rules))
    assert_valid(validator, report)
    assert report["server"]["kind"] == "nginx"
    version = report["server"]["version"]
    assert version is None or version.split(".")[0].isdigit()
    tls001 = next(f for f in report["findings"] if f["rule_id"] == "TLS001")
    assert (tls001["server"], tls001["snippet"]) == ("nginx", "ssl_protocols TLSv1.2 TLSv1.3;")


def test_without_rules_there_are_no_rules_keys(tls12_audit: Audit) -> None:
    report = report_dict(tls12_audit.scan, exit_code=0)
    assert list(report) == [*BASE_KEYS, "exit_code"]


def test_render_with_rules_parses_back(tls12_audit: Audit) -> None:
    text = render(tls12_audit.scan, rules=tls12_audit.rules, exit_code=1)
    assert text == render(tls12_audit.scan, rules=tls12_audit.rules, exit_code=1)
    assert json.loads(text) == report_dict(tls12_audit.scan, rules=tls12_audit.rules, exit_code=1)


# -- findings built by hand ---------------------------------------------------------------


def test_hand_built_golden(validator: jsonschema.Draft202012Validator) -> None:
    # Every severity and status, non-ASCII and hostile server text
    assert_valid(validator, hand_built_document())
    text = json.dumps(rules_dict(hand_built_report()), indent=2, ensure_ascii=False) + "\n"
    assert_golden("hand_built_rules.json", text)


def test_finding_keys_follow_declaration_order() -> None:
    for finding in FINDINGS:
        assert list(finding_dict(finding)) == [field.name for field in dataclasses.fields(Finding)]


def _finding(report: Document, rule_id: str) -> Document:
    return typing.cast(Document, next(f for f in report["findings"] if f["rule_id"] == rule_id))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda r: r.pop("grade"), id="rules-key-missing-from-the-group"),
        pytest.param(lambda r: r.pop("findings"), id="findings-missing"),
        pytest.param(lambda r: r.update(grade="E"), id="unknown-grade"),
        pytest.param(lambda r: r.update(score=101), id="score-over-100"),
        pytest.param(lambda r: r.update(lang="fr"), id="unknown-language"),
        pytest.param(lambda r: r["category_scores"].pop("security"), id="category-missing"),
        pytest.param(lambda r: r["category_scores"].update(speed=90), id="unknown-category"),
        pytest.param(lambda r: r["server"].update(kind="iis"), id="unknown-server-kind"),
        pytest.param(lambda r: r["server"].update(version="v1.24"), id="server-version-not-dotted"),
        pytest.param(lambda r: _finding(r, "TLS001").update(severity=3), id="severity-as-number"),
        pytest.param(lambda r: _finding(r, "TLS001").update(status="fail"), id="unknown-status"),
        pytest.param(lambda r: _finding(r, "TLS001").update(extra=1), id="extra-key"),
        pytest.param(lambda r: _finding(r, "TLS001").pop("why"), id="missing-key"),
        pytest.param(
            lambda r: _finding(r, "TLS001").update(advice=None), id="failed-without-advice"
        ),
        pytest.param(lambda r: _finding(r, "TLS001").update(reason="x"), id="failed-with-a-reason"),
        pytest.param(
            lambda r: _finding(r, "TLS002").update(snippet="x"), id="passed-with-a-snippet"
        ),
        pytest.param(
            lambda r: _finding(r, "KEX902").update(reason=None), id="unknown-without-reason"
        ),
        pytest.param(
            lambda r: _finding(r, "RES901").update(reason=None), id="ignored-without-reason"
        ),
        pytest.param(
            lambda r: _finding(r, "TLS001")["saving"].update(round_trips=-1),
            id="negative-round-trips",
        ),
        pytest.param(
            lambda r: _finding(r, "TLS001")["evidence"].update(nested={"a": 1}),
            id="evidence-object",
        ),
        pytest.param(lambda r: _finding(r, "TLS001").update(rule_id="tls001"), id="rule-id-case"),
        pytest.param(lambda r: _finding(r, "TLS001").update(name="TLS 13"), id="name-not-kebab"),
    ],
)
def test_schema_rejects_drift_in_the_rules_keys(
    change: Callable[[Document], object], validator: jsonschema.Draft202012Validator
) -> None:
    # Given a valid report with findings
    report = hand_built_document()
    assert validator.is_valid(report)
    # When one value is changed to something the code never emits
    change(report)
    # Then the schema rejects it
    assert not validator.is_valid(report)
