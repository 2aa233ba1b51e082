"""The command line: parse, scan, evaluate the rules, write the report, exit with a documented code.

This is the only module that prints to the user or exits. Errors become one line on stderr
(``httpsaudit: error: TARGET: message``); a traceback appears only with ``--debug``. The report
goes to stdout (or ``--output``); the gate's one-line verdict goes to stderr, as pip-audit does.

Exit codes, when several apply the first of 2, 5, 3, 1, 4, 0 wins; ``--exit-zero`` removes 1:
0 clean, 1 gate failed, 2 usage or configuration error, 3 target unreachable, 4 scan incomplete
(``--strict``), 5 internal error; 130 after Ctrl-C (the report holds what finished). A fleet scan
exits with the first code that applies to any of its targets.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import enum
import io
import json
import math
import os
import re
import signal
import sys
import tempfile
import textwrap
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, assert_never

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from httpsaudit import __version__
from httpsaudit import baseline as baselines
from httpsaudit import policy as policies
from httpsaudit.errors import ErrorKind, HttpsAuditError, UsageError
from httpsaudit.net.clock import now_ns, ns_to_ms
from httpsaudit.net.dns import ResolverAddress, parse_resolver
from httpsaudit.net.openssl_client import ClientConfig, ReferenceClient
from httpsaudit.probes import PROBES
from httpsaudit.probes.base import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_RESUMPTION_ATTEMPTS,
    DEFAULT_TIMEOUT_S,
    ConnectionLimiter,
    ScanOptions,
)
from httpsaudit.report import fleet as fleet_report
from httpsaudit.report import json as json_report
from httpsaudit.report import terminal
from httpsaudit.report.findings import plain_title
from httpsaudit.results import ProbeId, ProbeStatus, ScanResult
from httpsaudit.rules import RULES, rule_by_id
from httpsaudit.rules.engine import (
    CATEGORY_WEIGHT,
    GRADES,
    PENALTY,
    RuleReport,
    Selection,
    evaluate,
)
from httpsaudit.rules.model import LANGUAGES, Lifecycle, Localized, Rule, RuleStatus, Severity
from httpsaudit.scan import FleetItem, ProgressCallback, probes_needed, scan_many
from httpsaudit.scan import scan as run_scan
from httpsaudit.target import (
    MAX_TARGET_LENGTH,
    ConnectAddress,
    Target,
    parse_address,
    parse_target,
)

MAX_SAMPLES = 100
# Targets at once in a fleet scan: each waits on the network far more than it computes, so
# several per core; capped because every scan runs up to --max-connections threads of its own.
DEFAULT_CONCURRENCY = min(32, 8 * (os.cpu_count() or 1))
MAX_CONCURRENCY = 256
# One run reads at most this many targets (a list beyond it is a mistake or belongs in shards).
MAX_TARGETS = 100_000
# A line of a target list: the longest target plus room for a trailing comment. Reading stops
# there, so --targets /dev/zero is an error instead of an endless line.
MAX_TARGET_LINE_CHARS = MAX_TARGET_LENGTH + 1024
# --timeout bounds one target's whole scan; past a day it is a typo (and 1e300 overflows clocks).
MAX_TIMEOUT_S = 86_400.0
# scan.py's reason for a probe that never started because the scan's --timeout ran out.
TIMEOUT_SKIP_WORD = "--timeout"


class ExitCode(enum.IntEnum):
    """Documented in the README; when several apply, the first of 2, 5, 3, 1, 4, 0 wins."""

    OK = 0
    GATE_FAILED = 1
    USAGE = 2
    UNREACHABLE = 3
    INCOMPLETE = 4
    INTERNAL = 5
    INTERRUPTED = 130  # Ctrl-C: the report holds what finished (the shell's 128 + SIGINT)


PRECEDENCE = (
    ExitCode.USAGE,
    ExitCode.INTERNAL,
    ExitCode.UNREACHABLE,
    ExitCode.GATE_FAILED,
    ExitCode.INCOMPLETE,
)


def final_exit_code(applies: Iterable[ExitCode], *, exit_zero: bool = False) -> ExitCode:
    """The first of 2, 5, 3, 1, 4 that applies, else 0; ``--exit-zero`` drops only 1 (ruff)."""
    codes = set(applies)
    if exit_zero:
        codes.discard(ExitCode.GATE_FAILED)
    return next((code for code in PRECEDENCE if code in codes), ExitCode.OK)


class OutputFormat(enum.StrEnum):
    """Report formats (pip-audit's ``OutputFormatChoice``): one renderer each."""

    TEXT = "text"
    JSON = "json"
    JSONL = "jsonl"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"


def _stderr(no_color: bool) -> Console:
    return Console(stderr=True, color_system=None if no_color else "auto", highlight=False)


def _fail(message: str) -> None:
    click.echo(f"httpsaudit: error: {message}", err=True)


def _note(message: str) -> None:
    click.echo(f"httpsaudit: {message}", err=True)


def exit_code_for(result: ScanResult, rules: RuleReport | None = None) -> ExitCode:
    """What the scan says about the target, before any policy gate: a bug in a probe or a
    rule is 5, no TLS session at all is 3."""
    if any(
        outcome.error is not None and outcome.error.kind is ErrorKind.INTERNAL
        for outcome in result.outcomes()
    ) or (rules is not None and rule_bugs(rules)):
        return ExitCode.INTERNAL
    if not result.reachable:
        return ExitCode.UNREACHABLE
    return ExitCode.OK


def rule_bugs(rules: RuleReport) -> tuple[str, ...]:
    """Rules whose check raised (the engine reports them as unknown and carries on)."""
    return tuple(finding.rule_id for finding in rules.findings if finding.internal_error)


def probe_failed(result: ScanResult, probe_id: ProbeId, planned: frozenset[ProbeId]) -> bool:
    """True when ``probe_id`` failed, ran out of time, or could not run because a probe it
    builds on failed. A probe left out of the plan (``--select``) or one the local library
    cannot do (``Unsupported``) did not fail."""
    if probe_id not in planned:
        return False
    outcome = getattr(result, probe_id.value)
    if outcome.status is ProbeStatus.FAILED:
        return True
    if outcome.status is ProbeStatus.COMPLETED:
        return False
    if TIMEOUT_SKIP_WORD in (outcome.skip_reason or ""):
        return True
    return any(probe_failed(result, needed, planned) for needed in PROBES[probe_id].requires)


def incomplete_rules(
    result: ScanResult, rules: RuleReport, planned: frozenset[ProbeId]
) -> tuple[tuple[str, tuple[ProbeId, ...]], ...]:
    """Enabled rules left unknown because a probe they need failed: (rule id, failed probes).
    ``--strict`` turns any of these into exit 4."""
    incomplete: list[tuple[str, tuple[ProbeId, ...]]] = []
    for finding in rules.findings:
        rule = rule_by_id(finding.rule_id)
        if finding.status is not RuleStatus.UNKNOWN or rule is None:
            continue
        failed = tuple(probe for probe in rule.requires if probe_failed(result, probe, planned))
        if failed:
            incomplete.append((finding.rule_id, failed))
    return tuple(incomplete)


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it, so readers never see half."""
    with _report_stream(path) as stream:
        stream.write(text)


def render_report(
    result: ScanResult,
    output_format: OutputFormat,
    *,
    rules: RuleReport,
    exit_code: int,
    color: bool,
    debug: bool,
) -> str:
    """The chosen report as text; colour only when it goes to a terminal."""
    if output_format is OutputFormat.JSON:
        return json_report.render(result, exit_code=exit_code, debug=debug, rules=rules)
    if output_format is OutputFormat.JSONL:
        document = json_report.report_dict(result, exit_code=exit_code, debug=debug, rules=rules)
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
    if output_format is OutputFormat.SARIF:
        from httpsaudit.report import sarif

        return sarif.render(result, rules)
    if output_format is OutputFormat.JUNIT:
        from httpsaudit.report import junit

        return junit.render(result, rules)
    if output_format is OutputFormat.MARKDOWN:
        from httpsaudit.report import markdown

        return markdown.render(result, rules)
    if output_format is OutputFormat.TEXT:
        return _rendered(lambda console: terminal.render(result, console, rules=rules), color)
    assert_never(output_format)


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
    Exit codes (when several apply, the first of 2, 5, 3, 1, 4, 0 wins):
      0  scan complete; the gate passed
      1  gate failed: a finding at or above --fail-on, or a score under --fail-under
      2  usage or configuration error (nothing was sent)
      3  target unreachable: no TLS session could be set up (report still written)
      4  scan incomplete: a probe an enabled rule needs failed (only with --strict)
      5  internal error (a bug; report written with what was measured)
    130  interrupted by Ctrl-C (report written with what finished)
    With several targets the code is the first that applies to any of them.
    """


def _timeout_seconds(_context: click.Context, _parameter: click.Parameter, value: float) -> float:
    """Seconds, finite and positive: ``nan`` compares false with every bound, so say it."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of seconds")
    if value <= 0:
        raise click.BadParameter("must be greater than 0")
    if value > MAX_TIMEOUT_S:
        raise click.BadParameter(f"at most {MAX_TIMEOUT_S:.0f} seconds (a day)")
    return value


def _rule_tokens(
    _context: click.Context, _parameter: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """``--select TLS001,CERT --select KEX``: every token must choose at least one rule."""
    tokens = policies.split_rule_tokens(value)
    if value and not tokens:
        # An empty --select would otherwise mean every rule, the opposite of what it says.
        raise click.BadParameter("no rule given (httpsaudit rules lists them)")
    unknown = policies.unknown_rule_tokens(tokens)
    if unknown:
        names = ", ".join(repr(token) for token in unknown)
        raise click.BadParameter(f"unknown rule {names} (httpsaudit rules lists them)")
    return tokens


def _extra_reports(
    _context: click.Context, _parameter: click.Parameter, value: tuple[str, ...]
) -> tuple[tuple[OutputFormat, Path], ...]:
    """``sarif:audit.sarif`` -> (SARIF, Path("audit.sarif"))."""
    reports: list[tuple[OutputFormat, Path]] = []
    for item in value:
        name, _, path = item.partition(":")
        if name not in {choice.value for choice in OutputFormat} or not path:
            choices = "|".join(choice.value for choice in OutputFormat)
            raise click.BadParameter(f"{item!r}: expected {{{choices}}}:PATH")
        reports.append((OutputFormat(name), Path(path)))
    return tuple(reports)


SEVERITY_CHOICE = click.Choice(policies.FAIL_ON_NAMES, case_sensitive=False)
LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    help="Language of findings and advice (default en, or the policy file's).",
)


@dataclass(frozen=True, slots=True)
class Gating:
    """How this run turns a scan into an exit code."""

    rules_lang: str
    selection: Selection
    gate: policies.GateSettings | None  # None: report only (the demo)
    strict: bool = False
    exit_zero: bool = False
    baseline: baselines.ReportSnapshot | None = None
    label: str = ""  # prefix of the gate's line on stderr: the target, in a fleet scan


@main.command()
@click.argument("targets", nargs=-1, metavar="TARGET...")
@click.option(
    "--targets",
    "targets_file",
    type=click.Path(exists=True, dir_okay=False, readable=True, allow_dash=True, path_type=Path),
    metavar="FILE",
    help="Scan every target listed in FILE (one per line, # comments; - reads stdin).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, MAX_CONCURRENCY),
    default=None,
    metavar="N",
    help=f"Targets scanned at once (default {DEFAULT_CONCURRENCY} on this machine).",
)
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
    callback=_timeout_seconds,
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
    type=click.Choice([choice.value for choice in OutputFormat]),
    default=OutputFormat.TEXT.value,
    show_default=True,
    help="Report format: text, json, jsonl (one report per line, streamed as each target "
    "ends), sarif (code scanning), junit (one test per rule), markdown (a CI job summary).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the report here (atomically) instead of stdout.",
)
@click.option(
    "--report",
    "extra_reports",
    multiple=True,
    callback=_extra_reports,
    metavar="FORMAT:PATH",
    help="Also write the report in FORMAT to PATH, from the same scan (repeatable): "
    "e.g. --report sarif:audit.sarif --report junit:junit.xml.",
)
@click.option(
    "--max-connections",
    type=click.IntRange(1, 64),
    default=DEFAULT_MAX_CONNECTIONS,
    show_default=True,
    help="Most connections open to one address at once, shared by every target of a fleet.",
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
@click.option(
    "--fail-on",
    type=SEVERITY_CHOICE,
    default=None,
    metavar="SEVERITY",
    help="Fail (exit 1) on a finding at or above this: info, low, medium, high, critical, "
    "or none. Default high.",
)
@click.option(
    "--fail-under",
    type=click.IntRange(0, 100),
    default=None,
    metavar="SCORE",
    help="Fail (exit 1) when the score is under this (0-100).",
)
@click.option(
    "--select",
    multiple=True,
    callback=_rule_tokens,
    metavar="RULE",
    help="Run only these rules (ids, prefixes like CERT, or names; comma-separated or "
    "repeated). Only the probes they need are run.",
)
@click.option(
    "--ignore",
    multiple=True,
    callback=_rule_tokens,
    metavar="RULE",
    help="Do not run these rules (ids, prefixes or names; comma-separated or repeated).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 4 when a probe that an enabled rule needs failed (the scan is incomplete).",
)
@click.option(
    "--exit-zero",
    is_flag=True,
    help="Exit 0 even when the gate fails; usage errors, unreachable targets and bugs "
    "keep their codes.",
)
@LANG_OPTION
@click.option(
    "--baseline",
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    metavar="OLD.json",
    help="An earlier JSON report: only findings that are new or worse than in it fail the gate.",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    metavar="PATH",
    help="Policy file (default: httpsaudit.toml, or [tool.httpsaudit] in pyproject.toml, "
    "in this directory or the nearest parent).",
)
@click.option("--no-policy", is_flag=True, help="Ignore policy files; flags and defaults only.")
@click.option("--debug", is_flag=True, help="Show tracebacks and keep raw data in JSON.")
@click.option("--no-color", is_flag=True, help="No colour (also when NO_COLOR is set).")
def scan(
    targets: tuple[str, ...],
    targets_file: Path | None,
    concurrency: int | None,
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
    extra_reports: tuple[tuple[OutputFormat, Path], ...],
    max_connections: int,
    resumption_attempts: int,
    unsafe_probes: bool,
    fail_on: str | None,
    fail_under: int | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    strict: bool,
    exit_zero: bool,
    lang: str | None,
    baseline: Path | None,
    policy_path: Path | None,
    no_policy: bool,
    debug: bool,
    no_color: bool,
) -> None:
    """Scan each TARGET: host, host:port, https://host[:port]/path, an IP or [IPv6] literal.

    Several targets, --targets FILE or - (stdin) scan a fleet: --concurrency targets at once,
    one report per target (streamed with --format jsonl), then a summary.
    """
    no_color = no_color or bool(os.environ.get("NO_COLOR"))
    try:
        listed = _target_texts(targets, targets_file)
        fleet = targets_file is not None or len(targets) != 1 or "-" in targets
        if fleet and sni is not None:
            raise UsageError("--sni names one server: give it with a single TARGET")
        addresses = tuple(_connect_address(value) for value in connect_to)
        parsed_targets = [_parse_listed(text, where, sni, addresses) for text, where in listed]
        if resolver is not None and system_resolver:
            raise UsageError("--resolver and --system-resolver exclude each other")
        if policy_path is not None and no_policy:
            raise UsageError("--policy and --no-policy exclude each other")
        _check_report_paths(output, extra_reports)
        options = ScanOptions(
            samples=samples,
            method=method.upper(),
            timeout_s=timeout_s,
            resolver=_resolver_address(resolver) if resolver is not None else None,
            system_resolver=system_resolver,
            ca_file=ca_file,
            max_connections=max_connections,
            resumption_attempts=resumption_attempts,
            unsafe_probes=unsafe_probes,
        )
    except UsageError as exc:
        raise click.UsageError(exc.message) from exc
    # Configuration files next: a bad policy, baseline or CA file is exit 2 before anything is
    # sent (the CA file is loaded here, once for every target, so a fleet fails the same way).
    try:
        loaded = _load_policy(policy_path, no_policy)
        olds = None
        if baseline is not None:
            olds = baselines.load_reports(baseline)
        if ca_file is not None:
            ReferenceClient(ClientConfig(ca_file=ca_file))
    except UsageError as exc:
        _fail(exc.message)
        sys.exit(ExitCode.USAGE)
    flags = policies.Settings(
        fail_on=None if fail_on is None or fail_on.lower() == policies.NEVER else _sev(fail_on),
        never_fail_on_severity=fail_on is not None and fail_on.lower() == policies.NEVER,
        fail_under=fail_under,
        select=select or None,
        ignore=ignore or None,
        lang=lang,
    )

    def plan(target: Target) -> tuple[ScanOptions, Gating]:
        """Options and gate for one target: the policy file may differ per host."""
        settings = flags.over(loaded.for_target(target.host, target.port))
        selection = settings.selection()
        planned = options
        if settings.select:
            chosen = [rule for rule in RULES if selection.chooses(rule)]
            wanted = frozenset(probe for rule in chosen for probe in rule.requires)
            planned = dataclasses.replace(options, only_probes=wanted)
        return planned, Gating(
            rules_lang=settings.lang or "en",
            selection=selection,
            gate=settings.gate(),
            strict=strict,
            exit_zero=exit_zero,
            baseline=_baseline_for(target, olds, warn=not fleet),
            label=f"{target.display}: " if fleet else "",
        )

    run = Run(debug=debug, no_color=no_color, extra_reports=tuple(extra_reports))
    if not fleet:
        target_options, gating = plan(parsed_targets[0])
        _exit(
            _scan_and_report(
                parsed_targets[0], target_options, OutputFormat(output_format), output, run, gating
            )
        )
    _exit(
        _scan_fleet(
            [(text, target) for (text, _where), target in zip(listed, parsed_targets, strict=True)],
            plan,
            OutputFormat(output_format),
            output,
            run,
            concurrency=concurrency or DEFAULT_CONCURRENCY,
            max_connections=max_connections,
        )
    )


def _exit(code: int) -> None:
    """Exit with ``code``. After Ctrl-C, probes may still be waiting on the network in
    background threads (each ends on its own deadline): the report is written, so leave now
    instead of waiting for them."""
    if code == ExitCode.INTERRUPTED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _target_texts(arguments: Sequence[str], targets_file: Path | None) -> list[tuple[str, str]]:
    """Every target with where it came from (for errors): arguments, then the file; ``-``
    (as an argument or as the file) reads standard input once."""
    listed: list[tuple[str, str]] = []
    stdin_read = False
    sources: list[str | Path] = list(arguments)
    if targets_file is not None:
        sources.append(targets_file)

    def add(entries: Iterable[tuple[str, str]]) -> None:
        for entry in entries:
            listed.append(entry)
            if len(listed) > MAX_TARGETS:  # stop reading: the list may not end at all
                raise UsageError(
                    f"more than {MAX_TARGETS} targets: at most {MAX_TARGETS} in one run"
                )

    for source in sources:
        if isinstance(source, str) and source != "-":
            add([(source, source)])
            continue
        if str(source) == "-":
            if stdin_read:
                continue
            stdin_read = True
            add(_targets_in(click.get_text_stream("stdin"), "<stdin>"))
            continue
        try:
            with Path(source).open(encoding="utf-8") as stream:
                add(_targets_in(stream, str(source)))
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"{source}: cannot read the target list: {exc}") from exc
    if not listed:
        raise UsageError("no target: give TARGET, --targets FILE, or - to read stdin")
    return listed


def _targets_in(stream: IO[str], name: str) -> Iterator[tuple[str, str]]:
    """One target per line; blank lines and ``#`` comments (whole or trailing) are skipped, and
    so is a byte order mark (Windows editors write one)."""
    number = 0
    while line := stream.readline(MAX_TARGET_LINE_CHARS + 1):
        number += 1
        if len(line.rstrip("\r\n")) > MAX_TARGET_LINE_CHARS:
            raise UsageError(f"{name}:{number}: longer than {MAX_TARGET_LINE_CHARS} characters")
        if number == 1:
            line = line.removeprefix("\ufeff")
        text = line.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if text and not text.startswith("#"):
            yield text, f"{name}:{number}"


def _connect_address(text: str) -> ConnectAddress:
    """``--connect-to``, with the option named in every error."""
    try:
        return parse_address(text)
    except UsageError as exc:
        message = exc.message.removeprefix("empty --connect-to address")
        raise UsageError(f"--connect-to: {message or 'empty address'}") from exc


def _resolver_address(text: str) -> ResolverAddress:
    """``--resolver``: IP, IP:PORT or [IPv6]:PORT, checked as strictly as a target's address
    (brackets must close and hold IPv6, ports are 1-65535)."""
    if text.strip():
        try:
            address = parse_address(text)
        except UsageError as exc:
            raise UsageError(f"--resolver: {exc.message}") from exc
        if address.is_ip:
            return parse_resolver(text)
    raise UsageError(f"--resolver needs an IP address, got {text!r}")


def _check_report_paths(
    output: Path | None, extra_reports: Sequence[tuple[OutputFormat, Path]]
) -> None:
    """A report that cannot be written is a usage error found before the scan, not after it."""
    named = [("--output", output)] if output is not None else []
    named += [("--report", path) for _format, path in extra_reports]
    claimed: dict[Path, str] = {}
    for option, path in named:
        if path.is_dir():
            raise UsageError(f"{option} {path}: is a directory")
        directory = path.parent
        if not directory.is_dir():
            raise UsageError(f"{option} {path}: no directory {directory}")
        if not os.access(directory, os.W_OK | os.X_OK):
            raise UsageError(f"{option} {path}: cannot write in {directory}")
        resolved = path.resolve()
        if resolved in claimed:
            raise UsageError(f"{option} {path}: {claimed[resolved]} writes to the same file")
        claimed[resolved] = option


def _parse_listed(
    text: str, where: str, sni: str | None, connect_to: tuple[ConnectAddress, ...]
) -> Target:
    try:
        return parse_target(text, sni=sni, connect_to=connect_to)
    except UsageError as exc:
        prefix = "" if where == text else f"{where}: "
        raise UsageError(f"{prefix}{exc.message}") from exc


def _baseline_for(
    target: Target, olds: Sequence[baselines.ReportSnapshot] | None, *, warn: bool
) -> baselines.ReportSnapshot | None:
    """The baseline report about ``target``; one lone report is compared whatever it names
    (with a warning), as before fleets existed."""
    if not olds:
        return None
    wanted = _target_text(target)
    for old in olds:
        if old.target == wanted:
            return old
    if warn and len(olds) == 1:
        old = olds[0]
        _note(f"warning: baseline {old.label} is a report on {old.target}, not {target.display}")
        return old
    return None


def _sev(text: str) -> Severity:
    return policies.parse_severity(text)


def _target_text(target: Target) -> str:
    return (
        f"[{target.host}]:{target.port}" if ":" in target.host else f"{target.host}:{target.port}"
    )


def _load_policy(explicit: Path | None, disabled: bool) -> policies.Policy:
    if disabled:
        return policies.NO_POLICY
    path = explicit if explicit is not None else policies.discover(Path.cwd())
    if path is None:
        return policies.NO_POLICY
    return policies.load(path)


@dataclass(frozen=True, slots=True)
class Run:
    """How this invocation reports, whatever the target."""

    debug: bool = False
    no_color: bool = False
    extra_reports: tuple[tuple[OutputFormat, Path], ...] = ()


@dataclass(frozen=True, slots=True)
class Assessed:
    """One target scanned and judged; ``rules`` is None only when the scan itself broke."""

    result: ScanResult | None
    rules: RuleReport | None
    code: ExitCode


def _assess(
    target: Target,
    options: ScanOptions,
    gating: Gating,
    run: Run,
    *,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
    limiter: ConnectionLimiter | None = None,
    result: ScanResult | None = None,
) -> Assessed:
    """Scan (unless ``result`` is given), evaluate the rules, explain failures on stderr, and
    decide the exit code for this one target."""
    if result is None:
        try:
            result = run_scan(target, options, progress=progress, stop=stop, limiter=limiter)
        except UsageError as exc:
            _fail(f"{target.display}: {exc.message}")
            return Assessed(None, None, ExitCode.USAGE)
        except HttpsAuditError as exc:  # pragma: no cover - scan() turns these into outcomes
            _fail(f"{target.display}: {exc}")
            return Assessed(None, None, ExitCode.INTERNAL)
        except Exception as exc:
            code = _internal_error(f"{target.display}: internal error: {exc!r}", run.debug)
            return Assessed(None, None, code)
    try:
        rules = evaluate(result, RULES, lang=gating.rules_lang, selection=gating.selection)
    except Exception as exc:
        message = f"{target.display}: internal error in the rules: {exc!r}"
        return Assessed(result, None, _internal_error(message, run.debug))
    _explain_outcomes(result, target, run.debug)
    code = _judge(result, rules, target, frozenset(probes_needed(options.only_probes)), gating)
    return Assessed(result, rules, code)


def _scan_and_report(
    target: Target,
    options: ScanOptions,
    output_format: OutputFormat,
    output: Path | None,
    run: Run,
    gating: Gating,
) -> int:
    """One target: scan, judge, write every report. Ctrl-C ends the scan early and still
    writes what was measured (exit 130)."""
    errors = _stderr(run.no_color)
    with _interruptible() as stop, _progress(errors, errors.is_terminal) as progress:
        assessed = _assess(target, options, gating, run, progress=progress, stop=stop)
    result, rules = assessed.result, assessed.rules
    if result is None or rules is None:
        return assessed.code
    code = assessed.code
    color = (
        output is None
        and output_format is OutputFormat.TEXT
        and not run.no_color
        and sys.stdout.isatty()
    )
    destination = output
    try:
        text = render_report(
            result, output_format, rules=rules, exit_code=code, color=color, debug=run.debug
        )
        if output is None:
            click.echo(text, nl=False)
        else:
            write_atomically(output, text)
        for extra_format, destination in run.extra_reports:
            extra = render_report(
                result, extra_format, rules=rules, exit_code=code, color=False, debug=run.debug
            )
            write_atomically(destination, extra)
    except OSError as exc:
        _fail(f"cannot write the report to {destination}: {exc.strerror or exc}")
        return ExitCode.USAGE
    except Exception as exc:
        return _internal_error(
            f"{target.display}: internal error writing the report: {exc!r}", run.debug
        )
    if result.interrupted:
        _note("interrupted: the report holds what finished before Ctrl-C")
        return ExitCode.INTERRUPTED
    return int(code)


def _scan_fleet(
    targets: Sequence[tuple[str, Target]],
    plan: Callable[[Target], tuple[ScanOptions, Gating]],
    output_format: OutputFormat,
    output: Path | None,
    run: Run,
    *,
    concurrency: int,
    max_connections: int,
) -> int:
    """Many targets, ``concurrency`` at a time: each report is written as its scan ends (JSON
    Lines and JSON stream; memory holds one summary row per target), then the summary. The
    exit code is the first of 2, 5, 3, 1, 4 over all targets; 130 after Ctrl-C."""
    errors = _stderr(run.no_color)
    started_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    started = now_ns()
    gatings: dict[int, tuple[ScanOptions, Gating]] = {}
    rows: dict[int, fleet_report.TargetRow] = {}

    def planned() -> Iterator[tuple[Target, ScanOptions]]:
        for index, (_text, target) in enumerate(targets):
            gatings[index] = plan(target)
            yield target, gatings[index][0]

    try:
        with contextlib.ExitStack() as files:
            main_stream = files.enter_context(_report_stream(output))
            writers = [_fleet_writer(output_format, main_stream, run, started_at, output)]
            for extra_format, path in run.extra_reports:
                stream = files.enter_context(_report_stream(path))
                writers.append(_fleet_writer(extra_format, stream, run, started_at, path))
            with (
                _interruptible() as stop,
                _fleet_progress(errors, len(targets)) as advance,
            ):
                items = scan_many(
                    planned(),
                    concurrency=concurrency,
                    stop=stop,
                    limiter=ConnectionLimiter(max_connections),
                )
                for item in items:
                    options, gating = gatings.pop(item.index)
                    row = _fleet_item(item, targets[item.index][0], options, gating, run, writers)
                    rows[item.index] = row
                    advance(row)
                interrupted = stop.is_set()
            for index, (text, _target) in enumerate(targets):
                if index not in rows:
                    rows[index] = fleet_report.TargetRow(
                        index, text, fleet_report.NOT_SCANNED, None
                    )
            codes = (ExitCode(row.exit_code) for row in rows.values() if row.exit_code is not None)
            code = ExitCode.INTERRUPTED if interrupted else final_exit_code(codes)
            summary = fleet_report.FleetSummary(
                rows=tuple(rows[index] for index in range(len(targets))),
                started_at=started_at,
                duration_ms=ns_to_ms(now_ns() - started),
                interrupted=interrupted,
                exit_code=int(code),
            )
            for writer in writers:
                writer.finish(summary)
    except OSError as exc:
        _fail(f"cannot write the report: {exc.strerror or exc}")
        return ExitCode.USAGE
    if interrupted:
        done = sum(1 for row in rows.values() if row.status != fleet_report.NOT_SCANNED)
        _note(f"interrupted: the report holds the {done} of {len(targets)} targets that ran")
    return int(code)


def _fleet_item(
    item: FleetItem,
    text: str,
    options: ScanOptions,
    gating: Gating,
    run: Run,
    writers: Sequence[fleet_report.FleetWriter],
) -> fleet_report.TargetRow:
    """Judge one finished target, hand its report to every writer, keep only its row."""
    if item.result is None:
        code = _internal_error(f"{item.target.display}: internal error: {item.error}", False)
        if run.debug and item.trace:
            click.echo(item.trace, err=True)
        return fleet_report.TargetRow(
            item.index, text, fleet_report.FAILED, int(code), error=item.error
        )
    assessed = _assess(item.target, options, gating, run, result=item.result)
    for writer in writers:
        writer.add(item.index, item.result, assessed.rules, int(assessed.code))
    return fleet_report.row_for(item.index, text, item.result, assessed.rules, int(assessed.code))


@contextlib.contextmanager
def _report_stream(path: Path | None) -> Iterator[IO[str]]:
    """Standard output, or a temporary file renamed over ``path`` once complete: a reader
    never sees half a report, even after Ctrl-C."""
    if path is None:
        yield sys.stdout
        return
    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            yield stream
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _fleet_writer(
    output_format: OutputFormat, stream: IO[str], run: Run, started_at: str, path: Path | None
) -> fleet_report.FleetWriter:
    color = (
        path is None and output_format is OutputFormat.TEXT and not run.no_color and stream.isatty()
    )
    if output_format is OutputFormat.JSONL:
        return fleet_report.JsonLinesWriter(stream, debug=run.debug)
    if output_format is OutputFormat.JSON:
        return fleet_report.JsonDocumentWriter(
            stream, started_at=started_at, tool_version=__version__, debug=run.debug
        )
    if output_format is OutputFormat.TEXT:

        def one(result: ScanResult, rules: RuleReport | None, code: int) -> str:
            if rules is None:
                return ""
            return (
                render_report(
                    result, output_format, rules=rules, exit_code=code, color=color, debug=run.debug
                )
                + "\n"
            )

        def summary(done: fleet_report.FleetSummary) -> str:
            return _rendered(lambda console: terminal.render_fleet_summary(done, console), color)

        return fleet_report.TextWriter(stream, one, summary)
    if output_format is OutputFormat.SARIF:
        from httpsaudit.report import sarif

        return fleet_report.WholeDocumentWriter(stream, sarif.render_fleet)
    if output_format is OutputFormat.JUNIT:
        from httpsaudit.report import junit

        return fleet_report.WholeDocumentWriter(stream, junit.render_fleet)
    if output_format is OutputFormat.MARKDOWN:
        from httpsaudit.report import markdown

        return fleet_report.WholeDocumentWriter(stream, markdown.render_fleet)
    assert_never(output_format)


@contextlib.contextmanager
def _fleet_progress(
    console: Console, total: int
) -> Iterator[Callable[[fleet_report.TargetRow], None]]:
    """A progress bar on stderr when it is a terminal: targets done, problems, ETA."""
    if not console.is_terminal:
        yield lambda _row: None
        return
    columns = (
        TextColumn("[bold]scanning[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unreachable]} unreachable, {task.fields[failing]} failing"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(
        *columns,
        console=console,
        redirect_stdout=sys.stdout.isatty(),
        redirect_stderr=True,
        transient=False,
    ) as progress:
        task = progress.add_task("targets", total=total, unreachable=0, failing=0)
        counts = {"unreachable": 0, "failing": 0}

        def advance(row: fleet_report.TargetRow) -> None:
            if row.reachable is False:
                counts["unreachable"] += 1
            elif row.exit_code not in (ExitCode.OK, None):
                counts["failing"] += 1
            progress.update(
                task, advance=1, unreachable=counts["unreachable"], failing=counts["failing"]
            )

        yield advance


def _rendered(draw: Callable[[Console], None], color: bool) -> str:
    """What ``draw`` prints, as text; colour only when it goes to a terminal."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=_report_width(),
        color_system="truecolor" if color else None,
        force_terminal=color,
        highlight=False,
    )
    draw(console)
    # rich pads every line to the console width; trailing blanks only bloat files and diffs.
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


