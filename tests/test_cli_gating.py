"""CI gating end to end: every exit code against real lab servers, their precedence, the
gate's options, policy files on disk, baselines and ``diff``.

Servers: ``openssl s_server`` offering TLS 1.3 (the clean case), the same with ``-no_tls1_3``
(TLS001, high: the gate fails by default), and ``OneConnectionServer``, which serves the timed
connection and then stops listening, so every later probe's connection is refused: a probe
that really fails.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path

import pytest
from click.testing import CliRunner

from httpsaudit.cli import ExitCode, final_exit_code, main
from tests.pki import TestPKI
from tests.servers import IO_TIMEOUT_S, OpenSSLServer, PythonTlsServer, RawServer
from tests.test_cli import one_line_error, run_cli, unused_port, validate


def gate_line(stderr: str) -> str:
    """The gate's one-line verdict on stderr."""
    lines = [line for line in stderr.splitlines() if line.startswith("httpsaudit: gate ")]
    assert len(lines) == 1, stderr
    return lines[0]


def scan_args(port: int, pki: TestPKI, *extra: str) -> list[str]:
    return [
        "scan",
        f"localhost:{port}",
        "--connect-to",
        "127.0.0.1",
        "--ca-file",
        str(pki.root_path),
        *extra,
    ]


def findings_by_id(document: dict[str, object]) -> dict[str, dict[str, object]]:
    findings = document["findings"]
    assert isinstance(findings, list)
    return {finding["rule_id"]: finding for finding in findings}


class OneConnectionServer(PythonTlsServer):
    """Serves the first connection (the scan's timed connection, which always runs alone and
    first), then closes its listening socket: every later connect is refused, at once.

    ``openssl s_server -naccept 1`` does the same but races: until its process has exited,
    the kernel still queues connections for it, and the probe sees a reset instead.
    """

    thread_name = "lab-one-connection"

    def _accept_loop(self) -> None:
        listener = self._listener
        assert listener is not None
        while not self.stopping:
            try:
                connection, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            listener.close()  # before the handshake even starts: nothing else gets in
            connection.settimeout(IO_TIMEOUT_S)
            self.spawn(self._serve, connection)
            return


@pytest.fixture(scope="module")
def tls13(pki: TestPKI) -> Iterator[OpenSSLServer]:
    """TLS 1.2 and 1.3, ECDSA P-256 from the lab CA: no finding at or above high."""
    with OpenSSLServer(pki.ecdsa_p256) as server:
        yield server


@pytest.fixture(scope="module")
def tls12(pki: TestPKI) -> Iterator[OpenSSLServer]:
    """The same server without TLS 1.3: TLS001 (high) fails."""
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as server:
        yield server


# -- the order of exit codes, as a pure function ----------------------------------------------

_CODES = (ExitCode.USAGE, ExitCode.INTERNAL, ExitCode.UNREACHABLE)
_CODES += (ExitCode.GATE_FAILED, ExitCode.INCOMPLETE)


@pytest.mark.parametrize(
    "applies",
    [set(chosen) for size in range(len(_CODES) + 1) for chosen in combinations(_CODES, size)],
)
def test_precedence_is_2_5_3_1_4_0(applies: set[ExitCode]) -> None:
    order = [2, 5, 3, 1, 4]
    expected = next((code for code in order if code in applies), 0)
    assert final_exit_code(applies) == expected
    # --exit-zero removes 1 and nothing else
    without_gate = applies - {ExitCode.GATE_FAILED}
    expected_zero = next((code for code in order if code in without_gate), 0)
    assert final_exit_code(applies, exit_zero=True) == expected_zero


# -- 0 and 1 ----------------------------------------------------------------------------------


