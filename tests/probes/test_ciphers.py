"""The cipher-suites probe against real servers: accepted suites per version, the server's
preference order, and the AES-128 and ChaCha20 choices, with the connections each cost.

OpenSSL 3.0 here is built without 3DES and RC4, so the legacy-cipher server is GnuTLS, run in a
network namespace of its own (gnutls-serv binds every address)."""

from __future__ import annotations

import pytest

from httpsaudit.probes.ciphers import MAX_SUITES_PER_HELLO, CipherSuitesProbe
from httpsaudit.probes.versions import VersionsProbe
from httpsaudit.results import (
    CipherSuiteInfo,
    CipherSuitesResult,
    ProbeStatus,
    VersionCipherSuites,
)
from httpsaudit.tls.codes import ProtocolVersion
from httpsaudit.tls.suites import suites_for_version
from tests.pki import Issued, TestPKI
from tests.probe_context import run_probe_on
from tests.servers import GnutlsServerInNamespace, OpenSSLServer

# What the issue promises for a typical server: well under 40 connections.
CONNECTION_BUDGET = 40

TLS13_AES128_GCM = "TLS_AES_128_GCM_SHA256"
TLS13_AES256_GCM = "TLS_AES_256_GCM_SHA384"
TLS13_CHACHA20 = "TLS_CHACHA20_POLY1305_SHA256"
ECDSA_AES128_GCM = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
ECDSA_AES256_GCM = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
ECDSA_CHACHA20 = "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
ECDSA_AES128_SHA256 = "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"
ECDSA_AES256_SHA384 = "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"
ECDSA_AES128_SHA = "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
ECDSA_AES256_SHA = "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"
ECDSA_3DES = "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"
ECDSA_RC4 = "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"
RSA_AES128_GCM = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
RSA_AES256_GCM = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
RSA_CHACHA20 = "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
DHE_RSA_AES256_GCM = "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"
STATIC_RSA_AES256 = "TLS_RSA_WITH_AES_256_CBC_SHA"

# OpenSSL 3.0's defaults, in its own (server) order, for an ECDSA certificate.
OPENSSL_TLS13_SERVER_ORDER = (TLS13_AES256_GCM, TLS13_CHACHA20, TLS13_AES128_GCM)
OPENSSL_ECDSA_TLS12_SERVER_ORDER = (
    ECDSA_AES256_GCM,
    ECDSA_CHACHA20,
    ECDSA_AES128_GCM,
    ECDSA_AES256_SHA384,
    ECDSA_AES128_SHA256,
    ECDSA_AES256_SHA,
    ECDSA_AES128_SHA,
)
# A client-ordered server gives its suites in the order we offer them: IANA table order, with
# ChaCha20 moved last (so OpenSSL's PRIORITIZE_CHACHA never bends a server's order).
OPENSSL_TLS13_OFFER_ORDER = (TLS13_AES128_GCM, TLS13_AES256_GCM, TLS13_CHACHA20)
OPENSSL_ECDSA_TLS12_OFFER_ORDER = (
    ECDSA_AES128_GCM,
    ECDSA_AES256_GCM,
    ECDSA_AES128_SHA256,
    ECDSA_AES256_SHA384,
    ECDSA_AES128_SHA,
    ECDSA_AES256_SHA,
    ECDSA_CHACHA20,
)
# Default OpenSSL with an ECDSA certificate: TLS 1.3 finds 3 suites in 4 hellos, + 1 reversed;
# TLS 1.2 finds 7 in 8, + 1 reversed; then one AES-128/256 hello and one ChaCha20 hello.
DEFAULT_ECDSA_CONNECTIONS = 4 + 1 + 8 + 1 + 1 + 1

RSA_EXPLICIT_CIPHERS = (
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:AES256-SHA:DHE-RSA-AES256-GCM-SHA384"
)
RSA_EXPLICIT_SERVER_ORDER = (
    RSA_AES128_GCM,
    RSA_CHACHA20,
    STATIC_RSA_AES256,
    DHE_RSA_AES256_GCM,
)
RSA_EXPLICIT_OFFER_ORDER = (RSA_AES128_GCM, DHE_RSA_AES256_GCM, STATIC_RSA_AES256, RSA_CHACHA20)
# 4 suites in 5 hellos, + 1 reversed, + the ChaCha20 hello; no ECDHE AES-256-GCM for the other.
RSA_EXPLICIT_CONNECTIONS = 5 + 1 + 1

