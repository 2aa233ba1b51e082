"""The command line: parse, scan, write the report, exit with a documented code.

This is the only module that prints to the user or exits. Errors become one line on stderr
(``httpsaudit: error: TARGET: message``); a traceback appears only with ``--debug``.
"""

from __future__ import annotations

import contextlib
import enum
import io
import os
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

import click
from rich.console import Console

from httpsaudit import __version__
from httpsaudit.errors import ErrorKind, HttpsAuditError, UsageError
from httpsaudit.net.dns import parse_resolver
from httpsaudit.probes.base import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_RESUMPTION_ATTEMPTS,
    DEFAULT_TIMEOUT_S,
    ScanOptions,
)
from httpsaudit.report import json as json_report
from httpsaudit.report import terminal
from httpsaudit.results import ProbeId, ProbeStatus, ScanResult
from httpsaudit.scan import ProgressCallback
from httpsaudit.scan import scan as run_scan
from httpsaudit.target import Target, parse_address, parse_target

MAX_SAMPLES = 100


class ExitCode(enum.IntEnum):
    """Documented in the README; when several apply, the first of 2, 5, 3, 1, 4, 0 wins."""

    OK = 0
    GATE_FAILED = 1
    USAGE = 2
    UNREACHABLE = 3
    INCOMPLETE = 4
    INTERNAL = 5


def _stderr(no_color: bool) -> Console:
    return Console(stderr=True, color_system=None if no_color else "auto", highlight=False)


def _fail(message: str) -> None:
    click.echo(f"httpsaudit: error: {message}", err=True)


def exit_code_for(result: ScanResult) -> ExitCode:
    """What the scan says about the target, before any policy gate."""
    if any(
        outcome.error is not None and outcome.error.kind is ErrorKind.INTERNAL
        for outcome in result.outcomes()
    ):
        return ExitCode.INTERNAL
    if not result.reachable:
        return ExitCode.UNREACHABLE
    return ExitCode.OK


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it, so readers never see half."""
    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def render_report(
    result: ScanResult, output_format: str, *, exit_code: int, color: bool, debug: bool
) -> str:
    """The chosen report as text; colour only when it goes to a terminal."""
    if output_format == "json":
        return json_report.render(result, exit_code=exit_code, debug=debug)
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=_report_width(),
        color_system="truecolor" if color else None,
        force_terminal=color,
        highlight=False,
    )
    terminal.render(result, console)
    # rich pads every line to the console width; trailing blanks only bloat files and diffs.
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def _report_width() -> int:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit():
        return max(80, min(int(columns), 160))
    try:
        return max(80, min(os.get_terminal_size(sys.stdout.fileno()).columns, 160))
    except (OSError, ValueError):
        return 100


@contextlib.contextmanager
def _progress(console: Console, enabled: bool) -> Iterator[ProgressCallback]:
    if not enabled:
        yield lambda _message: None
        return
    with console.status("scanning", spinner="dots") as status:
        yield lambda message: status.update(f"scanning: {message}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="httpsaudit")
def main() -> None:
    """Measure what a new HTTPS connection to a server costs, and what to change.

    \b
    Exit codes:
      0  scan complete
      2  usage or configuration error
      3  target unreachable: no TLS session could be set up (report still written)
      5  internal error (a bug; report written with what was measured)
    """


def _positive_float(_context: click.Context, _parameter: click.Parameter, value: float) -> float:
    if value <= 0:
        raise click.BadParameter("must be greater than 0")
    return value


@main.command()
@click.argument("target")
@click.option("--sni", metavar="NAME", help="Server name to send (SNI, Host, name check).")
@click.option(
    "--connect-to",
    "connect_to",
    metavar="ADDRESS",
    multiple=True,
    help="Connect here instead of resolving TARGET (HOST, HOST:PORT, [IPv6]:PORT); "
    "the real name is still sent. Repeatable.",
)
@click.option(
    "--ca-file",
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="Extra trust anchors (PEM), added to the system store.",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=DEFAULT_TIMEOUT_S,
    show_default=True,
    callback=_positive_float,
    metavar="SECONDS",
    help="Deadline for the whole scan.",
)
@click.option(
    "--samples",
    type=click.IntRange(1, MAX_SAMPLES),
    default=1,
    show_default=True,
    help="Cold connections to time (min / median / p90 per phase).",
)
@click.option(
    "--method",
    type=click.Choice(["GET", "HEAD"], case_sensitive=False),
    default="GET",
    show_default=True,
    help="HTTP method of the timed request (no request body is ever sent).",
)
@click.option(
    "--resolver", metavar="IP[:PORT]", help="Ask this DNS server instead of the system's."
)
@click.option(
    "--system-resolver",
    is_flag=True,
    help="Resolve with getaddrinfo (hosts file, nsswitch) instead of querying DNS directly.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the report here (atomically) instead of stdout.",
)
@click.option(
    "--max-connections",
    type=click.IntRange(1, 64),
    default=DEFAULT_MAX_CONNECTIONS,
    show_default=True,
    help="Most connections open to the target at once.",
)
@click.option(
    "--resumption-attempts",
    type=click.IntRange(1, 50),
    default=DEFAULT_RESUMPTION_ATTEMPTS,
    show_default=True,
    help="Resumptions tried per mechanism (Session ID, Session Ticket, TLS 1.3 PSK).",
)
@click.option(
    "--unsafe-probes",
    is_flag=True,
    help="Allow the RFC 8470 check: one POST with an empty body sent as 0-RTT early data to "
    "the target path. Without this flag only GET or HEAD is ever sent as early data.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and keep raw data in JSON.")
@click.option("--no-color", is_flag=True, help="No colour (also when NO_COLOR is set).")
def scan(
    target: str,
    sni: str | None,
    connect_to: tuple[str, ...],
    ca_file: Path | None,
    timeout_s: float,
    samples: int,
    method: str,
    resolver: str | None,
    system_resolver: bool,
    output_format: str,
    output: Path | None,
    max_connections: int,
    resumption_attempts: int,
    unsafe_probes: bool,
    debug: bool,
    no_color: bool,
) -> None:
    """Scan TARGET: host, host:port, https://host[:port]/path, an IP or [IPv6] literal."""
    no_color = no_color or bool(os.environ.get("NO_COLOR"))
    try:
        parsed = parse_target(
            target, sni=sni, connect_to=tuple(parse_address(value) for value in connect_to)
        )
        if resolver is not None and system_resolver:
            raise UsageError("--resolver and --system-resolver exclude each other")
        options = ScanOptions(
            samples=samples,
            method=method.upper(),
            timeout_s=timeout_s,
            resolver=parse_resolver(resolver) if resolver is not None else None,
            system_resolver=system_resolver,
            ca_file=ca_file,
            max_connections=max_connections,
            resumption_attempts=resumption_attempts,
            unsafe_probes=unsafe_probes,
        )
    except UsageError as exc:
        raise click.UsageError(exc.message) from exc
    sys.exit(_scan_and_report(parsed, options, output_format, output, debug, no_color))


