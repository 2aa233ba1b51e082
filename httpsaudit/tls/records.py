"""Record framing (RFC 8446 §5.1, RFC 5246 §6.2) and cleartext handshake reassembly.

``RecordBuffer`` turns a byte stream into records; ``HandshakeReassembler`` joins handshake
messages split across records. Both are incremental: feed any slice, get whole units or
``NEED_DATA``. Every buffer is capped so a hostile peer cannot make us hold unbounded bytes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from httpsaudit.errors import DecodeError, RemoteProtocolError
from httpsaudit.tls.codes import ContentType

RECORD_HEADER_BYTES = 5
HANDSHAKE_HEADER_BYTES = 4
# RFC 5246 §6.2.3: TLSCiphertext.length MUST NOT exceed 2^14 + 2048 (TLS 1.3 allows less,
# 2^14 + 256, but this parser also reads TLS 1.2 and older flights).
MAX_RECORD_PAYLOAD_BYTES = 2**14 + 2048
# A handshake message may span many records; real certificate chains stay well below this.
# Anything bigger is a hostile or broken peer, not a server we need to audit further.
MAX_HANDSHAKE_MESSAGE_BYTES = 2**18
_KNOWN_CONTENT_TYPES = frozenset(int(kind) for kind in ContentType)


def starts_like_a_record(data: bytes) -> bool:
    """Whether ``data`` can begin a TLS record (a known content type, then major version 3):
    tells a peer that does not speak TLS at all from one that breaks TLS's rules."""
    if data and data[0] not in _KNOWN_CONTENT_TYPES:
        return False
    return len(data) < 2 or data[1] == 0x03


class NeedData(enum.Enum):
    """Sentinel: the buffer holds no complete unit yet (h11's ``NEED_DATA``)."""

    NEED_DATA = "NEED_DATA"


NEED_DATA = NeedData.NEED_DATA


@dataclass(frozen=True, slots=True)
class Record:
    """One TLS record as framed on the wire; ``offset`` is its first byte in the stream."""

    content_type: int
    legacy_version: int
    payload: bytes
    offset: int

    @property
    def wire_bytes(self) -> int:
        return RECORD_HEADER_BYTES + len(self.payload)


@dataclass(frozen=True, slots=True)
class HandshakeMessage:
    """A whole handshake message; ``body`` excludes the 4-byte header."""

    msg_type: int
    body: bytes
    offset: int

    @property
    def wire_bytes(self) -> int:
        return HANDSHAKE_HEADER_BYTES + len(self.body)

    def encode(self) -> bytes:
        return bytes([self.msg_type]) + len(self.body).to_bytes(3, "big") + self.body


