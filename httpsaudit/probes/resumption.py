"""Session resumption: Session ID, Session Ticket and TLS 1.3 PSK. Does each work, how reliably,
what does it save, and do the ticket keys stay put?

Each mechanism gets one full handshake, then ``--resumption-attempts`` resumptions, each offering
the session of the connection just before: a server may accept a TLS 1.3 ticket only once
(RFC 8446 §8.1), and one that re-issues tickets must be judged on the newest. Resumption is
judged from the wire, never from session IDs: a resumed TLS 1.2 handshake has no server
Certificate message, a resumed TLS 1.3 ServerHello carries pre_shared_key. Every connection is
closed with close_notify before the next one resumes it (servers drop sessions that end without).

"Session Ticket resumption" means: resumed, and the session offered held a ticket the server
issued. A ticket-offering client whose server issues no ticket still resumes by Session ID; that
counts for ``session_id``, not here. Once the OpenSSL client holds a ticket it sends
SHA-256(ticket) as its session ID (RFC 5077 §3.4 lets it choose), so no server can resume that
session by ID: a resumption that offered a ticket is one by ticket.

TLS 1.3 tickets travel encrypted after the handshake: an HTTP request is sent (the server's
tickets come before its response), and the records read after the handshake are opened with the
server application traffic secret from OpenSSL's key log, to read each NewSessionTicket.

Connections, with N attempts and M cross-address addresses (M = 1 when the name has a single
address): per tested mechanism 1 + N (a mechanism whose server offers no session to resume
stops after its first handshake); then, when M >= 2, per supported mechanism M full + M(M-1)
resumed for the TLS 1.2 ones (a TLS 1.2 session resumes many times) and 2·M(M-1) for TLS 1.3
(a ticket per pair, as tickets may be single-use). Default N = 5: 18 connections; two
addresses add up to 12 more; four addresses, 56 more.

``psk_ke`` (resumption without a fresh (EC)DHE exchange, so without forward secrecy) needs our
own TLS 1.3 engine (OpenSSL's client offers psk_dhe_ke only, and its tickets cannot be taken out
as plain data): when TLS 1.3 PSK resumption works, one engine handshake + request for a ticket,
then one resumption offering psk_ke alone. 2 more connections.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

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
    """Full and resumed handshakes of one mechanism, in the order they happened."""

    full: list[_Handshake] = field(default_factory=list)
    resumed: list[_Handshake] = field(default_factory=list)
    attempts: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Scan:
    """Everything measured so far: enough to build a partial result if time runs out."""

    attempts: dict[str, ResumptionAttempts] = field(default_factory=dict)
    handshakes: dict[str, list[tuple[_Handshake, bool]]] = field(default_factory=dict)
    addresses: tuple[str, ...] = ()
    cross_address: list[CrossAddressResumption] = field(default_factory=list)
    first_error: HttpsAuditError | None = None  # of a mechanism's first full handshake
    psk_ke: Support = Support.NOT_TESTED

    def saw(self, mechanism: str, handshake: _Handshake, counted_resumed: bool) -> None:
        self.handshakes.setdefault(mechanism, []).append((handshake, counted_resumed))


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
    exclusive = True  # full vs resumed times: no other probe may share the target

    def run(self, context: ProbeContext) -> ResumptionResult:
        versions = context.result_of(ProbeId.VERSIONS, VersionsResult)
        attempts = max(
            1,
            context.options.resumption_attempts,
        )
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
        scan = _Scan()
        try:
            for mechanism in mechanisms:
                if mechanism.version.label not in versions.supported:
                    scan.attempts[mechanism.name] = _not_tested(
                        mechanism.name, f"{mechanism.version.label} is not offered by the server"
                    )
                    continue
                scan.attempts[mechanism.name] = _try_mechanism(context, mechanism, attempts, scan)
            scan.psk_ke = _psk_ke(context, scan.attempts[TLS13_PSK])
            _cross_addresses(context, mechanisms, scan)
        except _OutOfTime as stop:
            raise ProbeFailed(stop.error, _result(scan, deadline_passed=True)) from stop.error
        result = _result(scan, deadline_passed=False)
        tested = [
            scan.attempts[mechanism.name]
            for mechanism in mechanisms
            if scan.attempts[mechanism.name].support is not Support.NOT_TESTED
        ]
        if scan.first_error is not None and all(
            entry.support is Support.UNKNOWN for entry in tested
        ):
            # Not one full handshake went through: nothing was measured, so the probe failed.
            raise ProbeFailed(scan.first_error, result)
        return result


# -- One mechanism ---------------------------------------------------------------------------


def _try_mechanism(
    context: ProbeContext, mechanism: _Mechanism, attempts: int, scan: _Scan
) -> ResumptionAttempts:
    """A full handshake, then ``attempts`` resumptions, each of the newest session."""
    tally = _Tally()
    try:
        first = _connect(context, context.address, mechanism, None)
    except HttpsAuditError as exc:
        _stop_if_out_of_time(context, exc)
        if scan.first_error is None:
            scan.first_error = exc
        return _attempts(mechanism.name, Support.UNKNOWN, tally, f"full handshake failed: {exc}")
    scan.saw(mechanism.name, first, False)
    tally.full.append(first)
    refusal = _no_session_offered(mechanism, first, scan)
    if refusal is not None:
        wrong_version = first.version_code != mechanism.version
        support = Support.UNKNOWN if wrong_version else Support.NOT_SUPPORTED
        return _attempts(mechanism.name, support, tally, refusal)
    try:
        _resume_repeatedly(context, mechanism, attempts, first, tally, scan)
    except _OutOfTime:
        # Keep what the attempts so far measured in the partial result.
        tally.notes.append(f"the scan's deadline passed after {tally.attempts} attempts")
        scan.attempts[mechanism.name] = _attempts(
            mechanism.name,
            Support.SUPPORTED if tally.resumed else Support.UNKNOWN,
            tally,
            "; ".join(tally.notes),
        )
        raise
    support = Support.SUPPORTED if tally.resumed else Support.NOT_SUPPORTED
    if not tally.resumed and tally.attempts and not tally.notes:
        tally.notes.append(_never_resumed(mechanism))
    tls13_problem = _tls13_ticket_problem(scan.handshakes.get(mechanism.name, []))
    if tls13_problem is not None:
        tally.notes.append(f"ticket details not read: {tls13_problem}")
    return _attempts(mechanism.name, support, tally, "; ".join(tally.notes) or None)


def _resume_repeatedly(
    context: ProbeContext,
    mechanism: _Mechanism,
    attempts: int,
    first: _Handshake,
    tally: _Tally,
    scan: _Scan,
) -> None:
    newest = first
    holds_ticket = first.tls12_ticket is not None
    for _ in range(attempts):
        tally.attempts += 1
        if newest.session is None:
            tally.notes.append(f"attempt {tally.attempts}: the client kept no session to offer")
            continue
        try:
            handshake = _connect(context, context.address, mechanism, newest.session)
        except HttpsAuditError as exc:
            _stop_if_out_of_time(context, exc)
            # A refusal is an answer: this attempt did not resume. The session is kept for the
            # next one (a TLS 1.3 session may be spent: that attempt then runs a full handshake).
            tally.notes.append(f"attempt {tally.attempts}: {exc}")
            continue
        by_ticket = mechanism.name != SESSION_TICKET or holds_ticket
        counted = handshake.resumed and by_ticket
        scan.saw(mechanism.name, handshake, counted)
        if counted:
            tally.resumed.append(handshake)
        elif handshake.resumed:
            # Resumed, but the session held no ticket: Session ID resumption, timed in neither.
            tally.notes.append(f"attempt {tally.attempts}: resumed by Session ID, not by ticket")
        else:
            tally.full.append(handshake)
        if handshake.tls12_ticket is not None:
            holds_ticket = True
        elif not handshake.resumed:
            holds_ticket = False
        newest = handshake


def _no_session_offered(mechanism: _Mechanism, first: _Handshake, scan: _Scan) -> str | None:
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
        fallback = ""
        session_id = scan.attempts.get(SESSION_ID)
        if session_id is not None and session_id.support is Support.SUPPORTED:
            fallback = "; a client offering tickets still resumes by Session ID"
        return f"the server issued no session ticket (RFC 5077){fallback}"
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


def _stop_if_out_of_time(context: ProbeContext, exc: HttpsAuditError) -> None:
    if context.deadline.expired:
        raise _OutOfTime(exc) from exc


def _attempts(
    mechanism: str, support: Support, tally: _Tally, note: str | None
) -> ResumptionAttempts:
    full_ms = _median([handshake.handshake_ms for handshake in tally.full])
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
    address: tuple[str, int],
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


def _cross_addresses(context: ProbeContext, mechanisms: Sequence[_Mechanism], scan: _Scan) -> None:
    """For every ordered pair of addresses (A, B): a session from A offered to B."""
    addresses = context.all_addresses[:MAX_CROSS_ADDRESSES]
    if len(addresses) < 2:
        return
    scan.addresses = tuple(_display(address) for address in addresses)
    for mechanism in mechanisms:
        if scan.attempts[mechanism.name].support is not Support.SUPPORTED:
            continue
        # A TLS 1.2 session resumes any number of times; a TLS 1.3 ticket may serve once only.
        sessions_per_full = 1 if mechanism.tls13 else len(addresses) - 1
        for origin in addresses:
            others = [address for address in addresses if address != origin]
            for start in range(0, len(others), sessions_per_full):
                batch = others[start : start + sessions_per_full]
                _cross_batch(context, mechanism, origin, batch, scan)


def _cross_batch(
    context: ProbeContext,
    mechanism: _Mechanism,
    origin: tuple[str, int],
    destinations: Sequence[tuple[str, int]],
    scan: _Scan,
) -> None:
    def cell(destination: tuple[str, int], resumed: bool | None) -> CrossAddressResumption:
        return CrossAddressResumption(
            mechanism=mechanism.name,
            from_address=_display(origin),
            to_address=_display(destination),
            resumed=resumed,
        )

    try:
        full = _connect(context, origin, mechanism, None)
    except HttpsAuditError as exc:
        _stop_if_out_of_time(context, exc)
        scan.cross_address.extend(cell(destination, None) for destination in destinations)
        return
    scan.saw(mechanism.name, full, False)
    offered = _no_session_offered(mechanism, full, scan) is None
    for destination in destinations:
        if not offered or full.session is None:
            scan.cross_address.append(cell(destination, None))
            continue
        try:
            handshake = _connect(context, destination, mechanism, full.session)
        except HttpsAuditError as exc:
            _stop_if_out_of_time(context, exc)
            scan.cross_address.append(cell(destination, False))
            continue
        scan.saw(mechanism.name, handshake, handshake.resumed)
        scan.cross_address.append(cell(destination, handshake.resumed))


def _display(address: tuple[str, int]) -> str:
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


def _result(scan: _Scan, *, deadline_passed: bool) -> ResumptionResult:
    def attempts_of(name: str) -> ResumptionAttempts:
        found = scan.attempts.get(name)
        if found is not None:
            return found
        why = "not run: the scan's deadline passed" if deadline_passed else "not run"
        return _not_tested(name, why)

    tls13_psk = attempts_of(TLS13_PSK)
    tls13_seen = scan.handshakes.get(TLS13_PSK, [])
    return ResumptionResult(
        session_id=attempts_of(SESSION_ID),
        session_ticket=attempts_of(SESSION_TICKET),
        tls13_psk=tls13_psk,
        tls12_tickets=_tls12_ticket_facts(scan.handshakes.get(SESSION_TICKET, [])),
        tls13_tickets=_tls13_ticket_facts(tls13_seen),
        psk_dhe_ke=_psk_dhe_ke(tls13_psk, tls13_seen),
        psk_ke=scan.psk_ke,
        addresses=scan.addresses,
        cross_address=tuple(scan.cross_address),
    )


# -- psk_ke, with our own TLS 1.3 engine ----------------------------------------------------


def _psk_ke(context: ProbeContext, tls13_psk: ResumptionAttempts) -> Support:
    """RFC 8446 §4.2.9: offer a ticket with psk_ke alone (no key_share, no supported_groups).
    A ServerHello that takes the PSK without a key share accepted psk_ke; an alert (OpenSSL
    servers say missing_extension unless allowed), a close or a full handshake refused it.
    Tried only where TLS 1.3 resumption works at all."""
    if tls13_psk.support is not Support.SUPPORTED:
        return tls13_psk.support
    try:
        ticket = _engine_ticket(context)
        if ticket is None:
            return Support.UNKNOWN  # the reference client got tickets; the engine saw none
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
            except (AlertReceived, ConnectionLost) as exc:
                _stop_if_out_of_time(context, exc)
                return Support.NOT_SUPPORTED  # a refusal is an answer
            finally:
                connection.close(context.deadline.child(CLOSE_TIMEOUT_S))
    except HttpsAuditError as exc:
        _stop_if_out_of_time(context, exc)
        return Support.UNKNOWN
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
            except HttpsAuditError as exc:
                # The tickets may well have come before the server gave up on HTTP.
                _stop_if_out_of_time(context, exc)
        finally:
            connection.close(context.deadline.child(CLOSE_TIMEOUT_S))
    tickets = connection.tickets
    return tickets[0] if tickets else None


def _version_label(code: int) -> str:
    try:
        return ProtocolVersion(code).label
    except ValueError:
        return f"0x{code:04x}"
