"""TLS 1.2 False Start eligibility, the browser rule, against real servers.

The probes it builds on (versions, key exchange, ALPN) run for real first, as in a scan.
"""

from __future__ import annotations

from httpsaudit.probes.alpn import AlpnProbe
from httpsaudit.probes.false_start import FalseStartProbe
from httpsaudit.probes.key_exchange import KeyExchangeProbe
from httpsaudit.probes.versions import VersionsProbe
from httpsaudit.results import FalseStartResult, ProbeOutcome, ProbeStatus
from tests.pki import TestPKI
from tests.probe_context import run_probe_on
from tests.servers import NginxServer, OpenSSLServer

STATIC_RSA = "static RSA key exchange: no forward secrecy"
CBC = "CBC suite: not AEAD"
NO_ALPN = "no ALPN negotiated"


def false_start_on(port: int, pki: TestPKI) -> ProbeOutcome[object]:
    return run_probe_on(
        FalseStartProbe(),
        port,
        ca_file=pki.root_path,
        first=[VersionsProbe(), KeyExchangeProbe(), AlpnProbe()],
    )


def result_of(outcome: ProbeOutcome[object]) -> FalseStartResult:
    assert outcome.status is ProbeStatus.COMPLETED, outcome.error or outcome.skip_reason
    assert isinstance(outcome.result, FalseStartResult)
    return outcome.result


def test_tls12_only_nginx_with_h2_is_eligible(pki: TestPKI) -> None:
    # Given nginx speaking TLS 1.2 only, with http2 (ECDHE + AES-GCM by default)
    with NginxServer("basic", pki.ecdsa_p256, protocols="TLSv1.2", http2="http2") as server:
        # When the False Start probe runs after the probes it needs
        outcome = false_start_on(server.port, pki)
    # Then a browser may False Start, and it matters: there is no TLS 1.3
    assert result_of(outcome) == FalseStartResult(
        eligible=True,
        moot=False,
        reasons=(),
        cipher_suite="TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        alpn="h2",
    )
    # And it was all derived: every earlier handshake was TLS 1.2 already
    assert outcome.connections == 0


def test_tls12_only_nginx_with_http11_is_eligible(pki: TestPKI) -> None:
    # Given nginx speaking TLS 1.2 only, without http2: ALPN still selects http/1.1
    with NginxServer("basic", pki.ecdsa_p256, protocols="TLSv1.2") as server:
        outcome = false_start_on(server.port, pki)
    # Then any negotiated protocol satisfies the rule
    assert result_of(outcome) == FalseStartResult(
        eligible=True,
        moot=False,
        reasons=(),
        cipher_suite="TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        alpn="http/1.1",
    )
    assert outcome.connections == 0


def test_nginx_with_tls13_is_eligible_but_moot(pki: TestPKI) -> None:
    # Given nginx with TLS 1.2 and TLS 1.3 and http2
    with NginxServer("basic", pki.ecdsa_p256, http2="http2") as server:
        outcome = false_start_on(server.port, pki)
    # Then TLS 1.2 would qualify, but modern clients get TLS 1.3 (1-RTT) anyway
    assert result_of(outcome) == FalseStartResult(
        eligible=True,
        moot=True,
        reasons=(),
        cipher_suite="TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        alpn="h2",
    )
    # And one TLS 1.2 hello read the ALPN answer the TLS 1.3 handshakes had encrypted
    assert outcome.connections == 1


def test_static_rsa_cbc_without_alpn_is_not_eligible(pki: TestPKI) -> None:
    # Given a TLS 1.2-only server with RSA key transport and a CBC suite, and no ALPN
    with OpenSSLServer(pki.rsa2048, "-no_tls1_3", "-cipher", "AES128-SHA") as server:
        outcome = false_start_on(server.port, pki)
    # Then each failed condition is named
    assert result_of(outcome) == FalseStartResult(
        eligible=False,
        moot=False,
        reasons=(STATIC_RSA, CBC, NO_ALPN),
        cipher_suite="TLS_RSA_WITH_AES_128_CBC_SHA",
        alpn=None,
    )
    assert outcome.connections == 0


def test_static_rsa_cbc_next_to_tls13_is_moot(pki: TestPKI) -> None:
    # Given the same TLS 1.2 configuration on a server that also speaks TLS 1.3
    with OpenSSLServer(pki.rsa2048, "-cipher", "AES128-SHA") as server:
        outcome = false_start_on(server.port, pki)
    # Then TLS 1.2 is still judged, and marked moot
    assert result_of(outcome) == FalseStartResult(
        eligible=False,
        moot=True,
        reasons=(STATIC_RSA, CBC, NO_ALPN),
        cipher_suite="TLS_RSA_WITH_AES_128_CBC_SHA",
        alpn=None,
    )
    assert outcome.connections == 1


def test_dhe_is_not_enough_for_browsers(pki: TestPKI) -> None:
    # Given a TLS 1.2-only server with DHE + AES-GCM and ALPN
    with OpenSSLServer(
        pki.rsa2048, "-no_tls1_3", "-cipher", "DHE-RSA-AES128-GCM-SHA256", "-alpn", "h2"
    ) as server:
        outcome = false_start_on(server.port, pki)
    # Then only the key exchange stands in the way (Chrome and Firefox require ECDHE)
    assert result_of(outcome) == FalseStartResult(
        eligible=False,
        moot=False,
        reasons=("DHE key exchange: browsers False Start only after ECDHE",),
        cipher_suite="TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        alpn="h2",
    )


def test_tls13_only_server_has_no_tls12_to_judge(pki: TestPKI) -> None:
    # Given a server that speaks TLS 1.3 only
    with OpenSSLServer(pki.ecdsa_p256, "-tls1_3") as server:
        outcome = false_start_on(server.port, pki)
    # Then there is nothing to False Start, and nothing lost
    assert result_of(outcome) == FalseStartResult(
        eligible=False, moot=True, reasons=("TLS 1.2 not offered",), cipher_suite=None, alpn=None
    )
    assert outcome.connections == 0
