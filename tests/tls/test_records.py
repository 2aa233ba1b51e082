"""RecordBuffer and HandshakeReassembler on recorded flights, fed whole and byte by byte."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from httpsaudit.errors import DecodeError, RemoteProtocolError
from httpsaudit.tls.codec import Writer
from httpsaudit.tls.records import (
    MAX_HANDSHAKE_MESSAGE_BYTES,
    MAX_RECORD_PAYLOAD_BYTES,
    NEED_DATA,
    HandshakeMessage,
    HandshakeReassembler,
    Record,
    RecordBuffer,
)
from tests.vectors import load_hex

FUZZ = settings(max_examples=200, deadline=None)
VECTORS = (
    "rfc8448_simple_server_hello",
    "rfc8448_hrr",
    "openssl_tls12_flight",
    "openssl_tls13_flight",
    "openssl_hrr_flight",
    "openssl_handshake_failure_alert",
)
# (offset, content type, payload length) of every record, read off the annotated vector files.
RECORD_LAYOUT = {
    "rfc8448_simple_server_hello": ((0, 22, 90),),
    "rfc8448_hrr": ((0, 22, 176),),
    "openssl_tls12_flight": (
        (0, 22, 93),
        (98, 22, 1234),
        (1337, 22, 148),
        (1490, 22, 4),
        (1499, 20, 1),
        (1505, 22, 40),
    ),
    "openssl_tls13_flight": (
        (0, 22, 122),
        (127, 20, 1),
        (133, 23, 23),
        (161, 23, 1256),
        (1422, 23, 96),
        (1523, 23, 53),
    ),
    "openssl_hrr_flight": (
        (0, 22, 88),
        (93, 20, 1),
        (99, 22, 155),
        (259, 23, 23),
        (287, 23, 1256),
        (1548, 23, 97),
        (1650, 23, 53),
    ),
    "openssl_handshake_failure_alert": ((0, 21, 2),),
}
# The TLS 1.2 flight's cleartext handshake messages: (offset, msg_type, body length).
TLS12_MESSAGES = ((5, 2, 89), (103, 11, 1230), (1342, 12, 144), (1495, 14, 0))


def failure_of(call: Callable[[], object]) -> DecodeError | None:
    """The DecodeError ``call`` raised, or None; any other exception propagates (and fails)."""
    try:
        call()
    except DecodeError as error:
        return error
    return None


def record(content_type: int, payload: bytes, version: int = 0x0303) -> bytes:
    """A record built with our Writer (the header layout of RFC 8446 §5.1)."""
    return Writer().uint8(content_type).uint16(version).opaque(2, payload).getvalue()


def handshake(msg_type: int, body: bytes) -> bytes:
    """A handshake message built with our Writer (RFC 8446 §4)."""
    return Writer().uint8(msg_type).opaque(3, body).getvalue()


def drain(buffer: RecordBuffer) -> list[Record]:
    records: list[Record] = []
    while (item := buffer.next_record()) is not NEED_DATA:
        assert isinstance(item, Record)
        records.append(item)
    return records


def drain_messages(reassembler: HandshakeReassembler) -> list[HandshakeMessage]:
    messages: list[HandshakeMessage] = []
    while (item := reassembler.next_message()) is not NEED_DATA:
        assert isinstance(item, HandshakeMessage)
        messages.append(item)
    return messages


def records_of(data: bytes) -> list[Record]:
    buffer = RecordBuffer()
    buffer.receive_data(data)
    records = drain(buffer)
    assert buffer.buffered_bytes == 0
    return records


# --- RecordBuffer --------------------------------------------------------------------------------


def test_rfc8448_server_hello_record_fields() -> None:
    # Given the RFC 8448 §3 ServerHello record
    data = load_hex("rfc8448_simple_server_hello")

    # When it is framed
    (only,) = records_of(data)

    # Then every field is the RFC's
    assert only.content_type == 22
    assert only.legacy_version == 0x0303
    assert only.payload == data[5:]
    assert len(only.payload) == 90
    assert only.offset == 0
    assert only.wire_bytes == 95


@pytest.mark.parametrize("name", VECTORS)
def test_vector_record_layout(name: str) -> None:
    # Given a recorded flight
    data = load_hex(name)

    # When it is framed in one chunk
    records = records_of(data)

    # Then each record has the offset, type and length the annotated file shows
    layout = tuple((r.offset, r.content_type, len(r.payload)) for r in records)
    assert layout == RECORD_LAYOUT[name]
    assert all(r.legacy_version == 0x0303 for r in records)
    assert sum(r.wire_bytes for r in records) == len(data)


@pytest.mark.parametrize("name", VECTORS)
def test_byte_by_byte_gives_need_data_until_each_record_ends(name: str) -> None:
    # Given a recorded flight and the offsets where its records end
    data = load_hex(name)
    ends = {offset + 5 + length for offset, _, length in RECORD_LAYOUT[name]}
    buffer = RecordBuffer()
    records: list[Record] = []

    # When it is fed one byte at a time
    for index in range(len(data)):
        buffer.receive_data(data[index : index + 1])
        completed = drain(buffer)

        # Then a record appears exactly when its last byte arrives, NEED_DATA otherwise
        assert bool(completed) == (index + 1 in ends)
        assert buffer.stream_offset + buffer.buffered_bytes == index + 1
        records.extend(completed)

    # And the records equal those framed from one chunk
    assert records == records_of(data)


@pytest.mark.parametrize("name", VECTORS)
def test_every_strict_prefix_is_need_data(name: str) -> None:
    # Given the first record of a flight
    data = load_hex(name)
    first_end = 5 + RECORD_LAYOUT[name][0][2]
    for cut in range(first_end):
        # When only a strict prefix of it has arrived
        buffer = RecordBuffer()
        buffer.receive_data(data[:cut])

        # Then there is no record yet and no error
        assert buffer.next_record() is NEED_DATA
        assert buffer.buffered_bytes == cut


def test_record_built_with_writer_round_trips() -> None:
    # Given records we build
    payloads = [(22, b"\x0e\x00\x00\x00"), (20, b"\x01"), (23, b""), (21, b"\x02\x28")]
    stream = b"".join(record(content_type, payload) for content_type, payload in payloads)

    # When they are framed
    records = records_of(stream)

    # Then types, payloads and offsets come back
    assert [(r.content_type, r.payload) for r in records] == payloads
    assert [r.offset for r in records] == [0, 9, 15, 20]


def test_largest_allowed_record_is_accepted() -> None:
    # Given a record of exactly 2^14 + 2048 payload bytes (RFC 5246 §6.2.3)
    data = record(23, bytes(MAX_RECORD_PAYLOAD_BYTES))

    # When it is framed
    (only,) = records_of(data)

    # Then it is accepted whole
    assert len(only.payload) == MAX_RECORD_PAYLOAD_BYTES


def test_oversize_record_length_points_at_the_length_field() -> None:
    # Given a good record, then a header declaring one byte more than the cap
    first = load_hex("rfc8448_simple_server_hello")
    header = bytes([23, 3, 3]) + (MAX_RECORD_PAYLOAD_BYTES + 1).to_bytes(2, "big")
    buffer = RecordBuffer()
    buffer.receive_data(first + header)

    # When the second record is framed
    assert buffer.next_record() != NEED_DATA
    with pytest.raises(DecodeError) as caught:
        buffer.next_record()

    # Then the error names the length field of the second record: 95 + 3
    assert caught.value.offset == 98


def test_record_length_too_short_makes_the_stray_byte_a_bad_header() -> None:
    # Given the RFC record with its length lowered by one (0x5a -> 0x59)
    data = bytearray(load_hex("rfc8448_simple_server_hello"))
    data[4] = 0x59
    buffer = RecordBuffer()
    buffer.receive_data(bytes(data))

    # When it is framed
    first = buffer.next_record()

    # Then the short record frames, and its last byte (0x04) is rejected as a record type
    assert isinstance(first, Record)
    assert len(first.payload) == 89
    with pytest.raises(DecodeError) as caught:
        buffer.next_record()
    assert caught.value.offset == 94


def test_record_length_too_long_waits_for_more() -> None:
    # Given the RFC record with its length raised by one (0x5a -> 0x5b)
    data = bytearray(load_hex("rfc8448_simple_server_hello"))
    data[4] = 0x5B
    buffer = RecordBuffer()
    buffer.receive_data(bytes(data))

    # When it is framed
    # Then it is incomplete, not an error
    assert buffer.next_record() is NEED_DATA


@pytest.mark.parametrize(
    ("prefix", "offset"),
    [
        (b"H", 0),  # "HTTP/1.1 ..." answered to a ClientHello
        (b"\x80", 0),  # SSLv2-style header
        (b"\x16\x02", 1),  # not a 3.x version
        (b"\x16\x04\x00\x00\x05", 1),
        (b"\x13\x03\x03\x00\x01", 0),  # content type 19 is unassigned
    ],
)
def test_not_tls_is_rejected_as_early_as_possible(prefix: bytes, offset: int) -> None:
    # Given a good record already framed, then bytes that cannot start a TLS record
    good = load_hex("openssl_handshake_failure_alert")
    buffer = RecordBuffer()
    buffer.receive_data(good)
    assert isinstance(buffer.next_record(), Record)

    # When only the offending prefix has arrived
    buffer.receive_data(prefix)

    # Then it is rejected at once, with its absolute offset (7 bytes came before it)
    with pytest.raises(DecodeError) as caught:
        buffer.next_record()
    assert caught.value.offset == len(good) + offset


@FUZZ
@given(st.binary(max_size=600), st.integers(1, 64))
def test_random_bytes_raise_nothing_but_decode_error(data: bytes, chunk: int) -> None:
    # Given arbitrary bytes fed in arbitrary chunks
    buffer = RecordBuffer()

    def frame() -> None:
        for start in range(0, len(data), chunk):
            buffer.receive_data(data[start : start + chunk])
            # When records are framed
            drain(buffer)

    error = failure_of(frame)

    # Then the only failure is DecodeError inside the stream
    if error is not None:
        assert error.offset is not None
        assert 0 <= error.offset < len(data)


# --- HandshakeReassembler ------------------------------------------------------------------------


def test_rfc8448_server_hello_message_fields() -> None:
    # Given the RFC 8448 ServerHello record
    (only,) = records_of(load_hex("rfc8448_simple_server_hello"))
    reassembler = HandshakeReassembler()

    # When it goes through the reassembler
    reassembler.receive_record(only)
    (message,) = drain_messages(reassembler)

    # Then the message is the RFC's ServerHello, starting right after the record header
    assert message.msg_type == 2
    assert len(message.body) == 86
    assert message.offset == 5
    assert message.wire_bytes == 90
    assert message.encode() == only.payload
    assert not reassembler.has_partial_message


def test_tls12_flight_messages_have_exact_offsets() -> None:
    # Given the captured TLS 1.2 flight's cleartext handshake records (before the CCS)
    records = [r for r in records_of(load_hex("openssl_tls12_flight")) if r.offset < 1499]
    reassembler = HandshakeReassembler()

    # When they go through the reassembler
    messages: list[HandshakeMessage] = []
    for item in records:
        reassembler.receive_record(item)
        messages.extend(drain_messages(reassembler))

    # Then ServerHello, Certificate, ServerKeyExchange, ServerHelloDone come out in place
    assert tuple((m.offset, m.msg_type, len(m.body)) for m in messages) == TLS12_MESSAGES


def test_message_split_over_records_byte_by_byte() -> None:
    # Given the RFC ServerHello message cut into one-byte handshake records
    message = load_hex("rfc8448_simple_server_hello")[5:]
    stream = b"".join(record(22, message[i : i + 1]) for i in range(len(message)))
    buffer = RecordBuffer()
    buffer.receive_data(stream)
    reassembler = HandshakeReassembler()

    # When each record arrives
    results: list[HandshakeMessage] = []
    for index, item in enumerate(drain(buffer)):
        reassembler.receive_record(item)
        got = drain_messages(reassembler)

        # Then every strict prefix is NEED_DATA, and the last byte completes the message
        assert bool(got) == (index == len(message) - 1)
        results.extend(got)

    # And it equals the unfragmented message, starting at the first record's payload
    assert [(m.msg_type, m.body, m.offset) for m in results] == [(2, message[4:], 5)]


def test_messages_after_a_fragmented_message_keep_exact_offsets() -> None:
    # Given a Certificate split over two records, with a ServerHelloDone after it in the second
    certificate = handshake(11, bytes(20))
    done = handshake(14, b"")
    stream = record(22, certificate[:10]) + record(22, certificate[10:] + done)
    reassembler = HandshakeReassembler()

    # When both records go through the reassembler
    for item in records_of(stream):
        reassembler.receive_record(item)
    first, second = drain_messages(reassembler)

    # Then the second message's offset is where its header really is: after the second
    # record's header, 5 + 10 + 5 + 14 = 34, not 5 + 24 as if records were contiguous
    assert first.offset == 5
    assert second.offset == stream.index(done, 20) == 34


def test_largest_allowed_handshake_message_is_accepted() -> None:
    # Given a handshake header declaring exactly 2^18 bytes
    header = bytes([11]) + MAX_HANDSHAKE_MESSAGE_BYTES.to_bytes(3, "big")
    reassembler = HandshakeReassembler()

    # When only the header has arrived
    reassembler.receive_record(Record(22, 0x0303, header, offset=0))

    # Then the reassembler waits for the body
    assert reassembler.next_message() is NEED_DATA
    assert reassembler.has_partial_message


def test_oversize_handshake_message_points_at_its_length_field() -> None:
    # Given a good record, then a handshake header declaring 2^18 + 1 bytes
    header = bytes([11]) + (MAX_HANDSHAKE_MESSAGE_BYTES + 1).to_bytes(3, "big")
    stream = load_hex("rfc8448_simple_server_hello") + record(22, header)
    reassembler = HandshakeReassembler()
    first, second = records_of(stream)
    reassembler.receive_record(first)
    drain_messages(reassembler)

    # When the oversize header arrives
    reassembler.receive_record(second)
    with pytest.raises(DecodeError) as caught:
        reassembler.next_message()

    # Then the offset is its length field: 95 + 5 (record header) + 1 (msg_type)
    assert caught.value.offset == 101


def test_trailing_bytes_after_a_message_stay_a_partial_message() -> None:
    # Given a record with a whole ServerHelloDone and two stray bytes
    reassembler = HandshakeReassembler()
    reassembler.receive_record(Record(22, 0x0303, handshake(14, b"") + b"\x0e\x00", offset=0))

    # When messages are drained
    messages = drain_messages(reassembler)

    # Then the message comes out and the stray bytes wait as a partial message
    assert [(m.msg_type, m.offset) for m in messages] == [(14, 5)]
    assert reassembler.has_partial_message


def test_non_handshake_record_is_refused() -> None:
    # Given the alert record
    (alert,) = records_of(load_hex("openssl_handshake_failure_alert"))

    # When it is fed to the handshake reassembler
    # Then RemoteProtocolError names the record's offset
    with pytest.raises(RemoteProtocolError) as caught:
        HandshakeReassembler().receive_record(alert)
    assert caught.value.offset == 0


@FUZZ
@given(st.lists(st.binary(max_size=80), max_size=8))
def test_random_handshake_payloads_raise_nothing_but_decode_error(payloads: list[bytes]) -> None:
    # Given arbitrary handshake record payloads
    reassembler = HandshakeReassembler()
    stream = b"".join(record(22, payload) for payload in payloads)
    messages: list[HandshakeMessage] = []

    def reassemble() -> None:
        # When they are reassembled
        for item in records_of(stream):
            reassembler.receive_record(item)
            messages.extend(drain_messages(reassembler))

    error = failure_of(reassemble)

    # Then any message starts at its own type byte in the stream
    for message in messages:
        assert stream[message.offset] == message.msg_type
    # And the only failure is DecodeError inside the stream
    if error is not None:
        assert error.offset is not None
        assert 0 <= error.offset < len(stream)


@FUZZ
@given(
    st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=40)), min_size=1, max_size=6),
    st.lists(st.integers(1, 30), min_size=1, max_size=40),
)
def test_any_fragmentation_gives_the_same_messages_at_exact_offsets(
    messages: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    # Given handshake messages cut into records of arbitrary (non-empty) sizes
    joined = b"".join(handshake(msg_type, body) for msg_type, body in messages)
    fragments: list[bytes] = []
    position = 0
    for size in cuts * (len(joined) // sum(cuts) + 1):
        if position >= len(joined):
            break
        fragments.append(joined[position : position + size])
        position += size
    stream = b"".join(record(22, fragment) for fragment in fragments)
    reassembler = HandshakeReassembler()

    # When they are reassembled
    got: list[HandshakeMessage] = []
    for item in records_of(stream):
        reassembler.receive_record(item)
        got.extend(drain_messages(reassembler))

    # Then the messages come back unchanged, each at the stream offset of its first byte
    assert [(m.msg_type, m.body) for m in got] == messages
    for message in got:
        assert stream[message.offset] == message.msg_type
        assert message.offset == _stream_offset_of(fragments, _joined_index(messages, message, got))
    assert not reassembler.has_partial_message


def _joined_index(
    messages: list[tuple[int, bytes]], message: HandshakeMessage, got: list[HandshakeMessage]
) -> int:
    index = got.index(message)
    return sum(4 + len(body) for _, body in messages[:index])


def _stream_offset_of(fragments: list[bytes], joined_index: int) -> int:
    consumed = 0
    for number, fragment in enumerate(fragments):
        if joined_index < consumed + len(fragment):
            return 5 * (number + 1) + joined_index
        consumed += len(fragment)
    raise AssertionError("index past the end")
