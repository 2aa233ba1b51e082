"""0-RTT replay rules on real servers: nginx with and without ``ssl_early_data`` (and with a
425 for every early request), ``openssl s_server -early_data`` with and without anti-replay,
and ``gnutls-serv --earlydata`` in a network namespace of its own. Every server is per test:
tickets and anti-replay caches are state.
"""

from __future__ import annotations

from pathlib import Path

from httpsaudit.rules.model import RuleStatus, Severity
from tests.pki import TestPKI
from tests.rules.evaluation import audit
from tests.rules.test_resumption import applied, nginx_snippet
from tests.servers import GnutlsServerInNamespace, NginxServer, OpenSSLServer

BOTH = ("EARLY001", "EARLY002")
EARLY_DATA_ON = "ssl_early_data on;"
# Every request that arrives as early data is refused with 425 Too Early (RFC 8470 §5.2).
REFUSE_EARLY_REQUESTS = "ssl_early_data on; if ($ssl_early_data) { return 425; }"
MAX_EARLY_DATA_BYTES = 16384  # OpenSSL servers' default: one SSL buffer


def nginx(pki: TestPKI, directives: str) -> NginxServer:
    return NginxServer(
        "session",
        pki.ecdsa_p256,
        session_cache="off",
        session_tickets="on",
        session_timeout="300s",
        server_directives=directives,
    )


# -- EARLY001: a replay served -------------------------------------------------------------


def test_early001_trigger_nginx_serves_both_replays(pki: TestPKI) -> None:
    # Given nginx 1.22 with ssl_early_data on: it keeps no anti-replay state
    with nginx(pki, EARLY_DATA_ON) as server:
        findings = audit(server.port, pki.root_path, *BOTH)
    finding = findings["EARLY001"]
    # Then the byte-identical flight and the reused ticket were both answered 200 again
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.HIGH
    assert finding.category.value == "security"
    assert finding.evidence["served_replays"] == ("exact_replay", "ticket_reuse")
    assert finding.evidence["exact_replay_status"] == 200
    assert finding.evidence["ticket_reuse_status"] == 200
    assert finding.evidence["max_early_data_bytes"] == MAX_EARLY_DATA_BYTES
    assert finding.evidence["method"] == "GET"
    assert finding.message == (
        "A replayed 0-RTT request was served again (exact_replay, ticket_reuse)"
    )
    # And EARLY002 leaves the finding to EARLY001 instead of counting it twice
    assert findings["EARLY002"].status is RuleStatus.NOT_APPLICABLE
    assert findings["EARLY002"].reason == "a replay was served: EARLY001 reports it"


def test_early002_trigger_s_server_without_anti_replay(pki: TestPKI) -> None:
    # Given s_server with anti-replay off: replayed early data is accepted; the lab answers
    # only after the handshake, which a replaying attacker cannot complete
    with OpenSSLServer(pki.ecdsa_p256, "-early_data", "-no_anti_replay", www=False) as server:
        findings = audit(server.port, pki.root_path, *BOTH)
    assert findings["EARLY001"].status is RuleStatus.PASSED
    finding = findings["EARLY002"]
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["accepted_replays"] == ("exact_replay", "ticket_reuse")


def test_early001_clean_s_server_with_anti_replay(pki: TestPKI) -> None:
    # Given s_server with its default anti-replay: each ticket opens once
    with OpenSSLServer(pki.ecdsa_p256, "-early_data", www=False) as server:
        findings = audit(server.port, pki.root_path, *BOTH)
    # Then both replays fell back to a full handshake: neither rule fails
    for rule_id in BOTH:
        finding = findings[rule_id]
        assert finding.status is RuleStatus.PASSED
        assert finding.evidence["early_data_accepted"] == "supported"
        assert finding.evidence["exact_replay_early_data_accepted"] is False
        assert finding.evidence["ticket_reuse_early_data_accepted"] is False


