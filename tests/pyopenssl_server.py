"""A TLS server on pyOpenSSL, i.e. on the OpenSSL that ships inside ``cryptography``.

That OpenSSL is far newer than the system's 3.0: it negotiates X25519MLKEM768 and, by default,
lists it first, which the system ``openssl s_server`` cannot do. It is the lab server for the
hybrid post-quantum group and for the HelloRetryRequest a browser-like hello costs there.

pyOpenSSL 26.4 has no public setter for the group list (no ``set1_groups``); the one group knob
it exposes is ``Context.set_tmp_ecdh``, which narrows the list to a single NIST curve.
"""

from __future__ import annotations

import contextlib
import socket
import struct

from cryptography.hazmat.primitives.asymmetric import ec
from OpenSSL import SSL

from tests.pki import Issued
from tests.servers import (
    DEFAULT_RESPONSE,
    IO_TIMEOUT_S,
    MAX_REQUEST_HEAD_BYTES,
    _ThreadedTcpServer,
)

_HTTP_HEAD_END = b"\r\n\r\n"
# Bytes read per call while looking for the end of the request head.
_READ_CHUNK_BYTES = 4096


def _blocking_with_io_timeout(connection: socket.socket) -> None:
    """Blocking socket with kernel-level timeouts.

    pyOpenSSL on a Python socket with a timeout sees a non-blocking fd and raises WantReadError
    at once (TLS-NOTES); SO_RCVTIMEO/SO_SNDTIMEO keep the fd blocking yet free a stalled thread.
    """
    connection.settimeout(None)
    seconds = int(IO_TIMEOUT_S)
    microseconds = int((IO_TIMEOUT_S - seconds) * 1_000_000)
    timeval = struct.pack("ll", seconds, microseconds)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)


class PyOpenSSLServer(_ThreadedTcpServer):
    """pyOpenSSL server with a lab certificate: concurrent, TLS 1.2 and 1.3, answers any request.

    ``ecdh_curve`` (``set_tmp_ecdh``) restricts key exchange to that one NIST curve; without it
    the bundled OpenSSL's default group list applies (X25519MLKEM768 first in OpenSSL >= 3.5).
    """

    thread_name = "lab-pyopenssl"

    def __init__(
        self,
        issued: Issued,
        *,
        ecdh_curve: ec.EllipticCurve | None = None,
        maximum_version: int = SSL.TLS1_3_VERSION,
        response: bytes = DEFAULT_RESPONSE,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host)
        self.issued = issued
        self.response = response
        self.context = SSL.Context(SSL.TLS_SERVER_METHOD)
        self.context.set_min_proto_version(SSL.TLS1_2_VERSION)
        self.context.set_max_proto_version(maximum_version)
        self.context.use_certificate_chain_file(str(issued.chain_path))
        self.context.use_privatekey_file(str(issued.key_path))
        self.context.check_privatekey()
        if ecdh_curve is not None:
            self.context.set_tmp_ecdh(ecdh_curve)
        self.context.set_alpn_select_callback(self._select_alpn)

    @staticmethod
    def _select_alpn(
        _connection: SSL.Connection, offered: list[bytes]
    ) -> bytes | SSL._NoOverlappingProtocols:
        return b"http/1.1" if b"http/1.1" in offered else SSL.NO_OVERLAPPING_PROTOCOLS

    def _handle(self, connection: socket.socket) -> None:
        _blocking_with_io_timeout(connection)
        tls = SSL.Connection(self.context, connection)
        tls.set_accept_state()
        tls.do_handshake()
        request = b""
        while _HTTP_HEAD_END not in request and len(request) < MAX_REQUEST_HEAD_BYTES:
            try:
                chunk = tls.recv(_READ_CHUNK_BYTES)
            except SSL.ZeroReturnError:
                break
            if not chunk:
                break
            request += chunk
        if request:
            tls.sendall(self.response)
        # close_notify without waiting for the peer's, as PythonTlsServer does.
        with contextlib.suppress(SSL.Error):
            tls.shutdown()
