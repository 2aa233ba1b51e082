"""TLS 1.3 0-RTT early data, with our own TLS 1.3 engine: offered, accepted, what it saves to the
first response byte, and whether the early request can be replayed (RFC 8446 §2.3, §4.2.10, §8).

No stock client can send early data or resend a first flight byte for byte, so every connection
here is the engine's (``net.tls_driver``). One connection per step, in three waves; the steps of
a wave run side by side:

1. Full handshake + request: the engine's flights and handshake time, and the tickets
   (``max_early_data_size`` > 0 in a ticket: 0-RTT offered). OpenSSL servers send two.
2. At once, each on a ticket of its own:
   a. another full handshake + request: the full first-byte time;
   b. PSK resumption + request (no early data): the resumed first-byte time;
   c. PSK + the request as early data: accepted? (early_data in EncryptedExtensions), its status
      and the 0-RTT first-byte time. Rejected early data is lost (RFC 8446 §4.2.10): the request
      is sent again after the handshake, and that answer counts for the time.
3. Only when 2c's early data was accepted, at once:
   a. exact replay (OpenSSL servers allow about 10 s of ticket-age skew): a second engine built
      from the very same ``ClientParams`` writes 2c's byte-identical first flight on a new
      connection, completes the handshake and reads the answer;
   b. ticket reuse: 2c's ticket in a new ClientHello with the same early request;
   c. RFC 8470, only with ``--unsafe-probes``: ``POST`` with an empty body as early data, our
      Finished held back a while to see whether the server answers before the handshake is
      complete.

The chain full handshake -> 0-RTT -> replay is inherent: a replay needs a flight the server took,
which needs a ticket. What does not depend on another step runs beside it: the three first-byte
times are measured at once, under the same load (this probe runs alongside the others), and the
two replays and the POST, which only need 2c to be over, run together. Before, the six steps ran
one after the other, alone at the end of the scan, with the full first-byte time taken from
step 1: now that comes from 2a, made beside 2b and 2c. Round trips, counted from the flights, do
not depend on load and are what verdicts rest on; the one judgement that needs a clock (did the
answer to early data wait for our Finished?) is made against the shortest handshake round trip
seen, as a busy server answers a ClientHello late (``_early_answer_round_trips``).

Only GET or HEAD (``--method``) ever travels as early data, except 3c; no request carries a
body. A ticket is used once per step (servers with anti-replay accept a ticket once: RFC 8446
§8.1), except where reusing it is the test, which follows the first use. Each ticket's age is
measured from the read that brought it (GnuTLS refuses 0-RTT when the age is overstated). When a
server sends a single ticket, 2c gets it and 2b waits for wave 3, on a ticket from wave 2.

An answer to early data is waited for a bounded time after the handshake (at least 1 s, more for
a server slow to answer the timed connection): a server may accept early data and never answer
it (gnutls-serv --http does), which then shows as accepted with no status, not as a probe stuck
for the whole phase timeout.

Connections (depth in waves): 1 when no TLS 1.3 ticket comes (1), 3 when the tickets allow no
early data (2), 4 when the 0-RTT request is rejected (2), 6 when it is accepted (3), 7 with
``--unsafe-probes`` (3).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from httpsaudit.errors import (
    AlertReceived,
    ConnectionLost,
    HttpsAuditError,
    Phase,
    PhaseTimeout,
    Unsupported,
)
from httpsaudit.net.clock import now_ns
from httpsaudit.net.http1 import build_request
from httpsaudit.net.tls_driver import (
    EngineConnection,
    EngineHandshake,
    EngineResponse,
    ReceivedTicket,
)
from httpsaudit.probes.base import ProbeContext, ProbeFailed
from httpsaudit.results import (
    EarlyDataResult,
    FirstByteTiming,
    ProbeId,
    ReplayCheck,
    Support,
    VersionsResult,
)
from httpsaudit.tls.client import ClientConnection, ClientParams
from httpsaudit.tls.codes import ProtocolVersion

# We speak HTTP/1.1; a ticket carries the ALPN of its connection, and 0-RTT must repeat it.
ALPN = ("http/1.1",)
# Methods safe to send as early data (RFC 8470 §2: only what may be replayed).
SAFE_METHODS = ("GET", "HEAD")
# RFC 8470 §5.2: 425 Too Early, the server's way of declining a request sent in early data.
TOO_EARLY_STATUS = 425
# How long an answer to early data is waited for after the handshake: a server that accepts
# early data but never answers it (gnutls-serv --http) must not cost the whole phase timeout.
# At least this long, or this many times the timed connection's own time to first byte.
EARLY_ANSWER_MIN_WAIT_S = 1.0
EARLY_ANSWER_TTFB_FACTOR = 4
# close_notify needs no more than this (servers drop sessions closed without it).
CLOSE_TIMEOUT_S = 1.0

# Steps of one wave run side by side: at most 3 (the two replays and the POST).
WAVE_WORKERS = 3

TOO_EARLY_NOT_TESTED = "not_tested"
ResultT = TypeVar("ResultT")
NOT_ACCEPTED_NOTE = "not tested: the server did not accept 0-RTT early data"
NOT_OFFERED_NOTE = "not tested: the server's tickets allow no early data"
NO_TICKET_NOTE = "not tested: no TLS 1.3 ticket to resume with"


@dataclass(slots=True)
class _Measured:
    """What the probe measured so far: enough for a partial result when a step fails."""

    method: str
    offered: Support = Support.NOT_TESTED
    max_early_data_bytes: int | None = None
    accepted: Support = Support.NOT_TESTED
    status: int | None = None
    full: EngineResponse | None = None
    resumed: EngineResponse | None = None
    zero_rtt: EngineResponse | None = None
    ticket_reuse: ReplayCheck = field(default_factory=lambda: _not_tested(NOT_ACCEPTED_NOTE))
    exact_replay: ReplayCheck = field(default_factory=lambda: _not_tested(NOT_ACCEPTED_NOTE))
    too_early: str = TOO_EARLY_NOT_TESTED
    too_early_status: int | None = None
    engine: EngineHandshake | None = None
    reference_handshake_ms: float | None = None

    def result(self) -> EarlyDataResult:
        return EarlyDataResult(
            offered=self.offered,
            max_early_data_bytes=self.max_early_data_bytes,
            accepted=self.accepted,
            method=self.method,
            status=self.status,
            timing=FirstByteTiming(
                full_handshake_ms=_first_byte_ms(self.full),
                full_round_trips=_round_trips(self.full),
                resumed_ms=_first_byte_ms(self.resumed),
                resumed_round_trips=_round_trips(self.resumed),
                zero_rtt_ms=_first_byte_ms(self.zero_rtt),
                zero_rtt_round_trips=_round_trips(self.zero_rtt),
            ),
            ticket_reuse=self.ticket_reuse,
            exact_replay=self.exact_replay,
            too_early=self.too_early,
            too_early_status=self.too_early_status,
            engine_flights=self.engine.flights if self.engine is not None else (),
            engine_handshake_ms=self.engine.handshake_ms if self.engine is not None else None,
            reference_handshake_ms=self.reference_handshake_ms,
        )


@dataclass(frozen=True, slots=True)
class _Exchange:
    """One engine connection: its handshake, the answer (if one was read) and its tickets."""

    handshake: EngineHandshake
    response: EngineResponse | None
    tickets: tuple[ReceivedTicket, ...]


class EarlyDataProbe:
    """0-RTT offered, accepted, timed against full and resumed handshakes, and replayed."""

    probe_id = ProbeId.EARLY_DATA
    requires: tuple[ProbeId, ...] = (ProbeId.VERSIONS,)

    def run(self, context: ProbeContext) -> EarlyDataResult:
        versions = context.result_of(ProbeId.VERSIONS, VersionsResult)
        if ProtocolVersion.TLSv1_3.label not in versions.supported:
            raise Unsupported("TLSv1.3 is not offered by the server")
        method = context.options.method.upper()
        measured = _Measured(
            method=method if method in SAFE_METHODS else "GET",
            reference_handshake_ms=_reference_handshake_ms(context),
        )
        try:
            with concurrent.futures.ThreadPoolExecutor(WAVE_WORKERS, "early-data") as pool:
                _run_steps(context, pool, measured)
        except HttpsAuditError as exc:
            raise ProbeFailed(exc, measured.result()) from exc
        return measured.result()


def _run_steps(
    context: ProbeContext, pool: concurrent.futures.Executor, measured: _Measured
) -> None:
    """The three waves of the module docstring. A step that fails ends the probe once the other
    steps of its wave are in: what they measured stays in the partial result."""
    request = _request(context, measured.method)
    unused: list[ReceivedTicket] = []

    # 1. Full handshake + request, for tickets.
    first = _exchange(context, _params(context), request=request)
    measured.engine = first.handshake
    measured.full = first.response
    unused.extend(first.tickets)
    if not first.tickets:
        measured.ticket_reuse = measured.exact_replay = _not_tested(NO_TICKET_NOTE)
        return
    measured.max_early_data_bytes = first.tickets[0].ticket.max_early_data_size
    measured.offered = (
        Support.SUPPORTED if measured.max_early_data_bytes > 0 else Support.NOT_SUPPORTED
    )
    offered = measured.offered is Support.SUPPORTED
    early_ticket = _next_ticket(unused, len(request)) if offered else None
    resume_ticket = unused.pop(0) if unused else None

    # 2. Full, resumed and 0-RTT first-byte times, side by side, each on a ticket of its own.
    full = pool.submit(_full_step, context, request)
    resumed = _submit(pool, _resumed_step, context, resume_ticket, request)
    zero_rtt = _submit(pool, _zero_rtt_step, context, early_ticket, request)
    full_answer, resumed_answer, zero_rtt_answer = (
        _outcome(full),
        _outcome(resumed),
        _outcome(zero_rtt),
    )
    if isinstance(full_answer, _Exchange):
        measured.full = full_answer.response
        unused.extend(full_answer.tickets)
    if isinstance(resumed_answer, _Exchange):
        _take_resumed(measured, resumed_answer)
        unused.extend(resumed_answer.tickets)
    if isinstance(zero_rtt_answer, _EarlyAttempt):
        _take_zero_rtt(measured, zero_rtt_answer, _rtt_floor_ns(measured, first))
        if zero_rtt_answer.exchange is not None:
            unused.extend(zero_rtt_answer.exchange.tickets)
    _raise_first(full_answer, resumed_answer, zero_rtt_answer)
    if not offered:
        measured.ticket_reuse = measured.exact_replay = _not_tested(NOT_OFFERED_NOTE)
    elif early_ticket is None:
        measured.ticket_reuse = measured.exact_replay = _not_tested(NO_TICKET_NOTE)

    # 3. The replays of an accepted 0-RTT flight and the RFC 8470 POST; the PSK resumption
    # when the server's one ticket went to 0-RTT.
    late_ticket = unused.pop(0) if resume_ticket is None and unused else None
    late_resumed = _submit(pool, _resumed_step, context, late_ticket, request)
    exact = reuse = post = None
    if measured.accepted is Support.SUPPORTED and isinstance(zero_rtt_answer, _EarlyAttempt):
        exact = pool.submit(_replay, context, zero_rtt_answer.params, "exact replay")
        reuse = _submit(pool, _reuse_step, context, early_ticket, request)
        if context.options.unsafe_probes:
            post_request = _request(context, "POST", empty_body=True)
            post_ticket = _next_ticket(unused, len(post_request))
            post = _submit(pool, _too_early_step, context, post_ticket, post_request)
    late_answer, exact_answer, reuse_answer, post_answer = (
        _outcome(late_resumed),
        _outcome(exact),
        _outcome(reuse),
        _outcome(post),
    )
    if isinstance(late_answer, _Exchange):
        _take_resumed(measured, late_answer)
    if isinstance(exact_answer, ReplayCheck):
        measured.exact_replay = exact_answer
    if isinstance(reuse_answer, ReplayCheck):
        measured.ticket_reuse = reuse_answer
    if isinstance(post_answer, tuple):
        measured.too_early, measured.too_early_status = post_answer
    _raise_first(late_answer, exact_answer, reuse_answer, post_answer)


# -- The steps of waves 2 and 3 --------------------------------------------------------------
# Each makes its parameters in the worker, right before connecting: a ticket's age is its own.


@dataclass(frozen=True, slots=True)
class _EarlyAttempt:
    """The 0-RTT step: its parameters (an exact replay repeats them) and what came of them;
    no exchange when the server refused the hello itself."""

    params: ClientParams
    exchange: _Exchange | None


def _full_step(context: ProbeContext, request: bytes) -> _Exchange:
    return _exchange(context, _params(context), request=request)


def _resumed_step(
    context: ProbeContext, ticket: ReceivedTicket, request: bytes
) -> _Exchange | None:
    params = _params(context, ticket)
    return _refused_or(lambda: _exchange(context, params, request=request))


def _zero_rtt_step(context: ProbeContext, ticket: ReceivedTicket, request: bytes) -> _EarlyAttempt:
    params = _params(context, ticket, early_data=request)
    return _EarlyAttempt(
        params, _refused_or(lambda: _early_exchange(context, params, resend=request))
    )


def _reuse_step(context: ProbeContext, ticket: ReceivedTicket, request: bytes) -> ReplayCheck:
    return _replay(context, _params(context, ticket, early_data=request), "ticket reuse")


def _too_early_step(
    context: ProbeContext, ticket: ReceivedTicket, post: bytes
) -> tuple[str, int | None]:
    return _too_early(context, _params(context, ticket, early_data=post))


def _submit(
    pool: concurrent.futures.Executor,
    step: Callable[[ProbeContext, ReceivedTicket, bytes], ResultT],
    context: ProbeContext,
    ticket: ReceivedTicket | None,
    request: bytes,
) -> concurrent.futures.Future[ResultT] | None:
    """The step started on ``ticket``; None (not run) without a ticket."""
    return None if ticket is None else pool.submit(step, context, ticket, request)


def _outcome(
    future: concurrent.futures.Future[ResultT] | None,
) -> ResultT | HttpsAuditError | None:
    """A step's answer once it is in, its error, or None when it never ran."""
    if future is None:
        return None
    try:
        return future.result()
    except HttpsAuditError as exc:
        return exc


