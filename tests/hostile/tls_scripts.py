"""Scripted TLS peers for the hostile-server suite: real ClientHellos in, crafted records out.

``ScriptedTlsServer`` reads each ClientHello with the engine's own record layer, asks a script
how to answer it, and either writes the script's records or splices the connection, hello
included, to a real TLS server behind it. So one lab server can misbehave for exactly the
hellos a test targets (those with a key share, say) while every other probe meets a real peer.

The records are built with ``httpsaudit.tls`` (codec, records, key schedule, record protection),
so a hostile flight is byte-exact where it is meant to be and wrong only where it is meant to be.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from httpsaudit.errors import DecodeError
from httpsaudit.report.json import load_schema
from httpsaudit.tls.codec import Reader, Writer
from httpsaudit.tls.codes import (
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    ProtocolVersion,
    SignatureScheme,
)
from httpsaudit.tls.keyschedule import KeySchedule, finished_verify_data, transcript_hash
from httpsaudit.tls.keyshare import generate_key_share
from httpsaudit.tls.messages import HELLO_RETRY_REQUEST_RANDOM, parse_extensions
from httpsaudit.tls.protection import MAX_PLAINTEXT_BYTES, RecordDecryptor, RecordEncryptor
from httpsaudit.tls.records import NEED_DATA, HandshakeReassembler, RecordBuffer
from tests.pki import Issued, TestPKI
from tests.servers import DEFAULT_RESPONSE, IO_TIMEOUT_S, POLL_INTERVAL_S, _ThreadedTcpServer

# ClientHellos answered on one connection: the first, and the one an HRR asks for (and one more,
# for a server that keeps retrying).
MAX_HELLOS_PER_CONNECTION = 3
# Bytes read from a client before its ClientHello must be complete (a hello is a few hundred).
MAX_HELLO_BYTES = 64 * 1024
# After our last record: how long the client may keep talking before we close for good. Reading
# until it leaves keeps unread input from turning our close into a reset that eats our records.
DRAIN_S = 1.0
# Bytes moved per read while splicing a connection to the real server.
RELAY_CHUNK_BYTES = 65536
# RFC 8446 §5.1: handshake messages are cut into records of at most 2^14 bytes.
MAX_FRAGMENT_BYTES = 2**14
TLS12 = ProtocolVersion.TLSv1_2
TLS13 = ProtocolVersion.TLSv1_3
# RFC 8446 §4.4.3: what a server's CertificateVerify signature covers, before the transcript hash.
SERVER_SIGNATURE_CONTEXT = b" " * 64 + b"TLS 1.3, server CertificateVerify" + b"\x00"


# -- reading what the client offered --------------------------------------------------------


@dataclass(frozen=True)
class OfferedHello:
    """A ClientHello as the script sees it: what was offered, and its exact bytes."""

    message: bytes  # the handshake message, header included (the transcript needs it)
    wire: bytes  # every byte read for it, to hand on unchanged when splicing
    legacy_version: int
    random: bytes
    session_id: bytes
    cipher_suites: tuple[int, ...]
    extensions: dict[int, bytes]
    supported_versions: tuple[int, ...]
    supported_groups: tuple[int, ...]
    key_shares: dict[int, bytes]

    @property
    def offers_tls13(self) -> bool:
        return TLS13 in self.supported_versions

    @property
    def has_key_share(self) -> bool:
        """A real share was sent: a client that finishes handshakes, not a raw probe hello."""
        return bool(self.key_shares)

    def group_not_offered(self) -> int:
        """A well-known group this hello did not list (x25519 if it can, else the next)."""
        for group in (
            NamedGroup.x25519,
            NamedGroup.secp256r1,
            NamedGroup.secp384r1,
            NamedGroup.secp521r1,
            NamedGroup.x448,
            NamedGroup.ffdhe2048,
        ):
            if group not in self.supported_groups:
                return int(group)
        return UNKNOWN_GROUP


# A group code no registry assigns (and no GREASE value): offered by nobody, ever.
UNKNOWN_GROUP = 0x6A6B


def _uint16_list(data: bytes, length_bytes: int) -> tuple[int, ...]:
    reader = Reader(data)
    values = reader.sub_reader(length_bytes, "list", maximum=2**16 - 1)
    found: list[int] = []
    while values.remaining:
        found.append(values.uint16())
    return tuple(found)


def parse_offered_hello(message: bytes, wire: bytes) -> OfferedHello:
    """RFC 8446 §4.1.2, read with the project's codec (the ClientHello has no parser there)."""
    reader = Reader(message[4:])
    legacy_version = reader.uint16("legacy_version")
    random = reader.raw(32, "random")
    session_id = reader.opaque(1, "session id", maximum=32)
    suites = reader.sub_reader(2, "cipher suites", maximum=2**16 - 2)
    cipher_suites: list[int] = []
    while suites.remaining:
        cipher_suites.append(suites.uint16())
    reader.opaque(1, "compression", maximum=255)
    extensions = {e.extension_type: e.data for e in parse_extensions(reader, "ClientHello")}
    versions = extensions.get(ExtensionType.SUPPORTED_VERSIONS)
    groups = extensions.get(ExtensionType.SUPPORTED_GROUPS)
    shares: dict[int, bytes] = {}
    share_data = extensions.get(ExtensionType.KEY_SHARE)
    if share_data is not None:
        entries = Reader(share_data).sub_reader(2, "client_shares", maximum=2**16 - 1)
        while entries.remaining:
            group = entries.uint16()
            shares[group] = entries.opaque(2, "key_exchange", maximum=2**16 - 1)
    return OfferedHello(
        message=message,
        wire=wire,
        legacy_version=legacy_version,
        random=random,
        session_id=session_id,
        cipher_suites=tuple(cipher_suites),
        extensions=extensions,
        supported_versions=() if versions is None else _uint16_list(versions, 1),
        supported_groups=() if groups is None else _uint16_list(groups, 2),
        key_shares={group: share for group, share in shares.items() if share},
    )


