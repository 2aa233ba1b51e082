"""Session resumption: Session ID, Session Ticket and TLS 1.3 PSK. Does each work, how reliably,
what does it save, and do the ticket keys stay put?

The three mechanisms run side by side, each in at most three waves of connections:

1. One full handshake, for a session to resume.
2. ``--resumption-attempts`` resumptions of that one session, all at once, next to one more full
   handshake: full and resumed times are then measured under the same load (this probe runs
   alongside the others), while round trips, counted from the wire, are what verdicts rest on.
   When the target has several addresses, the full handshakes the cross-address matrix starts
   from join this wave, and so does psk_ke's engine handshake for a ticket.
3. Only what needs wave 2's answers: the matrix's resumptions and the psk_ke resumption (where
   the mechanism resumed at all), and the TLS 1.3 attempts again when they disagreed (below).

Resuming one session many times at once is what TLS 1.2 clients do, and every lab server accepts
it in TLS 1.3 too (nginx with and without tickets or cache, ``s_server`` with and without
``-no_ticket``; the OpenSSL 4.0 client of cryptography 50 offers one session object any number of
times). A server with anti-replay (``s_server -early_data``) takes each TLS 1.3 ticket once
(RFC 8446 §8.1): one of the concurrent attempts resumes, the others fall back to a full
handshake. So when some TLS 1.3 attempts resumed and some did not, each attempt runs again on the
fresh ticket its own connection received, as a real client offers each ticket once (RFC 8446
§C.4), and those are the attempts counted; behind a balancer that picks backends at random, they
still sample it fairly (every one offers a ticket never offered before). Connections wait for a
slot under the per-address cap inside ``context.tcp``, so "at once" means as fast as it allows.

Before, every attempt resumed the session of the connection just before it: 1 + N connections in
a row per mechanism, three mechanisms in a row, and the probe ran alone at the end of the scan.
That chain was the long tail of a scan; the waves above are at most 3 connections deep.

Resumption is judged from the wire, never from session IDs: a resumed TLS 1.2 handshake has no
server Certificate message, a resumed TLS 1.3 ServerHello carries pre_shared_key. Every connection
is closed with close_notify (servers drop sessions that end without).

"Session Ticket resumption" means: resumed, and the session offered held a ticket the server
issued. A ticket-offering client whose server issues no ticket still resumes by Session ID; that
counts for ``session_id``, not here. Once the OpenSSL client holds a ticket it sends
SHA-256(ticket) as its session ID (RFC 5077 §3.4 lets it choose), so no server can resume that
session by ID: a resumption that offered a ticket is one by ticket.

TLS 1.3 tickets travel encrypted after the handshake: an HTTP request is sent (the server's
tickets come before its response), and the records read after the handshake are opened with the
server application traffic secret from OpenSSL's key log, to read each NewSessionTicket.

Connections, with N attempts and M cross-address addresses (M = 1 when the name has a single
address): per tested mechanism 1, and when its server offers a session to resume, N + 1 more
(up to N more for TLS 1.3 attempts that disagreed). When M >= 2, per mechanism offering sessions,
M - 1 full handshakes for TLS 1.2 (one per other address; the first handshake serves its own) and
(M - 1)² + M - 2 for TLS 1.3 (a ticket per pair, as tickets may be single-use; the extra full
handshake of wave 2 serves one pair), then M(M-1) resumptions where the mechanism resumed.
Default N = 5, one address: 21 connections; two addresses add 9 more.

``psk_ke`` (resumption without a fresh (EC)DHE exchange, so without forward secrecy) needs our
own TLS 1.3 engine (OpenSSL's client offers psk_dhe_ke only, and its tickets cannot be taken out
as plain data): when the server offers TLS 1.3 tickets, one engine handshake + request for a
ticket in wave 2, then, when TLS 1.3 PSK resumption worked, one resumption offering psk_ke alone.
2 more connections.
"""

from __future__ import annotations

import concurrent.futures
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from httpsaudit.errors import AlertReceived, ConnectionLost, HttpsAuditError, Phase
from httpsaudit.net import http1
from httpsaudit.net.openssl_client import ClientConfig, HandshakeRecord, OpenSSLConnection, Session
from httpsaudit.net.tls_driver import EngineConnection, ReceivedTicket
from httpsaudit.probes.base import ProbeContext, ProbeFailed
from httpsaudit.results import (
    CrossAddressResumption,
    Direction,
    ProbeId,
    ResumptionAttempts,
    ResumptionResult,
    Support,
    TicketFacts,
    VersionsResult,
)
from httpsaudit.tls.client import ClientConnection, ClientParams
from httpsaudit.tls.codec import Reader
from httpsaudit.tls.codes import HandshakeType, ProtocolVersion, PskKeyExchangeMode
from httpsaudit.tls.messages import (
    is_tls13,
    parse_new_session_ticket_tls12,
)
from httpsaudit.tls.tickets import read_post_handshake_tickets

