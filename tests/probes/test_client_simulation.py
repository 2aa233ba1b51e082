"""Client simulation against real servers: what each client profile negotiates and pays."""

from __future__ import annotations

import dataclasses

import pytest

from httpsaudit.probes.client_simulation import (
    ClientSimulationProbe,
    client_hello_for,
    load_profiles,
    parse_profile,
    simulate,
)
from httpsaudit.results import ClientSimulationResult, ProbeStatus, SimulatedClient
from httpsaudit.tls.codes import NamedGroup
from httpsaudit.tls.hello import build_client_hello
from tests.pki import TestPKI
from tests.probe_context import make_context, run_probe_on
from tests.pyopenssl_server import PyOpenSSLServer
from tests.servers import NginxServer, OpenSSLServer

ANDROID = "Android 7.1 (HttpsURLConnection)"
CHROME = "Chrome 131+"
CURL = "curl 7.88 / OpenSSL 3.0"
FIREFOX = "Firefox 132+"
JAVA = "Java 17 HttpClient, TLS 1.2 only"
SAFARI = "Safari 16 (iOS/macOS before 26)"
PROFILE_NAMES = (ANDROID, CHROME, CURL, FIREFOX, JAVA, SAFARI)
# One raw hello per profile, never a second one after an HRR.
CONNECTIONS_PER_SCAN = len(PROFILE_NAMES)
AES128 = "TLS_AES_128_GCM_SHA256"
AES256 = "TLS_AES_256_GCM_SHA384"
ECDHE_RSA_AES128 = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
ECDHE_RSA_AES256 = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"


def connected(
    name: str,
    version: str,
    suite: str,
    group: str,
    round_trips: int,
    *,
    retry: bool = False,
    alpn: str | None = None,
) -> SimulatedClient:
    return SimulatedClient(
        client=name,
        version=version,
        cipher_suite=suite,
        group=group,
        alpn=alpn,
        hello_retry_request=retry,
        round_trips=round_trips,
        failure=None,
    )


def refused(name: str, failure: str) -> SimulatedClient:
    return SimulatedClient(
        client=name,
        version=None,
        cipher_suite=None,
        group=None,
        alpn=None,
        hello_retry_request=False,
        round_trips=None,
        failure=failure,
    )


def simulate_all(
    server: OpenSSLServer | NginxServer | PyOpenSSLServer, pki: TestPKI
) -> ClientSimulationResult:
    with server:
        outcome = run_probe_on(ClientSimulationProbe(), server.port, ca_file=pki.root_path)
    assert outcome.status is ProbeStatus.COMPLETED, outcome.error
    assert outcome.connections == CONNECTIONS_PER_SCAN
    assert isinstance(outcome.result, ClientSimulationResult)
    return outcome.result


def test_every_packaged_profile_loads_with_its_source() -> None:
    # Given the profiles shipped as package data
    profiles = load_profiles()
    # Then all six load, sorted by name, each saying where its values come from
    assert tuple(profile.name for profile in profiles) == PROFILE_NAMES
    assert all(profile.source for profile in profiles)
    # And each becomes a ClientHello the builder accepts
    for profile in profiles:
        assert build_client_hello(client_hello_for(profile, "localhost"))[0] == 1


def test_a_profile_sharing_a_key_for_an_unlisted_group_is_rejected() -> None:
    # Given a profile that sends a key share for a group it does not list (RFC 8446 §4.2.8)
    document = {
        "name": "broken",
        "source": "test",
        "versions": {"min": "TLSv1.2", "max": "TLSv1.3"},
        "cipher_suites": ["TLS_AES_128_GCM_SHA256"],
        "groups": ["secp256r1"],
        "key_share_groups": ["x25519"],
        "signature_algorithms": ["ecdsa_secp256r1_sha256", "0x0303"],
        "alpn": [],
        "grease": False,
        "false_start": False,
        "false_start_requires_alpn": True,
    }
    # When it is parsed, Then it is refused as a packaging bug
    with pytest.raises(ValueError, match="key_share_groups entry is missing from groups"):
        parse_profile(document, "broken.json")


