"""``httpsaudit demo``: a throwaway PKI and a deliberately middling TLS server on 127.0.0.1.

The server speaks TLS 1.2 only (2 round trips), presents an RSA-3072 certificate (bigger and
slower to verify than ECDSA P-256) and sends no HSTS header, so the report has something to say.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import tempfile
import threading
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from httpsaudit.net.clock import wall_time
from httpsaudit.probes.base import ScanOptions
from httpsaudit.target import ConnectAddress, Target, parse_target

DEMO_NAME = "localhost"
DEMO_BODY = b"hello from the httpsaudit demo server\n"
# The demo server gives a slow or silent client this long before dropping it.
CLIENT_TIMEOUT_S = 5.0
MAX_REQUEST_HEAD_BYTES = 16384


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_pki(directory: Path) -> tuple[Path, Path, Path]:
    """Root (ECDSA P-256) -> RSA-3072 leaf for localhost; returns root, chain and key paths."""
    now = datetime.datetime.fromtimestamp(wall_time(), datetime.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name("httpsaudit Demo Root")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(DEMO_NAME))
        .issuer_name(root_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=14))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(DEMO_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    root_path = directory / "root.pem"
    chain_path = directory / "chain.pem"
    key_path = directory / "key.pem"
    root_path.write_bytes(root.public_bytes(serialization.Encoding.PEM))
    chain_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return root_path, chain_path, key_path


class DemoServer:
    """A TLS 1.2-only HTTP server on 127.0.0.1, stopped on exit with everything it made."""

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="httpsaudit-demo-")
        self._listener: socket.socket | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.port = 0
        self.root_path = Path()

    def __enter__(self) -> DemoServer:
        directory = Path(self._directory.name)
        self.root_path, chain_path, key_path = _write_pki(directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(chain_path, key_path)
        context.set_alpn_protocols(["http/1.1"])
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(
            target=self._serve, args=(context,), name="httpsaudit-demo", daemon=True
        )
        self._thread.start()
        return self

    def target(self) -> Target:
        target = parse_target(f"https://{DEMO_NAME}:{self.port}/")
        return Target(
            original=target.original,
            host=target.host,
            port=target.port,
            path=target.path,
            connect_to=(ConnectAddress("127.0.0.1", self.port),),
        )

    def options(self) -> ScanOptions:
        return ScanOptions(ca_file=self.root_path, timeout_s=15.0)

    def _serve(self, context: ssl.SSLContext) -> None:
        listener = self._listener
        if listener is None:
            return
        while not self._stop.is_set():
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(
                target=self._answer,
                args=(context, client),
                name="httpsaudit-demo-client",
                daemon=True,
            ).start()

    @staticmethod
    def _answer(context: ssl.SSLContext, client: socket.socket) -> None:
        client.settimeout(CLIENT_TIMEOUT_S)
        with contextlib.suppress(OSError), context.wrap_socket(client, server_side=True) as tls:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < MAX_REQUEST_HEAD_BYTES:
                chunk = tls.recv(4096)
                if not chunk:
                    return
                head += chunk
            tls.sendall(
                b"HTTP/1.1 200 OK\r\nServer: httpsaudit-demo\r\nContent-Type: text/plain\r\n"
                + f"Content-Length: {len(DEMO_BODY)}\r\n".encode()
                + b"Connection: close\r\n\r\n"
                + DEMO_BODY
            )
            tls.unwrap()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._directory.cleanup()
