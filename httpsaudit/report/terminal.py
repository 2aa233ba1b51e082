"""The human report: a ScanResult drawn with rich on a Console the caller owns.

Everything the server sent is shown through ``Text`` (never markup) after control characters are
escaped, so a hostile header cannot restyle or rewrite the terminal. Colour is only emphasis:
every fact is also in the words, so ``color_system=None`` and ``NO_COLOR`` lose nothing.
"""

from __future__ import annotations

import datetime
import ipaddress
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import chop_cells
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from httpsaudit.errors import Phase
from httpsaudit.report.findings import (
    STATUS_WORDS,
    failed_by_severity,
    saving_text,
    snippet_label,
    status_counts,
    unknown_reasons,
)
from httpsaudit.report.fleet import FleetSummary
from httpsaudit.results import (
    AlpnResult,
    CertificateDeliveryResult,
    CertificateInfo,
    CertificateResult,
    ChainWeight,
    CipherSuiteInfo,
    CipherSuitesResult,
    ClientSimulationResult,
    ConnectionResult,
    Direction,
    DnsResult,
    DowngradeResult,
    DualCertificates,
    EarlyDataResult,
    FalseStartResult,
    FirstByteTiming,
    Flight,
    GroupsResult,
    Http3HintsResult,
    HttpResponse,
    KeyCost,
    KeyExchangeResult,
    OcspResponseFacts,
    OcspResult,
    ProbeError,
    ProbeOutcome,
    ProbeStatus,
    ReplayCheck,
    ResumptionAttempts,
    ResumptionResult,
    ScanResult,
    Support,
    SvcbRecord,
    TicketFacts,
    TlsHandshake,
    ValidityHygiene,
    VersionCipherSuites,
    VersionsResult,
    VersionSupport,
)
from httpsaudit.rules.engine import RuleReport
from httpsaudit.rules.model import Category, Finding, RuleStatus, Severity
from httpsaudit.tls.codes import version_label

# Certificates closer than this to expiry are shown as a warning.
EXPIRY_WARNING_DAYS = 30
# Waterfall geometry: the label column takes this share of the width, within these bounds.
_LABEL_SHARE = 0.4
_LABEL_MIN = 22
_LABEL_MAX = 44
_VALUE_WIDTH = 10
_INDENT = 2
# Keys of the key/value sections share this width so their values line up down the report.
_KEY_WIDTH = 19
# Below this many cells the bars say nothing; the waterfall then shows numbers only.
_MIN_BAR_CELLS = 10

_PHASE_LABELS = {
    Phase.DNS: "DNS",
    Phase.TCP: "TCP connect",
    Phase.TLS: "TLS handshake",
    Phase.HTTP: "HTTP first byte",
}
_PHASE_STYLES = {Phase.DNS: "cyan", Phase.TCP: "blue", Phase.TLS: "magenta", Phase.HTTP: "green"}
_STATS_LABELS = {
    "dns": "DNS",
    "tcp": "TCP connect",
    "tls": "TLS handshake",
    "ttfb": "HTTP first byte",
    "total": "total (wall clock)",
}
_RSA_SIGNATURE = re.compile(r"(sha\d+|md5)WithRSAEncryption", re.IGNORECASE)
_HASHED_SIGNATURE = re.compile(r"(ecdsa|dsa)-with-(sha\d+)", re.IGNORECASE)
# RFC 4514: RDNs are separated by commas; an escaped comma belongs to a value.
_RDN_SEPARATOR = re.compile(r"(?<!\\),")
_STATUS_STYLES = {
    ProbeStatus.COMPLETED: "green",
    ProbeStatus.FAILED: "bold red",
    ProbeStatus.SKIPPED: "yellow",
}


@dataclass(frozen=True, slots=True)
class _Glyphs:
    """Symbols for a UTF-8 console, or their ASCII stand-ins when it cannot encode them."""

    bar: str
    sent: str
    received: str
    about: str
    cross: str
    bullet: str
    dash: str
    then: str
    check: str
    micro: str


_UNICODE = _Glyphs("█", "→", "←", "≈", "✗", "•", "—", "→", "✓", "µ")
_ASCII = _Glyphs("#", "->", "<-", "~", "x", "*", "-", "->", "+", "u")


def render(scan: ScanResult, console: Console, *, rules: RuleReport | None = None) -> None:
    """Print the whole report; a failed or partial scan renders what it has and never raises.

    With ``rules``, the findings come first after the header: they are what to act on.
    """
    glyphs = _ASCII if console.options.ascii_only else _UNICODE
    connection = scan.connection.result
    console.print(_header(scan))
    failure = _failure_panel(scan, glyphs)
    if failure is not None:
        console.print(failure)
    if rules is not None:
        _section(console, "Findings", _findings(rules, glyphs, console.width - _INDENT))
    _section(console, _timing_title(connection), _timing(scan, console, glyphs))
    if connection is not None and (len(connection.samples) > 1 or connection.sample_errors):
        _section(console, "Samples", _samples(connection, glyphs))
    _section(console, "Negotiated", _negotiated(scan))
    _section(console, "HTTP", _http(scan))
    _section(console, "DNS", _dns(scan, glyphs))
    section_width = console.width - _INDENT
    _section(console, "Protocol versions", _protocol_versions(scan, glyphs))
    _section(console, "Cipher suites", _cipher_suites(scan, glyphs, section_width))
    _section(console, "Key exchange", _key_exchange(scan, glyphs))
    _section(console, "False Start", _false_start(scan, glyphs))
    _section(console, "ALPN and HTTP/3", _alpn_and_http3(scan, glyphs))
    _section(console, "Client simulation", _client_simulation(scan, glyphs, section_width))
    _section(console, "Session resumption", _resumption(scan, glyphs))
    _section(console, "Early data (0-RTT)", _early_data(scan, glyphs, section_width))
    _section(console, "Certificate chain", _certificates(scan, glyphs))
    _section(console, "OCSP stapling", _ocsp(scan, glyphs))
    _section(console, "Certificate delivery", _delivery(scan, glyphs))
    _section(console, "Probes", _probes(scan, glyphs))


# -- small helpers -------------------------------------------------------------------------


def _clean(value: object) -> str:
    """Escape control characters: server-supplied text must not drive the terminal."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _text(value: object, style: str = "") -> Text:
    return Text(_clean(value), style=style)


def _ms(value: float) -> str:
    """Milliseconds with precision that suits their size: 0.18, 12.4, 230."""
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:.0f}"


def _duration(value_ms: float) -> str:
    return f"{value_ms / 1000:.2f} s" if value_ms >= 1000 else f"{_ms(value_ms)} ms"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _phase_name(phase: Phase | None) -> str:
    return _PHASE_LABELS.get(phase, phase.value) if phase is not None else "unknown phase"


def _error_text(error: ProbeError) -> str:
    """The message without the ``TCP:`` prefix ``str(exc)`` adds; the phase is shown apart."""
    message = error.message
    if error.phase is not None:
        prefix = f"{error.phase.value.upper()}: "
        message = message.removeprefix(prefix)
    return message


def _kv(rows: Iterable[tuple[str, RenderableType]], key_width: int = _KEY_WIDTH) -> Table:
    """Key/value lines with the values aligned; values wrap, keys never do."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True, min_width=key_width)
    grid.add_column(overflow="fold")
    for key, value in rows:
        grid.add_row(Text(key), value)
    return grid


