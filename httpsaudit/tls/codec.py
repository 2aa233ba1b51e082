"""Reader and Writer for the TLS presentation language (RFC 8446 §3).

Every read is length-checked; a short or over-long field raises DecodeError with the absolute
offset of the bad byte, so a report can say exactly where a server's bytes went wrong.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from httpsaudit.errors import DecodeError, LocalProtocolError


class Reader:
    """A cursor over immutable bytes; ``base`` makes offsets absolute in a larger stream."""

    __slots__ = ("_data", "_end", "_position", "base")

    def __init__(self, data: bytes, *, base: int = 0) -> None:
        self._data = data
        self._position = 0
        self._end = len(data)
        self.base = base

    @property
    def offset(self) -> int:
        """Absolute offset of the next unread byte."""
        return self.base + self._position

    @property
    def remaining(self) -> int:
        return self._end - self._position

    def _take(self, count: int, what: str) -> bytes:
        if count > self.remaining:
            raise DecodeError(
                f"{what}: need {count} bytes, only {self.remaining} left at offset {self.offset}",
                offset=self.offset,
            )
        start = self._position
        self._position += count
        return self._data[start : self._position]

    def uint8(self, what: str = "uint8") -> int:
        return self._take(1, what)[0]

    def uint16(self, what: str = "uint16") -> int:
        return int.from_bytes(self._take(2, what), "big")

    def uint24(self, what: str = "uint24") -> int:
        return int.from_bytes(self._take(3, what), "big")

    def uint32(self, what: str = "uint32") -> int:
        return int.from_bytes(self._take(4, what), "big")

    def raw(self, count: int, what: str = "bytes") -> bytes:
        return self._take(count, what)

    def opaque(self, length_bytes: int, what: str, *, minimum: int = 0, maximum: int) -> bytes:
        """A ``opaque x<minimum..maximum>`` vector whose length prefix is ``length_bytes`` long."""
        at = self.offset
        length = int.from_bytes(self._take(length_bytes, f"{what} length"), "big")
        if not minimum <= length <= maximum:
            raise DecodeError(
                f"{what}: length {length} outside {minimum}..{maximum} at offset {at}", offset=at
            )
        return self._take(length, what)

    def sub_reader(self, length_bytes: int, what: str, *, minimum: int = 0, maximum: int) -> Reader:
        """A Reader over the next vector, keeping absolute offsets."""
        at_payload = self.offset + length_bytes
        body = self.opaque(length_bytes, what, minimum=minimum, maximum=maximum)
        return Reader(body, base=at_payload)

    def rest(self) -> bytes:
        return self._take(self.remaining, "rest")

    def expect_end(self, what: str) -> None:
        if self.remaining:
            raise DecodeError(
                f"{what}: {self.remaining} unexpected trailing bytes at offset {self.offset}",
                offset=self.offset,
            )


class Writer:
    """Builds presentation-language bytes; refuses values that do not fit their field."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def _int(self, value: int, size: int, what: str) -> Writer:
        if not 0 <= value < 1 << (8 * size):
            raise LocalProtocolError(f"{what} {value} does not fit in {size} bytes")
        self._parts.append(value.to_bytes(size, "big"))
        return self

    def uint8(self, value: int, what: str = "uint8") -> Writer:
        return self._int(value, 1, what)

    def uint16(self, value: int, what: str = "uint16") -> Writer:
        return self._int(value, 2, what)

    def uint24(self, value: int, what: str = "uint24") -> Writer:
        return self._int(value, 3, what)

    def uint32(self, value: int, what: str = "uint32") -> Writer:
        return self._int(value, 4, what)

    def uint16s(self, values: Sequence[int], what: str = "uint16") -> Writer:
        """Many uint16 in one call: suite and group lists are the bulk of a ClientHello."""
        try:
            self._parts.append(struct.pack(f"!{len(values)}H", *values))
        except struct.error:
            bad = next(value for value in values if not 0 <= value < 1 << 16)
            raise LocalProtocolError(f"{what} {bad} does not fit in 2 bytes") from None
        return self

    def raw(self, data: bytes) -> Writer:
        self._parts.append(data)
        return self

    def opaque(self, length_bytes: int, data: bytes, what: str = "vector") -> Writer:
        self._int(len(data), length_bytes, f"{what} length")
        self._parts.append(data)
        return self

    def getvalue(self) -> bytes:
        return b"".join(self._parts)
