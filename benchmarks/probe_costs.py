"""What a full audit costs: per-probe connections and time, then httpsaudit against its peers.

Scans one local nginx through a proxy that adds a one-way delay each way (25 ms: a 50 ms RTT)
and charges every new connection the TCP handshake's round trip, so connections cost what they
would across a network. httpsaudit and its peers run as command-line tools, one after the
other, against the same nginx through their own proxy, which counts their connections:

- httpsaudit (``python -m httpsaudit scan``, every probe);
- sslyze: its default scan (the Mozilla "intermediate" checks) plus ``--resum`` and
  ``--early_data``, when an executable is found (``python -m venv /tmp/sslyze-venv &&
  /tmp/sslyze-venv/bin/pip install sslyze``);
- testssl.sh, its default run, when installed (Debian's ``testssl.sh`` package). It is kept on
  the target: no DNS lookups (``--nodns none``) and no CRL/OCSP fetches (``--phone-out`` stays
  off).

Client CPU is user + system time of each tool's process and its children
(``RUSAGE_CHILDREN`` deltas), interpreter start-up included for everyone; the proxy runs in
this process, so none of its CPU is counted. Nothing here is asserted.

    python benchmarks/probe_costs.py [--rtt-ms 50] [--only-httpsaudit]
        [--sslyze /tmp/sslyze-venv/bin/sslyze] [--testssl /usr/bin/testssl]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from httpsaudit.probes.base import DEFAULT_MAX_CONNECTIONS
from tests.pki import TestPKI
from tests.servers import DelayProxy, NginxServer

# The checkout: the tools' subprocesses import httpsaudit from here, not an installed copy.
REPOSITORY = Path(__file__).resolve().parent.parent

# Where the module docstring says to install it; read only, never written to.
DEFAULT_SSLYZE = "/tmp/sslyze-venv/bin/sslyze"  # noqa: S108
# A whole peer run may not take longer than this (testssl.sh at 100 ms RTT takes minutes).
PEER_TIMEOUT_S = 1800
# Kept for the table: the tail of a tool's stderr when it did not exit cleanly.
STDERR_TAIL_CHARS = 300


@dataclass(frozen=True)
class ToolRun:
    """One tool's run against the proxy: what it cost and how it ended."""

    tool: str
    connections: int
    wall_s: float
    cpu_s: float
    exit_code: int | None  # None: killed at the timeout
    note: str = ""


def in_rtts(duration_ms: float, rtt_ms: float, decimals: int = 1) -> str:
    """``duration_ms`` as a number of round trips ("-" without an injected delay)."""
    return f"{duration_ms / rtt_ms:.{decimals}f}" if rtt_ms > 0 else "-"


