"""Message parsers on RFC 8448 and captured bytes: exact fields, exact error offsets, fuzzing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from httpsaudit.errors import DecodeError
from httpsaudit.tls.codec import Reader, Writer
from httpsaudit.tls.codes import CipherSuite, ExtensionType, NamedGroup, ProtocolVersion
from httpsaudit.tls.messages import (
    DOWNGRADE_TLS11,
    DOWNGRADE_TLS12,
    HELLO_RETRY_REQUEST_RANDOM,
    MAX_CERTIFICATES,
    MAX_EXTENSIONS,
    Alert,
    Extension,
    ServerHello,
    is_tls13,
    parse_alert,
    parse_certificate_list_tls12,
    parse_extensions,
    parse_server_hello,
    parse_server_key_exchange,
)
from tests.vectors import load_hex

FUZZ = settings(max_examples=200, deadline=None)
RFC_RANDOM = bytes.fromhex("a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928")
RFC_KEY_EXCHANGE = bytes.fromhex("c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f")
# Where the body of a vector's first handshake message starts: record header + handshake header.
BODY_OFFSET = 9
# Captured TLS 1.2 flight: (offset of body, body length) of Certificate and ServerKeyExchange.
TLS12_CERTIFICATE_BODY = (107, 1230)
TLS12_SERVER_KEY_EXCHANGE_BODY = (1346, 144)
# Captured HRR flight: the real ServerHello's body, after HRR record + CCS record + headers.
HRR_FLIGHT_SERVER_HELLO_BODY = (108, 151)


def failure_of(call: Callable[[], object]) -> DecodeError | None:
    """The DecodeError ``call`` raised, or None; any other exception propagates (and fails)."""
    try:
        call()
    except DecodeError as error:
        return error
    return None


def body_of(name: str, at: int = BODY_OFFSET, length: int | None = None) -> Reader:
    """A Reader over a handshake body inside a vector, with offsets absolute in the vector."""
    data = load_hex(name)
    if length is None:
        length = int.from_bytes(data[at - 3 : at], "big")
    return Reader(data[at : at + length], base=at)


def build_extensions(extensions: list[tuple[int, bytes]]) -> bytes:
    block = Writer()
    for extension_type, data in extensions:
        block.uint16(extension_type).opaque(2, data)
    return Writer().opaque(2, block.getvalue()).getvalue()


def build_server_hello_body(
    *,
    random: bytes = RFC_RANDOM,
    session_id: bytes = b"",
    cipher_suite: int = 0x1301,
    extensions: list[tuple[int, bytes]] | None = None,
    legacy_version: int = 0x0303,
) -> bytes:
    """A ServerHello body from fields (RFC 8446 §4.1.3), built with our Writer."""
    if extensions is None:
        key_share = Writer().uint16(0x001D).opaque(2, RFC_KEY_EXCHANGE).getvalue()
        extensions = [(0x0033, key_share), (0x002B, b"\x03\x04")]
    return (
        Writer()
        .uint16(legacy_version)
        .raw(random)
        .opaque(1, session_id)
        .uint16(cipher_suite)
        .uint8(0)
        .raw(build_extensions(extensions))
        .getvalue()
    )


# --- ServerHello / HelloRetryRequest -------------------------------------------------------------


def test_rfc8448_server_hello_fields() -> None:
    # Given the RFC 8448 §3 ServerHello body
    reader = body_of("rfc8448_simple_server_hello")

    # When it is parsed
    hello = parse_server_hello(reader)

    # Then every field is the RFC's
    key_share = bytes.fromhex("001d0020") + RFC_KEY_EXCHANGE
    assert hello == ServerHello(
        legacy_version=0x0303,
        random=RFC_RANDOM,
        session_id=b"",
        cipher_suite=0x1301,
        compression_method=0,
        extensions=(Extension(0x0033, key_share), Extension(0x002B, b"\x03\x04")),
        selected_version=0x0304,
        key_share_group=0x001D,
        is_hello_retry_request=False,
    )
    assert hello.cipher_suite == CipherSuite.TLS_AES_128_GCM_SHA256
    assert hello.key_share_group == NamedGroup.x25519
    assert is_tls13(hello)
    assert not hello.downgrade_sentinel
    assert hello.extension(ExtensionType.SUPPORTED_VERSIONS) == b"\x03\x04"
    assert hello.extension(ExtensionType.COOKIE) is None
    assert reader.remaining == 0


def test_rfc8448_hello_retry_request_fields() -> None:
    # Given the RFC 8448 §5 HelloRetryRequest body
    hello = parse_server_hello(body_of("rfc8448_hrr"))

    # Then it is recognised by its random and names the group the server wants
    assert hello.is_hello_retry_request
    assert hello.random == HELLO_RETRY_REQUEST_RANDOM
    assert hello.key_share_group == NamedGroup.secp256r1
    assert hello.cipher_suite == 0x1301
    assert hello.session_id == b""
    assert hello.selected_version == ProtocolVersion.TLSv1_3
    assert [e.extension_type for e in hello.extensions] == [0x0033, 0x002C, 0x002B]
    cookie = hello.extension(ExtensionType.COOKIE)
    assert cookie is not None
    assert len(cookie) == 116
    assert cookie[:2] == b"\x00\x72"
    assert cookie[2:6] == bytes.fromhex("71dcd04b")


def test_captured_tls12_server_hello_fields() -> None:
    # Given the ServerHello from the captured TLS 1.2 flight
    hello = parse_server_hello(body_of("openssl_tls12_flight"))

    # Then TLS 1.2 was chosen by legacy_version alone, with the one suite the server allowed
    assert hello.legacy_version == hello.selected_version == ProtocolVersion.TLSv1_2
    assert not is_tls13(hello)
    assert hello.cipher_suite == 0xC02B
    assert CipherSuite(hello.cipher_suite) is CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    assert len(hello.session_id) == 32
    assert hello.key_share_group is None
    assert not hello.is_hello_retry_request
    assert not hello.downgrade_sentinel  # the client offered only TLS 1.2
    assert [e.extension_type for e in hello.extensions] == [0xFF01, 0x000B, 0x0017]
    assert hello.extension(ExtensionType.RENEGOTIATION_INFO) == b"\x00"


def test_captured_tls13_and_hrr_server_hellos() -> None:
    # Given the captured TLS 1.3 ServerHello, and the HRR flight's HRR and real ServerHello
    tls13 = parse_server_hello(body_of("openssl_tls13_flight"))
    retry = parse_server_hello(body_of("openssl_hrr_flight"))
    after_retry = parse_server_hello(body_of("openssl_hrr_flight", *HRR_FLIGHT_SERVER_HELLO_BODY))

    # Then the groups are the ones the servers were limited to
    assert (tls13.selected_version, tls13.cipher_suite, tls13.key_share_group) == (
        0x0304,
        0x1301,
        NamedGroup.x25519,
    )
    assert retry.is_hello_retry_request
    assert retry.key_share_group == NamedGroup.secp256r1
    assert not after_retry.is_hello_retry_request
    assert after_retry.key_share_group == NamedGroup.secp256r1
    key_share = after_retry.extension(ExtensionType.KEY_SHARE)
    assert key_share is not None
    assert key_share[2:5] == b"\x00\x41\x04"  # 65-byte uncompressed P-256 point
    # RFC 8446 §4.1.4: the ServerHello after an HRR keeps its cipher suite and session id echo
    assert after_retry.cipher_suite == retry.cipher_suite
    assert after_retry.session_id == retry.session_id
    assert len(retry.session_id) == 32


def test_server_hello_built_with_writer_round_trips() -> None:
    # Given the RFC fields written by our Writer
    built = build_server_hello_body()

    # When parsed
    hello = parse_server_hello(Reader(built))

    # Then the bytes are the RFC's and the fields survive
    assert built == load_hex("rfc8448_simple_server_hello")[BODY_OFFSET:]
    assert (hello.random, hello.cipher_suite, hello.key_share_group) == (
        RFC_RANDOM,
        0x1301,
        0x001D,
    )


@pytest.mark.parametrize(
    ("tail", "expected"),
    [(DOWNGRADE_TLS12, True), (DOWNGRADE_TLS11, True), (bytes(8), False)],
)
def test_downgrade_sentinel(tail: bytes, expected: bool) -> None:
    # Given a TLS 1.2 ServerHello whose random ends in the RFC 8446 §4.1.3 marker (or not)
    body = build_server_hello_body(random=bytes(24) + tail, extensions=[])

    # When parsed
    hello = parse_server_hello(Reader(body))

    # Then the sentinel is reported
    assert hello.downgrade_sentinel is expected
    assert hello.selected_version == 0x0303


def test_server_hello_without_extensions_is_tls12_style() -> None:
    # Given a ServerHello that ends after compression_method (RFC 5246 §7.4.1.4)
    body = build_server_hello_body()[:38]

    # When parsed
    hello = parse_server_hello(Reader(body))

    # Then it has no extensions and its legacy_version is the version
    assert hello.extensions == ()
    assert hello.selected_version == 0x0303


def _server_hello_field_starts(body: bytes) -> list[tuple[int, int]]:
    """(start, end) of each top-level field a parser reads in one piece, per RFC 8446 §4.1.3."""
    session_end = 35 + body[34]
    extensions_start = session_end + 3
    return [
        (0, 2),  # legacy_version
        (2, 34),  # random
        (34, 35),  # session id length
        (35, session_end),  # session id
        (session_end, session_end + 2),  # cipher suite
        (session_end + 2, session_end + 3),  # compression
        (extensions_start, extensions_start + 2),  # extensions length
        (extensions_start + 2, len(body)),  # extensions, read as one vector
    ]


@pytest.mark.parametrize("name", ["rfc8448_simple_server_hello", "rfc8448_hrr"])
def test_every_strict_prefix_fails_at_the_cut_field(name: str) -> None:
    # Given a ServerHello body at its place in the vector
    whole = body_of(name).rest()
    fields = [(start, end) for start, end in _server_hello_field_starts(whole) if end > start]
    extensions_start = fields[-2][0]
    for cut in range(len(whole)):
        # When only the first `cut` bytes are there
        reader = Reader(whole[:cut], base=BODY_OFFSET)
        if cut == extensions_start:
            # Then a cut right after compression_method is a valid extension-less ServerHello
            assert parse_server_hello(reader).extensions == ()
            continue
        with pytest.raises(DecodeError) as caught:
            parse_server_hello(reader)

        # Then the error points at the start of the field the cut fell in
        start = next(start for start, end in fields if end > cut)
        assert caught.value.offset == BODY_OFFSET + start, cut


def test_trailing_byte_after_server_hello() -> None:
    # Given the RFC ServerHello body with one stray byte after it
    whole = body_of("rfc8448_simple_server_hello").rest() + b"\x00"

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_server_hello(Reader(whole, base=BODY_OFFSET))

    # Then the stray byte's offset is reported: 9 + 86
    assert caught.value.offset == 95


def test_session_id_longer_than_32_points_at_its_length() -> None:
    # Given the RFC ServerHello with legacy_session_id_echo length 33
    whole = bytearray(body_of("rfc8448_simple_server_hello").rest())
    whole[34] = 33

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_server_hello(Reader(bytes(whole), base=BODY_OFFSET))

    # Then the offset is the length byte's: 9 + 34
    assert caught.value.offset == 43


def test_extensions_length_too_long_points_at_the_block() -> None:
    # Given the RFC ServerHello whose extensions length says one byte more (0x2e -> 0x2f)
    whole = bytearray(body_of("rfc8448_simple_server_hello").rest())
    whole[39] = 0x2F

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_server_hello(Reader(bytes(whole), base=BODY_OFFSET))

    # Then the offset is the start of the extension block: 9 + 40
    assert caught.value.offset == 49


def test_extensions_length_too_short_leaves_trailing_bytes() -> None:
    # Given the RFC ServerHello whose extensions length says one byte less (0x2e -> 0x2d)
    whole = bytearray(body_of("rfc8448_simple_server_hello").rest())
    whole[39] = 0x2D

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_server_hello(Reader(bytes(whole), base=BODY_OFFSET))

    # Then the supported_versions data inside the block is cut: its 2 bytes start at 9 + 84
    assert caught.value.offset == 93


def test_bad_supported_versions_data_points_inside_the_extension() -> None:
    # Given a ServerHello whose supported_versions extension holds one byte
    extensions = [(0x0033, bytes.fromhex("001d0001ff")), (0x002B, b"\x03")]
    body = build_server_hello_body(extensions=extensions)
    base = 1000

    # When parsed at stream offset 1000
    with pytest.raises(DecodeError) as caught:
        parse_server_hello(Reader(body, base=base))

    # Then the offset is the extension data's, absolute: block at 40, (4 + 5) + 4 bytes in
    assert caught.value.offset == base + 53
    assert body[53:] == b"\x03"


def test_trailing_byte_in_key_share_points_at_it() -> None:
    # Given a ServerHello key_share with one byte after the key_exchange
    key_share = bytes.fromhex("001d0001ff") + b"\x00"
    body = build_server_hello_body(extensions=[(0x0033, key_share), (0x002B, b"\x03\x04")])

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_server_hello(Reader(body, base=9))

    # Then the offset is the stray byte's: 9 + 40 (block) + 4 (header) + 5 (share)
    assert caught.value.offset == 58
    assert body[49:50] == b"\x00"


def test_empty_key_exchange_in_server_hello_is_refused() -> None:
    # Given a (non-HRR) ServerHello key_share with an empty key_exchange (RFC 8446 §4.2.8: 1..)
    body = build_server_hello_body(extensions=[(0x0033, bytes.fromhex("001d0000"))])

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_server_hello(Reader(body))

    # Then the offset is the key_exchange length: 40 (block) + 4 (header) + 2 (group)
    assert caught.value.offset == 46


server_hello_extensions = st.dictionaries(
    st.integers(0, 0xFFFF).filter(
        lambda t: t not in (ExtensionType.SUPPORTED_VERSIONS, ExtensionType.KEY_SHARE)
    ),
    st.binary(max_size=20),
    max_size=6,
)


@FUZZ
@given(
    st.integers(0x0300, 0x0303),
    st.binary(min_size=32, max_size=32),
    st.binary(max_size=32),
    st.integers(0, 0xFFFF),
    server_hello_extensions,
    st.sampled_from([None, 0x0304, 0x0303, 0x7F1C]),
    st.sampled_from([None, 0x001D, 0x0017, 0x11EC]),
)
def test_server_hello_round_trip_property(
    legacy_version: int,
    random: bytes,
    session_id: bytes,
    cipher_suite: int,
    others: dict[int, bytes],
    version: int | None,
    group: int | None,
) -> None:
    # Given ServerHello fields, including unknown extension types and code points
    extensions = list(others.items())
    if version is not None:
        extensions.append((0x002B, version.to_bytes(2, "big")))
    if group is not None:
        extensions.append((0x0033, Writer().uint16(group).opaque(2, b"\x01" * 32).getvalue()))
    body = build_server_hello_body(
        legacy_version=legacy_version,
        random=random,
        session_id=session_id,
        cipher_suite=cipher_suite,
        extensions=extensions,
    )

    # When the bytes we built are parsed
    hello = parse_server_hello(Reader(body))

    # Then every field comes back, unknown values kept as numbers
    assert hello.legacy_version == legacy_version
    assert hello.random == random
    assert hello.session_id == session_id
    assert hello.cipher_suite == cipher_suite
    assert [(e.extension_type, e.data) for e in hello.extensions] == extensions
    assert hello.selected_version == (legacy_version if version is None else version)
    assert hello.key_share_group == group
    assert hello.is_hello_retry_request is (random == HELLO_RETRY_REQUEST_RANDOM)


@FUZZ
@given(st.binary(max_size=200))
def test_server_hello_random_bytes_raise_only_decode_error(data: bytes) -> None:
    # Given arbitrary bytes
    # When parsed as a ServerHello
    # Then it parses, or fails with DecodeError inside (or just past) the input
    error = failure_of(lambda: parse_server_hello(Reader(data, base=9)))
    if error is not None:
        assert error.offset is not None
        assert 9 <= error.offset <= 9 + len(data)


@FUZZ
@given(st.integers(0, 94), st.integers(0, 255))
def test_server_hello_with_one_byte_changed_raises_only_decode_error(
    position: int, value: int
) -> None:
    # Given the RFC ServerHello body (86 bytes) with one byte replaced, or cut after it
    whole = bytearray(body_of("rfc8448_simple_server_hello").rest())
    if position < len(whole):
        whole[position] = value
    else:
        del whole[position - len(whole) :]

    # When parsed
    # Then it parses, or fails with DecodeError inside (or just past) the input
    error = failure_of(lambda: parse_server_hello(Reader(bytes(whole), base=9)))
    if error is not None:
        assert error.offset is not None
        assert 9 <= error.offset <= 9 + len(whole)


# --- Extensions ----------------------------------------------------------------------------------


def test_duplicate_extension_points_at_the_second_one() -> None:
    # Given two supported_versions extensions (RFC 8446 §4.2: at most one of each type)
    block = build_extensions([(0x002B, b"\x03\x04"), (0x0000, b""), (0x002B, b"\x03\x04")])

    # When parsed at stream offset 200
    with pytest.raises(DecodeError) as caught:
        parse_extensions(Reader(block, base=200), "ServerHello")

    # Then the offset is the duplicate's type field: 200 + 2 + 6 + 4
    assert caught.value.offset == 212


def test_too_many_extensions_points_at_the_first_one_over_the_cap() -> None:
    # Given MAX_EXTENSIONS + 1 distinct empty extensions
    block = build_extensions([(number, b"") for number in range(MAX_EXTENSIONS + 1)])

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_extensions(Reader(block), "ServerHello")

    # Then the offset is where the extra one starts
    assert caught.value.offset == 2 + 4 * MAX_EXTENSIONS


def test_exactly_max_extensions_is_fine() -> None:
    # Given MAX_EXTENSIONS distinct extensions
    block = build_extensions([(number, b"x") for number in range(MAX_EXTENSIONS)])

    # When parsed
    extensions = parse_extensions(Reader(block), "EncryptedExtensions")

    # Then all are kept in order
    assert [e.extension_type for e in extensions] == list(range(MAX_EXTENSIONS))


def test_extension_data_longer_than_the_block_points_at_the_data() -> None:
    # Given a block whose only extension claims 3 data bytes but holds 2
    block = Writer().opaque(2, bytes.fromhex("002b000303" + "04")).getvalue()

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_extensions(Reader(block, base=10), "ServerHello")

    # Then the offset is the data's start: 10 + 2 + 4
    assert caught.value.offset == 16


def test_absent_extensions_block_is_empty() -> None:
    # Given nothing left to read
    # When extensions are parsed
    # Then there are none (RFC 5246 §7.4.1.4)
    assert parse_extensions(Reader(b""), "ServerHello") == ()


@FUZZ
@given(st.binary(max_size=120))
def test_extensions_random_bytes_raise_only_decode_error(data: bytes) -> None:
    # Given arbitrary bytes
    # When parsed as an extension block
    # Then only DecodeError escapes, and what parses has no duplicate types
    parsed: list[Extension] = []
    error = failure_of(lambda: parsed.extend(parse_extensions(Reader(data), "fuzz")))
    if error is not None:
        assert error.offset is not None
    assert len({e.extension_type for e in parsed}) == len(parsed)


# --- Alert ---------------------------------------------------------------------------------------


def test_captured_handshake_failure_alert() -> None:
    # Given the captured alert record's payload
    data = load_hex("openssl_handshake_failure_alert")

    # When parsed
    alert = parse_alert(Reader(data[5:], base=5))

    # Then it is fatal handshake_failure
    assert alert == Alert(level=2, description=40)


def test_alert_built_with_writer_round_trips() -> None:
    # Given an alert with an unassigned description
    payload = Writer().uint8(1).uint8(250).getvalue()

    # When parsed
    # Then the unknown code survives as an int
    assert parse_alert(Reader(payload)) == Alert(1, 250)


@pytest.mark.parametrize(
    ("payload", "offset"),
    [(b"", 5), (b"\x02", 6), (b"\x02\x28\x00", 7)],
    ids=["empty", "one-byte", "trailing"],
)
def test_malformed_alert_points_at_the_bad_byte(payload: bytes, offset: int) -> None:
    # Given an alert payload of the wrong size at stream offset 5
    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_alert(Reader(payload, base=5))

    # Then the offset is where a byte was missing or extra
    assert caught.value.offset == offset


@FUZZ
@given(st.binary(max_size=8))
def test_alert_random_bytes_raise_only_decode_error(data: bytes) -> None:
    # Given arbitrary bytes
    # When parsed as an alert
    # Then it parses exactly two bytes, or raises DecodeError
    error = failure_of(lambda: parse_alert(Reader(data)))
    assert (error is None) is (len(data) == 2)


# --- Certificate (TLS 1.2) -----------------------------------------------------------------------


def test_captured_tls12_certificate_chain() -> None:
    # Given the Certificate body from the captured TLS 1.2 flight
    reader = body_of("openssl_tls12_flight", *TLS12_CERTIFICATE_BODY)

    # When parsed
    ders = parse_certificate_list_tls12(reader)

    # Then it is the test PKI's leaf then intermediate, with the DER sizes the file shows
    assert [len(der) for der in ders] == [726, 495]
    leaf, intermediate = (x509.load_der_x509_certificate(der) for der in ders)
    assert _common_name(leaf.subject) == "localhost"
    assert _common_name(leaf.issuer) == "httpsaudit Test Intermediate"
    assert _common_name(intermediate.subject) == "httpsaudit Test Intermediate"
    assert _common_name(intermediate.issuer) == "httpsaudit Test Root"


def _common_name(name: x509.Name) -> str:
    (attribute,) = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = attribute.value
    assert isinstance(value, str)
    return value


def test_certificate_list_built_with_writer_round_trips() -> None:
    # Given three opaque "certificates" written by our Writer
    ders = (b"\x30\x01", b"\x30" * 300, b"\x01")
    entries = Writer()
    for der in ders:
        entries.opaque(3, der)
    body = Writer().opaque(3, entries.getvalue()).getvalue()

    # When parsed
    # Then they come back in order, byte for byte
    assert parse_certificate_list_tls12(Reader(body)) == ders


def test_certificate_entry_longer_than_the_list_points_at_its_data() -> None:
    # Given the captured Certificate body whose leaf length says one byte more than it has
    offset, length = TLS12_CERTIFICATE_BODY
    body = bytearray(body_of("openssl_tls12_flight", offset, length).rest())
    body[3:6] = (726 + 495 + 3 + 1).to_bytes(3, "big")

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_certificate_list_tls12(Reader(bytes(body), base=offset))

    # Then the offset is the leaf's first DER byte: body + 3 (list length) + 3 (entry length)
    assert caught.value.offset == offset + 6


def test_trailing_byte_after_certificate_list() -> None:
    # Given the captured Certificate body with one stray byte after the list
    offset, length = TLS12_CERTIFICATE_BODY
    body = body_of("openssl_tls12_flight", offset, length).rest() + b"\x00"

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_certificate_list_tls12(Reader(body, base=offset))

    # Then the offset is the stray byte's
    assert caught.value.offset == offset + length


def test_empty_certificate_entry_is_refused() -> None:
    # Given a list holding a zero-length certificate (RFC 5246 §7.4.2: ASN.1Cert<1..2^24-1>)
    body = Writer().opaque(3, b"\x00\x00\x00").getvalue()

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_certificate_list_tls12(Reader(body, base=4))

    # Then the offset is that entry's length
    assert caught.value.offset == 7


def test_too_many_certificates_points_at_the_first_one_over_the_cap() -> None:
    # Given MAX_CERTIFICATES + 1 one-byte certificates
    entries = b"".join(Writer().opaque(3, b"\x30").getvalue() for _ in range(MAX_CERTIFICATES + 1))
    body = Writer().opaque(3, entries).getvalue()

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_certificate_list_tls12(Reader(body))

    # Then the offset is the extra certificate's entry
    assert caught.value.offset == 3 + 4 * MAX_CERTIFICATES


@FUZZ
@given(st.binary(max_size=120))
def test_certificate_random_bytes_raise_only_decode_error(data: bytes) -> None:
    # Given arbitrary bytes
    # When parsed as a TLS 1.2 Certificate body
    # Then only DecodeError escapes
    error = failure_of(lambda: parse_certificate_list_tls12(Reader(data)))
    if error is not None:
        assert error.offset is not None


# --- ServerKeyExchange ---------------------------------------------------------------------------


def test_captured_ecdhe_server_key_exchange_names_the_group() -> None:
    # Given the ServerKeyExchange from the captured TLS 1.2 flight (server limited to P-256)
    reader = body_of("openssl_tls12_flight", *TLS12_SERVER_KEY_EXCHANGE_BODY)

    # When parsed as ECDHE parameters
    exchange = parse_server_key_exchange(reader, ecdhe=True)

    # Then the named curve is secp256r1
    assert exchange.named_group == NamedGroup.secp256r1
    assert exchange.dh_prime_bits is None


def test_explicit_curve_server_key_exchange_points_at_curve_type() -> None:
    # Given ECParameters with curve_type explicit_prime (1), forbidden by RFC 8422 §5.4
    body = Writer().uint8(1).uint16(0x0017).getvalue()

    # When parsed at stream offset 1346
    with pytest.raises(DecodeError) as caught:
        parse_server_key_exchange(Reader(body, base=1346), ecdhe=True)

    # Then the offset is the curve_type byte
    assert caught.value.offset == 1346


@pytest.mark.parametrize(
    ("prime", "bits"),
    [((1 << 2047) | 1, 2048), ((1 << 1023) | 1, 1024), (0xFF, 8)],
)
def test_dhe_server_key_exchange_measures_the_prime(prime: int, bits: int) -> None:
    # Given DHE ServerDHParams built by our Writer: dh_p, dh_g, dh_Ys
    encoded = prime.to_bytes((prime.bit_length() + 7) // 8, "big")
    body = Writer().opaque(2, encoded).opaque(2, b"\x02").opaque(2, b"\x05").getvalue()

    # When parsed as DHE parameters
    exchange = parse_server_key_exchange(Reader(body), ecdhe=False)

    # Then the prime's size is reported in bits
    assert exchange.dh_prime_bits == bits
    assert exchange.named_group is None


def test_dhe_prime_with_a_leading_zero_counts_real_bits() -> None:
    # Given a 256-byte dh_p whose first byte is zero (a 2040-bit prime sent padded)
    encoded = b"\x00" + b"\xff" * 255
    body = Writer().opaque(2, encoded).getvalue()

    # When parsed
    # Then the size is the integer's, not the field's
    assert parse_server_key_exchange(Reader(body), ecdhe=False).dh_prime_bits == 2040


def test_dhe_empty_prime_points_at_its_length() -> None:
    # Given an empty dh_p at stream offset 20
    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_server_key_exchange(Reader(b"\x00\x00", base=20), ecdhe=False)

    # Then the offset is the length prefix
    assert caught.value.offset == 20


@pytest.mark.parametrize("cut", [0, 1, 2])
def test_ecdhe_strict_prefixes_fail_at_the_cut_field(cut: int) -> None:
    # Given the captured ServerKeyExchange cut inside curve_type or named_curve
    offset, length = TLS12_SERVER_KEY_EXCHANGE_BODY
    body = body_of("openssl_tls12_flight", offset, length).rest()[:cut]

    # When parsed
    with pytest.raises(DecodeError) as caught:
        parse_server_key_exchange(Reader(body, base=offset), ecdhe=True)

    # Then the offset is the cut field's start
    assert caught.value.offset == offset + (0 if cut == 0 else 1)


@FUZZ
@given(st.binary(max_size=80), st.booleans())
def test_server_key_exchange_random_bytes_raise_only_decode_error(data: bytes, ecdhe: bool) -> None:
    # Given arbitrary bytes
    # When parsed as either kind of ServerKeyExchange
    # Then only DecodeError escapes
    error = failure_of(lambda: parse_server_key_exchange(Reader(data), ecdhe=ecdhe))
    if error is not None:
        assert error.offset is not None
