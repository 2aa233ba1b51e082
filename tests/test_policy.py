"""Policy files: discovery like ruff's, validation with one-line errors naming file and key,
per-target tables, precedence, and the gate they configure.

The end-to-end side (a policy changing a real scan's exit code) is in tests/test_cli_gating.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from httpsaudit.cli import main
from httpsaudit.policy import (
    GateSettings,
    PolicyError,
    Settings,
    discover,
    evaluate_gate,
    load,
    split_rule_tokens,
    unknown_rule_tokens,
)
from httpsaudit.rules.engine import RuleReport
from httpsaudit.rules.model import Category, Finding, RuleStatus, Severity


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def finding(rule_id: str, severity: Severity, status: RuleStatus = RuleStatus.FAILED) -> Finding:
    return Finding(
        rule_id=rule_id,
        name=rule_id.lower(),
        severity=severity,
        category=Category.LATENCY,
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


def report(*findings: Finding, score: int = 100) -> RuleReport:
    return RuleReport(findings, score, "A", {}, None, "en")


# -- discovery ----------------------------------------------------------------------------


def test_discovery_finds_the_nearest_policy_up_the_tree(tmp_path: Path) -> None:
    # Given a project with httpsaudit.toml at its root and a nested working directory
    policy = write(tmp_path / "project" / "httpsaudit.toml", 'fail-on = "critical"\n')
    nested = tmp_path / "project" / "deploy" / "ci"
    nested.mkdir(parents=True)
    # Then discovery from the nested directory finds it
    assert discover(nested) == policy


def test_discovery_skips_a_pyproject_without_the_table(tmp_path: Path) -> None:
    # Given a pyproject.toml with [tool.httpsaudit] above one without it
    outer = write(tmp_path / "pyproject.toml", "[tool.httpsaudit]\nfail-under = 80\n")
    inner = write(tmp_path / "pkg" / "pyproject.toml", "[tool.ruff]\nline-length = 100\n")
    # Then the inner one is passed over, as ruff does
    assert discover(inner.parent) == outer
    assert load(outer).settings.fail_under == 80


def test_httpsaudit_toml_wins_over_pyproject_in_the_same_directory(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.httpsaudit]\nfail-under = 80\n")
    dedicated = write(tmp_path / "httpsaudit.toml", "fail-under = 90\n")
    assert discover(tmp_path) == dedicated


def test_no_policy_anywhere(tmp_path: Path) -> None:
    # tmp_path's parents are system directories that hold no policy
    assert discover(tmp_path) is None


# -- parsing and precedence --------------------------------------------------------------------


def test_every_key_and_target_tables(tmp_path: Path) -> None:
    # Given a policy using every key, with per-target tables for a host and a host:port
    path = write(
        tmp_path / "httpsaudit.toml",
        """
fail-on = "medium"
fail-under = 70
select = ["TLS", "tls13-disabled,TLS002"]
ignore = ["TLS002"]
lang = "zh"

[severity]
tls13-disabled = "low"

[targets."legacy.example.com"]
fail-on = "none"
ignore = ["TLS001", "TLS002"]

[targets."legacy.example.com:8443"]
fail-under = 50

