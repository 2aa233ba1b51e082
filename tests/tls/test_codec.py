"""Reader and Writer: exact fields, absolute offsets on every failure, and Writer round trips."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from httpsaudit.errors import DecodeError, LocalProtocolError
from httpsaudit.tls.codec import Reader, Writer
from tests.vectors import load_hex

FUZZ = settings(max_examples=200, deadline=None)


def failure_of(call: Callable[[], object]) -> DecodeError | None:
    """The DecodeError ``call`` raised, or None; any other exception propagates (and fails)."""
    try:
        call()
    except DecodeError as error:
        return error
    return None


def test_reads_the_rfc8448_server_hello_record_field_by_field() -> None:
    # Given the RFC 8448 §3 ServerHello record
    data = load_hex("rfc8448_simple_server_hello")
    reader = Reader(data)

    # When each field is read in presentation-language order
    content_type = reader.uint8()
    record_version = reader.uint16()
    fragment = reader.sub_reader(2, "fragment", maximum=2**14)
    msg_type = fragment.uint8()
    body = fragment.sub_reader(3, "body", maximum=2**24 - 1)
    legacy_version = body.uint16()
    random = body.raw(32)
    session_id = body.opaque(1, "session id", maximum=32)
    cipher_suite = body.uint16()
    compression = body.uint8()
    extensions = body.sub_reader(2, "extensions", maximum=2**16 - 1)
    first_type = extensions.uint16()
    first_data = extensions.opaque(2, "extension", maximum=2**16 - 1)

    # Then every value is the RFC's, and offsets stay absolute inside nested vectors
    assert (content_type, record_version) == (22, 0x0303)
    assert fragment.base == 5
    assert msg_type == 2
    assert body.base == 9
    assert legacy_version == 0x0303
    assert random == bytes.fromhex(
        "a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928"
    )
    assert session_id == b""
    assert (cipher_suite, compression) == (0x1301, 0)
    assert extensions.base == 9 + 40
    assert first_type == 0x0033
    assert first_data[:4] == bytes.fromhex("001d0020")
    assert extensions.offset == 9 + 40 + 40
    assert extensions.uint16() == 0x002B
    assert extensions.opaque(2, "supported_versions", maximum=2) == b"\x03\x04"
    extensions.expect_end("extensions")
    body.expect_end("ServerHello")
    fragment.expect_end("fragment")
    reader.expect_end("record")
    assert reader.offset == len(data) == 95


def test_integer_reads_are_big_endian_and_advance_offset() -> None:
    # Given ten bytes seen at stream offset 100
    reader = Reader(bytes(range(1, 11)), base=100)

    # When integers of each width are read
    values = (reader.uint8(), reader.uint16(), reader.uint24(), reader.uint32())

    # Then they are big-endian, and offset/remaining track the cursor
    assert values == (0x01, 0x0203, 0x040506, 0x0708090A)
    assert reader.offset == 110
    assert reader.remaining == 0


@pytest.mark.parametrize(
    ("read", "size"),
    [
        (Reader.uint8, 1),
        (Reader.uint16, 2),
        (Reader.uint24, 3),
        (Reader.uint32, 4),
    ],
)
def test_every_strict_prefix_of_an_integer_fails_at_its_first_byte(
    read: Callable[[Reader], int], size: int
) -> None:
    for cut in range(size):
        # Given a field cut short at stream offset 40 + 1
        reader = Reader(b"\xaa" + bytes(cut), base=40)
        reader.uint8()

        # When the integer is read
        with pytest.raises(DecodeError) as caught:
            read(reader)

        # Then the error points at the integer's first byte, and nothing was consumed
        assert caught.value.offset == 41
        assert reader.offset == 41


def test_opaque_length_outside_bounds_points_at_the_length_prefix() -> None:
    # Given a uint8-length vector declaring 33 bytes where at most 32 are allowed
    reader = Reader(b"\x00\x00" + b"\x21" + bytes(33), base=7)
    reader.uint16()

    # When it is read
    with pytest.raises(DecodeError) as caught:
        reader.opaque(1, "session id", maximum=32)

    # Then the offset is the length byte's
    assert caught.value.offset == 9
    assert "33" in str(caught.value)


def test_opaque_below_minimum_points_at_the_length_prefix() -> None:
    # Given an empty vector where at least one byte is required
    reader = Reader(b"\x00\x00", base=3)

    # When it is read
    with pytest.raises(DecodeError) as caught:
        reader.opaque(2, "key_exchange", minimum=1, maximum=2**16 - 1)

    # Then the offset is the length prefix's
    assert caught.value.offset == 3


def test_opaque_body_cut_short_points_at_the_body() -> None:
    # Given a vector declaring 5 bytes but holding 4
    reader = Reader(b"\x00\x05abcd", base=1000)

    # When it is read
    with pytest.raises(DecodeError) as caught:
        reader.opaque(2, "vector", maximum=255)

    # Then the offset is the first body byte, right after the 2-byte prefix
    assert caught.value.offset == 1002


def test_opaque_length_prefix_cut_short_points_at_the_prefix() -> None:
    # Given one byte of a 3-byte length prefix
    reader = Reader(b"\x00", base=12)

    # When the vector is read
    with pytest.raises(DecodeError) as caught:
        reader.opaque(3, "certificate", maximum=2**24 - 1)

    # Then the offset is where the prefix starts
    assert caught.value.offset == 12


def test_sub_reader_errors_carry_absolute_offsets() -> None:
    # Given an outer vector at stream offset 50 holding a 2-byte integer and a truncated one
    reader = Reader(b"\xff" + b"\x00\x03" + b"\x00\x01\x02", base=50)
    reader.uint8()
    inner = reader.sub_reader(2, "inner", maximum=16)

    # When the inner reader over-reads
    assert inner.uint16() == 1
    with pytest.raises(DecodeError) as caught:
        inner.uint16()

    # Then the offset is absolute in the whole stream, not relative to the vector
    assert inner.base == 53
    assert caught.value.offset == 55


def test_expect_end_points_at_the_first_trailing_byte() -> None:
    # Given a two-byte alert followed by a stray byte, at stream offset 5
    reader = Reader(b"\x02\x28\x00", base=5)
    reader.uint16()

    # When the end is expected
    with pytest.raises(DecodeError) as caught:
        reader.expect_end("alert")

    # Then the offset is the trailing byte's, and the message says how many
    assert caught.value.offset == 7
    assert "1 unexpected trailing" in str(caught.value)


def test_rest_takes_everything_left() -> None:
    # Given a reader part-way through
    reader = Reader(b"\x01\x02\x03", base=9)
    reader.uint8()

    # When the rest is taken
    # Then nothing remains
    assert reader.rest() == b"\x02\x03"
    assert reader.remaining == 0
    reader.expect_end("all")


def test_writer_builds_the_rfc8448_server_hello_record() -> None:
    # Given the RFC 8448 §3 ServerHello fields
    key_exchange = bytes.fromhex("c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f")
    random = bytes.fromhex("a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928")
    key_share = Writer().uint16(0x001D).opaque(2, key_exchange).getvalue()
    extensions = (
        Writer()
        .uint16(0x0033)
        .opaque(2, key_share)
        .uint16(0x002B)
        .opaque(2, b"\x03\x04")
        .getvalue()
    )
    body = (
        Writer()
        .uint16(0x0303)
        .raw(random)
        .opaque(1, b"")
        .uint16(0x1301)
        .uint8(0)
        .opaque(2, extensions)
        .getvalue()
    )

    # When they are written as a handshake message inside a record
    message = Writer().uint8(2).opaque(3, body).getvalue()
    record = Writer().uint8(22).uint16(0x0303).opaque(2, message).getvalue()

    # Then the bytes are exactly the RFC's
    assert record == load_hex("rfc8448_simple_server_hello")


@pytest.mark.parametrize(
    ("method", "value"),
    [("uint8", 256), ("uint16", 1 << 16), ("uint24", 1 << 24), ("uint32", 1 << 32), ("uint8", -1)],
)
def test_writer_refuses_integers_that_do_not_fit(method: str, value: int) -> None:
    # Given a value outside the field's range
    writer = Writer()

    # When it is written
    # Then it is our bug, not the peer's: LocalProtocolError
    with pytest.raises(LocalProtocolError):
        getattr(writer, method)(value)


def test_writer_refuses_a_vector_longer_than_its_length_prefix() -> None:
    # Given 256 bytes for a uint8-length vector
    # When it is written
    # Then LocalProtocolError, and nothing partial was kept
    writer = Writer()
    with pytest.raises(LocalProtocolError):
        writer.opaque(1, bytes(256), "session id")
    assert writer.getvalue() == b""


@FUZZ
@given(
    st.integers(0, 0xFF),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFFFF),
    st.integers(0, 0xFFFFFFFF),
    st.binary(max_size=300),
    st.integers(0, 1 << 20),
)
def test_writer_then_reader_round_trips(
    u8: int, u16: int, u24: int, u32: int, blob: bytes, base: int
) -> None:
    # Given any values that fit their fields
    data = Writer().uint8(u8).uint16(u16).uint24(u24).uint32(u32).opaque(2, blob).getvalue()

    # When they are read back
    reader = Reader(data, base=base)
    values = (reader.uint8(), reader.uint16(), reader.uint24(), reader.uint32())
    vector = reader.opaque(2, "blob", maximum=2**16 - 1)

    # Then they are unchanged and the reader ends exactly at the end
    assert values == (u8, u16, u24, u32)
    assert vector == blob
    reader.expect_end("round trip")
    assert reader.offset == base + len(data)


@FUZZ
@given(st.binary(max_size=64), st.integers(0, 1 << 20))
def test_random_bytes_raise_nothing_but_decode_error(data: bytes, base: int) -> None:
    # Given arbitrary bytes
    reader = Reader(data, base=base)

    # When a typical sequence of vector reads runs over them
    def reads() -> None:
        reader.uint8()
        inner = reader.sub_reader(2, "inner", maximum=40)
        inner.opaque(1, "id", minimum=1, maximum=32)
        reader.uint24()
        reader.expect_end("fuzz")

    error = failure_of(reads)

    # Then only DecodeError escapes, pointing inside (or just past) the input
    if error is not None:
        assert error.offset is not None
        assert base <= error.offset <= base + len(data)


def test_uint16s_writes_the_same_bytes_as_one_uint16_at_a_time() -> None:
    # Given a suite list as a ClientHello carries it
    values = (0x1301, 0x1302, 0xC02B, 0x0000, 0xFFFF)
    one_by_one = Writer()
    for value in values:
        one_by_one.uint16(value)
    # When written in one call, then identical; and an empty list writes nothing
    assert Writer().uint16s(values).getvalue() == one_by_one.getvalue()
    assert Writer().uint16s(()).getvalue() == b""


def test_uint16s_refuses_a_value_that_does_not_fit_and_names_it() -> None:
    with pytest.raises(LocalProtocolError, match="cipher suite 65536 does not fit in 2 bytes"):
        Writer().uint16s((1, 65536, 2), "cipher suite")
    with pytest.raises(LocalProtocolError, match="-1 does not fit"):
        Writer().uint16s((-1,))
