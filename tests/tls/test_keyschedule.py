"""The TLS 1.3 key schedule on RFC 8448 §3 and §4: every secret, key and IV byte for byte.

Expected values are the ones RFC 8448 prints (its "{server}/{client} derive ..." steps), with the
RFC's x25519 private keys as inputs; the messages come from ``fixtures/vectors`` (see its
README for provenance). Where a transcript runs through encrypted messages, the test opens the
RFC's records with ``RecordDecryptor``: a wrong key would fail authentication there.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from httpsaudit.errors import LocalProtocolError
from httpsaudit.tls.codes import CipherSuite
from httpsaudit.tls.keyschedule import (
    IV_BYTES,
    MAX_LABEL_BYTES,
    KeySchedule,
    TrafficKeys,
    derive_secret,
    finished_key,
    finished_verify_data,
    hash_for_suite,
    hkdf_expand_label,
    hkdf_extract,
    next_traffic_secret,
    resumption_psk,
    traffic_keys,
    transcript_hash,
)
from httpsaudit.tls.protection import RecordDecryptor
from httpsaudit.tls.records import Record, RecordBuffer
from tests.vectors import load_hex

SUITE = CipherSuite.TLS_AES_128_GCM_SHA256
SHA256 = hashes.SHA256()
H = bytes.fromhex
RECORD_HEADER = 5
FINISHED_MESSAGE_BYTES = 4 + 32

# RFC 8448 §3 inputs: "{client} create an ephemeral x25519 key pair" and the server's.
S3_CLIENT_PRIVATE = H("49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005")
S3_SERVER_PUBLIC = H("c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f")
# RFC 8448 §3 outputs, in the order the trace prints them.
S3_EMPTY_HASH = H("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
S3_EARLY = H("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
S3_DERIVED_FOR_HANDSHAKE = H("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba")
S3_SHARED = H("8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d")
S3_HANDSHAKE = H("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac")
S3_HELLO_HASH = H("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8")
S3_CLIENT_HS = H("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21")
S3_SERVER_HS = H("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
S3_DERIVED_FOR_MASTER = H("43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4")
S3_MASTER = H("18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919")
S3_SERVER_HS_KEYS = TrafficKeys(
    H("3fce516009c21727d0f2e4e86ee403bc"), H("5d313eb2671276ee13000b30")
)
S3_SERVER_FINISHED_KEY = H("008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8")
S3_SERVER_FINISHED = H("9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718")
S3_SERVER_FINISHED_HASH = H("9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13")
S3_CLIENT_AP = H("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5")
S3_SERVER_AP = H("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643")
S3_EXPORTER = H("fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50")
S3_SERVER_AP_KEYS = TrafficKeys(
    H("9f02283b6c9c07efc26bb9f2ac92e356"), H("cf782b88dd83549aadf1e984")
)
S3_CLIENT_HS_KEYS = TrafficKeys(
    H("dbfaa693d1762c5b666af5d950258d01"), H("5bd3c71b836e0b76bb73265f")
)
S3_CLIENT_FINISHED = H("a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61")
S3_CLIENT_AP_KEYS = TrafficKeys(
    H("17422dda596ed5d9acd890e3c63f5051"), H("5b78923dee08579033e523d9")
)
S3_RESUMPTION_MASTER = H("7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c")
# RFC 8448 §3 "{server} generate resumption secret": the ticket's nonce is two zero bytes.
S3_TICKET_NONCE = b"\x00\x00"
S3_PSK = H("4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3")

# RFC 8448 §4 inputs and outputs.
S4_SERVER_PRIVATE = H("de5b4476e7b490b2652d338acbf2948066f255f9440e23b98fc69835298dc107")
S4_CLIENT_PUBLIC = H("e4ffb68ac05f8d96c99da26698346c6be16482badddafe051a66b4f18d668f0b")
S4_EARLY = H("9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c")
S4_BINDER_HASH = H("63224b2e4573f2d3454ca84b9d009a04f6be9e05711a8396473aefa01e924a14")
S4_BINDER_KEY = H("69fe131a3bbad5d63c64eebcc30e395b9d8107726a13d074e389dbc8a4e47256")
S4_BINDER_FINISHED_KEY = H("5588673e72cb59c87d220caffe94f2dea9a3b1609f7d50e90a48227db9ed7eaa")
S4_BINDER = H("3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d")
S4_CLIENT_EARLY = H("3fbbe6a60deb66c30a32795aba0eff7eaa10105586e7be5c09678d63b6caab62")
S4_EARLY_EXPORTER = H("b2026866610937d7423e5be90862ccf24c0e6091186d34f812089ff5be2ef7df")
S4_CLIENT_EARLY_KEYS = TrafficKeys(
    H("920205a5b7bf2115e6fc5c2942834f54"), H("6d475f0993c8e564610db2b9")
)
S4_DERIVED_FOR_HANDSHAKE = H("5f1790bbd82c5e7d376ed2e1e52f8e6038c9346db61b43be9a52f77ef3998e80")
S4_SHARED = H("f44194756ff9ec9d25180635d66ea6824c6ab3bf179977be37f723570e7ccb2e")
S4_HANDSHAKE = H("005cb112fd8eb4ccc623bb88a07c64b3ede1605363fc7d0df8c7ce4ff0fb4ae6")
S4_CLIENT_HS = H("2faac08f851d35fea3604fcb4de82dc62c9b164a70974d0462e27f1ab278700f")
S4_SERVER_HS = H("fe927ae271312e8bf0275b581c54eef020450dc4ecffaa05a1a35d27518e7803")
S4_DERIVED_FOR_MASTER = H("e2f16030251df0874ba19b9aba257610bc6d531c1dd206df0ca6e84ae2a26742")
S4_MASTER = H("e2d32d4ed66dd37897a0e80c84107503ce58bf8aad4cb55a5002d77ecb890ece")
S4_SERVER_HS_KEYS = TrafficKeys(
    H("27c6bdc0a3dcea39a47326d79bc9e4ee"), H("9569ecdd4d0536705e9ef725")
)
S4_SERVER_FINISHED = H("48d3e0e1b3d907c6acff145e16090388c77b05c050b634ab1a88bbd0dd1a34b2")
S4_CLIENT_AP = H("2abbf2b8e381d23dbebe1dd2a7d16a8bf484cb4950d23fb7fb7fa8547062d9a1")
S4_SERVER_AP = H("cc21f1bf8feb7dd5fa505bd9c4b468a9984d554a993dc49e6d285598fb672691")
S4_EXPORTER = H("3fd93d4ffddc98e64b14dd107aedf8ee4add23f4510f58a4592d0b201bee56b4")
S4_SERVER_AP_KEYS = TrafficKeys(
    H("e857c690a34c5a9129d833619684f95e"), H("0685d6b561aab9ef1013faf9")
)
S4_CLIENT_HS_KEYS = TrafficKeys(
    H("b1530806f4adfeac83f1413032bbfa82"), H("eb50c16be7654abf99dd06d9")
)
S4_CLIENT_FINISHED = H("7230a9c952c25cd6138fc5e6628308c41c5335dd81b9f96bcea50fd32bda416d")
S4_CLIENT_AP_KEYS = TrafficKeys(
    H("3cf122f301c6358ca7989553250efd72"), H("ab1aec26aa78b8fc1176b9ac")
)
S4_RESUMPTION_MASTER = H("5e95bdf1f89005ea2e9aa0ba85e728e3c19c5fe0c699e3f5bee59faebd0b5406")
# The §4 ClientHello ends with binders<33..>: a 2-byte length, a 1-byte length, 32 bytes.
S4_BINDERS_BYTES = 2 + 1 + 32


def message_of(name: str) -> bytes:
    """The handshake message inside a one-record cleartext vector."""
    return load_hex(name)[RECORD_HEADER:]


def records_of(name: str) -> list[Record]:
    buffer = RecordBuffer()
    buffer.receive_data(load_hex(name))
    records: list[Record] = []
    while isinstance(record := buffer.next_record(), Record):
        records.append(record)
    return records


def x25519(private: bytes, public: bytes) -> bytes:
    key = X25519PrivateKey.from_private_bytes(private)
    return key.exchange(X25519PublicKey.from_public_bytes(public))


@dataclass(frozen=True)
class Trace:
    """Transcripts of one RFC 8448 handshake, with the encrypted flights opened."""

    client_hello: bytes
    server_hello: bytes
    server_flight: bytes
    client_flight: bytes
    schedule: KeySchedule


@functools.cache
def simple_trace() -> Trace:
    """RFC 8448 §3, walked the way the engine will: secrets first, then open the next record."""
    client_hello = message_of("rfc8448_simple_client_hello")
    server_hello = message_of("rfc8448_simple_server_hello")
    schedule = KeySchedule.start(SUITE).with_shared_secret(
        x25519(S3_CLIENT_PRIVATE, S3_SERVER_PUBLIC)
    )
    hello_hash = transcript_hash(SHA256, client_hello + server_hello)
    (flight_record,) = records_of("rfc8448_simple_server_encrypted_flight")
    server_flight = RecordDecryptor(
        SUITE, schedule.server_handshake_traffic_secret(hello_hash)
    ).decrypt(flight_record)
    (finished_record,) = records_of("rfc8448_simple_client_finished")
    client_flight = RecordDecryptor(
        SUITE, schedule.client_handshake_traffic_secret(hello_hash)
    ).decrypt(finished_record)
    return Trace(client_hello, server_hello, server_flight.content, client_flight.content, schedule)


@functools.cache
def resumed_trace() -> Trace:
    """RFC 8448 §4: the PSK from §3's ticket, x25519 again, an early-data flight from the client."""
    client_hello = message_of("rfc8448_resumed_client_hello")
    server_hello = message_of("rfc8448_resumed_server_hello")
    schedule = KeySchedule.start(SUITE, S3_PSK)
    early = RecordDecryptor(SUITE, schedule.client_early_traffic_secret(sha256(client_hello)))
    (early_data,) = records_of("rfc8448_resumed_early_data")
    early.decrypt(early_data)
    schedule = schedule.with_shared_secret(x25519(S4_SERVER_PRIVATE, S4_CLIENT_PUBLIC))
    hello_hash = sha256(client_hello + server_hello)
    (flight_record,) = records_of("rfc8448_resumed_server_encrypted_flight")
    server_flight = RecordDecryptor(
        SUITE, schedule.server_handshake_traffic_secret(hello_hash)
    ).decrypt(flight_record)
    end_of_early_data, finished = records_of("rfc8448_resumed_client_flight")
    client_flight = early.decrypt(end_of_early_data).content + (
        RecordDecryptor(SUITE, schedule.client_handshake_traffic_secret(hello_hash))
        .decrypt(finished)
        .content
    )
    return Trace(client_hello, server_hello, server_flight.content, client_flight, schedule)


