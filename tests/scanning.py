"""Shortcuts for tests that scan a lab server: the target as a user would type it."""

from __future__ import annotations

from pathlib import Path

from httpsaudit.net.dns import ResolverAddress
from httpsaudit.probes.base import ScanOptions
from httpsaudit.results import ProbeId, ScanResult
from httpsaudit.scan import scan
from httpsaudit.target import ConnectAddress, parse_address, parse_target


def scan_local(
    port: int,
    *,
    ca_file: Path | None,
    host: str = "127.0.0.1",
    name: str = "localhost",
    timeout_s: float = 10.0,
    samples: int = 1,
    method: str = "GET",
    resolver: ResolverAddress | None = None,
    only_probes: frozenset[ProbeId] | None = None,
) -> ScanResult:
    """Scan ``name`` on a loopback server the way ``--connect-to HOST:PORT`` would."""
    address = f"[{host}]" if ":" in host else host
    target = parse_target(f"{name}:{port}", connect_to=(parse_address(f"{address}:{port}"),))
    options = ScanOptions(
        ca_file=ca_file,
        timeout_s=timeout_s,
        samples=samples,
        method=method,
        resolver=resolver,
        only_probes=only_probes,
    )
    return scan(target, options)


def scan_via_resolver(
    text: str,
    dns_port: int,
    *,
    ca_file: Path | None,
    connect_to: tuple[ConnectAddress, ...] = (),
    timeout_s: float = 10.0,
) -> ScanResult:
    """Scan ``text`` resolving names through the lab DNS server on 127.0.0.1:``dns_port``."""
    options = ScanOptions(
        ca_file=ca_file,
        timeout_s=timeout_s,
        resolver=ResolverAddress("127.0.0.1", dns_port),
    )
    return scan(parse_target(text, connect_to=connect_to), options)