# Addresses tried against each other: M addresses cost O(M²) connections per mechanism.
MAX_CROSS_ADDRESSES = 4
# RFC 5077 §4's recommended ticket layout: key_name(16) | IV(16) | encrypted state | MAC(32).
KEY_NAME_BYTES = 16
# Shortest ticket in that layout (one AES block of state): anything shorter, such as the
# 32-byte session-ID handle of a stateful TLS 1.3 ticket, has no key name to read.
MIN_SEALED_TICKET_BYTES = KEY_NAME_BYTES + 16 + 16 + 32
# NSS key log label of the server application traffic secret: a label, not a secret.
SERVER_TRAFFIC_SECRET_LABEL = "SERVER_TRAFFIC_SECRET_0"  # noqa: S105
# close_notify needs no more than this; the session is kept whatever happens.
CLOSE_TIMEOUT_S = 1.0
# The engine speaks HTTP/1.1, and a resumption repeats its ticket's ALPN.
ENGINE_ALPN = ("http/1.1",)

SESSION_ID = "session_id"
SESSION_TICKET = "session_ticket"
TLS13_PSK = "tls13_psk"

NO_TLS12_TICKET = "the server issued no session ticket (RFC 5077)"
ID_FALLBACK = "; a client offering tickets still resumes by Session ID"
DEADLINE_NOT_RUN = "not run: the scan's deadline passed"

Address = tuple[str, int]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Ticket:
    """One NewSessionTicket as the report needs it, TLS 1.2 or TLS 1.3."""

    lifetime_s: int
    ticket: bytes
    max_early_data_bytes: int | None

    @property
    def key_name(self) -> str | None:
        if len(self.ticket) < MIN_SEALED_TICKET_BYTES:
            return None
        return self.ticket[:KEY_NAME_BYTES].hex()


@dataclass(frozen=True, slots=True)
class _Tls13Tickets:
    """What the post-handshake records said: the tickets, or why they could not be read."""

    tickets: tuple[_Ticket, ...]
    problem: str | None


@dataclass(frozen=True, slots=True)
class _Handshake:
    """What one connection showed, judged from the wire."""

    version_code: int
    resumed: bool
    handshake_ms: float
    round_trips: int
    server_first_flight_bytes: int
    session_id_bytes: int
    key_share: bool  # the ServerHello carried a key share: a fresh (EC)DHE exchange
    tls12_ticket: _Ticket | None  # a NewSessionTicket in the handshake, empty ones excluded
    tls13: _Tls13Tickets | None
    session: Session | None

    @property
    def fresh_tls13_ticket(self) -> bool:
        """This connection brought a TLS 1.3 ticket of its own, never offered yet."""
        return self.tls13 is not None and bool(self.tls13.tickets)


# A connection's outcome: what it showed, or the error that ended it.
_Answer = _Handshake | HttpsAuditError
_Pending = concurrent.futures.Future[_Handshake]


@dataclass(frozen=True, slots=True)
class _Mechanism:
    """One way of resuming: the client variant that tests it, and the version it needs."""

    name: str
    version: ProtocolVersion
    config: ClientConfig

    @property
    def tls13(self) -> bool:
        return self.version is ProtocolVersion.TLSv1_3


@dataclass(slots=True)
class _Tally:
    """The counted attempts of one mechanism and the handshakes timed against them."""

    full: list[_Handshake] = field(default_factory=list)  # every full handshake: round trips
    full_beside: list[_Handshake] = field(default_factory=list)  # side by side with resumptions
    resumed: list[_Handshake] = field(default_factory=list)
    attempts: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Run:
    """Everything one mechanism measured; folded into its result once every mechanism ended."""

    mechanism: _Mechanism
    tally: _Tally = field(default_factory=_Tally)
    # Every handshake in a fixed order (the first full handshake first), and whether it counts
    # as a resumption attempt that resumed.
    seen: list[tuple[_Handshake, bool]] = field(default_factory=list)
    first_error: HttpsAuditError | None = None  # of the first full handshake
    refusal: str | None = None  # why no resumption was tried
    refusal_unknown: bool = False  # ... because the server negotiated another version
    out_of_time: HttpsAuditError | None = None
    started: bool = False  # the first full handshake went through
    cross_address: list[CrossAddressResumption] = field(default_factory=list)
    psk_ke: Support = Support.NOT_TESTED

    def saw(self, handshake: _Handshake, counted_resumed: bool) -> None:
        self.seen.append((handshake, counted_resumed))


