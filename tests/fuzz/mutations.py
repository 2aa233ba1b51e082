"""Byte-level mutations of valid inputs: flip, set, insert, delete, duplicate, truncate, and
changes to length fields, which is where TLS parsers go wrong most.

A mutation is plain data (a tuple), so hypothesis can shrink it and a failing case prints as
something one can paste into a regression test. Positions are taken modulo the input's length
at the time the mutation applies, so any integer is valid.
"""

from __future__ import annotations

from dataclasses import dataclass

from httpsaudit.tls.records import HANDSHAKE_HEADER_BYTES, RECORD_HEADER_BYTES

# How far a length field moves: off by one or two either way, or to its extremes.
LENGTH_DELTAS = (-2, -1, 1, 2)
SET_TO_ZERO = "zero"
SET_TO_MAX = "max"


@dataclass(frozen=True, slots=True)
class Mutation:
    """One change; ``kind`` is one of KINDS, the other fields mean what that kind says."""

    kind: str
    position: int
    value: int = 0
    data: bytes = b""


KINDS = ("flip", "set", "insert", "delete", "duplicate", "truncate", "length")


def length_fields(stream: bytes) -> list[tuple[int, int]]:
    """(offset, width) of every record length and every whole handshake message length in a
    TLS record stream, as far as it frames (garbage ends the walk)."""
    fields: list[tuple[int, int]] = []
    position = 0
    while position + RECORD_HEADER_BYTES <= len(stream):
        fields.append((position + 3, 2))
        length = int.from_bytes(stream[position + 3 : position + 5], "big")
        payload = position + RECORD_HEADER_BYTES
        if stream[position] == 22:  # handshake: its messages' uint24 lengths
            inner = payload
            while inner + HANDSHAKE_HEADER_BYTES <= min(payload + length, len(stream)):
                fields.append((inner + 1, 3))
                inner += HANDSHAKE_HEADER_BYTES + int.from_bytes(
                    stream[inner + 1 : inner + 4], "big"
                )
        position = payload + length
    return fields


def _change_length(data: bytearray, offset: int, width: int, how: int | str) -> None:
    if offset + width > len(data):
        return
    value = int.from_bytes(data[offset : offset + width], "big")
    limit = 1 << (8 * width)
    if how == SET_TO_ZERO:
        value = 0
    elif how == SET_TO_MAX:
        value = limit - 1
    else:
        value = (value + int(how)) % limit
    data[offset : offset + width] = value.to_bytes(width, "big")


def apply(data: bytes, mutations: list[Mutation], *, tls_stream: bool = False) -> bytes:
    """``data`` with each mutation applied in order. With ``tls_stream`` a "length" mutation
    picks one of the record and handshake length fields; without, any 1-3 bytes."""
    out = bytearray(data)
    for mutation in mutations:
        size = len(out)
        at = mutation.position % (size + 1)
        if mutation.kind == "insert":
            out[at:at] = mutation.data or b"\x00"
        elif mutation.kind == "truncate":
            del out[at:]
        elif size == 0:
            continue
        elif mutation.kind == "flip":
            out[at % size] ^= mutation.value % 255 + 1
        elif mutation.kind == "set":
            out[at % size] = mutation.value % 256
        elif mutation.kind == "delete":
            del out[at : at + mutation.value % 16 + 1]
        elif mutation.kind == "duplicate":
            piece = out[at : at + mutation.value % 64 + 1]
            out[at:at] = piece
        elif mutation.kind == "length":
            _mutate_length(out, mutation, tls_stream=tls_stream)
        else:
            raise ValueError(f"unknown mutation kind {mutation.kind!r}")
    return bytes(out)


def _mutate_length(out: bytearray, mutation: Mutation, *, tls_stream: bool) -> None:
    how: int | str
    choice = mutation.value % (len(LENGTH_DELTAS) + 2)
    if choice < len(LENGTH_DELTAS):
        how = LENGTH_DELTAS[choice]
    else:
        how = SET_TO_ZERO if choice == len(LENGTH_DELTAS) else SET_TO_MAX
    fields = length_fields(bytes(out)) if tls_stream else []
    if fields:
        offset, width = fields[mutation.position % len(fields)]
    else:
        # Presentation-language lengths are 1, 2 or 3 bytes wide (RFC 8446 §3.4).
        width = len(mutation.data) % 3 + 1
        offset = mutation.position % len(out)
    _change_length(out, offset, width, how)
