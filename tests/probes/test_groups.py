"""Key-exchange groups against real servers: OpenSSL 3.0 s_server in several configurations, and a
pyOpenSSL server on cryptography's bundled OpenSSL (4.0 here), which speaks X25519MLKEM768.

Expected values are what those servers were measured to do; where that differs from folklore
(s_server ranks TLS 1.3 groups itself with or without -serverpref; OpenSSL 4.0 ranks them in
tiers; OpenSSL 4.0 negotiates RFC 7919 groups in TLS 1.2) the test says so.
"""

from __future__ import annotations

import io
import json
import subprocess

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from rich.console import Console

from httpsaudit.net.raw_hello import AnswerKind
from httpsaudit.probes.groups import (
    EXPECTED_ORDER,
    FFDHE_GROUPS,
    TLS12_ECDHE_SUITES,
    GroupsProbe,
    ffdhe_prime,
    tls12_hello,
)
from httpsaudit.probes.hellos import ALL_GROUPS
from httpsaudit.probes.versions import VersionsProbe
from httpsaudit.report.json import load_schema
from httpsaudit.report.json import render as json_report
from httpsaudit.report.terminal import render
from httpsaudit.results import GroupsResult, ProbeId, ProbeStatus, Support
from httpsaudit.tls.codes import NamedGroup, name_of
from tests.pki import Issued, TestPKI
from tests.probe_context import make_context, run_probe_on
from tests.pyopenssl_server import PyOpenSSLServer
from tests.scanning import scan_local
from tests.servers import NginxServer, OpenSSLServer, require_binary

ML_KEM_HYBRIDS = ("X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024")
FFDHE = ("ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192")
TLS12_CURVE_NAMES = ("x25519", "secp256r1", "secp384r1", "secp521r1", "x448")
# OpenSSL 3.0's default group list, in its order (ssl/t1_lib.c supported_groups_default).
OPENSSL_30_DEFAULT_ORDER = (
    "x25519",
    "secp256r1",
    "x448",
    "secp521r1",
    "secp384r1",
    *FFDHE,
)


def measure(port: int, pki: TestPKI) -> tuple[GroupsResult, int]:
    """The groups result after the timed connection and the real versions probe."""
    outcome = run_probe_on(GroupsProbe(), port, ca_file=pki.root_path, first=[VersionsProbe()])
    assert outcome.status is ProbeStatus.COMPLETED, outcome.error
    assert isinstance(outcome.result, GroupsResult)
    return outcome.result, outcome.connections


def with_openssl(issued: Issued, pki: TestPKI, *args: str) -> tuple[GroupsResult, int]:
    with OpenSSLServer(issued, *args) as server:
        return measure(server.port, pki)


def verdicts(result: GroupsResult, version: str) -> dict[str, Support]:
    """Group name -> verdict for "tls13" or "tls12"."""
    return {entry.group: getattr(entry, version) for entry in result.groups}


def having(result: GroupsResult, version: str, support: Support) -> set[str]:
    return {group for group, verdict in verdicts(result, version).items() if verdict is support}