class _OutOfTime(Exception):
    """The scan's deadline passed mid-probe: stop and report what was measured."""

    def __init__(self, error: HttpsAuditError) -> None:
        super().__init__(str(error))
        self.error = error


class ResumptionProbe:
    """Resumption by Session ID, Session Ticket and TLS 1.3 PSK, N times each, plus a matrix of
    resumption across the target's addresses."""

    probe_id = ProbeId.RESUMPTION
    requires: tuple[ProbeId, ...] = (ProbeId.VERSIONS,)

    def run(self, context: ProbeContext) -> ResumptionResult:
        versions = context.result_of(ProbeId.VERSIONS, VersionsResult)
        attempts = max(1, context.options.resumption_attempts)
        client = context.client
        http11 = ("http/1.1",)
        mechanisms = (
            _Mechanism(
                SESSION_ID,
                ProtocolVersion.TLSv1_2,
                client.variant(alpn=http11, max_version="TLSv1.2", tickets=False),
            ),
            _Mechanism(
                SESSION_TICKET,
                ProtocolVersion.TLSv1_2,
                client.variant(alpn=http11, max_version="TLSv1.2"),
            ),
            _Mechanism(TLS13_PSK, ProtocolVersion.TLSv1_3, client.variant(alpn=http11)),
        )
        tested = [m for m in mechanisms if m.version.label in versions.supported]
        addresses = context.all_addresses[:MAX_CROSS_ADDRESSES]
        runs = _run_side_by_side(context, tested, attempts, addresses)
        result = _result(mechanisms, runs, addresses)
        stopped = next((run.out_of_time for run in runs.values() if run.out_of_time), None)
        if stopped is not None:
            raise ProbeFailed(stopped, result) from stopped
        errors = [run.first_error for run in runs.values() if run.first_error is not None]
        folded = [getattr(result, mechanism.name) for mechanism in tested]
        if errors and all(entry.support is Support.UNKNOWN for entry in folded):
            # Not one full handshake went through: nothing was measured, so the probe failed.
            raise ProbeFailed(errors[0], result)
        return result


def _run_side_by_side(
    context: ProbeContext,
    mechanisms: Sequence[_Mechanism],
    attempts: int,
    addresses: Sequence[Address],
) -> dict[str, _Run]:
    """Each mechanism in a thread of its own; their connections share one pool, and the
    per-address cap (inside ``context.tcp``) keeps the total polite."""
    if not mechanisms:
        return {}
    workers = max(1, context.options.max_connections) * max(1, len(addresses))
    with (
        concurrent.futures.ThreadPoolExecutor(workers, "resumption") as pool,
        concurrent.futures.ThreadPoolExecutor(len(mechanisms), "resumption-mechanism") as runners,
    ):
        futures = [
            runners.submit(_run_mechanism, context, pool, mechanism, attempts, addresses)
            for mechanism in mechanisms
        ]
        return {run.mechanism.name: run for run in (future.result() for future in futures)}


# -- One mechanism ---------------------------------------------------------------------------


def _run_mechanism(
    context: ProbeContext,
    pool: concurrent.futures.Executor,
    mechanism: _Mechanism,
    attempts: int,
    addresses: Sequence[Address],
) -> _Run:
    run = _Run(mechanism)
    try:
        _waves(context, pool, run, attempts, addresses)
    except _OutOfTime as stop:
        run.out_of_time = stop.error
    return run