def test_early001_clean_replays_answered_425(pki: TestPKI) -> None:
    # Given nginx answering 425 Too Early to anything that arrives as early data
    with nginx(pki, REFUSE_EARLY_REQUESTS) as server:
        findings = audit(server.port, pki.root_path, *BOTH)
    # Then the replays were accepted by TLS but refused by HTTP: nothing ran twice
    for rule_id in BOTH:
        finding = findings[rule_id]
        assert finding.status is RuleStatus.PASSED
        assert finding.evidence["exact_replay_early_data_accepted"] is True
        assert finding.evidence["exact_replay_status"] == 425
        assert finding.evidence["ticket_reuse_status"] == 425


def test_early001_not_applicable_without_early_data(pki: TestPKI) -> None:
    with nginx(pki, "") as server:
        findings = audit(server.port, pki.root_path, *BOTH)
    for rule_id in BOTH:
        assert findings[rule_id].status is RuleStatus.NOT_APPLICABLE
        assert findings[rule_id].reason == "the server does not accept 0-RTT early data"


def test_early001_nginx_advice_fixes_it(pki: TestPKI, tmp_path: Path) -> None:
    # Given nginx serving replays, and the rule's nginx snippet
    with nginx(pki, EARLY_DATA_ON) as server:
        before = audit(server.port, pki.root_path, "EARLY001")["EARLY001"]
    assert before.status is RuleStatus.FAILED
    assert before.snippet == nginx_snippet("EARLY001")
    # When the snippet replaces the directive that turned 0-RTT on (nginx refuses a flag twice)
    params = applied(before.snippet, tmp_path)
    assert params["server_directives"] == "ssl_early_data off;"
    with nginx(pki, params["server_directives"]) as server:
        after = audit(server.port, pki.root_path, "EARLY001")["EARLY001"]
    # Then no ticket offers early data any more, so no replay can be served
    assert after.status is RuleStatus.NOT_APPLICABLE
    assert after.evidence["max_early_data_bytes"] == 0


# -- EARLY002: a replay accepted -----------------------------------------------------------


def test_early002_trigger_gnutls_takes_a_reused_ticket(pki: TestPKI) -> None:
    # Given gnutls-serv --earlydata, alone in a network namespace: it accepts the same ticket
    # with early data twice, and never answers a request sent as early data
    with GnutlsServerInNamespace(pki.ecdsa_p256, "NORMAL", "--earlydata") as server:
        findings = server.call_inside(lambda: audit(server.port, pki.root_path, *BOTH))
    finding = findings["EARLY002"]
    # Then the replay's early data was accepted, with no sign of what became of it
    assert finding.status is RuleStatus.FAILED
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["accepted_replays"] == ("ticket_reuse",)
    assert finding.evidence["ticket_reuse_early_data_accepted"] is True
    assert finding.evidence["ticket_reuse_served"] is False
    assert finding.evidence["ticket_reuse_status"] is None
    # And the byte-identical flight was refused its early data
    assert finding.evidence["exact_replay_early_data_accepted"] is False
    assert finding.message == (
        "0-RTT is on without replay protection: replayed early data was accepted (ticket_reuse)"
    )
    # And nothing was seen served, so EARLY001 passes
    assert findings["EARLY001"].status is RuleStatus.PASSED


def test_early002_clean_s_server_with_anti_replay(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256, "-early_data", www=False) as server:
        finding = audit(server.port, pki.root_path, "EARLY002")["EARLY002"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["accepted_replays"] == ()


def test_early002_in_chinese(pki: TestPKI) -> None:
    with GnutlsServerInNamespace(pki.ecdsa_p256, "NORMAL", "--earlydata") as server:
        finding = server.call_inside(
            lambda: audit(server.port, pki.root_path, "EARLY002", lang="zh")
        )["EARLY002"]
    assert finding.message == "0-RTT 已开启但没有防重放保护:重放的早期数据被接受(ticket_reuse)"