def test_openssl_30_default_groups(pki: TestPKI) -> None:
    # Given s_server with OpenSSL 3.0's defaults and an RSA certificate
    result, connections = with_openssl(pki.rsa2048, pki)
    # Then TLS 1.3 offers exactly what OpenSSL 3.0 implements: no ML-KEM hybrid
    assert having(result, "tls13", Support.SUPPORTED) == {*TLS12_CURVE_NAMES, *FFDHE}
    assert having(result, "tls13", Support.NOT_SUPPORTED) == set(ML_KEM_HYBRIDS)
    # And the server picks by its own order, OpenSSL's default one
    assert result.tls13_preference_kind == "server"
    assert result.tls13_preference == OPENSSL_30_DEFAULT_ORDER
    # And a browser's x25519 share is taken at once: no HelloRetryRequest
    assert result.browser_hello_group == "x25519"
    assert result.browser_hello_retry is False
    # And in TLS 1.2 every ECDHE curve works, DHE uses a 2048-bit prime, but no RFC 7919 group
    # is negotiated (OpenSSL 3.0 sends its own RFC 3526 prime whatever the client lists)
    assert having(result, "tls12", Support.SUPPORTED) == set(TLS12_CURVE_NAMES)
    assert having(result, "tls12", Support.NOT_SUPPORTED) == set(FFDHE)
    assert having(result, "tls12", Support.NOT_TESTED) == set(ML_KEM_HYBRIDS)
    assert result.dhe_prime_bits == 2048
    # And the whole order is settled: no group is left unranked
    assert result.tls13_unranked_groups == ()
    # And the budget: TLS 1.3 takes 11 hellos in 3 rounds (one per group, one refusal for the
    # hybrids; every group named was listed last, so no tie check) and the browser hello;
    # TLS 1.2: all curves, 4 single curves, 1 DHE offer
    assert connections == 11 + 1 + 1 + 4 + 1


def test_groups_restricted_to_p256_and_p384(pki: TestPKI) -> None:
    # Given s_server limited to P-256 and P-384
    result, connections = with_openssl(pki.rsa2048, pki, "-groups", "P-256:P-384")
    # Then only those two are supported, in both versions
    assert having(result, "tls13", Support.SUPPORTED) == {"secp256r1", "secp384r1"}
    assert having(result, "tls12", Support.SUPPORTED) == {"secp256r1", "secp384r1"}
    assert having(result, "tls12", Support.NOT_SUPPORTED) == {
        "x25519",
        "secp521r1",
        "x448",
        *FFDHE,
    }
    assert result.tls13_preference_kind == "server"
    assert result.tls13_preference == ("secp256r1", "secp384r1")
    # And a browser sending only an x25519 share pays a HelloRetryRequest for P-256
    assert result.browser_hello_group == "secp256r1"
    assert result.browser_hello_retry is True
    # And the budget: TLS 1.3 takes 8 hellos in 3 rounds (5 refusals) and the browser hello;
    # TLS 1.2 as above
    assert connections == 8 + 1 + 1 + 4 + 1


def test_nginx_default_groups_within_the_budget(pki: TestPKI) -> None:
    # Given nginx with OpenSSL 3.0's default groups and an ECDSA P-256 certificate
    with NginxServer("basic", pki.ecdsa_p256) as server:
        result, connections = measure(server.port, pki)
    # Then every group and the whole order are found, as with s_server
    assert having(result, "tls13", Support.SUPPORTED) == {*TLS12_CURVE_NAMES, *FFDHE}
    assert having(result, "tls13", Support.NOT_SUPPORTED) == set(ML_KEM_HYBRIDS)
    assert result.tls13_preference_kind == "server"
    assert result.tls13_preference == OPENSSL_30_DEFAULT_ORDER
    assert result.tls13_unranked_groups == ()
    assert having(result, "tls12", Support.SUPPORTED) == set(TLS12_CURVE_NAMES)
    assert result.dhe_prime_bits is None
    # And within 20 connections: 12 for TLS 1.3 (browser hello included); for TLS 1.2 all
    # curves, 4 single curves beside the certificate's P-256, DHE with and without ffdhe groups
    assert connections == 12 + 1 + 4 + 2


def test_order_against_the_expected_one_is_ranked_only_as_far_as_settled(pki: TestPKI) -> None:
    # Given s_server ranking groups in nearly the reverse of the usual order
    result, connections = with_openssl(pki.rsa2048, pki, "-groups", "X448:P-521:P-384:P-256:X25519")
    # Then every group is found
    assert having(result, "tls13", Support.SUPPORTED) == {
        "x448",
        "secp521r1",
        "secp384r1",
        "secp256r1",
        "x25519",
    }
    # But within the rounds allowed only x448 is proven to rank above all the others: the rest
    # is reported unranked, not in a guessed order
    assert result.tls13_preference_kind == "server"
    assert result.tls13_preference == ("x448",)
    assert result.tls13_preference_tiers == (("x448",),)
    assert result.tls13_unranked_groups == ("x25519", "secp256r1", "secp384r1", "secp521r1")
    # And the budget: 11 hellos in 4 rounds for TLS 1.3 (2 of them tie checks) and the browser
    # hello; TLS 1.2: all curves, 4 single curves, 1 DHE offer
    assert connections == 11 + 1 + 1 + 4 + 1


