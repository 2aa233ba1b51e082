"""Session resumption against real servers: Session ID, Session Ticket and TLS 1.3 PSK.

nginx is run with each combination of session cache and tickets, with fixed ticket key files,
and as two backends of one name on 127.0.0.2 and 127.0.0.3; ``openssl s_server`` with and
without tickets, and with anti-replay (single-use TLS 1.3 tickets). Every server is per test:
sessions and tickets are state.

The probe runs its mechanisms and attempts side by side, so the balancer here routes each
connection by what its ClientHello offers, never by arrival order: results stay exact.
"""

from __future__ import annotations

import collections
import os
import socket
import struct
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from httpsaudit.probes.resumption import ResumptionProbe
from httpsaudit.probes.versions import VersionsProbe
from httpsaudit.results import (
    CrossAddressResumption,
    ProbeId,
    ProbeOutcome,
    ProbeStatus,
    ResumptionAttempts,
    ResumptionResult,
    Support,
    TicketFacts,
    VersionsResult,
)
from httpsaudit.scan import run_probe
from httpsaudit.target import ConnectAddress
from httpsaudit.tls.codes import ExtensionType, ProtocolVersion
from tests.pki import TestPKI
from tests.probe_context import make_context, run_probe_on
from tests.servers import DelayProxy, NginxServer, OpenSSLServer, require_loopback

ATTEMPTS = 5
# nginx's ssl_session_timeout in these tests; nginx sends it as the ticket lifetime (hint).
SESSION_TIMEOUT_S = 300
# OpenSSL's default session timeout, which s_server keeps: 2 hours.
OPENSSL_SESSION_TIMEOUT_S = 7200
# OpenSSL servers send 2 TLS 1.3 tickets after a full handshake (SSL_CTX_set_num_tickets), and
# one after a resumption.
OPENSSL_TICKETS_PER_CONNECTION = 2
# A stateful TLS 1.3 ticket from OpenSSL (tickets off, cache on) is the 32-byte session ID.
STATEFUL_TICKET_BYTES = 32
# nginx 1.22 offers 0-RTT up to its SSL buffer size (NGX_SSL_BUFSIZE).
NGINX_MAX_EARLY_DATA_BYTES = 16384
# psk_ke, where TLS 1.3 resumption works: an engine handshake for a ticket, one psk_ke resumption.
PSK_KE_CONNECTIONS = 2
# Per mechanism with a session to resume: the first full handshake, the 5 attempts, and one full
# handshake beside them (timed under the same load); a mechanism with no session stops at 1.
PER_MECHANISM = 1 + ATTEMPTS + 1
ALL_THREE_CONNECTIONS = 3 * PER_MECHANISM + PSK_KE_CONNECTIONS
# TLS 1.2 tickets of a scan where no resumption renews one: the first full handshake's and the
# one beside the attempts'.
TLS12_FULL_HANDSHAKES = 2
# TLS 1.3 tickets of such a scan: 2 per full handshake (2 of them), 1 per resumption.
TLS13_TICKETS_SEEN = TLS12_FULL_HANDSHAKES * OPENSSL_TICKETS_PER_CONNECTION + ATTEMPTS

NO_SESSION_ID = "the server sent an empty Session ID: it keeps no session to resume"
NO_TICKET = "the server issued no session ticket (RFC 5077)"
NO_TICKET_ID_FALLBACK = (
    "the server issued no session ticket (RFC 5077); "
    "a client offering tickets still resumes by Session ID"
)
NO_TLS13_TICKET = "the server sent no NewSessionTicket after the handshake"
TLS13_NEVER_ACCEPTED = "the server sends tickets but never accepted one"
SESSION_ID_NEVER_RESUMED = "the server sends a Session ID but never resumed it"


def nginx(pki: TestPKI, *, cache: str, tickets: str, **params: str) -> NginxServer:
    """nginx from fixtures/nginx/session.conf; ``params`` may set protocols, host, key lines."""
    return NginxServer(
        "session",
        pki.ecdsa_p256,
        session_cache=cache,
        session_tickets=tickets,
        session_timeout=f"{SESSION_TIMEOUT_S}s",
        **params,
    )


def ticket_key_file(directory: Path, name: str) -> tuple[Path, str]:
    """80 random bytes as nginx reads them: key name(16) | HMAC key(32) | AES key(32)."""
    path = directory / name
    path.write_bytes(os.urandom(80))
    return path, path.read_bytes()[:16].hex()


def ticket_keys(*paths: Path) -> str:
    """nginx directives; the first key seals new tickets, the others only open old ones."""
    return " ".join(f"ssl_session_ticket_key {path};" for path in paths)


def resumption_on(port: int, pki: TestPKI) -> ProbeOutcome[object]:
    return run_probe_on(ResumptionProbe(), port, ca_file=pki.root_path, first=[VersionsProbe()])


