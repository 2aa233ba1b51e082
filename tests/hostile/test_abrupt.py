"""Servers that hang up half-way through their first flight: with a FIN, and with an RST."""

from __future__ import annotations

from pathlib import Path

from httpsaudit.errors import ErrorKind
from httpsaudit.results import ProbeId
from tests.hostile import flights
from tests.hostile.harness import (
    assert_connection_failed,
    assert_every_probe_accounted_for,
    assert_unreachable,
    scan_script,
)
from tests.hostile.scripted import Close, ReadRecord, Reply, Reset, Script, Sleep

SERVER_HELLO_BYTES = len(flights.tls12_server_hello(b""))
# The start of a Certificate message claiming 3000 bytes: part of a first flight.
PARTIAL_CERTIFICATE = flights.certificate_message_start(3000)
# Time for the client to read the partial flight before the RST discards what is in flight.
BEFORE_RESET_S = 0.5


def _server_flight(run_report: dict[str, object]) -> dict[str, object]:
    flights_seen = run_report["failed_handshake_flights"]
    assert isinstance(flights_seen, list)
    assert [flight["direction"] for flight in flights_seen] == ["client", "server"]
    server_flight: dict[str, object] = flights_seen[1]
    return server_flight


def test_server_that_closes_right_after_its_server_hello(tmp_path: Path) -> None:
    # Given a server that sends a TLS 1.2 ServerHello and then a FIN
    # When a user scans it
    run, peer, _ = scan_script([ReadRecord(), Reply(flights.tls12_server_hello), Close()], tmp_path)
    # Then the timed connection was lost in the TLS phase, after exactly the ServerHello
    message = assert_connection_failed(run, ErrorKind.CONNECTION_LOST)
    assert message == (
        f"{peer} closed the connection during the TLS handshake after {SERVER_HELLO_BYTES} bytes"
    )
    server_flight = _server_flight(run.probe(ProbeId.CONNECTION)["result"])
    assert (server_flight["messages"], server_flight["wire_bytes"]) == (
        ["ServerHello"],
        SERVER_HELLO_BYTES,
    )
    # And the raw-hello probes still ran: every hello got the same TLS 1.2 ServerHello
    versions = run.probe(ProbeId.VERSIONS)
    assert versions["status"] == "completed"
    assert versions["result"]["supported"] == ["TLSv1.2"]
    assert run.probe(ProbeId.CERTIFICATE)["skip_reason"] == (
        "no certificate: the connection failed at TLS"
    )
    assert_every_probe_accounted_for(run)
    # And without one TLS session the target is unreachable
    assert_unreachable(run)


def test_server_that_resets_mid_flight(tmp_path: Path) -> None:
    # Given a server that sends its ServerHello and the start of its Certificate, then an RST
    def partial_flight(client_hello: bytes) -> bytes:
        return flights.tls12_server_hello(client_hello) + PARTIAL_CERTIFICATE

    script: Script = [ReadRecord(), Reply(partial_flight), Sleep(BEFORE_RESET_S), Reset()]
    # When a user scans it
    run, peer, _ = scan_script(script, tmp_path)
    # Then the timed connection says the server reset it, keeping the partial flight it read
    message = assert_connection_failed(run, ErrorKind.CONNECTION_LOST)
    assert message == f"{peer} reset the connection (receiving)"
    server_flight = _server_flight(run.probe(ProbeId.CONNECTION)["result"])
    assert (server_flight["records"], server_flight["wire_bytes"]) == (
        2,
        SERVER_HELLO_BYTES + len(PARTIAL_CERTIFICATE),
    )
    versions = run.probe(ProbeId.VERSIONS)
    assert versions["status"] == "completed"
    assert versions["result"]["supported"] == ["TLSv1.2"]
    assert_every_probe_accounted_for(run)
    assert_unreachable(run)
