"""The 0-RTT early-data probe against real servers, with our own TLS 1.3 engine.

``openssl s_server -early_data`` (with and without anti-replay; it cannot run with ``-www``, so
the lab answers each request through its stdin, after the handshake), nginx with and without
``ssl_early_data``, ``gnutls-serv --earlydata`` in a network namespace of its own, and a
TLS 1.2-only nginx. Timing through the delay proxy asserts round trips and bands relative to the
injected RTT, never wall-clock limits. Every server is per test: tickets and anti-replay caches
are state.

Also here: ``psk_ke`` of the resumption probe, which the same engine tests.
"""

from __future__ import annotations

import dataclasses
import json

import jsonschema
import pytest

from httpsaudit.probes.early_data import EarlyDataProbe
from httpsaudit.probes.resumption import ResumptionProbe
from httpsaudit.probes.versions import VersionsProbe
from httpsaudit.report.json import load_schema
from httpsaudit.results import (
    EarlyDataResult,
    ProbeId,
    ProbeOutcome,
    ProbeStatus,
    ReplayCheck,
    ResumptionResult,
    Support,
)
from httpsaudit.scan import run_probe
from tests.pki import TestPKI
from tests.probe_context import make_context
from tests.servers import DelayProxy, GnutlsServerInNamespace, NginxServer, OpenSSLServer

# OpenSSL servers (s_server, nginx 1.22) allow 0-RTT up to one SSL buffer (16 KiB) by default.
MAX_EARLY_DATA_BYTES = 16384
# Connections: a full handshake for tickets; then, side by side, another full handshake and a
# resumption (and the 0-RTT request where tickets allow it); then, side by side, the exact replay
# and the ticket reuse (and the RFC 8470 POST).
CONNECTIONS_NOT_OFFERED = 1 + 2
CONNECTIONS_ACCEPTED = 1 + 3 + 2
CONNECTIONS_UNSAFE = CONNECTIONS_ACCEPTED + 1
# The resumption probe with its default 5 attempts: 3 mechanisms x (1 + 5 + 1 full handshake
# beside the attempts), + 2 for psk_ke.
RESUMPTION_CONNECTIONS_WITH_PSK_KE = 3 * (1 + 5 + 1) + 2
# One-way delay of the proxy: RTT 2 x 25 ms. Bands are [N, N + 0.9) round trips.
ONE_WAY_DELAY_MS = 25.0
RTT_MS = 2 * ONE_WAY_DELAY_MS
BAND_SLACK = 0.9
# nginx: 425 Too Early for a POST sent as early data, like RFC 8470 §5.2 asks of servers that
# cannot make such a request safe; GET and HEAD are still served.
NGINX_425_FOR_EARLY_POST = (
    'set $early_method "$ssl_early_data$request_method"; '
    'if ($early_method = "1POST") { return 425; }'
)
SESSION_TIMEOUT = "300s"


def nginx(pki: TestPKI, directives: str = "", protocols: str = "TLSv1.2 TLSv1.3") -> NginxServer:
    return NginxServer(
        "session",
        pki.ecdsa_p256,
        session_cache="off",
        session_tickets="on",
        session_timeout=SESSION_TIMEOUT,
        protocols=protocols,
        server_directives=directives,
    )


def early_data_outcome(
    port: int, pki: TestPKI, *, unsafe_probes: bool = False
) -> ProbeOutcome[object]:
    """The probe after the timed connection and the versions probe, as the scheduler runs it."""
    context = make_context(port, ca_file=pki.root_path)
    context.options = dataclasses.replace(context.options, unsafe_probes=unsafe_probes)
    context.outcomes[ProbeId.VERSIONS] = run_probe(VersionsProbe(), context)
    return run_probe(EarlyDataProbe(), context)


def result_of(outcome: ProbeOutcome[object]) -> EarlyDataResult:
    """The completed result, checked against the published schema (its invariants too)."""
    assert outcome.status is ProbeStatus.COMPLETED, outcome.error or outcome.skip_reason
    assert isinstance(outcome.result, EarlyDataResult)
    document = json.loads(json.dumps(dataclasses.asdict(outcome.result)))
    schema = {"$ref": "#/$defs/EarlyDataResult", "$defs": load_schema()["$defs"]}
    jsonschema.validate(document, schema)
    return outcome.result


def assert_accepted_with_tickets_of_16k(result: EarlyDataResult) -> None:
    assert (result.offered, result.max_early_data_bytes) == (
        Support.SUPPORTED,
        MAX_EARLY_DATA_BYTES,
    )
    assert (result.accepted, result.method) == (Support.SUPPORTED, "GET")


