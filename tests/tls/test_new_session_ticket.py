"""NewSessionTicket parsers: the RFC 8448 ticket exactly, built tickets, offsets, fuzzing.

TLS 1.3 (RFC 8446 §4.6.1) is tested on the RFC 8448 §3 ticket; TLS 1.2 (RFC 5077 §3.3) has no
published trace, so its parser is tested on tickets built with our Writer.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from httpsaudit.errors import DecodeError
from httpsaudit.tls.codec import Reader, Writer
from httpsaudit.tls.codes import ExtensionType
from httpsaudit.tls.messages import (
    MAX_TICKET_LIFETIME_S,
    Extension,
    NewSessionTicket12,
    NewSessionTicket13,
    parse_new_session_ticket_tls12,
    parse_new_session_ticket_tls13,
)
from httpsaudit.tls.tickets import read_post_handshake_tickets
from tests.vectors import load_hex

FUZZ = settings(max_examples=200, deadline=None)
# The vector is a whole message: its 4-byte handshake header, then the body.
BODY_OFFSET = 4
RFC_TICKET_PREFIX = bytes.fromhex("2c035d829359ee5ff7af4ec900000000")
RFC_AGE_ADD = 0xFAD6AAC5
# RFC 8448 §3 ticket body: (start, end) of each field a parser reads in one piece.
RFC_FIELDS = [
    (0, 4),  # ticket_lifetime
    (4, 8),  # ticket_age_add
    (8, 9),  # ticket_nonce length
    (9, 11),  # ticket_nonce (00 00)
    (11, 13),  # ticket length
    (13, 191),  # ticket (178 bytes)
    (191, 193),  # extensions length
    (193, 201),  # extensions, read as one vector
]
# The §4 ClientHello's PskIdentity.obfuscated_ticket_age (RFC 8448 §4).
RFC_OBFUSCATED_TICKET_AGE = 0xFAD6AACB


def failure_of(call: Callable[[], object]) -> DecodeError | None:
    """The DecodeError ``call`` raised, or None; any other exception propagates (and fails)."""
    try:
        call()
    except DecodeError as error:
        return error
    return None


def rfc_body() -> bytes:
    message = load_hex("rfc8448_simple_new_session_ticket")
    assert message[0] == 4  # new_session_ticket
    assert int.from_bytes(message[1:4], "big") == len(message) - BODY_OFFSET
    return message[BODY_OFFSET:]


def build_tls13(
    *,
    lifetime_s: int = 30,
    age_add: int = RFC_AGE_ADD,
    nonce: bytes = b"\x00\x00",
    ticket: bytes = b"T" * 16,
    extensions: list[tuple[int, bytes]] | None = None,
) -> bytes:
    """A NewSessionTicket body (RFC 8446 §4.6.1), built with our Writer."""
    block = Writer()
    for extension_type, data in extensions or []:
        block.uint16(extension_type).opaque(2, data)
    return (
        Writer()
        .uint32(lifetime_s)
        .uint32(age_add)
        .opaque(1, nonce)
        .opaque(2, ticket)
        .opaque(2, block.getvalue())
        .getvalue()
    )


def build_tls12(lifetime_hint_s: int, ticket: bytes) -> bytes:
    """A NewSessionTicket body (RFC 5077 §3.3), built with our Writer."""
    return Writer().uint32(lifetime_hint_s).opaque(2, ticket).getvalue()


# --- TLS 1.3 -------------------------------------------------------------------------------------


def test_rfc8448_ticket_fields() -> None:
    # Given the RFC 8448 §3 NewSessionTicket body at its place in the message
    reader = Reader(rfc_body(), base=BODY_OFFSET)

    # When it is parsed
    ticket = parse_new_session_ticket_tls13(reader)

    # Then every field is the RFC's; its early_data extension allows 1024 bytes of 0-RTT data
    assert ticket.lifetime_s == 30
    assert ticket.age_add == RFC_AGE_ADD
    assert ticket.nonce == b"\x00\x00"
    assert len(ticket.ticket) == 178
    assert ticket.ticket.startswith(RFC_TICKET_PREFIX)
    assert ticket.max_early_data_size == 1024
    assert ticket.extensions == (Extension(ExtensionType.EARLY_DATA, b"\x00\x00\x04\x00"),)
    assert ticket.extension(ExtensionType.EARLY_DATA) == b"\x00\x00\x04\x00"
    assert ticket.extension(ExtensionType.SERVER_NAME) is None
    assert reader.remaining == 0


def test_rfc8448_resumption_offers_this_ticket() -> None:
    # Given the §3 ticket and the §4 ClientHello's pre_shared_key identity
    ticket = parse_new_session_ticket_tls13(Reader(rfc_body()))
    client_hello = load_hex("rfc8448_resumed_client_hello")
    identity_at = client_hello.index(ticket.ticket)

    # Then the identity is the ticket, and its obfuscated age is age_add + 6 ms (RFC 8446 §4.2.11.1)
    age_field = client_hello[identity_at + len(ticket.ticket) :][:4]
    obfuscated_age = int.from_bytes(age_field, "big")
    assert obfuscated_age == RFC_OBFUSCATED_TICKET_AGE
    assert (obfuscated_age - ticket.age_add) % 2**32 == 6


def test_ticket_built_with_writer_round_trips() -> None:
    # Given the RFC's fields written by our Writer
    built = build_tls13(
        ticket=rfc_body()[13:191],
        extensions=[(ExtensionType.EARLY_DATA, (1024).to_bytes(4, "big"))],
    )

    # Then the bytes are the RFC's
    assert built == rfc_body()


def test_ticket_without_early_data_has_no_size_and_keeps_unknown_extensions() -> None:
    # Given a ticket with a GREASE extension (RFC 8701) and an unassigned one, no early_data
    body = build_tls13(extensions=[(0x0A0A, b""), (0xFFEE, b"\x01\x02")])

    # When parsed
    ticket = parse_new_session_ticket_tls13(Reader(body))

    # Then 0-RTT is not offered and the unknown extensions survive as numbers
    assert ticket.max_early_data_size is None
    assert ticket.extensions == (Extension(0x0A0A, b""), Extension(0xFFEE, b"\x01\x02"))


def test_ticket_with_empty_nonce_and_empty_extensions() -> None:
    # Given the smallest valid ticket: no nonce, a one-byte ticket, an empty extensions block
    body = build_tls13(lifetime_s=0, age_add=0, nonce=b"", ticket=b"\x01")

    # Then it parses
    assert parse_new_session_ticket_tls13(Reader(body)) == NewSessionTicket13(
        lifetime_s=0, age_add=0, nonce=b"", ticket=b"\x01", max_early_data_size=None, extensions=()
    )


def test_lifetime_of_seven_days_is_allowed() -> None:
    # Given a lifetime of exactly 604800 seconds
    body = build_tls13(lifetime_s=MAX_TICKET_LIFETIME_S)

    # Then it parses
    assert parse_new_session_ticket_tls13(Reader(body)).lifetime_s == 604800


@pytest.mark.parametrize("lifetime_s", [MAX_TICKET_LIFETIME_S + 1, 2**32 - 1])
def test_lifetime_over_seven_days_points_at_the_lifetime(lifetime_s: int) -> None:
    # Given a lifetime above the RFC 8446 §4.6.1 cap, at stream offset 4
    body = build_tls13(lifetime_s=lifetime_s)

    # When parsed
    with pytest.raises(DecodeError, match="exceeds 604800") as caught:
        parse_new_session_ticket_tls13(Reader(body, base=BODY_OFFSET))

    # Then it is a protocol error at the lifetime field
    assert caught.value.offset == BODY_OFFSET


def test_every_strict_prefix_fails_at_the_cut_field() -> None:
    # Given the RFC ticket body
    whole = rfc_body()
    for cut in range(len(whole)):
        # When only the first `cut` bytes are there
        reader = Reader(whole[:cut], base=BODY_OFFSET)
        with pytest.raises(DecodeError) as caught:
            parse_new_session_ticket_tls13(reader)

        # Then the error points at the start of the field the cut fell in
        start = next(start for start, end in RFC_FIELDS if end > cut)
        assert caught.value.offset == BODY_OFFSET + start, cut


def test_trailing_byte_after_ticket() -> None:
    # Given the RFC body with one stray byte after it
    whole = rfc_body() + b"\x00"

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_new_session_ticket_tls13(Reader(whole, base=BODY_OFFSET))

    # Then the stray byte's offset is reported: 4 + 201
    assert caught.value.offset == 205


def test_empty_ticket_points_at_its_length() -> None:
    # Given a zero-length ticket (RFC 8446 §4.6.1: ticket<1..2^16-1>)
    body = build_tls13(ticket=b"")

    # When parsed at offset 4
    with pytest.raises(DecodeError) as caught:
        parse_new_session_ticket_tls13(Reader(body, base=BODY_OFFSET))

    # Then the offset is the ticket length: 4 + 4 + 4 + 3 (nonce 00 00)
    assert caught.value.offset == 15


def test_ticket_length_too_long_points_at_the_ticket() -> None:
    # Given the RFC body whose ticket length says 179 instead of 178
    whole = bytearray(rfc_body())
    whole[11:13] = (179).to_bytes(2, "big")

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_new_session_ticket_tls13(Reader(bytes(whole), base=BODY_OFFSET))

    # Then the extensions block reads one byte late and comes up short: its data is cut at 4 + 194
    assert caught.value.offset == BODY_OFFSET + 194


def test_extensions_length_too_long_points_at_the_block() -> None:
    # Given the RFC body whose extensions length says 9 instead of 8
    whole = bytearray(rfc_body())
    whole[191:193] = (9).to_bytes(2, "big")

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_new_session_ticket_tls13(Reader(bytes(whole), base=BODY_OFFSET))

    # Then the offset is the start of the extension block: 4 + 193
    assert caught.value.offset == BODY_OFFSET + 193


@pytest.mark.parametrize(("data", "offset"), [(b"\x00\x00\x04", 0), (b"\x00\x00\x04\x00\x00", 4)])
def test_bad_early_data_points_inside_the_extension(data: bytes, offset: int) -> None:
    # Given an early_data extension of 3 or 5 bytes instead of a uint32 (RFC 8446 §4.2.10)
    body = build_tls13(extensions=[(0xFFEE, b"ab"), (ExtensionType.EARLY_DATA, data)])

    # When parsed at stream offset 1000
    with pytest.raises(DecodeError) as caught:
        parse_new_session_ticket_tls13(Reader(body, base=1000))

    # Then the offset is absolute, inside early_data's data: 4+4+3+2+16 = 29 to the block,
    # 2 (length) + 6 (first extension) + 4 (early_data header) into it
    assert caught.value.offset == 1000 + 29 + 12 + offset


def test_duplicate_early_data_points_at_the_second() -> None:
    # Given two early_data extensions (RFC 8446 §4.2: at most one of each type)
    early_data = (ExtensionType.EARLY_DATA, b"\x00\x00\x04\x00")
    body = build_tls13(extensions=[early_data, early_data])

    # When parsed
    with pytest.raises(DecodeError, match="duplicate") as caught:
        parse_new_session_ticket_tls13(Reader(body))

    # Then the offset is the second extension's type: 29 + 2 + 8
    assert caught.value.offset == 39


def test_nonce_longer_than_the_message_points_at_the_nonce() -> None:
    # Given a nonce length of 255 with only 2 nonce bytes behind it
    whole = bytearray(rfc_body())
    whole[8] = 255

    # When parsed
    # Then the nonce cannot be read past the end (an oversized length is a truncation)
    error = failure_of(lambda: parse_new_session_ticket_tls13(Reader(bytes(whole), base=4)))
    assert error is not None
    assert error.offset == BODY_OFFSET + 9


@FUZZ
@given(
    st.integers(0, MAX_TICKET_LIFETIME_S),
    st.integers(0, 2**32 - 1),
    st.binary(max_size=255),
    st.binary(min_size=1, max_size=300),
    st.none() | st.integers(0, 2**32 - 1),
    st.dictionaries(
        st.integers(0, 0xFFFF).filter(lambda t: t != ExtensionType.EARLY_DATA),
        st.binary(max_size=20),
        max_size=5,
    ),
)
def test_tls13_round_trip_property(
    lifetime_s: int,
    age_add: int,
    nonce: bytes,
    ticket: bytes,
    max_early_data_size: int | None,
    others: dict[int, bytes],
) -> None:
    # Given any valid fields, unknown extensions included
    extensions = list(others.items())
    if max_early_data_size is not None:
        extensions.append((ExtensionType.EARLY_DATA, max_early_data_size.to_bytes(4, "big")))
    body = build_tls13(
        lifetime_s=lifetime_s, age_add=age_add, nonce=nonce, ticket=ticket, extensions=extensions
    )

    # When the bytes we built are parsed
    parsed = parse_new_session_ticket_tls13(Reader(body))

    # Then every field comes back
    assert (parsed.lifetime_s, parsed.age_add, parsed.nonce, parsed.ticket) == (
        lifetime_s,
        age_add,
        nonce,
        ticket,
    )
    assert parsed.max_early_data_size == max_early_data_size
    assert [(e.extension_type, e.data) for e in parsed.extensions] == extensions


@FUZZ
@given(st.binary(max_size=300))
def test_tls13_random_bytes_raise_only_decode_error(data: bytes) -> None:
    # Given arbitrary bytes
    # When parsed as a TLS 1.3 NewSessionTicket body
    # Then it parses, or fails with DecodeError inside (or just past) the input
    error = failure_of(lambda: parse_new_session_ticket_tls13(Reader(data, base=4)))
    if error is not None:
        assert error.offset is not None
        assert 4 <= error.offset <= 4 + len(data)


@FUZZ
@given(st.integers(0, 201), st.integers(0, 255))
def test_tls13_with_one_byte_changed_raises_only_decode_error(position: int, value: int) -> None:
    # Given the RFC body (201 bytes) with one byte replaced, or cut after it
    whole = bytearray(rfc_body())
    if position < len(whole):
        whole[position] = value
    else:
        del whole[-1]

    # When parsed
    # Then it parses, or fails with DecodeError inside (or just past) the input
    error = failure_of(lambda: parse_new_session_ticket_tls13(Reader(bytes(whole), base=4)))
    if error is not None:
        assert error.offset is not None
        assert 4 <= error.offset <= 4 + len(whole)


# --- TLS 1.2 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifetime_hint_s", "ticket"),
    [(7200, b"\xaa" * 160), (0, b"T"), (2**32 - 1, b"x" * 1000), (300, b"")],
    ids=["typical", "no-hint", "huge-hint", "empty-ticket"],
)
def test_tls12_ticket_built_with_writer_round_trips(lifetime_hint_s: int, ticket: bytes) -> None:
    # Given a TLS 1.2 ticket; a hint of 0 means "no advice", an empty ticket a withdrawn offer
    body = build_tls12(lifetime_hint_s, ticket)

    # When parsed
    parsed = parse_new_session_ticket_tls12(Reader(body))

    # Then the fields come back; RFC 5077 puts no cap on the hint
    assert parsed == NewSessionTicket12(lifetime_hint_s=lifetime_hint_s, ticket=ticket)


def test_tls12_every_strict_prefix_fails_at_the_cut_field() -> None:
    # Given a ticket body: hint (0..4), ticket length (4..6), ticket (6..22)
    whole = build_tls12(7200, b"\x01" * 16)
    fields = [(0, 4), (4, 6), (6, 22)]
    for cut in range(len(whole)):
        # When cut, at stream offset 9 (after a record and handshake header)
        with pytest.raises(DecodeError) as caught:
            parse_new_session_ticket_tls12(Reader(whole[:cut], base=9))

        # Then the error points at the start of the cut field
        start = next(start for start, end in fields if end > cut)
        assert caught.value.offset == 9 + start, cut


def test_tls12_trailing_byte_points_at_it() -> None:
    # Given a ticket body with one stray byte
    body = build_tls12(7200, b"\x01" * 16) + b"\x00"

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_new_session_ticket_tls12(Reader(body, base=9))

    # Then the offset is the stray byte's: 9 + 22
    assert caught.value.offset == 31


@FUZZ
@given(st.binary(max_size=80))
def test_tls12_random_bytes_raise_only_decode_error(data: bytes) -> None:
    # Given arbitrary bytes
    # When parsed as a TLS 1.2 NewSessionTicket body
    # Then it parses exactly, or fails with DecodeError inside (or just past) the input
    error = failure_of(lambda: parse_new_session_ticket_tls12(Reader(data)))
    if error is None:
        assert len(data) == 6 + int.from_bytes(data[4:6], "big")
    else:
        assert error.offset is not None
        assert 0 <= error.offset <= len(data)


def test_tickets_read_from_rfc8448_server_records_after_the_handshake() -> None:
    # Given the §3 server's records after its Finished, and its application traffic secret
    stream = load_hex("rfc8448_simple_server_application_records")
    secret = bytes.fromhex("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643")
    # When every record is opened in order and the handshake messages parsed
    found = read_post_handshake_tickets(0x1301, secret, stream)
    # Then the one NewSessionTicket is read, and the data and alert records are skipped
    assert found.problem is None
    assert len(found.tickets) == 1
    assert found.tickets[0].lifetime_s == 30
    assert found.tickets[0].max_early_data_size == 1024


def test_reading_tickets_stops_with_a_reason_at_a_record_that_does_not_open() -> None:
    # Given the same records but the wrong secret
    stream = load_hex("rfc8448_simple_server_application_records")
    found = read_post_handshake_tickets(0x1301, bytes(32), stream)
    # Then nothing is read and the reason is kept, no exception escapes
    assert found.tickets == ()
    assert found.problem is not None


def test_a_truncated_capture_ends_quietly() -> None:
    stream = load_hex("rfc8448_simple_server_application_records")
    secret = bytes.fromhex("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643")
    found = read_post_handshake_tickets(0x1301, secret, stream[:-10])
    assert found.problem is None
    assert len(found.tickets) == 1