def _raise_first(*answers: object) -> None:
    """The first step that failed ends the probe, its wave's other answers already taken."""
    for answer in answers:
        if isinstance(answer, HttpsAuditError):
            raise answer


def _take_resumed(measured: _Measured, resumed: _Exchange | None) -> None:
    if resumed is not None and resumed.handshake.resumed:
        measured.resumed = resumed.response


def _take_zero_rtt(measured: _Measured, attempt: _EarlyAttempt, rtt_floor_ns: int) -> None:
    zero_rtt = attempt.exchange
    if zero_rtt is None:
        measured.accepted = Support.NOT_SUPPORTED  # the 0-RTT hello itself was refused
        return
    measured.accepted = (
        Support.SUPPORTED if zero_rtt.handshake.early_data_accepted else Support.NOT_SUPPORTED
    )
    if zero_rtt.response is not None:
        measured.status = zero_rtt.response.head.status
        measured.zero_rtt = _early_answer_round_trips(zero_rtt, rtt_floor_ns)


def _rtt_floor_ns(measured: _Measured, first: _Exchange) -> int:
    """The shortest handshake round trip seen: the timed connection's (made alone) when it was
    TLS 1.3, and this probe's first handshake's."""
    first_rtt_ns = first.handshake.first_server_byte_ns - first.handshake.first_flight_sent_ns
    reference_ms = measured.reference_handshake_ms
    if reference_ms is None:
        return first_rtt_ns
    return min(first_rtt_ns, int(reference_ms * 1_000_000))


