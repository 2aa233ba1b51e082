"""How true are the timings? Scan local servers through a delay proxy and compare.

For each handshake kind and injected round-trip time, prints the round trips httpsaudit counted,
the median measured handshake and first-byte times, and what physics says they should be
(round trips x RTT). Nothing here is asserted: run it and read the table.

The handshake column is what httpsaudit promises to get right. The TTFB column is the
server's: ``openssl s_server -www`` writes its TLS 1.3 tickets and its response in separate small
segments without TCP_NODELAY, so the response waits for the ACK of the tickets (Nagle against a
delayed ACK, about 40 ms on Linux) and shows 1 RTT + about 40 ms. nginx with HTTP/1.1 answers
in 1 RTT.

    python benchmarks/timing_accuracy.py [--samples N] [--rtt-ms 0,20,50,100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from httpsaudit.probes.base import ScanOptions
from httpsaudit.scan import scan
from httpsaudit.target import parse_address, parse_target
from tests.pki import TestPKI
from tests.servers import DelayProxy, OpenSSLServer

KINDS = {"TLS 1.3 full": (), "TLS 1.2 full": ("-no_tls1_3",)}


def measure(port: int, root: Path, samples: int) -> tuple[int, list[float], list[float], float]:
    target = parse_target(f"localhost:{port}", connect_to=(parse_address(f"127.0.0.1:{port}"),))
    cpu_before = time.process_time()
    result = scan(target, ScanOptions(ca_file=root, samples=samples, timeout_s=120))
    cpu_ms = (time.process_time() - cpu_before) * 1000 / samples
    connection = result.connection.result
    if connection is None or connection.tls is None:
        raise SystemExit(f"scan failed: {result.connection.error}")
    handshakes = [sample.tls_ms for sample in connection.samples if sample.tls_ms is not None]
    ttfbs = [sample.ttfb_ms for sample in connection.samples if sample.ttfb_ms is not None]
    return connection.tls.round_trips, handshakes, ttfbs, cpu_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--rtt-ms", default="0,20,50,100")
    arguments = parser.parse_args()
    rtts = [float(value) for value in arguments.rtt_ms.split(",")]
    with tempfile.TemporaryDirectory() as directory:
        pki = TestPKI.create(Path(directory))
        header = (
            f"{'handshake':<14}{'RTT ms':>8}{'RTTs':>6}{'TLS med ms':>12}{'expected':>10}"
            f"{'error':>8}{'TTFB med':>10}{'CPU/conn ms':>13}"
        )
        print(f"httpsaudit timing accuracy, {arguments.samples} samples each, pid {os.getpid()}")
        print(header)
        print("-" * len(header))
        for kind, flags in KINDS.items():
            for rtt in rtts:
                with OpenSSLServer(pki.ecdsa_p256, *flags) as server:
                    if rtt == 0:
                        counted, tls, ttfb, cpu = measure(
                            server.port, pki.root_path, arguments.samples
                        )
                    else:
                        with DelayProxy("127.0.0.1", server.port, rtt / 2) as proxy:
                            counted, tls, ttfb, cpu = measure(
                                proxy.port, pki.root_path, arguments.samples
                            )
                median = statistics.median(tls)
                expected = counted * rtt
                error = f"{(median - expected) / expected * 100:+.1f}%" if expected else "-"
                print(
                    f"{kind:<14}{rtt:>8.0f}{counted:>6}{median:>12.2f}{expected:>10.1f}"
                    f"{error:>8}{statistics.median(ttfb):>10.2f}{cpu:>13.2f}"
                )


if __name__ == "__main__":
    main()