def _bullets(lines: Sequence[Text], glyphs: _Glyphs) -> Table:
    """One bullet per line with a hanging indent, so wrapped messages stay readable."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for line in lines:
        grid.add_row(Text(glyphs.bullet), line)
    return grid


def _section(console: Console, title: str, body: RenderableType) -> None:
    console.print()
    console.print(Rule(Text(title, style="bold"), align="left", style="dim"))
    console.print(Padding(body, (0, 0, 0, _INDENT)))


def _dim(message: str) -> Text:
    return Text(message, style="dim")


def _no_connection_reason(scan: ScanResult) -> str:
    """Why a later section has nothing: the step where the connection stopped."""
    outcome = scan.connection
    if outcome.status is ProbeStatus.SKIPPED:
        return f"the connection probe was skipped ({_clean(outcome.skip_reason)})"
    if outcome.error is not None:
        return f"the connection failed during {_phase_name(outcome.error.phase)}"
    return "the connection did not get that far"


# -- header and failure --------------------------------------------------------------------


def _when(started_at: str) -> str:
    try:
        moment = datetime.datetime.fromisoformat(started_at)
    except ValueError:
        return _clean(started_at)
    if moment.utcoffset() == datetime.timedelta(0):
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return moment.isoformat(sep=" ")


def _header(scan: ScanResult) -> Panel:
    target = scan.target
    connection = scan.connection.result
    rows: list[tuple[str, RenderableType]] = [
        ("target", _text(target.input, "bold")),
        (
            "host:port",
            Text.assemble(
                _clean(_host_port(target.host, target.port)), "   path ", _clean(target.path)
            ),
        ),
        ("SNI", _text(target.sni) if target.sni else _dim("none (IP literal)")),
    ]
    if target.connect_to:
        rows.append(("connect to", _text(", ".join(target.connect_to))))
    tcp = connection.tcp if connection is not None else None
    if tcp is not None:
        connected = _text(_host_port(tcp.address, tcp.port))
        if tcp.failed_addresses:
            failed = ", ".join(tcp.failed_addresses)
            connected.append(f"  (after failing on {_clean(failed)})", style="yellow")
        rows.append(("connected", connected))
    else:
        rows.append(("connected", Text("not connected", style="bold red")))
    rows.append(("scanned", Text(f"{_when(scan.started_at)}, took {_duration(scan.duration_ms)}")))
    if scan.interrupted:
        rows.append(
            ("interrupted", Text("Ctrl-C: probes still running were skipped", style="bold red"))
        )
    return Panel(
        _kv(rows, key_width=0),
        title=Text(f"httpsaudit {_clean(scan.tool_version)}", style="bold"),
        title_align="left",
        border_style="dim",
    )


def _failure_panel(scan: ScanResult, glyphs: _Glyphs) -> Panel | None:
    """The reason there is no TLS session, shown before everything else."""
    outcome = scan.connection
    if outcome.status is ProbeStatus.COMPLETED:
        return None
    if outcome.error is not None:
        error = outcome.error
        title = f"{glyphs.cross} connection failed during {_phase_name(error.phase)}"
        body = Text.assemble((f"{error.kind.value}: ", "bold red"), _clean(_error_text(error)))
    else:
        title = f"{glyphs.cross} connection not attempted"
        body = _text(outcome.skip_reason or "no reason given")
    return Panel(body, title=Text(title, style="bold red"), title_align="left", border_style="red")


# -- findings ------------------------------------------------------------------------------

# Emphasis only: the severity is always written out as a word too.
_SEVERITY_STYLES = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
_GRADE_STYLES = {"A": "bold green", "B": "green", "C": "yellow", "D": "yellow", "F": "bold red"}
# Config snippets are indented under their label like code in a book.
_SNIPPET_INDENT = 2


def _clean_lines(value: str, glyphs: _Glyphs) -> str:
    """Escape control characters but keep line breaks: advice and snippets span lines.

    An ASCII-only console gets every other character as a ``\\u`` escape instead of a crash.
    """
    text = "\n".join(_clean(line) for line in value.split("\n"))
    if glyphs is _ASCII:
        return text.encode("ascii", "backslashreplace").decode("ascii")
    return text


def _snippet(text: str, glyphs: _Glyphs, width: int) -> Text:
    """Config lines as they are: never re-wrapped at spaces (that would read as new lines),
    only cut where a line is wider than the console."""
    lines: list[str] = []
    for line in _clean_lines(text, glyphs).split("\n"):
        lines.extend(chop_cells(line, max(width, 1)) or [""])
    return Text("\n".join(lines), style="dim", no_wrap=True)


def _score_line(rules: RuleReport, glyphs: _Glyphs) -> Text:
    line = Text("score ", style="bold")
    if rules.score is None or rules.grade is None:
        line.append("none", style="bold")
        line.append(": no TLS session with the target, nothing to grade")
        return line
    line.append(f"{rules.score}/100", style="bold")
    line.append(", grade ")
    line.append(rules.grade, style=_GRADE_STYLES.get(rules.grade, "bold"))
    parts = [
        f"{category.value} {rules.category_scores[category]}"
        for category in Category
        if category in rules.category_scores
    ]
    if parts:
        line.append(f"   ({', '.join(parts)})")
    if rules.server is not None:
        line.append("   server: ")
        line.append(_clean_lines(rules.server.display, glyphs))
    return line


def _finding_block(finding: Finding, glyphs: _Glyphs, width: int) -> list[RenderableType]:
    """One failed finding: what is wrong, what it costs, what to change, the config lines."""
    style = _SEVERITY_STYLES.get(finding.severity, "")
    heading = Text(f"{glyphs.cross} ", style=style)
    heading.append(finding.rule_id, style="bold")
    heading.append(f" {finding.name}")
    heading.append(f"  [{finding.category.value}]", style="dim")
    body: list[RenderableType] = [Text(_clean_lines(finding.message, glyphs))]
    saving = saving_text(finding.saving)
    if saving is not None:
        body.append(Text(f"saves {saving}", style="bold"))
    if finding.advice:
        body.append(Text(_clean_lines(finding.advice, glyphs)))
    if finding.snippet:
        body.append(Text(f"{snippet_label(finding)}:", style="dim"))
        snippet = _snippet(finding.snippet, glyphs, width - _INDENT - _SNIPPET_INDENT)
        body.append(Padding(snippet, (0, 0, 0, _SNIPPET_INDENT)))
    return [heading, Padding(Group(*body), (0, 0, 0, _INDENT))]


def _counts_line(rules: RuleReport) -> Text:
    counts = status_counts(rules.findings)
    parts = [f"{counts[status]} {STATUS_WORDS[status]}" for status in RuleStatus]
    return Text(f"rules: {', '.join(parts)}")


def _findings(rules: RuleReport, glyphs: _Glyphs, width: int) -> RenderableType:
    """Score first, then what failed (worst first) with its fix, then the tally."""
    parts: list[RenderableType] = [_score_line(rules, glyphs), Text("")]
    groups = failed_by_severity(rules)
    if not groups:
        parts.append(Text(f"{glyphs.check} no rule failed", style="green"))
        parts.append(Text(""))
    for severity, findings in groups:
        title = f"{severity.label.upper()} ({len(findings)})"
        parts.append(Text(title, style=f"bold {_SEVERITY_STYLES.get(severity, '')}".strip()))
        for finding in findings:
            parts.extend(_finding_block(finding, glyphs, width))
            parts.append(Text(""))
    parts.append(_counts_line(rules))
    for reason, rule_ids in unknown_reasons(rules.findings):
        line = Text(f"unknown {', '.join(rule_ids)}: ", style="yellow")
        line.append(_clean_lines(reason, glyphs), style="dim")
        parts.append(line)
    return Group(*parts)


# -- timing waterfall ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    """One waterfall line: a label, a span on the shared axis (or a note instead), a value."""

    label: RenderableType
    span: tuple[float, float] | None
    value: Text
    style: str = ""
    note: Text | None = None


def _timing_title(connection: ConnectionResult | None) -> str:
    if connection is not None and len(connection.samples) > 1:
        return f"Timing (first of {len(connection.samples)} cold connections)"
    return "Timing"


def _flight_label(flight: Flight, glyphs: _Glyphs, width: int) -> Table:
    """Arrow, message names and size, wrapped between words so "1566 B" never splits."""
    arrow = f"  {glyphs.sent if flight.direction is Direction.CLIENT else glyphs.received}"
    size = f"{flight.wire_bytes} B"
    if flight.records > 1:
        size += f" ({flight.records} records)"
    names = [_clean(name) for name in flight.messages] or ["records"]
    words = [f"{name}," for name in names[:-1]] + [names[-1], size]
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(Text(arrow), Text("\n".join(_wrap(words, width - len(arrow) - 1))))
    return grid


def _wrap(words: Sequence[str], width: int) -> list[str]:
    """Greedy line filling that keeps each word whole (a word wider than a line stands alone)."""
    lines: list[str] = []
    line = ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines


def _flight_value(flight: Flight) -> Text:
    if flight.end_ms - flight.start_ms >= 0.005:
        return Text(f"+{_ms(flight.start_ms)}-{_ms(flight.end_ms)}", style="dim")
    return Text(f"+{_ms(flight.start_ms)} ms", style="dim")


def _dns_note(scan: ScanResult) -> str:
    """Why the timed connection asked no DNS question."""
    target = scan.target
    if target.connect_to and _is_ip(target.connect_to[0]):
        return f"not resolved: --connect-to {target.connect_to[0]}"
    if _is_ip(target.host):
        return "not resolved: the target is an IP address"
    return "not measured"


def _dns_short(scan: ScanResult) -> str:
    """The waterfall's few words for a missing DNS phase; the DNS section says more."""
    target = scan.target
    if target.connect_to and _is_ip(target.connect_to[0]):
        return "not resolved (--connect-to IP)"
    if _is_ip(target.host):
        return "not resolved (IP literal)"
    return "not measured"


def _is_ip(text: str) -> bool:
    for candidate in (text, text.rpartition(":")[0]):
        try:
            ipaddress.ip_address(candidate.strip("[]"))
        except ValueError:
            continue
        return True
    return False


def _waterfall_rows(
    scan: ScanResult, glyphs: _Glyphs, label_width: int
) -> tuple[list[_Row], float]:
    """Phases back to back on one axis, TLS flights inside the TLS span; returns the axis end."""
    connection = scan.connection.result
    error = scan.connection.error
    failed_phase = error.phase if error is not None else None
    error_note = f"{error.kind.value}: {_clean(_error_text(error))}" if error is not None else ""
    rows: list[_Row] = []
    clock = 0.0

    def phase_row(phase: Phase, duration_ms: float) -> tuple[float, float]:
        nonlocal clock
        span = (clock, clock + duration_ms)
        clock += duration_ms
        rows.append(
            _Row(
                Text(_PHASE_LABELS[phase]),
                span,
                Text(f"{_ms(duration_ms)} ms", style="bold"),
                _PHASE_STYLES[phase],
            )
        )
        return span

    def failed_row(phase: Phase, message: str) -> None:
        rows.append(
            _Row(
                Text(_PHASE_LABELS[phase]),
                None,
                Text("failed", style="bold red"),
                note=Text(f"{glyphs.cross} {message}", style="red"),
            )
        )

    dns = connection.dns if connection is not None else None
    tcp = connection.tcp if connection is not None else None
    tls = connection.tls if connection is not None else None
    http = connection.http if connection is not None else None

    if dns is not None:
        phase_row(Phase.DNS, dns.duration_ms)
    elif failed_phase is Phase.DNS and error is not None:
        failed_row(Phase.DNS, error_note)
    else:
        rows.append(_Row(Text("DNS"), None, _dim(glyphs.dash), note=_dim(_dns_short(scan))))
    if tcp is not None:
        phase_row(Phase.TCP, tcp.duration_ms)
    elif failed_phase is Phase.TCP and error is not None:
        failed_row(Phase.TCP, error_note)
    if tls is not None:
        tls_start, tls_end = phase_row(Phase.TLS, tls.handshake_ms)
        for flight in tls.flights:
            start = min(tls_start + flight.start_ms, tls_end)
            end = min(max(tls_start + flight.end_ms, start), tls_end)
            rows.append(
                _Row(
                    _flight_label(flight, glyphs, label_width),
                    (start, end),
                    _flight_value(flight),
                    "dim",
                )
            )
    elif failed_phase is Phase.TLS and error is not None:
        failed_row(Phase.TLS, error_note)
        # What went each way before it failed: often a ClientHello answered by an alert.
        flights = connection.failed_handshake_flights if connection is not None else ()
        tls_start = clock
        for flight in flights:
            rows.append(
                _Row(
                    _flight_label(flight, glyphs, label_width),
                    (tls_start + flight.start_ms, tls_start + flight.end_ms),
                    _flight_value(flight),
                    "dim",
                )
            )
        if flights:
            clock = tls_start + max(flight.end_ms for flight in flights)
    if http is not None:
        phase_row(Phase.HTTP, http.ttfb_ms)
    elif connection is not None and connection.http_error is not None:
        failed_row(Phase.HTTP, "no response (see HTTP below)")
    elif failed_phase is Phase.HTTP and error is not None:
        failed_row(Phase.HTTP, error_note)
    return rows, clock


def _bar(span: tuple[float, float], axis_ms: float, cells: int) -> tuple[int, int]:
    """Cells [first, last) for a span: to scale, and never less than one cell wide."""
    if axis_ms <= 0:
        return 0, 1
    first = min(round(span[0] / axis_ms * cells), cells - 1)
    last = min(max(round(span[1] / axis_ms * cells), first + 1), cells)
    return first, last


def _axis(axis_ms: float, cells: int) -> Text:
    """``0`` at the left edge, the midpoint centred, the end (with unit) at the right edge."""
    end = f"{_ms(axis_ms)} ms"
    middle = _ms(axis_ms / 2)
    if len(end) + 2 > cells:
        return Text(end, style="dim")
    line = [" "] * cells
    line[0] = "0"
    start = cells // 2 - len(middle) // 2
    if start > 2 and start + len(middle) < cells - len(end) - 1:
        line[start : start + len(middle)] = list(middle)
    line[cells - len(end) :] = list(end)
    return Text("".join(line), style="dim")


def _timing(scan: ScanResult, console: Console, glyphs: _Glyphs) -> RenderableType:
    connection = scan.connection.result
    usable = console.width - _INDENT
    label_width = max(_LABEL_MIN, min(_LABEL_MAX, int(usable * _LABEL_SHARE)))
    rows, axis_ms = _waterfall_rows(scan, glyphs, label_width)
    cells = usable - label_width - _VALUE_WIDTH - 2
    draw = cells >= _MIN_BAR_CELLS

    table = Table.grid(padding=(0, 1, 0, 0))
    table.add_column(width=label_width, overflow="fold")
    if draw:
        table.add_column(width=cells, no_wrap=True, overflow="ellipsis")
    table.add_column(width=_VALUE_WIDTH, justify="right", no_wrap=True)
    if draw and axis_ms > 0:
        table.add_row(Text(""), _axis(axis_ms, cells), Text(""))
    for row in rows:
        cells_text: list[RenderableType] = [row.label]
        if draw:
            if row.span is not None and axis_ms > 0:
                first, last = _bar(row.span, axis_ms, cells)
                bar = Text(" " * first)
                bar.append(glyphs.bar * (last - first), style=row.style)
                cells_text.append(bar)
            else:
                cells_text.append(row.note or Text(""))
        elif row.note is not None:
            cells_text[0] = Group(row.label, row.note)
        cells_text.append(row.value)
        table.add_row(*cells_text)

    return Group(table, Text(""), *_timing_summary(scan, connection, glyphs, axis_ms))


