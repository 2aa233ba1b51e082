"""The JSON report against its published schema.

Drift between ``httpsaudit/results.py`` and ``report/schema.json`` fails here without any server,
and real scans of loopback lab servers must validate while carrying the exact values measured.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import hashlib
import importlib
import inspect
import json
import re
import socket
import types
import typing
from collections.abc import Callable, Iterator

import jsonschema
import pytest
from cryptography.hazmat.primitives import serialization

from httpsaudit import results as results_module
from httpsaudit.net.dns import ResolverAddress
from httpsaudit.net.raw_hello import AnswerKind
from httpsaudit.probes import PROBES
from httpsaudit.probes import certificate as certificate_probe
from httpsaudit.probes import ocsp as ocsp_probe
from httpsaudit.probes.base import ScanOptions
from httpsaudit.report.json import SCHEMA_VERSION, JsonValue, load_schema, render, report_dict
from httpsaudit.results import (
    ProbeId,
    ResumptionAttempts,
    ResumptionResult,
    ScanResult,
    TicketFacts,
)
from httpsaudit.scan import scan
from httpsaudit.target import parse_address, parse_target
from httpsaudit.tls.codes import CipherSuite
from httpsaudit.tls.suites import SIGNALLING_SUITES, describe_suite
from tests.pki import Issued, TestPKI
from tests.report.test_terminal import (
    DELIVERY_VARIANTS,
    EARLY_DATA_VARIANTS,
    OCSP_VARIANTS,
    RESUMPTION_VARIANTS,
    TICKET_KEY_NAME,
    completed,
    constructed_outcomes,
    failed,
)
from tests.servers import DnsServer, OpenSSLServer, RawBehaviour, RawServer

TLS_1_2 = 0x0303
TLS_1_3 = 0x0304
# A RawServer that never answers holds the handshake until this scan --timeout runs out.
SHORT_TIMEOUT_S = 2.0
# Always present, in this order; "exit_code" follows only when the CLI passes one.
TOP_LEVEL_KEYS = [
    "schema_version",
    "tool",
    "target",
    "started_at",
    "duration_ms",
    "reachable",
    "connections",
    "interrupted",
    "probes",
]

ALL_PROBES = [probe.value for probe in ProbeId]
# The capability probes: every one reaches the report, registered or not.
CAPABILITY_PROBES = [probe for probe in ALL_PROBES if probe not in ("connection", "certificate")]
# scan.py's reason for a probe the registry does not (yet) hold.
NOT_IN_SCAN = "not part of this scan"
# The orchestrator module (``httpsaudit.scan`` the attribute is the scan function).
SCAN_MODULE = importlib.import_module("httpsaudit.scan")

Schema = dict[str, typing.Any]
Document = dict[str, typing.Any]


# -- helpers ------------------------------------------------------------------------------


def visible_fields(cls: type) -> list[str]:
    """Field names the report shows without --debug, in declaration order."""
    return [
        field.name
        for field in dataclasses.fields(cls)
        if field.metadata.get("json", True) is not False
    ]


def _dataclasses_in(annotation: object) -> Iterator[type]:
    origin = typing.get_origin(annotation)
    if origin is not None:
        if isinstance(origin, type) and dataclasses.is_dataclass(origin):
            yield origin
        for argument in typing.get_args(annotation):
            yield from _dataclasses_in(argument)
    elif isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        yield annotation


def reported_dataclasses(root: type) -> dict[str, type]:
    """Every dataclass reachable from ``root`` through field annotations, by class name."""
    found: dict[str, type] = {}
    pending = [root]
    while pending:
        cls = pending.pop()
        if cls.__name__ in found:
            continue
        found[cls.__name__] = cls
        hints = typing.get_type_hints(cls)
        for field in dataclasses.fields(cls):
            pending.extend(_dataclasses_in(hints[field.name]))
    return found


# ScanResult is reshaped at the top level (tool, probes, reachable); every other class is a $def.
REPORTED = {
    name: cls for name, cls in reported_dataclasses(ScanResult).items() if cls is not ScanResult
}


def annotation_json_types(annotation: object) -> set[str]:
    """The JSON types ``report_dict`` can emit for a value of this annotation."""
    if annotation is type(None):
        return {"null"}
    if isinstance(annotation, typing.TypeVar):
        return {"object"}  # ProbeOutcome.result: a probe's result dataclass
    origin = typing.get_origin(annotation)
    if origin is types.UnionType or origin is typing.Union:
        return set().union(*(annotation_json_types(arg) for arg in typing.get_args(annotation)))
    if origin is tuple:
        return {"array"}
    if origin is not None and dataclasses.is_dataclass(origin):
        return {"object"}
    if isinstance(annotation, type):
        # bool before int, and enums by their value's type (StrEnum is a str).
        for python_type, json_type in ((bool, "boolean"), (int, "integer"), (float, "number")):
            if issubclass(annotation, python_type):
                return {json_type}
        if issubclass(annotation, str):
            return {"string"}
        if dataclasses.is_dataclass(annotation):
            return {"object"}
    raise AssertionError(f"no JSON type for annotation {annotation!r}")


def _value_json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    raise AssertionError(f"unexpected literal {value!r} in the schema")


def schema_json_types(node: Schema, defs: Schema) -> set[str]:
    """The JSON types a property schema accepts, following $ref and anyOf."""
    if "$ref" in node:
        return schema_json_types(defs[node["$ref"].removeprefix("#/$defs/")], defs)
    if "anyOf" in node:
        return set().union(*(schema_json_types(option, defs) for option in node["anyOf"]))
    if "type" in node:
        return {node["type"]} if isinstance(node["type"], str) else set(node["type"])
    if "const" in node:
        return {_value_json_type(node["const"])}
    if "enum" in node:
        return {_value_json_type(value) for value in node["enum"]}
    raise AssertionError(f"cannot tell the JSON type of {node!r}")


def assert_valid(validator: jsonschema.Draft202012Validator, document: Document) -> None:
    """Fail with every schema error and where it is, not just the first one."""
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors
    )


def assert_declaration_order(value: object, converted: JsonValue) -> None:
    """Every object's keys are its dataclass's visible fields, in declaration order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        assert isinstance(converted, dict)
        assert list(converted) == visible_fields(type(value))
        for name in converted:
            assert_declaration_order(getattr(value, name), converted[name])
    elif isinstance(value, tuple):
        assert isinstance(converted, list)
        for item, converted_item in zip(value, converted, strict=True):
            assert_declaration_order(item, converted_item)


def ders_sent(issued: Issued) -> list[bytes]:
    return [cert.public_bytes(serialization.Encoding.DER) for cert in issued.chain]


def options(pki: TestPKI, timeout_s: float = 10.0) -> ScanOptions:
    return ScanOptions(ca_file=pki.root_path, timeout_s=timeout_s)


def scan_ip_with_sni(port: int, pki: TestPKI, timeout_s: float = 10.0) -> ScanResult:
    return scan(parse_target(f"127.0.0.1:{port}", sni="localhost"), options(pki, timeout_s))


def document(result: ScanResult, **kwargs: typing.Any) -> Document:
    return typing.cast(Document, report_dict(result, **kwargs))


# -- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> Schema:
    return typing.cast(Schema, load_schema())


@pytest.fixture(scope="module")
def validator(schema: Schema) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@pytest.fixture(scope="module")
def tls13_scan(pki: TestPKI) -> tuple[ScanResult, int]:
    """One scan of a good TLS 1.3 server by IP literal with --sni, shared by read-only tests."""
    with OpenSSLServer(pki.ecdsa_p256) as server:
        return scan_ip_with_sni(server.port, pki), server.port


