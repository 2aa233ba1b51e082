"""The cipher-suites probe against real servers: accepted suites per version, the server's
preference order, and the AES-128 and ChaCha20 choices, with the connections each cost and the
rounds of parallel hellos (the chain of dependent connections) each version took.

OpenSSL 3.0 here is built without 3DES and RC4, so the legacy-cipher server is GnuTLS, run in a
network namespace of its own (gnutls-serv binds every address).

Counts below name the hellos of each round: "rank" offers everything not yet ranked, a "line"
offers its unsettled suites (see the probe's docstring). Round one has, per version, the rank
hello plus one line each for the hinted family's AEAD (or, at the top version, the AES and
ChaCha20 questions), AES-CBC and CCM/Camellia/ARIA suites, the certificate's other key
exchanges, and the rest."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from httpsaudit.probes.ciphers import (
    MAX_RANK_HELLOS,
    MAX_SUITES_PER_HELLO,
    CipherSuitesProbe,
    enumerate_cipher_suites,
)
from httpsaudit.probes.versions import VersionsProbe
from httpsaudit.results import (
    CipherSuiteInfo,
    CipherSuitesResult,
    ProbeId,
    ProbeStatus,
    VersionCipherSuites,
)
from httpsaudit.scan import run_probe
from httpsaudit.tls.codes import ProtocolVersion
from httpsaudit.tls.suites import suites_for_version
from tests.pki import Issued, TestPKI
from tests.probe_context import make_context, run_probe_on
from tests.servers import GnutlsServerInNamespace, NginxServer, OpenSSLServer

# What the issue promises for a typical server: well under 40 connections.
CONNECTION_BUDGET = 40
# Each probe's chain of dependent connections stays short (4-5 at most).
ROUNDS_BUDGET = 5

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
# Default OpenSSL with an ECDSA certificate, client order (16 connections in a chain before).
# TLS 1.3, one round: rank, the AES and ChaCha20 questions, the CCM line (refused).
# TLS 1.2: round 1 rank + AEAD, AES-CBC, uncommon (refused) and rest (refused) lines; round 2
# ChaCha20, then AES-CBC split into its SHA-2 and SHA-1 halves; round 3 the last SHA-2 suite.
DEFAULT_ECDSA_CONNECTIONS = 4 + (5 + 3 + 1)
DEFAULT_ECDSA_ROUNDS = {"TLSv1.3": 1, "TLSv1.2": 3}
# The same server with -serverpref also ranks: TLS 1.3 round 2 is a rank hello and the AES-128
# and ChaCha20 lines; TLS 1.2 rounds 2-4 add a rank hello each (4 in all, the limit), which
# with what the lines' picks beat orders all seven.
SERVER_ORDER_ECDSA_CONNECTIONS = (4 + 3) + (5 + 4 + 3 + 1)
SERVER_ORDER_ECDSA_ROUNDS = {"TLSv1.3": 2, "TLSv1.2": 4}
# nginx 1.22 defaults (HIGH:!aNULL:!MD5, client order) with an ECDSA certificate: 24 connections
# in a chain before. TLS 1.3 as above; TLS 1.2 finds 15 suites: round 1 rank + 4 lines (rest
# refused), round 2 seven lines, round 3 four.
NGINX_ECDSA_CONNECTIONS = 4 + (5 + 7 + 4)
NGINX_ECDSA_ROUNDS = {"TLSv1.3": 1, "TLSv1.2": 3}
NGINX_ECDSA_TLS12_OFFER_ORDER = (
    ECDSA_AES128_GCM,
    ECDSA_AES256_GCM,
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
    ECDSA_AES128_SHA256,
    ECDSA_AES256_SHA384,
    ECDSA_AES128_SHA,
    ECDSA_AES256_SHA,
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384",
    ECDSA_CHACHA20,
)
# OpenSSL's own order for HIGH with an ECDSA key (`openssl ciphers -s HIGH:!aNULL:!MD5`): the
# top four, which the four rank hellos find, and the fifth, which none of them reaches.
NGINX_ECDSA_TLS12_SERVER_TOP = (
    ECDSA_AES256_GCM,
    ECDSA_CHACHA20,
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
)
NGINX_ECDSA_TLS12_SERVER_FIFTH = "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384"
# With ssl_prefer_server_ciphers on: TLS 1.3 as -serverpref above; TLS 1.2 rounds 1-4 are
# 5, 8, 6 and 1 hellos.
NGINX_ECDSA_SERVER_ORDER_CONNECTIONS = (4 + 3) + (5 + 8 + 6 + 1)

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
# TLS 1.2 is the top version, so round 1 asks the two questions for ECDHE_RSA (the family the
# versions probe saw), beside the AES-CBC, uncommon, DHE_RSA, RSA and rest lines: 8 hellos. The
# DHE_RSA and RSA lines each pick their one suite and split; round 2 settles the pieces (all
# refused) with a rank hello; round 3 one more rank hello. Client order shows no contradiction
# until then (the forward pick's line held no other accepted suite), so one reversed hello of
# the accepted suites decides it in round 4. 7 connections in a chain before.
RSA_EXPLICIT_CONNECTIONS = {"client": 8 + 9 + 1 + 1, "server": 8 + 10 + 1}
RSA_EXPLICIT_ROUNDS = {"client": {"TLSv1.2": 4}, "server": {"TLSv1.2": 3}}

# gnutls-serv with only CBC and stream ciphers, in its own order, TLS 1.2 and TLS 1.0.
GNUTLS_LEGACY_PRIORITY = (
    "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.0"
    ":-CIPHER-ALL:+AES-128-CBC:+3DES-CBC:+ARCFOUR-128:%SERVER_PRECEDENCE"
)
GNUTLS_LEGACY_ORDER = (ECDSA_AES128_SHA, ECDSA_3DES, ECDSA_RC4)


@dataclass(frozen=True)
class Searched:
    """One enumeration: its result, the connections it cost, its rounds per version."""

    result: CipherSuitesResult
    connections: int
    rounds: dict[str, int]


def probe_ciphers(port: int, pki: TestPKI) -> tuple[CipherSuitesResult, int]:
    """The probe's result and connection count, after the real versions probe ran first."""
    outcome = run_probe_on(
        CipherSuitesProbe(), port, ca_file=pki.root_path, first=[VersionsProbe()]
    )
    assert outcome.status is ProbeStatus.COMPLETED, (outcome.error, outcome.skip_reason)
    assert isinstance(outcome.result, CipherSuitesResult)
    assert outcome.connections < CONNECTION_BUDGET
    return outcome.result, outcome.connections


