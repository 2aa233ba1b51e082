"""OCSP stapling against real servers: ``openssl s_server -status_file`` with responses made at
test time (good, revoked, unknown, stale, wrongly signed, about another certificate, not OCSP at
all), nginx with ``ssl_stapling_file`` and with a lazily fetched staple, servers that do not
staple, pyOpenSSL servers that staple in one version only, and leaves with must-staple or without
any revocation pointer.

s_server reads its status file on every handshake and nginx its stapling file at start, so a
server per test, fed the DER written just before, is all the state there is.
"""

from __future__ import annotations

import datetime
import hashlib
import math
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from OpenSSL import SSL

from httpsaudit.probes.certificate import CertificateProbe
from httpsaudit.probes.ocsp import (
    ATTEMPTS_WITHOUT_RESPONDER,
    NOT_OCSP,
    STAPLING_ATTEMPTS_PER_VERSION,
    UNPARSEABLE,
    OcspProbe,
    revocation_info,
)
from httpsaudit.probes.versions import VersionsProbe
from httpsaudit.results import (
    OcspResponseFacts,
    OcspResult,
    ProbeId,
    ProbeOutcome,
    ProbeStatus,
    Support,
)
from httpsaudit.scan import run_probe
from tests.pki import CRL_URL, OCSP_URL, Issued, TestPKI, hollow_ocsp_response
from tests.probe_context import make_context, run_probe_on
from tests.pyopenssl_server import PyOpenSSLServer
from tests.servers import (
    MAX_REQUEST_HEAD_BYTES,
    DelayProxy,
    NginxServer,
    OpenSSLServer,
    _read_until,
    _ThreadedTcpServer,
)

# Both versions offered and none stapling: every handshake allowed is spent, in two rounds.
ALL_ATTEMPTS = 2 * STAPLING_ATTEMPTS_PER_VERSION
INTERMEDIATE = "CN=httpsaudit Test Intermediate,O=httpsaudit test lab"
# Fixed stand-in for random bytes, so the test is the same on every run.
NOT_A_BASIC_RESPONSE = hashlib.sha512(b"httpsaudit: not an OCSP BasicOCSPResponse").digest()
# The lazy-fetch test: each chunk through the proxy waits this long, so a staple the responder
# releases when our second round connects is in nginx well before those ClientHellos are.
ONE_WAY_DELAY_MS = 100
# How often the held responder looks at its release condition.
RELEASE_POLL_S = 0.005


@pytest.fixture
def staple_file(tmp_path: Path) -> Callable[[bytes], Path]:
    """Writes DER where a server can read it as its status (or stapling) file."""

    def write(der: bytes) -> Path:
        path = tmp_path / "staple.der"
        path.write_bytes(der)
        return path

    return write


def ocsp_on(port: int, pki: TestPKI) -> ProbeOutcome[object]:
    return run_probe_on(
        OcspProbe(), port, ca_file=pki.root_path, first=[VersionsProbe(), CertificateProbe()]
    )


def stapled_by_s_server(
    pki: TestPKI, issued: Issued, path: Path, *args: str
) -> tuple[ProbeOutcome[object], OcspResult, datetime.datetime, datetime.datetime]:
    """The probe against s_server stapling ``path``, and the clock before and after it ran."""
    with OpenSSLServer(issued, "-status_file", str(path), *args) as server:
        before = now()
        outcome = ocsp_on(server.port, pki)
        after = now()
    return outcome, result_of(outcome), before, after


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def result_of(outcome: ProbeOutcome[object]) -> OcspResult:
    assert outcome.status is ProbeStatus.COMPLETED, outcome.error or outcome.skip_reason
    assert isinstance(outcome.result, OcspResult)
    return outcome.result


def facts_of(result: OcspResult) -> OcspResponseFacts:
    assert result.response is not None
    return result.response


def assert_stapled_at_once_in_both_versions(outcome: ProbeOutcome[object]) -> OcspResult:
    result = result_of(outcome)
    assert result.tls12_stapled is Support.SUPPORTED
    assert result.tls13_stapled is Support.SUPPORTED
    assert (result.connections_tried, result.first_stapled_connection) == (2, 1)
    assert outcome.connections == 2
    return result


