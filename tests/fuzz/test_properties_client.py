"""Properties of the TLS 1.3 client state machine and of the post-handshake ticket reader.

Server bytes reach the engine in two ways here. Raw: the RFC 8448 server streams (1-RTT, 0-RTT
resumption, HelloRetryRequest, client authentication, compatibility mode) with bytes changed,
which mostly tests the cleartext ServerHello and the record layer, since a changed ciphertext
fails authentication. Sealed: the decrypted server flights changed and then encrypted again under
the real keys, which takes the damage to EncryptedExtensions, Certificate, CertificateVerify,
Finished, NewSessionTicket and KeyUpdate. Either way the engine ends, waits, or raises
RemoteProtocolError (DecodeError included) and stays FAILED; never a foreign exception.
"""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpsaudit.errors import RemoteProtocolError
from httpsaudit.tls.client import NEED_DATA, ClientConnection
from httpsaudit.tls.events import ConnectionClosed, Event
from httpsaudit.tls.tickets import read_post_handshake_tickets
from tests.fuzz import seeds
from tests.fuzz.strategies import mutated_inputs
from tests.fuzz.targets import ACCEPTED, REJECTED, TARGETS, chunks

CLIENT = TARGETS["client"]
CLIENT_SEALED = TARGETS["client_sealed"]
TICKETS = TARGETS["tickets"]


# Raw and sealed cases build a ClientConnection each (a few ms): keep the counts modest.
def _slow(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


def test_every_seed_completes_its_handshake() -> None:
    # Given the unchanged seeds of the three engine targets
    # When each is run
    outcomes = {
        (target.name, name): target.run(data)
        for target in (CLIENT, CLIENT_SEALED, TICKETS)
        for name, data in target.seeds().items()
    }

    # Then every one is accepted: mutations start from flights the engine completes
    assert set(outcomes.values()) == {ACCEPTED}
    assert {name for target, name in outcomes if target == "client"} >= set(seeds.TRACE_NAMES)


@_slow(300)
@given(trace=st.integers(0, len(seeds.TRACE_NAMES) - 1), data=st.binary(max_size=600))
def test_random_server_bytes_raise_only_protocol_errors(trace: int, data: bytes) -> None:
    # Given any bytes from the server, after any of the RFC 8448 first flights
    # Then the engine ends, or fails with RemoteProtocolError and raises it again
    assert CLIENT.run(bytes([trace, 0]) + data) in (ACCEPTED, REJECTED)


@_slow(600)
@given(data=mutated_inputs(CLIENT), chunk=st.integers(0, 64))
def test_mutated_server_streams_raise_only_protocol_errors(data: bytes, chunk: int) -> None:
    # Given a recorded server stream with bytes or record/handshake lengths changed, read in
    # pieces of ``chunk`` bytes
    # Then the engine ends, or fails with RemoteProtocolError and raises it again
    assert CLIENT.run(data[:1] + bytes([chunk]) + data[2:]) in (ACCEPTED, REJECTED)


@_slow(800)
@given(data=mutated_inputs(CLIENT_SEALED))
def test_mutated_sealed_flights_raise_only_protocol_errors(data: bytes) -> None:
    # Given a decrypted server flight (and what follows it) changed, then sealed again under
    # the trace's real keys, so the damage reaches the handshake message parsers and checks
    # Then the engine ends, or fails with RemoteProtocolError and raises it again
    assert CLIENT_SEALED.run(data) in (ACCEPTED, REJECTED)


def _events(
    trace: str, pieces: Iterator[bytes]
) -> tuple[list[Event], tuple[str, int | None] | None]:
    """The events a trace's client reads from ``pieces`` and the error it stops with."""
    connection = ClientConnection(seeds.TRACES[trace].params())
    connection.start()
    events: list[Event] = []
    try:
        for piece in (*pieces, b""):
            connection.receive_data(piece)
            while (event := connection.next_event()) is not NEED_DATA:
                events.append(event)
                if isinstance(event, ConnectionClosed):
                    return events, None
    except RemoteProtocolError as exc:
        return events, (type(exc).__name__, exc.offset)
    return events, None


@_slow(250)
@given(data=mutated_inputs(CLIENT), chunk=st.integers(1, 64))
def test_the_engine_reads_a_damaged_stream_the_same_whatever_the_reads(
    data: bytes, chunk: int
) -> None:
    # Given a mutated server stream for one trace
    trace = seeds.TRACE_NAMES[data[0] % len(seeds.TRACE_NAMES)]
    stream = data[2:]

    # When one engine reads it whole and another in pieces of ``chunk`` bytes
    whole = _events(trace, iter((stream,)))
    split = _events(trace, chunks(stream, chunk))

    # Then both see the same events and stop with the same error at the same offset
    assert split == whole


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=600))
def test_random_post_handshake_bytes_give_no_ticket(data: bytes) -> None:
    # Given any bytes after a handshake
    secret = seeds.opened_flights()["simple"].server_application_secret

    # When the ticket reader opens them as the §3 server's application records
    found = read_post_handshake_tickets(seeds.SUITE, secret, data)

    # Then it never raises, and finds no ticket: random bytes do not authenticate
    assert found.tickets == ()


@_slow(500)
@given(data=mutated_inputs(TICKETS))
def test_mutated_post_handshake_records_give_tickets_or_a_problem(data: bytes) -> None:
    # Given the §3 server's post-handshake messages changed and sealed again under its keys
    # Then the ticket reader reports tickets or a problem, never raises
    assert TICKETS.run(data) in (ACCEPTED, REJECTED)
