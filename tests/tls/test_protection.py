"""Record protection on RFC 8448's encrypted records, and round trips for every TLS 1.3 AEAD.

The traffic secrets are the ones RFC 8448 prints, so these tests do not lean on the key
schedule's own code; ``test_keyschedule.py`` checks that it derives the same secrets.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305
from hypothesis import given, settings
from hypothesis import strategies as st

from httpsaudit.errors import LocalProtocolError, RemoteProtocolError
from httpsaudit.tls import protection
from httpsaudit.tls.codec import Reader
from httpsaudit.tls.codes import CipherSuite, ContentType, ExtensionType
from httpsaudit.tls.keyschedule import hash_for_suite, traffic_keys
from httpsaudit.tls.messages import parse_extensions, parse_new_session_ticket_tls13
from httpsaudit.tls.protection import (
    MAX_CIPHERTEXT_BYTES,
    MAX_INNER_PLAINTEXT_BYTES,
    MAX_PLAINTEXT_BYTES,
    InnerPlaintext,
    RecordDecryptor,
    RecordEncryptor,
)
from httpsaudit.tls.records import Record, RecordBuffer
from tests.vectors import load_hex

SUITE = CipherSuite.TLS_AES_128_GCM_SHA256
H = bytes.fromhex
HANDSHAKE = ContentType.HANDSHAKE
APPLICATION_DATA = ContentType.APPLICATION_DATA
# RFC 8448 traffic secrets (§3 and §4), as the RFC prints them.
S3_SERVER_HS = H("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
S3_CLIENT_HS = H("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21")
S3_SERVER_AP = H("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643")
S4_CLIENT_EARLY = H("3fbbe6a60deb66c30a32795aba0eff7eaa10105586e7be5c09678d63b6caab62")
S4_SERVER_HS = H("fe927ae271312e8bf0275b581c54eef020450dc4ecffaa05a1a35d27518e7803")
S4_CLIENT_HS = H("2faac08f851d35fea3604fcb4de82dc62c9b164a70974d0462e27f1ab278700f")
# The server's encrypted flight follows its 95-byte ServerHello record in the §3 stream.
S3_SERVER_HELLO_RECORD_BYTES = 95
# RFC 8446 §4: (msg_type, length with header) of the §3 server flight, in order.
S3_SERVER_FLIGHT = [(8, 40), (11, 445), (15, 136), (20, 36)]
# The §3 server's application records: (offset, content type, content).
S3_SERVER_APPLICATION = [
    (0, HANDSHAKE, None),  # the NewSessionTicket, compared with its own vector
    (227, APPLICATION_DATA, bytes(range(50))),
    (299, ContentType.ALERT, b"\x01\x00"),  # warning(1) close_notify(0)
]
ALL_SUITES = [0x1301, 0x1302, 0x1303, 0x1304, 0x1305]
TAG_BYTES = {0x1301: 16, 0x1302: 16, 0x1303: 16, 0x1304: 16, 0x1305: 8}


def records(data: bytes) -> list[Record]:
    buffer = RecordBuffer()
    buffer.receive_data(data)
    found: list[Record] = []
    while isinstance(record := buffer.next_record(), Record):
        found.append(record)
    assert buffer.buffered_bytes == 0
    return found


def secret_for(suite: int) -> bytes:
    return bytes(range(1, hash_for_suite(suite).digest_size + 1))


def split_handshake(data: bytes) -> list[tuple[int, bytes]]:
    """Handshake messages laid end to end (RFC 8446 §4): (msg_type, whole message)."""
    messages: list[tuple[int, bytes]] = []
    while data:
        end = 4 + int.from_bytes(data[1:4], "big")
        messages.append((data[0], data[:end]))
        data = data[end:]
    return messages


def seal(suite: int, secret: bytes, inner: bytes, sequence_number: int = 0) -> Record:
    """A record sealed by cryptography's AEAD directly, for plaintexts we would never build."""
    keys = traffic_keys(suite, secret)
    aead = ChaCha20Poly1305(keys.key) if suite == 0x1303 else AESGCM(keys.key)
    header = bytes([23, 3, 3]) + (len(inner) + 16).to_bytes(2, "big")
    nonce = (int.from_bytes(keys.iv, "big") ^ sequence_number).to_bytes(12, "big")
    return Record(23, 0x0303, aead.encrypt(nonce, inner, header), offset=0)