def resumption_across(backends: Sequence[NginxServer], pki: TestPKI) -> ProbeOutcome[object]:
    """The probe for one name served by several backends, as ``--connect-to`` each of them."""
    context = make_context(
        backends[0].port,
        ca_file=pki.root_path,
        connect_to=tuple(ConnectAddress(server.host, server.port) for server in backends),
    )
    context.outcomes[ProbeId.VERSIONS] = run_probe(VersionsProbe(), context)
    return run_probe(ResumptionProbe(), context)


def result_of(outcome: ProbeOutcome[object]) -> ResumptionResult:
    assert outcome.status is ProbeStatus.COMPLETED, outcome.error or outcome.skip_reason
    assert isinstance(outcome.result, ResumptionResult)
    return outcome.result


def assert_resumed_every_time(attempts: ResumptionAttempts, *, tls13: bool = False) -> None:
    assert attempts.support is Support.SUPPORTED
    assert (attempts.attempts, attempts.resumed, attempts.resumption_rate) == (ATTEMPTS, 5, 1.0)
    assert attempts.note is None
    # A resumed handshake is one round trip; a full one two in TLS 1.2 and one in TLS 1.3
    assert attempts.full_round_trips == (1 if tls13 else 2)
    assert attempts.resumed_round_trips == 1
    assert attempts.full_handshake_ms is not None
    assert attempts.resumed_handshake_ms is not None
    # And the server's first flight shrinks: no certificate chain
    assert attempts.server_flight_bytes_full is not None
    assert attempts.server_flight_bytes_resumed is not None
    assert attempts.server_flight_bytes_resumed < attempts.server_flight_bytes_full - 1000


def assert_no_session(attempts: ResumptionAttempts, note: str) -> None:
    assert attempts.support is Support.NOT_SUPPORTED
    assert (attempts.attempts, attempts.resumed, attempts.resumption_rate) == (0, 0, 0.0)
    assert attempts.note == note
    assert attempts.resumed_handshake_ms is None
    assert attempts.saved_ms is None


def test_nginx_with_cache_and_tickets_resumes_every_way(pki: TestPKI) -> None:
    # Given nginx with a shared session cache and tickets (keys of its own, made at start)
    with nginx(pki, cache="shared:SSL:1m", tickets="on") as server:
        # When the probe runs after the versions probe
        outcome = resumption_on(server.port, pki)
    result = result_of(outcome)
    # Then every mechanism resumed 5 times out of 5
    assert_resumed_every_time(result.session_id)
    assert_resumed_every_time(result.session_ticket)
    assert_resumed_every_time(result.tls13_psk, tls13=True)
    # And TLS 1.3 resumption ran a fresh key exchange; PSK-only (psk_ke) was refused
    assert result.psk_dhe_ke is Support.SUPPORTED
    assert result.psk_ke is Support.NOT_SUPPORTED
    # And the TLS 1.2 ticket's lifetime hint is nginx's ssl_session_timeout
    tls12 = result.tls12_tickets
    assert tls12 is not None
    assert tls12.version == "TLSv1.2"
    assert tls12.lifetime_hint_s == SESSION_TIMEOUT_S
    assert (tls12.tickets_seen, tls12.tickets_per_connection) == (TLS12_FULL_HANDSHAKES, None)
    assert tls12.reissued_on_resumption is False  # nginx renews only tickets under an old key
    assert tls12.single_key_name is True
    assert len(tls12.key_names) == 1
    assert tls12.max_early_data_bytes is None
    # And TLS 1.3 tickets: two per full handshake, one more on each resumption, same key
    tls13 = result.tls13_tickets
    assert tls13 is not None
    assert tls13.version == "TLSv1.3"
    assert tls13.tickets_per_connection == OPENSSL_TICKETS_PER_CONNECTION
    assert tls13.tickets_seen == TLS13_TICKETS_SEEN
    assert tls13.lifetime_hint_s == SESSION_TIMEOUT_S
    assert tls13.reissued_on_resumption is True
    assert tls13.key_names == tls12.key_names
    assert tls13.max_early_data_bytes == 0
    # And one address: no matrix
    assert (result.addresses, result.cross_address) == ((), ())
    assert outcome.connections == ALL_THREE_CONNECTIONS