# gnutls-serv with only CBC and stream ciphers, in its own order, TLS 1.2 and TLS 1.0.
GNUTLS_LEGACY_PRIORITY = (
    "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.0"
    ":-CIPHER-ALL:+AES-128-CBC:+3DES-CBC:+ARCFOUR-128:%SERVER_PRECEDENCE"
)
GNUTLS_LEGACY_ORDER = (ECDSA_AES128_SHA, ECDSA_3DES, ECDSA_RC4)


def probe_ciphers(port: int, pki: TestPKI) -> tuple[CipherSuitesResult, int]:
    """The probe's result and connection count, after the real versions probe ran first."""
    outcome = run_probe_on(
        CipherSuitesProbe(), port, ca_file=pki.root_path, first=[VersionsProbe()]
    )
    assert outcome.status is ProbeStatus.COMPLETED, (outcome.error, outcome.skip_reason)
    assert isinstance(outcome.result, CipherSuitesResult)
    assert outcome.connections < CONNECTION_BUDGET
    return outcome.result, outcome.connections


def scan_openssl(issued: Issued, pki: TestPKI, *args: str) -> tuple[CipherSuitesResult, int]:
    with OpenSSLServer(issued, *args) as server:
        return probe_ciphers(server.port, pki)


def names(version: VersionCipherSuites) -> tuple[str, ...]:
    return tuple(suite.name for suite in version.accepted)


def test_default_openssl_with_ecdsa_certificate(pki: TestPKI) -> None:
    # Given a default OpenSSL 3.0 server with an ECDSA P-256 certificate
    # When its suites are enumerated
    result, connections = scan_openssl(pki.ecdsa_p256, pki)
    tls13, tls12 = result.versions
    # Then TLS 1.3 accepts OpenSSL's three default suites and follows the client's order, so
    # they come out in our offer order
    assert (tls13.version, tls13.version_code) == ("TLSv1.3", ProtocolVersion.TLSv1_3)
    assert tls13.preference == "client"
    assert names(tls13) == OPENSSL_TLS13_OFFER_ORDER
    # And TLS 1.2 accepts only ECDHE_ECDSA suites: ECDHE_RSA and static RSA need an RSA key
    assert (tls12.version, tls12.version_code) == ("TLSv1.2", ProtocolVersion.TLSv1_2)
    assert tls12.preference == "client"
    assert names(tls12) == OPENSSL_ECDSA_TLS12_OFFER_ORDER
    # And each suite carries its facts
    assert tls12.accepted[0] == CipherSuiteInfo(
        name=ECDSA_AES128_GCM,
        code=0xC02B,
        key_exchange="ECDHE",
        authentication="ECDSA",
        encryption="AES-128-GCM",
        mode="AEAD",
        encryption_bits=128,
        forward_secret=True,
    )
    assert tls13.accepted[2] == CipherSuiteInfo(
        TLS13_CHACHA20, 0x1303, "any", "any", "CHACHA20-POLY1305", "AEAD", 256, True
    )
    # And a client-ordered server takes AES-256 when listed first, and honours ChaCha20
    assert result.prefers_aes128_over_aes256 is False
    assert result.honours_chacha20_preference is True
    # And no legacy cipher is accepted
    assert {suite.mode for version in result.versions for suite in version.accepted} == {
        "AEAD",
        "CBC",
    }
    assert all("3DES" not in suite.name for suite in tls12.accepted)
    assert connections == DEFAULT_ECDSA_CONNECTIONS


def test_server_preference_gives_the_servers_own_order(pki: TestPKI) -> None:
    # Given the same server told to impose its own order
    # When its suites are enumerated
    result, connections = scan_openssl(pki.ecdsa_p256, pki, "-serverpref")
    tls13, tls12 = result.versions
    # Then both versions report server preference, in OpenSSL's default order
    assert (tls13.preference, names(tls13)) == ("server", OPENSSL_TLS13_SERVER_ORDER)
    assert (tls12.preference, names(tls12)) == ("server", OPENSSL_ECDSA_TLS12_SERVER_ORDER)
    # And it puts AES-256 before AES-128, and AES-256 before ChaCha20 even for a client that
    # lists ChaCha20 first
    assert result.prefers_aes128_over_aes256 is False
    assert result.honours_chacha20_preference is False
    assert connections == DEFAULT_ECDSA_CONNECTIONS