def sha256(messages: bytes) -> bytes:
    return transcript_hash(SHA256, messages)


# --- Primitives ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suite", "digest_bytes"),
    [(0x1301, 32), (0x1302, 48), (0x1303, 32), (0x1304, 32), (0x1305, 32)],
)
def test_hash_for_each_tls13_suite(suite: int, digest_bytes: int) -> None:
    # Given a TLS 1.3 suite (RFC 8446 §B.4)
    # When its hash is asked for
    algorithm = hash_for_suite(suite)

    # Then it is SHA-384 for AES-256-GCM and SHA-256 for the others
    assert algorithm.digest_size == digest_bytes
    assert algorithm.name == ("sha384" if suite == 0x1302 else "sha256")


@pytest.mark.parametrize("suite", [0x0000, 0x1300, 0x1306, 0xC02F, 0xCCA8])
def test_hash_for_other_suites_is_a_local_error(suite: int) -> None:
    # Given a suite that is not TLS 1.3's
    # When its hash is asked for
    # Then it is our bug to have asked
    with pytest.raises(LocalProtocolError, match=f"0x{suite:04x}"):
        hash_for_suite(suite)


def test_hkdf_extract_rfc5869_vectors() -> None:
    # Given RFC 5869 A.1 (salt 00..0c) and A.3 (no salt), both with IKM 0x0b * 22
    ikm = b"\x0b" * 22

    # When extracted
    # Then the PRKs are the RFC's; an empty salt means HashLen zeros (RFC 5869 §2.2)
    assert hkdf_extract(SHA256, bytes(range(13)), ikm) == H(
        "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"
    )
    assert hkdf_extract(SHA256, b"", ikm) == H(
        "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"
    )
    assert hkdf_extract(SHA256, bytes(32), ikm) == hkdf_extract(SHA256, b"", ikm)


