"""JUnit XML: one test suite for the target, one test case per rule, for any CI test report.

The document satisfies both common JUnit schemas, the strict Apache Ant one (``properties``,
``system-out`` and ``system-err`` always present, in that order; ``timestamp`` in UTC without a
zone; every test case with ``classname`` and ``time``) and the Jenkins xUnit one. Failed rules
are ``failure`` elements (type = severity); unknown, not applicable and ignored rules are
``skipped`` with the reason; passed rules are empty test cases. ``hostname`` is the audited host:
these tests run against it, not on the machine that ran httpsaudit.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree  # builds XML only; nothing here parses untrusted input

from httpsaudit.report.findings import (
    STATUS_WORDS,
    saving_text,
    snippet_label,
    status_counts,
    target_url,
    utc_time,
)
from httpsaudit.results import ScanResult
from httpsaudit.rules.engine import RuleReport
from httpsaudit.rules.model import Category, Finding, RuleStatus

# XML 1.0 allows tab, newline and carriage return among the C0 controls, nothing else below
# 0x20, and no surrogates or U+FFFE/U+FFFF; server text with them would make the file unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(value: object) -> str:
    """Text every XML parser accepts: forbidden characters written as ``\\xNN`` escapes."""
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", str(value))


def _seconds(value_ms: float) -> str:
    return f"{value_ms / 1000:.3f}"


def _timestamp(scan: ScanResult) -> str:
    moment = utc_time(scan.started_at)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") if moment is not None else scan.started_at


def _failure_text(finding: Finding) -> str:
    parts: list[str] = []
    saving = saving_text(finding.saving)
    if saving is not None:
        parts.append(f"Saves {saving}.")
    if finding.advice:
        parts.append(finding.advice)
    if finding.snippet:
        parts.append(f"{snippet_label(finding)}:\n{finding.snippet}")
    return "\n\n".join(parts)


def _testcase(suite: ElementTree.Element, finding: Finding) -> None:
    case = ElementTree.SubElement(
        suite,
        "testcase",
        {
            "classname": finding.category.value,
            "name": _xml_text(f"{finding.rule_id} {finding.name}"),
            "time": "0",
        },
    )
    if finding.status is RuleStatus.FAILED:
        failure = ElementTree.SubElement(
            case,
            "failure",
            {"message": _xml_text(finding.message), "type": finding.severity.label},
        )
        failure.text = _xml_text(_failure_text(finding))
    elif finding.status is not RuleStatus.PASSED:
        reason = finding.reason or "no reason given"
        message = f"{STATUS_WORDS[finding.status]}: {reason}"
        ElementTree.SubElement(case, "skipped", {"message": _xml_text(message)})


def _properties(suite: ElementTree.Element, scan: ScanResult, rules: RuleReport) -> None:
    values = [
        ("target", target_url(scan.target)),
        ("tool.version", scan.tool_version),
        ("score", str(rules.score)),
        ("grade", rules.grade),
        *(
            (f"score.{category.value}", str(rules.category_scores[category]))
            for category in Category
            if category in rules.category_scores
        ),
        ("server", rules.server.display if rules.server is not None else ""),
        ("lang", rules.lang),
    ]
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in values:
        ElementTree.SubElement(properties, "property", {"name": name, "value": _xml_text(value)})


def _summary(scan: ScanResult, rules: RuleReport) -> str:
    counts = status_counts(rules.findings)
    tally = ", ".join(f"{counts[status]} {STATUS_WORDS[status]}" for status in RuleStatus)
    return (
        f"httpsaudit {scan.tool_version}: {target_url(scan.target)}\n"
        f"score {rules.score}/100, grade {rules.grade}\n"
        f"rules: {tally}\n"
    )


def junit_tree(scan: ScanResult, rules: RuleReport) -> ElementTree.Element:
    """The ``testsuite`` element, before serialisation."""
    counts = status_counts(rules.findings)
    skipped = sum(
        counts[status]
        for status in (RuleStatus.UNKNOWN, RuleStatus.NOT_APPLICABLE, RuleStatus.IGNORED)
    )
    suite = ElementTree.Element(
        "testsuite",
        {
            "name": _xml_text(f"httpsaudit: {scan.target.input}"),
            "tests": str(len(rules.findings)),
            "failures": str(counts[RuleStatus.FAILED]),
            "errors": "0",
            "skipped": str(skipped),
            "time": _seconds(scan.duration_ms),
            "timestamp": _xml_text(_timestamp(scan)),
            "hostname": _xml_text(scan.target.host),
        },
    )
    _properties(suite, scan, rules)
    for finding in rules.findings:
        _testcase(suite, finding)
    ElementTree.SubElement(suite, "system-out").text = _xml_text(_summary(scan, rules))
    ElementTree.SubElement(suite, "system-err").text = ""
    return suite


def render(scan: ScanResult, rules: RuleReport) -> str:
    """The JUnit XML document, UTF-8 declared, indented, ending in a newline."""
    suite = junit_tree(scan, rules)
    ElementTree.indent(suite)
    body = ElementTree.tostring(suite, encoding="unicode", short_empty_elements=True)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
