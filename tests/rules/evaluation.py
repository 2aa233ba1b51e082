"""Run rules against a real lab server: scan only the probes they need, then evaluate."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from httpsaudit.net.dns import ResolverAddress
from httpsaudit.probes.base import ScanOptions
from httpsaudit.rules import rule_by_id
from httpsaudit.rules.engine import evaluate
from httpsaudit.rules.model import Finding, Rule
from httpsaudit.scan import scan
from httpsaudit.target import ConnectAddress, parse_target
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
    connect_to: Sequence[tuple[str, int]] = (),
    name: str = "localhost",
    resolver_port: int | None = None,
) -> dict[str, Finding]:
    """Findings by rule id for ``rule_keys`` against the server on ``port``.

    ``connect_to``: several backends of ``name`` (``--connect-to`` each), instead of ``host``.
    ``resolver_port``: resolve ``name`` through the lab DNS server on 127.0.0.1 instead.
    """
    rules: Sequence[Rule] = rules_named(*rule_keys)
    probes = frozenset(probe for rule in rules for probe in rule.requires)
    if connect_to or resolver_port is not None:
        addresses = tuple(
            ConnectAddress(backend, backend_port) for backend, backend_port in connect_to
        )
        options = ScanOptions(
            ca_file=ca_file,
            timeout_s=timeout_s,
            resolver=None if resolver_port is None else ResolverAddress("127.0.0.1", resolver_port),
            only_probes=probes,
        )
        result = scan(parse_target(f"{name}:{port}", connect_to=addresses), options)
    else:
        result = scan_local(
            port, ca_file=ca_file, host=host, timeout_s=timeout_s, only_probes=probes
        )
    report = evaluate(result, rules, lang=lang)
    return {finding.rule_id: finding for finding in report.findings}
