"""A raw TCP peer on loopback that plays a script on every connection: the hostile server.

Each accepted connection runs the steps in order on its own thread (``_ThreadedTcpServer``):
send bytes, sleep, read, trickle one byte per interval, stream forever, hold the line open,
close with a FIN or reset with an RST (``SO_LINGER`` 0). A script that runs out of steps ends
with a FIN. The peer leaving is the point of most scripts, so socket errors end a script
quietly; anything else is recorded in ``errors`` like every lab server does.

Every wait watches the stop flag, so leaving the ``with`` block ends every connection at once,
and it fails loudly if a thread outlives the server.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar

from tests.servers import MAX_RECORD_BYTES, POLL_INTERVAL_S, _ThreadedTcpServer

# Bytes per recv when a step reads or discards what the client sends.
READ_CHUNK_BYTES = 4096
# After a FIN, unread client bytes are drained this long so close() cannot turn into an RST.
FIN_DRAIN_S = 1.0
# What a connection keeps of the client's bytes for assertions; a scanner sends a few KiB.
MAX_KEPT_BYTES = 1024 * 1024
TLS_RECORD_HEADER_BYTES = 5


@dataclass(frozen=True, slots=True)
class Send:
    """Write these bytes at once."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """Write what ``answer`` makes of everything read so far on this connection (a ServerHello
    that picks a suite the ClientHello offered, say)."""

    answer: Callable[[bytes], bytes]


@dataclass(frozen=True, slots=True)
class Sleep:
    """Do nothing for ``seconds`` (cut short when the server stops)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Read:
    """One recv of at most ``max_bytes``; the client closing ends the script."""

    max_bytes: int = READ_CHUNK_BYTES


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """Read one whole TLS record (its header's length honoured): the ClientHello."""


@dataclass(frozen=True, slots=True)
class Trickle:
    """Write ``data`` one byte every ``interval_s`` seconds."""

    data: bytes
    interval_s: float


@dataclass(frozen=True, slots=True)
class StreamForever:
    """Write ``chunk`` again and again until the client leaves or the server stops."""

    chunk: bytes


@dataclass(frozen=True, slots=True)
class Hold:
    """Keep the connection open, reading what comes, until the client leaves or stop."""


@dataclass(frozen=True, slots=True)
class Close:
    """FIN: shut down our side, drain briefly, close."""


@dataclass(frozen=True, slots=True)
class Reset:
    """RST: ``SO_LINGER`` on with a zero timeout makes close() abort the connection."""


Step = Send | Reply | Sleep | Read | ReadRecord | Trickle | StreamForever | Hold | Close | Reset
Script = Sequence[Step]


class _PeerLeft(Exception):
    """The client closed its side: the script has nobody left to play to."""


class ThreadLeak(RuntimeError):
    """A connection thread outlived the server."""


def live_threads(server: _ThreadedTcpServer) -> list[threading.Thread]:
    """A lab server's accept and connection threads still running (none after its exit)."""
    with server._lock:
        threads = list(server._threads)
    if server._accept_thread is not None:
        threads.append(server._accept_thread)
    return [thread for thread in threads if thread.is_alive()]


class ScriptedServer(_ThreadedTcpServer):
    """Plays ``script`` (or ``script(n)`` for the n-th connection, from 0) on each connection.

    ``received`` holds what each connection read, in connection order; ``bytes_sent`` counts
    what the server wrote in total (how far a stream got before the client stopped it).
    """

    thread_name: ClassVar[str] = "lab-scripted"

    def __init__(self, script: Script | Callable[[int], Script], host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self._script = script
        self._next_index = 0
        self.received: list[bytes] = []
        self.bytes_sent = 0

    def _handle(self, connection: socket.socket) -> None:
        with self._lock:
            index = self._next_index
            self._next_index += 1
            self.received.append(b"")
        steps = self._script(index) if callable(self._script) else self._script
        try:
            for step in steps:
                if self.stopping or self._play(connection, index, step):
                    return
            self._close(connection)
        except (_PeerLeft, OSError):
            return  # the client left, reset us, or stopped reading: all fine for this peer

    def _play(self, connection: socket.socket, index: int, step: Step) -> bool:
        """Run one step; True when it ended the connection."""
        match step:
            case Send(data):
                self._send(connection, data)
            case Reply(answer):
                self._send(connection, answer(self.received[index]))
            case Sleep(seconds):
                self._stopping.wait(seconds)
            case Read(max_bytes):
                self._keep(index, self._recv(connection, max_bytes))
            case ReadRecord():
                self._keep(index, self._read_record(connection))
            case Trickle(data, interval_s):
                for position in range(len(data)):
                    self._send(connection, data[position : position + 1])
                    if self._stopping.wait(interval_s):
                        return True
            case StreamForever(chunk):
                while not self.stopping:
                    self._send(connection, chunk)
                return True
            case Hold():
                self._hold(connection, index)
                return True
            case Close():
                self._close(connection)
                return True
            case Reset():
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return True  # _serve closes the socket, which now sends the RST
        return False

    def _keep(self, index: int, data: bytes) -> None:
        with self._lock:
            room = MAX_KEPT_BYTES - len(self.received[index])
            self.received[index] += data[: max(room, 0)]

    def _send(self, connection: socket.socket, data: bytes) -> None:
        connection.sendall(data)
        with self._lock:
            self.bytes_sent += len(data)

    @staticmethod
    def _recv(connection: socket.socket, max_bytes: int) -> bytes:
        data = connection.recv(max_bytes)
        if not data:
            raise _PeerLeft
        return data

    def _read_record(self, connection: socket.socket) -> bytes:
        data = b""
        while len(data) < TLS_RECORD_HEADER_BYTES:
            data += self._recv(connection, TLS_RECORD_HEADER_BYTES - len(data))
        length = struct.unpack("!H", data[3:5])[0]
        wanted = min(TLS_RECORD_HEADER_BYTES + length, MAX_RECORD_BYTES)
        while len(data) < wanted:
            data += self._recv(connection, wanted - len(data))
        return data

    def _hold(self, connection: socket.socket, index: int) -> None:
        connection.settimeout(POLL_INTERVAL_S)
        while not self.stopping:
            try:
                self._keep(index, self._recv(connection, READ_CHUNK_BYTES))
            except TimeoutError:
                continue

    def _close(self, connection: socket.socket) -> None:
        connection.shutdown(socket.SHUT_WR)
        connection.settimeout(POLL_INTERVAL_S)
        waited = 0.0
        while waited < FIN_DRAIN_S and not self.stopping:
            try:
                self._recv(connection, READ_CHUNK_BYTES)
            except TimeoutError:
                waited += POLL_INTERVAL_S

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        super().__exit__(exc_type, exc, traceback)
        leaked = live_threads(self)
        if leaked and exc is None:
            names = ", ".join(thread.name for thread in leaked)
            raise ThreadLeak(f"{len(leaked)} threads outlived the server ({names})")


__all__ = [
    "Close",
    "Hold",
    "Read",
    "ReadRecord",
    "Reply",
    "Reset",
    "Script",
    "ScriptedServer",
    "Send",
    "Sleep",
    "Step",
    "StreamForever",
    "ThreadLeak",
    "Trickle",
    "live_threads",
]
