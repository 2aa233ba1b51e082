"""The reference client: OpenSSL through pyOpenSSL's public API, in memory-BIO mode.

Our own socket code moves every byte, so each read is timestamped and flights are measured on
the wire. This is the only module that imports pyOpenSSL; its errors stop here.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding
from OpenSSL import SSL

from httpsaudit.errors import (
    AlertReceived,
    ConnectionLost,
    DecodeError,
    HandshakeFailure,
    HttpsAuditError,
    Phase,
    RemoteProtocolError,
    UsageError,
)
from httpsaudit.net.clock import Deadline, now_ns, ns_to_ms
from httpsaudit.net.transport import TcpConnection
from httpsaudit.net.wire import WireLog
from httpsaudit.results import Direction, Flight, PeerCertificates
from httpsaudit.tls.codec import Reader
from httpsaudit.tls.codes import (
    AlertDescription,
    AlertLevel,
    ExtensionType,
    HandshakeType,
    name_of,
)
from httpsaudit.tls.messages import is_tls13, parse_certificate_list_tls12
from httpsaudit.tls.observer import ObservedStream, ServerStreamObserver
from httpsaudit.tls.records import NEED_DATA, RecordBuffer, starts_like_a_record

# Bytes OpenSSL may hold for us to send in one go; the memory BIO grows as needed.
BIO_READ_CHUNK_BYTES = 65536
# A handshake with more round trips than this is a server playing games (renegotiation loops).
MAX_HANDSHAKE_READS = 512
# A response that trickles application data in more reads than this is not worth waiting for.
MAX_APPLICATION_READS = 4096

# OpenSSL's long state strings (ssl/ssl_stat.c) -> message names. Reads are the server's
# messages, writes the client's. Unknown strings pass through as they are.
_STATE_MESSAGES: dict[str, tuple[Direction, str]] = {
    "SSLv3/TLS write client hello": (Direction.CLIENT, "ClientHello"),
    "SSLv3/TLS read server hello": (Direction.SERVER, "ServerHello"),
    "TLSv1.3 read encrypted extensions": (Direction.SERVER, "EncryptedExtensions"),
    "SSLv3/TLS read server certificate": (Direction.SERVER, "Certificate"),
    "TLSv1.3 read server compressed certificate": (Direction.SERVER, "CompressedCertificate"),
    "SSLv3/TLS read certificate status": (Direction.SERVER, "CertificateStatus"),
    "SSLv3/TLS read server key exchange": (Direction.SERVER, "ServerKeyExchange"),
    "SSLv3/TLS read server certificate request": (Direction.SERVER, "CertificateRequest"),
    "TLSv1.3 read server certificate verify": (Direction.SERVER, "CertificateVerify"),
    "SSLv3/TLS read server done": (Direction.SERVER, "ServerHelloDone"),
    "SSLv3/TLS read server session ticket": (Direction.SERVER, "NewSessionTicket"),
    "SSLv3/TLS read change cipher spec": (Direction.SERVER, "ChangeCipherSpec"),
    "SSLv3/TLS read finished": (Direction.SERVER, "Finished"),
    "SSLv3/TLS write client certificate": (Direction.CLIENT, "Certificate"),
    "SSLv3/TLS write client key exchange": (Direction.CLIENT, "ClientKeyExchange"),
    "SSLv3/TLS write certificate verify": (Direction.CLIENT, "CertificateVerify"),
    "SSLv3/TLS write change cipher spec": (Direction.CLIENT, "ChangeCipherSpec"),
    "SSLv3/TLS write finished": (Direction.CLIENT, "Finished"),
    "TLSv1.3 write end of early data": (Direction.CLIENT, "EndOfEarlyData"),
}
_IGNORED_STATES = frozenset({"before SSL initialization", "SSL negotiation finished successfully"})


@dataclass(frozen=True, slots=True)
class ClientConfig:
    """How the reference client is set up; one Context per variant serves a whole scan."""

    ca_file: Path | None = None
    alpn: tuple[str, ...] = ("h2", "http/1.1")
    max_version: str | None = None  # "TLSv1.2" caps the client; None lets OpenSSL choose
    tickets: bool = True  # False sets OP_NO_TICKET: Session ID resumption only


@dataclass(frozen=True, slots=True)
class Session:
    """A session to resume, tied to the client variant (Context) it came from."""

    config: ClientConfig
    handle: SSL.Session = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class HandshakeRecord:
    """Everything one handshake showed: negotiated values, the wire log, the observed stream."""

    version: str
    cipher_name: str
    group_name: str | None
    alpn: str | None
    sni: str | None
    handshake_ms: float
    wire: WireLog
    observed: ObservedStream
    certificate_message_bytes: int | None
    peer_certificates: PeerCertificates | None
    session_id_bytes: int
    resumed: bool  # judged from the wire, never from session IDs
    ocsp_staple: bytes | None  # DER OCSPResponse stapled; b"" when none; None when not asked


class _ConnectionState:
    """Per-connection state the Context-wide callbacks write into (via app data)."""

    def __init__(self) -> None:
        self.wire = WireLog()
        self.verify_errors: list[tuple[int, int]] = []
        self.last_state = ""
        self.secrets: dict[str, bytes] = {}
        self.ocsp_staple: bytes | None = None  # b"" when asked for and none came

    def on_keylog(self, line: str) -> None:
        # NSS key log format: LABEL <client_random hex> <secret hex>.
        parts = line.split()
        if len(parts) == 3 and parts[0] in _KEPT_SECRETS:
            with contextlib.suppress(ValueError):
                self.secrets[parts[0]] = bytes.fromhex(parts[2])

    def on_state(self, state: str) -> None:
        if state == self.last_state:
            return
        self.last_state = state
        if state in _IGNORED_STATES:
            return
        direction, name = _STATE_MESSAGES.get(state, (_guess_direction(state), state))
        self.wire.message(direction, name)


def _guess_direction(state: str) -> Direction:
    return Direction.SERVER if " read " in state else Direction.CLIENT


def _state_of(connection: SSL.Connection) -> _ConnectionState:
    state = connection.get_app_data()
    if not isinstance(state, _ConnectionState):  # pragma: no cover - set in OpenSSLConnection
        raise TypeError("connection has no httpsaudit state")
    return state


def _verify_callback(
    connection: SSL.Connection, _certificate: object, error: int, depth: int, _ok: int
) -> bool:
    # Record every problem and carry on: an untrusted chain is a finding, not a reason to stop.
    if error != 0:
        _state_of(connection).verify_errors.append((depth, error))
    return True


# Secrets we keep from the key log: enough to read the server's post-handshake messages
# (TLS 1.3 NewSessionTicket travels encrypted under the server application traffic secret).
_KEPT_SECRETS = frozenset({"SERVER_TRAFFIC_SECRET_0"})
# Server bytes kept after the handshake for reading tickets; a response body beyond this is
# not needed and not kept.
MAX_POST_HANDSHAKE_BYTES = 256 * 1024


def _ocsp_callback(connection: SSL.Connection, staple: bytes, _data: object) -> bool:
    # Keep the staple and carry on: its verdict is the OCSP probe's to give, not OpenSSL's.
    _state_of(connection).ocsp_staple = bytes(staple)
    return True


def _keylog_callback(connection: SSL.Connection, line: bytes) -> None:
    _state_of(connection).on_keylog(line.decode("ascii", "replace"))


def _info_callback(connection: SSL.Connection, _where: int, _ret: int) -> None:
    _state_of(connection).on_state(connection.get_state_string().decode("ascii", "replace"))


def make_context(config: ClientConfig) -> SSL.Context:
    """A client Context with system trust plus ``--ca-file``, ALPN and our callbacks."""
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    context.set_default_verify_paths()
    if config.ca_file is not None:
        try:
            context.load_verify_locations(str(config.ca_file))
        except SSL.Error as exc:
            raise UsageError(f"cannot load --ca-file {config.ca_file}: {_reasons(exc)}") from exc
    if config.alpn:
        context.set_alpn_protos([protocol.encode("ascii") for protocol in config.alpn])
    if config.max_version == "TLSv1.2":
        context.set_max_proto_version(SSL.TLS1_2_VERSION)
    elif config.max_version is not None:
        raise UsageError(f"unsupported client version cap {config.max_version}")
    if not config.tickets:
        context.set_options(SSL.OP_NO_TICKET)
    context.set_verify(SSL.VERIFY_PEER, _verify_callback)
    context.set_info_callback(_info_callback)
    context.set_keylog_callback(_keylog_callback)
    context.set_ocsp_client_callback(_ocsp_callback)
    return context


# Contexts are shared by every scan in the process: loading the system trust store costs about
# 25 ms per Context, a fleet scan makes thousands of connections, and nothing per connection
# lives in a Context (callbacks keep their state on the Connection; client Contexts keep no
# session cache, so no scan can resume another's session by accident).
_CONTEXTS: dict[ClientConfig, SSL.Context] = {}
_CONTEXTS_LOCK = threading.Lock()


def shared_context(config: ClientConfig) -> SSL.Context:
    """The process's Context for ``config``, made on first use."""
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(config)
        if context is None:
            context = _CONTEXTS[config] = make_context(config)
        return context