def _timing_summary(
    scan: ScanResult, connection: ConnectionResult | None, glyphs: _Glyphs, axis_ms: float
) -> list[Text]:
    lines: list[Text] = []
    tls = connection.tls if connection is not None else None
    if tls is not None and connection is not None:
        line = Text("TLS handshake: ", style="bold")
        line.append(_clean(tls.version))
        line.append(f", {_plural(tls.round_trips, 'round trip')}")
        if tls.hello_retry_request:
            line.append(" incl. HelloRetryRequest", style="yellow")
        if connection.rtt_estimate_ms is not None:
            count = len(connection.samples)
            source = f", fastest of {count} TCP connects" if count > 1 else " from TCP connect"
            line.append(f" (RTT {glyphs.about} {_ms(connection.rtt_estimate_ms)} ms{source})")
        lines.append(line)
    first_sample = connection.samples[0] if connection and connection.samples else None
    line = Text("total to first byte: ", style="bold")
    if connection is not None and connection.http is not None:
        line.append(f"{_ms(axis_ms)} ms", style="bold")
        line.append(" = sum of the phases")
        if first_sample is not None and first_sample.total_ms is not None:
            line.append(f" (wall clock {_ms(first_sample.total_ms)} ms)")
    elif connection is not None and connection.http_error is not None:
        line.append("not reached: the HTTP request failed", style="red")
    else:
        line.append(f"not reached: {_no_connection_reason(scan)}", style="red")
    lines.append(line)
    if tls is not None:
        lines.append(_dim("flight rows: time since the ClientHello was written"))
    return lines


# -- samples -------------------------------------------------------------------------------


def _samples(connection: ConnectionResult, glyphs: _Glyphs) -> RenderableType:
    parts: list[RenderableType] = []
    if connection.stats:
        table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
        table.add_column("phase")
        table.add_column("samples", justify="right")
        for heading in ("min", "median", "p90", "max"):
            table.add_column(f"{heading} ms", justify="right")
        for stats in connection.stats:
            table.add_row(
                _text(_STATS_LABELS.get(stats.phase, stats.phase)),
                Text(str(stats.samples)),
                Text(_ms(stats.min_ms)),
                Text(_ms(stats.median_ms)),
                Text(_ms(stats.p90_ms)),
                Text(_ms(stats.max_ms)),
            )
        parts.append(table)
    else:
        parts.append(_dim("no phase completed in any sample"))
    if connection.sample_errors:
        parts.append(Text(""))
        parts.append(
            Text(
                f"{_plural(len(connection.sample_errors), 'sample')} failed:",
                style="bold yellow",
            )
        )
        parts.append(_bullets([_text(message) for message in connection.sample_errors], glyphs))
    return Group(*parts)


# -- negotiated and HTTP -------------------------------------------------------------------


def _code(value: int | None) -> str:
    return f" (0x{value:04x})" if value is not None else ""


def _negotiated(scan: ScanResult) -> RenderableType:
    connection = scan.connection.result
    tls: TlsHandshake | None = connection.tls if connection is not None else None
    if tls is None:
        return _dim(f"no TLS session: {_no_connection_reason(scan)}")
    group = (
        Text.assemble(_clean(tls.group), _code(tls.group_code)) if tls.group else _dim("unknown")
    )
    return _kv(
        [
            ("version", Text.assemble((_clean(tls.version), "bold"), _code(tls.version_code))),
            ("cipher suite", Text.assemble(_clean(tls.cipher_suite), _code(tls.cipher_suite_code))),
            ("key exchange group", group),
            ("ALPN", _text(tls.alpn) if tls.alpn else _dim("none")),
            (
                "HelloRetryRequest",
                Text("yes", style="yellow") if tls.hello_retry_request else Text("no"),
            ),
            ("round trips", Text(str(tls.round_trips))),
            ("handshake", Text(f"{_ms(tls.handshake_ms)} ms")),
            ("ClientHello", Text(f"{tls.client_hello_bytes} B")),
            ("server first flight", Text(f"{tls.server_first_flight_bytes} B")),
            ("SNI sent", _text(tls.sni) if tls.sni else _dim("none")),
            ("session ID", Text(f"{tls.session_id_bytes} B")),
        ]
    )


def _status_style(status: int) -> str:
    if 200 <= status < 300:
        return "bold green"
    if 300 <= status < 400:
        return "bold cyan"
    return "bold red"


def _http(scan: ScanResult) -> RenderableType:
    connection = scan.connection.result
    if connection is None or connection.tls is None:
        return _dim(f"no request sent: {_no_connection_reason(scan)}")
    if connection.http is None:
        message = (connection.http_error or "no response").removeprefix("HTTP: ")
        return Text.assemble(("request failed: ", "bold red"), _clean(message))
    http: HttpResponse = connection.http
    hsts = (
        _text(http.strict_transport_security)
        if http.strict_transport_security
        else Text("missing", style="yellow")
    )
    rows: list[tuple[str, RenderableType]] = [
        ("protocol", _text(http.protocol)),
        ("request", Text.assemble(_clean(http.method), " ", _clean(http.path))),
        ("status", _text(f"{http.status} {http.reason}".rstrip(), _status_style(http.status))),
        ("time to first byte", Text(f"{_ms(http.ttfb_ms)} ms")),
        ("Server", _text(http.server) if http.server else _dim("not sent")),
        ("Strict-Transport-Security", hsts),
        ("Alt-Svc", _text(http.alt_svc) if http.alt_svc else _dim("none")),
        ("Location", _text(http.location) if http.location else _dim("none")),
    ]
    if http.header_bytes is not None:
        rows.append(("response head", Text(f"{http.header_bytes} B")))
    return _kv(rows)


# -- DNS -----------------------------------------------------------------------------------


def _dns(scan: ScanResult, glyphs: _Glyphs) -> RenderableType:
    connection = scan.connection.result
    dns: DnsResult | None = connection.dns if connection is not None else None
    if dns is None:
        error = scan.connection.error
        if error is not None and error.phase is Phase.DNS:
            return Text.assemble(("failed: ", "bold red"), _clean(_error_text(error)))
        return _dim(_dns_note(scan))
    rows: list[tuple[str, RenderableType]] = [
        ("name", _text(dns.name)),
        ("resolver", _text(dns.resolver)),
        ("answered by", _text(dns.server) if dns.server else _dim("not reported")),
        ("addresses", _text(", ".join(dns.addresses)) if dns.addresses else _dim("none")),
    ]
    if dns.cname_chain:
        rows.append(("CNAME chain", _text(f" {glyphs.then} ".join(dns.cname_chain))))
    rows.append(("TTL", Text(f"{dns.ttl_s} s") if dns.ttl_s is not None else _dim("not reported")))
    rows.append(("time", Text(f"{_ms(dns.duration_ms)} ms")))
    if dns.queries:
        queries = Table.grid(padding=(0, 2))
        for _ in range(4):
            queries.add_column(no_wrap=True)
        queries.add_column(overflow="fold")
        for query in dns.queries:
            style = "" if query.status in ("answer", "nodata") else "red"
            queries.add_row(
                _text(query.record_type, "bold"),
                _text(query.status, style),
                Text(f"{_ms(query.duration_ms)} ms", justify="right"),
                Text(f"TTL {query.ttl_s} s" if query.ttl_s is not None else ""),
                _text(", ".join(query.addresses)),
            )
        rows.append(("queries", queries))
    if dns.note:
        rows.append(("note", _text(dns.note, "italic")))
    return _kv(rows)


# -- capability probes: shared pieces ------------------------------------------------------

# A name too wide for its column breaks after an underscore; its later lines start this far in.
_CONTINUATION = "  "
# Below this many cells a name column is not worth shrinking further: rich folds it instead.
_MIN_NAME_WIDTH = 16
# Table columns are one cell of padding each side, so neighbours sit this far apart.
_COLUMN_GAP = 2
# Whose order a list of suites or groups is in (results.py documents the four values).
_PREFERENCE_WORDS = {
    "server": "in the server's order",
    "client": "the server follows the client's order",
    "single": "the only one accepted",
    "unknown": "order unknown",
}


def _not_completed(outcome: ProbeOutcome[object]) -> Text | None:
    """One line for a probe that did not complete: why it was skipped, or how it failed."""
    if outcome.status is ProbeStatus.COMPLETED:
        return None
    if outcome.status is ProbeStatus.SKIPPED:
        reason = outcome.skip_reason or "no reason given"
        return Text.assemble(("skipped: ", "yellow"), _clean(reason))
    line = Text("failed: ", style="bold red")
    if outcome.error is not None:
        line.append_text(_error_detail(outcome.error))
    return line


def _status_rows(label: str, outcome: ProbeOutcome[object]) -> list[tuple[str, RenderableType]]:
    """The key/value row saying why ``label`` has no (complete) result; none when it has."""
    line = _not_completed(outcome)
    return [] if line is None else [(label, line)]


def _support(value: Support, glyphs: _Glyphs, yes: str = "yes", no: str = "no") -> Text:
    """A verdict as a glyph and a word; the word alone carries the fact."""
    if value == Support.SUPPORTED:
        return Text(f"{glyphs.check} {yes}", style="bold")
    if value == Support.NOT_SUPPORTED:
        return Text(f"{glyphs.cross} {no}")
    if value == Support.NOT_TESTED:
        return _dim(f"{glyphs.dash} not tested")
    return Text("? unknown", style="yellow")


def _tristate(value: bool | None, glyphs: _Glyphs) -> Text:
    """yes / no / a dash for a question that had no answer."""
    if value is None:
        return _dim(glyphs.dash)
    return Text(_yes_no(value))


def _break_name(name: str, width: int) -> str:
    """An IANA-style name over lines of at most ``width`` cells, broken after underscores.

    ``_WITH_`` is the natural break of a TLS 1.2 suite name (key exchange | cipher), so it is
    tried first; otherwise lines are filled greedily.
    """
    if len(name) <= width:
        return name
    head, separator, tail = name.partition("_WITH_")
    if separator and len(head + separator) <= width and len(_CONTINUATION + tail) <= width:
        return f"{head}{separator}\n{_CONTINUATION}{tail}"
    lines: list[str] = []
    line = ""
    for piece in re.findall(r"[^_]*_|[^_]+", name):
        limit = width - (len(_CONTINUATION) if lines else 0)
        if line and len(line) + len(piece) > limit:
            lines.append(line)
            line = piece
        else:
            line += piece
    lines.append(line)
    return "\n".join([lines[0], *(_CONTINUATION + rest for rest in lines[1:])])


def _widest(cells: Iterable[str]) -> int:
    """Cells taken by the longest line of any of ``cells`` (0 for none)."""
    return max((len(line) for cell in cells for line in cell.split("\n")), default=0)


def _name_width(others: Sequence[Sequence[str]], table_width: int) -> int:
    """Cells left for a name column beside columns holding ``others`` (header, then cells)."""
    used = sum(_widest(column) for column in others)
    return max(_MIN_NAME_WIDTH, table_width - used - _COLUMN_GAP * len(others))


def _table(*headers: str) -> Table:
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    for header in headers:
        table.add_column(header, no_wrap=True)
    return table


# -- protocol versions and downgrade -------------------------------------------------------


def _hello_answer(entry: VersionSupport) -> Text:
    """How the server answered one version's hello, in the words of the protocol."""
    named = {"server_hello": "ServerHello", "hello_retry_request": "HelloRetryRequest"}
    if entry.answer in named:
        line = Text(named[entry.answer])
        if entry.server_version_code is not None:
            line.append(f" {_clean(version_label(entry.server_version_code))}")
        if entry.cipher_suite:
            line.append(f", {_clean(entry.cipher_suite)}")
        if (
            entry.server_version_code is not None
            and entry.server_version_code != entry.version_code
        ):
            line.append(" (negotiated down)", style="yellow")
        return line
    if entry.answer == "alert":
        return Text(f"alert {_clean(entry.alert)}" if entry.alert else "alert")
    words = {
        "closed": "connection closed without an answer",
        "reset": "connection reset",
        "timeout": "no answer before the deadline",
    }
    return _text(words.get(entry.answer, entry.answer))