def test_exit_0_on_a_clean_server(tls13: OpenSSLServer, pki: TestPKI) -> None:
    # When a TLS 1.3 server is scanned with every rule and the default gate
    completed = run_cli(*scan_args(tls13.port, pki, "--format", "json"))
    # Then exit 0, the gate says why on stderr, the report carries findings and exit code
    assert completed.returncode == 0, completed.stderr
    assert gate_line(completed.stderr) == "httpsaudit: gate passed: no finding at or above high"
    document = json.loads(completed.stdout)
    validate(document)
    assert document["exit_code"] == 0
    findings = findings_by_id(document)
    assert findings["TLS001"]["status"] == "passed"
    assert not [
        rule_id
        for rule_id, finding in findings.items()
        if finding["status"] == "failed" and finding["severity"] in ("high", "critical")
    ]


def test_exit_1_gate_failed_on_tls001(tls12: OpenSSLServer, pki: TestPKI) -> None:
    # When a TLS 1.2-only server is scanned with the default gate (high)
    completed = run_cli(*scan_args(tls12.port, pki, "--format", "json"))
    # Then exit 1, one line naming the finding, and the finding in the report
    assert completed.returncode == 1, completed.stderr
    assert gate_line(completed.stderr) == (
        "httpsaudit: gate failed: 1 finding at or above high (TLS001)"
    )
    document = json.loads(completed.stdout)
    validate(document)
    assert document["exit_code"] == 1
    tls001 = findings_by_id(document)["TLS001"]
    assert tls001["status"] == "failed"
    assert tls001["severity"] == "high"
    assert tls001["evidence"] == {"offered_versions": ["TLSv1.2"]}


def test_fail_on_moves_the_threshold(tls12: OpenSSLServer, pki: TestPKI) -> None:
    critical = run_cli(*scan_args(tls12.port, pki, "--select", "TLS", "--fail-on", "critical"))
    never = run_cli(*scan_args(tls12.port, pki, "--select", "TLS", "--fail-on", "none"))
    medium = run_cli(
        *scan_args(tls12.port, pki, "--select", "TLS001,TLS002", "--fail-on", "MEDIUM")
    )
    assert critical.returncode == 0, critical.stderr
    assert gate_line(critical.stderr) == (
        "httpsaudit: gate passed: no finding at or above critical"
    )
    assert never.returncode == 0
    assert gate_line(never.stderr) == "httpsaudit: gate passed: severity not gated"
    assert medium.returncode == 1
    assert gate_line(medium.stderr) == (
        "httpsaudit: gate failed: 1 finding at or above medium (TLS001)"
    )


def test_fail_under_gates_on_the_score(tls12: OpenSSLServer, pki: TestPKI) -> None:
    # Given the score of the TLS 1.2-only server with only TLS001 selected (latency 80)
    base = scan_args(tls12.port, pki, "--select", "TLS001", "--fail-on", "none")
    # Then 92 fails a floor of 93 and passes a floor of 92
    above = run_cli(*base, "--fail-under", "93", "--format", "json")
    at = run_cli(*base, "--fail-under", "92")
    assert json.loads(above.stdout)["score"] == 92
    assert above.returncode == 1
    assert gate_line(above.stderr) == "httpsaudit: gate failed: score 92 is under 93"
    assert at.returncode == 0
    assert gate_line(at.stderr) == "httpsaudit: gate passed: severity not gated; score 92 >= 92"


def test_exit_zero_turns_1_into_0(tls12: OpenSSLServer, pki: TestPKI) -> None:
    completed = run_cli(*scan_args(tls12.port, pki, "--select", "TLS001", "--exit-zero"))
    assert completed.returncode == 0
    assert gate_line(completed.stderr) == (
        "httpsaudit: gate failed: 1 finding at or above high (TLS001) (--exit-zero: not failing)"
    )


# -- select and ignore --------------------------------------------------------------------------