class ReferenceClient:
    """One configured OpenSSL client for a whole scan (the trust store is loaded once)."""

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        shared_context(config)  # a bad --ca-file fails here, before any connection

    @property
    def trust_store(self) -> str:
        """How reports name the trust anchors a chain was checked against."""
        return "system+ca-file" if self.config.ca_file is not None else "system"

    def variant(
        self,
        *,
        alpn: tuple[str, ...] | None = None,
        max_version: str | None = None,
        tickets: bool = True,
    ) -> ClientConfig:
        """This scan's client with other ALPN (``()`` offers none), version cap or tickets."""
        return replace(
            self.config,
            alpn=self.config.alpn if alpn is None else alpn,
            max_version=max_version,
            tickets=tickets,
        )

    def wrap(
        self,
        transport: TcpConnection,
        *,
        sni: str | None,
        alpn: tuple[str, ...] | None = None,
        config: ClientConfig | None = None,
        session: Session | None = None,
    ) -> OpenSSLConnection:
        """A client connection: the scan's client, an ALPN or ``config`` variant of it, or the
        variant a ``session`` came from (OpenSSL resumes only within one Context)."""
        if session is not None:
            config = session.config
        elif config is None:
            config = self.variant(alpn=alpn) if alpn is not None else self.config
        connection = OpenSSLConnection(
            self._context_for(config),
            transport,
            sni=sni,
            trust_store=self.trust_store,
            config=config,
        )
        if session is not None:
            connection.resume(session)
        return connection

    def _context_for(self, config: ClientConfig) -> SSL.Context:
        # ALPN, version caps and tickets are Context settings: one shared Context per variant.
        return shared_context(config)


