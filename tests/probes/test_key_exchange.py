"""TLS 1.2 key exchange for a browser-like offer, and static RSA acceptance, on real servers."""

from __future__ import annotations

import pytest

from httpsaudit.probes.key_exchange import KeyExchangeProbe
from httpsaudit.probes.versions import VersionsProbe
from httpsaudit.results import KeyExchangeResult, ProbeStatus
from tests.pki import Issued, TestPKI
from tests.probe_context import run_probe_on
from tests.pyopenssl_server import PyOpenSSLServer
from tests.servers import OpenSSLServer


def measure(port: int, pki: TestPKI) -> tuple[KeyExchangeResult, int]:
    """The key-exchange result after the timed connection and the real versions probe."""
    outcome = run_probe_on(KeyExchangeProbe(), port, ca_file=pki.root_path, first=[VersionsProbe()])
    assert outcome.status is ProbeStatus.COMPLETED, outcome.error
    assert isinstance(outcome.result, KeyExchangeResult)
    return outcome.result, outcome.connections


def with_openssl(issued: Issued, pki: TestPKI, *args: str) -> tuple[KeyExchangeResult, int]:
    with OpenSSLServer(issued, *args) as server:
        return measure(server.port, pki)


def test_default_rsa_server_uses_ecdhe_but_still_accepts_static_rsa(pki: TestPKI) -> None:
    # Given s_server with OpenSSL 3.0 defaults and an RSA certificate
    result, connections = with_openssl(pki.rsa2048, pki)
    # Then a browser gets ECDHE on x25519 with the first suite it lists that fits the key
    assert result == KeyExchangeResult(
        tls12_supported=True,
        kind="ECDHE",
        cipher_suite="TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        group="x25519",
        dh_prime_bits=None,
        # measured: OpenSSL 3.0's DEFAULT list still has RSA key transport (AES128-GCM-SHA256)
        static_rsa_accepted=True,
    )
    # And it took the browser offer and the static-RSA offer, one connection each
    assert connections == 2


def test_ecdhe_only_servers_refuse_static_rsa(pki: TestPKI) -> None:
    # Given an ECDSA server (RSA key transport needs an RSA key) with default settings
    ecdsa, _ = with_openssl(pki.ecdsa_p256, pki)
    # And an RSA server configured with ECDHE suites only
    rsa, _ = with_openssl(pki.rsa2048, pki, "-cipher", "ECDHE+AESGCM")
    # Then both refuse static RSA, and browsers get ECDHE
    assert ecdsa == KeyExchangeResult(
        tls12_supported=True,
        kind="ECDHE",
        cipher_suite="TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        group="x25519",
        dh_prime_bits=None,
        static_rsa_accepted=False,
    )
    assert rsa.static_rsa_accepted is False
    assert rsa.kind == "ECDHE"


def test_dhe_only_server(pki: TestPKI) -> None:
    # Given a TLS 1.2 server with a single DHE suite and OpenSSL's automatic DH parameters
    result, connections = with_openssl(
        pki.rsa2048, pki, "-no_tls1_3", "-cipher", "DHE-RSA-AES128-GCM-SHA256"
    )
    # Then the browser offer ends in DHE with a 2048-bit prime (matched to RSA-2048)
    assert result == KeyExchangeResult(
        tls12_supported=True,
        kind="DHE",
        cipher_suite="TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        group=None,
        dh_prime_bits=2048,
        static_rsa_accepted=False,
    )
    assert connections == 2


def test_server_accepting_static_rsa_in_client_order(pki: TestPKI) -> None:
    # Given a server with an RSA key-transport suite listed before an ECDHE one, client order
    result, _ = with_openssl(
        pki.rsa2048,
        pki,
        "-no_tls1_3",
        "-cipher",
        "AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
    )
    # Then the browser still gets ECDHE (it lists ECDHE first) but static RSA is accepted
    assert result.kind == "ECDHE"
    assert result.cipher_suite == "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    assert result.static_rsa_accepted is True


def test_server_preferring_static_rsa(pki: TestPKI) -> None:
    # Given the same suites with the server's order enforced
    result, _ = with_openssl(
        pki.rsa2048,
        pki,
        "-no_tls1_3",
        "-serverpref",
        "-cipher",
        "AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256",
    )
    # Then even a browser gets RSA key transport: no forward secrecy
    assert result == KeyExchangeResult(
        tls12_supported=True,
        kind="RSA",
        cipher_suite="TLS_RSA_WITH_AES_128_GCM_SHA256",
        group=None,
        dh_prime_bits=None,
        static_rsa_accepted=True,
    )


@pytest.mark.parametrize(
    ("curve_flag", "group"), [((), "x25519"), (("-groups", "P-384"), "secp384r1")]
)
def test_ecdhe_curve_is_read_from_server_key_exchange(
    pki: TestPKI, curve_flag: tuple[str, ...], group: str
) -> None:
    # Given TLS 1.2 servers with different curves
    result, _ = with_openssl(pki.rsa2048, pki, "-no_tls1_3", *curve_flag)
    # Then the curve the browser gets is the one in ServerKeyExchange
    assert result.kind == "ECDHE"
    assert result.group == group


def test_tls13_only_server_has_no_tls12_key_exchange(pki: TestPKI) -> None:
    # Given a TLS 1.3-only server
    result, connections = with_openssl(pki.rsa2048, pki, "-tls1_3")
    # Then there is nothing to report, and no connection is spent on it
    assert result == KeyExchangeResult(
        tls12_supported=False,
        kind=None,
        cipher_suite=None,
        group=None,
        dh_prime_bits=None,
        static_rsa_accepted=None,
    )
    assert connections == 0


def test_pyopenssl_server_key_exchange(pki: TestPKI) -> None:
    # Given a server on cryptography's bundled OpenSSL 4.0 with its defaults
    with PyOpenSSLServer(pki.rsa2048) as server:
        result, connections = measure(server.port, pki)
    # Then browsers get ECDHE on x25519, and RSA key transport is still in its DEFAULT list
    assert result == KeyExchangeResult(
        tls12_supported=True,
        kind="ECDHE",
        cipher_suite="TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        group="x25519",
        dh_prime_bits=None,
        static_rsa_accepted=True,
    )
    assert connections == 2
