"""The one way tests read recorded TLS bytes: ``fixtures/vectors/<name>.hex`` with provenance.

A vector file starts with ``#`` header lines, at least ``# source:`` saying where the bytes come
from (STYLE 3.6). The body is hex with any whitespace and ``#`` comments to the end of a line
(tlslite ``clean()`` style). A file without a source is refused, so no unexplained bytes get in.
"""

from __future__ import annotations

import re
from pathlib import Path

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