def _waves(
    context: ProbeContext,
    pool: concurrent.futures.Executor,
    run: _Run,
    attempts: int,
    addresses: Sequence[Address],
) -> None:
    """The three waves of one mechanism (see the module docstring)."""
    mechanism = run.mechanism
    # Wave 1: a full handshake, for a session.
    try:
        first = _connect(context, context.address, mechanism, None)
    except HttpsAuditError as exc:
        _stop_if_out_of_time(context, exc)
        run.first_error = exc
        return
    run.started = True
    run.saw(first, False)
    run.tally.full.append(first)
    run.refusal = _no_session_offered(mechanism, first)
    if run.refusal is not None:
        run.refusal_unknown = first.version_code != mechanism.version
        return

    def connect(address: Address, session: Session | None) -> _Pending:
        return pool.submit(_connect, context, address, mechanism, session)

    # Wave 2: the attempts, a full handshake beside them, the matrix's full handshakes and
    # psk_ke's ticket, all at once.
    beside = connect(context.address, None)
    tries = [connect(context.address, first.session) for _ in range(attempts)]
    sources = _matrix_sources(mechanism, addresses, first, beside, connect)
    engine = pool.submit(_engine_ticket, context) if mechanism.tls13 else None
    paired, *answers = _settle([beside, *tries])
    if isinstance(paired, _Handshake):
        run.saw(paired, False)
        run.tally.full.append(paired)
        run.tally.full_beside.append(paired)
    completed = [answer for answer in answers if isinstance(answer, _Handshake)]
    resumed = sum(handshake.resumed for handshake in completed)
    try:
        _stop_if_any_out_of_time(context, [paired, *answers])
    except _OutOfTime:
        _count(context, run, answers, answers)
        raise

    # Wave 3: what needed wave 2's answers.
    again: dict[int, _Pending] = {}
    if mechanism.tls13 and 0 < resumed < len(completed):
        # Some resumed, some not: perhaps single-use tickets (RFC 8446 §8.1), which a real
        # client never offers twice (§C.4). Each attempt again, on its own connection's ticket.
        again = {
            index: connect(context.address, answer.session)
            for index, answer in enumerate(answers)
            if isinstance(answer, _Handshake) and answer.fresh_tls13_ticket
        }
    if again:
        run.tally.notes.append(
            f"{resumed} of {len(answers)} attempts offering one ticket at once resumed (a "
            f"server may accept a ticket once, RFC 8446 §8.1): {len(again)} ran again, each on "
            "a ticket of its own"
        )
    fulls = _matrix_fulls(sources, beside, run)
    cells = _start_matrix_cells(mechanism, fulls, connect) if resumed else {}
    ticket: ReceivedTicket | HttpsAuditError | None = None
    psk_ke: concurrent.futures.Future[Support] | None = None
    if engine is not None and resumed:
        (ticket,) = _settle([engine])
        if isinstance(ticket, ReceivedTicket):
            psk_ke = pool.submit(_psk_ke_attempt, context, ticket)
        else:
            run.psk_ke = Support.UNKNOWN  # no engine ticket, though the reference client got some
    final: list[_Answer] = list(answers)
    reruns = _settle(list(again.values()))
    for index, answer in zip(again, reruns, strict=True):
        final[index] = answer
    _count(context, run, answers, final)
    if resumed:
        _finish_matrix_cells(context, mechanism, fulls, cells, run)
    (outcome,) = _settle([psk_ke]) if psk_ke is not None else (run.psk_ke,)
    run.psk_ke = outcome if isinstance(outcome, Support) else Support.UNKNOWN
    _stop_if_any_out_of_time(context, [*final, *fulls.values(), ticket, outcome])


def _count(
    context: ProbeContext, run: _Run, originals: Sequence[_Answer], final: Sequence[_Answer]
) -> None:
    """Tally the counted attempts (``final``); ``originals`` not in it are only seen. Once the
    scan's deadline has passed, a failed attempt is one cut short, not an answer."""
    tally = run.tally
    for number, (original, answer) in enumerate(zip(originals, final, strict=True), start=1):
        if original is not answer and isinstance(original, _Handshake):
            run.saw(original, False)
        if isinstance(answer, HttpsAuditError):
            if context.deadline.expired:
                continue
            # A refusal is an answer: this attempt did not resume.
            tally.attempts += 1
            tally.notes.append(f"attempt {number}: {answer}")
            continue
        tally.attempts += 1
        run.saw(answer, answer.resumed)
        if answer.resumed:
            tally.resumed.append(answer)
        else:
            tally.full.append(answer)
            tally.full_beside.append(answer)


def _no_session_offered(mechanism: _Mechanism, first: _Handshake) -> str | None:
    """Why resuming is pointless after this full handshake, or None to go on."""
    if first.version_code != mechanism.version:
        # The versions probe saw this version; the reference client did not get it.
        return (
            f"the server negotiated {_version_label(first.version_code)} with a client "
            f"offering {mechanism.version.label}"
        )
    if first.session is None:
        return "the client kept no session from the full handshake"
    if mechanism.name == SESSION_ID and first.session_id_bytes == 0:
        # RFC 5246 §7.4.1.3: an empty session_id means the session will not be cached.
        return "the server sent an empty Session ID: it keeps no session to resume"
    if mechanism.name == SESSION_TICKET and first.tls12_ticket is None:
        # RFC 5077 §3.2: a server that will not issue a ticket answers without the extension.
        return NO_TLS12_TICKET
    tls13 = first.tls13
    if mechanism.tls13 and tls13 is not None and tls13.problem is None and not tls13.tickets:
        return "the server sent no NewSessionTicket after the handshake"
    return None


def _never_resumed(mechanism: _Mechanism) -> str:
    if mechanism.name == SESSION_ID:
        return "the server sends a Session ID but never resumed it"
    if mechanism.name == SESSION_TICKET:
        return "the server issues tickets but never accepted one"
    return "the server sends tickets but never accepted one"


