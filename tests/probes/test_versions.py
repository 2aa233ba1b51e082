"""The versions probe against real servers: each version offered alone, then GREASE and
large-hello tolerance, with broken-middlebox proxies for the intolerant side."""

from __future__ import annotations

from pathlib import Path

import pytest

from httpsaudit.probes.base import ProbeContext
from httpsaudit.probes.versions import VersionsProbe, tolerance_hello
from httpsaudit.results import (
    ProbeId,
    ProbeOutcome,
    ProbeStatus,
    Support,
    VersionsResult,
    VersionSupport,
)
from httpsaudit.scan import run_probe
from httpsaudit.tls.codes import ProtocolVersion
from tests.middlebox import BrokenMiddlebox, Misbehaviour
from tests.pki import TestPKI
from tests.probe_context import make_context
from tests.servers import NginxServer, OpenSSLServer

# Five one-version hellos and the GREASE and padded hellos; a failure adds the plain hello.
CONNECTIONS_WHEN_TOLERANT = 7
CONNECTIONS_WHEN_INTOLERANT = 8
SECLEVEL_0 = ("-cipher", "DEFAULT:@SECLEVEL=0")
ECDHE_ECDSA_AES128_GCM = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
ECDHE_RSA_AES128_GCM = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
ECDHE_RSA_AES128_CBC = "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
TLS13_AES128_GCM = "TLS_AES_128_GCM_SHA256"


def context_after_connection(port: int, ca_file: Path) -> ProbeContext:
    """The versions probe only needs the address, so it must also explain a server whose TLS
    the reference client cannot speak (TLS 1.0 only) or that a middlebox breaks."""
    return make_context(port, ca_file=ca_file, require_connection=False)


def probe_versions(context: ProbeContext) -> tuple[VersionsResult, ProbeOutcome[VersionsResult]]:
    outcome = run_probe(VersionsProbe(), context)
    assert outcome.status is ProbeStatus.COMPLETED, outcome.error
    assert outcome.result is not None
    return outcome.result, outcome


def versions_of(port: int, pki: TestPKI) -> tuple[VersionsResult, ProbeOutcome[VersionsResult]]:
    context = context_after_connection(port, pki.root_path)
    connection = context.outcomes[ProbeId.CONNECTION]
    assert connection.status is ProbeStatus.COMPLETED, connection.error
    return probe_versions(context)


def supported(version: ProtocolVersion, answer: str, suite: str) -> VersionSupport:
    return VersionSupport(
        version.label, int(version), Support.SUPPORTED, answer, int(version), None, suite
    )


def refused(version: ProtocolVersion, alert: str) -> VersionSupport:
    return VersionSupport(
        version.label, int(version), Support.NOT_SUPPORTED, "alert", None, alert, None
    )


def negotiated_down(version: ProtocolVersion, server_version: ProtocolVersion) -> VersionSupport:
    return VersionSupport(
        version.label,
        int(version),
        Support.NOT_SUPPORTED,
        "server_hello",
        int(server_version),
        None,
        None,
    )


SSL3, TLS10, TLS11, TLS12, TLS13 = (
    ProtocolVersion.SSLv3,
    ProtocolVersion.TLSv1_0,
    ProtocolVersion.TLSv1_1,
    ProtocolVersion.TLSv1_2,
    ProtocolVersion.TLSv1_3,
)


def test_default_openssl_speaks_tls12_and_tls13_and_tolerates_both_hellos(pki: TestPKI) -> None:
    # Given a default OpenSSL 3.0 server with an ECDSA P-256 certificate
    with OpenSSLServer(pki.ecdsa_p256) as server:
        # When each version is offered alone
        versions, outcome = versions_of(server.port, pki)
    # Then TLS 1.2 gets a ServerHello and TLS 1.3 a HelloRetryRequest (our key_share is empty);
    # TLS 1.0/1.1 are refused with internal_error (security level 1 has no suite for them)
    assert versions.versions == (
        refused(SSL3, "handshake_failure"),
        refused(TLS10, "internal_error"),
        refused(TLS11, "internal_error"),
        supported(TLS12, "server_hello", ECDHE_ECDSA_AES128_GCM),
        supported(TLS13, "hello_retry_request", TLS13_AES128_GCM),
    )
    assert versions.supported == ("TLSv1.2", "TLSv1.3")
    assert versions.highest == "TLSv1.3"
    assert versions.lowest == "TLSv1.2"
    # And GREASE and a hello padded past 512 bytes are both answered normally
    assert versions.tolerates_grease is True
    assert versions.tolerates_large_hello is True
    assert versions.intolerance == ()
    assert outcome.connections == CONNECTIONS_WHEN_TOLERANT