def _early_answer_round_trips(zero_rtt: _Exchange, rtt_floor_ns: int) -> EngineResponse | None:
    """The answer to an accepted early request, which waited for our Finished (2 round trips)
    when it came half a round trip or more after our Finished left.

    The engine judges that against this connection's own handshake round trip. A server busy
    with other connections (this probe's steps side by side, the scan's other probes, a server
    that serves one connection at a time) answers this ClientHello late, which makes that round
    trip look long and an answer that waited look as if it had not. The shortest round trip
    the scan saw is the fair yardstick.
    """
    response, handshake = zero_rtt.response, zero_rtt.handshake
    if response is None or not handshake.early_data_accepted or response.round_trips != 1:
        return response
    own_rtt_ns = handshake.first_server_byte_ns - handshake.first_flight_sent_ns
    half_rtt_ns = min(own_rtt_ns, rtt_floor_ns) // 2
    # Without a held Finished, the handshake completed when our Finished left.
    if response.first_byte_ns - handshake.completed_ns >= half_rtt_ns:
        return dataclasses.replace(response, round_trips=2)
    return response


# -- One connection --------------------------------------------------------------------------


def _exchange(context: ProbeContext, params: ClientParams, *, request: bytes) -> _Exchange:
    """A handshake, then ``request`` and its response head (tickets come before it)."""
    engine = ClientConnection(params)
    with context.tcp() as transport:
        connection = EngineConnection(transport, engine)
        try:
            handshake = connection.handshake(context.phase_deadline())
            response: EngineResponse | None = None
            try:
                response = connection.request(request, context.phase_deadline())
            except HttpsAuditError as exc:
                # The handshake stands and tickets may have come: no answer, no first-byte time.
                _stop_if_out_of_time(context, exc)
            return _Exchange(handshake, response, connection.tickets)
        finally:
            connection.close(context.deadline.child(CLOSE_TIMEOUT_S))


