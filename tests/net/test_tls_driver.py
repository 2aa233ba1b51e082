"""The engine driver against real servers: flights named and timed from the wire, tickets with
their arrival time, a held-back Finished, and refusals mapped to the project's errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from httpsaudit.errors import AlertReceived, ConnectionLost, Phase, RemoteProtocolError
from httpsaudit.net.clock import Deadline, now_ns
from httpsaudit.net.http1 import build_request
from httpsaudit.net.tls_driver import EngineConnection, ReceivedTicket
from httpsaudit.net.transport import TcpConnection
from httpsaudit.tls.client import ClientConnection, ClientParams
from httpsaudit.tls.codes import AlertDescription, NamedGroup, PskKeyExchangeMode
from tests.pki import TestPKI
from tests.servers import NginxServer, OpenSSLServer, RawServer

STEP_TIMEOUT_S = 5.0
REQUEST = build_request("GET", "/", "localhost")
FULL_HANDSHAKE_SERVER_FLIGHT = (
    "ServerHello",
    "EncryptedExtensions",
    "Certificate",
    "CertificateVerify",
    "Finished",
)


def connect(port: int, params: ClientParams) -> EngineConnection:
    transport = TcpConnection.connect("127.0.0.1", port, Deadline.after(STEP_TIMEOUT_S))
    return EngineConnection(transport, ClientConnection(params))


def deadline() -> Deadline:
    return Deadline.after(STEP_TIMEOUT_S)


def named_flights(connection: EngineConnection) -> list[tuple[str, tuple[str, ...]]]:
    return [(flight.direction.value, flight.messages) for flight in connection.flights()]


@pytest.fixture
def early_nginx(pki: TestPKI) -> Iterator[NginxServer]:
    with NginxServer(
        "session",
        pki.ecdsa_p256,
        session_cache="off",
        session_tickets="on",
        session_timeout="300s",
        server_directives="ssl_early_data on;",
    ) as server:
        yield server


def full_handshake_tickets(port: int) -> tuple[ReceivedTicket, ...]:
    connection = connect(port, ClientParams.generate("localhost", alpn=("http/1.1",)))
    connection.handshake(deadline())
    connection.request(REQUEST, deadline())
    connection.close(deadline())
    return connection.tickets


def test_a_full_handshake_and_request_are_flights_on_the_wire(
    pki: TestPKI, early_nginx: NginxServer
) -> None:
    # Given nginx and a plain TLS 1.3 client hello with an x25519 share
    connection = connect(early_nginx.port, ClientParams.generate("localhost", alpn=("http/1.1",)))
    # When the handshake runs and one GET follows
    handshake = connection.handshake(deadline())
    response = connection.request(REQUEST, deadline())
    connection.close(deadline())
    # Then the handshake is three flights, one round trip, named message by message
    assert [(flight.direction.value, flight.messages) for flight in handshake.flights] == [
        ("client", ("ClientHello",)),
        ("server", FULL_HANDSHAKE_SERVER_FLIGHT),
        ("client", ("ChangeCipherSpec", "Finished")),
    ]
    assert handshake.round_trips == 1
    assert handshake.flights[0].wire_bytes == len(handshake.first_flight)
    assert (handshake.negotiated.group, handshake.negotiated.alpn) == (
        NamedGroup.x25519,
        "http/1.1",
    )
    leaf = pki.ecdsa_p256.certificate.public_bytes(Encoding.DER)
    assert handshake.certificate_ders[0] == leaf
    # And the answer came one round trip after the request: two from TCP connected
    assert (response.head.status, response.round_trips) == (200, 2)
    assert response.first_byte_ns > response.request_sent_ns > handshake.first_flight_sent_ns
    # And nginx's two tickets arrived after the handshake, each stamped as it came
    assert len(connection.tickets) == 2
    for ticket in connection.tickets:
        assert handshake.completed_ns < ticket.received_ns <= now_ns()
        assert ticket.ticket.max_early_data_size == 16384
        assert ticket.ticket.alpn == "http/1.1"


def test_a_hello_retry_request_costs_a_round_trip(pki: TestPKI) -> None:
    # Given s_server accepting secp384r1 only, and a client sending an x25519 share
    with OpenSSLServer(pki.ecdsa_p256, "-groups", "secp384r1") as server:
        connection = connect(server.port, ClientParams.generate("localhost"))
        # When the handshake runs
        handshake = connection.handshake(deadline())
        connection.close(deadline())
    # Then the server asked for another hello, and the flights show it
    assert handshake.negotiated.hello_retry_request is True
    assert handshake.negotiated.group == NamedGroup.secp384r1
    assert [(flight.direction.value, flight.messages) for flight in handshake.flights] == [
        ("client", ("ClientHello",)),
        ("server", ("HelloRetryRequest",)),
        ("client", ("ChangeCipherSpec", "ClientHello")),
        ("server", FULL_HANDSHAKE_SERVER_FLIGHT),
        ("client", ("Finished",)),
    ]
    assert handshake.round_trips == 2


def test_0rtt_with_a_held_finished_shows_an_answer_from_early_data(
    early_nginx: NginxServer,
) -> None:
    # Given a ticket from nginx, which answers early data at once
    ticket = full_handshake_tickets(early_nginx.port)[0]
    params = ClientParams.generate(
        "localhost",
        alpn=("http/1.1",),
        ticket=ticket.ticket,
        ticket_age_ms=ticket.age_ms(),
        early_data=REQUEST,
    )
    connection = connect(early_nginx.port, params)
    # When the GET goes as early data and our Finished is held back
    handshake = connection.handshake(deadline(), hold_finished=True)
    assert connection.finished_sent_ns is None
    response = connection.read_response_head(
        deadline(),
        sent_ns=handshake.first_flight_sent_ns,
        round_trips_before=0,
        finished_wait=Deadline.after(1.0),
    )
    connection.close(deadline())
    # Then the server accepted the early data and answered before our Finished left
    assert (handshake.early_data_accepted, handshake.resumed) == (True, True)
    assert (response.head.status, response.before_finished, response.round_trips) == (200, True, 1)
    finished_sent = connection.finished_sent_ns
    assert finished_sent is not None
    assert finished_sent >= response.first_byte_ns
    assert named_flights(connection)[:2] == [
        ("client", ("ClientHello", "ChangeCipherSpec", "EarlyData")),
        ("server", ("ServerHello", "EncryptedExtensions", "Finished")),
    ]
    assert named_flights(connection)[2] == ("client", ("EndOfEarlyData", "Finished"))


def test_a_psk_ke_refusal_is_an_alert_error(pki: TestPKI) -> None:
    # Given a ticket from s_server, which by default refuses resumption without (EC)DHE
    with OpenSSLServer(pki.ecdsa_p256) as server:
        ticket = full_handshake_tickets(server.port)[0]
        params = ClientParams.generate(
            "localhost",
            alpn=("http/1.1",),
            ticket=ticket.ticket,
            ticket_age_ms=ticket.age_ms(),
            psk_modes=(PskKeyExchangeMode.psk_ke,),
        )
        connection = connect(server.port, params)
        # When the ticket is offered in psk_ke mode alone
        with pytest.raises(AlertReceived) as refused:
            connection.handshake(deadline())
        connection.close(deadline())
    # Then the refusal is the server's alert, named
    assert refused.value.description == AlertDescription.MISSING_EXTENSION
    assert refused.value.phase is Phase.TLS
    assert named_flights(connection) == [
        ("client", ("ClientHello",)),
        ("server", ("Alert (missing_extension)",)),
        ("client", ("Alert (close_notify)",)),
    ]


def test_a_close_during_the_handshake_is_connection_lost() -> None:
    # Given a server that closes as soon as it accepts
    with RawServer("close") as server:
        connection = connect(server.port, ClientParams.generate("localhost"))
        # Then the handshake ends in ConnectionLost, in the TLS phase
        with pytest.raises(ConnectionLost) as lost:
            connection.handshake(deadline())
        connection.close(deadline())
    assert (lost.value.phase, lost.value.bytes_received) == (Phase.TLS, 0)


def test_bytes_that_are_not_tls_are_the_engines_protocol_error() -> None:
    # Given a server answering the ClientHello with garbage
    with RawServer("garbage") as server:
        connection = connect(server.port, ClientParams.generate("localhost"))
        # Then the engine refuses the bytes with the project's protocol error
        with pytest.raises(RemoteProtocolError):
            connection.handshake(deadline())
        connection.close(deadline())
    assert connection.engine.alert_sent == AlertDescription.DECODE_ERROR
