"""Resumption rules on real servers: nginx (fixtures/nginx/session.conf) with each combination
of session cache, tickets, lifetime and ticket keys, two nginx backends of one name,
``openssl s_server`` and Python ``ssl`` servers. Every server is per test: sessions are state.

Where a rule's nginx snippet maps onto session.conf, the snippet itself is applied to the
triggering server (ticket key file paths become fresh key files) and the rule then passes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from httpsaudit.rules import rule_by_id
from httpsaudit.rules.engine import evaluate
from httpsaudit.rules.model import Finding, RuleStatus, ServerKind, Severity
from tests.pki import TestPKI
from tests.probes.test_resumption import RoundRobinProxy
from tests.rules.evaluation import audit, rules_named
from tests.scanning import scan_local
from tests.servers import NginxServer, OpenSSLServer, PythonTlsServer

ATTEMPTS = 5
SESSION_TIMEOUT = "300s"
KEY_NAME = re.compile(r"^[0-9a-f]{32}$")
# session.conf placeholders that nginx directives of a snippet fill in directly.
SESSION_PLACEHOLDERS = {
    "ssl_session_cache": "session_cache",
    "ssl_session_tickets": "session_tickets",
    "ssl_session_timeout": "session_timeout",
}


def nginx(pki: TestPKI, *, cache: str, tickets: str, **params: str) -> NginxServer:
    """nginx from session.conf; ``params`` (host, protocols, key lines...) override the rest."""
    values = {
        "session_cache": cache,
        "session_tickets": tickets,
        "session_timeout": SESSION_TIMEOUT,
        **params,
    }
    return NginxServer("session", pki.ecdsa_p256, **values)


def ticket_key(path: Path) -> str:
    """An nginx ticket key file (name | HMAC key | AES key, 80 bytes); returns its key name."""
    if not path.exists():
        path.write_bytes(os.urandom(80))
    return path.read_bytes()[:16].hex()


def nginx_snippet(rule_id: str) -> str:
    """The rule's snippet as the engine shows it to nginx 1.22 (the lab's version)."""
    rule = rule_by_id(rule_id)
    assert rule is not None
    snippet = rule.advice.snippets[ServerKind.NGINX]
    if snippet.min_version is not None and snippet.before_text is not None:
        return snippet.before_text
    return snippet.text


def nginx_directives(snippet: str) -> list[tuple[str, str]]:
    """(directive, arguments) for each configuration line of a snippet; comments dropped."""
    directives = []
    for line in snippet.splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            name, _, arguments = text.rstrip(";").partition(" ")
            directives.append((name, arguments.strip()))
    return directives


def applied(snippet: str, key_dir: Path, *, before: str = "") -> dict[str, str]:
    """session.conf parameters with ``snippet`` applied after ``before`` (server directives).

    Ticket key files named in the snippet become key files of the same name in ``key_dir``,
    made once, so several backends given the same snippet share them.
    """
    params: dict[str, str] = {}
    directives = [before] if before else []
    for name, arguments in nginx_directives(snippet):
        if name in SESSION_PLACEHOLDERS:
            params[SESSION_PLACEHOLDERS[name]] = arguments
        elif name == "ssl_session_ticket_key":
            path = key_dir / Path(arguments).name
            ticket_key(path)
            directives.append(f"ssl_session_ticket_key {path};")
        else:
            directives.append(f"{name} {arguments};")
    params["server_directives"] = " ".join(directives)
    return params


def assert_failed(finding: Finding, severity: Severity) -> None:
    assert finding.status is RuleStatus.FAILED, finding.reason
    assert finding.severity is severity


# -- RES001: Session ID ---------------------------------------------------------------------


def test_res001_trigger_tickets_without_session_cache(pki: TestPKI) -> None:
    # Given nginx with tickets and no session cache: its Session IDs are empty
    with nginx(pki, cache="off", tickets="on") as server:
        finding = audit(server.port, pki.root_path, "RES001")["RES001"]
    # Then the rule fails, low: tickets still resume
    assert_failed(finding, Severity.LOW)
    assert finding.evidence["session_id_support"] == "not_supported"
    assert finding.evidence["session_id_attempts"] == 0
    assert finding.evidence["session_ticket_support"] == "supported"
    assert finding.evidence["session_id_note"] == (
        "the server sent an empty Session ID: it keeps no session to resume"
    )
    # And a TLS 1.2 full handshake is 2 round trips, a resumed one 1: 1 to save
    assert finding.saving is not None
    assert finding.saving.round_trips == 1
    assert finding.advice is not None
    assert "saves 1 round trip" in finding.advice


def test_res001_clean_cache_and_tickets(pki: TestPKI) -> None:
    with nginx(pki, cache="shared:SSL:1m", tickets="on") as server:
        finding = audit(server.port, pki.root_path, "RES001")["RES001"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["session_id_resumed"] == ATTEMPTS


def test_res001_nginx_advice_fixes_it(pki: TestPKI, tmp_path: Path) -> None:
    # Given the failing nginx, and the rule's nginx snippet
    with nginx(pki, cache="off", tickets="on") as server:
        before = audit(server.port, pki.root_path, "RES001")["RES001"]
    assert before.status is RuleStatus.FAILED
    assert before.snippet == nginx_snippet("RES001")
    # When the snippet is applied
    params = applied(before.snippet, tmp_path)
    assert params["session_cache"] == "shared:SSL:10m"
    with nginx(pki, cache="off", tickets="on", **params) as server:
        after = audit(server.port, pki.root_path, "RES001")["RES001"]
    # Then Session IDs resume
    assert after.status is RuleStatus.PASSED


def test_res001_and_res002_leave_no_resumption_at_all_to_res003(pki: TestPKI) -> None:
    # Given nginx with neither cache nor tickets
    with nginx(pki, cache="off", tickets="off") as server:
        findings = audit(server.port, pki.root_path, "RES001", "RES002", "RES003")
    # Then only RES003 reports it: one weakness is not counted three times
    assert findings["RES003"].status is RuleStatus.FAILED
    for rule_id in ("RES001", "RES002"):
        assert findings[rule_id].status is RuleStatus.NOT_APPLICABLE
        assert findings[rule_id].reason == "neither TLS 1.2 mechanism resumes: RES003 reports it"


# -- RES002: Session Ticket -------------------------------------------------------------------


def test_res002_trigger_session_cache_without_tickets(pki: TestPKI) -> None:
    # Given nginx with a session cache and tickets off
    with nginx(pki, cache="shared:SSL:1m", tickets="off") as server:
        finding = audit(server.port, pki.root_path, "RES002")["RES002"]
    assert_failed(finding, Severity.LOW)
    assert finding.evidence["session_ticket_support"] == "not_supported"
    assert finding.evidence["session_id_support"] == "supported"
    assert finding.evidence["session_ticket_note"] == (
        "the server issued no session ticket (RFC 5077); "
        "a client offering tickets still resumes by Session ID"
    )
    # And nginx 1.22 is told to bring its own, rotated, ticket keys
    assert finding.server == "nginx"
    assert finding.snippet is not None
    assert "ssl_session_ticket_key /etc/nginx/tickets/current.key;" in finding.snippet


def test_res002_clean_s_server_defaults(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256) as server:
        finding = audit(server.port, pki.root_path, "RES002")["RES002"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["session_ticket_resumed"] == ATTEMPTS


def test_res002_nginx_advice_fixes_it(pki: TestPKI, tmp_path: Path) -> None:
    with nginx(pki, cache="shared:SSL:1m", tickets="off") as server:
        before = audit(server.port, pki.root_path, "RES002")["RES002"]
    assert before.status is RuleStatus.FAILED
    assert before.snippet == nginx_snippet("RES002")
    params = applied(before.snippet, tmp_path)
    assert params["session_tickets"] == "on"
    with nginx(pki, cache="shared:SSL:1m", tickets="off", **params) as server:
        after = audit(server.port, pki.root_path, "RES002")["RES002"]
    assert after.status is RuleStatus.PASSED


# -- RES003: no TLS 1.2 resumption ------------------------------------------------------------


def test_res003_trigger_no_cache_no_tickets(pki: TestPKI) -> None:
    # Given nginx with neither a session cache nor tickets
    with nginx(pki, cache="off", tickets="off") as server:
        finding = audit(server.port, pki.root_path, "RES003")["RES003"]
    # Then every returning TLS 1.2 visit pays the full 2 round trips: high
    assert_failed(finding, Severity.HIGH)
    assert finding.evidence["session_id_support"] == "not_supported"
    assert finding.evidence["session_ticket_support"] == "not_supported"
    assert finding.evidence["full_round_trips"] == 2
    assert finding.saving is not None
    assert finding.saving.round_trips == 1
    assert finding.message == (
        "TLS 1.2 sessions cannot be resumed at all: every return visit pays a full handshake"
    )


def test_res003_clean_session_ids_alone(pki: TestPKI) -> None:
    # Given s_server without tickets: Session IDs are enough for TLS 1.2 clients
    with OpenSSLServer(pki.ecdsa_p256, "-no_ticket") as server:
        finding = audit(server.port, pki.root_path, "RES003")["RES003"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["session_id_resumed"] == ATTEMPTS
    assert finding.evidence["session_ticket_support"] == "not_supported"


def test_res003_not_applicable_without_tls12(pki: TestPKI) -> None:
    with nginx(pki, cache="off", tickets="off", protocols="TLSv1.3") as server:
        finding = audit(server.port, pki.root_path, "RES003")["RES003"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.reason == "TLSv1.2 is not offered by the server"


def test_res003_nginx_advice_fixes_it(pki: TestPKI, tmp_path: Path) -> None:
    with nginx(pki, cache="off", tickets="off") as server:
        before = audit(server.port, pki.root_path, "RES003")["RES003"]
    assert before.status is RuleStatus.FAILED
    assert before.snippet is not None
    with nginx(pki, cache="off", tickets="off", **applied(before.snippet, tmp_path)) as server:
        after = audit(server.port, pki.root_path, "RES003")["RES003"]
    assert after.status is RuleStatus.PASSED


def test_res003_in_chinese_carries_the_same_evidence(pki: TestPKI) -> None:
    # Given one scan of a server without TLS 1.2 resumption, read in both languages
    rules = rules_named("RES003")
    with nginx(pki, cache="off", tickets="off", protocols="TLSv1.2") as server:
        scan = scan_local(
            server.port, ca_file=pki.root_path, only_probes=frozenset(rules[0].requires)
        )
    english = evaluate(scan, rules, lang="en").findings[0]
    chinese = evaluate(scan, rules, lang="zh").findings[0]
    # Then the facts are the same, the words Chinese
    assert chinese.status is RuleStatus.FAILED
    assert chinese.evidence == english.evidence
    assert chinese.message == "TLS 1.2 会话完全无法恢复:每次回访都要重做完整握手"
    assert chinese.advice is not None
    assert "节省 1 个往返" in chinese.advice


# -- RES004: no TLS 1.3 resumption ------------------------------------------------------------


def test_res004_trigger_tickets_that_are_never_accepted(pki: TestPKI) -> None:
    # Given nginx with neither cache nor tickets: it hands out TLS 1.3 tickets it cannot honour
    with nginx(pki, cache="off", tickets="off") as server:
        finding = audit(server.port, pki.root_path, "RES004")["RES004"]
    assert_failed(finding, Severity.MEDIUM)
    assert finding.evidence["tls13_psk_attempts"] == ATTEMPTS
    assert finding.evidence["tls13_psk_resumed"] == 0
    assert finding.evidence["tls13_psk_note"] == "the server sends tickets but never accepted one"
    assert finding.evidence["tickets_per_connection"] == 2
    flight = finding.evidence["server_flight_bytes_full"]
    assert isinstance(flight, int)
    assert finding.message == (
        "TLS 1.3 sessions cannot be resumed: every return visit repeats the full handshake "
        f"({flight} bytes from the server)"
    )


def test_res004_trigger_no_tls13_tickets(pki: TestPKI) -> None:
    # Given s_server sending no TLS 1.3 tickets at all
    with OpenSSLServer(pki.ecdsa_p256, "-num_tickets", "0") as server:
        finding = audit(server.port, pki.root_path, "RES004")["RES004"]
    assert_failed(finding, Severity.MEDIUM)
    assert finding.evidence["tickets_per_connection"] == 0
    assert finding.message.startswith(
        "TLS 1.3 sessions cannot be resumed: the server sends no session ticket"
    )


def test_res004_clean_stateful_tickets(pki: TestPKI) -> None:
    # Given nginx with a session cache and tickets off: TLS 1.3 resumes on cache handles
    with nginx(pki, cache="shared:SSL:1m", tickets="off") as server:
        finding = audit(server.port, pki.root_path, "RES004")["RES004"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["tls13_psk_resumed"] == ATTEMPTS


def test_res004_nginx_advice_fixes_it(pki: TestPKI, tmp_path: Path) -> None:
    with nginx(pki, cache="off", tickets="off") as server:
        before = audit(server.port, pki.root_path, "RES004")["RES004"]
    assert before.status is RuleStatus.FAILED
    assert before.snippet is not None
    with nginx(pki, cache="off", tickets="off", **applied(before.snippet, tmp_path)) as server:
        after = audit(server.port, pki.root_path, "RES004")["RES004"]
    assert after.status is RuleStatus.PASSED


# -- RES005: resumption that works only sometimes ---------------------------------------------


def two_backends(
    pki: TestPKI, directives: str = "", **params: str
) -> tuple[NginxServer, NginxServer]:
    """Two nginx backends of one name on 127.0.0.2 and 127.0.0.3, each with its own cache."""
    first, second = (
        nginx(
            pki,
            cache="shared:SSL:1m",
            tickets="on",
            host=host,
            **{"server_directives": directives, **params},
        )
        for host in ("127.0.0.2", "127.0.0.3")
    )
    return first, second


def uneven_balancer(backends: Sequence[NginxServer]) -> RoundRobinProxy:
    """A TCP balancer: full handshakes go to the first backend, each client's session offers
    two of every three to it, so some resumptions land where the session lives and some do not
    (whatever order the side-by-side attempts arrive in)."""
    first, second = backends
    return RoundRobinProxy(
        [(first.host, first.port), (first.host, first.port), (second.host, second.port)]
    )


def test_res005_trigger_balancer_over_backends_with_their_own_keys(pki: TestPKI) -> None:
    # Given a balancer over two nginx backends that share neither cache nor ticket key
    first, second = two_backends(pki)
    with first, second, uneven_balancer((first, second)) as balancer:
        finding = audit(balancer.port, pki.root_path, "RES005")["RES005"]
    # Then every mechanism resumes sometimes, never always: the load-balancer symptom
    assert_failed(finding, Severity.MEDIUM)
    assert finding.category.value == "reliability"
    assert finding.evidence["unreliable_versions"] == ("TLSv1.2", "TLSv1.3")
    rates = finding.evidence["resumption_rates_percent"]
    assert isinstance(rates, tuple)
    assert len(rates) == 3
    assert all(0 < int(rate) < 100 for rate in rates)
    assert finding.message.startswith("Session resumption works only some of the time: session_id ")


def test_res005_clean_one_server(pki: TestPKI) -> None:
    with nginx(pki, cache="shared:SSL:1m", tickets="on") as server:
        finding = audit(server.port, pki.root_path, "RES005")["RES005"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["resumed_counts"] == (
        "session_id 5/5",
        "session_ticket 5/5",
        "tls13_psk 5/5",
    )
    assert finding.evidence["resumption_rates_percent"] == (100, 100, 100)


def test_res005_nginx_advice_fixes_it(pki: TestPKI, tmp_path: Path) -> None:
    # Given the snippet: the same ticket key files on every backend
    snippet = nginx_snippet("RES005")
    params = applied(snippet, tmp_path)
    first, second = two_backends(pki, **params)
    with first, second, uneven_balancer((first, second)) as balancer:
        finding = audit(balancer.port, pki.root_path, "RES005")["RES005"]
    # Then tickets resume every time in both versions; Session IDs still depend on the backend,
    # which a client offering its ticket never notices
    assert finding.status is RuleStatus.PASSED
    counts = finding.evidence["resumed_counts"]
    assert isinstance(counts, tuple)
    assert counts[1:] == ("session_ticket 5/5", "tls13_psk 5/5")
    assert finding.evidence["unreliable_versions"] == ()


# -- RES006: ticket lifetime ---------------------------------------------------------------


def test_res006_trigger_two_day_sessions(pki: TestPKI) -> None:
    # Given nginx with ssl_session_timeout 2d, which it announces as the ticket lifetime
    with nginx(pki, cache="shared:SSL:1m", tickets="on", session_timeout="2d") as server:
        finding = audit(server.port, pki.root_path, "RES006")["RES006"]
    assert_failed(finding, Severity.MEDIUM)
    assert finding.category.value == "security"
    assert finding.evidence["tls12_lifetime_hint_s"] == 172800
    assert finding.evidence["tls13_lifetime_hint_s"] == 172800
    assert finding.evidence["longest_lifetime_hint_s"] == 172800
    assert finding.message == (
        "Session tickets stay valid for 48 hours, more than a day (172800 s)"
    )


def test_res006_clean_openssl_default_two_hours(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256) as server:
        finding = audit(server.port, pki.root_path, "RES006")["RES006"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["longest_lifetime_hint_s"] == 7200


def test_res006_nginx_advice_fixes_it(pki: TestPKI, tmp_path: Path) -> None:
    with nginx(pki, cache="shared:SSL:1m", tickets="on", session_timeout="2d") as server:
        before = audit(server.port, pki.root_path, "RES006")["RES006"]
    assert before.status is RuleStatus.FAILED
    assert before.snippet is not None
    params = applied(before.snippet, tmp_path)
    assert params["session_timeout"] == "1d"
    with nginx(pki, cache="shared:SSL:1m", tickets="on", **params) as server:
        after = audit(server.port, pki.root_path, "RES006")["RES006"]
    assert after.status is RuleStatus.PASSED
    assert after.evidence["longest_lifetime_hint_s"] == 86400


# -- RES007: ticket key rotation --------------------------------------------------------------


def test_res007_trigger_nginx_before_1_23_2(pki: TestPKI) -> None:
    # Given nginx 1.22 with tickets under the key it made at start
    with nginx(pki, cache="shared:SSL:1m", tickets="on") as server:
        finding = audit(server.port, pki.root_path, "RES007")["RES007"]
    # Then the rule fails: that nginx never rotates the key by itself
    assert_failed(finding, Severity.LOW)
    server_name = finding.evidence["server"]
    assert isinstance(server_name, str)
    assert server_name.startswith("nginx 1.22.")
    key_names = finding.evidence["key_names"]
    assert isinstance(key_names, tuple)
    assert len(key_names) == 1
    assert KEY_NAME.match(str(key_names[0]))
    # And nginx 1.22 gets the advice for releases before 1.23.2: key files rotated by hand
    assert finding.snippet == nginx_snippet("RES007")
    assert "ssl_session_ticket_key /etc/nginx/tickets/previous.key;" in finding.snippet


def test_res007_trigger_reports_the_configured_key_name(pki: TestPKI, tmp_path: Path) -> None:
    # Given nginx 1.22 with a ticket key file: one scan cannot tell whether it is ever replaced
    key_file = tmp_path / "current.key"
    key_name = ticket_key(key_file)
    directives = f"ssl_session_ticket_key {key_file};"
    with nginx(pki, cache="off", tickets="on", server_directives=directives) as server:
        finding = audit(server.port, pki.root_path, "RES007")["RES007"]
    # Then the finding names the key, for comparing with a later report (httpsaudit diff)
    assert_failed(finding, Severity.LOW)
    assert finding.evidence["key_names"] == (key_name,)
    assert key_name in finding.message


def test_res007_clean_no_stateless_tickets(pki: TestPKI) -> None:
    # Given nginx with tickets off: sessions live in its cache, no ticket key seals them
    with nginx(pki, cache="shared:SSL:1m", tickets="off") as server:
        finding = audit(server.port, pki.root_path, "RES007")["RES007"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["key_names"] == ()


def lab_response(server_header: str) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nServer: " + server_header.encode() + b"\r\n"
        b"Content-Length: 3\r\nConnection: close\r\n\r\nok\n"
    )


def test_res007_clean_nginx_that_rotates_with_a_shared_cache(pki: TestPKI) -> None:
    # Given a server answering as nginx 1.25.3 (which rotates its keys with a shared cache),
    # whose Session IDs resume (a cache exists)
    with PythonTlsServer(pki.ecdsa_p256, response=lab_response("nginx/1.25.3")) as server:
        finding = audit(server.port, pki.root_path, "RES007")["RES007"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["server"] == "nginx 1.25.3"
    assert finding.evidence["session_id_support"] == "supported"


def test_res007_trigger_apache_never_rotates_by_itself(pki: TestPKI) -> None:
    with PythonTlsServer(pki.ecdsa_p256, response=lab_response("Apache/2.4.58")) as server:
        finding = audit(server.port, pki.root_path, "RES007")["RES007"]
    assert_failed(finding, Severity.LOW)
    assert finding.evidence["server"] == "apache 2.4.58"
    assert finding.server == "apache"
    assert finding.snippet is not None
    assert finding.snippet.startswith("SSLSessionTicketKeyFile ")


def test_res007_unknown_software_is_not_applicable(pki: TestPKI) -> None:
    # Given s_server, whose answers carry no Server header
    with OpenSSLServer(pki.ecdsa_p256) as server:
        finding = audit(server.port, pki.root_path, "RES007")["RES007"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.evidence["server"] is None
    assert finding.reason is not None
    assert "httpsaudit diff" in finding.reason


# -- RES008: resumption across backends --------------------------------------------------------


def audit_backends(
    pki: TestPKI, backends: tuple[NginxServer, NginxServer], rule_id: str
) -> Finding:
    """The rule for one name served by both backends, as --connect-to each of them."""
    first, second = backends
    return audit(
        first.port,
        pki.root_path,
        rule_id,
        connect_to=[(first.host, first.port), (second.host, second.port)],
    )[rule_id]


def test_res008_trigger_backends_with_their_own_keys(pki: TestPKI) -> None:
    # Given two backends of one name, each with its own cache and its own random ticket key
    first, second = two_backends(pki)
    with first, second:
        finding = audit_backends(pki, (first, second), "RES008")
    a, b = f"127.0.0.2:{first.port}", f"127.0.0.3:{second.port}"
    # Then nothing from one resumes on the other, in either version: high, reliability
    assert_failed(finding, Severity.HIGH)
    assert finding.category.value == "reliability"
    assert finding.evidence["addresses"] == (a, b)
    assert finding.evidence["failing_pairs"] == (
        f"TLSv1.2 {a} -> {b}",
        f"TLSv1.2 {b} -> {a}",
        f"TLSv1.3 {a} -> {b}",
        f"TLSv1.3 {b} -> {a}",
    )


def test_res008_clean_backends_sharing_a_ticket_key(pki: TestPKI, tmp_path: Path) -> None:
    # Given two backends with their own caches and one shared ticket key file
    key_file = tmp_path / "shared.key"
    ticket_key(key_file)
    first, second = two_backends(pki, f"ssl_session_ticket_key {key_file};")
    with first, second:
        finding = audit_backends(pki, (first, second), "RES008")
    a, b = f"127.0.0.2:{first.port}", f"127.0.0.3:{second.port}"
    # Then the rule passes: tickets open everywhere; only Session IDs stay on their backend,
    # which a client offering its ticket never notices
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["failing_pairs"] == ()
    assert finding.evidence["failed_cells"] == (f"session_id {a} -> {b}", f"session_id {b} -> {a}")


def test_res008_one_address_is_not_applicable(pki: TestPKI) -> None:
    with nginx(pki, cache="shared:SSL:1m", tickets="on") as server:
        finding = audit(server.port, pki.root_path, "RES008")["RES008"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.evidence["addresses"] == ()


def test_res008_nginx_advice_fixes_it(pki: TestPKI, tmp_path: Path) -> None:
    first, second = two_backends(pki)
    with first, second:
        before = audit_backends(pki, (first, second), "RES008")
    assert before.status is RuleStatus.FAILED
    assert before.snippet is not None
    # When both backends get the snippet (the same key files)
    first, second = two_backends(pki, **applied(before.snippet, tmp_path))
    with first, second:
        after = audit_backends(pki, (first, second), "RES008")
    assert after.status is RuleStatus.PASSED


# -- RES009: psk_ke ------------------------------------------------------------------------------

ALLOW_PSK_KE = "ssl_conf_command Options AllowNoDHEKEX;"


def test_res009_trigger_nginx_allowing_no_dhe_kex(pki: TestPKI) -> None:
    # Given nginx with OpenSSL's AllowNoDHEKEX option set
    with nginx(pki, cache="shared:SSL:1m", tickets="on", server_directives=ALLOW_PSK_KE) as server:
        finding = audit(server.port, pki.root_path, "RES009")["RES009"]
    # Then a PSK-only resumption was accepted: no forward secrecy for resumed connections
    assert_failed(finding, Severity.MEDIUM)
    assert finding.category.value == "security"
    assert finding.evidence["psk_ke"] == "supported"
    assert finding.evidence["psk_dhe_ke"] == "supported"


def test_res009_trigger_s_server_allow_no_dhe_kex(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256, "-allow_no_dhe_kex") as server:
        finding = audit(server.port, pki.root_path, "RES009")["RES009"]
    assert_failed(finding, Severity.MEDIUM)
    assert finding.evidence["psk_ke"] == "supported"


def test_res009_clean_openssl_default_refuses_psk_ke(pki: TestPKI) -> None:
    with nginx(pki, cache="shared:SSL:1m", tickets="on") as server:
        finding = audit(server.port, pki.root_path, "RES009")["RES009"]
    assert finding.status is RuleStatus.PASSED
    assert finding.evidence["psk_ke"] == "not_supported"


def test_res009_nginx_advice_fixes_it(pki: TestPKI, tmp_path: Path) -> None:
    # Given the snippet applied after the directive that allowed psk_ke
    snippet = nginx_snippet("RES009")
    params = applied(snippet, tmp_path, before=ALLOW_PSK_KE)
    assert params["server_directives"] == f"{ALLOW_PSK_KE} ssl_conf_command Options -AllowNoDHEKEX;"
    with nginx(pki, cache="shared:SSL:1m", tickets="on", **params) as server:
        finding = audit(server.port, pki.root_path, "RES009")["RES009"]
    # Then OpenSSL's option is cleared again and psk_ke refused
    assert finding.status is RuleStatus.PASSED