def children_cpu_s() -> float:
    """User + system CPU of every child waited for so far (grandchildren included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_tool(
    tool: str, command: Sequence[str], server_port: int, arguments: argparse.Namespace, cwd: Path
) -> tuple[ToolRun, subprocess.CompletedProcess[str] | None]:
    """Run ``command`` (with ``{port}`` filled in) against a fresh proxy in front of nginx."""
    with DelayProxy(
        "127.0.0.1",
        server_port,
        arguments.rtt_ms / 2,
        emulate_tcp_handshake=not arguments.no_handshake_emulation,
    ) as proxy:
        filled = [part.replace("{port}", str(proxy.port)) for part in command]
        cpu_before = children_cpu_s()
        started = time.perf_counter()
        completed: subprocess.CompletedProcess[str] | None
        try:
            completed = subprocess.run(
                filled,
                check=False,
                capture_output=True,
                text=True,
                timeout=PEER_TIMEOUT_S,
                cwd=cwd,
                env={**os.environ, "PYTHONPATH": str(REPOSITORY), "NO_COLOR": "1"},
            )
        except subprocess.TimeoutExpired:
            completed = None
        wall_s = time.perf_counter() - started
        cpu_s = children_cpu_s() - cpu_before
    exit_code = completed.returncode if completed is not None else None
    note = ""
    if completed is None:
        note = f"killed after {PEER_TIMEOUT_S} s"
    elif completed.returncode >= 2 and completed.stderr.strip():
        note = completed.stderr.strip()[-STDERR_TAIL_CHARS:]
    run = ToolRun(tool, proxy.connections, wall_s, cpu_s, exit_code, note)
    return run, completed


def httpsaudit_command(root: Path, report: Path, max_connections: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "httpsaudit",
        "scan",
        "localhost:{port}",
        "--connect-to",
        "127.0.0.1:{port}",
        "--ca-file",
        str(root),
        "--max-connections",
        str(max_connections),
        "--timeout",
        "300",
        "--format",
        "json",
        "--output",
        str(report),
        "--no-policy",
        "--exit-zero",
    ]


def sslyze_command(executable: str, root: Path, report: Path) -> list[str]:
    # Naming any scan command turns sslyze's default set off; --mozilla_config turns it back on.
    return [
        executable,
        "--mozilla_config",
        "intermediate",
        "--resum",
        "--early_data",
        "--certinfo_ca_file",
        str(root),
        "--json_out",
        str(report),
        "--quiet",
        "localhost:{port}{127.0.0.1}",
    ]


def testssl_command(executable: str, root: Path, report: Path) -> list[str]:
    return [
        executable,
        "--quiet",
        "--color",
        "0",
        "--warnings",
        "off",
        "--nodns",
        "none",
        "--add-ca",
        str(root),
        "--connect-timeout",
        "10",
        "--openssl-timeout",
        "10",
        "--jsonfile",
        str(report),
        "127.0.0.1:{port}",
    ]


def sslyze_summary(report: Path) -> str:
    """How many of sslyze's scan commands completed, from its JSON output."""
    try:
        document = json.loads(report.read_text())
        results = document["server_scan_results"][0]["scan_result"]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return "no JSON report"
    statuses = [entry.get("status") for entry in results.values() if isinstance(entry, dict)]
    scheduled = [status for status in statuses if status != "NOT_SCHEDULED"]
    return f"{scheduled.count('COMPLETED')}/{len(scheduled)} scan commands completed"


def testssl_summary(report: Path) -> str:
    """How many findings testssl.sh wrote and how long it says it scanned."""
    try:
        findings = json.loads(report.read_text())
    except (OSError, ValueError):
        return "no JSON report"
    scan_time = next(
        (item.get("finding") for item in findings if item.get("id") == "scanTime"), "?"
    )
    failures = [item for item in findings if item.get("severity") in ("WARN", "FATAL")]
    return f"{len(findings)} findings ({len(failures)} WARN/FATAL), scanTime {scan_time} s"


def print_probe_table(report: Path, rtt_ms: float) -> tuple[int, float] | None:
    """Per-probe connections and time from httpsaudit's JSON report; (connections, scan ms)."""
    try:
        document = json.loads(report.read_text())
    except (OSError, ValueError):
        print("httpsaudit wrote no JSON report")
        return None
    print(f"{'probe':<22}{'status':<11}{'conns':>6}{'time ms':>10}{'RTTs':>7}")
    for probe in document["probes"].values():
        duration_ms = float(probe["duration_ms"])
        print(
            f"{probe['probe']:<22}{probe['status']:<11}{probe['connections']:>6}"
            f"{duration_ms:>10.0f}{in_rtts(duration_ms, rtt_ms):>7}"
        )
    connections = int(document["connections"])
    scan_ms = float(document["duration_ms"])
    print(f"{'scan (report)':<33}{connections:>6}{scan_ms:>10.0f}{in_rtts(scan_ms, rtt_ms):>7}")
    return connections, scan_ms


def startup_cpu_s(cwd: Path) -> float:
    """CPU of starting the CLI alone (interpreter + imports), to read the scan's own share."""
    before = children_cpu_s()
    subprocess.run(
        [sys.executable, "-m", "httpsaudit", "--help"],
        check=False,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPOSITORY)},
    )
    return children_cpu_s() - before


