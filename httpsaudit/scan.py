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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from httpsaudit import __version__
from httpsaudit.errors import ErrorKind, HttpsAuditError, Unsupported
from httpsaudit.net.clock import Deadline, now_ns, ns_to_ms, wall_time
from httpsaudit.net.openssl_client import ClientConfig, ReferenceClient
from httpsaudit.probes import PROBES
from httpsaudit.probes.base import (
    ConnectionLimiter,
    Probe,
    ProbeContext,
    ProbeFailed,
    ScanOptions,
)
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


# How often a waiting scheduler looks at the stop flag (Ctrl-C): short enough to feel instant.
STOP_POLL_S = 0.1
INTERRUPTED = "interrupted before it finished (Ctrl-C)"
NOT_STARTED = "not started: the scan was interrupted (Ctrl-C)"


def run_probes(
    context: ProbeContext,
    probes: Mapping[ProbeId, Probe[object]],
    notify: ProgressCallback,
    stop: threading.Event | None = None,
) -> dict[ProbeId, ProbeOutcome[object]]:
    """The timed connection alone, then every probe as soon as the probes it builds on have
    ended, in a bounded thread pool.

    When ``stop`` is set the scan returns at once with what finished: probes still running are
    left to their own deadlines in the background and reported as interrupted.
    """
    outcomes = context.outcomes
    halt = stop if stop is not None else threading.Event()
    pending = dict(probes)
    workers = max(1, context.options.max_connections)
    pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="probe")
    running: dict[concurrent.futures.Future[ProbeOutcome[object]], ProbeId] = {}
    try:
        notify(f"timed connection to {context.target.display}")
        connection = pending.pop(ProbeId.CONNECTION)
        running[pool.submit(run_probe, connection, context)] = ProbeId.CONNECTION
        while not halt.is_set():
            if ProbeId.CONNECTION in outcomes:
                _start_ready(context, pending, running, pool, notify)
            if not running:
                break
            done, _ = concurrent.futures.wait(
                running, timeout=STOP_POLL_S, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in done:
                outcomes[running.pop(future)] = future.result()
        for probe_id in running.values():
            outcomes[probe_id] = _skipped(probe_id, INTERRUPTED)
        for probe_id in pending:
            outcomes.setdefault(
                probe_id, _skipped(probe_id, NOT_STARTED if halt.is_set() else _NEVER_RAN)
            )
    finally:
        # Never wait for a probe after a stop: each one ends on its own deadline.
        pool.shutdown(wait=not halt.is_set(), cancel_futures=True)
    return outcomes


_NEVER_RAN = "its requirements never ran"


def _start_ready(
    context: ProbeContext,
    pending: dict[ProbeId, Probe[object]],
    running: dict[concurrent.futures.Future[ProbeOutcome[object]], ProbeId],
    pool: concurrent.futures.Executor,
    notify: ProgressCallback,
) -> None:
    """Submit every pending probe whose requirements have ended; skip the blocked ones (which
    may unblock others, hence the passes until nothing changes)."""
    outcomes = context.outcomes
    progressed = True
    while progressed:
        progressed = False
        for probe_id, probe in list(pending.items()):
            if any(needed not in outcomes for needed in probe.requires):
                continue
            del pending[probe_id]
            progressed = True
            reason = _blocked_reason(probe, outcomes)
            if reason is not None:
                outcomes[probe_id] = _skipped(probe_id, reason)
                continue
            notify(probe_id.value.replace("_", " "))
            running[pool.submit(run_probe, probe, context)] = probe_id


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
    target: Target,
    options: ScanOptions,
    *,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    limiter: ConnectionLimiter | None = None,
) -> ScanResult:
    """Scan one target. Raises only UsageError (bad options found before any network I/O).

    ``stop`` ends the scan early with what finished (``interrupted`` in the result);
    ``limiter`` shares the per-address connection cap with other scans in this process.
    """
    started_at = datetime.datetime.fromtimestamp(wall_time(), datetime.UTC)
    started = now_ns()
    client = ReferenceClient(ClientConfig(ca_file=options.ca_file))
    context = ProbeContext(
        target=target,
        options=options,
        client=client,
        deadline=Deadline.after(options.timeout_s),
        limiter=limiter if limiter is not None else ConnectionLimiter(options.max_connections),
    )
    outcomes = run_probes(
        context, probes_needed(options.only_probes), progress or (lambda _message: None), stop
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
        interrupted=stop is not None and stop.is_set(),
        **by_field,
    )


@dataclass(frozen=True, slots=True)
class FleetItem:
    """One target of a fleet scan as it ended (interrupted ones included)."""

    index: int  # position in the target list, so reports can keep the user's order
    target: Target
    result: ScanResult | None
    error: str | None = None  # the scan itself raised (a bug): what it raised
    trace: str | None = None


def scan_many(
    targets: Iterable[tuple[Target, ScanOptions]],
    *,
    concurrency: int,
    stop: threading.Event | None = None,
    limiter: ConnectionLimiter | None = None,
    on_start: Callable[[int, Target], None] | None = None,
) -> Iterator[FleetItem]:
    """Scan many targets, ``concurrency`` at a time, yielding each as it finishes.

    Targets are drawn from the iterable only as slots free up and results are handed over as
    soon as they exist, so memory does not grow with the list. The per-address connection cap
    is shared by all scans (``limiter``). After ``stop`` is set no target starts; the running
    ones end promptly, interrupted, and are still yielded.
    """
    halt = stop if stop is not None else threading.Event()
    shared = limiter
    queue = enumerate(targets)
    pool = concurrent.futures.ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="target")
    running: dict[concurrent.futures.Future[ScanResult], tuple[int, Target]] = {}

    def submit_next() -> bool:
        entry = next(queue, None)
        if entry is None:
            return False
        index, (target, options) = entry
        nonlocal shared
        if shared is None:
            shared = ConnectionLimiter(options.max_connections)
        if on_start is not None:
            on_start(index, target)
        future = pool.submit(scan, target, options, stop=halt, limiter=shared)
        running[future] = (index, target)
        return True

    try:
        while len(running) < max(1, concurrency) and not halt.is_set() and submit_next():
            pass
        while running:
            done, _ = concurrent.futures.wait(
                running, timeout=STOP_POLL_S, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in done:
                index, target = running.pop(future)
                try:
                    item = FleetItem(index=index, target=target, result=future.result())
                except Exception as exc:  # a bug in one scan must not end the others
                    trace = "".join(traceback.format_exception(exc))
                    item = FleetItem(index, target, None, error=repr(exc), trace=trace)
                yield item
                if not halt.is_set():
                    submit_next()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
