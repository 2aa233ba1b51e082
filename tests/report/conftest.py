"""Real audits of lab servers shared by the findings-format tests: scanned once, read many times."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from httpsaudit.results import ScanResult
from httpsaudit.rules import RULES
from httpsaudit.rules.engine import RuleReport, evaluate
from tests.pki import TestPKI
from tests.scanning import scan_local
from tests.servers import NginxServer, OpenSSLServer


@dataclass(frozen=True)
class Audit:
    """A scan of a lab server and every registered rule evaluated over it."""

    scan: ScanResult
    rules: RuleReport
    port: int


@pytest.fixture(scope="session")
def tls12_audit(pki: TestPKI) -> Audit:
    """s_server without TLS 1.3 (TLS001 fails); no Server header, so no server is detected."""
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as server:
        result = scan_local(server.port, ca_file=pki.root_path)
    return Audit(result, evaluate(result, RULES), server.port)


@pytest.fixture(scope="session")
def nginx_audit(pki: TestPKI) -> Audit:
    """nginx limited to TLS 1.2: TLS001 fails with the nginx snippet alone."""
    with NginxServer("basic", pki.ecdsa_p256, protocols="TLSv1.2") as server:
        result = scan_local(server.port, ca_file=pki.root_path)
    return Audit(result, evaluate(result, RULES), server.port)