def test_nginx_cache_only_resumes_by_session_id(pki: TestPKI) -> None:
    # Given nginx with a session cache and tickets off
    with nginx(pki, cache="shared:SSL:1m", tickets="off") as server:
        outcome = resumption_on(server.port, pki)
    result = result_of(outcome)
    # Then Session ID resumption works, and a ticket-offering client gets no ticket: that
    # client resumes by Session ID, which is not ticket resumption
    assert_resumed_every_time(result.session_id)
    assert_no_session(result.session_ticket, NO_TICKET_ID_FALLBACK)
    assert result.session_ticket.full_round_trips == 2
    assert result.tls12_tickets is None
    # And TLS 1.3 resumes on stateful tickets: 32-byte cache handles with no key name
    assert_resumed_every_time(result.tls13_psk, tls13=True)
    assert result.tls13_tickets == TicketFacts(
        version="TLSv1.3",
        tickets_seen=TLS13_TICKETS_SEEN,
        tickets_per_connection=OPENSSL_TICKETS_PER_CONNECTION,
        lifetime_hint_s=SESSION_TIMEOUT_S,
        ticket_bytes=STATEFUL_TICKET_BYTES,
        key_names=(),
        single_key_name=None,
        reissued_on_resumption=True,
        max_early_data_bytes=0,
    )
    assert outcome.connections == 1 + 2 * PER_MECHANISM + PSK_KE_CONNECTIONS


def test_nginx_tickets_only_resumes_by_ticket_not_session_id(pki: TestPKI) -> None:
    # Given nginx with tickets and no session cache
    with nginx(pki, cache="off", tickets="on") as server:
        outcome = resumption_on(server.port, pki)
    result = result_of(outcome)
    # Then a ticket-less client gets an empty Session ID, so nothing to resume
    assert_no_session(result.session_id, NO_SESSION_ID)
    # And tickets resume in TLS 1.2 and TLS 1.3
    assert_resumed_every_time(result.session_ticket)
    assert_resumed_every_time(result.tls13_psk, tls13=True)
    assert result.tls12_tickets is not None
    assert result.tls12_tickets.lifetime_hint_s == SESSION_TIMEOUT_S
    assert result.psk_dhe_ke is Support.SUPPORTED
    assert outcome.connections == 1 + 2 * PER_MECHANISM + PSK_KE_CONNECTIONS


def test_nginx_without_cache_or_tickets_resumes_nothing(pki: TestPKI) -> None:
    # Given nginx with neither a session cache nor tickets
    with nginx(pki, cache="off", tickets="off") as server:
        outcome = resumption_on(server.port, pki)
    result = result_of(outcome)
    # Then TLS 1.2 offers nothing to resume
    assert_no_session(result.session_id, NO_SESSION_ID)
    assert_no_session(result.session_ticket, NO_TICKET)
    assert result.tls12_tickets is None
    # And TLS 1.3 hands out stateful tickets it cannot honour: 0 resumptions out of 5
    tls13 = result.tls13_psk
    assert tls13.support is Support.NOT_SUPPORTED
    assert (tls13.attempts, tls13.resumed, tls13.resumption_rate) == (ATTEMPTS, 0, 0.0)
    assert tls13.note == TLS13_NEVER_ACCEPTED
    assert (tls13.full_round_trips, tls13.resumed_round_trips) == (1, None)
    assert tls13.saved_ms is None
    assert result.tls13_tickets is not None
    assert result.tls13_tickets.ticket_bytes == STATEFUL_TICKET_BYTES
    assert result.tls13_tickets.reissued_on_resumption is None  # no resumption to judge
    # And without TLS 1.3 resumption there is no psk_ke either: its engine ticket was fetched
    # beside the attempts, and no psk_ke resumption followed
    assert result.psk_dhe_ke is Support.NOT_SUPPORTED
    assert result.psk_ke is Support.NOT_SUPPORTED
    assert outcome.connections == 1 + 1 + PER_MECHANISM + 1


def test_nginx_default_cache_none_sends_session_ids_it_never_resumes(pki: TestPKI) -> None:
    # Given nginx's default "ssl_session_cache none": a Session ID is sent, nothing is stored
    with nginx(pki, cache="none", tickets="off") as server:
        outcome = resumption_on(server.port, pki)
    result = result_of(outcome)
    # Then every Session ID resumption falls back to a full handshake: 0 out of 5
    session_id = result.session_id
    assert session_id.support is Support.NOT_SUPPORTED
    assert (session_id.attempts, session_id.resumed, session_id.resumption_rate) == (5, 0, 0.0)
    assert session_id.note == SESSION_ID_NEVER_RESUMED
    assert (session_id.full_round_trips, session_id.resumed_round_trips) == (2, None)
    assert (session_id.resumed_handshake_ms, session_id.saved_ms) == (None, None)
    assert session_id.server_flight_bytes_resumed is None
    assert_no_session(result.session_ticket, NO_TICKET)


