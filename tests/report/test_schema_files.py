"""The third-party schemas are the verbatim copies their README names (size and SHA-256)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

SCHEMAS = Path(__file__).resolve().parent / "schemas"
_ROW = re.compile(r"^\| `(?P<file>[^`]+)` \|.*\| (?P<chars>\d+) \| `(?P<sha256>[0-9a-f]{64})` \|$")


def provenance() -> dict[str, tuple[int, str]]:
    """file -> (characters, SHA-256) from the README table."""
    rows = {}
    for line in (SCHEMAS / "README.md").read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            rows[match["file"]] = (int(match["chars"]), match["sha256"])
    return rows


def test_every_schema_file_has_a_provenance_row() -> None:
    files = sorted(path.name for path in SCHEMAS.iterdir() if path.name != "README.md")
    assert sorted(provenance()) == files


@pytest.mark.parametrize("name", sorted(provenance()))
def test_schema_file_is_the_recorded_copy(name: str) -> None:
    chars, sha256 = provenance()[name]
    data = (SCHEMAS / name).read_bytes()
    assert len(data.decode("utf-8")) == chars
    assert hashlib.sha256(data).hexdigest() == sha256