def test_tls12_only_server_refuses_a_tls13_hello(pki: TestPKI) -> None:
    # Given an OpenSSL server with TLS 1.3 switched off
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as server:
        versions, outcome = versions_of(server.port, pki)
    # Then only TLS 1.2 is supported; a hello listing only TLS 1.3 in supported_versions is
    # refused with protocol_version rather than answered with TLS 1.2
    assert versions.versions == (
        refused(SSL3, "handshake_failure"),
        refused(TLS10, "internal_error"),
        refused(TLS11, "internal_error"),
        supported(TLS12, "server_hello", ECDHE_ECDSA_AES128_GCM),
        refused(TLS13, "protocol_version"),
    )
    assert versions.supported == ("TLSv1.2",)
    assert (versions.highest, versions.lowest) == ("TLSv1.2", "TLSv1.2")
    # And the tolerance hellos (listing TLS 1.2 only) still get TLS 1.2
    assert (versions.tolerates_grease, versions.tolerates_large_hello) == (True, True)
    assert outcome.connections == CONNECTIONS_WHEN_TOLERANT


def test_tls10_only_server_negotiates_newer_hellos_down(pki: TestPKI) -> None:
    # Given a TLS 1.0-only server, which the reference client will not talk to
    with OpenSSLServer(pki.rsa2048, "-tls1", *SECLEVEL_0) as server:
        context = context_after_connection(server.port, pki.root_path)
        connection = context.outcomes[ProbeId.CONNECTION]
        assert connection.status is ProbeStatus.FAILED
        # When the versions probe runs on the address the timed connection reached
        versions, outcome = probe_versions(context)
    # Then TLS 1.1 and 1.2 hellos get a TLS 1.0 ServerHello: "not supported", version recorded
    assert versions.versions == (
        refused(SSL3, "handshake_failure"),
        supported(TLS10, "server_hello", ECDHE_RSA_AES128_CBC),
        negotiated_down(TLS11, TLS10),
        negotiated_down(TLS12, TLS10),
        refused(TLS13, "protocol_version"),
    )
    assert versions.supported == ("TLSv1.0",)
    assert (versions.highest, versions.lowest) == ("TLSv1.0", "TLSv1.0")
    assert (versions.tolerates_grease, versions.tolerates_large_hello) == (True, True)
    assert outcome.connections == CONNECTIONS_WHEN_TOLERANT


@pytest.mark.parametrize(
    ("extra", "expected_tls10", "expected_supported"),
    [
        # -no_tls1_3 at security level 0 leaves TLS 1.0 and 1.1 switched on as well
        (
            (),
            supported(TLS10, "server_hello", ECDHE_RSA_AES128_CBC),
            ("TLSv1.0", "TLSv1.1", "TLSv1.2"),
        ),
        (("-no_tls1",), refused(TLS10, "protocol_version"), ("TLSv1.1", "TLSv1.2")),
    ],
    ids=["tls10-to-tls12", "tls11-and-tls12"],
)
def test_servers_with_a_range_of_old_versions(
    pki: TestPKI,
    extra: tuple[str, ...],
    expected_tls10: VersionSupport,
    expected_supported: tuple[str, ...],
) -> None:
    # Given an OpenSSL server without TLS 1.3, at security level 0
    with OpenSSLServer(pki.rsa2048, "-no_tls1_3", *extra, *SECLEVEL_0) as server:
        versions, outcome = versions_of(server.port, pki)
    # Then each old version it allows is supported with a CBC suite, TLS 1.2 with AES-GCM
    assert versions.versions == (
        refused(SSL3, "handshake_failure"),
        expected_tls10,
        supported(TLS11, "server_hello", ECDHE_RSA_AES128_CBC),
        supported(TLS12, "server_hello", ECDHE_RSA_AES128_GCM),
        refused(TLS13, "protocol_version"),
    )
    assert versions.supported == expected_supported
    assert versions.highest == "TLSv1.2"
    assert versions.lowest == expected_supported[0]
    assert (versions.tolerates_grease, versions.tolerates_large_hello) == (True, True)
    assert outcome.connections == CONNECTIONS_WHEN_TOLERANT