def test_nginx_ticket_key_file_names_every_ticket(pki: TestPKI, tmp_path: Path) -> None:
    # Given nginx sealing tickets with a key file of 80 random bytes
    key_file, key_name = ticket_key_file(tmp_path, "ticket.key")
    with nginx(pki, cache="off", tickets="on", server_directives=ticket_keys(key_file)) as server:
        outcome = resumption_on(server.port, pki)
    result = result_of(outcome)
    # Then every TLS 1.2 and TLS 1.3 ticket carries the file's first 16 bytes as key name
    assert result.tls12_tickets == TicketFacts(
        version="TLSv1.2",
        tickets_seen=TLS12_FULL_HANDSHAKES,
        tickets_per_connection=None,
        lifetime_hint_s=SESSION_TIMEOUT_S,
        # key name 16 | IV 16 | AES-256-CBC of OpenSSL 3.0's session encoding | HMAC 32
        ticket_bytes=208,
        key_names=(key_name,),
        single_key_name=True,
        reissued_on_resumption=False,
        max_early_data_bytes=None,
    )
    assert result.tls13_tickets == TicketFacts(
        version="TLSv1.3",
        tickets_seen=TLS13_TICKETS_SEEN,
        tickets_per_connection=OPENSSL_TICKETS_PER_CONNECTION,
        lifetime_hint_s=SESSION_TIMEOUT_S,
        ticket_bytes=240,
        key_names=(key_name,),
        single_key_name=True,
        reissued_on_resumption=True,
        max_early_data_bytes=0,
    )


@pytest.mark.parametrize(
    ("protocols", "supported", "not_tested", "note"),
    [
        ("TLSv1.2", ("session_id", "session_ticket"), ("tls13_psk",), "TLSv1.3"),
        ("TLSv1.3", ("tls13_psk",), ("session_id", "session_ticket"), "TLSv1.2"),
    ],
)
def test_a_version_the_server_lacks_is_not_tested(
    pki: TestPKI,
    protocols: str,
    supported: tuple[str, ...],
    not_tested: tuple[str, ...],
    note: str,
) -> None:
    # Given nginx with cache and tickets, speaking one version only
    with nginx(pki, cache="shared:SSL:1m", tickets="on", protocols=protocols) as server:
        outcome = resumption_on(server.port, pki)
    result = result_of(outcome)
    # Then the mechanisms of the other version are not tested, and say why
    for name in supported:
        assert_resumed_every_time(getattr(result, name), tls13=name == "tls13_psk")
    for name in not_tested:
        attempts: ResumptionAttempts = getattr(result, name)
        assert attempts.support is Support.NOT_TESTED
        assert attempts.attempts == 0
        assert attempts.note == f"{note} is not offered by the server"
        assert attempts.full_handshake_ms is None
    tls13_tested = "tls13_psk" in supported
    assert result.psk_dhe_ke is (Support.SUPPORTED if tls13_tested else Support.NOT_TESTED)
    assert (result.tls13_tickets is not None) is tls13_tested
    assert (result.tls12_tickets is not None) is not tls13_tested
    assert result.psk_ke is (Support.NOT_SUPPORTED if tls13_tested else Support.NOT_TESTED)
    assert outcome.connections == len(supported) * PER_MECHANISM + (
        PSK_KE_CONNECTIONS if tls13_tested else 0
    )


def test_s_server_no_ticket_resumes_by_session_id_only(pki: TestPKI) -> None:
    # Given openssl s_server with tickets off (its internal session cache stays on)
    with OpenSSLServer(pki.ecdsa_p256, "-no_ticket") as server:
        outcome = resumption_on(server.port, pki)
    result = result_of(outcome)
    # Then TLS 1.2 resumes by Session ID, never by ticket
    assert_resumed_every_time(result.session_id)
    assert_no_session(result.session_ticket, NO_TICKET_ID_FALLBACK)
    assert result.tls12_tickets is None
    # And TLS 1.3 resumes on stateful tickets (OpenSSL's cache handles)
    assert_resumed_every_time(result.tls13_psk, tls13=True)
    assert result.tls13_tickets is not None
    assert result.tls13_tickets.ticket_bytes == STATEFUL_TICKET_BYTES
    assert result.tls13_tickets.key_names == ()
    assert result.tls13_tickets.lifetime_hint_s == OPENSSL_SESSION_TIMEOUT_S


def test_s_server_default_sends_two_tls13_tickets(pki: TestPKI) -> None:
    # Given openssl s_server with its defaults (tickets on, 2 TLS 1.3 tickets, 2-hour sessions)
    with OpenSSLServer(pki.ecdsa_p256) as server:
        outcome = resumption_on(server.port, pki)
    result = result_of(outcome)
    # Then all three mechanisms resume
    assert_resumed_every_time(result.session_id)
    assert_resumed_every_time(result.session_ticket)
    assert_resumed_every_time(result.tls13_psk, tls13=True)
    # And the TLS 1.3 tickets are as OpenSSL makes them
    tls12 = result.tls12_tickets
    tls13 = result.tls13_tickets
    assert tls12 is not None
    assert tls13 is not None
    assert tls13.tickets_per_connection == OPENSSL_TICKETS_PER_CONNECTION
    assert tls13.lifetime_hint_s == OPENSSL_SESSION_TIMEOUT_S
    assert tls13.reissued_on_resumption is True
    assert tls13.max_early_data_bytes == 0
    # And both versions' tickets are sealed by the server's one key
    assert tls13.key_names == tls12.key_names
    assert tls12.lifetime_hint_s == OPENSSL_SESSION_TIMEOUT_S
    assert result.psk_dhe_ke is Support.SUPPORTED
    # And s_server, which serves one connection at a time, resumed the attempts made at once
    assert outcome.connections == ALL_THREE_CONNECTIONS


