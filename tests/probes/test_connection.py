"""The timed connection against real servers: negotiated values, flights, round trips, HTTP."""

from __future__ import annotations

import socket

import pytest

from httpsaudit.probes.base import ScanOptions
from httpsaudit.results import ConnectionResult, Direction, ProbeStatus, ScanResult
from httpsaudit.scan import scan
from httpsaudit.target import parse_address, parse_target
from tests.pki import TestPKI
from tests.scanning import scan_local, scan_via_resolver
from tests.servers import (
    DelayProxy,
    DnsServer,
    NginxServer,
    OpenSSLServer,
    PythonTlsServer,
    RawServer,
    has_ipv6_loopback,
)


def completed(result: ScanResult) -> ConnectionResult:
    assert result.connection.status is ProbeStatus.COMPLETED, result.connection.error
    assert result.connection.result is not None
    return result.connection.result


def test_tls13_full_handshake_is_one_round_trip_with_named_flights(pki: TestPKI) -> None:
    # Given an OpenSSL 3.0 server with TLS 1.3 and only classic groups
    with OpenSSLServer(pki.ecdsa_p256) as server:
        # When we scan it
        result = scan_local(server.port, ca_file=pki.root_path)
    connection = completed(result)
    tls = connection.tls
    assert tls is not None
    # Then the negotiated values come from the wire
    assert tls.version == "TLSv1.3"
    assert tls.version_code == 0x0304
    assert tls.cipher_suite == "TLS_AES_256_GCM_SHA384"
    assert tls.cipher_suite_code == 0x1302
    assert tls.group == "x25519"
    assert tls.group_code == 0x001D
    assert tls.sni == "localhost"
    assert tls.alpn is None
    assert tls.hello_retry_request is False
    # And the flights are ClientHello -> server flight -> client Finished: one round trip
    assert [flight.direction for flight in tls.flights] == [
        Direction.CLIENT,
        Direction.SERVER,
        Direction.CLIENT,
    ]
    assert tls.flights[0].messages == ("ClientHello",)
    assert tls.flights[1].messages == (
        "ServerHello",
        "EncryptedExtensions",
        "Certificate",
        "CertificateVerify",
        "Finished",
    )
    assert tls.flights[2].messages[-1] == "Finished"
    assert tls.round_trips == 1
    assert tls.client_hello_bytes == tls.flights[0].wire_bytes > 0
    assert tls.server_first_flight_bytes == tls.flights[1].wire_bytes
    assert tls.flights[1].records >= 2
    assert tls.handshake_ms >= tls.flights[1].start_ms >= 0
    # And s_server -www answered the GET
    assert connection.http is not None
    assert connection.http.status == 200
    assert connection.http.method == "GET"
    assert connection.tcp is not None
    assert connection.tcp.address == "127.0.0.1"
    assert connection.dns is None  # --connect-to an IP skips DNS
    assert result.connection.connections == 1


def test_tls12_full_handshake_is_two_round_trips(pki: TestPKI) -> None:
    # Given a TLS 1.2-only server
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as server:
        result = scan_local(server.port, ca_file=pki.root_path)
    tls = completed(result).tls
    assert tls is not None
    # Then two round trips, with the TLS 1.2 messages read in the clear
    assert tls.version == "TLSv1.2"
    assert tls.round_trips == 2
    assert tls.cipher_suite == "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
    assert tls.group == "x25519"  # from ServerKeyExchange
    assert tls.flights[1].messages == (
        "ServerHello",
        "Certificate",
        "ServerKeyExchange",
        "ServerHelloDone",
    )
    assert tls.flights[2].messages == ("ClientKeyExchange", "ChangeCipherSpec", "Finished")
    assert tls.flights[3].direction is Direction.SERVER
    assert tls.flights[3].messages[-1] == "Finished"
    # And the Certificate message size is exact: header + list length + length per certificate
    expected = 4 + 3 + sum(3 + size for size in pki.ecdsa_p256.chain_der_sizes)
    assert tls.certificate_message_bytes == expected


def test_hello_retry_request_costs_a_second_round_trip(pki: TestPKI) -> None:
    # Given a TLS 1.3 server that only accepts P-256, which our client sends no key share for
    with OpenSSLServer(pki.ecdsa_p256, "-groups", "P-256") as server:
        result = scan_local(server.port, ca_file=pki.root_path)
    tls = completed(result).tls
    assert tls is not None
    # Then the HRR shows in the flights and costs a round trip
    assert tls.version == "TLSv1.3"
    assert tls.group == "secp256r1"
    assert tls.hello_retry_request is True
    assert tls.round_trips == 2
    assert tls.flights[1].messages == ("HelloRetryRequest",)
    assert tls.flights[3].messages[0] == "ServerHello"
    assert [flight.direction for flight in tls.flights][:4] == [
        Direction.CLIENT,
        Direction.SERVER,
        Direction.CLIENT,
        Direction.SERVER,
    ]


