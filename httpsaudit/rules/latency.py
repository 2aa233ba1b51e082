"""Rules of the latency family; rules/protocol.py shows the shape."""

from __future__ import annotations

from httpsaudit.rules.model import Rule

RULES: tuple[Rule, ...] = ()