def _tolerance(value: bool | None) -> Text:
    if value is None:
        return _dim("not tested")
    return Text("tolerated") if value else Text("NOT tolerated", style="bold yellow")


def _versions_table(result: VersionsResult, glyphs: _Glyphs) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    for entry in result.versions:
        table.add_row(
            _text(entry.version),
            _support(entry.support, glyphs, "supported", "not supported"),
            _hello_answer(entry),
        )
    return table


def _tolerance_rows(result: VersionsResult, glyphs: _Glyphs) -> list[tuple[str, RenderableType]]:
    rows: list[tuple[str, RenderableType]] = [
        ("GREASE", _tolerance(result.tolerates_grease)),
        ("large hello", _tolerance(result.tolerates_large_hello)),
    ]
    if result.intolerance:
        problems = [_text(problem, "yellow") for problem in result.intolerance]
        rows.append(("what went wrong", _bullets(problems, glyphs)))
    return rows


def _downgrade_rows(result: DowngradeResult) -> list[tuple[str, RenderableType]]:
    verdicts = {
        Support.SUPPORTED: Text("honoured"),
        Support.NOT_SUPPORTED: Text("NOT honoured", style="bold yellow"),
        Support.NOT_TESTED: _dim("not tested"),
        Support.UNKNOWN: Text("unknown", style="yellow"),
    }
    scsv = verdicts.get(result.fallback_scsv, _text(result.fallback_scsv)).copy()
    if result.fallback_scsv_answer:
        scsv.append(f" ({_clean(result.fallback_scsv_answer)})")
    if result.downgrade_sentinel is None:
        sentinel = _dim("not tested")
    elif result.downgrade_sentinel:
        sentinel = Text("sent to a client that offers at most TLS 1.2")
    else:
        sentinel = Text("NOT sent to a client that offers at most TLS 1.2", style="yellow")
    return [("TLS_FALLBACK_SCSV", scsv), ("downgrade sentinel", sentinel)]


def _protocol_versions(scan: ScanResult, glyphs: _Glyphs) -> RenderableType:
    parts: list[RenderableType] = []
    rows = _status_rows("versions", scan.versions)
    if scan.versions.result is not None:
        parts += [_versions_table(scan.versions.result, glyphs), Text("")]
        rows += _tolerance_rows(scan.versions.result, glyphs)
    rows += _status_rows("downgrade", scan.downgrade)
    if scan.downgrade.result is not None:
        rows += _downgrade_rows(scan.downgrade.result)
    return Group(*parts, _kv(rows))


# -- cipher suites -------------------------------------------------------------------------

_SUITE_HEADERS = ("kex", "auth", "encryption", "mode", "bits", "FS")


def _suite_cells(info: CipherSuiteInfo) -> list[str]:
    cells = [
        info.key_exchange,
        info.authentication,
        info.encryption,
        info.mode,
        str(info.encryption_bits),
        _yes_no(info.forward_secret),
    ]
    return [_clean(cell) for cell in cells]


def _suites_heading(suites: VersionCipherSuites) -> Text:
    heading = Text(_clean(suites.version), style="bold")
    count = len(suites.accepted)
    if count == 0:
        heading.append(": no suite accepted")
    elif suites.preference == "single" or count == 1:
        heading.append(f": {_plural(count, 'suite')}")
    elif suites.preference == "server" and 0 < suites.unranked_count < count:
        # Only the top of the list was ranked: say where the server's order stops.
        ranked = count - suites.unranked_count
        heading.append(
            f": {count} suites, the first {ranked} in the server's order, "
            f"the other {suites.unranked_count} not ranked"
        )
    else:
        preference = _PREFERENCE_WORDS.get(suites.preference, _clean(suites.preference))
        heading.append(f": {count} suites, {preference}")
    return heading


def _suites_tables(result: CipherSuitesResult, table_width: int) -> list[RenderableType]:
    """One table per version, their columns as wide as each other's so they line up."""
    accepted = [info for entry in result.versions for info in entry.accepted]
    cells = [_suite_cells(info) for info in accepted]
    columns = [
        [header, *(row[index] for row in cells)] for index, header in enumerate(_SUITE_HEADERS)
    ]
    width = _name_width(columns, table_width)
    names = [_break_name(_clean(info.name), width) for info in accepted]
    widths = [_widest(["suite", *names]), *(_widest(column) for column in columns)]
    rows = iter(zip(names, cells, strict=True))
    parts: list[RenderableType] = []
    for entry in result.versions:
        parts.append(_suites_heading(entry))
        if not entry.accepted:
            continue
        table = _table("suite", *_SUITE_HEADERS)
        for column, column_width in zip(table.columns, widths, strict=True):
            column.min_width = column_width
        table.columns[0].overflow = "fold"
        for header in ("bits", "FS"):
            table.columns[_SUITE_HEADERS.index(header) + 1].justify = "right"
        ranked = len(entry.accepted) - entry.unranked_count
        for index, (name, row) in enumerate(itertools.islice(rows, len(entry.accepted))):
            table.add_row(
                Text(name), *(Text(cell) for cell in row), style="dim" if index >= ranked else None
            )
        parts.append(Padding(table, (0, 0, 0, _INDENT)))
    return parts


def _choice(label: str, value: bool | None, glyphs: _Glyphs) -> Text:
    return Text.assemble(f"{label}: ", _tristate(value, glyphs))


def _cipher_suites(scan: ScanResult, glyphs: _Glyphs, section_width: int) -> RenderableType:
    outcome = scan.cipher_suites
    result: CipherSuitesResult | None = outcome.result
    parts: list[RenderableType] = []
    line = _not_completed(outcome)
    if line is not None:
        parts.append(line)
    if result is None:
        return Group(*parts)
    # Each version's table sits one indent deeper than its heading.
    parts.extend(_suites_tables(result, section_width - _INDENT))
    if not result.versions:
        parts.append(_dim("no protocol version was enumerated"))
    parts.append(Text(""))
    parts.append(
        _choice("prefers AES-128-GCM over AES-256-GCM", result.prefers_aes128_over_aes256, glyphs)
    )
    parts.append(
        _choice(
            "honours a client's ChaCha20 preference", result.honours_chacha20_preference, glyphs
        )
    )
    return Group(*parts)


# -- key exchange --------------------------------------------------------------------------


def _groups_table(result: GroupsResult, glyphs: _Glyphs) -> Table:
    table = _table("group", "TLS 1.3", "TLS 1.2")
    for entry in result.groups:
        table.add_row(
            _text(entry.group), _support(entry.tls13, glyphs), _support(entry.tls12, glyphs)
        )
    return table


def _groups_rows(result: GroupsResult) -> list[tuple[str, RenderableType]]:
    rows: list[tuple[str, RenderableType]] = []
    if not result.tls13_preference:
        verdicts = {entry.tls13 for entry in result.groups}
        if Support.SUPPORTED in verdicts:
            missing = "not ranked"
        elif verdicts <= {Support.NOT_TESTED}:
            missing = "not tested (no TLS 1.3)"
        else:
            missing = "no TLS 1.3 group accepted"
        rows.append(("TLS 1.3 preference", _dim(missing)))
    else:
        order = Text(", ".join(_clean(group) for group in result.tls13_preference))
        kind = _PREFERENCE_WORDS.get(result.tls13_preference_kind, result.tls13_preference_kind)
        order.append(f" ({_clean(kind)})")
        rows.append(("TLS 1.3 preference", order))
        if result.tls13_unranked_groups:
            # The probe's capped rounds left these unordered: never show them as an order.
            rest = ", ".join(_clean(group) for group in result.tls13_unranked_groups)
            rows.append(("", _dim(f"then, in an order not determined: {rest}")))
    group = _clean(result.browser_hello_group) if result.browser_hello_group else None
    if result.browser_hello_retry:
        browser = Text(f"{group or 'a group'}: ")
        browser.append("costs a HelloRetryRequest (+1 round trip)", style="bold yellow")
    elif group is not None:
        browser = Text(f"{group}: no HelloRetryRequest")
    elif result.browser_hello_retry is None:
        browser = _dim("not tested")
    else:
        browser = Text("refused", style="yellow")
    rows.append(("browser-like hello", browser))
    rows.append(("", _dim("(X25519MLKEM768 + x25519 listed, one x25519 key share)")))
    return rows


def _key_exchange_rows(result: KeyExchangeResult) -> list[tuple[str, RenderableType]]:
    if not result.tls12_supported:
        return [("TLS 1.2 exchange", _dim("the server does not offer TLS 1.2"))]
    if result.kind == "ECDHE":
        chosen = Text(f"ECDHE, {_clean(result.group)}" if result.group else "ECDHE")
    elif result.kind == "DHE":
        bits = f", {result.dh_prime_bits}-bit prime" if result.dh_prime_bits is not None else ""
        chosen = Text(f"DHE{bits}")
    elif result.kind == "RSA":
        chosen = Text("RSA key transport: no forward secrecy", style="bold yellow")
    else:
        chosen = _dim("none agreed")
    rows: list[tuple[str, RenderableType]] = [("TLS 1.2 exchange", chosen)]
    if result.cipher_suite:
        rows.append(("TLS 1.2 suite", _text(result.cipher_suite)))
    if result.static_rsa_accepted is None:
        static = _dim("not tested")
    elif result.static_rsa_accepted:
        static = Text("accepted (no forward secrecy)", style="yellow")
    else:
        static = Text("not accepted")
    rows.append(("static RSA", static))
    return rows


def _key_exchange(scan: ScanResult, glyphs: _Glyphs) -> RenderableType:
    groups = scan.groups.result
    exchange = scan.key_exchange.result
    parts: list[RenderableType] = []
    rows = _status_rows("groups", scan.groups)
    if groups is not None:
        parts += [_groups_table(groups, glyphs), Text("")]
        rows += _groups_rows(groups)
    rows += _status_rows("TLS 1.2 exchange", scan.key_exchange)
    if exchange is not None:
        rows += _key_exchange_rows(exchange)
    # The groups probe offers DHE alone; say what it found unless the browser offer said it.
    shown_bits = exchange.dh_prime_bits if exchange is not None else None
    if groups is not None and groups.dhe_prime_bits not in (None, shown_bits):
        rows.append(("TLS 1.2 DHE prime", Text(f"{groups.dhe_prime_bits} bits")))
    return Group(*parts, _kv(rows))


# -- False Start ---------------------------------------------------------------------------


def _false_start(scan: ScanResult, glyphs: _Glyphs) -> RenderableType:
    outcome = scan.false_start
    result: FalseStartResult | None = outcome.result
    parts: list[RenderableType] = []
    line = _not_completed(outcome)
    if line is not None:
        parts.append(line)
    if result is None:
        return Group(*parts)
    rows: list[tuple[str, RenderableType]] = [
        ("eligible", Text("yes") if result.eligible else Text("no", style="yellow"))
    ]
    if result.reasons:
        rows.append(("why not", _bullets([_text(reason) for reason in result.reasons], glyphs)))
    rows.append(
        ("TLS 1.2 suite", _text(result.cipher_suite) if result.cipher_suite else _dim("none"))
    )
    rows.append(("ALPN", _text(result.alpn) if result.alpn else _dim("none negotiated")))
    parts.append(_kv(rows))
    if result.moot:
        parts.append(
            _dim("moot: TLS 1.3 is offered, and it takes 1 round trip without False Start")
        )
    return Group(*parts)