def test_nginx_early_data_limit_shows_in_the_tickets(pki: TestPKI) -> None:
    # Given nginx accepting 0-RTT (ssl_early_data on)
    with nginx(pki, cache="off", tickets="on", server_directives="ssl_early_data on;") as server:
        outcome = resumption_on(server.port, pki)
    result = result_of(outcome)
    # Then its TLS 1.3 tickets carry the early_data extension with nginx's limit (one buffer)
    assert result.tls13_tickets is not None
    assert result.tls13_tickets.max_early_data_bytes == NGINX_MAX_EARLY_DATA_BYTES
    assert_resumed_every_time(result.tls13_psk, tls13=True)


def test_s_server_without_tls13_tickets_cannot_resume_tls13(pki: TestPKI) -> None:
    # Given openssl s_server sending no TLS 1.3 tickets
    with OpenSSLServer(pki.ecdsa_p256, "-num_tickets", "0") as server:
        outcome = resumption_on(server.port, pki)
    result = result_of(outcome)
    # Then TLS 1.3 resumption is not supported, read from the (absent) tickets, untried
    assert_no_session(result.tls13_psk, NO_TLS13_TICKET)
    assert result.tls13_psk.full_round_trips == 1
    assert result.tls13_tickets is None
    assert result.psk_dhe_ke is Support.NOT_SUPPORTED
    # And TLS 1.2 is unaffected
    assert_resumed_every_time(result.session_id)
    assert_resumed_every_time(result.session_ticket)
    assert outcome.connections == 2 * PER_MECHANISM + 1


# -- Across addresses ----------------------------------------------------------------------


def matrix(result: ResumptionResult) -> dict[tuple[str, str, str], bool | None]:
    return {
        (cell.mechanism, cell.from_address, cell.to_address): cell.resumed
        for cell in result.cross_address
    }


def test_backends_sharing_a_ticket_key_resume_each_others_tickets(
    pki: TestPKI, tmp_path: Path
) -> None:
    # Given two nginx backends of one name, each with its own session cache, one ticket key
    key_file, key_name = ticket_key_file(tmp_path, "shared.key")
    shared = ticket_keys(key_file)
    with (
        nginx(
            pki, cache="shared:SSL:1m", tickets="on", host="127.0.0.2", server_directives=shared
        ) as first,
        nginx(
            pki, cache="shared:SSL:1m", tickets="on", host="127.0.0.3", server_directives=shared
        ) as second,
    ):
        # When the probe runs with both as --connect-to addresses
        outcome = resumption_across((first, second), pki)
    result = result_of(outcome)
    a = f"127.0.0.2:{first.port}"
    b = f"127.0.0.3:{second.port}"
    # Then tickets from one backend open on the other; Session IDs do not (caches differ)
    assert result.addresses == (a, b)
    assert matrix(result) == {
        ("session_id", a, b): False,
        ("session_id", b, a): False,
        ("session_ticket", a, b): True,
        ("session_ticket", b, a): True,
        ("tls13_psk", a, b): True,
        ("tls13_psk", b, a): True,
    }
    # And every ticket of the scan, from both backends, names the one shared key
    assert result.tls12_tickets is not None
    assert result.tls12_tickets.key_names == (key_name,)
    assert result.tls13_tickets is not None
    assert result.tls13_tickets.key_names == (key_name,)
    # And the matrix cost 3 connections per mechanism: a full handshake on the second address
    # (the first address's came from the attempts' wave: for TLS 1.2 the first handshake, for
    # TLS 1.3, whose tickets may be single-use, the one beside the attempts), and a resumption
    # per pair
    assert outcome.connections == ALL_THREE_CONNECTIONS + 3 + 3 + 3


