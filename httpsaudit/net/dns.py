"""Name resolution under a deadline: dnspython by default (timed, with server, TTL and CNAME
chain), or the system's getaddrinfo when asked. dnspython errors stop here."""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdtypes.svcbbase
import dns.resolver

from httpsaudit.errors import Phase, PhaseTimeout, ResolveError, UsageError
from httpsaudit.net.clock import Deadline, now_ns, ns_to_ms
from httpsaudit.results import DnsQuery, DnsResult, SvcbRecord

DNS_PORT = 53
# A and AAAA are asked side by side, as glibc and browsers do.
_QUERY_TYPES = ("A", "AAAA")


@dataclass(frozen=True, slots=True)
class ResolverAddress:
    """A DNS server to ask instead of the system's configured ones."""

    host: str
    port: int = DNS_PORT

    @property
    def display(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_resolver(text: str) -> ResolverAddress:
    """``IP``, ``IP:PORT`` or ``[IPv6]:PORT``; a name is refused (who would resolve it?)."""
    value = text.strip()
    host, port_text = value, ""
    if value.startswith("["):
        host, closed, rest = value[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")) or ":" not in host:
            raise UsageError(
                f"--resolver: brackets hold an IPv6 address: [IPv6]:PORT, not {text!r}"
            )
        port_text = rest[1:]
    elif value.count(":") == 1:
        host, _, port_text = value.partition(":")
    try:
        ipaddress.ip_address(host)
    except ValueError as exc:
        raise UsageError(f"--resolver needs an IP address, got {text!r}") from exc
    if port_text and (not port_text.isdigit() or not 1 <= int(port_text) <= 65535):
        raise UsageError(f"--resolver has an invalid port in {text!r}")
    return ResolverAddress(host, int(port_text) if port_text else DNS_PORT)


def _make_resolver(server: ResolverAddress | None) -> dns.resolver.Resolver:
    try:
        if server is None:
            return dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration as exc:
        raise ResolveError(
            "no DNS servers configured (use --resolver or --system-resolver)", phase=Phase.DNS
        ) from exc
    except OSError as exc:
        raise ResolveError(
            f"cannot read the resolver configuration: {exc}", phase=Phase.DNS
        ) from exc
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [server.host]
    resolver.port = server.port
    return resolver


def _ask(
    resolver: dns.resolver.Resolver, name: str, record_type: str, deadline: Deadline
) -> tuple[DnsQuery, tuple[str, ...]]:
    """One query; returns its summary and the CNAME chain it revealed."""
    started = now_ns()
    status, addresses, ttl, server = "error", (), None, None
    cnames: tuple[str, ...] = ()
    try:
        answer = resolver.resolve(
            name,
            record_type,
            lifetime=max(deadline.remaining(), 0.001),
            search=False,
            raise_on_no_answer=False,
        )
        server = _server_label(answer.nameserver, answer.port)
        cnames = tuple(
            rrset[0].target.to_text(omit_final_dot=True) for rrset in answer.chaining_result.cnames
        )
        if answer.rrset is None:
            status = "nodata"
        else:
            status = "answer"
            addresses = tuple(record.address for record in answer.rrset)
            ttl = answer.chaining_result.minimum_ttl
    except dns.resolver.NXDOMAIN:
        status = "nxdomain"
    except dns.resolver.LifetimeTimeout:
        status = "timeout"
    except dns.resolver.NoNameservers:
        status = "servfail"
    except dns.exception.DNSException:
        status = "error"
    duration_ms = ns_to_ms(now_ns() - started)
    return DnsQuery(record_type, status, addresses, ttl, duration_ms, server), cnames


def _server_label(host: str | None, port: int | None) -> str | None:
    if host is None:
        return None
    port = port or DNS_PORT
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def resolve(name: str, deadline: Deadline, *, server: ResolverAddress | None = None) -> DnsResult:
    """Ask for A and AAAA in parallel; raise ResolveError/PhaseTimeout when nothing came back."""
    resolver = _make_resolver(server)
    started = now_ns()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(_QUERY_TYPES)) as pool:
        futures = [pool.submit(_ask, resolver, name, kind, deadline) for kind in _QUERY_TYPES]
        answers = [future.result() for future in futures]
    duration_ms = ns_to_ms(now_ns() - started)
    queries = tuple(query for query, _ in answers)
    addresses = tuple(address for query in queries for address in query.addresses)
    cname_chain = next((cnames for _, cnames in answers if cnames), ())
    ttls = [query.ttl_s for query in queries if query.ttl_s is not None]
    answered_by = next((query.server for query in queries if query.server), None)
    if not addresses:
        statuses = {query.status for query in queries}
        asked = server.display if server else "the system's DNS servers"
        if statuses == {"timeout"}:
            raise PhaseTimeout(f"DNS server {asked} did not answer for {name}", phase=Phase.DNS)
        if "nxdomain" in statuses:
            raise ResolveError(f"{name} does not exist (NXDOMAIN from {asked})", phase=Phase.DNS)
        summary = ", ".join(f"{query.record_type} {query.status}" for query in queries)
        raise ResolveError(f"{name} has no address ({summary})", phase=Phase.DNS)
    return DnsResult(
        name=name,
        resolver="dnspython",
        server=answered_by,
        addresses=addresses,
        cname_chain=cname_chain,
        ttl_s=min(ttls) if ttls else None,
        duration_ms=duration_ms,
        queries=queries,
    )


def resolve_system(name: str, port: int, deadline: Deadline) -> DnsResult:
    """getaddrinfo (hosts file, nsswitch, caches); it cannot be interrupted, so it runs in a
    worker thread that we stop waiting for at the deadline."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    started = now_ns()
    future = pool.submit(socket.getaddrinfo, name, port, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(deadline.remaining(), 0.001))
    except concurrent.futures.TimeoutError as exc:
        raise PhaseTimeout(
            f"getaddrinfo for {name} did not return in time", phase=Phase.DNS
        ) from exc
    except socket.gaierror as exc:
        raise ResolveError(f"{name} did not resolve: {exc.strerror}", phase=Phase.DNS) from exc
    except OSError as exc:
        raise ResolveError(f"{name} did not resolve: {exc}", phase=Phase.DNS) from exc
    finally:
        pool.shutdown(wait=False)
    duration_ms = ns_to_ms(now_ns() - started)
    addresses: list[str] = []
    for _family, _type, _proto, _canonical, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return DnsResult(
        name=name,
        resolver="system",
        server=None,
        addresses=tuple(addresses),
        cname_chain=(),
        ttl_s=None,
        duration_ms=duration_ms,
    )


def resolve_https(
    name: str, deadline: Deadline, *, server: ResolverAddress | None
) -> tuple[str, tuple[SvcbRecord, ...]]:
    """(status, records) of the DNS HTTPS record (RFC 9460); every DNS failure is a status.

    ``--system-resolver`` cannot help here: getaddrinfo never returns HTTPS records.
    """
    if deadline.expired:
        return "timeout", ()
    try:
        answer = _make_resolver(server).resolve(
            name,
            "HTTPS",
            lifetime=max(deadline.remaining(), 0.001),
            search=False,
            raise_on_no_answer=False,
        )
    except dns.resolver.NXDOMAIN:
        return "nxdomain", ()
    except dns.resolver.LifetimeTimeout:
        return "timeout", ()
    except dns.resolver.NoNameservers:
        return "servfail", ()
    except (dns.exception.DNSException, ResolveError, OSError):
        # No resolver configured, an unreadable resolv.conf, a malformed answer.
        return "error", ()
    if answer.rrset is None:
        return "nodata", ()
    records = tuple(
        _svcb_record(rdata)
        for rdata in answer.rrset
        if isinstance(rdata, dns.rdtypes.svcbbase.SVCBBase)
    )
    return "answer", tuple(sorted(records, key=lambda record: (record.priority, record.target)))


def _svcb_record(rdata: dns.rdtypes.svcbbase.SVCBBase) -> SvcbRecord:
    """RFC 9460 §2.3: priority 0 is AliasMode; target "." means the owner name itself."""
    params = rdata.params
    key = dns.rdtypes.svcbbase.ParamKey
    alpn = params.get(key.ALPN)
    port = params.get(key.PORT)
    ipv4 = params.get(key.IPV4HINT)
    ipv6 = params.get(key.IPV6HINT)
    target: dns.name.Name = rdata.target
    return SvcbRecord(
        priority=rdata.priority,
        target="." if target == dns.name.root else target.to_text(omit_final_dot=True),
        alpn=tuple(protocol.decode("ascii", "replace") for protocol in alpn.ids)
        if isinstance(alpn, dns.rdtypes.svcbbase.ALPNParam)
        else (),
        port=port.port if isinstance(port, dns.rdtypes.svcbbase.PortParam) else None,
        ipv4hint=tuple(str(address) for address in ipv4.addresses)
        if isinstance(ipv4, dns.rdtypes.svcbbase.IPv4HintParam)
        else (),
        ipv6hint=tuple(str(address) for address in ipv6.addresses)
        if isinstance(ipv6, dns.rdtypes.svcbbase.IPv6HintParam)
        else (),
        ech=key.ECH in params,
    )