# -- building what the server says ----------------------------------------------------------


def extension(extension_type: int, data: bytes) -> bytes:
    return Writer().uint16(extension_type).opaque(2, data).getvalue()


def handshake(msg_type: int, body: bytes) -> bytes:
    """A handshake message with its 4-byte header (RFC 8446 §4)."""
    return Writer().uint8(msg_type).opaque(3, body).getvalue()


def records(content_type: int, payload: bytes, version: int = TLS12) -> bytes:
    """``payload`` cut into records of at most 2^14 bytes, as RFC 8446 §5.1 demands."""
    return b"".join(
        Writer()
        .uint8(content_type)
        .uint16(version)
        .opaque(2, payload[start : start + MAX_FRAGMENT_BYTES])
        .getvalue()
        for start in range(0, max(len(payload), 1), MAX_FRAGMENT_BYTES)
    )


def alert_record(payload: bytes) -> bytes:
    """An alert record holding exactly ``payload`` (two bytes when well formed)."""
    return Writer().uint8(ContentType.ALERT).uint16(TLS12).opaque(2, payload).getvalue()


def server_hello(
    hello: OfferedHello,
    *,
    cipher_suite: int,
    legacy_version: int = TLS12,
    selected_version: int | None = None,
    key_share: tuple[int, bytes] | None = None,
    retry_group: int | None = None,
    extra_extensions: Sequence[bytes] = (),
    random: bytes | None = None,
) -> bytes:
    """A ServerHello (a HelloRetryRequest when ``retry_group`` is set) echoing the session id."""
    parts: list[bytes] = []
    if selected_version is not None:
        parts.append(extension(ExtensionType.SUPPORTED_VERSIONS, selected_version.to_bytes(2)))
    if key_share is not None:
        group, public = key_share
        parts.append(
            extension(ExtensionType.KEY_SHARE, Writer().uint16(group).opaque(2, public).getvalue())
        )
    if retry_group is not None:
        parts.append(extension(ExtensionType.KEY_SHARE, retry_group.to_bytes(2)))
    parts.extend(extra_extensions)
    body = (
        Writer()
        .uint16(legacy_version)
        .raw(HELLO_RETRY_REQUEST_RANDOM if retry_group is not None else random or os.urandom(32))
        .opaque(1, hello.session_id)
        .uint16(cipher_suite)
        .uint8(0)
        .opaque(2, b"".join(parts))
        .getvalue()
    )
    return handshake(HandshakeType.SERVER_HELLO, body)


def certificate_tls12(ders: Sequence[bytes]) -> bytes:
    """RFC 5246 §7.4.2: a uint24 list of uint24-prefixed DER certificates."""
    entries = b"".join(Writer().opaque(3, der).getvalue() for der in ders)
    return handshake(HandshakeType.CERTIFICATE, Writer().opaque(3, entries).getvalue())


