"""Fleet throughput: hundreds of nginx virtual servers on 127.0.0.0/8, scanned by one command.

Starts one nginx with a virtual server per loopback address (127.0.1.1, 127.0.1.2, ...; a
third of them TLS 1.2 only), a lab DNS server naming them ``vhostN.fleet.test``, and runs
``httpsaudit scan --targets FILE --format jsonl`` at several ``--concurrency`` values. For each
run it prints targets per second, the CLI process's peak RSS and its CPU per target (from
``wait4``: the child alone, nginx and DNS excluded). A second table scans growing lists at one
concurrency: the peak RSS should stay flat as the list grows. Nothing here is asserted.

    python benchmarks/fleet.py [--targets 300] [--concurrency 4,16,32,64] [--memory-steps 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric import ec

from tests.pki import TestPKI
from tests.servers import DnsServer, NginxServer

DOMAIN = "fleet.test"


def vhost_address(index: int) -> str:
    """127.0.1.1 .. 127.0.1.254, then 127.0.2.1 ..."""
    return f"127.0.{1 + index // 254}.{1 + index % 254}"


class FleetNginx(NginxServer):
    """nginx with one virtual server per address; the blocks need the port, so they are
    written when the port is chosen."""

    def __init__(self, issued: object, count: int) -> None:
        super().__init__("fleet", issued, servers="")  # type: ignore[arg-type]
        self.count = count

    def render(self, port: int) -> str:
        blocks = []
        for index in range(self.count):
            protocols = "TLSv1.2" if index % 3 == 0 else "TLSv1.2 TLSv1.3"
            blocks.append(
                f"    server {{\n"
                f"        listen {vhost_address(index)}:{port} ssl;\n"
                f"        server_name vhost{index}.{DOMAIN};\n"
                f"        ssl_protocols {protocols};\n"
                f'        location / {{ return 200 "ok\\n"; }}\n'
                f"    }}"
            )
        self.params = {"servers": "\n".join(blocks)}
        return super().render(port)


def run_fleet(
    targets_file: Path, dns_port: int, ca_file: Path, concurrency: int, output: Path
) -> dict[str, float]:
    """One CLI run; wall time, and the child's own peak RSS and CPU from wait4."""
    command = [
        sys.executable,
        "-m",
        "httpsaudit",
        "scan",
        "--targets",
        str(targets_file),
        "--format",
        "jsonl",
        "--output",
        str(output),
        "--resolver",
        f"127.0.0.1:{dns_port}",
        "--ca-file",
        str(ca_file),
        "--concurrency",
        str(concurrency),
        "--no-policy",
        "--exit-zero",
        "--timeout",
        "120",
    ]
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
    )
    errors = process.stderr.read() if process.stderr is not None else b""
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall_s = time.perf_counter() - started
    lines = output.read_text(encoding="utf-8").splitlines() if output.exists() else []
    reports = [json.loads(line) for line in lines]
    reachable = sum(1 for report in reports if report["reachable"])
    if process.returncode != 0:
        print(f"  (exit {process.returncode}: {errors.decode(errors='replace')[-300:]})")
    return {
        "wall_s": wall_s,
        "reports": len(reports),
        "reachable": reachable,
        "rss_mb": usage.ru_maxrss / 1024,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "connections": sum(report["connections"] for report in reports),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=300)
    parser.add_argument("--concurrency", default="4,16,32,64")
    parser.add_argument("--memory-steps", type=int, default=3)
    parser.add_argument("--memory-concurrency", type=int, default=32)
    arguments = parser.parse_args()
    levels = [int(value) for value in arguments.concurrency.split(",")]
    count = arguments.targets
    with tempfile.TemporaryDirectory(prefix="httpsaudit-fleet-") as temporary:
        directory = Path(temporary)
        pki = TestPKI.create(directory / "pki")
        issued = pki.issue(
            "fleet", ec.generate_private_key(ec.SECP256R1()), dns_names=[f"*.{DOMAIN}"]
        )
        records = {
            f"vhost{index}.{DOMAIN}": [("A", vhost_address(index))] for index in range(count)
        }
        with FleetNginx(issued, count) as nginx, DnsServer(records) as dns:
            names = [f"vhost{index}.{DOMAIN}:{nginx.port}" for index in range(count)]
            targets_file = directory / "targets.txt"
            targets_file.write_text("\n".join(names) + "\n", encoding="utf-8")
            print(
                f"httpsaudit fleet: {count} nginx virtual servers on 127.0.x.y, full scans, "
                f"{os.cpu_count()} cores"
            )
            print(
                f"{'concurrency':>11} {'targets/s':>10} {'wall s':>8} {'peak RSS MB':>12} "
                f"{'CPU ms/target':>14} {'conns/target':>13} {'reachable':>10}"
            )
            for level in levels:
                output = directory / f"fleet-{level}.jsonl"
                row = run_fleet(targets_file, dns.port, pki.root_path, level, output)
                done = max(1, int(row["reports"]))
                print(
                    f"{level:>11} {row['reports'] / row['wall_s']:>10.2f} {row['wall_s']:>8.1f} "
                    f"{row['rss_mb']:>12.1f} {1000 * row['cpu_s'] / done:>14.0f} "
                    f"{row['connections'] / done:>13.1f} "
                    f"{int(row['reachable'])}/{count:<5}"
                )
            print()
            print(f"memory as the list grows (--concurrency {arguments.memory_concurrency})")
            print(f"{'targets':>8} {'peak RSS MB':>12} {'wall s':>8}")
            steps = max(1, arguments.memory_steps)
            for step in range(1, steps + 1):
                size = max(1, count * step // steps)
                listing = directory / f"targets-{size}.txt"
                listing.write_text("\n".join(names[:size]) + "\n", encoding="utf-8")
                output = directory / f"memory-{size}.jsonl"
                row = run_fleet(
                    listing, dns.port, pki.root_path, arguments.memory_concurrency, output
                )
                print(f"{size:>8} {row['rss_mb']:>12.1f} {row['wall_s']:>8.1f}")


if __name__ == "__main__":
    main()
