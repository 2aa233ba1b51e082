"""Session-wide fixtures: the test PKI is costly (RSA-4096) and immutable, so it is made once."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from tests.pki import TestPKI

# CI replays the same examples every run (a red build is a regression, not a lucky draw);
# exploration is for local runs and the atheris harness (tests/fuzz/README.md).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """Keys and certificates under a session tmp dir: nothing secret is ever committed."""
    return TestPKI.create(tmp_path_factory.mktemp("pki"))