def _tls13_ticket_problem(seen: Sequence[tuple[_Handshake, bool]]) -> str | None:
    for handshake, _resumed in seen:
        if handshake.tls13 is not None and handshake.tls13.problem is not None:
            return handshake.tls13.problem
    return None


def _settle(futures: Sequence[concurrent.futures.Future[T]]) -> list[T | HttpsAuditError]:
    """Every future's value or project error, in order; waits for all (none is left running)."""
    outcomes: list[T | HttpsAuditError] = []
    for future in futures:
        try:
            outcomes.append(future.result())
        except HttpsAuditError as exc:
            outcomes.append(exc)
    return outcomes


def _stop_if_out_of_time(context: ProbeContext, exc: HttpsAuditError) -> None:
    if context.deadline.expired:
        raise _OutOfTime(exc) from exc


def _stop_if_any_out_of_time(context: ProbeContext, answers: Sequence[object]) -> None:
    for answer in answers:
        if isinstance(answer, HttpsAuditError):
            _stop_if_out_of_time(context, answer)


# -- The result of one mechanism -------------------------------------------------------------


def _fold(run: _Run, session_id: Support) -> ResumptionAttempts:
    """One mechanism's result. ``session_id`` is that mechanism's support: a ticket-less
    answer to a ticket-offering client still resumes by Session ID when it is supported."""
    mechanism, tally = run.mechanism, run.tally
    name = mechanism.name
    if run.first_error is not None:
        return _attempts(name, Support.UNKNOWN, tally, f"full handshake failed: {run.first_error}")
    if not run.started:
        return _not_tested(name, DEADLINE_NOT_RUN)
    if run.refusal is not None:
        note = run.refusal
        if note == NO_TLS12_TICKET and session_id is Support.SUPPORTED:
            note += ID_FALLBACK
        support = Support.UNKNOWN if run.refusal_unknown else Support.NOT_SUPPORTED
        return _attempts(name, support, tally, note)
    notes = list(tally.notes)
    if run.out_of_time is not None:
        # Keep what the attempts so far measured in the partial result.
        notes.append(f"the scan's deadline passed after {tally.attempts} attempts")
        support = Support.SUPPORTED if tally.resumed else Support.UNKNOWN
        return _attempts(name, support, tally, "; ".join(notes))
    support = Support.SUPPORTED if tally.resumed else Support.NOT_SUPPORTED
    if not tally.resumed and tally.attempts and not notes:
        notes.append(_never_resumed(mechanism))
    tls13_problem = _tls13_ticket_problem(run.seen)
    if tls13_problem is not None:
        notes.append(f"ticket details not read: {tls13_problem}")
    return _attempts(name, support, tally, "; ".join(notes) or None)


def _attempts(
    mechanism: str, support: Support, tally: _Tally, note: str | None
) -> ResumptionAttempts:
    # Times compare the full handshakes made side by side with the resumptions (the same load
    # on client, network and server); the first one, made alone, only when there are no others.
    full_ms = _median([handshake.handshake_ms for handshake in tally.full_beside or tally.full])
    resumed_ms = _median([handshake.handshake_ms for handshake in tally.resumed])
    return ResumptionAttempts(
        mechanism=mechanism,
        support=support,
        attempts=tally.attempts,
        resumed=len(tally.resumed),
        resumption_rate=round(len(tally.resumed) / tally.attempts, 3) if tally.attempts else 0.0,
        full_handshake_ms=full_ms,
        resumed_handshake_ms=resumed_ms,
        saved_ms=round(full_ms - resumed_ms, 3)
        if full_ms is not None and resumed_ms is not None
        else None,
        full_round_trips=_typical([handshake.round_trips for handshake in tally.full]),
        resumed_round_trips=_typical([handshake.round_trips for handshake in tally.resumed]),
        server_flight_bytes_full=_typical(
            [handshake.server_first_flight_bytes for handshake in tally.full]
        ),
        server_flight_bytes_resumed=_typical(
            [handshake.server_first_flight_bytes for handshake in tally.resumed]
        ),
        note=note,
    )


def _not_tested(mechanism: str, why: str) -> ResumptionAttempts:
    return _attempts(mechanism, Support.NOT_TESTED, _Tally(), why)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _typical(values: list[int]) -> int | None:
    """The lower median: always a value that was measured."""
    return statistics.median_low(values) if values else None


# -- One connection --------------------------------------------------------------------------