def test_transcript_hash_of_nothing() -> None:
    # Given no messages
    # When hashed
    # Then it is SHA-256(""), the context of every "derived" step in RFC 8448
    assert transcript_hash(SHA256, b"") == S3_EMPTY_HASH


def test_expand_label_puts_the_length_in_the_label() -> None:
    # Given one secret and label expanded to 16 and to 32 bytes
    short = hkdf_expand_label(SHA256, S3_SERVER_HS, b"key", b"", 16)
    long = hkdf_expand_label(SHA256, S3_SERVER_HS, b"key", b"", 32)

    # Then the shorter is not a prefix of the longer: HkdfLabel.length differs (RFC 8446 §7.1)
    assert short == S3_SERVER_HS_KEYS.key
    assert long[:16] != short


@pytest.mark.parametrize(
    ("label", "context", "length"),
    [
        (b"", b"", 32),
        (b"x" * (MAX_LABEL_BYTES + 1), b"", 32),
        (b"key", b"c" * 256, 32),
        (b"key", b"", 0),
        (b"key", b"", 255 * 32 + 1),
    ],
    ids=["empty-label", "label-250", "context-256", "length-0", "length-over-255-blocks"],
)
def test_expand_label_refuses_what_hkdf_label_cannot_encode(
    label: bytes, context: bytes, length: int
) -> None:
    # Given a label, context or length outside RFC 8446 §7.1 / RFC 5869 §2.3
    # When expanded
    # Then it is a local error, not a silently truncated field
    with pytest.raises(LocalProtocolError):
        hkdf_expand_label(SHA256, S3_SERVER_HS, label, context, length)