@contextlib.contextmanager
def _interruptible() -> Iterator[threading.Event]:
    """The first Ctrl-C sets the returned event (scans stop and report what finished); a
    second one aborts at once. Off the main thread (an embedding), Ctrl-C is left alone."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_interrupt(_signal: int, _frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        _note("stopping: Ctrl-C again to abort without a report")

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _judge(
    result: ScanResult,
    rules: RuleReport,
    target: Target,
    planned: frozenset[ProbeId],
    gating: Gating,
) -> ExitCode:
    """Every code that applies, one line on stderr for each verdict, then the precedence."""
    applies = {exit_code_for(result, rules)}
    for rule_id in rule_bugs(rules):
        finding = next(finding for finding in rules.findings if finding.rule_id == rule_id)
        _fail(f"{target.display}: {rule_id}: {finding.reason} (please report it)")
    if gating.gate is not None:
        if not result.reachable:
            _note(f"{gating.label}gate not evaluated: no TLS session with the target")
        else:
            counted = (
                baselines.regressions(gating.baseline, rules.findings)
                if gating.baseline is not None
                else None
            )
            against = gating.baseline.label if gating.baseline is not None else None
            verdict = policies.evaluate_gate(rules, gating.gate, counted=counted, against=against)
            suffix = " (--exit-zero: not failing)" if verdict.failed and gating.exit_zero else ""
            _note(f"{gating.label}{verdict.summary}{suffix}")
            if verdict.failed:
                applies.add(ExitCode.GATE_FAILED)
    incomplete = incomplete_rules(result, rules, planned)
    if gating.strict and incomplete and result.reachable:
        probes = sorted({probe.value for _rule, failed in incomplete for probe in failed})
        rule_ids = ", ".join(rule_id for rule_id, _failed in incomplete)
        _fail(
            f"{target.display}: scan incomplete (--strict): the {', '.join(probes)} "
            f"{'probe' if len(probes) == 1 else 'probes'} failed, so {rule_ids} "
            f"{'is' if len(incomplete) == 1 else 'are'} unknown"
        )
        applies.add(ExitCode.INCOMPLETE)
    return final_exit_code(applies, exit_zero=gating.exit_zero)


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


# -- rules, explain, diff --------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
EXPLAIN_WIDTH = 92
_HEADINGS = {
    "en": {
        "why": "Why it matters",
        "fix": "How to fix",
        "references": "References",
        "needs": "needs",
        "probe": "probe",
        "not_configurable": "not configurable",
        "from": "from",
        "before": "before",
        "removed": "removed: kept so that its id is never reused",
        "measured": "<...> marks a value measured at scan time.",
    },
    "zh": {
        "why": "为什么重要",
        "fix": "如何修复",
        "references": "参考资料",
        "needs": "所需探测",
        "probe": "探测",
        "not_configurable": "无法配置",
        "from": "版本",
        "before": "早于",
        "removed": "已移除:保留编号以免重复使用",
        "measured": "<...> 表示扫描时实测的数值。",
    },
}


def _template(text: Localized, lang: str) -> str:
    """A rule text without evidence: ``{offered_versions}`` shown as ``<offered_versions>``."""
    return _PLACEHOLDER.sub(r"<\1>", text.get(lang))


def _rule_row(rule: Rule, lang: str) -> dict[str, str | list[str]]:
    return {
        "id": rule.id,
        "name": rule.name,
        "severity": rule.severity.label,
        "category": rule.category.value,
        "title": plain_title(rule.title.get(lang)),
        "lifecycle": rule.lifecycle.value,
        "requires": [probe.value for probe in rule.requires],
    }


@main.command("rules")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@LANG_OPTION
def list_rules(output_format: str, lang: str | None) -> None:
    """List every rule: id, name, severity, category and title."""
    rows = [_rule_row(rule, lang or "en") for rule in RULES]
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    columns = ("id", "name", "severity", "category", "title")
    widths = {
        column: max([len(column), *(len(str(row[column])) for row in rows)])
        for column in columns[:-1]
    }
    header = "  ".join(column.upper().ljust(widths[column]) for column in columns[:-1])
    click.echo(f"{header}  TITLE")
    for row in rows:
        cells = "  ".join(str(row[column]).ljust(widths[column]) for column in columns[:-1])
        removed = " (removed)" if row["lifecycle"] == Lifecycle.REMOVED.value else ""
        click.echo(f"{cells}  {row['title']}{removed}")


@main.command()
@click.argument("rule_key", metavar="RULE|scoring")
@LANG_OPTION
def explain(rule_key: str, lang: str | None) -> None:
    """Explain RULE (id or name): why it matters, how to fix it on each server, references.

    `httpsaudit explain scoring` explains the score and the grade.
    """
    language = lang or "en"
    if rule_key.strip().lower() == "scoring":
        click.echo(scoring_text(language), nl=False)
        return
    rule = rule_by_id(rule_key)
    if rule is None:
        raise click.BadParameter(
            f"unknown rule {rule_key!r} (httpsaudit rules lists them)", param_hint="RULE"
        )
    click.echo(explain_text(rule, language), nl=False)


def _paragraph(text: str, lang: str) -> list[str]:
    """Indented and wrapped at spaces; Chinese has few spaces to wrap at, the terminal wraps it."""
    if lang == "zh":
        return [f"  {text}"]
    return textwrap.wrap(text, EXPLAIN_WIDTH, initial_indent="  ", subsequent_indent="  ")


def explain_text(rule: Rule, lang: str) -> str:
    """ruff's ``rule`` page for one of ours: what, why, how to fix per server, references."""
    words = _HEADINGS[lang]
    needs = ", ".join(probe.value for probe in rule.requires) or "-"
    lines = [
        f"{rule.id} {rule.name}",
        f"{rule.severity.label} · {rule.category.value} · {words['needs']}: {needs}",
    ]
    if rule.lifecycle is Lifecycle.REMOVED:
        lines.append(words["removed"])
    lines += ["", plain_title(rule.title.get(lang)), "", words["why"]]
    lines += [*_paragraph(rule.why.get(lang), lang), "", words["fix"]]
    lines += _paragraph(_template(rule.advice.summary, lang), lang)
    for kind, snippet in rule.advice.snippets.items():
        lines.append("")
        if snippet.not_configurable:
            lines.append(f"  {kind.value} ({words['not_configurable']}): {snippet.text}")
            continue
        since = ""
        if snippet.min_version is not None:
            since = f" ({words['from']} {'.'.join(str(part) for part in snippet.min_version)})"
        lines.append(f"  {kind.value}{since}:")
        lines += [f"    {line}" for line in snippet.text.splitlines()]
        if snippet.min_version is not None and snippet.before_text is not None:
            version = ".".join(str(part) for part in snippet.min_version)
            lines.append(f"  {kind.value} ({words['before']} {version}):")
            lines += [f"    {line}" for line in snippet.before_text.splitlines()]
    if rule.advice.references:
        lines += ["", words["references"]]
        lines += [f"  - {reference}" for reference in rule.advice.references]
    if _PLACEHOLDER.search(rule.advice.summary.get(lang)):
        lines += ["", words["measured"]]
    return "\n".join(lines) + "\n"


