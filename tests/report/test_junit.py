"""JUnit XML: one test case per rule, validated against both common JUnit schemas.

``tests/report/schemas/`` holds the Apache Ant schema (windyroad/JUnit-Schema, the strict one) and
the Jenkins xUnit plugin's ``junit-10.xsd``; provenance in that folder's README. XSD validation
needs the ``xmlschema`` package; the structural checks with ElementTree run without it.
"""

from __future__ import annotations

import dataclasses
import os
import types
from pathlib import Path
from xml.etree import ElementTree

import pytest

from httpsaudit.report.junit import junit_tree, render
from httpsaudit.rules.model import RuleStatus
from tests.report.conftest import Audit
from tests.report.findings_cases import (
    FINDINGS,
    HOSTILE_HEADER,
    TARGET,
    assert_golden,
    constructed_scan,
    finding,
    hand_built_report,
)
from tests.servers import REQUIRE_SERVERS_ENV

SCHEMAS = Path(__file__).resolve().parent / "schemas"
XSD_FILES = ("junit-ant-windyroad.xsd", "junit-jenkins-xunit-10.xsd")
SUITE_ATTRIBUTES = [
    "name",
    "tests",
    "failures",
    "errors",
    "skipped",
    "time",
    "timestamp",
    "hostname",
]


def xmlschema_module() -> types.ModuleType:
    """The validator library; CI (which forbids skipping) fails when it is missing."""
    try:
        import xmlschema
    except ImportError:
        reason = "xmlschema is not installed: pip install -e '.[test]'"
        if os.environ.get(REQUIRE_SERVERS_ENV) == "1":
            pytest.fail(f"{reason}; {REQUIRE_SERVERS_ENV}=1 forbids skipping")
        pytest.skip(reason)
    return xmlschema


def assert_schema_valid(text: str) -> None:
    xmlschema = xmlschema_module()
    for name in XSD_FILES:
        schema = xmlschema.XMLSchema(str(SCHEMAS / name))
        errors = [str(error.reason) for error in schema.iter_errors(text)]
        assert not errors, f"{name}: {errors}"


def assert_structure(text: str, findings_count: int) -> ElementTree.Element:
    """What both schemas and every CI reader rely on, checked without a validator."""
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    suite = ElementTree.fromstring(text.encode("utf-8"))  # noqa: S314 - our own output
    assert suite.tag == "testsuite"
    assert list(suite.attrib) == SUITE_ATTRIBUTES
    children = [child.tag for child in suite]
    assert children == ["properties", *["testcase"] * findings_count, "system-out", "system-err"]
    for case in suite.iter("testcase"):
        assert list(case.attrib) == ["classname", "name", "time"]
        assert [child.tag for child in case] in ([], ["failure"], ["skipped"])
    cases = suite.findall("testcase")
    failures = sum(1 for case in cases if case.find("failure") is not None)
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    assert suite.get("tests") == str(len(cases))
    assert suite.get("failures") == str(failures)
    assert suite.get("skipped") == str(skipped)
    assert suite.get("errors") == "0"
    return suite


# -- a real audit -------------------------------------------------------------------------


def test_real_scan_has_one_case_per_rule(tls12_audit: Audit) -> None:
    # Given a TLS 1.2-only server audited with every registered rule
    audit = tls12_audit
    # When the JUnit report is rendered
    text = render(audit.scan, audit.rules)
    # Then it is valid for both schemas and holds one test case per rule, in registry order
    assert_schema_valid(text)
    suite = assert_structure(text, len(audit.rules.findings))
    assert suite.get("name") == f"httpsaudit: localhost:{audit.port}"
    assert suite.get("hostname") == "localhost"
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == [
        f"{f.rule_id} {f.name}" for f in audit.rules.findings
    ]
    # And TLS001 failed with its severity, message and advice
    case = next(case for case in cases if case.get("name") == "TLS001 tls13-disabled")
    assert case.get("classname") == "latency"
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("type") == "high"
    assert failure.get("message") == "TLS 1.3 is not offered (offered: TLSv1.2)"
    assert failure.text is not None
    assert failure.text.startswith("Saves 1 round trip")
    assert "Enable TLS 1.3 next to TLS 1.2" in failure.text
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in failure.text
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["score"] == str(audit.rules.score)
    assert properties["target"] == f"https://localhost:{audit.port}/"