[targets."legacy.example.com:8443".severity]
TLS002 = "critical"
""",
    )
    policy = load(path)
    # Then the top level is what any other target gets
    other = policy.for_target("www.example.com", 443)
    assert other.gate() == GateSettings(fail_on=Severity.MEDIUM, fail_under=70)
    assert other.select == ("TLS", "tls13-disabled", "TLS002")
    assert other.ignore == ("TLS002",)
    assert other.lang == "zh"
    assert other.severity == {"TLS001": Severity.LOW}  # names are stored as rule ids
    # And the host table applies on any port, replacing values it sets
    any_port = policy.for_target("LEGACY.example.com", 443)
    assert any_port.gate() == GateSettings(fail_on=None, fail_under=70)
    assert any_port.ignore == ("TLS001", "TLS002")
    assert any_port.select == ("TLS", "tls13-disabled", "TLS002")
    # And host:port is laid over the host table; severity tables merge key by key
    exact = policy.for_target("legacy.example.com", 8443)
    assert exact.gate() == GateSettings(fail_on=None, fail_under=50)
    assert exact.severity == {"TLS001": Severity.LOW, "TLS002": Severity.CRITICAL}
    selection = exact.selection()
    assert selection.ignore == ("TLS001", "TLS002")


def test_pyproject_table(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.httpsaudit]\nfail-on = "low"\n'
        '[tool.httpsaudit.targets."[::1]:8443"]\nfail-on = "high"\n',
    )
    policy = load(path)
    assert policy.settings.gate().fail_on is Severity.LOW
    assert policy.for_target("::1", 8443).gate().fail_on is Severity.HIGH
    assert policy.for_target("::1", 443).gate().fail_on is Severity.LOW


def test_flags_beat_the_file() -> None:
    # Given a file that says fail-on none and ignores TLS001, and flags that say otherwise
    from_file = Settings(never_fail_on_severity=True, ignore=("TLS001",), fail_under=90)
    flags = Settings(fail_on=Severity.HIGH, ignore=("TLS002",))
    effective = flags.over(from_file)
    # Then each flag replaces the file's value for its key; unset flags leave the file's
    assert effective.gate() == GateSettings(fail_on=Severity.HIGH, fail_under=90)
    assert effective.ignore == ("TLS002",)
    # And the built-in default gate is fail-on high, no score floor
    assert Settings().gate() == GateSettings(fail_on=Severity.HIGH, fail_under=None)


def test_rule_tokens_split_and_validate() -> None:
    assert split_rule_tokens(["TLS001,TLS", " tls13-disabled ", ","]) == (
        "TLS001",
        "TLS",
        "tls13-disabled",
    )
    assert unknown_rule_tokens(["TLS001", "tls", "tls13-disabled", "old-versions-offered"]) == []
    assert unknown_rule_tokens(["XYZ001", "TLS001", "no-such-rule"]) == ["XYZ001", "no-such-rule"]


# -- validation: one line naming the file and the key -----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('fail_on = "high"\n', "fail_on: unknown key; did you mean 'fail-on'?"),
        ('fail-on = "urgent"\n', "fail-on: 'urgent' is not a severity; use one of info, low"),
        ("fail-on = 3\n", "fail-on: 3 is not a severity"),
        ("fail-under = 101\n", "fail-under: 101 is not a score from 0 to 100"),
        ('fail-under = "80"\n', "fail-under: '80' is not a score from 0 to 100"),
        ("fail-under = true\n", "fail-under: True is not a score from 0 to 100"),
        ('select = "TLS001"\n', 'select: expected a list of rule ids, like ["TLS001"]'),
        ('ignore = ["XYZ001"]\n', "ignore: unknown rule 'XYZ001' (httpsaudit rules lists them)"),
        ('lang = "fr"\n', "lang: 'fr'; use one of en, zh"),
        ('[severity]\nXYZ001 = "low"\n', "severity.XYZ001: unknown rule 'XYZ001'"),
        ('[severity]\nTLS001 = "urgent"\n', "severity.TLS001: 'urgent' is not a severity"),
        ('severity = "low"\n', "severity: expected a table of rule = severity"),
        (
            '[targets."a.example"]\nfail-on = "hihg"\n',
            "targets.\"a.example\".fail-on: 'hihg' is not a severity",
        ),
        (
            '[targets."a.example"]\ntargets = 1\n',
            'targets."a.example".targets: unknown key',
        ),
        ('[targets."a.example:0"]\n', 'targets."a.example:0": not a host or host:port'),
        ('targets = ["a.example"]\n', "targets: expected a table"),
        ("fail-on = \n", "not valid TOML"),
    ],
)
def test_bad_policies_are_one_line_errors(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "httpsaudit.toml", text)
    with pytest.raises(PolicyError) as caught:
        load(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_pyproject_errors_name_the_tool_table(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[tool.httpsaudit]\nfail-on = "urgent"\n')
    with pytest.raises(PolicyError, match=r"pyproject.toml: tool\.httpsaudit\.fail-on: "):
        load(path)
    bare = write(tmp_path / "other" / "pyproject.toml", "[tool.ruff]\nline-length = 100\n")
    with pytest.raises(PolicyError, match=r"no \[tool\.httpsaudit\] table"):
        load(bare)


def test_a_bad_policy_is_exit_2_before_any_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a discovered policy with a typo, in the working directory
    write(tmp_path / "httpsaudit.toml", 'fail-on = "hihg"\n')
    monkeypatch.chdir(tmp_path)
    # When a scan starts (the port is closed: reaching the network would be exit 3)
    result = CliRunner().invoke(main, ["scan", "127.0.0.1:9"])
    # Then exit 2 with one line naming the file and the key
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines == [
        f"httpsaudit: error: {tmp_path / 'httpsaudit.toml'}: fail-on: 'hihg' is not a severity; "
        "use one of info, low, medium, high, critical, none"
    ]


def test_policy_and_no_policy_exclude_each_other(tmp_path: Path) -> None:
    path = write(tmp_path / "httpsaudit.toml", "")
    result = CliRunner().invoke(main, ["scan", "127.0.0.1:9", "--policy", str(path), "--no-policy"])
    assert result.exit_code == 2
    assert "exclude each other" in result.output


# -- the gate ---------------------------------------------------------------------------------


def test_gate_on_severity_and_score() -> None:
    findings = (
        finding("TLS001", Severity.HIGH),
        finding("CERT003", Severity.CRITICAL),
        finding("TLS002", Severity.MEDIUM),
        finding("TLS009", Severity.CRITICAL, RuleStatus.UNKNOWN),  # unknown never trips it
    )
    failed = evaluate_gate(report(*findings, score=62), GateSettings(Severity.HIGH, 70))
    assert failed.failed
    assert [item.rule_id for item in failed.blocking] == ["TLS001", "CERT003"]
    assert failed.summary == (
        "gate failed: 2 findings at or above high (TLS001, CERT003); score 62 is under 70"
    )
    passed = evaluate_gate(report(*findings, score=62), GateSettings(None, 60))
    assert not passed.failed
    assert passed.summary == "gate passed: severity not gated; score 62 >= 60"
    clean = evaluate_gate(report(finding("TLS002", Severity.MEDIUM)), GateSettings())
    assert clean.summary == "gate passed: no finding at or above high"


def test_gate_with_a_baseline_counts_only_what_it_is_given() -> None:
    findings = (finding("TLS001", Severity.HIGH), finding("CERT003", Severity.HIGH))
    verdict = evaluate_gate(
        report(*findings), GateSettings(), counted=findings[1:], against="old.json"
    )
    assert verdict.failed
    assert verdict.summary == (
        "gate failed: 1 new or worse finding at or above high (CERT003) compared with old.json"
    )
    none_new = evaluate_gate(report(*findings), GateSettings(), counted=(), against="old.json")
    assert none_new.summary == (
        "gate passed: no new or worse finding at or above high compared with old.json"
    )
