"""The one-document fleet reports (SARIF, JUnit, Markdown) on real scans of different servers.

The fleet is a TLS 1.3 ``openssl s_server`` (the good one), nginx limited to TLS 1.2 (TLS001
fails, with nginx config) and a closed loopback port (unreachable: a ScanResult all the same).
"""

from __future__ import annotations

import json
import socket
import typing
from collections.abc import Sequence
from xml.etree import ElementTree

import jsonschema
import pytest

from httpsaudit.report import junit, markdown, sarif
from httpsaudit.report.findings import format_ms, plain_title
from httpsaudit.report.sarif import FINGERPRINT_KEY
from httpsaudit.results import ScanResult
from httpsaudit.rules import RULES
from httpsaudit.rules.engine import RuleReport, evaluate
from httpsaudit.rules.model import RuleStatus
from tests.pki import TestPKI
from tests.report.conftest import Audit
from tests.report.test_junit import SCHEMAS, xmlschema_module
from tests.report.test_sarif import SCHEMA_PATH, assert_github_accepts, assert_valid
from tests.scanning import scan_local
from tests.servers import OpenSSLServer

Document = dict[str, typing.Any]
Entries = Sequence[tuple[ScanResult, RuleReport]]


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Fleet(typing.NamedTuple):
    good: Audit
    old: Audit
    unreachable: Audit

    @property
    def entries(self) -> list[tuple[ScanResult, RuleReport]]:
        return [(audit.scan, audit.rules) for audit in self]


@pytest.fixture(scope="module")
def fleet(pki: TestPKI, nginx_audit: Audit) -> Fleet:
    with OpenSSLServer(pki.ecdsa_p256) as server:
        good = scan_local(server.port, ca_file=pki.root_path)
    port = closed_port()
    unreachable = scan_local(port, ca_file=pki.root_path)
    return Fleet(
        Audit(good, evaluate(good, RULES), server.port),
        nginx_audit,
        Audit(unreachable, evaluate(unreachable, RULES), port),
    )


def test_the_fleet_is_good_failing_and_unreachable(fleet: Fleet) -> None:
    # The premises every test below relies on, stated once.
    assert [audit.scan.reachable for audit in fleet] == [True, True, False]
    assert "TLS001" not in {f.rule_id for f in fleet.good.rules.failed()}
    assert "TLS001" in {f.rule_id for f in fleet.old.rules.failed()}
    assert {f.status for f in fleet.unreachable.rules.findings} == {RuleStatus.UNKNOWN}


# -- SARIF ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


def fleet_log(entries: Entries) -> Document:
    """The fleet's SARIF log as a reader gets it: parsed from the rendered text."""
    document: Document = json.loads(sarif.render_fleet(entries))
    return document


def single_log(audit: Audit) -> Document:
    document: Document = json.loads(sarif.render(audit.scan, audit.rules))
    return document


def url(audit: Audit) -> str:
    return f"https://localhost:{audit.port}/"


def test_sarif_is_one_run_with_every_targets_results(
    fleet: Fleet, validator: jsonschema.Draft4Validator
) -> None:
    # Given three scanned targets
    # When the fleet's SARIF log is rendered
    document = fleet_log(fleet.entries)
    # Then it validates and code scanning would take it: one run for the one invocation
    assert_valid(validator, document)
    assert_github_accepts(document)
    (run,) = document["runs"]
    # And every rule is described once, in registry order
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [f.rule_id for f in fleet.good.rules.findings]
    # And the results are every target's failures, in list order, each located at its target
    located = [
        (
            result["ruleId"],
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        )
        for result in run["results"]
    ]
    assert located == [
        (f.rule_id, f"localhost_{audit.port}", url(audit))
        for audit in fleet
        for f in audit.rules.failed()
    ]
    # And the fingerprints are all distinct, also for one rule failing on two targets
    fingerprints = [result["partialFingerprints"][FINGERPRINT_KEY] for result in run["results"]]
    assert len(set(fingerprints)) == len(fingerprints)
    alpn = [result for result in run["results"] if result["ruleId"] == "ALPN001"]
    assert [r["locations"][0]["logicalLocations"][0]["name"] for r in alpn] == [
        f"localhost:{fleet.good.port}",
        f"localhost:{fleet.old.port}",
    ]
    assert alpn[0]["partialFingerprints"] != alpn[1]["partialFingerprints"]
    # And each target's score and grade, none for the unreachable one
    assert [
        (t["target"], t["reachable"], t["score"], t["grade"]) for t in run["properties"]["targets"]
    ] == [
        (url(fleet.good), True, fleet.good.rules.score, fleet.good.rules.grade),
        (url(fleet.old), True, fleet.old.rules.score, fleet.old.rules.grade),
        (url(fleet.unreachable), False, None, None),
    ]
    assert run["language"] == "en"