def _reasons(exc: SSL.Error) -> str:
    """The reason strings of an OpenSSL error queue, or the exception text."""
    parts: list[str] = []
    for entry in exc.args[0] if exc.args and isinstance(exc.args[0], list) else []:
        if isinstance(entry, tuple) and entry and entry[-1]:
            parts.append(str(entry[-1]))
    return "; ".join(parts) or str(exc) or type(exc).__name__


class OpenSSLConnection:
    """One TLS connection over a TcpConnection, pumped by hand through memory BIOs."""

    def __init__(
        self,
        context: SSL.Context,
        transport: TcpConnection,
        *,
        sni: str | None,
        trust_store: str,
        config: ClientConfig,
    ) -> None:
        self._transport = transport
        self._state = _ConnectionState()
        self._connection = SSL.Connection(context, None)
        self._connection.set_app_data(self._state)
        self._connection.set_connect_state()
        self._sni = sni
        self._trust_store = trust_store
        if sni is not None:
            self._connection.set_tlsext_host_name(sni.encode("ascii"))
        # Browsers ask for a stapled OCSP response (status_request) on every connection.
        self._connection.request_ocsp()
        self._observer = ServerStreamObserver()
        self._client_records = RecordBuffer()
        self._closed = False
        self._handshake_done = False
        self._post_handshake = bytearray()
        self.config = config

    def resume(self, session: Session) -> None:
        """Offer ``session`` in the next handshake (Session ID, ticket or TLS 1.3 PSK)."""
        self._connection.set_session(session.handle)

    def session(self) -> Session | None:
        """The session to resume later. TLS 1.3 tickets arrive after the handshake: read the
        response first. With OpenSSL 4.0 one session object resumes many times, in turn or side
        by side; only an anti-replay server (s_server -early_data) takes a TLS 1.3 ticket once."""
        handle = self._connection.get_session()
        return None if handle is None else Session(self.config, handle)

    @property
    def post_handshake_server_bytes(self) -> bytes:
        """Raw server records read after the handshake (tickets, the response), capped."""
        return bytes(self._post_handshake)

    def secret(self, label: str) -> bytes | None:
        """A traffic secret OpenSSL logged for this connection (see ``_KEPT_SECRETS``)."""
        return self._state.secrets.get(label)

    def _flush(self, deadline: Deadline, phase: Phase) -> int | None:
        """Send whatever OpenSSL produced; return the time the last byte left, if any."""
        stamp: int | None = None
        while True:
            try:
                data = self._connection.bio_read(BIO_READ_CHUNK_BYTES)
            except SSL.WantReadError:
                return stamp
            if not data:
                return stamp
            stamp = self._transport.send(data, deadline, phase)
            if phase is Phase.TLS:
                self._state.wire.sent(data, stamp)
                self._state.wire.count_client_records(self._count_records(data))

    def _count_records(self, data: bytes) -> int:
        """Our own records: OpenSSL writes whole records, so framing them cannot fail."""
        self._client_records.receive_data(data)
        count = 0
        while self._client_records.next_record() is not NEED_DATA:
            count += 1
        return count

    def _feed_handshake_bytes(self, data: bytes, stamp: int) -> None:
        try:
            records = self._observer.receive_data(data)
        except DecodeError as exc:
            stream_start = self._transport.bytes_received == len(data)
            raise RemoteProtocolError(
                _not_tls_message(self._transport.peer, data, exc, stream_start=stream_start),
                offset=exc.offset,
                phase=Phase.TLS,
            ) from exc
        self._state.wire.received(data, stamp, len(records))
        self._connection.bio_write(data)

    def handshake(self, deadline: Deadline) -> HandshakeRecord:
        """Run a full handshake; raise a project error that says what the server did."""
        for _ in range(MAX_HANDSHAKE_READS):
            try:
                self._connection.do_handshake()
                done = True
            except SSL.WantReadError:
                done = False
            except SSL.Error as exc:
                # Let the server see our alert, then explain what happened.
                with contextlib.suppress(HttpsAuditError):
                    self._flush(deadline, Phase.TLS)
                raise self._handshake_error(exc) from exc
            finished_at = self._flush(deadline, Phase.TLS)
            if done:
                completed = max(finished_at or 0, now_ns())
                self._handshake_done = True
                return self._record(completed)
            data, stamp = self._transport.receive(deadline, Phase.TLS)
            if not data:
                raise self._closed_during_handshake()
            self._feed_handshake_bytes(data, stamp)
        raise RemoteProtocolError(
            f"{self._transport.peer} kept the handshake going past {MAX_HANDSHAKE_READS} reads"
        )

    def flights_so_far(self) -> tuple[Flight, ...]:
        """What went each way before a handshake failed: a ClientHello and an alert, say."""
        alert = self._observer.state.alert
        if alert is not None:
            # OpenSSL's state machine does not name a received alert; the bytes do.
            name = name_of(AlertDescription, alert.description).lower()
            self._state.wire.message(Direction.SERVER, f"Alert ({name})")
        return self._state.wire.flights()

    def _closed_during_handshake(self) -> HttpsAuditError:
        alert = self._observer.state.alert
        if alert is not None:
            return _alert_error(self._transport.peer, alert.level, alert.description)
        received = self._transport.bytes_received
        return ConnectionLost(
            f"{self._transport.peer} closed the connection during the TLS handshake "
            f"after {received} bytes",
            phase=Phase.TLS,
            bytes_received=received,
        )

    def _handshake_error(self, exc: SSL.Error) -> HttpsAuditError:
        alert = self._observer.state.alert
        if alert is not None:
            return _alert_error(self._transport.peer, alert.level, alert.description)
        return HandshakeFailure(
            f"TLS handshake with {self._transport.peer} failed: {_reasons(exc)}", phase=Phase.TLS
        )

    def _record(self, completed_ns: int) -> HandshakeRecord:
        wire = self._state.wire
        start = wire.start_ns or completed_ns
        observed = self._observer.state
        chain = self._connection.get_peer_cert_chain(as_cryptography=True) or []
        ders = tuple(certificate.public_bytes(Encoding.DER) for certificate in chain)
        alpn = self._connection.get_alpn_proto_negotiated()
        return HandshakeRecord(
            version=self._connection.get_protocol_version_name(),
            cipher_name=self._connection.get_cipher_name() or "unknown",
            group_name=self._connection.get_group_name(),
            alpn=alpn.decode("ascii", "replace") if alpn else None,
            sni=self._sni,
            handshake_ms=ns_to_ms(completed_ns - start),
            wire=wire,
            observed=observed,
            certificate_message_bytes=self._tls12_certificate_message_bytes(),
            peer_certificates=PeerCertificates(
                ders=ders,
                verify_errors=tuple(self._state.verify_errors),
                trust_store=self._trust_store,
            )
            if ders
            else None,
            session_id_bytes=len(observed.server_hello.session_id)
            if observed.server_hello is not None
            else 0,
            resumed=_resumed_on_the_wire(observed),
            ocsp_staple=self._state.ocsp_staple,
        )

    def _tls12_certificate_message_bytes(self) -> int | None:
        """Exact size of a cleartext (TLS 1.2 and older) Certificate message, with its header."""
        messages = self._observer.messages_of_type(HandshakeType.CERTIFICATE)
        if not messages:
            return None
        message = messages[0]
        try:
            parse_certificate_list_tls12(Reader(message.body, base=message.offset + 4))
        except DecodeError:
            return None
        return message.wire_bytes

    def send(self, data: bytes, deadline: Deadline, phase: Phase = Phase.HTTP) -> int:
        """Encrypt and send application data; return when its last byte left."""
        try:
            self._connection.sendall(data)
        except SSL.Error as exc:
            raise HandshakeFailure(f"TLS write failed: {_reasons(exc)}", phase=phase) from exc
        stamp = self._flush(deadline, phase)
        return stamp if stamp is not None else now_ns()

    def receive(self, deadline: Deadline, phase: Phase = Phase.HTTP) -> tuple[bytes, int]:
        """Decrypted application data and the stamp of the read that completed it.

        ``b""`` means the server closed (cleanly or not). Post-handshake messages such as
        TLS 1.3 NewSessionTicket are consumed on the way.
        """
        stamp = now_ns()
        for _ in range(MAX_APPLICATION_READS):
            try:
                return self._connection.recv(BIO_READ_CHUNK_BYTES), stamp
            except SSL.WantReadError:
                pass
            except SSL.ZeroReturnError:
                return b"", stamp
            except SSL.SysCallError:
                return b"", stamp
            except SSL.Error as exc:
                raise RemoteProtocolError(
                    f"TLS record from {self._transport.peer} rejected: {_reasons(exc)}",
                    phase=phase,
                ) from exc
            self._flush(deadline, phase)
            data, stamp = self._transport.receive(deadline, phase)
            if not data:
                return b"", stamp
            if self._handshake_done and len(self._post_handshake) < MAX_POST_HANDSHAKE_BYTES:
                self._post_handshake += data[: MAX_POST_HANDSHAKE_BYTES - len(self._post_handshake)]
            self._connection.bio_write(data)
        raise RemoteProtocolError(
            f"{self._transport.peer} sent more than {MAX_APPLICATION_READS} reads without data",
            phase=phase,
        )

    def close(self, deadline: Deadline) -> None:
        """Send close_notify (servers drop sessions closed without it) and close TCP."""
        if self._closed:
            return
        self._closed = True
        try:
            self._connection.shutdown()
            self._flush(deadline, Phase.HTTP)
        except (SSL.Error, HttpsAuditError):
            pass
        finally:
            self._transport.close()