def test_default_openssl_server_gives_tls13_clients_one_round_trip(pki: TestPKI) -> None:
    # Given an OpenSSL 3.0 server with its defaults (no ML-KEM, no ALPN, client's suite order)
    result = simulate_all(OpenSSLServer(pki.rsa2048), pki)
    # Then the TLS 1.3 clients get x25519 from the share they sent: no HRR, one round trip;
    # the TLS 1.2-only clients pay two (no ALPN from s_server, so no False Start either)
    assert result.clients == (
        connected(ANDROID, "TLSv1.2", ECDHE_RSA_AES128, "x25519", 2),
        connected(CHROME, "TLSv1.3", AES128, "x25519", 1),
        connected(CURL, "TLSv1.3", AES256, "x25519", 1),
        connected(FIREFOX, "TLSv1.3", AES128, "x25519", 1),
        connected(JAVA, "TLSv1.2", ECDHE_RSA_AES256, "x25519", 2),
        connected(SAFARI, "TLSv1.3", AES128, "x25519", 1),
    )


def test_tls12_nginx_with_alpn_lets_false_start_clients_save_a_round_trip(pki: TestPKI) -> None:
    # Given nginx speaking TLS 1.2 only, with h2 (so ALPN is negotiated in the ServerHello)
    server = NginxServer("basic", pki.rsa2048, http2="http2", protocols="TLSv1.2")
    result = simulate_all(server, pki)
    # Then clients that False Start on ECDHE + AEAD + ALPN send their request after one round
    # trip; curl (OpenSSL) and Java (JSSE) never False Start and pay two
    assert result.clients == (
        connected(ANDROID, "TLSv1.2", ECDHE_RSA_AES128, "x25519", 1, alpn="http/1.1"),
        connected(CHROME, "TLSv1.2", ECDHE_RSA_AES128, "x25519", 1, alpn="h2"),
        connected(CURL, "TLSv1.2", ECDHE_RSA_AES256, "x25519", 2, alpn="h2"),
        connected(FIREFOX, "TLSv1.2", ECDHE_RSA_AES128, "x25519", 1, alpn="h2"),
        connected(JAVA, "TLSv1.2", ECDHE_RSA_AES256, "x25519", 2, alpn="h2"),
        connected(SAFARI, "TLSv1.2", ECDHE_RSA_AES256, "x25519", 1, alpn="h2"),
    )


def test_tls12_server_without_alpn_leaves_only_firefox_false_starting(pki: TestPKI) -> None:
    # Given an OpenSSL server limited to TLS 1.2 that negotiates no ALPN
    result = simulate_all(OpenSSLServer(pki.rsa2048, "-no_tls1_3"), pki)
    # Then BoringSSL-based clients, which False Start only with ALPN, pay two round trips;
    # Firefox, whose rule has no ALPN condition, still pays one
    assert result.clients == (
        connected(ANDROID, "TLSv1.2", ECDHE_RSA_AES128, "x25519", 2),
        connected(CHROME, "TLSv1.2", ECDHE_RSA_AES128, "x25519", 2),
        connected(CURL, "TLSv1.2", ECDHE_RSA_AES256, "x25519", 2),
        connected(FIREFOX, "TLSv1.2", ECDHE_RSA_AES128, "x25519", 1),
        connected(JAVA, "TLSv1.2", ECDHE_RSA_AES256, "x25519", 2),
        connected(SAFARI, "TLSv1.2", ECDHE_RSA_AES256, "x25519", 2),
    )


def test_server_preferring_a_group_nobody_shares_costs_an_hrr(pki: TestPKI) -> None:
    # Given a server that accepts only P-384, a group every client lists but none sends a share for
    result = simulate_all(OpenSSLServer(pki.rsa2048, "-groups", "P-384"), pki)
    # Then every TLS 1.3 client gets a HelloRetryRequest for secp384r1 and pays a second round
    # trip; TLS 1.2 clients simply get the curve in ServerKeyExchange
    assert result.clients == (
        connected(ANDROID, "TLSv1.2", ECDHE_RSA_AES128, "secp384r1", 2),
        connected(CHROME, "TLSv1.3", AES128, "secp384r1", 2, retry=True),
        connected(CURL, "TLSv1.3", AES256, "secp384r1", 2, retry=True),
        connected(FIREFOX, "TLSv1.3", AES128, "secp384r1", 2, retry=True),
        connected(JAVA, "TLSv1.2", ECDHE_RSA_AES256, "secp384r1", 2),
        connected(SAFARI, "TLSv1.3", AES128, "secp384r1", 2, retry=True),
    )