def test_unranked_groups_are_reported_apart_from_the_order(pki: TestPKI) -> None:
    # Given the scan of that server, groups only
    with OpenSSLServer(pki.rsa2048, "-groups", "X448:P-521:P-384:P-256:X25519") as server:
        scanned = scan_local(
            server.port, ca_file=pki.root_path, only_probes=frozenset({ProbeId.GROUPS})
        )
    # When it is reported in JSON and in the terminal
    document = json.loads(json_report(scanned))
    output = io.StringIO()
    render(scanned, Console(file=output, width=100, color_system=None))
    lines = output.getvalue().splitlines()
    # Then the JSON report is valid and names the unranked groups beside the ranked one
    jsonschema.validate(document, load_schema())
    groups = document["probes"]["groups"]["result"]
    assert groups["tls13_preference"] == ["x448"]
    assert groups["tls13_unranked_groups"] == ["x25519", "secp256r1", "secp384r1", "secp521r1"]
    # And the terminal shows them after the order, as not ordered
    row = next(index for index, line in enumerate(lines) if "TLS 1.3 preference" in line)
    assert " ".join(lines[row].split()) == "TLS 1.3 preference x448 (in the server's order)"
    assert lines[row + 1].strip() == (
        "then, in an order not determined: x25519, secp256r1, secp384r1, secp521r1"
    )


@pytest.mark.parametrize("server_preference", [(), ("-serverpref",)])
def test_s_server_ranks_tls13_groups_itself(
    pki: TestPKI, server_preference: tuple[str, ...]
) -> None:
    # Given s_server listing P-256 before X25519, with and without -serverpref (measured: in
    # OpenSSL 3.0 -serverpref changes the suite choice, not the group a HelloRetryRequest names)
    result, _ = with_openssl(pki.rsa2048, pki, "-groups", "P-256:X25519", *server_preference)
    # Then the server's order wins over ours (we list x25519 first) either way
    assert having(result, "tls13", Support.SUPPORTED) == {"x25519", "secp256r1"}
    assert result.tls13_preference_kind == "server"
    assert result.tls13_preference == ("secp256r1", "x25519")
    # But a key share the client did send is used rather than its first choice: no HRR
    assert result.browser_hello_group == "x25519"
    assert result.browser_hello_retry is False


def test_tls12_ecdsa_p256_certificate_coupling(pki: TestPKI) -> None:
    # Given a TLS 1.2-only server with an ECDSA P-256 certificate
    with OpenSSLServer(pki.ecdsa_p256, "-no_tls1_3") as server:
        # (the coupling is real: a hello listing secp384r1 alone is refused)
        context = make_context(server.port, ca_file=pki.root_path)
        lone = context.hello(tls12_hello("localhost", TLS12_ECDHE_SUITES, (NamedGroup.secp384r1,)))
        assert lone.kind is AnswerKind.ALERT
        result, connections = measure(server.port, pki)
    # Then every curve is found, secp384r1 too, because P-256 was listed after it
    assert having(result, "tls12", Support.SUPPORTED) == set(TLS12_CURVE_NAMES)
    # And there is no DHE with an ECDSA certificate, so no ffdhe group either
    assert having(result, "tls12", Support.NOT_SUPPORTED) == set(FFDHE)
    assert result.dhe_prime_bits is None
    # And TLS 1.3 is not tested and the browser hello not sent
    assert having(result, "tls13", Support.NOT_TESTED) == {entry.group for entry in result.groups}
    assert result.tls13_preference_kind == "unknown"
    assert result.tls13_preference == ()
    assert result.browser_hello_group is None
    assert result.browser_hello_retry is None
    # And the budget: all curves, 4 single curves (each picked its own curve, so the offer in
    # reverse order is not needed), DHE with and without ffdhe groups
    assert connections == 1 + 4 + 2