@pytest.fixture(scope="module")
def tls12_scan(pki: TestPKI) -> tuple[ScanResult, int]:
    """One scan of a TLS 1.2-only server by name, with --connect-to 127.0.0.1."""
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as server:
        target = parse_target(f"localhost:{server.port}", connect_to=(parse_address("127.0.0.1"),))
        return scan(target, options(pki)), server.port


# -- the schema itself --------------------------------------------------------------------


def test_schema_is_valid_draft_2020_12(schema: Schema) -> None:
    # Given the schema shipped inside the package
    # When it is checked against the draft 2020-12 metaschema
    jsonschema.Draft202012Validator.check_schema(schema)
    # Then it is a valid schema for this very report version
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION
    assert schema["required"] == TOP_LEVEL_KEYS


@pytest.mark.parametrize("name", sorted(REPORTED))
def test_schema_def_has_exactly_the_dataclass_fields(name: str, schema: Schema) -> None:
    # Given a dataclass that reaches the report, and its $defs entry
    cls = REPORTED[name]
    definition = schema["$defs"].get(name)
    assert definition is not None, f"schema.json has no $defs/{name}"
    # When its keys are compared with the dataclass fields
    all_fields = [field.name for field in dataclasses.fields(cls)]
    # Then every visible field is required, debug-only fields are the only optional ones,
    # both in declaration order, nothing else is allowed, and the object is documented
    assert definition["required"] == visible_fields(cls)
    assert list(definition["properties"]) == all_fields
    assert definition["additionalProperties"] is False
    assert definition["type"] == "object"
    assert definition["description"]


@pytest.mark.parametrize("name", sorted(REPORTED))
def test_schema_types_match_field_annotations(name: str, schema: Schema) -> None:
    # Given a dataclass that reaches the report
    cls = REPORTED[name]
    hints = typing.get_type_hints(cls)
    properties = schema["$defs"][name]["properties"]
    for field in dataclasses.fields(cls):
        # When the JSON types its annotation can produce are compared with the schema's
        expected = annotation_json_types(hints[field.name])
        accepted = schema_json_types(properties[field.name], schema["$defs"])
        # Then they agree exactly, nullability included
        assert accepted == expected, f"{name}.{field.name}"


def _enum_type(annotation: object) -> tuple[type[enum.Enum], bool] | None:
    """The enum of a field annotated ``E`` or ``E | None``, and whether null is allowed."""
    arguments = typing.get_args(annotation) if typing.get_origin(annotation) else (annotation,)
    enums = [arg for arg in arguments if isinstance(arg, type) and issubclass(arg, enum.Enum)]
    if len(enums) != 1:
        return None
    return enums[0], type(None) in arguments


# Every reported field typed by a Python enum: (class name, field name), found from annotations.
ENUM_FIELDS = [
    (name, field.name)
    for name, cls in sorted(REPORTED.items())
    for field in dataclasses.fields(cls)
    if _enum_type(typing.get_type_hints(cls)[field.name]) is not None
]


def resolve(node: Schema, defs: Schema) -> Schema:
    """A property schema with its $ref (if any) followed to the definition."""
    while "$ref" in node:
        node = defs[node["$ref"].removeprefix("#/$defs/")]
    return node


def property_enum(schema: Schema, definition: str, field_name: str) -> list[typing.Any]:
    node = schema["$defs"][definition]["properties"][field_name]
    return typing.cast(list[typing.Any], resolve(node, schema["$defs"])["enum"])


def test_enum_fields_are_found(schema: Schema) -> None:
    # Given the enum-typed fields found by walking the annotations
    # When they are listed
    # Then the walk found the old ones and the issue-3 Support verdicts (so it can fail)
    for expected in [
        ("ProbeError", "kind"),
        ("ProbeError", "phase"),
        ("ProbeOutcome", "status"),
        ("ProbeOutcome", "probe"),
        ("Flight", "direction"),
        ("VersionSupport", "support"),
        ("DowngradeResult", "fallback_scsv"),
        ("GroupSupport", "tls13"),
        ("GroupSupport", "tls12"),
        ("AlpnResult", "h2"),
        ("AlpnResult", "http11"),
        ("ResumptionAttempts", "support"),
        ("ResumptionResult", "psk_dhe_ke"),
        ("ResumptionResult", "psk_ke"),
        ("EarlyDataResult", "offered"),
        ("EarlyDataResult", "accepted"),
        ("OcspResult", "tls12_stapled"),
        ("OcspResult", "tls13_stapled"),
    ]:
        assert expected in ENUM_FIELDS


@pytest.mark.parametrize(("definition", "field_name"), ENUM_FIELDS, ids=".".join)
def test_schema_enums_match_python_enums(definition: str, field_name: str, schema: Schema) -> None:
    # Given a field typed by a Python enum (optionally nullable)
    found = _enum_type(typing.get_type_hints(REPORTED[definition])[field_name])
    assert found is not None
    enum_type, nullable = found
    # When the schema's enum for it is read (through a shared $def where there is one)
    values = property_enum(schema, definition, field_name)
    # Then it lists exactly the enum's values, in the same order, null last where allowed
    assert values == [member.value for member in enum_type] + ([None] if nullable else [])


# A field comment in results.py that lists the values of a str field: ``# "a" | "b" (note)``,
# maybe after a label (``# RFC 8470: "a" | "b"``); a trailing ``| ...`` means the list is open.
_VALUE_LIST = re.compile(r'"[^"]*"[^"|]*\|\s*"')


def documented_string_fields() -> dict[tuple[str, str], tuple[list[str], bool]]:
    """``(class, field)`` -> (values its comment in results.py lists, whether the list is open)."""
    source = inspect.getsource(results_module)
    lines = source.splitlines()
    found: dict[tuple[str, str], tuple[list[str], bool]] = {}
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef) or node.name not in REPORTED:
            continue
        for statement in node.body:
            if not (
                isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
            ):
                continue
            _code, _hash, comment = lines[statement.lineno - 1].partition("#")
            if _VALUE_LIST.search(comment):
                values = re.findall(r'"([^"]*)"', comment)
                found[node.name, statement.target.id] = (values, comment.rstrip().endswith("..."))
    return found


DOCUMENTED_STRING_FIELDS = documented_string_fields()


def test_documented_string_fields_are_found() -> None:
    # Given the str fields whose comments in results.py list their values
    # When they are listed
    # Then the walk found old ones, open lists, the RFC 8470 verdict and the OCSP values (so
    # it can fail)
    assert DOCUMENTED_STRING_FIELDS["DnsResult", "resolver"] == (["dnspython", "system"], False)
    assert DOCUMENTED_STRING_FIELDS["VerifyProblem", "reason"][1] is True
    assert DOCUMENTED_STRING_FIELDS["EarlyDataResult", "too_early"] == (
        ["425", "held", "served", "rejected", "not_tested"],
        False,
    )
    assert DOCUMENTED_STRING_FIELDS["OcspResponseFacts", "signer"] == (
        ["issuer", "delegated", "unknown"],
        False,
    )
    assert DOCUMENTED_STRING_FIELDS["OcspResult", "revocation_info"] == (
        ["ocsp", "crl", "ocsp+crl", "none"],
        False,
    )


@pytest.mark.parametrize(
    ("definition", "field_name"),
    sorted(DOCUMENTED_STRING_FIELDS),
    ids=[f"{name}.{field}" for name, field in sorted(DOCUMENTED_STRING_FIELDS)],
)
def test_schema_enums_match_documented_string_values(
    definition: str, field_name: str, schema: Schema
) -> None:
    # Given a str field whose comment in results.py lists the values it takes
    documented, open_list = DOCUMENTED_STRING_FIELDS[definition, field_name]
    nullable = type(None) in typing.get_args(
        typing.get_type_hints(REPORTED[definition])[field_name]
    )
    # When the schema's enum (or, for an open list, its pattern) for it is read
    node = resolve(schema["$defs"][definition]["properties"][field_name], schema["$defs"])
    # Then it lists exactly those values in that order (null last where allowed); where the
    # comment's list ends in "...", it accepts at least them
    if open_list and "enum" not in node:
        assert all(re.search(node["pattern"], value) for value in documented)
    elif open_list:
        assert set(documented) <= set(node["enum"])
    else:
        assert node["enum"] == documented + ([None] if nullable else [])