def test_expand_label_at_its_limits() -> None:
    # Given the longest label, context and SHA-256 output that HkdfLabel allows
    output = hkdf_expand_label(SHA256, S3_SERVER_HS, b"x" * MAX_LABEL_BYTES, b"c" * 255, 255 * 32)

    # Then it expands
    assert len(output) == 255 * 32


def test_derive_secret_wants_a_transcript_hash_not_messages() -> None:
    # Given messages where their hash belongs
    # When a secret is derived
    # Then the length mismatch is caught
    with pytest.raises(LocalProtocolError, match="transcript hash of 4 bytes"):
        derive_secret(SHA256, S3_EARLY, b"derived", b"oops")
    with pytest.raises(LocalProtocolError, match="transcript hash"):
        finished_verify_data(SHA256, S3_SERVER_HS, S3_EMPTY_HASH[:31])


@pytest.mark.parametrize(
    ("suite", "key_bytes"),
    [(0x1301, 16), (0x1302, 32), (0x1303, 32), (0x1304, 16), (0x1305, 16)],
)
def test_traffic_key_lengths(suite: int, key_bytes: int) -> None:
    # Given any traffic secret of the suite's hash length
    secret = bytes(range(hash_for_suite(suite).digest_size))

    # When its keys are derived
    keys = traffic_keys(suite, secret)

    # Then the key fits the AEAD and the IV is 12 bytes (RFC 8446 §5.3)
    assert len(keys.key) == key_bytes
    assert len(keys.iv) == IV_BYTES


def test_resumption_psk_refuses_an_overlong_nonce() -> None:
    # Given a 256-byte nonce (RFC 8446 §4.6.1: ticket_nonce<0..255>)
    # Then no PSK is derived from it
    with pytest.raises(LocalProtocolError):
        resumption_psk(SHA256, S3_RESUMPTION_MASTER, bytes(256))


def test_next_traffic_secret_is_the_traffic_upd_label() -> None:
    # Given the §3 server application secret (RFC 8448 has no KeyUpdate to check against)
    # When it is updated twice
    first = next_traffic_secret(SHA256, S3_SERVER_AP)
    second = next_traffic_secret(SHA256, first)

    # Then each step is HKDF-Expand-Label(secret, "traffic upd", "", 32) (RFC 8446 §7.2)
    assert first == hkdf_expand_label(SHA256, S3_SERVER_AP, b"traffic upd", b"", 32)
    assert len({S3_SERVER_AP, first, second}) == 3


# --- KeySchedule stages ---------------------------------------------------------------------------


