"""Peers that do not speak TLS, or break its record layer: the scan names what it got and stops.

Each test runs a whole scan in a subprocess against a scripted server on loopback and reads the
JSON report: the timed connection fails with an exact kind, phase and message, the other probes
are accounted for, and the exit code is 3 (no TLS session at all).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from httpsaudit.errors import ErrorKind, Phase
from httpsaudit.results import ProbeId
from httpsaudit.tls.records import MAX_HANDSHAKE_MESSAGE_BYTES, MAX_RECORD_PAYLOAD_BYTES
from tests.hostile import flights
from tests.hostile.harness import (
    assert_connection_failed,
    assert_every_probe_accounted_for,
    assert_failed,
    assert_unprobeable,
    assert_unreachable,
    scan_script,
)
from tests.hostile.scripted import (
    Close,
    Hold,
    Read,
    ReadRecord,
    Reply,
    Script,
    Send,
    StreamForever,
)

# A handshake message length no server needs, far past MAX_HANDSHAKE_MESSAGE_BYTES.
HUGE_MESSAGE_BYTES = 2**24 - 1
# Under both our cap and OpenSSL's 100 KiB certificate list limit: only time can stop it.
UNFINISHED_MESSAGE_BYTES = 90_000
SERVER_HELLO_BYTES = len(flights.tls12_server_hello(b""))


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # A server that answers the ClientHello with 64 random-looking bytes: the error quotes
        # the first bytes.
        pytest.param(
            [ReadRecord(), Send(flights.GARBAGE), Close()],
            "{peer} answered with bytes that are not TLS (first bytes "
            + flights.GARBAGE[:16].hex(" ")
            + ")",
            id="garbage_bytes",
        ),
        # A plain HTTP server, which answers a ClientHello with 400 Bad Request: the error says
        # it is HTTP.
        pytest.param(
            [ReadRecord(), Send(flights.PLAIN_HTTP_RESPONSE), Close()],
            "{peer} answered in plain HTTP, not TLS (is this an http:// port?)",
            id="plain_http",
        ),
        # An SSH server, which speaks first: its banner arrives before our ClientHello leaves;
        # the error names SSH.
        pytest.param(
            [Send(flights.SSH_BANNER), Read(), Close()],
            "{peer} is an SSH server, not TLS",
            id="ssh_banner",
        ),
    ],
)
def test_peer_that_does_not_speak_tls(script: Script, expected: str, tmp_path: Path) -> None:
    # Given a server that answers (or speaks first) with something that is not TLS
    # When a user scans it
    run, peer, server = scan_script(script, tmp_path)
    # Then the timed connection failed at TLS saying what it got, and nothing else knocked on
    # the door again
    message = assert_connection_failed(run, ErrorKind.PROTOCOL)
    assert message == expected.format(peer=peer)
    assert_unprobeable(run, ErrorKind.PROTOCOL)
    assert server.connections == 1


def test_truncated_record(tmp_path: Path) -> None:
    # Given a server that sends a record header claiming 500 bytes, 20 of them, then a FIN
    truncated = flights.truncated_record()
    # When a user scans it
    run, peer, _ = scan_script([ReadRecord(), Send(truncated), Close()], tmp_path)
    # Then the connection was lost mid-handshake, with the bytes that did come
    message = assert_connection_failed(run, ErrorKind.CONNECTION_LOST)
    assert message == (
        f"{peer} closed the connection during the TLS handshake after {len(truncated)} bytes"
    )
    # And a lost connection is worth probing with raw hellos: each one saw the same close
    versions = run.probe(ProbeId.VERSIONS)
    assert versions["status"] == "completed"
    assert versions["result"]["supported"] == []
    assert {entry["answer"] for entry in versions["result"]["versions"]} == {"closed"}
    assert_every_probe_accounted_for(run)
    assert_unreachable(run)


def test_record_longer_than_the_protocol_allows(tmp_path: Path) -> None:
    # Given a server whose first record header claims 2^14 + 2048 + 1 bytes
    oversized = flights.oversized_record_header() + bytes(100)
    # When a user scans it
    run, peer, _ = scan_script([ReadRecord(), Send(oversized), Hold()], tmp_path)
    # Then the header alone is refused (nothing buffered for it), as broken TLS, not "not TLS"
    message = assert_connection_failed(run, ErrorKind.PROTOCOL)
    limit = MAX_RECORD_PAYLOAD_BYTES
    assert message == (
        f"{peer} sent malformed TLS (record length {limit + 1} exceeds {limit} at offset 3)"
    )
    assert_unprobeable(run, ErrorKind.PROTOCOL)


def test_handshake_message_longer_than_its_record(tmp_path: Path) -> None:
    # Given a 12-byte record holding the start of a 70-byte ServerHello, then a
    # ChangeCipherSpec record where the rest of the message should be (RFC 8446 §5.1)
    answer = flights.server_hello_longer_than_its_record()
    # When a user scans it
    run, peer, _ = scan_script([ReadRecord(), Send(answer), Close()], tmp_path)
    # Then OpenSSL refuses the interleaved record and says so
    message = assert_connection_failed(run, ErrorKind.HANDSHAKE)
    assert message == f"TLS handshake with {peer} failed: unexpected message"
    # And the raw hellos that followed each saw the server hang up without a ServerHello
    versions = run.probe(ProbeId.VERSIONS)
    assert versions["status"] == "completed"
    assert {entry["answer"] for entry in versions["result"]["versions"]} == {"closed"}
    assert_every_probe_accounted_for(run)
    assert_unreachable(run)


def test_handshake_message_spanning_records_never_completes(tmp_path: Path) -> None:
    # Given a ServerHello, then a Certificate message claiming 90000 bytes of which one full
    # record's worth comes, and a server that keeps the connection open without the rest
    script: Script = [
        ReadRecord(),
        Reply(flights.tls12_server_hello),
        Send(flights.certificate_message_start(UNFINISHED_MESSAGE_BYTES)),
        Send(flights.certificate_filler()),
        Hold(),
    ]
    sent = (
        SERVER_HELLO_BYTES
        + len(flights.certificate_message_start(UNFINISHED_MESSAGE_BYTES))
        + len(flights.certificate_filler())
    )
    # When a user scans it with a short --timeout
    run, peer, _ = scan_script(script, tmp_path)
    # Then the scan ended on its deadline, saying how far the server got
    message = assert_connection_failed(run, ErrorKind.TIMEOUT)
    assert message == f"{peer} sent {sent} bytes but not the rest before the deadline (receiving)"
    assert_unprobeable(run, ErrorKind.TIMEOUT)


def test_handshake_message_streamed_past_the_cap(tmp_path: Path) -> None:
    # Given a ServerHello, then a Certificate message claiming 2^24 - 1 bytes, and full
    # records of it streamed for as long as anyone reads
    script: Script = [
        ReadRecord(),
        Reply(flights.tls12_server_hello),
        Send(flights.certificate_message_start(HUGE_MESSAGE_BYTES)),
        StreamForever(flights.certificate_filler()),
    ]
    # When a user scans it
    run, peer, _ = scan_script(script, tmp_path)
    # Then OpenSSL refused the length before buffering the body (its certificate list cap),
    # so the timed connection failed at TLS
    message = assert_connection_failed(run, ErrorKind.HANDSHAKE)
    assert message == f"TLS handshake with {peer} failed: excessive message size"
    # And a raw hello that needs the whole first flight stopped at our reassembler's cap
    length_at = SERVER_HELLO_BYTES + 5 + 1  # record header, then the msg_type byte
    message = assert_failed(run, ProbeId.GROUPS, ErrorKind.PROTOCOL, Phase.TLS)
    assert message == (
        f"{peer} answered a ClientHello with a handshake message too long to read (handshake "
        f"message length {HUGE_MESSAGE_BYTES} exceeds {MAX_HANDSHAKE_MESSAGE_BYTES} at offset "
        f"{length_at})"
    )
    assert_every_probe_accounted_for(run)
    assert_unreachable(run)