# --- RFC 8448 §3 ---------------------------------------------------------------------------------


def test_rfc8448_simple_server_flight_opens() -> None:
    # Given the §3 stream: the ServerHello record, then the encrypted flight
    stream = load_hex("rfc8448_simple_server_hello") + load_hex(
        "rfc8448_simple_server_encrypted_flight"
    )
    _, flight = records(stream)

    # When the flight is opened under the server handshake traffic secret
    decryptor = RecordDecryptor(SUITE, S3_SERVER_HS)
    opened = decryptor.decrypt(flight)

    # Then it is the four handshake messages, at the record's stream offset
    assert opened.content_type == HANDSHAKE
    assert opened.offset == S3_SERVER_HELLO_RECORD_BYTES
    messages = split_handshake(opened.content)
    assert [(kind, len(message)) for kind, message in messages] == S3_SERVER_FLIGHT
    encrypted_extensions = messages[0][1]
    extensions = parse_extensions(Reader(encrypted_extensions[4:]), "EncryptedExtensions")
    assert [e.extension_type for e in extensions] == [
        ExtensionType.SUPPORTED_GROUPS,
        ExtensionType.RECORD_SIZE_LIMIT,
        ExtensionType.SERVER_NAME,
    ]
    assert decryptor.sequence_number == 1


def test_rfc8448_simple_client_finished_opens() -> None:
    # Given the client's Finished record
    (record,) = records(load_hex("rfc8448_simple_client_finished"))

    # When opened under the client handshake traffic secret
    opened = RecordDecryptor(SUITE, S3_CLIENT_HS).decrypt(record)

    # Then it is a Finished message with the RFC's verify_data
    assert opened.content_type == HANDSHAKE
    assert opened.content == H(
        "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61"
    )


def test_rfc8448_simple_server_application_records_open_in_sequence() -> None:
    # Given the server's three records after the handshake, and one decryptor for them
    found = records(load_hex("rfc8448_simple_server_application_records"))
    decryptor = RecordDecryptor(SUITE, S3_SERVER_AP)

    # When they are opened in order (sequence numbers 0, 1, 2)
    opened = [decryptor.decrypt(record) for record in found]

    # Then each has its content type, content and offset
    ticket = load_hex("rfc8448_simple_new_session_ticket")
    for result, (offset, content_type, content) in zip(opened, S3_SERVER_APPLICATION, strict=True):
        assert result == InnerPlaintext(
            content_type, ticket if content is None else content, offset
        )
    assert decryptor.sequence_number == 3


def test_rfc8448_ticket_from_its_record_parses() -> None:
    # Given the NewSessionTicket as it comes out of its record
    (first, *_) = records(load_hex("rfc8448_simple_server_application_records"))
    opened = RecordDecryptor(SUITE, S3_SERVER_AP).decrypt(first)

    # When its body is parsed
    ticket = parse_new_session_ticket_tls13(Reader(opened.content[4:], base=4))

    # Then it is the RFC's ticket: 30 s, nonce 00 00, 1024 bytes of early data allowed
    assert opened.content[0] == 4  # new_session_ticket
    assert (ticket.lifetime_s, ticket.age_add, ticket.nonce) == (30, 0xFAD6AAC5, b"\x00\x00")
    assert len(ticket.ticket) == 178
    assert ticket.max_early_data_size == 1024