def scoring_text(lang: str) -> str:
    """The scoring formula, built from the engine's own constants so it cannot drift."""
    penalties = ", ".join(f"{severity.label} {PENALTY[severity]}" for severity in _by_weight())
    weights = ", ".join(
        f"{category.value} {round(weight * 100)}%" for category, weight in CATEGORY_WEIGHT.items()
    )
    grades = ", ".join(f"{letter} >= {floor}" for floor, letter in GRADES)
    categories = ", ".join(category.value for category in CATEGORY_WEIGHT)
    if lang == "zh":
        return (
            "评分\n"
            f"每个类别({categories})从 100 分开始,类别中每条未通过的规则按严重性扣分:"
            f"{penalties},最低为 0。\n"
            f"总分按类别加权:{weights}。\n"
            f"等级:{grades},否则为 F;只要有一条 critical 问题,等级即为 F。\n"
            "状态为 unknown、not_applicable 或 ignored 的规则不影响分数。\n"
        )
    return (
        "Scoring\n"
        f"Every category ({categories}) starts at 100 and loses, per failed rule in it, a "
        f"penalty by severity: {penalties}; floored at 0.\n"
        f"The overall score weighs {weights}.\n"
        f"Grades: {grades}, else F; any critical finding caps the grade at F.\n"
        "Rules that are unknown, not applicable or ignored do not move the score.\n"
    )


