"""Inputs the fuzzers found that crashed a parser once, kept as bytes so they never come back.

Each case names the exception it used to raise and where. The staples below come from a
fuzzing run's throwaway PKI (its keys were never written down): a delegated-responder staple
(status unknown, the responder's certificate included) and a revoked one signed by the issuer.
Each crash is one of them with a single byte changed. They are judged here against the fuzz
fixture's chain, whose issuer has another key, at the moment the staples were dated for.
"""

from __future__ import annotations

import datetime

import pytest

from httpsaudit.probes.ocsp import NOT_OCSP, UNPARSEABLE, analyse_staple
from httpsaudit.results import OcspResponseFacts
from tests.fuzz import seeds

# thisUpdate 2026-01-15T11:00Z, nextUpdate 2026-01-21T12:00Z; producedAt 2026-11-27T08:47:37Z
# (cryptography stamps the real clock), hence the "in the future" problem in every verdict.
STAPLES_DATED_FOR = datetime.datetime(2026, 1, 15, 12, 0, tzinfo=datetime.UTC)

# OCSPResponse successful, byKey responder ID, one SingleResponse (serial 0x1001, status unknown)
# signed by "httpsaudit fuzz responder", whose certificate (issued by "httpsaudit fuzz issuer",
# OCSPSigning EKU) follows the signature from offset 338.
DELEGATED_STAPLE = bytes.fromhex(
    "3082026a0a0100a08202633082025f06092b0601050507300101048202503082024c308190a21604147f509c"
    "6a41e05649039f5af187cd69149c4012dc180f32303236313132373038343733375a30653063303b30090605"
    "2b0e03021a05000414804e62f2cc216124ce077ab83b80974473d50c0204143f20d69f916d2131018d288fc3"
    "4c07ebd2d339ae020210018200180f32303236303131353131303030305aa011180f32303236303132313132"
    "303030305a300a06082a8648ce3d040302034800304502203b9b90959a165d4e4af7d05ec6c65f12a831367d"
    "38e66cc1a474065b7744a38f022100ed52fdd41702189edd1bbf107bc8fcae908b4c0d89a0fcc91b204c7f59"
    "4e02a8a082015f3082015b308201573081ffa003020102020102300a06082a8648ce3d0403023021311f301d"
    "06035504030c16687474707361756469742066757a7a20697373756572301e170d3235313231363132303030"
    "305a170d3236313231363132303030305a30243122302006035504030c19687474707361756469742066757a"
    "7a20726573706f6e6465723059301306072a8648ce3d020106082a8648ce3d030107034200049e20c36d6f56"
    "64ae2e16438553adf19cb388a13d506bd43ac79fefa00aac2df444bd3c27c92d539ef2bdfbd488092748bd96"
    "4cbc8716b3118a25f83db5e5ae8fa3253023300c0603551d130101ff0402300030130603551d25040c300a06"
    "082b06010505070309300a06082a8648ce3d040302034700304402200f390024b06b53077f73f03b8d9cc1fb"
    "57ab5de3879c0364e7e77d76046b5d2502207274b98be457eba3e2c4706be0f8996c826fe7e4b8b63e0fc725"
    "cffb298ef528"
)
# OCSPResponse successful, byName responder ID ("httpsaudit fuzz issuer"), one SingleResponse
# (serial 0x1001) revoked since 2026-01-13T12:00Z, reason keyCompromise (the 01 at offset 179).
REVOKED_STAPLE = bytes.fromhex(
    "308201290a0100a08201223082011e06092b06010505073001010482010f3082010b3081b3a1233021311f30"
    "1d06035504030c16687474707361756469742066757a7a20697373756572180f323032363131323730383437"
    "33375a307b3079303b300906052b0e03021a05000414804e62f2cc216124ce077ab83b80974473d50c020414"
    "3f20d69f916d2131018d288fc34c07ebd2d339ae02021001a116180f32303236303131333132303030305aa0"
    "030a0101180f32303236303131353131303030305aa011180f32303236303132313132303030305a300a0608"
    "2a8648ce3d040302034700304402201200e6cad4ab68c4bd78d705c8f34917dbb1e526df6b9554e8fb0316c9"
    "9be63a0220536b3099b58b367b3059a37698dd5a8b5326b4f1edee623800187ff864f3758a"
)

UNKNOWN_STATUS = "the responder does not know the certificate (status unknown)"
OTHER_ISSUER_KEY = (
    "the CertID's issuerKeyHash is not the hash of the key of CN=httpsaudit fuzz issuer, "
    "the leaf's issuer"
)
PRODUCED_IN_THE_FUTURE = "producedAt 2026-11-27T08:47:37+00:00 is in the future"
NO_KEY_VERIFIES = (
    "the responder ID names neither the leaf's issuer nor a certificate in the response, "
    "and no key at hand verifies the signature"
)
NOT_ISSUED_BY_THE_ISSUER = (
    "signed by CN=httpsaudit fuzz responder, which the leaf's issuer did not issue: "
    "it may not answer for this certificate (RFC 6960 §4.2.2.2)"
)


def _changed(staple: bytes, offset: int, value: int) -> bytes:
    changed = bytearray(staple)
    changed[offset] = value
    return bytes(changed)


def _analyse(staple: bytes) -> OcspResponseFacts:
    fixture = seeds.ocsp_fixture()
    return analyse_staple(staple, fixture.chain_ders, STAPLES_DATED_FOR)