def test_prioritize_chacha_honours_a_client_that_lists_chacha20_first(pki: TestPKI) -> None:
    # Given a server-ordered server that moves ChaCha20 up for clients listing it first
    # When its suites are enumerated
    result, connections = scan_openssl(pki.ecdsa_p256, pki, "-serverpref", "-prioritize_chacha")
    tls13, tls12 = result.versions
    # Then a ChaCha20-first client gets ChaCha20
    assert result.honours_chacha20_preference is True
    # And the server's order is still found, since our enumeration never lists ChaCha20 first
    assert (tls13.preference, names(tls13)) == ("server", OPENSSL_TLS13_SERVER_ORDER)
    assert (tls12.preference, names(tls12)) == ("server", OPENSSL_ECDSA_TLS12_SERVER_ORDER)
    assert connections == DEFAULT_ECDSA_CONNECTIONS


def test_prioritize_chacha_never_bends_the_order_found(pki: TestPKI) -> None:
    # Given a TLS 1.3-only server-ordered server that ranks ChaCha20 last, below AES-128-CCM,
    # but moves it up for clients listing it first
    suites = (
        "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256:" + TLS13_CHACHA20
    )
    # When its suites are enumerated (a naive offer would list ChaCha20 first once both AES-GCM
    # suites were found, and the reversed list would start with it)
    result, connections = scan_openssl(
        pki.ecdsa_p256, pki, "-tls1_3", "-serverpref", "-prioritize_chacha", "-ciphersuites", suites
    )
    # Then the server's own order comes out, CCM above ChaCha20, and it counts as server order
    (tls13,) = result.versions
    assert tls13.preference == "server"
    assert names(tls13) == (
        TLS13_AES256_GCM,
        TLS13_AES128_GCM,
        "TLS_AES_128_CCM_SHA256",
        TLS13_CHACHA20,
    )
    # And a client listing ChaCha20 first still gets it; AES-256 wins over AES-128
    assert result.honours_chacha20_preference is True
    assert result.prefers_aes128_over_aes256 is False
    # 4 suites in 5 hellos, + 1 reversed, + the AES and ChaCha20 hellos
    assert connections == 5 + 1 + 1 + 1


@pytest.mark.parametrize(
    ("server_args", "preference", "expected_order"),
    [
        pytest.param((), "client", RSA_EXPLICIT_OFFER_ORDER, id="client-order"),
        pytest.param(("-serverpref",), "server", RSA_EXPLICIT_SERVER_ORDER, id="server-order"),
    ],
)
def test_rsa_server_with_an_explicit_tls12_list(
    pki: TestPKI, server_args: tuple[str, ...], preference: str, expected_order: tuple[str, ...]
) -> None:
    # Given an RSA server limited to TLS 1.2 and four suites of three key exchanges
    # When its suites are enumerated
    result, connections = scan_openssl(
        pki.rsa2048, pki, "-no_tls1_3", "-cipher", RSA_EXPLICIT_CIPHERS, *server_args
    )
    # Then exactly those four are accepted, in the order the preference implies
    (tls12,) = result.versions
    assert tls12.version == "TLSv1.2"
    assert tls12.preference == preference
    assert names(tls12) == expected_order
    # And the static RSA suite is the one without forward secrecy
    facts = {suite.name: suite for suite in tls12.accepted}
    assert facts[STATIC_RSA_AES256].forward_secret is False
    assert (facts[STATIC_RSA_AES256].key_exchange, facts[DHE_RSA_AES256_GCM].key_exchange) == (
        "RSA",
        "DHE",
    )
    assert facts[STATIC_RSA_AES256].mode == "CBC"
    # And AES-128 vs AES-256 cannot be asked with one key exchange; ChaCha20 can: a client
    # order honours it, a server order that puts AES-128-GCM first does not
    assert result.prefers_aes128_over_aes256 is None
    assert result.honours_chacha20_preference is (preference == "client")
    assert connections == RSA_EXPLICIT_CONNECTIONS


