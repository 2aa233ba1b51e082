"""The command line end to end: exit codes, one-line errors, reports on stdout and in files."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from httpsaudit.cli import main
from httpsaudit.report.json import load_schema
from tests.pki import TestPKI
from tests.servers import DnsServer, OpenSSLServer, PythonTlsServer, RawServer

SUBPROCESS_TIMEOUT_S = 60
REPOSITORY = Path(__file__).resolve().parent.parent


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m httpsaudit ARGS`` as a user would run it (from ``cwd``: policy discovery)."""
    environment = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", **(env or {})}
    # From another directory the package must still import as this checkout's.
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPOSITORY), environment.get("PYTHONPATH", "")])
    )
    return subprocess.run(
        [sys.executable, "-m", "httpsaudit", *args],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        env=environment,
        cwd=cwd,
        check=False,
    )


def validate(document: object) -> None:
    jsonschema.Draft202012Validator(load_schema()).validate(document)


def one_line_error(stderr: str) -> str:
    """The error lines on stderr; there must be no traceback."""
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("httpsaudit: error:")]
    assert lines, stderr
    return lines[0]


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_scan_json_to_stdout_exit_0(pki: TestPKI) -> None:
    # Given a good TLS 1.3 server
    with OpenSSLServer(pki.ecdsa_p256) as server:
        # When the user scans it asking for JSON
        completed = run_cli(
            "scan",
            f"localhost:{server.port}",
            "--connect-to",
            "127.0.0.1",
            "--ca-file",
            str(pki.root_path),
            "--format",
            "json",
        )
    # Then exit 0, and stdout is exactly one valid report
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    validate(document)
    assert document["exit_code"] == 0
    assert document["reachable"] is True
    assert document["target"]["sni"] == "localhost"
    assert document["target"]["connect_to"] == ["127.0.0.1"]
    connection = document["probes"]["connection"]
    assert connection["status"] == "completed"
    assert connection["result"]["tls"]["version"] == "TLSv1.3"
    assert connection["result"]["tls"]["round_trips"] == 1
    assert document["probes"]["certificate"]["result"]["verification"]["trusted"] is True
    assert "Traceback" not in completed.stderr


def test_scan_text_report_and_output_file(pki: TestPKI, tmp_path: Path) -> None:
    # Given a TLS 1.2-only server and an output path
    report_path = tmp_path / "report.json"
    text_path = tmp_path / "report.txt"
    with PythonTlsServer(pki.ecdsa_p256, maximum_version=ssl.TLSVersion.TLSv1_2) as server:
        base = ["scan", f"https://localhost:{server.port}/health", "--connect-to", "127.0.0.1"]
        # TLS 1.2 only fails the gate (TLS001); this test is about where reports go.
        base += ["--ca-file", str(pki.root_path), "--samples", "3", "--fail-on", "none"]
        as_json = run_cli(*base, "--format", "json", "--output", str(report_path))
        as_text = run_cli(*base, "--output", str(text_path))
        to_stdout = run_cli(*base)
    # Then the reports went to the files, nothing to stdout
    assert as_json.returncode == 0, as_json.stderr
    assert as_json.stdout == ""
    document = json.loads(report_path.read_text("utf-8"))
    validate(document)
    assert document["target"]["path"] == "/health"
    assert len(document["probes"]["connection"]["result"]["samples"]) == 3
    assert document["probes"]["connection"]["connections"] == 3
    assert as_text.returncode == 0
    assert "TLSv1.2" in text_path.read_text("utf-8")
    # And the text report on stdout has no escape codes with NO_COLOR
    assert to_stdout.returncode == 0
    assert "TLSv1.2" in to_stdout.stdout
    assert "\x1b[" not in to_stdout.stdout
    assert not list(tmp_path.glob(".report.*"))  # no temporary files left behind


