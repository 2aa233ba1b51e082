"""What every probe shares: the scan's options, its deadline, a connection counter, and the
way a probe reports a failure while keeping what it measured."""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from httpsaudit.errors import HttpsAuditError, Phase, PhaseTimeout, Unsupported
from httpsaudit.net.clock import Deadline
from httpsaudit.net.dns import ResolverAddress
from httpsaudit.net.openssl_client import ReferenceClient
from httpsaudit.net.raw_hello import HelloAnswer, ReadUntil, exchange_hello
from httpsaudit.net.transport import TcpConnection
from httpsaudit.results import ConnectionResult, ProbeId, ProbeOutcome
from httpsaudit.target import Target
from httpsaudit.tls.hello import ClientHelloSpec, client_hello_record

# No single network step may take longer than this, whatever --timeout allows.
PHASE_TIMEOUT_S = 10.0
DEFAULT_TIMEOUT_S = 30.0
# At most this many connections to one address at a time. A full audit is about 90 short
# connections; each probe's chain is at most a few rounds deep, so the cap is what sets the wall
# time: at 50 ms RTT 5 takes ~50 RTT, 16 ~23 (benchmarks/probe_costs.py). 16 is what two or three
# browser tabs open to one host over HTTP/1.1, for a second or two; --max-connections 5 is
# sslyze's politeness (testssl.sh is one at a time).
DEFAULT_MAX_CONNECTIONS = 16
# Resumptions tried per mechanism: enough to see a load balancer's coin flips.
DEFAULT_RESUMPTION_ATTEMPTS = 5
# A server that has not answered a ClientHello in this long is treated as not answering it.
HELLO_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """User choices that change what probes do (not how results are shown)."""

    samples: int = 1
    method: str = "GET"
    timeout_s: float = DEFAULT_TIMEOUT_S
    resolver: ResolverAddress | None = None
    system_resolver: bool = False
    ca_file: Path | None = None
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    resumption_attempts: int = DEFAULT_RESUMPTION_ATTEMPTS
    # Without it only GET/HEAD ever travels as 0-RTT early data (RFC 8470 probes need a POST).
    unsafe_probes: bool = False
    # Run only these probes (and what they need); None runs every probe.
    only_probes: frozenset[ProbeId] | None = None


ResultT = TypeVar("ResultT")
ProbeResultT = TypeVar("ProbeResultT", covariant=True)


class ConnectionCounter:
    """Connections opened, counted per probe and rolled up into the scan's total."""

    def __init__(self, parent: ConnectionCounter | None = None) -> None:
        self._count = 0
        self._lock = threading.Lock()
        self._parent = parent

    def increment(self) -> None:
        with self._lock:
            self._count += 1
        if self._parent is not None:
            self._parent.increment()

    @property
    def value(self) -> int:
        return self._count


class ConnectionLimiter:
    """At most ``per_address`` connections open to one address at a time, shared by every scan
    in the process: a fleet of names behind one load balancer still gets the cap, not the cap
    times the number of names."""

    def __init__(self, per_address: int) -> None:
        self.per_address = max(1, per_address)
        self._slots: dict[tuple[str, int], threading.BoundedSemaphore] = {}
        self._open: dict[tuple[str, int], int] = {}
        self._peak: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def peak(self, address: tuple[str, int]) -> int:
        """Most connections that were open to ``address`` at once (what the cap promised)."""
        with self._lock:
            return self._peak.get(address, 0)

    def _semaphore(self, address: tuple[str, int]) -> threading.BoundedSemaphore:
        with self._lock:
            semaphore = self._slots.get(address)
            if semaphore is None:
                semaphore = self._slots[address] = threading.BoundedSemaphore(self.per_address)
            return semaphore

    @contextlib.contextmanager
    def slot(self, address: tuple[str, int], deadline: Deadline) -> Iterator[None]:
        """Wait for a free slot to ``address`` until ``deadline``, hold it for the block."""
        semaphore = self._semaphore(address)
        if not semaphore.acquire(timeout=deadline.remaining()):
            raise PhaseTimeout("no connection slot before the scan deadline", phase=Phase.TCP)
        with self._lock:
            self._open[address] = self._open.get(address, 0) + 1
            self._peak[address] = max(self._peak.get(address, 0), self._open[address])
        try:
            yield
        finally:
            with self._lock:
                self._open[address] -= 1
            semaphore.release()


