"""Properties of certificate loading and stapled OCSP analysis on garbage and mutated DER.

``load_certificate`` raises only DecodeError. ``analyse_staple`` never raises: bytes that
cryptography cannot load as an OCSPResponse are "unparseable" with exactly the NOT_OCSP
problem, and a chain whose certificates are damaged is a problem too.
"""

from __future__ import annotations

import warnings

from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import ocsp
from hypothesis import given, settings
from hypothesis import strategies as st

from httpsaudit.probes.ocsp import NOT_OCSP, UNPARSEABLE, analyse_staple
from tests.fuzz import seeds
from tests.fuzz.mutations import Mutation
from tests.fuzz.strategies import mutated_inputs, mutated_seed, mutation_lists
from tests.fuzz.targets import ACCEPTED, REJECTED, TARGETS

CERTIFICATE = TARGETS["certificate"]
OCSP = TARGETS["ocsp"]
_STATUS_NAMES = frozenset(status.name.lower() for status in ocsp.OCSPResponseStatus)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_are_no_certificate(data: bytes) -> None:
    # Given any bytes as a certificate
    # Then load_certificate parses them or raises DecodeError with the offset it was given
    assert CERTIFICATE.run(data) in (ACCEPTED, REJECTED)


@settings(max_examples=500, deadline=None)
@given(data=mutated_inputs(CERTIFICATE))
def test_mutated_certificates_load_or_raise_decode_error(data: bytes) -> None:
    # Given a real certificate (RSA or ECDSA) with bytes or lengths changed
    # Then load_certificate parses it or raises DecodeError, whatever cryptography objects to
    assert CERTIFICATE.run(data) in (ACCEPTED, REJECTED)


def _loads_as_ocsp(data: bytes) -> bool:
    try:
        ocsp.load_der_ocsp_response(data)
    except ValueError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_staples_are_unparseable_exactly_when_they_do_not_load(data: bytes) -> None:
    # Given any bytes stapled
    fixture = seeds.ocsp_fixture()

    # When they are analysed against a good chain
    facts = analyse_staple(data, fixture.chain_ders, fixture.now)

    # Then bytes that do not load are "unparseable" with the one NOT_OCSP problem; bytes that
    # do (an unsuccessful status fits in 5) get their status, or "unparseable" when an inner
    # field fails once read
    assert facts.response_bytes == len(data)
    if not _loads_as_ocsp(data):
        assert facts.response_status == UNPARSEABLE
        assert facts.problems == (NOT_OCSP,)
    else:
        assert facts.response_status in _STATUS_NAMES | {UNPARSEABLE}


@settings(max_examples=1500, deadline=None)
@given(data=mutated_inputs(OCSP))
def test_mutated_staples_never_raise(data: bytes) -> None:
    # Given a real staple (good, revoked, delegated, try_later) with bytes or lengths changed
    # When it is analysed against the chain it was made for
    # Then a verdict comes out, never an exception
    assert OCSP.run(data) == ACCEPTED


@settings(max_examples=400, deadline=None)
@given(
    staple=st.sampled_from(sorted(seeds.ocsp_fixture().staples)),
    which=st.integers(0, 1),
    changes=mutation_lists(),
)
def test_a_damaged_chain_is_a_problem_not_an_exception(
    staple: str, which: int, changes: list[Mutation]
) -> None:
    # Given a real staple and its chain with the leaf or the issuer damaged
    fixture = seeds.ocsp_fixture()
    chain = list(fixture.chain_ders)
    chain[which] = mutated_seed(CERTIFICATE, chain[which], changes)

    # When the staple is analysed against that chain
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        facts = analyse_staple(fixture.staples[staple], chain, fixture.now)

    # Then the staple still parses: whatever is wrong is listed as a problem
    assert facts.response_status != UNPARSEABLE
    assert facts.response_bytes == len(fixture.staples[staple])
