"""Key-exchange rules on real servers: a server that triggers each, one that is clean, and for
nginx the rule's own snippet applied to the triggering server.

X25519MLKEM768 needs OpenSSL 3.5 or later, which only the pyOpenSSL lab server has (on
cryptography's bundled OpenSSL): it is the clean case for the post-quantum rule and, because it
ranks the hybrid above x25519, a HelloRetryRequest for a hello that lists the hybrid but shares
only x25519. nginx here is linked with OpenSSL 3.0, so the hybrid snippet cannot be applied.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from httpsaudit.rules.key_exchange import CLASSICAL_GROUPS_OPENSSL, HYBRID_GROUPS_OPENSSL
from httpsaudit.rules.model import Finding, RuleStatus, Severity
from tests.pki import TestPKI
from tests.pyopenssl_server import PyOpenSSLServer
from tests.rules.evaluation import audit
from tests.rules.test_protocol import NGINX_AEAD_SNIPPET, nginx_before_and_after, nginx_params
from tests.servers import NginxServer, OpenSSLServer, require_binary

RULE_IDS = tuple(f"KEX00{number}" for number in range(1, 10))
RSA_KEY_TRANSPORT_FIRST = "AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
DHE_FIRST = "DHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
NGINX_GROUPS_SNIPPET = (
    f"ssl_ecdh_curve {CLASSICAL_GROUPS_OPENSSL};\n"
    f"# with OpenSSL 3.5 or later (nginx -V): ssl_ecdh_curve {HYBRID_GROUPS_OPENSSL};"
)
OPENSSL_30_GROUPS = (
    "x25519",
    "secp256r1",
    "secp384r1",
    "secp521r1",
    "x448",
    "ffdhe2048",
    "ffdhe3072",
    "ffdhe4096",
    "ffdhe6144",
    "ffdhe8192",
)


def dh_parameters(directory: Path, group: str) -> Path:
    """DH parameters for a named group (``dh_1024_160``: RFC 5114's 1024-bit prime)."""
    path = directory / f"{group}.pem"
    command = [require_binary("openssl"), "genpkey", "-genparam", "-algorithm", "DH"]
    subprocess.run(
        [*command, "-pkeyopt", f"group:{group}", "-out", str(path)],
        check=True,
        capture_output=True,
    )
    return path


@pytest.fixture(scope="module")
def default_rsa(pki: TestPKI) -> Iterator[Mapping[str, Finding]]:
    """Every rule of the family on s_server with OpenSSL 3.0's defaults and an RSA key."""
    with OpenSSLServer(pki.rsa2048) as server:
        yield audit(server.port, pki.root_path, *RULE_IDS)


@pytest.fixture(scope="module")
def p384_only(pki: TestPKI) -> Iterator[Mapping[str, Finding]]:
    """Every rule on s_server that accepts P-384 alone: every TLS 1.3 client pays a retry."""
    with OpenSSLServer(pki.rsa2048, "-groups", "P-384") as server:
        yield audit(server.port, pki.root_path, *RULE_IDS)


@pytest.fixture(scope="module")
def hybrid_server(pki: TestPKI) -> Iterator[Mapping[str, Finding]]:
    """Every rule on the pyOpenSSL server (OpenSSL 4.0 defaults: X25519MLKEM768 first)."""
    with PyOpenSSLServer(pki.rsa2048) as server:
        yield audit(server.port, pki.root_path, *RULE_IDS)


@pytest.fixture(scope="module")
def tls12_only(pki: TestPKI) -> Iterator[Mapping[str, Finding]]:
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as server:
        yield audit(server.port, pki.root_path, *RULE_IDS)


@pytest.fixture(scope="module")
def tls13_only(pki: TestPKI) -> Iterator[Mapping[str, Finding]]:
    with OpenSSLServer(pki.rsa2048, "-tls1_3") as server:
        yield audit(server.port, pki.root_path, *RULE_IDS)


# -- KEX001: forward secrecy ---------------------------------------------------------------


def test_kex001_trigger_server_prefers_rsa_key_transport(pki: TestPKI) -> None:
    # Given a TLS 1.2 server that ranks an RSA key-transport suite above ECDHE
    args = ("-no_tls1_3", "-serverpref", "-cipher", RSA_KEY_TRANSPORT_FIRST)
    with OpenSSLServer(pki.rsa2048, *args) as server:
        finding = audit(server.port, pki.root_path, "KEX001")["KEX001"]
    # Then even a browser, listing ECDHE first, gets no forward secrecy
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.HIGH
    assert finding.evidence == {
        "key_exchange": "RSA",
        "cipher_suite": "TLS_RSA_WITH_AES_128_GCM_SHA256",
        "group": None,
        "dh_prime_bits": None,
        "static_rsa_accepted": True,
    }
    assert finding.message == (
        "Browsers get RSA key transport in TLS 1.2 (TLS_RSA_WITH_AES_128_GCM_SHA256): "
        "no forward secrecy"
    )


def test_kex001_clean_default_server(default_rsa: Mapping[str, Finding]) -> None:
    finding = default_rsa["KEX001"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["key_exchange"] == "ECDHE"
    assert finding.evidence["group"] == "x25519"


def test_kex001_not_applicable_without_tls12(tls13_only: Mapping[str, Finding]) -> None:
    finding = tls13_only["KEX001"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.reason == "TLS 1.2 is not offered; every TLS 1.3 key exchange is ephemeral"


def test_kex001_nginx_advice_fixes_it(pki: TestPKI) -> None:
    # Given TLS 1.2 nginx ranking RSA key transport first
    before, after = nginx_before_and_after(
        pki,
        "KEX001",
        rsa=True,
        protocols="TLSv1.2",
        server_directives=f"ssl_ciphers {RSA_KEY_TRANSPORT_FIRST};\n"
        "        ssl_prefer_server_ciphers on;",
    )
    assert before.evidence["key_exchange"] == "RSA"
    assert before.snippet == NGINX_AEAD_SNIPPET
    # When its ECDHE + AEAD list replaces them, Then browsers get ECDHE
    assert after.status is RuleStatus.PASSED
    assert after.evidence["cipher_suite"] == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"


# -- KEX002: RSA key transport accepted at all ---------------------------------------------


def test_kex002_trigger_openssl_default_list(default_rsa: Mapping[str, Finding]) -> None:
    # Given OpenSSL 3.0's DEFAULT list, which still has AES128-GCM-SHA256 (RSA key transport)
    finding = default_rsa["KEX002"]
    # Then it is reported although browsers get ECDHE
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.LOW
    assert finding.evidence["static_rsa_accepted"] is True
    assert finding.message == "RSA key transport is still accepted in TLS 1.2 (browsers get ECDHE)"


def test_kex002_clean_ecdsa_certificate(tls12_only: Mapping[str, Finding]) -> None:
    # Given an ECDSA key: RSA key transport cannot happen at all
    finding = tls12_only["KEX002"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["static_rsa_accepted"] is False


def test_kex002_nginx_advice_fixes_it(pki: TestPKI) -> None:
    # Given nginx's default list (HIGH:!aNULL:!MD5) on an RSA key
    before, after = nginx_before_and_after(pki, "KEX002", rsa=True)
    assert before.evidence["static_rsa_accepted"] is True
    assert after.status is RuleStatus.PASSED
    assert after.evidence["static_rsa_accepted"] is False


# -- KEX003 / KEX004: DHE ------------------------------------------------------------------


def test_kex003_trigger_dhe_only_server(pki: TestPKI) -> None:
    args = ("-no_tls1_3", "-cipher", "DHE-RSA-AES128-GCM-SHA256")
    with OpenSSLServer(pki.rsa2048, *args) as server:
        finding = audit(server.port, pki.root_path, "KEX003")["KEX003"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["key_exchange"] == "DHE"
    assert finding.evidence["cipher_suite"] == "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"
    assert finding.evidence["dh_prime_bits"] == 2048
    assert finding.message == (
        "A browser-like TLS 1.2 offer that lists ECDHE first gets DHE "
        "(TLS_DHE_RSA_WITH_AES_128_GCM_SHA256, 2048-bit prime)"
    )


def test_kex003_clean_default_server(default_rsa: Mapping[str, Finding]) -> None:
    # Given OpenSSL's defaults, which accept DHE too but rank ECDHE first
    finding = default_rsa["KEX003"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["key_exchange"] == "ECDHE"


def test_kex003_nginx_advice_fixes_it(pki: TestPKI, tmp_path: Path) -> None:
    # Given TLS 1.2 nginx with RFC 7919 DH parameters ranking DHE above ECDHE
    ffdhe2048 = dh_parameters(tmp_path, "ffdhe2048")
    before, after = nginx_before_and_after(
        pki,
        "KEX003",
        rsa=True,
        protocols="TLSv1.2",
        server_directives=f"ssl_dhparam {ffdhe2048};\n        ssl_ciphers {DHE_FIRST};\n"
        "        ssl_prefer_server_ciphers on;",
    )
    assert before.evidence["dh_prime_bits"] == 2048
    assert before.snippet == NGINX_AEAD_SNIPPET
    # When the ECDHE + AEAD list replaces them, Then browsers get ECDHE
    assert after.status is RuleStatus.PASSED
    assert after.evidence["key_exchange"] == "ECDHE"


def test_kex004_trigger_1024_bit_prime(pki: TestPKI, tmp_path: Path) -> None:
    # Given a server whose DHE uses RFC 5114's 1024-bit prime (allowed at security level 1)
    weak = dh_parameters(tmp_path, "dh_1024_160")
    args = ("-cipher", "DEFAULT:@SECLEVEL=1", "-dhparam", str(weak))
    with OpenSSLServer(pki.rsa2048, *args) as server:
        finding = audit(server.port, pki.root_path, "KEX004")["KEX004"]
    # Then any client offering DHE gets it, although browsers get ECDHE
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.HIGH
    assert finding.evidence == {"dh_prime_bits": 1024, "min_dh_prime_bits": 2048}
    assert finding.message == "DHE uses a 1024-bit prime, below 2048 bits"


def test_kex004_clean_automatic_parameters(default_rsa: Mapping[str, Finding]) -> None:
    # Given OpenSSL's automatic DH parameters, sized to the RSA-2048 key
    finding = default_rsa["KEX004"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["dh_prime_bits"] == 2048


def test_kex004_not_applicable_without_dhe(tls12_only: Mapping[str, Finding]) -> None:
    # Given an ECDSA key: OpenSSL has no DHE suite for it
    finding = tls12_only["KEX004"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.evidence["dh_prime_bits"] is None


def test_kex004_nginx_advice_fixes_it(pki: TestPKI, tmp_path: Path) -> None:
    # Given nginx with a 1024-bit prime (security level 1 lets OpenSSL load it)
    weak = dh_parameters(tmp_path, "dh_1024_160")
    trigger = f"ssl_dhparam {weak};\n        ssl_ciphers DEFAULT:@SECLEVEL=1;"
    with NginxServer("basic", pki.rsa2048, server_directives=trigger) as server:
        before = audit(server.port, pki.root_path, "KEX004")["KEX004"]
    assert before.status is RuleStatus.FAILED
    assert before.evidence["dh_prime_bits"] == 1024
    assert before.snippet is not None
    # When the snippet is followed: its comment's command makes the file its directive loads
    command, directive = before.snippet.splitlines()
    generated = command.removeprefix("# ").split()
    target = Path(generated[generated.index("-out") + 1])
    local = dh_parameters(tmp_path, "ffdhe2048")
    applied = directive.replace(str(target), str(local))
    with NginxServer("basic", pki.rsa2048, **nginx_params(applied)) as server:
        after = audit(server.port, pki.root_path, "KEX004")["KEX004"]
    # Then DHE uses the 2048-bit RFC 7919 prime
    assert generated[-4:-2] == ["-pkeyopt", "group:ffdhe2048"]
    assert after.status is RuleStatus.PASSED
    assert after.evidence["dh_prime_bits"] == 2048


# -- KEX005 / KEX006: x25519 ---------------------------------------------------------------


def test_kex005_trigger_nist_curves_only(pki: TestPKI) -> None:
    with OpenSSLServer(pki.rsa2048, "-groups", "P-256:P-384") as server:
        finding = audit(server.port, pki.root_path, "KEX005")["KEX005"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.LOW
    assert finding.evidence == {
        "version": "TLSv1.3",
        "supported_groups": ("secp256r1", "secp384r1"),
    }
    assert finding.message == "x25519 is not accepted in TLSv1.3 (groups: secp256r1, secp384r1)"


def test_kex005_clean_default_server(default_rsa: Mapping[str, Finding]) -> None:
    finding = default_rsa["KEX005"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence == {"version": "TLSv1.3", "supported_groups": OPENSSL_30_GROUPS}


def test_kex005_clean_tls12_only_server(tls12_only: Mapping[str, Finding]) -> None:
    # Given a TLS 1.2-only server: its ECDHE curves are judged instead
    finding = tls12_only["KEX005"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["version"] == "TLSv1.2"


def test_kex005_nginx_advice_fixes_it(pki: TestPKI) -> None:
    before, after = nginx_before_and_after(
        pki, "KEX005", server_directives="ssl_ecdh_curve prime256v1:secp384r1;"
    )
    assert before.snippet == NGINX_GROUPS_SNIPPET
    assert after.status is RuleStatus.PASSED
    assert after.evidence["supported_groups"] == ("x25519", "secp256r1", "secp384r1")


def test_kex006_trigger_p256_ranked_first(pki: TestPKI) -> None:
    with OpenSSLServer(pki.rsa2048, "-groups", "P-256:X25519") as server:
        finding = audit(server.port, pki.root_path, "KEX006")["KEX006"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.INFO
    assert finding.evidence == {
        "preference_kind": "server",
        "tls13_preference": ("secp256r1", "x25519"),
        "preferred_groups": ("secp256r1",),
    }
    assert finding.message == (
        "The server ranks secp256r1 above x25519 in TLS 1.3 (its order: secp256r1, x25519)"
    )


def test_kex006_clean_default_server(default_rsa: Mapping[str, Finding]) -> None:
    finding = default_rsa["KEX006"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["preferred_groups"] == ("x25519",)


def test_kex006_clean_hybrid_tiers(hybrid_server: Mapping[str, Finding]) -> None:
    # Given tiers {X25519MLKEM768, SecP256r1MLKEM768} > {x25519, P-256} > ...: the hybrids
    # above x25519 are no fault, and x25519 shares the first classical tier
    finding = hybrid_server["KEX006"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["preference_kind"] == "tiered"
    assert finding.evidence["preferred_groups"] == ("x25519", "secp256r1")


def test_kex006_not_applicable_without_x25519(p384_only: Mapping[str, Finding]) -> None:
    finding = p384_only["KEX006"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.reason == "x25519 is not offered in TLS 1.3 (see KEX005)"


def test_kex006_nginx_advice_fixes_it(pki: TestPKI) -> None:
    before, after = nginx_before_and_after(
        pki, "KEX006", server_directives="ssl_ecdh_curve prime256v1:X25519;"
    )
    assert before.evidence["preferred_groups"] == ("secp256r1",)
    assert after.status is RuleStatus.PASSED
    assert after.evidence["tls13_preference"] == ("x25519", "secp256r1", "secp384r1")


# -- KEX007: HelloRetryRequest for a browser-like hello ------------------------------------


def test_kex007_trigger_p384_only(p384_only: Mapping[str, Finding]) -> None:
    finding = p384_only["KEX007"]
    # Then the browser's x25519 share is refused and the server asks for P-384
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["browser_hello_group"] == "secp384r1"
    assert finding.saving is not None
    assert finding.saving.round_trips == 1
    assert finding.message == (
        "A browser-like TLS 1.3 hello (an x25519 key share) is asked to retry for secp384r1: "
        f"1 more round trip, about {finding.saving.ms:g} ms, on every new connection"
    )


def test_kex007_trigger_hybrid_ranked_above_the_shared_x25519(
    hybrid_server: Mapping[str, Finding],
) -> None:
    # Given a server ranking X25519MLKEM768 in a tier above x25519
    finding = hybrid_server["KEX007"]
    # Then a hello listing the hybrid but sharing only x25519 is sent back for the hybrid, and
    # the message says who pays
    assert finding.status is RuleStatus.FAILED
    assert finding.evidence["browser_hello_group"] == "X25519MLKEM768"
    assert finding.message.startswith(
        "A hello listing X25519MLKEM768, x25519, secp256r1, secp384r1 with only an x25519 key "
        "share is asked to retry for X25519MLKEM768"
    )
    assert finding.message.endswith("for clients that list the hybrid without sending its share")


def test_kex007_clean_default_server(default_rsa: Mapping[str, Finding]) -> None:
    finding = default_rsa["KEX007"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["browser_hello_group"] == "x25519"
    assert finding.saving is None


def test_kex007_not_applicable_without_tls13(tls12_only: Mapping[str, Finding]) -> None:
    assert tls12_only["KEX007"].status is RuleStatus.NOT_APPLICABLE


def test_kex007_nginx_advice_fixes_it(pki: TestPKI) -> None:
    before, after = nginx_before_and_after(
        pki, "KEX007", server_directives="ssl_ecdh_curve secp384r1;"
    )
    assert before.evidence["browser_hello_group"] == "secp384r1"
    assert before.snippet == NGINX_GROUPS_SNIPPET
    assert after.status is RuleStatus.PASSED
    assert after.evidence["browser_hello_group"] == "x25519"


# -- KEX008: post-quantum hybrid -----------------------------------------------------------


def test_kex008_trigger_openssl_30(default_rsa: Mapping[str, Finding]) -> None:
    finding = default_rsa["KEX008"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.LOW
    assert finding.evidence == {"tls13_groups": OPENSSL_30_GROUPS, "hybrid_groups": ()}
    assert finding.snippet is not None
    assert f"ssl_ecdh_curve {HYBRID_GROUPS_OPENSSL};" in finding.snippet


def test_kex008_clean_openssl_40_defaults(hybrid_server: Mapping[str, Finding]) -> None:
    finding = hybrid_server["KEX008"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["hybrid_groups"] == ("X25519MLKEM768", "SecP256r1MLKEM768")


def test_kex008_not_applicable_without_tls13(tls12_only: Mapping[str, Finding]) -> None:
    finding = tls12_only["KEX008"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.reason == "TLS 1.3 is not offered (see TLS001)"


# -- KEX009: simulated clients paying a HelloRetryRequest ----------------------------------


def test_kex009_trigger_p384_only(p384_only: Mapping[str, Finding]) -> None:
    finding = p384_only["KEX009"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.LOW
    assert finding.evidence == {
        "retrying_clients": (
            "Chrome 131+: secp384r1",
            "curl 7.88 / OpenSSL 3.0: secp384r1",
            "Firefox 132+: secp384r1",
            "Safari 16 (iOS/macOS before 26): secp384r1",
        ),
        "retrying_count": 4,
        "tls13_clients": 4,
    }
    assert finding.saving is not None
    assert finding.saving.round_trips == 1


def test_kex009_clean_hybrid_server(hybrid_server: Mapping[str, Finding]) -> None:
    # Given the hybrid-first server: real browsers send an X25519MLKEM768 share, so unlike the
    # synthetic hello of KEX007 no real client is sent back
    finding = hybrid_server["KEX009"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence == {"retrying_clients": (), "retrying_count": 0, "tls13_clients": 4}


def test_kex009_not_applicable_without_tls13(tls12_only: Mapping[str, Finding]) -> None:
    assert tls12_only["KEX009"].status is RuleStatus.NOT_APPLICABLE


def test_kex009_nginx_advice_fixes_it(pki: TestPKI) -> None:
    before, after = nginx_before_and_after(
        pki, "KEX009", server_directives="ssl_ecdh_curve secp384r1;"
    )
    assert before.evidence["retrying_count"] == 4
    assert after.status is RuleStatus.PASSED


def test_chinese_key_exchange_finding_has_the_same_evidence(pki: TestPKI) -> None:
    with OpenSSLServer(pki.rsa2048, "-groups", "P-384") as server:
        english = audit(server.port, pki.root_path, "KEX007")["KEX007"]
        chinese = audit(server.port, pki.root_path, "KEX007", lang="zh")["KEX007"]
    assert chinese.evidence == english.evidence
    assert chinese.saving is not None
    assert chinese.message == (
        "类浏览器的 TLS 1.3 握手(带 x25519 密钥共享)被要求改用 secp384r1 重试:"
        f"每个新连接多 1 个往返,约 {chinese.saving.ms:g} 毫秒"
    )