def assert_engine_timed_a_full_handshake(result: EarlyDataResult) -> None:
    """The engine's own full handshake, flight by flight, next to the reference client's."""
    flights = [(flight.direction.value, flight.messages) for flight in result.engine_flights]
    assert flights == [
        ("client", ("ClientHello",)),
        ("server", ("ServerHello", "EncryptedExtensions", "Certificate", "CertificateVerify",
                    "Finished")),
        ("client", ("ChangeCipherSpec", "Finished")),
    ]  # fmt: skip
    assert result.engine_handshake_ms is not None
    assert result.reference_handshake_ms is not None
    timing = result.timing
    assert (timing.full_round_trips, timing.resumed_round_trips) == (2, 2)
    assert timing.full_handshake_ms is not None
    assert timing.resumed_ms is not None


def rejected(what: str, how: str) -> ReplayCheck:
    return ReplayCheck(
        tested=True,
        early_data_accepted=False,
        served=False,
        status=None,
        note=f"{what}: early data rejected ({how}); the request was discarded unread",
    )


def served_again(what: str) -> ReplayCheck:
    return ReplayCheck(
        tested=True,
        early_data_accepted=True,
        served=True,
        status=200,
        note=f"{what}: early data accepted and the request served again (HTTP 200)",
    )


def test_s_server_with_anti_replay_accepts_0rtt_once(pki: TestPKI) -> None:
    # Given s_server accepting early data, with its default anti-replay
    with OpenSSLServer(pki.ecdsa_p256, "-early_data", www=False) as server:
        # When the probe runs
        outcome = early_data_outcome(server.port, pki)
    result = result_of(outcome)
    # Then the tickets offer 16 KiB of early data, and the 0-RTT GET is accepted and answered
    assert_accepted_with_tickets_of_16k(result)
    assert result.status == 200
    assert result.timing.zero_rtt_ms is not None
    # And both replays fall back to a full handshake: the early request is dropped unread
    assert result.exact_replay == rejected("exact replay", "full handshake")
    assert result.ticket_reuse == rejected("ticket reuse", "full handshake")
    # And without --unsafe-probes no POST was sent
    assert (result.too_early, result.too_early_status) == ("not_tested", None)
    # And s_server saw 5 requests: the timed connection's, 2 full, resumed, 0-RTT; no replay
    assert server.requests_answered == 5
    assert_engine_timed_a_full_handshake(result)
    assert outcome.connections == CONNECTIONS_ACCEPTED


def test_one_ticket_goes_to_0rtt_and_the_resumption_waits_for_a_new_one(pki: TestPKI) -> None:
    # Given s_server accepting early data and sending one TLS 1.3 ticket per handshake
    with OpenSSLServer(pki.ecdsa_p256, "-early_data", "-num_tickets", "1", www=False) as server:
        outcome = early_data_outcome(server.port, pki)
    result = result_of(outcome)
    # Then the 0-RTT request took the first handshake's only ticket and was accepted
    assert_accepted_with_tickets_of_16k(result)
    assert result.status == 200
    # And the PSK resumption still ran, on a ticket of the second full handshake, and resumed
    assert result.timing.resumed_round_trips == 2
    assert result.timing.resumed_ms is not None
    # And the replays were rejected as with two tickets
    assert result.exact_replay == rejected("exact replay", "full handshake")
    assert result.ticket_reuse == rejected("ticket reuse", "full handshake")
    # And s_server saw 5 requests: the timed connection's, 2 full, 0-RTT, resumed
    assert server.requests_answered == 5
    assert outcome.connections == CONNECTIONS_ACCEPTED


def held_for_finished(what: str) -> ReplayCheck:
    return ReplayCheck(
        tested=True,
        early_data_accepted=True,
        served=False,
        status=200,
        note=f"{what}: early data accepted, but the answer (HTTP 200) waited for our Finished, "
        "which a replaying attacker cannot send",
    )


def test_s_server_without_anti_replay_accepts_both_replays(pki: TestPKI) -> None:
    # Given s_server accepting early data with anti-replay off (the lab answers each request
    # only once the handshake is complete)
    with OpenSSLServer(pki.ecdsa_p256, "-early_data", "-no_anti_replay", www=False) as server:
        outcome = early_data_outcome(server.port, pki)
    result = result_of(outcome)
    # Then the byte-identical first flight and the reused ticket are both accepted, but the
    # answers waited for our (held back) Finished: accepted, not served to a replayer
    assert_accepted_with_tickets_of_16k(result)
    assert result.exact_replay == held_for_finished("exact replay")
    assert result.ticket_reuse == held_for_finished("ticket reuse")
    # And s_server saw 7 requests: the timed connection's, 2 full, resumed, 0-RTT, 2 replays
    assert server.requests_answered == 7
    assert outcome.connections == CONNECTIONS_ACCEPTED


