"""Deadlines and caps (issue 9): raw socket calls stay in the modules that arm a deadline, and
each cap added for a server-controlled count holds, checked on bytes or a loopback server."""

from __future__ import annotations

import ast
import contextlib
import socket
from pathlib import Path

import pytest

from httpsaudit.errors import ConnectError
from httpsaudit.net.clock import Deadline
from httpsaudit.net.http1 import build_request
from httpsaudit.net.tls_driver import EngineConnection
from httpsaudit.net.transport import TcpConnection
from httpsaudit.net.wire import MAX_MESSAGES_PER_FLIGHT, WireLog
from httpsaudit.probes.base import ConnectionLimiter, ProbeContext, ScanOptions
from httpsaudit.probes.connection import MAX_CONNECT_ADDRESSES, _connect_tcp
from httpsaudit.results import Direction
from httpsaudit.target import parse_target
from httpsaudit.tls.client import ClientConnection, ClientParams
from httpsaudit.tls.codes import ContentType, HandshakeType
from httpsaudit.tls.records import NEED_DATA, HandshakeReassembler, Record
from tests.pki import TestPKI
from tests.servers import OpenSSLServer

PACKAGE = Path(__file__).resolve().parent.parent / "httpsaudit"
# Methods that move bytes on (or configure) a real socket, or build one.
SOCKET_METHODS = frozenset(
    {
        "recv",
        "recv_into",
        "recvfrom",
        "recvfrom_into",
        "recvmsg",
        "sendall",
        "sendto",
        "sendmsg",
        "connect",
        "connect_ex",
        "settimeout",
        "setblocking",
        "accept",
    }
)
SOCKET_FACTORIES = frozenset({"socket", "create_connection", "create_server", "getaddrinfo"})
# Where each may appear, and why the deadline discipline still holds there.
ALLOWED_CALLS: dict[str, frozenset[str]] = {
    # The one TCP client: every call armed with the remaining time of a Deadline.
    "net/transport.py": frozenset({"socket", "connect", "settimeout", "sendall", "recv"}),
    # getaddrinfo in a worker thread whose result is awaited with the DNS deadline.
    "net/dns.py": frozenset({"getaddrinfo"}),
    # pyOpenSSL in memory-BIO mode: recv/sendall move bytes through memory, never a socket.
    "net/openssl_client.py": frozenset({"recv", "sendall"}),
    # The demo server (its own listener on 127.0.0.1, not the scanner's client side).
    "demo.py": frozenset({"socket", "create_server", "settimeout", "accept", "recv", "sendall"}),
}
STEP_TIMEOUT_S = 5.0