def server_hello_done() -> bytes:
    return handshake(HandshakeType.SERVER_HELLO_DONE, b"")


def first_offered(hello: OfferedHello, candidates: Sequence[int]) -> int | None:
    return next((suite for suite in hello.cipher_suites if suite in candidates), None)


# TLS 1.2 ECDHE suites our hellos and OpenSSL's both list, for flights that never reach the SKE.
TLS12_ECDHE_SUITES = (
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    CipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
)


def tls12_acks(hello: OfferedHello) -> tuple[bytes, ...]:
    """The TLS 1.2 extensions a well-behaved server echoes: secure renegotiation (RFC 5746
    §3.6, which OpenSSL clients insist on) and extended_master_secret (RFC 7627) if asked."""
    acks = [extension(ExtensionType.RENEGOTIATION_INFO, b"\x00")]
    if ExtensionType.EXTENDED_MASTER_SECRET in hello.extensions:
        acks.append(extension(ExtensionType.EXTENDED_MASTER_SECRET, b""))
    return tuple(acks)


def tls12_certificate_flight(hello: OfferedHello, certificate_message: bytes) -> bytes | None:
    """ServerHello (TLS 1.2), the given Certificate message, ServerHelloDone, in records."""
    suite = first_offered(hello, TLS12_ECDHE_SUITES)
    if suite is None:
        return None
    hello_message = server_hello(hello, cipher_suite=suite, extra_extensions=tls12_acks(hello))
    return records(ContentType.HANDSHAKE, hello_message + certificate_message + server_hello_done())


def tls12_stapling_flight(hello: OfferedHello, issued: Issued, staple: bytes) -> bytes | None:
    """A TLS 1.2 first flight a client accepts up to ServerHelloDone, with ``staple`` in its
    CertificateStatus (RFC 6066 §8): ServerHello, the lab chain, the staple, a ServerKeyExchange
    signed by the lab key (RFC 8422 §5.4), ServerHelloDone. Finishing needs the TLS 1.2 key
    schedule, which this lab does not have: the caller closes after reading the client's reply."""
    suite = first_offered(hello, (CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,))
    key = issued.private_key
    if suite is None or NamedGroup.x25519 not in hello.supported_groups:
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("the scripted TLS 1.2 server signs with an ECDSA P-256 lab key")
    random = os.urandom(32)
    acks = (*tls12_acks(hello), extension(ExtensionType.STATUS_REQUEST, b""))
    hello_message = server_hello(hello, cipher_suite=suite, extra_extensions=acks, random=random)
    ders = [certificate.public_bytes(Encoding.DER) for certificate in issued.chain]
    status = Writer().uint8(OCSP_STATUS_TYPE).opaque(3, staple).getvalue()
    share = generate_key_share(NamedGroup.x25519)
    params = Writer().uint8(NAMED_CURVE).uint16(NamedGroup.x25519).opaque(1, share.public)
    signed = hello.random + random + params.getvalue()
    signature = key.sign(signed, ec.ECDSA(hashes.SHA256()))
    key_exchange = params.uint16(SignatureScheme.ecdsa_secp256r1_sha256).opaque(2, signature)
    return records(
        ContentType.HANDSHAKE,
        hello_message
        + certificate_tls12(ders)
        + handshake(HandshakeType.CERTIFICATE_STATUS, status)
        + handshake(HandshakeType.SERVER_KEY_EXCHANGE, key_exchange.getvalue())
        + server_hello_done(),
    )


# RFC 6066 §8: CertificateStatusType ocsp(1).
OCSP_STATUS_TYPE = 1
# RFC 8422 §5.4: ECCurveType named_curve(3).
NAMED_CURVE = 3


# -- the TLS 1.3 server side, on the engine's key schedule ------------------------------------


