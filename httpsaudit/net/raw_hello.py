"""Send one raw ClientHello and read the server's cleartext answer, without finishing.

The answer is what a probe needs: the ServerHello (or HelloRetryRequest), the TLS 1.2 first
flight, an alert, or the server closing on us. A refusal is an answer, not an error.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from httpsaudit.errors import ConnectionLost, DecodeError, Phase, PhaseTimeout, RemoteProtocolError
from httpsaudit.net.clock import Deadline, now_ns, ns_to_ms
from httpsaudit.net.transport import TcpConnection
from httpsaudit.tls.codes import HandshakeType
from httpsaudit.tls.messages import Alert, ServerHello, is_tls13
from httpsaudit.tls.observer import ServerStreamObserver
from httpsaudit.tls.records import HandshakeMessage, starts_like_a_record

# Reads allowed for one answer; a first flight is a handful of records.
MAX_ANSWER_READS = 256


class AnswerKind(enum.StrEnum):
    """How the server answered a hello."""

    SERVER_HELLO = "server_hello"
    HELLO_RETRY_REQUEST = "hello_retry_request"
    ALERT = "alert"
    CLOSED = "closed"
    RESET = "reset"
    TIMEOUT = "timeout"


class ReadUntil(enum.Enum):
    """How much of the server's answer a probe needs."""

    SERVER_HELLO = "server_hello"  # version, suite, group: stop at the (retry) ServerHello
    FIRST_FLIGHT = "first_flight"  # TLS 1.2: through ServerHelloDone (Certificate, SKE...)


@dataclass(frozen=True, slots=True)
class HelloAnswer:
    """The server's answer to one ClientHello, as far as it can be read in the clear."""

    kind: AnswerKind
    server_hello: ServerHello | None
    hello_retry_request: ServerHello | None
    alert: Alert | None
    messages: tuple[HandshakeMessage, ...]
    client_hello_bytes: int
    bytes_received: int
    answer_ms: float

    def messages_of_type(self, msg_type: int) -> tuple[HandshakeMessage, ...]:
        return tuple(message for message in self.messages if message.msg_type == msg_type)


def _done(observer: ServerStreamObserver, until: ReadUntil) -> bool:
    state = observer.state
    if state.alert is not None or state.hello_retry_request is not None:
        return True
    hello = state.server_hello
    if hello is None:
        return False
    if until is ReadUntil.SERVER_HELLO or is_tls13(hello) or state.encrypted:
        return True
    # TLS 1.2 and older: the first flight ends with ServerHelloDone (or, resumed, Finished).
    return any(message.msg_type == HandshakeType.SERVER_HELLO_DONE for message in state.messages)


def exchange_hello(
    transport: TcpConnection,
    client_hello_record: bytes,
    deadline: Deadline,
    *,
    until: ReadUntil = ReadUntil.SERVER_HELLO,
) -> HelloAnswer:
    """Write the hello, read until ``until`` is satisfied or the server refuses or goes quiet."""
    observer = ServerStreamObserver()
    sent_at = transport.send(client_hello_record, deadline, Phase.TLS)
    kind: AnswerKind | None = None
    last_read = sent_at
    for _ in range(MAX_ANSWER_READS):
        try:
            data, last_read = transport.receive(deadline, Phase.TLS)
        except PhaseTimeout:
            kind = AnswerKind.TIMEOUT
            break
        except ConnectionLost:
            kind = AnswerKind.RESET
            break
        if not data:
            kind = AnswerKind.CLOSED
            break
        try:
            observer.receive_data(data)
        except DecodeError as exc:
            if _done(observer, until):
                break  # what the probe asked for came whole before the bad bytes
            stream_start = transport.bytes_received == len(data)
            what = (
                "bytes that are not TLS"
                if stream_start and not starts_like_a_record(data[:2])
                else "malformed TLS"
            )
            raise RemoteProtocolError(
                f"{transport.peer} answered a ClientHello with {what} ({exc.message})",
                offset=exc.offset,
            ) from exc
        if _done(observer, until):
            break
        unreadable = observer.state.unreadable
        if unreadable is not None:
            # The flight the probe needs goes on past a message too long to follow.
            raise RemoteProtocolError(
                f"{transport.peer} answered a ClientHello with a handshake message too long "
                f"to read ({unreadable})"
            )
    state = observer.state
    if state.alert is not None:
        kind = AnswerKind.ALERT
    elif state.hello_retry_request is not None:
        kind = AnswerKind.HELLO_RETRY_REQUEST
    elif state.server_hello is not None:
        kind = AnswerKind.SERVER_HELLO
    elif kind is None:
        kind = AnswerKind.CLOSED
    return HelloAnswer(
        kind=kind,
        server_hello=state.server_hello,
        hello_retry_request=state.hello_retry_request,
        alert=state.alert,
        messages=state.messages,
        client_hello_bytes=len(client_hello_record),
        bytes_received=transport.bytes_received,
        answer_ms=ns_to_ms((now_ns() if kind is AnswerKind.TIMEOUT else last_read) - sent_at),
    )