def test_backends_with_their_own_keys_resume_nothing_across(pki: TestPKI) -> None:
    # Given two nginx backends of one name with their own caches and their own random keys
    with (
        nginx(pki, cache="shared:SSL:1m", tickets="on", host="127.0.0.2") as first,
        nginx(pki, cache="shared:SSL:1m", tickets="on", host="127.0.0.3") as second,
    ):
        outcome = resumption_across((first, second), pki)
    result = result_of(outcome)
    a = f"127.0.0.2:{first.port}"
    b = f"127.0.0.3:{second.port}"
    # Then each backend resumes its own sessions (the attempts ran on the first) ...
    assert_resumed_every_time(result.session_id)
    assert_resumed_every_time(result.session_ticket)
    assert_resumed_every_time(result.tls13_psk, tls13=True)
    # ... and none of the other's: a load balancer would make resumption a coin flip
    assert result.cross_address == tuple(
        CrossAddressResumption(mechanism, origin, destination, False)
        for mechanism in ("session_id", "session_ticket", "tls13_psk")
        for origin, destination in ((a, b), (b, a))
    )
    # And the scan saw two key names: two reports would show no single key either
    assert result.tls12_tickets is not None
    assert len(result.tls12_tickets.key_names) == 2
    assert result.tls12_tickets.single_key_name is False


# A ClientHello fits one record of at most 2^14 bytes plus the record header (RFC 8446 §5.1).
MAX_CLIENT_HELLO_RECORD_BYTES = 5 + 2**14


def client_hello_kind(record: bytes) -> tuple[bytes, bool]:
    """(which client, whether it offers a session) from a ClientHello record.

    The client is told by its offered versions, ticket extension and cipher suites (each
    resumption mechanism of the probe, and the engine, differ in one of these). A session is
    offered by a pre_shared_key, a non-empty session_ticket, or, from a client capped at
    TLS 1.2, a non-empty Session ID (a TLS 1.3 client always sends a random one).
    """
    body = record[5 + 4 :]  # record header, handshake header
    offset = 2 + 32  # legacy_version, random
    session_id = body[offset + 1 : offset + 1 + body[offset]]
    offset += 1 + len(session_id)
    (suites_length,) = struct.unpack_from("!H", body, offset)
    suites = body[offset + 2 : offset + 2 + suites_length]
    offset += 2 + suites_length
    offset += 1 + body[offset]  # compression methods
    (extensions_length,) = struct.unpack_from("!H", body, offset)
    extensions: dict[int, bytes] = {}
    position, end = offset + 2, offset + 2 + extensions_length
    while position < end:
        kind, length = struct.unpack_from("!HH", body, position)
        extensions[kind] = body[position + 4 : position + 4 + length]
        position += 4 + length
    versions = extensions.get(ExtensionType.SUPPORTED_VERSIONS, b"")
    tls13 = ProtocolVersion.TLSv1_3.to_bytes(2, "big") in versions[1:]
    ticket = extensions.get(ExtensionType.SESSION_TICKET)
    offers = (
        ExtensionType.PRE_SHARED_KEY in extensions
        or bool(ticket)
        or (not tls13 and bool(session_id))
    )
    client = versions + (b"ticket" if ticket is not None else b"") + suites
    return client, offers


class RoundRobinProxy(DelayProxy):
    """A TCP balancer that reads each ClientHello before it picks a backend: full handshakes go
    to the first backend; the k-th session offer of each kind of client goes to backend k mod n.

    Counting per kind of client and per offer keeps each mechanism's share of backends exact
    while the probe runs its mechanisms and attempts side by side, in whatever order they
    connect: the attempts of one wave all offer the same session.
    """

    def __init__(self, backends: Sequence[tuple[str, int]]) -> None:
        self.backends = tuple((require_loopback(host), port) for host, port in backends)
        self._offers: collections.Counter[bytes] = collections.Counter()
        self._offers_lock = threading.Lock()
        self._chosen = threading.local()
        super().__init__(*self.backends[0], one_way_delay_ms=0)

    # DelayProxy connects to (target_host, target_port): each connection's thread sees its own.
    @property
    def target_host(self) -> str:
        return str(self._chosen.backend[0])

    @target_host.setter
    def target_host(self, _value: str) -> None:
        pass

    @property
    def target_port(self) -> int:
        return int(self._chosen.backend[1])

    @target_port.setter
    def target_port(self, _value: int) -> None:
        pass

    def _handle(self, connection: socket.socket) -> None:
        client, offers = client_hello_kind(self._peek_record(connection))
        backend = self.backends[0]
        if offers:
            with self._offers_lock:
                turn = self._offers[client]
                self._offers[client] += 1
            backend = self.backends[turn % len(self.backends)]
        self._chosen.backend = backend
        super()._handle(connection)

    @staticmethod
    def _peek_record(connection: socket.socket) -> bytes:
        """The first TLS record, left unread for the backend."""
        data = b""
        while len(data) < MAX_CLIENT_HELLO_RECORD_BYTES:
            data = connection.recv(MAX_CLIENT_HELLO_RECORD_BYTES, socket.MSG_PEEK)
            if len(data) >= 5 and len(data) >= 5 + struct.unpack_from("!H", data, 3)[0]:
                return data
            if not data:
                raise ConnectionError("the client closed before its ClientHello")
            threading.Event().wait(0.001)
        raise ConnectionError("no ClientHello record in the first bytes")


