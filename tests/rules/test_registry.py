"""The registry as data: unique ids, complete documentation and advice, a case per rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from httpsaudit.rules import RULES, rule_by_id
from httpsaudit.rules.model import Lifecycle, Rule, ServerKind

ID_PATTERN = re.compile(r"^(TLS|KEX|CERT|OCSP|RES|EARLY|NET|ALPN|HTTP)\d{3}$")
NAME_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
RULE_TESTS = Path(__file__).resolve().parent


def test_ids_and_names_are_unique_and_well_formed() -> None:
    assert len({rule.id for rule in RULES}) == len(RULES)
    assert len({rule.name for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert ID_PATTERN.match(rule.id), rule.id
        assert NAME_PATTERN.match(rule.name), rule.name


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_every_rule_is_documented_in_both_languages(rule: Rule) -> None:
    for text in (rule.title, rule.why, rule.advice.summary):
        assert text.en.strip(), rule.id
        assert text.zh.strip(), rule.id
        # The same evidence placeholders in both languages: same facts, same numbers.
        assert set(re.findall(r"\{(\w+)\}", text.en)) == set(re.findall(r"\{(\w+)\}", text.zh))
    assert rule.advice.references, rule.id
    assert rule.requires, rule.id


@pytest.mark.parametrize("rule", RULES, ids=[rule.id for rule in RULES])
def test_every_rule_has_advice_for_every_server(rule: Rule) -> None:
    # A snippet for each server kind, or an explicit "not configurable" one saying why.
    assert set(rule.advice.snippets) == set(ServerKind), rule.id
    for snippet in rule.advice.snippets.values():
        assert snippet.text.strip()


def test_every_rule_has_a_trigger_and_a_clean_case() -> None:
    # Tests are named test_<id>_trigger_* and test_<id>_clean_* in tests/rules/.
    sources = "\n".join(path.read_text("utf-8") for path in RULE_TESTS.glob("test_*.py"))
    missing = [
        f"{rule.id} {kind}"
        for rule in RULES
        if rule.lifecycle is not Lifecycle.REMOVED
        for kind in ("trigger", "clean")
        if f"def test_{rule.id.lower()}_{kind}" not in sources
    ]
    assert missing == []


def test_lookup_by_id_or_name() -> None:
    assert rule_by_id("tls001") is RULES[0]
    assert rule_by_id(RULES[0].name) is RULES[0]
    assert rule_by_id("NOPE999") is None