# -- ALPN and HTTP/3 -----------------------------------------------------------------------


def _svcb(record: SvcbRecord) -> Text:
    """An HTTPS record in zone-file order: priority, target, then its parameters."""
    words = [str(record.priority), _clean(record.target)]
    if record.alpn:
        words.append(f"alpn={_clean(','.join(record.alpn))}")
    if record.port is not None:
        words.append(f"port={record.port}")
    if record.ipv4hint:
        words.append(f"ipv4hint={_clean(','.join(record.ipv4hint))}")
    if record.ipv6hint:
        words.append(f"ipv6hint={_clean(','.join(record.ipv6hint))}")
    if record.ech:
        words.append("ech")
    return Text(" ".join(words))


def _https_records(result: Http3HintsResult) -> RenderableType:
    if result.https_records:
        return Group(*(_svcb(record) for record in result.https_records))
    words = {
        "answer": "none",
        "nodata": "none (the name has no HTTPS record)",
        "nxdomain": "none (NXDOMAIN)",
        "timeout": "no answer (timeout)",
        "error": "the query failed",
        "not_queried": "not queried",
    }
    return _dim(words.get(result.dns_status, _clean(result.dns_status)))


def _alpn_rows(result: AlpnResult, glyphs: _Glyphs) -> list[tuple[str, RenderableType]]:
    chosen = result.selected_for_browser_offer
    return [
        ("ALPN h2", _support(result.h2, glyphs, "supported", "not supported")),
        ("ALPN http/1.1", _support(result.http11, glyphs, "supported", "not supported")),
        ("ALPN h2, http/1.1", _text(f"{chosen} chosen") if chosen else _dim("nothing chosen")),
    ]


def _http3_rows(result: Http3HintsResult) -> list[tuple[str, RenderableType]]:
    alt_svc = _text(result.alt_svc) if result.alt_svc else _dim("none")
    sources = [
        name
        for name, present in (("Alt-Svc", result.alt_svc_h3), ("DNS", result.https_record_h3))
        if present
    ]
    summary = Text(f"advertised by {' and '.join(sources)}") if sources else _dim("not advertised")
    return [
        ("Alt-Svc", alt_svc),
        ("DNS HTTPS records", _https_records(result)),
        ("HTTP/3", summary),
    ]


def _alpn_and_http3(scan: ScanResult, glyphs: _Glyphs) -> RenderableType:
    rows = _status_rows("ALPN", scan.alpn)
    if scan.alpn.result is not None:
        rows += _alpn_rows(scan.alpn.result, glyphs)
    rows += _status_rows("HTTP/3 hints", scan.http3_hints)
    if scan.http3_hints.result is not None:
        rows += _http3_rows(scan.http3_hints.result)
    return _kv(rows)


# -- client simulation ---------------------------------------------------------------------


_CLIENT_HEADERS = ("client", "version", "suite", "group", "HRR", "round\ntrips")
# When the table is too wide, profile names wrap between words down to this many cells before
# suite names are broken.
_CLIENT_NAME_MIN_WIDTH = 20


def _client_simulation(scan: ScanResult, glyphs: _Glyphs, section_width: int) -> RenderableType:
    outcome = scan.client_simulation
    result: ClientSimulationResult | None = outcome.result
    parts: list[RenderableType] = []
    line = _not_completed(outcome)
    if line is not None:
        parts.append(line)
    if result is None:
        return Group(*parts)
    if not result.clients:
        return Group(*parts, _dim("no client profile was run"))
    rows: list[list[str]] = []
    for client in result.clients:
        failed = client.failure is not None
        rows.append(
            [
                _clean(client.client),
                f"{glyphs.cross} failed" if failed else _clean(client.version or glyphs.dash),
                _clean(client.cipher_suite or glyphs.dash),
                _clean(client.group or glyphs.dash),
                glyphs.dash if failed else _yes_no(client.hello_retry_request),
                str(client.round_trips) if client.round_trips is not None else glyphs.dash,
            ]
        )
    columns = [
        [header, *(row[index] for row in rows)] for index, header in enumerate(_CLIENT_HEADERS)
    ]
    others = [*columns[1:2], *columns[3:]]
    # Profile names wrap first (down to a floor) so that suite names can stay whole.
    room_with_whole_suites = _name_width([*others, columns[2]], section_width)
    client_width = min(_widest(columns[0]), max(_CLIENT_NAME_MIN_WIDTH, room_with_whole_suites))
    width = _name_width([["x" * client_width], *others], section_width)
    table = _table(*_CLIENT_HEADERS)
    table.columns[0].no_wrap = False
    table.columns[0].max_width = client_width
    table.columns[2].overflow = "fold"
    table.columns[5].justify = "right"
    for client, cells in zip(result.clients, rows, strict=True):
        style = "bold red" if client.failure is not None else ""
        hrr_style = "yellow" if client.hello_retry_request else ""
        table.add_row(
            Text(cells[0]),
            Text(cells[1], style=style),
            Text(_break_name(cells[2], width)),
            Text(cells[3]),
            Text(cells[4], style=hrr_style),
            Text(cells[5]),
        )
    parts.append(table)
    failures = [
        Text.assemble((_clean(client.client), "bold"), ": ", _clean(client.failure))
        for client in result.clients
        if client.failure is not None
    ]
    if failures:
        parts.append(_bullets(failures, glyphs))
    parts.append(_dim("round trips: before the client's first request byte leaves"))
    return Group(*parts)


# -- session resumption --------------------------------------------------------------------

_MECHANISM_LABELS = {
    "session_id": "Session ID",
    "session_ticket": "Session Ticket",
    "tls13_psk": "TLS 1.3 PSK",
}
_RESUMPTION_HEADERS = ("mechanism", "resumed", "handshake ms", "round\ntrips", "server\nflight B")
# A ticket key that lives longer than this lets whoever takes it decrypt that much recorded
# traffic: the point where a lifetime hint becomes a forward-secrecy risk.
LONG_TICKET_LIFETIME_S = 86400
# Human units for lifetimes, largest first.
_TIME_UNITS = (("d", 86400), ("h", 3600), ("min", 60))


def _mechanism_label(mechanism: str) -> str:
    return _MECHANISM_LABELS.get(mechanism, _clean(mechanism))


def _resumed_cell(attempts: ResumptionAttempts, glyphs: _Glyphs) -> Text:
    """Verdict glyph and ``resumed/attempts (rate)``: the count is the verdict's evidence."""
    if attempts.support == Support.NOT_TESTED:
        return _dim(f"{glyphs.dash} not tested")
    if attempts.support == Support.UNKNOWN:
        return Text("? unknown", style="yellow")
    supported = attempts.support == Support.SUPPORTED
    glyph = glyphs.check if supported else glyphs.cross
    if attempts.attempts == 0:
        return Text(f"{glyph} {_yes_no(supported)}", style="bold" if supported else "")
    rate = f"{attempts.resumption_rate * 100:.0f}%"
    cell = Text(f"{glyph} {attempts.resumed}/{attempts.attempts} ")
    # Some attempts resumed and some did not: the flaky case, worth the reader's eye.
    cell.append(f"({rate})", style="yellow" if 0 < attempts.resumed < attempts.attempts else "")
    return cell


def _full_then_resumed(full: object, resumed: object, glyphs: _Glyphs) -> str:
    """``full -> resumed``, a dash for a side not measured, one dash when neither was."""
    if full is None and resumed is None:
        return glyphs.dash
    sides = [glyphs.dash if value is None else str(value) for value in (full, resumed)]
    return f"{sides[0]} {glyphs.then} {sides[1]}"


def _handshake_cell(attempts: ResumptionAttempts, glyphs: _Glyphs) -> Text:
    full = attempts.full_handshake_ms
    resumed = attempts.resumed_handshake_ms
    cell = Text(
        _full_then_resumed(
            _ms(full) if full is not None else None,
            _ms(resumed) if resumed is not None else None,
            glyphs,
        )
    )
    saved = attempts.saved_ms
    if saved is not None:
        cell.append(f" (saved {_ms(saved)})" if saved >= 0 else f" ({_ms(-saved)} slower)")
    return cell


def _resumption_table(result: ResumptionResult, glyphs: _Glyphs) -> Table:
    table = _table(*_RESUMPTION_HEADERS)
    for column in table.columns[2:]:
        column.justify = "left"
    for attempts in (result.session_id, result.session_ticket, result.tls13_psk):
        table.add_row(
            Text(_mechanism_label(attempts.mechanism)),
            _resumed_cell(attempts, glyphs),
            _handshake_cell(attempts, glyphs),
            Text(
                _full_then_resumed(attempts.full_round_trips, attempts.resumed_round_trips, glyphs)
            ),
            Text(
                _full_then_resumed(
                    attempts.server_flight_bytes_full,
                    attempts.server_flight_bytes_resumed,
                    glyphs,
                )
            ),
        )
    return table


def _human_duration(seconds: int) -> str | None:
    """``7200`` -> ``2 h``: the largest unit that reads whole (or is 10 or more); None below
    a minute, where seconds say it already."""
    fitting = [(unit, size) for unit, size in _TIME_UNITS if seconds >= size]
    if not fitting:
        return None
    unit, size = next(
        ((unit, size) for unit, size in fitting if seconds % size == 0 or seconds >= 10 * size),
        fitting[-1],
    )
    return f"{seconds / size:.1f}".removesuffix(".0") + f" {unit}"


def _lifetime(facts: TicketFacts) -> RenderableType:
    hint = facts.lifetime_hint_s
    if hint is None:
        return _dim("not read")
    if hint == 0 and facts.version == "TLSv1.2":
        return Text("0 s (not specified: the client decides)")  # RFC 5077 §3.3
    human = _human_duration(hint)
    line = Text(f"{hint} s ({human})" if human else f"{hint} s")
    if hint <= LONG_TICKET_LIFETIME_S:
        return line
    risk = Text("longer than a day: a forward-secrecy risk if the ticket key leaks", style="yellow")
    return Group(line, risk)


def _key_names(facts: TicketFacts) -> RenderableType:
    if not facts.key_names:
        return _dim("not read")
    names = [_text(name) for name in facts.key_names]
    if facts.single_key_name:
        summary = Text("one key name in this scan")
    elif facts.single_key_name is None:
        summary = _dim("not compared")
    else:
        summary = Text(f"{len(facts.key_names)} key names", style="yellow")
    return Group(*names, summary)


def _ticket_rows(facts: TicketFacts, glyphs: _Glyphs) -> list[tuple[str, RenderableType]]:
    rows: list[tuple[str, RenderableType]] = [
        ("lifetime hint", _lifetime(facts)),
        (
            "size",
            Text(f"{facts.ticket_bytes} B") if facts.ticket_bytes is not None else _dim("not read"),
        ),
        ("key name" if len(facts.key_names) == 1 else "key names", _key_names(facts)),
    ]
    # Each version has facts of its own; one the probe filled anyway is shown all the same.
    tls13 = facts.version == "TLSv1.3"
    if not tls13 or facts.reissued_on_resumption is not None:
        rows.append(("reissued on resumption", _tristate(facts.reissued_on_resumption, glyphs)))
    if tls13 or facts.tickets_per_connection is not None:
        per_connection = facts.tickets_per_connection
        rows.append(
            (
                "tickets per connection",
                Text(str(per_connection)) if per_connection is not None else _dim(glyphs.dash),
            )
        )
    if tls13 or facts.max_early_data_bytes is not None:
        early = facts.max_early_data_bytes
        if early is None:
            early_text = _dim(glyphs.dash)
        elif early == 0:
            early_text = Text("0 B (no 0-RTT)")
        else:
            early_text = Text(f"{early} B")
        rows.append(("max early data", early_text))
    rows.append(("tickets seen", Text(str(facts.tickets_seen))))
    return rows


