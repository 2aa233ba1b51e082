"""Fuzz targets: one function per parser family, shared by the hypothesis properties and atheris.

Each target takes arbitrary bytes and returns ``ACCEPTED`` or ``REJECTED``. It catches exactly
the errors its code may raise on bad server bytes (``RemoteProtocolError``, of which
``DecodeError`` is a subclass; nothing at all for the OCSP analysis, which turns garbage into a
problem) and lets everything else out: an ``IndexError``, ``ValueError``, ``struct.error``,
``UnicodeDecodeError``, ``KeyError`` or ``InvariantBroken`` escaping a target is a bug.

Inputs that steer a target (which parser, which trace, how to split the stream) sit in the first
bytes, so one byte string is one reproducible case; ``TARGETS[name].run(data)`` replays it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cryptography.utils import CryptographyDeprecationWarning

from httpsaudit.errors import DecodeError, LocalProtocolError, RemoteProtocolError
from httpsaudit.probes.ocsp import analyse_staple
from httpsaudit.tls.certificates import load_certificate
from httpsaudit.tls.client import NEED_DATA, ClientConnection, ClientState
from httpsaudit.tls.codec import Reader
from httpsaudit.tls.codes import ContentType
from httpsaudit.tls.events import ConnectionClosed, HandshakeComplete
from httpsaudit.tls.keyschedule import hash_for_suite, next_traffic_secret
from httpsaudit.tls.messages import (
    parse_alert,
    parse_alpn_selection,
    parse_certificate_list_tls12,
    parse_certificate_request_tls13,
    parse_certificate_tls13,
    parse_certificate_verify,
    parse_cookie,
    parse_encrypted_extensions,
    parse_extensions,
    parse_finished,
    parse_key_update,
    parse_new_session_ticket_tls12,
    parse_new_session_ticket_tls13,
    parse_selected_identity,
    parse_server_hello,
    parse_server_key_exchange,
    parse_server_key_share,
)
from httpsaudit.tls.observer import ServerStreamObserver
from httpsaudit.tls.protection import MAX_PLAINTEXT_BYTES, RecordEncryptor
from httpsaudit.tls.records import NEED_DATA as RECORDS_NEED_DATA
from httpsaudit.tls.records import HandshakeReassembler, RecordBuffer
from httpsaudit.tls.tickets import MAX_POST_HANDSHAKE_MESSAGES, read_post_handshake_tickets
from tests.fuzz import seeds
from tests.vectors import load_hex

ACCEPTED = "accepted"
REJECTED = "rejected"
# Message bodies are parsed as if they started here in a stream, so that an error offset
# outside [BASE_OFFSET, BASE_OFFSET + len(body)] shows up as a bug rather than passing as 0.
BASE_OFFSET = 1000
# A ClientParams listing a group the engine cannot make a share for (RFC 8448's ffdhe groups)
# ends in this LocalProtocolError when an HRR picks that group: documented in ClientParams, the
# caller's mistake rather than the server's, so it is no finding. Any other LocalProtocolError is.
_UNMAKEABLE_GROUP = "cannot make a key share for"


class InvariantBrokenError(AssertionError):
    """A target's own consistency check failed: a bug even though no foreign exception rose."""


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise InvariantBrokenError(what)