def test_sarif_fingerprints_match_the_single_target_log(fleet: Fleet) -> None:
    # Given the nginx target's single-target log and the fleet's
    single = single_log(fleet.old)["runs"][0]["results"]
    fleet_results = fleet_log(fleet.entries)["runs"][0]["results"]
    # Then its alerts keep their fingerprints when it is scanned in a fleet
    from_fleet = {
        r["partialFingerprints"][FINGERPRINT_KEY]
        for r in fleet_results
        if r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == url(fleet.old)
    }
    assert from_fleet == {r["partialFingerprints"][FINGERPRINT_KEY] for r in single}


def test_sarif_rule_help_keeps_only_what_the_targets_share(fleet: Fleet) -> None:
    # Given ALPN001 failing on both servers (nginx detected on one, no server on the other)
    # and TLS001 failing on nginx alone
    (run,) = fleet_log(fleet.entries)["runs"]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    results = {
        (r["ruleId"], r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]): r
        for r in run["results"]
    }
    # Then ALPN001's help carries neither server's config, and each result carries its own
    alpn_help = rules["ALPN001"]["help"]["text"]
    assert "config" not in alpn_help
    good_help = results["ALPN001", url(fleet.good)]["properties"]["help"]["text"]
    old_help = results["ALPN001", url(fleet.old)]["properties"]["help"]["text"]
    assert "config for each server (the server was not detected):" in good_help
    assert "nginx config:" in old_help
    assert "# apache" not in old_help
    # And TLS001's help is nginx's own, as for one target, with no help on the result
    assert "nginx config:\nssl_protocols TLSv1.2 TLSv1.3;" in rules["TLS001"]["help"]["text"]
    assert "help" not in results["TLS001", url(fleet.old)]["properties"]