def assert_times_match(
    facts: OcspResponseFacts, der: bytes, before: datetime.datetime, after: datetime.datetime
) -> None:
    """Times are the response's own; age and expiry fall between the clock around the probe."""
    response = ocsp.load_der_ocsp_response(der)
    this_update = response.this_update_utc
    next_update = response.next_update_utc
    assert next_update is not None
    assert facts.produced_at == response.produced_at_utc.isoformat()
    assert facts.this_update == this_update.isoformat()
    assert facts.next_update == next_update.isoformat()
    assert facts.age_s is not None
    assert facts.expires_in_s is not None
    assert whole_seconds(before - this_update) <= facts.age_s <= whole_seconds(after - this_update)
    assert (
        whole_seconds(next_update - after)
        <= facts.expires_in_s
        <= whole_seconds(next_update - before)
    )


def whole_seconds(delta: datetime.timedelta) -> int:
    return math.floor(delta.total_seconds())


def assert_all_checks_pass(facts: OcspResponseFacts, der: bytes) -> None:
    assert facts.response_bytes == len(der)
    assert facts.response_status == "successful"
    assert facts.cert_status == "good"
    assert (facts.revocation_time, facts.revocation_reason) == (None, None)
    assert facts.serial_matches is True
    assert facts.issuer_key_hash_matches is True
    assert facts.signature_valid is True
    assert facts.stale is False
    assert facts.problems == ()


# -- Stapled and verified --------------------------------------------------------------------


def test_good_staple_in_tls12_and_tls13_passes_every_check(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given s_server stapling a good response for its leaf, signed by the issuer
    der = pki.ocsp_response(pki.ecdsa_p256, "good")
    # When the probe runs
    outcome, _, before, after = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then both versions staple on their first handshake, and nothing more is tried
    result = assert_stapled_at_once_in_both_versions(outcome)
    # And the staple passes every check, signed by the issuer itself
    facts = facts_of(result)
    assert_all_checks_pass(facts, der)
    assert (facts.signer, facts.delegated_ocsp_signing) == ("issuer", None)
    assert_times_match(facts, der, before, after)
    # And the leaf's revocation pointers are reported; it is not must-staple
    assert result.ocsp_urls == (OCSP_URL,)
    assert result.crl_urls == (CRL_URL,)
    assert result.revocation_info == "ocsp+crl"
    assert (result.must_staple, result.must_staple_violated) == (False, False)


def test_tls12_only_server_staples_in_a_certificate_status_message(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given s_server without TLS 1.3, stapling a good response
    der = pki.ocsp_response(pki.ecdsa_p256)
    # When the probe runs
    outcome, result, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der), "-no_tls1_3")
    # Then TLS 1.2 staples on its first handshake and TLS 1.3 is not tried
    assert (result.tls12_stapled, result.tls13_stapled) == (Support.SUPPORTED, Support.NOT_TESTED)
    assert (result.connections_tried, result.first_stapled_connection) == (1, 1)
    assert outcome.connections == 1
    assert_all_checks_pass(facts_of(result), der)


def test_tls13_only_server_staples_in_the_certificate_entry(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given s_server with TLS 1.3 only, stapling a good response
    der = pki.ocsp_response(pki.ecdsa_p256)
    # When the probe runs
    outcome, result, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der), "-no_tls1_2")
    # Then TLS 1.3 staples on its first handshake and TLS 1.2 is not tried
    assert (result.tls12_stapled, result.tls13_stapled) == (Support.NOT_TESTED, Support.SUPPORTED)
    assert (result.connections_tried, result.first_stapled_connection) == (1, 1)
    assert outcome.connections == 1
    assert_all_checks_pass(facts_of(result), der)


