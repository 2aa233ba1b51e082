"""A passive reader of the server's side of a handshake that another library is driving.

It frames records, reads the cleartext handshake messages (ServerHello and, in TLS 1.2, the
whole first flight), and stops reading message contents where encryption starts: after the
ServerHello in TLS 1.3 (RFC 8446 §2), after the server's ChangeCipherSpec in TLS 1.2.
"""

from __future__ import annotations

from dataclasses import dataclass

from httpsaudit.errors import DecodeError, RemoteProtocolError
from httpsaudit.tls.codec import Reader
from httpsaudit.tls.codes import ContentType, HandshakeType
from httpsaudit.tls.messages import Alert, ServerHello, is_tls13, parse_alert, parse_server_hello
from httpsaudit.tls.records import (
    NEED_DATA,
    RECORD_HEADER_BYTES,
    HandshakeMessage,
    HandshakeReassembler,
    Record,
    RecordBuffer,
)

# A server flight with more cleartext messages than this is not a handshake we should follow.
MAX_CLEARTEXT_MESSAGES = 64


@dataclass(frozen=True, slots=True)
class ObservedStream:
    """What the observer learned so far."""

    records: int
    wire_bytes: int
    messages: tuple[HandshakeMessage, ...]
    server_hello: ServerHello | None
    hello_retry_request: ServerHello | None
    alert: Alert | None
    encrypted: bool
    # Why handshake messages stopped being read (one longer than the reassembler holds); the
    # records are still framed, and whoever drives the handshake gives its own verdict.
    unreadable: str | None = None


class ServerStreamObserver:
    """Feed every byte the server sent, in order; read ``state`` at any time."""

    def __init__(self) -> None:
        self._records = RecordBuffer()
        self._handshake = HandshakeReassembler()
        # Handshake bytes given to the reassembler and not yet returned inside a message.
        self._handshake_pending_bytes = 0
        self._record_count = 0
        self._wire_bytes = 0
        self._messages: list[HandshakeMessage] = []
        self._server_hello: ServerHello | None = None
        self._hello_retry_request: ServerHello | None = None
        self._alert: Alert | None = None
        self._encrypted = False
        self._unreadable: str | None = None

    def receive_data(self, data: bytes) -> list[Record]:
        """Consume ``data``; return the records it completed. Raises DecodeError on non-TLS."""
        self._records.receive_data(data)
        completed: list[Record] = []
        while True:
            record = self._records.next_record()
            if record is NEED_DATA:
                return completed
            completed.append(record)
            self._record_count += 1
            self._wire_bytes += record.wire_bytes
            self._observe(record)

    def _observe(self, record: Record) -> None:
        if record.content_type == ContentType.CHANGE_CIPHER_SPEC:
            # TLS 1.2: everything after the server's CCS is protected. In TLS 1.3 the CCS is a
            # middlebox-compatibility dummy (RFC 8446 §D.4), which may even follow an HRR,
            # before the real ServerHello: it only means encryption once a ServerHello was read.
            if self._server_hello is not None:
                self._encrypted = True
            return
        if self._encrypted:
            return
        if record.content_type == ContentType.ALERT:
            self._alert = parse_alert(Reader(record.payload, base=record.offset + 5))
            return
        if record.content_type != ContentType.HANDSHAKE or self._unreadable is not None:
            return
        self._handshake.receive_record(record)
        self._handshake_pending_bytes += len(record.payload)
        while True:
            try:
                message = self._handshake.next_message()
            except DecodeError as exc:
                # RFC 8446 §4: a message may be 2^24 - 1 bytes long, so one past the
                # reassembler's cap is still TLS, just more than we follow: stop reading
                # messages and say why, rather than call the stream malformed.
                self._unreadable = exc.message
                return
            if message is NEED_DATA:
                return
            self._handshake_pending_bytes -= message.wire_bytes
            if len(self._messages) >= MAX_CLEARTEXT_MESSAGES:
                raise RemoteProtocolError(
                    f"more than {MAX_CLEARTEXT_MESSAGES} cleartext handshake messages",
                    offset=message.offset,
                )
            self._messages.append(message)
            if message.msg_type == HandshakeType.SERVER_HELLO:
                self._read_server_hello(message)
                if self._encrypted and self._handshake_pending_bytes:
                    # RFC 8446 §5.1: messages must not span a key change, so the TLS 1.3
                    # ServerHello ends its record; the bytes left over are all in this record.
                    record_end = record.offset + RECORD_HEADER_BYTES + len(record.payload)
                    raise RemoteProtocolError(
                        "cleartext handshake bytes after the TLS 1.3 ServerHello",
                        offset=record_end - self._handshake_pending_bytes,
                    )

    def _read_server_hello(self, message: HandshakeMessage) -> None:
        hello = parse_server_hello(Reader(message.body, base=message.offset + 4))
        if hello.is_hello_retry_request:
            # RFC 8446 §4.1.4: the client answers an HRR with a new ClientHello; still cleartext.
            self._hello_retry_request = hello
            return
        self._server_hello = hello
        if is_tls13(hello):
            self._encrypted = True

    @property
    def state(self) -> ObservedStream:
        return ObservedStream(
            records=self._record_count,
            wire_bytes=self._wire_bytes,
            messages=tuple(self._messages),
            server_hello=self._server_hello,
            hello_retry_request=self._hello_retry_request,
            alert=self._alert,
            encrypted=self._encrypted,
            unreadable=self._unreadable,
        )

    def messages_of_type(self, msg_type: int) -> tuple[HandshakeMessage, ...]:
        return tuple(message for message in self._messages if message.msg_type == msg_type)
