"""ServerStreamObserver on whole recorded flights: what it reads, and where encryption starts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from httpsaudit.errors import DecodeError, RemoteProtocolError
from httpsaudit.tls.codec import Writer
from httpsaudit.tls.codes import HandshakeType, NamedGroup
from httpsaudit.tls.messages import Alert
from httpsaudit.tls.observer import MAX_CLEARTEXT_MESSAGES, ObservedStream, ServerStreamObserver
from tests.vectors import load_hex

FUZZ = settings(max_examples=150, deadline=None)
VECTORS = (
    "rfc8448_simple_server_hello",
    "rfc8448_hrr",
    "openssl_tls12_flight",
    "openssl_tls13_flight",
    "openssl_hrr_flight",
    "openssl_handshake_failure_alert",
)
# End offsets of every record, read off the annotated vector files.
RECORD_ENDS = {
    "rfc8448_simple_server_hello": (95,),
    "rfc8448_hrr": (181,),
    "openssl_tls12_flight": (98, 1337, 1490, 1499, 1505, 1550),
    "openssl_tls13_flight": (127, 133, 161, 1422, 1523, 1581),
    "openssl_hrr_flight": (93, 99, 259, 287, 1548, 1650, 1708),
    "openssl_handshake_failure_alert": (7,),
}
TLS12_CCS_END = 1505


def failure_of(call: Callable[[], object]) -> RemoteProtocolError | None:
    """The RemoteProtocolError (DecodeError included) ``call`` raised; others propagate."""
    try:
        call()
    except RemoteProtocolError as error:
        return error
    return None


def observe(data: bytes) -> ServerStreamObserver:
    observer = ServerStreamObserver()
    observer.receive_data(data)
    return observer


def record(content_type: int, payload: bytes) -> bytes:
    return Writer().uint8(content_type).uint16(0x0303).opaque(2, payload).getvalue()


def handshake(msg_type: int, body: bytes) -> bytes:
    return Writer().uint8(msg_type).opaque(3, body).getvalue()


def test_rfc8448_server_hello_starts_encryption() -> None:
    # Given the RFC 8448 §3 ServerHello record
    data = load_hex("rfc8448_simple_server_hello")

    # When the observer reads it
    state = observe(data).state

    # Then it has the ServerHello, and knows everything after it is protected (TLS 1.3)
    assert state.records == 1
    assert state.wire_bytes == 95
    assert [(m.msg_type, m.offset) for m in state.messages] == [(2, 5)]
    assert state.server_hello is not None
    assert state.server_hello.cipher_suite == 0x1301
    assert state.server_hello.key_share_group == NamedGroup.x25519
    assert state.hello_retry_request is None
    assert state.alert is None
    assert state.encrypted


def test_rfc8448_hello_retry_request_is_still_cleartext() -> None:
    # Given the RFC 8448 §5 HelloRetryRequest record
    # When the observer reads it
    state = observe(load_hex("rfc8448_hrr")).state

    # Then it is kept as the HRR, not the ServerHello, and nothing is encrypted yet
    assert state.hello_retry_request is not None
    assert state.hello_retry_request.key_share_group == NamedGroup.secp256r1
    assert state.server_hello is None
    assert not state.encrypted


def test_tls13_capture_stops_reading_after_the_server_hello() -> None:
    # Given the captured TLS 1.3 flight: ServerHello, CCS, four encrypted records
    observer = observe(load_hex("openssl_tls13_flight"))

    # When its state is read
    state = observer.state

    # Then only the ServerHello was read as a message, and the rest counted as records
    assert state.encrypted
    assert [m.msg_type for m in state.messages] == [HandshakeType.SERVER_HELLO]
    assert state.records == 6
    assert state.wire_bytes == 1581
    assert state.server_hello is not None
    assert state.server_hello.selected_version == 0x0304
    assert state.hello_retry_request is None
    assert state.alert is None
    assert observer.messages_of_type(HandshakeType.CERTIFICATE) == ()


def test_hrr_capture_reads_the_retry_then_the_real_server_hello() -> None:
    # Given the captured HRR flight
    data = load_hex("openssl_hrr_flight")
    observer = ServerStreamObserver()

    # When the HRR and the CCS after it arrive
    observer.receive_data(data[:99])
    before = observer.state

    # Then the CCS after an HRR does not count as the start of encryption
    assert before.hello_retry_request is not None
    assert before.hello_retry_request.is_hello_retry_request
    assert before.server_hello is None
    assert not before.encrypted

    # When the rest arrives
    observer.receive_data(data[99:])
    after = observer.state

    # Then the real ServerHello (secp256r1, as the HRR asked) starts encryption
    assert after.server_hello is not None
    assert not after.server_hello.is_hello_retry_request
    assert after.server_hello.key_share_group == NamedGroup.secp256r1
    assert after.hello_retry_request == before.hello_retry_request
    assert [(m.msg_type, m.offset) for m in after.messages] == [(2, 5), (2, 104)]
    assert after.encrypted
    assert after.records == 7


def test_tls12_capture_yields_the_whole_first_flight() -> None:
    # Given the captured TLS 1.2 flight
    observer = observe(load_hex("openssl_tls12_flight"))

    # When its state is read
    state = observer.state

    # Then the four cleartext messages are there, at their offsets, and not the Finished
    assert [(m.msg_type, m.offset) for m in state.messages] == [
        (HandshakeType.SERVER_HELLO, 5),
        (HandshakeType.CERTIFICATE, 103),
        (HandshakeType.SERVER_KEY_EXCHANGE, 1342),
        (HandshakeType.SERVER_HELLO_DONE, 1495),
    ]
    assert state.server_hello is not None
    assert state.server_hello.cipher_suite == 0xC02B
    assert state.encrypted
    assert state.records == 6
    (certificate,) = observer.messages_of_type(HandshakeType.CERTIFICATE)
    assert len(certificate.body) == 1230
    assert observer.messages_of_type(HandshakeType.FINISHED) == ()


def test_tls12_capture_is_encrypted_only_after_the_ccs() -> None:
    # Given the captured TLS 1.2 flight, fed one byte at a time
    data = load_hex("openssl_tls12_flight")
    observer = ServerStreamObserver()
    became_encrypted_at = None

    # When each byte arrives
    for index in range(len(data)):
        observer.receive_data(data[index : index + 1])
        if observer.state.encrypted and became_encrypted_at is None:
            became_encrypted_at = index + 1

    # Then encryption starts exactly when the server's CCS record is complete
    assert became_encrypted_at == TLS12_CCS_END


def test_alert_record_sets_alert() -> None:
    # Given the captured handshake_failure alert
    # When the observer reads it
    state = observe(load_hex("openssl_handshake_failure_alert")).state

    # Then the alert is reported and nothing else
    assert state.alert == Alert(level=2, description=40)
    assert state.messages == ()
    assert state.server_hello is None
    assert not state.encrypted


def test_alert_after_the_ccs_is_encrypted_and_not_read() -> None:
    # Given the TLS 1.2 flight followed by a (protected) alert record
    data = load_hex("openssl_tls12_flight") + record(21, bytes(26))

    # When the observer reads it
    state = observe(data).state

    # Then the encrypted alert is counted as a record but not parsed
    assert state.alert is None
    assert state.records == 7


@pytest.mark.parametrize("name", VECTORS)
def test_byte_by_byte_equals_one_chunk(name: str) -> None:
    # Given a recorded flight
    data = load_hex(name)
    observer = ServerStreamObserver()
    seen: list[int] = []

    # When it is fed one byte at a time
    for index in range(len(data)):
        completed = observer.receive_data(data[index : index + 1])

        # Then every strict prefix of a record completes nothing and raises nothing
        if completed:
            seen.append(index + 1)
            assert [r.offset + r.wire_bytes for r in completed] == [index + 1]

    # And records complete exactly at their ends, with the same final state as one chunk
    assert tuple(seen) == RECORD_ENDS[name]
    assert observer.state == observe(data).state


@pytest.mark.parametrize("name", VECTORS)
def test_every_strict_prefix_is_a_consistent_partial_state(name: str) -> None:
    # Given a recorded flight
    data = load_hex(name)
    full = observe(data).state
    for cut in range(len(data)):
        # When only a strict prefix arrived
        state = observe(data[:cut]).state

        # Then no error, and what was read is a prefix of what the whole flight gives
        assert state.records == sum(1 for end in RECORD_ENDS[name] if end <= cut)
        assert state.messages == full.messages[: len(state.messages)]
        assert state.wire_bytes <= cut


@FUZZ
@given(st.sampled_from(VECTORS), st.lists(st.integers(1, 200), min_size=1, max_size=30))
def test_any_chunking_gives_the_same_state(name: str, sizes: list[int]) -> None:
    # Given a recorded flight cut into arbitrary chunks
    data = load_hex(name)
    observer = ServerStreamObserver()
    position = 0
    for size in sizes * (len(data) // sum(sizes) + 1):
        if position >= len(data):
            break
        # When each chunk arrives
        observer.receive_data(data[position : position + size])
        position += size

    # Then the state equals the one-chunk state
    assert observer.state == observe(data).state


def test_not_tls_is_refused_at_offset_zero() -> None:
    # Given a plaintext HTTP answer to a ClientHello
    # When the observer reads it
    with pytest.raises(DecodeError) as caught:
        observe(b"HTTP/1.1 400 Bad Request\r\n")

    # Then it is a DecodeError at the first byte
    assert caught.value.offset == 0


def test_corrupt_server_hello_in_a_flight_reports_its_stream_offset() -> None:
    # Given the TLS 1.2 flight with the ServerHello's session id length set to 33
    data = bytearray(load_hex("openssl_tls12_flight"))
    assert data[9 + 34] == 32
    data[9 + 34] = 33

    # When the observer reads it
    with pytest.raises(DecodeError) as caught:
        observe(bytes(data))

    # Then the offset is that byte's in the stream
    assert caught.value.offset == 43


def test_corrupt_real_server_hello_after_hrr_reports_its_stream_offset() -> None:
    # Given the HRR flight whose second ServerHello has an empty key_exchange length
    data = bytearray(load_hex("openssl_hrr_flight"))
    key_share_data = 108 + 38 + 32 + 2 + 6 + 4  # body + fields + session id + block + sv ext
    assert data[key_share_data : key_share_data + 4] == b"\x00\x17\x00\x41"
    data[key_share_data + 2 : key_share_data + 4] = b"\x00\x00"

    # When the observer reads it
    with pytest.raises(DecodeError) as caught:
        observe(bytes(data))

    # Then the offset is the key_exchange length field in the stream
    assert caught.value.offset == key_share_data + 2


def test_malformed_cleartext_alert_reports_its_stream_offset() -> None:
    # Given an alert record with three payload bytes
    data = record(21, b"\x02\x28\x00")

    # When the observer reads it
    with pytest.raises(DecodeError) as caught:
        observe(data)

    # Then the offset is the stray third byte: 5 + 2
    assert caught.value.offset == 7


def test_too_many_cleartext_messages_is_a_protocol_error() -> None:
    # Given one record holding MAX_CLEARTEXT_MESSAGES + 1 empty HelloRequest messages
    payload = handshake(0, b"") * (MAX_CLEARTEXT_MESSAGES + 1)

    # When the observer reads it
    with pytest.raises(RemoteProtocolError) as caught:
        observe(record(22, payload))

    # Then the error names the first message over the cap
    assert caught.value.offset == 5 + 4 * MAX_CLEARTEXT_MESSAGES


def test_tls13_cleartext_after_server_hello_in_the_same_record_is_refused() -> None:
    # Given the RFC ServerHello with a cleartext Certificate appended inside the same record.
    # RFC 8446 §5.1: a handshake message must not span a key change; the ServerHello must end
    # its record, since everything after it is protected.
    message = load_hex("rfc8448_simple_server_hello")[5:]
    data = record(22, message + handshake(11, b"\x00\x00\x00"))

    # When the observer reads it
    with pytest.raises(RemoteProtocolError) as caught:
        observe(data)

    # Then it is a protocol error at the first byte after the ServerHello
    assert caught.value.offset == 5 + len(message)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_raise_nothing_but_remote_protocol_error(data: bytes) -> None:
    # Given arbitrary bytes
    # When the observer reads them
    # Then it reads them or raises RemoteProtocolError (DecodeError is one) inside the stream
    # (or just past it, for a record whose payload is too short)
    error = failure_of(lambda: observe(data))
    if error is not None:
        assert error.offset is not None
        assert 0 <= error.offset <= len(data)


@FUZZ
@given(
    st.lists(
        st.tuples(st.sampled_from([20, 21, 22, 23]), st.binary(max_size=60)),
        max_size=8,
    )
)
def test_random_records_raise_nothing_but_remote_protocol_error(
    records: list[tuple[int, bytes]],
) -> None:
    # Given well-framed records of every content type with arbitrary payloads
    data = b"".join(record(content_type, payload) for content_type, payload in records)

    # When the observer reads them
    states: list[ObservedStream] = []
    error = failure_of(lambda: states.append(observe(data).state))

    # Then only RemoteProtocolError escapes, inside the stream (or just past its end)
    if error is not None:
        assert error.offset is not None
        assert 0 <= error.offset <= len(data)
    # Or every record was counted
    for state in states:
        assert state.records == len(records)
        assert state.wire_bytes == len(data)
