"""Run a scan against a hostile server the way a user does, and judge what it left behind.

The subprocess timeout is the hang detector: a scan must end on its own ``--timeout``, so the
process gets that plus a margin for the interpreter and the report, never a wall-clock assert.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

from httpsaudit.errors import ErrorKind, Phase
from httpsaudit.report.json import load_schema
from httpsaudit.results import ProbeId
from tests.hostile.scripted import Script, ScriptedServer

# --timeout for scans of servers that stall: small, so a module of them stays quick.
STALL_TIMEOUT_S = 5
# --timeout for scans that should end long before it: a whole audit of a loopback server.
FULL_SCAN_TIMEOUT_S = 8
# Interpreter start, imports and the report on a busy 2-core machine; a scan that overruns its
# --timeout by more than this is hung.
HANG_MARGIN_S = 20
REPOSITORY = Path(__file__).resolve().parent.parent.parent
EXIT_OK = 0
EXIT_UNREACHABLE = 3
PROBE_STATUSES = frozenset({"completed", "failed", "skipped"})
EVERY_PROBE = tuple(probe.value for probe in ProbeId)


@dataclass(frozen=True)
class ScanRun:
    """One finished ``httpsaudit scan``: exit code, stderr and the JSON report it wrote."""

    returncode: int
    stderr: str
    report: dict[str, Any]

    def probe(self, probe_id: ProbeId) -> dict[str, Any]:
        outcome: dict[str, Any] = self.report["probes"][probe_id.value]
        return outcome

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("httpsaudit: error:")]


def scan(target: str, report_path: Path, *, timeout_s: int, extra: tuple[str, ...] = ()) -> ScanRun:
    """``python -m httpsaudit scan TARGET --timeout T --format json -o FILE`` in a subprocess."""
    environment = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPOSITORY), environment.get("PYTHONPATH", "")])
    )
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "httpsaudit", "scan", target, "--timeout", str(timeout_s)),
            *("--format", "json", "-o", str(report_path), *extra),
        ],
        capture_output=True,
        text=True,
        timeout=timeout_s + HANG_MARGIN_S,
        env=environment,
        cwd=REPOSITORY,
        check=False,
    )
    assert "Traceback" not in completed.stderr, completed.stderr
    report = json.loads(report_path.read_text("utf-8"))
    jsonschema.Draft202012Validator(load_schema()).validate(report)
    assert report["exit_code"] == completed.returncode
    return ScanRun(completed.returncode, completed.stderr, report)


def scan_loopback_port(port: int, tmp_path: Path) -> ScanRun:
    """Scan ``127.0.0.1:PORT`` with the short stall --timeout; the report goes to tmp_path."""
    return scan(f"127.0.0.1:{port}", tmp_path / "report.json", timeout_s=STALL_TIMEOUT_S)


def scan_script(script: Script, tmp_path: Path) -> tuple[ScanRun, str, ScriptedServer]:
    """Serve ``script`` on loopback and scan it as a user does: the run, the peer as the scan
    names it (``127.0.0.1:PORT``) and the stopped server, to ask what it saw."""
    with ScriptedServer(script) as server:
        run = scan_loopback_port(server.port, tmp_path)
    return run, f"127.0.0.1:{server.port}", server


def assert_failed(run: ScanRun, probe_id: ProbeId, kind: ErrorKind, phase: Phase) -> str:
    """The probe failed with exactly this kind and phase; its message is returned."""
    outcome = run.probe(probe_id)
    assert outcome["status"] == "failed", outcome
    error = outcome["error"]
    assert (error["kind"], error["phase"]) == (kind.value, phase.value), error
    message: str = error["message"]
    return message


def assert_connection_failed(run: ScanRun, kind: ErrorKind) -> str:
    """The timed connection failed at TLS with this kind; its message is returned."""
    return assert_failed(run, ProbeId.CONNECTION, kind, Phase.TLS)


def assert_every_probe_accounted_for(run: ScanRun) -> None:
    """Each probe ran to an end: completed, failed with a kind (never a bug), or skipped with
    a reason; and the scan was not cut short by Ctrl-C."""
    assert run.report["interrupted"] is False
    assert set(run.report["probes"]) == set(EVERY_PROBE)
    for name, outcome in run.report["probes"].items():
        assert outcome["status"] in PROBE_STATUSES, (name, outcome)
        if outcome["status"] == "failed":
            assert outcome["error"]["kind"] != ErrorKind.INTERNAL.value, (name, outcome)
            assert outcome["error"]["message"], (name, outcome)
        elif outcome["status"] == "skipped":
            assert outcome["skip_reason"], (name, outcome)


# What every other probe says when the timed connection failed in a way not worth repeating
# (silence, non-TLS bytes): scan.py skips them rather than send the same hello 90 times.
def skips_after_unprobeable_failure(kind: ErrorKind) -> dict[str, str]:
    nothing = f"the timed connection failed ({kind.value}): nothing to probe"
    needs_versions = "needs the versions probe, which skipped"
    return {
        ProbeId.CERTIFICATE.value: "no certificate: the connection failed at TLS",
        ProbeId.VERSIONS.value: nothing,
        ProbeId.DOWNGRADE.value: needs_versions,
        ProbeId.CIPHER_SUITES.value: needs_versions,
        ProbeId.GROUPS.value: needs_versions,
        ProbeId.KEY_EXCHANGE.value: needs_versions,
        ProbeId.FALSE_START.value: needs_versions,
        ProbeId.ALPN.value: nothing,
        ProbeId.HTTP3_HINTS.value: nothing,
        ProbeId.CLIENT_SIMULATION.value: nothing,
        ProbeId.RESUMPTION.value: needs_versions,
        ProbeId.EARLY_DATA.value: needs_versions,
        ProbeId.OCSP.value: nothing,
        ProbeId.CERTIFICATE_DELIVERY.value: nothing,
    }


def skip_reasons(run: ScanRun) -> dict[str, str | None]:
    """Every probe but the timed connection, with its skip reason (None when it ran)."""
    return {
        name: outcome["skip_reason"] if outcome["status"] == "skipped" else None
        for name, outcome in run.report["probes"].items()
        if name != ProbeId.CONNECTION.value
    }


def assert_unreachable(run: ScanRun) -> None:
    """No TLS session at all: exit 3, one error line on stderr, no grade."""
    assert run.returncode == EXIT_UNREACHABLE, run.stderr
    assert run.report["reachable"] is False
    assert (run.report["score"], run.report["grade"]) == (None, None)
    assert run.error_lines(), run.stderr


def assert_unprobeable(run: ScanRun, kind: ErrorKind) -> None:
    """The timed connection failed with ``kind`` in a way not worth repeating: every other
    probe skipped for it, and no TLS session at all."""
    assert skip_reasons(run) == skips_after_unprobeable_failure(kind)
    assert_unreachable(run)