def test_tls12_ecdsa_restricted_curves_in_client_order(pki: TestPKI) -> None:
    # Given a TLS 1.2 ECDSA P-256 server limited to P-256 and X25519 (client order by default)
    result, _ = with_openssl(pki.ecdsa_p256, pki, "-no_tls1_3", "-groups", "P-256:X25519")
    # Then a server that picks P-256 when offered P-384 first proves P-384 unsupported
    assert having(result, "tls12", Support.SUPPORTED) == {"x25519", "secp256r1"}
    assert having(result, "tls12", Support.NOT_SUPPORTED) == {
        "secp384r1",
        "secp521r1",
        "x448",
        *FFDHE,
    }


def test_tls12_ecdsa_server_order_leaves_curves_unknown(pki: TestPKI) -> None:
    # Given the same server choosing curves in its own order (P-256 first)
    result, _ = with_openssl(
        pki.ecdsa_p256, pki, "-no_tls1_3", "-groups", "P-256:X25519", "-serverpref"
    )
    # Then only P-256 is proven: with the certificate's curve always listed, the server's
    # preference for it hides whether it could use the other one (x25519, which it can)
    assert having(result, "tls12", Support.SUPPORTED) == {"secp256r1"}
    assert having(result, "tls12", Support.UNKNOWN) == {"x25519", "secp384r1", "secp521r1", "x448"}


@pytest.mark.parametrize(("leaf_name", "prime_bits"), [("rsa2048", 2048), ("rsa4096", 4096)])
def test_tls12_dhe_only_server(pki: TestPKI, leaf_name: str, prime_bits: int) -> None:
    # Given a TLS 1.2 server with only a DHE suite and OpenSSL's automatic DH parameters
    result, connections = with_openssl(
        getattr(pki, leaf_name), pki, "-no_tls1_3", "-cipher", "DHE-RSA-AES128-GCM-SHA256"
    )
    # Then the prime matches the certificate's strength
    assert result.dhe_prime_bits == prime_bits
    # And no curve, no ffdhe group (RFC 3526 prime, not RFC 7919) is negotiated in TLS 1.2
    assert having(result, "tls12", Support.NOT_SUPPORTED) == {*TLS12_CURVE_NAMES, *FFDHE}
    # And a refused all-curves offer ends the ECDHE part in one connection
    assert connections == 1 + 1


def test_pyopenssl_server_offers_x25519mlkem768_and_costs_browsers_a_retry(pki: TestPKI) -> None:
    # Given a server on cryptography's bundled OpenSSL 4.0 with its default groups
    with PyOpenSSLServer(pki.rsa2048) as server:
        result, connections = measure(server.port, pki)
    # Then the ML-KEM hybrids it implements by default are supported in TLS 1.3
    assert having(result, "tls13", Support.SUPPORTED) == {
        "X25519MLKEM768",
        "SecP256r1MLKEM768",
        *TLS12_CURVE_NAMES,
        "ffdhe2048",
        "ffdhe3072",
    }
    assert having(result, "tls13", Support.NOT_SUPPORTED) == {
        "SecP384r1MLKEM1024",
        "ffdhe4096",
        "ffdhe6144",
        "ffdhe8192",
    }
    # And it ranks groups in tiers, our order deciding inside each:
    # {X25519MLKEM768, SecP256r1MLKEM768} > {x25519, P-256} > {P-384, P-521, x448} > {ffdhe}
    assert result.tls13_preference_kind == "tiered"
    assert result.tls13_preference == (
        "X25519MLKEM768",
        "SecP256r1MLKEM768",
        "x25519",
        "secp256r1",
        "secp384r1",
        "secp521r1",
        "x448",
        "ffdhe2048",
        "ffdhe3072",
    )
    # And a browser listing X25519MLKEM768 but sending only an x25519 share pays a retry
    assert result.browser_hello_group == "X25519MLKEM768"
    assert result.browser_hello_retry is True
    # And, unlike OpenSSL 3.0, it negotiates RFC 7919 groups for DHE in TLS 1.2
    assert having(result, "tls12", Support.SUPPORTED) == {
        *TLS12_CURVE_NAMES,
        "ffdhe2048",
        "ffdhe3072",
    }
    assert result.dhe_prime_bits == 2048
    # And the whole order is settled within the rounds allowed
    assert result.tls13_unranked_groups == ()
    # And the budget: 16 hellos in 4 rounds for TLS 1.3 (5 of them tie checks: a group named
    # before another of its tier is offered after it), 1 browser hello; 1 + 4 curves and
    # 1 + 4 ffdhe for TLS 1.2
    assert connections == 16 + 1 + 10


