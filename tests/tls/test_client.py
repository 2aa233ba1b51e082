"""The TLS 1.3 client engine on RFC 8448's traces: every client record byte for byte.

The engine gets the RFC's client randoms and private keys and the RFC's server records; it must
write the RFC's client records exactly (ClientHellos with binders and padding, 0-RTT data,
EndOfEarlyData, Finished, application data, close_notify). Variations a trace does not contain
(rejected 0-RTT, ALPN, psk_ke, KeyUpdate, broken servers) are the RFC's own server flights
re-sealed after one change, with keys the RFC prints or derives: still recorded bytes, no
server and no socket.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from httpsaudit.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from httpsaudit.tls.client import (
    MAX_POST_HANDSHAKE_MESSAGES,
    MAX_RECORDS_WITHOUT_EVENT,
    MAX_UNREAD_BYTES,
    NEED_DATA,
    ClientConnection,
    ClientParams,
    ClientState,
    ResumptionTicket,
)
from httpsaudit.tls.codec import Reader, Writer
from httpsaudit.tls.codes import (
    AlertDescription,
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    NamedGroup,
    PskKeyExchangeMode,
    SignatureScheme,
)
from httpsaudit.tls.events import (
    AlertReceived,
    ApplicationDataReceived,
    CertificateReceived,
    ConnectionClosed,
    EncryptedExtensionsReceived,
    Event,
    HandshakeComplete,
    HelloRetryRequestReceived,
    NewSessionTicketReceived,
    ServerHelloReceived,
)
from httpsaudit.tls.keyschedule import (
    KeySchedule,
    finished_verify_data,
    next_traffic_secret,
    transcript_hash,
)
from httpsaudit.tls.keyshare import key_share_from_private_bytes
from httpsaudit.tls.messages import (
    parse_certificate_request_tls13,
    parse_certificate_tls13,
    parse_certificate_verify,
    parse_encrypted_extensions,
    parse_extensions,
    parse_finished,
    parse_key_update,
    parse_new_session_ticket_tls13,
)
from httpsaudit.tls.protection import RecordDecryptor, RecordEncryptor
from httpsaudit.tls.records import NEED_DATA as RECORDS_NEED_DATA
from httpsaudit.tls.records import Record, RecordBuffer
from tests.vectors import (
    RFC_GROUPS,
    S3_AGE_ADD,
    S3_CLIENT_PRIVATE,
    S3_PSK,
    S3_RANDOM,
    S4_CLIENT_PRIVATE,
    S4_RANDOM,
    S4_TICKET_AGE_MS,
    S5_P256_PRIVATE,
    S5_RANDOM,
    S5_X25519_PRIVATE,
    S6_CLIENT_PRIVATE,
    S6_RANDOM,
    S7_CLIENT_PRIVATE,
    S7_RANDOM,
    S7_SESSION_ID,
    handshake_messages,
    load_hex,
    rfc_params,
    x25519_share,
)

H = bytes.fromhex
SUITE = CipherSuite.TLS_AES_128_GCM_SHA256
SHA256 = hashes.SHA256()
HEADER = 5

# --- RFC 8448 inputs and printed values ---------------------------------------------------------

# §3 (the client inputs are in tests/vectors.py)
S3_SERVER_HS = H("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
S3_CLIENT_HS = H("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21")
S3_SERVER_AP = H("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643")
S3_CLIENT_AP = H("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5")


def simple_params(**changes: object) -> ClientParams:
    params = rfc_params(S3_RANDOM, x25519_share(S3_CLIENT_PRIVATE), session_ticket_extension=True)
    return dataclasses.replace(params, **changes)  # type: ignore[arg-type]


RFC_TICKET = ResumptionTicket(
    suite_code=SUITE,
    psk=S3_PSK,
    ticket=parse_new_session_ticket_tls13(
        Reader(load_hex("rfc8448_simple_new_session_ticket")[4:])
    ).ticket,
    age_add=S3_AGE_ADD,
    lifetime_s=30,
    max_early_data_size=1024,
    server_name="server",
    alpn=None,
)


def resumed_params(**changes: object) -> ClientParams:
    base: dict[str, object] = {
        "ticket": RFC_TICKET,
        "ticket_age_ms": S4_TICKET_AGE_MS,
        "early_data": b"ABCDEF",
    }
    return rfc_params(S4_RANDOM, x25519_share(S4_CLIENT_PRIVATE), **{**base, **changes})


def hrr_params(**changes: object) -> ClientParams:
    params = rfc_params(
        S5_RANDOM,
        x25519_share(S5_X25519_PRIVATE),
        supported_groups=(0x001D, 0x0017, 0x0018),
        retry_key_shares=(key_share_from_private_bytes(NamedGroup.secp256r1, S5_P256_PRIVATE),),
    )
    return dataclasses.replace(params, **changes)  # type: ignore[arg-type]


def started(params: ClientParams) -> ClientConnection:
    connection = ClientConnection(params)
    connection.start()
    return connection


def events_of(connection: ClientConnection, data: bytes = b"") -> list[Event]:
    """Feed ``data`` and read events until NEED_DATA or the connection closes."""
    if data:
        connection.receive_data(data)
    events: list[Event] = []
    while True:
        event = connection.next_event()
        if event is NEED_DATA:
            return events
        events.append(event)
        if isinstance(event, ConnectionClosed):
            return events


def kinds(events: Iterable[Event]) -> list[str]:
    return [type(event).__name__ for event in events]


SIMPLE_SERVER = load_hex("rfc8448_simple_server_hello") + load_hex(
    "rfc8448_simple_server_encrypted_flight"
)
SIMPLE_AFTER = load_hex("rfc8448_simple_server_application_records")
RESUMED_SERVER = load_hex("rfc8448_resumed_server_hello") + load_hex(
    "rfc8448_resumed_server_encrypted_flight"
)
HRR_SERVER = load_hex("rfc8448_hrr_server_hello") + load_hex("rfc8448_hrr_server_encrypted_flight")


def connected_simple() -> tuple[ClientConnection, list[Event]]:
    connection = started(simple_params())
    connection.data_to_send()
    return connection, events_of(connection, SIMPLE_SERVER)


def records_of(data: bytes) -> list[Record]:
    buffer = RecordBuffer()
    buffer.receive_data(data)
    records: list[Record] = []
    while (record := buffer.next_record()) is not RECORDS_NEED_DATA:
        records.append(record)
    return records


def open_records(data: bytes, secret: bytes) -> list[tuple[int, bytes]]:
    """(content type, content) of each protected record in ``data``, in order, under one key."""
    decryptor = RecordDecryptor(SUITE, secret)
    return [
        (inner.content_type, inner.content)
        for inner in (decryptor.decrypt(record) for record in records_of(data))
    ]


def message(kind: int, body: bytes) -> bytes:
    return Writer().uint8(kind).opaque(3, body).getvalue()


def extension(kind: int, data: bytes) -> bytes:
    return Writer().uint16(kind).opaque(2, data).getvalue()


def extensions_block(*items: bytes) -> bytes:
    return Writer().opaque(2, b"".join(items)).getvalue()


def read_until_need_data(connection: ClientConnection) -> None:
    while connection.next_event() is not NEED_DATA:
        pass


def expect_failure(
    connection: ClientConnection, data: bytes, alert: int | None, match: str = ""
) -> RemoteProtocolError:
    """Feed ``data``; the engine must raise RemoteProtocolError and queue ``alert``."""
    connection.receive_data(data)
    with pytest.raises(RemoteProtocolError, match=f"(?i){match}") as caught:
        read_until_need_data(connection)
    assert connection.state is ClientState.FAILED
    assert connection.alert_sent == alert
    # A failed connection keeps failing the same way.
    with pytest.raises(RemoteProtocolError):
        connection.next_event()
    return caught.value


# --- RFC 8448 §3: simple 1-RTT handshake --------------------------------------------------------


def test_rfc8448_simple_client_hello_is_byte_identical() -> None:
    # Given the RFC's random, x25519 key and extensions
    connection = ClientConnection(simple_params())

    # When the engine starts
    connection.start()

    # Then its first flight is the RFC's ClientHello record, exactly
    assert connection.data_to_send() == load_hex("rfc8448_simple_client_hello")
    assert connection.first_flight == load_hex("rfc8448_simple_client_hello")
    assert connection.state is ClientState.WAIT_SERVER_HELLO


def test_rfc8448_simple_handshake_events_and_client_finished() -> None:
    # Given a started §3 connection
    connection = started(simple_params())
    connection.data_to_send()

    # When the server's ServerHello and encrypted flight arrive
    events = events_of(connection, SIMPLE_SERVER)

    # Then the events mirror the flight and the client Finished is the RFC's record
    assert kinds(events) == [
        "ServerHelloReceived",
        "EncryptedExtensionsReceived",
        "CertificateReceived",
        "HandshakeComplete",
    ]
    assert events[0] == ServerHelloReceived(SUITE, NamedGroup.x25519, psk_accepted=False)
    extensions = events[1]
    assert isinstance(extensions, EncryptedExtensionsReceived)
    assert extensions.alpn is None
    assert extensions.early_data_accepted is False
    assert [e.extension_type for e in extensions.extensions] == [
        ExtensionType.SUPPORTED_GROUPS,
        ExtensionType.RECORD_SIZE_LIMIT,
        ExtensionType.SERVER_NAME,
    ]
    certificate = events[2]
    assert isinstance(certificate, CertificateReceived)
    leaf = x509.load_der_x509_certificate(certificate.certificate_ders[0])
    assert leaf.subject.rfc4514_string() == "CN=rsa"
    assert certificate.entry_extensions == ((),)
    complete = events[3]
    assert isinstance(complete, HandshakeComplete)
    negotiated = complete.negotiated
    assert negotiated.cipher_suite == SUITE
    assert negotiated.group == NamedGroup.x25519
    assert negotiated.signature_scheme == SignatureScheme.rsa_pss_rsae_sha256
    assert negotiated.resumed is False
    assert negotiated.hello_retry_request is False
    assert negotiated.server_record_size_limit == 0x4001
    assert connection.negotiated == negotiated
    assert connection.state is ClientState.CONNECTED
    assert connection.data_to_send() == load_hex("rfc8448_simple_client_finished")


def test_rfc8448_simple_ticket_application_data_and_close() -> None:
    # Given a connected §3 client
    connection, _ = connected_simple()

    # When the server's NewSessionTicket, 50 bytes of data and close_notify arrive
    events = events_of(connection, SIMPLE_AFTER)

    # Then the ticket carries the RFC's resumption PSK, and the data and close come through
    assert kinds(events) == [
        "NewSessionTicketReceived",
        "ApplicationDataReceived",
        "ConnectionClosed",
    ]
    ticket_event = events[0]
    assert isinstance(ticket_event, NewSessionTicketReceived)
    assert ticket_event.ticket == RFC_TICKET
    assert events[1] == ApplicationDataReceived(bytes(range(50)))
    assert events[2] == ConnectionClosed(close_notify=True)
    assert connection.state is ClientState.CLOSED
    # A closed connection keeps saying so.
    assert connection.next_event() == ConnectionClosed(close_notify=True)


def test_rfc8448_simple_client_data_and_close_notify_are_byte_identical() -> None:
    # Given a connected §3 client
    connection, _ = connected_simple()
    connection.data_to_send()

    # When it sends the RFC's 50 bytes and closes
    connection.send_application_data(bytes(range(50)))
    connection.close()
    connection.close()  # a second close adds nothing

    # Then both records are the RFC's, and they open under the key the RFC prints
    sent = connection.data_to_send()
    assert sent == load_hex("rfc8448_simple_client_application_records")
    assert open_records(sent, S3_CLIENT_AP) == [
        (ContentType.APPLICATION_DATA, bytes(range(50))),
        (ContentType.ALERT, bytes([1, AlertDescription.CLOSE_NOTIFY])),
    ]


# --- RFC 8448 §4: resumed 0-RTT handshake -------------------------------------------------------


def test_rfc8448_resumed_first_flight_is_byte_identical() -> None:
    # Given the §3 ticket, the RFC's ticket age and the 6 bytes of 0-RTT data
    connection = ClientConnection(resumed_params())

    # When the engine starts
    connection.start()

    # Then the ClientHello (binder, obfuscated age, padding) and the early data record are the RFC's
    expected = load_hex("rfc8448_resumed_client_hello") + load_hex("rfc8448_resumed_early_data")
    assert connection.data_to_send() == expected
    assert connection.first_flight == expected
    assert connection.negotiated.early_data_offered is True


def test_rfc8448_resumed_handshake_sends_end_of_early_data_and_finished() -> None:
    # Given a started §4 connection
    connection = started(resumed_params())
    connection.data_to_send()

    # When the server accepts the PSK and the early data
    events = events_of(connection, RESUMED_SERVER)

    # Then no certificate is asked for, and EndOfEarlyData + Finished are the RFC's records
    assert kinds(events) == [
        "ServerHelloReceived",
        "EncryptedExtensionsReceived",
        "HandshakeComplete",
    ]
    assert events[0] == ServerHelloReceived(SUITE, NamedGroup.x25519, psk_accepted=True)
    accepted = events[1]
    assert isinstance(accepted, EncryptedExtensionsReceived)
    assert accepted.early_data_accepted is True
    negotiated = connection.negotiated
    assert negotiated.resumed is True
    assert negotiated.early_data_accepted is True
    assert negotiated.signature_scheme is None
    assert connection.data_to_send() == load_hex("rfc8448_resumed_client_flight")


# --- RFC 8448 §5: HelloRetryRequest -------------------------------------------------------------


def test_rfc8448_hrr_both_client_hellos_and_finished_are_byte_identical() -> None:
    # Given the §5 client: x25519 share, P-256 spare share for a retry
    connection = started(hrr_params())
    assert connection.data_to_send() == load_hex("rfc8448_hrr_client_hello_1")

    # When the HelloRetryRequest arrives
    retry = events_of(connection, load_hex("rfc8448_hrr"))

    # Then the engine has queued the RFC's second ClientHello itself
    assert len(retry) == 1
    event = retry[0]
    assert isinstance(event, HelloRetryRequestReceived)
    assert event.selected_group == NamedGroup.secp256r1
    assert event.cipher_suite == SUITE
    assert event.cookie is not None
    assert len(event.cookie) == 114
    assert connection.data_to_send() == load_hex("rfc8448_hrr_client_hello_2")

    # When the ServerHello and encrypted flight follow
    events = events_of(connection, HRR_SERVER)

    # Then the handshake completes on the message_hash transcript with the RFC's Finished
    assert kinds(events) == [
        "ServerHelloReceived",
        "EncryptedExtensionsReceived",
        "CertificateReceived",
        "HandshakeComplete",
    ]
    assert connection.negotiated.group == NamedGroup.secp256r1
    assert connection.negotiated.hello_retry_request is True
    assert connection.data_to_send() == load_hex("rfc8448_hrr_client_finished")


def test_hrr_without_a_spare_share_generates_one() -> None:
    # Given the §5 client without spare shares
    connection = started(hrr_params(retry_key_shares=()))
    connection.data_to_send()

    # When the HelloRetryRequest arrives
    events_of(connection, load_hex("rfc8448_hrr"))
    second = connection.data_to_send()

    # Then the second hello differs from the RFC's only in the 65-byte P-256 share
    expected = load_hex("rfc8448_hrr_client_hello_2")
    assert len(second) == len(expected)
    share_at = expected.index(bytes.fromhex("00170041")) + 4
    assert second[:share_at] == expected[:share_at]
    assert second[share_at + 65 :] == expected[share_at + 65 :]
    assert second[share_at] == 0x04
    assert second[share_at : share_at + 65] != expected[share_at : share_at + 65]


def test_a_second_hello_retry_request_is_an_unexpected_message() -> None:
    # Given a client that already answered one HelloRetryRequest
    connection = started(hrr_params())
    connection.data_to_send()
    events_of(connection, load_hex("rfc8448_hrr"))
    connection.data_to_send()

    # When a second one arrives (RFC 8446 §4.1.4)
    expect_failure(
        connection,
        load_hex("rfc8448_hrr"),
        AlertDescription.UNEXPECTED_MESSAGE,
        "second HelloRetryRequest",
    )

    # Then the alert goes out in the clear: there are no keys yet
    assert connection.data_to_send() == bytes([21, 3, 3, 0, 2, 2, 10])


def _hrr_record(*extensions: bytes, suite: int = SUITE) -> bytes:
    body = (
        Writer()
        .uint16(0x0303)
        .raw(H("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"))
        .opaque(1, b"")
        .uint16(suite)
        .uint8(0)
        .raw(extensions_block(*extensions))
        .getvalue()
    )
    return Writer().uint8(22).uint16(0x0303).opaque(2, message(2, body)).getvalue()


VERSIONS_13 = extension(ExtensionType.SUPPORTED_VERSIONS, b"\x03\x04")


ALPN = ExtensionType.APPLICATION_LAYER_PROTOCOL_NEGOTIATION


@pytest.mark.parametrize(
    ("extensions", "alert", "match"),
    [
        ((extension(ExtensionType.KEY_SHARE, b"\x00\x1d"), VERSIONS_13),
         AlertDescription.ILLEGAL_PARAMETER, "already had a share"),
        ((extension(ExtensionType.KEY_SHARE, b"\x00\x1e"), VERSIONS_13),
         AlertDescription.ILLEGAL_PARAMETER, "was not offered"),
        ((VERSIONS_13,), AlertDescription.ILLEGAL_PARAMETER, "changes nothing"),
        ((extension(ExtensionType.KEY_SHARE, b"\x00\x17"),),
         AlertDescription.PROTOCOL_VERSION, "only TLS 1.3 was offered"),
        ((extension(ExtensionType.KEY_SHARE, b"\x00\x17"), VERSIONS_13, extension(ALPN, b"")),
         AlertDescription.UNSUPPORTED_EXTENSION, "was not offered"),
        ((extension(ExtensionType.KEY_SHARE, b"\x00\x17"), VERSIONS_13,
          extension(ExtensionType.SIGNATURE_ALGORITHMS, b"")),
         AlertDescription.ILLEGAL_PARAMETER, "does not belong in a HelloRetryRequest"),
    ],
)  # fmt: skip
def test_hello_retry_requests_that_break_rfc8446_are_refused(
    extensions: tuple[bytes, ...], alert: int, match: str
) -> None:
    # Given the §5 client (x25519 share sent; x25519, secp256r1, secp384r1 listed)
    connection = started(hrr_params())
    connection.data_to_send()

    # When a HelloRetryRequest breaks one rule of RFC 8446 §4.1.4 / §4.2
    # Then the engine refuses it with a RemoteProtocolError carrying an offset, and an alert
    error = expect_failure(connection, _hrr_record(*extensions), alert, match)
    assert error.offset is not None


S4_BINDER_KEY = H("69fe131a3bbad5d63c64eebcc30e395b9d8107726a13d074e389dbc8a4e47256")


def _client_hello_extensions(record: bytes) -> dict[int, bytes]:
    reader = Reader(record[HEADER + 4 + 2 + 32 :])
    reader.opaque(1, "session id", maximum=32)
    reader.opaque(2, "suites", maximum=2**16 - 1)
    reader.opaque(1, "compression", maximum=255)
    return {e.extension_type: e.data for e in parse_extensions(reader, "ClientHello")}


def test_after_a_hello_retry_request_the_binder_covers_the_message_hash_transcript() -> None:
    # Given the §4 client (ticket, 0-RTT data) that also lists secp256r1 and has a spare share
    p256 = key_share_from_private_bytes(NamedGroup.secp256r1, S5_P256_PRIVATE)
    connection = started(
        resumed_params(supported_groups=(0x001D, 0x0017), retry_key_shares=(p256,))
    )
    first = connection.data_to_send()
    first_hello = first[: HEADER + int.from_bytes(first[3:5], "big")]

    # When the §5 HelloRetryRequest (secp256r1, a cookie) arrives
    hrr = load_hex("rfc8448_hrr")
    events = events_of(connection, hrr)
    second = connection.data_to_send()

    # Then the second hello drops early_data, keeps the ticket and its age, echoes the cookie
    assert kinds(events) == ["HelloRetryRequestReceived"]
    extensions = _client_hello_extensions(second)
    assert ExtensionType.EARLY_DATA not in extensions
    assert ExtensionType.COOKIE in extensions
    assert list(extensions)[-1] == ExtensionType.PRE_SHARED_KEY
    assert extensions[ExtensionType.PRE_SHARED_KEY][-4 - 35 : -35] == H("fad6aacb")
    # and its binder is HMAC(binder key, Hash(message_hash(CH1) || HRR || CH2 cut at binders)),
    # with the binder key the RFC prints for the §3 ticket (RFC 8446 §4.2.11.2, §4.4.1).
    first_hash = transcript_hash(SHA256, first_hello[HEADER:])
    message_hash = bytes([HandshakeType.MESSAGE_HASH, 0, 0, 32]) + first_hash
    truncated = second[HEADER : len(second) - 35]
    expected = finished_verify_data(
        SHA256, S4_BINDER_KEY, transcript_hash(SHA256, message_hash + hrr[HEADER:] + truncated)
    )
    assert second[-32:] == expected
    assert connection.negotiated.early_data_accepted is False


def test_a_hello_retry_request_with_another_hash_drops_the_ticket() -> None:
    # Given the §4 client and an HRR choosing TLS_AES_256_GCM_SHA384 (SHA-384, not the ticket's)
    p256 = key_share_from_private_bytes(NamedGroup.secp256r1, S5_P256_PRIVATE)
    connection = started(
        resumed_params(supported_groups=(0x001D, 0x0017), retry_key_shares=(p256,))
    )
    connection.data_to_send()
    hrr = _hrr_record(
        extension(ExtensionType.KEY_SHARE, b"\x00\x17"),
        VERSIONS_13,
        suite=CipherSuite.TLS_AES_256_GCM_SHA384,
    )

    # When it arrives
    events_of(connection, hrr)

    # Then the second hello offers no PSK (RFC 8446 §4.1.4)
    extensions = _client_hello_extensions(connection.data_to_send())
    assert ExtensionType.PRE_SHARED_KEY not in extensions
    assert ExtensionType.KEY_SHARE in extensions


# --- RFC 8448 §6: client authentication requested ---------------------------------------------


def test_rfc8448_client_auth_verifies_ecdsa_and_answers_with_an_empty_certificate() -> None:
    # Given the §6 client
    params = rfc_params(S6_RANDOM, x25519_share(S6_CLIENT_PRIVATE))
    connection = started(params)
    assert connection.data_to_send() == load_hex("rfc8448_client_auth_client_hello")

    # When the server asks for a certificate and signs with ECDSA P-256
    server_hello = load_hex("rfc8448_client_auth_server_hello")
    flight = load_hex("rfc8448_client_auth_server_encrypted_flight")
    events = events_of(connection, server_hello + flight)

    # Then the signature verifies, and we answer with an empty Certificate and our Finished
    assert kinds(events)[-1] == "HandshakeComplete"
    negotiated = connection.negotiated
    assert negotiated.signature_scheme == SignatureScheme.ecdsa_secp256r1_sha256
    assert negotiated.client_certificate_requested is True
    # Recompute the keys independently from the RFC's key shares and transcript.
    client_hello = load_hex("rfc8448_client_auth_client_hello")[HEADER:]
    server_public = server_hello[HEADER + 4 + 2 + 32 + 1 + 2 + 1 + 2 + 8 :][:32]
    shared = X25519PrivateKey.from_private_bytes(S6_CLIENT_PRIVATE).exchange(
        X25519PublicKey.from_public_bytes(server_public)
    )
    schedule = KeySchedule.start(SUITE).with_shared_secret(shared)
    hello_hash = transcript_hash(SHA256, client_hello + server_hello[HEADER:])
    server_plain = open_records(flight, schedule.server_handshake_traffic_secret(hello_hash))
    client_hs = schedule.client_handshake_traffic_secret(hello_hash)
    [(content_type, sent)] = open_records(connection.data_to_send(), client_hs)
    assert content_type == ContentType.HANDSHAKE
    [(certificate_type, certificate_body), (finished_type, verify_data)] = handshake_messages(sent)
    assert certificate_type == HandshakeType.CERTIFICATE
    assert certificate_body == b"\x00\x00\x00\x00"  # empty context, empty certificate_list
    assert finished_type == HandshakeType.FINISHED
    transcript = client_hello + server_hello[HEADER:] + server_plain[0][1] + sent[:8]
    assert verify_data == finished_verify_data(
        SHA256, client_hs, transcript_hash(SHA256, transcript)
    )


# --- RFC 8448 §7: middlebox compatibility mode --------------------------------------------------


def test_rfc8448_compatibility_mode_ccs_in_both_directions() -> None:
    # Given the §7 client: 32-byte legacy_session_id, compatibility CCS on
    params = rfc_params(
        S7_RANDOM,
        x25519_share(S7_CLIENT_PRIVATE),
        legacy_session_id=S7_SESSION_ID,
        send_compat_ccs=True,
    )
    connection = started(params)
    assert connection.data_to_send() == load_hex("rfc8448_compat_client_hello")

    # When the server's ServerHello, CCS and encrypted flight arrive
    events = events_of(
        connection,
        load_hex("rfc8448_compat_server_hello")
        + load_hex("rfc8448_compat_server_encrypted_flight"),
    )

    # Then the server's CCS is dropped, and we send CCS then Finished, as the RFC does
    assert kinds(events)[-1] == "HandshakeComplete"
    assert connection.data_to_send() == load_hex("rfc8448_compat_client_finished")


# --- feeding, determinism, replay --------------------------------------------------------------


TRACES: dict[str, tuple[Callable[[], ClientParams], tuple[bytes, ...]]] = {
    "simple": (simple_params, (SIMPLE_SERVER + SIMPLE_AFTER,)),
    "resumed": (resumed_params, (RESUMED_SERVER,)),
    "hrr": (hrr_params, (load_hex("rfc8448_hrr"), HRR_SERVER)),
    "compat": (
        lambda: rfc_params(
            S7_RANDOM,
            x25519_share(S7_CLIENT_PRIVATE),
            legacy_session_id=S7_SESSION_ID,
            send_compat_ccs=True,
        ),
        (
            load_hex("rfc8448_compat_server_hello")
            + load_hex("rfc8448_compat_server_encrypted_flight"),
        ),
    ),
}


def _run(
    params: ClientParams, flights: tuple[bytes, ...], chunk: int | None
) -> tuple[list[Event], bytes]:
    connection = started(params)
    sent = connection.data_to_send()
    events: list[Event] = []
    for flight in flights:
        pieces = (
            [flight]
            if chunk is None
            else [flight[i : i + chunk] for i in range(0, len(flight), chunk)]
        )
        for piece in pieces:
            events += events_of(connection, piece)
            sent += connection.data_to_send()
    return events, sent


@pytest.mark.parametrize("trace", sorted(TRACES))
def test_byte_at_a_time_gives_the_same_events_and_bytes(trace: str) -> None:
    # Given a trace fed whole
    make, flights = TRACES[trace]
    whole_events, whole_sent = _run(make(), flights, None)

    # When the same server bytes arrive one byte at a time
    split_events, split_sent = _run(make(), flights, 1)

    # Then the events and everything we sent are the same
    assert split_events == whole_events
    assert split_sent == whole_sent
    assert kinds(whole_events).count("HandshakeComplete") == 1


def test_equal_params_give_byte_identical_first_flights() -> None:
    # Given two engines built from equal (not identical) params, with early data
    first = ClientConnection(resumed_params())
    second = ClientConnection(resumed_params())
    assert resumed_params() == resumed_params()

    # When both start
    first.start()
    second.start()

    # Then the first flights are byte-identical, and first_flight is exactly what start() queued
    assert first.first_flight == second.first_flight
    assert first.data_to_send() == second.data_to_send() == first.first_flight
    # Fresh params (new randoms and keys) give a different flight.
    fresh = ClientParams.generate("server")
    assert (
        ClientConnection(fresh).first_flight
        != ClientConnection(ClientParams.generate("server")).first_flight
    )


def test_a_second_engine_completes_the_handshake_a_replayed_first_flight_started() -> None:
    # Given engine A's first flight was sent (the probe replays it on a new connection)
    replayed = ClientConnection(resumed_params()).first_flight

    # When engine B, built from equal params, reads the server's answer to those bytes
    engine_b = started(resumed_params())
    assert engine_b.data_to_send() == replayed
    events = events_of(engine_b, RESUMED_SERVER)

    # Then B completes the handshake and writes the same second flight
    assert kinds(events)[-1] == "HandshakeComplete"
    assert engine_b.data_to_send() == load_hex("rfc8448_resumed_client_flight")


# --- re-sealed RFC flights: one change each ------------------------------------------------------


def _simple_plaintext() -> bytes:
    [(content_type, plaintext)] = open_records(
        load_hex("rfc8448_simple_server_encrypted_flight"), S3_SERVER_HS
    )
    assert content_type == ContentType.HANDSHAKE
    return plaintext


def _reseal_simple(mutate: Callable[[list[tuple[int, bytes]]], list[tuple[int, bytes]]]) -> bytes:
    """The §3 ServerHello + the encrypted flight with its messages changed, sealed again."""
    messages = mutate(handshake_messages(_simple_plaintext()))
    plaintext = b"".join(message(kind, body) for kind, body in messages)
    sealed = RecordEncryptor(SUITE, S3_SERVER_HS).encrypt(ContentType.HANDSHAKE, plaintext)
    return load_hex("rfc8448_simple_server_hello") + sealed


def test_resealing_the_simple_flight_unchanged_gives_the_rfc_bytes() -> None:
    # Given the §3 flight opened with the RFC's server handshake secret
    # When it is sealed again without changes
    # Then the bytes are the RFC's: the helper below changes only what each test says
    assert _reseal_simple(lambda messages: messages) == SIMPLE_SERVER


def _replace(
    kind: int, body: bytes
) -> Callable[[list[tuple[int, bytes]]], list[tuple[int, bytes]]]:
    def change(messages: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
        return [(k, body if k == kind else b) for k, b in messages]

    return change


def _flip_last(kind: int) -> Callable[[list[tuple[int, bytes]]], list[tuple[int, bytes]]]:
    def change(messages: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
        return [(k, b[:-1] + bytes([b[-1] ^ 1]) if k == kind else b) for k, b in messages]

    return change


def _cv_with_scheme(scheme: int) -> Callable[[list[tuple[int, bytes]]], list[tuple[int, bytes]]]:
    def change(messages: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
        return [
            (k, scheme.to_bytes(2, "big") + b[2:] if k == HandshakeType.CERTIFICATE_VERIFY else b)
            for k, b in messages
        ]

    return change


@pytest.mark.parametrize(
    ("mutate", "alert", "match"),
    [
        (_flip_last(HandshakeType.FINISHED), AlertDescription.DECRYPT_ERROR, "Finished"),
        (_flip_last(HandshakeType.CERTIFICATE_VERIFY), AlertDescription.DECRYPT_ERROR, "wrong"),
        (_cv_with_scheme(SignatureScheme.rsa_pkcs1_sha256), AlertDescription.ILLEGAL_PARAMETER,
         "cannot sign"),
        (_cv_with_scheme(SignatureScheme.ecdsa_secp256r1_sha256),
         AlertDescription.ILLEGAL_PARAMETER, "does not fit"),
        (_cv_with_scheme(SignatureScheme.ed448), AlertDescription.ILLEGAL_PARAMETER,
         "was not offered"),
        (_replace(HandshakeType.CERTIFICATE, b"\x00\x00\x00\x00"), AlertDescription.DECODE_ERROR,
         "empty server Certificate"),
        (_replace(HandshakeType.ENCRYPTED_EXTENSIONS,
                  extensions_block(extension(16, b"\x00\x03\x02h2"))),
         AlertDescription.UNSUPPORTED_EXTENSION, "was not offered"),
        (_replace(HandshakeType.ENCRYPTED_EXTENSIONS,
                  extensions_block(extension(ExtensionType.KEY_SHARE, b""))),
         AlertDescription.ILLEGAL_PARAMETER, "does not belong"),
        (_replace(HandshakeType.ENCRYPTED_EXTENSIONS,
                  extensions_block(extension(ExtensionType.EARLY_DATA, b""))),
         AlertDescription.UNSUPPORTED_EXTENSION, "was not offered"),
        (lambda messages: messages[:1] + messages[2:], AlertDescription.UNEXPECTED_MESSAGE,
         "certificate_verify in state wait_certificate"),
    ],
)  # fmt: skip
def test_a_broken_server_flight_fails_with_the_right_alert(
    mutate: Callable[[list[tuple[int, bytes]]], list[tuple[int, bytes]]], alert: int, match: str
) -> None:
    # Given a started §3 client
    connection = started(simple_params())
    connection.data_to_send()

    # When the server's flight is changed in one way
    # Then the engine raises RemoteProtocolError and queues the alert RFC 8446 names for it
    expect_failure(connection, _reseal_simple(mutate), alert, match)
    # The fatal alert goes out under the client handshake key: the server can read it.
    assert open_records(connection.data_to_send(), S3_CLIENT_HS) == [
        (ContentType.ALERT, bytes([2, alert]))
    ]


def test_handshake_bytes_after_the_server_finished_in_its_record_are_refused() -> None:
    # Given a §3 flight with a second Finished in the same record as the first
    connection = started(simple_params())
    connection.data_to_send()
    flight = _reseal_simple(lambda messages: [*messages, messages[-1]])

    # When it is read, the handshake completes, then the extra bytes fail (RFC 8446 §5.1)
    expect_failure(connection, flight, AlertDescription.UNEXPECTED_MESSAGE, "same record")

    # Then our Finished went out under the handshake key, the alert under the application key
    finished, alert = records_of(connection.data_to_send())
    assert RecordDecryptor(SUITE, S3_CLIENT_HS).decrypt(finished).content_type == 22
    opened = RecordDecryptor(SUITE, S3_CLIENT_AP).decrypt(alert)
    assert (opened.content_type, opened.content) == (ContentType.ALERT, b"\x02\x0a")


def test_events_read_before_a_failure_come_out_before_the_error() -> None:
    # Given a §3 flight whose Finished is wrong
    connection = started(simple_params())
    connection.data_to_send()
    connection.receive_data(_reseal_simple(_flip_last(HandshakeType.FINISHED)))

    # When events are read
    seen = [connection.next_event() for _ in range(3)]

    # Then ServerHello, EncryptedExtensions and Certificate come first, then the error
    assert kinds(seen) == [
        "ServerHelloReceived",
        "EncryptedExtensionsReceived",
        "CertificateReceived",
    ]
    with pytest.raises(RemoteProtocolError, match=r"(?i)decrypt_error"):
        connection.next_event()


def test_a_tampered_record_is_bad_record_mac() -> None:
    # Given the §3 flight with one ciphertext bit flipped
    flight = bytearray(SIMPLE_SERVER)
    flight[200] ^= 0x01

    # Then the record does not authenticate
    connection = started(simple_params())
    connection.data_to_send()
    expect_failure(connection, bytes(flight), AlertDescription.BAD_RECORD_MAC, "bad_record_mac")


def _server_hello(
    *,
    session_id: bytes = b"",
    suite: int = SUITE,
    key_share: bytes | None = None,
    version: bytes | None = b"\x03\x04",
    extra: tuple[bytes, ...] = (),
) -> bytes:
    simple = load_hex("rfc8448_simple_server_hello")
    if key_share is None:
        key_share = simple[HEADER + 4 + 2 + 32 + 1 + 2 + 1 + 2 + 4 :][:36]
    items = [extension(ExtensionType.KEY_SHARE, key_share)]
    if version is not None:
        items.append(extension(ExtensionType.SUPPORTED_VERSIONS, version))
    body = (
        Writer()
        .uint16(0x0303)
        .raw(simple[HEADER + 6 : HEADER + 38])
        .opaque(1, session_id)
        .uint16(suite)
        .uint8(0)
        .raw(extensions_block(*items, *extra))
        .getvalue()
    )
    return Writer().uint8(22).uint16(0x0303).opaque(2, message(2, body)).getvalue()


def _drop_extension(record: bytes, kind: int) -> bytes:
    """A ServerHello record without one extension, every length fixed."""
    body = record[HEADER + 4 :]
    fixed = 2 + 32 + 1 + body[34] + 2 + 1
    reader = Reader(body[fixed:])
    kept = [e for e in parse_extensions(reader, "ServerHello") if e.extension_type != kind]
    new_body = body[:fixed] + extensions_block(*(extension(e.extension_type, e.data) for e in kept))
    return Writer().uint8(22).uint16(0x0303).opaque(2, message(2, new_body)).getvalue()


def test_a_tls12_answer_leaves_the_version_readable() -> None:
    # Given a started client (TLS 1.3 only)
    connection = started(simple_params())
    connection.data_to_send()

    # When a TLS 1.2 ServerHello arrives
    expect_failure(connection, _server_hello(version=None), AlertDescription.PROTOCOL_VERSION)

    # Then the probe can still read which version the server chose
    assert connection.negotiated.version == 0x0303


def test_the_server_hello_builder_rebuilds_the_rfc_record() -> None:
    # Given the helper with nothing changed
    # Then it writes the RFC's ServerHello: the variations below differ in one field each
    assert _server_hello() == load_hex("rfc8448_simple_server_hello")


@pytest.mark.parametrize(
    ("server_hello", "alert", "match"),
    [
        (_server_hello(session_id=b"\x01" * 32), AlertDescription.ILLEGAL_PARAMETER,
         "legacy_session_id_echo"),
        (_server_hello(suite=CipherSuite.TLS_AES_128_CCM_SHA256),
         AlertDescription.ILLEGAL_PARAMETER, "was not offered"),
        (_server_hello(key_share=b"\x00\x17\x00\x41\x04" + bytes(64)),
         AlertDescription.ILLEGAL_PARAMETER, "for which we sent none"),
        (_server_hello(key_share=b"\x00\x1d\x00\x20" + bytes(32)),
         AlertDescription.ILLEGAL_PARAMETER, "key share is invalid"),
        (_server_hello(version=None), AlertDescription.PROTOCOL_VERSION, "TLSv1.2"),
        (_server_hello(version=b"\x03\x03"), AlertDescription.PROTOCOL_VERSION, "TLSv1.2"),
        (_server_hello(extra=(extension(ExtensionType.PRE_SHARED_KEY, b"\x00\x00"),)),
         AlertDescription.UNSUPPORTED_EXTENSION, "was not offered"),
        (_server_hello(extra=(extension(ExtensionType.SIGNATURE_ALGORITHMS, b""),)),
         AlertDescription.ILLEGAL_PARAMETER, "does not belong"),
        (_server_hello()[:-1] + b"\x05", AlertDescription.PROTOCOL_VERSION, "0x0305"),
    ],
)  # fmt: skip
def test_a_broken_server_hello_fails_with_the_right_alert(
    server_hello: bytes, alert: int, match: str
) -> None:
    # Given a started §3 client
    connection = started(simple_params())
    connection.data_to_send()

    # When the ServerHello breaks one rule of RFC 8446 §4.1.3 / §4.2
    expect_failure(connection, server_hello, alert, match)

    # Then the alert goes out in the clear (no keys were derived)
    assert connection.data_to_send() == bytes([21, 3, 3, 0, 2, 2, alert])


# --- re-sealed §4 flights: a simulated server with the RFC's keys -------------------------------


def _resumed_server(
    client_hello_record: bytes,
    encrypted_extensions: bytes,
    *,
    server_hello: bytes | None = None,
    shared: bool = True,
    after: Iterable[tuple[int, bytes]] = (),
) -> bytes:
    """The §4 server's answer to ``client_hello_record``, EncryptedExtensions replaced.

    Everything comes from the RFC: the ServerHello, the PSK and the x25519 keys; the server
    Finished (and any ``after`` records under the server application key) is recomputed over
    the new transcript.
    """
    server_hello = server_hello or load_hex("rfc8448_resumed_server_hello")
    server_public = load_hex("rfc8448_resumed_server_hello")[-38:-6]
    secret = (
        X25519PrivateKey.from_private_bytes(S4_CLIENT_PRIVATE).exchange(
            X25519PublicKey.from_public_bytes(server_public)
        )
        if shared
        else None
    )
    schedule = KeySchedule.start(SUITE, S3_PSK).with_shared_secret(secret)
    transcript = client_hello_record[HEADER:] + server_hello[HEADER:]
    server_hs = schedule.server_handshake_traffic_secret(transcript_hash(SHA256, transcript))
    extensions = message(HandshakeType.ENCRYPTED_EXTENSIONS, encrypted_extensions)
    transcript += extensions
    finished = message(
        HandshakeType.FINISHED,
        finished_verify_data(SHA256, server_hs, transcript_hash(SHA256, transcript)),
    )
    transcript += finished
    flight = server_hello + RecordEncryptor(SUITE, server_hs).encrypt(
        ContentType.HANDSHAKE, extensions + finished
    )
    server_ap = schedule.server_application_traffic_secret(transcript_hash(SHA256, transcript))
    sealer = RecordEncryptor(SUITE, server_ap)
    for content_type, content in after:
        flight += sealer.encrypt(content_type, content)
    return flight


RFC_RESUMED_EE = H(
    "0026000a00140012001d00170018001901000101010201030104001c0002400100000000002a0000"
)
EE_WITHOUT_EARLY_DATA = H(
    "0022000a00140012001d00170018001901000101010201030104001c0002400100000000"
)


def test_the_simulated_resumed_server_reproduces_the_rfc_flight() -> None:
    # Given the §4 ClientHello and the RFC's EncryptedExtensions
    # When the simulated server answers
    # Then its bytes are the RFC's: the server Finished and sealing are computed right
    assert _resumed_server(load_hex("rfc8448_resumed_client_hello"), RFC_RESUMED_EE) == (
        RESUMED_SERVER
    )


def test_rejected_early_data_moves_to_handshake_keys_without_end_of_early_data() -> None:
    # Given the §4 client that sent 0-RTT data
    connection = started(resumed_params())
    hello = connection.data_to_send()[: len(load_hex("rfc8448_resumed_client_hello"))]

    # When the server resumes but leaves early_data out of EncryptedExtensions
    events = events_of(connection, _resumed_server(hello, EE_WITHOUT_EARLY_DATA))

    # Then 0-RTT is reported rejected, and only a Finished follows, under the handshake key
    assert kinds(events) == [
        "ServerHelloReceived",
        "EncryptedExtensionsReceived",
        "HandshakeComplete",
    ]
    assert connection.negotiated.early_data_accepted is False
    assert connection.negotiated.resumed is True
    schedule = KeySchedule.start(SUITE, S3_PSK).with_shared_secret(
        X25519PrivateKey.from_private_bytes(S4_CLIENT_PRIVATE).exchange(
            X25519PublicKey.from_public_bytes(load_hex("rfc8448_resumed_server_hello")[-38:-6])
        )
    )
    hello_hash = transcript_hash(
        SHA256, hello[HEADER:] + load_hex("rfc8448_resumed_server_hello")[HEADER:]
    )
    [(_, sent)] = open_records(
        connection.data_to_send(), schedule.client_handshake_traffic_secret(hello_hash)
    )
    assert [kind for kind, _ in handshake_messages(sent)] == [HandshakeType.FINISHED]
    # The caller resends the request after the handshake, under the application keys.
    connection.send_application_data(b"ABCDEF")
    assert connection.data_to_send()


def test_alpn_is_negotiated_and_carried_into_tickets() -> None:
    # Given a ticket bound to "h2" and a client offering h2 with 0-RTT
    ticket = dataclasses.replace(RFC_TICKET, alpn="h2")
    connection = started(resumed_params(ticket=ticket, alpn=("h2", "http/1.1")))
    hello = connection.data_to_send()
    hello = hello[: 5 + int.from_bytes(hello[3:5], "big")]
    alpn = extension(16, Writer().opaque(2, b"\x02h2").getvalue())
    nst = load_hex("rfc8448_simple_new_session_ticket")

    # When the server accepts early data with ALPN h2 and then issues a ticket
    flight = _resumed_server(
        hello,
        extensions_block(alpn, extension(ExtensionType.EARLY_DATA, b"")),
        after=[(ContentType.HANDSHAKE, nst)],
    )
    events = events_of(connection, flight)

    # Then ALPN is reported and the new ticket remembers it
    extensions = events[1]
    assert isinstance(extensions, EncryptedExtensionsReceived)
    assert extensions.alpn == "h2"
    assert extensions.early_data_accepted is True
    issued = events[-1]
    assert isinstance(issued, NewSessionTicketReceived)
    assert issued.ticket.alpn == "h2"
    assert issued.ticket.max_early_data_size == 1024


def test_early_data_accepted_under_another_alpn_is_refused() -> None:
    # Given a ticket bound to "http/1.1" and a client offering both protocols
    ticket = dataclasses.replace(RFC_TICKET, alpn="http/1.1")
    connection = started(resumed_params(ticket=ticket, alpn=("h2", "http/1.1")))
    hello = connection.data_to_send()
    hello = hello[: 5 + int.from_bytes(hello[3:5], "big")]
    alpn = extension(16, Writer().opaque(2, b"\x02h2").getvalue())

    # When the server accepts 0-RTT but picks h2 (RFC 8446 §4.2.10 forbids it)
    flight = _resumed_server(
        hello, extensions_block(alpn, extension(ExtensionType.EARLY_DATA, b""))
    )

    # Then the engine refuses it
    expect_failure(connection, flight, AlertDescription.ILLEGAL_PARAMETER, "ALPN")


def test_psk_ke_sends_no_key_share_and_resumes_without_one() -> None:
    # Given a client offering the ticket in psk_ke mode alone
    params = resumed_params(psk_modes=(PskKeyExchangeMode.psk_ke,), early_data=None)
    connection = started(params)
    hello = connection.data_to_send()

    # Then its hello has neither key_share nor supported_groups (RFC 8446 §9.2)
    reader = Reader(hello[HEADER + 4 + 2 + 32 :])
    reader.opaque(1, "session id", maximum=32)
    reader.opaque(2, "suites", maximum=2**16 - 1)
    reader.opaque(1, "compression", maximum=255)
    sent = {item.extension_type for item in parse_extensions(reader, "ClientHello")}
    assert ExtensionType.KEY_SHARE not in sent
    assert ExtensionType.SUPPORTED_GROUPS not in sent
    assert ExtensionType.PRE_SHARED_KEY in sent

    # When the server resumes without a key share (the §4 ServerHello minus its key_share)
    psk_only = _server_hello(
        key_share=None, extra=(extension(ExtensionType.PRE_SHARED_KEY, b"\x00\x00"),)
    )
    psk_only = _drop_extension(psk_only, ExtensionType.KEY_SHARE)
    # (supported_groups was not sent, so the server must not answer it)
    plain_extensions = extensions_block(extension(ExtensionType.SERVER_NAME, b""))
    flight = _resumed_server(hello, plain_extensions, server_hello=psk_only, shared=False)
    events = events_of(connection, flight)

    # Then it completes with no group
    assert events[0] == ServerHelloReceived(SUITE, None, psk_accepted=True)
    assert kinds(events)[-1] == "HandshakeComplete"


def test_an_extension_we_sent_survives_as_an_int() -> None:
    # Given a client sending an extension the engine does not know
    unknown = 0xFE00
    connection = started(resumed_params(early_data=None, extra_extensions=((unknown, b""),)))
    hello = connection.data_to_send()

    # When the server answers it in EncryptedExtensions
    flight = _resumed_server(hello, extensions_block(extension(unknown, b"\x2a")))
    events = events_of(connection, flight)

    # Then the answer is handed out with its type as a plain int
    extensions = events[1]
    assert isinstance(extensions, EncryptedExtensionsReceived)
    assert [(e.extension_type, e.data) for e in extensions.extensions] == [(unknown, b"\x2a")]


# --- after the handshake -------------------------------------------------------------------------


def _after_simple(*records: tuple[int, bytes], secret: bytes = S3_SERVER_AP) -> bytes:
    sealer = RecordEncryptor(SUITE, secret)
    return b"".join(sealer.encrypt(kind, content) for kind, content in records)


def test_key_update_is_followed_and_answered() -> None:
    # Given a connected §3 client
    connection, _ = connected_simple()
    connection.data_to_send()

    # When the server sends KeyUpdate(update_requested), then data under its next key
    next_server = next_traffic_secret(SHA256, S3_SERVER_AP)
    flight = _after_simple((ContentType.HANDSHAKE, message(HandshakeType.KEY_UPDATE, b"\x01")))
    flight += RecordEncryptor(SUITE, next_server).encrypt(ContentType.APPLICATION_DATA, b"hi")
    events = events_of(connection, flight)

    # Then the data opens, and we answered KeyUpdate(update_not_requested) and moved on too
    assert events == [ApplicationDataReceived(b"hi")]
    connection.send_application_data(b"after")
    sent = records_of(connection.data_to_send())
    old = RecordDecryptor(SUITE, S3_CLIENT_AP).decrypt(sent[0])
    assert parse_key_update(Reader(old.content[4:])) == 0
    new = RecordDecryptor(SUITE, next_traffic_secret(SHA256, S3_CLIENT_AP)).decrypt(sent[1])
    assert new.content == b"after"


def test_post_handshake_messages_are_capped() -> None:
    # Given a connected §3 client
    connection, _ = connected_simple()
    nst = load_hex("rfc8448_simple_new_session_ticket")

    # When the server sends one ticket more than the cap
    flight = _after_simple(*[(ContentType.HANDSHAKE, nst)] * (MAX_POST_HANDSHAKE_MESSAGES + 1))
    connection.receive_data(flight)

    # Then every ticket up to the cap comes out, and the next one is an error
    for _ in range(MAX_POST_HANDSHAKE_MESSAGES):
        assert isinstance(connection.next_event(), NewSessionTicketReceived)
    with pytest.raises(RemoteProtocolError, match="post-handshake"):
        connection.next_event()


def test_records_without_an_event_are_capped() -> None:
    # Given a started client
    connection = started(simple_params())
    connection.data_to_send()

    # When the server sends only compatibility CCS records, more than the cap
    ccs = bytes([20, 3, 3, 0, 1, 1])
    expect_failure(
        connection,
        ccs * (MAX_RECORDS_WITHOUT_EVENT + 1),
        AlertDescription.UNEXPECTED_MESSAGE,
        "without an event",
    )


def test_unread_bytes_are_capped() -> None:
    # Given a started client
    connection = started(simple_params())

    # When more than the cap arrives before anything is read
    connection.receive_data(bytes([22, 3, 3]))
    connection.receive_data(bytes(MAX_UNREAD_BYTES))

    # Then the engine gives up once the buffered bytes are read
    with pytest.raises(RemoteProtocolError, match="not yet read"):
        read_until_need_data(connection)


def test_end_of_stream_after_the_handshake_is_a_close_without_close_notify() -> None:
    # Given a connected client
    connection, _ = connected_simple()

    # When the stream ends between records
    connection.receive_data(b"")

    # Then the connection is closed, and says close_notify was missing
    assert connection.next_event() == ConnectionClosed(close_notify=False)
    assert connection.state is ClientState.CLOSED


def test_end_of_stream_during_the_handshake_is_an_error() -> None:
    # Given a client waiting for the rest of the server flight
    connection = started(simple_params())
    connection.data_to_send()
    connection.receive_data(SIMPLE_SERVER[:150])
    events_of(connection)

    # When the stream ends
    connection.receive_data(b"")

    # Then the engine reports where, and sends no alert to a closed peer
    with pytest.raises(RemoteProtocolError, match="closed the connection"):
        connection.next_event()
    assert connection.alert_sent is None


def test_a_server_alert_is_an_event_and_closes() -> None:
    # Given a started client
    connection = started(simple_params())
    connection.data_to_send()

    # When the server answers with a handshake_failure alert
    events = events_of(connection, bytes([21, 3, 3, 0, 2, 2, 40]))

    # Then it is reported as an event, and the connection is closed
    assert events == [
        AlertReceived(2, AlertDescription.HANDSHAKE_FAILURE),
        ConnectionClosed(close_notify=False),
    ]
    assert connection.state is ClientState.CLOSED
    assert connection.next_event() == ConnectionClosed(close_notify=False)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (bytes([20, 3, 3, 0, 1, 2]), "change_cipher_spec 02"),
        (bytes([23, 3, 3, 0, 1, 0]), "application_data record before the ServerHello"),
        (bytes([22, 3, 3, 0, 0]), "zero-length handshake fragment"),
        (bytes([22, 3, 3, 0, 4, 11, 0, 0, 0]), "certificate in state wait_server_hello"),
    ],
)
def test_unexpected_records_before_the_server_hello(data: bytes, match: str) -> None:
    # Given a started client
    connection = started(simple_params())
    connection.data_to_send()

    # Then each of these is an unexpected_message
    expect_failure(connection, data, AlertDescription.UNEXPECTED_MESSAGE, match)


def test_a_change_cipher_spec_after_the_handshake_is_unexpected() -> None:
    # Given a connected client
    connection, _ = connected_simple()
    connection.data_to_send()

    # Then a CCS now is an unexpected_message (RFC 8446 §5)
    expect_failure(
        connection, bytes([20, 3, 3, 0, 1, 1]), AlertDescription.UNEXPECTED_MESSAGE, "connected"
    )


# --- misuse is a LocalProtocolError -------------------------------------------------------------


def test_misuse_is_a_local_protocol_error() -> None:
    connection = ClientConnection(simple_params())
    with pytest.raises(LocalProtocolError):
        connection.next_event()
    with pytest.raises(LocalProtocolError):
        connection.send_application_data(b"x")
    connection.start()
    with pytest.raises(LocalProtocolError):
        connection.start()
    with pytest.raises(LocalProtocolError):
        connection.send_application_data(b"too early")


@pytest.mark.parametrize(
    "changes",
    [
        {"random": bytes(31)},
        {"legacy_session_id": bytes(33)},
        {"cipher_suites": ()},
        {"cipher_suites": (0xC02F,)},
        {"supported_groups": (0x0017,)},
        {"signature_algorithms": ()},
        {"alpn": ("",)},
        {"server_name": "bücher.example"},
        {"early_data": b"x"},
        {"ticket": RFC_TICKET, "early_data": bytes(1025)},
        {"ticket": dataclasses.replace(RFC_TICKET, suite_code=0x1302), "cipher_suites": (0x1301,),
         "early_data": b"x"},
        {"ticket": RFC_TICKET, "psk_modes": ()},
        {"ticket_age_ms": -1},
    ],
)  # fmt: skip
def test_invalid_params_are_refused(changes: dict[str, object]) -> None:
    # Given one invalid setting
    # Then building the params is our mistake, reported before anything is sent
    with pytest.raises(LocalProtocolError):
        simple_params(**changes)


def test_duplicate_key_shares_are_refused() -> None:
    share = x25519_share(S3_CLIENT_PRIVATE)
    with pytest.raises(LocalProtocolError, match="same group"):
        simple_params(key_shares=(share, share))


# --- the new parsers, on the RFC's plaintext --------------------------------------------------


def test_the_tls13_server_flight_parsers_read_the_rfc_messages() -> None:
    # Given the §3 EncryptedExtensions, Certificate, CertificateVerify, Finished
    messages = dict(handshake_messages(_simple_plaintext()))

    # When each is parsed
    extensions = parse_encrypted_extensions(Reader(messages[HandshakeType.ENCRYPTED_EXTENSIONS]))
    certificate = parse_certificate_tls13(Reader(messages[HandshakeType.CERTIFICATE]))
    verify = parse_certificate_verify(Reader(messages[HandshakeType.CERTIFICATE_VERIFY]))
    finished = parse_finished(Reader(messages[HandshakeType.FINISHED]), 32)

    # Then the fields are the RFC's
    assert extensions.record_size_limit == 0x4001
    assert extensions.server_name_acknowledged is True
    assert extensions.supported_groups == RFC_GROUPS
    assert certificate.request_context == b""
    assert len(certificate.certificate_ders) == 1
    assert len(certificate.certificate_ders[0]) == 432
    assert verify.algorithm == SignatureScheme.rsa_pss_rsae_sha256
    assert len(verify.signature) == 128
    assert finished == H("9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718")


def test_the_certificate_request_parser_reads_the_rfc_message() -> None:
    # Given the §6 server flight opened with keys derived from the RFC's inputs
    server_hello = load_hex("rfc8448_client_auth_server_hello")
    client_hello = load_hex("rfc8448_client_auth_client_hello")
    shared = X25519PrivateKey.from_private_bytes(S6_CLIENT_PRIVATE).exchange(
        X25519PublicKey.from_public_bytes(server_hello[-38:-6])
    )
    schedule = KeySchedule.start(SUITE).with_shared_secret(shared)
    secret = schedule.server_handshake_traffic_secret(
        transcript_hash(SHA256, client_hello[HEADER:] + server_hello[HEADER:])
    )
    [(_, plaintext)] = open_records(load_hex("rfc8448_client_auth_server_encrypted_flight"), secret)
    request_body = dict(handshake_messages(plaintext))[HandshakeType.CERTIFICATE_REQUEST]

    # When it is parsed
    request = parse_certificate_request_tls13(Reader(request_body))

    # Then it has an empty context and the signature_algorithms it must have
    assert request.request_context == b""
    assert request.extension(ExtensionType.SIGNATURE_ALGORITHMS) is not None


@pytest.mark.parametrize(
    ("parser", "data"),
    [
        (parse_encrypted_extensions, b""),
        (parse_encrypted_extensions, extensions_block(extension(28, b"\x00\x3f"))),
        (parse_encrypted_extensions, extensions_block(extension(42, b"\x00"))),
        (parse_certificate_tls13, b"\x00\x00\x00\x05\x00\x00\x01\x00\x00"),
        (parse_certificate_verify, b"\x08\x04\x00\x02\x00"),
        (parse_certificate_request_tls13, b"\x00\x00\x00"),
        (parse_key_update, b"\x02"),
    ],
)
def test_the_new_parsers_raise_decode_errors(
    parser: Callable[[Reader], object], data: bytes
) -> None:
    # Given a malformed message body
    # Then parsing raises DecodeError with an offset
    with pytest.raises(DecodeError) as caught:
        parser(Reader(data, base=100))
    assert caught.value.offset is not None
    assert caught.value.offset >= 100


# --- hypothesis: corrupted server flights raise only protocol errors --------------------------


def _feed_all(params: ClientParams, flights: Iterable[bytes]) -> None:
    connection = started(params)
    for flight in flights:
        connection.receive_data(flight)
        try:
            while (event := connection.next_event()) is not NEED_DATA:
                if isinstance(event, ConnectionClosed):
                    return
        except RemoteProtocolError:
            # DecodeError is a RemoteProtocolError: the only failures a server can cause.
            assert connection.state is ClientState.FAILED
            return


_MUTATIONS = st.lists(
    st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)),
    min_size=1,
    max_size=4,
)


def _mutate(data: bytes, changes: list[tuple[int, int]]) -> bytes:
    mutated = bytearray(data)
    for position, value in changes:
        mutated[position % len(mutated)] = value
    return bytes(mutated)


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trace=st.sampled_from(sorted(TRACES)), changes=_MUTATIONS, cut=st.integers(min_value=0))
def test_mutated_server_bytes_raise_only_protocol_errors(
    trace: str, changes: list[tuple[int, int]], cut: int
) -> None:
    # Given a trace's server bytes with a few bytes changed and maybe cut short
    make, flights = TRACES[trace]
    mutated = [_mutate(flight, changes) for flight in flights]
    mutated[-1] = mutated[-1][: len(mutated[-1]) - cut % 8]

    # When the engine reads them
    # Then it finishes, waits for more, or raises RemoteProtocolError/DecodeError: nothing else
    _feed_all(make(), mutated)


# A mutated certificate may carry a negative serial number; cryptography warns about it while
# parsing (and pytest turns warnings into errors). The engine then goes on to its verdict.
@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=_MUTATIONS, which=st.integers(min_value=0, max_value=3))
def test_mutated_handshake_plaintext_raises_only_protocol_errors(
    changes: list[tuple[int, int]], which: int
) -> None:
    # Given the §3 flight with bytes changed inside one decrypted message, sealed again
    def mutate(messages: list[tuple[int, bytes]]) -> list[tuple[int, bytes]]:
        kind, body = messages[which]
        messages[which] = (kind, _mutate(body, changes) if body else body)
        return messages

    # When the engine reads it, the parsers and checks see the damage directly
    # Then only RemoteProtocolError/DecodeError come out
    _feed_all(simple_params(), [_reseal_simple(mutate)])


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=600))
def test_random_bytes_raise_only_protocol_errors(data: bytes) -> None:
    # Given anything at all from the server
    # Then the engine never raises a foreign exception
    _feed_all(simple_params(), [data])
