"""What every probe shares: the scan's options, its deadline, a connection counter, and the
way a probe reports a failure while keeping what it measured."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from httpsaudit.errors import HttpsAuditError
from httpsaudit.net.clock import Deadline
from httpsaudit.net.dns import ResolverAddress
from httpsaudit.net.openssl_client import ReferenceClient
from httpsaudit.results import ConnectionResult, ProbeId, ProbeOutcome
from httpsaudit.target import Target

# No single network step may take longer than this, whatever --timeout allows.
PHASE_TIMEOUT_S = 10.0
DEFAULT_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """User choices that change what probes do (not how results are shown)."""

    samples: int = 1
    method: str = "GET"
    timeout_s: float = DEFAULT_TIMEOUT_S
    resolver: ResolverAddress | None = None
    system_resolver: bool = False
    ca_file: Path | None = None


@dataclass(slots=True)
class ProbeContext:
    """Handed to each probe: the target, options, shared TLS setup and earlier outcomes."""

    target: Target
    options: ScanOptions
    client: ReferenceClient
    deadline: Deadline
    connection: ProbeOutcome[ConnectionResult] | None = None
    _connections: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count_connection(self) -> None:
        with self._lock:
            self._connections += 1

    @property
    def connections(self) -> int:
        return self._connections

    def phase_deadline(self) -> Deadline:
        """A deadline for one network step: the phase cap, never past the scan's."""
        return self.deadline.child(PHASE_TIMEOUT_S)


ResultT = TypeVar("ResultT", covariant=True)
PartialT = TypeVar("PartialT")


class Probe(Protocol[ResultT]):
    """One capability: connections in, a frozen typed result out."""

    probe_id: ProbeId
    requires: tuple[ProbeId, ...]

    def run(self, context: ProbeContext) -> ResultT: ...


class ProbeFailed(Exception, Generic[PartialT]):
    """A probe failed but measured something first; scan.py keeps ``partial`` in the report."""

    def __init__(self, error: HttpsAuditError, partial: PartialT) -> None:
        super().__init__(str(error))
        self.error = error
        self.partial = partial
