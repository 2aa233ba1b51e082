"""TLS 1.3 record protection (RFC 8446 §5.2-§5.5): one AEAD key per direction and epoch.

``RecordDecryptor`` opens the server's TLSCiphertext records, ``RecordEncryptor`` seals ours.
Each counts its own 64-bit sequence number (§5.3): a record lost, repeated or reordered fails
authentication, as it must. The engine makes a new instance at every key change (handshake,
application, KeyUpdate), which restarts the count at zero.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

from httpsaudit.errors import LocalProtocolError, RemoteProtocolError
from httpsaudit.tls.codes import CipherSuite, ContentType, ProtocolVersion
from httpsaudit.tls.keyschedule import traffic_keys
from httpsaudit.tls.records import Record

# RFC 8446 §5.1: a plaintext fragment holds at most 2^14 bytes.
MAX_PLAINTEXT_BYTES = 2**14
# RFC 8446 §5.4: the encoded TLSInnerPlaintext (content, type byte, padding) is at most 2^14 + 1.
MAX_INNER_PLAINTEXT_BYTES = MAX_PLAINTEXT_BYTES + 1
# RFC 8446 §5.2: TLSCiphertext.length MUST NOT exceed 2^14 + 256 (else record_overflow).
MAX_CIPHERTEXT_BYTES = MAX_PLAINTEXT_BYTES + 256
# RFC 8446 §5.3: the sequence number is a 64-bit counter that MUST NOT wrap.
MAX_SEQUENCE_NUMBER = 2**64 - 1
# RFC 8446 §5.5: AES-GCM keys are good for about 2^24.5 full-size records; we stop at 2^24
# records under one key for every AEAD. An auditor sends a handful of records, so reaching this
# means a loop gone wrong, not a connection to rekey.
MAX_RECORDS_PER_KEY = 2**24
# RFC 8446 §5.2: TLSCiphertext.legacy_record_version is always 0x0303.
LEGACY_RECORD_VERSION = ProtocolVersion.TLSv1_2
# RFC 8446 §5.3 and §B.4: every TLS 1.3 AEAD uses 16-byte tags except AES-128-CCM-8 (8 bytes).
TAG_BYTES = 16
CCM_8_TAG_BYTES = 8

_Aead = AESGCM | ChaCha20Poly1305 | AESCCM


@dataclass(frozen=True, slots=True)
class InnerPlaintext:
    """A decrypted record: its real content type, the content without padding, the record offset."""

    content_type: int
    content: bytes
    offset: int


def _aead_for_suite(suite_code: int, key: bytes) -> tuple[_Aead, int]:
    """The AEAD (RFC 8446 §B.4) of a suite, keyed, and its tag length."""
    if suite_code in (CipherSuite.TLS_AES_128_GCM_SHA256, CipherSuite.TLS_AES_256_GCM_SHA384):
        return AESGCM(key), TAG_BYTES
    if suite_code == CipherSuite.TLS_CHACHA20_POLY1305_SHA256:
        return ChaCha20Poly1305(key), TAG_BYTES
    if suite_code == CipherSuite.TLS_AES_128_CCM_SHA256:
        return AESCCM(key, tag_length=TAG_BYTES), TAG_BYTES
    if suite_code == CipherSuite.TLS_AES_128_CCM_8_SHA256:
        return AESCCM(key, tag_length=CCM_8_TAG_BYTES), CCM_8_TAG_BYTES
    raise LocalProtocolError(f"0x{suite_code:04x} is not a TLS 1.3 cipher suite")


def _nonce(iv: bytes, sequence_number: int) -> bytes:
    """RFC 8446 §5.3: the 64-bit sequence number, left-padded to the IV's length, XOR the IV."""
    padded = sequence_number.to_bytes(len(iv), "big")
    return bytes(a ^ b for a, b in zip(iv, padded, strict=True))


def _header(content_type: int, legacy_version: int, length: int) -> bytes:
    """RFC 8446 §5.2: the additional data is the record header as sent."""
    return bytes([content_type]) + legacy_version.to_bytes(2, "big") + length.to_bytes(2, "big")


