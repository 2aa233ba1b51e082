"""Safety toward the target: every connection goes through the per-address cap, which holds
for one scan and for a fleet of names on one address."""

from __future__ import annotations

import httpsaudit
from httpsaudit.probes.base import ConnectionLimiter, ScanOptions
from httpsaudit.scan import scan, scan_many
from httpsaudit.target import parse_address, parse_target
from tests.pki import TestPKI
from tests.scanning import scan_local
from tests.servers import DelayProxy, NginxServer, PythonTlsServer


def test_one_scan_never_opens_more_than_the_cap_and_counts_every_connection(
    pki: TestPKI,
) -> None:
    # Given nginx behind a proxy that counts the connections it accepts, and a cap of 3
    with (
        NginxServer("basic", pki.ecdsa_p256) as nginx,
        DelayProxy("127.0.0.1", nginx.port, 1.0) as proxy,
    ):
        limiter = ConnectionLimiter(3)
        address = ("127.0.0.1", proxy.port)
        target = parse_target(f"localhost:{proxy.port}", connect_to=(parse_address("127.0.0.1"),))
        # When every probe runs
        result = scan(
            target, ScanOptions(ca_file=pki.root_path, max_connections=3), limiter=limiter
        )
        seen_by_server = proxy.connections
    # Then the cap was reached and never passed, and the report counts what the server saw
    assert result.reachable
    assert limiter.peak(address) == 3
    assert result.connections == seen_by_server
    assert result.connections > 3 * 10  # enough connections that the cap mattered


def test_names_on_one_address_share_the_cap_in_a_fleet(pki: TestPKI) -> None:
    # Given two names for the same backend (a name and an IP literal), scanned side by side
    with (
        NginxServer("basic", pki.ecdsa_p256) as nginx,
        DelayProxy("127.0.0.1", nginx.port, 1.0) as proxy,
    ):
        options = ScanOptions(ca_file=pki.root_path, max_connections=4)
        targets = [
            (
                parse_target(f"localhost:{proxy.port}", connect_to=(parse_address("127.0.0.1"),)),
                options,
            ),
            (parse_target(f"127.0.0.1:{proxy.port}"), options),
        ]
        limiter = ConnectionLimiter(4)
        # When the fleet runs both at once
        items = list(scan_many(targets, concurrency=2, limiter=limiter))
        seen_by_server = proxy.connections
    # Then together they never had more than 4 open to the address, and every connection
    # either scan made reached the server
    results = [item.result for item in items]
    assert all(result is not None and result.reachable for result in results)
    assert limiter.peak(("127.0.0.1", proxy.port)) == 4
    assert sum(result.connections for result in results if result is not None) == seen_by_server


def test_every_request_names_httpsaudit_and_carries_no_body(pki: TestPKI) -> None:
    # Given a Python ssl server that records every request head it receives
    with PythonTlsServer(pki.ecdsa_p256) as server:
        # When a full scan runs (timed request, ALPN, resumption, client simulation...)
        result = scan_local(server.port, ca_file=pki.root_path)
        requests = list(server.requests)
    # Then every request is a GET of the target path with our User-Agent, and nothing follows
    # the head: no body, no Content-Length, ever
    assert result.reachable
    assert len(requests) >= 5
    for request in requests:
        head, _, after = request.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0] == b"GET / HTTP/1.1"
        assert f"User-Agent: httpsaudit/{httpsaudit.__version__}".encode() in lines
        assert not any(line.lower().startswith(b"content-length") for line in lines)
        assert after == b""