def _early_exchange(context: ProbeContext, params: ClientParams, *, resend: bytes) -> _Exchange:
    """The first flight carries the request; rejected early data means sending it again."""
    engine = ClientConnection(params)
    with context.tcp() as transport:
        connection = EngineConnection(transport, engine)
        try:
            handshake = connection.handshake(context.phase_deadline())
            try:
                if handshake.early_data_accepted:
                    response = _early_answer(context, connection, handshake)
                else:
                    # RFC 8446 §4.2.10: the server skipped our early data; it never saw the
                    # request, so it goes again, and its answer still counts for the time.
                    response = connection.request(resend, context.phase_deadline())
            except HttpsAuditError as exc:
                _stop_if_out_of_time(context, exc)
                return _Exchange(handshake, None, connection.tickets)
            return _Exchange(handshake, response, connection.tickets)
        finally:
            connection.close(context.deadline.child(CLOSE_TIMEOUT_S))


def _early_answer(
    context: ProbeContext,
    connection: EngineConnection,
    handshake: EngineHandshake,
    *,
    hold_finished: bool = False,
) -> EngineResponse:
    """The answer to the request that left with the first flight, waited for a bounded time
    after the handshake (after our held-back Finished, when it is held back first)."""
    wait_s = _early_answer_wait_s(context)
    deadline = context.phase_deadline()
    return connection.read_response_head(
        deadline.child(2 * wait_s if hold_finished else wait_s),
        sent_ns=handshake.first_flight_sent_ns,
        round_trips_before=0,
        finished_wait=deadline.child(wait_s) if hold_finished else None,
    )


