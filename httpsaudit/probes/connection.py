"""The timed cold connection: DNS, TCP connect, TLS flight by flight, and the first HTTP byte.

It runs alone before every other probe, so its numbers are the target's, not our machine's.
With ``--samples N`` it repeats the whole cold connection N times for min/median/p90.
"""

from __future__ import annotations

import contextlib
import statistics
from dataclasses import dataclass, replace

from httpsaudit.errors import ConnectError, HttpsAuditError, Phase, PhaseTimeout, ResolveError
from httpsaudit.net import http1, http2
from httpsaudit.net.clock import Deadline, now_ns, ns_to_ms
from httpsaudit.net.dns import resolve, resolve_system
from httpsaudit.net.http1 import ResponseHead
from httpsaudit.net.openssl_client import HandshakeRecord
from httpsaudit.net.transport import TcpConnection
from httpsaudit.probes.base import ProbeContext, ProbeFailed
from httpsaudit.results import (
    ConnectionResult,
    Direction,
    DnsResult,
    Flight,
    HttpResponse,
    PeerCertificates,
    PhaseSample,
    PhaseStats,
    ProbeId,
    TcpConnect,
    TlsHandshake,
)
from httpsaudit.tls.codec import Reader
from httpsaudit.tls.codes import CipherSuite, HandshakeType, NamedGroup, ProtocolVersion, name_of
from httpsaudit.tls.messages import parse_server_key_exchange

# Addresses tried in turn for the timed connection. DNS decides how many come back (hundreds
# fit in one answer); browsers give up after a handful, and each try costs a phase deadline.
MAX_CONNECT_ADDRESSES = 16

_VERSIONS_BY_OPENSSL_NAME = {
    "SSLv3": ProtocolVersion.SSLv3,
    "TLSv1": ProtocolVersion.TLSv1_0,
    "TLSv1.1": ProtocolVersion.TLSv1_1,
    "TLSv1.2": ProtocolVersion.TLSv1_2,
    "TLSv1.3": ProtocolVersion.TLSv1_3,
}


@dataclass(slots=True)
class _Measured:
    """What one cold connection got through so far; survives a failure half-way."""

    dns: DnsResult | None = None
    tcp: TcpConnect | None = None
    tls: TlsHandshake | None = None
    http: HttpResponse | None = None
    peer_certificates: PeerCertificates | None = None
    http_error: str | None = None
    total_ms: float | None = None
    failed_handshake_flights: tuple[Flight, ...] = ()

    def sample(self) -> PhaseSample:
        return PhaseSample(
            dns_ms=self.dns.duration_ms if self.dns is not None else None,
            tcp_ms=self.tcp.duration_ms if self.tcp is not None else None,
            tls_ms=self.tls.handshake_ms if self.tls is not None else None,
            ttfb_ms=self.http.ttfb_ms if self.http is not None else None,
            total_ms=self.total_ms,
        )


class ConnectionProbe:
    """The reference client's view of a new connection; the RTT estimate comes from here."""

    probe_id = ProbeId.CONNECTION
    requires: tuple[ProbeId, ...] = ()

    def run(self, context: ProbeContext) -> ConnectionResult:
        first = _Measured()
        try:
            _connect_once(context, first)
        except HttpsAuditError as exc:
            # Keep the phases measured before the failure; a sample of nothing is left out.
            partial = [first.sample()] if first.dns or first.tcp else []
            raise ProbeFailed(exc, _result(first, partial, [])) from exc
        samples = [first.sample()]
        sample_errors: list[str] = []
        for _ in range(context.options.samples - 1):
            again = _Measured()
            try:
                _connect_once(context, again)
            except HttpsAuditError as exc:
                sample_errors.append(str(exc))
                if isinstance(exc, PhaseTimeout) and context.deadline.expired:
                    break
                continue
            samples.append(again.sample())
        return _result(first, samples, sample_errors)


def _result(
    first: _Measured, samples: list[PhaseSample], sample_errors: list[str]
) -> ConnectionResult:
    tcp_times = [sample.tcp_ms for sample in samples if sample.tcp_ms is not None]
    return ConnectionResult(
        dns=first.dns,
        tcp=first.tcp,
        tls=first.tls,
        http=first.http,
        peer_certificates=first.peer_certificates,
        samples=tuple(samples),
        stats=_stats(samples),
        rtt_estimate_ms=min(tcp_times) if tcp_times else None,
        http_error=first.http_error,
        sample_errors=tuple(sample_errors),
        failed_handshake_flights=first.failed_handshake_flights,
    )