def test_secrets_before_their_stage_are_a_local_error() -> None:
    # Given a schedule that has only its early secret
    schedule = KeySchedule.start(SUITE)

    # When a handshake or master secret is asked for
    # Then it is our bug: the shared secret was never added
    for derive in (
        schedule.client_handshake_traffic_secret,
        schedule.server_handshake_traffic_secret,
        schedule.client_application_traffic_secret,
        schedule.server_application_traffic_secret,
        schedule.exporter_master_secret,
        schedule.resumption_master_secret,
    ):
        with pytest.raises(LocalProtocolError, match="not known yet"):
            derive(S3_HELLO_HASH)


def test_the_shared_secret_is_added_once() -> None:
    # Given a schedule that already has its handshake secret
    schedule = KeySchedule.start(SUITE).with_shared_secret(S3_SHARED)

    # When another shared secret is added
    # Then it is refused; the first schedule is unchanged (frozen)
    with pytest.raises(LocalProtocolError, match="already set"):
        schedule.with_shared_secret(S3_SHARED)
    assert schedule.handshake_secret == S3_HANDSHAKE


def test_empty_inputs_are_a_local_error() -> None:
    # Given an empty PSK or shared secret (None is how "no PSK" / psk_ke is said)
    # Then each is refused
    with pytest.raises(LocalProtocolError, match="PSK"):
        KeySchedule.start(SUITE, b"")
    with pytest.raises(LocalProtocolError, match="shared secret"):
        KeySchedule.start(SUITE).with_shared_secret(b"")
    with pytest.raises(LocalProtocolError, match="0xc02f"):
        KeySchedule.start(0xC02F)


def test_psk_ke_mode_uses_zeros_for_the_shared_secret() -> None:
    # Given the §4 PSK without an (EC)DHE exchange (psk_ke, RFC 8446 §4.2.9)
    schedule = KeySchedule.start(SUITE, S3_PSK).with_shared_secret(None)

    # Then the handshake secret extracts HashLen zeros (RFC 8446 §7.1 "0")
    assert schedule.handshake_secret == hkdf_extract(SHA256, S4_DERIVED_FOR_HANDSHAKE, bytes(32))
    assert schedule.handshake_secret != S4_HANDSHAKE


def test_sha384_schedule_has_48_byte_secrets() -> None:
    # Given TLS_AES_256_GCM_SHA384 (no RFC 8448 trace uses it)
    schedule = KeySchedule.start(0x1302).with_shared_secret(bytes(range(32)))
    hello_hash = transcript_hash(hash_for_suite(0x1302), b"hello")

    # Then every secret is SHA-384 sized and the keys are AES-256's
    assert schedule.hash_length == 48
    secret = schedule.client_handshake_traffic_secret(hello_hash)
    assert len(secret) == len(schedule.early_secret) == len(schedule.master_secret or b"") == 48
    assert len(traffic_keys(0x1302, secret).key) == 32
    with pytest.raises(LocalProtocolError):
        schedule.client_handshake_traffic_secret(S3_HELLO_HASH)  # a SHA-256 hash


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=1, max_size=64), st.binary(min_size=1, max_size=64))
def test_schedule_matches_the_rfc_formulas(psk: bytes, shared: bytes) -> None:
    # Given any PSK and shared secret
    schedule = KeySchedule.start(SUITE, psk).with_shared_secret(shared)

    # Then the stages chain exactly as RFC 8446 §7.1 draws them
    empty = transcript_hash(SHA256, b"")
    early = hkdf_extract(SHA256, bytes(32), psk)
    handshake = hkdf_extract(SHA256, derive_secret(SHA256, early, b"derived", empty), shared)
    master = hkdf_extract(SHA256, derive_secret(SHA256, handshake, b"derived", empty), bytes(32))
    assert (schedule.early_secret, schedule.handshake_secret, schedule.master_secret) == (
        early,
        handshake,
        master,
    )


# --- RFC 8448 §3: simple 1-RTT --------------------------------------------------------------------


def test_rfc8448_simple_early_and_handshake_secrets() -> None:
    # Given the RFC's ClientHello, ServerHello and x25519 keys
    trace = simple_trace()
    schedule = trace.schedule

    # Then the early secret, the "derived" salts, the shared secret and the handshake secret
    # are the RFC's
    assert x25519(S3_CLIENT_PRIVATE, S3_SERVER_PUBLIC) == S3_SHARED
    assert schedule.early_secret == S3_EARLY
    assert derive_secret(SHA256, S3_EARLY, b"derived", S3_EMPTY_HASH) == S3_DERIVED_FOR_HANDSHAKE
    assert schedule.handshake_secret == S3_HANDSHAKE
    assert derive_secret(SHA256, S3_HANDSHAKE, b"derived", S3_EMPTY_HASH) == S3_DERIVED_FOR_MASTER
    assert schedule.master_secret == S3_MASTER