def test_the_unchanged_staples_are_read_in_full() -> None:
    # Given the two staples the crashes below were made from
    # When they are analysed against a chain whose issuer has another key
    delegated = _analyse(DELEGATED_STAPLE)
    revoked = _analyse(REVOKED_STAPLE)

    # Then each is read to the end: the changed byte alone makes each crash below
    assert (delegated.cert_status, delegated.signer, delegated.signature_valid) == (
        "unknown",
        "unknown",
        True,
    )
    assert delegated.problems == (
        UNKNOWN_STATUS,
        OTHER_ISSUER_KEY,
        NOT_ISSUED_BY_THE_ISSUER,
        PRODUCED_IN_THE_FUTURE,
    )
    assert (revoked.cert_status, revoked.revocation_reason) == ("revoked", "key_compromise")


@pytest.mark.parametrize(
    ("offset", "value"),
    [
        # Used to raise UnsupportedAlgorithm ("Unknown key type: 1.2.840.10045.12417") from
        # certificate.public_key() in _check_signature: the responder's key algorithm OID.
        pytest.param(418, 0xE1, id="unknown-key-algorithm"),
        # Used to raise ValueError ("Invalid key"): a point that is not on P-256.
        pytest.param(481, 0x5C, id="point-not-on-the-curve"),
    ],
)
def test_an_included_certificate_whose_key_does_not_load_verifies_nothing(
    offset: int, value: int
) -> None:
    # Given the delegated staple with its responder certificate's public key damaged
    # When it is analysed
    facts = _analyse(_changed(DELEGATED_STAPLE, offset, value))

    # Then no key at hand verifies it: a problem, not an exception
    assert facts.response_status == "successful"
    assert (facts.signer, facts.signature_valid) == ("unknown", None)
    assert facts.problems == (
        UNKNOWN_STATUS,
        OTHER_ISSUER_KEY,
        NO_KEY_VERIFIES,
        PRODUCED_IN_THE_FUTURE,
    )


def test_an_included_certificate_whose_issuer_name_does_not_parse_was_not_issued() -> None:
    # Given the delegated staple with a 0xa4 in its responder certificate's issuer name (this
    # used to raise ValueError "error parsing asn1 value ... issuer" from _issued_by)
    staple = _changed(DELEGATED_STAPLE, 324, 0xA4)

    # When it is analysed
    facts = _analyse(staple)

    # Then the responder's signature verifies, but nothing shows the issuer issued it
    assert (facts.signer, facts.signature_valid) == ("unknown", True)
    assert facts.problems == (
        UNKNOWN_STATUS,
        OTHER_ISSUER_KEY,
        NOT_ISSUED_BY_THE_ISSUER,
        PRODUCED_IN_THE_FUTURE,
    )


@pytest.mark.parametrize(
    ("staple", "offset", "value"),
    [
        # Used to raise ValueError ("... location: ["subject"]") from _subject() while
        # wording a problem: an 0x8e in the included responder certificate's subject.
        pytest.param(DELEGATED_STAPLE, 398, 0x8E, id="included-certificate-subject"),
        # Used to raise TypeError ("oid must be X500_UNIQUE_IDENTIFIER for BitString type")
        # from _subject(): the responder's common name tagged BIT STRING (03) for UTF8String.
        pytest.param(DELEGATED_STAPLE, 380, 0x03, id="included-certificate-subject-bit-string"),
        # Used to raise ValueError from response.responder_name in _responder_id_names:
        # an 0xff (not UTF-8) in the byName responder ID.
        pytest.param(REVOKED_STAPLE, 69, 0xFF, id="responder-name"),
    ],
)
def test_a_staple_whose_inner_names_do_not_parse_is_unparseable(
    staple: bytes, offset: int, value: int
) -> None:
    # Given a staple that loads, but whose names fail once read
    # When it is analysed
    facts = _analyse(_changed(staple, offset, value))

    # Then it is as unparseable as bytes that do not load at all
    assert facts.response_status == UNPARSEABLE
    assert facts.problems == (NOT_OCSP,)
    assert facts.response_bytes == len(staple)


def test_a_revocation_reason_outside_rfc_5280_is_still_a_revocation() -> None:
    # Given the revoked staple with reason code 104 (this used to raise ValueError
    # "Unsupported reason code: 104" from single.revocation_reason)
    staple = _changed(REVOKED_STAPLE, 179, 0x68)

    # When it is analysed
    facts = _analyse(staple)

    # Then the revocation is reported, its reason as unknown
    assert (facts.cert_status, facts.revocation_reason) == ("revoked", None)
    assert facts.problems[0] == (
        "the responder says the certificate is revoked (since 2026-01-13T12:00:00+00:00, "
        "reason: a code outside RFC 5280)"
    )


@pytest.mark.parametrize(
    "damaged_name",
    [
        # Not UTF-8: reading .subject used to raise ValueError in _leaf_and_issuer.
        pytest.param(b"\x0c\x0dfuzz\xfflab.test", id="not-utf-8"),
        # Tagged BIT STRING: reading .subject raises TypeError in cryptography.
        pytest.param(b"\x03\x0dfuzz.lab.test", id="bit-string"),
    ],
)
def test_a_leaf_whose_subject_does_not_parse_is_a_problem(damaged_name: bytes) -> None:
    # Given a good staple and the chain it was made for, the leaf's common name damaged so that
    # load_certificate accepts the leaf but its subject fails once read
    fixture = seeds.ocsp_fixture()
    leaf = fixture.chain_ders[0].replace(b"\x0c\x0dfuzz.lab.test", damaged_name)
    assert leaf != fixture.chain_ders[0]

    # When the staple is analysed against it
    facts = analyse_staple(
        fixture.staples["good_by_issuer"], (leaf, fixture.chain_ders[1]), fixture.now
    )

    # Then the leaf cannot be matched, and that is the one problem
    assert facts.response_status == "successful"
    assert facts.problems == (
        "the leaf certificate does not parse: the response cannot be matched",
    )