def test_rfc8448_records_are_reproduced_byte_for_byte() -> None:
    # Given the plaintexts the RFC's server and client sealed, with the RFC's secrets
    flight = RecordDecryptor(SUITE, S3_SERVER_HS).decrypt(
        records(load_hex("rfc8448_simple_server_encrypted_flight"))[0]
    )
    server = RecordEncryptor(SUITE, S3_SERVER_AP)
    early = RecordEncryptor(SUITE, S4_CLIENT_EARLY)

    # When we seal them again, in the same order
    sealed_flight = RecordEncryptor(SUITE, S3_SERVER_HS).encrypt(HANDSHAKE, flight.content)
    sealed_application = b"".join(
        server.encrypt(content_type, content)
        for content_type, content in [
            (HANDSHAKE, load_hex("rfc8448_simple_new_session_ticket")),
            (APPLICATION_DATA, bytes(range(50))),
            (ContentType.ALERT, b"\x01\x00"),
        ]
    )
    sealed_early = early.encrypt(APPLICATION_DATA, b"ABCDEF")
    sealed_end_of_early_data = early.encrypt(HANDSHAKE, b"\x05\x00\x00\x00")

    # Then every record is the RFC's, header included
    assert sealed_flight == load_hex("rfc8448_simple_server_encrypted_flight")
    assert sealed_application == load_hex("rfc8448_simple_server_application_records")
    assert sealed_early == load_hex("rfc8448_resumed_early_data")
    assert sealed_end_of_early_data == load_hex("rfc8448_resumed_client_flight")[:26]
    assert server.sequence_number == 3


# --- RFC 8448 §4 ---------------------------------------------------------------------------------


def test_rfc8448_resumed_early_data_and_end_of_early_data_share_a_key() -> None:
    # Given the 0-RTT record and the client's second flight
    (early_data,) = records(load_hex("rfc8448_resumed_early_data"))
    end_of_early_data, finished = records(load_hex("rfc8448_resumed_client_flight"))
    early = RecordDecryptor(SUITE, S4_CLIENT_EARLY)

    # When the 0-RTT data and EndOfEarlyData are opened under the early key (sequence 0, 1)
    # and the Finished under the client handshake key (sequence 0)
    first = early.decrypt(early_data)
    second = early.decrypt(end_of_early_data)
    third = RecordDecryptor(SUITE, S4_CLIENT_HS).decrypt(finished)

    # Then they are "ABCDEF", EndOfEarlyData and the RFC's client Finished
    assert first == InnerPlaintext(APPLICATION_DATA, b"ABCDEF", 0)
    assert second == InnerPlaintext(HANDSHAKE, b"\x05\x00\x00\x00", 0)
    assert third.content_type == HANDSHAKE
    assert third.content[4:] == H(
        "7230a9c952c25cd6138fc5e6628308c41c5335dd81b9f96bcea50fd32bda416d"
    )
    assert third.offset == 26


def test_rfc8448_resumed_server_flight_accepts_early_data() -> None:
    # Given the §4 server flight
    (record,) = records(load_hex("rfc8448_resumed_server_encrypted_flight"))

    # When opened
    opened = RecordDecryptor(SUITE, S4_SERVER_HS).decrypt(record)

    # Then it is EncryptedExtensions with an empty early_data (0-RTT accepted), then Finished
    (kind, encrypted_extensions), (finished_kind, finished) = split_handshake(opened.content)
    assert (kind, finished_kind, len(finished)) == (8, 20, 36)
    extensions = parse_extensions(Reader(encrypted_extensions[4:]), "EncryptedExtensions")
    assert extensions[-1].extension_type == ExtensionType.EARLY_DATA
    assert extensions[-1].data == b""


# --- Failures ------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_any_changed_byte_fails_authentication_at_the_record(data: st.DataObject) -> None:
    # Given the §3 server flight at stream offset 95, with one payload byte changed
    (record,) = records(load_hex("rfc8448_simple_server_encrypted_flight"))
    position = data.draw(st.integers(0, len(record.payload) - 1))
    flip = data.draw(st.integers(1, 255))
    payload = bytearray(record.payload)
    payload[position] ^= flip
    tampered = Record(record.content_type, record.legacy_version, bytes(payload), offset=95)

    # When opened
    decryptor = RecordDecryptor(SUITE, S3_SERVER_HS)
    with pytest.raises(RemoteProtocolError, match="bad_record_mac") as caught:
        decryptor.decrypt(tampered)

    # Then the error names the record's offset, and nothing advanced
    assert caught.value.offset == 95
    assert type(caught.value) is RemoteProtocolError
    assert decryptor.sequence_number == 0