def test_nginx_h2_alpn_and_response_headers(pki: TestPKI) -> None:
    # Given nginx with HTTP/2, HSTS and Alt-Svc
    with NginxServer("basic", pki.ecdsa_p256, http2="http2") as server:
        result = scan_local(server.port, ca_file=pki.root_path)
    connection = completed(result)
    assert connection.tls is not None
    assert connection.tls.alpn == "h2"
    # Then the request went over HTTP/2 and the headers were read
    http = connection.http
    assert http is not None
    assert http.protocol == "h2"
    assert http.status == 200
    assert http.server is not None
    assert http.server.startswith("nginx")
    assert http.strict_transport_security == "max-age=31536000"
    assert http.alt_svc == 'h3=":443"; ma=86400'


def test_nginx_http11_without_h2(pki: TestPKI) -> None:
    # Given nginx without HTTP/2 and without extra headers
    with NginxServer("basic", pki.ecdsa_p256, extra_headers="") as server:
        result = scan_local(server.port, ca_file=pki.root_path, method="HEAD")
    connection = completed(result)
    assert connection.tls is not None
    assert connection.tls.alpn == "http/1.1"
    http = connection.http
    assert http is not None
    assert http.protocol == "HTTP/1.1"
    assert http.method == "HEAD"
    assert http.status == 200
    assert http.reason == "OK"
    assert http.strict_transport_security is None
    assert http.alt_svc is None


def test_server_that_does_not_speak_http_still_gives_a_tls_result(pki: TestPKI) -> None:
    # Given a TLS server that closes without answering the request
    with PythonTlsServer(pki.ecdsa_p256, response=b"") as server:
        result = scan_local(server.port, ca_file=pki.root_path)
    connection = completed(result)
    # Then TLS is measured and the HTTP failure is kept as a note, not a probe failure
    assert connection.tls is not None
    assert connection.http is None
    assert connection.http_error is not None
    assert "closed the connection before responding" in connection.http_error
    assert result.reachable is True


def test_samples_repeat_cold_connections(pki: TestPKI) -> None:
    # Given a concurrent server
    with PythonTlsServer(pki.ecdsa_p256) as server:
        # When we ask for 4 samples
        result = scan_local(server.port, ca_file=pki.root_path, samples=4)
    connection = completed(result)
    # Then 4 cold connections were made and every phase has stats over them
    assert len(connection.samples) == 4
    assert result.connection.connections == 4
    phases = {stats.phase: stats for stats in connection.stats}
    assert set(phases) == {"tcp", "tls", "ttfb", "total"}
    for stats in phases.values():
        assert stats.samples == 4
        assert stats.min_ms <= stats.median_ms <= stats.p90_ms <= stats.max_ms
    assert connection.rtt_estimate_ms == phases["tcp"].min_ms


def test_dns_phase_with_cname_chain_ttl_and_server(pki: TestPKI) -> None:
    # Given a DNS responder where app.lab.test is a CNAME to lb.lab.test -> 127.0.0.1
    records = {
        "app.lab.test": [("CNAME", "lb.lab.test.")],
        "lb.lab.test": [("A", "127.0.0.1")],
    }
    with DnsServer(records, ttl=120) as dns_server, PythonTlsServer(pki.ecdsa_p256) as server:
        # When we scan the name through that resolver
        result = scan_via_resolver(
            f"app.lab.test:{server.port}", dns_server.port, ca_file=pki.root_path
        )
        queries = dns_server.queries
    connection = completed(result)
    dns = connection.dns
    assert dns is not None
    # Then the DNS phase records what the resolver said
    assert dns.resolver == "dnspython"
    assert dns.server == f"127.0.0.1:{dns_server.port}"
    assert dns.addresses == ("127.0.0.1",)
    assert dns.cname_chain == ("lb.lab.test",)
    assert dns.ttl_s == 120
    assert {query.record_type: query.status for query in dns.queries} == {
        "A": "answer",
        "AAAA": "nodata",
    }
    assert queries == 3  # A and AAAA for the connection, HTTPS for the HTTP/3 hints
    assert connection.samples[0].dns_ms == dns.duration_ms
    # And the certificate's *.lab.test covers the name
    certificate = result.certificate.result
    assert certificate is not None
    assert certificate.leaf.name_matches is True
    assert certificate.verification.trusted is True