@pytest.mark.parametrize(
    ("behaviour", "words"),
    [
        ("silent", "TLS: "),
        ("garbage", "not TLS"),
        ("http", "plain HTTP"),
        ("reset", "reset"),
        ("truncated", "closed the connection"),
    ],
)
def test_unreachable_servers_exit_3_with_one_line_and_a_report(
    behaviour: str, words: str, tmp_path: Path
) -> None:
    report_path = tmp_path / "report.json"
    # Given a TCP server that does not speak TLS properly
    with RawServer(behaviour) as server:  # type: ignore[arg-type]
        completed = run_cli(
            "scan",
            f"127.0.0.1:{server.port}",
            "--timeout",
            "2",
            "--format",
            "json",
            "--output",
            str(report_path),
        )
    # Then exit 3, one clear line naming the target and the phase, and the partial report
    assert completed.returncode == 3, completed.stderr
    line = one_line_error(completed.stderr)
    assert f"127.0.0.1:{server.port}" in line
    assert words in line
    document = json.loads(report_path.read_text("utf-8"))
    validate(document)
    assert document["reachable"] is False
    assert document["exit_code"] == 3
    assert (document["score"], document["grade"]) == (None, None)  # nothing measured to grade
    connection = document["probes"]["connection"]
    assert connection["status"] == "failed"
    assert connection["error"]["phase"] == "tls"
    assert connection["result"]["tcp"]["address"] == "127.0.0.1"


def test_refused_port_exit_3() -> None:
    port = unused_port()
    completed = run_cli("scan", f"127.0.0.1:{port}", "--timeout", "3")
    assert completed.returncode == 3
    line = one_line_error(completed.stderr)
    assert line == (
        f"httpsaudit: error: 127.0.0.1:{port}: TCP: TCP connect to 127.0.0.1:{port} failed: "
        "connection refused"
    )


def test_name_that_does_not_resolve_exit_3() -> None:
    # Given a resolver on loopback that knows nothing
    with DnsServer({}) as dns_server:
        completed = run_cli(
            "scan", "nowhere.lab.test", "--resolver", f"127.0.0.1:{dns_server.port}"
        )
    assert completed.returncode == 3
    line = one_line_error(completed.stderr)
    assert "DNS: nowhere.lab.test does not exist (NXDOMAIN" in line


