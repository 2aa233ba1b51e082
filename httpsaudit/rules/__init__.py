"""The rule registry: an explicit tuple (greppable, typed), ids unique and never reused."""

from __future__ import annotations

from httpsaudit.rules import (
    certificate,
    early_data,
    key_exchange,
    latency,
    protocol,
    resumption,
)
from httpsaudit.rules.model import Rule

# Report order: protocol, key exchange, certificates, resumption, 0-RTT, latency.
RULES: tuple[Rule, ...] = (
    *protocol.RULES,
    *key_exchange.RULES,
    *certificate.RULES,
    *resumption.RULES,
    *early_data.RULES,
    *latency.RULES,
)


def _check_unique(rules: tuple[Rule, ...]) -> None:
    ids = [rule.id for rule in rules]
    names = [rule.name for rule in rules]
    if len(set(ids)) != len(ids) or len(set(names)) != len(names):
        raise RuntimeError("duplicate rule id or name in the registry")


_check_unique(RULES)


def rule_by_id(key: str) -> Rule | None:
    """A rule by id (case-insensitive) or kebab name."""
    wanted = key.strip()
    return next(
        (rule for rule in RULES if rule.id == wanted.upper() or rule.name == wanted.lower()), None
    )


__all__ = ["RULES", "rule_by_id"]