@dataclass
class ProbeContext:
    """Handed to each probe: the target, options, shared TLS setup and earlier outcomes."""

    target: Target
    options: ScanOptions
    client: ReferenceClient
    deadline: Deadline
    outcomes: dict[ProbeId, ProbeOutcome[object]] = field(default_factory=dict)
    counter: ConnectionCounter = field(default_factory=ConnectionCounter)
    limiter: ConnectionLimiter | None = None

    def for_probe(self) -> ProbeContext:
        """A view for one probe: its own connection count, the same cap and deadline."""
        if self.limiter is None:
            self.limiter = ConnectionLimiter(self.options.max_connections)
        return replace(self, counter=ConnectionCounter(parent=self.counter))

    @property
    def connection(self) -> ProbeOutcome[ConnectionResult] | None:
        """The timed connection's outcome (it always runs first)."""
        outcome = self.outcomes.get(ProbeId.CONNECTION)
        return outcome  # type: ignore[return-value]

    def result_of(self, probe_id: ProbeId, kind: type[ResultT]) -> ResultT:
        """The result of a probe this one requires; the scheduler ran it first."""
        outcome = self.outcomes.get(probe_id)
        result = outcome.result if outcome is not None else None
        if not isinstance(result, kind):
            raise Unsupported(f"needs the {probe_id.value} probe's result, which is missing")
        return result

    def count_connection(self) -> None:
        self.counter.increment()

    @property
    def connections(self) -> int:
        return self.counter.value

    def phase_deadline(self) -> Deadline:
        """A deadline for one network step: the phase cap, never past the scan's."""
        return self.deadline.child(PHASE_TIMEOUT_S)

    def hello_deadline(self) -> Deadline:
        """A deadline for one raw ClientHello and its answer."""
        return self.deadline.child(HELLO_TIMEOUT_S)

    @property
    def address(self) -> tuple[str, int]:
        """Where the timed connection got through: every later probe goes there too."""
        result = self.connection.result if self.connection is not None else None
        if result is None or result.tcp is None:
            raise Unsupported("no address: the timed connection did not connect")
        return result.tcp.address, result.tcp.port

    @property
    def all_addresses(self) -> tuple[tuple[str, int], ...]:
        """Every address the target name led to (or every ``--connect-to``), the timed
        connection's first: load-balanced backends hide behind these."""
        first = self.address
        found: list[tuple[str, int]] = [first]
        connect_to = self.target.connect_to
        if connect_to:
            candidates = [
                (entry.host, entry.port or self.target.port) for entry in connect_to if entry.is_ip
            ]
        else:
            result = self.connection.result if self.connection is not None else None
            dns = result.dns if result is not None else None
            candidates = [(address, first[1]) for address in (dns.addresses if dns else ())]
        for candidate in candidates:
            if candidate not in found:
                found.append(candidate)
        return tuple(found)

    def connection_slot(self, address: tuple[str, int]) -> contextlib.AbstractContextManager[None]:
        """One of the per-address connection slots, for code that opens its own socket."""
        if self.limiter is None:
            self.limiter = ConnectionLimiter(self.options.max_connections)
        return self.limiter.slot(address, self.deadline)

    @contextlib.contextmanager
    def tcp(self, address: tuple[str, int] | None = None) -> Iterator[TcpConnection]:
        """A TCP connection to the target (or one of its ``all_addresses``), under the
        per-address cap, closed on exit."""
        host, port = address if address is not None else self.address
        with self.connection_slot((host, port)):
            self.count_connection()
            transport = TcpConnection.connect(host, port, self.phase_deadline())
            try:
                yield transport
            finally:
                transport.close()

    def hello(
        self, spec: ClientHelloSpec, until: ReadUntil = ReadUntil.SERVER_HELLO
    ) -> HelloAnswer:
        """Send one raw ClientHello on a new connection and read the answer."""
        with self.tcp() as transport:
            return exchange_hello(
                transport, client_hello_record(spec), self.hello_deadline(), until=until
            )

    @contextlib.contextmanager
    def hello_pool(self) -> Iterator[HelloPool]:
        """Threads for one probe's hellos; the per-address cap still lives in ``hello``."""
        workers = max(1, self.options.max_connections)
        with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="hello") as pool:
            yield HelloPool(self, pool)

    def hellos(
        self, specs: Sequence[ClientHelloSpec], until: ReadUntil = ReadUntil.SERVER_HELLO
    ) -> list[HelloAnswer]:
        """One connection per hello, side by side; answers in the order of ``specs``."""
        with self.hello_pool() as pool:
            return pool.exchange_all(specs, until)


PartialT = TypeVar("PartialT")


class Probe(Protocol[ProbeResultT]):
    """One capability: connections in, a frozen typed result out."""

    probe_id: ProbeId
    requires: tuple[ProbeId, ...]

    def run(self, context: ProbeContext) -> ProbeResultT: ...


class HelloPool:
    """Raw hellos for one probe: in the calling thread, or in the pool to run side by side."""

    def __init__(self, context: ProbeContext, pool: concurrent.futures.Executor) -> None:
        self._context = context
        self._pool = pool

    def exchange(
        self, spec: ClientHelloSpec, until: ReadUntil = ReadUntil.SERVER_HELLO
    ) -> HelloAnswer:
        return self._context.hello(spec, until)

    def submit(
        self, spec: ClientHelloSpec, until: ReadUntil = ReadUntil.SERVER_HELLO
    ) -> concurrent.futures.Future[HelloAnswer]:
        return self._pool.submit(self._context.hello, spec, until)

    def submit_call(
        self, function: Callable[..., ResultT], *args: object
    ) -> concurrent.futures.Future[ResultT]:
        """Run ``function`` beside the pool's hellos (it opens its own under the same cap)."""
        return self._pool.submit(function, *args)

    def exchange_all(
        self, specs: Sequence[ClientHelloSpec], until: ReadUntil = ReadUntil.SERVER_HELLO
    ) -> list[HelloAnswer]:
        futures = [self.submit(spec, until) for spec in specs]
        return [future.result() for future in futures]


class ProbeFailed(Exception, Generic[PartialT]):
    """A probe failed but measured something first; scan.py keeps ``partial`` in the report."""

    def __init__(self, error: HttpsAuditError, partial: PartialT) -> None:
        super().__init__(str(error))
        self.error = error
        self.partial = partial