def search_ciphers(port: int, pki: TestPKI) -> Searched:
    """The enumeration behind the probe, with its rounds, after the real versions probe."""
    context = make_context(port, ca_file=pki.root_path)
    context.outcomes[ProbeId.VERSIONS] = run_probe(VersionsProbe(), context)
    own = context.for_probe()
    enumeration = enumerate_cipher_suites(own)
    assert own.connections < CONNECTION_BUDGET
    assert max(enumeration.rounds_by_version.values()) <= ROUNDS_BUDGET
    return Searched(enumeration.result, own.connections, enumeration.rounds_by_version)


def scan_openssl(issued: Issued, pki: TestPKI, *args: str) -> tuple[CipherSuitesResult, int]:
    with OpenSSLServer(issued, *args) as server:
        return probe_ciphers(server.port, pki)


def search_openssl(issued: Issued, pki: TestPKI, *args: str) -> Searched:
    with OpenSSLServer(issued, *args) as server:
        return search_ciphers(server.port, pki)


def names(version: VersionCipherSuites) -> tuple[str, ...]:
    return tuple(suite.name for suite in version.accepted)


def test_default_openssl_with_ecdsa_certificate(pki: TestPKI) -> None:
    # Given a default OpenSSL 3.0 server with an ECDSA P-256 certificate
    # When its suites are enumerated
    searched = search_openssl(pki.ecdsa_p256, pki)
    result = searched.result
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
    # And a client order needs no ranking: nothing is left unranked
    assert (tls13.unranked_count, tls12.unranked_count) == (0, 0)
    # And the versions ran side by side, TLS 1.3 in one round, TLS 1.2 in three
    assert searched.rounds == DEFAULT_ECDSA_ROUNDS
    assert searched.connections == DEFAULT_ECDSA_CONNECTIONS