def test_sarif_notifications_name_their_target(fleet: Fleet) -> None:
    # Given the fleet with unknown rules on nginx (no TLS 1.3: no early data probe)
    (run,) = fleet_log(fleet.entries)["runs"]
    (invocation,) = run["invocations"]
    notifications = invocation["toolExecutionNotifications"]
    # Then each reachable target's unknown rule is a warning located at that target,
    # and the unreachable target is one error instead of a warning per rule
    named = [
        (
            n["level"],
            n["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            n.get("associatedRule", {}).get("id"),
        )
        for n in notifications
    ]
    assert named == [
        *(
            ("warning", url(audit), f.rule_id)
            for audit in (fleet.good, fleet.old)
            for f in audit.rules.findings
            if f.status is RuleStatus.UNKNOWN
        ),
        ("error", url(fleet.unreachable), None),
    ]
    assert ("warning", url(fleet.old), "EARLY001") in named
    port = fleet.unreachable.port
    assert notifications[-1]["message"]["text"] == (
        f"https://localhost:{port}/ is unreachable, no TLS session"
        f" (TCP: TCP connect to 127.0.0.1:{port} failed: connection refused);"
        f" {len(fleet.unreachable.rules.findings)} rules unknown"
    )
    early = next(
        n
        for n in notifications
        if n.get("associatedRule", {}).get("id") == "EARLY001"
        and n["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == url(fleet.old)
    )
    finding = next(f for f in fleet.old.rules.findings if f.rule_id == "EARLY001")
    assert early["message"]["text"] == (
        f"{url(fleet.old)}: EARLY001 {finding.name} is unknown: {finding.reason}"
    )
    index = early["associatedRule"]["index"]
    assert run["tool"]["driver"]["rules"][index]["id"] == "EARLY001"
    # And the invocation started when the first target did
    starts = sorted(audit.scan.started_at for audit in fleet)
    assert invocation["startTimeUtc"] == starts[0].replace("+00:00", "Z")


def test_sarif_fleet_of_one_has_the_single_target_rules_and_results(fleet: Fleet) -> None:
    # Given one target rendered alone and as a fleet of one
    single = single_log(fleet.old)["runs"][0]
    alone = fleet_log([(fleet.old.scan, fleet.old.rules)])["runs"][0]
    # Then rules and results are the same (the shared code path)
    assert alone["tool"] == single["tool"]
    assert alone["results"] == single["results"]


def test_sarif_empty_fleet_is_valid(validator: jsonschema.Draft4Validator) -> None:
    # Given a run stopped before any target finished
    document = fleet_log([])
    # Then the log is still valid, with no rules and no results
    assert_valid(validator, document)
    (run,) = document["runs"]
    assert run["tool"]["driver"]["rules"] == []
    assert run["results"] == []


# -- JUnit ------------------------------------------------------------------------------------


def suites_of(text: str) -> tuple[ElementTree.Element, list[ElementTree.Element]]:
    root = ElementTree.fromstring(text.encode("utf-8"))  # noqa: S314 - our own output
    return root, root.findall("testsuite")


def test_junit_has_one_suite_per_target_and_totals(fleet: Fleet) -> None:
    # Given three scanned targets
    # When the fleet's JUnit report is rendered
    text = junit.render_fleet(fleet.entries)
    # Then the Jenkins schema accepts it as it is
    xmlschema = xmlschema_module()
    jenkins = xmlschema.XMLSchema(str(SCHEMAS / "junit-jenkins-xunit-10.xsd"))
    assert [str(error.reason) for error in jenkins.iter_errors(text)] == []
    # And the Ant schema objects only to the totals on testsuites, which it does not declare
    ant = xmlschema.XMLSchema(str(SCHEMAS / "junit-ant-windyroad.xsd"))
    assert sorted((error.path, str(error.reason)) for error in ant.iter_errors(text)) == sorted(
        ("/testsuites", f"{name!r} attribute not allowed for element")
        for name in ("name", "tests", "failures", "errors", "time")
    )
    stripped, _ = suites_of(text)
    for name in ("name", "tests", "failures", "errors", "time"):
        del stripped.attrib[name]
    stripped_text = ElementTree.tostring(stripped, encoding="unicode")
    assert [str(error.reason) for error in ant.iter_errors(stripped_text)] == []
    root, suites = suites_of(text)
    # And one suite per target, named as it was given, in list order, with Ant's package and id
    assert [(s.get("name"), s.get("package"), s.get("id")) for s in suites] == [
        (f"localhost:{audit.port}", f"localhost:{audit.port}", str(index))
        for index, audit in enumerate(fleet)
    ]
    # And each suite counts its own rules; the unreachable one has one error case more
    counts = [
        (s.get("tests"), s.get("failures"), s.get("errors"), s.get("skipped")) for s in suites
    ]
    expected = []
    for audit in fleet:
        statuses = [f.status for f in audit.rules.findings]
        error = 0 if audit.scan.reachable else 1
        not_judged = sum(
            s is not RuleStatus.PASSED and s is not RuleStatus.FAILED for s in statuses
        )
        expected.append(
            (
                str(len(statuses) + error),
                str(statuses.count(RuleStatus.FAILED)),
                str(error),
                str(not_judged),
            )
        )
    assert counts == expected
    # And testsuites carries the totals
    assert (root.get("name"), root.get("tests"), root.get("failures"), root.get("errors")) == (
        "httpsaudit",
        str(sum(int(tests) for tests, _f, _e, _s in expected)),
        str(sum(int(failures) for _t, failures, _e, _s in expected)),
        "1",
    )


def test_junit_cases_are_named_per_target(fleet: Fleet) -> None:
    # Given the fleet's JUnit report
    _root, suites = suites_of(junit.render_fleet(fleet.entries))
    # Then every case's class name starts with its target, so readers keying cases by class
    # name and name keep one rule's cases on different targets apart
    for audit, suite in zip(fleet, suites, strict=True):
        prefix = f"localhost:{audit.port}."
        assert all(case.get("classname", "").startswith(prefix) for case in suite.iter("testcase"))
    # And TLS001 fails on the nginx target only
    old_case = next(
        c for c in suites[1].iter("testcase") if c.get("name") == "TLS001 tls13-disabled"
    )
    assert old_case.get("classname") == f"localhost:{fleet.old.port}.latency"
    failure = old_case.find("failure")
    assert failure is not None
    assert failure.get("type") == "high"
    good_case = next(
        c for c in suites[0].iter("testcase") if c.get("name") == "TLS001 tls13-disabled"
    )
    assert list(good_case) == []
    # And the unreachable target's first case is an error naming why
    first = suites[2].find("testcase")
    assert first is not None
    assert (first.get("classname"), first.get("name")) == (
        f"localhost:{fleet.unreachable.port}.connection",
        "connection",
    )
    error = first.find("error")
    assert error is not None
    assert error.get("type") == "unreachable"
    assert error.get("message") == (
        "unreachable, no TLS session: TCP: TCP connect to "
        f"127.0.0.1:{fleet.unreachable.port} failed: connection refused"
    )


def test_junit_fleet_suite_is_the_single_target_suite_renamed(fleet: Fleet) -> None:
    # Given the nginx target rendered alone and as a fleet of one
    single = ElementTree.fromstring(junit.render(fleet.old.scan, fleet.old.rules).encode())  # noqa: S314
    _root, (suite,) = suites_of(junit.render_fleet([(fleet.old.scan, fleet.old.rules)]))
    # Then the suites differ only in the names: the suite's, and the target before class names
    prefix = f"localhost:{fleet.old.port}."
    assert single.get("name") == f"httpsaudit: localhost:{fleet.old.port}"
    assert suite.get("name") == f"localhost:{fleet.old.port}"
    for case in suite.iter("testcase"):
        case.set("classname", case.get("classname", "").removeprefix(prefix))
    for name in ("name", "package", "id"):
        del suite.attrib[name]
    del single.attrib["name"]
    for element in (suite, single):  # same indentation at the top level
        ElementTree.indent(element)
        element.tail = None
    assert ElementTree.tostring(suite) == ElementTree.tostring(single)


def test_junit_empty_fleet_is_valid() -> None:
    text = junit.render_fleet([])
    xmlschema = xmlschema_module()
    jenkins = xmlschema.XMLSchema(str(SCHEMAS / "junit-jenkins-xunit-10.xsd"))
    assert [str(error.reason) for error in jenkins.iter_errors(text)] == []
    root, suites = suites_of(text)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("0", "0", "0")
    assert suites == []


# -- Markdown ---------------------------------------------------------------------------------

TABLE_HEAD = [
    "| Target | Grade | Score | TLS handshake | Failed | Worst finding |",
    "| --- | --- | --- | --- | --- | --- |",
]


def table_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index(TABLE_HEAD[0])
    end = lines.index("", start)
    return lines[start:end]


def handshake(audit: Audit) -> str:
    connection = audit.scan.connection.result
    assert connection is not None
    assert connection.tls is not None
    return f"{format_ms(connection.tls.handshake_ms)} ms"


def expected_rows(fleet: Fleet) -> list[str]:
    good, old, unreachable = fleet
    worst = max(good.rules.failed(), key=lambda f: f.severity)  # the first of the worst
    return [
        f"| localhost:{good.port} | {good.rules.grade} | {good.rules.score} | {handshake(good)}"
        f" | {len(good.rules.failed())} | {worst.severity.label} `{worst.rule_id}`"
        f" {markdown.escape(plain_title(worst.title))} |",
        f"| localhost:{old.port} | {old.rules.grade} | {old.rules.score} | {handshake(old)}"
        f" | {len(old.rules.failed())} | high `TLS001` TLS 1.3 is not offered |",
        f"| localhost:{unreachable.port} | - | - | - | 0 | unreachable: TCP: TCP connect to"
        f" 127.0.0.1:{unreachable.port} failed: connection refused |",
    ]


def split_summary(text: str) -> tuple[str, str]:
    """The fleet table (with its heading and counts) and what follows it."""
    table_end = text.index("\n\n", text.index(TABLE_HEAD[1])) + 1
    return text[:table_end], text[table_end:]


def cut_note(shown: int, total: int, limit: int) -> str:
    return (
        f"> **Details cut:** the sections of the last {total - shown} of {total} targets are left"
        f" out (the table above lists every target) to keep this summary within {limit} bytes,"
        " the most a GitHub step summary may hold. The JSON report has every target in full.\n"
    )


def test_markdown_summary_table_then_each_targets_section(fleet: Fleet) -> None:
    # Given three scanned targets
    # When the fleet's job summary is rendered
    text = markdown.render_fleet(fleet.entries)
    # Then it opens with the fleet's counts and one row per target in list order
    assert text.startswith(
        "# httpsaudit: 3 targets\n\n"
        "**Targets:** 3 · **unreachable:** 1 · **with failed findings:** 2\n\n"
    )
    assert table_lines(text) == [*TABLE_HEAD, *expected_rows(fleet)]
    # And then every target's own section, whole and in order, with nothing cut
    sections = [markdown.render(scan, rules) for scan, rules in fleet.entries]
    _table, rest = split_summary(text)
    assert rest == "".join(f"\n{section}" for section in sections)
    assert "Details cut" not in text


def test_markdown_cuts_sections_not_the_table_over_the_limit(fleet: Fleet) -> None:
    # Given a limit with room for the table, the note and the first target's section only
    table, _rest = split_summary(markdown.render_fleet(fleet.entries))
    first = "\n" + markdown.render(fleet.good.scan, fleet.good.rules)
    limit = 0
    while limit != (fitted := len(f"{table}\n{cut_note(1, 3, limit)}{first}".encode())):
        limit = fitted  # the note names the limit, so its length depends on it
    # When the summary is rendered under that limit
    text = markdown.render_fleet(fleet.entries, limit_bytes=limit)
    # Then it is exactly the whole table, the note and the first section, and fits
    assert text == f"{table}\n{cut_note(1, 3, limit)}{first}"
    assert len(text.encode()) == limit
    assert table_lines(text) == [*TABLE_HEAD, *expected_rows(fleet)]
    # And one byte less leaves the first section out too, never a table row
    tighter = markdown.render_fleet(fleet.entries, limit_bytes=limit - 1)
    assert tighter == f"{table}\n{cut_note(0, 3, limit - 1)}"
    # And with no room even for the table, the table is still whole
    assert markdown.render_fleet(fleet.entries, limit_bytes=0) == f"{table}\n{cut_note(0, 3, 0)}"


def test_markdown_one_byte_short_of_whole_is_cut(fleet: Fleet) -> None:
    # Given the limit one byte below the whole summary
    whole = markdown.render_fleet(fleet.entries)
    limit = len(whole.encode()) - 1
    # When rendered under it, the result fits and says it was cut
    text = markdown.render_fleet(fleet.entries, limit_bytes=limit)
    assert len(text.encode()) <= limit
    assert "**Details cut:**" in text
    # And the default limit is GitHub's 1 MiB
    assert markdown.STEP_SUMMARY_LIMIT_BYTES == 1024 * 1024
