"""Loopback servers for tests: real TLS peers, misbehaving peers, a DNS responder and an RTT proxy.

Every server is a context manager that binds loopback only, returns from ``__enter__`` only once
it really accepts, and on exit stops exactly what it started: the PID it spawned or the threads
it owns. Nothing here ever talks to an address outside 127.0.0.0/8 or ::1.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import ctypes
import hashlib
import ipaddress
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import ssl
import string
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, ClassVar, Literal, Self, TypeVar

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest

from tests.pki import Issued

REQUIRE_SERVERS_ENV = "HTTPSAUDIT_REQUIRE_SERVERS"
FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"
NGINX_TEMPLATES_DIR = FIXTURES_DIR / "nginx"

READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
# On stop, connections still busy get this long to finish before their sockets are shut down.
STOP_GRACE_S = 0.2
# Accept/recv loops wake this often to notice a stop request.
POLL_INTERVAL_S = 0.05
# A peer that stalls longer than this mid-exchange is given up on, so no thread hangs a test.
IO_TIMEOUT_S = 5.0
# Largest TLS record (2^14 plaintext + 2048 expansion allowance) plus its 5-byte header.
MAX_RECORD_BYTES = 5 + 2**14 + 2048
# Cap on an HTTP request head read by PythonTlsServer; tests send a few hundred bytes.
MAX_REQUEST_HEAD_BYTES = 64 * 1024
# How many lines of a subprocess's output are kept for error messages.
MAX_OUTPUT_LINES = 2000

DEFAULT_RESPONSE_BODY = b"ok\n"
DEFAULT_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Server: python-lab\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: " + str(len(DEFAULT_RESPONSE_BODY)).encode() + b"\r\n"
    b"Connection: close\r\n"
    b"\r\n" + DEFAULT_RESPONSE_BODY
)


class ServerStartError(RuntimeError):
    """A lab server did not become ready; the message carries its command and output."""


def require_binary(name: str) -> str:
    """Path of ``name``; a missing server skips locally but fails in CI, which must not skip."""
    path = shutil.which(name)
    if path is not None:
        return path
    reason = f"{name!r} is not installed (needed for a lab server)"
    if os.environ.get(REQUIRE_SERVERS_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_SERVERS_ENV}=1 forbids skipping")
    pytest.skip(reason)


def require_loopback(host: str) -> str:
    """Refuse any non-loopback address so a typo can never send test traffic off the machine."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"lab servers bind and connect to loopback only, not {host!r}")
    return host


def has_ipv6_loopback() -> bool:
    """Whether ``::1`` can be bound here (containers often disable IPv6)."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET


def _free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel just considered free; racy by nature, so callers retry on collision."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _stop_process(process: subprocess.Popen[bytes], *, own_group: bool) -> None:
    """Terminate, wait, then kill the PID we started (and its group if we created one)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            if own_group:
                # The group was created for this PID by start_new_session, so its id is our PID.
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
            process.wait(STOP_TIMEOUT_S)


class _LineDrain:
    """Reads a pipe to EOF in a thread so the child never blocks on a full pipe buffer."""

    def __init__(self, pipe: IO[bytes], on_line: Callable[[str], None] | None = None) -> None:
        self._pipe = pipe
        self._on_line = on_line
        self._lines: collections.deque[str] = collections.deque(maxlen=MAX_OUTPUT_LINES)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="lab-pipe-drain", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for raw in iter(self._pipe.readline, b""):
            line = raw.decode(errors="replace").rstrip("\r\n")
            with self._lock:
                self._lines.append(line)
            if self._on_line is not None:
                self._on_line(line)

    @property
    def text(self) -> str:
        with self._lock:
            return "\n".join(self._lines)

    def close(self) -> None:
        """Call after the process exited: the pipe then reaches EOF and the thread ends."""
        self._thread.join(STOP_TIMEOUT_S)
        self._pipe.close()


