"""Certificate and OCSP rules on real servers: leaves, chains and staples built by tests/pki.py,
served by ``openssl s_server`` and nginx; for nginx, the rule's own snippet is applied to the
server that triggered it and the rule then passes."""

from __future__ import annotations

import datetime
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp

from httpsaudit.rules.model import Finding, RuleStatus, Severity
from tests.pki import (
    CA_ISSUERS_URL,
    OCSP_URL,
    Issued,
    TestPKI,
    issue_under_intermediates,
    send_chain,
    sha1_signed,
)
from tests.rules.evaluation import audit
from tests.scanning import scan_local
from tests.servers import NginxServer, OpenSSLServer

# s_server refuses SHA-1 signed and RSA-1024 certificates at OpenSSL 3.0's default security
# level; level 0 lets it serve them, as a careless server would.
SECURITY_LEVEL_0 = ("-cipher", "DEFAULT:@SECLEVEL=0")
# CA certificates appended to a chain file as a whole bundle might be: eleven RSA-4096 CAs of
# about 1.4 kB each push the first flight past 14600 bytes.
BUNDLE_CERTIFICATES = 11
INTERMEDIATE = "CN=httpsaudit Test Intermediate,O=httpsaudit test lab"
LEAF = "CN=localhost,O=httpsaudit test lab"
TLS13_ENTRY_OVERHEAD = 5  # RFC 8446 §4.4.2: uint24 length + uint16 extensions per entry
# Bytes a key puts in one handshake (SubjectPublicKeyInfo + one signature), as the delivery
# probe's tests measure them: P-256 91 + 72, RSA-2048 294 + 256, RSA-4096 550 + 512.
P256_WIRE_BYTES = 163
RSA2048_WIRE_BYTES = 550
RSA4096_WIRE_BYTES = 1062
# The round-trip case of CERT007: a few RSA-4096 CA certificates, then a filler CA certificate
# whose padding is set from a first measurement (its size changes the flight byte for byte).
WINDOW_BUNDLE_CERTIFICATES = 8
FILLER_FIRST_GUESS_BYTES = 1000
PADDING_EXTENSION = x509.ObjectIdentifier("1.3.6.1.4.1.55555.1")  # a private arc, test only
INITIAL_WINDOW_BYTES = 14600
# How long a lab OCSP responder may take to be asked and to answer nginx.
RESPONDER_WAIT_S = 10.0


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def der_bytes(certificate: x509.Certificate) -> int:
    return len(certificate.public_bytes(serialization.Encoding.DER))


def on_openssl(
    issued: Issued, pki: TestPKI, *rules: str, args: tuple[str, ...] = ()
) -> dict[str, Finding]:
    with OpenSSLServer(issued, *args) as server:
        return audit(server.port, pki.root_path, *rules)


def on_nginx(issued: Issued, pki: TestPKI, *rules: str, **params: str) -> dict[str, Finding]:
    with NginxServer("basic", issued, **params) as server:
        return audit(server.port, pki.root_path, *rules)


def leaf_with_dates(pki: TestPKI, name: str, *, lived_days: int, left_days: int) -> Issued:
    moment = now()
    return pki.issue(
        name,
        ec.generate_private_key(ec.SECP256R1()),
        not_before=moment - datetime.timedelta(days=lived_days),
        not_after=moment + datetime.timedelta(days=left_days),
    )


@pytest.fixture(scope="module")
def with_root(pki: TestPKI) -> Issued:
    return send_chain(pki, pki.ecdsa_p256, "rules_with_root", (*pki.ecdsa_p256.chain, pki.root))


@pytest.fixture(scope="module")
def bloated(pki: TestPKI) -> Issued:
    # The leaf's own chain, the root, then a bundle of unrelated CA certificates, as when a
    # whole CA bundle is concatenated into the certificate file.
    heavy = pki.rsa4096.private_key
    bundle = issue_under_intermediates(
        pki, "rules_bundle", ec.generate_private_key(ec.SECP256R1()), [heavy] * BUNDLE_CERTIFICATES
    )
    chain = (*pki.ecdsa_p256.chain, pki.root, *bundle.chain[1:])
    return send_chain(pki, pki.ecdsa_p256, "rules_bloated", chain)


# -- CERT001 expired -------------------------------------------------------------------------


def test_cert001_trigger_expired_leaf(pki: TestPKI) -> None:
    # Given a server whose leaf expired ten days ago
    finding = on_openssl(pki.expired, pki, "CERT001")["CERT001"]
    # Then the rule fails, critical, naming the certificate, its end and how long ago
    not_after = pki.expired.certificate.not_valid_after_utc.isoformat()
    assert (finding.rule_id, finding.status, finding.severity) == (
        "CERT001",
        RuleStatus.FAILED,
        Severity.CRITICAL,
    )
    assert finding.evidence["expired_positions"] == (0,)
    assert finding.evidence["not_after"] == not_after
    assert finding.evidence["days_expired"] == 10
    assert finding.message == f"The certificate {LEAF} expired on {not_after} (10 days ago)"


