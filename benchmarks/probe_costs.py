"""What a full audit costs: connections and wall time per probe, against a peer tool.

Scans a local nginx through a proxy that adds a round-trip time, so connections cost what they
would across a network. Prints httpsaudit's per-probe connections and time, then, side by side
in the same run, the total connections and wall time of sslyze's default scan when an sslyze
executable is given (install it in its own venv: ``python -m venv /tmp/sslyze-venv &&
/tmp/sslyze-venv/bin/pip install sslyze``). Connections are counted at the proxy for both.
Nothing here is asserted.

    python benchmarks/probe_costs.py [--rtt-ms 50] [--sslyze /tmp/sslyze-venv/bin/sslyze]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from httpsaudit.probes.base import ScanOptions
from httpsaudit.scan import scan
from httpsaudit.target import parse_address, parse_target
from tests.pki import TestPKI
from tests.servers import DelayProxy, NginxServer


def run_httpsaudit(
    port: int, root: Path, max_connections: int
) -> tuple[float, dict[str, tuple[str, int, float]]]:
    target = parse_target(f"localhost:{port}", connect_to=(parse_address(f"127.0.0.1:{port}"),))
    options = ScanOptions(ca_file=root, timeout_s=300, max_connections=max_connections)
    started = time.perf_counter()
    result = scan(target, options)
    wall_s = time.perf_counter() - started
    per_probe = {
        outcome.probe.value: (outcome.status.value, outcome.connections, outcome.duration_ms)
        for outcome in result.outcomes()
    }
    return wall_s, per_probe


def run_sslyze(executable: str, port: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        [executable, "--quiet", f"localhost:{port}{{127.0.0.1}}"],
        check=False,
        capture_output=True,
        timeout=900,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rtt-ms", type=float, default=50.0)
    parser.add_argument("--max-connections", type=int, default=5)
    parser.add_argument("--sslyze", default=shutil.which("sslyze"))
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        pki = TestPKI.create(Path(directory))
        with NginxServer("basic", pki.ecdsa_p256, http2="http2") as server:
            with DelayProxy("127.0.0.1", server.port, arguments.rtt_ms / 2) as proxy:
                wall_s, per_probe = run_httpsaudit(
                    proxy.port, pki.root_path, arguments.max_connections
                )
                ours = proxy.connections
            print(
                f"httpsaudit against nginx 1.22 at {arguments.rtt_ms:.0f} ms RTT, "
                f"max {arguments.max_connections} connections at once"
            )
            print(f"{'probe':<21}{'status':<11}{'conns':>6}{'time ms':>10}")
            for probe, (status, connections, duration_ms) in per_probe.items():
                print(f"{probe:<21}{status:<11}{connections:>6}{duration_ms:>10.0f}")
            print(f"{'total (at proxy)':<32}{ours:>6}{wall_s * 1000:>10.0f}")
            if not arguments.sslyze:
                print("\nsslyze: not found (pass --sslyze PATH to compare)")
                return
            with DelayProxy("127.0.0.1", server.port, arguments.rtt_ms / 2) as proxy:
                theirs_s = run_sslyze(arguments.sslyze, proxy.port)
                theirs = proxy.connections
        print(f"\n{'tool':<20}{'connections':>12}{'wall s':>9}")
        print(f"{'httpsaudit':<20}{ours:>12}{wall_s:>9.2f}")
        print(f"{'sslyze (default)':<20}{theirs:>12}{theirs_s:>9.2f}")
        print(f"{'ratio sslyze/ours':<20}{theirs / max(ours, 1):>12.1f}{theirs_s / wall_s:>9.1f}")


if __name__ == "__main__":
    main()