@pytest.mark.parametrize(
    ("ciphers", "prefers_aes128", "server_order"),
    [
        pytest.param(
            "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256",
            False,
            (RSA_AES256_GCM, RSA_AES128_GCM),
            id="aes256-first",
        ),
        pytest.param(
            "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384",
            True,
            (RSA_AES128_GCM, RSA_AES256_GCM),
            id="aes128-first",
        ),
    ],
)
def test_aes128_over_aes256(
    pki: TestPKI, ciphers: str, prefers_aes128: bool, server_order: tuple[str, ...]
) -> None:
    # Given a server-ordered TLS 1.2 server with both AES-GCM sizes in a chosen order
    # When a client offers AES-256-GCM first, then AES-128-GCM
    result, connections = scan_openssl(
        pki.rsa2048, pki, "-no_tls1_3", "-serverpref", "-cipher", ciphers
    )
    # Then the server's own order decides
    assert result.prefers_aes128_over_aes256 is prefers_aes128
    (tls12,) = result.versions
    assert (tls12.preference, names(tls12)) == ("server", server_order)
    # And with no ChaCha20 accepted there is nothing to honour
    assert result.honours_chacha20_preference is None
    # 2 suites in 3 hellos, 1 reversed, 1 AES-256-then-128
    assert connections == 3 + 1 + 1


def test_tls13_with_one_suite_is_single(pki: TestPKI) -> None:
    # Given a server whose only TLS 1.3 suite is ChaCha20-Poly1305
    # When its suites are enumerated
    result, connections = scan_openssl(
        pki.ecdsa_p256, pki, "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"
    )
    tls13, tls12 = result.versions
    # Then TLS 1.3 has that one suite, so no order to speak of
    assert (tls13.version, tls13.preference, names(tls13)) == (
        "TLSv1.3",
        "single",
        (TLS13_CHACHA20,),
    )
    # And TLS 1.2 keeps its defaults
    assert (tls12.preference, names(tls12)) == ("client", OPENSSL_ECDSA_TLS12_OFFER_ORDER)
    # And in the highest version there is no AES to weigh ChaCha20 or AES-256 against
    assert result.prefers_aes128_over_aes256 is None
    assert result.honours_chacha20_preference is None
    # TLS 1.3: 1 suite in 2 hellos; TLS 1.2: 7 in 8, + 1 reversed
    assert connections == 2 + 8 + 1


def test_legacy_ciphers_3des_and_rc4_on_gnutls(pki: TestPKI) -> None:
    # Given GnuTLS offering only AES-128-CBC, 3DES and RC4, in its own order, TLS 1.2 and 1.0
    with GnutlsServerInNamespace(pki.ecdsa_p256, GNUTLS_LEGACY_PRIORITY) as server:
        # When its suites are enumerated
        result, connections = server.call_inside(lambda: probe_ciphers(server.port, pki))
    tls12, tls10 = result.versions
    # Then both versions accept exactly the three legacy suites, in the server's order
    assert (tls12.version, tls12.preference, names(tls12)) == (
        "TLSv1.2",
        "server",
        GNUTLS_LEGACY_ORDER,
    )
    assert (tls10.version, tls10.preference, names(tls10)) == (
        "TLSv1.0",
        "server",
        GNUTLS_LEGACY_ORDER,
    )
    # And 3DES is a 112-bit CBC cipher, RC4 a stream cipher
    triple_des = tls12.accepted[1]
    assert (triple_des.encryption, triple_des.mode, triple_des.encryption_bits) == (
        "3DES-EDE-CBC",
        "CBC",
        112,
    )
    assert [suite.mode for suite in tls10.accepted] == ["CBC", "CBC", "stream"]
    # And with neither AES-GCM nor ChaCha20 there is no choice to test
    assert (result.prefers_aes128_over_aes256, result.honours_chacha20_preference) == (None, None)
    # Per version: 3 suites in 4 hellos, + 1 reversed
    assert connections == 2 * (4 + 1)


def test_every_candidate_list_fits_in_one_hello() -> None:
    # Given the candidates per version (servers fail on hellos listing 128 suites or more)
    for version in ProtocolVersion:
        # Then each version's list fits one hello, so N accepted suites cost N + 1 hellos
        assert 0 < len(suites_for_version(version)) <= MAX_SUITES_PER_HELLO