@pytest.mark.parametrize(
    ("records", "kind"),
    [({}, "resolve"), ({"gone.lab.test": [("DROP", "")]}, "timeout")],
    ids=["nxdomain", "no-answer"],
)
def test_dns_failures_are_reported_at_the_dns_phase(
    records: dict[str, list[tuple[str, str]]], kind: str
) -> None:
    # Given a resolver that says NXDOMAIN or never answers
    with DnsServer(records) as dns_server:
        result = scan_via_resolver("gone.lab.test:443", dns_server.port, ca_file=None, timeout_s=3)
    # Then the connection probe failed at DNS and nothing was connected
    error = result.connection.error
    assert result.connection.status is ProbeStatus.FAILED
    assert error is not None
    assert error.kind.value == kind
    assert error.phase is not None
    assert error.phase.value == "dns"
    assert "gone.lab.test" in error.message
    assert result.connection.connections == 0
    assert result.reachable is False


@pytest.mark.skipif(not has_ipv6_loopback(), reason="no IPv6 loopback on this machine")
def test_ipv6_literal_target(pki: TestPKI) -> None:
    # Given a server on ::1
    with PythonTlsServer(pki.ecdsa_p256, host="::1") as server:
        target = parse_target(f"[::1]:{server.port}", sni="localhost")
        result = scan(target, ScanOptions(ca_file=pki.root_path, timeout_s=10))
    connection = completed(result)
    # Then we connected over IPv6 and sent the SNI we were told to
    assert connection.tcp is not None
    assert connection.tcp.address == "::1"
    assert connection.tls is not None
    assert connection.tls.sni == "localhost"
    assert connection.dns is None


def test_ip_literal_sends_no_sni(pki: TestPKI) -> None:
    # Given a server and a bare IP target (no --sni)
    with PythonTlsServer(pki.ecdsa_p256) as server:
        result = scan(
            parse_target(f"127.0.0.1:{server.port}"),
            ScanOptions(ca_file=pki.root_path, timeout_s=10),
        )
    connection = completed(result)
    # Then no SNI went out, and the leaf's IP SAN matches the address
    assert connection.tls is not None
    assert connection.tls.sni is None
    certificate = result.certificate.result
    assert certificate is not None
    assert certificate.leaf.name_checked == "127.0.0.1"
    assert certificate.leaf.name_matches is True


@pytest.mark.parametrize(
    ("extra", "rtts"),
    [((), 1), (("-no_tls1_3",), 2)],
    ids=["tls13", "tls12"],
)
def test_round_trips_through_a_simulated_rtt(
    pki: TestPKI, extra: tuple[str, ...], rtts: int
) -> None:
    # Given 40 ms one-way delay (80 ms RTT) between us and the server
    one_way_ms = 40.0
    rtt_ms = 2 * one_way_ms
    with (
        OpenSSLServer(pki.ecdsa_p256, *extra) as server,
        DelayProxy("127.0.0.1", server.port, one_way_ms) as proxy,
    ):
        result = scan_local(proxy.port, ca_file=pki.root_path)
    tls = completed(result).tls
    assert tls is not None
    # Then the round trips are counted from the flights...
    assert tls.round_trips == rtts
    # ...and physics fixes the handshake time: at least N RTTs, well under N+1
    assert tls.handshake_ms >= rtts * rtt_ms * 0.95
    assert tls.handshake_ms < (rtts + 0.9) * rtt_ms
    # And the first server flight arrives about one RTT after the ClientHello
    server_flight = tls.flights[1]
    assert server_flight.start_ms >= rtt_ms * 0.95


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("behaviour", "kind", "phase", "words"),
    [
        ("silent", "timeout", "tls", "sent nothing before the deadline"),
        ("garbage", "protocol", "tls", "not TLS"),
        ("http", "protocol", "tls", "plain HTTP"),
        ("reset", "connection_lost", "tls", "reset"),
        ("truncated", "connection_lost", "tls", "closed the connection during the TLS handshake"),
        # Closed before our ClientHello arrives: a FIN or, racing it, an RST. Both are losses.
        ("close", "connection_lost", "tls", "the connection"),
    ],
)
def test_misbehaving_servers_fail_at_tls_with_a_clear_error(
    behaviour: str, kind: str, phase: str, words: str
) -> None:
    # Given a TCP server that is not a working TLS server
    with RawServer(behaviour) as server:  # type: ignore[arg-type]
        result = scan_local(server.port, ca_file=None, timeout_s=2)
    # Then the connection probe failed in the TLS phase, keeping the TCP measurement
    outcome = result.connection
    assert outcome.status is ProbeStatus.FAILED
    assert outcome.error is not None
    assert outcome.error.kind.value == kind
    assert outcome.error.phase is not None
    assert outcome.error.phase.value == phase
    assert words in outcome.error.message
    assert outcome.result is not None
    assert outcome.result.tcp is not None
    assert outcome.result.tls is None
    assert result.reachable is False
    assert result.certificate.status is ProbeStatus.SKIPPED