def _connect(
    context: ProbeContext,
    address: Address,
    mechanism: _Mechanism,
    session: Session | None,
) -> _Handshake:
    """One handshake (resuming ``session`` if given), an HTTP request when TLS 1.3 tickets
    must be read, then close_notify. A deadline already passed raises before connecting."""
    context.deadline.check(Phase.TCP, "the scan's deadline passed before a resumption attempt")
    with context.tcp(address) as transport:
        if session is not None:
            tls = context.client.wrap(transport, sni=context.target.sni, session=session)
        else:
            tls = context.client.wrap(transport, sni=context.target.sni, config=mechanism.config)
        try:
            record = tls.handshake(context.phase_deadline())
            hello = record.observed.server_hello
            tls13 = hello is not None and is_tls13(hello)
            tickets = _read_tls13_tickets(context, tls, record) if tls13 else None
            return _Handshake(
                version_code=hello.selected_version if hello is not None else 0,
                resumed=record.resumed,
                handshake_ms=record.handshake_ms,
                round_trips=record.wire.round_trips(),
                server_first_flight_bytes=record.wire.bytes_in(Direction.SERVER, 0),
                session_id_bytes=record.session_id_bytes,
                key_share=hello is not None and hello.key_share_group is not None,
                tls12_ticket=None if tls13 else _tls12_ticket(record),
                tls13=tickets,
                session=tls.session(),
            )
        finally:
            tls.close(context.deadline.child(CLOSE_TIMEOUT_S))


def _tls12_ticket(record: HandshakeRecord) -> _Ticket | None:
    """The cleartext NewSessionTicket of a TLS 1.2 handshake (RFC 5077 §3.3), if any."""
    for message in record.observed.messages:
        if message.msg_type != HandshakeType.NEW_SESSION_TICKET:
            continue
        try:
            parsed = parse_new_session_ticket_tls12(Reader(message.body, base=message.offset + 4))
        except HttpsAuditError:
            return None
        if not parsed.ticket:
            # RFC 5077 §3.3: an empty ticket takes back the offer made in the ServerHello.
            return None
        return _Ticket(parsed.lifetime_hint_s, parsed.ticket, None)
    return None


def _read_tls13_tickets(
    context: ProbeContext, tls: OpenSSLConnection, record: HandshakeRecord
) -> _Tls13Tickets:
    """Send a request (tickets come before the response), then read every NewSessionTicket."""
    target = context.target
    http_problem: str | None = None
    try:
        http1.exchange(
            tls, context.options.method, target.path, target.host_header, context.phase_deadline()
        )
    except HttpsAuditError as exc:
        # The tickets may well have arrived before the server gave up on HTTP.
        http_problem = f"the HTTP request failed ({exc.message})"
    secret = tls.secret(SERVER_TRAFFIC_SECRET_LABEL)
    hello = record.observed.server_hello
    if secret is None or hello is None:
        return _Tls13Tickets((), "OpenSSL logged no server application traffic secret")
    found = _tls13_tickets_in(hello.cipher_suite, secret, tls.post_handshake_server_bytes)
    if found.problem is None and not found.tickets and http_problem is not None:
        return _Tls13Tickets((), http_problem)
    return found


def _tls13_tickets_in(suite_code: int, traffic_secret: bytes, stream: bytes) -> _Tls13Tickets:
    found = read_post_handshake_tickets(suite_code, traffic_secret, stream)
    tickets = tuple(
        _Ticket(ticket.lifetime_s, ticket.ticket, ticket.max_early_data_size or 0)
        for ticket in found.tickets
    )
    return _Tls13Tickets(tickets, found.problem)


# -- Across addresses ------------------------------------------------------------------------

_Pair = tuple[Address, Address]
_Source = _Pending | _Handshake


def _matrix_sources(
    mechanism: _Mechanism,
    addresses: Sequence[Address],
    first: _Handshake,
    beside: _Pending,
    connect: Callable[[Address, Session | None], _Pending],
) -> dict[_Pair, _Source]:
    """For every ordered pair of addresses (A, B), the full handshake on A whose session will
    be offered to B; those not made yet are started now (wave 2)."""
    sources: dict[_Pair, _Source] = {}
    if len(addresses) < 2:
        return sources
    primary = addresses[0]  # the address of the timed connection, where ``first`` was made
    for origin in addresses:
        others = [address for address in addresses if address != origin]
        if mechanism.tls13:
            # A TLS 1.3 ticket may serve once (RFC 8446 §8.1): a full handshake per pair. The
            # one made beside the attempts serves the first pair from the primary address.
            for index, destination in enumerate(others):
                own = origin == primary and index == 0
                sources[(origin, destination)] = beside if own else connect(origin, None)
        else:
            # A TLS 1.2 session resumes any number of times: one full handshake per address.
            source: _Source = first if origin == primary else connect(origin, None)
            for destination in others:
                sources[(origin, destination)] = source
    return sources