def _psk_mode_rows(result: ResumptionResult, glyphs: _Glyphs) -> list[tuple[str, RenderableType]]:
    """psk_dhe_ke keeps forward secrecy; psk_ke alone does not, so accepting it is flagged."""
    psk_ke = _support(result.psk_ke, glyphs, "accepted: no forward secrecy", "not accepted")
    if result.psk_ke == Support.SUPPORTED:
        psk_ke.stylize("yellow")
    return [
        (
            "psk_dhe_ke",
            _support(result.psk_dhe_ke, glyphs, "accepted (forward secret)", "not accepted"),
        ),
        ("psk_ke", psk_ke),
    ]


def _ticket_facts(result: ResumptionResult, glyphs: _Glyphs) -> Table:
    """A heading per block, its facts indented below, every value in one column."""
    blocks: list[tuple[str, RenderableType | None, list[tuple[str, RenderableType]]]] = []
    for label, facts in (
        ("TLS 1.2 tickets", result.tls12_tickets),
        ("TLS 1.3 tickets", result.tls13_tickets),
    ):
        if facts is None:
            blocks.append((label, _dim("none seen"), []))
        else:
            blocks.append((label, None, _ticket_rows(facts, glyphs)))
    blocks.append(("TLS 1.3 PSK modes", None, _psk_mode_rows(result, glyphs)))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for heading, value, rows in blocks:
        grid.add_row(Text(heading, style="bold"), value or Text(""))
        for key, row_value in rows:
            grid.add_row(Text(f"{' ' * _INDENT}{key}"), row_value)
    return grid


def _cross_cell(value: bool | None, glyphs: _Glyphs) -> Text:
    if value is None:
        return Text("?", style="yellow")
    return Text(glyphs.check) if value else Text(glyphs.cross, style="yellow")


def _cross_address_tables(result: ResumptionResult, glyphs: _Glyphs) -> list[RenderableType]:
    """One matrix per mechanism tried: rows set the session up, columns resume it."""
    # An address only the matrix names is still shown, after the ones the probe listed.
    addresses = list(dict.fromkeys(result.addresses))
    for entry in result.cross_address:
        for address in (entry.from_address, entry.to_address):
            if address not in addresses:
                addresses.append(address)
    mechanisms = [
        mechanism
        for mechanism in dict.fromkeys(
            [*_MECHANISM_LABELS, *(entry.mechanism for entry in result.cross_address)]
        )
        if any(entry.mechanism == mechanism for entry in result.cross_address)
    ]
    row_labels = [f"{index} {_clean(address)}" for index, address in enumerate(addresses, 1)]
    # The first column is as wide in every matrix, so the matrices line up.
    label_width = _widest([*row_labels, *(_mechanism_label(name) for name in mechanisms)])
    parts: list[RenderableType] = []
    for mechanism in mechanisms:
        found = {
            (entry.from_address, entry.to_address): entry.resumed
            for entry in result.cross_address
            if entry.mechanism == mechanism
        }
        table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
        table.add_column(_mechanism_label(mechanism), overflow="fold", min_width=label_width)
        for index in range(1, len(addresses) + 1):
            table.add_column(f"to {index}", justify="center", no_wrap=True)
        for label, source in zip(row_labels, addresses, strict=True):
            cells = [
                _cross_cell(found[source, target], glyphs)
                if (source, target) in found
                else _dim(glyphs.dash)
                for target in addresses
            ]
            table.add_row(Text(label), *cells)
        parts += [table, Text("")]
    return parts


def _cross_address(result: ResumptionResult, glyphs: _Glyphs) -> list[RenderableType]:
    tables = _cross_address_tables(result, glyphs)
    if not tables and len(result.addresses) < 2:
        # The probe lists no address when there is only one: nothing to compare it with.
        only = f" ({_clean(result.addresses[0])})" if result.addresses else ""
        return [_dim(f"across addresses: one address only{only}, nothing to compare")]
    if not tables:
        tried = _clean(", ".join(result.addresses))
        return [_dim(f"across addresses: not tested on {tried}")]
    legend = (
        f"{glyphs.check} resumed, {glyphs.cross} full handshake, ? set-up failed, "
        f"{glyphs.dash} not tried"
    )
    return [
        Text("across addresses: set up on the row's address, offered to the column's"),
        Text(""),
        *tables,
        _dim(legend),
    ]


def _resumption(scan: ScanResult, glyphs: _Glyphs) -> RenderableType:
    outcome = scan.resumption
    result: ResumptionResult | None = outcome.result
    parts: list[RenderableType] = []
    line = _not_completed(outcome)
    if line is not None:
        parts.append(line)
    if result is None:
        return Group(*parts)
    parts.append(_resumption_table(result, glyphs))
    notes = [
        Text.assemble((_mechanism_label(attempts.mechanism), "bold"), ": ", _clean(attempts.note))
        for attempts in (result.session_id, result.session_ticket, result.tls13_psk)
        if attempts.note
    ]
    if notes:
        parts.append(_bullets(notes, glyphs))
    parts.append(
        _dim(
            f"full {glyphs.then} resumed handshakes; times are medians, bytes the server's "
            "first flight"
        )
    )
    parts.append(Text(""))
    parts.append(_ticket_facts(result, glyphs))
    parts.append(Text(""))
    parts.extend(_cross_address(result, glyphs))
    return Group(*parts)


# -- 0-RTT early data ----------------------------------------------------------------------

# RFC 8470 §5.2: the status a server answers an early request with when it will not process it
# before the handshake completes; such a response is not the request served.
TOO_EARLY_STATUS = 425
# The engine's flight rows: the label column never grows past this, so times stay near it,
# nor shrinks below the floor, so a narrow console folds it instead of breaking the table.
_ENGINE_LABEL_MAX = 60
_ENGINE_LABEL_MIN = 12


def _offered(result: EarlyDataResult, glyphs: _Glyphs) -> Text:
    line = _support(result.offered, glyphs)
    allowance = result.max_early_data_bytes
    if result.offered in (Support.SUPPORTED, Support.NOT_SUPPORTED) and allowance is not None:
        line.append(f" (max early data {allowance} B)", style="")
    return line


def _accepted(result: EarlyDataResult, glyphs: _Glyphs) -> Text:
    line = _support(result.accepted, glyphs)
    if result.accepted == Support.NOT_TESTED:
        return line
    answer = f"status {result.status}" if result.status is not None else "no response read"
    line.append(f" ({_clean(result.method)} sent as early data, {answer})", style="")
    return line


def _first_byte(timing: FirstByteTiming, glyphs: _Glyphs) -> list[RenderableType]:
    """Full handshake, resumption and 0-RTT to the first response byte, then what 0-RTT saves."""
    rows = [
        ("full handshake + request", timing.full_handshake_ms, timing.full_round_trips),
        ("PSK resumption + request", timing.resumed_ms, timing.resumed_round_trips),
        ("PSK + 0-RTT request", timing.zero_rtt_ms, timing.zero_rtt_round_trips),
    ]
    if all(ms is None and trips is None for _label, ms, trips in rows):
        return [_dim("time to the first response byte: not measured")]
    table = _table("to first response byte", "ms", "round trips")
    for column in table.columns[1:]:
        column.justify = "right"
    for label, ms, trips in rows:
        table.add_row(
            Text(label),
            Text(_ms(ms) if ms is not None else glyphs.dash),
            Text(str(trips) if trips is not None else glyphs.dash),
        )
    saved_ms = glyphs.dash
    if timing.full_handshake_ms is not None and timing.zero_rtt_ms is not None:
        saved = timing.full_handshake_ms - timing.zero_rtt_ms
        saved_ms = _ms(saved) if saved >= 0 else f"-{_ms(-saved)}"
    saved_trips = glyphs.dash
    if timing.full_round_trips is not None and timing.zero_rtt_round_trips is not None:
        saved_trips = str(timing.full_round_trips - timing.zero_rtt_round_trips)
    table.add_row(Text("saved by 0-RTT", style="bold"), Text(saved_ms), Text(saved_trips))
    legend = _dim("from TCP connected; the saving is against a full handshake + request")
    return [table, legend]


def _replay(check: ReplayCheck, method: str, exact: bool, glyphs: _Glyphs) -> RenderableType:
    """A replay's verdict in words; a replayed request that was served is the finding."""
    method = _clean(method)
    note = _clean(check.note) if check.note else None
    if not check.tested:
        return _dim(f"{glyphs.dash} not tested" + (f": {note}" if note else ""))
    status = f" ({check.status})" if check.status is not None else ""
    if check.served and check.status == TOO_EARLY_STATUS:
        verdict = Text(f"{glyphs.check} answered 425 Too Early: the {method} was not processed")
    elif check.served and exact:
        verdict = Text(
            f"{glyphs.cross} the replayed {method} was served again{status}: "
            "a recorded first flight can repeat this request",
            style="bold red",
        )
    elif check.served:
        verdict = Text(
            f"{glyphs.cross} the {method} was served again{status} on the same ticket: "
            "one ticket carries early data more than once",
            style="bold yellow",
        )
    elif check.early_data_accepted:
        answer = "no answer was read" if check.served is None else "not served"
        verdict = Text(f"? early data accepted again, {answer}", style="yellow")
    elif check.early_data_accepted is False and exact:
        verdict = Text(f"{glyphs.check} rejected: the replayed early data was not accepted")
    elif check.early_data_accepted is False:
        verdict = Text(f"{glyphs.check} rejected: a ticket's early data is accepted once only")
    else:
        verdict = Text("? unknown", style="yellow")
    return Group(verdict, _dim(note)) if note else verdict


def _too_early(result: EarlyDataResult, glyphs: _Glyphs) -> Text:
    """RFC 8470: what a non-idempotent request sent as early data got (--unsafe-probes only)."""
    status = result.too_early_status
    answered = f" ({status})" if status is not None else ""
    if result.too_early == "425":
        return Text(f"{glyphs.check} 425 Too Early: the request must wait for the handshake")
    if result.too_early == "held":
        return Text(f"{glyphs.check} held until the handshake completed{answered}")
    if result.too_early == "served":
        return Text(
            f"{glyphs.cross} served in early data{answered}: "
            "a replay can repeat a non-idempotent request",
            style="bold red",
        )
    if result.too_early == "rejected":
        return Text(f"{glyphs.dash} early data rejected in TLS: nothing to judge")
    if result.too_early == "not_tested":
        why = "needs --unsafe-probes" if result.accepted == Support.SUPPORTED else "no 0-RTT"
        return _dim(f"{glyphs.dash} not tested ({why})")
    return _text(result.too_early)