@dataclass
class Tls13Flight:
    """A TLS 1.3 server's first flight built step by step; each method adds records."""

    hello: OfferedHello
    issued: Issued
    suite: int = CipherSuite.TLS_AES_128_GCM_SHA256
    transcript: bytearray = field(default_factory=bytearray)
    wire: bytearray = field(default_factory=bytearray)
    _schedule: KeySchedule | None = None
    _secret: bytes = b""
    _writer: RecordEncryptor | None = None
    _client_secrets: tuple[bytes, bytes] = (b"", b"")  # handshake, application
    _server_application_secret: bytes = b""

    def server_hello(self) -> Tls13Flight:
        """ServerHello with a real x25519 share, then the handshake keys (RFC 8446 §7.1)."""
        ours = generate_key_share(NamedGroup.x25519)
        message = server_hello(
            self.hello,
            cipher_suite=self.suite,
            selected_version=TLS13,
            key_share=(NamedGroup.x25519, ours.public),
        )
        shared = ours.shared_secret(self.hello.key_shares[NamedGroup.x25519])
        self.transcript += self.hello.message + message
        self._schedule = KeySchedule.start(self.suite).with_shared_secret(shared)
        hello_hash = self._hash()
        self._secret = self._schedule.server_handshake_traffic_secret(hello_hash)
        self._client_secrets = (self._schedule.client_handshake_traffic_secret(hello_hash), b"")
        self._writer = RecordEncryptor(self.suite, self._secret)
        self.wire += records(ContentType.HANDSHAKE, message)
        # RFC 8446 §D.4: the compatibility change_cipher_spec after the ServerHello.
        self.wire += records(ContentType.CHANGE_CIPHER_SPEC, b"\x01")
        return self

    def _hash(self) -> bytes:
        assert self._schedule is not None
        return transcript_hash(self._schedule.algorithm, bytes(self.transcript))

    def protected(self, content_type: int, content: bytes) -> Tls13Flight:
        assert self._writer is not None
        for start in range(0, len(content), MAX_PLAINTEXT_BYTES):
            chunk = content[start : start + MAX_PLAINTEXT_BYTES]
            self.wire += self._writer.encrypt(content_type, chunk)
        return self

    def message(self, message: bytes) -> Tls13Flight:
        self.transcript += message
        return self.protected(ContentType.HANDSHAKE, message)

    def encrypted_extensions(self) -> Tls13Flight:
        return self.message(handshake(HandshakeType.ENCRYPTED_EXTENSIONS, b"\x00\x00"))

    def certificate(
        self, ders: Sequence[bytes] | None = None, *, staple: bytes | None = None
    ) -> Tls13Flight:
        """The lab chain (or ``ders``); ``staple`` rides on the leaf as RFC 8446 §4.4.2.1 says,
        when the client asked for one."""
        chain = [c.public_bytes(Encoding.DER) for c in self.issued.chain] if ders is None else ders
        leaf_extensions = b""
        if staple is not None and ExtensionType.STATUS_REQUEST in self.hello.extensions:
            status = Writer().uint8(OCSP_STATUS_TYPE).opaque(3, staple).getvalue()
            leaf_extensions = extension(ExtensionType.STATUS_REQUEST, status)
        entries = b"".join(
            Writer().opaque(3, der).opaque(2, leaf_extensions if index == 0 else b"").getvalue()
            for index, der in enumerate(chain)
        )
        body = Writer().opaque(1, b"").opaque(3, entries).getvalue()
        return self.message(handshake(HandshakeType.CERTIFICATE, body))

    def certificate_verify(self) -> Tls13Flight:
        """RFC 8446 §4.4.3 with the lab ECDSA P-256 key: a signature that verifies."""
        key = self.issued.private_key
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise TypeError("the scripted TLS 1.3 server signs with an ECDSA P-256 lab key")
        signature = key.sign(SERVER_SIGNATURE_CONTEXT + self._hash(), ec.ECDSA(hashes.SHA256()))
        body = (
            Writer().uint16(SignatureScheme.ecdsa_secp256r1_sha256).opaque(2, signature).getvalue()
        )
        return self.message(handshake(HandshakeType.CERTIFICATE_VERIFY, body))

    def finished(self) -> Tls13Flight:
        assert self._schedule is not None
        verify_data = finished_verify_data(self._schedule.algorithm, self._secret, self._hash())
        self.message(handshake(HandshakeType.FINISHED, verify_data))
        finished_hash = self._hash()
        self._client_secrets = (
            self._client_secrets[0],
            self._schedule.client_application_traffic_secret(finished_hash),
        )
        self._server_application_secret = self._schedule.server_application_traffic_secret(
            finished_hash
        )
        return self

    def serve_request(self, connection: socket.socket, pending: bytes) -> None:
        """After our Finished: read the client's Finished and request, answer, close_notify."""
        buffer = RecordBuffer()
        buffer.receive_data(pending)
        handshake_secret, application_secret = self._client_secrets
        reader = RecordDecryptor(self.suite, handshake_secret)
        finished = False
        request = b""
        for _ in range(MAX_CLIENT_RECORDS):
            record = buffer.next_record()
            if record is NEED_DATA:
                data = connection.recv(RELAY_CHUNK_BYTES)
                if not data:
                    return
                buffer.receive_data(data)
                continue
            if record.content_type == ContentType.CHANGE_CIPHER_SPEC:
                continue
            if record.content_type != ContentType.APPLICATION_DATA:
                return  # a cleartext alert: the client gave up
            inner = reader.decrypt(record)
            if not finished and inner.content_type == ContentType.HANDSHAKE:
                finished = True  # the client's Finished; its request follows under new keys
                reader = RecordDecryptor(self.suite, application_secret)
            elif finished and inner.content_type == ContentType.APPLICATION_DATA:
                request += inner.content
                if b"\r\n\r\n" in request:
                    break
            else:
                return  # an alert, or something this lab does not follow
        writer = RecordEncryptor(self.suite, self._server_application_secret)
        connection.sendall(
            writer.encrypt(ContentType.APPLICATION_DATA, DEFAULT_RESPONSE)
            + writer.encrypt(ContentType.ALERT, CLOSE_NOTIFY)
        )


