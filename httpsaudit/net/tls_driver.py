"""Drive our own sans-IO TLS 1.3 engine (``tls.client``) over a TCP connection, timing every read.

The same rules as the reference client (``openssl_client``): our socket code moves every byte,
each read is stamped as it returns, the TLS clock starts when the ClientHello bytes are written,
and flights come from ``WireLog``. Server messages are named from the engine's events, ours from
what the engine is known to write at each step. The log keeps running after the handshake, so a
request's round trips are counted from the same flights.

What this adds over a stock client: the first flight may carry the request as 0-RTT early data
(its bytes are kept for a byte-identical replay), tickets are kept as plain data with the
monotonic time each arrived (their real age goes into the next ClientHello), and the client
Finished can be held back to see whether the server answers early data before the handshake is
complete (RFC 8470 §3).

The engine raises only the project's protocol errors and the transport maps OS errors, so nothing
foreign crosses this module; an alert from the server becomes ``errors.AlertReceived``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from httpsaudit.errors import (
    AlertReceived,
    ConnectionLost,
    DecodeError,
    HttpsAuditError,
    Phase,
    PhaseTimeout,
    RemoteProtocolError,
)
from httpsaudit.net.clock import Deadline, now_ns, ns_to_ms
from httpsaudit.net.http1 import MAX_RESPONSE_HEAD_BYTES, ResponseHead, parse_response_head
from httpsaudit.net.transport import TcpConnection
from httpsaudit.net.wire import WireLog
from httpsaudit.results import Direction, Flight
from httpsaudit.tls import events
from httpsaudit.tls.client import NEED_DATA, ClientConnection, ClientState
from httpsaudit.tls.codes import AlertDescription, AlertLevel, ContentType, name_of
from httpsaudit.tls.events import Negotiated, ResumptionTicket
from httpsaudit.tls.records import RecordBuffer

# A handshake needing more reads than this is a server playing games, not one to wait for.
MAX_HANDSHAKE_READS = 512
# A response head (or the tickets before it) trickling in over more reads than this is not
# worth waiting for.
MAX_APPLICATION_READS = 4096
# Response bytes kept after the head was found: the body is never read.
_HEAD_END = b"\r\n\r\n"
_CLOSE_NOTIFY = "Alert (close_notify)"


@dataclass(frozen=True, slots=True)
class ReceivedTicket:
    """A TLS 1.3 ticket and the monotonic time the read that brought it returned: the ticket's
    age in the next ClientHello must be real (RFC 8446 §4.2.11.1; GnuTLS refuses 0-RTT when
    the age is overstated)."""

    ticket: ResumptionTicket
    received_ns: int

    def age_ms(self, at_ns: int | None = None) -> int:
        """Whole milliseconds since the ticket arrived, never negative."""
        moment = now_ns() if at_ns is None else at_ns
        return max(0, (moment - self.received_ns) // 1_000_000)


@dataclass(frozen=True, slots=True)
class EngineHandshake:
    """One engine handshake, as far as the client Finished.

    ``handshake_ms`` runs from the ClientHello write to our Finished leaving (or, when it is
    held back, to the server Finished being read). ``round_trips`` counts the server flights
    we waited for. ``tickets`` are those read so far (servers usually send them after our
    Finished, so most arrive with the response).
    """

    negotiated: Negotiated
    events: tuple[events.Event, ...]
    flights: tuple[Flight, ...]
    round_trips: int
    handshake_ms: float
    first_flight: bytes
    first_flight_sent_ns: int
    first_server_byte_ns: int
    completed_ns: int
    certificate_ders: tuple[bytes, ...]
    tickets: tuple[ReceivedTicket, ...]

    @property
    def early_data_accepted(self) -> bool:
        return self.negotiated.early_data_accepted

    @property
    def resumed(self) -> bool:
        return self.negotiated.resumed


@dataclass(frozen=True, slots=True)
class EngineResponse:
    """The head of one HTTP/1.1 response read through the engine, and when it came.

    ``round_trips`` are those from TCP connected to the first response byte, counted from the
    flights: the server flights waited for before the request left, plus the request's own
    (an early request's answer that evidently waited for our Finished counts one more).
    ``before_finished`` is True when the first byte arrived while our Finished was still held
    back: the server answered early data before the handshake was complete.
    """

    head: ResponseHead
    request_sent_ns: int
    first_byte_ns: int
    first_byte_ms: float  # from TCP connected
    round_trips: int
    before_finished: bool


class EngineConnection:
    """One ``ClientConnection`` over one ``TcpConnection``: handshake, request, close.

    Build the engine (keys, randoms, ticket age) before connecting, and this object right after:
    ``connected_ns`` (default: when the TCP handshake completed) is where first-byte times start.
    """

    def __init__(
        self,
        transport: TcpConnection,
        engine: ClientConnection,
        *,
        connected_ns: int | None = None,
    ) -> None:
        self._transport = transport
        self._engine = engine
        if connected_ns is None:
            connected_ns = transport.connected_at_ns or now_ns()
        self.connected_ns = connected_ns
        self.wire = WireLog()
        self._server_records = RecordBuffer()
        self._server_records_broken = False
        self._client_records = RecordBuffer()
        # Names for our next protected records, in order (a protected record's type is hidden).
        self._protected_names: list[tuple[str, ...]] = []
        self._events: list[events.Event] = []
        self._tickets: list[ReceivedTicket] = []
        self._application_data = bytearray()
        self._first_flight_sent_ns: int | None = None
        self._first_server_byte_ns: int | None = None
        self._handshake: EngineHandshake | None = None
        self._finished_held = False
        self._finished_sent_ns: int | None = None
        self._closed_by_server = False
        self._closed = False
        self._closing = False
        self._stamp = 0

    # --- what happened so far -------------------------------------------------------------

    @property
    def engine(self) -> ClientConnection:
        return self._engine

    @property
    def tickets(self) -> tuple[ReceivedTicket, ...]:
        """Every ticket read on this connection so far."""
        return tuple(self._tickets)

    @property
    def finished_sent_ns(self) -> int | None:
        """When our Finished left; None while it is held back or before the handshake ends."""
        return self._finished_sent_ns

    def flights(self) -> tuple[Flight, ...]:
        """Every flight so far (the handshake's, then the request and response)."""
        return self.wire.flights()

    # --- the handshake --------------------------------------------------------------------

    def handshake(self, deadline: Deadline, *, hold_finished: bool = False) -> EngineHandshake:
        """Send the first flight (early data included) and read until the server Finished.

        With ``hold_finished`` our Finished stays queued until ``send_finished`` (or the next
        request) sends it. A refusal raises the project's error: ``AlertReceived`` for an
        alert, ``ConnectionLost`` for a close, the engine's protocol errors for broken bytes.
        """
        engine = self._engine
        if engine.state is ClientState.IDLE:
            engine.start()
            self._name_first_flight()
            self._first_flight_sent_ns = self._flush(deadline, Phase.TLS)
        for _ in range(MAX_HANDSHAKE_READS):
            complete = self._drain_events(Phase.TLS, deadline)
            if complete is not None:
                return self._complete(complete, deadline, hold_finished)
            self._flush(deadline, Phase.TLS)
            self._read(deadline, Phase.TLS)
        raise RemoteProtocolError(
            f"{self._transport.peer} kept the handshake going past {MAX_HANDSHAKE_READS} reads"
        )

    def _name_first_flight(self) -> None:
        if self._engine.negotiated.early_data_offered:
            self._protected_names.append(("EarlyData",))

    def _complete(
        self, complete: events.HandshakeComplete, deadline: Deadline, hold_finished: bool
    ) -> EngineHandshake:
        negotiated = complete.negotiated
        # RFC 8446 §4.5: EndOfEarlyData only when the server accepted our 0-RTT data.
        self._protected_names.clear()
        if negotiated.early_data_accepted:
            self._protected_names.append(("EndOfEarlyData",))
        self._protected_names.append(
            ("Certificate", "Finished")
            if negotiated.client_certificate_requested
            else ("Finished",)
        )
        completed = now_ns()
        if hold_finished:
            self._finished_held = True
        else:
            completed = self.send_finished(deadline)
        start = self.wire.start_ns or completed
        certificate = next(
            (event for event in self._events if isinstance(event, events.CertificateReceived)),
            None,
        )
        self._handshake = EngineHandshake(
            negotiated=negotiated,
            events=tuple(self._events),
            flights=self.wire.flights(),
            round_trips=self.wire.round_trips(),
            handshake_ms=ns_to_ms(completed - start),
            first_flight=self._engine.first_flight,
            first_flight_sent_ns=self._first_flight_sent_ns or start,
            first_server_byte_ns=self._first_server_byte_ns or completed,
            completed_ns=completed,
            certificate_ders=certificate.certificate_ders if certificate is not None else (),
            tickets=tuple(self._tickets),
        )
        return self._handshake

    def send_finished(self, deadline: Deadline) -> int:
        """Send our held-back Finished flight (or whatever the engine queued); when it left."""
        self._finished_held = False
        stamp = self._flush(deadline, Phase.TLS)
        self._finished_sent_ns = stamp if stamp is not None else now_ns()
        return self._finished_sent_ns

    # --- application data -----------------------------------------------------------------

    def send(self, data: bytes, deadline: Deadline, phase: Phase = Phase.HTTP) -> int:
        """Encrypt and send application data (a held Finished goes first); when it left."""
        if self._finished_held:
            self.send_finished(deadline)
        self._engine.send_application_data(data)
        self._protected_names.append(("ApplicationData",))
        stamp = self._flush(deadline, phase)
        return stamp if stamp is not None else now_ns()

    def receive(self, deadline: Deadline, phase: Phase = Phase.HTTP) -> tuple[bytes, int]:
        """Decrypted application data and the stamp of the read that completed it; ``b""``
        when the server closed. Tickets on the way are kept (see ``tickets``)."""
        for _ in range(MAX_APPLICATION_READS):
            if self._application_data:
                data = bytes(self._application_data)
                self._application_data.clear()
                return data, self._stamp
            if self._closed_by_server:
                return b"", self._stamp
            self._drain_events(phase, deadline)
            if self._application_data or self._closed_by_server:
                continue
            self._read(deadline, phase)
        raise RemoteProtocolError(
            f"{self._transport.peer} sent more than {MAX_APPLICATION_READS} reads without data",
            phase=phase,
        )

    def request(self, request: bytes, deadline: Deadline) -> EngineResponse:
        """Send ``request`` after the handshake and read the response head."""
        round_trips = self.wire.round_trips()
        sent = self.send(request, deadline, Phase.HTTP)
        return self.read_response_head(deadline, sent_ns=sent, round_trips_before=round_trips)

    def read_response_head(
        self,
        deadline: Deadline,
        *,
        sent_ns: int,
        round_trips_before: int,
        finished_wait: Deadline | None = None,
    ) -> EngineResponse:
        """Read the head of the response to a request that left at ``sent_ns`` (0-RTT: with
        the first flight, ``round_trips_before`` 0). With our Finished held back, it is sent
        once ``finished_wait`` passes with no response byte yet."""
        buffer = bytearray()
        first_byte_ns = 0
        before_finished = False
        while _HEAD_END not in buffer:
            wait = deadline
            if self._finished_held:
                if finished_wait is None or finished_wait.expired:
                    self.send_finished(deadline)
                else:
                    wait = finished_wait
            try:
                data, stamp = self.receive(wait, Phase.HTTP)
            except HttpsAuditError as exc:
                if wait is deadline or not isinstance(exc, PhaseTimeout):
                    raise
                continue  # the hold is over: send our Finished and keep reading
            if not data:
                what = "before responding" if not buffer else "in the middle of the response head"
                raise ConnectionLost(
                    f"the server closed the connection {what}",
                    phase=Phase.HTTP,
                    bytes_received=len(buffer),
                )
            if not buffer:
                first_byte_ns = stamp
                before_finished = self._finished_held
            buffer += data
            if len(buffer) > MAX_RESPONSE_HEAD_BYTES and _HEAD_END not in buffer:
                raise RemoteProtocolError(
                    f"response head larger than {MAX_RESPONSE_HEAD_BYTES} bytes", phase=Phase.HTTP
                )
        if self._finished_held:
            self.send_finished(deadline)
        head_end = buffer.index(_HEAD_END) + len(_HEAD_END)
        head = parse_response_head(bytes(buffer[:head_end]), ns_to_ms(first_byte_ns - sent_ns))
        return EngineResponse(
            head=head,
            request_sent_ns=sent_ns,
            first_byte_ns=first_byte_ns,
            first_byte_ms=ns_to_ms(first_byte_ns - self.connected_ns),
            round_trips=round_trips_before
            + 1
            + (self._waited_for_finished(first_byte_ns) if round_trips_before == 0 else 0),
            before_finished=before_finished,
        )

    def _waited_for_finished(self, first_byte_ns: int) -> int:
        """1 when the answer to an early request evidently waited for our Finished, else 0.

        A request sent after the handshake already counts the flights before it. An early
        request (no round trip before it) left with the first flight, and its answer often
        arrives just after our Finished left without having waited for it: the server wrote it
        before our Finished could reach it. Only an answer that came at least half a handshake
        round trip (first flight out to first server byte in) after our Finished left can have
        waited for it.
        """
        handshake = self._handshake
        finished = self._finished_sent_ns
        if handshake is None or finished is None or first_byte_ns <= finished:
            return 0
        handshake_rtt_ns = handshake.first_server_byte_ns - handshake.first_flight_sent_ns
        return 1 if first_byte_ns - finished >= handshake_rtt_ns // 2 else 0

    def close(self, deadline: Deadline) -> None:
        """Send close_notify (servers drop sessions closed without it) and close TCP."""
        if self._closed:
            return
        self._closed = True
        try:
            self._engine.close()
            self._closing = True
            self._protected_names.append((_CLOSE_NOTIFY,))
            self._flush(deadline, Phase.HTTP)
        except HttpsAuditError:
            pass
        finally:
            self._transport.close()

    # --- moving bytes ---------------------------------------------------------------------

    def _flush(self, deadline: Deadline, phase: Phase) -> int | None:
        """Send whatever the engine queued; the time the last byte left, if anything did."""
        data = self._engine.data_to_send()
        if not data:
            return None
        content_types = self._content_types(self._client_records, data)
        self._name_client_records(content_types)
        stamp = self._transport.send(data, deadline, phase)
        self.wire.sent(data, stamp)
        self.wire.count_client_records(len(content_types))
        return stamp

    def _name_client_records(self, content_types: list[int]) -> None:
        """Name our records: cleartext ones by type (the only cleartext handshake message we
        write is a ClientHello), protected ones from what the engine was asked to write."""
        for content_type in content_types:
            if content_type == ContentType.HANDSHAKE:
                names: tuple[str, ...] = ("ClientHello",)
            elif content_type == ContentType.CHANGE_CIPHER_SPEC:
                names = ("ChangeCipherSpec",)  # RFC 8446 §D.4 compatibility mode
            elif content_type == ContentType.ALERT:
                names = (_CLOSE_NOTIFY,) if self._closing else ("Alert",)
            elif self._protected_names:
                names = self._protected_names.pop(0)
            else:
                names = ()  # more records of the same message (0-RTT data in chunks)
            for name in names:
                self.wire.message(Direction.CLIENT, name)

    @staticmethod
    def _content_types(buffer: RecordBuffer, data: bytes) -> list[int]:
        buffer.receive_data(data)
        found: list[int] = []
        while (record := buffer.next_record()) is not NEED_DATA:
            found.append(record.content_type)
        return found

    def _read(self, deadline: Deadline, phase: Phase) -> None:
        data, stamp = self._transport.receive(deadline, phase)
        self._stamp = stamp
        if data and self._first_server_byte_ns is None:
            self._first_server_byte_ns = stamp
        records = 0
        if data and not self._server_records_broken:
            try:
                records = len(self._content_types(self._server_records, data))
            except DecodeError:
                # Not TLS framing: the engine says so, with the offset, on the next event.
                self._server_records_broken = True
        if data:
            self.wire.received(data, stamp, records)
        self._engine.receive_data(data)
        if not data and self._handshake is None:
            self._closed_during_handshake()

    def _closed_during_handshake(self) -> None:
        """End of stream before the handshake ended. Every earlier read was already turned into
        events (an alert would have been raised), so the server simply hung up."""
        received = self._transport.bytes_received
        raise ConnectionLost(
            f"{self._transport.peer} closed the connection during the TLS handshake "
            f"after {received} bytes",
            phase=Phase.TLS,
            bytes_received=received,
        )

    def _drain_events(
        self, phase: Phase, deadline: Deadline | None
    ) -> events.HandshakeComplete | None:
        """Take every event the buffered bytes give; stop at HandshakeComplete."""
        while True:
            try:
                event = self._engine.next_event()
            except HttpsAuditError:
                # Let the server see our alert before we explain what went wrong.
                if deadline is not None:
                    with contextlib.suppress(HttpsAuditError):
                        self._flush(deadline, phase)
                raise
            if event is NEED_DATA:
                return None
            if self._handshake is None:
                # Only the handshake's events are kept (for ``EngineHandshake``); after it,
                # a server streaming records must not grow a list for the connection's life.
                self._events.append(event)
            self._name_server_message(event)
            if isinstance(event, events.HandshakeComplete):
                return event
            if isinstance(event, events.NewSessionTicketReceived):
                self._tickets.append(ReceivedTicket(event.ticket, self._stamp))
            elif isinstance(event, events.ApplicationDataReceived):
                self._application_data += event.data
            elif isinstance(event, events.AlertReceived):
                raise _alert_error(self._transport.peer, event, phase)
            elif isinstance(event, events.ConnectionClosed):
                self._closed_by_server = True
                return None

    def _name_server_message(self, event: events.Event) -> None:
        names: tuple[str, ...] = ()
        if isinstance(event, events.HelloRetryRequestReceived):
            names = ("HelloRetryRequest",)
        elif isinstance(event, events.ServerHelloReceived):
            names = ("ServerHello",)
        elif isinstance(event, events.EncryptedExtensionsReceived):
            names = ("EncryptedExtensions",)
        elif isinstance(event, events.CertificateReceived):
            requested = self._engine.negotiated.client_certificate_requested
            names = ("CertificateRequest", "Certificate") if requested else ("Certificate",)
        elif isinstance(event, events.HandshakeComplete):
            resumed = event.negotiated.resumed
            names = ("Finished",) if resumed else ("CertificateVerify", "Finished")
        elif isinstance(event, events.NewSessionTicketReceived):
            names = ("NewSessionTicket",)
        elif isinstance(event, events.AlertReceived):
            names = (f"Alert ({name_of(AlertDescription, event.description).lower()})",)
        for name in names:
            self.wire.message(Direction.SERVER, name)


def _alert_error(peer: str, alert: events.AlertReceived, phase: Phase) -> AlertReceived:
    name = name_of(AlertDescription, alert.description).lower()
    level = name_of(AlertLevel, alert.level).lower()
    during = "refused the handshake" if phase is Phase.TLS else "ended the connection"
    return AlertReceived(
        f"{peer} {during} with a {level} alert: {name}",
        level=alert.level,
        description=alert.description,
        phase=phase,
    )
