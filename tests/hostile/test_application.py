"""Real TLS servers that misbehave after the handshake: one never closes, one never stops.

A scanner that reads until the server closes would hang on the first and run out of memory on
the second; ours reads the response head only, under a named cap, and closes itself.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from pathlib import Path

from httpsaudit.net.http1 import MAX_RESPONSE_HEAD_BYTES
from httpsaudit.results import ProbeId
from tests.hostile.harness import EXIT_OK, FULL_SCAN_TIMEOUT_S, ScanRun, scan
from tests.hostile.scripted import live_threads
from tests.pki import TestPKI
from tests.servers import MAX_REQUEST_HEAD_BYTES, POLL_INTERVAL_S, PythonTlsServer, _read_until

_HEAD_END = b"\r\n\r\n"
KEEP_ALIVE_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Server: keep-alive-lab\r\n"
    b"Content-Length: 3\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n"
    b"ok\n"
)
# One header line of the head that never ends, sent 16 at a time (about 16 KiB a write).
FILLER_LINE = b"X-Filler: " + b"a" * 1000 + b"\r\n"
FILLER_LINES_PER_WRITE = 16


class _TlsLabServer(PythonTlsServer):
    """A Python ``ssl`` lab server whose handler only has to say what to do after the
    handshake; the socket bookkeeping is the base class's."""

    def _handle(self, connection: socket.socket) -> None:
        with self.context.wrap_socket(
            connection, server_side=True, do_handshake_on_connect=False
        ) as tls:
            self.track(tls)
            try:
                tls.do_handshake()
                self._after_handshake(tls)
            finally:
                with self._lock:
                    self._open_sockets.discard(tls)

    def _after_handshake(self, tls: ssl.SSLSocket) -> None:
        raise NotImplementedError


class KeepAliveForeverServer(_TlsLabServer):
    """Answers every request and keeps the connection open until the client leaves."""

    thread_name = "lab-keep-alive"

    def _after_handshake(self, tls: ssl.SSLSocket) -> None:
        tls.settimeout(POLL_INTERVAL_S)
        pending = b""
        while not self.stopping:
            try:
                data = tls.recv(4096)
            except TimeoutError:
                continue
            if not data:
                return
            pending += data
            while _HEAD_END in pending:
                _request, _, pending = pending.partition(_HEAD_END)
                tls.sendall(KEEP_ALIVE_RESPONSE)


class EndlessHeadServer(_TlsLabServer):
    """Answers a request with a status line and header lines that never end."""

    thread_name = "lab-endless-head"

    def _after_handshake(self, tls: ssl.SSLSocket) -> None:
        if not _read_until(tls, _HEAD_END, MAX_REQUEST_HEAD_BYTES):
            return
        tls.sendall(b"HTTP/1.1 200 OK\r\n")
        with contextlib.suppress(OSError):  # the client hanging up is how this ends
            while not self.stopping:
                tls.sendall(FILLER_LINE * FILLER_LINES_PER_WRITE)


def _scan(server: PythonTlsServer, pki: TestPKI, tmp_path: Path) -> ScanRun:
    return scan(
        f"localhost:{server.port}",
        tmp_path / "report.json",
        timeout_s=FULL_SCAN_TIMEOUT_S,
        # The lab certificate's findings are not what these tests are about.
        extra=("--connect-to", "127.0.0.1", "--ca-file", str(pki.root_path), "--fail-on", "none"),
    )


def test_server_that_never_closes_after_the_response(pki: TestPKI, tmp_path: Path) -> None:
    # Given a TLS server that answers with keep-alive and never closes a connection
    with KeepAliveForeverServer(pki.ecdsa_p256) as server:
        # When a user scans it
        run = _scan(server, pki, tmp_path)
    # Then the scan ended on its own (the client closes), every probe completed, and the
    # response was read from its head, not from the server's close
    assert live_threads(server) == []
    assert run.returncode == EXIT_OK, run.stderr
    assert run.report["reachable"] is True
    statuses = {name: outcome["status"] for name, outcome in run.report["probes"].items()}
    assert set(statuses.values()) == {"completed"}, statuses
    connection = run.probe(ProbeId.CONNECTION)["result"]
    assert connection["http"]["status"] == 200
    assert connection["http"]["server"] == "keep-alive-lab"
    assert connection["http_error"] is None


def test_server_that_streams_forever_after_the_handshake(pki: TestPKI, tmp_path: Path) -> None:
    # Given a TLS server whose response head never ends: header lines for as long as we read
    with EndlessHeadServer(pki.ecdsa_p256) as server:
        # When a user scans it
        run = _scan(server, pki, tmp_path)
    # Then the HTTP reader's head cap stopped the read (memory stays bounded), the TLS
    # session still counts, and the HTTP failure is reported rather than hidden
    assert live_threads(server) == []
    assert run.returncode == EXIT_OK, run.stderr
    assert run.report["reachable"] is True
    outcome = run.probe(ProbeId.CONNECTION)
    assert outcome["status"] == "completed"
    assert outcome["result"]["http"] is None
    assert outcome["result"]["http_error"] == (
        f"response head larger than {MAX_RESPONSE_HEAD_BYTES} bytes"
    )
    assert outcome["result"]["tls"]["version"] == "TLSv1.3"
    # And the probes that send requests of their own (resumption, 0-RTT) finished too
    statuses = {name: outcome["status"] for name, outcome in run.report["probes"].items()}
    assert set(statuses.values()) == {"completed"}, statuses