_ACCEPT_LINE = re.compile(r"^ACCEPT (?:\[(?P<ipv6>[^\]]+)\]|(?P<ipv4>[^:\s]+)):(?P<port>\d+)$")
# A request line as s_server echoes what the client sent (CR stripped with the line end).
_REQUEST_LINE = re.compile(r"^(?:GET|HEAD|POST) \S+ HTTP/1\.[01]$")


class OpenSSLServer:
    """``openssl s_server -www`` with a lab certificate; serves ONE connection at a time.

    The kernel picks the port (``-accept HOST:0``); the real one comes from the ``ACCEPT`` line,
    printed as ``ACCEPT 127.0.0.1:<port>`` or, for IPv6, ``ACCEPT [::1]:<port>``.

    ``www=False`` runs it without ``-www``, which ``-early_data`` needs (s_server refuses the
    two together). s_server then prints what the client sends (early data included) and sends
    the client what arrives on its stdin, so stdin stays open and the lab plays the web server:
    each request head printed gets ``answer`` written back. s_server reads its stdin only once
    the handshake is complete, so a request sent as early data is answered after the client
    Finished, never from early data.
    """

    def __init__(
        self,
        issued: Issued,
        *extra_args: str,
        host: str = "127.0.0.1",
        www: bool = True,
        answer: bytes = DEFAULT_RESPONSE,
    ) -> None:
        self.issued = issued
        self.extra_args = extra_args
        self.host = require_loopback(host)
        self.www = www
        self.answer = answer
        self.requests_answered = 0
        self.port = 0
        self.pid = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._stdout: _LineDrain | None = None
        self._stderr: _LineDrain | None = None
        self._accepted = threading.Event()
        self._request_line_seen = False

    @property
    def command(self) -> list[str]:
        openssl = require_binary("openssl")
        accept = f"[{self.host}]:0" if _family(self.host) == socket.AF_INET6 else f"{self.host}:0"
        command = [openssl, "s_server", "-accept", accept, *(["-www"] if self.www else [])]
        command += ["-cert", str(self.issued.cert_path), "-key", str(self.issued.key_path)]
        if self.issued.intermediates_path is not None:
            command += ["-cert_chain", str(self.issued.intermediates_path)]
        return command + list(self.extra_args)

    @property
    def stderr_text(self) -> str:
        return "" if self._stderr is None else self._stderr.text

    @property
    def stdout_text(self) -> str:
        return "" if self._stdout is None else self._stdout.text

    def _on_stdout_line(self, line: str) -> None:
        match = _ACCEPT_LINE.match(line)
        if match is not None and not self._accepted.is_set():
            self.port = int(match["port"])
            self._accepted.set()
        if self.www:
            return
        if _REQUEST_LINE.match(line):
            self._request_line_seen = True
        elif not line and self._request_line_seen:
            # The blank line ending a request head: answer it through s_server's stdin.
            self._request_line_seen = False
            self._write_answer()

    def _write_answer(self) -> None:
        process = self._process
        if process is None or process.stdin is None:
            return
        with contextlib.suppress(OSError, ValueError):
            process.stdin.write(self.answer)
            process.stdin.flush()
            self.requests_answered += 1

    def __enter__(self) -> Self:
        command = self.command
        # Without -www, s_server ends once its stdin does: keep a pipe open for it.
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL if self.www else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.pid = self._process.pid
        assert self._process.stdout is not None
        assert self._process.stderr is not None
        self._stdout = _LineDrain(self._process.stdout, self._on_stdout_line)
        self._stderr = _LineDrain(self._process.stderr)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self._accepted.wait(POLL_INTERVAL_S):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self._stop()
                raise ServerStartError(
                    f"openssl s_server never printed its ACCEPT line "
                    f"(exit status {self._process.returncode}).\n"
                    f"command: {' '.join(command)}\n"
                    f"stderr:\n{self.stderr_text}\nstdout:\n{self.stdout_text}"
                )
        return self

    def _stop(self) -> None:
        if self._process is not None:
            _stop_process(self._process, own_group=False)
            if self._process.stdin is not None:
                with contextlib.suppress(OSError):
                    self._process.stdin.close()
        for drain in (self._stdout, self._stderr):
            if drain is not None:
                drain.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()


