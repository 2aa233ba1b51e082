"""Protocol-version rules on real servers: a server that triggers each, one that is clean."""

from __future__ import annotations

from httpsaudit.rules.model import RuleStatus, Severity
from tests.pki import TestPKI
from tests.rules.evaluation import audit
from tests.servers import NginxServer, OpenSSLServer


def test_tls001_trigger_tls12_only_server(pki: TestPKI) -> None:
    # Given a TLS 1.2-only server
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as server:
        finding = audit(server.port, pki.root_path, "TLS001")["TLS001"]
    # Then the rule fails with the measured versions and a one-round-trip saving
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.HIGH
    assert finding.evidence["offered_versions"] == ("TLSv1.2",)
    assert finding.saving is not None
    assert finding.saving.round_trips == 1
    assert finding.message == "TLS 1.3 is not offered (offered: TLSv1.2)"
    assert finding.advice is not None
    assert "saves 1 round trip" in finding.advice


def test_tls001_clean_default_server(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256) as server:
        finding = audit(server.port, pki.root_path, "TLS001")["TLS001"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["offered_versions"] == ("TLSv1.2", "TLSv1.3")


def test_tls001_nginx_advice_fixes_it(pki: TestPKI) -> None:
    # Given nginx limited to TLS 1.2, failing the rule, with its snippet for nginx
    with NginxServer("basic", pki.ecdsa_p256, protocols="TLSv1.2") as server:
        before = audit(server.port, pki.root_path, "TLS001")["TLS001"]
    assert before.status is RuleStatus.FAILED
    assert before.server == "nginx"
    assert before.snippet == "ssl_protocols TLSv1.2 TLSv1.3;"
    # When the snippet's protocols are applied
    protocols = before.snippet.removeprefix("ssl_protocols ").removesuffix(";")
    with NginxServer("basic", pki.ecdsa_p256, protocols=protocols) as server:
        after = audit(server.port, pki.root_path, "TLS001")["TLS001"]
    # Then the rule passes
    assert after.status is RuleStatus.PASSED


def test_tls002_trigger_tls10_enabled(pki: TestPKI) -> None:
    # Given a server that still accepts TLS 1.0 and 1.1
    with OpenSSLServer(pki.rsa2048, "-no_tls1_3", "-cipher", "DEFAULT:@SECLEVEL=0") as server:
        finding = audit(server.port, pki.root_path, "TLS002")["TLS002"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["old_versions"] == ("TLSv1.0", "TLSv1.1")
    assert finding.message == "Deprecated protocol versions are accepted: TLSv1.0, TLSv1.1"


def test_tls002_clean_default_server(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256) as server:
        finding = audit(server.port, pki.root_path, "TLS002")["TLS002"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["old_versions"] == ()


def test_chinese_findings_carry_the_same_evidence(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as server:
        english = audit(server.port, pki.root_path, "TLS001")["TLS001"]
        chinese = audit(server.port, pki.root_path, "TLS001", lang="zh")["TLS001"]
    assert chinese.evidence == english.evidence
    assert chinese.message == "服务器未启用 TLS 1.3(当前支持:TLSv1.2)"
