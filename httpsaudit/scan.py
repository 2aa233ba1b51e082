"""The orchestrator: the timed connection runs alone first, then the probes that build on it.

Every probe ends as an outcome (completed, failed with what it measured, or skipped); one
probe's failure never stops the scan, and a bug in a probe is reported, not raised.
"""

from __future__ import annotations

import datetime
import traceback
from collections.abc import Callable
from typing import TypeVar

from httpsaudit import __version__
from httpsaudit.errors import ErrorKind, HttpsAuditError, Unsupported
from httpsaudit.net.clock import Deadline, now_ns, ns_to_ms, wall_time
from httpsaudit.net.openssl_client import ClientConfig, ReferenceClient
from httpsaudit.probes.base import Probe, ProbeContext, ProbeFailed, ScanOptions
from httpsaudit.probes.certificate import CertificateProbe
from httpsaudit.probes.connection import ConnectionProbe
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
    before = context.connections

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
            connections=context.connections - before,
            duration_ms=ns_to_ms(now_ns() - started),
            traceback=trace,
        )

    if context.deadline.expired:
        return outcome(ProbeStatus.SKIPPED, skip_reason="the scan's --timeout ran out")
    try:
        result = probe.run(context)
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


def _skipped(probe_id: ProbeId, reason: str) -> ProbeOutcome[ResultT]:
    return ProbeOutcome(probe=probe_id, status=ProbeStatus.SKIPPED, result=None, skip_reason=reason)


def _why_no_certificate(connection: ProbeOutcome[ConnectionResult]) -> str:
    error = connection.error
    if error is not None and error.phase is not None:
        return f"no certificate: the connection failed at {error.phase.value.upper()}"
    if connection.status is ProbeStatus.SKIPPED:
        return "no certificate: the timed connection did not run"
    return "no certificate: the server sent none"


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
    )
    notify = progress or (lambda _message: None)
    notify(f"timed connection to {target.display}")
    connection = run_probe(ConnectionProbe(), context)
    context.connection = connection
    if connection.result is not None and connection.result.peer_certificates is not None:
        notify("certificate chain")
        certificate = run_probe(CertificateProbe(), context)
    else:
        certificate = _skipped(ProbeId.CERTIFICATE, _why_no_certificate(connection))
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
        connection=connection,
        certificate=certificate,
    )
