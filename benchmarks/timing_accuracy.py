"""How true are the timings? Each handshake kind, measured through a delay proxy, against physics.

For every handshake kind and injected round-trip time, runs the probe a user would run
(``httpsaudit.scan`` with ``only_probes``) against a local nginx behind a proxy that holds each
chunk RTT/2 in each direction, and prints the round trips the probe counted, the time it
reported, and what physics says (counted round trips x RTT). Nothing here is asserted.

- TLS 1.3 full, TLS 1.2 full: the timed connection (``connection``), ClientHello written ->
  handshake done, median of ``--samples`` cold connections.
- TLS 1.2 resumed (Session ID, Session Ticket) and TLS 1.3 resumed (PSK): the ``resumption``
  probe's medians of its resumed handshakes.
- TLS 1.3 full / PSK / 0-RTT to the first response byte: the ``early_data`` probe, TCP connected
  -> first byte of the GET answer (nginx with ``ssl_early_data on`` serves 0-RTT at once).

The proxy does not emulate the TCP handshake here: every number above starts once connect() has
returned, which is what the proxy delays exactly. The "over" columns are what the client and the
server add on top of the wire (CPU, scheduling); at RTT 0 they are the whole time.

    python benchmarks/timing_accuracy.py [--samples N] [--rtt-ms 0,20,50,100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from httpsaudit.probes.base import ScanOptions
from httpsaudit.results import ProbeId, ResumptionAttempts, ScanResult
from httpsaudit.scan import scan
from httpsaudit.target import parse_address, parse_target
from tests.pki import TestPKI
from tests.servers import DelayProxy, NginxServer

SESSION_SERVER = {
    "session_cache": "shared:SSL:1m",
    "session_tickets": "on",
    "session_timeout": "300s",
    "server_directives": "ssl_early_data on;",
}


@dataclass(frozen=True)
class Row:
    """One measured handshake kind: the round trips the probe counted and the time it took."""

    kind: str
    source: str  # probe.field the number comes from
    round_trips: int | None
    measured_ms: float | None


@contextmanager
def reachable(port: int, rtt_ms: float) -> Iterator[int]:
    """The port to scan: nginx itself at RTT 0, else a delay proxy in front of it."""
    if rtt_ms == 0:
        yield port
        return
    with DelayProxy("127.0.0.1", port, rtt_ms / 2) as proxy:
        yield proxy.port


def run_scan(port: int, root: Path, probe: ProbeId, samples: int) -> ScanResult:
    target = parse_target(f"localhost:{port}", connect_to=(parse_address(f"127.0.0.1:{port}"),))
    options = ScanOptions(
        ca_file=root, samples=samples, timeout_s=300, only_probes=frozenset({probe})
    )
    return scan(target, options)


def connection_row(kind: str, result: ScanResult) -> Row:
    connection = result.connection.result
    if connection is None or connection.tls is None:
        return Row(kind, "connection.tls_ms", None, None)
    handshakes = sorted(s.tls_ms for s in connection.samples if s.tls_ms is not None)
    median_ms = handshakes[len(handshakes) // 2] if handshakes else None
    return Row(kind, "connection.tls_ms", connection.tls.round_trips, median_ms)


def resumption_rows(result: ScanResult) -> list[Row]:
    resumption = result.resumption.result
    mechanisms = {
        "TLS 1.2 resumed: Session ID": "session_id",
        "TLS 1.2 resumed: ticket": "session_ticket",
        "TLS 1.3 resumed: PSK": "tls13_psk",
    }
    rows = []
    for kind, field in mechanisms.items():
        attempts: ResumptionAttempts | None = (
            getattr(resumption, field) if resumption is not None else None
        )
        source = f"resumption.{field}"
        if attempts is None or attempts.resumed == 0:
            rows.append(Row(kind, source, None, None))
            continue
        rows.append(Row(kind, source, attempts.resumed_round_trips, attempts.resumed_handshake_ms))
    return rows


def early_data_rows(result: ScanResult) -> list[Row]:
    early = result.early_data.result
    if early is None:
        return [Row("TLS 1.3 0-RTT + GET", "early_data.timing", None, None)]
    timing = early.timing
    return [
        Row("TLS 1.3 full + GET", "early_data.full_handshake", timing.full_round_trips,
            timing.full_handshake_ms),
        Row("TLS 1.3 PSK + GET", "early_data.resumed", timing.resumed_round_trips,
            timing.resumed_ms),
        Row("TLS 1.3 0-RTT + GET", "early_data.zero_rtt", timing.zero_rtt_round_trips,
            timing.zero_rtt_ms),
    ]  # fmt: skip


def measure(both_port: int, tls12_port: int, root: Path, rtt_ms: float, samples: int) -> list[Row]:
    """Every handshake kind at one RTT, each probe in its own scan so none shares the target."""
    with reachable(both_port, rtt_ms) as both, reachable(tls12_port, rtt_ms) as tls12:
        rows = [connection_row("TLS 1.3 full", run_scan(both, root, ProbeId.CONNECTION, samples))]
        rows.append(
            connection_row("TLS 1.2 full", run_scan(tls12, root, ProbeId.CONNECTION, samples))
        )
        rows += resumption_rows(run_scan(both, root, ProbeId.RESUMPTION, 1))
        rows += early_data_rows(run_scan(both, root, ProbeId.EARLY_DATA, 1))
    return rows


def print_rows(rows: list[Row], rtt_ms: float) -> None:
    for row in rows:
        counted = "-" if row.round_trips is None else str(row.round_trips)
        if row.measured_ms is None or row.round_trips is None:
            print(f"{row.kind:<30}{row.source:<28}{rtt_ms:>7.0f}{counted:>6}{'not measured':>13}")
            continue
        expected_ms = row.round_trips * rtt_ms
        over_ms = row.measured_ms - expected_ms
        over_percent = f"{over_ms / expected_ms * 100:+.1f}%" if expected_ms else "-"
        print(
            f"{row.kind:<30}{row.source:<28}{rtt_ms:>7.0f}{counted:>6}{row.measured_ms:>13.2f}"
            f"{expected_ms:>11.1f}{over_ms:>+10.2f}{over_percent:>9}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5, help="cold connections per full kind")
    parser.add_argument("--rtt-ms", default="0,20,50,100")
    arguments = parser.parse_args()
    rtts = [float(value) for value in arguments.rtt_ms.split(",")]
    with tempfile.TemporaryDirectory() as directory, ExitStack() as servers:
        pki = TestPKI.create(Path(directory))
        both = servers.enter_context(
            NginxServer("session", pki.ecdsa_p256, protocols="TLSv1.2 TLSv1.3", **SESSION_SERVER)
        )
        tls12 = servers.enter_context(
            NginxServer("session", pki.ecdsa_p256, protocols="TLSv1.2", **SESSION_SERVER)
        )
        header = (
            f"{'handshake':<30}{'measured by':<28}{'RTT ms':>7}{'RTTs':>6}{'measured ms':>13}"
            f"{'expected':>11}{'over ms':>10}{'over %':>9}"
        )
        print(
            "httpsaudit timing accuracy against nginx 1.22 (expected = RTTs counted x RTT; "
            f"full handshakes: median of {arguments.samples})"
        )
        print(header)
        print("-" * len(header))
        for rtt_ms in rtts:
            print_rows(
                measure(both.port, tls12.port, pki.root_path, rtt_ms, arguments.samples), rtt_ms
            )


if __name__ == "__main__":
    main()