def test_a_changed_header_fails_authentication() -> None:
    # Given the §3 server flight with legacy_record_version 0x0301 (the header is the AAD)
    (record,) = records(load_hex("rfc8448_simple_server_encrypted_flight"))
    tampered = Record(record.content_type, 0x0301, record.payload, record.offset)

    # When opened
    # Then it does not authenticate
    with pytest.raises(RemoteProtocolError, match="bad_record_mac"):
        RecordDecryptor(SUITE, S3_SERVER_HS).decrypt(tampered)


def test_a_failed_record_leaves_the_sequence_for_the_genuine_one() -> None:
    # Given a forged record, then the genuine one
    (record,) = records(load_hex("rfc8448_simple_server_encrypted_flight"))
    forged = Record(record.content_type, record.legacy_version, bytes(len(record.payload)), 0)
    decryptor = RecordDecryptor(SUITE, S3_SERVER_HS)

    # When both are offered
    with pytest.raises(RemoteProtocolError):
        decryptor.decrypt(forged)
    opened = decryptor.decrypt(record)

    # Then the genuine record still opens at sequence number 0
    assert opened.content_type == HANDSHAKE


def test_records_out_of_sequence_fail() -> None:
    # Given the server's three application records
    ticket, application, alert = records(load_hex("rfc8448_simple_server_application_records"))

    # When one is skipped, or one is replayed
    skipping = RecordDecryptor(SUITE, S3_SERVER_AP)
    replaying = RecordDecryptor(SUITE, S3_SERVER_AP)
    replaying.decrypt(ticket)

    # Then the nonce no longer matches and authentication fails at that record
    with pytest.raises(RemoteProtocolError) as skipped:
        skipping.decrypt(application)
    with pytest.raises(RemoteProtocolError) as replayed:
        replaying.decrypt(ticket)
    assert (skipped.value.offset, replayed.value.offset) == (227, 0)
    assert replaying.decrypt(application).content == bytes(range(50))
    assert replaying.decrypt(alert).content_type == ContentType.ALERT


def test_the_wrong_key_fails() -> None:
    # Given the server flight and the client's handshake secret instead of the server's
    (record,) = records(load_hex("rfc8448_simple_server_encrypted_flight"))

    # Then it does not open
    with pytest.raises(RemoteProtocolError, match="bad_record_mac"):
        RecordDecryptor(SUITE, S3_CLIENT_HS).decrypt(record)


@pytest.mark.parametrize("inner", [b"", b"\x00", bytes(40)], ids=["empty", "one-zero", "all-zero"])
def test_a_record_with_no_content_type_is_refused(inner: bytes) -> None:
    # Given a record that authenticates but whose plaintext is only padding (RFC 8446 §5.4)
    record = seal(SUITE, S3_SERVER_AP, inner)

    # When opened
    decryptor = RecordDecryptor(SUITE, S3_SERVER_AP)
    with pytest.raises(RemoteProtocolError, match="unexpected_message") as caught:
        decryptor.decrypt(record)

    # Then it is a protocol error at the record
    assert caught.value.offset == 0


def test_padding_is_stripped_to_the_real_content_type() -> None:
    # Given content ending in zero bytes, its type, then padding
    record = seal(SUITE, S3_SERVER_AP, b"data\x00\x00" + bytes([APPLICATION_DATA]) + bytes(30))

    # When opened
    opened = RecordDecryptor(SUITE, S3_SERVER_AP).decrypt(record)

    # Then only the padding after the type is removed
    assert opened == InnerPlaintext(APPLICATION_DATA, b"data\x00\x00", 0)


def test_an_oversized_record_is_record_overflow_at_its_length() -> None:
    # Given a protected record one byte over 2^14 + 256, at stream offset 1000
    record = Record(23, 0x0303, bytes(MAX_CIPHERTEXT_BYTES + 1), offset=1000)

    # When opened
    with pytest.raises(RemoteProtocolError, match="record_overflow") as caught:
        RecordDecryptor(SUITE, S3_SERVER_AP).decrypt(record)

    # Then the offset is the record's length field
    assert caught.value.offset == 1003


