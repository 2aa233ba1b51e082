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
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from httpsaudit.report.findings import (
    artifact_path,
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


def _fingerprint(finding: Finding, url: str) -> str:
    return hashlib.sha256(f"{finding.rule_id}\n{url}".encode()).hexdigest()


def _evidence(finding: Finding) -> dict[str, Json]:
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in finding.evidence.items()
    }


def _result(
    finding: Finding, index: int, url: str, name: str, artifact_uri: str
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
    return {
        "ruleId": finding.rule_id,
        "ruleIndex": index,
        "kind": "fail",
        "level": LEVELS[finding.severity],
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri},
                    "region": {"startLine": 1},
                },
                "logicalLocations": [{"name": name, "fullyQualifiedName": url, "kind": "resource"}],
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(finding, url)},
        "properties": properties,
    }


def _notifications(rules: RuleReport) -> list[Json]:
    """Rules that could not be judged (a probe they need failed): the tool says so, not a result."""
    notifications: list[Json] = []
    for index, finding in enumerate(rules.findings):
        if finding.status is RuleStatus.UNKNOWN:
            notifications.append(
                {
                    "level": "warning",
                    "message": {
                        "text": f"{finding.rule_id} {finding.name} is unknown: {finding.reason}"
                    },
                    "associatedRule": {"id": finding.rule_id, "index": index},
                }
            )
    return notifications


def sarif_dict(
    scan: ScanResult, rules: RuleReport, *, artifact_uri: str | None = None
) -> dict[str, Json]:
    """The SARIF log as plain JSON types."""
    url = target_url(scan.target)
    name = host_port(scan.target)
    uri = artifact_uri or artifact_path(scan.target)
    results: list[Json] = [
        _result(finding, index, url, name, uri)
        for index, finding in enumerate(rules.findings)
        if finding.status is RuleStatus.FAILED
    ]
    invocation: dict[str, Json] = {"executionSuccessful": True}
    started = utc_time(scan.started_at)
    if started is not None:
        invocation["startTimeUtc"] = started.strftime("%Y-%m-%dT%H:%M:%SZ")
    invocation["toolExecutionNotifications"] = _notifications(rules)
    run: dict[str, Json] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": scan.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(finding) for finding in rules.findings],
            }
        },
        "invocations": [invocation],
        "language": rules.lang,
        "results": results,
        "properties": {
            "target": url,
            "reachable": scan.reachable,
            "score": rules.score,
            "grade": rules.grade,
            "categoryScores": {
                category.value: rules.category_scores[category]
                for category in Category
                if category in rules.category_scores
            },
        },
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render(scan: ScanResult, rules: RuleReport, *, artifact_uri: str | None = None) -> str:
    """The SARIF log as pretty-printed JSON text ending in a newline."""
    document = sarif_dict(scan, rules, artifact_uri=artifact_uri)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