def test_nginx_early_data_serves_a_replayed_get_again(pki: TestPKI) -> None:
    # Given nginx 1.22 with ssl_early_data on (it keeps no anti-replay state)
    with nginx(pki, "ssl_early_data on;") as server:
        outcome = early_data_outcome(server.port, pki)
    result = result_of(outcome)
    # Then 0-RTT is accepted and the GET answered from early data
    assert_accepted_with_tickets_of_16k(result)
    assert result.status == 200
    # And the exact replay is served a second time: 200 again
    assert result.exact_replay == served_again("exact replay")
    assert result.exact_replay.status == 200
    # And so is the same ticket in a new ClientHello
    assert result.ticket_reuse == served_again("ticket reuse")
    assert (result.too_early, result.too_early_status) == ("not_tested", None)
    assert_engine_timed_a_full_handshake(result)
    assert outcome.connections == CONNECTIONS_ACCEPTED


def test_nginx_without_early_data_does_not_offer_it(pki: TestPKI) -> None:
    # Given nginx with tickets but without ssl_early_data
    with nginx(pki) as server:
        outcome = early_data_outcome(server.port, pki)
    result = result_of(outcome)
    # Then its tickets allow no early data, so nothing was sent as 0-RTT or replayed
    assert (result.offered, result.max_early_data_bytes) == (Support.NOT_SUPPORTED, 0)
    assert (result.accepted, result.status) == (Support.NOT_TESTED, None)
    not_offered = ReplayCheck(
        tested=False,
        early_data_accepted=None,
        served=None,
        status=None,
        note="not tested: the server's tickets allow no early data",
    )
    assert (result.exact_replay, result.ticket_reuse) == (not_offered, not_offered)
    assert (result.timing.zero_rtt_ms, result.timing.zero_rtt_round_trips) == (None, None)
    assert (result.too_early, result.too_early_status) == ("not_tested", None)
    # And the full and resumed first bytes are still measured
    assert_engine_timed_a_full_handshake(result)
    assert outcome.connections == CONNECTIONS_NOT_OFFERED


def test_gnutls_takes_a_reused_ticket_but_not_a_replayed_flight(pki: TestPKI) -> None:
    # Given gnutls-serv --earlydata, alone in a network namespace
    with GnutlsServerInNamespace(pki.ecdsa_p256, "NORMAL", "--earlydata") as server:
        outcome = server.call_inside(lambda: early_data_outcome(server.port, pki))
    result = result_of(outcome)
    # Then 0-RTT is accepted, but its HTTP mode never answers a request sent as early data
    assert_accepted_with_tickets_of_16k(result)
    assert (result.status, result.timing.zero_rtt_ms) == (None, None)
    # And the same ticket in a new ClientHello is accepted with early data again
    assert result.ticket_reuse == ReplayCheck(
        tested=True,
        early_data_accepted=True,
        served=False,
        status=None,
        note="ticket reuse: early data accepted, no answer read: none came within 1.0 s",
    )
    # And the byte-identical flight resumes, but its early data is rejected
    assert result.exact_replay == rejected("exact replay", "resumed")
    assert outcome.connections == CONNECTIONS_ACCEPTED


def test_a_tls12_only_server_is_not_applicable(pki: TestPKI) -> None:
    # Given nginx speaking TLS 1.2 only
    with nginx(pki, "ssl_early_data on;", protocols="TLSv1.2") as server:
        outcome = early_data_outcome(server.port, pki)
    # Then the probe is skipped, saying why, without a connection of its own
    assert outcome.status is ProbeStatus.SKIPPED
    assert outcome.skip_reason == "TLSv1.3 is not offered by the server"
    assert outcome.connections == 0


# -- RFC 8470, with --unsafe-probes ---------------------------------------------------------


def test_rfc8470_nginx_answers_425_to_an_early_post(pki: TestPKI) -> None:
    # Given nginx sending 425 Too Early for a POST in early data
    with nginx(pki, f"ssl_early_data on; {NGINX_425_FOR_EARLY_POST}") as server:
        # When the probe runs with --unsafe-probes
        outcome = early_data_outcome(server.port, pki, unsafe_probes=True)
    result = result_of(outcome)
    # Then the POST is answered 425, while GET is still served from early data
    assert (result.too_early, result.too_early_status) == ("425", 425)
    assert (result.accepted, result.status) == (Support.SUPPORTED, 200)
    assert outcome.connections == CONNECTIONS_UNSAFE


def test_rfc8470_nginx_serves_an_early_post_from_early_data(pki: TestPKI) -> None:
    # Given nginx with ssl_early_data on and nothing in front of its handler
    with nginx(pki, "ssl_early_data on;") as server:
        outcome = early_data_outcome(server.port, pki, unsafe_probes=True)
    result = result_of(outcome)
    # Then the POST is answered while our Finished is still held back: served from early data
    assert (result.too_early, result.too_early_status) == ("served", 200)
    assert outcome.connections == CONNECTIONS_UNSAFE


