"""Servers that stall: the scan ends on its own --timeout, and says how far the server got."""

from __future__ import annotations

import re
from pathlib import Path

from httpsaudit.errors import ErrorKind
from httpsaudit.results import ProbeId
from tests.hostile import flights
from tests.hostile.harness import (
    assert_connection_failed,
    assert_unprobeable,
    scan_script,
)
from tests.hostile.scripted import Hold, ReadRecord, Script, Trickle

# One byte a second: a 54-byte ServerHello would take most of a minute.
TRICKLE_INTERVAL_S = 1.0


def test_server_that_sends_one_byte_per_second(tmp_path: Path) -> None:
    # Given a server that trickles a valid ServerHello, one byte per second
    hello = flights.tls12_server_hello(b"")
    script: Script = [ReadRecord(), Trickle(hello, TRICKLE_INTERVAL_S), Hold()]
    # When a user scans it with a --timeout far shorter than the trickle
    run, peer, _ = scan_script(script, tmp_path)
    # Then the deadline counted from the start, not from the last byte: the scan ended while
    # the ServerHello was still incomplete, and the message says how much had come
    message = assert_connection_failed(run, ErrorKind.TIMEOUT)
    found = re.fullmatch(
        rf"{re.escape(peer)} sent (\d+) bytes but not the rest before the deadline \(receiving\)",
        message,
    )
    assert found is not None, message
    received = int(found.group(1))
    assert 0 < received < len(hello)
    # And the partial server flight in the report is exactly those bytes, with no record in it
    server_flight = run.probe(ProbeId.CONNECTION)["result"]["failed_handshake_flights"][1]
    assert (server_flight["direction"], server_flight["wire_bytes"]) == ("server", received)
    assert (server_flight["records"], server_flight["messages"]) == (0, [])
    assert_unprobeable(run, ErrorKind.TIMEOUT)


def test_server_that_accepts_and_never_answers(tmp_path: Path) -> None:
    # Given a server that accepts, reads the ClientHello and never writes a byte
    # When a user scans it
    run, peer, server = scan_script([Hold()], tmp_path)
    # Then the timed connection timed out at TLS, and nothing else was sent the same hello
    message = assert_connection_failed(run, ErrorKind.TIMEOUT)
    assert message == f"{peer} sent nothing before the deadline (receiving)"
    assert_unprobeable(run, ErrorKind.TIMEOUT)
    assert server.connections == 1
    assert server.received[0][:3] == b"\x16\x03\x01"  # the ClientHello did arrive