def test_unreachable_target_reports_every_rule_skipped(tls12_audit: Audit) -> None:
    # Given rules that could not be judged (every one unknown)
    unknown = tuple(
        dataclasses.replace(f, status=RuleStatus.UNKNOWN, reason="the versions probe failed")
        for f in tls12_audit.rules.findings
    )
    report = hand_built_report(unknown, server=None)
    # When rendered
    text = render(tls12_audit.scan, report)
    # Then every test case is skipped with the reason, and nothing failed
    assert_schema_valid(text)
    suite = assert_structure(text, len(unknown))
    assert suite.get("failures") == "0"
    for case in suite.iter("testcase"):
        skipped = case.find("skipped")
        assert skipped is not None
        assert skipped.get("message") == "unknown: the versions probe failed"


# -- findings built by hand ---------------------------------------------------------------


def test_hand_built_golden() -> None:
    text = render(constructed_scan(), hand_built_report())
    assert_schema_valid(text)
    assert_structure(text, len(FINDINGS))
    assert_golden("hand_built.xml", text)


def test_each_status_maps_to_its_element() -> None:
    suite = junit_tree(constructed_scan(), hand_built_report())
    outcome = {}
    for case in suite.iter("testcase"):
        child = next(iter(case), None)
        outcome[case.get("name")] = (
            None if child is None else (child.tag, child.get("type"), child.get("message"))
        )
    assert outcome == {
        "TLS001 tls13-disabled": ("failure", "high", "TLS 1.3 is not offered (offered: TLSv1.2)"),
        "TLS002 old-versions-offered": None,
        "CERT901 certificate-expired": (
            "failure",
            "critical",
            "The certificate for bücher.example — 证书 expired 3 days ago",
        ),
        "KEX901 rsa-key-exchange": (
            "failure",
            "medium",
            "Static RSA key exchange is chosen: TLS_RSA_WITH_AES_128_GCM_SHA256",
        ),
        "NET901 server-header-verbose": (
            "failure",
            "low",
            "The Server header says: Apache | `rm -rf` <b>*bold*</b> \\x1b[31mred\\x1b[0m",
        ),
        "ALPN901 no-http3-hint": (
            "failure",
            "info",
            "No Alt-Svc header or HTTPS record advertises HTTP/3",
        ),
        "KEX902 x25519-not-preferred": (
            "skipped",
            None,
            "unknown: the groups probe failed: no answer within 10.0 s",
        ),
        "KEX903 no-hybrid-group": (
            "skipped",
            None,
            "unknown: the groups probe failed: no answer within 10.0 s",
        ),
        "EARLY901 zero-rtt-replay": (
            "skipped",
            None,
            "not applicable: the server does not offer TLS 1.3",
        ),
        "RES901 no-ticket-resumption": ("skipped", None, "ignored: deselected"),
    }
    classnames = {case.get("classname") for case in suite.iter("testcase")}
    assert classnames == {"latency", "security", "reliability"}


def test_control_characters_cannot_break_the_xml() -> None:
    # Given server text with every C0 control, DEL and a lone surrogate
    hostile = "".join(chr(code) for code in range(32)) + "\x7f\ud800 & <tag> ]]>"
    findings = (
        finding(
            "NET902",
            "hostile",
            FINDINGS[0].severity,
            FINDINGS[0].category,
            RuleStatus.FAILED,
            message=hostile,
            advice=hostile,
            snippet=hostile,
        ),
    )
    target = dataclasses.replace(TARGET, input=f"shop.example{hostile}")
    # When rendered
    text = render(constructed_scan(target), hand_built_report(findings))
    # Then every XML parser reads it, with the forbidden characters written as escapes
    suite = assert_structure(text, 1)
    failure = suite.find("testcase/failure")
    assert failure is not None
    message = failure.get("message")
    assert message is not None
    assert "\\x00" in message
    assert "\\x1b" in message
    assert "\ud800" not in message
    assert "\\xd800" in message
    assert "& <tag> ]]>" in message
    assert_schema_valid(text)


def test_timestamp_is_utc_without_zone_and_time_in_seconds() -> None:
    scan = dataclasses.replace(constructed_scan(), started_at="2026-01-02T04:04:05+01:00")
    suite = junit_tree(scan, hand_built_report())
    assert suite.get("timestamp") == "2026-01-02T03:04:05"
    assert suite.get("time") == "1.234"


def test_server_text_is_kept_as_text() -> None:
    suite = junit_tree(constructed_scan(), hand_built_report())
    failure = next(
        case.find("failure")
        for case in suite.iter("testcase")
        if case.get("name") == "NET901 server-header-verbose"
    )
    assert failure is not None
    assert failure.text is not None
    assert HOSTILE_HEADER.replace("\x1b", "\\x1b") in failure.text