def socket_calls(tree: ast.AST) -> set[str]:
    """Socket method and factory names used in ``tree``; ``TcpConnection.connect`` (the
    deadline-taking constructor) is the sanctioned way in and is not counted."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name, receiver = node.func.attr, node.func.value
        if isinstance(receiver, ast.Name) and receiver.id == "TcpConnection":
            continue
        if name in SOCKET_METHODS:
            found.add(name)
    # Factories count even uncalled: ``pool.submit(socket.getaddrinfo, ...)`` calls it later.
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "socket"
            and node.attr in SOCKET_FACTORIES
        ):
            found.add(node.attr)
    return found


def test_socket_calls_appear_only_in_the_io_modules() -> None:
    # Given every module of the package
    misplaced: dict[str, list[str]] = {}
    seen: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        # When its socket calls are listed
        calls = socket_calls(ast.parse(path.read_text(encoding="utf-8")))
        seen[module] = calls
        extra = calls - ALLOWED_CALLS.get(module, frozenset())
        if extra:
            misplaced[module] = sorted(extra)
    # Then none sits outside the modules that arm a deadline, and the allowlist is not stale
    assert misplaced == {}
    assert {module: seen.get(module, set()) for module in ALLOWED_CALLS} == {
        module: set(calls) for module, calls in ALLOWED_CALLS.items()
    }


def test_the_socket_walker_finds_a_bare_recv() -> None:
    # Given a module that reads a socket directly, and one that uses the sanctioned constructor
    bare = ast.parse("def f(sock):\n    return sock.recv(10)\n")
    sanctioned = ast.parse("TcpConnection.connect('127.0.0.1', 1, deadline)\n")
    # When they are walked
    # Then the bare read is caught and the constructor is not
    assert socket_calls(bare) == {"recv"}
    assert socket_calls(sanctioned) == set()


def handshake_record(payload: bytes, offset: int) -> Record:
    return Record(ContentType.HANDSHAKE, 0x0303, payload, offset)


def test_empty_handshake_fragments_do_not_grow_the_reassembler() -> None:
    # Given a message header split from its body by 10_000 empty handshake records
    body = b"\x01\x02\x03"
    reassembler = HandshakeReassembler()
    reassembler.receive_record(handshake_record(bytes([HandshakeType.FINISHED, 0, 0]), 0))
    for index in range(10_000):
        reassembler.receive_record(handshake_record(b"", 8 + 5 * index))
        assert reassembler.next_message() is NEED_DATA
    # Then they left no trace: one segment, the header's
    assert reassembler._segments == [(0, 5)]
    # When the rest arrives
    reassembler.receive_record(handshake_record(b"\x03" + body, 50_008))
    message = reassembler.next_message()
    # Then the message is whole and placed right
    assert message != NEED_DATA
    assert (message.msg_type, message.body, message.offset) == (HandshakeType.FINISHED, body, 5)
    assert not reassembler.has_partial_message


def test_a_flight_keeps_at_most_the_capped_number_of_message_names() -> None:
    # Given a server flight followed by 1000 NewSessionTicket labels, then a client flight
    # labelled 1000 times before it is written
    wire = WireLog()
    wire.sent(b"hello", 1)
    wire.received(b"x" * 10, 2)
    for _ in range(1000):
        wire.message(Direction.SERVER, "NewSessionTicket")
    for _ in range(1000):
        wire.message(Direction.CLIENT, "KeyUpdate")
    wire.sent(b"y" * 7, 3)
    # When the flights are read
    server, client = wire.flights()[1:]
    # Then each keeps exactly the cap's worth of names, and every byte still counts
    assert MAX_MESSAGES_PER_FLIGHT == 256
    assert server.messages == ("NewSessionTicket",) * MAX_MESSAGES_PER_FLIGHT
    assert client.messages == ("KeyUpdate",) * MAX_MESSAGES_PER_FLIGHT
    assert (server.wire_bytes, client.wire_bytes) == (10, 7)


def test_the_engine_connection_keeps_only_the_handshakes_events(pki: TestPKI) -> None:
    # Given s_server sending 20 TLS 1.3 tickets and a status page after the handshake
    with OpenSSLServer(pki.ecdsa_p256, "-num_tickets", "20") as server:
        transport = TcpConnection.connect("127.0.0.1", server.port, Deadline.after(STEP_TIMEOUT_S))
        connection = EngineConnection(
            transport, ClientConnection(ClientParams.generate("localhost"))
        )
        # When the handshake runs and a GET is answered
        handshake = connection.handshake(Deadline.after(STEP_TIMEOUT_S))
        connection.request(build_request("GET", "/", "localhost"), Deadline.after(STEP_TIMEOUT_S))
        connection.close(Deadline.after(STEP_TIMEOUT_S))
    # Then the tickets are kept, but no event after the handshake joined the event list
    assert len(connection.tickets) == 20
    assert connection._events == list(handshake.events)


def unused_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_the_timed_connection_tries_at_most_the_capped_number_of_addresses() -> None:
    # Given 40 loopback addresses (as a DNS answer might list) on a port nobody listens on
    port = unused_loopback_port()
    addresses = [f"127.0.0.{host}" for host in range(1, 41)]
    context = ProbeContext(
        target=parse_target(f"localhost:{port}"),
        options=ScanOptions(ca_file=None, timeout_s=20.0, max_connections=5),
        client=None,  # type: ignore[arg-type]  # the TCP step never uses the TLS client
        deadline=Deadline.after(20.0),
        limiter=ConnectionLimiter(5),
    )
    # When the timed connection looks for one that accepts
    with contextlib.ExitStack() as held, pytest.raises(ConnectError) as caught:
        _connect_tcp(context, addresses, port, held)
    # Then it gave up after the cap, having tried exactly the first addresses in order
    assert MAX_CONNECT_ADDRESSES == 16
    assert context.connections == MAX_CONNECT_ADDRESSES
    tried = ", ".join(addresses[:MAX_CONNECT_ADDRESSES])
    assert caught.value.message == (
        f"TCP connect failed to all {MAX_CONNECT_ADDRESSES} addresses ({tried}): "
        f"TCP connect to 127.0.0.16:{port} failed: connection refused"
    )
