"""Rules of the resumption family (see rules/model.py for the shape, rules/protocol.py for an example)."""

from __future__ import annotations

from httpsaudit.rules.model import Rule

RULES: tuple[Rule, ...] = ()
