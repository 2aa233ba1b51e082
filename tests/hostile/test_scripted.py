"""The scripted hostile server itself: each step does what it says, and stopping leaves no
thread behind even while a step is mid-stream."""

from __future__ import annotations

import socket
import time

import pytest

from tests.hostile import flights
from tests.hostile.scripted import (
    Close,
    Hold,
    Read,
    ReadRecord,
    Reset,
    Script,
    ScriptedServer,
    Send,
    Sleep,
    StreamForever,
    Trickle,
    live_threads,
)

CLIENT_TIMEOUT_S = 5.0
# Long enough for the client to read what came before an RST.
BEFORE_RESET_S = 0.3
# How long to wait for the server to take a connection: 500 polls of 10 ms.
WAIT_POLLS = 500
WAIT_POLL_S = 0.01


def _connect(server: ScriptedServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=CLIENT_TIMEOUT_S)


def _wait_until_served(server: ScriptedServer) -> None:
    """Until the accept thread handed the connection to its own thread (bounded)."""
    for _ in range(WAIT_POLLS):
        if server.connections:
            return
        time.sleep(WAIT_POLL_S)


def _read_to_end(client: socket.socket) -> bytes:
    data = b""
    while chunk := client.recv(4096):
        data += chunk
    return data


def test_read_record_send_and_close() -> None:
    # Given a script that reads one TLS record, answers and closes with a FIN
    record = flights.record(flights.HANDSHAKE, b"hello")
    server = ScriptedServer([ReadRecord(), Send(b"answer"), Close()])
    with server, _connect(server) as client:
        # When a client sends the record and more bytes behind it
        client.sendall(record + b"extra")
        # Then it gets the answer, then end of stream
        assert _read_to_end(client) == b"answer"
    # And the server kept exactly the one record it read
    assert server.received[0] == record
    assert live_threads(server) == []
    assert server.errors == []


def test_reset_sends_an_rst_after_the_data() -> None:
    # Given a script that sends a byte, waits, then resets
    server = ScriptedServer([Send(b"x"), Sleep(BEFORE_RESET_S), Reset()])
    with server, _connect(server) as client:
        # When the client reads
        first = client.recv(4096)
        # Then the byte came, and then the reset, not a clean end of stream
        with pytest.raises(ConnectionResetError):
            client.recv(4096)
    assert first == b"x"


def test_trickle_sends_every_byte_in_order() -> None:
    # Given a script that trickles 5 bytes, then closes (the script ending means a FIN)
    server = ScriptedServer([Trickle(b"abcde", 0.01)])
    with server, _connect(server) as client:
        # Then every byte arrives, in order, then end of stream
        assert _read_to_end(client) == b"abcde"
    assert server.bytes_sent == 5


@pytest.mark.parametrize(
    "script",
    [
        [StreamForever(b"z" * 4096)],
        [Trickle(b"abcdef" * 100, 60.0)],
        [Hold()],
        [Sleep(60.0)],
        [Read()],
    ],
    ids=["stream", "trickle", "hold", "sleep", "read"],
)
def test_stopping_ends_every_step_and_leaks_no_thread(script: Script) -> None:
    # Given a client connected to a server busy in a step that would run for a long time
    server = ScriptedServer(script)
    client: socket.socket | None = None
    try:
        with server:
            client = _connect(server)
            _wait_until_served(server)
            # When the server stops while the client is still connected
    finally:
        if client is not None:
            client.close()
    # Then the step ended and no thread is left (ThreadLeak would have been raised)
    assert live_threads(server) == []
    assert server.connections == 1


def test_script_per_connection() -> None:
    # Given a script chosen by connection number
    with ScriptedServer(lambda index: [Send(f"connection {index}".encode()), Close()]) as server:
        # When two clients connect one after the other
        answers = []
        for _ in range(2):
            with _connect(server) as client:
                answers.append(_read_to_end(client))
    # Then each got its own script
    assert answers == [b"connection 0", b"connection 1"]