def test_tickets_reissued_on_resumption_still_count(pki: TestPKI, tmp_path: Path) -> None:
    # Given a balancer over two nginx backends that hold the same two ticket keys in opposite
    # order (a key rotation half rolled out): full handshakes reach the first, and session offers
    # alternate between the two. The second opens the first's tickets with its old key, and so
    # re-issues a ticket under its own on every resumption
    old, old_name = ticket_key_file(tmp_path, "old.key")
    new, new_name = ticket_key_file(tmp_path, "new.key")
    with (
        nginx(
            pki, cache="shared:SSL:1m", tickets="on", server_directives=ticket_keys(old, new)
        ) as first,
        nginx(
            pki, cache="shared:SSL:1m", tickets="on", server_directives=ticket_keys(new, old)
        ) as second,
        RoundRobinProxy([(first.host, first.port), (second.host, second.port)]) as balancer,
    ):
        outcome = resumption_on(balancer.port, pki)
    result = result_of(outcome)
    # Then ticket resumption is 5 out of 5 although the 2 attempts on the second were re-issued
    assert_resumed_every_time(result.session_ticket)
    tls12 = result.tls12_tickets
    assert tls12 is not None
    assert tls12.reissued_on_resumption is True
    assert tls12.tickets_seen == TLS12_FULL_HANDSHAKES + 2
    assert sorted(tls12.key_names) == sorted((old_name, new_name))
    assert tls12.single_key_name is False
    # And Session IDs resume only on the backend that cached them: attempts 1, 3 and 5
    session_id = result.session_id
    assert session_id.support is Support.SUPPORTED
    assert (session_id.attempts, session_id.resumed, session_id.resumption_rate) == (5, 3, 0.6)
    assert session_id.note is None
    assert (session_id.full_round_trips, session_id.resumed_round_trips) == (2, 1)
    # And TLS 1.3 tickets open on both, as the keys are shared
    assert_resumed_every_time(result.tls13_psk, tls13=True)


def test_single_use_tls13_tickets_are_resumed_one_ticket_each(pki: TestPKI) -> None:
    # Given s_server accepting early data with its anti-replay on: each TLS 1.3 ticket resumes
    # once (RFC 8446 §8.1); TLS 1.2 sessions resume any number of times
    with OpenSSLServer(pki.ecdsa_p256, "-early_data", www=False) as server:
        outcome = resumption_on(server.port, pki)
    result = result_of(outcome)
    # Then TLS 1.2 resumes every time, the 5 attempts offering one session at once
    assert_resumed_every_time(result.session_id)
    assert_resumed_every_time(result.session_ticket)
    # And of 5 TLS 1.3 attempts offering one ticket at once, 1 resumed; each attempt then ran
    # again on the fresh ticket of its own connection, and all 5 resumed
    tls13 = result.tls13_psk
    assert tls13.support is Support.SUPPORTED
    assert (tls13.attempts, tls13.resumed, tls13.resumption_rate) == (ATTEMPTS, 5, 1.0)
    assert tls13.note == (
        "1 of 5 attempts offering one ticket at once resumed (a server may accept a ticket "
        "once, RFC 8446 §8.1): 5 ran again, each on a ticket of its own"
    )
    assert (tls13.full_round_trips, tls13.resumed_round_trips) == (1, 1)
    # And the tickets say 16 KiB of early data: s_server -early_data's default
    assert result.tls13_tickets is not None
    assert result.tls13_tickets.max_early_data_bytes == 16384
    # And the second round cost 5 connections more
    assert outcome.connections == ALL_THREE_CONNECTIONS + ATTEMPTS


# -- Round trips at a simulated RTT --------------------------------------------------------


def test_round_trips_through_a_delay_proxy(pki: TestPKI) -> None:
    # Given nginx with cache and tickets behind a proxy adding 10 ms each way
    with (
        nginx(pki, cache="shared:SSL:1m", tickets="on") as server,
        DelayProxy("127.0.0.1", server.port, one_way_delay_ms=10) as proxy,
    ):
        outcome = resumption_on(proxy.port, pki)
    result = result_of(outcome)
    # Then the flights say: TLS 1.2 full = 2 round trips, resumed = 1; TLS 1.3 1 and 1
    for attempts in (result.session_id, result.session_ticket):
        assert (attempts.full_round_trips, attempts.resumed_round_trips) == (2, 1)
        assert attempts.resumed == ATTEMPTS
    tls13 = result.tls13_psk
    assert (tls13.full_round_trips, tls13.resumed_round_trips) == (1, 1)
    assert tls13.resumed == ATTEMPTS


