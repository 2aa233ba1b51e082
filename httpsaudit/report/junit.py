"""JUnit XML: one test suite for the target, one test case per rule, for any CI test report.

The document satisfies both common JUnit schemas, the strict Apache Ant one (``properties``,
``system-out`` and ``system-err`` always present, in that order; ``timestamp`` in UTC without a
zone; every test case with ``classname`` and ``time``) and the Jenkins xUnit one. Failed rules
are ``failure`` elements (type = severity); unknown, not applicable and ignored rules are
``skipped`` with the reason; passed rules are empty test cases. ``hostname`` is the audited host:
these tests run against it, not on the machine that ran httpsaudit.

A fleet (``render_fleet``) is a ``testsuites`` document: one suite per target, named as the target
was given, with the Ant aggregate's ``package`` and ``id``, and the totals the Jenkins schema
declares (``tests``, ``failures``, ``errors``, ``time``) on ``testsuites``. The Ant schema allows
no attribute there; readers (Jenkins, GitLab, the GitHub test-report actions) use them. Test case
class names start with the target, because Jenkins and others identify a case by class name and
name and would merge one rule's cases from different targets. An unreachable target gets an
``error`` case (``connection``), so it cannot pass as a suite of skipped rules.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from xml.etree import ElementTree  # builds XML only; nothing here parses untrusted input

from httpsaudit.report.findings import (
    STATUS_WORDS,
    connection_error_text,
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


def _testcase(suite: ElementTree.Element, finding: Finding, class_prefix: str) -> None:
    case = ElementTree.SubElement(
        suite,
        "testcase",
        {
            "classname": _xml_text(f"{class_prefix}{finding.category.value}"),
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
        ("score", str(rules.score) if rules.score is not None else ""),
        ("grade", rules.grade or ""),
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
        + (
            f"score {rules.score}/100, grade {rules.grade}\n"
            if rules.score is not None
            else "no score: no TLS session with the target\n"
        )
        + f"rules: {tally}\n"
    )


def _suite(
    scan: ScanResult,
    rules: RuleReport,
    *,
    name: str,
    class_prefix: str = "",
    unreachable: str | None = None,
) -> ElementTree.Element:
    """A ``testsuite``: one case per rule, and with ``unreachable`` an error case first."""
    counts = status_counts(rules.findings)
    skipped = sum(
        counts[status]
        for status in (RuleStatus.UNKNOWN, RuleStatus.NOT_APPLICABLE, RuleStatus.IGNORED)
    )
    errors = 0 if unreachable is None else 1
    suite = ElementTree.Element(
        "testsuite",
        {
            "name": _xml_text(name),
            "tests": str(len(rules.findings) + errors),
            "failures": str(counts[RuleStatus.FAILED]),
            "errors": str(errors),
            "skipped": str(skipped),
            "time": _seconds(scan.duration_ms),
            "timestamp": _xml_text(_timestamp(scan)),
            "hostname": _xml_text(scan.target.host),
        },
    )
    _properties(suite, scan, rules)
    if unreachable is not None:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            {
                "classname": _xml_text(f"{class_prefix}connection"),
                "name": "connection",
                "time": "0",
            },
        )
        message = _xml_text(f"unreachable, no TLS session: {unreachable}")
        ElementTree.SubElement(case, "error", {"message": message, "type": "unreachable"})
    for finding in rules.findings:
        _testcase(suite, finding, class_prefix)
    ElementTree.SubElement(suite, "system-out").text = _xml_text(_summary(scan, rules))
    ElementTree.SubElement(suite, "system-err").text = ""
    return suite


def junit_tree(scan: ScanResult, rules: RuleReport) -> ElementTree.Element:
    """The ``testsuite`` element, before serialisation."""
    return _suite(scan, rules, name=f"httpsaudit: {scan.target.input}")


def _wall_seconds(scans: Sequence[ScanResult]) -> str:
    """From the first start to the last end (to the second that start times carry): targets
    run concurrently, so not a sum."""
    starts = [utc_time(scan.started_at) for scan in scans]
    if not scans or None in starts:  # no clock to place a target by: the longest one
        return _seconds(max((scan.duration_ms for scan in scans), default=0.0))
    spans = [
        (start, start + datetime.timedelta(milliseconds=scan.duration_ms))
        for start, scan in zip(starts, scans, strict=True)
        if start is not None
    ]
    first = min(start for start, _end in spans)
    last = max(end for _start, end in spans)
    return _seconds((last - first) / datetime.timedelta(milliseconds=1))


def fleet_tree(entries: Sequence[tuple[ScanResult, RuleReport]]) -> ElementTree.Element:
    """The ``testsuites`` element of a fleet, before serialisation."""
    suites = [
        _suite(
            scan,
            rules,
            name=scan.target.input,
            class_prefix=f"{scan.target.input}.",
            unreachable=None
            if scan.reachable
            else connection_error_text(scan, none="no reason given"),
        )
        for scan, rules in entries
    ]
    root = ElementTree.Element(
        "testsuites",
        {
            "name": "httpsaudit",
            "tests": str(sum(int(suite.get("tests", "0")) for suite in suites)),
            "failures": str(sum(int(suite.get("failures", "0")) for suite in suites)),
            "errors": str(sum(int(suite.get("errors", "0")) for suite in suites)),
            "time": _wall_seconds([scan for scan, _rules in entries]),
        },
    )
    for index, suite in enumerate(suites):
        # The Ant aggregate's two extra attributes: package (the suite's name) and its position.
        suite.set("package", suite.get("name", ""))
        suite.set("id", str(index))
        root.append(suite)
    return root


def _serialised(root: ElementTree.Element) -> str:
    ElementTree.indent(root)
    body = ElementTree.tostring(root, encoding="unicode", short_empty_elements=True)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def render(scan: ScanResult, rules: RuleReport) -> str:
    """The JUnit XML document, UTF-8 declared, indented, ending in a newline."""
    return _serialised(junit_tree(scan, rules))


def render_fleet(entries: Sequence[tuple[ScanResult, RuleReport]]) -> str:
    """The fleet's JUnit XML: one ``testsuite`` per target inside ``testsuites``."""
    return _serialised(fleet_tree(entries))