def test_revoked_staple_names_time_and_reason(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given a staple saying the leaf was revoked (key compromise) two days ago
    der = pki.ocsp_response(pki.ecdsa_p256, "revoked")
    revoked_at = ocsp.load_der_ocsp_response(der).revocation_time_utc
    assert revoked_at is not None
    # When the probe runs
    outcome, result, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    assert_stapled_at_once_in_both_versions(outcome)
    # Then the status, its time and reason are reported, and the revocation is a problem
    facts = facts_of(result)
    assert facts.cert_status == "revoked"
    assert facts.revocation_time == revoked_at.isoformat()
    assert facts.revocation_reason == "key_compromise"
    assert facts.problems == (
        f"the responder says the certificate is revoked (since {revoked_at.isoformat()}, "
        "reason: key_compromise)",
    )
    # And the rest of the response is sound
    assert (facts.serial_matches, facts.issuer_key_hash_matches) == (True, True)
    assert (facts.signature_valid, facts.signer, facts.stale) == (True, "issuer", False)


def test_unknown_status_is_a_problem(pki: TestPKI, staple_file: Callable[[bytes], Path]) -> None:
    # Given a staple in which the responder does not know the leaf
    der = pki.ocsp_response(pki.ecdsa_p256, "unknown")
    # When the probe runs
    _, result, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then the status is unknown, with no revocation details, and that is the only problem
    facts = facts_of(result)
    assert facts.cert_status == "unknown"
    assert (facts.revocation_time, facts.revocation_reason) == (None, None)
    assert facts.problems == ("the responder does not know the certificate (status unknown)",)
    assert (facts.signature_valid, facts.signer) == (True, "issuer")


def test_expired_staple_is_stale(pki: TestPKI, staple_file: Callable[[bytes], Path]) -> None:
    # Given a staple whose nextUpdate passed a day ago
    der = pki.ocsp_response(
        pki.ecdsa_p256,
        this_update_offset=datetime.timedelta(days=-8),
        next_update_offset=datetime.timedelta(days=-1),
    )
    next_update = ocsp.load_der_ocsp_response(der).next_update_utc
    assert next_update is not None
    # When the probe runs
    _, result, before, after = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then it is stale, expired a day ago, and says so
    facts = facts_of(result)
    assert facts.stale is True
    assert facts.expires_in_s is not None
    assert facts.expires_in_s < -86000
    assert_times_match(facts, der, before, after)
    assert facts.problems == (
        f"the response expired at {next_update.isoformat()} (nextUpdate): "
        "clients treat a stale staple as none",
    )
    # And everything else about it is right
    assert (facts.cert_status, facts.serial_matches, facts.signature_valid) == ("good", True, True)


def test_staple_from_the_future_is_stale(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given a staple whose thisUpdate is an hour ahead (past the clock-skew allowance)
    der = pki.ocsp_response(pki.ecdsa_p256, this_update_offset=datetime.timedelta(hours=1))
    this_update = ocsp.load_der_ocsp_response(der).this_update_utc
    # When the probe runs
    _, result, before, after = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then it is stale with a negative age, and says why
    facts = facts_of(result)
    assert facts.stale is True
    assert facts.age_s is not None
    assert facts.age_s < -3000
    assert_times_match(facts, der, before, after)
    assert facts.problems == (
        f"the response is not valid until {this_update.isoformat()} (thisUpdate is in the future)",
    )


# -- Who signed it ---------------------------------------------------------------------------


def test_delegated_responder_with_ocsp_signing_is_accepted(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given a staple signed by a responder certificate the issuer gave the OCSPSigning EKU
    der = pki.ocsp_response(pki.ecdsa_p256, signer=pki.ocsp_responder)
    # When the probe runs
    _, result, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then the delegated signer is recognised and every check passes
    facts = facts_of(result)
    assert (facts.signer, facts.delegated_ocsp_signing) == ("delegated", True)
    assert_all_checks_pass(facts, der)


def test_delegated_responder_without_ocsp_signing_is_refused(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given a staple signed by another leaf of the same issuer: a server-auth EKU only
    der = pki.ocsp_response(pki.ecdsa_p256, signer=pki.ecdsa_p384)
    # When the probe runs
    _, result, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then the signature verifies with its key, but the signer lacks the authority
    facts = facts_of(result)
    assert (facts.signer, facts.delegated_ocsp_signing) == ("delegated", False)
    assert facts.signature_valid is True
    subject = pki.ecdsa_p384.certificate.subject.rfc4514_string()
    assert facts.problems == (
        f"the delegated responder {subject} lacks the OCSPSigning extended key usage "
        "(RFC 6960 §4.2.2.2)",
    )


def test_expired_delegated_responder_is_refused(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given a staple signed by an OCSP responder certificate that expired yesterday
    responder = expired_ocsp_responder(pki)
    der = pki.ocsp_response(pki.ecdsa_p256, signer=responder)
    # When the probe runs
    _, result, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then it is a delegated signer with the right EKU, refused for its dates
    facts = facts_of(result)
    assert (facts.signer, facts.delegated_ocsp_signing, facts.signature_valid) == (
        "delegated",
        True,
        True,
    )
    certificate = responder[0]
    assert facts.problems == (
        f"the delegated responder certificate {certificate.subject.rfc4514_string()} is not "
        f"valid now (valid from {certificate.not_valid_before_utc.isoformat()} to "
        f"{certificate.not_valid_after_utc.isoformat()})",
    )


def test_staple_signed_with_a_key_unrelated_to_the_issuer_fails_verification(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given a forged staple: its responder ID names the issuer, its key is unrelated to it
    der = forged_response(pki, pki.ecdsa_p256, responder=ocsp.OCSPResponderEncoding.NAME)
    # When the probe runs
    _, result, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then the signature does not verify with the issuer's key
    facts = facts_of(result)
    assert (facts.signer, facts.signature_valid) == ("issuer", False)
    assert facts.problems == (
        f"the signature does not verify with the key of {INTERMEDIATE}, "
        "whom the responder ID names",
    )
    # And the CertID itself is right
    assert (facts.serial_matches, facts.issuer_key_hash_matches) == (True, True)


def test_staple_signed_by_an_unknown_responder_has_no_signer(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given a staple signed by a responder whose certificate is neither sent nor the issuer
    der = forged_response(pki, pki.ecdsa_p256, responder=ocsp.OCSPResponderEncoding.HASH)
    # When the probe runs
    _, result, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then no signer is found, so the signature cannot be checked
    facts = facts_of(result)
    assert (facts.signer, facts.signature_valid) == ("unknown", None)
    assert facts.problems == (
        "the responder ID names neither the leaf's issuer nor a certificate in the "
        "response, and no key at hand verifies the signature",
    )


def test_staple_signed_by_a_certificate_outside_the_issuers_authority(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given a staple signed by a self-signed certificate, included in the response
    der = pki.ocsp_response(pki.ecdsa_p256, signer=pki.self_signed)
    # When the probe runs
    _, result, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then its key made the signature, but it may not answer for the leaf
    facts = facts_of(result)
    assert (facts.signer, facts.signature_valid, facts.delegated_ocsp_signing) == (
        "unknown",
        True,
        None,
    )
    subject = pki.self_signed.certificate.subject.rfc4514_string()
    assert facts.problems == (
        f"signed by {subject}, which the leaf's issuer did not issue: "
        "it may not answer for this certificate (RFC 6960 §4.2.2.2)",
    )


# -- About the wrong certificate, or not OCSP at all ----------------------------------------


def test_staple_for_another_certificate_has_the_wrong_serial(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given the P-256 server stapling the response made for the RSA leaf (same issuer)
    der = pki.ocsp_response(pki.rsa2048)
    # When the probe runs
    _, result, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then the serial does not match, though the issuer and signature do
    facts = facts_of(result)
    assert facts.serial_matches is False
    assert (facts.issuer_key_hash_matches, facts.signature_valid) == (True, True)
    assert facts.problems == (
        f"the response is about serial {pki.rsa2048.certificate.serial_number:x}, "
        f"not the leaf's serial {pki.ecdsa_p256.certificate.serial_number:x}",
    )


def test_staple_naming_another_issuer_key_has_the_wrong_issuer_key_hash(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given a staple whose CertID has the leaf's serial and issuer name, but the root's key
    der = response_naming_issuer(pki, pki.ecdsa_p256, pki.root)
    # When the probe runs
    _, result, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then the serial matches, the issuer key hash does not
    facts = facts_of(result)
    assert (facts.serial_matches, facts.issuer_key_hash_matches) == (True, False)
    assert (facts.signature_valid, facts.signer) == (True, "issuer")
    assert facts.problems == (
        f"the CertID's issuerKeyHash is not the hash of the key of {INTERMEDIATE}, "
        "the leaf's issuer",
    )


def test_staple_that_is_not_an_ocsp_response_is_a_problem(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given s_server stapling a response whose signed part is arbitrary bytes (raw random bytes
    # as a status file make s_server refuse every handshake with internal_error instead)
    der = hollow_ocsp_response(NOT_A_BASIC_RESPONSE)
    # When the probe runs
    outcome, _, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then it counts as stapled, and reads as no valid response at all
    facts = facts_of(assert_stapled_at_once_in_both_versions(outcome))
    assert facts == OcspResponseFacts(
        response_bytes=len(der),
        response_status=UNPARSEABLE,
        cert_status=None,
        revocation_time=None,
        revocation_reason=None,
        serial_matches=None,
        issuer_key_hash_matches=None,
        signature_valid=None,
        signer=None,
        delegated_ocsp_signing=None,
        produced_at=None,
        this_update=None,
        next_update=None,
        age_s=None,
        expires_in_s=None,
        stale=False,
        problems=(NOT_OCSP,),
    )


def test_unsuccessful_response_status_is_a_problem(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given s_server stapling the responder's "try later" answer
    der = ocsp.OCSPResponseBuilder.build_unsuccessful(
        ocsp.OCSPResponseStatus.TRY_LATER
    ).public_bytes(serialization.Encoding.DER)
    # When the probe runs
    _, result, _, _ = stapled_by_s_server(pki, pki.ecdsa_p256, staple_file(der))
    # Then the status is reported and nothing else can be checked
    facts = facts_of(result)
    assert facts.response_status == "try_later"
    assert (facts.cert_status, facts.signer, facts.signature_valid) == (None, None, None)
    assert facts.problems == (
        "the response status is try_later, not successful: "
        "it carries no certificate status (RFC 6960 §4.2.1)",
    )


def test_missing_intermediate_leaves_issuer_and_signer_unchecked(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given a server that sends its leaf without the intermediate, stapling a good response
    der = pki.ocsp_response(pki.missing_intermediate)
    # When the probe runs
    _, result, _, _ = stapled_by_s_server(pki, pki.missing_intermediate, staple_file(der))
    # Then the serial is checked, but issuer and signature cannot be
    facts = facts_of(result)
    assert (facts.cert_status, facts.serial_matches) == ("good", True)
    assert (facts.issuer_key_hash_matches, facts.signature_valid, facts.signer) == (
        None,
        None,
        "unknown",
    )
    assert facts.problems == (
        "the leaf's issuer certificate was not sent: "
        "the response's issuer and signer cannot be checked",
    )


# -- Not stapling, must-staple, no revocation info -------------------------------------------


def test_server_without_stapling_is_asked_twice_per_version(pki: TestPKI) -> None:
    # Given s_server with no status file
    with OpenSSLServer(pki.ecdsa_p256) as server:
        # When the probe runs
        outcome = ocsp_on(server.port, pki)
    # Then every allowed handshake was spent (a first round and one retry round, both versions
    # side by side), and none brought a staple
    result = result_of(outcome)
    assert (result.tls12_stapled, result.tls13_stapled) == (
        Support.NOT_SUPPORTED,
        Support.NOT_SUPPORTED,
    )
    assert (result.connections_tried, result.first_stapled_connection) == (ALL_ATTEMPTS, None)
    assert outcome.connections == ALL_ATTEMPTS == 4
    assert result.response is None
    # And the leaf expects stapling to be possible (it names a responder), not required
    assert result.revocation_info == "ocsp+crl"
    assert (result.must_staple, result.must_staple_violated) == (False, False)


def test_must_staple_leaf_without_a_staple_is_a_violation(pki: TestPKI) -> None:
    # Given a must-staple leaf on a server that does not staple
    with OpenSSLServer(pki.must_staple) as server:
        # When the probe runs
        outcome = ocsp_on(server.port, pki)
    # Then enforcing clients would refuse it
    result = result_of(outcome)
    assert (result.must_staple, result.must_staple_violated) == (True, True)
    assert (result.tls12_stapled, result.tls13_stapled) == (
        Support.NOT_SUPPORTED,
        Support.NOT_SUPPORTED,
    )
    assert outcome.connections == ALL_ATTEMPTS


def test_must_staple_leaf_with_a_staple_is_no_violation(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given a must-staple leaf on a server stapling a good response for it
    der = pki.ocsp_response(pki.must_staple)
    # When the probe runs
    outcome, _, _, _ = stapled_by_s_server(pki, pki.must_staple, staple_file(der))
    # Then the promise is kept
    result = assert_stapled_at_once_in_both_versions(outcome)
    assert (result.must_staple, result.must_staple_violated) == (True, False)
    assert_all_checks_pass(facts_of(result), der)


def test_leaf_without_revocation_info_expects_no_staple(pki: TestPKI) -> None:
    # Given a leaf with neither an OCSP responder nor a CRL, on a server that does not staple
    with OpenSSLServer(pki.no_revocation_info) as server:
        # When the probe runs
        outcome = ocsp_on(server.port, pki)
    # Then there is no revocation information, and one handshake per version suffices
    result = result_of(outcome)
    assert result.revocation_info == "none"
    assert (result.ocsp_urls, result.crl_urls) == ((), ())
    assert (result.tls12_stapled, result.tls13_stapled) == (
        Support.NOT_SUPPORTED,
        Support.NOT_SUPPORTED,
    )
    assert result.connections_tried == outcome.connections == 2 * ATTEMPTS_WITHOUT_RESPONDER
    assert (result.response, result.must_staple_violated) == (None, False)


def test_leaf_without_revocation_info_still_records_a_staple(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given a leaf without an OCSP URL whose server staples a response from a file anyway
    der = pki.ocsp_response(pki.no_revocation_info)
    # When the probe runs
    outcome, _, _, _ = stapled_by_s_server(pki, pki.no_revocation_info, staple_file(der))
    # Then the staple is recorded and verified all the same
    result = assert_stapled_at_once_in_both_versions(outcome)
    assert result.revocation_info == "none"
    assert_all_checks_pass(facts_of(result), der)


@pytest.mark.parametrize(
    ("ocsp_urls", "crl_urls", "expected"),
    [
        ((OCSP_URL,), (CRL_URL,), "ocsp+crl"),
        ((OCSP_URL,), (), "ocsp"),
        ((), (CRL_URL,), "crl"),
        ((), (), "none"),
    ],
)
def test_revocation_info_names_what_the_leaf_offers(
    ocsp_urls: tuple[str, ...], crl_urls: tuple[str, ...], expected: str
) -> None:
    # Given a leaf's OCSP and CRL pointers / When summarised / Then the label says which
    assert revocation_info(ocsp_urls, crl_urls) == expected


# -- One version at a time ------------------------------------------------------------------


class VersionStaplingServer(PyOpenSSLServer):
    """A pyOpenSSL server that staples ``staple`` in a version from that version's
    ``from_handshake[version]``-th handshake asking for one (1-based; absent: never)."""

    thread_name = "lab-version-stapling"

    def __init__(self, issued: Issued, staple: bytes, from_handshake: dict[str, int]) -> None:
        super().__init__(issued)
        self.staple = staple
        self.from_handshake = from_handshake
        self.handshakes: Counter[str] = Counter()
        self._count_lock = threading.Lock()
        self.context.set_ocsp_server_callback(self._status)

    def _status(self, connection: SSL.Connection, _data: object) -> bytes:
        version = connection.get_protocol_version_name()
        with self._count_lock:
            self.handshakes[version] += 1
            seen = self.handshakes[version]
        first = self.from_handshake.get(version)
        return self.staple if first is not None and seen >= first else b""


def ocsp_after_setup(pki: TestPKI, server: VersionStaplingServer) -> ProbeOutcome[object]:
    """The probe alone: the handshakes of the probes it needs are not counted by the server."""
    context = make_context(server.port, ca_file=pki.root_path)
    for probe in (VersionsProbe(), CertificateProbe()):
        context.outcomes[probe.probe_id] = run_probe(probe, context)
    server.handshakes.clear()
    return run_probe(OcspProbe(), context)


@pytest.mark.parametrize(
    ("stapling_version", "expected", "first_stapled"),
    [
        ("TLSv1.2", (Support.SUPPORTED, Support.NOT_SUPPORTED), 1),
        ("TLSv1.3", (Support.NOT_SUPPORTED, Support.SUPPORTED), 2),
    ],
)
def test_version_without_a_staple_is_asked_again_after_the_other_stapled(
    pki: TestPKI,
    stapling_version: str,
    expected: tuple[Support, Support],
    first_stapled: int,
) -> None:
    # Given a server that staples in one version only, from its first handshake
    der = pki.ocsp_response(pki.rsa2048)
    with VersionStaplingServer(pki.rsa2048, der, {stapling_version: 1}) as server:
        # When the probe runs
        outcome = ocsp_after_setup(pki, server)
        asked = dict(server.handshakes)
    # Then that version staples in the first round, and the other, asked once more in a second
    # round (when the server had a staple to send), is found not to staple
    result = result_of(outcome)
    assert (result.tls12_stapled, result.tls13_stapled) == expected
    assert (result.connections_tried, result.first_stapled_connection) == (3, first_stapled)
    assert outcome.connections == 3
    other = "TLSv1.3" if stapling_version == "TLSv1.2" else "TLSv1.2"
    assert asked == {stapling_version: 1, other: 2}
    assert_all_checks_pass(facts_of(result), der)


@pytest.mark.parametrize(
    ("tls13_from", "tls13_stapled"), [(3, Support.SUPPORTED), (4, Support.NOT_SUPPORTED)]
)
def test_version_missing_a_late_staple_gets_a_third_round(
    pki: TestPKI, tls13_from: int, tls13_stapled: Support
) -> None:
    # Given a server that staples in TLS 1.2 from its second handshake, in TLS 1.3 from its
    # third (or fourth) one: both miss the first round, only TLS 1.2 staples in the second
    der = pki.ocsp_response(pki.rsa2048)
    with VersionStaplingServer(pki.rsa2048, der, {"TLSv1.2": 2, "TLSv1.3": tls13_from}) as server:
        # When the probe runs
        outcome = ocsp_after_setup(pki, server)
        asked = dict(server.handshakes)
    # Then TLS 1.3, which used its two handshakes while the server had no staple yet, is asked
    # a third time, and its verdict is whatever that handshake brings
    result = result_of(outcome)
    assert (result.tls12_stapled, result.tls13_stapled) == (Support.SUPPORTED, tls13_stapled)
    # And the first staple came on the second round's TLS 1.2 handshake, the third of five
    assert (result.connections_tried, result.first_stapled_connection) == (5, 3)
    assert outcome.connections == 5
    assert asked == {"TLSv1.2": 2, "TLSv1.3": 3}


# -- nginx -----------------------------------------------------------------------------------


def nginx(pki: TestPKI, directives: str) -> NginxServer:
    return NginxServer(
        "session",
        pki.ecdsa_p256,
        session_cache="off",
        session_tickets="off",
        session_timeout="300s",
        server_directives=directives,
    )


def test_nginx_staples_its_stapling_file(
    pki: TestPKI, staple_file: Callable[[bytes], Path]
) -> None:
    # Given nginx with "ssl_stapling on" and a stapling file (measured: no resolver and no
    # "ssl_stapling_verify off" needed; the file is used as it is)
    der = pki.ocsp_response(pki.ecdsa_p256)
    directives = f"ssl_stapling on; ssl_stapling_file {staple_file(der)};"
    with nginx(pki, directives) as server:
        # When the probe runs
        outcome = ocsp_on(server.port, pki)
    # Then both versions staple at once, and the staple passes every check
    result = assert_stapled_at_once_in_both_versions(outcome)
    assert_all_checks_pass(facts_of(result), der)
    assert facts_of(result).signer == "issuer"


class HeldOcspResponder(_ThreadedTcpServer):
    """An OCSP responder over HTTP that holds its answer until ``release_when`` says so."""

    thread_name = "lab-ocsp-responder"

    def __init__(self, response_der: bytes) -> None:
        super().__init__("127.0.0.1")
        self.response_der = response_der
        self.requests: list[bytes] = []
        self._release: Callable[[], bool] = lambda: False
        self._release_lock = threading.Lock()

    def release_when(self, condition: Callable[[], bool]) -> None:
        with self._release_lock:
            self._release = condition

    def _released(self) -> bool:
        with self._release_lock:
            return self._release()

    def _handle(self, connection: socket.socket) -> None:
        head = _read_until(connection, b"\r\n\r\n", MAX_REQUEST_HEAD_BYTES)
        with self._lock:
            self.requests.append(head)
        while not self._released():
            if self.stopping:
                return
            time.sleep(RELEASE_POLL_S)
        connection.sendall(
            b"HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\n"
            b"Content-Length: %d\r\n\r\n" % len(self.response_der) + self.response_der
        )


def test_nginx_fetching_its_staple_lazily_staples_from_the_second_round(
    pki: TestPKI,
) -> None:
    # Given nginx fetching its staple from a responder on loopback, behind a proxy adding RTT,
    # and a responder that answers only once our second round of handshakes (one per version,
    # side by side, after the first round of two) has connected
    der = pki.ocsp_response(pki.ecdsa_p256)
    with HeldOcspResponder(der) as responder:
        directives = (
            "ssl_stapling on; ssl_stapling_verify off; "
            f"ssl_stapling_responder http://127.0.0.1:{responder.port}/;"
        )
        with (
            nginx(pki, directives) as server,
            DelayProxy("127.0.0.1", server.port, ONE_WAY_DELAY_MS) as proxy,
        ):
            context = make_context(proxy.port, ca_file=pki.root_path)
            for probe in (VersionsProbe(), CertificateProbe()):
                context.outcomes[probe.probe_id] = run_probe(probe, context)
            connected_before = proxy.connections
            responder.release_when(lambda: proxy.connections >= connected_before + 3)
            # When the probe runs
            outcome = run_probe(OcspProbe(), context)
    # Then the first round's two handshakes came without a staple and both retries with one
    result = result_of(outcome)
    assert (result.tls12_stapled, result.tls13_stapled) == (Support.SUPPORTED, Support.SUPPORTED)
    assert (result.connections_tried, result.first_stapled_connection) == (4, 3)
    assert outcome.connections == 4
    assert_all_checks_pass(facts_of(result), der)
    # And nginx asked its responder once, for all those handshakes
    assert len(responder.requests) == 1
    assert responder.requests[0].startswith(b"GET /")
    assert context.outcomes[ProbeId.VERSIONS].status is ProbeStatus.COMPLETED


# -- Responses the PKI helper does not make --------------------------------------------------


def expired_ocsp_responder(pki: TestPKI) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A delegated responder with the OCSPSigning EKU whose certificate expired yesterday."""
    key = ec.generate_private_key(ec.SECP256R1())
    yesterday = now() - datetime.timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "expired OCSP responder")])
        )
        .issuer_name(pki.intermediate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(yesterday - datetime.timedelta(days=30))
        .not_valid_after(yesterday)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .sign(pki.intermediate_key, hashes.SHA256())
    )
    return certificate, key


def response_naming_issuer(pki: TestPKI, issued: Issued, issuer: x509.Certificate) -> bytes:
    """A good response about ``issued``, signed by its real issuer (the intermediate), whose
    CertID hashes ``issuer``'s key (cryptography hashes the leaf's own issuer name)."""
    return (
        _good_response(issued, issuer)
        .responder_id(ocsp.OCSPResponderEncoding.HASH, pki.intermediate)
        .sign(pki.intermediate_key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )


def forged_response(
    pki: TestPKI, issued: Issued, *, responder: ocsp.OCSPResponderEncoding
) -> bytes:
    """A good response signed with a new key, under a self-made certificate bearing the
    intermediate's name; not included. By name the responder ID names the real issuer, by
    hash it names nobody the client knows."""
    key = ec.generate_private_key(ec.SECP256R1())
    moment = now()
    impostor = (
        x509.CertificateBuilder()
        .subject_name(pki.intermediate.subject)
        .issuer_name(pki.intermediate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - datetime.timedelta(days=1))
        .not_valid_after(moment + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    builder = _good_response(issued, pki.intermediate).responder_id(responder, impostor)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _good_response(issued: Issued, issuer: x509.Certificate) -> ocsp.OCSPResponseBuilder:
    moment = now()
    return ocsp.OCSPResponseBuilder().add_response(
        cert=issued.certificate,
        issuer=issuer,
        algorithm=hashes.SHA1(),  # noqa: S303 - the CertID hash every responder uses
        cert_status=ocsp.OCSPCertStatus.GOOD,
        this_update=moment - datetime.timedelta(hours=1),
        next_update=moment + datetime.timedelta(days=7),
        revocation_time=None,
        revocation_reason=None,
    )