def test_select_runs_only_the_probes_the_rules_need(tls13: OpenSSLServer, pki: TestPKI) -> None:
    # When only TLS001 is selected
    selected = run_cli(
        *scan_args(tls13.port, pki, "--select", "tls13-disabled", "--format", "json")
    )
    everything = run_cli(*scan_args(tls13.port, pki, "--format", "json"))
    # Then only the timed connection and the versions probe ran, and the connection count says so
    document = json.loads(selected.stdout)
    validate(document)
    probes = document["probes"]
    assert {name for name, probe in probes.items() if probe["status"] == "completed"} == {
        "connection",
        "versions",
    }
    assert probes["resumption"]["skip_reason"] == "not part of this scan"
    assert document["connections"] == sum(probe["connections"] for probe in probes.values())
    assert (
        document["connections"]
        == probes["connection"]["connections"] + probes["versions"]["connections"]
    )
    assert document["connections"] < json.loads(everything.stdout)["connections"]
    # And every other rule is ignored, not passed
    statuses = {rule_id: finding["status"] for rule_id, finding in findings_by_id(document).items()}
    assert statuses.pop("TLS001") == "passed"
    assert set(statuses.values()) == {"ignored"}


def test_ignore_by_name_and_prefix(tls12: OpenSSLServer, pki: TestPKI) -> None:
    # When the failing rule is ignored by its kebab name, among comma-separated tokens
    completed = run_cli(
        *scan_args(
            tls12.port,
            pki,
            "--select",
            "TLS001,TLS002",
            "--ignore",
            "tls13-disabled",
            "--format",
            "json",
        )
    )
    # Then the gate passes and the rule is reported as ignored
    assert completed.returncode == 0, completed.stderr
    findings = findings_by_id(json.loads(completed.stdout))
    assert findings["TLS001"]["status"] == "ignored"
    assert findings["TLS002"]["status"] == "passed"
    # And a family prefix ignores the whole family
    family = run_cli(*scan_args(tls12.port, pki, "--select", "TLS", "--ignore", "TLS"))
    assert family.returncode == 0
    assert gate_line(family.stderr) == "httpsaudit: gate passed: no finding at or above high"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--select", "XYZ001"], "Invalid value for '--select': unknown rule 'XYZ001'"),
        (["--ignore", "TLS001,nope"], "Invalid value for '--ignore': unknown rule 'nope'"),
        (["--fail-on", "urgent"], "Invalid value for '--fail-on'"),
        (["--fail-under", "101"], "Invalid value for '--fail-under'"),
        (["--lang", "fr"], "Invalid value for '--lang'"),
        (["--format", "xml"], "Invalid value for '--format'"),
        (["--baseline", "/nonexistent/old.json"], "Invalid value for '--baseline'"),
        (["--policy", "/nonexistent/httpsaudit.toml"], "Invalid value for '--policy'"),
        (["--report", "xml:out.xml"], "Invalid value for '--report'"),
        (["--report", "sarif"], "expected {text|json|jsonl|sarif|junit|markdown}:PATH"),
        (["--exit-zero", "--select", "XYZ"], "unknown rule 'XYZ'"),  # --exit-zero never hides 2
    ],
)
def test_usage_errors_exit_2_and_send_nothing(args: list[str], words: str) -> None:
    # Given a listening server that records every connection
    with RawServer("garbage") as server:
        completed = run_cli("scan", f"127.0.0.1:{server.port}", *args)
        received = list(server.received)
    # Then exit 2, click's message, and not one connection
    assert completed.returncode == 2, completed.stderr
    assert words in completed.stderr
    assert "Traceback" not in completed.stderr
    assert received == []


# -- 3, 4, 5 and their precedence -----------------------------------------------------------


def test_exit_3_unreachable_beats_strict_and_exit_zero() -> None:
    port = unused_port()
    completed = run_cli("scan", f"127.0.0.1:{port}", "--strict", "--exit-zero", "--timeout", "3")
    assert completed.returncode == 3
    assert "connection refused" in one_line_error(completed.stderr)
    assert gate_line(completed.stderr) == (
        "httpsaudit: gate not evaluated: no TLS session with the target"
    )
    assert "scan incomplete" not in completed.stderr


