"""The whole httpsaudit exception tree, and the error kinds reports carry.

::

    HttpsAuditError                   base; .kind (ErrorKind), .phase, .target
    ├── UsageError                    bad target/config -> exit 2
    ├── TargetError                   the network said no
    │   ├── ResolveError              NXDOMAIN, SERVFAIL, no address
    │   ├── ConnectError              refused, unreachable
    │   ├── PhaseTimeout              a deadline passed; .phase says where
    │   └── ConnectionLost            reset/EOF mid-exchange; .bytes_received
    ├── TlsError
    │   ├── AlertReceived             .level, .description: often an answer, not a failure
    │   ├── HandshakeFailure          the local TLS library gave up (text only)
    │   └── RemoteProtocolError       server bytes malformed/unexpected; .offset
    │       └── DecodeError           raised by tls/codec.py with the offset
    ├── LocalProtocolError            we built an invalid message -> a bug
    └── Unsupported                   the local library cannot do X -> probe skipped

``tls/`` raises only DecodeError, RemoteProtocolError and LocalProtocolError; ``net/`` maps OS,
OpenSSL and DNS errors onto this tree at its edge, so nothing foreign escapes it.
"""

from __future__ import annotations

import enum


class ErrorKind(enum.StrEnum):
    """Stable machine-readable error names used in JSON reports."""

    USAGE = "usage"
    RESOLVE = "resolve"
    CONNECT = "connect"
    TIMEOUT = "timeout"
    CONNECTION_LOST = "connection_lost"
    ALERT = "alert"
    HANDSHAKE = "handshake"
    PROTOCOL = "protocol"
    DECODE = "decode"
    LOCAL_PROTOCOL = "local_protocol"
    UNSUPPORTED = "unsupported"
    INTERNAL = "internal"


class Phase(enum.StrEnum):
    """Where on the way to a response something happened."""

    DNS = "dns"
    TCP = "tcp"
    TLS = "tls"
    HTTP = "http"


class HttpsAuditError(Exception):
    """Base of every error httpsaudit raises on purpose; ``str()`` is one complete line."""

    kind: ErrorKind = ErrorKind.INTERNAL

    def __init__(self, message: str, *, phase: Phase | None = None, target: str | None = None):
        super().__init__(message)
        self.message = message
        self.phase = phase
        self.target = target

    def __str__(self) -> str:
        return f"{self.phase.value.upper()}: {self.message}" if self.phase else self.message


class UsageError(HttpsAuditError):
    """The user asked for something we cannot do: nothing was sent on the network."""

    kind = ErrorKind.USAGE


class TargetError(HttpsAuditError):
    """The network said no."""


class ResolveError(TargetError):
    """The name did not resolve to any address."""

    kind = ErrorKind.RESOLVE


class ConnectError(TargetError):
    """TCP could not connect: refused, unreachable, no route."""

    kind = ErrorKind.CONNECT


class PhaseTimeout(TargetError):
    """A deadline passed; ``phase`` says which step was waiting."""

    kind = ErrorKind.TIMEOUT


class ConnectionLost(TargetError):
    """The peer reset or closed mid-exchange; how much it sent first is kept."""

    kind = ErrorKind.CONNECTION_LOST

    def __init__(
        self,
        message: str,
        *,
        phase: Phase | None = None,
        target: str | None = None,
        bytes_received: int = 0,
    ):
        super().__init__(message, phase=phase, target=target)
        self.bytes_received = bytes_received


class TlsError(HttpsAuditError):
    """The TLS exchange failed."""

    kind = ErrorKind.HANDSHAKE


class AlertReceived(TlsError):
    """The server sent an alert: a probe often reads this as an answer."""

    kind = ErrorKind.ALERT

    def __init__(
        self,
        message: str,
        *,
        level: int,
        description: int,
        phase: Phase | None = Phase.TLS,
        target: str | None = None,
    ):
        super().__init__(message, phase=phase, target=target)
        self.level = level
        self.description = description


class HandshakeFailure(TlsError):
    """The local TLS library gave up and only said so in text."""

    kind = ErrorKind.HANDSHAKE


class RemoteProtocolError(TlsError):
    """The server's bytes are malformed or out of order."""

    kind = ErrorKind.PROTOCOL

    def __init__(
        self,
        message: str,
        *,
        offset: int | None = None,
        phase: Phase | None = Phase.TLS,
        target: str | None = None,
    ):
        super().__init__(message, phase=phase, target=target)
        self.offset = offset


class DecodeError(RemoteProtocolError):
    """A length or value did not parse; ``offset`` points at the bad byte."""

    kind = ErrorKind.DECODE


class LocalProtocolError(HttpsAuditError):
    """We tried to build or send something invalid: a bug in httpsaudit."""

    kind = ErrorKind.LOCAL_PROTOCOL


class Unsupported(HttpsAuditError):
    """The local library cannot do what a probe needs; the probe is skipped, not failed."""

    kind = ErrorKind.UNSUPPORTED


__all__ = [
    "AlertReceived",
    "ConnectError",
    "ConnectionLost",
    "DecodeError",
    "ErrorKind",
    "HandshakeFailure",
    "HttpsAuditError",
    "LocalProtocolError",
    "Phase",
    "PhaseTimeout",
    "RemoteProtocolError",
    "ResolveError",
    "TargetError",
    "TlsError",
    "Unsupported",
    "UsageError",
]