def test_ocsp_status_enums_are_rfc_6960s(schema: Schema) -> None:
    # Given the OCSP status fields, whose comments in results.py list their values unquoted
    # (so the walk above does not see them)
    # When the schema's enums for them are read
    # Then the response status is RFC 6960 §4.2.1's OCSPResponseStatus (value 4 is unused),
    # then the probe's word for bytes that are no OCSPResponse, and the certificate status is
    # §2.2's, null where the response carries none
    assert property_enum(schema, "OcspResponseFacts", "response_status") == [
        "successful",
        "malformed_request",
        "internal_error",
        "try_later",
        "sig_required",
        "unauthorized",
        ocsp_probe.UNPARSEABLE,
    ]
    assert property_enum(schema, "OcspResponseFacts", "cert_status") == [
        "good",
        "revoked",
        "unknown",
        None,
    ]


def test_hello_answer_enum_matches_the_raw_hello_answer_kinds(schema: Schema) -> None:
    # Given the ways net/raw_hello.py says a server answered a hello (VersionSupport.answer)
    # When the schema's enum for that field is read
    # Then they are the same list: a new answer kind must reach the schema
    expected = [kind.value for kind in AnswerKind]
    assert property_enum(schema, "VersionSupport", "answer") == expected


@pytest.mark.parametrize("field_name", ["key_exchange", "authentication", "encryption", "mode"])
def test_suite_fact_enums_cover_every_known_suite(field_name: str, schema: Schema) -> None:
    # Given every cipher suite tls/suites.py can describe
    facts = [describe_suite(code) for code in CipherSuite if code not in SIGNALLING_SUITES]
    described = {getattr(fact, field_name) for fact in facts if fact is not None}
    # When the schema's enum for that CipherSuiteInfo field is read
    values = set(property_enum(schema, "CipherSuiteInfo", field_name))
    # Then they are the same set: no value the probe can emit is rejected, none is dead
    assert values == described


def test_every_ref_names_a_definition_and_every_definition_is_used(schema: Schema) -> None:
    # Given every $ref anywhere in the schema
    def refs(node: object) -> typing.Iterator[str]:
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    named = {ref.removeprefix("#/$defs/") for ref in refs(schema)}
    # When they are compared with the $defs
    # Then none dangles (jsonschema would only notice when a report reaches it) and none is dead
    assert named - set(schema["$defs"]) == set()
    assert set(schema["$defs"]) - named == set()


def test_probes_object_lists_every_probe_in_report_order(schema: Schema) -> None:
    # Given the probe ids in the order reports list them, and ScanResult's outcome types
    hints = typing.get_type_hints(ScanResult)
    # When the schema's probes object is read
    probes = schema["properties"]["probes"]
    # Then each probe is required, in that order, with its own outcome type whose result is
    # exactly the dataclass ScanResult declares for it (or null)
    assert probes["required"] == ALL_PROBES
    assert list(probes["properties"]) == ALL_PROBES
    for probe_id in ALL_PROBES:
        outcome = schema["$defs"][probes["properties"][probe_id]["$ref"].split("/")[-1]]
        assert outcome["$ref"] == "#/$defs/ProbeOutcome"
        assert outcome["description"]
        assert outcome["properties"]["probe"]["const"] == probe_id
        (result_type,) = typing.get_args(hints[probe_id])
        assert outcome["properties"]["result"] == {
            "anyOf": [{"$ref": f"#/$defs/{result_type.__name__}"}, {"type": "null"}]
        }


def test_resumption_mechanisms_are_the_result_fields_that_hold_attempts(schema: Schema) -> None:
    # Given the ResumptionResult fields that hold one mechanism's attempts, and those that
    # hold one version's ticket facts
    hints = typing.get_type_hints(ResumptionResult)
    fields = [field.name for field in dataclasses.fields(ResumptionResult)]
    mechanisms = [name for name in fields if hints[name] is ResumptionAttempts]
    tickets = [name for name in fields if hints[name] == TicketFacts | None]
    defs = schema["$defs"]
    properties = defs["ResumptionResult"]["properties"]
    # When the schema's mechanism enum and each field's narrowing are read
    # Then the enum names exactly those fields (ResumptionAttempts.mechanism and
    # CrossAddressResumption.mechanism share it), each field allows only its own mechanism,
    # and each tickets field only its own version
    assert (
        defs["ResumptionMechanism"]["enum"]
        == mechanisms
        == ["session_id", "session_ticket", "tls13_psk"]
    )
    for definition in ("ResumptionAttempts", "CrossAddressResumption"):
        assert defs[definition]["properties"]["mechanism"] == {
            "$ref": "#/$defs/ResumptionMechanism"
        }
    for name in mechanisms:
        assert properties[name]["$ref"] == "#/$defs/ResumptionAttempts"
        assert properties[name]["properties"] == {"mechanism": {"const": name}}
    versions = [properties[name]["anyOf"][0]["properties"]["version"]["const"] for name in tickets]
    assert tickets == ["tls12_tickets", "tls13_tickets"]
    assert (
        versions == defs["TicketFacts"]["properties"]["version"]["enum"] == ["TLSv1.2", "TLSv1.3"]
    )


def test_every_verify_reason_the_certificate_probe_names_is_in_the_schema(
    schema: Schema,
) -> None:
    # Given the X509_V_ERR codes the certificate probe explains in plain words
    reasons = {reason for reason, _message in certificate_probe._VERIFY_REASONS.values()}
    # When the schema's VerifyProblem.reason enum is read
    enum = set(schema["$defs"]["VerifyProblem"]["properties"]["reason"]["enum"])
    # Then a report can never carry a reason the schema rejects
    assert reasons <= enum


# -- real scans ---------------------------------------------------------------------------


