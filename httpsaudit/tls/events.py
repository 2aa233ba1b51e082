"""What ``ClientConnection.next_event()`` hands out: frozen dataclasses, one per happening.

The order mirrors the wire (RFC 8446 §2): ``HelloRetryRequestReceived`` (at most once),
``ServerHelloReceived``, ``EncryptedExtensionsReceived``, ``CertificateReceived`` (full handshakes
only), ``HandshakeComplete``; then any mix of ``NewSessionTicketReceived`` and
``ApplicationDataReceived``; and at the end ``AlertReceived`` and/or ``ConnectionClosed``.
Code points stay ints so unknown values survive; ``codes.name_of`` names them.

``AlertReceived`` here is an event, not the ``errors.AlertReceived`` exception: the engine reports
what the server said and leaves the verdict to the probe.
"""

from __future__ import annotations

from dataclasses import dataclass

from httpsaudit.tls.messages import Extension


@dataclass(frozen=True, slots=True)
class ResumptionTicket:
    """A TLS 1.3 ticket ready to resume with (RFC 8446 §4.6.1), and what its connection chose.

    ``psk`` is the resumption PSK derived from the ticket nonce; ``max_early_data_size`` is 0 when
    the ticket allows no 0-RTT data. ``server_name`` and ``alpn`` are those of the connection that
    received the ticket (RFC 8446 §4.2.10 ties 0-RTT to both). No clock is read here: the caller
    notes when the ticket arrived and passes the age in ``ClientParams.ticket_age_ms``.
    """

    suite_code: int
    psk: bytes
    ticket: bytes
    age_add: int
    lifetime_s: int
    max_early_data_size: int
    server_name: str | None
    alpn: str | None


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What the handshake settled, as far as it got; None where it is not known yet."""

    version: int | None = None
    cipher_suite: int | None = None
    group: int | None = None
    alpn: str | None = None
    resumed: bool = False
    early_data_offered: bool = False
    early_data_accepted: bool = False
    hello_retry_request: bool = False
    signature_scheme: int | None = None
    client_certificate_requested: bool = False
    server_record_size_limit: int | None = None


class Event:
    """Base class of every event, for ``isinstance`` checks and type hints."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class HelloRetryRequestReceived(Event):
    """RFC 8446 §4.1.4: the server asked for another ClientHello; the engine already queued it.

    ``selected_group`` is None when the HRR carried only a cookie.
    """

    selected_group: int | None
    cipher_suite: int
    cookie: bytes | None


@dataclass(frozen=True, slots=True)
class ServerHelloReceived(Event):
    """RFC 8446 §4.1.3: the server's choice; ``group`` is None in psk_ke mode."""

    cipher_suite: int
    group: int | None
    psk_accepted: bool


@dataclass(frozen=True, slots=True)
class EncryptedExtensionsReceived(Event):
    """RFC 8446 §4.3.1: ALPN and 0-RTT acceptance (early_data in EncryptedExtensions)."""

    alpn: str | None
    early_data_accepted: bool
    extensions: tuple[Extension, ...]


@dataclass(frozen=True, slots=True)
class CertificateReceived(Event):
    """RFC 8446 §4.4.2: the chain as sent, leaf first, for the certificate code to validate.

    The engine checks only that the leaf's key signed the handshake (CertificateVerify, reported by
    ``HandshakeComplete``); trust is not its job. ``entry_extensions[i]`` belongs to
    ``certificate_ders[i]`` (a stapled OCSP response, SCTs).
    """

    certificate_ders: tuple[bytes, ...]
    entry_extensions: tuple[tuple[Extension, ...], ...]


@dataclass(frozen=True, slots=True)
class HandshakeComplete(Event):
    """The server Finished verified and our Finished queued (RFC 8446 §4.4.4)."""

    negotiated: Negotiated


@dataclass(frozen=True, slots=True)
class NewSessionTicketReceived(Event):
    """RFC 8446 §4.6.1: a ticket, with its resumption PSK already derived."""

    ticket: ResumptionTicket


@dataclass(frozen=True, slots=True)
class ApplicationDataReceived(Event):
    """Decrypted application data from one record (never empty)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class AlertReceived(Event):
    """RFC 8446 §6: an alert other than close_notify. Every alert but user_canceled is fatal in
    TLS 1.3 whatever its level (§6), so after one the connection is closed."""

    level: int
    description: int


@dataclass(frozen=True, slots=True)
class ConnectionClosed(Event):
    """The peer is done: ``close_notify`` True after its close_notify alert (RFC 8446 §6.1),
    False after a fatal alert or a bare end of stream. Repeated on every later ``next_event``."""

    close_notify: bool