def _addresses(context: ProbeContext, measured: _Measured) -> tuple[list[str], int]:
    """Where to connect: --connect-to, an IP literal, or the name resolved now (cold)."""
    target = context.target
    port = target.port
    if target.connect_to:
        override = target.connect_to[0]
        port = override.port or target.port
        if override.is_ip:
            return [override.host], port
        name = override.host
    elif target.is_ip:
        return [target.host], port
    else:
        name = target.host
    deadline = context.phase_deadline()
    if context.options.system_resolver:
        measured.dns = resolve_system(name, port, deadline)
    elif context.options.resolver is not None:
        measured.dns = resolve(name, deadline, server=context.options.resolver)
    else:
        measured.dns = _resolve_like_a_client(name, port, deadline)
    return list(measured.dns.addresses), port


def _resolve_like_a_client(name: str, port: int, deadline: Deadline) -> DnsResult:
    """DNS first; a name DNS does not know (/etc/hosts entries) is looked up the way curl and
    browsers would find it, through the system resolver, and the report says so."""
    if name == "localhost" or name.endswith(".localhost"):
        found = resolve_system(name, port, deadline)
        return replace(found, note="localhost names never go to DNS (RFC 6761 §6.3)")
    try:
        return resolve(name, deadline)
    except (ResolveError, PhaseTimeout) as dns_error:
        try:
            found = resolve_system(name, port, deadline)
        except HttpsAuditError:
            raise dns_error from None
        return replace(
            found, note=f"not in DNS ({dns_error.message}); found by the system resolver"
        )


def _connect_tcp(
    context: ProbeContext, addresses: list[str], port: int, held: contextlib.ExitStack
) -> TcpConnection:
    """The first address that accepts; its connection slot stays in ``held`` (the per-address
    cap counts the timed connection too, so a fleet never exceeds it)."""
    failed: list[str] = []
    last_error: HttpsAuditError | None = None
    for address in addresses[:MAX_CONNECT_ADDRESSES]:
        with contextlib.ExitStack() as slot:
            slot.enter_context(context.connection_slot((address, port)))
            context.count_connection()
            try:
                connection = TcpConnection.connect(address, port, context.phase_deadline())
            except (ConnectError, PhaseTimeout) as exc:
                failed.append(address)
                last_error = exc
                if context.deadline.expired:
                    break
                continue
            held.enter_context(slot.pop_all())
        connection.failed_addresses = tuple(failed)
        return connection
    if last_error is not None and len(failed) == 1:
        raise last_error
    raise ConnectError(
        f"TCP connect failed to all {len(failed)} addresses ({', '.join(failed)}): "
        f"{last_error.message if last_error else 'no address'}",
        phase=Phase.TCP,
    )


def _connect_once(context: ProbeContext, measured: _Measured) -> None:
    with contextlib.ExitStack() as held:
        _connect_and_exchange(context, measured, held)


def _connect_and_exchange(
    context: ProbeContext, measured: _Measured, held: contextlib.ExitStack
) -> None:
    started = now_ns()
    addresses, port = _addresses(context, measured)
    transport = _connect_tcp(context, addresses, port, held)
    measured.tcp = TcpConnect(
        address=transport.address,
        port=port,
        duration_ms=ns_to_ms(transport.connect_ns),
        failed_addresses=transport.failed_addresses,
    )
    tls = context.client.wrap(transport, sni=context.target.sni)
    try:
        try:
            record = tls.handshake(context.phase_deadline())
        except HttpsAuditError:
            measured.failed_handshake_flights = tls.flights_so_far()
            raise
        measured.tls = handshake_result(record)
        measured.peer_certificates = record.peer_certificates
        try:
            head = _http_exchange(context, tls, record.alpn)
        except HttpsAuditError as exc:
            # The TLS session exists; a server that does not speak HTTP is still auditable.
            measured.http_error = exc.message
        else:
            measured.http = _http_result(head, context)
        measured.total_ms = ns_to_ms(now_ns() - started)
    finally:
        tls.close(context.deadline.child(1.0))


def _http_exchange(
    context: ProbeContext, tls: http1.ApplicationStream, alpn: str | None
) -> ResponseHead:
    target = context.target
    deadline = context.phase_deadline()
    if alpn == "h2":
        return http2.exchange(
            tls, context.options.method, target.path, target.host_header, deadline
        )
    return http1.exchange(tls, context.options.method, target.path, target.host_header, deadline)