def test_tls13_report_validates_with_exact_values(
    tls13_scan: tuple[ScanResult, int],
    pki: TestPKI,
    validator: jsonschema.Draft202012Validator,
) -> None:
    # Given a scan of a TLS 1.3 server by IP literal with SNI "localhost"
    result, port = tls13_scan
    # When the report is built as the CLI would for a clean scan
    report = document(result, exit_code=0)
    # Then it validates and says what happened, key by key
    assert_valid(validator, report)
    assert list(report) == [*TOP_LEVEL_KEYS, "exit_code"]
    assert report["schema_version"] == "1.2"
    assert report["tool"] == {"name": "httpsaudit", "version": result.tool_version}
    assert report["target"] == {
        "input": f"127.0.0.1:{port}",
        "host": "127.0.0.1",
        "port": port,
        "path": "/",
        "sni": "localhost",
        "connect_to": [],
    }
    assert report["reachable"] is True
    assert report["exit_code"] == 0
    assert list(report["probes"]) == ALL_PROBES

    connection = report["probes"]["connection"]
    assert connection["status"] == "completed"
    assert connection["error"] is None
    assert connection["skip_reason"] is None
    assert connection["connections"] == 1
    assert "traceback" not in connection
    measured = connection["result"]
    assert measured["dns"] is None  # an IP literal is never resolved
    assert measured["tcp"]["address"] == "127.0.0.1"
    assert measured["tcp"]["port"] == port
    assert measured["tcp"]["failed_addresses"] == []
    assert measured["rtt_estimate_ms"] == measured["tcp"]["duration_ms"]
    tls = measured["tls"]
    assert tls["version"] == "TLSv1.3"
    assert tls["version_code"] == TLS_1_3
    assert tls["round_trips"] == 1
    assert tls["hello_retry_request"] is False
    assert tls["sni"] == "localhost"
    assert tls["certificate_message_bytes"] is None  # encrypted in TLS 1.3
    assert [flight["direction"] for flight in tls["flights"]] == ["client", "server", "client"]
    assert tls["flights"][0]["messages"] == ["ClientHello"]
    assert tls["client_hello_bytes"] == tls["flights"][0]["wire_bytes"]
    assert measured["http"]["status"] == 200
    assert measured["http"]["method"] == "GET"
    assert measured["http"]["path"] == "/"
    assert measured["http_error"] is None
    assert measured["peer_certificates"] == {"verify_errors": [], "trust_store": "system+ca-file"}
    assert measured["samples"] == [
        {
            "dns_ms": None,
            "tcp_ms": measured["tcp"]["duration_ms"],
            "tls_ms": tls["handshake_ms"],
            "ttfb_ms": measured["http"]["ttfb_ms"],
            "total_ms": measured["samples"][0]["total_ms"],
        }
    ]
    assert [stats["phase"] for stats in measured["stats"]] == ["tcp", "tls", "ttfb", "total"]
    assert all(stats["samples"] == 1 for stats in measured["stats"])
    assert measured["sample_errors"] == []

    chain = report["probes"]["certificate"]
    assert chain["status"] == "completed"
    assert chain["connections"] == 0  # it reads the chain the timed connection captured
    ders = ders_sent(pki.ecdsa_p256)
    leaf = chain["result"]["certificates"][0]
    assert leaf["position"] == 0
    assert leaf["key_type"] == "ECDSA"
    assert leaf["key_bits"] == 256
    assert leaf["key_curve"] == "P-256"
    assert leaf["key_description"] == "ECDSA P-256"
    assert leaf["sha256_fingerprint"] == hashlib.sha256(ders[0]).hexdigest()
    assert leaf["der_bytes"] == len(ders[0])
    assert [cert["is_ca"] for cert in chain["result"]["certificates"]] == [False, True]
    assert chain["result"]["chain_der_bytes"] == sum(pki.ecdsa_p256.chain_der_sizes)
    assert chain["result"]["leaf"]["name_checked"] == "localhost"
    assert chain["result"]["leaf"]["name_matches"] is True
    assert chain["result"]["verification"] == {
        "trusted": True,
        "name_matches": True,
        "problems": [],
        "trust_store": "system+ca-file",
    }


def test_tls12_report_validates_with_exact_values(
    tls12_scan: tuple[ScanResult, int], validator: jsonschema.Draft202012Validator
) -> None:
    # Given a scan of a TLS 1.2-only server by name, connecting to 127.0.0.1
    result, port = tls12_scan
    # When the report is built
    report = document(result)
    # Then it validates, has no exit_code, and shows the two-round-trip handshake
    assert_valid(validator, report)
    assert list(report) == TOP_LEVEL_KEYS
    assert report["target"]["host"] == "localhost"
    assert report["target"]["sni"] == "localhost"
    assert report["target"]["connect_to"] == ["127.0.0.1"]
    assert report["reachable"] is True
    connection = report["probes"]["connection"]
    assert connection["status"] == "completed"
    assert connection["result"]["dns"] is None  # --connect-to an IP skips resolution
    assert connection["result"]["tcp"]["port"] == port
    tls = connection["result"]["tls"]
    assert tls["version"] == "TLSv1.2"
    assert tls["version_code"] == TLS_1_2
    assert tls["round_trips"] == 2
    assert tls["cipher_suite"].startswith("TLS_ECDHE_ECDSA_WITH_")
    assert [flight["direction"] for flight in tls["flights"]] == [
        "client",
        "server",
        "client",
        "server",
    ]
    # In TLS 1.2 the Certificate message travels in the clear, so both probes agree exactly.
    certificate_result = report["probes"]["certificate"]["result"]
    assert isinstance(tls["certificate_message_bytes"], int)
    assert certificate_result["certificate_message_bytes"] == tls["certificate_message_bytes"]


def test_debug_report_adds_ders_and_traceback_and_still_validates(
    tls13_scan: tuple[ScanResult, int],
    pki: TestPKI,
    validator: jsonschema.Draft202012Validator,
) -> None:
    # Given one scan
    result, _port = tls13_scan
    # When it is reported with and without --debug
    plain = document(result)
    debug = document(result, debug=True)
    # Then only the debug report carries the raw chain (hex DER, leaf first) and tracebacks
    assert_valid(validator, debug)
    plain_peer = plain["probes"]["connection"]["result"]["peer_certificates"]
    debug_peer = debug["probes"]["connection"]["result"]["peer_certificates"]
    assert "ders" not in plain_peer
    assert debug_peer["ders"] == [der.hex() for der in ders_sent(pki.ecdsa_p256)]
    for probe_id in ALL_PROBES:
        assert "traceback" not in plain["probes"][probe_id]
        assert debug["probes"][probe_id]["traceback"] is None
    # ... and everything else is the same
    del debug_peer["ders"]
    for probe_id in ALL_PROBES:
        del debug["probes"][probe_id]["traceback"]
    assert debug == plain


def test_dns_resolution_is_reported_per_query(
    pki: TestPKI, validator: jsonschema.Draft202012Validator
) -> None:
    # Given a loopback DNS server that knows lab.test only as an A record
    records = {"lab.test": [("A", "127.0.0.1")]}
    with DnsServer(records, ttl=60) as dns_server, OpenSSLServer(pki.ecdsa_p256) as server:
        resolver = ResolverAddress("127.0.0.1", dns_server.port)
        # When lab.test is scanned through that resolver
        result = scan(
            parse_target(f"lab.test:{server.port}"),
            ScanOptions(ca_file=pki.root_path, timeout_s=10, resolver=resolver),
        )
    report = document(result)
    # Then the report validates and shows each DNS question and its answer
    assert_valid(validator, report)
    measured = report["probes"]["connection"]["result"]
    answered_by = f"127.0.0.1:{dns_server.port}"
    assert measured["dns"] == {
        "name": "lab.test",
        "resolver": "dnspython",
        "server": answered_by,
        "addresses": ["127.0.0.1"],
        "cname_chain": [],
        "ttl_s": 60,
        "duration_ms": measured["dns"]["duration_ms"],
        "queries": [
            {
                "record_type": "A",
                "status": "answer",
                "addresses": ["127.0.0.1"],
                "ttl_s": 60,
                "duration_ms": measured["dns"]["queries"][0]["duration_ms"],
                "server": answered_by,
            },
            {
                "record_type": "AAAA",
                "status": "nodata",
                "addresses": [],
                "ttl_s": None,
                "duration_ms": measured["dns"]["queries"][1]["duration_ms"],
                "server": answered_by,
            },
        ],
        "note": None,
    }
    assert measured["samples"][0]["dns_ms"] == measured["dns"]["duration_ms"]
    assert [stats["phase"] for stats in measured["stats"]] == ["dns", "tcp", "tls", "ttfb", "total"]
    assert report["probes"]["certificate"]["result"]["verification"]["trusted"] is True