def _matrix_fulls(
    sources: dict[_Pair, _Source], beside: _Pending, run: _Run
) -> dict[_Pair, _Answer]:
    """Each pair's full handshake, waited for; the matrix's own ones are seen once each."""
    settled: dict[int, _Answer] = {}
    fulls: dict[_Pair, _Answer] = {}
    for pair, source in sources.items():
        key = id(source)
        if key not in settled:
            if isinstance(source, _Handshake):
                settled[key] = source
            else:
                (settled[key],) = _settle([source])
                full = settled[key]
                if source is not beside and isinstance(full, _Handshake):
                    run.saw(full, False)
        fulls[pair] = settled[key]
    return fulls


def _start_matrix_cells(
    mechanism: _Mechanism,
    fulls: dict[_Pair, _Answer],
    connect: Callable[[Address, Session | None], _Pending],
) -> dict[_Pair, _Pending]:
    """A resumption per pair whose full handshake offered a session (wave 3)."""
    return {
        (origin, destination): connect(destination, full.session)
        for (origin, destination), full in fulls.items()
        if isinstance(full, _Handshake)
        and full.session is not None
        and _no_session_offered(mechanism, full) is None
    }


def _finish_matrix_cells(
    context: ProbeContext,
    mechanism: _Mechanism,
    fulls: dict[_Pair, _Answer],
    cells: dict[_Pair, _Pending],
    run: _Run,
) -> None:
    """Every pair's cell, in the order of the pairs: resumed, refused, or None (no session)."""
    settled = _settle(list(cells.values()))
    answers = dict(zip(cells, settled, strict=True))
    for origin, destination in fulls:
        answer = answers.get((origin, destination))
        resumed: bool | None = None
        if isinstance(answer, _Handshake):
            run.saw(answer, answer.resumed)
            resumed = answer.resumed
        elif answer is not None:
            resumed = False  # a refusal is an answer
        run.cross_address.append(
            CrossAddressResumption(
                mechanism=mechanism.name,
                from_address=_display(origin),
                to_address=_display(destination),
                resumed=resumed,
            )
        )
    _stop_if_any_out_of_time(context, list(answers.values()))


def _display(address: Address) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# -- Tickets and the result ------------------------------------------------------------------


def _tls12_ticket_facts(seen: Sequence[tuple[_Handshake, bool]]) -> TicketFacts | None:
    """What the TLS 1.2 tickets of the Session Ticket mechanism said, or None without any."""
    tickets = [handshake.tls12_ticket for handshake, _ in seen if handshake.tls12_ticket]
    if not tickets:
        return None
    resumed = [handshake for handshake, counted in seen if counted]
    first = tickets[0]
    return _ticket_facts(
        ProtocolVersion.TLSv1_2.label,
        tickets,
        per_connection=None,
        first=first,
        reissued=any(handshake.tls12_ticket is not None for handshake in resumed)
        if resumed
        else None,
    )


def _tls13_ticket_facts(seen: Sequence[tuple[_Handshake, bool]]) -> TicketFacts | None:
    """What the TLS 1.3 tickets said, or None when none could be read."""
    readable = [
        (handshake, handshake.tls13.tickets)
        for handshake, _ in seen
        if handshake.tls13 is not None and handshake.tls13.problem is None
    ]
    tickets = [ticket for _, batch in readable for ticket in batch]
    if not tickets:
        return None
    full = [batch for handshake, batch in readable if not handshake.resumed]
    resumed = [batch for handshake, batch in readable if handshake.resumed]
    first_batch = full[0] if full else readable[0][1]
    return _ticket_facts(
        ProtocolVersion.TLSv1_3.label,
        tickets,
        per_connection=len(full[0]) if full else None,
        first=first_batch[0] if first_batch else tickets[0],
        reissued=any(batch for batch in resumed) if resumed else None,
    )


def _ticket_facts(
    version: str,
    tickets: Sequence[_Ticket],
    *,
    per_connection: int | None,
    first: _Ticket,
    reissued: bool | None,
) -> TicketFacts:
    key_names = tuple(dict.fromkeys(name for ticket in tickets if (name := ticket.key_name)))
    every_ticket_named = all(ticket.key_name is not None for ticket in tickets)
    return TicketFacts(
        version=version,
        tickets_seen=len(tickets),
        tickets_per_connection=per_connection,
        lifetime_hint_s=first.lifetime_s,
        ticket_bytes=len(first.ticket),
        key_names=key_names,
        single_key_name=len(key_names) == 1 if key_names and every_ticket_named else None,
        reissued_on_resumption=reissued,
        max_early_data_bytes=first.max_early_data_bytes,
    )


