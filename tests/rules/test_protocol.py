"""Protocol rules on real servers: a server that triggers each, one that is clean, and for
nginx the rule's own snippet applied to the triggering server.

OpenSSL 3.0 here has no 3DES or RC4, so the legacy-cipher server is GnuTLS in a network
namespace of its own; the scan runs on a thread that joined it. The downgrade defences are
taken away by a middlebox in front of s_server, as a TLS terminator that predates them would.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from httpsaudit.rules.model import Finding, RuleStatus, ServerKind, Severity
from httpsaudit.rules.protocol import AEAD_CIPHER_SNIPPETS, AEAD_TLS12_OPENSSL, AES256_PREFERRED
from tests.middlebox import BrokenMiddlebox, Misbehaviour
from tests.pki import TestPKI
from tests.rules.evaluation import audit
from tests.servers import GnutlsServerInNamespace, NginxServer, OpenSSLServer


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


# -- Helpers -------------------------------------------------------------------------------

NGINX_AEAD_SNIPPET = AEAD_CIPHER_SNIPPETS[ServerKind.NGINX].text


def nginx_params(snippet: str) -> dict[str, str]:
    """A snippet as basic.conf parameters: ``ssl_protocols`` fills ``$protocols`` (the template
    sets it already), every other line goes into ``$server_directives`` as written."""
    protocols: str | None = None
    directives: list[str] = []
    for line in snippet.splitlines():
        if line.startswith("ssl_protocols "):
            protocols = line.removeprefix("ssl_protocols ").removesuffix(";")
        else:
            directives.append(line)
    params = {"server_directives": "\n        ".join(directives)}
    if protocols is not None:
        params["protocols"] = protocols
    return params


def nginx_before_and_after(
    pki: TestPKI, rule_id: str, *, rsa: bool = False, **trigger: str
) -> tuple[Finding, Finding]:
    """The rule on nginx configured with ``trigger``, then with the rule's nginx snippet applied
    in place of the trigger's directives (other parameters kept)."""
    leaf = pki.rsa2048 if rsa else pki.ecdsa_p256
    with NginxServer("basic", leaf, **trigger) as server:
        before = audit(server.port, pki.root_path, rule_id)[rule_id]
    assert before.status is RuleStatus.FAILED, before.message
    assert before.server == "nginx"
    assert before.snippet is not None
    fixed = {**trigger, **nginx_params(before.snippet)}
    with NginxServer("basic", leaf, **fixed) as server:
        after = audit(server.port, pki.root_path, rule_id)[rule_id]
    return before, after


# -- TLS003: False Start -------------------------------------------------------------------

STATIC_RSA = "static RSA key exchange: no forward secrecy"
CBC = "CBC suite: not AEAD"
NO_ALPN = "no ALPN negotiated"


def test_tls003_trigger_static_rsa_cbc_without_alpn(pki: TestPKI) -> None:
    # Given a TLS 1.2-only server with RSA key transport, a CBC suite and no ALPN
    with OpenSSLServer(pki.rsa2048, "-no_tls1_3", "-cipher", "AES128-SHA") as server:
        finding = audit(server.port, pki.root_path, "TLS003")["TLS003"]
    # Then browsers wait for the server's Finished, and every reason is named
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["reasons"] == (STATIC_RSA, CBC, NO_ALPN)
    assert finding.evidence["cipher_suite"] == "TLS_RSA_WITH_AES_128_CBC_SHA"
    assert finding.evidence["alpn"] is None
    assert finding.message == (
        f"Browsers cannot False Start on this TLS 1.2-only server: {STATIC_RSA}, {CBC}, {NO_ALPN}"
    )
    # And the saving is the round trip False Start would remove, at the measured RTT
    assert finding.saving is not None
    assert finding.saving.round_trips == 1
    assert finding.saving.ms is not None
    assert finding.advice is not None
    assert f"{finding.saving.ms:g} ms per new connection" in finding.advice


