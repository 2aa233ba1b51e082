"""Rules of the early data family (see rules/model.py for the shape, rules/protocol.py for an example)."""

from __future__ import annotations

from httpsaudit.rules.model import Rule

RULES: tuple[Rule, ...] = ()