def _early_answer_wait_s(context: ProbeContext) -> float:
    return max(EARLY_ANSWER_MIN_WAIT_S, EARLY_ANSWER_TTFB_FACTOR * _reference_ttfb_s(context))


def _replay(context: ProbeContext, params: ClientParams, what: str) -> ReplayCheck:
    """A 0-RTT first flight from ``params`` on a new connection, the early request's answer
    read when the server took the early data.

    Our Finished is held back first, as a replaying attacker (who has no keys) can never send
    it: only an answer that came before it counts as served. An answer that waited for the
    Finished was held until the handshake completed, which an attacker cannot make happen.
    """
    engine = ClientConnection(params)
    with context.tcp() as transport:
        connection = EngineConnection(transport, engine)
        try:
            try:
                handshake = connection.handshake(context.phase_deadline(), hold_finished=True)
            except (AlertReceived, ConnectionLost) as exc:
                # A refusal is an answer: nothing was accepted, nothing served.
                _stop_if_out_of_time(context, exc)
                return ReplayCheck(True, False, False, None, f"{what} refused: {exc.message}")
            except PhaseTimeout as exc:
                _stop_if_out_of_time(context, exc)
                return ReplayCheck(True, None, None, None, f"{what} not answered: {exc.message}")
            if not handshake.early_data_accepted:
                how = "resumed" if handshake.resumed else "full handshake"
                return ReplayCheck(
                    True,
                    False,
                    False,
                    None,
                    f"{what}: early data rejected ({how}); the request was discarded unread",
                )
            try:
                response = _early_answer(context, connection, handshake, hold_finished=True)
            except HttpsAuditError as exc:
                _stop_if_out_of_time(context, exc)
                why = (
                    f"none came within {_early_answer_wait_s(context):.1f} s"
                    if isinstance(exc, PhaseTimeout)
                    else exc.message
                )
                return ReplayCheck(
                    True, True, False, None, f"{what}: early data accepted, no answer read: {why}"
                )
            status = response.head.status
            if status == TOO_EARLY_STATUS:
                note = f"{what}: early data accepted, answered 425 Too Early (RFC 8470)"
                return ReplayCheck(True, True, False, status, note)
            if not response.before_finished:
                note = (
                    f"{what}: early data accepted, but the answer (HTTP {status}) waited for "
                    "our Finished, which a replaying attacker cannot send"
                )
                return ReplayCheck(True, True, False, status, note)
            note = f"{what}: early data accepted and the request served again (HTTP {status})"
            return ReplayCheck(True, True, True, status, note)
        finally:
            connection.close(context.deadline.child(CLOSE_TIMEOUT_S))