class RecordDecryptor:
    """Opens the peer's protected records under one traffic secret (RFC 8446 §5.2)."""

    def __init__(self, suite_code: int, traffic_secret: bytes) -> None:
        keys = traffic_keys(suite_code, traffic_secret)
        self._aead, self._tag_bytes = _aead_for_suite(suite_code, keys.key)
        self._iv = keys.iv
        self._sequence_number = 0

    @property
    def sequence_number(self) -> int:
        """The sequence number the next record must have been sealed with."""
        return self._sequence_number

    def decrypt(self, record: Record) -> InnerPlaintext:
        """Authenticate and open one record; only a record that opens advances the sequence."""
        if record.content_type != ContentType.APPLICATION_DATA:
            # RFC 8446 §5.2: opaque_type is always application_data(23); cleartext types
            # (a change_cipher_spec, say) are the caller's to handle, not ours to open.
            raise RemoteProtocolError(
                f"record type {record.content_type} at offset {record.offset} is not "
                "application_data: not a protected record",
                offset=record.offset,
            )
        length = len(record.payload)
        if length > MAX_CIPHERTEXT_BYTES:
            at = record.offset + 3  # the length field of the record header
            raise RemoteProtocolError(
                f"record_overflow: protected record of {length} bytes exceeds "
                f"{MAX_CIPHERTEXT_BYTES} at offset {at}",
                offset=at,
            )
        if self._sequence_number > MAX_SEQUENCE_NUMBER:
            raise RemoteProtocolError(
                "the peer's sequence number would wrap (RFC 8446 §5.3)", offset=record.offset
            )
        additional_data = _header(record.content_type, record.legacy_version, length)
        try:
            if length < self._tag_bytes:
                raise InvalidTag
            inner = self._aead.decrypt(
                _nonce(self._iv, self._sequence_number), record.payload, additional_data
            )
        except InvalidTag:
            raise RemoteProtocolError(
                f"bad_record_mac: record at offset {record.offset} (sequence number "
                f"{self._sequence_number}) does not authenticate",
                offset=record.offset,
            ) from None
        if len(inner) > MAX_INNER_PLAINTEXT_BYTES:
            raise RemoteProtocolError(
                f"record_overflow: record at offset {record.offset} holds {len(inner)} bytes "
                f"of plaintext, more than {MAX_INNER_PLAINTEXT_BYTES}",
                offset=record.offset,
            )
        # RFC 8446 §5.4: the content type is the last non-zero byte; zeros after it are padding.
        content = inner.rstrip(b"\x00")
        if not content:
            raise RemoteProtocolError(
                f"unexpected_message: record at offset {record.offset} is all padding, "
                "with no content type",
                offset=record.offset,
            )
        self._sequence_number += 1
        return InnerPlaintext(content_type=content[-1], content=content[:-1], offset=record.offset)


class RecordEncryptor:
    """Seals our records under one traffic secret (RFC 8446 §5.2), padding on request."""

    def __init__(self, suite_code: int, traffic_secret: bytes) -> None:
        keys = traffic_keys(suite_code, traffic_secret)
        self._aead, self._tag_bytes = _aead_for_suite(suite_code, keys.key)
        self._iv = keys.iv
        self._sequence_number = 0

    @property
    def sequence_number(self) -> int:
        """The sequence number the next record will be sealed with."""
        return self._sequence_number

    def encrypt(self, content_type: int, content: bytes, padding: int = 0) -> bytes:
        """A whole TLSCiphertext record: header, then content || type || ``padding`` zeros."""
        if not 1 <= content_type <= 255:
            # RFC 8446 §5.4: zero would be read back as padding.
            raise LocalProtocolError(f"content type {content_type} cannot be protected")
        if padding < 0:
            raise LocalProtocolError(f"negative padding {padding}")
        inner_length = len(content) + 1 + padding
        if len(content) > MAX_PLAINTEXT_BYTES or inner_length > MAX_INNER_PLAINTEXT_BYTES:
            raise LocalProtocolError(
                f"{len(content)} bytes of content and {padding} of padding exceed the "
                f"{MAX_INNER_PLAINTEXT_BYTES}-byte TLSInnerPlaintext limit"
            )
        if self._sequence_number >= MAX_RECORDS_PER_KEY:
            raise LocalProtocolError(
                f"{MAX_RECORDS_PER_KEY} records under one key: rekey or close (RFC 8446 §5.5)"
            )
        inner = content + bytes([content_type]) + bytes(padding)
        header = _header(
            ContentType.APPLICATION_DATA, LEGACY_RECORD_VERSION, inner_length + self._tag_bytes
        )
        sealed = self._aead.encrypt(_nonce(self._iv, self._sequence_number), inner, header)
        self._sequence_number += 1
        return header + sealed
