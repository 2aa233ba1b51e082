"""Policy files and the CI gate they configure.

A policy is ``httpsaudit.toml`` (keys at the top level) or ``[tool.httpsaudit]`` in
``pyproject.toml``, found in the current directory or the nearest parent that has one (as ruff
finds its configuration). Keys: ``fail-on``, ``fail-under``, ``select``, ``ignore``, ``lang``,
a ``[severity]`` table (rule id or name -> severity) and ``[targets."host[:port]"]`` tables that
override any of those for one target. Every mistake is one line naming the file and the key.

Precedence, lowest first: built-in defaults, the top level of the file, a ``[targets."host"]``
table, a ``[targets."host:port"]`` table, command-line flags. A value set at a level replaces the
lower one; ``[severity]`` tables merge key by key.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from httpsaudit.errors import UsageError
from httpsaudit.rules import RULES, rule_by_id
from httpsaudit.rules.engine import RuleReport, Selection
from httpsaudit.rules.model import LANGUAGES, Finding, Severity
from httpsaudit.target import parse_address

POLICY_FILE = "httpsaudit.toml"
PYPROJECT_FILE = "pyproject.toml"
DEFAULT_FAIL_ON = Severity.HIGH
NEVER = "none"  # ``fail-on = "none"``: no finding fails the gate on its severity
SEVERITY_NAMES = tuple(severity.label for severity in Severity)
FAIL_ON_NAMES = (*SEVERITY_NAMES, NEVER)
_SETTING_KEYS = ("fail-on", "fail-under", "select", "ignore", "lang", "severity")
_TOP_KEYS = (*_SETTING_KEYS, "targets")


class PolicyError(UsageError):
    """A policy file that cannot be used; ``str()`` names the file and the key."""


@dataclass(frozen=True, slots=True)
class Settings:
    """One level of settings; ``None`` means "not set at this level"."""

    fail_on: Severity | None = None
    never_fail_on_severity: bool = False  # ``fail-on = "none"`` (set when fail_on is None)
    fail_under: int | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    lang: str | None = None
    severity: Mapping[str, Severity] = field(default_factory=dict)  # rule id -> severity

    @property
    def sets_fail_on(self) -> bool:
        return self.fail_on is not None or self.never_fail_on_severity

    def over(self, lower: Settings) -> Settings:
        """These settings laid over ``lower``: set values win, severity tables merge."""
        fail_on, never = (
            (self.fail_on, self.never_fail_on_severity)
            if self.sets_fail_on
            else (lower.fail_on, lower.never_fail_on_severity)
        )
        return Settings(
            fail_on=fail_on,
            never_fail_on_severity=never,
            fail_under=self.fail_under if self.fail_under is not None else lower.fail_under,
            select=self.select if self.select is not None else lower.select,
            ignore=self.ignore if self.ignore is not None else lower.ignore,
            lang=self.lang if self.lang is not None else lower.lang,
            severity={**lower.severity, **self.severity},
        )

    def gate(self) -> GateSettings:
        """The gate these settings ask for, with the built-in default where unset."""
        if self.never_fail_on_severity:
            return GateSettings(fail_on=None, fail_under=self.fail_under)
        return GateSettings(fail_on=self.fail_on or DEFAULT_FAIL_ON, fail_under=self.fail_under)

    def selection(self) -> Selection:
        """The engine's view: which rules run, and their severities."""
        return Selection(
            select=self.select or (), ignore=self.ignore or (), severity_overrides=self.severity
        )


@dataclass(frozen=True, slots=True)
class TargetKey:
    """``host`` (any port) or ``host:port``, as written under ``[targets]``, normalized."""

    text: str
    host: str
    port: int | None

    def matches(self, host: str, port: int) -> bool:
        return self.host == host.lower() and self.port in (None, port)


@dataclass(frozen=True, slots=True)
class Policy:
    """A loaded, validated policy file."""

    path: Path | None  # None: no file (built-in defaults)
    settings: Settings
    targets: tuple[tuple[TargetKey, Settings], ...] = ()

    def for_target(self, host: str, port: int) -> Settings:
        """Top level, then ``[targets."host"]``, then ``[targets."host:port"]``."""
        effective = self.settings
        for want_port in (False, True):
            for key, settings in self.targets:
                if (key.port is not None) == want_port and key.matches(host, port):
                    effective = settings.over(effective)
        return effective


NO_POLICY = Policy(path=None, settings=Settings())