@pytest.mark.parametrize(
    ("leaf_name", "reason", "openssl_code"),
    [
        ("expired", "expired", 10),
        ("self_signed", "self_signed", 18),
        ("missing_intermediate", "missing_intermediate", 20),
        ("wrong_name", "name_mismatch", None),
    ],
)
def test_untrusted_chain_reports_a_verify_problem(
    leaf_name: str,
    reason: str,
    openssl_code: int | None,
    pki: TestPKI,
    validator: jsonschema.Draft202012Validator,
) -> None:
    # Given a server whose certificate a client would reject
    with OpenSSLServer(getattr(pki, leaf_name)) as server:
        # When it is scanned
        result = scan_ip_with_sni(server.port, pki)
    report = document(result)
    # Then the handshake still completes and the one problem is named, with its code
    assert_valid(validator, report)
    assert report["probes"]["connection"]["status"] == "completed"
    verification = report["probes"]["certificate"]["result"]["verification"]
    assert verification["trusted"] is False
    assert [(p["reason"], p["depth"], p["openssl_code"]) for p in verification["problems"]] == [
        (reason, 0, openssl_code)
    ]
    if leaf_name == "expired":
        assert report["probes"]["certificate"]["result"]["certificates"][0]["days_left"] < 0


def test_refused_port_fails_in_tcp_and_skips_the_certificate(
    pki: TestPKI, validator: jsonschema.Draft202012Validator
) -> None:
    # Given a loopback port nothing listens on any more
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # When it is scanned
    result = scan_ip_with_sni(port, pki)
    report = document(result, exit_code=3)
    # Then the report validates, the connection failed in TCP, and nothing else ran
    assert_valid(validator, report)
    assert report["reachable"] is False
    assert list(report["probes"]) == ALL_PROBES
    connection = report["probes"]["connection"]
    assert connection["status"] == "failed"
    assert connection["error"]["kind"] == "connect"
    assert connection["error"]["phase"] == "tcp"
    assert connection["connections"] == 1
    assert connection["result"]["tcp"] is None
    assert connection["result"]["tls"] is None
    assert connection["result"]["rtt_estimate_ms"] is None
    assert connection["result"]["stats"] == []
    certificate = report["probes"]["certificate"]
    assert certificate["status"] == "skipped"
    assert certificate["result"] is None
    assert certificate["error"] is None
    assert isinstance(certificate["skip_reason"], str)


@pytest.mark.parametrize(
    ("behaviour", "kind"),
    [
        ("garbage", "protocol"),
        ("http", "protocol"),
        ("truncated", "connection_lost"),
        ("silent", "timeout"),
    ],
)
def test_broken_tls_peer_fails_in_tls_after_tcp_connected(
    behaviour: RawBehaviour,
    kind: str,
    pki: TestPKI,
    validator: jsonschema.Draft202012Validator,
) -> None:
    # Given a TCP server that accepts but does not speak TLS properly
    with RawServer(behaviour) as server:
        # When it is scanned with a short --timeout (the silent one never answers)
        result = scan_ip_with_sni(server.port, pki, timeout_s=SHORT_TIMEOUT_S)
    report = document(result, exit_code=3)
    # Then the report validates and keeps the TCP connect measured before TLS failed
    assert_valid(validator, report)
    assert report["reachable"] is False
    connection = report["probes"]["connection"]
    assert connection["status"] == "failed"
    assert connection["error"]["kind"] == kind
    assert connection["error"]["phase"] == "tls"
    assert connection["result"]["tcp"]["address"] == "127.0.0.1"
    assert connection["result"]["tcp"]["port"] == server.port
    assert connection["result"]["tls"] is None
    assert connection["result"]["peer_certificates"] is None
    assert [stats["phase"] for stats in connection["result"]["stats"]] == ["tcp"]
    assert report["probes"]["certificate"]["status"] == "skipped"


# -- capability probes --------------------------------------------------------------------