def test_pyopenssl_server_with_one_curve(pki: TestPKI) -> None:
    # Given the same server narrowed to P-384 by set_tmp_ecdh
    with PyOpenSSLServer(pki.rsa2048, ecdh_curve=ec.SECP384R1()) as server:
        result, _ = measure(server.port, pki)
    # Then P-384 is its only group: no X25519MLKEM768, a single choice
    assert having(result, "tls13", Support.SUPPORTED) == {"secp384r1"}
    assert having(result, "tls12", Support.SUPPORTED) == {"secp384r1"}
    assert result.tls13_preference_kind == "single"
    assert result.tls13_preference == ("secp384r1",)
    # And a browser hello costs a retry to P-384; DHE is refused (no ffdhe group left)
    assert result.browser_hello_group == "secp384r1"
    assert result.browser_hello_retry is True
    assert result.dhe_prime_bits is None


def test_pyopenssl_server_negotiates_x25519mlkem768_in_full_handshakes(pki: TestPKI) -> None:
    # Given the pyOpenSSL lab server
    with PyOpenSSLServer(pki.rsa2048) as server:
        # When the reference client (same bundled OpenSSL) makes the timed connection
        context = make_context(server.port, ca_file=pki.root_path)
    connection = context.connection.result if context.connection is not None else None
    assert connection is not None
    assert connection.tls is not None
    assert connection.http is not None
    # Then it gets X25519MLKEM768 in one round trip (it sent that share) and an HTTP answer
    assert connection.tls.version == "TLSv1.3"
    assert connection.tls.group == "X25519MLKEM768"
    assert connection.tls.hello_retry_request is False
    assert connection.http.status == 200


def test_expected_order_covers_every_group_tested() -> None:
    # Given the order the TLS 1.3 hellos are built around, and the groups the probe reports
    # Then each group appears in it exactly once: a group left out would never be searched
    assert sorted(EXPECTED_ORDER) == sorted(ALL_GROUPS)


@pytest.mark.parametrize("group", FFDHE_GROUPS, ids=lambda group: name_of(NamedGroup, group))
def test_ffdhe_primes_match_openssl(group: int) -> None:
    # Given OpenSSL's built-in RFC 7919 parameters for this group, as DER integers
    openssl = require_binary("openssl")
    name = name_of(NamedGroup, group)
    pem = subprocess.run(
        [openssl, "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", f"group:{name}"],
        capture_output=True,
        check=True,
    ).stdout
    dump = subprocess.run(
        [openssl, "asn1parse"], input=pem, capture_output=True, check=True, text=False
    ).stdout.decode()
    # DHParameter ::= SEQUENCE { prime INTEGER, base INTEGER } (PKCS #3): the first INTEGER
    prime_hex = next(line for line in dump.splitlines() if "INTEGER" in line).rsplit(":", 1)[1]
    # Then the prime computed from RFC 7919 Appendix A is the same number
    assert int(prime_hex, 16) == ffdhe_prime(group)
