"""ALPN support for h2 and http/1.1 against real servers, TLS 1.3 and TLS 1.2 alike."""

from __future__ import annotations

import ssl

import pytest

from httpsaudit.probes.alpn import AlpnProbe
from httpsaudit.results import AlpnResult, ProbeOutcome, ProbeStatus, Support
from tests.pki import TestPKI
from tests.probe_context import run_probe_on
from tests.servers import NginxServer, OpenSSLServer, PythonTlsServer


def alpn_of(outcome: ProbeOutcome[object]) -> AlpnResult:
    assert outcome.status is ProbeStatus.COMPLETED, outcome.error
    assert isinstance(outcome.result, AlpnResult)
    return outcome.result


@pytest.mark.parametrize("protocols", ["TLSv1.2 TLSv1.3", "TLSv1.2", "TLSv1.3"])
def test_nginx_with_http2_selects_h2_for_browsers(pki: TestPKI, protocols: str) -> None:
    # Given nginx with "listen ... ssl http2", whatever versions it speaks
    with NginxServer("basic", pki.ecdsa_p256, http2="http2", protocols=protocols) as server:
        # When the ALPN probe runs
        outcome = run_probe_on(AlpnProbe(), server.port, ca_file=pki.root_path)
    # Then browsers get h2, and h2 and http/1.1 are both supported
    assert alpn_of(outcome) == AlpnResult(
        h2=Support.SUPPORTED, http11=Support.SUPPORTED, selected_for_browser_offer="h2"
    )
    # And h2 was proven by the timed connection: only http/1.1 alone needed a handshake
    assert outcome.connections == 1


@pytest.mark.parametrize("protocols", ["TLSv1.2 TLSv1.3", "TLSv1.3"])
def test_nginx_without_http2_refuses_h2(pki: TestPKI, protocols: str) -> None:
    # Given nginx without http2 (it alerts no_application_protocol for an h2-only offer)
    with NginxServer("basic", pki.ecdsa_p256, protocols=protocols) as server:
        # When the ALPN probe runs
        outcome = run_probe_on(AlpnProbe(), server.port, ca_file=pki.root_path)
    # Then h2 is not supported and browsers get http/1.1
    assert alpn_of(outcome) == AlpnResult(
        h2=Support.NOT_SUPPORTED, http11=Support.SUPPORTED, selected_for_browser_offer="http/1.1"
    )
    # And only h2 alone needed a handshake
    assert outcome.connections == 1


@pytest.mark.parametrize("version_flag", ["-tls1_3", "-tls1_2"])
def test_s_server_without_alpn_selects_nothing(pki: TestPKI, version_flag: str) -> None:
    # Given openssl s_server with no -alpn: measured to ignore the extension entirely
    with OpenSSLServer(pki.ecdsa_p256, version_flag) as server:
        # When the ALPN probe runs
        outcome = run_probe_on(AlpnProbe(), server.port, ca_file=pki.root_path)
    # Then neither protocol is ever selected, not even for the browser offer
    assert alpn_of(outcome) == AlpnResult(
        h2=Support.NOT_SUPPORTED, http11=Support.NOT_SUPPORTED, selected_for_browser_offer=None
    )
    # And each protocol was offered alone once
    assert outcome.connections == 2


def test_s_server_alpn_list_alerts_for_h2(pki: TestPKI) -> None:
    # Given s_server -alpn http/1.1 (OpenSSL 3.0 alerts when nothing matches)
    with OpenSSLServer(pki.ecdsa_p256, "-alpn", "http/1.1") as server:
        # When the ALPN probe runs
        outcome = run_probe_on(AlpnProbe(), server.port, ca_file=pki.root_path)
    # Then h2 is refused and http/1.1 is what browsers get
    assert alpn_of(outcome) == AlpnResult(
        h2=Support.NOT_SUPPORTED, http11=Support.SUPPORTED, selected_for_browser_offer="http/1.1"
    )
    assert outcome.connections == 1


@pytest.mark.parametrize(
    "maximum_version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2], ids=["tls13", "tls12"]
)
def test_python_server_with_http11_only(pki: TestPKI, maximum_version: ssl.TLSVersion) -> None:
    # Given a Python ssl server with alpn=("http/1.1",): it leaves ALPN out for an h2 offer
    with PythonTlsServer(
        pki.ecdsa_p256, alpn=("http/1.1",), maximum_version=maximum_version
    ) as server:
        # When the ALPN probe runs
        outcome = run_probe_on(AlpnProbe(), server.port, ca_file=pki.root_path)
        served = server.connections
    # Then http/1.1 is supported and h2 is not
    assert alpn_of(outcome) == AlpnResult(
        h2=Support.NOT_SUPPORTED, http11=Support.SUPPORTED, selected_for_browser_offer="http/1.1"
    )
    # And the server saw the timed connection plus one h2-only handshake
    assert outcome.connections == 1
    assert served == 2


def test_python_server_with_h2_only(pki: TestPKI) -> None:
    # Given a Python ssl server that offers h2 alone
    with PythonTlsServer(pki.ecdsa_p256, alpn=("h2",)) as server:
        # When the ALPN probe runs
        outcome = run_probe_on(AlpnProbe(), server.port, ca_file=pki.root_path)
    # Then h2 is supported, from the browser offer, and http/1.1 is not
    assert alpn_of(outcome) == AlpnResult(
        h2=Support.SUPPORTED, http11=Support.NOT_SUPPORTED, selected_for_browser_offer="h2"
    )
    assert outcome.connections == 1