# -- Refusals ------------------------------------------------------------------------------


def versions_outcome(*supported: str) -> ProbeOutcome[object]:
    """A versions result as the versions probe would give it, without its connections."""
    return ProbeOutcome(
        probe=ProbeId.VERSIONS,
        status=ProbeStatus.COMPLETED,
        result=VersionsResult(
            versions=(),
            supported=supported,
            highest=supported[-1],
            lowest=supported[0],
            tolerates_grease=None,
            tolerates_large_hello=None,
            intolerance=(),
        ),
    )


def test_a_server_that_stops_mid_way_counts_as_not_resumed(pki: TestPKI) -> None:
    # Given s_server that exits after 4 connections: the timed one, the first full handshake,
    # the full handshake beside the attempts and the first attempt; every later connection is
    # refused. One connection at a time, TLS 1.3 only: the probe's connections keep their order
    with OpenSSLServer(pki.ecdsa_p256, "-naccept", "4") as server:
        context = make_context(server.port, ca_file=pki.root_path, max_connections=1)
        context.outcomes[ProbeId.VERSIONS] = versions_outcome("TLSv1.3")
        outcome = run_probe(ResumptionProbe(), context)
    result = result_of(outcome)
    # Then the refused attempts are attempts that did not resume, each with its reason
    tls13 = result.tls13_psk
    assert tls13.support is Support.SUPPORTED
    assert (tls13.attempts, tls13.resumed, tls13.resumption_rate) == (5, 1, 0.2)
    assert tls13.note is not None
    assert [part.split(":")[0] for part in tls13.note.split("; ")] == [
        f"attempt {number}" for number in range(2, ATTEMPTS + 1)
    ]
    # And psk_ke is unknown: the engine's handshake for a ticket was refused too
    assert result.psk_ke is Support.UNKNOWN
    assert result.psk_dhe_ke is Support.SUPPORTED
    assert outcome.connections == PER_MECHANISM + 1


def test_a_refused_first_handshake_makes_its_mechanism_unknown(pki: TestPKI) -> None:
    # Given s_server that exits after 2 connections: the timed one and the first full handshake
    # of one mechanism (whichever connects first, as the three start at once)
    with OpenSSLServer(pki.ecdsa_p256, "-naccept", "2") as server:
        context = make_context(server.port, ca_file=pki.root_path)
        context.outcomes[ProbeId.VERSIONS] = versions_outcome("TLSv1.2", "TLSv1.3")
        outcome = run_probe(ResumptionProbe(), context)
    result = result_of(outcome)
    mechanisms = (result.session_id, result.session_ticket, result.tls13_psk)
    started = [entry for entry in mechanisms if entry.attempts]
    refused = [entry for entry in mechanisms if not entry.attempts]
    # Then the mechanism whose full handshake went through tried 5 times, each refused
    assert len(started) == 1
    (tried,) = started
    assert tried.support is Support.NOT_SUPPORTED
    assert (tried.attempts, tried.resumed) == (ATTEMPTS, 0)
    assert tried.note is not None
    assert [part.split(":")[0] for part in tried.note.split("; ")] == [
        f"attempt {number}" for number in range(1, ATTEMPTS + 1)
    ]
    # And the two whose full handshake was refused are unknown, not "not supported"
    assert len(refused) == 2
    for attempts in refused:
        assert attempts.support is Support.UNKNOWN
        assert attempts.note is not None
        assert attempts.note.startswith("full handshake failed: ")
    # And the connections: 3 first handshakes, 6 beside and resuming, and for TLS 1.3 the
    # engine's handshake for a psk_ke ticket
    engine = 1 if tried.mechanism == "tls13_psk" else 0
    assert outcome.connections == 3 + 1 + ATTEMPTS + engine


def test_a_server_refusing_every_full_handshake_fails_the_probe(pki: TestPKI) -> None:
    # Given s_server that exits after the timed connection
    with OpenSSLServer(pki.ecdsa_p256, "-naccept", "1") as server:
        context = make_context(server.port, ca_file=pki.root_path)
        context.outcomes[ProbeId.VERSIONS] = versions_outcome("TLSv1.2", "TLSv1.3")
        outcome = run_probe(ResumptionProbe(), context)
    # Then the probe failed, and still says what it tried
    assert outcome.status is ProbeStatus.FAILED
    assert outcome.error is not None
    assert outcome.error.kind.value in ("connect", "connection_lost")
    partial = outcome.result
    assert isinstance(partial, ResumptionResult)
    for attempts in (partial.session_id, partial.session_ticket, partial.tls13_psk):
        assert attempts.support is Support.UNKNOWN
        assert attempts.note is not None
        assert attempts.note.startswith("full handshake failed: ")
    assert outcome.connections == 3