def _scan_and_report(
    target: Target,
    options: ScanOptions,
    output_format: str,
    output: Path | None,
    debug: bool,
    no_color: bool,
) -> int:
    errors = _stderr(no_color)
    try:
        with _progress(errors, errors.is_terminal) as progress:
            result = run_scan(target, options, progress=progress)
    except UsageError as exc:
        _fail(f"{target.display}: {exc.message}")
        return ExitCode.USAGE
    except HttpsAuditError as exc:  # pragma: no cover - scan() turns these into outcomes
        _fail(f"{target.display}: {exc}")
        return ExitCode.INTERNAL
    except Exception as exc:
        return _internal_error(f"{target.display}: internal error: {exc!r}", debug)
    code = exit_code_for(result)
    _explain_outcomes(result, target, debug)
    color = output is None and output_format == "text" and not no_color and sys.stdout.isatty()
    try:
        text = render_report(result, output_format, exit_code=code, color=color, debug=debug)
        if output is None:
            click.echo(text, nl=False)
        else:
            write_atomically(output, text)
    except OSError as exc:
        _fail(f"cannot write the report to {output}: {exc.strerror or exc}")
        return ExitCode.USAGE
    except Exception as exc:
        return _internal_error(
            f"{target.display}: internal error writing the report: {exc!r}", debug
        )
    return int(code)


def _internal_error(message: str, debug: bool) -> ExitCode:
    """A bug: one line (with the traceback under --debug), exit 5."""
    _fail(f"{message} (please report it; --debug shows the traceback)" if not debug else message)
    if debug:
        traceback.print_exc()
    return ExitCode.INTERNAL


def _explain_outcomes(result: ScanResult, target: Target, debug: bool) -> None:
    """One line per failure on stderr, the way a user reads them in CI logs."""
    for outcome in result.outcomes():
        if outcome.status is not ProbeStatus.FAILED or outcome.error is None:
            continue
        # The timed connection speaks for the target; other probes say which one failed.
        probe = "" if outcome.probe is ProbeId.CONNECTION else f"{outcome.probe.value} probe: "
        phase = f"{outcome.error.phase.value.upper()}: " if outcome.error.phase else ""
        _fail(f"{target.display}: {probe}{phase}{outcome.error.message}")
        if debug and outcome.traceback:
            click.echo(outcome.traceback, err=True)
    certificate = result.certificate.result
    if certificate is not None and not certificate.verification.trusted:
        reasons = "; ".join(problem.message for problem in certificate.verification.problems)
        click.echo(
            f"httpsaudit: warning: {target.display}: certificate not trusted: {reasons}", err=True
        )


@main.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--no-color", is_flag=True, help="No colour (also when NO_COLOR is set).")
def demo(output_format: str, no_color: bool) -> None:
    """Start a local TLS server with a middling setup, scan it, print the report, stop it.

    Everything stays on 127.0.0.1: a newcomer sees a real report without internet access.
    """
    from httpsaudit.demo import DemoServer  # a test PKI and a server: only needed here

    no_color = no_color or bool(os.environ.get("NO_COLOR"))
    try:
        with DemoServer() as server:
            code = _scan_and_report(
                server.target(), server.options(), output_format, None, False, no_color
            )
    except HttpsAuditError as exc:
        _fail(f"demo: {exc}")
        sys.exit(ExitCode.INTERNAL)
    except OSError as exc:
        _fail(f"demo: cannot start the local server: {exc}")
        sys.exit(ExitCode.INTERNAL)
    sys.exit(code)