def _engine(result: EarlyDataResult, glyphs: _Glyphs, section_width: int) -> list[RenderableType]:
    """Our engine's full handshake, flight by flight, beside the reference client's time."""
    if result.engine_handshake_ms is None and not result.engine_flights:
        return [_kv([("TLS 1.3 engine", _dim("no handshake measured"))])]
    handshake = Text("handshake ")
    if result.engine_handshake_ms is not None:
        handshake.append(f"{_ms(result.engine_handshake_ms)} ms")
    else:
        handshake.append("not completed")
    reference = result.reference_handshake_ms
    handshake.append(
        f" (reference client {_ms(reference)} ms)"
        if reference is not None
        else " (reference client: not measured)"
    )
    parts: list[RenderableType] = [_kv([("TLS 1.3 engine", handshake)])]
    if result.engine_flights:
        room = section_width - _INDENT - _VALUE_WIDTH - 1
        label_width = max(_ENGINE_LABEL_MIN, min(room, _ENGINE_LABEL_MAX))
        flights = Table.grid(padding=(0, 1, 0, 0))
        flights.add_column(width=label_width, overflow="fold")
        flights.add_column(width=_VALUE_WIDTH, justify="right", no_wrap=True)
        for flight in result.engine_flights:
            flights.add_row(_flight_label(flight, glyphs, label_width), _flight_value(flight))
        parts.append(flights)
        parts.append(_dim("flight rows: time since the engine's ClientHello was written"))
    return parts


def _early_data(scan: ScanResult, glyphs: _Glyphs, section_width: int) -> RenderableType:
    outcome = scan.early_data
    result: EarlyDataResult | None = outcome.result
    parts: list[RenderableType] = []
    line = _not_completed(outcome)
    if line is not None:
        parts.append(line)
    if result is None:
        return Group(*parts)
    parts.append(
        _kv([("offered", _offered(result, glyphs)), ("accepted", _accepted(result, glyphs))])
    )
    parts.append(Text(""))
    parts.extend(_first_byte(result.timing, glyphs))
    parts.append(Text(""))
    parts.append(
        _kv(
            [
                ("ticket reuse", _replay(result.ticket_reuse, result.method, False, glyphs)),
                ("exact replay", _replay(result.exact_replay, result.method, True, glyphs)),
                ("RFC 8470 Too Early", _too_early(result, glyphs)),
            ]
        )
    )
    parts.append(Text(""))
    parts.extend(_engine(result, glyphs, section_width))
    return Group(*parts)


# -- certificates --------------------------------------------------------------------------


def _short_subject(subject: str) -> str:
    """The CN if there is one (``CN=a,O=b`` -> ``a``), else the first RDN as written."""
    for part in _RDN_SEPARATOR.split(subject):
        key, _, value = part.partition("=")
        if key.strip().upper() == "CN" and value:
            return value
    return _RDN_SEPARATOR.split(subject)[0] or "(empty subject)"


def _short_signature(name: str, hash_name: str | None) -> str:
    """``sha256WithRSAEncryption`` -> ``RSA-SHA256``; names we do not know are kept as given."""
    if match := _RSA_SIGNATURE.fullmatch(name):
        return f"RSA-{match[1].upper()}"
    if match := _HASHED_SIGNATURE.fullmatch(name):
        return f"{match[1].upper()}-{match[2].upper()}"
    if name == "rsassa-pss":
        return f"RSA-PSS-{hash_name.upper()}" if hash_name else "RSA-PSS"
    return {"ed25519": "Ed25519", "ed448": "Ed448"}.get(name, name)


def _expiry(info: CertificateInfo) -> tuple[Text, Text]:
    date = _clean(info.not_after[:10])
    if info.days_left < 0:
        return Text(date, style="red"), Text("expired", style="bold red")
    style = "yellow" if info.days_left < EXPIRY_WARNING_DAYS else "green"
    return Text(date), Text(f"{info.days_left} d", style=style)


def _flags(info: CertificateInfo) -> str:
    flags = []
    if info.is_ca:
        flags.append("CA")
    if info.self_signed:
        flags.append("self-signed")
    return ", ".join(flags)


def _chain_table(result: CertificateResult) -> Table:
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("subject", overflow="fold", ratio=1, min_width=12)
    table.add_column("key", no_wrap=True)
    table.add_column("signature", overflow="fold")
    table.add_column("expires", no_wrap=True)
    table.add_column("left", justify="right", no_wrap=True)
    table.add_column("flags", overflow="fold")
    table.add_column("bytes", justify="right", no_wrap=True)
    for info in result.certificates:
        expires, left = _expiry(info)
        table.add_row(
            Text(str(info.position)),
            _text(_short_subject(info.subject)),
            _text(info.key_description),
            _text(_short_signature(info.signature_algorithm, info.signature_hash)),
            expires,
            left,
            Text(_flags(info)),
            Text(str(info.der_bytes)),
        )
    return table


def _certificates(scan: ScanResult, glyphs: _Glyphs) -> RenderableType:
    outcome = scan.certificate
    result = outcome.result
    if result is None:
        if outcome.status is ProbeStatus.SKIPPED:
            return _dim(f"skipped: {_clean(outcome.skip_reason)}")
        if outcome.error is not None:
            return Text.assemble(("failed: ", "bold red"), _clean(outcome.error.message))
        return _dim("no certificate")
    leaf = result.leaf
    verification = result.verification
    count = _plural(len(result.certificates), "certificate")
    weight = Text(f"chain {result.chain_der_bytes} B as sent ({count}); Certificate message ")
    if result.certificate_message_bytes_exact:
        weight.append(f"{result.certificate_message_bytes} B")
    else:
        # TLS 1.3 encrypts the message, so its size is worked out from the chain.
        weight.append(f"{glyphs.about} {result.certificate_message_bytes} B (estimated)")
    name = Text.assemble(
        _clean(leaf.name_checked),
        ": ",
        ("matches", "green") if leaf.name_matches else ("does NOT match", "bold red"),
    )
    rows: list[tuple[str, RenderableType]] = [
        (
            "names",
            _text(", ".join(leaf.subject_alt_names))
            if leaf.subject_alt_names
            else Text("no subjectAltName", style="yellow"),
        ),
        ("name check", name),
        ("OCSP", _text(", ".join(leaf.ocsp_urls)) if leaf.ocsp_urls else _dim("none")),
        ("CRL", _text(", ".join(leaf.crl_urls)) if leaf.crl_urls else _dim("none")),
    ]
    if leaf.ca_issuers_urls:
        rows.append(("CA issuers", _text(", ".join(leaf.ca_issuers_urls))))
    rows.append(("must-staple", Text(_yes_no(leaf.must_staple))))
    if verification.trusted:
        verdict = Text.assemble(("trusted", "bold green"), f" ({_clean(verification.trust_store)})")
    else:
        verdict = Text.assemble(
            ("NOT trusted", "bold red"), f" ({_clean(verification.trust_store)})"
        )
    rows.append(("trust", verdict))
    parts: list[RenderableType] = [_chain_table(result), Text(""), weight, Text(""), _kv(rows)]
    if verification.problems:
        parts.append(
            Padding(
                _bullets(
                    [_text(problem.message, "red") for problem in verification.problems], glyphs
                ),
                (0, 0, 0, _INDENT),
            )
        )
    return Group(*parts)


# -- OCSP stapling -------------------------------------------------------------------------


def _approximate(seconds: int) -> str:
    """``597600`` -> ``6.9 d``: the largest unit that reaches 1, to one decimal."""
    for unit, size in _TIME_UNITS:
        if seconds >= size:
            return f"{seconds / size:.1f}".removesuffix(".0") + f" {unit}"
    return f"{seconds} s"


def _check(value: bool | None, yes: str, no: str, glyphs: _Glyphs) -> Text:
    """A verification's verdict: a failed check is the finding, so it is the one emphasised."""
    if value is None:
        return _dim(f"{glyphs.dash} not checked")
    if value:
        return Text(f"{glyphs.check} {yes}")
    return Text(f"{glyphs.cross} {no}", style="bold red")


def _first_staple(result: OcspResult, glyphs: _Glyphs) -> Text:
    tried = result.connections_tried
    first = result.first_stapled_connection
    if tried == 0:
        return _dim(f"{glyphs.dash} not tried")
    if first is None:
        return Text(f"none in {_plural(tried, 'connection')}")
    line = Text(f"connection {first} of {tried}")
    if first > 1:
        line.append(": the server fetches its staple lazily", style="yellow")
    return line


def _cert_status(facts: OcspResponseFacts, glyphs: _Glyphs) -> Text:
    if facts.cert_status == "good":
        return Text(f"{glyphs.check} good")
    if facts.cert_status == "revoked":
        line = Text(f"{glyphs.cross} REVOKED", style="bold red")
        if facts.revocation_time:
            line.append(f" {_when(facts.revocation_time)}")
        if facts.revocation_reason:
            line.append(f" ({_clean(facts.revocation_reason)})")
        return line
    if facts.cert_status == "unknown":
        # RFC 6960 §2.2: the responder does not know the certificate, which is no answer.
        return Text("? unknown: the responder does not know this certificate", style="yellow")
    return _dim(glyphs.dash) if facts.cert_status is None else _text(facts.cert_status)


def _signer(facts: OcspResponseFacts, glyphs: _Glyphs) -> Text:
    if facts.signer == "issuer":
        return Text("the leaf's issuer")
    if facts.signer == "delegated":
        if facts.delegated_ocsp_signing is False:
            return Text(
                f"{glyphs.cross} a delegated responder WITHOUT the OCSP-signing EKU",
                style="bold red",
            )
        if facts.delegated_ocsp_signing:
            return Text("a delegated responder with the OCSP-signing EKU")
        return Text("a delegated responder")
    if facts.signer == "unknown":
        return Text(
            f"{glyphs.cross} neither the leaf's issuer nor a responder it certified",
            style="bold red",
        )
    return _dim(glyphs.dash) if facts.signer is None else _text(facts.signer)


def _this_update(facts: OcspResponseFacts) -> Text:
    if facts.this_update is None:
        return _dim("none")
    line = Text(_when(facts.this_update))
    age = facts.age_s
    if age is not None and age >= 0:
        line.append(f" ({_approximate(age)} ago)")
    elif age is not None:
        line.append(f" (in {_approximate(-age)}: not valid yet)", style="bold red")
    return line


def _next_update(facts: OcspResponseFacts) -> Text:
    if facts.next_update is None:
        return Text("none: clients judge the response's age themselves")
    line = Text(_when(facts.next_update))
    left = facts.expires_in_s
    if left is not None and left >= 0:
        line.append(f" (expires in {_approximate(left)})")
    elif left is not None:
        line.append(f" (EXPIRED {_approximate(-left)} ago)", style="bold red")
    return line


def _response_rows(facts: OcspResponseFacts, glyphs: _Glyphs) -> list[tuple[str, RenderableType]]:
    """The staple as a client checks it: status, whose it is, who signed it, and when."""
    size = f"{facts.response_bytes} B"
    if facts.response_status != "successful":
        status = Text(
            f"{glyphs.cross} {_clean(facts.response_status)} ({size}): no certificate status",
            style="bold red",
        )
        rows: list[tuple[str, RenderableType]] = [("response", status)]
    else:
        rows = [
            ("response", Text(f"successful, {size}")),
            ("certificate status", _cert_status(facts, glyphs)),
            (
                "serial number",
                _check(facts.serial_matches, "matches the leaf", "does NOT match the leaf", glyphs),
            ),
            (
                "issuer key hash",
                _check(
                    facts.issuer_key_hash_matches,
                    "matches the leaf's issuer",
                    "does NOT match the leaf's issuer",
                    glyphs,
                ),
            ),
            ("signature", _check(facts.signature_valid, "valid", "does NOT verify", glyphs)),
            ("signer", _signer(facts, glyphs)),
            (
                "produced at",
                Text(_when(facts.produced_at)) if facts.produced_at else _dim("none"),
            ),
            ("this update", _this_update(facts)),
            ("next update", _next_update(facts)),
        ]
    if facts.problems:
        problems = [_text(problem, "red") for problem in facts.problems]
        rows.append(("problems", _bullets(problems, glyphs)))
    return rows