def _by_weight() -> Sequence[Severity]:
    return sorted(Severity, reverse=True)


@main.command()
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def diff(old: Path, new: Path, output_format: str) -> None:
    """Compare two JSON reports: findings new, fixed, worse and better; score and grade;
    DNS/TCP/TLS/TTFB times; whether the session ticket key rotated."""
    try:
        # Two files of one name (runs/1/report.json, runs/2/report.json) go by their paths.
        by_path = old.name == new.name
        comparison = baselines.compare(
            baselines.load_report(old, label=str(old) if by_path else None),
            baselines.load_report(new, label=str(new) if by_path else None),
        )
    except UsageError as exc:
        _fail(exc.message)
        sys.exit(ExitCode.USAGE)
    if output_format == "json":
        click.echo(json.dumps(baselines.to_json(comparison), indent=2, ensure_ascii=False))
    else:
        click.echo(baselines.render_text(comparison), nl=False)


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
    The findings are shown but never fail the exit code.
    """
    from httpsaudit.demo import DemoServer  # a test PKI and a server: only needed here

    no_color = no_color or bool(os.environ.get("NO_COLOR"))
    report_only = Gating(rules_lang="en", selection=Selection(), gate=None)
    try:
        with DemoServer() as server:
            code = _scan_and_report(
                server.target(),
                server.options(),
                OutputFormat(output_format),
                None,
                Run(no_color=no_color),
                report_only,
            )
    except HttpsAuditError as exc:
        _fail(f"demo: {exc}")
        sys.exit(ExitCode.INTERNAL)
    except OSError as exc:
        _fail(f"demo: cannot start the local server: {exc}")
        sys.exit(ExitCode.INTERNAL)
    sys.exit(code)