def test_exit_4_strict_when_a_needed_probe_failed(pki: TestPKI) -> None:
    # Given a server that answers the timed connection, then stops listening: the versions
    # probe's connections are refused, so TLS001 (which needs it) is unknown
    with OneConnectionServer(pki.ecdsa_p256) as server:
        strict = run_cli(*scan_args(server.port, pki, "--select", "TLS001", "--strict"))
    with OneConnectionServer(pki.ecdsa_p256) as server:
        lenient = run_cli(*scan_args(server.port, pki, "--select", "TLS001", "--format", "json"))
    # Then --strict exits 4 and says which probe failed and which rule it left unknown
    assert strict.returncode == 4, strict.stderr
    assert "versions probe: TCP: TCP connect to 127.0.0.1:" in strict.stderr
    assert "connection refused" in strict.stderr
    incomplete = [line for line in strict.stderr.splitlines() if "scan incomplete" in line]
    assert len(incomplete) == 1
    assert incomplete[0].endswith(
        "scan incomplete (--strict): the versions probe failed, so TLS001 is unknown"
    )
    # And without --strict the same scan exits 0, with the rule unknown (never passed)
    assert lenient.returncode == 0, lenient.stderr
    document = json.loads(lenient.stdout)
    assert document["probes"]["versions"]["status"] == "failed"
    tls001 = findings_by_id(document)["TLS001"]
    assert tls001["status"] == "unknown"
    assert str(tls001["reason"]).startswith("the versions probe failed: TCP connect to")


def test_strict_does_not_count_probes_left_out_by_select(
    tls13: OpenSSLServer, pki: TestPKI
) -> None:
    # Probes skipped because no selected rule needs them are not failures
    completed = run_cli(*scan_args(tls13.port, pki, "--select", "TLS001", "--strict"))
    assert completed.returncode == 0, completed.stderr


def test_gate_1_beats_incomplete_4_and_exit_zero_reveals_4(pki: TestPKI) -> None:
    # Given an expired certificate (CERT001, critical: read from the timed connection) on a
    # server that then stops listening (the versions probe fails: TLS001 unknown)
    runs = {}
    for name, extra in {
        "strict": ("--strict",),
        "strict_exit_zero": ("--strict", "--exit-zero"),
        "exit_zero": ("--exit-zero",),
    }.items():
        with OneConnectionServer(pki.expired) as server:
            runs[name] = run_cli(*scan_args(server.port, pki, "--select", "CERT001,TLS001", *extra))
    # Then both apply and 1 wins; --exit-zero removes 1, so 4 shows; without --strict, 0
    assert runs["strict"].returncode == 1, runs["strict"].stderr
    assert "(CERT001)" in gate_line(runs["strict"].stderr)
    assert "scan incomplete (--strict)" in runs["strict"].stderr
    assert runs["strict_exit_zero"].returncode == 4
    assert runs["exit_zero"].returncode == 0