def print_comparison(runs: Sequence[ToolRun], rtt_ms: float) -> None:
    ours = runs[0]
    header = (
        f"{'tool':<34}{'conns':>7}{'wall s':>8}{'RTTs':>7}{'CPU s':>7}"
        f"{'conns x':>9}{'wall x':>8}{'CPU x':>7}  exit"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        print(
            f"{run.tool:<34}{run.connections:>7}{run.wall_s:>8.2f}"
            f"{in_rtts(run.wall_s * 1000, rtt_ms, 0):>7}{run.cpu_s:>7.2f}"
            f"{run.connections / max(ours.connections, 1):>9.1f}"
            f"{run.wall_s / ours.wall_s:>8.1f}{run.cpu_s / max(ours.cpu_s, 1e-9):>7.1f}"
            f"  {run.exit_code if run.exit_code is not None else 'timeout'}"
        )
    for run in runs:
        if run.note:
            print(f"  {run.tool}: {run.note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt-ms", type=float, default=50.0, help="round trip (2 x one way)")
    parser.add_argument(
        "--no-handshake-emulation",
        action="store_true",
        help="do not charge the TCP handshake's RTT (a connection then costs 1 RTT less)",
    )
    parser.add_argument("--max-connections", type=int, default=DEFAULT_MAX_CONNECTIONS)
    parser.add_argument("--only-httpsaudit", action="store_true", help="skip the peers")
    parser.add_argument("--sslyze", default=shutil.which("sslyze") or DEFAULT_SSLYZE)
    parser.add_argument("--testssl", default=shutil.which("testssl") or shutil.which("testssl.sh"))
    arguments = parser.parse_args()
    rtt_ms = arguments.rtt_ms
    handshake = "off" if arguments.no_handshake_emulation else "on"
    with tempfile.TemporaryDirectory() as directory:
        work = Path(directory)
        pki = TestPKI.create(work / "pki")
        with NginxServer("basic", pki.ecdsa_p256, http2="http2") as server:
            print(
                f"nginx 1.22 on loopback through a delay proxy: {rtt_ms / 2:.0f} ms one way "
                f"({rtt_ms:.0f} ms RTT), TCP handshake emulation {handshake}; httpsaudit with "
                f"at most {arguments.max_connections} connections at once\n"
            )
            report = work / "httpsaudit.json"
            command = httpsaudit_command(pki.root_path, report, arguments.max_connections)
            ours, _ = run_tool("httpsaudit", command, server.port, arguments, work)
            counted = print_probe_table(report, rtt_ms)
            startup_s = startup_cpu_s(work)
            print(
                f"\nhttpsaudit: {ours.connections} connections at the proxy"
                f"{f' ({counted[0]} in the report)' if counted else ''}, "
                f"process wall {ours.wall_s:.2f} s ({in_rtts(ours.wall_s * 1000, rtt_ms, 0)} RTT), "
                f"client CPU {ours.cpu_s:.2f} s (of which start-up {startup_s:.2f} s)"
            )
            runs = [ours]
            if not arguments.only_httpsaudit:
                runs += run_peers(arguments, server.port, pki.root_path, work)
        print()
        print_comparison(runs, rtt_ms)


def run_peers(
    arguments: argparse.Namespace, server_port: int, root: Path, work: Path
) -> list[ToolRun]:
    """sslyze and testssl.sh where installed, each against its own proxy."""
    runs: list[ToolRun] = []
    if arguments.sslyze and Path(arguments.sslyze).exists():
        report = work / "sslyze.json"
        command = sslyze_command(arguments.sslyze, root, report)
        run, _ = run_tool(
            "sslyze (default+resum+early_data)", command, server_port, arguments, work
        )
        runs.append(run)
        print(f"sslyze: {sslyze_summary(report)}")
    else:
        print("sslyze: not found (pass --sslyze PATH to compare)")
    if arguments.testssl and Path(arguments.testssl).exists():
        report = work / "testssl.json"
        command = testssl_command(arguments.testssl, root, report)
        run, _ = run_tool("testssl.sh (default run)", command, server_port, arguments, work)
        runs.append(run)
        print(f"testssl.sh: {testssl_summary(report)}")
    else:
        print("testssl.sh: not found (apt-get install testssl.sh, or pass --testssl PATH)")
    return runs


if __name__ == "__main__":
    main()
