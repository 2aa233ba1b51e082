"""SARIF 2.1.0 for GitHub code scanning: one run, every rule described, failed findings as results.

A finding has no source file, so each result names the target twice:

* a ``logicalLocations`` entry with the full address (``https://host:port/path``), which is what
  the finding is about, for any SARIF reader;
* a ``physicalLocation`` whose ``artifactLocation.uri`` is a scheme-less relative path
  (``example.com_443/api``) with ``region.startLine`` 1, because GitHub shows no alert without
  one, rejects absolute ``https:`` URIs and a colon in the first path segment. Callers that keep
  the server's configuration in the repository may pass its path as ``artifact_uri`` instead, so
  the alert points at the file to change.

``partialFingerprints`` hold a hash of the rule and the target address, so an alert stays one
alert across runs although its message carries this run's measured milliseconds.

A fleet (``render_fleet``) is still one tool invocation, so it is one run too, as code scanning
expects: the rules of every target described once, every target's results, each located at its
own target (so fingerprints differ by target), and one invocation whose notifications name the
target they are about. Where targets got different advice for one rule (it quotes each target's
measurements and detected server), the rule's help keeps only what they share and each result
carries its own help in ``properties.help``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence

from httpsaudit.report.findings import (
    artifact_path,
    connection_error_text,
    host_port,
    plain_title,
    saving_text,
    snippet_label,
    target_url,
    utc_time,
)
from httpsaudit.report.markdown import escape, fenced, paragraphs
from httpsaudit.results import ScanResult
from httpsaudit.rules.engine import RuleReport
from httpsaudit.rules.model import Category, Finding, RuleStatus, Severity

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
TOOL_NAME = "httpsaudit"
# Where a reader of an alert learns about the tool (SARIF toolComponent.informationUri).
INFORMATION_URI = "https://pypi.org/project/httpsaudit/"
# The partialFingerprints key; bump the suffix if what is hashed ever changes.
FINGERPRINT_KEY = "httpsauditFinding/v1"

LEVELS: Mapping[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub ranks security alerts by this 0.0-10.0 score (over 9.0 critical, 7.0 high, 4.0 medium,
# 0.1 low); it reads it only on rules tagged "security". Info findings carry none.
SECURITY_SEVERITY: Mapping[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
}

Json = None | bool | int | float | str | list["Json"] | dict[str, "Json"]


def _help(finding: Finding) -> dict[str, Json]:
    """The rule's help: the advice and config for a failed finding, else why and references.

    The Markdown form escapes the text, which may carry server-supplied evidence.
    """
    summary = finding.advice or finding.why or plain_title(finding.title)
    text_parts = [summary]
    markdown_parts = [paragraphs(summary)]
    if finding.snippet:
        label = snippet_label(finding)
        text_parts.append(f"{label}:\n{finding.snippet}")
        markdown_parts.append(f"{escape(label)}:\n\n{fenced(finding.snippet)}")
    if finding.references:
        text_parts.append("References:\n" + "\n".join(f"- {ref}" for ref in finding.references))
        markdown_parts.append(
            "References:\n\n" + "\n".join(f"- {escape(ref)}" for ref in finding.references)
        )
    return {"text": "\n\n".join(text_parts), "markdown": "\n\n".join(markdown_parts)}


def _rule(finding: Finding) -> dict[str, Json]:
    """A reportingDescriptor from the finding: the rule as this run evaluated it."""
    # The category is a tag too: GitHub treats a rule tagged "security" as a security alert.
    tags: list[Json] = ["https", "tls", finding.category.value]
    properties: dict[str, Json] = {
        "severity": finding.severity.label,
        "category": finding.category.value,
        "tags": tags,
    }
    if finding.category is Category.SECURITY and finding.severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[finding.severity]
    descriptor: dict[str, Json] = {
        "id": finding.rule_id,
        "name": finding.name,
        "shortDescription": {"text": plain_title(finding.title)},
        "fullDescription": {"text": finding.why or plain_title(finding.title)},
        "help": _help(finding),
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
        "properties": properties,
    }
    help_uri = next((ref for ref in finding.references if ref.startswith("https://")), None)
    if help_uri is not None:
        descriptor["helpUri"] = help_uri
    return descriptor


@dataclasses.dataclass(frozen=True, slots=True)
class _Where:
    """How every result and notification about one target names it."""

    url: str
    name: str
    artifact_uri: str

    def location(self) -> dict[str, Json]:
        return {
            "physicalLocation": {
                "artifactLocation": {"uri": self.artifact_uri},
                "region": {"startLine": 1},
            },
            "logicalLocations": [
                {"name": self.name, "fullyQualifiedName": self.url, "kind": "resource"}
            ],
        }


def _where(scan: ScanResult, artifact_uri: str | None = None) -> _Where:
    return _Where(
        target_url(scan.target), host_port(scan.target), artifact_uri or artifact_path(scan.target)
    )


def _fingerprint(finding: Finding, url: str) -> str:
    return hashlib.sha256(f"{finding.rule_id}\n{url}".encode()).hexdigest()


def _evidence(finding: Finding) -> dict[str, Json]:
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in finding.evidence.items()
    }


def _result(
    finding: Finding, index: int, where: _Where, own_help: dict[str, Json] | None
) -> dict[str, Json]:
    saving = saving_text(finding.saving)
    message = finding.message
    if saving is not None:
        message = f"{message.rstrip('.')}. Saves {saving}."
    properties: dict[str, Json] = {
        "severity": finding.severity.label,
        "category": finding.category.value,
        "evidence": _evidence(finding),
    }
    if finding.saving is not None:
        properties["saving"] = {
            "round_trips": finding.saving.round_trips,
            "ms": finding.saving.ms,
            "bytes": finding.saving.bytes,
        }
    if own_help is not None:
        properties["help"] = own_help
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": index,
        "kind": "fail",
        "level": LEVELS[finding.severity],
        "message": {"text": message},
        "locations": [where.location()],
        "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(finding, where.url)},
        "properties": properties,
    }


@dataclasses.dataclass(frozen=True, slots=True)
class _Rules:
    """The rules of a run: described once each, first seen first, however many targets."""

    descriptors: list[Json]
    index: dict[str, int]
    helps: dict[str, dict[str, Json]]

    def results(self, rules: RuleReport, where: _Where) -> list[Json]:
        """One target's failed findings; a help unlike the rule's goes with the result."""
        results: list[Json] = []
        for finding in rules.failed():
            own_help = _help(finding)
            shared = own_help == self.helps[finding.rule_id]
            results.append(
                _result(finding, self.index[finding.rule_id], where, None if shared else own_help)
            )
        return results


def _shared(chosen: Finding, other: Finding) -> Finding:
    """What two failed findings of one rule both say; the rest left for each result."""
    if other.advice != chosen.advice:
        chosen = dataclasses.replace(chosen, advice=None)
    if (other.snippet, other.server) != (chosen.snippet, chosen.server):
        chosen = dataclasses.replace(chosen, snippet=None, server=None)
    return chosen


def _rules(reports: Sequence[RuleReport]) -> _Rules:
    """Describe each rule from a failed finding where one failed (its help then has advice)."""
    chosen: dict[str, Finding] = {}
    for report in reports:
        for finding in report.findings:
            known = chosen.get(finding.rule_id)
            if known is None or (
                known.status is not RuleStatus.FAILED and finding.status is RuleStatus.FAILED
            ):
                chosen[finding.rule_id] = finding
            elif finding.status is RuleStatus.FAILED:
                chosen[finding.rule_id] = _shared(known, finding)
    return _Rules(
        descriptors=[_rule(finding) for finding in chosen.values()],
        index={rule_id: index for index, rule_id in enumerate(chosen)},
        helps={rule_id: _help(finding) for rule_id, finding in chosen.items()},
    )


def _notifications(
    rules: RuleReport, index: Mapping[str, int], where: _Where | None = None
) -> list[Json]:
    """Rules that could not be judged (a probe they need failed): the tool says so, not a result.

    In a fleet (``where`` given) each notification names its target.
    """
    notifications: list[Json] = []
    for finding in rules.findings:
        if finding.status is RuleStatus.UNKNOWN:
            text = f"{finding.rule_id} {finding.name} is unknown: {finding.reason}"
            notification: dict[str, Json] = {
                "level": "warning",
                "message": {"text": text if where is None else f"{where.url}: {text}"},
            }
            if where is not None:
                notification["locations"] = [where.location()]
            notification["associatedRule"] = {
                "id": finding.rule_id,
                "index": index[finding.rule_id],
            }
            notifications.append(notification)
    return notifications


def _unreachable(scan: ScanResult, rules: RuleReport, where: _Where) -> dict[str, Json]:
    """One error for a target without a TLS session, instead of a warning per unknown rule."""
    why = connection_error_text(scan, none="no reason given")
    unknown = sum(1 for finding in rules.findings if finding.status is RuleStatus.UNKNOWN)
    return {
        "level": "error",
        "message": {
            "text": f"{where.url} is unreachable, no TLS session ({why}); {unknown} rules unknown"
        },
        "locations": [where.location()],
    }


def _invocation(started_at: Sequence[str], notifications: list[Json]) -> dict[str, Json]:
    """The one invocation of a run; it started when its first target did."""
    invocation: dict[str, Json] = {"executionSuccessful": True}
    starts = [moment for moment in map(utc_time, started_at) if moment is not None]
    if starts:
        invocation["startTimeUtc"] = min(starts).strftime("%Y-%m-%dT%H:%M:%SZ")
    invocation["toolExecutionNotifications"] = notifications
    return invocation


def _driver(tool_version: str | None, rules: _Rules) -> dict[str, Json]:
    driver: dict[str, Json] = {"name": TOOL_NAME}
    if tool_version is not None:
        driver["version"] = tool_version
    driver["informationUri"] = INFORMATION_URI
    driver["rules"] = rules.descriptors
    return driver


def _target_properties(scan: ScanResult, rules: RuleReport) -> dict[str, Json]:
    return {
        "target": target_url(scan.target),
        "reachable": scan.reachable,
        "score": rules.score,
        "grade": rules.grade,
        "categoryScores": {
            category.value: rules.category_scores[category]
            for category in Category
            if category in rules.category_scores
        },
    }


def _log(run: dict[str, Json]) -> dict[str, Json]:
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def sarif_dict(
    scan: ScanResult, rules: RuleReport, *, artifact_uri: str | None = None
) -> dict[str, Json]:
    """The SARIF log as plain JSON types."""
    where = _where(scan, artifact_uri)
    described = _rules([rules])
    run: dict[str, Json] = {
        "tool": {"driver": _driver(scan.tool_version, described)},
        "invocations": [_invocation([scan.started_at], _notifications(rules, described.index))],
        "language": rules.lang,
        "results": described.results(rules, where),
        "properties": _target_properties(scan, rules),
    }
    return _log(run)


def fleet_dict(entries: Sequence[tuple[ScanResult, RuleReport]]) -> dict[str, Json]:
    """One SARIF log for a fleet, as plain JSON types: one run, every target in list order."""
    described = _rules([rules for _scan, rules in entries])
    results: list[Json] = []
    notifications: list[Json] = []
    targets: list[Json] = []
    for scan, rules in entries:
        where = _where(scan)
        results.extend(described.results(rules, where))
        if scan.reachable:
            notifications.extend(_notifications(rules, described.index, where))
        else:
            notifications.append(_unreachable(scan, rules, where))
        properties = _target_properties(scan, rules)
        if not scan.reachable:
            # Nothing was judged: no grade rather than a clean one (as the fleet summary says).
            properties.update(score=None, grade=None, categoryScores=None)
        targets.append(properties)
    languages = {rules.lang for _scan, rules in entries}
    run: dict[str, Json] = {
        "tool": {"driver": _driver(entries[0][0].tool_version if entries else None, described)},
        "invocations": [_invocation([scan.started_at for scan, _ in entries], notifications)],
    }
    if len(languages) == 1:
        run["language"] = languages.pop()
    run["results"] = results
    run["properties"] = {"targets": targets}
    return _log(run)


def render(scan: ScanResult, rules: RuleReport, *, artifact_uri: str | None = None) -> str:
    """The SARIF log as pretty-printed JSON text ending in a newline."""
    document = sarif_dict(scan, rules, artifact_uri=artifact_uri)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_fleet(entries: Sequence[tuple[ScanResult, RuleReport]]) -> str:
    """The fleet's SARIF log (one run for the whole invocation) as text ending in a newline."""
    return json.dumps(fleet_dict(entries), indent=2, ensure_ascii=False) + "\n"
