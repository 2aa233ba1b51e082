"""Baselines and diff on report documents: what counts as new, worse, fixed or better, what a
malformed baseline says, and how ticket keys and timings compare.

The documents here are the shape ``report/json.py`` writes (checked against a real report in
``test_a_real_report_round_trips``); end-to-end runs against lab servers are in
tests/test_cli_gating.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from httpsaudit.baseline import (
    BaselineError,
    Change,
    compare,
    load_report,
    regressions,
    render_text,
    snapshot_of_document,
    to_json,
)
from httpsaudit.cli import main
from httpsaudit.report.json import report_dict
from httpsaudit.rules import RULES
from httpsaudit.rules.engine import evaluate
from httpsaudit.rules.model import Category, Finding, RuleStatus, Severity
from tests.pki import TestPKI
from tests.scanning import scan_local
from tests.servers import OpenSSLServer


def document(
    findings: list[tuple[str, str, str]],
    *,
    score: int = 100,
    grade: str = "A",
    started_at: str = "2025-01-01T10:00:00+00:00",
    port: int = 443,
    tls_ms: float = 10.0,
    key_names: list[str] | None = None,
) -> dict[str, object]:
    """A report as report/json.py writes it, with only the keys a baseline reads."""
    return {
        "schema_version": "1.1",
        "target": {"host": "example.com", "port": port},
        "started_at": started_at,
        "probes": {
            "connection": {
                "result": {
                    "samples": [{"dns_ms": 1.0, "tcp_ms": 2.0, "tls_ms": tls_ms, "ttfb_ms": 4.0}],
                    "stats": [{"phase": "tls", "median_ms": tls_ms}],
                }
            },
            "resumption": {
                "result": {
                    "tls12_tickets": None,
                    "tls13_tickets": {"key_names": key_names or []},
                }
            },
        },
        "score": score,
        "grade": grade,
        "findings": [
            {"rule_id": rule_id, "severity": severity, "status": status, "message": rule_id}
            for rule_id, severity, status in findings
        ],
    }


def finding(rule_id: str, severity: Severity, status: RuleStatus = RuleStatus.FAILED) -> Finding:
    return Finding(
        rule_id=rule_id,
        name=rule_id.lower(),
        severity=severity,
        category=Category.SECURITY,
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


def test_every_kind_of_change() -> None:
    # Given two reports in which rules moved every possible way
    old = snapshot_of_document(
        document(
            [
                ("TLS001", "high", "failed"),  # fixed
                ("TLS002", "low", "failed"),  # worse
                ("CERT001", "critical", "failed"),  # better
                ("CERT002", "medium", "failed"),  # unchanged
                ("RES001", "high", "failed"),  # unknown now: cannot say it is fixed
                ("OCSP001", "medium", "passed"),  # new
            ],
            score=40,
            grade="F",
            key_names=["aa" * 16],
        ),
        label="old.json",
        where="old.json",
    )
    new = snapshot_of_document(
        document(
            [
                ("TLS001", "high", "passed"),
                ("TLS002", "medium", "failed"),
                ("CERT001", "high", "failed"),
                ("CERT002", "medium", "failed"),
                ("RES001", "high", "unknown"),
                ("OCSP001", "medium", "failed"),
                ("EARLY001", "info", "failed"),  # not in the old report at all: new
            ],
            score=70,
            grade="C",
            started_at="2025-01-02T10:00:00+00:00",
            tls_ms=14.5,
            key_names=["aa" * 16],
        ),
        label="new.json",
        where="new.json",
    )
    comparison = compare(old, new)
    # Then each lands in its own kind
    kinds = {change.rule_id: change.change for change in comparison.changes}
    assert kinds == {
        "TLS001": Change.FIXED,
        "TLS002": Change.WORSE,
        "CERT001": Change.BETTER,
        "CERT002": Change.UNCHANGED,
        "RES001": Change.NOT_CHECKED,
        "OCSP001": Change.NEW,
        "EARLY001": Change.NEW,
    }
    # And the text says so, with score, timings and the ticket key
    text = render_text(comparison)
    assert "old.json (2025-01-01T10:00:00+00:00) -> new.json (2025-01-02T10:00:00+00:00)" in text
    assert "score: 40 (F) -> 70 (C)  +30" in text
    assert "  new     OCSP001   medium" in text
    assert "  worse   TLS002    low -> medium" in text
    assert "  fixed   TLS001    high" in text
    assert "  better  CERT001   critical -> high" in text
    assert "still failing: CERT002" in text
    assert "failed before, not checked now: RES001" in text
    assert "  TLS             10.0      14.5     +4.50" in text
    assert "  TTFB            4.00      4.00     +0.00" in text
    assert (
        f"TLSv1.3: {'aa' * 16}: ticket key not rotated between these reports "
        "(2025-01-01T10:00:00+00:00 and 2025-01-02T10:00:00+00:00)"
    ) in text
    assert "TLSv1.2: no ticket key names in either report" in text
    # And the JSON carries the same
    as_json = to_json(comparison)
    assert as_json["score_change"] == 30
    findings = as_json["findings"]
    assert isinstance(findings, dict)
    assert [item["rule_id"] for item in findings["new"]] == ["OCSP001", "EARLY001"]
    assert findings["worse"] == [
        {"rule_id": "TLS002", "old_severity": "low", "new_severity": "medium", "message": "TLS002"}
    ]
    assert as_json["ticket_keys"] == {
        "TLSv1.2": {"old": None, "new": None, "rotated": None},
        "TLSv1.3": {"old": ["aa" * 16], "new": ["aa" * 16], "rotated": False},
    }
    assert as_json["timings"]["tls_ms"] == {"old": 10.0, "new": 14.5, "change": 4.5}  # type: ignore[index]
    json.dumps(as_json)  # serialisable as it is


def test_rotated_keys_and_differing_targets() -> None:
    old = snapshot_of_document(
        document([], key_names=["aa" * 16]), label="old.json", where="old.json"
    )
    new = snapshot_of_document(
        document([], key_names=["bb" * 16], port=8443), label="new.json", where="new.json"
    )
    text = render_text(compare(old, new))
    assert f"TLSv1.3: rotated: {'aa' * 16} -> {'bb' * 16}" in text
    assert "targets differ: example.com:443 -> example.com:8443" in text
    assert "findings:\n  no change" in text


def test_regressions_count_only_new_or_worse() -> None:
    # Given a baseline that accepted TLS001 (high) and TLS002 (low)
    baseline = snapshot_of_document(
        document([("TLS001", "high", "failed"), ("TLS002", "low", "failed")]),
        label="old.json",
        where="old.json",
    )
    current = (
        finding("TLS001", Severity.HIGH),  # same: accepted debt
        finding("TLS002", Severity.MEDIUM),  # worse
        finding("CERT001", Severity.HIGH),  # new
        finding("CERT002", Severity.CRITICAL, RuleStatus.UNKNOWN),  # not a finding
    )
    assert [item.rule_id for item in regressions(baseline, current)] == ["TLS002", "CERT001"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json at all", "not JSON"),
        ("[]", "not an httpsaudit JSON report (no schema_version)"),
        ('{"schema_version": "1.0", "probes": {}}', "the report has no findings list"),
        ('{"schema_version": "1.1", "findings": [3]}', "findings[0]: expected an object"),
        ('{"schema_version": "1.1", "findings": [{}]}', "findings[0]: rule_id missing"),
        (
            '{"schema_version": "1.1", "findings": [{"rule_id": "TLS001", "status": "bad"}]}',
            "findings[0] (TLS001): status: 'bad' is not a rule status",
        ),
        (
            '{"schema_version": "1.1", "findings": '
            '[{"rule_id": "TLS001", "status": "failed", "severity": "urgent"}]}',
            "findings[0] (TLS001): severity: 'urgent' is not a severity",
        ),
        (
            '{"schema_version": "1.1", "findings": [], "score": "high"}',
            "score: 'high' is not a number",
        ),
    ],
)
def test_malformed_baselines_are_one_line_errors(
    tmp_path: Path, content: str, expected: str
) -> None:
    path = tmp_path / "old.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError) as caught:
        load_report(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_malformed_baseline_exits_2_before_any_network(tmp_path: Path) -> None:
    # Given a baseline that is not a report, and a closed port (scanning would be exit 3)
    bogus = tmp_path / "old.json"
    bogus.write_text('{"hello": "world"}', encoding="utf-8")
    result = CliRunner().invoke(main, ["scan", "127.0.0.1:9", "--baseline", str(bogus)])
    # Then exit 2 with one line naming the file
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"httpsaudit: error: {bogus}: not an httpsaudit JSON report (no schema_version)"
    ]


def test_diff_of_malformed_or_missing_reports_exits_2(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text("{", encoding="utf-8")
    missing = tmp_path / "missing.json"
    for old, new in ((bogus, bogus), (missing, bogus)):
        result = CliRunner().invoke(main, ["diff", str(old), str(new)])
        assert result.exit_code == 2
        assert result.output.startswith(f"httpsaudit: error: {old}: ")
        assert len(result.output.strip().splitlines()) == 1


def test_a_real_report_round_trips(pki: TestPKI, tmp_path: Path) -> None:
    # Given a real scan of a TLS 1.2-only server, evaluated and written as JSON
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as server:
        result = scan_local(server.port, ca_file=pki.root_path)
    rules = evaluate(result, RULES)
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report_dict(result, rules=rules)), encoding="utf-8")
    # When it is read back as a baseline
    loaded = load_report(path)
    # Then every finding, the score, the timings and the ticket keys survive
    assert loaded.label == "report.json"
    assert loaded.target == f"localhost:{server.port}"
    assert loaded.score == rules.score
    assert loaded.grade == rules.grade
    assert loaded.findings["TLS001"].failed
    assert loaded.findings["TLS001"].severity is Severity.HIGH
    assert {key: finding.status for key, finding in loaded.findings.items()} == {
        finding.rule_id: finding.status.value for finding in rules.findings
    }
    connection = result.connection.result
    assert connection is not None
    assert connection.tls is not None
    assert loaded.timings_ms["tls"] is not None
    assert loaded.timings_ms["tcp"] is not None
    resumption = result.resumption.result
    assert resumption is not None
    assert resumption.tls12_tickets is not None
    assert loaded.ticket_key_names["TLSv1.2"] == resumption.tls12_tickets.key_names
    # And against itself nothing is new
    assert regressions(loaded, rules.findings) == ()


def test_diff_names_reports_by_path_when_their_names_match(tmp_path: Path) -> None:
    # Given two runs' reports, both called report.json
    paths = []
    for run, started_at in (("1", "2025-01-01T10:00:00+00:00"), ("2", "2025-01-02T10:00:00+00:00")):
        path = tmp_path / run / "report.json"
        path.parent.mkdir()
        path.write_text(json.dumps(document([], started_at=started_at)), encoding="utf-8")
        paths.append(path)
    result = CliRunner().invoke(main, ["diff", str(paths[0]), str(paths[1])])
    # Then the header tells them apart
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"{paths[0]} (2025-01-01T10:00:00+00:00) -> {paths[1]} (2025-01-02T10:00:00+00:00)"
    )
