"""The helpers every findings format shares: order, counts, titles, savings, the target's names."""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlsplit

import pytest

from httpsaudit.report.findings import (
    SEVERITY_ORDER,
    artifact_path,
    failed_by_severity,
    plain_title,
    saving_text,
    status_counts,
    target_url,
    unknown_reasons,
    utc_time,
)
from httpsaudit.rules import RULES
from httpsaudit.rules.model import RuleStatus, Saving, Severity
from tests.report.findings_cases import FINDINGS, GROUPS_FAILED, TARGET, hand_built_report


def test_severity_order_is_worst_first() -> None:
    assert SEVERITY_ORDER == (
        Severity.CRITICAL,
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.LOW,
        Severity.INFO,
    )


def test_failed_findings_group_by_severity_in_registry_order() -> None:
    # Given findings of every severity and status, in registry order
    report = hand_built_report()
    # When the failed ones are grouped
    groups = failed_by_severity(report)
    # Then groups run critical to info, hold only failed findings, and empty groups are left out
    assert [(severity, [f.rule_id for f in group]) for severity, group in groups] == [
        (Severity.CRITICAL, ["CERT901"]),
        (Severity.HIGH, ["TLS001"]),
        (Severity.MEDIUM, ["KEX901"]),
        (Severity.LOW, ["NET901"]),
        (Severity.INFO, ["ALPN901"]),
    ]


def test_status_counts_cover_every_status() -> None:
    assert status_counts(FINDINGS) == {
        RuleStatus.FAILED: 5,
        RuleStatus.PASSED: 1,
        RuleStatus.UNKNOWN: 2,
        RuleStatus.NOT_APPLICABLE: 1,
        RuleStatus.IGNORED: 1,
    }
    assert status_counts(()) == dict.fromkeys(RuleStatus, 0)


def test_unknown_rules_are_grouped_by_reason() -> None:
    assert unknown_reasons(FINDINGS) == [(GROUPS_FAILED, ["KEX902", "KEX903"])]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("TLS 1.3 is not offered (offered: {offered_versions})", "TLS 1.3 is not offered"),
        (
            "Deprecated protocol versions are accepted: {old_versions}",
            "Deprecated protocol versions are accepted",
        ),
        ("The chain sends {count} certificates", "The chain sends ... certificates"),
        ("No placeholders (at all)", "No placeholders (at all)"),
        # Full-width brackets are not taken apart: only the placeholder goes.
        ("\uff08{versions}\uff09", "\uff08...\uff09"),
        ("服务器未启用 TLS 1.3(当前支持:{offered_versions})", "服务器未启用 TLS 1.3"),
    ],
)
def test_plain_title_drops_evidence_placeholders(title: str, expected: str) -> None:
    assert plain_title(title) == expected


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_registered_title_has_a_plain_form(lang: str) -> None:
    # Whatever rules exist, the title shown without evidence has no placeholder left.
    for rule in RULES:
        shown = plain_title(rule.title.get(lang))
        assert shown
        assert "{" not in shown, rule.id


@pytest.mark.parametrize(
    ("saving", "expected"),
    [
        (None, None),
        (Saving(), None),
        (Saving(round_trips=1, ms=42.04), "1 round trip, about 42.0 ms"),
        (Saving(round_trips=2, ms=None), "2 round trips"),
        (Saving(round_trips=1, ms=0.123), "1 round trip, about 0.12 ms"),
        (Saving(round_trips=0, ms=None, bytes=1342), "1342 bytes"),
        (Saving(round_trips=1, ms=230.4, bytes=96), "1 round trip, about 230 ms, 96 bytes"),
        (Saving(round_trips=0, ms=0.0), None),
    ],
)
def test_saving_in_plain_words(saving: Saving | None, expected: str | None) -> None:
    assert saving_text(saving) == expected


@pytest.mark.parametrize(
    ("host", "port", "path", "url", "artifact"),
    [
        ("shop.example", 443, "/", "https://shop.example:443/", "shop.example_443"),
        (
            "127.0.0.1",
            8443,
            "/health?full=1",
            "https://127.0.0.1:8443/health?full=1",
            "127.0.0.1_8443/health",
        ),
        ("::1", 8443, "/a b/c", "https://[::1]:8443/a b/c", "__1_8443/a_b/c"),
        (
            "xn--bcher-kva.example",
            443,
            "//x//y/",
            "https://xn--bcher-kva.example:443//x//y/",
            "xn--bcher-kva.example_443/x/y",
        ),
    ],
)
def test_target_names(host: str, port: int, path: str, url: str, artifact: str) -> None:
    # Given a target
    target = dataclasses.replace(TARGET, host=host, port=port, path=path)
    # When it is named for a reader and for GitHub code scanning
    # Then the URL is exact, and the artifact path is relative, scheme-less and colon-free
    assert target_url(target) == url
    assert artifact_path(target) == artifact
    assert urlsplit(artifact).scheme == ""
    assert ":" not in artifact
    assert re.fullmatch(r"[A-Za-z0-9._~/-]+", artifact)


def test_utc_time() -> None:
    moment = utc_time("2026-01-02T03:04:05+01:00")
    assert moment is not None
    assert moment.isoformat() == "2026-01-02T02:04:05+00:00"
    assert utc_time("yesterday") is None