def test_probes_outside_the_registry_are_skipped_with_a_reason(
    pki: TestPKI, validator: jsonschema.Draft202012Validator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a registry holding only the connection and certificate probes
    registry = {
        probe_id: PROBES[probe_id] for probe_id in (ProbeId.CONNECTION, ProbeId.CERTIFICATE)
    }
    monkeypatch.setattr(SCAN_MODULE, "PROBES", registry)
    with OpenSSLServer(pki.ecdsa_p256) as server:
        # When a good TLS 1.3 server is scanned
        result = scan_ip_with_sni(server.port, pki)
    report = document(result)
    # Then the report validates and still lists every probe, each capability probe skipped
    # with its reason, no result, no error and no connection
    assert_valid(validator, report)
    assert list(report["probes"]) == ALL_PROBES
    assert report["probes"]["connection"]["status"] == "completed"
    assert report["probes"]["certificate"]["status"] == "completed"
    for probe_id in CAPABILITY_PROBES:
        assert report["probes"][probe_id] == {
            "probe": probe_id,
            "status": "skipped",
            "result": None,
            "error": None,
            "skip_reason": NOT_IN_SCAN,
            "connections": 0,
            "duration_ms": 0.0,
        }


def test_full_scan_validates_whatever_probes_are_registered(
    tls13_scan: tuple[ScanResult, int], validator: jsonschema.Draft202012Validator
) -> None:
    # Given a full scan of a good TLS 1.3 server (ECDSA P-256) with today's registry
    result, _port = tls13_scan
    # When the report is built
    report = document(result)
    # Then it validates; every registered probe completed with a result, and every other one
    # says it was not part of this scan
    assert_valid(validator, report)
    for probe_id in ALL_PROBES:
        outcome = report["probes"][probe_id]
        if ProbeId(probe_id) in PROBES:
            assert outcome["status"] == "completed", (probe_id, outcome["error"])
            assert isinstance(outcome["result"], dict)
        else:
            assert (outcome["status"], outcome["skip_reason"]) == ("skipped", NOT_IN_SCAN)


def test_real_capability_results_differ_between_tls13_and_tls12_only_servers(
    tls13_scan: tuple[ScanResult, int],
    tls12_scan: tuple[ScanResult, int],
    validator: jsonschema.Draft202012Validator,
) -> None:
    # Given full scans of the same s_server with and without TLS 1.3
    # When both are reported
    reports = [document(result) for result, _port in (tls13_scan, tls12_scan)]
    # Then both validate and carry what each server is, probe by probe
    for report in reports:
        assert_valid(validator, report)
    with_tls13, tls12_only = (report["probes"] for report in reports)
    assert _result_of(with_tls13, "versions")["supported"] == ["TLSv1.2", "TLSv1.3"]
    assert _result_of(tls12_only, "versions")["supported"] == ["TLSv1.2"]
    assert _result_of(with_tls13, "downgrade") == {
        "fallback_scsv": "supported",
        "fallback_scsv_answer": "alert inappropriate_fallback",
        "downgrade_sentinel": True,
    }
    assert _result_of(tls12_only, "downgrade")["fallback_scsv"] == "not_tested"
    assert _result_of(with_tls13, "groups")["browser_hello_group"] == "x25519"
    assert _result_of(with_tls13, "groups")["browser_hello_retry"] is False
    assert _result_of(tls12_only, "groups")["browser_hello_group"] is None
    assert _result_of(with_tls13, "false_start")["moot"] is True
    assert _result_of(tls12_only, "false_start")["moot"] is False
    for probes in (with_tls13, tls12_only):
        assert _result_of(probes, "key_exchange")["kind"] == "ECDHE"
        assert _result_of(probes, "alpn") == {
            "h2": "not_supported",
            "http11": "not_supported",
            "selected_for_browser_offer": None,
        }
    assert _result_of(with_tls13, "http3_hints")["dns_status"] == "not_queried"  # IP literal


def _result_of(probes: Document, probe_id: str) -> Document:
    """A probe's result, after checking that the probe completed."""
    assert probes[probe_id]["status"] == "completed", probes[probe_id]["error"]
    return typing.cast(Document, probes[probe_id]["result"])


@pytest.fixture(scope="module")
def constructed_scan(tls13_scan: tuple[ScanResult, int]) -> ScanResult:
    """The real scan with every capability probe completed as constructed by hand."""
    result, _port = tls13_scan
    return dataclasses.replace(result, **constructed_outcomes())


def test_completed_capability_results_validate_with_exact_values(
    constructed_scan: ScanResult, validator: jsonschema.Draft202012Validator
) -> None:
    # Given every capability probe completed (constructed results, the shape probes produce)
    # When the report is built
    report = document(constructed_scan)
    # Then it validates, keys follow declaration order, and values come out as JSON types
    assert_valid(validator, report)
    for outcome in constructed_scan.outcomes():
        assert_declaration_order(outcome, report["probes"][outcome.probe.value])
    probes = report["probes"]
    assert probes["versions"]["connections"] == 7
    assert probes["versions"]["result"]["versions"][4] == {
        "version": "TLSv1.3",
        "version_code": TLS_1_3,
        "support": "supported",
        "answer": "hello_retry_request",
        "server_version_code": TLS_1_3,
        "alert": None,
        "cipher_suite": "TLS_AES_256_GCM_SHA384",
    }
    assert probes["downgrade"]["result"] == {
        "fallback_scsv": "supported",
        "fallback_scsv_answer": "alert inappropriate_fallback",
        "downgrade_sentinel": True,
    }
    assert probes["cipher_suites"]["result"]["versions"][1]["accepted"][0] == {
        "name": "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        "code": 0xC02C,
        "key_exchange": "ECDHE",
        "authentication": "ECDSA",
        "encryption": "AES-256-GCM",
        "mode": "AEAD",
        "encryption_bits": 256,
        "forward_secret": True,
    }
    assert probes["groups"]["result"]["groups"][0] == {
        "group": "X25519MLKEM768",
        "code": 0x11EC,
        "tls13": "not_supported",
        "tls12": "not_tested",
    }
    assert probes["http3_hints"]["result"]["https_records"] == [
        {
            "priority": 1,
            "target": ".",
            "alpn": ["h3", "h2"],
            "port": 8443,
            "ipv4hint": ["127.0.0.1"],
            "ipv6hint": [],
            "ech": True,
        }
    ]
    assert probes["client_simulation"]["result"]["clients"][3] == {
        "client": "Java 6",
        "version": None,
        "cipher_suite": None,
        "group": None,
        "alpn": None,
        "hello_retry_request": False,
        "round_trips": None,
        "failure": "alert handshake_failure: no suite in common",
    }
    resumption = probes["resumption"]
    assert resumption["connections"] == 23
    assert resumption["result"]["session_ticket"] == {
        "mechanism": "session_ticket",
        "support": "supported",
        "attempts": 5,
        "resumed": 5,
        "resumption_rate": 1.0,
        "full_handshake_ms": 2.38,
        "resumed_handshake_ms": 0.95,
        "saved_ms": 1.43,
        "full_round_trips": 2,
        "resumed_round_trips": 1,
        "server_flight_bytes_full": 1342,
        "server_flight_bytes_resumed": 335,
        "note": None,
    }
    assert resumption["result"]["tls13_tickets"] == {
        "version": "TLSv1.3",
        "tickets_seen": 12,
        "tickets_per_connection": 2,
        "lifetime_hint_s": 300,
        "ticket_bytes": 208,
        "key_names": [TICKET_KEY_NAME],
        "single_key_name": True,
        "reissued_on_resumption": None,
        "max_early_data_bytes": 0,
    }
    assert resumption["result"]["psk_dhe_ke"] == "supported"
    assert resumption["result"]["psk_ke"] == "not_supported"
    assert resumption["result"]["addresses"] == []
    assert resumption["result"]["cross_address"] == []
    early_data = probes["early_data"]
    assert early_data["connections"] == 9
    assert {key: early_data["result"][key] for key in list(early_data["result"])[:5]} == {
        "offered": "supported",
        "max_early_data_bytes": 16384,
        "accepted": "supported",
        "method": "GET",
        "status": 200,
    }
    assert early_data["result"]["timing"] == {
        "full_handshake_ms": 2.41,
        "full_round_trips": 2,
        "resumed_ms": 1.95,
        "resumed_round_trips": 2,
        "zero_rtt_ms": 1.02,
        "zero_rtt_round_trips": 1,
    }
    served = {"tested": True, "early_data_accepted": True, "served": True, "status": 200}
    for check in ("ticket_reuse", "exact_replay"):
        assert early_data["result"][check] == {**served, "note": None}
    assert early_data["result"]["too_early"] == "not_tested"
    assert early_data["result"]["too_early_status"] is None
    assert early_data["result"]["engine_flights"][2] == {
        "direction": "client",
        "messages": ["ChangeCipherSpec", "Finished"],
        "wire_bytes": 80,
        "records": 2,
        "start_ms": 1.69,
        "end_ms": 1.69,
    }
    assert early_data["result"]["engine_handshake_ms"] == 1.71
    assert early_data["result"]["reference_handshake_ms"] == 1.78
    ocsp = probes["ocsp"]
    assert ocsp["connections"] == 3
    assert {key: value for key, value in ocsp["result"].items() if key != "response"} == {
        "ocsp_urls": ["http://ocsp.lab.test/"],
        "crl_urls": ["http://crl.lab.test/intermediate.crl"],
        "revocation_info": "ocsp+crl",
        "tls12_stapled": "supported",
        "tls13_stapled": "supported",
        "connections_tried": 3,
        "first_stapled_connection": 1,
        "must_staple": False,
        "must_staple_violated": False,
    }
    assert ocsp["result"]["response"] == {
        "response_bytes": 283,
        "response_status": "successful",
        "cert_status": "good",
        "revocation_time": None,
        "revocation_reason": None,
        "serial_matches": True,
        "issuer_key_hash_matches": True,
        "signature_valid": True,
        "signer": "issuer",
        "delegated_ocsp_signing": None,
        "produced_at": "2026-11-27T05:55:11+00:00",
        "this_update": "2026-11-27T04:55:11+00:00",
        "next_update": "2026-12-04T05:55:11+00:00",
        "age_s": 3600,
        "expires_in_s": 604800,
        "stale": False,
        "problems": [],
    }
    delivery = probes["certificate_delivery"]
    assert delivery["connections"] == 2
    assert delivery["result"]["chain"] == {
        "certificates": 2,
        "chain_der_bytes": 1218,
        "certificate_message_bytes": 1236,
        "server_first_flight_bytes": 1594,
        "initial_window_bytes": 14600,
        "exceeds_initial_window": False,
        "root_included": False,
        "duplicates": [],
        "order_ok": True,
        "order_problems": [],
        "missing_intermediate": False,
        "ca_issuers_urls": ["http://ca.lab.test/intermediate.der"],
    }
    assert delivery["result"]["key_costs"][0] == {
        "key_description": "ECDSA P-256",
        "is_leaf": True,
        "public_key_bytes": 91,
        "signature_bytes": 72,
        "verify_us": 60.9,
    }
    assert [cost["is_leaf"] for cost in delivery["result"]["key_costs"]] == [True] + [False] * 3
    assert delivery["result"]["dual_certificates"] == {
        "ecdsa_certificate": "ECDSA P-256",
        "rsa_certificate": None,
        "dual": False,
        "version": "TLSv1.3",
    }
    assert delivery["result"]["hygiene"] == {
        "days_left": 89,
        "lifetime_days": 91,
        "max_lifetime_days": 200,
        "exceeds_max_lifetime": False,
        "sha1_signatures": [],
        "weak_keys": [],
        "name_matches": True,
    }


@pytest.mark.parametrize("name", sorted(RESUMPTION_VARIANTS))
def test_every_constructed_resumption_result_validates(
    name: str, constructed_scan: ScanResult, validator: jsonschema.Draft202012Validator
) -> None:
    # Given a constructed resumption result (not tested mechanisms, null facts, matrices with
    # set-up failures), completed and as the partial result of a failed probe
    variant = RESUMPTION_VARIANTS[name]
    for outcome in (completed(ProbeId.RESUMPTION, variant), failed(ProbeId.RESUMPTION, variant)):
        # When it is reported
        report = document(dataclasses.replace(constructed_scan, resumption=outcome))
        # Then it validates, keys in declaration order
        assert_valid(validator, report)
        assert_declaration_order(outcome, report["probes"]["resumption"])


@pytest.mark.parametrize("name", sorted(EARLY_DATA_VARIANTS))
def test_every_constructed_early_data_result_validates(
    name: str, constructed_scan: ScanResult, validator: jsonschema.Draft202012Validator
) -> None:
    # Given a constructed early data result (replays served, rejected or not tested, 0-RTT not
    # offered or not accepted, RFC 8470 answered 425), completed and as a failed probe's part
    variant = EARLY_DATA_VARIANTS[name]
    for outcome in (completed(ProbeId.EARLY_DATA, variant), failed(ProbeId.EARLY_DATA, variant)):
        # When it is reported
        report = document(dataclasses.replace(constructed_scan, early_data=outcome))
        # Then it validates, keys in declaration order
        assert_valid(validator, report)
        assert_declaration_order(outcome, report["probes"]["early_data"])


@pytest.mark.parametrize("name", sorted(OCSP_VARIANTS))
def test_every_constructed_ocsp_result_validates(
    name: str, constructed_scan: ScanResult, validator: jsonschema.Draft202012Validator
) -> None:
    # Given a constructed OCSP result (good, lazy and delegated, revoked, stale, wrongly
    # signed, an error response, must-staple violated, no revocation information), completed
    # and as the partial result of a failed probe
    variant = OCSP_VARIANTS[name]
    for outcome in (completed(ProbeId.OCSP, variant), failed(ProbeId.OCSP, variant)):
        # When it is reported
        report = document(dataclasses.replace(constructed_scan, ocsp=outcome))
        # Then it validates, keys in declaration order
        assert_valid(validator, report)
        assert_declaration_order(outcome, report["probes"]["ocsp"])


@pytest.mark.parametrize("name", sorted(DELIVERY_VARIANTS))
def test_every_constructed_certificate_delivery_result_validates(
    name: str, constructed_scan: ScanResult, validator: jsonschema.Draft202012Validator
) -> None:
    # Given a constructed certificate delivery result (the lab chain, an oversized chain with
    # the root and a duplicate, a missing intermediate, dual certificates, a weak SHA-1 leaf),
    # completed and as the partial result of a failed probe
    variant = DELIVERY_VARIANTS[name]
    probe_id = ProbeId.CERTIFICATE_DELIVERY
    for outcome in (completed(probe_id, variant), failed(probe_id, variant)):
        # When it is reported
        report = document(dataclasses.replace(constructed_scan, certificate_delivery=outcome))
        # Then it validates, keys in declaration order
        assert_valid(validator, report)
        assert_declaration_order(outcome, report["probes"]["certificate_delivery"])


def _result(report: Document, probe_id: str) -> Document:
    return typing.cast(Document, report["probes"][probe_id]["result"])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(
            lambda report: _result(report, "versions")["versions"][0].update(support="yes"),
            id="support-not-a-verdict",
        ),
        pytest.param(
            lambda report: _result(report, "versions")["versions"][0].update(answer="refused"),
            id="unknown-hello-answer",
        ),
        pytest.param(
            lambda report: _result(report, "cipher_suites")["versions"][0].update(
                preference="random"
            ),
            id="unknown-preference",
        ),
        pytest.param(
            lambda report: _result(report, "cipher_suites")["versions"][0]["accepted"][0].pop(
                "mode"
            ),
            id="suite-missing-mode",
        ),
        pytest.param(
            lambda report: _result(report, "groups")["groups"][0].update(code=70000),
            id="group-code-over-16-bits",
        ),
        pytest.param(
            lambda report: _result(report, "key_exchange").update(kind="ECDH"),
            id="unknown-key-exchange",
        ),
        pytest.param(
            lambda report: _result(report, "http3_hints").update(dns_status="refused"),
            id="unknown-dns-status",
        ),
        pytest.param(
            lambda report: _result(report, "client_simulation")["clients"][0].update(extra=1),
            id="extra-key-in-client",
        ),
        pytest.param(
            lambda report: report["probes"]["alpn"].update(probe="http3_hints"),
            id="outcome-under-another-probe",
        ),
        pytest.param(
            lambda report: report["probes"]["alpn"].update(
                status="skipped", skip_reason="not part of this scan"
            ),
            id="skipped-with-result",
        ),
        pytest.param(
            lambda report: report["probes"]["false_start"].update(
                result=report["probes"]["alpn"]["result"]
            ),
            id="result-of-another-probe",
        ),
        pytest.param(lambda report: report["probes"].pop("groups"), id="probe-missing"),
        pytest.param(
            lambda report: _result(report, "resumption")["session_id"].update(
                mechanism="session_ticket"
            ),
            id="attempts-under-another-mechanism",
        ),
        pytest.param(
            lambda report: _result(report, "resumption")["tls13_psk"].update(mechanism="tls12_psk"),
            id="unknown-mechanism",
        ),
        pytest.param(
            lambda report: _result(report, "resumption")["session_id"].update(
                resumption_rate=100.0
            ),
            id="rate-as-percent",
        ),
        pytest.param(
            lambda report: _result(report, "resumption")["session_id"].update(attempts=-1),
            id="negative-attempts",
        ),
        pytest.param(
            lambda report: _result(report, "resumption")["tls12_tickets"].update(version="TLSv1.3"),
            id="tls13-facts-as-tls12-tickets",
        ),
        pytest.param(
            lambda report: _result(report, "resumption")["tls13_tickets"].update(
                key_names=[TICKET_KEY_NAME.upper()]
            ),
            id="key-name-not-lowercase-hex",
        ),
        pytest.param(
            lambda report: _result(report, "resumption")["tls13_tickets"].update(
                key_names=[TICKET_KEY_NAME, TICKET_KEY_NAME]
            ),
            id="key-name-repeated",
        ),
        pytest.param(
            lambda report: _result(report, "resumption")["tls13_tickets"].update(
                lifetime_hint_s=-1
            ),
            id="negative-lifetime",
        ),
        pytest.param(
            lambda report: _result(report, "resumption").update(psk_ke=True),
            id="psk-mode-as-boolean",
        ),
        pytest.param(
            lambda report: _result(report, "resumption")["cross_address"].append(
                {"mechanism": "tls13_psk", "from_address": "a", "to_address": "b"}
            ),
            id="cross-address-missing-resumed",
        ),
        pytest.param(
            lambda report: _result(report, "early_data").update(offered=True),
            id="early-data-offer-as-boolean",
        ),
        pytest.param(
            lambda report: _result(report, "early_data").update(max_early_data_bytes=-1),
            id="negative-max-early-data",
        ),
        pytest.param(
            lambda report: _result(report, "early_data").update(max_early_data_bytes=2**32),
            id="max-early-data-over-32-bits",
        ),
        pytest.param(
            lambda report: _result(report, "early_data").update(method="get"),
            id="method-not-uppercase",
        ),
        pytest.param(
            lambda report: _result(report, "early_data").update(method="GET /"),
            id="method-with-path",
        ),
        pytest.param(
            lambda report: _result(report, "early_data").update(too_early=425),
            id="too-early-as-integer",
        ),
        pytest.param(
            lambda report: _result(report, "early_data").update(too_early="refused"),
            id="unknown-too-early",
        ),
        pytest.param(
            lambda report: _result(report, "early_data").update(
                too_early="425", too_early_status=200
            ),
            id="too-early-425-with-another-status",
        ),
        pytest.param(
            lambda report: _result(report, "early_data").update(too_early_status=425),
            id="too-early-status-when-not-tested",
        ),
        pytest.param(
            lambda report: _result(report, "early_data")["timing"].update(zero_rtt_ms=-1.0),
            id="negative-first-byte-time",
        ),
        pytest.param(
            lambda report: _result(report, "early_data")["timing"].update(zero_rtt_s=0.001),
            id="extra-key-in-timing",
        ),
        pytest.param(
            lambda report: _result(report, "early_data")["exact_replay"].pop("served"),
            id="replay-missing-served",
        ),
        pytest.param(
            lambda report: _result(report, "early_data")["exact_replay"].update(tested=False),
            id="untested-replay-with-a-verdict",
        ),
        pytest.param(
            lambda report: _result(report, "early_data")["ticket_reuse"].update(served="yes"),
            id="served-as-string",
        ),
        pytest.param(
            lambda report: _result(report, "early_data")["engine_flights"][0].pop("direction"),
            id="engine-flight-without-direction",
        ),
        pytest.param(
            lambda report: report["probes"]["early_data"].update(probe="resumption"),
            id="early-data-outcome-under-another-probe",
        ),
        pytest.param(
            lambda report: report["probes"]["resumption"].update(
                result=report["probes"]["early_data"]["result"]
            ),
            id="early-data-result-as-resumption",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp").update(tls12_stapled=True),
            id="stapled-as-boolean",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp").update(revocation_info="ocsp_and_crl"),
            id="unknown-revocation-info",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp").update(revocation_info="none"),
            id="no-revocation-info-with-urls",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp").update(revocation_info="ocsp"),
            id="ocsp-only-with-a-crl",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp").update(first_stapled_connection=0),
            id="first-staple-zero-based",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp").update(first_stapled_connection=None),
            id="response-without-a-stapled-connection",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp").update(must_staple_violated=True),
            id="must-staple-violated-without-must-staple",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp").pop("must_staple_violated"),
            id="ocsp-missing-must-staple-violated",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp")["response"].update(cert_status="GOOD"),
            id="cert-status-uppercase",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp")["response"].update(response_status="ok"),
            id="unknown-response-status",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp")["response"].update(response_status="try_later"),
            id="error-response-with-a-cert-status",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp")["response"].update(
                revocation_time="2026-11-25T05:55:11+00:00"
            ),
            id="revocation-time-on-a-good-leaf",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp")["response"].update(signer="root"),
            id="unknown-signer",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp")["response"].update(this_update="yesterday"),
            id="this-update-not-a-date",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp")["response"].update(age_s=3600.5),
            id="age-not-whole-seconds",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp")["response"].update(response_bytes=-1),
            id="negative-response-bytes",
        ),
        pytest.param(
            lambda report: _result(report, "ocsp")["response"].update(age_ms=3600000),
            id="extra-key-in-ocsp-response",
        ),
        pytest.param(
            lambda report: _result(report, "certificate_delivery")["chain"].update(certificates=0),
            id="chain-without-a-certificate",
        ),
        pytest.param(
            lambda report: _result(report, "certificate_delivery")["chain"].update(
                order_problems=["position 1 is not issued by position 2"]
            ),
            id="order-ok-with-problems",
        ),
        pytest.param(
            lambda report: _result(report, "certificate_delivery")["chain"].update(
                duplicates=[2, 2]
            ),
            id="duplicate-position-repeated",
        ),
        pytest.param(
            lambda report: _result(report, "certificate_delivery")["chain"].update(duplicates=[0]),
            id="leaf-as-a-duplicate",
        ),
        pytest.param(
            lambda report: _result(report, "certificate_delivery")["chain"].update(
                exceeds_initial_window="yes"
            ),
            id="exceeds-window-as-string",
        ),
        pytest.param(
            lambda report: _result(report, "certificate_delivery")["key_costs"][1].update(
                is_leaf=True
            ),
            id="two-leaf-keys",
        ),
        pytest.param(
            lambda report: _result(report, "certificate_delivery")["key_costs"][0].update(
                verify_us=-1.0
            ),
            id="negative-verify-time",
        ),
        pytest.param(
            lambda report: _result(report, "certificate_delivery")["dual_certificates"].update(
                dual=True
            ),
            id="dual-without-an-rsa-certificate",
        ),
        pytest.param(
            lambda report: _result(report, "certificate_delivery")["hygiene"].update(
                weak_keys=["RSA-1024"]
            ),
            id="weak-key-without-position",
        ),
        pytest.param(
            lambda report: _result(report, "certificate_delivery")["hygiene"].update(
                sha1_signatures=[-1]
            ),
            id="negative-sha1-position",
        ),
        pytest.param(
            lambda report: report["probes"]["certificate_delivery"].update(probe="ocsp"),
            id="delivery-outcome-under-another-probe",
        ),
        pytest.param(
            lambda report: report["probes"]["ocsp"].update(
                result=report["probes"]["certificate_delivery"]["result"]
            ),
            id="delivery-result-as-ocsp",
        ),
        pytest.param(lambda report: report["probes"].pop("ocsp"), id="ocsp-probe-missing"),
    ],
)
def test_schema_rejects_drift_in_capability_results(
    change: Callable[[Document], object],
    constructed_scan: ScanResult,
    validator: jsonschema.Draft202012Validator,
) -> None:
    # Given a valid report with every capability probe completed
    report = document(constructed_scan)
    assert validator.is_valid(report)
    # When one value is changed to something the code never emits
    change(report)
    # Then the schema rejects it
    assert not validator.is_valid(report)


