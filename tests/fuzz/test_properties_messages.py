"""Properties of every parser in tls/messages.py, on random bodies and on mutated real ones.

Each parser either returns or raises DecodeError whose offset points inside the body it was
given (``targets.parse_one`` checks it): never IndexError, ValueError, struct.error,
UnicodeDecodeError, KeyError or OverflowError.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz import seeds
from tests.fuzz.strategies import mutated_inputs
from tests.fuzz.targets import ACCEPTED, REJECTED, TARGETS, parse_one

HANDSHAKE = TARGETS["handshake"]


def test_every_parser_has_a_valid_seed_it_accepts() -> None:
    # Given the bodies read out of the vectors (and the few annotated literals)
    bodies = seeds.message_bodies()

    # When each parser reads its own
    outcomes = {
        (name, source): parse_one(name, body)
        for name, by_source in bodies.items()
        for source, body in by_source.items()
    }

    # Then every parser has at least one seed and accepts them all: mutations start from valid
    assert {name for name, _ in outcomes} == set(seeds.PARSER_NAMES)
    assert set(outcomes.values()) == {ACCEPTED}


@pytest.mark.parametrize("name", seeds.PARSER_NAMES)
@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=160))
def test_random_bodies_parse_or_raise_decode_error(name: str, body: bytes) -> None:
    # Given any body for this parser
    # When it is parsed at a non-zero base offset
    # Then it parses, or raises DecodeError with an offset inside the body
    assert parse_one(name, body) in (ACCEPTED, REJECTED)


@pytest.mark.parametrize("name", seeds.PARSER_NAMES)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_mutated_bodies_parse_or_raise_decode_error(name: str, data: st.DataObject) -> None:
    # Given a real body for this parser with bytes or length fields changed
    own = {
        source: bytes([seeds.PARSER_NAMES.index(name)]) + body
        for source, body in seeds.message_bodies()[name].items()
    }
    mutated = data.draw(mutated_inputs(HANDSHAKE, own))

    # When it is parsed
    # Then it parses, or raises DecodeError with an offset inside the body
    assert mutated[0] == seeds.PARSER_NAMES.index(name)
    assert HANDSHAKE.run(mutated) in (ACCEPTED, REJECTED)