def test_refused_port_fails_at_tcp() -> None:
    # Given a port nobody listens on
    result = scan_local(_unused_port(), ca_file=None, timeout_s=3)
    # Then TCP failed with "refused"
    error = result.connection.error
    assert error is not None
    assert error.kind.value == "connect"
    assert error.phase is not None
    assert error.phase.value == "tcp"
    assert "refused" in error.message


def test_alert_from_the_server_is_named_and_the_flights_kept(pki: TestPKI) -> None:
    # Given a TLS 1.3-only server whose one cipher suite our client does not offer
    with OpenSSLServer(
        pki.ecdsa_p256, "-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_8_SHA256"
    ) as server:
        result = scan_local(server.port, ca_file=pki.root_path)
    # Then the alert is read from the wire and named
    outcome = result.connection
    assert outcome.status is ProbeStatus.FAILED
    assert outcome.error is not None
    assert outcome.error.kind.value == "alert"
    assert outcome.error.message.endswith(
        "refused the handshake with a fatal alert: handshake_failure"
    )
    # And the report keeps what went each way: our ClientHello, then the alert
    assert outcome.result is not None
    flights = outcome.result.failed_handshake_flights
    assert [flight.direction for flight in flights] == [Direction.CLIENT, Direction.SERVER]
    assert flights[0].messages == ("ClientHello",)
    assert flights[1].wire_bytes == 7  # one alert record: 5-byte header + level + description
    assert flights[1].messages == ("Alert (handshake_failure)",)


def test_idn_name_is_resolved_and_sent_as_punycode(pki: TestPKI) -> None:
    # Given a resolver that knows the punycode form of bücher.lab.test
    records = {"xn--bcher-kva.lab.test": [("A", "127.0.0.1")]}
    with DnsServer(records) as dns_server, PythonTlsServer(pki.ecdsa_p256) as server:
        # When the user types the Unicode name
        result = scan_via_resolver(
            f"https://bücher.lab.test:{server.port}/", dns_server.port, ca_file=pki.root_path
        )
    connection = completed(result)
    # Then DNS, SNI and the name check all used the punycode form
    assert connection.dns is not None
    assert connection.dns.name == "xn--bcher-kva.lab.test"
    assert connection.tls is not None
    assert connection.tls.sni == "xn--bcher-kva.lab.test"
    assert result.certificate.result is not None
    assert result.certificate.result.leaf.name_matches is True


def test_connect_to_a_name_resolves_it_but_sends_the_target_name(pki: TestPKI) -> None:
    # Given a backend name that resolves on our DNS server
    records = {"backend-2.lab.test": [("A", "127.0.0.1")]}
    with DnsServer(records) as dns_server, PythonTlsServer(pki.ecdsa_p256) as server:
        result = scan_via_resolver(
            "www.lab.test",
            dns_server.port,
            ca_file=pki.root_path,
            connect_to=(parse_address(f"backend-2.lab.test:{server.port}"),),
        )
    connection = completed(result)
    # Then the backend was resolved and reached, and the public name was sent
    assert connection.dns is not None
    assert connection.dns.name == "backend-2.lab.test"
    assert connection.tcp is not None
    assert connection.tcp.port == server.port
    assert connection.tls is not None
    assert connection.tls.sni == "www.lab.test"


def test_system_resolver_for_localhost(pki: TestPKI) -> None:
    # Given a server on 127.0.0.1 and the name localhost
    with PythonTlsServer(pki.ecdsa_p256) as server:
        default = scan(
            parse_target(f"localhost:{server.port}"),
            ScanOptions(ca_file=pki.root_path, timeout_s=10),
        )
        system = scan(
            parse_target(f"localhost:{server.port}"),
            ScanOptions(ca_file=pki.root_path, timeout_s=10, system_resolver=True),
        )
    # Then localhost never went to DNS, and --system-resolver used getaddrinfo
    for result in (default, system):
        dns = completed(result).dns
        assert dns is not None
        assert dns.resolver == "system"
        assert dns.server is None
        assert "127.0.0.1" in dns.addresses
    default_dns = completed(default).dns
    assert default_dns is not None
    assert default_dns.note is not None
    assert "RFC 6761" in default_dns.note
