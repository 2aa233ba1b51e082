"""A loopback TCP proxy that misbehaves like known-broken middleboxes, in front of a real server.

Real servers on this machine (OpenSSL 3.0 everywhere) tolerate GREASE and large hellos, honour
TLS_FALLBACK_SCSV and set the TLS 1.3 downgrade sentinel. The field is less kind: TLS-inspecting
boxes and old load balancers reset hellos carrying unknown cipher suites or hellos past a size,
and a TLS terminator that predates RFC 7507 or RFC 8446 behaves as if the SCSV and the sentinel
did not exist. This proxy reproduces each of those in front of ``openssl s_server``, so a probe
can be shown the "lacks it" side on real bytes.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass

from tests.servers import IO_TIMEOUT_S, MAX_RECORD_BYTES, _ThreadedTcpServer, require_loopback

# RFC 8701 §2: the sixteen GREASE values, 0x0A0A, 0x1A1A ... 0xFAFA.
GREASE_VALUES = frozenset(0x0A0A + 0x1010 * index for index in range(16))
TLS_FALLBACK_SCSV = 0x5600  # RFC 7507 §6
# What a box that does not know the SCSV lets through in its place: a GREASE suite, which any
# server ignores (RFC 8701 §3), so the hello keeps its length and the server never sees the SCSV.
SCSV_REPLACEMENT = 0x0A0A
# RFC 8446 §4.1.3: the last 8 bytes of a TLS 1.3 server's random when it negotiates down.
DOWNGRADE_MARKERS = (bytes.fromhex("444f574e47524401"), bytes.fromhex("444f574e47524400"))
HANDSHAKE = 0x16
CLIENT_HELLO = 1
SERVER_HELLO = 2
RECORD_HEADER_BYTES = 5
# Record header, handshake header, version, then the 32-byte random: enough to rewrite it.
SERVER_RANDOM_END = RECORD_HEADER_BYTES + 4 + 2 + 32
RELAY_CHUNK_BYTES = 65536


@dataclass(frozen=True, slots=True)
class Misbehaviour:
    """What the box does wrong; every flag off makes it a faithful relay."""

    reset_on_grease_suite: bool = False  # resets a hello listing a GREASE cipher suite
    max_hello_bytes: int | None = None  # resets a hello record larger than this (header included)
    strip_fallback_scsv: bool = False  # the server never sees TLS_FALLBACK_SCSV
    erase_downgrade_sentinel: bool = False  # zeroes DOWNGRD in the ServerHello random


def hello_cipher_suites(record: bytes) -> tuple[tuple[int, int], ...]:
    """(offset, suite) for each suite of a ClientHello that fits in ``record``; () otherwise."""
    body_start = RECORD_HEADER_BYTES + 4
    if len(record) < body_start or record[0] != HANDSHAKE or record[5] != CLIENT_HELLO:
        return ()
    at = body_start + 2 + 32  # legacy_version, random
    if len(record) <= at:
        return ()
    at += 1 + record[at]  # legacy_session_id
    if len(record) < at + 2:
        return ()
    (suites_bytes,) = struct.unpack_from("!H", record, at)
    at += 2
    if len(record) < at + suites_bytes:
        return ()
    return tuple(
        (offset, struct.unpack_from("!H", record, offset)[0])
        for offset in range(at, at + suites_bytes - 1, 2)
    )


class BrokenMiddlebox(_ThreadedTcpServer):
    """Relays to ``target_host:target_port``, misbehaving on the first flight each way."""

    thread_name = "lab-middlebox"

    def __init__(
        self,
        target_host: str,
        target_port: int,
        misbehaviour: Misbehaviour,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.target_host = require_loopback(target_host)
        self.target_port = target_port
        self.misbehaviour = misbehaviour
        # Why each reset hello was reset, and the size of every hello seen, for assertions.
        self.resets: list[str] = []
        self.hello_bytes: list[int] = []

    def _handle(self, connection: socket.socket) -> None:
        hello = bytearray(self._read_record(connection))
        with self._lock:
            self.hello_bytes.append(len(hello))
        reason = self._reset_reason(bytes(hello))
        if reason is not None:
            with self._lock:
                self.resets.append(reason)
            # SO_LINGER on with a zero timeout makes close() send RST instead of FIN.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        if self.misbehaviour.strip_fallback_scsv:
            for offset, suite in hello_cipher_suites(bytes(hello)):
                if suite == TLS_FALLBACK_SCSV:
                    struct.pack_into("!H", hello, offset, SCSV_REPLACEMENT)
        upstream = socket.create_connection((self.target_host, self.target_port), IO_TIMEOUT_S)
        self.track(upstream)
        try:
            upstream.sendall(hello)
            to_upstream = threading.Thread(
                target=self._relay, args=(connection, upstream, False), daemon=True
            )
            to_upstream.start()
            self._relay(upstream, connection, self.misbehaviour.erase_downgrade_sentinel)
            to_upstream.join(IO_TIMEOUT_S)
        finally:
            self.untrack_and_close(upstream)

    def _reset_reason(self, hello: bytes) -> str | None:
        limit = self.misbehaviour.max_hello_bytes
        if limit is not None and len(hello) > limit:
            return f"hello of {len(hello)} bytes is over {limit}"
        if self.misbehaviour.reset_on_grease_suite:
            for _offset, suite in hello_cipher_suites(hello):
                if suite in GREASE_VALUES:
                    return f"GREASE cipher suite 0x{suite:04x}"
        return None

    @staticmethod
    def _read_record(connection: socket.socket) -> bytes:
        """The first record, as long as its header says (capped), or whatever came before EOF."""
        data = b""
        wanted = RECORD_HEADER_BYTES
        while len(data) < wanted:
            chunk = connection.recv(wanted - len(data))
            if not chunk:
                break
            data += chunk
            if len(data) == RECORD_HEADER_BYTES:
                (length,) = struct.unpack_from("!H", data, 3)
                wanted = min(RECORD_HEADER_BYTES + length, MAX_RECORD_BYTES)
        return data

    @staticmethod
    def _relay(source: socket.socket, destination: socket.socket, erase_sentinel: bool) -> None:
        """Copy until EOF, then half-close; optionally rewrite the ServerHello random first."""
        pending = b""
        rewriting = erase_sentinel
        while True:
            try:
                data = source.recv(RELAY_CHUNK_BYTES)
            except OSError:
                data = b""
            if rewriting and data:
                pending += data
                if len(pending) < SERVER_RANDOM_END:
                    continue
                data, pending, rewriting = _erase_sentinel(pending), b"", False
            if not data:
                data, pending = pending, b""
                with contextlib.suppress(OSError):
                    if data:
                        destination.sendall(data)
                    destination.shutdown(socket.SHUT_WR)
                return
            try:
                destination.sendall(data)
            except OSError:
                with contextlib.suppress(OSError):
                    source.shutdown(socket.SHUT_RD)
                return


def _erase_sentinel(flight: bytes) -> bytes:
    """Zero the downgrade marker of a ServerHello at the start of ``flight``, if it has one."""
    if flight[0] != HANDSHAKE or flight[RECORD_HEADER_BYTES] != SERVER_HELLO:
        return flight
    marker = flight[SERVER_RANDOM_END - 8 : SERVER_RANDOM_END]
    if marker not in DOWNGRADE_MARKERS:
        return flight
    return flight[: SERVER_RANDOM_END - 8] + bytes(8) + flight[SERVER_RANDOM_END:]