# Records read from a client after our Finished: its CCS, Finished and a small request.
MAX_CLIENT_RECORDS = 16
# RFC 8446 §6.1: warning(1), close_notify(0).
CLOSE_NOTIFY = b"\x01\x00"


# -- the server ------------------------------------------------------------------------------


class Splice:
    """Script answer: hand this connection, hello included, to the real server behind."""


SPLICE = Splice()


@dataclass(frozen=True)
class Answer:
    """Script answer: write ``data``; then read another ClientHello, or close."""

    data: bytes
    another_hello: bool = False
    # Called with the connection and the client bytes read past its hello, once ``data`` left.
    then: Callable[[socket.socket, bytes], None] | None = None


Script = Callable[[OfferedHello, int], Answer | Splice]


class ScriptedTlsServer(_ThreadedTcpServer):
    """Answers each ClientHello as ``script(hello, index)`` says (index 0 for the first on a
    connection); ``SPLICE`` relays the connection to ``backend`` (a real TLS server)."""

    thread_name: ClassVar[str] = "lab-scripted-tls"

    def __init__(
        self, script: Script, *, backend: tuple[str, int] | None = None, host: str = "127.0.0.1"
    ) -> None:
        super().__init__(host)
        self.script = script
        self.backend = backend
        self.hellos: list[OfferedHello] = []
        self.retries = 0  # hellos after the first on one connection (answers to an HRR)
        self.spliced = 0

    def _handle(self, connection: socket.socket) -> None:
        reader = _HelloReader(connection)
        for index in range(MAX_HELLOS_PER_CONNECTION):
            hello = reader.next_hello()
            if hello is None:
                return
            with self._lock:
                self.hellos.append(hello)
                self.retries += index > 0
            answer = self.script(hello, index)
            if isinstance(answer, Splice):
                if index != 0 or self.backend is None:
                    raise RuntimeError("only a first hello can be spliced, and only to a backend")
                self._splice(connection, reader.consumed)
                return
            connection.sendall(answer.data)
            if answer.then is not None:
                answer.then(connection, reader.leftover)
            if not answer.another_hello:
                break
        self._drain_and_close(connection)

    def _drain_and_close(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_WR)
        connection.settimeout(POLL_INTERVAL_S)
        deadline = time.monotonic() + DRAIN_S
        while time.monotonic() < deadline and not self.stopping:
            try:
                if not connection.recv(RELAY_CHUNK_BYTES):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def _splice(self, client: socket.socket, already_read: bytes) -> None:
        assert self.backend is not None
        with self._lock:
            self.spliced += 1
        with socket.create_connection(self.backend, timeout=IO_TIMEOUT_S) as upstream:
            self.track(upstream)
            upstream.sendall(already_read)
            _relay(client, upstream, lambda: self.stopping)


