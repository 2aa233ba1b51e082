"""The downgrade probe against real servers: TLS_FALLBACK_SCSV and the TLS 1.3 sentinel, with a
middlebox that hides each of them for the side that lacks the protection."""

from __future__ import annotations

import pytest

from httpsaudit.probes.downgrade import DowngradeProbe
from httpsaudit.probes.versions import VersionsProbe
from httpsaudit.results import DowngradeResult, ProbeId, ProbeOutcome, ProbeStatus, Support
from httpsaudit.scan import run_probe
from tests.middlebox import BrokenMiddlebox, Misbehaviour
from tests.pki import TestPKI
from tests.probe_context import make_context
from tests.servers import NginxServer, OpenSSLServer

SECLEVEL_0 = ("-cipher", "DEFAULT:@SECLEVEL=0")
REFUSED = "alert inappropriate_fallback"


def downgrade_of(port: int, pki: TestPKI) -> tuple[DowngradeResult, ProbeOutcome[DowngradeResult]]:
    """The downgrade outcome after the timed connection and the versions probe it builds on."""
    context = make_context(port, ca_file=pki.root_path)
    versions = run_probe(VersionsProbe(), context)
    assert versions.status is ProbeStatus.COMPLETED, versions.error
    context.outcomes[ProbeId.VERSIONS] = versions
    outcome = run_probe(DowngradeProbe(), context)
    assert outcome.status is ProbeStatus.COMPLETED, outcome.error
    assert outcome.result is not None
    return outcome.result, outcome


@pytest.mark.parametrize("server_kind", ["openssl", "nginx"])
def test_tls13_server_refuses_a_fallback_and_marks_a_tls12_hello(
    pki: TestPKI, server_kind: str
) -> None:
    # Given a TLS 1.2 + 1.3 server (OpenSSL 3.0 s_server, or nginx on the same library)
    server = (
        OpenSSLServer(pki.ecdsa_p256)
        if server_kind == "openssl"
        else NginxServer("basic", pki.ecdsa_p256)
    )
    with server:
        # When a TLS 1.2 hello with TLS_FALLBACK_SCSV and then a plain TLS 1.2 hello are sent
        downgrade, outcome = downgrade_of(server.port, pki)
    # Then the fallback is refused with inappropriate_fallback (RFC 7507)
    assert downgrade.fallback_scsv is Support.SUPPORTED
    assert downgrade.fallback_scsv_answer == REFUSED
    # And the TLS 1.2 ServerHello random ends in DOWNGRD\x01 (RFC 8446 §4.1.3)
    assert downgrade.downgrade_sentinel is True
    # And the refusal carries no ServerHello, so the sentinel took a second connection
    assert outcome.connections == 2


@pytest.mark.parametrize(
    "extra",
    [(), ("-no_tls1",)],
    ids=["tls10-to-tls12", "tls11-and-tls12"],
)
def test_tls12_server_with_older_versions_refuses_the_next_one_down(
    pki: TestPKI, extra: tuple[str, ...]
) -> None:
    # Given a server speaking TLS 1.2 and TLS 1.1 (and, in one case, TLS 1.0), no TLS 1.3
    with OpenSSLServer(pki.rsa2048, "-no_tls1_3", *extra, *SECLEVEL_0) as server:
        # When a TLS 1.1 hello (the next version down) carries TLS_FALLBACK_SCSV
        downgrade, outcome = downgrade_of(server.port, pki)
    # Then it is refused as a fallback; offering TLS 1.0 to the 1.1+1.2 server would have got
    # protocol_version instead, so this also shows which version was offered
    assert downgrade.fallback_scsv is Support.SUPPORTED
    assert downgrade.fallback_scsv_answer == REFUSED
    # And without TLS 1.3 the sentinel does not apply
    assert downgrade.downgrade_sentinel is None
    assert outcome.connections == 1


@pytest.mark.parametrize("only", ["-no_tls1_3", "-tls1_3"], ids=["tls12-only", "tls13-only"])
def test_single_version_server_is_not_tested(pki: TestPKI, only: str) -> None:
    # Given a server speaking a single version
    with OpenSSLServer(pki.ecdsa_p256, only) as server:
        downgrade, outcome = downgrade_of(server.port, pki)
    # Then there is nothing to fall back to and no hello is sent
    assert downgrade == DowngradeResult(
        fallback_scsv=Support.NOT_TESTED, fallback_scsv_answer=None, downgrade_sentinel=None
    )
    assert outcome.connections == 0


def test_fallback_accepted_when_the_scsv_never_reaches_the_server(pki: TestPKI) -> None:
    # Given a TLS 1.2 + 1.3 server behind a box that does not pass TLS_FALLBACK_SCSV on
    misbehaviour = Misbehaviour(strip_fallback_scsv=True)
    with (
        OpenSSLServer(pki.ecdsa_p256) as server,
        BrokenMiddlebox("127.0.0.1", server.port, misbehaviour) as box,
    ):
        downgrade, outcome = downgrade_of(box.port, pki)
    # Then the fallback hello completes with TLS 1.2: no fallback protection
    assert downgrade.fallback_scsv is Support.NOT_SUPPORTED
    assert downgrade.fallback_scsv_answer == "server_hello TLSv1.2"
    # And that same ServerHello shows the sentinel, so one connection was enough
    assert downgrade.downgrade_sentinel is True
    assert outcome.connections == 1


def test_missing_sentinel_is_reported(pki: TestPKI) -> None:
    # Given a TLS 1.2 + 1.3 server behind a box that zeroes the ServerHello's DOWNGRD marker
    misbehaviour = Misbehaviour(erase_downgrade_sentinel=True)
    with (
        OpenSSLServer(pki.ecdsa_p256) as server,
        BrokenMiddlebox("127.0.0.1", server.port, misbehaviour) as box,
    ):
        downgrade, outcome = downgrade_of(box.port, pki)
    # Then the SCSV is still honoured but a TLS 1.3 client could not spot a forced TLS 1.2
    assert downgrade.fallback_scsv is Support.SUPPORTED
    assert downgrade.fallback_scsv_answer == REFUSED
    assert downgrade.downgrade_sentinel is False
    assert outcome.connections == 2