def _psk_dhe_ke(tls13_psk: ResumptionAttempts, seen: Sequence[tuple[_Handshake, bool]]) -> Support:
    """RFC 8446 §4.2.9: a resumption with a key_share in the ServerHello is psk_dhe_ke."""
    if tls13_psk.support in (Support.NOT_TESTED, Support.UNKNOWN):
        return tls13_psk.support
    if any(handshake.key_share for handshake, counted in seen if counted):
        return Support.SUPPORTED
    return Support.NOT_SUPPORTED


def _result(
    mechanisms: Sequence[_Mechanism], runs: dict[str, _Run], addresses: Sequence[Address]
) -> ResumptionResult:
    """Every mechanism folded, in a fixed order whatever order they finished in."""
    session_id_run = runs.get(SESSION_ID)
    session_id = _fold(session_id_run, Support.NOT_TESTED) if session_id_run else None
    folded: dict[str, ResumptionAttempts] = {}
    for mechanism in mechanisms:
        run = runs.get(mechanism.name)
        if run is None:
            why = f"{mechanism.version.label} is not offered by the server"
            folded[mechanism.name] = _not_tested(mechanism.name, why)
        elif mechanism.name == SESSION_ID and session_id is not None:
            folded[mechanism.name] = session_id
        else:
            folded[mechanism.name] = _fold(
                run, session_id.support if session_id else Support.NOT_TESTED
            )
    tls13_psk = folded[TLS13_PSK]
    tls13_run = runs.get(TLS13_PSK)
    tls13_seen = tls13_run.seen if tls13_run else []
    psk_ke = tls13_run.psk_ke if tls13_run else Support.NOT_TESTED
    return ResumptionResult(
        session_id=folded[SESSION_ID],
        session_ticket=folded[SESSION_TICKET],
        tls13_psk=tls13_psk,
        tls12_tickets=_tls12_ticket_facts(runs[SESSION_TICKET].seen)
        if SESSION_TICKET in runs
        else None,
        tls13_tickets=_tls13_ticket_facts(tls13_seen),
        psk_dhe_ke=_psk_dhe_ke(tls13_psk, tls13_seen),
        # psk_ke is tried only where TLS 1.3 resumption works at all.
        psk_ke=psk_ke if tls13_psk.support is Support.SUPPORTED else tls13_psk.support,
        addresses=tuple(_display(address) for address in addresses) if len(addresses) > 1 else (),
        cross_address=tuple(
            cell for mechanism in mechanisms for cell in _cells_of(runs.get(mechanism.name))
        ),
    )


def _cells_of(run: _Run | None) -> list[CrossAddressResumption]:
    return run.cross_address if run is not None else []


# -- psk_ke, with our own TLS 1.3 engine ----------------------------------------------------


def _psk_ke_attempt(context: ProbeContext, ticket: ReceivedTicket) -> Support:
    """RFC 8446 §4.2.9: offer a ticket with psk_ke alone (no key_share, no supported_groups).
    A ServerHello that takes the PSK without a key share accepted psk_ke; an alert (OpenSSL
    servers say missing_extension unless allowed), a close or a full handshake refused it."""
    params = ClientParams.generate(
        context.target.sni,
        alpn=ENGINE_ALPN,
        ticket=ticket.ticket,
        ticket_age_ms=ticket.age_ms(),
        psk_modes=(PskKeyExchangeMode.psk_ke,),
    )
    with context.tcp() as transport:
        connection = EngineConnection(transport, ClientConnection(params))
        try:
            handshake = connection.handshake(context.phase_deadline())
        except (AlertReceived, ConnectionLost):
            if context.deadline.expired:
                raise
            return Support.NOT_SUPPORTED  # a refusal is an answer
        finally:
            connection.close(context.deadline.child(CLOSE_TIMEOUT_S))
    negotiated = handshake.negotiated
    accepted = negotiated.resumed and negotiated.group is None
    return Support.SUPPORTED if accepted else Support.NOT_SUPPORTED


def _engine_ticket(context: ProbeContext) -> ReceivedTicket | None:
    """A full engine handshake and one request (TLS 1.3 tickets come before the response)."""
    target = context.target
    request = http1.build_request(context.options.method, target.path, target.host_header)
    params = ClientParams.generate(context.target.sni, alpn=ENGINE_ALPN)
    with context.tcp() as transport:
        connection = EngineConnection(transport, ClientConnection(params))
        try:
            connection.handshake(context.phase_deadline())
            try:
                connection.request(request, context.phase_deadline())
            except HttpsAuditError:
                # The tickets may well have come before the server gave up on HTTP.
                if context.deadline.expired:
                    raise
        finally:
            connection.close(context.deadline.child(CLOSE_TIMEOUT_S))
    tickets = connection.tickets
    return tickets[0] if tickets else None


def _version_label(code: int) -> str:
    try:
        return ProtocolVersion(code).label
    except ValueError:
        return f"0x{code:04x}"