def test_rfc8470_s_server_answers_an_early_post_only_after_the_handshake(pki: TestPKI) -> None:
    # Given s_server, which hands requests on only once the handshake is complete
    with OpenSSLServer(pki.ecdsa_p256, "-early_data", www=False) as server:
        outcome = early_data_outcome(server.port, pki, unsafe_probes=True)
    result = result_of(outcome)
    # Then nothing came while our Finished was held back; the answer followed it
    assert (result.too_early, result.too_early_status) == ("held", 200)
    assert outcome.connections == CONNECTIONS_UNSAFE


# -- Timing through the delay proxy ---------------------------------------------------------


def assert_in_band(measured_ms: float | None, round_trips: int) -> None:
    """At least N RTTs (physics), and less than N + 0.9 (no hidden extra round trip)."""
    assert measured_ms is not None
    assert round_trips * RTT_MS <= measured_ms < (round_trips + BAND_SLACK) * RTT_MS


def test_0rtt_saves_a_round_trip_on_nginx(pki: TestPKI) -> None:
    # Given nginx accepting early data behind a proxy adding 25 ms each way
    with (
        nginx(pki, "ssl_early_data on;") as server,
        DelayProxy("127.0.0.1", server.port, one_way_delay_ms=ONE_WAY_DELAY_MS) as proxy,
    ):
        outcome = early_data_outcome(proxy.port, pki)
    result = result_of(outcome)
    timing = result.timing
    # Then a full handshake or a resumption costs 2 round trips to the first response byte
    assert (timing.full_round_trips, timing.resumed_round_trips) == (2, 2)
    assert_in_band(timing.full_handshake_ms, 2)
    assert_in_band(timing.resumed_ms, 2)
    # And 0-RTT just 1: the request left with the ClientHello
    assert timing.zero_rtt_round_trips == 1
    assert_in_band(timing.zero_rtt_ms, 1)
    # And the engine's full handshake takes 1 round trip, like the reference client's
    assert_in_band(result.engine_handshake_ms, 1)
    assert_in_band(result.reference_handshake_ms, 1)


def test_0rtt_answered_after_the_handshake_saves_nothing(pki: TestPKI) -> None:
    # Given s_server, which accepts early data but answers only after the handshake
    with (
        OpenSSLServer(pki.ecdsa_p256, "-early_data", www=False) as server,
        DelayProxy("127.0.0.1", server.port, one_way_delay_ms=ONE_WAY_DELAY_MS) as proxy,
    ):
        outcome = early_data_outcome(proxy.port, pki)
    result = result_of(outcome)
    # Then the 0-RTT request is accepted but its answer waited for our Finished: 2 round trips
    assert result.accepted is Support.SUPPORTED
    assert result.timing.zero_rtt_round_trips == 2
    # And it came 2 RTTs or more after connecting. No upper band: s_server writes its ticket
    # and the answer as two small segments without TCP_NODELAY, so Nagle holds the answer
    # until the proxy's delayed ACK (up to 40 ms on Linux) releases it.
    zero_rtt_ms = result.timing.zero_rtt_ms
    assert zero_rtt_ms is not None
    assert zero_rtt_ms >= 2 * RTT_MS


# -- psk_ke (the resumption probe, through the engine) --------------------------------------


@pytest.mark.parametrize(
    ("arguments", "psk_ke"),
    [
        pytest.param((), Support.NOT_SUPPORTED, id="default-missing-extension"),
        pytest.param(("-allow_no_dhe_kex",), Support.SUPPORTED, id="allow-no-dhe-kex"),
    ],
)
def test_psk_ke_resumption_without_key_exchange(
    pki: TestPKI, arguments: tuple[str, ...], psk_ke: Support
) -> None:
    # Given s_server, by default refusing PSK-only resumption (missing_extension)
    with OpenSSLServer(pki.ecdsa_p256, *arguments) as server:
        context = make_context(server.port, ca_file=pki.root_path)
        context.outcomes[ProbeId.VERSIONS] = run_probe(VersionsProbe(), context)
        # When the resumption probe runs
        outcome = run_probe(ResumptionProbe(), context)
    assert outcome.status is ProbeStatus.COMPLETED, outcome.error
    assert isinstance(outcome.result, ResumptionResult)
    # Then psk_ke is accepted only where -allow_no_dhe_kex allows it; psk_dhe_ke either way
    assert outcome.result.psk_ke is psk_ke
    assert outcome.result.psk_dhe_ke is Support.SUPPORTED
    assert outcome.connections == RESUMPTION_CONNECTIONS_WITH_PSK_KE
