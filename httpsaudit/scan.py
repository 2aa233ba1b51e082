"""The orchestrator: the timed connection runs alone first, then every other probe as soon as
the probes it builds on are done, concurrently under the per-address connection cap.

Every probe ends as an outcome (completed, failed with what it measured, or skipped); one
probe's failure never stops the scan, and a bug in a probe is reported, not raised.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import threading
import traceback
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from httpsaudit import __version__
from httpsaudit.errors import ErrorKind, HttpsAuditError, Unsupported
from httpsaudit.net.clock import Deadline, now_ns, ns_to_ms, wall_time
from httpsaudit.net.openssl_client import ClientConfig, ReferenceClient
from httpsaudit.probes import PROBES
from httpsaudit.probes.base import Probe, ProbeContext, ProbeFailed, ScanOptions
from httpsaudit.results import (
    ConnectionResult,
    ProbeError,
    ProbeId,
    ProbeOutcome,
    ProbeStatus,
    ScanResult,
    ScanTarget,
)
from httpsaudit.target import Target

ResultT = TypeVar("ResultT")
ProgressCallback = Callable[[str], None]


def run_probe(probe: Probe[ResultT], context: ProbeContext) -> ProbeOutcome[ResultT]:
    """Run one probe and turn however it ends into an outcome."""
    started = now_ns()
    own = context.for_probe()

    def outcome(
        status: ProbeStatus,
        result: ResultT | None = None,
        *,
        error: ProbeError | None = None,
        skip_reason: str | None = None,
        trace: str | None = None,
    ) -> ProbeOutcome[ResultT]:
        return ProbeOutcome(
            probe=probe.probe_id,
            status=status,
            result=result,
            error=error,
            skip_reason=skip_reason,
            connections=own.connections,
            duration_ms=ns_to_ms(now_ns() - started),
            traceback=trace,
        )

    if context.deadline.expired:
        return outcome(ProbeStatus.SKIPPED, skip_reason="the scan's --timeout ran out")
    try:
        result = probe.run(own)
    except ProbeFailed as failure:
        return outcome(ProbeStatus.FAILED, failure.partial, error=_error(failure.error))
    except Unsupported as exc:
        return outcome(ProbeStatus.SKIPPED, skip_reason=exc.message)
    except HttpsAuditError as exc:
        return outcome(ProbeStatus.FAILED, error=_error(exc))
    except Exception as exc:  # a bug: keep scanning, report it, keep the traceback for --debug
        internal = ProbeError(ErrorKind.INTERNAL, None, f"internal error: {exc!r}")
        return outcome(ProbeStatus.FAILED, error=internal, trace=traceback.format_exc())
    return outcome(ProbeStatus.COMPLETED, result)


def _error(exc: HttpsAuditError) -> ProbeError:
    return ProbeError(kind=exc.kind, phase=exc.phase, message=exc.message)


def _skipped(probe_id: ProbeId, reason: str) -> ProbeOutcome[Any]:
    return ProbeOutcome(probe=probe_id, status=ProbeStatus.SKIPPED, result=None, skip_reason=reason)


def _why_no_certificate(connection: ProbeOutcome[ConnectionResult]) -> str:
    error = connection.error
    if error is not None and error.phase is not None:
        return f"no certificate: the connection failed at {error.phase.value.upper()}"
    if connection.status is ProbeStatus.SKIPPED:
        return "no certificate: the timed connection did not run"
    return "no certificate: the server sent none"


def _blocked_reason(
    probe: Probe[object], outcomes: Mapping[ProbeId, ProbeOutcome[object]]
) -> str | None:
    """Why a probe cannot run: a probe it needs did not complete."""
    for needed in probe.requires:
        outcome = outcomes[needed]
        if outcome.completed:
            continue
        if needed is ProbeId.CONNECTION:
            reason = _connection_blocks(probe, outcome)
            if reason is None:
                continue
            return reason
        return f"needs the {needed.value} probe, which {outcome.status.value}"
    return None


# A timed connection that failed this way still leaves a TLS server to probe with raw hellos:
# it answered, but not in a way our reference client accepted (a TLS 1.0-only server, a
# middlebox that breaks big hellos). Silence or non-TLS bytes would only repeat themselves.
_PROBEABLE_FAILURES = frozenset({ErrorKind.ALERT, ErrorKind.HANDSHAKE, ErrorKind.CONNECTION_LOST})


def _connection_blocks(probe: Probe[object], outcome: ProbeOutcome[object]) -> str | None:
    """Why a probe built on the timed connection cannot run, or None when it can."""
    if probe.probe_id is ProbeId.CERTIFICATE:
        return _why_no_certificate(outcome)  # type: ignore[arg-type]
    connection = outcome.result
    if not isinstance(connection, ConnectionResult) or connection.tcp is None:
        return "the timed connection found no address that accepts connections"
    if outcome.error is not None and outcome.error.kind not in _PROBEABLE_FAILURES:
        return f"the timed connection failed ({outcome.error.kind.value}): nothing to probe"
    return None


def _exclusive(probe: Probe[object]) -> bool:
    """A probe whose numbers are timings runs alone, as the timed connection does."""
    return bool(getattr(probe, "exclusive", False))


def run_probes(
    context: ProbeContext,
    probes: Mapping[ProbeId, Probe[object]],
    notify: ProgressCallback,
) -> dict[ProbeId, ProbeOutcome[object]]:
    """The timed connection alone, then waves of ready probes in a bounded thread pool, then
    the exclusive probes (those comparing handshake times) one at a time."""
    outcomes = context.outcomes
    notify(f"timed connection to {context.target.display}")
    outcomes[ProbeId.CONNECTION] = run_probe(probes[ProbeId.CONNECTION], context)
    pending = {probe_id: probe for probe_id, probe in probes.items() if probe_id not in outcomes}
    workers = max(1, context.options.max_connections)
    with concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="probe") as pool:
        running: dict[concurrent.futures.Future[ProbeOutcome[object]], ProbeId] = {}
        while pending or running:
            for probe_id, probe in list(pending.items()):
                if any(needed not in outcomes for needed in probe.requires):
                    continue
                if _exclusive(probe) and (
                    running or any(not _exclusive(other) for other in pending.values())
                ):
                    continue  # it times handshakes: it waits until it has the target alone
                del pending[probe_id]
                reason = _blocked_reason(probe, outcomes)
                if reason is not None:
                    outcomes[probe_id] = _skipped(probe_id, reason)
                    continue
                notify(probe_id.value.replace("_", " "))
                running[pool.submit(run_probe, probe, context)] = probe_id
                if _exclusive(probe):
                    break
            if not running:
                if pending:  # a requirement that no probe provides: a registry bug
                    for probe_id in pending:
                        outcomes[probe_id] = _skipped(probe_id, "its requirements never ran")
                    pending.clear()
                break
            done, _ = concurrent.futures.wait(
                running, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in done:
                outcomes[running.pop(future)] = future.result()
    return outcomes


def probes_needed(wanted: frozenset[ProbeId] | None) -> dict[ProbeId, Probe[object]]:
    """The registry limited to ``wanted`` and everything those probes build on."""
    if wanted is None:
        return dict(PROBES)
    needed: set[ProbeId] = {ProbeId.CONNECTION}
    stack = list(wanted)
    while stack:
        probe_id = stack.pop()
        if probe_id in needed and probe_id is not ProbeId.CONNECTION:
            continue
        needed.add(probe_id)
        stack.extend(PROBES[probe_id].requires)
    return {probe_id: probe for probe_id, probe in PROBES.items() if probe_id in needed}


def scan(
    target: Target, options: ScanOptions, *, progress: ProgressCallback | None = None
) -> ScanResult:
    """Scan one target. Raises only UsageError (bad options found before any network I/O)."""
    started_at = datetime.datetime.fromtimestamp(wall_time(), datetime.UTC)
    started = now_ns()
    client = ReferenceClient(ClientConfig(ca_file=options.ca_file))
    context = ProbeContext(
        target=target,
        options=options,
        client=client,
        deadline=Deadline.after(options.timeout_s),
        slots=threading.BoundedSemaphore(max(1, options.max_connections)),
    )
    outcomes = run_probes(
        context, probes_needed(options.only_probes), progress or (lambda _message: None)
    )
    for probe_id in ProbeId:
        outcomes.setdefault(probe_id, _skipped(probe_id, "not part of this scan"))
    # Each outcome's result type is fixed by its probe; the mapping itself cannot say so.
    by_field: dict[str, Any] = {probe_id.value: outcomes[probe_id] for probe_id in ProbeId}
    return ScanResult(
        tool_version=__version__,
        target=ScanTarget(
            input=target.original,
            host=target.host,
            port=target.port,
            path=target.path,
            sni=target.sni,
            connect_to=tuple(address.display for address in target.connect_to),
        ),
        started_at=started_at.isoformat(timespec="seconds"),
        duration_ms=ns_to_ms(now_ns() - started),
        connections=context.connections,
        **by_field,
    )