def test_a_record_at_the_size_limit_is_judged_by_its_tag() -> None:
    # Given a record of exactly 2^14 + 256 bytes of garbage
    record = Record(23, 0x0303, bytes(MAX_CIPHERTEXT_BYTES), offset=7)

    # Then it is not an overflow, just a record that does not authenticate
    with pytest.raises(RemoteProtocolError, match="bad_record_mac"):
        RecordDecryptor(SUITE, S3_SERVER_AP).decrypt(record)


def test_too_much_plaintext_is_record_overflow() -> None:
    # Given an authentic record whose inner plaintext is 2^14 + 2 bytes (RFC 8446 §5.4: 2^14 + 1)
    inner = b"x" * MAX_PLAINTEXT_BYTES + bytes([APPLICATION_DATA]) + b"\x00"
    record = seal(SUITE, S3_SERVER_AP, inner)
    assert len(record.payload) <= MAX_CIPHERTEXT_BYTES

    # When opened
    # Then it is refused although it authenticates
    with pytest.raises(RemoteProtocolError, match="record_overflow"):
        RecordDecryptor(SUITE, S3_SERVER_AP).decrypt(record)


@pytest.mark.parametrize("length", [0, 1, 15])
def test_a_record_shorter_than_the_tag_is_refused(length: int) -> None:
    # Given a protected record too short to hold a tag
    record = Record(23, 0x0303, bytes(length), offset=40)

    # Then it fails authentication at its offset
    with pytest.raises(RemoteProtocolError) as caught:
        RecordDecryptor(SUITE, S3_SERVER_AP).decrypt(record)
    assert caught.value.offset == 40


@pytest.mark.parametrize("content_type", [20, 21, 22])
def test_a_cleartext_record_type_is_not_opened(content_type: int) -> None:
    # Given a record whose outer type is not application_data (RFC 8446 §5.2)
    (record,) = records(load_hex("rfc8448_simple_server_encrypted_flight"))
    cleartext = Record(content_type, record.legacy_version, record.payload, offset=12)

    # Then it is refused before any decryption
    with pytest.raises(RemoteProtocolError, match="not a protected record") as caught:
        RecordDecryptor(SUITE, S3_SERVER_HS).decrypt(cleartext)
    assert caught.value.offset == 12


# --- Round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suite", ALL_SUITES)
@pytest.mark.parametrize("padding", [0, 1, 200])
def test_round_trip_for_every_suite(suite: int, padding: int) -> None:
    # Given an encryptor and a decryptor on the same secret
    secret = secret_for(suite)
    encryptor = RecordEncryptor(suite, secret)
    decryptor = RecordDecryptor(suite, secret)
    contents = [(HANDSHAKE, b"\x14\x00\x00\x00"), (APPLICATION_DATA, b""), (21, b"\x01\x00")]

    # When records are sealed, framed from one stream, and opened
    stream = b"".join(encryptor.encrypt(kind, content, padding) for kind, content in contents)
    found = records(stream)
    opened = [decryptor.decrypt(record) for record in found]

    # Then the contents come back and each record's header is the TLS 1.3 one
    offset = 0
    for record, result, (kind, content) in zip(found, opened, contents, strict=True):
        assert (record.content_type, record.legacy_version) == (23, 0x0303)
        assert len(record.payload) == len(content) + 1 + padding + TAG_BYTES[suite]
        assert result == InnerPlaintext(kind, content, offset)
        offset += record.wire_bytes
    assert encryptor.sequence_number == decryptor.sequence_number == 3


@pytest.mark.parametrize("suite", ALL_SUITES)
def test_sealed_records_open_with_the_raw_aead(suite: int) -> None:
    # Given the third record an encryptor seals (sequence number 2)
    secret = secret_for(suite)
    encryptor = RecordEncryptor(suite, secret)
    encryptor.encrypt(APPLICATION_DATA, b"one")
    encryptor.encrypt(APPLICATION_DATA, b"two")
    sealed = encryptor.encrypt(APPLICATION_DATA, b"three", padding=3)

    # When it is opened by cryptography's AEAD with a nonce built here (RFC 8446 §5.3)
    keys = traffic_keys(suite, secret)
    aead: AESGCM | ChaCha20Poly1305 | AESCCM
    if suite in (0x1301, 0x1302):
        aead = AESGCM(keys.key)
    elif suite == 0x1303:
        aead = ChaCha20Poly1305(keys.key)
    else:
        aead = AESCCM(keys.key, tag_length=TAG_BYTES[suite])
    nonce = (int.from_bytes(keys.iv, "big") ^ 2).to_bytes(12, "big")
    inner = aead.decrypt(nonce, sealed[5:], sealed[:5])

    # Then the inner plaintext is content || type || zeros
    assert inner == b"three\x17\x00\x00\x00"


