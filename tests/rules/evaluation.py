"""Run rules against a real lab server: scan only the probes they need, then evaluate."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from httpsaudit.rules import rule_by_id
from httpsaudit.rules.engine import evaluate
from httpsaudit.rules.model import Finding, Rule
from tests.scanning import scan_local


def rules_named(*keys: str) -> tuple[Rule, ...]:
    found = tuple(rule_by_id(key) for key in keys)
    missing = [key for key, rule in zip(keys, found, strict=True) if rule is None]
    if missing:
        raise KeyError(f"no such rules: {missing}")
    return tuple(rule for rule in found if rule is not None)


def audit(
    port: int,
    ca_file: Path | None,
    *rule_keys: str,
    lang: str = "en",
    host: str = "127.0.0.1",
    timeout_s: float = 30.0,
) -> dict[str, Finding]:
    """Findings by rule id for ``rule_keys`` against the server on ``port``."""
    rules: Sequence[Rule] = rules_named(*rule_keys)
    probes = frozenset(probe for rule in rules for probe in rule.requires)
    result = scan_local(port, ca_file=ca_file, host=host, timeout_s=timeout_s, only_probes=probes)
    report = evaluate(result, rules, lang=lang)
    return {finding.rule_id: finding for finding in report.findings}
