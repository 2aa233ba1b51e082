"""A timestamped log of one handshake's bytes each way, folded into flights and round trips.

A flight is what one side sent before waiting for the other. Round trips are counted from the
flights the client had to wait for, not guessed from the protocol version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from httpsaudit.net.clock import ns_to_ms
from httpsaudit.results import Direction, Flight

# Message names kept per flight. A real flight has about ten (a TLS 1.2 first flight, or a
# response with a few tickets); a server streaming NewSessionTickets or KeyUpdates must not
# grow the list for the life of the connection. Names past the cap are dropped, bytes still count.
MAX_MESSAGES_PER_FLIGHT = 256


@dataclass(slots=True)
class _FlightBuilder:
    direction: Direction
    first_ns: int
    last_ns: int
    wire_bytes: int = 0
    records: int = 0
    messages: list[str] = field(default_factory=list)


class WireLog:
    """Collects sends, receives and message labels as the handshake runs."""

    def __init__(self) -> None:
        self._flights: list[_FlightBuilder] = []
        self._pending_client_messages: list[str] = []
        self.start_ns: int | None = None

    def sent(self, data: bytes, stamp_ns: int) -> None:
        if self.start_ns is None:
            # The TLS clock starts when the ClientHello has been written (not when key
            # generation began), so local CPU before the first byte is not counted.
            self.start_ns = stamp_ns
        flight = self._current(Direction.CLIENT, stamp_ns)
        flight.wire_bytes += len(data)
        flight.last_ns = stamp_ns
        if self._pending_client_messages:
            room = MAX_MESSAGES_PER_FLIGHT - len(flight.messages)
            flight.messages.extend(self._pending_client_messages[: max(room, 0)])
            self._pending_client_messages.clear()

    def received(self, data: bytes, stamp_ns: int, records: int = 0) -> None:
        flight = self._current(Direction.SERVER, stamp_ns)
        flight.wire_bytes += len(data)
        flight.records += records
        flight.last_ns = stamp_ns

    def count_client_records(self, records: int) -> None:
        if self._flights and self._flights[-1].direction is Direction.CLIENT:
            self._flights[-1].records += records

    def message(self, direction: Direction, name: str) -> None:
        """Label a message: a server message belongs to the flight being read, a client message
        to the next flight the client writes (libraries label it just before sending)."""
        if direction is Direction.CLIENT:
            if len(self._pending_client_messages) < MAX_MESSAGES_PER_FLIGHT:
                self._pending_client_messages.append(name)
        elif self._flights and self._flights[-1].direction is Direction.SERVER:
            messages = self._flights[-1].messages
            if len(messages) < MAX_MESSAGES_PER_FLIGHT:
                messages.append(name)

    def _current(self, direction: Direction, stamp_ns: int) -> _FlightBuilder:
        if not self._flights or self._flights[-1].direction is not direction:
            self._flights.append(_FlightBuilder(direction, stamp_ns, stamp_ns))
        return self._flights[-1]

    def flights(self) -> tuple[Flight, ...]:
        origin = self.start_ns or 0
        return tuple(
            Flight(
                direction=builder.direction,
                messages=tuple(builder.messages),
                wire_bytes=builder.wire_bytes,
                records=builder.records,
                start_ms=ns_to_ms(builder.first_ns - origin),
                end_ms=ns_to_ms(builder.last_ns - origin),
            )
            for builder in self._flights
        )

    def round_trips(self) -> int:
        """Server flights the client waited for, each after a client flight of its own."""
        trips = 0
        for previous, flight in zip(self._flights, self._flights[1:], strict=False):
            if previous.direction is Direction.CLIENT and flight.direction is Direction.SERVER:
                trips += 1
        return trips

    def bytes_in(self, direction: Direction, index: int = 0) -> int:
        """Bytes of the ``index``-th flight sent in ``direction``."""
        matching = [flight for flight in self._flights if flight.direction is direction]
        return matching[index].wire_bytes if index < len(matching) else 0
