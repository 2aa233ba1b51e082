"""Run one probe end to end against a lab server, the way scan.py would, without the others.

The timed connection runs first (every probe builds on it), then the probes named in
``first``, then the probe under test; its outcome comes back with its own connection count.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from httpsaudit.net.clock import Deadline
from httpsaudit.net.openssl_client import ClientConfig, ReferenceClient
from httpsaudit.probes.base import ConnectionLimiter, Probe, ProbeContext, ScanOptions
from httpsaudit.probes.connection import ConnectionProbe
from httpsaudit.results import ProbeId, ProbeOutcome, ProbeStatus
from httpsaudit.scan import run_probe
from httpsaudit.target import ConnectAddress, parse_address, parse_target


def make_context(
    port: int,
    *,
    ca_file: Path | None,
    name: str = "localhost",
    host: str = "127.0.0.1",
    timeout_s: float = 20.0,
    max_connections: int = 5,
    require_connection: bool = True,
    connect_to: Sequence[ConnectAddress] = (),
) -> ProbeContext:
    """A scan context for ``name`` on a loopback server, with the timed connection done.

    ``require_connection=False`` accepts a failed handshake (a server the reference client
    cannot speak to, a broken middlebox): raw-hello probes only need the address.
    ``connect_to`` replaces ``host``: several backends of one name, as ``--connect-to`` twice.
    """
    address = f"[{host}]" if ":" in host else host
    backends = tuple(connect_to) or (parse_address(f"{address}:{port}"),)
    target = parse_target(f"{name}:{port}", connect_to=backends)
    options = ScanOptions(ca_file=ca_file, timeout_s=timeout_s, max_connections=max_connections)
    context = ProbeContext(
        target=target,
        options=options,
        client=ReferenceClient(ClientConfig(ca_file=ca_file)),
        deadline=Deadline.after(timeout_s),
        limiter=ConnectionLimiter(max_connections),
    )
    connection = run_probe(ConnectionProbe(), context)
    if require_connection:
        assert connection.status is ProbeStatus.COMPLETED, connection.error
    context.outcomes[ProbeId.CONNECTION] = connection
    return context


def run_probe_on(
    probe: Probe[object],
    port: int,
    *,
    ca_file: Path | None,
    first: Sequence[Probe[object]] = (),
    **context_options: object,
) -> ProbeOutcome[object]:
    """The outcome of ``probe`` after the timed connection and the ``first`` probes ran."""
    context = make_context(port, ca_file=ca_file, **context_options)  # type: ignore[arg-type]
    for needed in first:
        context.outcomes[needed.probe_id] = run_probe(needed, context)
    return run_probe(probe, context)