def discover(start: Path) -> Path | None:
    """The nearest ``httpsaudit.toml``, or ``pyproject.toml`` with ``[tool.httpsaudit]``, from
    ``start`` up to the filesystem root."""
    for directory in (start, *start.parents):
        candidate = directory / POLICY_FILE
        if candidate.is_file():
            return candidate
        pyproject = directory / PYPROJECT_FILE
        if pyproject.is_file():
            tool = _read_toml(pyproject).get("tool")
            if isinstance(tool, dict) and "httpsaudit" in tool:
                return pyproject
    return None


def load(path: Path) -> Policy:
    """Read and validate a policy file (either kind, told apart by its name)."""
    document = _read_toml(path)
    if path.name == PYPROJECT_FILE:
        tool = document.get("tool", {})
        if not isinstance(tool, dict) or "httpsaudit" not in tool:
            raise PolicyError(f"{path}: no [tool.httpsaudit] table")
        table = tool["httpsaudit"]
        where = "tool.httpsaudit."
    else:
        table, where = document, ""
    if not isinstance(table, dict):
        raise PolicyError(f"{path}: {where.rstrip('.')}: expected a table")
    return _parse_policy(path, table, where)


def _read_toml(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:  # tomllib lets bytes that are not UTF-8 through
        raise PolicyError(
            f"{path}: not valid TOML: not UTF-8 ({exc.reason} at byte {exc.start})"
        ) from exc
    except RecursionError as exc:  # nesting deeper than Python's recursion limit
        raise PolicyError(f"{path}: not valid TOML: nested too deeply") from exc
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read it: {exc.strerror or exc}") from exc


def _parse_policy(path: Path, table: dict[str, object], where: str) -> Policy:
    _check_keys(path, table, _TOP_KEYS, where)
    settings = _parse_settings(path, table, where)
    targets: list[tuple[TargetKey, Settings]] = []
    raw_targets = table.get("targets", {})
    if not isinstance(raw_targets, dict):
        raise PolicyError(f'{path}: {where}targets: expected a table of [targets."host[:port]"]')
    for text, body in raw_targets.items():
        label = f'{where}targets."{text}"'
        key = _target_key(path, text, label)
        if not isinstance(body, dict):
            raise PolicyError(f"{path}: {label}: expected a table")
        _check_keys(path, body, _SETTING_KEYS, f"{label}.")
        targets.append((key, _parse_settings(path, body, f"{label}.")))
    return Policy(path=path, settings=settings, targets=tuple(targets))


def _check_keys(
    path: Path, table: Mapping[str, object], allowed: Sequence[str], where: str
) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(allowed)})"
            raise PolicyError(f"{path}: {where}{key}: unknown key{hint}")


def _target_key(path: Path, text: str, label: str) -> TargetKey:
    try:
        address = parse_address(text)
    except UsageError as exc:
        raise PolicyError(f"{path}: {label}: not a host or host:port ({exc.message})") from exc
    return TargetKey(text=text, host=address.host.lower(), port=address.port)


def _parse_settings(path: Path, table: Mapping[str, object], where: str) -> Settings:
    fail_on: Severity | None = None
    never = False
    if "fail-on" in table:
        value = table["fail-on"]
        if not isinstance(value, str) or value.lower() not in FAIL_ON_NAMES:
            raise PolicyError(
                f"{path}: {where}fail-on: {value!r} is not a severity; use one of "
                f"{', '.join(FAIL_ON_NAMES)}"
            )
        never = value.lower() == NEVER
        fail_on = None if never else parse_severity(value)
    fail_under = None
    if "fail-under" in table:
        value = table["fail-under"]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise PolicyError(f"{path}: {where}fail-under: {value!r} is not a score from 0 to 100")
        fail_under = value
    lang = None
    if "lang" in table:
        value = table["lang"]
        if value not in LANGUAGES:
            raise PolicyError(f"{path}: {where}lang: {value!r}; use one of {', '.join(LANGUAGES)}")
        lang = str(value)
    return Settings(
        fail_on=fail_on,
        never_fail_on_severity=never,
        fail_under=fail_under,
        select=_rule_list(path, table, "select", where),
        ignore=_rule_list(path, table, "ignore", where),
        lang=lang,
        severity=_severity_table(path, table.get("severity", {}), f"{where}severity"),
    )


def _rule_list(
    path: Path, table: Mapping[str, object], key: str, where: str
) -> tuple[str, ...] | None:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise PolicyError(f'{path}: {where}{key}: expected a list of rule ids, like ["TLS001"]')
    tokens = split_rule_tokens(value)
    unknown = unknown_rule_tokens(tokens)
    if unknown:
        raise PolicyError(f"{path}: {where}{key}: {_unknown_text(unknown)}")
    return tokens