def test_tls13_only_server_refuses_tls12_only_clients_by_alert(pki: TestPKI) -> None:
    # Given a server that speaks TLS 1.3 only
    result = simulate_all(OpenSSLServer(pki.rsa2048, "-tls1_3"), pki)
    # Then the TLS 1.2-only clients are refused with the server's alert, in words
    version_refusal = "alert protocol_version: no protocol version in common"
    assert result.clients == (
        refused(ANDROID, version_refusal),
        connected(CHROME, "TLSv1.3", AES128, "x25519", 1),
        connected(CURL, "TLSv1.3", AES256, "x25519", 1),
        connected(FIREFOX, "TLSv1.3", AES128, "x25519", 1),
        refused(JAVA, version_refusal),
        connected(SAFARI, "TLSv1.3", AES128, "x25519", 1),
    )


def test_dhe_only_server_refuses_browsers_and_names_the_dh_size(pki: TestPKI) -> None:
    # Given a TLS 1.2 server whose only suite is DHE (browsers dropped DHE years ago)
    server = OpenSSLServer(pki.rsa2048, "-no_tls1_3", "-cipher", "DHE-RSA-AES128-GCM-SHA256")
    result = simulate_all(server, pki)
    # Then the browsers are refused by alert, and the others report the DH prime size
    no_common = "alert handshake_failure: no cipher suite, group or signature algorithm in common"
    dhe = "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"
    assert result.clients == (
        connected(ANDROID, "TLSv1.2", dhe, "DHE-2048", 2),
        refused(CHROME, no_common),
        connected(CURL, "TLSv1.2", dhe, "DHE-2048", 2),
        refused(FIREFOX, no_common),
        connected(JAVA, "TLSv1.2", dhe, "DHE-2048", 2),
        refused(SAFARI, no_common),
    )


def test_hybrid_pq_server_gives_ml_kem_sharers_one_round_trip(pki: TestPKI) -> None:
    # Given a server on OpenSSL >= 3.5 (cryptography's), X25519MLKEM768 first in its groups
    result = simulate_all(PyOpenSSLServer(pki.rsa2048), pki)
    # Then Chrome and Firefox, which send an X25519MLKEM768 share, get it with no HRR; clients
    # that do not list it get x25519; the server selects ALPN http/1.1, so Android False Starts
    assert result.clients == (
        connected(ANDROID, "TLSv1.2", ECDHE_RSA_AES128, "x25519", 1, alpn="http/1.1"),
        connected(CHROME, "TLSv1.3", AES128, "X25519MLKEM768", 1),
        connected(CURL, "TLSv1.3", AES256, "x25519", 1),
        connected(FIREFOX, "TLSv1.3", AES128, "X25519MLKEM768", 1),
        connected(JAVA, "TLSv1.2", ECDHE_RSA_AES256, "x25519", 2, alpn="http/1.1"),
        connected(SAFARI, "TLSv1.3", AES128, "x25519", 1),
    )


def test_listing_ml_kem_without_its_share_costs_an_hrr_on_a_pq_server(pki: TestPKI) -> None:
    # Given Chrome's hello changed to send only an x25519 share (X25519MLKEM768 still listed)
    chrome = next(profile for profile in load_profiles() if profile.name == CHROME)
    x25519_only = dataclasses.replace(
        chrome, name="Chrome, x25519 share only", key_share_groups=(NamedGroup.x25519,)
    )
    # When it is replayed against a server that prefers X25519MLKEM768
    with PyOpenSSLServer(pki.rsa2048) as server:
        context = make_context(server.port, ca_file=pki.root_path).for_probe()
        client = simulate(context, x25519_only)
    # Then the server asks for the hybrid share with an HRR: a second round trip, one connection
    assert client == connected(
        "Chrome, x25519 share only", "TLSv1.3", AES128, "X25519MLKEM768", 2, retry=True
    )
    assert context.connections == 1