def _http_result(head: ResponseHead, context: ProbeContext) -> HttpResponse:
    return HttpResponse(
        protocol=head.protocol,
        method=context.options.method,
        path=context.target.path,
        status=head.status,
        reason=head.reason,
        ttfb_ms=head.ttfb_ms,
        server=head.header("server"),
        alt_svc=head.header("alt-svc"),
        strict_transport_security=head.header("strict-transport-security"),
        location=head.header("location"),
        header_bytes=head.header_bytes,
    )


def handshake_result(record: HandshakeRecord) -> TlsHandshake:
    """Negotiated values from the wire where we saw them, from OpenSSL where we could not."""
    observed = record.observed
    hello = observed.server_hello
    version_code = (
        hello.selected_version
        if hello is not None
        else int(_VERSIONS_BY_OPENSSL_NAME.get(record.version, 0))
    )
    cipher_code = hello.cipher_suite if hello is not None else None
    cipher_name = record.cipher_name
    if cipher_code is not None and cipher_code in CipherSuite._value2member_map_:
        cipher_name = CipherSuite(cipher_code).name
    group_code = hello.key_share_group if hello is not None else None
    group_name = name_of(NamedGroup, group_code) if group_code is not None else None
    if group_code is None:
        group_code, group_name = _tls12_group(record, cipher_name)
    flights = record.wire.flights()
    hrr = observed.hello_retry_request is not None
    if hrr:
        flights = _name_hello_retry_request(flights)
    server_flights = [flight for flight in flights if flight.direction is Direction.SERVER]
    certificate_flight = server_flights[1 if hrr else 0] if len(server_flights) > hrr else None
    return TlsHandshake(
        version=_version_label(version_code, record.version),
        version_code=version_code,
        cipher_suite=cipher_name,
        cipher_suite_code=cipher_code,
        group=group_name,
        group_code=group_code,
        alpn=record.alpn,
        sni=record.sni,
        handshake_ms=record.handshake_ms,
        round_trips=record.wire.round_trips(),
        hello_retry_request=hrr,
        flights=flights,
        client_hello_bytes=record.wire.bytes_in(Direction.CLIENT, 0),
        server_first_flight_bytes=certificate_flight.wire_bytes if certificate_flight else 0,
        session_id_bytes=record.session_id_bytes,
        certificate_message_bytes=record.certificate_message_bytes,
    )


def _name_hello_retry_request(flights: tuple[Flight, ...]) -> tuple[Flight, ...]:
    """OpenSSL reports an HRR as "read server hello"; RFC 8446 §4.1.4 gives it its own name."""
    renamed = list(flights)
    for index, flight in enumerate(renamed):
        if flight.direction is Direction.SERVER and flight.messages[:1] == ("ServerHello",):
            renamed[index] = replace(flight, messages=("HelloRetryRequest", *flight.messages[1:]))
            break
    return tuple(renamed)


def _version_label(code: int, fallback: str) -> str:
    try:
        return ProtocolVersion(code).label
    except ValueError:
        return fallback


def _tls12_group(record: HandshakeRecord, cipher_name: str) -> tuple[int | None, str | None]:
    """The TLS 1.2 key exchange: ECDHE curve or DHE prime size from ServerKeyExchange."""
    messages = [
        message
        for message in record.observed.messages
        if message.msg_type == HandshakeType.SERVER_KEY_EXCHANGE
    ]
    ecdhe = "ECDHE" in cipher_name
    if messages and ("DHE" in cipher_name):
        message = messages[0]
        try:
            exchange = parse_server_key_exchange(
                Reader(message.body, base=message.offset + 4), ecdhe=ecdhe
            )
        except HttpsAuditError:
            return None, record.group_name
        if exchange.named_group is not None:
            return exchange.named_group, name_of(NamedGroup, exchange.named_group)
        if exchange.dh_prime_bits is not None:
            return None, f"DHE-{exchange.dh_prime_bits}"
    return None, record.group_name


def _percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: always one of the measured values."""
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 100) * len(ordered) // 100))
    return ordered[min(rank, len(ordered)) - 1]


def _stats(samples: list[PhaseSample]) -> tuple[PhaseStats, ...]:
    stats: list[PhaseStats] = []
    for phase in ("dns", "tcp", "tls", "ttfb", "total"):
        values = [
            value for sample in samples if (value := getattr(sample, f"{phase}_ms")) is not None
        ]
        if not values:
            continue
        stats.append(
            PhaseStats(
                phase=phase,
                samples=len(values),
                min_ms=min(values),
                median_ms=round(statistics.median(values), 3),
                p90_ms=_percentile(values, 0.9),
                max_ms=max(values),
            )
        )
    return tuple(stats)