def _must_staple(result: OcspResult, glyphs: _Glyphs) -> Text:
    if result.must_staple_violated:
        return Text(
            f"{glyphs.cross} the leaf requires a staple and the server sent none: "
            "clients that enforce must-staple refuse the connection",
            style="bold red",
        )
    if result.must_staple:
        return Text("yes, and the server staples")
    return Text("no")


def _revocation_rows(result: OcspResult) -> list[tuple[str, RenderableType]]:
    """Where a client can check revocation; without an OCSP responder there is nothing to staple."""
    if not result.ocsp_urls and not result.crl_urls:
        return [("revocation", Text("no revocation information: stapling advice does not apply"))]
    responder: RenderableType
    if result.ocsp_urls:
        responder = Group(*(_text(url) for url in result.ocsp_urls))
    else:
        responder = Text("none (CRL only): stapling advice does not apply")
    crl = Group(*(_text(url) for url in result.crl_urls)) if result.crl_urls else _dim("none")
    return [("OCSP responder", responder), ("CRL", crl)]


def _ocsp(scan: ScanResult, glyphs: _Glyphs) -> RenderableType:
    outcome = scan.ocsp
    result: OcspResult | None = outcome.result
    parts: list[RenderableType] = []
    line = _not_completed(outcome)
    if line is not None:
        parts.append(line)
    if result is None:
        return Group(*parts)
    parts.append(
        _kv(
            [
                ("TLS 1.2 stapled", _support(result.tls12_stapled, glyphs)),
                ("TLS 1.3 stapled", _support(result.tls13_stapled, glyphs)),
                ("first staple", _first_staple(result, glyphs)),
            ]
        )
    )
    if result.response is not None:
        parts += [Text(""), _kv(_response_rows(result.response, glyphs))]
    parts.append(Text(""))
    parts.append(_kv([("must-staple", _must_staple(result, glyphs)), *_revocation_rows(result)]))
    return Group(*parts)


# -- certificate delivery ------------------------------------------------------------------


def _positions(positions: Sequence[int]) -> str:
    listed = ", ".join(str(position) for position in positions)
    return f"position {listed}" if len(positions) == 1 else f"positions {listed}"


def _first_flight(chain: ChainWeight) -> Text:
    window = f"the {chain.initial_window_bytes} B initial window"
    if chain.exceeds_initial_window:
        return Text(
            f"{chain.server_first_flight_bytes} B, over {window}: needs an extra round trip",
            style="bold yellow",
        )
    return Text(f"{chain.server_first_flight_bytes} B, within {window}")


def _intermediates(chain: ChainWeight, glyphs: _Glyphs) -> RenderableType:
    if chain.missing_intermediate is None:
        return _dim(
            f"{glyphs.dash} cannot tell: the last certificate's issuer is unknown "
            "(a missing cross-certificate or an untrusted root)"
        )
    if not chain.missing_intermediate:
        return Text(f"{glyphs.check} complete")
    verdict = Text(
        f"{glyphs.cross} missing: the last certificate sent is not issued by a trusted root",
        style="bold red",
    )
    if not chain.ca_issuers_urls:
        return Group(verdict, Text("no caIssuers URL to fetch it from"))
    fetch = [
        Text.assemble("caIssuers ", _clean(url), " (not fetched)") for url in chain.ca_issuers_urls
    ]
    return Group(verdict, *fetch)


def _chain_rows(chain: ChainWeight, glyphs: _Glyphs) -> list[tuple[str, RenderableType]]:
    """What the chain weighs, and each way it can be put together wrong."""
    if chain.root_included:
        root = Text(f"{glyphs.cross} yes: bytes no client needs", style="yellow")
    else:
        root = Text("no")
    if chain.duplicates:
        again = "repeats an earlier certificate"
        if len(chain.duplicates) > 1:
            again = "repeat earlier certificates"
        duplicates = Text(f"{glyphs.cross} {_positions(chain.duplicates)} {again}", style="yellow")
    else:
        duplicates = Text("none")
    order: RenderableType
    if chain.order_ok:
        order = Text(f"{glyphs.check} each certificate is issued by the next")
    else:
        verdict = Text(f"{glyphs.cross} out of order", style="bold yellow")
        problems = [_text(problem) for problem in chain.order_problems]
        order = Group(verdict, _bullets(problems, glyphs)) if problems else verdict
    return [
        (
            "chain",
            Text(f"{_plural(chain.certificates, 'certificate')}, {chain.chain_der_bytes} B DER"),
        ),
        ("Certificate message", Text(f"{chain.certificate_message_bytes} B")),
        ("first flight", _first_flight(chain)),
        ("root sent", root),
        ("duplicates", duplicates),
        ("order", order),
        ("intermediates", _intermediates(chain, glyphs)),
    ]


def _key_costs(costs: Sequence[KeyCost], glyphs: _Glyphs) -> list[RenderableType]:
    """The leaf's key beside the usual alternatives: what a client downloads and computes."""
    if not costs:
        return [_kv([("key costs", _dim("not measured"))])]
    table = _table("key", "public key", "signature", "verify")
    table.columns[0].min_width = _KEY_WIDTH
    for column in table.columns[1:]:
        column.justify = "right"
    for cost in costs:
        key = _text(cost.key_description)
        if cost.is_leaf:
            key.append(" (leaf)")
            key.stylize("bold")
        table.add_row(
            key,
            Text(f"{cost.public_key_bytes} B"),
            Text(f"{cost.signature_bytes} B"),
            Text(f"{_ms(cost.verify_us)} {glyphs.micro}s"),
        )
    return [table, _dim("verify: median time to check one signature, on this machine")]


def _dual_rows(dual: DualCertificates, glyphs: _Glyphs) -> list[tuple[str, RenderableType]]:
    def served(key: str | None) -> Text:
        return _text(key) if key else Text("none: the handshake failed")

    verdict = Text(f"{glyphs.check} yes" if dual.dual else "no")
    if dual.version:
        verdict.append(f" (both offers in {_clean(dual.version)})")
    return [
        ("ECDSA-only client", served(dual.ecdsa_certificate)),
        ("RSA-only client", served(dual.rsa_certificate)),
        ("dual certificates", verdict),
    ]


def _hygiene_rows(hygiene: ValidityHygiene, glyphs: _Glyphs) -> list[tuple[str, RenderableType]]:
    days = hygiene.days_left
    if days < 0:
        left = Text(f"{glyphs.cross} expired {-days} d ago", style="bold red")
    elif days < EXPIRY_WARNING_DAYS:
        left = Text(f"{days} d: renew soon", style="yellow")
    else:
        left = Text(f"{days} d")
    maximum = f"the CA/B Forum maximum of {hygiene.max_lifetime_days} d"
    if hygiene.exceeds_max_lifetime:
        lifetime = Text(
            f"{glyphs.cross} {hygiene.lifetime_days} d, over {maximum}: browsers reject it",
            style="bold red",
        )
    else:
        lifetime = Text(f"{hygiene.lifetime_days} d, within {maximum}")
    if hygiene.sha1_signatures:
        sha1 = Text(
            f"{glyphs.cross} {_positions(hygiene.sha1_signatures)} signed with SHA-1",
            style="bold red",
        )
    else:
        sha1 = Text("none")
    weak: RenderableType
    if hygiene.weak_keys:
        weak = Group(
            *(Text(f"{glyphs.cross} {_clean(key)}", style="bold red") for key in hygiene.weak_keys)
        )
    else:
        weak = Text("none")
    name = _check(hygiene.name_matches, "matches", "does NOT match", glyphs)
    return [
        ("days left", left),
        ("lifetime", lifetime),
        ("SHA-1 signatures", sha1),
        ("weak keys", weak),
        ("name", name),
    ]


def _delivery(scan: ScanResult, glyphs: _Glyphs) -> RenderableType:
    outcome = scan.certificate_delivery
    result: CertificateDeliveryResult | None = outcome.result
    parts: list[RenderableType] = []
    line = _not_completed(outcome)
    if line is not None:
        parts.append(line)
    if result is None:
        return Group(*parts)
    parts.append(_kv(_chain_rows(result.chain, glyphs)))
    parts.append(Text(""))
    parts.extend(_key_costs(result.key_costs, glyphs))
    parts.append(Text(""))
    parts.append(_kv(_dual_rows(result.dual_certificates, glyphs)))
    parts.append(Text(""))
    parts.append(_kv(_hygiene_rows(result.hygiene, glyphs)))
    return Group(*parts)


# -- probe footer --------------------------------------------------------------------------


def _error_detail(error: ProbeError) -> Text:
    """``kind in Phase: message``: the stable kind first, for people who grep."""
    return Text.assemble(
        (f"{error.kind.value}", "bold red"),
        f" in {_phase_name(error.phase)}: " if error.phase is not None else ": ",
        _clean(_error_text(error)),
    )


def _probe_detail(outcome: ProbeOutcome[object]) -> Text:
    if outcome.error is not None:
        return _error_detail(outcome.error)
    if outcome.skip_reason is not None:
        return _text(outcome.skip_reason, "yellow")
    return Text("")


def _probes(scan: ScanResult, glyphs: _Glyphs) -> RenderableType:
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    table.add_column("probe", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("conns", justify="right", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("detail", overflow="fold", ratio=1)
    for outcome in scan.outcomes():
        table.add_row(
            _text(outcome.probe.value),
            Text(outcome.status.value, style=_STATUS_STYLES.get(outcome.status, "")),
            Text(str(outcome.connections)),
            Text(
                glyphs.dash
                if outcome.status is ProbeStatus.SKIPPED
                else _duration(outcome.duration_ms)
            ),
            _probe_detail(outcome),
        )
    return table


_SUMMARY_STATUS = {"not_scanned": "not scanned (interrupted)", "failed": "internal error"}


def render_fleet_summary(summary: FleetSummary, console: Console) -> None:
    """The table that ends a fleet scan: one row per target in the user's order."""
    counts = summary.counts()
    table = Table(
        title=Text(
            f"{counts['targets']} targets: {counts['scanned']} scanned, "
            f"{counts['unreachable']} unreachable, {counts['with_findings']} with findings"
            + (f", {counts['not_scanned']} not scanned" if counts["not_scanned"] else "")
            + f" in {_duration(summary.duration_ms)}",
            style="bold",
        ),
        title_justify="left",
        show_edge=False,
        header_style="bold",
    )
    table.add_column("target", overflow="fold")
    table.add_column("grade", justify="center")
    table.add_column("score", justify="right")
    table.add_column("handshake ms", justify="right")
    table.add_column("worst finding", overflow="fold")
    for row in summary.rows:
        worst: RenderableType
        if row.status != "scanned":
            worst = _dim(_SUMMARY_STATUS.get(row.status, row.status))
        elif row.reachable is False:
            worst = Text(f"unreachable: {_clean(row.error or 'no TLS session')}", style="red")
        elif row.worst is not None:
            worst = Text.assemble(
                (f"{row.worst.severity.upper()} ", _severity_style(row.worst.severity)),
                f"{row.worst.rule_id} {_clean(row.worst.title)}",
            )
        else:
            worst = _dim("none")
        if row.interrupted:
            worst = Text.assemble(worst, (" (interrupted)", "yellow"))
        table.add_row(
            _clean(row.input),
            row.grade or "-",
            str(row.score) if row.score is not None else "-",
            _ms(row.handshake_ms) if row.handshake_ms is not None else "-",
            worst,
        )
    console.print(table)


def _severity_style(label: str) -> str:
    return {"critical": "bold red", "high": "red", "medium": "yellow"}.get(label, "")