# -- stability and rendering --------------------------------------------------------------


def test_keys_follow_dataclass_declaration_order(tls13_scan: tuple[ScanResult, int]) -> None:
    # Given a full report
    result, _port = tls13_scan
    report = document(result)
    # When its objects are compared with the dataclasses they came from
    # Then every object's keys are the visible fields, in declaration order
    assert_declaration_order(result.target, report["target"])
    for outcome in result.outcomes():
        assert_declaration_order(outcome, report["probes"][outcome.probe.value])


def test_render_is_byte_stable_and_parses_back(tls13_scan: tuple[ScanResult, int]) -> None:
    # Given one scan result
    result, _port = tls13_scan
    # When it is rendered twice
    first = render(result, exit_code=0)
    second = render(result, exit_code=0)
    # Then both renders are byte-identical, end in a newline and parse back to report_dict
    assert first == second
    assert first.endswith("}\n")
    assert json.loads(first) == report_dict(result, exit_code=0)


def _connection(report: Document) -> Document:
    return typing.cast(Document, report["probes"]["connection"])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda report: report.update(unexpected=1), id="extra-top-level-key"),
        pytest.param(lambda report: report.update(exit_code=6), id="exit-code-out-of-range"),
        pytest.param(
            lambda report: _connection(report)["result"]["tls"].update(extra=1),
            id="extra-nested-key",
        ),
        pytest.param(
            lambda report: _connection(report)["result"]["tls"].pop("alpn"), id="missing-key"
        ),
        pytest.param(
            lambda report: _connection(report)["result"]["tls"].update(round_trips="1"),
            id="count-as-string",
        ),
        pytest.param(lambda report: _connection(report).update(status="done"), id="bad-status"),
        pytest.param(
            lambda report: _connection(report).update(status="failed"), id="failed-without-error"
        ),
        pytest.param(
            lambda report: report["probes"]["certificate"].update(status="skipped"),
            id="skipped-with-result",
        ),
    ],
)
def test_schema_rejects_drift(
    change: Callable[[Document], object],
    tls13_scan: tuple[ScanResult, int],
    validator: jsonschema.Draft202012Validator,
) -> None:
    # Given a valid report
    result, _port = tls13_scan
    report = document(result)
    assert validator.is_valid(report)
    # When one key is added, removed or given a value the code never emits
    change(report)
    # Then the schema rejects it
    assert not validator.is_valid(report)