NGINX_DEFAULT_PARAMS: Mapping[str, str] = {
    "http2": "",
    "protocols": "TLSv1.2 TLSv1.3",
    "extra_headers": (
        'add_header Strict-Transport-Security "max-age=31536000" always;\n'
        "            add_header Alt-Svc 'h3=\":443\"; ma=86400' always;"
    ),
    "server_directives": "",
}
# nginx itself retries a busy port 5 times, 500 ms apart, before giving up; then we pick anew.
NGINX_PORT_ATTEMPTS = 4


class NginxServer:
    """nginx from ``fixtures/nginx/<template_name>.conf`` in a private prefix, as any user.

    The template is a ``string.Template``: ``$port``, ``$prefix``, ``$cert`` (chain PEM) and
    ``$key`` are filled in, then ``NGINX_DEFAULT_PARAMS`` and ``params``. It must write its pid to
    ``$prefix/nginx.pid``: nginx writes that file only after binding every listen socket, which is
    how a port collision is told apart from readiness. ``$host`` is the loopback address to listen
    on, bracketed when IPv6 (templates that hard-code ``127.0.0.1`` ignore it): 127.0.0.2 and
    127.0.0.3 make two backends of one name.
    """

    def __init__(
        self, template_name: str, issued: Issued, *, host: str = "127.0.0.1", **params: str
    ) -> None:
        self.template_path = NGINX_TEMPLATES_DIR / f"{template_name}.conf"
        self.host = require_loopback(host)
        self.issued = issued
        self.params = params
        self.port = 0
        self.pid = 0
        self.prefix = Path()
        self.config_text = ""
        self._process: subprocess.Popen[bytes] | None = None

    def render(self, port: int) -> str:
        """The config for ``port``; missing placeholders raise KeyError naming them."""
        template = string.Template(self.template_path.read_text())
        values = {
            **NGINX_DEFAULT_PARAMS,
            "host": f"[{self.host}]" if ":" in self.host else self.host,
            "port": str(port),
            "prefix": str(self.prefix),
            "cert": str(self.issued.chain_path),
            "key": str(self.issued.key_path),
            **self.params,
        }
        return template.substitute(values)

    @property
    def error_log_text(self) -> str:
        return self._read(self.prefix / "error.log")

    @staticmethod
    def _read(path: Path) -> str:
        try:
            return path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _pick_port(self) -> int:
        return _free_port(self.host)

    def __enter__(self) -> Self:
        nginx = require_binary("nginx")
        self.prefix = Path(tempfile.mkdtemp(prefix="httpsaudit-nginx-"))
        failures: list[str] = []
        try:
            for _attempt in range(NGINX_PORT_ATTEMPTS):
                port = self._pick_port()
                failure = self._start(nginx, port)
                if failure is None:
                    return self
                failures.append(failure)
                if "Address already in use" not in failure:
                    break
        except BaseException:
            self._stop()
            raise
        self._stop()
        raise ServerStartError("nginx did not start:\n" + "\n---\n".join(failures))

    def _start(self, nginx: str, port: int) -> str | None:
        """Start nginx on ``port``; None when ready, else why it failed."""
        self.config_text = self.render(port)
        config_path = self.prefix / "nginx.conf"
        config_path.write_text(self.config_text)
        pid_path = self.prefix / "nginx.pid"
        pid_path.unlink(missing_ok=True)
        output_path = self.prefix / "output.log"
        command = [
            nginx,
            "-p",
            f"{self.prefix}/",
            "-e",
            str(self.prefix / "error.log"),
            "-c",
            str(config_path),
            "-g",
            "daemon off;",
        ]
        with output_path.open("ab") as output:
            # Own session: if the master must be killed, its workers go with its process group.
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self._process.pid
        self.port = port
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            if self._read(pid_path).strip() == str(self.pid) and self._connects():
                return None
            time.sleep(POLL_INTERVAL_S)
        _stop_process(self._process, own_group=True)
        self._process = None
        return (
            f"command: {' '.join(command)}\nport: {port}\n"
            f"output:\n{self._read(output_path)}\nerror.log:\n{self.error_log_text}"
        )

    def _connects(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1.0):
                return True
        except OSError:
            return False

    def _stop(self) -> None:
        if self._process is not None:
            _stop_process(self._process, own_group=True)
            self._process = None
        if self.prefix != Path():
            shutil.rmtree(self.prefix, ignore_errors=True)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()