def _relay(client: socket.socket, upstream: socket.socket, stopping: Callable[[], bool]) -> None:
    """Copy bytes both ways until both sides have closed (or nothing moves for a while)."""
    open_ends = {client: upstream, upstream: client}
    with selectors.DefaultSelector() as selector:
        for sock in open_ends:
            selector.register(sock, selectors.EVENT_READ)
        quiet_since = time.monotonic()
        while open_ends and not stopping():
            if time.monotonic() - quiet_since > IO_TIMEOUT_S:
                return
            for key, _events in selector.select(POLL_INTERVAL_S):
                source = key.fileobj
                assert isinstance(source, socket.socket)
                try:
                    data = source.recv(RELAY_CHUNK_BYTES)
                except OSError:
                    data = b""
                quiet_since = time.monotonic()
                sink = open_ends[source]
                if data:
                    with contextlib.suppress(OSError):
                        sink.sendall(data)
                    continue
                selector.unregister(source)
                del open_ends[source]
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)


class _HelloReader:
    """ClientHellos from one connection, read through the engine's own record layer."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self._records = RecordBuffer()
        self._reassembler = HandshakeReassembler()
        self.consumed = b""

    @property
    def leftover(self) -> bytes:
        """Bytes read but not yet framed into records: what the client sent after its hello."""
        return self.consumed[self._records.stream_offset :]

    def next_hello(self) -> OfferedHello | None:
        """The next ClientHello; None when the client closed, alerted or sent something else."""
        start = len(self.consumed)
        while len(self.consumed) < MAX_HELLO_BYTES:
            try:
                message = self._next_message()
            except DecodeError:
                return None
            if message is not None:
                if message[0] != HandshakeType.CLIENT_HELLO:
                    return None
                return parse_offered_hello(message, self.consumed[start:])
            try:
                data = self._connection.recv(RELAY_CHUNK_BYTES)
            except OSError:
                return None
            if not data:
                return None
            self.consumed += data
            self._records.receive_data(data)
        return None

    def _next_message(self) -> bytes | None:
        while True:
            found = self._reassembler.next_message()
            if found is not NEED_DATA:
                return found.encode()
            record = self._records.next_record()
            if record is NEED_DATA:
                return None
            if record.content_type == ContentType.CHANGE_CIPHER_SPEC:
                continue  # RFC 8446 §D.4: the client's compatibility CCS before its 2nd hello
            if record.content_type != ContentType.HANDSHAKE:
                raise DecodeError("the client sent something other than a ClientHello")
            self._reassembler.receive_record(record)


# -- scanning as a user does ----------------------------------------------------------------

# The scan's --timeout in these tests: every hostile answer here comes at once, so a scan that
# needs it all has hung somewhere.
SCAN_TIMEOUT_S = 10
# Beyond --timeout, what the process gets to write its report and exit: the hang detector.
EXIT_MARGIN_S = 20
REPOSITORY = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class ScanRun:
    """One ``python -m httpsaudit scan`` as a user runs it, and the JSON report it wrote."""

    returncode: int
    stderr: str
    report: dict[str, Any]

    def probe(self, name: str) -> dict[str, Any]:
        probe: dict[str, Any] = self.report["probes"][name]
        return probe

    def status(self, name: str) -> str:
        return str(self.probe(name)["status"])

    def error(self, name: str) -> tuple[str, str | None]:
        """(kind, phase) of a failed probe."""
        error = self.probe(name)["error"]
        return error["kind"], error["phase"]

    def message(self, name: str) -> str:
        return str(self.probe(name)["error"]["message"])

    def result(self, name: str) -> dict[str, Any]:
        result: dict[str, Any] = self.probe(name)["result"]
        return result

    def statuses(self) -> dict[str, str]:
        return {name: str(probe["status"]) for name, probe in self.report["probes"].items()}

    def crashes(self) -> list[str]:
        """Tracebacks on stderr and probes that failed with an internal error: bugs."""
        found = [name for name, probe in self.report["probes"].items() if _internal(probe)]
        return found + (["stderr traceback"] if "Traceback" in self.stderr else [])


def _internal(probe: dict[str, Any]) -> bool:
    error = probe.get("error")
    return error is not None and error["kind"] == "internal"


def scan_cli(port: int, ca_file: Path, report_path: Path) -> ScanRun:
    """Scan ``localhost`` on 127.0.0.1:``port``; the subprocess timeout is the hang detector."""
    environment = {**os.environ, "NO_COLOR": "1"}
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPOSITORY), environment.get("PYTHONPATH", "")])
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "httpsaudit",
            "scan",
            f"localhost:{port}",
            "--connect-to",
            "127.0.0.1",
            "--ca-file",
            str(ca_file),
            "--timeout",
            str(SCAN_TIMEOUT_S),
            "--format",
            "json",
            "-o",
            str(report_path),
            # Exit codes here say "reachable or not"; whether a lab server passes the default
            # gate is another test's business.
            "--fail-on",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=SCAN_TIMEOUT_S + EXIT_MARGIN_S,
        env=environment,
        check=False,
    )
    if not report_path.exists():
        raise AssertionError(f"no report written (exit {completed.returncode}): {completed.stderr}")
    report = json.loads(report_path.read_text("utf-8"))
    jsonschema.Draft202012Validator(load_schema()).validate(report)
    return ScanRun(completed.returncode, completed.stderr, report)


def scan_checked(port: int, pki: TestPKI, tmp_path: Path) -> ScanRun:
    """``scan_cli`` against the lab CA, then: whatever the hostility, no traceback and no probe
    failing with an internal error."""
    run = scan_cli(port, pki.root_path, tmp_path / "report.json")
    assert run.crashes() == []
    return run


def scan_scripted_tls(
    script: Script, pki: TestPKI, tmp_path: Path, *, backend: tuple[str, int] | None = None
) -> tuple[ScanRun, ScriptedTlsServer]:
    """Serve ``script`` (splicing to ``backend``), scan it with ``scan_checked``, stop it: the
    run and the stopped server, to ask what it saw."""
    with ScriptedTlsServer(script, backend=backend) as server:
        run = scan_checked(server.port, pki, tmp_path)
    return run, server


def assert_no_session_and_engine_refused(run: ScanRun, early_data_message: str) -> None:
    """No TLS session (exit 3, OpenSSL refused the handshake), and our own TLS 1.3 engine (the
    early data probe) refused the answer as a protocol error whose message starts so."""
    assert run.returncode == 3
    assert run.error("connection") == ("handshake", "tls")
    assert run.error("early_data") == ("protocol", "tls")
    assert run.message("early_data").startswith(early_data_message)


def tls13_with_x25519(hello: OfferedHello) -> bool:
    """A hello our scripted TLS 1.3 server can finish: TLS 1.3, AES-128-GCM, an x25519 share."""
    return (
        hello.offers_tls13
        and NamedGroup.x25519 in hello.key_shares
        and CipherSuite.TLS_AES_128_GCM_SHA256 in hello.cipher_suites
    )


# -- certificates no CA would issue ---------------------------------------------------------

# An OID under an unassigned private-enterprise number, for the padding extension that makes a
# certificate huge; no client knows it, and it is not critical, so it is simply carried.
PADDING_EXTENSION_OID = x509.ObjectIdentifier("1.3.6.1.4.1.99999.7")


def issue_padded(pki: TestPKI, directory: Path, padding_bytes: int) -> Issued:
    """A leaf under the lab intermediate carrying ``padding_bytes`` of non-critical extension:
    a valid certificate, just far larger than any server should send."""
    directory.mkdir(parents=True, exist_ok=True)
    template = pki.ecdsa_p256.certificate
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(template.subject)
        .issuer_name(template.issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(template.not_valid_before_utc)
        .not_valid_after(template.not_valid_after_utc)
    )
    for existing in template.extensions:
        if not isinstance(existing.value, x509.SubjectKeyIdentifier):
            builder = builder.add_extension(existing.value, existing.critical)
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
    ).add_extension(
        x509.UnrecognizedExtension(PADDING_EXTENSION_OID, bytes(padding_bytes)), critical=False
    )
    certificate = builder.sign(pki.intermediate_key, hashes.SHA256())
    chain = (certificate, pki.intermediate)
    cert_path = directory / "padded.cert.pem"
    chain_path = directory / "padded.chain.pem"
    key_path = directory / "padded.key.pem"
    cert_path.write_bytes(certificate.public_bytes(Encoding.PEM))
    chain_path.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in chain))
    key_path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return Issued(
        name="padded",
        certificate=certificate,
        private_key=key,
        chain=chain,
        cert_path=cert_path,
        key_path=key_path,
        chain_path=chain_path,
        intermediates_path=None,
    )