def test_rfc8448_simple_handshake_traffic_secrets_and_keys() -> None:
    # Given the transcript ClientHello..ServerHello
    trace = simple_trace()
    hello_hash = sha256(trace.client_hello + trace.server_hello)

    # Then the handshake traffic secrets, keys and IVs are the RFC's
    assert hello_hash == S3_HELLO_HASH
    assert trace.schedule.client_handshake_traffic_secret(hello_hash) == S3_CLIENT_HS
    assert trace.schedule.server_handshake_traffic_secret(hello_hash) == S3_SERVER_HS
    assert traffic_keys(SUITE, S3_SERVER_HS) == S3_SERVER_HS_KEYS
    assert traffic_keys(SUITE, S3_CLIENT_HS) == S3_CLIENT_HS_KEYS


def test_rfc8448_simple_finished_messages() -> None:
    # Given the opened server flight (EncryptedExtensions..Finished) and the client's Finished
    trace = simple_trace()
    before_server_finished = trace.server_flight[:-FINISHED_MESSAGE_BYTES]
    through_server_finished = trace.client_hello + trace.server_hello + trace.server_flight

    # When both Finished MACs are recomputed from the transcript
    server = finished_verify_data(
        SHA256,
        S3_SERVER_HS,
        sha256(trace.client_hello + trace.server_hello + before_server_finished),
    )
    client = finished_verify_data(SHA256, S3_CLIENT_HS, sha256(through_server_finished))

    # Then they are the RFC's and the ones the records carried
    assert finished_key(SHA256, S3_SERVER_HS) == S3_SERVER_FINISHED_KEY
    assert server == S3_SERVER_FINISHED == trace.server_flight[-32:]
    assert client == S3_CLIENT_FINISHED == trace.client_flight[-32:]


def test_rfc8448_simple_application_secrets_and_keys() -> None:
    # Given the transcript through the server Finished
    trace = simple_trace()
    server_finished_hash = sha256(trace.client_hello + trace.server_hello + trace.server_flight)

    # Then the application traffic secrets, exporter secret, keys and IVs are the RFC's
    assert server_finished_hash == S3_SERVER_FINISHED_HASH
    schedule = trace.schedule
    assert schedule.client_application_traffic_secret(server_finished_hash) == S3_CLIENT_AP
    assert schedule.server_application_traffic_secret(server_finished_hash) == S3_SERVER_AP
    assert schedule.exporter_master_secret(server_finished_hash) == S3_EXPORTER
    assert traffic_keys(SUITE, S3_SERVER_AP) == S3_SERVER_AP_KEYS
    assert traffic_keys(SUITE, S3_CLIENT_AP) == S3_CLIENT_AP_KEYS


def test_rfc8448_simple_resumption_master_secret_and_ticket_psk() -> None:
    # Given the transcript through the client Finished
    trace = simple_trace()
    transcript = trace.client_hello + trace.server_hello + trace.server_flight + trace.client_flight

    # When the resumption master secret and the PSK of the ticket (nonce 00 00) are derived
    resumption_master = trace.schedule.resumption_master_secret(sha256(transcript))

    # Then both are the RFC's
    assert resumption_master == S3_RESUMPTION_MASTER
    assert resumption_psk(SHA256, resumption_master, S3_TICKET_NONCE) == S3_PSK
    assert resumption_psk(SHA256, resumption_master, b"\x00") != S3_PSK


# --- RFC 8448 §4: resumed 0-RTT -------------------------------------------------------------------


def test_rfc8448_resumed_early_secret_and_binder() -> None:
    # Given the §3 ticket's PSK and the §4 ClientHello cut before its binders (RFC 8446 §4.2.11.2)
    schedule = KeySchedule.start(SUITE, S3_PSK)
    client_hello = message_of("rfc8448_resumed_client_hello")
    truncated = client_hello[:-S4_BINDERS_BYTES]

    # When the binder key and binder are derived
    binder_key = schedule.binder_key()
    binder = finished_verify_data(SHA256, binder_key, sha256(truncated))

    # Then they are the RFC's, and the binder is the one the ClientHello carries
    assert schedule.early_secret == S4_EARLY
    assert sha256(truncated) == S4_BINDER_HASH
    assert binder_key == S4_BINDER_KEY
    assert finished_key(SHA256, binder_key) == S4_BINDER_FINISHED_KEY
    assert binder == S4_BINDER == client_hello[-32:]
    assert schedule.binder_key(external=True) != binder_key  # "ext binder" is another label