class _ThreadedTcpServer:
    """Accept loop in one thread, one thread per connection, and a stop that wakes them all."""

    thread_name: ClassVar[str] = "lab-tcp"

    def __init__(self, host: str) -> None:
        self.host = require_loopback(host)
        self.port = 0
        self.connections = 0
        # Handler failures (TLS handshake errors included), for assertions and debugging; they
        # are recorded, never raised, because an exception in a thread would fail the test run.
        self.errors: list[str] = []
        self._stopping = threading.Event()
        # Set once stop shuts sockets down: failures after that are ours, not the peer's.
        self._sockets_shut = threading.Event()
        self._lock = threading.Lock()
        self._open_sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None

    def _handle(self, connection: socket.socket) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        listener = socket.create_server((self.host, 0), family=_family(self.host), backlog=128)
        listener.settimeout(POLL_INTERVAL_S)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"{self.thread_name}-accept", daemon=True
        )
        self._accept_thread.start()
        return self

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                connection, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError as error:
                if not self._stopping.is_set():
                    self._record(f"accept: {error!r}")
                return
            connection.settimeout(IO_TIMEOUT_S)
            self.spawn(self._serve, connection)

    def spawn(self, target: Callable[..., None], *args: object) -> None:
        """Run ``target`` in a tracked thread that ``__exit__`` joins."""
        thread = threading.Thread(target=target, args=args, name=self.thread_name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def track(self, sock: socket.socket) -> None:
        """Register a socket so stopping the server shuts it down and wakes its readers."""
        with self._lock:
            self._open_sockets.add(sock)
            if self._sockets_shut.is_set():
                self._shutdown(sock)

    def untrack_and_close(self, sock: socket.socket) -> None:
        with self._lock:
            self._open_sockets.discard(sock)
        sock.close()

    @staticmethod
    def _shutdown(sock: socket.socket) -> None:
        # Plain socket.shutdown even for SSLSocket: it wakes a blocked read without tearing
        # the SSL object out from under the thread still using it.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def _record(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)

    def _serve(self, connection: socket.socket) -> None:
        with self._lock:
            self.connections += 1
        self.track(connection)
        try:
            self._handle(connection)
        except Exception as error:  # A misbehaving client must never crash the lab.
            if not self._sockets_shut.is_set():
                self._record(f"{type(self).__name__}: {error!r}")
        finally:
            self.untrack_and_close(connection)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()
        if self._accept_thread is not None:
            self._accept_thread.join(STOP_TIMEOUT_S)
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            threads = list(self._threads)
        # Let in-flight exchanges finish (and record their errors) before cutting them off.
        grace_ends = time.monotonic() + STOP_GRACE_S
        for thread in threads:
            thread.join(max(0.0, grace_ends - time.monotonic()))
        with self._lock:
            self._sockets_shut.set()
            for sock in self._open_sockets:
                self._shutdown(sock)
        for thread in threads:
            thread.join(STOP_TIMEOUT_S)


def _read_until(connection: socket.socket, marker: bytes, limit: int) -> bytes:
    """Read until ``marker`` appears, EOF, or ``limit`` bytes."""
    data = b""
    while marker not in data and len(data) < limit:
        chunk = connection.recv(min(4096, limit - len(data)))
        if not chunk:
            break
        data += chunk
    return data


class PythonTlsServer(_ThreadedTcpServer):
    """Python ``ssl`` server: many concurrent connections, any request gets ``response``.

    Unlike s_server it is concurrent, and unlike nginx it runs on ``::1`` too.
    """

    thread_name = "lab-python-tls"

    def __init__(
        self,
        issued: Issued,
        *,
        minimum_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
        maximum_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3,
        alpn: Sequence[str] = ("http/1.1",),
        response: bytes = DEFAULT_RESPONSE,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.issued = issued
        self.response = response
        self.requests: list[bytes] = []  # every request head received, for assertions
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = minimum_version
        self.context.maximum_version = maximum_version
        self.context.load_cert_chain(issued.chain_path, issued.key_path)
        if alpn:
            self.context.set_alpn_protocols(list(alpn))

    def _handle(self, connection: socket.socket) -> None:
        with self.context.wrap_socket(
            connection, server_side=True, do_handshake_on_connect=False
        ) as tls:
            self.track(tls)
            try:
                tls.do_handshake()
                request = _read_until(tls, b"\r\n\r\n", MAX_REQUEST_HEAD_BYTES)
                if request:
                    with self._lock:
                        self.requests.append(request)
                    tls.sendall(self.response)
                # Send close_notify without waiting for the peer's: a client reading to EOF
                # must not stall on us.
                tls.settimeout(0)
                with contextlib.suppress(ssl.SSLError, OSError):  # incl. SSLWantReadError
                    tls.unwrap()
            finally:
                with self._lock:
                    self._open_sockets.discard(tls)


RawBehaviour = Literal["silent", "garbage", "http", "reset", "truncated", "close"]


class RawServer(_ThreadedTcpServer):
    """A TCP peer that fails at TLS in one chosen way, for error-path tests.

    ``silent`` reads and never answers; ``garbage`` answers ``GARBAGE`` to the ClientHello;
    ``http`` answers ``HTTP_RESPONSE`` like a plain-HTTP port; ``reset`` sends an RST after the
    ClientHello; ``truncated`` sends ``TRUNCATED_RECORD`` and closes; ``close`` closes at once.
    """

    thread_name = "lab-raw"
    BEHAVIOURS: ClassVar[frozenset[str]] = frozenset(
        {"silent", "garbage", "http", "reset", "truncated", "close"}
    )
    # Fixed, so tests can assert exact bytes; first byte 0x95 is no TLS content type.
    GARBAGE: ClassVar[bytes] = hashlib.sha512(b"httpsaudit raw garbage").digest()
    HTTP_RESPONSE: ClassVar[bytes] = (
        b"HTTP/1.1 400 Bad Request\r\n"
        b"Server: raw-lab\r\n"
        b"Content-Type: text/plain\r\n"
        b"Content-Length: 12\r\n"
        b"Connection: close\r\n"
        b"\r\n"
        b"Bad Request\n"
    )
    # A handshake record header claiming 500 bytes, a ServerHello header and 11 of its bytes.
    TRUNCATED_RECORD: ClassVar[bytes] = (
        (bytes([0x16, 0x03, 0x03]) + struct.pack("!H", 500) + bytes([0x02, 0x00, 0x01, 0xF0]))
        + bytes([0x03, 0x03])
        + bytes(range(9))
    )

    def __init__(self, behaviour: RawBehaviour, host: str = "127.0.0.1") -> None:
        if behaviour not in self.BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}; pick one of {self.BEHAVIOURS}")
        super().__init__(host)
        self.behaviour = behaviour
        self.received: list[bytes] = []

    def _handle(self, connection: socket.socket) -> None:
        if self.behaviour == "close":
            return
        if self.behaviour == "silent":
            self._hold(connection)
            return
        hello = self._read_record(connection)
        with self._lock:
            self.received.append(hello)
        if self.behaviour == "reset":
            # SO_LINGER on with a zero timeout makes close() send RST instead of FIN.
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        answer = {
            "garbage": self.GARBAGE,
            "http": self.HTTP_RESPONSE,
            "truncated": self.TRUNCATED_RECORD,
        }[self.behaviour]
        connection.sendall(answer)
        self._close_gracefully(connection)

    def _hold(self, connection: socket.socket) -> None:
        """Read and discard until the peer leaves or the server stops."""
        connection.settimeout(POLL_INTERVAL_S)
        while not self.stopping:
            try:
                if not connection.recv(4096):
                    return
            except TimeoutError:
                continue

    @staticmethod
    def _read_record(connection: socket.socket) -> bytes:
        """One TLS record (header length honoured, capped); whatever arrives for non-TLS bytes."""
        data = connection.recv(MAX_RECORD_BYTES)
        if len(data) >= 5 and data[0] == 0x16:
            wanted = min(5 + struct.unpack("!H", data[3:5])[0], MAX_RECORD_BYTES)
            while len(data) < wanted:
                chunk = connection.recv(wanted - len(data))
                if not chunk:
                    break
                data += chunk
        return data

    def _close_gracefully(self, connection: socket.socket) -> None:
        """FIN after our bytes, then drain briefly so unread input cannot turn close into RST."""
        connection.shutdown(socket.SHUT_WR)
        connection.settimeout(POLL_INTERVAL_S)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and not self.stopping:
            try:
                if not connection.recv(4096):
                    return
            except TimeoutError:
                continue


@dataclass(frozen=True)
class _Chunk:
    due: float
    data: bytes  # b"" marks end of stream: propagate a half-close


class DelayProxy(_ThreadedTcpServer):
    """TCP proxy that holds each chunk ``one_way_delay_ms`` per direction: RTT without netem.

    Order is kept (one queue per direction) and a half-close is forwarded once it is due. A reset
    is forwarded as a plain close. The SYN is not delayed, so by default TCP connect stays fast
    and a new connection costs one RTT less than on a real network.

    ``emulate_tcp_handshake=True`` charges that RTT back: every client->server chunk read before
    the server's first byte went to the client is held one extra RTT. connect() still returns at
    once (so a connect-time RTT estimate reads ~0) and the client pays the handshake's RTT on its
    first flight instead, so each connection's total cost matches a real network for protocols
    where the client speaks first (TLS, HTTP). Off by default: tests rely on today's timing.
    """

    thread_name = "lab-delay-proxy"

    def __init__(
        self,
        target_host: str,
        target_port: int,
        one_way_delay_ms: float,
        host: str = "127.0.0.1",
        *,
        emulate_tcp_handshake: bool = False,
    ) -> None:
        super().__init__(host)
        self.target_host = require_loopback(target_host)
        self.target_port = target_port
        self.one_way_delay_s = one_way_delay_ms / 1000
        self.emulate_tcp_handshake = emulate_tcp_handshake
        # The hold given to each client->server data chunk, in arrival order (all connections).
        self.client_chunk_holds_s: list[float] = []

    def client_chunk_hold_s(self, server_answered: bool) -> float:
        """How long a client->server chunk waits: one way, plus the emulated SYN / SYN-ACK round
        trip while the server has not answered yet (real clients send only after it)."""
        if self.emulate_tcp_handshake and not server_answered:
            return 3 * self.one_way_delay_s
        return self.one_way_delay_s

    def _handle(self, connection: socket.socket) -> None:
        upstream = socket.create_connection((self.target_host, self.target_port), IO_TIMEOUT_S)
        self.track(upstream)
        try:
            connection.settimeout(None)
            upstream.settimeout(None)
            to_upstream: queue.Queue[_Chunk] = queue.Queue()
            to_client: queue.Queue[_Chunk] = queue.Queue()
            # Set before the server's first byte is written to the client, so any reply the
            # client makes to it is read after the flag is up.
            server_answered = threading.Event()
            pumps = [
                threading.Thread(
                    target=self._read,
                    args=(connection, to_upstream, server_answered),
                    daemon=True,
                ),
                threading.Thread(target=self._read, args=(upstream, to_client), daemon=True),
                threading.Thread(
                    target=self._send, args=(to_upstream, upstream, connection), daemon=True
                ),
            ]
            for pump in pumps:
                pump.start()
            self._send(to_client, connection, upstream, server_answered)
            for pump in pumps:
                pump.join()
        finally:
            self.untrack_and_close(upstream)

    def _read(
        self,
        source: socket.socket,
        outbox: queue.Queue[_Chunk],
        server_answered: threading.Event | None = None,
    ) -> None:
        """Queue what ``source`` sends; ``server_answered`` is given on the client's side only."""
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if server_answered is None:
                hold_s = self.one_way_delay_s
            else:
                hold_s = self.client_chunk_hold_s(server_answered.is_set())
                if data:
                    with self._lock:
                        self.client_chunk_holds_s.append(hold_s)
            outbox.put(_Chunk(time.monotonic() + hold_s, data))
            if not data:
                return

    def _send(
        self,
        inbox: queue.Queue[_Chunk],
        destination: socket.socket,
        source: socket.socket,
        first_send: threading.Event | None = None,
    ) -> None:
        broken = False
        while True:
            chunk = inbox.get()
            wait_s = chunk.due - time.monotonic()
            if wait_s > 0 and not broken and self._sockets_shut.wait(wait_s):
                broken = True
            if not chunk.data:
                self._shutdown_direction(destination, socket.SHUT_WR)
                return
            if broken:
                continue
            if first_send is not None:
                first_send.set()
            try:
                destination.sendall(chunk.data)
            except OSError:
                # The destination is gone: stop reading what can never be delivered.
                broken = True
                self._shutdown_direction(source, socket.SHUT_RD)

    @staticmethod
    def _shutdown_direction(sock: socket.socket, how: int) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(how)


DnsRecords = Mapping[str, Sequence[tuple[str, str]]]
# Longest CNAME chain followed before answering with what we have (a loop guard).
MAX_CNAME_CHAIN = 8
MAX_DNS_MESSAGE_BYTES = 65535


class DnsServer:
    """A UDP DNS responder answering as a recursive resolver would, from ``records`` only.

    CNAMEs are followed within ``records`` and the chain is returned in the answer section;
    unknown names get NXDOMAIN, and names mapped to ``[("DROP", "")]`` are never answered.
    Values are zone-file text of any type dnspython knows, HTTPS (type 65, RFC 9460) included:
    ``("HTTPS", '1 . alpn="h3,h2" port=443 ipv4hint=127.0.0.1')``.
    """

    def __init__(self, records: DnsRecords, *, ttl: int = 300, host: str = "127.0.0.1") -> None:
        self.host = require_loopback(host)
        self.port = 0
        self.ttl = ttl
        self.records = {
            dns.name.from_text(name): [(kind.upper(), value) for kind, value in entries]
            for name, entries in records.items()
        }
        self._queries = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    @property
    def queries(self) -> int:
        """Datagrams received, answered or not (a dropped query still counts)."""
        with self._lock:
            return self._queries

    def __enter__(self) -> Self:
        self._socket = socket.socket(_family(self.host), socket.SOCK_DGRAM)
        self._socket.bind((self.host, 0))
        self._socket.settimeout(POLL_INTERVAL_S)
        self.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="lab-dns", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        assert self._socket is not None
        while not self._stopping.is_set():
            try:
                wire, address = self._socket.recvfrom(MAX_DNS_MESSAGE_BYTES)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._queries += 1
            try:
                reply = self.answer(dns.message.from_wire(wire))
                if reply is not None:
                    self._socket.sendto(reply.to_wire(), address)
            except Exception:  # noqa: S112 - malformed queries are ignored, as resolvers do
                continue

    def answer(self, query: dns.message.Message) -> dns.message.Message | None:
        """The response to ``query``, or None when it must go unanswered (DROP)."""
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response
        question = query.question[0]
        name: dns.name.Name = question.name
        for _step in range(MAX_CNAME_CHAIN):
            entries = self.records.get(name)
            if entries is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                return response
            if any(kind == "DROP" for kind, _value in entries):
                return None
            wanted = dns.rdatatype.to_text(question.rdtype)
            matching = [value for kind, value in entries if kind == wanted]
            if matching:
                response.answer.append(self._rrset(name, wanted, matching))
                return response
            cname = [value for kind, value in entries if kind == "CNAME"]
            if not cname:
                return response  # NODATA: the name exists, the type does not
            response.answer.append(self._rrset(name, "CNAME", cname[:1]))
            name = dns.name.from_text(cname[0])
        return response

    def _rrset(self, name: dns.name.Name, kind: str, values: Sequence[str]) -> dns.rrset.RRset:
        return dns.rrset.from_text_list(name, self.ttl, dns.rdataclass.IN, kind, list(values))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
        if self._socket is not None:
            self._socket.close()


# -- gnutls-serv in a network namespace ----------------------------------------------------

# <sched.h>: setns() joins a network namespace; Python 3.11's os module has no setns.
CLONE_NEWNET = 0x40000000
GNUTLS_PORT = 4433  # the namespace is private, so any fixed port is free

ResultT = TypeVar("ResultT")


class GnutlsServerInNamespace:
    """``gnutls-serv --http`` alone in a fresh network namespace; stops the PID it started.

    gnutls-serv binds every address, so it must never run in the machine's namespace. Code
    reaches it through ``call_inside``, which runs on a thread that joined the namespace
    (threads it starts inherit it, so probes that fan out still connect there).
    ``extra_args`` go to gnutls-serv as they are (``--earlydata`` for 0-RTT).
    """

    def __init__(self, issued: Issued, priority: str = "NORMAL", *extra_args: str) -> None:
        self.issued = issued
        self.priority = priority
        self.extra_args = extra_args
        self.port = GNUTLS_PORT
        self.pid = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._drain_thread: threading.Thread | None = None
        self._output: list[str] = []
        self._ready = threading.Event()

    @property
    def output_text(self) -> str:
        return "\n".join(self._output[-MAX_OUTPUT_LINES:])

    def __enter__(self) -> Self:
        unshare, ip, gnutls = (require_binary(name) for name in ("unshare", "ip", "gnutls-serv"))
        server = [
            gnutls,
            "--http",
            f"--port={self.port}",
            f"--x509certfile={self.issued.chain_path}",
            f"--x509keyfile={self.issued.key_path}",
            f"--priority={self.priority}",
            *self.extra_args,
        ]
        script = f"{shlex.join([ip, 'link', 'set', 'lo', 'up'])} && exec {shlex.join(server)}"
        self._process = subprocess.Popen(
            [unshare, "--net", "--", "sh", "-c", script],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.pid = self._process.pid  # unshare and sh exec, so this becomes gnutls-serv's PID
        assert self._process.stdout is not None
        self._drain_thread = threading.Thread(
            target=self._drain, args=(self._process.stdout,), name="lab-gnutls", daemon=True
        )
        self._drain_thread.start()
        if not self._ready.wait(READY_TIMEOUT_S):
            self._stop()
            raise ServerStartError(
                "gnutls-serv never said it was listening\n" + "\n".join(self._output)
            )
        return self

    def _drain(self, stdout: IO[bytes]) -> None:
        for raw in iter(stdout.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            self._output.append(line)
            if "listening" in line.lower():
                self._ready.set()

    def _join_namespace(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        descriptor = os.open(f"/proc/{self.pid}/ns/net", os.O_RDONLY)
        try:
            if libc.setns(descriptor, CLONE_NEWNET) != 0:
                error = ctypes.get_errno()
                raise OSError(error, f"setns: {os.strerror(error)}")
        finally:
            os.close(descriptor)

    def call_inside(self, function: Callable[[], ResultT]) -> ResultT:
        """``function()`` run on a thread inside the server's namespace."""

        def inside() -> ResultT:
            self._join_namespace()
            return function()

        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="lab-netns") as pool:
            return pool.submit(inside).result()

    def _stop(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_S)
        if self._drain_thread is not None:
            self._drain_thread.join(STOP_TIMEOUT_S)  # the pipe is at EOF once the PID is gone
        if process is not None and process.stdout is not None:
            process.stdout.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop()