class RecordBuffer:
    """Frames records out of a byte stream, validating each header before buffering its body."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._consumed = 0

    @property
    def buffered_bytes(self) -> int:
        return len(self._buffer)

    @property
    def stream_offset(self) -> int:
        """Offset in the stream of the first byte not yet returned as a record."""
        return self._consumed

    def receive_data(self, data: bytes) -> None:
        self._buffer += data

    def next_record(self) -> Record | NeedData:
        if len(self._buffer) < RECORD_HEADER_BYTES:
            self._check_header_prefix()
            return NEED_DATA
        content_type = self._buffer[0]
        legacy_version = int.from_bytes(self._buffer[1:3], "big")
        length = int.from_bytes(self._buffer[3:5], "big")
        self._check_header(content_type, legacy_version, length)
        end = RECORD_HEADER_BYTES + length
        if len(self._buffer) < end:
            return NEED_DATA
        record = Record(
            content_type=content_type,
            legacy_version=legacy_version,
            payload=bytes(self._buffer[RECORD_HEADER_BYTES:end]),
            offset=self._consumed,
        )
        del self._buffer[:end]
        self._consumed += end
        return record

    def _check_header_prefix(self) -> None:
        if self._buffer and self._buffer[0] not in _KNOWN_CONTENT_TYPES:
            self._reject_content_type(self._buffer[0])
        if len(self._buffer) >= 2 and self._buffer[1] != 0x03:
            self._reject_version(self._buffer[1] << 8)

    def _check_header(self, content_type: int, legacy_version: int, length: int) -> None:
        if content_type not in _KNOWN_CONTENT_TYPES:
            self._reject_content_type(content_type)
        # RFC 8446 §5.1: legacy_record_version is 0x0301..0x0303 in practice; SSL 3.0 is 0x0300.
        if legacy_version >> 8 != 0x03:
            self._reject_version(legacy_version)
        if length > MAX_RECORD_PAYLOAD_BYTES:
            raise DecodeError(
                f"record length {length} exceeds {MAX_RECORD_PAYLOAD_BYTES} at offset "
                f"{self._consumed + 3}",
                offset=self._consumed + 3,
            )

    def _reject_content_type(self, content_type: int) -> None:
        raise DecodeError(
            f"not TLS: unknown record type 0x{content_type:02x} at offset {self._consumed}",
            offset=self._consumed,
        )

    def _reject_version(self, legacy_version: int) -> None:
        raise DecodeError(
            f"not TLS: record version 0x{legacy_version:04x} at offset {self._consumed + 1}",
            offset=self._consumed + 1,
        )


class HandshakeReassembler:
    """Joins handshake fragments from consecutive handshake records into whole messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        # (buffer index, stream offset) where each buffered record payload starts: record
        # headers sit between fragments, so one base offset cannot place every message.
        self._segments: list[tuple[int, int]] = []

    @property
    def has_partial_message(self) -> bool:
        return bool(self._buffer)

    def receive_record(self, record: Record) -> None:
        if record.content_type != ContentType.HANDSHAKE:
            raise RemoteProtocolError(
                f"record type {record.content_type} fed to the handshake reassembler",
                offset=record.offset,
            )
        if not record.payload:
            # An empty fragment (RFC 8446 §5.1 forbids them) adds no bytes; skipping it keeps
            # ``_segments`` no longer than the buffered bytes, so a stream of empty records
            # cannot grow it without bound.
            return
        if not self._buffer:
            self._segments.clear()
        self._segments.append((len(self._buffer), record.offset + RECORD_HEADER_BYTES))
        self._buffer += record.payload

    def _stream_offset(self, index: int) -> int:
        """Stream offset of buffered byte ``index`` (exact across record boundaries)."""
        start, offset = self._segments[0]
        for segment_start, segment_offset in self._segments:
            if segment_start > index:
                break
            start, offset = segment_start, segment_offset
        return offset + index - start

    def next_message(self) -> HandshakeMessage | NeedData:
        if len(self._buffer) < HANDSHAKE_HEADER_BYTES:
            return NEED_DATA
        length = int.from_bytes(self._buffer[1:4], "big")
        if length > MAX_HANDSHAKE_MESSAGE_BYTES:
            at = self._stream_offset(1)
            raise DecodeError(
                f"handshake message length {length} exceeds {MAX_HANDSHAKE_MESSAGE_BYTES} "
                f"at offset {at}",
                offset=at,
            )
        end = HANDSHAKE_HEADER_BYTES + length
        if len(self._buffer) < end:
            return NEED_DATA
        message = HandshakeMessage(
            msg_type=self._buffer[0],
            body=bytes(self._buffer[HANDSHAKE_HEADER_BYTES:end]),
            offset=self._stream_offset(0),
        )
        # A message's offset is exact; offsets inside a body that spans records are not, since
        # its fragments are joined without the record headers between them.
        self._segments = [
            (max(start - end, 0), offset + max(end - start, 0))
            for index, (start, offset) in enumerate(self._segments)
            if index + 1 == len(self._segments) or self._segments[index + 1][0] > end
        ]
        del self._buffer[:end]
        return message