def _too_early(context: ProbeContext, params: ClientParams) -> tuple[str, int | None]:
    """RFC 8470 §3: a non-idempotent request in early data, our Finished held back for the
    early-answer wait. An answer in that time came from early data alone ("served"); one only
    after our Finished was held until the handshake completed ("held")."""
    engine = ClientConnection(params)
    with context.tcp() as transport:
        connection = EngineConnection(transport, engine)
        try:
            try:
                handshake = connection.handshake(context.phase_deadline(), hold_finished=True)
            except (AlertReceived, ConnectionLost) as exc:
                _stop_if_out_of_time(context, exc)
                return "rejected", None
            if not handshake.early_data_accepted:
                return "rejected", None
            try:
                response = _early_answer(context, connection, handshake, hold_finished=True)
            except HttpsAuditError as exc:
                # Not answered at all, even after the handshake: not served from early data.
                _stop_if_out_of_time(context, exc)
                return "held", None
            status = response.head.status
            if status == TOO_EARLY_STATUS:
                return "425", status
            return ("served" if response.before_finished else "held"), status
        finally:
            connection.close(context.deadline.child(CLOSE_TIMEOUT_S))


# -- Helpers ---------------------------------------------------------------------------------


def _refused_or(step: Callable[[], _Exchange]) -> _Exchange | None:
    """Run a step; None when the server refused its handshake (an alert or a hang-up): a
    refusal is an answer, not a failure of the probe."""
    try:
        return step()
    except (AlertReceived, ConnectionLost) as exc:
        if exc.phase is not Phase.TLS:
            raise
        return None


def _params(
    context: ProbeContext,
    ticket: ReceivedTicket | None = None,
    *,
    early_data: bytes | None = None,
) -> ClientParams:
    """Fresh randoms and key shares, made before connecting so no key generation is timed;
    the ticket's age is its real one."""
    return ClientParams.generate(
        context.target.sni,
        alpn=ALPN,
        ticket=ticket.ticket if ticket is not None else None,
        ticket_age_ms=ticket.age_ms(now_ns()) if ticket is not None else 0,
        early_data=early_data,
    )


def _next_ticket(unused: list[ReceivedTicket], early_bytes: int) -> ReceivedTicket | None:
    """The oldest unused ticket that admits ``early_bytes`` of early data."""
    for index, ticket in enumerate(unused):
        if ticket.ticket.max_early_data_size >= early_bytes:
            return unused.pop(index)
    return None


def _request(context: ProbeContext, method: str, *, empty_body: bool = False) -> bytes:
    """The request as bytes; with ``empty_body`` it says ``Content-Length: 0`` (a POST without
    it is refused by some servers as 411 Length Required). No request ever carries a body."""
    target = context.target
    request = build_request(method, target.path, target.host_header)
    if empty_body:
        request = request[: -len(b"\r\n")] + b"Content-Length: 0\r\n\r\n"
    return request


def _not_tested(note: str) -> ReplayCheck:
    return ReplayCheck(tested=False, early_data_accepted=None, served=None, status=None, note=note)


def _first_byte_ms(response: EngineResponse | None) -> float | None:
    return response.first_byte_ms if response is not None else None


def _round_trips(response: EngineResponse | None) -> int | None:
    return response.round_trips if response is not None else None


def _reference_handshake_ms(context: ProbeContext) -> float | None:
    """The reference client's full handshake, when it was TLS 1.3 like ours."""
    outcome = context.connection
    result = outcome.result if outcome is not None else None
    tls = result.tls if result is not None else None
    if tls is None or tls.version_code != ProtocolVersion.TLSv1_3:
        return None
    return tls.handshake_ms


def _reference_ttfb_s(context: ProbeContext) -> float:
    outcome = context.connection
    result = outcome.result if outcome is not None else None
    http = result.http if result is not None else None
    return http.ttfb_ms / 1000 if http is not None else 0.0


def _stop_if_out_of_time(context: ProbeContext, exc: HttpsAuditError) -> None:
    """A step that failed because the scan's deadline passed ends the probe (partial result)."""
    if context.deadline.expired:
        raise exc
