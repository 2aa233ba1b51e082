"""SARIF 2.1.0 for GitHub code scanning, validated against the OASIS schema committed beside it.

The schema is ``tests/report/schemas/sarif-schema-2.1.0.json`` (provenance in that folder's
README); it is never fetched at test time. On top of the schema, GitHub's own constraints for a
finding without a source file are checked: a non-empty, scheme-less artifact URI without a colon
in its first segment, ``region.startLine``, and rule texts GitHub shows on the alert.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

from httpsaudit.report.sarif import (
    FINGERPRINT_KEY,
    INFORMATION_URI,
    LEVELS,
    SARIF_SCHEMA_URI,
    render,
    sarif_dict,
)
from httpsaudit.rules.model import Category, RuleStatus, Severity
from tests.report.conftest import Audit
from tests.report.findings_cases import (
    FINDINGS,
    TARGET,
    assert_golden,
    constructed_scan,
    finding,
    hand_built_report,
)

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "sarif-schema-2.1.0.json"
Document = dict[str, typing.Any]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


def assert_valid(validator: jsonschema.Draft4Validator, document: Document) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors
    )


def assert_github_accepts(document: Document) -> None:
    """What code scanning needs beyond the schema to show an alert for a non-file finding."""
    (run,) = document["runs"]
    rules = run["tool"]["driver"]["rules"]
    for rule in rules:
        assert rule["shortDescription"]["text"]
        assert rule["fullDescription"]["text"]
        assert rule["help"]["text"]
        properties = rule["properties"]
        if "security-severity" in properties:
            assert "security" in properties["tags"]
            assert 0.0 < float(properties["security-severity"]) <= 10.0
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
        assert len(result["locations"]) == 1
        physical = result["locations"][0]["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert uri
        assert urlsplit(uri).scheme == ""  # "SARIF URI scheme did not match ... file"
        assert ":" not in uri.split("/")[0]  # "first path segment cannot contain colon"
        assert physical["region"]["startLine"] >= 1
        assert result["partialFingerprints"][FINGERPRINT_KEY]


# -- a real audit -------------------------------------------------------------------------


def test_real_scan_validates_and_reports_the_failed_rule(
    tls12_audit: Audit, validator: jsonschema.Draft4Validator
) -> None:
    # Given a TLS 1.2-only server audited with every registered rule
    audit = tls12_audit
    # When the SARIF log is rendered
    document = json.loads(render(audit.scan, audit.rules))
    # Then it validates, satisfies GitHub, and has one run by httpsaudit
    assert_valid(validator, document)
    assert_github_accepts(document)
    assert document["$schema"] == SARIF_SCHEMA_URI
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("httpsaudit", audit.scan.tool_version)
    assert driver["informationUri"] == INFORMATION_URI
    # And every evaluated rule is described, in registry order, but only failures are results
    assert [rule["id"] for rule in driver["rules"]] == [f.rule_id for f in audit.rules.findings]
    assert [result["ruleId"] for result in run["results"]] == [
        f.rule_id for f in audit.rules.failed()
    ]
    # And TLS001 is an error located at the target
    result = next(result for result in run["results"] if result["ruleId"] == "TLS001")
    assert result["level"] == "error"
    assert result["kind"] == "fail"
    assert result["message"]["text"].startswith(
        "TLS 1.3 is not offered (offered: TLSv1.2). Saves 1 round trip"
    )
    location = result["locations"][0]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": f"localhost_{audit.port}"},
        "region": {"startLine": 1},
    }
    assert location["logicalLocations"] == [
        {
            "name": f"localhost:{audit.port}",
            "fullyQualifiedName": f"https://localhost:{audit.port}/",
            "kind": "resource",
        }
    ]
    assert result["properties"]["evidence"] == {"offered_versions": ["TLSv1.2"]}
    assert result["properties"]["saving"]["round_trips"] == 1
    rule = driver["rules"][result["ruleIndex"]]
    assert rule["shortDescription"] == {"text": "TLS 1.3 is not offered"}
    assert rule["fullDescription"]["text"].startswith("A full TLS 1.3 handshake takes 1 round trip")
    assert rule["properties"]["severity"] == "high"
    assert rule["properties"]["tags"] == ["https", "tls", "latency"]
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in rule["help"]["text"]
    assert run["properties"]["score"] == audit.rules.score
    assert run["properties"]["grade"] == audit.rules.grade


def test_real_scan_fingerprints_are_stable_across_renders(tls12_audit: Audit) -> None:
    # The message carries measured milliseconds; the fingerprint must not.
    first = sarif_dict(tls12_audit.scan, tls12_audit.rules)
    slower = dataclasses.replace(
        tls12_audit.rules,
        findings=tuple(
            dataclasses.replace(f, message=f"{f.message} (slower)")
            for f in tls12_audit.rules.findings
        ),
    )
    second = sarif_dict(tls12_audit.scan, slower)
    assert [r["partialFingerprints"] for r in first["runs"][0]["results"]] == [
        r["partialFingerprints"] for r in second["runs"][0]["results"]
    ]


def test_nginx_help_carries_the_nginx_snippet_only(
    nginx_audit: Audit, validator: jsonschema.Draft4Validator
) -> None:
    document = sarif_dict(nginx_audit.scan, nginx_audit.rules)
    assert_valid(validator, document)
    rule = next(r for r in document["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "TLS001")
    assert "nginx config:\nssl_protocols TLSv1.2 TLSv1.3;" in rule["help"]["text"]
    assert "SSLProtocol" not in rule["help"]["text"]
    assert "```\nssl_protocols TLSv1.2 TLSv1.3;\n```" in rule["help"]["markdown"]


# -- findings built by hand ---------------------------------------------------------------


def test_hand_built_golden(validator: jsonschema.Draft4Validator) -> None:
    # Given findings of every severity and status with hostile and non-ASCII server text
    text = render(constructed_scan(), hand_built_report())
    # Then the log validates, GitHub would take it, and it is byte for byte the golden file
    document = json.loads(text)
    assert_valid(validator, document)
    assert_github_accepts(document)
    assert_golden("hand_built.sarif", text)


def test_levels_follow_severity() -> None:
    assert {severity.label: level for severity, level in LEVELS.items()} == {
        "critical": "error",
        "high": "error",
        "medium": "warning",
        "low": "note",
        "info": "note",
    }
    document = sarif_dict(constructed_scan(), hand_built_report())
    levels = {r["ruleId"]: r["level"] for r in document["runs"][0]["results"]}
    assert levels == {
        "TLS001": "error",
        "CERT901": "error",
        "KEX901": "warning",
        "NET901": "note",
        "ALPN901": "note",
    }


def test_security_severity_only_on_security_rules() -> None:
    document = sarif_dict(constructed_scan(), hand_built_report())
    by_id = {
        rule["id"]: rule["properties"] for rule in document["runs"][0]["tool"]["driver"]["rules"]
    }
    assert by_id["CERT901"]["security-severity"] == "9.5"
    assert by_id["KEX901"]["security-severity"] == "5.5"
    assert "security-severity" not in by_id["TLS001"]  # latency
    assert "security-severity" not in by_id["KEX903"]  # info
    assert by_id["CERT901"]["tags"] == ["https", "tls", "security"]


def test_unknown_rules_become_tool_notifications() -> None:
    document = sarif_dict(constructed_scan(), hand_built_report())
    (invocation,) = document["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    assert invocation["startTimeUtc"] == "2026-01-02T03:04:05Z"
    notifications = invocation["toolExecutionNotifications"]
    assert [n["associatedRule"] for n in notifications] == [
        {"id": "KEX902", "index": 6},
        {"id": "KEX903", "index": 7},
    ]
    assert all(n["level"] == "warning" for n in notifications)
    assert "the groups probe failed" in notifications[0]["message"]["text"]


def test_no_failed_rule_is_a_valid_empty_run(validator: jsonschema.Draft4Validator) -> None:
    passed = tuple(f for f in FINDINGS if f.status is not RuleStatus.FAILED)
    document = sarif_dict(constructed_scan(), hand_built_report(passed, server=None))
    assert_valid(validator, document)
    assert document["runs"][0]["results"] == []


def test_a_config_file_in_the_repository_can_be_the_location(
    validator: jsonschema.Draft4Validator,
) -> None:
    document = sarif_dict(constructed_scan(), hand_built_report(), artifact_uri="deploy/nginx.conf")
    assert_valid(validator, document)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in document["runs"][0]["results"]
    }
    assert uris == {"deploy/nginx.conf"}


def test_ipv6_target_location(validator: jsonschema.Draft4Validator) -> None:
    scan = constructed_scan(dataclasses.replace(TARGET, host="::1", port=8443, path="/api?x=1"))
    document = sarif_dict(scan, hand_built_report())
    assert_valid(validator, document)
    assert_github_accepts(document)
    location = document["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "__1_8443/api"
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "https://[::1]:8443/api?x=1"


@pytest.mark.parametrize("severity", list(Severity))
def test_any_severity_and_category_validates(
    severity: Severity, validator: jsonschema.Draft4Validator
) -> None:
    findings = tuple(
        finding(
            f"GEN{index:03d}",
            f"generated-{index}",
            severity,
            category,
            RuleStatus.FAILED,
            advice="Fix it.",
        )
        for index, category in enumerate(Category)
    )
    document = sarif_dict(constructed_scan(), hand_built_report(findings))
    assert_valid(validator, document)
    assert_github_accepts(document)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda d: d["runs"][0]["results"][0].update(level="critical"), id="level"),
        pytest.param(lambda d: d.update(version="2.2.0"), id="version"),
        pytest.param(lambda d: d["runs"][0]["tool"]["driver"].pop("name"), id="driver-name"),
        pytest.param(
            lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"].update(
                region={"startLine": 0}
            ),
            id="start-line",
        ),
    ],
)
def test_the_schema_is_really_checked(
    change: typing.Callable[[Document], object], validator: jsonschema.Draft4Validator
) -> None:
    # A validator that accepts everything would make every test above pass.
    document = sarif_dict(constructed_scan(), hand_built_report())
    change(document)
    assert not validator.is_valid(document)
