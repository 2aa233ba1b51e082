"""Server bytes for hostile scripts, built field by field so lengths can lie on purpose.

Each builder says what it claims and what it really holds; nothing here is recorded traffic.
"""

from __future__ import annotations

import hashlib
import struct

from httpsaudit.tls.records import MAX_RECORD_PAYLOAD_BYTES

HANDSHAKE = 0x16
CHANGE_CIPHER_SPEC = 0x14
SERVER_HELLO = 0x02
CERTIFICATE = 0x0B
TLS12 = 0x0303
# TLS 1.2 suites our reference client offers, in the order a server would pick them.
TLS12_SUITES = (0xC02F, 0xC030, 0xC02B, 0xC02C, 0x009E, 0x009C)
RENEGOTIATION_INFO = 0xFF01
# Fixed bytes, so every run sends the same; they do not end in RFC 8446 §4.1.3's downgrade
# sentinel ("DOWNGRD"), which would make a TLS 1.3 client refuse this TLS 1.2 ServerHello.
SERVER_RANDOM = hashlib.sha256(b"httpsaudit hostile server random").digest()
# Fixed junk; its first byte, 0x03, is no TLS content type.
GARBAGE = hashlib.sha512(b"httpsaudit hostile garbage").digest()
SSH_BANNER = b"SSH-2.0-OpenSSH_9.6\r\n"
PLAIN_HTTP_RESPONSE = (
    b"HTTP/1.1 400 Bad Request\r\n"
    b"Server: hostile-lab\r\n"
    b"Content-Type: text/plain\r\n"
    b"Content-Length: 12\r\n"
    b"Connection: close\r\n"
    b"\r\n"
    b"Bad Request\n"
)


def record_header(content_type: int, length: int) -> bytes:
    """A record header claiming ``length`` payload bytes, whatever follows it."""
    return struct.pack("!BHH", content_type, TLS12, length)


def record(content_type: int, payload: bytes) -> bytes:
    return record_header(content_type, len(payload)) + payload


def handshake_header(msg_type: int, length: int) -> bytes:
    """A handshake message header claiming ``length`` body bytes (uint24)."""
    return struct.pack("!B", msg_type) + length.to_bytes(3, "big")


def offered_suites(client_hello_record: bytes) -> tuple[int, ...]:
    """The cipher suites of a ClientHello record (RFC 8446 §4.1.2); () when it is not one."""
    # record header 5, handshake header 4, legacy_version 2, random 32
    at = 5 + 4 + 2 + 32
    if len(client_hello_record) <= at or client_hello_record[0] != HANDSHAKE:
        return ()
    at += 1 + client_hello_record[at]
    if len(client_hello_record) < at + 2:
        return ()
    (length,) = struct.unpack_from("!H", client_hello_record, at)
    suites = client_hello_record[at + 2 : at + 2 + length]
    return tuple(struct.unpack(f"!{len(suites) // 2}H", suites[: len(suites) // 2 * 2]))


def tls12_server_hello(client_hello_record: bytes) -> bytes:
    """A TLS 1.2 ServerHello record an OpenSSL client accepts: a suite it offered (a TLS 1.2
    one when it offered any), an empty session ID (no resumption), and renegotiation_info
    (RFC 5746; OpenSSL 3 refuses a server without it)."""
    offered = offered_suites(client_hello_record)
    suite = next(
        (suite for suite in TLS12_SUITES if suite in offered),
        offered[0] if offered else TLS12_SUITES[0],
    )
    extensions = struct.pack("!HHB", RENEGOTIATION_INFO, 1, 0)
    body = (
        struct.pack("!H", TLS12)
        + SERVER_RANDOM
        + b"\x00"  # empty legacy_session_id
        + struct.pack("!HB", suite, 0)
        + struct.pack("!H", len(extensions))
        + extensions
    )
    return record(HANDSHAKE, handshake_header(SERVER_HELLO, len(body)) + body)


def truncated_record() -> bytes:
    """A handshake record header claiming 500 bytes followed by 20."""
    return record_header(HANDSHAKE, 500) + handshake_header(SERVER_HELLO, 496) + bytes(16)


def oversized_record_header() -> bytes:
    """A handshake record header one byte over RFC 5246 §6.2.3's 2^14 + 2048 limit."""
    return record_header(HANDSHAKE, MAX_RECORD_PAYLOAD_BYTES + 1)


def server_hello_longer_than_its_record() -> bytes:
    """A record of 12 bytes whose ServerHello claims 70: the other 62 never come as handshake
    bytes; a ChangeCipherSpec record comes instead (RFC 8446 §5.1: no interleaving)."""
    fragment = handshake_header(SERVER_HELLO, 70) + struct.pack("!H", TLS12) + bytes(6)
    return record(HANDSHAKE, fragment) + record(CHANGE_CIPHER_SPEC, b"\x01")


def certificate_message_start(claimed_bytes: int) -> bytes:
    """The first record of a Certificate message claiming ``claimed_bytes`` and holding 64 of
    them; ``certificate_filler()`` records continue it."""
    return record(HANDSHAKE, handshake_header(CERTIFICATE, claimed_bytes) + bytes(64))


def certificate_filler() -> bytes:
    """One full handshake record of continuation bytes for a message that never ends."""
    return record(HANDSHAKE, bytes(2**14))