@dataclass(frozen=True, slots=True)
class Target:
    """A named fuzz entry point and the valid inputs its corpus starts from."""

    name: str
    description: str
    body: Callable[[bytes], str]
    seeds: Callable[[], dict[str, bytes]]
    # Leading bytes that steer the target (selectors, chunk size); mutations leave them alone.
    header_bytes: int = 0
    # Whether what follows the header is a TLS record stream (length mutations find its fields).
    tls_stream: bool = False

    def run(self, data: bytes) -> str:
        """``ACCEPTED`` or ``REJECTED``; any exception that escapes is a finding."""
        with warnings.catch_warnings():
            # A mutated certificate may carry a negative serial number: cryptography warns and
            # goes on. Not a failure of ours (pytest would turn the warning into an error).
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return self.body(data)


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` in pieces of ``size`` bytes (0: in one piece)."""
    if size == 0:
        yield data
        return
    for start in range(0, len(data), size):
        yield data[start : start + size]


# --- records and reassembly ----------------------------------------------------------------------


def run_records(data: bytes) -> str:
    """Input: chunk size (1 byte, 0 = whole), then a server byte stream."""
    if not data:
        return ACCEPTED
    buffer = RecordBuffer()
    reassembler = HandshakeReassembler()
    framed = 0
    encrypted = False
    try:
        for piece in chunks(data[1:], data[0]):
            buffer.receive_data(piece)
            while (record := buffer.next_record()) is not RECORDS_NEED_DATA:
                _check(record.offset == framed, "a record's offset is where the last one ended")
                framed += record.wire_bytes
                # TLS 1.2: after the server's ChangeCipherSpec, handshake records are encrypted.
                encrypted = encrypted or record.content_type == ContentType.CHANGE_CIPHER_SPEC
                if record.content_type == ContentType.HANDSHAKE and not encrypted:
                    reassembler.receive_record(record)
                    while reassembler.next_message() is not RECORDS_NEED_DATA:
                        pass
    except RemoteProtocolError:
        return REJECTED
    _check(framed + buffer.buffered_bytes == len(data) - 1, "every byte is framed or buffered")
    return ACCEPTED


def run_observer(data: bytes) -> str:
    """Input: chunk size (1 byte, 0 = whole), then a server byte stream."""
    if not data:
        return ACCEPTED
    observer = ServerStreamObserver()
    try:
        for piece in chunks(data[1:], data[0]):
            observer.receive_data(piece)
            state = observer.state
            _check(state.wire_bytes <= len(data) - 1, "no more record bytes than were fed")
    except RemoteProtocolError:
        return REJECTED
    return ACCEPTED


# --- message parsers -----------------------------------------------------------------------------


def _extensions_block(reader: Reader) -> object:
    extensions = parse_extensions(reader, "fuzzed")
    reader.expect_end("extensions")
    return extensions


PARSERS: dict[str, Callable[[Reader], object]] = {
    "server_hello": parse_server_hello,
    "alert": parse_alert,
    "certificate_tls12": parse_certificate_list_tls12,
    "certificate_tls13": parse_certificate_tls13,
    "server_key_exchange_ecdhe": lambda reader: parse_server_key_exchange(reader, ecdhe=True),
    "server_key_exchange_dhe": lambda reader: parse_server_key_exchange(reader, ecdhe=False),
    "new_session_ticket_tls12": parse_new_session_ticket_tls12,
    "new_session_ticket_tls13": parse_new_session_ticket_tls13,
    "encrypted_extensions": parse_encrypted_extensions,
    "certificate_verify": parse_certificate_verify,
    "finished_sha256": lambda reader: parse_finished(reader, 32),
    "finished_sha384": lambda reader: parse_finished(reader, 48),
    "alpn_selection": parse_alpn_selection,
    "extensions": _extensions_block,
    "server_key_share": parse_server_key_share,
    "selected_identity": parse_selected_identity,
    "cookie": parse_cookie,
    "certificate_request_tls13": parse_certificate_request_tls13,
    "key_update": parse_key_update,
}
assert tuple(PARSERS) == seeds.PARSER_NAMES, "the selector byte's meaning must not change"


def parse_one(name: str, body: bytes) -> str:
    """One parser on one body; a DecodeError must point inside the body."""
    try:
        PARSERS[name](Reader(body, base=BASE_OFFSET))
    except DecodeError as exc:
        _check(
            exc.offset is not None and BASE_OFFSET <= exc.offset <= BASE_OFFSET + len(body),
            f"{name}: DecodeError offset {exc.offset} outside the body ({len(body)} bytes at "
            f"{BASE_OFFSET}): {exc}",
        )
        return REJECTED
    return ACCEPTED


def run_handshake(data: bytes) -> str:
    """Input: parser selector (1 byte, modulo the parser count), then a message body."""
    if not data:
        return ACCEPTED
    return parse_one(seeds.PARSER_NAMES[data[0] % len(seeds.PARSER_NAMES)], data[1:])


def handshake_seeds() -> dict[str, bytes]:
    return {
        f"{name}-{source}": bytes([seeds.PARSER_NAMES.index(name)]) + body
        for name, bodies in seeds.message_bodies().items()
        for source, body in bodies.items()
    }


# --- certificates and OCSP -----------------------------------------------------------------------


def run_certificate(data: bytes) -> str:
    """Input: DER bytes of one certificate."""
    try:
        certificate = load_certificate(data, what="fuzzed certificate", offset=0)
    except DecodeError as exc:
        _check(exc.offset == 0, "the offset given is the offset reported")
        return REJECTED
    # What the engine and the probes read next from a leaf: touching them must not crash either.
    certificate.public_key_algorithm_oid  # noqa: B018
    return ACCEPTED


def run_ocsp(data: bytes) -> str:
    """Input: a stapled OCSP response, judged against the fixture's chain at its ``now``."""
    fixture = seeds.ocsp_fixture()
    facts = analyse_staple(data, fixture.chain_ders, fixture.now)
    _check(facts.response_bytes == len(data), "response_bytes counts the staple")
    return ACCEPTED


# --- records sealed from frames: how mutations get past the AEAD ---------------------------------


def epoch_secrets(first: bytes, *rest: bytes) -> Iterator[bytes]:
    """The given secrets in order, then each next application secret (RFC 8446 §7.2)."""
    algorithm = hash_for_suite(seeds.SUITE)
    yield first
    yield from rest
    secret = rest[-1] if rest else first
    while True:
        secret = next_traffic_secret(algorithm, secret)
        yield secret


def seal_frames(frames: bytes, secrets: Iterator[bytes]) -> bytes:
    """Records from ``seeds.frame`` frames: sealed under the current epoch's key, or raw."""
    encryptor = RecordEncryptor(seeds.SUITE, next(secrets))
    stream = bytearray()
    position = 0
    while position + seeds.FRAME_HEADER_BYTES <= len(frames):
        flags = frames[position]
        length = int.from_bytes(frames[position + 1 : position + 3], "big")
        start = position + seeds.FRAME_HEADER_BYTES
        content = frames[start : start + length]
        position = start + length
        if flags & seeds.FRAME_ADVANCE_EPOCH:
            encryptor = RecordEncryptor(seeds.SUITE, next(secrets))
        content_type = flags & seeds.FRAME_CONTENT_TYPE_MASK
        if content_type == 0:
            stream += content
        else:
            stream += encryptor.encrypt(content_type, content[:MAX_PLAINTEXT_BYTES])
    return bytes(stream)


def run_tickets(data: bytes) -> str:
    """Input: frames sealed from the §3 server application secret, read for tickets."""
    secret = seeds.opened_flights()["simple"].server_application_secret
    stream = seal_frames(data, epoch_secrets(secret))
    found = read_post_handshake_tickets(seeds.SUITE, secret, stream)
    _check(len(found.tickets) <= MAX_POST_HANDSHAKE_MESSAGES, "the ticket count is capped")
    return REJECTED if found.problem is not None else ACCEPTED


def tickets_seeds() -> dict[str, bytes]:
    ticket = load_hex("rfc8448_simple_new_session_ticket")
    return {
        "simple_after_handshake": seeds.simple_post_handshake_frames(),
        "two_tickets_split": seeds.frame(ContentType.HANDSHAKE, ticket[:50])
        + seeds.frame(ContentType.HANDSHAKE, ticket[50:] + ticket),
        "key_update_then_ticket": seeds.frame(
            ContentType.HANDSHAKE, seeds.handshake_message(24, b"\x00")
        )
        + seeds.frame(ContentType.HANDSHAKE, ticket, advance=True),
    }


# --- the TLS 1.3 client state machine ------------------------------------------------------------


def _allowed_local_error(exc: LocalProtocolError) -> bool:
    return exc.message.startswith(_UNMAKEABLE_GROUP)


def _drain(connection: ClientConnection) -> bool:
    """Read events until NEED_DATA (True) or the connection closed (False)."""
    while True:
        event = connection.next_event()
        if event is NEED_DATA:
            return True
        if isinstance(event, ConnectionClosed):
            again = connection.next_event()
            _check(isinstance(again, ConnectionClosed), "ConnectionClosed repeats")
            return False
        if isinstance(event, HandshakeComplete) and connection.state is ClientState.CONNECTED:
            connection.send_application_data(b"GET / HTTP/1.1\r\nHost: server\r\n\r\n")
        connection.data_to_send()


def drive_client(connection: ClientConnection, pieces: Iterator[bytes]) -> str:
    """Feed each piece then the end of stream; a failure must be FAILED and raised again."""
    connection.start()
    connection.data_to_send()
    try:
        for piece in (*pieces, b""):
            connection.receive_data(piece)
            if not _drain(connection):
                break
        connection.close()
        connection.data_to_send()
    except (RemoteProtocolError, LocalProtocolError) as exc:
        if isinstance(exc, LocalProtocolError) and not _allowed_local_error(exc):
            raise
        _check(connection.state is ClientState.FAILED, f"failed, yet in {connection.state}")
        try:
            connection.next_event()
        except (RemoteProtocolError, LocalProtocolError) as again:
            _check(again is exc, "a failed connection raises the same error again")
        else:
            raise InvariantBrokenError("a failed connection returned an event") from exc
        connection.data_to_send()
        return REJECTED
    return ACCEPTED


def run_client(data: bytes) -> str:
    """Input: trace selector (1 byte), chunk size (1 byte, 0 = whole), the server's bytes."""
    if len(data) < 2:
        return ACCEPTED
    trace = seeds.TRACES[seeds.TRACE_NAMES[data[0] % len(seeds.TRACE_NAMES)]]
    return drive_client(ClientConnection(trace.params()), chunks(data[2:], data[1]))


def client_seeds() -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for index, (name, trace) in enumerate(seeds.TRACES.items()):
        found[name] = bytes([index, 0]) + trace.server_bytes()
    found["simple_in_7_byte_pieces"] = bytes([0, 7]) + seeds.TRACES["simple"].server_bytes()
    return found


# The §3/§6/§7 traces, whose flights seeds.opened_flights() can open and seal again.
SEALED_TRACES = ("simple", "client_auth", "compat")


def run_client_sealed(data: bytes) -> str:
    """Input: trace selector (1 byte), then frames sealed under that trace's server keys.

    The trace's recorded ServerHello goes first; epoch 0 of the frames is the server handshake
    key, epoch 1 the application key, and each later epoch a KeyUpdate's next key.
    """
    if not data:
        return ACCEPTED
    name = SEALED_TRACES[data[0] % len(SEALED_TRACES)]
    flight = seeds.opened_flights()[name]
    stream = seeds.vector(f"rfc8448_{name}_server_hello") + seal_frames(
        data[1:],
        epoch_secrets(flight.server_handshake_secret, flight.server_application_secret),
    )
    return drive_client(ClientConnection(seeds.TRACES[name].params()), iter((stream,)))


def client_sealed_seeds() -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for key, frames in seeds.sealed_handshake_seeds().items():
        trace = next(name for name in SEALED_TRACES if key.startswith(name))
        found[key] = bytes([SEALED_TRACES.index(trace)]) + frames
    return found


def _stream_seeds() -> dict[str, bytes]:
    """Every recorded server stream, whole (chunk byte 0), and one in 3-byte pieces."""
    streams = {name: trace.server_bytes() for name, trace in seeds.TRACES.items()}
    for vector in (*seeds.OPENSSL_FLIGHTS, "openssl_handshake_failure_alert"):
        streams[vector] = load_hex(vector)
    found = {name: b"\x00" + stream for name, stream in streams.items()}
    found["openssl_tls12_flight_in_3_byte_pieces"] = b"\x03" + streams["openssl_tls12_flight"]
    return found


TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        Target(
            "records",
            "RecordBuffer framing and HandshakeReassembler",
            run_records,
            _stream_seeds,
            header_bytes=1,
            tls_stream=True,
        ),
        Target(
            "observer",
            "ServerStreamObserver",
            run_observer,
            _stream_seeds,
            header_bytes=1,
            tls_stream=True,
        ),
        Target(
            "handshake",
            "every parser in tls/messages.py",
            run_handshake,
            handshake_seeds,
            header_bytes=1,
        ),
        Target(
            "certificate",
            "tls/certificates.load_certificate",
            run_certificate,
            seeds.certificate_ders,
        ),
        Target(
            "ocsp",
            "probes/ocsp.analyse_staple",
            run_ocsp,
            lambda: dict(seeds.ocsp_fixture().staples),
        ),
        Target("tickets", "tls/tickets.read_post_handshake_tickets", run_tickets, tickets_seeds),
        Target(
            "client",
            "the TLS 1.3 ClientConnection fed raw server bytes",
            run_client,
            client_seeds,
            header_bytes=2,
            tls_stream=True,
        ),
        Target(
            "client_sealed",
            "the TLS 1.3 ClientConnection fed sealed handshake and post-handshake records",
            run_client_sealed,
            client_sealed_seeds,
            header_bytes=1,
        ),
    )
}
