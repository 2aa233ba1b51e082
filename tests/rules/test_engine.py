"""The engine: unknown is never passed, selection and overrides, the scoring formula."""

from __future__ import annotations

import pytest

from httpsaudit.results import ProbeId
from httpsaudit.rules import RULES, rule_by_id
from httpsaudit.rules.engine import Selection, evaluate, score
from httpsaudit.rules.model import Category, Finding, RuleStatus, Severity
from tests.pki import TestPKI
from tests.scanning import scan_local
from tests.servers import OpenSSLServer


def finding(category: Category, severity: Severity, status: RuleStatus) -> Finding:
    return Finding(
        rule_id="TLS999",
        name="made-up",
        severity=severity,
        category=category,
        status=status,
        title="t",
        message="m",
        evidence={},
        saving=None,
        advice=None,
        snippet=None,
        server=None,
        references=(),
        reason=None,
    )


def test_missing_probe_makes_a_rule_unknown_not_passed(pki: TestPKI) -> None:
    # Given a scan that ran only the timed connection
    with OpenSSLServer(pki.ecdsa_p256) as server:
        result = scan_local(server.port, ca_file=pki.root_path, only_probes=frozenset())
    # When the rules needing other probes are evaluated
    report = evaluate(result, RULES, selection=Selection(select=("TLS",)))
    tls001 = next(f for f in report.findings if f.rule_id == "TLS001")
    # Then a rule needing the versions probe is unknown, with the reason
    assert tls001.status is RuleStatus.UNKNOWN
    assert tls001.reason is not None
    assert "versions probe skipped" in tls001.reason
    assert result.versions.skip_reason == "not part of this scan"
    assert report.score == 100  # unknown does not move the score


def test_selection_ignore_and_severity_override(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as server:
        result = scan_local(
            server.port, ca_file=pki.root_path, only_probes=frozenset({ProbeId.VERSIONS})
        )
    ignored = evaluate(result, RULES, selection=Selection(ignore=("TLS001",)))
    overridden = evaluate(
        result, RULES, selection=Selection(severity_overrides={"tls13-disabled": Severity.LOW})
    )
    selected = evaluate(result, RULES, selection=Selection(select=("TLS002",)))
    by_id = {f.rule_id: f for f in ignored.findings}
    assert by_id["TLS001"].status is RuleStatus.IGNORED
    assert next(f for f in overridden.findings if f.rule_id == "TLS001").severity is Severity.LOW
    statuses = {f.rule_id: f.status for f in selected.findings}
    assert statuses["TLS001"] is RuleStatus.IGNORED
    assert statuses["TLS002"] is RuleStatus.PASSED


@pytest.mark.parametrize(
    ("findings", "expected"),
    [
        ([], (100, "A")),
        ([(Category.LATENCY, Severity.HIGH)], (92, "A")),
        ([(Category.SECURITY, Severity.HIGH), (Category.SECURITY, Severity.MEDIUM)], (89, "B")),
        ([(Category.RELIABILITY, Severity.LOW)], (99, "A")),
        ([(Category.SECURITY, Severity.CRITICAL)], (84, "F")),
        ([(Category.LATENCY, Severity.HIGH)] * 6, (60, "D")),
    ],
)
def test_scoring_formula(
    findings: list[tuple[Category, Severity]], expected: tuple[int, str]
) -> None:
    made = [finding(category, severity, RuleStatus.FAILED) for category, severity in findings]
    made.append(finding(Category.SECURITY, Severity.CRITICAL, RuleStatus.UNKNOWN))
    overall, _categories, grade = score(made)
    assert (overall, grade) == expected


def test_registry_lookup_is_used_by_evaluation() -> None:
    assert rule_by_id("TLS001") in RULES