def test_rfc8448_resumed_early_traffic() -> None:
    # Given the whole §4 ClientHello, binders included
    schedule = KeySchedule.start(SUITE, S3_PSK)
    client_hello_hash = sha256(message_of("rfc8448_resumed_client_hello"))

    # Then the client early traffic and early exporter secrets and keys are the RFC's
    early = schedule.client_early_traffic_secret(client_hello_hash)
    assert early == S4_CLIENT_EARLY
    assert schedule.early_exporter_master_secret(client_hello_hash) == S4_EARLY_EXPORTER
    assert traffic_keys(SUITE, early) == S4_CLIENT_EARLY_KEYS


def test_rfc8448_resumed_handshake_secrets_and_keys() -> None:
    # Given the PSK schedule with the §4 x25519 shared secret
    trace = resumed_trace()
    schedule = trace.schedule
    hello_hash = sha256(trace.client_hello + trace.server_hello)

    # Then the handshake and master secrets, handshake traffic secrets and keys are the RFC's
    assert x25519(S4_SERVER_PRIVATE, S4_CLIENT_PUBLIC) == S4_SHARED
    assert derive_secret(SHA256, S4_EARLY, b"derived", S3_EMPTY_HASH) == S4_DERIVED_FOR_HANDSHAKE
    assert schedule.handshake_secret == S4_HANDSHAKE
    assert derive_secret(SHA256, S4_HANDSHAKE, b"derived", S3_EMPTY_HASH) == S4_DERIVED_FOR_MASTER
    assert schedule.master_secret == S4_MASTER
    assert schedule.client_handshake_traffic_secret(hello_hash) == S4_CLIENT_HS
    assert schedule.server_handshake_traffic_secret(hello_hash) == S4_SERVER_HS
    assert traffic_keys(SUITE, S4_SERVER_HS) == S4_SERVER_HS_KEYS
    assert traffic_keys(SUITE, S4_CLIENT_HS) == S4_CLIENT_HS_KEYS


def test_rfc8448_resumed_finished_application_and_resumption() -> None:
    # Given the opened §4 flights: EncryptedExtensions + Finished; EndOfEarlyData + Finished
    trace = resumed_trace()
    schedule = trace.schedule
    hellos = trace.client_hello + trace.server_hello
    server_finished_hash = sha256(hellos + trace.server_flight)
    end_of_early_data = trace.client_flight[:4]

    # Then both Finished MACs, the application and exporter secrets and keys, and the
    # resumption master secret are the RFC's. The client Finished covers EndOfEarlyData.
    assert trace.server_flight[-32:] == S4_SERVER_FINISHED
    assert (
        finished_verify_data(
            SHA256, S4_SERVER_HS, sha256(hellos + trace.server_flight[:-FINISHED_MESSAGE_BYTES])
        )
        == S4_SERVER_FINISHED
    )
    assert end_of_early_data == b"\x05\x00\x00\x00"
    assert (
        finished_verify_data(
            SHA256, S4_CLIENT_HS, sha256(hellos + trace.server_flight + end_of_early_data)
        )
        == S4_CLIENT_FINISHED
        == trace.client_flight[-32:]
    )
    assert schedule.client_application_traffic_secret(server_finished_hash) == S4_CLIENT_AP
    assert schedule.server_application_traffic_secret(server_finished_hash) == S4_SERVER_AP
    assert schedule.exporter_master_secret(server_finished_hash) == S4_EXPORTER
    assert traffic_keys(SUITE, S4_SERVER_AP) == S4_SERVER_AP_KEYS
    assert traffic_keys(SUITE, S4_CLIENT_AP) == S4_CLIENT_AP_KEYS
    whole = hellos + trace.server_flight + trace.client_flight
    assert schedule.resumption_master_secret(sha256(whole)) == S4_RESUMPTION_MASTER
