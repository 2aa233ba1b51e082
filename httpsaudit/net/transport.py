"""TCP with a deadline on every call and a timestamp on every read.

OS errors become the project's errors here, one table per operation (httpcore's
``map_exceptions``), so nothing from ``socket`` escapes ``net/``.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
from collections.abc import Iterator

from httpsaudit.errors import ConnectError, ConnectionLost, Phase, PhaseTimeout
from httpsaudit.net.clock import Deadline, now_ns

# One read never asks the kernel for more than this; TLS records are at most ~16 KiB anyway.
RECV_CHUNK_BYTES = 65536
_REFUSED = {errno.ECONNREFUSED}
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}


def _describe_os_error(exc: OSError) -> str:
    if exc.errno in _REFUSED:
        return "connection refused"
    if exc.errno in _UNREACHABLE:
        return "network unreachable"
    return exc.strerror or type(exc).__name__


@contextlib.contextmanager
def _map_connect_errors(where: str) -> Iterator[None]:
    try:
        yield
    except TimeoutError as exc:
        raise PhaseTimeout(f"TCP connect to {where} timed out", phase=Phase.TCP) from exc
    except OSError as exc:
        raise ConnectError(
            f"TCP connect to {where} failed: {_describe_os_error(exc)}", phase=Phase.TCP
        ) from exc


class TcpConnection:
    """One TCP connection; every send and receive takes a deadline and a phase for errors."""

    def __init__(self, sock: socket.socket, address: str, port: int) -> None:
        self._sock = sock
        self.address = address
        self.port = port
        self.bytes_sent = 0
        self.bytes_received = 0
        self.connect_ns = 0
        self.connected_at_ns = 0  # monotonic stamp of the moment the TCP handshake completed
        self.failed_addresses: tuple[str, ...] = ()
        self._closed = False

    @property
    def peer(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"

    @classmethod
    def connect(cls, address: str, port: int, deadline: Deadline) -> TcpConnection:
        """Connect; ``connect_ns`` on the result is the TCP handshake time."""
        family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
        where = f"[{address}]:{port}" if family == socket.AF_INET6 else f"{address}:{port}"
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            # Browsers and curl disable Nagle: a short Finished must not wait for an ACK.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            remaining = deadline.remaining()
            if remaining <= 0:
                raise PhaseTimeout(f"no time left to connect to {where}", phase=Phase.TCP)
            sock.settimeout(remaining)
            with _map_connect_errors(where):
                started = now_ns()
                sock.connect((address, port))
                duration = now_ns() - started
        except BaseException:
            sock.close()
            raise
        connection = cls(sock, address, port)
        connection.connect_ns = duration
        connection.connected_at_ns = started + duration
        return connection

    @contextlib.contextmanager
    def _map_io_errors(self, phase: Phase, action: str) -> Iterator[None]:
        try:
            yield
        except TimeoutError as exc:
            raise PhaseTimeout(self._timeout_message(action), phase=phase) from exc
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
            raise ConnectionLost(
                f"{self.peer} reset the connection ({action})",
                phase=phase,
                bytes_received=self.bytes_received,
            ) from exc
        except OSError as exc:
            raise ConnectionLost(
                f"{self.peer}: {_describe_os_error(exc)} ({action})",
                phase=phase,
                bytes_received=self.bytes_received,
            ) from exc

    def _timeout_message(self, action: str) -> str:
        """Say what the peer did: silence, a trickle that never finished, or not reading."""
        if action == "sending":
            return f"{self.peer} did not take our bytes before the deadline ({action})"
        if self.bytes_received:
            return (
                f"{self.peer} sent {self.bytes_received} bytes but not the rest before the "
                f"deadline ({action})"
            )
        return f"{self.peer} sent nothing before the deadline ({action})"

    def _arm(self, deadline: Deadline, phase: Phase, action: str) -> None:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise PhaseTimeout(f"deadline passed before {action} on {self.peer}", phase=phase)
        self._sock.settimeout(remaining)

    def send(self, data: bytes, deadline: Deadline, phase: Phase) -> int:
        """Write all of ``data``; return the time the last byte was handed to the kernel."""
        self._arm(deadline, phase, "sending")
        with self._map_io_errors(phase, "sending"):
            self._sock.sendall(data)
        self.bytes_sent += len(data)
        return now_ns()

    def receive(self, deadline: Deadline, phase: Phase) -> tuple[bytes, int]:
        """One read; ``b""`` means the peer closed. The stamp is taken as the read returns."""
        self._arm(deadline, phase, "waiting for data")
        with self._map_io_errors(phase, "receiving"):
            data = self._sock.recv(RECV_CHUNK_BYTES)
        stamp = now_ns()
        self.bytes_received += len(data)
        return data, stamp

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(OSError):
                self._sock.close()

    def __enter__(self) -> TcpConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
