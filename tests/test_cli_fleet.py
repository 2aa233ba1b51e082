"""Fleet scans from the command line: several targets, target files, stdin, streaming JSON
Lines, one JSON document, the summary table, the overall exit code, and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import typing
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import referencing

from httpsaudit.report.json import load_fleet_schema, load_schema
from tests.pki import TestPKI
from tests.servers import OpenSSLServer, RawServer
from tests.test_cli import REPOSITORY, run_cli

Document = dict[str, typing.Any]


def fleet_validator() -> jsonschema.Draft202012Validator:
    """The fleet schema with the single-report schema it refers to by ``$id``."""
    report = load_schema()
    resource = referencing.Resource.from_contents(report)
    registry: referencing.Registry[typing.Any] = referencing.Registry().with_resource(
        str(report["$id"]), resource
    )
    return jsonschema.Draft202012Validator(
        load_fleet_schema(),
        registry=registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Fleet(typing.NamedTuple):
    good: str  # TLS 1.3, clean but for the ALPN finding
    old: str  # TLS 1.2 only: TLS001 (high) fails the default gate
    unreachable: str  # connection refused


@pytest.fixture(scope="module")
def fleet(pki: TestPKI) -> Iterator[Fleet]:
    with (
        OpenSSLServer(pki.ecdsa_p256) as good,
        OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as old,
    ):
        yield Fleet(f"127.0.0.1:{good.port}", f"127.0.0.1:{old.port}", f"127.0.0.1:{closed_port()}")


def scan_args(pki: TestPKI, *extra: str) -> list[str]:
    return ["--ca-file", str(pki.root_path), "--timeout", "20", *extra]


def test_mixed_targets_give_one_report_each_and_the_first_code_of_all(
    fleet: Fleet, pki: TestPKI
) -> None:
    # Given a good target, one that fails the gate and one nobody listens on
    # When they are scanned in one run with --format json
    completed = run_cli(
        "scan", fleet.good, fleet.old, fleet.unreachable, *scan_args(pki, "--format", "json")
    )
    # Then the exit code is 3 (unreachable outranks the failed gate: 2, 5, 3, 1, 4)
    assert completed.returncode == 3, completed.stderr
    document: Document = json.loads(completed.stdout)
    fleet_validator().validate(document)
    assert document["kind"] == "fleet"
    # And one report per target, each a whole single-target report
    by_target = {report["target"]["input"]: report for report in document["reports"]}
    assert sorted(by_target) == sorted(fleet)
    assert by_target[fleet.good]["exit_code"] == 0
    assert by_target[fleet.old]["exit_code"] == 1
    assert by_target[fleet.unreachable]["exit_code"] == 3
    assert by_target[fleet.unreachable]["reachable"] is False
    # And nothing measured is nothing graded: no score rather than a clean 100
    unreachable = by_target[fleet.unreachable]
    assert (unreachable["score"], unreachable["grade"], unreachable["category_scores"]) == (
        None,
        None,
        None,
    )
    assert isinstance(by_target[fleet.good]["score"], int)
    # And the summary keeps the order given, with each target's verdict
    rows = document["summary"]["targets"]
    assert [row["input"] for row in rows] == list(fleet)
    assert [row["exit_code"] for row in rows] == [0, 1, 3]
    assert rows[1]["worst_finding"] == {
        "rule_id": "TLS001",
        "severity": "high",
        "title": "TLS 1.3 is not offered",
    }
    assert rows[2]["grade"] is None
    assert rows[2]["error"].startswith("TCP: ")
    assert document["summary"]["counts"] == {
        "targets": 3,
        "scanned": 3,
        "unreachable": 1,
        "with_findings": 2,
        "not_scanned": 0,
        "failed": 0,
    }
    assert document["summary"]["exit_code"] == 3
    # And each gate verdict on stderr names its target
    assert f"httpsaudit: {fleet.old}: gate failed: 1 finding at or above high (TLS001)" in (
        completed.stderr.splitlines()
    )
    assert f"httpsaudit: {fleet.good}: gate passed: no finding at or above high" in (
        completed.stderr.splitlines()
    )


def test_without_the_unreachable_target_the_failed_gate_decides(fleet: Fleet, pki: TestPKI) -> None:
    # Given a good target and one failing the gate
    completed = run_cli("scan", fleet.good, fleet.old, *scan_args(pki, "--format", "jsonl"))
    # Then exit 1; and with --exit-zero, 0
    assert completed.returncode == 1, completed.stderr
    relaxed = run_cli(
        "scan", fleet.good, fleet.old, *scan_args(pki, "--format", "jsonl", "--exit-zero")
    )
    assert relaxed.returncode == 0, relaxed.stderr


def test_jsonl_streams_one_valid_report_per_line_from_a_targets_file_and_stdin(
    fleet: Fleet, pki: TestPKI, tmp_path: Path
) -> None:
    # Given a target file with comments and blank lines, and one more target on stdin
    listing = tmp_path / "targets.txt"
    listing.write_text(
        f"# production\n{fleet.good}   # the new cluster\n\n\t\n{fleet.unreachable}\n",
        encoding="utf-8",
    )
    environment = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPOSITORY)}
    # When they are scanned with --format jsonl
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "httpsaudit", "scan", "-", "--targets", str(listing)),
            *scan_args(pki, "--format", "jsonl"),
        ],
        input=f"{fleet.old}\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )
    # Then there is one line per target, each valid against the single-report schema
    assert completed.returncode == 3, completed.stderr
    lines = completed.stdout.splitlines()
    assert len(lines) == 3
    validator = jsonschema.Draft202012Validator(load_schema())
    reports = [json.loads(line) for line in lines]
    for report in reports:
        validator.validate(report)
    assert sorted(report["target"]["input"] for report in reports) == sorted(fleet)


def test_text_ends_with_the_summary_table(fleet: Fleet, pki: TestPKI) -> None:
    # Given two targets
    completed = run_cli("scan", fleet.good, fleet.unreachable, *scan_args(pki))
    # Then the text report ends with one summary row per target, in the order given
    assert completed.returncode == 3, completed.stderr
    tail = completed.stdout[completed.stdout.index("2 targets: 2 scanned, 1 unreachable") :]
    rows = [line for line in tail.splitlines() if line.lstrip().startswith("127.0.0.1:")]
    assert [row.split()[0] for row in rows] == [fleet.good, fleet.unreachable]
    assert "unreachable: TCP: TCP connect" in rows[1]
    assert "ALPN001" in rows[0]
    # And the unreachable target's own report gives no score rather than a clean one
    assert completed.stdout.count("score none: no TLS session with the target") == 1


def test_a_bad_line_in_the_target_file_is_exit_2_before_anything_is_sent(
    pki: TestPKI, tmp_path: Path
) -> None:
    # Given a file whose third line is not a target, and a listening server on the first line
    with RawServer("silent") as server:
        listing = tmp_path / "targets.txt"
        listing.write_text(f"127.0.0.1:{server.port}\n# ok\nexample.com:99999\n", "utf-8")
        # When it is scanned
        completed = run_cli("scan", "--targets", str(listing), *scan_args(pki))
        received = list(server.received)
    # Then exit 2, the file and line in one error, and not one connection
    assert completed.returncode == 2
    assert f"{listing}:3:" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert received == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["a.example", "b.example", "--sni", "a.example"], "--sni names one server"),
        (["--targets", "/dev/null"], "no target"),
        (["a.example", "--concurrency", "0"], "--concurrency"),
    ],
)
def test_fleet_usage_errors_exit_2(args: list[str], words: str) -> None:
    completed = run_cli("scan", *args)
    assert completed.returncode == 2
    assert words in completed.stderr
    assert "Traceback" not in completed.stderr


def test_ctrl_c_writes_a_valid_partial_report_and_exits_130(
    fleet: Fleet, pki: TestPKI, tmp_path: Path
) -> None:
    # Given a good target, then three that accept and never answer, one at a time
    output = tmp_path / "fleet.json"
    with RawServer("silent") as silent:
        hanging = [f"127.0.0.1:{silent.port}"] * 3
        command = [
            sys.executable,
            "-m",
            "httpsaudit",
            "scan",
            fleet.good,
            *hanging,
            "--concurrency",
            "1",
            "--format",
            "json",
            "-o",
            str(output),
            *scan_args(pki),
        ]
        environment = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPOSITORY)}
        process = subprocess.Popen(
            command, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=environment
        )
        try:
            # When the first target is done and the second hangs, Ctrl-C arrives
            assert process.stderr is not None
            seen: list[str] = []
            for line in process.stderr:
                seen.append(line)
                if f"{fleet.good}: gate" in line:
                    break
            wait_for_connection(silent)
            process.send_signal(signal.SIGINT)
            _stdout, rest = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    # Then the process exits 130 at once, saying so
    assert process.returncode == 130, "".join(seen) + rest
    assert "interrupted: the report holds the 2 of 4 targets that ran" in rest
    assert "Traceback" not in rest
    # And the report file is complete and valid: the finished target, the interrupted one,
    # and the two never started
    document: Document = json.loads(output.read_text(encoding="utf-8"))
    fleet_validator().validate(document)
    summary = document["summary"]
    assert summary["interrupted"] is True
    assert summary["exit_code"] == 130
    assert [row["status"] for row in summary["targets"]] == [
        "scanned",
        "scanned",
        "not_scanned",
        "not_scanned",
    ]
    assert summary["targets"][0]["exit_code"] == 0
    assert summary["targets"][1]["interrupted"] is True
    reports = document["reports"]
    assert [report["interrupted"] for report in reports] == [False, True]
    assert reports[1]["probes"]["connection"]["status"] == "skipped"
    assert "Ctrl-C" in reports[1]["probes"]["connection"]["skip_reason"]


def wait_for_connection(server: RawServer, timeout_s: float = 20.0) -> None:
    """Until the silent server has been connected to (the hanging scan has begun)."""
    deadline = time.monotonic() + timeout_s
    while server.connections == 0:
        assert time.monotonic() < deadline, "the scan never connected"
        time.sleep(0.02)


def test_a_fleet_report_is_a_baseline_for_each_of_its_targets(
    fleet: Fleet, pki: TestPKI, tmp_path: Path
) -> None:
    # Given last week's fleet report, in which the old server already lacked TLS 1.3
    baseline = tmp_path / "last-week.json"
    first = run_cli(
        "scan", fleet.good, fleet.old, *scan_args(pki, "--format", "json", "-o", str(baseline))
    )
    assert first.returncode == 1, first.stderr
    # When the same fleet is scanned against it
    again = run_cli(
        "scan",
        fleet.good,
        fleet.old,
        *scan_args(pki, "--format", "jsonl"),
        "--baseline",
        str(baseline),
    )
    # Then nothing is new or worse on either target: the gate passes
    assert again.returncode == 0, again.stderr
    assert (
        f"httpsaudit: {fleet.old}: gate passed: no new or worse finding at or above high "
        f"compared with {baseline.name}"
    ) in again.stderr.splitlines()


def test_ctrl_c_on_one_target_writes_its_partial_report_and_exits_130(
    pki: TestPKI, tmp_path: Path
) -> None:
    # Given one target that accepts and never answers, scanned with a long timeout
    output = tmp_path / "one.json"
    with RawServer("silent") as silent:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "httpsaudit", "scan", f"127.0.0.1:{silent.port}"),
                *("--format", "json", "-o", str(output), *scan_args(pki)),
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(REPOSITORY)},
        )
        try:
            # When Ctrl-C arrives while the timed connection waits for the ServerHello
            wait_for_connection(silent)
            process.send_signal(signal.SIGINT)
            _stdout, stderr = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    # Then exit 130, and the report says the scan was interrupted with nothing graded
    assert process.returncode == 130, stderr
    assert "interrupted: the report holds what finished before Ctrl-C" in stderr
    assert "Traceback" not in stderr
    document: Document = json.loads(output.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(load_schema()).validate(document)
    assert document["interrupted"] is True
    assert document["probes"]["connection"]["skip_reason"] == (
        "interrupted before it finished (Ctrl-C)"
    )
    assert document["probes"]["versions"]["skip_reason"] == (
        "not started: the scan was interrupted (Ctrl-C)"
    )


def test_a_terminal_gets_a_progress_bar_on_stderr(fleet: Fleet, pki: TestPKI) -> None:
    # Given stderr on a pseudo-terminal (stdout, the report, stays a pipe)
    import pty

    leader, follower = pty.openpty()
    try:
        completed = subprocess.run(
            [
                *(sys.executable, "-m", "httpsaudit", "scan", fleet.good, fleet.unreachable),
                *("--format", "jsonl", *scan_args(pki)),
            ],
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
            timeout=120,
            env={**os.environ, "NO_COLOR": "1", "COLUMNS": "120", "PYTHONPATH": str(REPOSITORY)},
            check=False,
        )
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the pty is drained once the follower side is closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    # Then the bar counted both targets, the unreachable one among them
    text = seen.decode("utf-8", "replace")
    assert completed.returncode == 3
    assert "scanning" in text
    assert "2/2" in text
    assert "1 unreachable" in text
    # And the report on stdout is untouched by it: two JSON lines
    assert len(completed.stdout.splitlines()) == 2