@settings(max_examples=50, deadline=None)
@given(
    st.sampled_from(ALL_SUITES),
    st.lists(
        st.tuples(st.integers(1, 255), st.binary(max_size=64), st.integers(0, 32)), max_size=5
    ),
)
def test_round_trip_property(suite: int, plaintexts: list[tuple[int, bytes, int]]) -> None:
    # Given any content types, contents and paddings
    secret = secret_for(suite)
    encryptor = RecordEncryptor(suite, secret)
    decryptor = RecordDecryptor(suite, secret)

    # When each is sealed and opened in turn
    # Then it comes back unchanged, whatever zeros the content ends in
    for content_type, content, padding in plaintexts:
        record = records(encryptor.encrypt(content_type, content, padding))[0]
        opened = decryptor.decrypt(record)
        assert (opened.content_type, opened.content) == (content_type, content)


def test_largest_record_round_trips() -> None:
    # Given 2^14 bytes of content with no room left for padding (RFC 8446 §5.4)
    encryptor = RecordEncryptor(SUITE, S3_SERVER_AP)
    sealed = encryptor.encrypt(APPLICATION_DATA, b"z" * MAX_PLAINTEXT_BYTES)

    # Then it fits and opens
    (record,) = records(sealed)
    assert len(record.payload) == MAX_INNER_PLAINTEXT_BYTES + 16
    assert len(RecordDecryptor(SUITE, S3_SERVER_AP).decrypt(record).content) == 2**14


@pytest.mark.parametrize(
    ("content_type", "content", "padding"),
    [
        (0, b"x", 0),
        (256, b"x", 0),
        (23, b"x", -1),
        (23, b"x" * (MAX_PLAINTEXT_BYTES + 1), 0),
        (23, b"x" * MAX_PLAINTEXT_BYTES, 1),
        (23, b"", MAX_PLAINTEXT_BYTES + 1),
    ],
    ids=["type-0", "type-256", "negative-padding", "content-too-long", "no-room-to-pad", "pad"],
)
def test_encrypt_refuses_what_cannot_be_sent(
    content_type: int, content: bytes, padding: int
) -> None:
    # Given a record we must not build
    encryptor = RecordEncryptor(SUITE, S3_SERVER_AP)

    # Then it is our bug, and no sequence number is used up
    with pytest.raises(LocalProtocolError):
        encryptor.encrypt(content_type, content, padding)
    assert encryptor.sequence_number == 0


def test_encryptor_stops_at_the_key_usage_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a key usage limit of two records (RFC 8446 §5.5; the real one is 2^24)
    monkeypatch.setattr(protection, "MAX_RECORDS_PER_KEY", 2)
    encryptor = RecordEncryptor(SUITE, S3_SERVER_AP)
    encryptor.encrypt(APPLICATION_DATA, b"1")
    encryptor.encrypt(APPLICATION_DATA, b"2")

    # When a third record is sealed
    # Then it is refused: rekey or close
    with pytest.raises(LocalProtocolError, match="under one key"):
        encryptor.encrypt(APPLICATION_DATA, b"3")


@pytest.mark.parametrize("suite", [0x0000, 0xC02F, 0x1306])
def test_non_tls13_suites_are_a_local_error(suite: int) -> None:
    # Given a suite without a TLS 1.3 AEAD
    # Then neither direction can be set up
    with pytest.raises(LocalProtocolError):
        RecordDecryptor(suite, bytes(32))
    with pytest.raises(LocalProtocolError):
        RecordEncryptor(suite, bytes(32))
