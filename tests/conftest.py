"""Session-wide fixtures: the test PKI is costly (RSA-4096) and immutable, so it is made once."""

from __future__ import annotations

import pytest

from tests.pki import TestPKI


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """Keys and certificates under a session tmp dir: nothing secret is ever committed."""
    return TestPKI.create(tmp_path_factory.mktemp("pki"))
