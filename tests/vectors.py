"""The one way tests read recorded TLS bytes: ``fixtures/vectors/<name>.hex`` with provenance.

A vector file starts with ``#`` header lines, at least ``# source:`` saying where the bytes come
from (STYLE 3.6). The body is hex with any whitespace and ``#`` comments to the end of a line
(tlslite ``clean()`` style). A file without a source is refused, so no unexplained bytes get in.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from httpsaudit.tls.client import ClientParams
from httpsaudit.tls.codec import Reader
from httpsaudit.tls.codes import NamedGroup
from httpsaudit.tls.keyshare import KeyShareSecret, key_share_from_private_bytes

VECTORS_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "vectors"
SUFFIX = ".hex"
# Header keys every vector file is expected to carry; only ``source`` is mandatory to load.
HEADER_KEYS = ("source", "captured-with", "describes")
REQUIRED_HEADER = "source"
_HEADER_LINE = re.compile(r"^#\s*(?P<key>[a-z][a-z-]*):\s*(?P<value>\S.*)$")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class VectorFileError(ValueError):
    """A vector file is missing, lacks provenance, or holds something that is not hex."""


def vector_path(name: str, *, directory: Path = VECTORS_DIR) -> Path:
    """``name`` with or without ``.hex``; plain file names only, so nothing outside is read."""
    stem = name.removesuffix(SUFFIX)
    if not _NAME.fullmatch(stem):
        raise VectorFileError(f"vector name {name!r} must be a plain file name")
    return directory / f"{stem}{SUFFIX}"


def read_headers(name: str, *, directory: Path = VECTORS_DIR) -> dict[str, str]:
    """The ``# key: value`` lines before the first hex line, keyed by lower-case key."""
    headers: dict[str, str] = {}
    for line in _read_text(vector_path(name, directory=directory)).splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        match = _HEADER_LINE.match(stripped)
        if match is not None:
            headers.setdefault(match["key"].lower(), match["value"].strip())
    return headers


def load_hex(name: str, *, directory: Path = VECTORS_DIR) -> bytes:
    """The bytes of vector ``name``: comments and whitespace removed, provenance required."""
    path = vector_path(name, directory=directory)
    headers = read_headers(name, directory=directory)
    if REQUIRED_HEADER not in headers:
        raise VectorFileError(f"{path.name}: no '# {REQUIRED_HEADER}:' header line; say where")
    digits: list[str] = []
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        text = "".join(line.split("#", 1)[0].split())
        if text and not re.fullmatch(r"[0-9a-fA-F]*", text):
            raise VectorFileError(f"{path.name}:{number}: not hex: {text!r}")
        digits.append(text)
    joined = "".join(digits)
    if len(joined) % 2:
        raise VectorFileError(f"{path.name}: odd number of hex digits ({len(joined)})")
    if not joined:
        raise VectorFileError(f"{path.name}: no bytes")
    return bytes.fromhex(joined)


def vector_names(*, directory: Path = VECTORS_DIR) -> tuple[str, ...]:
    """Every vector file's name without ``.hex``, sorted."""
    return tuple(sorted(path.stem for path in directory.glob(f"*{SUFFIX}")))


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VectorFileError(f"no vector file {path}") from None


# --- RFC 8448 client inputs (printed in the RFC: published test values, not secrets) ------------

H = bytes.fromhex
# The groups, signature schemes and suites every RFC 8448 ClientHello lists, in its order.
RFC_GROUPS = (0x001D, 0x0017, 0x0018, 0x0019, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104)
RFC_SIGNATURES = (
    0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201,
    0x0402, 0x0502, 0x0602, 0x0202,
)  # fmt: skip
RFC_SUITES = (0x1301, 0x1303, 0x1302)
# §3
S3_RANDOM = H("cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7")
S3_CLIENT_PRIVATE = H("49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005")
S3_PSK = H("4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3")
S3_AGE_ADD = 0xFAD6AAC5
# §4: the ticket age that turns age_add into the RFC's obfuscated_ticket_age 0xfad6aacb.
S4_RANDOM = H("1bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d95")
S4_CLIENT_PRIVATE = H("bff91188283846dd6a2134ef7180ca2b0b14fb10dce707b5098c0dddc813b2df")
S4_TICKET_AGE_MS = 0xFAD6AACB - S3_AGE_ADD
# §5
S5_RANDOM = H("b0b1c5a5aa37c5919f2ed1d5c6fff7fcb7849716945a2b8cee9258a346677b6f")
S5_X25519_PRIVATE = H("0ed02f8e8117efc75ca7ac32aa7e34eda64cdc0ddad154a5e85289f959f63204")
S5_P256_PRIVATE = H("ab5473467e19346ceb0a0414e41da21d4d2445bc3025afe97c4e8dc8d513da39")
# §6
S6_RANDOM = H("6a472236328b83af40386d3a3e1f1ce624fa4ed89ab865a4ff0f4144ce3ae233")
S6_CLIENT_PRIVATE = H("c040b2bb8f3addd20fd4058c547003a3c6f9c1cd915d5e535c87d8d191aaf071")
# §7
S7_RANDOM = H("4e640a3f2c2738f09c9418bd78edccd7559d0531199276d4d92a0e9ee9d77d09")
S7_SESSION_ID = H("a80c165581a8e0d06c0018d54d3a06dd32cfd4051eb026fad3fd0ba99269e6ef")
S7_CLIENT_PRIVATE = H("dea00b45695dc781f19d34a62c1afd31ab4369af1e855a3bbb258d8442cde6d7")


def x25519_share(private: bytes) -> KeyShareSecret:
    return key_share_from_private_bytes(NamedGroup.x25519, private)


def rfc_params(random: bytes, share: KeyShareSecret, **changes: object) -> ClientParams:
    """ClientParams whose first flight is the RFC 8448 client's, byte for byte."""
    params = ClientParams(
        random=random,
        legacy_session_id=b"",
        server_name="server",
        cipher_suites=RFC_SUITES,
        supported_groups=RFC_GROUPS,
        key_shares=(share,),
        signature_algorithms=RFC_SIGNATURES,
        renegotiation_info=True,
        record_size_limit=0x4001,
        send_compat_ccs=False,
    )
    return dataclasses.replace(params, **changes)  # type: ignore[arg-type]


def handshake_messages(data: bytes) -> list[tuple[int, bytes]]:
    """(type, body) of each handshake message in ``data``."""
    reader = Reader(data)
    messages: list[tuple[int, bytes]] = []
    while reader.remaining:
        kind = reader.uint8("type")
        messages.append((kind, reader.opaque(3, "body", maximum=2**24 - 1)))
    return messages