def test_tls003_trigger_no_alpn_on_s_server(pki: TestPKI) -> None:
    # Given s_server limited to TLS 1.2: ECDHE + AES-GCM, but it negotiates no ALPN
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as server:
        finding = audit(server.port, pki.root_path, "TLS003")["TLS003"]
    # Then Chrome's rule still refuses, for ALPN alone
    assert finding.status is RuleStatus.FAILED
    assert finding.evidence["reasons"] == (NO_ALPN,)
    assert finding.evidence["cipher_suite"] == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"


def test_tls003_clean_tls12_nginx(pki: TestPKI) -> None:
    # Given nginx with TLS 1.2 only: ECDHE + AES-GCM, and ALPN http/1.1
    with NginxServer("basic", pki.ecdsa_p256, protocols="TLSv1.2") as server:
        finding = audit(server.port, pki.root_path, "TLS003")["TLS003"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["reasons"] == ()
    assert finding.evidence["alpn"] == "http/1.1"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        pytest.param((), "TLS 1.3 is offered", id="tls13-makes-it-moot"),
        pytest.param(("-tls1_3",), "TLS 1.2 is not offered", id="no-tls12"),
    ],
)
def test_tls003_not_applicable(pki: TestPKI, args: tuple[str, ...], reason: str) -> None:
    with OpenSSLServer(pki.ecdsa_p256, *args) as server:
        finding = audit(server.port, pki.root_path, "TLS003")["TLS003"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.reason is not None
    assert finding.reason.startswith(reason)
    assert finding.saving is None


def test_tls003_nginx_advice_fixes_it(pki: TestPKI) -> None:
    # Given TLS 1.2-only nginx on an RSA key offering only RSA key transport with CBC
    before, after = nginx_before_and_after(
        pki,
        "TLS003",
        rsa=True,
        protocols="TLSv1.2",
        server_directives="ssl_ciphers AES128-SHA;",
    )
    assert before.evidence["reasons"] == (STATIC_RSA, CBC)
    assert before.snippet == NGINX_AEAD_SNIPPET
    # When the ECDHE + AEAD list replaces it, Then browsers may False Start
    assert after.status is RuleStatus.PASSED
    assert after.evidence["cipher_suite"] == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"


# -- TLS004 / TLS005: downgrade protection -------------------------------------------------


def test_tls004_trigger_scsv_stripped_before_the_server(pki: TestPKI) -> None:
    # Given a TLS 1.2 + 1.3 server behind a box that does not pass TLS_FALLBACK_SCSV on
    with (
        OpenSSLServer(pki.ecdsa_p256) as server,
        BrokenMiddlebox("127.0.0.1", server.port, Misbehaviour(strip_fallback_scsv=True)) as box,
    ):
        finding = audit(box.port, pki.root_path, "TLS004")["TLS004"]
    # Then the fallback hello completes with TLS 1.2
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.LOW
    assert finding.evidence == {
        "fallback_scsv_answer": "server_hello TLSv1.2",
        "offered_versions": ("TLSv1.2", "TLSv1.3"),
    }
    assert finding.message == (
        "TLS_FALLBACK_SCSV is ignored: a fallback hello got server_hello TLSv1.2 "
        "(offered: TLSv1.2, TLSv1.3)"
    )


def test_tls004_clean_openssl_refuses_the_fallback(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256) as server:
        finding = audit(server.port, pki.root_path, "TLS004")["TLS004"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["fallback_scsv_answer"] == "alert inappropriate_fallback"


def test_tls004_not_applicable_with_one_version(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256, "-tls1_3") as server:
        finding = audit(server.port, pki.root_path, "TLS004")["TLS004"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.evidence["offered_versions"] == ("TLSv1.3",)


def test_tls005_trigger_sentinel_erased_before_the_client(pki: TestPKI) -> None:
    # Given a TLS 1.2 + 1.3 server behind a box that zeroes DOWNGRD in the ServerHello random
    misbehaviour = Misbehaviour(erase_downgrade_sentinel=True)
    with (
        OpenSSLServer(pki.ecdsa_p256) as server,
        BrokenMiddlebox("127.0.0.1", server.port, misbehaviour) as box,
    ):
        finding = audit(box.port, pki.root_path, "TLS005")["TLS005"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.LOW
    assert finding.evidence == {"offered_versions": ("TLSv1.2", "TLSv1.3")}
    # And every snippet says why no configuration switches it
    assert finding.snippet is not None
    assert "cannot switch the RFC 8446 downgrade marker" in finding.snippet


def test_tls005_clean_openssl_marks_tls12(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256) as server:
        finding = audit(server.port, pki.root_path, "TLS005")["TLS005"]
    assert finding.status is RuleStatus.PASSED


def test_tls005_not_applicable_without_tls13(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3", "-cipher", "DEFAULT:@SECLEVEL=0") as server:
        finding = audit(server.port, pki.root_path, "TLS005")["TLS005"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.evidence["offered_versions"] == ("TLSv1.0", "TLSv1.1", "TLSv1.2")


# -- TLS006-TLS008: legacy ciphers ---------------------------------------------------------

LEGACY_RULES = ("TLS006", "TLS007", "TLS008")
# gnutls-serv with only CBC and stream ciphers, in its own order, TLS 1.2 and TLS 1.0.
GNUTLS_LEGACY_PRIORITY = (
    "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.0"
    ":-CIPHER-ALL:+AES-128-CBC:+3DES-CBC:+ARCFOUR-128:%SERVER_PRECEDENCE"
)
AEAD_ONLY = ("-cipher", "ECDHE+AESGCM:ECDHE+CHACHA20")


@pytest.fixture(scope="module")
def legacy_findings(pki: TestPKI) -> Iterator[Mapping[str, Finding]]:
    """The three legacy-cipher rules on GnuTLS offering AES-128-CBC, 3DES and RC4."""
    with GnutlsServerInNamespace(pki.ecdsa_p256, GNUTLS_LEGACY_PRIORITY) as server:
        yield server.call_inside(lambda: audit(server.port, pki.root_path, *LEGACY_RULES))


@pytest.fixture(scope="module")
def aead_only_findings(pki: TestPKI) -> Iterator[Mapping[str, Finding]]:
    """The same rules on s_server limited to ECDHE with AES-GCM or ChaCha20."""
    with OpenSSLServer(pki.ecdsa_p256, *AEAD_ONLY) as server:
        yield audit(server.port, pki.root_path, *LEGACY_RULES)


def test_tls006_trigger_cbc_on_gnutls(legacy_findings: Mapping[str, Finding]) -> None:
    finding = legacy_findings["TLS006"]
    # Then the 128-bit-block CBC suite is named, in both versions; 3DES is left to TLS007
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.LOW
    assert finding.evidence == {
        "cbc_suites": ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",),
        "cbc_versions": ("TLSv1.2", "TLSv1.0"),
    }
    assert finding.message == (
        "CBC cipher suites are accepted (TLSv1.2, TLSv1.0): TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
    )


def test_tls006_clean_aead_only(aead_only_findings: Mapping[str, Finding]) -> None:
    finding = aead_only_findings["TLS006"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence == {"cbc_suites": (), "cbc_versions": ()}


def test_tls006_nginx_advice_fixes_it(pki: TestPKI) -> None:
    # Given nginx with its default list (HIGH:!aNULL:!MD5), CBC suites included
    before, after = nginx_before_and_after(pki, "TLS006")
    assert "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" in before.evidence["cbc_suites"]
    assert before.snippet == NGINX_AEAD_SNIPPET
    # When the ECDHE + AEAD list is applied, Then no CBC suite is left
    assert after.status is RuleStatus.PASSED
    assert after.evidence["cbc_suites"] == ()


def test_tls007_trigger_3des_on_gnutls(legacy_findings: Mapping[str, Finding]) -> None:
    finding = legacy_findings["TLS007"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence == {
        "block64_suites": ("TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",),
        "block64_versions": ("TLSv1.2", "TLSv1.0"),
    }
    assert finding.snippet is not None
    assert AEAD_TLS12_OPENSSL in finding.snippet


def test_tls007_clean_aead_only(aead_only_findings: Mapping[str, Finding]) -> None:
    finding = aead_only_findings["TLS007"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence == {"block64_suites": (), "block64_versions": ()}


def test_tls008_trigger_rc4_on_gnutls(legacy_findings: Mapping[str, Finding]) -> None:
    finding = legacy_findings["TLS008"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.HIGH
    assert finding.evidence == {
        "rc4_suites": ("TLS_ECDHE_ECDSA_WITH_RC4_128_SHA",),
        "rc4_versions": ("TLSv1.2", "TLSv1.0"),
    }
    assert finding.message == (
        "RC4 cipher suites are accepted (TLSv1.2, TLSv1.0): TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"
    )


def test_tls008_clean_aead_only(aead_only_findings: Mapping[str, Finding]) -> None:
    finding = aead_only_findings["TLS008"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence == {"rc4_suites": (), "rc4_versions": ()}


# -- TLS009 / TLS010: choices among strong ciphers -----------------------------------------

OPENSSL_TLS13_SERVER_ORDER = (
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256",
)


def test_tls009_trigger_server_order_puts_aes256_first(pki: TestPKI) -> None:
    # Given s_server imposing OpenSSL's default order, AES-256 first
    with OpenSSLServer(pki.ecdsa_p256, "-serverpref") as server:
        finding = audit(server.port, pki.root_path, "TLS009")["TLS009"]
    # Then the highest version's order is the evidence
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.INFO
    assert finding.evidence == {
        "version": "TLSv1.3",
        "preference": "server",
        "accepted_suites": OPENSSL_TLS13_SERVER_ORDER,
    }


def test_tls009_evidence_never_presents_unranked_suites_as_an_order(pki: TestPKI) -> None:
    # Given TLS 1.2-only nginx imposing OpenSSL's order over 15 suites: too many to rank all
    with NginxServer(
        "basic",
        pki.ecdsa_p256,
        protocols="TLSv1.2",
        server_directives="ssl_prefer_server_ciphers on;",
    ) as server:
        finding = audit(server.port, pki.root_path, "TLS009")["TLS009"]
    # Then the evidence lists the ranked head in the server's order, then a count, not a list
    assert finding.status is RuleStatus.FAILED
    assert finding.evidence["accepted_suites"] == (
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
        "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
        "+11 more, not ranked",
    )


def test_tls009_clean_client_order(pki: TestPKI) -> None:
    # Given s_server following the client's order: browsers list AES-128 first and get it
    with OpenSSLServer(pki.ecdsa_p256) as server:
        finding = audit(server.port, pki.root_path, "TLS009")["TLS009"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["preference"] == "client"


def test_tls009_clean_server_order_with_aes128_first(pki: TestPKI) -> None:
    ciphers = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"
    with OpenSSLServer(pki.rsa2048, "-no_tls1_3", "-serverpref", "-cipher", ciphers) as server:
        finding = audit(server.port, pki.root_path, "TLS009")["TLS009"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["accepted_suites"] == (
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    )


def test_tls009_not_applicable_without_both_sizes(pki: TestPKI) -> None:
    suites = ("-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256")
    with OpenSSLServer(pki.ecdsa_p256, *suites) as server:
        finding = audit(server.port, pki.root_path, "TLS009")["TLS009"]
    assert finding.status is RuleStatus.NOT_APPLICABLE


def test_tls009_nginx_advice_fixes_it(pki: TestPKI) -> None:
    # Given nginx told to impose its (OpenSSL's) order
    before, after = nginx_before_and_after(
        pki, "TLS009", server_directives="ssl_prefer_server_ciphers on;"
    )
    assert before.evidence["accepted_suites"] == OPENSSL_TLS13_SERVER_ORDER
    # When its snippet is applied, Then the client's order decides
    assert after.status is RuleStatus.PASSED
    assert after.evidence["preference"] == "client"


def test_tls009_nginx_alternative_keeps_server_order(pki: TestPKI) -> None:
    # Given the snippet's commented alternative: server order kept, AES-128 first in TLS 1.3
    alternative = next(
        line.removeprefix("# ")
        for line in AES256_PREFERRED.advice.snippets[ServerKind.NGINX].text.splitlines()
        if line.startswith("# ssl_conf_command")
    )
    directives = f"ssl_prefer_server_ciphers on;\n        {alternative}"
    with NginxServer("basic", pki.ecdsa_p256, server_directives=directives) as server:
        finding = audit(server.port, pki.root_path, "TLS009")["TLS009"]
    # Then the server still decides, and it picks AES-128
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["preference"] == "server"
    assert finding.evidence["accepted_suites"] == (
        "TLS_AES_128_GCM_SHA256",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_256_GCM_SHA384",
    )


def test_tls010_trigger_server_order_ignores_chacha20_first_clients(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256, "-serverpref") as server:
        finding = audit(server.port, pki.root_path, "TLS010")["TLS010"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.LOW
    assert finding.evidence == {
        "version": "TLSv1.3",
        "preference": "server",
        "chacha20_offered": True,
        "accepted_suites": OPENSSL_TLS13_SERVER_ORDER,
    }
    assert finding.message.startswith(
        "A client that lists ChaCha20-Poly1305 first still gets AES-GCM in TLSv1.3"
    )


def test_tls010_trigger_chacha20_not_offered(pki: TestPKI) -> None:
    suites = ("-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384")
    with OpenSSLServer(pki.ecdsa_p256, *suites) as server:
        finding = audit(server.port, pki.root_path, "TLS010")["TLS010"]
    assert finding.status is RuleStatus.FAILED
    assert finding.evidence["chacha20_offered"] is False
    assert finding.message == (
        "ChaCha20-Poly1305 is not offered in TLSv1.3: phones without AES hardware must use "
        "AES-GCM in software"
    )


def test_tls010_clean_prioritize_chacha(pki: TestPKI) -> None:
    # Given a server-ordered server that lets ChaCha20-first clients have ChaCha20
    args = ("-serverpref", "-prioritize_chacha")
    with OpenSSLServer(pki.ecdsa_p256, *args) as server:
        finding = audit(server.port, pki.root_path, "TLS010")["TLS010"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["preference"] == "server"


def test_tls010_nginx_advice_fixes_it(pki: TestPKI) -> None:
    before, after = nginx_before_and_after(
        pki, "TLS010", server_directives="ssl_prefer_server_ciphers on;"
    )
    assert before.evidence["preference"] == "server"
    assert after.status is RuleStatus.PASSED


def test_tls010_nginx_alternative_prioritize_chacha(pki: TestPKI) -> None:
    # Given nginx keeping its own order but with the snippet's PrioritizeChaCha line
    directives = "ssl_prefer_server_ciphers on;\n        ssl_conf_command Options PrioritizeChaCha;"
    with NginxServer("basic", pki.ecdsa_p256, server_directives=directives) as server:
        finding = audit(server.port, pki.root_path, "TLS010")["TLS010"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["preference"] == "server"


# -- TLS011: simulated clients -------------------------------------------------------------

NO_VERSION = "alert protocol_version: no protocol version in common"


def test_tls011_trigger_tls13_only_server(pki: TestPKI) -> None:
    # Given a TLS 1.3-only server
    with OpenSSLServer(pki.rsa2048, "-tls1_3") as server:
        finding = audit(server.port, pki.root_path, "TLS011")["TLS011"]
    # Then the TLS 1.2-only clients are named with the server's refusal
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence == {
        "failed_clients": (
            f"Android 7.1 (HttpsURLConnection): {NO_VERSION}",
            f"Java 17 HttpClient, TLS 1.2 only: {NO_VERSION}",
        ),
        "failed_count": 2,
        "clients_tested": 6,
    }
    assert finding.message.startswith("2 of 6 simulated clients cannot connect: Android 7.1")


def test_tls011_clean_default_server(pki: TestPKI) -> None:
    with OpenSSLServer(pki.rsa2048) as server:
        finding = audit(server.port, pki.root_path, "TLS011")["TLS011"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence == {"failed_clients": (), "failed_count": 0, "clients_tested": 6}


def test_tls011_nginx_advice_fixes_it(pki: TestPKI) -> None:
    # Given nginx speaking TLS 1.3 only
    before, after = nginx_before_and_after(pki, "TLS011", rsa=True, protocols="TLSv1.3")
    assert before.evidence["failed_count"] == 2
    # When its snippet (TLS 1.2 next to 1.3, AEAD suites, groups) is applied, Then all connect
    assert after.status is RuleStatus.PASSED
    assert after.evidence["failed_count"] == 0