def test_cert001_clean_valid_leaf(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT001")["CERT001"]
    assert (finding.rule_id, finding.status) == ("CERT001", RuleStatus.PASSED)
    assert finding.evidence["days_left"] == 89


# -- CERT002 / CERT003 expiring --------------------------------------------------------------


def test_cert002_trigger_twenty_days_left(pki: TestPKI) -> None:
    # Given a 90-day leaf with 20 days to go (19 whole days once the scan runs)
    issued = leaf_with_dates(pki, "twenty_days_left", lived_days=70, left_days=20)
    findings = on_openssl(issued, pki, "CERT002", "CERT003")
    warning, urgent = findings["CERT002"], findings["CERT003"]
    # Then the medium rule fires with the thresholds for a 90-day lifetime; the urgent one not
    assert (warning.status, warning.severity) == (RuleStatus.FAILED, Severity.MEDIUM)
    assert warning.evidence["days_left"] == 19
    assert (warning.evidence["warning_days"], warning.evidence["urgent_days"]) == (30, 7)
    assert warning.evidence["lifetime_days"] == 90
    not_after = issued.certificate.not_valid_after_utc.isoformat()
    assert warning.message == f"The certificate {LEAF} expires in 19 days ({not_after})"
    assert urgent.status is RuleStatus.PASSED


def test_cert002_clean_ninety_day_leaf(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT002")["CERT002"]
    assert (finding.rule_id, finding.status) == ("CERT002", RuleStatus.PASSED)
    assert finding.evidence["days_left"] == 89


def test_cert002_clean_short_lived_leaf_renewed_on_time(pki: TestPKI) -> None:
    # Given a 47-day leaf (the 2029 maximum) with 20 days left: more than a third of its life
    issued = leaf_with_dates(pki, "forty_seven_days", lived_days=27, left_days=20)
    finding = on_openssl(issued, pki, "CERT002")["CERT002"]
    # Then its thresholds shrink with its lifetime and it is not yet late
    assert finding.status is RuleStatus.PASSED
    assert (finding.evidence["warning_days"], finding.evidence["urgent_days"]) == (15, 7)


def test_cert003_trigger_five_days_left(pki: TestPKI) -> None:
    # Given a 90-day leaf with five days to go
    issued = leaf_with_dates(pki, "five_days_left", lived_days=85, left_days=5)
    findings = on_openssl(issued, pki, "CERT002", "CERT003")
    urgent, warning = findings["CERT003"], findings["CERT002"]
    # Then the high rule fires, and the medium one leaves it to CERT003
    assert (urgent.rule_id, urgent.status, urgent.severity) == (
        "CERT003",
        RuleStatus.FAILED,
        Severity.HIGH,
    )
    assert urgent.evidence["days_left"] == 4
    assert urgent.evidence["urgent_days"] == 7
    assert warning.status is RuleStatus.NOT_APPLICABLE
    assert warning.reason == "fewer than 7 days left: CERT003 reports it"


def test_cert003_clean_ninety_day_leaf(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT003")["CERT003"]
    assert (finding.rule_id, finding.status) == ("CERT003", RuleStatus.PASSED)


def test_cert003_not_applicable_once_expired(pki: TestPKI) -> None:
    finding = on_openssl(pki.expired, pki, "CERT003")["CERT003"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.reason == "already expired: CERT001 reports it"


# -- CERT004 name ----------------------------------------------------------------------------


def test_cert004_trigger_wrong_name(pki: TestPKI) -> None:
    finding = on_openssl(pki.wrong_name, pki, "CERT004")["CERT004"]
    assert (finding.rule_id, finding.status, finding.severity) == (
        "CERT004",
        RuleStatus.FAILED,
        Severity.CRITICAL,
    )
    assert finding.evidence["name_checked"] == "localhost"
    assert finding.evidence["subject_alt_names"] == ("DNS:other.invalid",)
    assert finding.message == (
        "The certificate does not cover localhost (it names: DNS:other.invalid)"
    )


def test_cert004_clean_matching_name(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT004")["CERT004"]
    assert (finding.rule_id, finding.status) == ("CERT004", RuleStatus.PASSED)
    assert "DNS:localhost" in finding.evidence["subject_alt_names"]  # type: ignore[operator]


# -- CERT005 trust ---------------------------------------------------------------------------


def test_cert005_trigger_self_signed(pki: TestPKI) -> None:
    finding = on_openssl(pki.self_signed, pki, "CERT005")["CERT005"]
    assert (finding.rule_id, finding.status, finding.severity) == (
        "CERT005",
        RuleStatus.FAILED,
        Severity.CRITICAL,
    )
    assert finding.evidence["reasons"] == ("self_signed",)
    assert finding.evidence["problems"] == (f"{LEAF} is self-signed and not trusted",)
    assert finding.evidence["trust_store"] == "system+ca-file"


def test_cert005_trigger_private_root_without_ca_file(pki: TestPKI) -> None:
    # Given the lab chain scanned with the system trust store only
    with OpenSSLServer(pki.ecdsa_p256) as server:
        finding = audit(server.port, None, "CERT005")["CERT005"]
    # Then the root is unknown, and the store used is named
    assert finding.status is RuleStatus.FAILED
    assert finding.evidence["reasons"] == ("unknown_issuer",)
    assert finding.evidence["trust_store"] == "system"


def test_cert005_clean_trusted_chain(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT005")["CERT005"]
    assert (finding.rule_id, finding.status) == ("CERT005", RuleStatus.PASSED)
    assert finding.evidence["problems"] == ()


def test_cert005_clean_leaves_expiry_and_names_to_their_rules(pki: TestPKI) -> None:
    # An expired leaf and a misnamed one are CERT001's and CERT004's, not "untrusted" twice
    assert on_openssl(pki.expired, pki, "CERT005")["CERT005"].status is RuleStatus.PASSED
    assert on_openssl(pki.wrong_name, pki, "CERT005")["CERT005"].status is RuleStatus.PASSED


# -- CERT006 missing intermediate ------------------------------------------------------------


def test_cert006_trigger_leaf_sent_alone(pki: TestPKI) -> None:
    finding = on_openssl(pki.missing_intermediate, pki, "CERT006")["CERT006"]
    assert (finding.rule_id, finding.status, finding.severity) == (
        "CERT006",
        RuleStatus.FAILED,
        Severity.HIGH,
    )
    assert finding.evidence["missing_issuer"] == INTERMEDIATE
    assert finding.evidence["certificates_sent"] == 1
    assert finding.evidence["ca_issuers_urls"] == (CA_ISSUERS_URL,)
    assert finding.advice is not None
    assert CA_ISSUERS_URL in finding.advice


def test_cert006_clean_full_chain(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT006")["CERT006"]
    assert (finding.rule_id, finding.status) == ("CERT006", RuleStatus.PASSED)
    assert finding.evidence["certificates_sent"] == 2


def test_cert006_cannot_tell_under_an_unknown_root(pki: TestPKI) -> None:
    with OpenSSLServer(pki.ecdsa_p256) as server:
        finding = audit(server.port, None, "CERT006")["CERT006"]
    assert finding.status is RuleStatus.NOT_APPLICABLE


def test_cert006_nginx_advice_fixes_it(pki: TestPKI) -> None:
    # Given nginx sending its leaf alone
    before = on_nginx(pki.missing_intermediate, pki, "CERT006")["CERT006"]
    assert before.status is RuleStatus.FAILED
    assert before.server == "nginx"
    assert before.snippet is not None
    assert "ssl_certificate     /etc/ssl/example.com/fullchain.pem;" in before.snippet
    # When the certificate file is the full chain, as the snippet says
    leaf = pki.missing_intermediate.certificate
    full = send_chain(pki, pki.missing_intermediate, "rules_full_chain", (leaf, pki.intermediate))
    after = on_nginx(full, pki, "CERT006")["CERT006"]
    # Then the rule passes
    assert after.status is RuleStatus.PASSED


# -- CERT007 root sent -----------------------------------------------------------------------


def test_cert007_trigger_root_appended(pki: TestPKI, with_root: Issued) -> None:
    finding = on_openssl(with_root, pki, "CERT007")["CERT007"]
    root_bytes = der_bytes(pki.root) + TLS13_ENTRY_OVERHEAD
    assert (finding.rule_id, finding.status, finding.severity) == (
        "CERT007",
        RuleStatus.FAILED,
        Severity.LOW,
    )
    assert finding.evidence["root_positions"] == (2,)
    assert finding.evidence["root_bytes"] == root_bytes
    assert finding.saving is not None
    assert (finding.saving.bytes, finding.saving.round_trips) == (root_bytes, 0)
    assert finding.message == (
        "The server sends the root certificate CN=httpsaudit Test Root,O=httpsaudit test lab: "
        f"{root_bytes} bytes of every handshake for nothing"
    )


def filler_ca(pki: TestPKI, padding_bytes: int) -> x509.Certificate:
    """An unrelated CA certificate made ``padding_bytes`` (256 to 65535) heavier by a private
    extension: a dial for the size of a chain."""
    key = ec.generate_private_key(ec.SECP256R1())
    moment = now()
    padding = b"\x04\x82" + padding_bytes.to_bytes(2, "big") + bytes(padding_bytes)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "filler CA")]))
        .issuer_name(pki.root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - datetime.timedelta(days=1))
        .not_valid_after(moment + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.UnrecognizedExtension(PADDING_EXTENSION, padding),
            critical=False,
        )
        .sign(pki.root_key, hashes.SHA256())
    )


def test_cert007_trigger_root_pushes_the_first_flight_over_the_window(pki: TestPKI) -> None:
    # Given a chain with the root, some CA certificates and a filler whose size is tuned (by
    # a first measurement) so that the first flight is over 14600 bytes with the root, and
    # under without it
    bundle = issue_under_intermediates(
        pki,
        "rules_window_bundle",
        ec.generate_private_key(ec.SECP256R1()),
        [pki.rsa4096.private_key] * WINDOW_BUNDLE_CERTIFICATES,
    )

    def serve(padding_bytes: int) -> Finding:
        chain = (*pki.ecdsa_p256.chain, pki.root, *bundle.chain[1:], filler_ca(pki, padding_bytes))
        issued = send_chain(pki, pki.ecdsa_p256, f"rules_window_{padding_bytes}", chain)
        return on_openssl(issued, pki, "CERT007")["CERT007"]

    probe = serve(FILLER_FIRST_GUESS_BYTES)
    flight, root_bytes = probe.evidence["server_first_flight_bytes"], probe.evidence["root_bytes"]
    assert isinstance(flight, int)
    assert isinstance(root_bytes, int)
    target = INITIAL_WINDOW_BYTES + root_bytes // 2
    finding = serve(FILLER_FIRST_GUESS_BYTES + target - flight)
    tuned_flight = finding.evidence["server_first_flight_bytes"]
    assert isinstance(tuned_flight, int)
    assert tuned_flight - root_bytes <= INITIAL_WINDOW_BYTES < tuned_flight
    # Then dropping the root saves its bytes and a round trip, at the measured RTT
    assert finding.status is RuleStatus.FAILED
    assert finding.saving is not None
    assert (finding.saving.bytes, finding.saving.round_trips) == (root_bytes, 1)
    assert finding.saving.ms is not None
    assert finding.message.startswith(
        "The server sends the root certificate CN=httpsaudit Test Root,O=httpsaudit test lab, "
        f"and those {root_bytes} bytes push its first flight past the initial congestion "
        "window: dropping it saves 1 round trip"
    )


def test_cert007_clean_chain_without_root(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT007")["CERT007"]
    assert (finding.rule_id, finding.status) == ("CERT007", RuleStatus.PASSED)
    assert finding.evidence["root_positions"] == ()


def test_cert007_nginx_advice_fixes_it(pki: TestPKI, with_root: Issued) -> None:
    before = on_nginx(with_root, pki, "CERT007")["CERT007"]
    assert (before.status, before.server) == (RuleStatus.FAILED, "nginx")
    assert before.snippet is not None
    assert "no root" in before.snippet
    # The leaf and intermediate only, as the snippet's chain file holds
    after = on_nginx(pki.ecdsa_p256, pki, "CERT007")["CERT007"]
    assert after.status is RuleStatus.PASSED


# -- CERT008 duplicates and order ------------------------------------------------------------


def test_cert008_trigger_duplicate_intermediate(pki: TestPKI) -> None:
    chain = (*pki.ecdsa_p256.chain, pki.intermediate)
    issued = send_chain(pki, pki.ecdsa_p256, "rules_duplicate", chain)
    finding = on_openssl(issued, pki, "CERT008")["CERT008"]
    repeated = der_bytes(pki.intermediate) + TLS13_ENTRY_OVERHEAD
    assert (finding.rule_id, finding.status, finding.severity) == (
        "CERT008",
        RuleStatus.FAILED,
        Severity.LOW,
    )
    assert finding.evidence["duplicate_positions"] == (2,)
    assert finding.evidence["duplicate_bytes"] == repeated
    assert finding.evidence["order_problems"] == ()
    assert finding.saving is not None
    assert finding.saving.bytes == repeated
    assert finding.message == (
        f"The chain repeats certificates at positions 2: {repeated} bytes sent twice"
    )


def test_cert008_trigger_intermediates_swapped(pki: TestPKI) -> None:
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(2)]
    ordered = issue_under_intermediates(
        pki, "rules_two_intermediates", ec.generate_private_key(ec.SECP256R1()), keys
    )
    leaf, signs_leaf, signs_intermediate = ordered.chain
    swapped = send_chain(pki, ordered, "rules_swapped", (leaf, signs_intermediate, signs_leaf))
    finding = on_openssl(swapped, pki, "CERT008")["CERT008"]
    assert finding.status is RuleStatus.FAILED
    assert finding.evidence["duplicate_positions"] == ()
    problems = finding.evidence["order_problems"]
    assert isinstance(problems, tuple)
    assert len(problems) == 2
    assert problems[0].endswith("its issuer is at position 2")  # type: ignore[union-attr]
    assert finding.saving is None
    assert finding.message.startswith("The chain is sent out of order: position 0 ")


def test_cert008_clean_ordered_chain(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT008")["CERT008"]
    assert (finding.rule_id, finding.status) == ("CERT008", RuleStatus.PASSED)


# -- CERT009 initial window ------------------------------------------------------------------


def test_cert009_trigger_bundle_in_the_chain_file(pki: TestPKI, bloated: Issued) -> None:
    # Given a chain file with the root and a bundle of CA certificates appended
    finding = on_openssl(bloated, pki, "CERT009")["CERT009"]
    first_flight = finding.evidence["server_first_flight_bytes"]
    assert isinstance(first_flight, int)
    # Then the first flight overflows the 10-segment window and costs a round trip
    assert (finding.rule_id, finding.status, finding.severity) == (
        "CERT009",
        RuleStatus.FAILED,
        Severity.MEDIUM,
    )
    assert first_flight > INITIAL_WINDOW_BYTES
    assert finding.evidence["initial_window_bytes"] == INITIAL_WINDOW_BYTES
    assert finding.evidence["excess_bytes"] == first_flight - INITIAL_WINDOW_BYTES
    assert finding.evidence["certificates"] == 3 + BUNDLE_CERTIFICATES
    assert finding.saving is not None
    assert finding.saving.round_trips == 1
    assert finding.advice is not None
    assert "saves 1 round trip" in finding.advice


def test_cert009_clean_two_certificate_chain(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT009")["CERT009"]
    assert (finding.rule_id, finding.status) == ("CERT009", RuleStatus.PASSED)
    assert finding.evidence["excess_bytes"] == 0


def test_cert009_nginx_advice_fixes_it(pki: TestPKI, bloated: Issued) -> None:
    before = on_nginx(bloated, pki, "CERT009")["CERT009"]
    assert (before.status, before.server) == (RuleStatus.FAILED, "nginx")
    assert before.snippet is not None
    assert "leaf + needed intermediates only" in before.snippet
    # The chain file trimmed to the leaf and its intermediate
    after = on_nginx(pki.ecdsa_p256, pki, "CERT009")["CERT009"]
    assert after.status is RuleStatus.PASSED


# -- CERT010 RSA only ------------------------------------------------------------------------


def test_cert010_trigger_rsa_certificate_only(pki: TestPKI) -> None:
    finding = on_openssl(pki.rsa2048, pki, "CERT010")["CERT010"]
    assert (finding.rule_id, finding.status, finding.severity) == (
        "CERT010",
        RuleStatus.FAILED,
        Severity.LOW,
    )
    assert finding.evidence["leaf_key"] == "RSA-2048"
    assert finding.evidence["leaf_key_wire_bytes"] == RSA2048_WIRE_BYTES
    assert finding.evidence["ecdsa_p256_wire_bytes"] == P256_WIRE_BYTES
    assert finding.evidence["ecdsa_certificate_served"] is None
    assert finding.evidence["dual_certificates"] is False
    assert finding.saving is not None
    assert finding.saving.bytes == RSA2048_WIRE_BYTES - P256_WIRE_BYTES == 387
    assert finding.message.startswith(
        "The server has only an RSA certificate (RSA-2048); an ECDSA P-256 one would save "
        "387 bytes per handshake"
    )


def test_cert010_clean_ecdsa_certificate(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT010")["CERT010"]
    assert (finding.rule_id, finding.status) == ("CERT010", RuleStatus.PASSED)
    assert finding.evidence["leaf_key"] == "ECDSA P-256"


def test_cert010_nginx_advice_fixes_it(pki: TestPKI) -> None:
    # Given nginx with an RSA certificate only
    before = on_nginx(pki.rsa2048, pki, "CERT010")["CERT010"]
    assert (before.status, before.server) == (RuleStatus.FAILED, "nginx")
    assert before.snippet is not None
    assert before.snippet.count("ssl_certificate ") == 2
    # When it gets a second ssl_certificate pair, ECDSA next to RSA (fixtures/nginx/dual.conf)
    with NginxServer(
        "dual",
        pki.ecdsa_p256,
        rsa_cert=str(pki.rsa2048.chain_path),
        rsa_key=str(pki.rsa2048.key_path),
    ) as server:
        after = audit(server.port, pki.root_path, "CERT010")["CERT010"]
    # Then ECDSA clients get ECDSA, RSA-only clients still RSA, and the rule passes
    assert after.status is RuleStatus.PASSED
    assert after.evidence["ecdsa_certificate_served"] == "ECDSA P-256"
    assert after.evidence["rsa_certificate_served"] == "RSA-2048"
    assert after.evidence["dual_certificates"] is True


# -- CERT011 RSA over 2048 -------------------------------------------------------------------


def test_cert011_trigger_rsa4096_leaf(pki: TestPKI) -> None:
    finding = on_openssl(pki.rsa4096, pki, "CERT011")["CERT011"]
    assert (finding.rule_id, finding.status, finding.severity) == (
        "CERT011",
        RuleStatus.FAILED,
        Severity.LOW,
    )
    assert (finding.evidence["rsa_key"], finding.evidence["key_bits"]) == ("RSA-4096", 4096)
    assert finding.evidence["key_wire_bytes"] == RSA4096_WIRE_BYTES
    assert finding.evidence["rsa2048_wire_bytes"] == RSA2048_WIRE_BYTES
    assert finding.saving is not None
    assert finding.saving.bytes == 512
    assert finding.message.startswith(
        "The RSA certificate key is 4096 bits (RSA-4096): 512 bytes more per handshake"
    )


def test_cert011_trigger_rsa4096_fallback_beside_ecdsa(pki: TestPKI) -> None:
    # Given nginx with ECDSA first and an RSA-4096 certificate for RSA-only clients
    with NginxServer(
        "dual",
        pki.ecdsa_p256,
        rsa_cert=str(pki.rsa4096.chain_path),
        rsa_key=str(pki.rsa4096.key_path),
    ) as server:
        finding = audit(server.port, pki.root_path, "CERT011")["CERT011"]
    # Then the fallback is what the rule is about
    assert finding.status is RuleStatus.FAILED
    assert finding.evidence["rsa_key"] == "RSA-4096"


def test_cert011_clean_rsa2048_leaf(pki: TestPKI) -> None:
    finding = on_openssl(pki.rsa2048, pki, "CERT011")["CERT011"]
    assert (finding.rule_id, finding.status) == ("CERT011", RuleStatus.PASSED)
    assert finding.evidence["key_bits"] == 2048


def test_cert011_not_applicable_without_rsa(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT011")["CERT011"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.reason == "the server has no RSA certificate"


def test_cert011_nginx_advice_fixes_it(pki: TestPKI) -> None:
    before = on_nginx(pki.rsa4096, pki, "CERT011")["CERT011"]
    assert (before.status, before.server) == (RuleStatus.FAILED, "nginx")
    assert before.snippet is not None
    assert "rsa:2048" in before.snippet
    # The same ssl_certificate lines, pointing at the RSA-2048 key and certificate
    after = on_nginx(pki.rsa2048, pki, "CERT011")["CERT011"]
    assert after.status is RuleStatus.PASSED


# -- CERT012 weak keys, CERT013 SHA-1, CERT014 lifetime --------------------------------------


def test_cert012_trigger_rsa1024_leaf(pki: TestPKI) -> None:
    weak = rsa.generate_private_key(65537, 1024)  # noqa: S505 - weak on purpose
    issued = pki.issue("rules_rsa1024", weak)
    finding = on_openssl(issued, pki, "CERT012", args=SECURITY_LEVEL_0)["CERT012"]
    assert (finding.rule_id, finding.status, finding.severity) == (
        "CERT012",
        RuleStatus.FAILED,
        Severity.HIGH,
    )
    assert finding.evidence["weak_keys"] == ("position 0: RSA-1024",)
    assert finding.message == "Weak certificate keys: position 0: RSA-1024"


def test_cert012_clean_p256_chain(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT012")["CERT012"]
    assert (finding.rule_id, finding.status) == ("CERT012", RuleStatus.PASSED)
    assert finding.evidence["weak_keys"] == ()


def test_cert013_trigger_sha1_signed_leaf(pki: TestPKI) -> None:
    issued = sha1_signed(pki, "rules_sha1", ec.generate_private_key(ec.SECP256R1()))
    finding = on_openssl(issued, pki, "CERT013", args=SECURITY_LEVEL_0)["CERT013"]
    assert (finding.rule_id, finding.status, finding.severity) == (
        "CERT013",
        RuleStatus.FAILED,
        Severity.HIGH,
    )
    assert finding.evidence["sha1_positions"] == (0,)
    assert finding.evidence["sha1_subjects"] == (LEAF,)
    assert finding.evidence["signature_algorithms"] == ("ecdsa-with-SHA1",)


def test_cert013_clean_sha256_chain(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT013")["CERT013"]
    assert (finding.rule_id, finding.status) == ("CERT013", RuleStatus.PASSED)
    assert finding.evidence["sha1_positions"] == ()


def test_cert014_trigger_one_year_leaf_issued_now(pki: TestPKI) -> None:
    # Given a leaf issued a day ago for a year: since 2026-03-15 the maximum is 200 days
    issued = leaf_with_dates(pki, "one_year", lived_days=1, left_days=365)
    finding = on_openssl(issued, pki, "CERT014")["CERT014"]
    assert (finding.rule_id, finding.status, finding.severity) == (
        "CERT014",
        RuleStatus.FAILED,
        Severity.MEDIUM,
    )
    assert finding.evidence["lifetime_days"] == 366
    assert finding.evidence["max_lifetime_days"] == 200
    assert finding.evidence["not_before"] == issued.certificate.not_valid_before_utc.isoformat()


def test_cert014_clean_ninety_day_leaf(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "CERT014")["CERT014"]
    assert (finding.rule_id, finding.status) == ("CERT014", RuleStatus.PASSED)
    assert (finding.evidence["lifetime_days"], finding.evidence["max_lifetime_days"]) == (91, 200)


# -- OCSP ------------------------------------------------------------------------------------


class _Responder(http.server.BaseHTTPRequestHandler):
    response_der = b""
    answered: threading.Event

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._answer()

    def _answer(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(self.response_der)))
        self.end_headers()
        self.wfile.write(self.response_der)
        self.wfile.flush()
        self.answered.set()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def ocsp_responder(pki: TestPKI) -> Iterator[tuple[int, threading.Event]]:
    """An OCSP responder on loopback answering a good response for the P-256 leaf."""

    class Responder(_Responder):
        response_der = pki.ocsp_response(pki.ecdsa_p256)
        answered = threading.Event()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Responder)
    thread = threading.Thread(target=server.serve_forever, name="lab-ocsp", daemon=True)
    thread.start()
    try:
        yield server.server_address[1], Responder.answered
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def stapled(
    pki: TestPKI, issued: Issued, der: bytes, path: Path, *rules: str
) -> dict[str, Finding]:
    path.write_bytes(der)
    return on_openssl(issued, pki, *rules, args=("-status_file", str(path)))


def test_ocsp001_trigger_no_staple(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "OCSP001")["OCSP001"]
    assert (finding.rule_id, finding.status, finding.severity) == (
        "OCSP001",
        RuleStatus.FAILED,
        Severity.LOW,
    )
    assert finding.evidence["ocsp_urls"] == (OCSP_URL,)
    assert (finding.evidence["tls12_stapled"], finding.evidence["tls13_stapled"]) == (
        "not_supported",
        "not_supported",
    )
    assert finding.evidence["connections_tried"] == 4
    assert finding.message == (
        f"The server staples no OCSP response, though its certificate names a responder "
        f"({OCSP_URL})"
    )


def test_ocsp001_clean_good_staple(pki: TestPKI, tmp_path: Path) -> None:
    der = pki.ocsp_response(pki.ecdsa_p256)
    finding = stapled(pki, pki.ecdsa_p256, der, tmp_path / "good.der", "OCSP001")["OCSP001"]
    assert (finding.rule_id, finding.status) == ("OCSP001", RuleStatus.PASSED)
    assert (finding.evidence["tls12_stapled"], finding.evidence["tls13_stapled"]) == (
        "supported",
        "supported",
    )
    assert finding.evidence["first_stapled_connection"] == 1


def test_ocsp001_not_applicable_without_an_ocsp_url(pki: TestPKI) -> None:
    finding = on_openssl(pki.no_revocation_info, pki, "OCSP001")["OCSP001"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.reason is not None
    assert finding.reason.startswith("the leaf names no OCSP responder")
    assert finding.evidence["ocsp_urls"] == ()


def test_ocsp001_nginx_advice_fixes_it(
    pki: TestPKI, ocsp_responder: tuple[int, threading.Event]
) -> None:
    # Given nginx without stapling
    before = on_nginx(pki.ecdsa_p256, pki, "OCSP001")["OCSP001"]
    assert (before.status, before.server) == (RuleStatus.FAILED, "nginx")
    assert before.snippet is not None
    # When the snippet is applied as written, with the lab's root as the trusted chain and,
    # lab only, the responder on loopback in place of the leaf's unresolvable URL
    port, answered = ocsp_responder
    directives = before.snippet.replace("/etc/ssl/example.com/chain.pem", str(pki.root_path))
    directives += f"\nssl_stapling_responder http://127.0.0.1:{port}/;"
    with NginxServer("basic", pki.ecdsa_p256, server_directives=directives) as server:
        # nginx fetches on the first handshake that asks; wait for its responder to answer
        scan_local(server.port, ca_file=pki.root_path, only_probes=frozenset())
        assert answered.wait(RESPONDER_WAIT_S)
        after = audit(server.port, pki.root_path, "OCSP001")["OCSP001"]
    # Then it staples, and the rule passes
    assert after.status is RuleStatus.PASSED
    assert after.evidence["tls13_stapled"] == "supported"


def bad_signature_response(pki: TestPKI) -> bytes:
    """A good response by the intermediate, its signature spoilt. Without included
    certificates the signature BIT STRING ends the DER; its last byte is the last of ECDSA's s,
    so flipping a bit keeps the encoding valid and the signature wrong."""
    der = pki.ocsp_response(pki.ecdsa_p256)
    return der[:-1] + bytes([der[-1] ^ 0x01])


@pytest.mark.parametrize(
    ("case", "expected_problem"),
    [
        ("expired", "clients treat a stale staple as none"),
        ("future", "(thisUpdate is in the future)"),
        ("wrong_serial", "not the leaf's serial"),
        ("bad_signature", f"the signature does not verify with the key of {INTERMEDIATE}"),
    ],
)
def test_ocsp002_trigger_unusable_staple(
    pki: TestPKI, tmp_path: Path, case: str, expected_problem: str
) -> None:
    # Given s_server stapling a response a client would reject
    der = {
        "expired": lambda: pki.ocsp_response(
            pki.ecdsa_p256,
            this_update_offset=datetime.timedelta(days=-8),
            next_update_offset=datetime.timedelta(days=-1),
        ),
        "future": lambda: pki.ocsp_response(
            pki.ecdsa_p256, this_update_offset=datetime.timedelta(hours=1)
        ),
        "wrong_serial": lambda: pki.ocsp_response(pki.rsa2048),
        "bad_signature": lambda: bad_signature_response(pki),
    }[case]()
    finding = stapled(pki, pki.ecdsa_p256, der, tmp_path / f"{case}.der", "OCSP002")["OCSP002"]
    # Then the rule fails with the probe's reason as evidence
    assert (finding.rule_id, finding.status, finding.severity) == (
        "OCSP002",
        RuleStatus.FAILED,
        Severity.HIGH,
    )
    problems = finding.evidence["problems"]
    assert isinstance(problems, tuple)
    assert len(problems) == 1
    assert expected_problem in str(problems[0])
    assert finding.evidence["stale"] is (case in ("expired", "future"))
    assert finding.message == f"The stapled OCSP response would be rejected: {problems[0]}"


def test_ocsp002_clean_good_staple(pki: TestPKI, tmp_path: Path) -> None:
    der = pki.ocsp_response(pki.ecdsa_p256)
    finding = stapled(pki, pki.ecdsa_p256, der, tmp_path / "good.der", "OCSP002")["OCSP002"]
    assert (finding.rule_id, finding.status) == ("OCSP002", RuleStatus.PASSED)
    assert (finding.evidence["problems"], finding.evidence["cert_status"]) == ((), "good")


def test_ocsp002_clean_leaves_revocation_to_ocsp004(pki: TestPKI, tmp_path: Path) -> None:
    der = pki.ocsp_response(pki.ecdsa_p256, "revoked")
    findings = stapled(pki, pki.ecdsa_p256, der, tmp_path / "revoked.der", "OCSP002", "OCSP004")
    assert findings["OCSP002"].status is RuleStatus.PASSED
    assert findings["OCSP004"].status is RuleStatus.FAILED


def test_ocsp002_not_applicable_without_a_staple(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "OCSP002")["OCSP002"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.reason == "the server stapled nothing"


def test_ocsp003_trigger_must_staple_without_staple(pki: TestPKI) -> None:
    findings = on_openssl(pki.must_staple, pki, "OCSP003", "OCSP001")
    finding = findings["OCSP003"]
    assert (finding.rule_id, finding.status, finding.severity) == (
        "OCSP003",
        RuleStatus.FAILED,
        Severity.CRITICAL,
    )
    assert finding.evidence["must_staple"] is True
    assert finding.evidence["first_stapled_connection"] is None
    # And the plain "not stapled" rule leaves it to this one
    assert findings["OCSP001"].status is RuleStatus.NOT_APPLICABLE
    assert findings["OCSP001"].reason == "must-staple leaf: OCSP003 reports it"


def test_ocsp003_clean_must_staple_with_staple(pki: TestPKI, tmp_path: Path) -> None:
    der = pki.ocsp_response(pki.must_staple)
    finding = stapled(pki, pki.must_staple, der, tmp_path / "must.der", "OCSP003")["OCSP003"]
    assert (finding.rule_id, finding.status) == ("OCSP003", RuleStatus.PASSED)
    assert finding.evidence["first_stapled_connection"] == 1


def test_ocsp003_not_applicable_to_an_ordinary_leaf(pki: TestPKI) -> None:
    finding = on_openssl(pki.ecdsa_p256, pki, "OCSP003")["OCSP003"]
    assert finding.status is RuleStatus.NOT_APPLICABLE
    assert finding.evidence["must_staple"] is False


def test_ocsp003_nginx_advice_fixes_it(pki: TestPKI, tmp_path: Path) -> None:
    # Given nginx serving a must-staple leaf without stapling
    before = on_nginx(pki.must_staple, pki, "OCSP003")["OCSP003"]
    assert (before.status, before.server) == (RuleStatus.FAILED, "nginx")
    assert before.snippet is not None
    # When the snippet's directives are applied with a fresh response file
    path = tmp_path / "ocsp.der"
    path.write_bytes(pki.ocsp_response(pki.must_staple))
    directives = before.snippet.replace("/etc/ssl/example.com/ocsp.der", str(path))
    after = on_nginx(pki.must_staple, pki, "OCSP003", server_directives=directives)["OCSP003"]
    # Then every handshake is stapled, the first included
    assert after.status is RuleStatus.PASSED
    assert after.evidence["first_stapled_connection"] == 1


def test_ocsp004_trigger_revoked_staple(pki: TestPKI, tmp_path: Path) -> None:
    der = pki.ocsp_response(pki.ecdsa_p256, "revoked")
    finding = stapled(pki, pki.ecdsa_p256, der, tmp_path / "revoked.der", "OCSP004")["OCSP004"]
    revoked_at = ocsp.load_der_ocsp_response(der).revocation_time_utc
    assert revoked_at is not None
    assert (finding.rule_id, finding.status, finding.severity) == (
        "OCSP004",
        RuleStatus.FAILED,
        Severity.CRITICAL,
    )
    assert finding.evidence["cert_status"] == "revoked"
    assert finding.evidence["revocation_time"] == revoked_at.isoformat()
    assert finding.evidence["revocation_reason"] == "key_compromise"
    assert finding.message == (
        "The server's own OCSP staple says its certificate is revoked "
        f"(since {revoked_at.isoformat()}, reason: key_compromise)"
    )


def test_ocsp004_clean_good_staple(pki: TestPKI, tmp_path: Path) -> None:
    der = pki.ocsp_response(pki.ecdsa_p256)
    finding = stapled(pki, pki.ecdsa_p256, der, tmp_path / "good.der", "OCSP004")["OCSP004"]
    assert (finding.rule_id, finding.status) == ("OCSP004", RuleStatus.PASSED)
    assert finding.evidence["cert_status"] == "good"


# -- both languages ----------------------------------------------------------------------------


def test_chinese_certificate_findings_carry_the_same_evidence(pki: TestPKI) -> None:
    with OpenSSLServer(pki.wrong_name) as server:
        english = audit(server.port, pki.root_path, "CERT004")["CERT004"]
        chinese = audit(server.port, pki.root_path, "CERT004", lang="zh")["CERT004"]
    assert chinese.evidence == english.evidence
    assert chinese.message == "证书不包含 localhost(证书中的名称:DNS:other.invalid)"


def test_ocsp001_trigger_a_version_that_never_staples_while_the_other_does(pki: TestPKI) -> None:
    # Given a server that staples in TLS 1.3 from its first handshake, never in TLS 1.2
    from tests.probes.test_ocsp import VersionStaplingServer

    der = pki.ocsp_response(pki.rsa2048)
    with VersionStaplingServer(pki.rsa2048, der, {"TLSv1.3": 1}) as server:
        finding = audit(server.port, pki.root_path, "OCSP001")["OCSP001"]
    # Then TLS 1.2, asked again after TLS 1.3 stapled, is the gap the finding names
    assert finding.status is RuleStatus.FAILED
    assert (finding.evidence["tls12_stapled"], finding.evidence["tls13_stapled"]) == (
        "not_supported",
        "supported",
    )
    assert finding.evidence["unstapled_versions"] == ("TLSv1.2",)
    assert finding.message == "The server staples OCSP in some versions but not in TLSv1.2"
