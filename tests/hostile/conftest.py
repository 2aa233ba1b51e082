"""Fixtures the scripted TLS server tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pki import TestPKI
from tests.servers import PythonTlsServer


@pytest.fixture(scope="module")
def backend(pki: TestPKI) -> Iterator[tuple[str, int]]:
    """The real TLS 1.2 + 1.3 server every spliced connection reaches."""
    with PythonTlsServer(pki.ecdsa_p256) as server:
        yield ("127.0.0.1", server.port)