def test_untrusted_certificate_is_a_warning_not_an_abort(pki: TestPKI) -> None:
    # Given a server with an expired leaf
    with OpenSSLServer(pki.expired) as server:
        completed = run_cli(
            "scan",
            f"localhost:{server.port}",
            "--connect-to",
            "127.0.0.1",
            "--ca-file",
            str(pki.root_path),
            "--format",
            "json",
        )
    # Then the scan completes, says why in one line, and the gate fails on CERT001 (critical)
    assert completed.returncode == 1
    assert "certificate not trusted" in completed.stderr
    assert "httpsaudit: gate failed: " in completed.stderr
    assert "CERT001" in completed.stderr
    assert "expired" in completed.stderr
    document = json.loads(completed.stdout)
    problems = document["probes"]["certificate"]["result"]["verification"]["problems"]
    assert [problem["reason"] for problem in problems] == ["expired"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["scan", "example.com:0"], "1-65535"),
        (["scan", "http://example.com"], "https://"),
        (["scan", "[::1"], "unclosed"),
        (["scan", ""], "empty target"),
        (["scan", "example.com", "--samples", "0"], "--samples"),
        (["scan", "example.com", "--timeout", "0"], "--timeout"),
        (["scan", "example.com", "--timeout", "-1"], "--timeout"),
        (["scan", "example.com", "--ca-file", "/nonexistent/ca.pem"], "--ca-file"),
        (["scan", "example.com", "--format", "xml"], "--format"),
        (["scan", "example.com", "--resolver", "dns.example"], "--resolver"),
        (["scan", "example.com", "--connect-to", "[::1"], "unclosed"),
        (["scan", "example.com", "--resolver", "127.0.0.1", "--system-resolver"], "exclude"),
        (["scan"], "TARGET"),
        (["frobnicate"], "No such command"),
    ],
)
def test_usage_errors_exit_2_before_any_network(args: list[str], words: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert "Traceback" not in result.output


def test_unreadable_ca_file_exit_2(tmp_path: Path) -> None:
    # Given a --ca-file that is not PEM
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate\n")
    completed = run_cli("scan", "127.0.0.1:9", "--ca-file", str(bogus))
    assert completed.returncode == 2
    assert "cannot load --ca-file" in one_line_error(completed.stderr)


def test_demo_scans_a_local_server() -> None:
    # When a newcomer runs the demo
    completed = run_cli("demo", "--format", "json")
    # Then a real local server was scanned and reported
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    validate(document)
    tls = document["probes"]["connection"]["result"]["tls"]
    assert tls["version"] == "TLSv1.2"
    assert tls["round_trips"] == 2
    leaf = document["probes"]["certificate"]["result"]["certificates"][0]
    assert leaf["key_description"] == "RSA-3072"
    assert document["probes"]["certificate"]["result"]["verification"]["trusted"] is True
    assert document["probes"]["connection"]["result"]["http"]["strict_transport_security"] is None


def test_version_and_help() -> None:
    runner = CliRunner()
    assert "httpsaudit" in runner.invoke(main, ["--version"]).output
    help_text = runner.invoke(main, ["scan", "--help"]).output
    for option in ("--sni", "--connect-to", "--ca-file", "--timeout", "--samples", "--output"):
        assert option in help_text


def test_a_bug_in_a_probe_exits_5_and_keeps_the_report(
    pki: TestPKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a probe with a bug (the only way to have one on purpose is to plant it)
    from httpsaudit.probes.certificate import CertificateProbe

    def broken(self: CertificateProbe, context: object) -> None:
        raise KeyError("planted bug")

    monkeypatch.setattr(CertificateProbe, "run", broken)
    report_path = tmp_path / "report.json"
    with OpenSSLServer(pki.ecdsa_p256) as server:
        base = ["scan", f"localhost:{server.port}", "--connect-to", "127.0.0.1"]
        base += ["--ca-file", str(pki.root_path), "--format", "json"]
        # When it is scanned, with and without --debug
        plain = CliRunner().invoke(main, [*base, "--output", str(report_path)])
        debug = CliRunner().invoke(main, [*base, "--debug"])
    # Then exit 5, one line naming the bug, no traceback unless --debug
    assert plain.exit_code == 5
    assert "internal error: KeyError('planted bug')" in plain.output
    assert "Traceback" not in plain.output
    assert debug.exit_code == 5
    assert "Traceback" in debug.output
    # And the report keeps everything the other probes measured
    document = json.loads(report_path.read_text("utf-8"))
    validate(document)
    assert document["exit_code"] == 5
    assert document["probes"]["connection"]["status"] == "completed"
    assert document["probes"]["certificate"]["error"]["kind"] == "internal"


# -- rules and explain ------------------------------------------------------------------------


def test_rules_lists_every_rule_in_both_languages() -> None:
    from httpsaudit.rules import RULES

    runner = CliRunner()
    text = runner.invoke(main, ["rules"])
    as_json = runner.invoke(main, ["rules", "--format", "json"])
    chinese = runner.invoke(main, ["rules", "--format", "json", "--lang", "zh"])
    assert text.exit_code == as_json.exit_code == chinese.exit_code == 0
    lines = text.output.splitlines()
    assert lines[0].split() == ["ID", "NAME", "SEVERITY", "CATEGORY", "TITLE"]
    assert len(lines) == 1 + len(RULES)
    tls001 = next(line for line in lines if line.startswith("TLS001 "))
    assert tls001.split()[:4] == ["TLS001", "tls13-disabled", "high", "latency"]
    assert tls001.endswith("TLS 1.3 is not offered")  # the title, without evidence placeholders
    rows = json.loads(as_json.output)
    assert [row["id"] for row in rows] == [rule.id for rule in RULES]
    assert rows[0] == {
        "id": "TLS001",
        "name": "tls13-disabled",
        "severity": "high",
        "category": "latency",
        "title": "TLS 1.3 is not offered",
        "lifecycle": "stable",
        "requires": ["versions"],
    }
    assert json.loads(chinese.output)[0]["title"] == "服务器未启用 TLS 1.3"


def test_explain_a_rule_in_english_and_chinese() -> None:
    runner = CliRunner()
    by_id = runner.invoke(main, ["explain", "TLS001"])
    by_name = runner.invoke(main, ["explain", "tls13-disabled"])
    chinese = runner.invoke(main, ["explain", "tls001", "--lang", "zh"])
    assert by_id.exit_code == by_name.exit_code == chinese.exit_code == 0
    assert by_id.output == by_name.output
    lines = by_id.output.splitlines()
    assert lines[:4] == [
        "TLS001 tls13-disabled",
        "high · latency · needs: versions",
        "",
        "TLS 1.3 is not offered",
    ]
    text = by_id.output
    # What, why, how to fix with every server's snippet, references
    assert "Why it matters\n  A full TLS 1.3 handshake takes 1 round trip" in text
    assert "How to fix\n  Enable TLS 1.3 next to TLS 1.2: it saves <saved_round_trips>" in text
    assert "  nginx:\n    ssl_protocols TLSv1.2 TLSv1.3;" in text
    assert "  apache:\n    SSLProtocol -all +TLSv1.2 +TLSv1.3" in text
    assert "  haproxy:\n    global\n        ssl-default-bind-options" in text
    assert "  caddy:\n    tls {\n        protocols tls1.2 tls1.3\n    }" in text
    assert "References\n  - RFC 8446 §2" in text
    assert "<...> marks a value measured at scan time." in text
    zh = chinese.output
    assert "服务器未启用 TLS 1.3" in zh
    assert "为什么重要\n  TLS 1.3 完整握手只需 1 个往返" in zh
    assert "如何修复\n  在 TLS 1.2 之外启用 TLS 1.3" in zh
    assert "  nginx:\n    ssl_protocols TLSv1.2 TLSv1.3;" in zh
    assert "参考资料\n  - RFC 8446 §2" in zh


def test_explain_every_rule_and_an_unknown_one() -> None:
    from httpsaudit.rules import RULES

    runner = CliRunner()
    for rule in RULES:
        for lang in ("en", "zh"):
            result = runner.invoke(main, ["explain", rule.id, "--lang", lang])
            assert result.exit_code == 0, (rule.id, result.output)
            assert result.output.startswith(f"{rule.id} {rule.name}\n")
            assert rule.why.get(lang).split()[0] in result.output
    unknown = runner.invoke(main, ["explain", "XYZ001"])
    assert unknown.exit_code == 2
    assert "unknown rule 'XYZ001' (httpsaudit rules lists them)" in unknown.output


def test_explain_scoring_matches_the_engine() -> None:
    from httpsaudit.rules import engine

    runner = CliRunner()
    english = runner.invoke(main, ["explain", "scoring"])
    chinese = runner.invoke(main, ["explain", "scoring", "--lang", "zh"])
    assert english.exit_code == chinese.exit_code == 0
    assert english.output.splitlines() == [
        "Scoring",
        "Every category (latency, security, reliability) starts at 100 and loses, per failed "
        "rule in it, a penalty by severity: critical 40, high 20, medium 8, low 3, info 0; "
        "floored at 0.",
        "The overall score weighs latency 40%, security 40%, reliability 20%.",
        "Grades: A >= 90, B >= 80, C >= 70, D >= 60, else F; any critical finding caps the "
        "grade at F.",
        "Rules that are unknown, not applicable or ignored do not move the score.",
    ]
    # The engine's docstring (and the README) carry the same numbers
    docstring = " ".join((engine.__doc__ or "").split())
    for phrase in (
        "critical 40, high 20, medium 8, low 3, info 0",
        "latency 40%, security 40%, reliability 20%",
        "A >= 90, B >= 80, C >= 70, D >= 60, else F",
    ):
        assert phrase in docstring
        assert phrase in english.output
    assert "critical 40, high 20, medium 8, low 3, info 0" in chinese.output
    assert chinese.output.startswith("评分\n")


def test_scan_help_lists_the_gate_options() -> None:
    help_text = CliRunner().invoke(main, ["scan", "--help"]).output
    for option in (
        "--fail-on",
        "--fail-under",
        "--select",
        "--ignore",
        "--strict",
        "--exit-zero",
        "--lang",
        "--baseline",
        "--policy",
        "--no-policy",
    ):
        assert option in help_text
    top = CliRunner().invoke(main, ["--help"]).output
    assert "first of 2, 5, 3, 1, 4, 0 wins" in top
    for command in ("scan", "rules", "explain", "diff", "demo"):
        assert command in top
