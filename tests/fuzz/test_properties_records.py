"""Properties of record framing, handshake reassembly and the passive stream observer.

Random bytes and mutated recorded streams (bytes flipped, inserted, deleted, duplicated, cut;
record and handshake length fields moved) must be framed or refused with a protocol error, and
the result must not depend on how the stream was split into reads.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from httpsaudit.errors import RemoteProtocolError
from httpsaudit.tls.codes import ContentType
from httpsaudit.tls.observer import ObservedStream, ServerStreamObserver
from httpsaudit.tls.records import NEED_DATA, HandshakeReassembler, Record, RecordBuffer
from tests.fuzz.strategies import mutated_inputs
from tests.fuzz.targets import ACCEPTED, REJECTED, TARGETS, chunks

RECORDS = TARGETS["records"]
OBSERVER = TARGETS["observer"]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_random_bytes_are_framed_or_refused(data: bytes) -> None:
    # Given any bytes, split into reads by their first byte
    # When records are framed and handshake records reassembled
    # Then the outcome is a verdict: no foreign exception, every byte framed or buffered
    assert RECORDS.run(data) in (ACCEPTED, REJECTED)


@settings(max_examples=600, deadline=None)
@given(data=mutated_inputs(RECORDS))
def test_mutated_streams_are_framed_or_refused(data: bytes) -> None:
    # Given a recorded server stream with a few bytes or length fields changed
    # When records are framed and handshake records reassembled
    # Then only RemoteProtocolError/DecodeError can stop it
    assert RECORDS.run(data) in (ACCEPTED, REJECTED)


Framed = tuple[list[Record], list[tuple[int, bytes]], tuple[str, int | None] | None]


def _frame(stream: bytes, chunk: int) -> Framed:
    """Records, cleartext handshake messages and the error's (class, offset), reading ``chunk``
    bytes at a time."""
    buffer = RecordBuffer()
    reassembler = HandshakeReassembler()
    records: list[Record] = []
    messages: list[tuple[int, bytes]] = []
    encrypted = False
    try:
        for piece in chunks(stream, chunk):
            buffer.receive_data(piece)
            while (record := buffer.next_record()) is not NEED_DATA:
                records.append(record)
                encrypted = encrypted or record.content_type == ContentType.CHANGE_CIPHER_SPEC
                if record.content_type == ContentType.HANDSHAKE and not encrypted:
                    reassembler.receive_record(record)
                    while (message := reassembler.next_message()) is not NEED_DATA:
                        messages.append((message.msg_type, message.body))
    except RemoteProtocolError as exc:
        return records, messages, (type(exc).__name__, exc.offset)
    return records, messages, None


@settings(max_examples=300, deadline=None)
@given(data=mutated_inputs(RECORDS), chunk=st.integers(1, 40))
def test_framing_does_not_depend_on_how_the_stream_was_read(data: bytes, chunk: int) -> None:
    # Given a mutated stream (its steering byte dropped)
    stream = data[1:]

    # When it is framed whole, and again read ``chunk`` bytes at a time
    whole = _frame(stream, 0)
    split = _frame(stream, chunk)

    # Then the records, the messages and the error (kind and offset) are the same; a bad header
    # may be refused from its first bytes, before the rest of it arrives, at the same offset
    assert split == whole


def _observe(
    stream: bytes, chunk: int
) -> tuple[ObservedStream | None, tuple[str, int | None] | None]:
    observer = ServerStreamObserver()
    try:
        for piece in chunks(stream, chunk):
            observer.receive_data(piece)
    except RemoteProtocolError as exc:
        return None, (type(exc).__name__, exc.offset)
    return observer.state, None


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_the_observer_reads_random_bytes_or_refuses_them(data: bytes) -> None:
    # Given any bytes
    # Then the observer keeps a state or raises RemoteProtocolError/DecodeError, nothing else
    assert OBSERVER.run(data) in (ACCEPTED, REJECTED)


@settings(max_examples=400, deadline=None)
@given(data=mutated_inputs(OBSERVER), chunk=st.integers(1, 40))
def test_the_observer_sees_the_same_whatever_the_reads(data: bytes, chunk: int) -> None:
    # Given a mutated recorded stream
    stream = data[1:]

    # When the observer reads it whole, and in pieces
    whole = _observe(stream, 0)
    split = _observe(stream, chunk)

    # Then it ends in the same state, or refuses with the same error at the same offset
    assert split == whole