def test_server_preference_gives_the_servers_own_order(pki: TestPKI) -> None:
    # Given the same server told to impose its own order
    # When its suites are enumerated
    searched = search_openssl(pki.ecdsa_p256, pki, "-serverpref")
    result = searched.result
    tls13, tls12 = result.versions
    # Then both versions report server preference, in OpenSSL's default order, all ranked
    assert (tls13.preference, names(tls13)) == ("server", OPENSSL_TLS13_SERVER_ORDER)
    assert (tls12.preference, names(tls12)) == ("server", OPENSSL_ECDSA_TLS12_SERVER_ORDER)
    assert (tls13.unranked_count, tls12.unranked_count) == (0, 0)
    # And it puts AES-256 before AES-128, and AES-256 before ChaCha20 even for a client that
    # lists ChaCha20 first
    assert result.prefers_aes128_over_aes256 is False
    assert result.honours_chacha20_preference is False
    # And ranking costs a rank hello per round beside the lines, not rounds of its own
    # beyond the limit
    assert searched.rounds == SERVER_ORDER_ECDSA_ROUNDS
    assert searched.rounds["TLSv1.2"] == MAX_RANK_HELLOS
    assert searched.connections == SERVER_ORDER_ECDSA_CONNECTIONS


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
    # -serverpref's hellos, less the TLS 1.3 ChaCha20 line: the question already found it
    assert connections == SERVER_ORDER_ECDSA_CONNECTIONS - 1


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
    # Round 1: rank, the two questions, the CCM line (finds CCM); round 2: rank, the AES-128
    # line, the CCM_8 line (refused); round 3: rank, to place CCM above ChaCha20
    assert connections == 4 + 3 + 1


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
    with OpenSSLServer(
        pki.rsa2048, "-no_tls1_3", "-cipher", RSA_EXPLICIT_CIPHERS, *server_args
    ) as server:
        searched = search_ciphers(server.port, pki)
    result = searched.result
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
    assert tls12.unranked_count == 0
    assert searched.rounds == RSA_EXPLICIT_ROUNDS[preference]
    assert searched.connections == RSA_EXPLICIT_CONNECTIONS[preference]


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
    # Round 1: rank, the two questions, and the AES-CBC, uncommon, DHE_RSA, RSA and rest lines
    # (all refused); round 2: rank, the other AES-GCM suite, ChaCha20 (refused)
    assert connections == 8 + 3


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
    # TLS 1.3: rank, the two questions (AES refused), CCM (refused); TLS 1.2 as by default
    assert connections == DEFAULT_ECDSA_CONNECTIONS


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
    # TLS 1.2 (top): round 1 rank, the questions (refused), AES-CBC (finds AES-128-CBC),
    # uncommon (refused), rest (finds 3DES); round 2 rank, AES-CBC's SHA-1 and SHA-2 halves,
    # the legacy line, the others; round 3 rank and the legacy line's NULL. TLS 1.0: round 1
    # rank, AES-CBC, rest; round 2 rank, AES-CBC, legacy, others; round 3 rank and legacy.
    assert connections == (6 + 5 + 2) + (3 + 4 + 2)


def test_nginx_defaults_in_three_rounds(pki: TestPKI) -> None:
    # Given nginx 1.22 with its default suites (HIGH:!aNULL:!MD5) and an ECDSA certificate,
    # which follows the client's order
    with NginxServer("basic", pki.ecdsa_p256) as server:
        # When its suites are enumerated
        searched = search_ciphers(server.port, pki)
    tls13, tls12 = searched.result.versions
    # Then TLS 1.2 finds all 15 ECDSA suites of HIGH, CCM, Camellia and ARIA included, in our
    # offer order
    assert (tls12.preference, names(tls12)) == ("client", NGINX_ECDSA_TLS12_OFFER_ORDER)
    assert (tls13.preference, names(tls13)) == ("client", OPENSSL_TLS13_OFFER_ORDER)
    # And it took three rounds of parallel hellos, not a chain of 24, with fewer connections
    assert searched.rounds == NGINX_ECDSA_ROUNDS
    assert searched.connections == NGINX_ECDSA_CONNECTIONS


def test_server_order_ranks_the_top_and_says_what_it_left_unranked(pki: TestPKI) -> None:
    # Given the same nginx told to prefer its own order: 15 TLS 1.2 suites, too many to rank
    # one rank hello at a time within the rounds the lines need
    with NginxServer(
        "basic", pki.ecdsa_p256, server_directives="ssl_prefer_server_ciphers on;"
    ) as server:
        # When its suites are enumerated
        searched = search_ciphers(server.port, pki)
    tls13, tls12 = searched.result.versions
    # Then TLS 1.3's three suites are fully ranked
    assert (tls13.preference, names(tls13), tls13.unranked_count) == (
        "server",
        OPENSSL_TLS13_SERVER_ORDER,
        0,
    )
    # And TLS 1.2 has all 15 with OpenSSL's top four first, in its exact order
    assert tls12.preference == "server"
    assert set(names(tls12)) == set(NGINX_ECDSA_TLS12_OFFER_ORDER)
    assert names(tls12)[:4] == NGINX_ECDSA_TLS12_SERVER_TOP
    # And the other 11 are flagged as not ranked: the server's fifth choice is among them but
    # not in fifth place
    assert tls12.unranked_count == 11
    assert NGINX_ECDSA_TLS12_SERVER_FIFTH in names(tls12)[4:]
    assert names(tls12)[4] != NGINX_ECDSA_TLS12_SERVER_FIFTH
    # And the choices still come from their own hellos
    assert searched.result.prefers_aes128_over_aes256 is False
    assert searched.result.honours_chacha20_preference is False
    # And ranking stopped at its limit, within the lines' own four rounds
    assert searched.rounds == {"TLSv1.3": 2, "TLSv1.2": MAX_RANK_HELLOS}
    assert searched.connections == NGINX_ECDSA_SERVER_ORDER_CONNECTIONS


def test_every_candidate_list_fits_in_one_hello() -> None:
    # Given the candidates per version (servers fail on hellos listing 128 suites or more)
    for version in ProtocolVersion:
        # Then each version's list fits one hello, as the rank hellos offer all of it
        assert 0 < len(suites_for_version(version)) <= MAX_SUITES_PER_HELLO