def _resumed_on_the_wire(observed: ObservedStream) -> bool:
    """RFC 8446 §4.2.11: a TLS 1.3 server accepting a PSK says so in its ServerHello. RFC 5246
    §7.3: a resumed TLS 1.2 handshake goes from ServerHello straight to ChangeCipherSpec, with
    no Certificate. Session IDs prove nothing (TLS 1.3 echoes them; ticket resumption in
    TLS 1.2 makes the client invent one)."""
    hello = observed.server_hello
    if hello is None:
        return False
    if is_tls13(hello):
        return hello.extension(ExtensionType.PRE_SHARED_KEY) is not None
    return not any(message.msg_type == HandshakeType.CERTIFICATE for message in observed.messages)


def _alert_error(peer: str, level: int, description: int) -> AlertReceived:
    name = name_of(AlertDescription, description).lower()
    level_name = name_of(AlertLevel, level).lower()
    return AlertReceived(
        f"{peer} refused the handshake with a {level_name} alert: {name}",
        level=level,
        description=description,
    )


def _not_tls_message(peer: str, data: bytes, exc: DecodeError, *, stream_start: bool) -> str:
    """Another protocol (named when we know it) versus a TLS peer breaking TLS's rules: an
    oversized record is a broken TLS server, not a non-TLS one."""
    head = data[:16]
    if stream_start and head.startswith(b"HTTP/"):
        return f"{peer} answered in plain HTTP, not TLS (is this an http:// port?)"
    if stream_start and head.startswith(b"SSH-"):
        return f"{peer} is an SSH server, not TLS"
    if stream_start and not starts_like_a_record(head):
        return f"{peer} answered with bytes that are not TLS (first bytes {head.hex(' ')})"
    return f"{peer} sent malformed TLS ({exc.message})"
