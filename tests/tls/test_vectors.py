"""The vector files themselves: provenance on every file, a README entry, and a strict loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.vectors import (
    HEADER_KEYS,
    VECTORS_DIR,
    VectorFileError,
    load_hex,
    read_headers,
    vector_names,
)

README = VECTORS_DIR / "README.md"


def test_the_vectors_the_tls_tests_use_exist() -> None:
    # Given the vector directory
    # When it is listed
    # Then the RFC 8448 and captured flights are all there
    assert set(vector_names()) >= {
        "rfc8448_simple_server_hello",
        "rfc8448_hrr",
        "openssl_tls12_flight",
        "openssl_tls13_flight",
        "openssl_hrr_flight",
        "openssl_handshake_failure_alert",
    }


@pytest.mark.parametrize("name", vector_names())
def test_every_vector_has_provenance_and_a_readme_entry(name: str) -> None:
    # Given a committed vector file
    headers = read_headers(name)

    # When its header and the README are read
    readme = README.read_text(encoding="utf-8")

    # Then it says where it comes from, how it was obtained and what it is, and is listed
    assert set(HEADER_KEYS) <= set(headers), headers
    assert f"`{name}.hex`" in readme
    assert load_hex(name)
    if name.startswith("openssl_"):
        assert "127.0.0.1" in headers["source"]
        assert "OpenSSL 3.0" in headers["captured-with"]


def _write(directory: Path, name: str, text: str) -> None:
    (directory / f"{name}.hex").write_text(text, encoding="utf-8")


def test_load_hex_strips_comments_and_whitespace(tmp_path: Path) -> None:
    # Given a file with a source header, field comments and ragged whitespace
    _write(
        tmp_path,
        "sample",
        "# source: hand-written for this test\n"
        "# describes: two records\n"
        "\n"
        "15 03 03 00 02   # alert record header\n"
        "\t02 28\n"
        "  # a comment line with hex-like words: ff ff\n"
        "16030300 04 0e000000\n",
    )

    # When it is loaded, with or without the suffix
    data = load_hex("sample", directory=tmp_path)

    # Then only the hex digits remain, as bytes
    assert data == bytes.fromhex("150303000202281603030004 0e000000")
    assert load_hex("sample.hex", directory=tmp_path) == data


def test_load_hex_refuses_a_file_without_source(tmp_path: Path) -> None:
    # Given a file whose header says what it is but not where it comes from
    _write(tmp_path, "anonymous", "# describes: mystery bytes\n15 03 03 00 02 02 28\n")

    # When it is loaded
    # Then it is refused
    with pytest.raises(VectorFileError, match="source"):
        load_hex("anonymous", directory=tmp_path)


def test_source_must_be_in_the_header_not_the_body(tmp_path: Path) -> None:
    # Given a "# source:" line only after the bytes begin
    _write(tmp_path, "late", "15 03 03\n# source: too late\n00 02 02 28\n")

    # When it is loaded
    # Then it is refused
    with pytest.raises(VectorFileError, match="source"):
        load_hex("late", directory=tmp_path)


@pytest.mark.parametrize(
    ("body", "message"),
    [("15 03 0x\n", "not hex"), ("15 03 0\n", "odd number"), ("# only comments\n", "no bytes")],
)
def test_load_hex_refuses_bodies_that_are_not_bytes(
    tmp_path: Path, body: str, message: str
) -> None:
    # Given a sourced file whose body is not whole hex bytes
    _write(tmp_path, "bad", "# source: this test\n" + body)

    # When it is loaded
    # Then it is refused, saying why
    with pytest.raises(VectorFileError, match=message):
        load_hex("bad", directory=tmp_path)


@pytest.mark.parametrize("name", ["../README", "sub/dir", "", "missing"])
def test_load_hex_reads_only_existing_plain_names(name: str) -> None:
    # Given a name that is a path, empty, or not there
    # When it is loaded
    # Then it is refused before anything outside the vector directory is read
    with pytest.raises(VectorFileError):
        load_hex(name)