def test_nginx_refuses_old_versions_with_protocol_version(pki: TestPKI) -> None:
    # Given nginx with "ssl_protocols TLSv1.2 TLSv1.3"
    with NginxServer("basic", pki.ecdsa_p256) as server:
        versions, outcome = versions_of(server.port, pki)
    # Then versions outside ssl_protocols get protocol_version (not s_server's internal_error)
    assert versions.versions == (
        refused(SSL3, "handshake_failure"),
        refused(TLS10, "protocol_version"),
        refused(TLS11, "protocol_version"),
        supported(TLS12, "server_hello", ECDHE_ECDSA_AES128_GCM),
        supported(TLS13, "hello_retry_request", TLS13_AES128_GCM),
    )
    assert versions.supported == ("TLSv1.2", "TLSv1.3")
    assert (versions.tolerates_grease, versions.tolerates_large_hello) == (True, True)
    assert outcome.connections == CONNECTIONS_WHEN_TOLERANT


def test_a_middlebox_resetting_grease_suites_is_caught(pki: TestPKI) -> None:
    # Given a default OpenSSL server behind a box that resets hellos listing a GREASE suite
    misbehaviour = Misbehaviour(reset_on_grease_suite=True)
    with (
        OpenSSLServer(pki.ecdsa_p256) as server,
        BrokenMiddlebox("127.0.0.1", server.port, misbehaviour) as box,
    ):
        versions, outcome = versions_of(box.port, pki)
        resets = list(box.resets)
    # Then versions are unaffected, but the GREASE hello is not tolerated, and the plain hello
    # (which worked) shows GREASE is to blame; the tolerance hellos went out beside the version
    # hellos, built on what the timed connection agreed (TLS 1.3 alone: 208 bytes, not the 212
    # of a hello listing TLS 1.2 and its suite too, as when the timed connection failed below)
    assert versions.supported == ("TLSv1.2", "TLSv1.3")
    assert versions.tolerates_grease is False
    assert versions.tolerates_large_hello is True
    assert versions.intolerance == (
        "a hello with GREASE values was answered with a connection reset; "
        "the same hello without them (208 bytes) got TLSv1.3",
    )
    assert len(resets) == 1
    assert resets[0].startswith("GREASE cipher suite 0x")
    assert outcome.connections == CONNECTIONS_WHEN_INTOLERANT


def test_a_middlebox_resetting_large_hellos_is_caught(pki: TestPKI) -> None:
    # Given a default OpenSSL server behind a box that resets hello records over 511 bytes
    misbehaviour = Misbehaviour(max_hello_bytes=511)
    with (
        OpenSSLServer(pki.ecdsa_p256) as server,
        BrokenMiddlebox("127.0.0.1", server.port, misbehaviour) as box,
    ):
        context = context_after_connection(box.port, pki.root_path)
        # The reference client's hello (an X25519MLKEM768 key share: about 1.5 kB) is reset too
        connection = context.outcomes[ProbeId.CONNECTION]
        assert connection.status is ProbeStatus.FAILED
        versions, outcome = probe_versions(context)
        resets = list(box.resets)
    # Then small hellos still get through and show what the server speaks
    assert versions.supported == ("TLSv1.2", "TLSv1.3")
    # And the padded hello is not tolerated, while the same hello unpadded was answered
    assert versions.tolerates_large_hello is False
    assert versions.tolerates_grease is True
    assert versions.intolerance == (
        "a hello padded to 517 bytes was answered with a connection reset; "
        "the same hello unpadded (212 bytes) got TLSv1.3",
    )
    assert resets[1:] == ["hello of 517 bytes is over 511"]
    assert outcome.connections == CONNECTIONS_WHEN_INTOLERANT


def test_tolerance_hello_lists_what_the_server_speaks() -> None:
    # Given the suites a TLS 1.0-1.3 server chose for each version it supports
    chosen = {TLS10: 0xC013, TLS11: 0xC013, TLS12: 0xC02F, TLS13: 0x1301}
    # When the tolerance hello is built
    hello = tolerance_hello(chosen, "localhost")
    # Then it offers exactly those versions, newest first, the TLS 1.3 suites and each chosen one
    assert hello is not None
    assert hello.supported_versions == (TLS13, TLS12, TLS11, TLS10)
    assert hello.legacy_version == TLS12
    assert hello.cipher_suites == (0x1301, 0x1302, 0x1303, 0x1304, 0x1305, 0xC02F, 0xC013)
    # And with nothing supported_versions can carry (SSL 3.0 only), there is no such hello
    assert tolerance_hello({SSL3: 0x002F}, "localhost") is None