def _severity_table(path: Path, value: object, where: str) -> dict[str, Severity]:
    if not isinstance(value, dict):
        raise PolicyError(f"{path}: {where}: expected a table of rule = severity")
    overrides: dict[str, Severity] = {}
    for key, level in value.items():
        rule = rule_by_id(key)
        if rule is None:
            raise PolicyError(f"{path}: {where}.{key}: {_unknown_text([key])}")
        if not isinstance(level, str) or level.lower() not in SEVERITY_NAMES:
            raise PolicyError(
                f"{path}: {where}.{key}: {level!r} is not a severity; use one of "
                f"{', '.join(SEVERITY_NAMES)}"
            )
        overrides[rule.id] = parse_severity(level)
    return overrides


def parse_severity(text: str) -> Severity:
    """``"high"`` -> Severity.HIGH (case-insensitive); ValueError for anything else."""
    try:
        return Severity[text.strip().upper()]
    except KeyError:
        raise ValueError(f"{text!r} is not a severity") from None


def split_rule_tokens(values: Iterable[str]) -> tuple[str, ...]:
    """``("TLS001,CERT", " KEX ")`` -> ``("TLS001", "CERT", "KEX")``: repeatable and
    comma-separated forms alike, blanks dropped."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def unknown_rule_tokens(tokens: Iterable[str]) -> list[str]:
    """Tokens that choose no rule at all: an id, an id prefix like ``CERT``, or a kebab name."""
    return [
        token
        for token in tokens
        if not any(Selection(select=(token,)).chooses(rule) for rule in RULES)
    ]


def _unknown_text(tokens: Sequence[str]) -> str:
    names = ", ".join(repr(token) for token in tokens)
    noun = "rule" if len(tokens) == 1 else "rules"
    return f"unknown {noun} {names} (httpsaudit rules lists them)"


@dataclass(frozen=True, slots=True)
class GateSettings:
    """When CI should fail: a finding at or above ``fail_on`` (None: never on severity), or a
    score under ``fail_under``."""

    fail_on: Severity | None = DEFAULT_FAIL_ON
    fail_under: int | None = None


@dataclass(frozen=True, slots=True)
class GateResult:
    """The gate's verdict, what tripped it, and the one line CI logs show."""

    failed: bool
    blocking: tuple[Finding, ...]  # failed findings at or above fail-on that count
    score_too_low: bool
    summary: str


def evaluate_gate(
    report: RuleReport,
    gate: GateSettings,
    *,
    counted: Sequence[Finding] | None = None,
    against: str | None = None,
) -> GateResult:
    """Apply the gate. ``counted``: the failed findings that may trip it (with a baseline, only
    the new or worse ones); ``against`` names that baseline in the summary."""
    candidates = report.failed() if counted is None else tuple(counted)
    blocking = (
        tuple(finding for finding in candidates if finding.severity >= gate.fail_on)
        if gate.fail_on is not None
        else ()
    )
    score_too_low = score_under(report, gate)
    failed = bool(blocking) or score_too_low
    return GateResult(failed, blocking, score_too_low, _summary(report, gate, blocking, against))


def score_under(report: RuleReport, gate: GateSettings) -> bool:
    """``--fail-under`` applies only to a score; an unreachable target has none."""
    limit, score = gate.fail_under, report.score
    return limit is not None and score is not None and score < limit


def _summary(
    report: RuleReport, gate: GateSettings, blocking: Sequence[Finding], against: str | None
) -> str:
    reasons: list[str] = []
    new = "new or worse " if against is not None else ""
    if blocking and gate.fail_on is not None:
        ids = ", ".join(finding.rule_id for finding in blocking)
        noun = "finding" if len(blocking) == 1 else "findings"
        reasons.append(f"{len(blocking)} {new}{noun} at or above {gate.fail_on.label} ({ids})")
    if score_under(report, gate):
        reasons.append(f"score {report.score} is under {gate.fail_under}")
    baseline = f" compared with {against}" if against is not None else ""
    if reasons:
        return f"gate failed: {'; '.join(reasons)}{baseline}"
    level = gate.fail_on.label if gate.fail_on is not None else None
    checks = [f"no {new}finding at or above {level}" if level else "severity not gated"]
    if gate.fail_under is not None:
        checks.append(f"score {report.score} >= {gate.fail_under}")
    return f"gate passed: {'; '.join(checks)}{baseline}"
