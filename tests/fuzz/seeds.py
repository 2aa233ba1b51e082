"""Valid inputs to start fuzzing from, all derived from the recorded vectors (fixtures/vectors).

Mutating a valid flight reaches far deeper than random bytes: a random stream rarely gets past
the record header check. Everything here is read from ``tests/vectors.py`` or computed from the
RFC 8448 client inputs the RFC prints (randoms and x25519 private keys: published test values,
not secrets). The OCSP seeds need a signed chain, so they are built at run time from keys made
fresh in this process and never written anywhere (STYLE 3.6: nothing secret committed).
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from httpsaudit.tls.client import ClientParams
from httpsaudit.tls.codec import Reader, Writer
from httpsaudit.tls.codes import (
    CipherSuite,
    ContentType,
    ExtensionType,
    HandshakeType,
    NamedGroup,
)
from httpsaudit.tls.events import ResumptionTicket
from httpsaudit.tls.keyschedule import KeySchedule, hash_for_suite, transcript_hash
from httpsaudit.tls.keyshare import key_share_from_private_bytes
from httpsaudit.tls.messages import (
    parse_new_session_ticket_tls13,
    parse_server_hello,
    parse_server_key_share,
)
from httpsaudit.tls.observer import ServerStreamObserver
from httpsaudit.tls.protection import RecordDecryptor
from httpsaudit.tls.records import NEED_DATA, RECORD_HEADER_BYTES, RecordBuffer
from tests import vectors
from tests.vectors import handshake_messages, load_hex

H = bytes.fromhex
SUITE = CipherSuite.TLS_AES_128_GCM_SHA256
SHA256 = hashes.SHA256()


@functools.cache
def vector(name: str) -> bytes:
    """``load_hex(name)``, read once: the fuzz targets take the same vectors on every input."""
    return load_hex(name)


def simple_params() -> ClientParams:
    """RFC 8448 §3."""
    return vectors.rfc_params(
        vectors.S3_RANDOM,
        vectors.x25519_share(vectors.S3_CLIENT_PRIVATE),
        session_ticket_extension=True,
    )


@functools.cache
def rfc_ticket() -> ResumptionTicket:
    """The §3 NewSessionTicket as the §4 client resumes with it."""
    issued = parse_new_session_ticket_tls13(
        Reader(load_hex("rfc8448_simple_new_session_ticket")[4:])
    )
    return ResumptionTicket(
        suite_code=SUITE,
        psk=vectors.S3_PSK,
        ticket=issued.ticket,
        age_add=vectors.S3_AGE_ADD,
        lifetime_s=issued.lifetime_s,
        max_early_data_size=1024,
        server_name="server",
        alpn=None,
    )


def resumed_params() -> ClientParams:
    """RFC 8448 §4: the §3 ticket with 0-RTT data."""
    return vectors.rfc_params(
        vectors.S4_RANDOM,
        vectors.x25519_share(vectors.S4_CLIENT_PRIVATE),
        ticket=rfc_ticket(),
        ticket_age_ms=vectors.S4_TICKET_AGE_MS,
        early_data=b"ABCDEF",
    )


def hrr_params() -> ClientParams:
    """RFC 8448 §5: every listed group is one the engine can make a share for."""
    return vectors.rfc_params(
        vectors.S5_RANDOM,
        vectors.x25519_share(vectors.S5_X25519_PRIVATE),
        supported_groups=(0x001D, 0x0017, 0x0018),
        retry_key_shares=(
            key_share_from_private_bytes(NamedGroup.secp256r1, vectors.S5_P256_PRIVATE),
        ),
    )


def client_auth_params() -> ClientParams:
    """RFC 8448 §6: the server asks for a client certificate and signs with ECDSA."""
    return vectors.rfc_params(vectors.S6_RANDOM, vectors.x25519_share(vectors.S6_CLIENT_PRIVATE))


def compat_params() -> ClientParams:
    """RFC 8448 §7: middlebox compatibility mode."""
    return vectors.rfc_params(
        vectors.S7_RANDOM,
        vectors.x25519_share(vectors.S7_CLIENT_PRIVATE),
        legacy_session_id=vectors.S7_SESSION_ID,
        send_compat_ccs=True,
    )


@dataclass(frozen=True, slots=True)
class Trace:
    """One recorded TLS 1.3 handshake: how to build the client, and all the server sent."""

    params: Callable[[], ClientParams]
    server_bytes: Callable[[], bytes]


TRACES: dict[str, Trace] = {
    "simple": Trace(
        simple_params,
        lambda: (
            load_hex("rfc8448_simple_server_hello")
            + load_hex("rfc8448_simple_server_encrypted_flight")
            + load_hex("rfc8448_simple_server_application_records")
        ),
    ),
    "resumed": Trace(
        resumed_params,
        lambda: (
            load_hex("rfc8448_resumed_server_hello")
            + load_hex("rfc8448_resumed_server_encrypted_flight")
        ),
    ),
    "hrr": Trace(
        hrr_params,
        lambda: (
            load_hex("rfc8448_hrr")
            + load_hex("rfc8448_hrr_server_hello")
            + load_hex("rfc8448_hrr_server_encrypted_flight")
        ),
    ),
    "client_auth": Trace(
        client_auth_params,
        lambda: (
            load_hex("rfc8448_client_auth_server_hello")
            + load_hex("rfc8448_client_auth_server_encrypted_flight")
        ),
    ),
    "compat": Trace(
        compat_params,
        lambda: (
            load_hex("rfc8448_compat_server_hello")
            + load_hex("rfc8448_compat_server_encrypted_flight")
        ),
    ),
}
TRACE_NAMES = tuple(TRACES)

# --- opening the recorded encrypted flights ----------------------------------------------------


def records_of(stream: bytes) -> list[tuple[int, bytes]]:
    """(content type, payload) of every whole record in ``stream``."""
    buffer = RecordBuffer()
    buffer.receive_data(stream)
    records: list[tuple[int, bytes]] = []
    while (record := buffer.next_record()) is not NEED_DATA:
        records.append((record.content_type, record.payload))
    return records


def handshake_message(kind: int, body: bytes) -> bytes:
    return Writer().uint8(kind).opaque(3, body).getvalue()


@dataclass(frozen=True, slots=True)
class OpenedFlight:
    """A trace's encrypted server flight opened: its plaintext and the server's secrets."""

    plaintext: bytes
    server_handshake_secret: bytes
    server_application_secret: bytes


def _open_flight(client_hello: str, server_hello: str, flight: str, private: bytes) -> OpenedFlight:
    """Derive the server's keys from the RFC's client key share and open its flight."""
    hello_record = load_hex(server_hello)
    hello = parse_server_hello(Reader(hello_record[RECORD_HEADER_BYTES + 4 :]))
    share_data = hello.extension(ExtensionType.KEY_SHARE)
    assert share_data is not None
    server_share = parse_server_key_share(Reader(share_data)).key_exchange
    shared = vectors.x25519_share(private).shared_secret(server_share)
    schedule = KeySchedule.start(hello.cipher_suite).with_shared_secret(shared)
    algorithm = hash_for_suite(hello.cipher_suite)
    transcript = load_hex(client_hello)[RECORD_HEADER_BYTES:] + hello_record[RECORD_HEADER_BYTES:]
    handshake_secret = schedule.server_handshake_traffic_secret(
        transcript_hash(algorithm, transcript)
    )
    decryptor = RecordDecryptor(hello.cipher_suite, handshake_secret)
    buffer = RecordBuffer()
    buffer.receive_data(load_hex(flight))
    plaintext = b""
    while (record := buffer.next_record()) is not NEED_DATA:
        if record.content_type == ContentType.APPLICATION_DATA:
            plaintext += decryptor.decrypt(record).content
    application_secret = schedule.server_application_traffic_secret(
        transcript_hash(algorithm, transcript + plaintext)
    )
    return OpenedFlight(plaintext, handshake_secret, application_secret)


@functools.cache
def opened_flights() -> dict[str, OpenedFlight]:
    """The §3, §6 and §7 flights (x25519, no HRR: their keys follow from the hellos alone)."""
    return {
        "simple": _open_flight(
            "rfc8448_simple_client_hello",
            "rfc8448_simple_server_hello",
            "rfc8448_simple_server_encrypted_flight",
            vectors.S3_CLIENT_PRIVATE,
        ),
        "client_auth": _open_flight(
            "rfc8448_client_auth_client_hello",
            "rfc8448_client_auth_server_hello",
            "rfc8448_client_auth_server_encrypted_flight",
            vectors.S6_CLIENT_PRIVATE,
        ),
        "compat": _open_flight(
            "rfc8448_compat_client_hello",
            "rfc8448_compat_server_hello",
            "rfc8448_compat_server_encrypted_flight",
            vectors.S7_CLIENT_PRIVATE,
        ),
    }


# --- message bodies, by parser ------------------------------------------------------------------

SERVER_HELLO_VECTORS = (
    "rfc8448_simple_server_hello",
    "rfc8448_resumed_server_hello",
    "rfc8448_hrr",
    "rfc8448_hrr_server_hello",
    "rfc8448_client_auth_server_hello",
    "rfc8448_compat_server_hello",
)
OPENSSL_FLIGHTS = ("openssl_tls12_flight", "openssl_tls13_flight", "openssl_hrr_flight")


def _cleartext_messages(vector: str) -> list[tuple[int, bytes]]:
    """The cleartext handshake messages of a captured flight, as the observer reads them."""
    observer = ServerStreamObserver()
    observer.receive_data(load_hex(vector))
    return [
        (message.msg_type, message.body)
        for message in observer.state.messages
        # TLS 1.2: the encrypted Finished after the CCS is not a cleartext message.
        if message.msg_type != HandshakeType.FINISHED
    ]


def _server_extension(vector: str, kind: int) -> bytes | None:
    record = load_hex(vector)
    hello = parse_server_hello(Reader(record[RECORD_HEADER_BYTES + 4 :]))
    return hello.extension(kind)


@functools.cache
def message_bodies() -> dict[str, dict[str, bytes]]:
    """For each parser name, its valid inputs from the vectors, keyed by where they came from.

    A few bodies no vector holds (ALPN, KeyUpdate, a TLS 1.2 ticket, DHE parameters) are
    annotated literals.
    """
    bodies: dict[str, dict[str, bytes]] = {name: {} for name in PARSER_NAMES}
    for vector in SERVER_HELLO_VECTORS:
        body = load_hex(vector)[RECORD_HEADER_BYTES + 4 :]
        bodies["server_hello"][vector] = body
        bodies["extensions"][vector] = body[2 + 32 + 1 + body[34] + 2 + 1 :]
        share = _server_extension(vector, ExtensionType.KEY_SHARE)
        if share is not None and vector != "rfc8448_hrr":
            bodies["server_key_share"][vector] = share
        psk = _server_extension(vector, ExtensionType.PRE_SHARED_KEY)
        if psk is not None:
            bodies["selected_identity"][vector] = psk
        cookie = _server_extension(vector, ExtensionType.COOKIE)
        if cookie is not None:
            bodies["cookie"][vector] = cookie
    for vector in OPENSSL_FLIGHTS:
        for index, (kind, body) in enumerate(_cleartext_messages(vector)):
            key = f"{vector}_{index}"
            if kind == HandshakeType.SERVER_HELLO:
                bodies["server_hello"][key] = body
            elif kind == HandshakeType.CERTIFICATE:
                bodies["certificate_tls12"][key] = body
            elif kind == HandshakeType.SERVER_KEY_EXCHANGE:
                bodies["server_key_exchange_ecdhe"][key] = body
    for name, flight in opened_flights().items():
        for index, (kind, body) in enumerate(handshake_messages(flight.plaintext)):
            key = f"rfc8448_{name}_{index}"
            parser = _TLS13_FLIGHT_PARSERS.get(kind)
            if parser is not None:
                bodies[parser][key] = body
    bodies["alert"]["openssl_handshake_failure_alert"] = load_hex(
        "openssl_handshake_failure_alert"
    )[RECORD_HEADER_BYTES:]
    bodies["new_session_ticket_tls13"]["rfc8448_simple_new_session_ticket"] = load_hex(
        "rfc8448_simple_new_session_ticket"
    )[4:]
    # uint32 lifetime_hint 7200 s, opaque ticket<0..2^16-1> of 4 bytes (RFC 5077 §3.3).
    bodies["new_session_ticket_tls12"]["literal"] = H("00001c20 0004 deadbeef")
    # opaque dh_p<1..2^16-1> of 8 bytes, then dh_g and dh_Ys the parser does not read.
    bodies["server_key_exchange_dhe"]["literal"] = H("0008 ffffffffffffffff 000102")
    # protocol_name_list<2..2^16-1> holding one name, "h2" (RFC 7301 §3.1).
    bodies["alpn_selection"]["literal"] = H("0003 02 6832")
    # A SHA-384 suite's verify_data is 48 bytes (RFC 8446 §4.4.4); no vector uses one.
    bodies["finished_sha384"]["literal"] = bytes(range(48))
    bodies["key_update"]["not_requested"] = b"\x00"
    bodies["key_update"]["requested"] = b"\x01"
    return bodies


_TLS13_FLIGHT_PARSERS: dict[int, str] = {
    HandshakeType.ENCRYPTED_EXTENSIONS: "encrypted_extensions",
    HandshakeType.CERTIFICATE_REQUEST: "certificate_request_tls13",
    HandshakeType.CERTIFICATE: "certificate_tls13",
    HandshakeType.CERTIFICATE_VERIFY: "certificate_verify",
    HandshakeType.FINISHED: "finished_sha256",
}

# Every parser of server message bytes in tls/messages.py, by a stable name (the fuzz input's
# first byte picks one, so the order is part of the corpus format: append, never reorder).
PARSER_NAMES = (
    "server_hello",
    "alert",
    "certificate_tls12",
    "certificate_tls13",
    "server_key_exchange_ecdhe",
    "server_key_exchange_dhe",
    "new_session_ticket_tls12",
    "new_session_ticket_tls13",
    "encrypted_extensions",
    "certificate_verify",
    "finished_sha256",
    "finished_sha384",
    "alpn_selection",
    "extensions",
    "server_key_share",
    "selected_identity",
    "cookie",
    "certificate_request_tls13",
    "key_update",
)


@functools.cache
def certificate_ders() -> dict[str, bytes]:
    """Every certificate the vectors carry: RSA (§3, §5, §7), ECDSA P-256 (§6, OpenSSL)."""
    ders: dict[str, bytes] = {}
    for name, flight in opened_flights().items():
        for kind, body in handshake_messages(flight.plaintext):
            if kind == HandshakeType.CERTIFICATE:
                reader = Reader(body)
                reader.opaque(1, "context", maximum=255)
                entries = reader.sub_reader(3, "list", maximum=2**24 - 1)
                index = 0
                while entries.remaining:
                    ders[f"rfc8448_{name}_{index}"] = entries.opaque(3, "cert", maximum=2**24 - 1)
                    entries.opaque(2, "extensions", maximum=2**16 - 1)
                    index += 1
    for index, (kind, body) in enumerate(_cleartext_messages("openssl_tls12_flight")):
        if kind == HandshakeType.CERTIFICATE:
            chain = Reader(body).sub_reader(3, "list", maximum=2**24 - 1)
            position = 0
            while chain.remaining:
                ders[f"openssl_tls12_{index}_{position}"] = chain.opaque(
                    3, "cert", maximum=2**24 - 1
                )
                position += 1
    return ders


# --- post-handshake records: a framing the fuzzer can write ---------------------------------------

# A framed record: flags(1) length(2) content. The low 7 bits of flags are the inner content
# type (0: append the content to the stream unsealed, so cleartext records and garbage can be
# written too); the high bit moves the sealing key one epoch on before this record.
FRAME_ADVANCE_EPOCH = 0x80
FRAME_CONTENT_TYPE_MASK = 0x7F
FRAME_HEADER_BYTES = 3


def frame(content_type: int, content: bytes, *, advance: bool = False) -> bytes:
    flags = content_type | (FRAME_ADVANCE_EPOCH if advance else 0)
    return bytes([flags]) + len(content).to_bytes(2, "big") + content


def simple_post_handshake_frames() -> bytes:
    """What the §3 server sent after its Finished, as frames: ticket, data, close_notify."""
    ticket = load_hex("rfc8448_simple_new_session_ticket")
    return (
        frame(ContentType.HANDSHAKE, ticket)
        + frame(ContentType.APPLICATION_DATA, bytes(range(50)))
        + frame(ContentType.ALERT, b"\x01\x00")
    )


@functools.cache
def sealed_handshake_seeds() -> dict[str, bytes]:
    """Frames for the engine past the §3/§6/§7 ServerHello: the flight, then the rest."""
    seeds: dict[str, bytes] = {}
    for name, flight in opened_flights().items():
        seeds[name] = frame(ContentType.HANDSHAKE, flight.plaintext)
    seeds["simple_whole"] = (
        seeds["simple"]
        + frame(ContentType.HANDSHAKE, load_hex("rfc8448_simple_new_session_ticket"), advance=True)
        + frame(ContentType.APPLICATION_DATA, bytes(range(50)))
        + frame(ContentType.ALERT, b"\x01\x00")
    )
    # One message per record, and a KeyUpdate (update_requested) followed by data under the
    # next key: each boundary is a place where the engine checks something.
    per_message = b"".join(
        frame(ContentType.HANDSHAKE, handshake_message(kind, body))
        for kind, body in handshake_messages(opened_flights()["simple"].plaintext)
    )
    seeds["simple_key_update"] = (
        per_message
        + frame(
            ContentType.HANDSHAKE,
            handshake_message(HandshakeType.KEY_UPDATE, b"\x01"),
            advance=True,
        )
        + frame(ContentType.APPLICATION_DATA, b"after the key update", advance=True)
    )
    return seeds


# --- OCSP: a chain and staples made in this process ----------------------------------------------

OCSP_LEAF_SERIAL = 0x1001
_ISSUER_NAME = "httpsaudit fuzz issuer"
_DER = Encoding.DER


@dataclass(frozen=True, slots=True)
class OcspFixture:
    """A leaf and its issuer (DER), and staples about the leaf (DER), valid at ``now``.

    ``now`` is when the fixture was made: cryptography stamps producedAt with the real time.
    """

    now: datetime.datetime
    chain_ders: tuple[bytes, bytes]
    staples: dict[str, bytes]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    now: datetime.datetime,
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    serial: int,
    *,
    ca: bool = False,
    ocsp_signing: bool = False,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - datetime.timedelta(days=30))
        .not_valid_after(now + datetime.timedelta(days=335))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ocsp_signing:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _response(
    now: datetime.datetime,
    leaf: x509.Certificate,
    issuer: x509.Certificate,
    signer: x509.Certificate,
    signer_key: ec.EllipticCurvePrivateKey,
    *,
    status: ocsp.OCSPCertStatus,
    by_hash: bool,
    include_signer: bool,
) -> bytes:
    revoked = status is ocsp.OCSPCertStatus.REVOKED
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=leaf,
            issuer=issuer,
            # RFC 6960 §4.1.1: the CertID hash clients send in practice (RFC 5019 §2.1.1).
            algorithm=hashes.SHA1(),  # noqa: S303
            cert_status=status,
            this_update=now - datetime.timedelta(hours=1),
            next_update=now + datetime.timedelta(days=6),
            revocation_time=now - datetime.timedelta(days=2) if revoked else None,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
        )
        .responder_id(
            ocsp.OCSPResponderEncoding.HASH if by_hash else ocsp.OCSPResponderEncoding.NAME,
            signer,
        )
    )
    if include_signer:
        builder = builder.certificates([signer])
    return builder.sign(signer_key, hashes.SHA256()).public_bytes(_DER)


@functools.cache
def ocsp_fixture() -> OcspFixture:
    """Fresh keys each process: the staples verify against this chain and no other."""
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    issuer_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    responder_key = ec.generate_private_key(ec.SECP256R1())
    issuer = _certificate(now, _ISSUER_NAME, issuer_key, _ISSUER_NAME, issuer_key, 1, ca=True)
    leaf = _certificate(now, "fuzz.lab.test", leaf_key, _ISSUER_NAME, issuer_key, OCSP_LEAF_SERIAL)
    responder = _certificate(
        now,
        "httpsaudit fuzz responder",
        responder_key,
        _ISSUER_NAME,
        issuer_key,
        2,
        ocsp_signing=True,
    )
    good, revoked, unknown = (
        ocsp.OCSPCertStatus.GOOD,
        ocsp.OCSPCertStatus.REVOKED,
        ocsp.OCSPCertStatus.UNKNOWN,
    )
    staples = {
        "good_by_issuer": _response(
            now, leaf, issuer, issuer, issuer_key, status=good, by_hash=True, include_signer=False
        ),
        "revoked_by_name": _response(
            now,
            leaf,
            issuer,
            issuer,
            issuer_key,
            status=revoked,
            by_hash=False,
            include_signer=False,
        ),
        "unknown_delegated": _response(
            now,
            leaf,
            issuer,
            responder,
            responder_key,
            status=unknown,
            by_hash=True,
            include_signer=True,
        ),
        "try_later": ocsp.OCSPResponseBuilder.build_unsuccessful(
            ocsp.OCSPResponseStatus.TRY_LATER
        ).public_bytes(_DER),
    }
    return OcspFixture(now, (leaf.public_bytes(_DER), issuer.public_bytes(_DER)), staples)
