"""What a rule is, what it finds, and how advice is written: data, not behaviour.

A rule's check is a pure function of the ScanResult (plus the measured round-trip time it may
use to put a saving in the user's own numbers). It returns a Verdict: failed with evidence,
passed with evidence, or not applicable with a reason. The engine, not the rule, turns a
missing probe result into ``unknown``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from httpsaudit.results import ProbeId, ScanResult

LANGUAGES = ("en", "zh")


class Severity(enum.IntEnum):
    """Ordered so ``--fail-on`` compares with ``>=``."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()


class Category(enum.StrEnum):
    """What a finding costs: time, safety, or the odds that a connection works at all."""

    LATENCY = "latency"
    SECURITY = "security"
    RELIABILITY = "reliability"


class ServerKind(enum.StrEnum):
    """Servers we write configuration for."""

    NGINX = "nginx"
    APACHE = "apache"
    HAPROXY = "haproxy"
    CADDY = "caddy"


class RuleStatus(enum.StrEnum):
    """How one rule came out for one scan."""

    FAILED = "failed"  # a finding
    PASSED = "passed"
    UNKNOWN = "unknown"  # a probe it needs failed or was skipped: never counted as passed
    NOT_APPLICABLE = "not_applicable"  # the question does not arise (no TLS 1.2, no OCSP URL)
    IGNORED = "ignored"  # deselected by --ignore/--select or the policy file


class Lifecycle(enum.StrEnum):
    """ruff's rule groups: a retired id stays in the registry so it is never reused."""

    STABLE = "stable"
    PREVIEW = "preview"
    REMOVED = "removed"


EvidenceValue = str | int | float | bool | None | tuple[str, ...] | tuple[int, ...]
Evidence = Mapping[str, EvidenceValue]


@dataclass(frozen=True, slots=True)
class Localized:
    """One text in every supported language; ``{name}`` placeholders take evidence values."""

    en: str
    zh: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def render(self, lang: str, values: Mapping[str, object]) -> str:
        """The text with evidence filled in; a placeholder without a value stays visible."""
        shown = {key: _show(value) for key, value in values.items()}
        return self.get(lang).format_map(_KeepMissing(shown))


def _show(value: object) -> object:
    """Evidence as a reader wants it: lists joined, nothing as "none", floats trimmed."""
    if isinstance(value, tuple | list):
        return ", ".join(str(item) for item in value) or "none"
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:g}"
    return value


class _KeepMissing(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@dataclass(frozen=True, slots=True)
class Snippet:
    """Configuration lines for one server, optionally only from a version on.

    ``before_version``/``before_text``: what to say to servers older than ``min_version``
    (e.g. nginx before 1.23.2 does not rotate ticket keys by itself).
    """

    text: str
    min_version: tuple[int, ...] | None = None
    before_text: str | None = None
    not_configurable: bool = False  # the server cannot do this; ``text`` says why


@dataclass(frozen=True, slots=True)
class Advice:
    """ruff's "use instead": a summary, config per server, and where to read more."""

    summary: Localized
    snippets: Mapping[ServerKind, Snippet]
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Saving:
    """What fixing a finding saves, in the user's own measured numbers."""

    round_trips: int = 0
    ms: float | None = None  # round_trips x measured RTT, or another measured difference
    bytes: int | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """A check's answer. ``message`` overrides the rule's title with measured detail."""

    status: RuleStatus
    evidence: Evidence = field(default_factory=dict)
    message: Localized | None = None
    saving: Saving | None = None

    @classmethod
    def failed(
        cls, evidence: Evidence, *, message: Localized | None = None, saving: Saving | None = None
    ) -> Verdict:
        return cls(RuleStatus.FAILED, evidence, message, saving)

    @classmethod
    def passed(cls, evidence: Evidence) -> Verdict:
        return cls(RuleStatus.PASSED, evidence)

    @classmethod
    def not_applicable(cls, reason: str, evidence: Evidence | None = None) -> Verdict:
        return cls(RuleStatus.NOT_APPLICABLE, {"reason": reason, **(evidence or {})})

    @classmethod
    def unknown(cls, reason: str, evidence: Evidence | None = None) -> Verdict:
        """The probe ran but its answer cannot settle the question (a timeout, say)."""
        return cls(RuleStatus.UNKNOWN, {"reason": reason, **(evidence or {})})


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What a check may know besides the scan: the measured RTT for savings."""

    rtt_ms: float | None

    def saving(self, round_trips: int) -> Saving:
        """``round_trips`` at the user's measured RTT."""
        ms = None if self.rtt_ms is None else round(round_trips * self.rtt_ms, 1)
        return Saving(round_trips=round_trips, ms=ms)


Check = Callable[[ScanResult, CheckContext], Verdict]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule as data (bandit/ruff): identity, weight, what it needs, its check, its advice."""

    id: str  # family prefix + 3 digits: TLS001, KEX001, CERT001, OCSP001, RES001...
    name: str  # kebab slug: tls13-disabled
    severity: Severity
    category: Category
    title: Localized  # the finding in one line ("TLS 1.3 is not offered")
    why: Localized  # why it costs: round trips, CPU, bytes, risk
    requires: tuple[ProbeId, ...]
    check: Check
    advice: Advice
    lifecycle: Lifecycle = Lifecycle.STABLE


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's outcome for one scan, ready for every report format."""

    rule_id: str
    name: str
    severity: Severity
    category: Category
    status: RuleStatus
    title: str
    message: str
    evidence: Evidence
    saving: Saving | None
    advice: str | None  # the summary, in the report's language
    snippet: str | None  # config for the detected server (or None when none applies)
    server: str | None  # the server kind the snippet is for
    references: tuple[str, ...]
    reason: str | None  # why unknown / not applicable / ignored
    why: str = ""  # the rule's "why is this bad", in the report's language (SARIF, explain)
    internal_error: bool = False  # the check raised: a bug in httpsaudit (exit 5), not the server