def test_exit_5_planted_bug_beats_a_failed_gate(
    tls12: OpenSSLServer, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a probe with a bug, on a server that also fails the gate
    from httpsaudit.probes.certificate import CertificateProbe

    def broken(self: CertificateProbe, context: object) -> None:
        raise KeyError("planted bug")

    monkeypatch.setattr(CertificateProbe, "run", broken)
    args = scan_args(tls12.port, pki, "--select", "TLS001,CERT001", "--exit-zero")
    result = CliRunner().invoke(main, args)
    # Then 5 wins over 1, and --exit-zero does not hide it
    assert result.exit_code == 5, result.output
    assert "internal error: KeyError('planted bug')" in result.stderr
    assert "gate failed: 1 finding at or above high (TLS001)" in result.stderr


def test_exit_5_for_a_bug_in_a_rule(
    tls13: OpenSSLServer, pki: TestPKI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a rule whose check raises (the engine reports it as unknown and carries on)
    import dataclasses

    import httpsaudit.cli as cli
    from httpsaudit.rules import RULES

    def broken(scan: object, context: object) -> None:
        raise ZeroDivisionError("planted bug")

    planted = tuple(
        dataclasses.replace(rule, check=broken) if rule.id == "TLS002" else rule for rule in RULES
    )
    monkeypatch.setattr(cli, "RULES", planted)
    result = CliRunner().invoke(main, scan_args(tls13.port, pki, "--select", "TLS"))
    # Then exit 5 with one line naming the rule
    assert result.exit_code == 5, result.output
    assert "TLS002: internal error in the rule: ZeroDivisionError('planted bug')" in result.stderr


# -- languages and formats ------------------------------------------------------------------


def test_lang_zh_in_the_report(tls12: OpenSSLServer, pki: TestPKI) -> None:
    completed = run_cli(
        *scan_args(tls12.port, pki, "--select", "TLS001", "--lang", "zh", "--format", "json")
    )
    document = json.loads(completed.stdout)
    assert document["lang"] == "zh"
    assert findings_by_id(document)["TLS001"]["message"] == (
        "服务器未启用 TLS 1.3(当前支持:TLSv1.2)"
    )


def test_every_format_carries_the_finding_and_the_exit_code(
    tls12: OpenSSLServer, pki: TestPKI, tmp_path: Path
) -> None:
    # When one scan writes Markdown to stdout and every other format to a file (--report)
    paths = {name: tmp_path / f"report.{name}" for name in ("sarif", "junit", "json", "text")}
    extra = [arg for name, path in paths.items() for arg in ("--report", f"{name}:{path}")]
    completed = run_cli(
        *scan_args(tls12.port, pki, "--select", "TLS001,TLS002", "--format", "markdown", *extra)
    )
    # Then one gate verdict, one exit code, and the same finding in every format
    assert completed.returncode == 1, completed.stderr
    assert "TLS001" in completed.stdout
    results = json.loads(paths["sarif"].read_text("utf-8"))["runs"][0]["results"]
    assert [result["ruleId"] for result in results] == ["TLS001"]
    # Our own report, just written: not untrusted XML.
    cases = ElementTree.parse(paths["junit"]).getroot().iter("testcase")  # noqa: S314
    failed = [case.get("name", "") for case in cases if case.find("failure") is not None]
    assert len(failed) == 1
    assert failed[0].startswith("TLS001")
    document = json.loads(paths["json"].read_text("utf-8"))
    validate(document)
    assert document["exit_code"] == 1
    assert findings_by_id(document)["TLS001"]["status"] == "failed"
    assert "TLS001" in paths["text"].read_text("utf-8")
    assert "\x1b[" not in paths["text"].read_text("utf-8")


# -- policy files on disk ---------------------------------------------------------------------


def test_policy_discovery_and_per_target_tables(
    tls12: OpenSSLServer, pki: TestPKI, tmp_path: Path
) -> None:
    # Given a pyproject.toml two directories up that only fails on critical findings
    project = tmp_path / "project"
    workdir = project / "deploy" / "ci"
    workdir.mkdir(parents=True)
    pyproject = project / "pyproject.toml"
    top = '[project]\nname = "site"\n\n[tool.httpsaudit]\nfail-on = "critical"\nselect = ["TLS"]\n'
    pyproject.write_text(top, encoding="utf-8")
    # When scanning from the nested directory
    relaxed = run_cli(*scan_args(tls12.port, pki), cwd=workdir)
    # Then the policy was found and applied
    assert relaxed.returncode == 0, relaxed.stderr
    assert gate_line(relaxed.stderr) == "httpsaudit: gate passed: no finding at or above critical"
    # Given a per-target table for this host:port that gates at high again, and one for another
    pyproject.write_text(
        top
        + f'\n[tool.httpsaudit.targets."localhost:{tls12.port}"]\nfail-on = "high"\n'
        + '\n[tool.httpsaudit.targets."other.example"]\nfail-on = "info"\n',
        encoding="utf-8",
    )
    strict = run_cli(*scan_args(tls12.port, pki), cwd=workdir)
    assert strict.returncode == 1
    assert (
        gate_line(strict.stderr) == "httpsaudit: gate failed: 1 finding at or above high (TLS001)"
    )
    # And a flag beats the file
    flagged = run_cli(*scan_args(tls12.port, pki, "--fail-on", "none"), cwd=workdir)
    assert flagged.returncode == 0
    # And --no-policy ignores it (the default gate: high)
    isolated = run_cli(*scan_args(tls12.port, pki, "--select", "TLS", "--no-policy"), cwd=workdir)
    assert isolated.returncode == 1


def test_policy_severity_override_and_explicit_path(
    tls12: OpenSSLServer, pki: TestPKI, tmp_path: Path
) -> None:
    # Given an explicit policy lowering TLS001 to low, selecting one rule, in Chinese
    policy = tmp_path / "audit.toml"
    policy.write_text(
        'select = ["TLS001"]\nlang = "zh"\n[severity]\ntls13-disabled = "low"\n', encoding="utf-8"
    )
    completed = run_cli(*scan_args(tls12.port, pki, "--policy", str(policy), "--format", "json"))
    # Then the finding is low, the default gate (high) passes, and the selection limited probes
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    assert document["lang"] == "zh"
    tls001 = findings_by_id(document)["TLS001"]
    assert (tls001["status"], tls001["severity"]) == ("failed", "low")
    assert document["probes"]["resumption"]["status"] == "skipped"


def test_a_bad_policy_file_exits_2_in_a_subprocess(tmp_path: Path) -> None:
    (tmp_path / "httpsaudit.toml").write_text('[targets."a.example"]\nselect = ["TLS999x"]\n')
    completed = run_cli("scan", f"127.0.0.1:{unused_port()}", cwd=tmp_path)
    assert completed.returncode == 2
    assert one_line_error(completed.stderr) == (
        f'httpsaudit: error: {tmp_path / "httpsaudit.toml"}: targets."a.example".select: '
        "unknown rule 'TLS999x' (httpsaudit rules lists them)"
    )


# -- baselines and diff -----------------------------------------------------------------------


def test_baseline_round_trip(
    tls13: OpenSSLServer, tls12: OpenSSLServer, pki: TestPKI, tmp_path: Path
) -> None:
    # Given a baseline written from the clean server
    baseline = tmp_path / "base.json"
    written = run_cli(*scan_args(tls13.port, pki, "--format", "json", "--output", str(baseline)))
    assert written.returncode == 0, written.stderr
    # When the same server is scanned against it
    same = run_cli(*scan_args(tls13.port, pki, "--baseline", str(baseline)))
    # Then nothing is new: exit 0
    assert same.returncode == 0, same.stderr
    assert gate_line(same.stderr) == (
        "httpsaudit: gate passed: no new or worse finding at or above high compared with base.json"
    )
    # When a worse server (no TLS 1.3) is scanned against the same baseline
    worse = run_cli(*scan_args(tls12.port, pki, "--baseline", str(baseline)))
    # Then exit 1 naming the new finding (and a warning that the targets differ)
    assert worse.returncode == 1
    assert gate_line(worse.stderr) == (
        "httpsaudit: gate failed: 1 new or worse finding at or above high (TLS001) "
        "compared with base.json"
    )
    assert f"warning: baseline base.json is a report on localhost:{tls13.port}" in worse.stderr


def test_baseline_accepts_known_debt_but_not_a_worse_severity(
    tls12: OpenSSLServer, pki: TestPKI, tmp_path: Path
) -> None:
    # Given a baseline of the TLS 1.2-only server itself (written with --exit-zero)
    debt = tmp_path / "debt.json"
    base = scan_args(tls12.port, pki, "--select", "TLS")
    run_cli(*base, "--exit-zero", "--format", "json", "--output", str(debt))
    # Then rescanning it against its own baseline passes: TLS001 is known, not new
    known = run_cli(*base, "--baseline", str(debt))
    assert known.returncode == 0, known.stderr
    # Given a baseline in which TLS001 was only low (a policy lowered it then)
    policy = tmp_path / "then.toml"
    policy.write_text('[severity]\nTLS001 = "low"\n', encoding="utf-8")
    low = tmp_path / "low.json"
    run_cli(*base, "--policy", str(policy), "--format", "json", "--output", str(low))
    assert findings_by_id(json.loads(low.read_text("utf-8")))["TLS001"]["severity"] == "low"
    # Then the same finding at high now is worse, and fails the gate
    worse = run_cli(*base, "--baseline", str(low), "--no-policy")
    assert worse.returncode == 1
    assert "1 new or worse finding at or above high (TLS001)" in gate_line(worse.stderr)


def test_diff_reports(
    tls13: OpenSSLServer, tls12: OpenSSLServer, pki: TestPKI, tmp_path: Path
) -> None:
    # Given two reports of the same server process and one of the TLS 1.2-only server
    paths = {name: tmp_path / f"{name}.json" for name in ("first", "second", "worse")}
    for name, server in (("first", tls13), ("second", tls13), ("worse", tls12)):
        out = paths[name]
        run_cli(
            *scan_args(server.port, pki, "--exit-zero", "--format", "json", "--output", str(out))
        )
    documents = {name: json.loads(path.read_text("utf-8")) for name, path in paths.items()}
    # When the two reports of one server are compared
    same = run_cli("diff", str(paths["first"]), str(paths["second"]))
    # Then nothing new, and the ticket key did not rotate (the same s_server process)
    assert same.returncode == 0, same.stderr
    first_at, second_at = documents["first"]["started_at"], documents["second"]["started_at"]
    assert same.stdout.splitlines()[0] == f"first.json ({first_at}) -> second.json ({second_at})"
    assert f"target: localhost:{tls13.port}" in same.stdout
    assert "  no change" in same.stdout
    key = documents["first"]["probes"]["resumption"]["result"]["tls13_tickets"]["key_names"][0]
    assert (
        f"  TLSv1.3: {key}: ticket key not rotated between these reports ({first_at} and "
        f"{second_at})"
    ) in same.stdout
    for phase in ("DNS", "TCP", "TLS", "TTFB"):
        assert f"\n  {phase} " in same.stdout
    # When the clean report is compared with the worse one
    worse = run_cli("diff", str(paths["first"]), str(paths["worse"]))
    old_score, new_score = documents["first"]["score"], documents["worse"]["score"]
    assert (
        f"score: {old_score} ({documents['first']['grade']}) -> {new_score} "
        f"({documents['worse']['grade']})  {new_score - old_score:+d}"
    ) in worse.stdout
    new_lines = [line for line in worse.stdout.splitlines() if line.startswith("  new ")]
    assert any(line.split()[1:3] == ["TLS001", "high"] for line in new_lines)
    assert "TLSv1.2: rotated: " in worse.stdout  # another s_server process, another key
    # And the JSON form says the same
    as_json = json.loads(
        run_cli("diff", str(paths["first"]), str(paths["worse"]), "--format", "json").stdout
    )
    assert "TLS001" in [item["rule_id"] for item in as_json["findings"]["new"]]
    assert as_json["score_change"] == new_score - old_score
    assert as_json["ticket_keys"]["TLSv1.2"]["rotated"] is True
    assert as_json["timings"]["tls_ms"]["old"] is not None
