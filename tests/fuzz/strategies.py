"""Hypothesis strategies over the fuzz targets: random bytes, and valid seeds mutated."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.fuzz.mutations import KINDS, Mutation, apply
from tests.fuzz.targets import Target

# A few changes at once: one is the common bug, several find the interactions.
MAX_MUTATIONS = 4
# Far beyond any seed, so every position is reachable once taken modulo the length.
MAX_POSITION = 2**20


def mutation_lists() -> st.SearchStrategy[list[Mutation]]:
    """Lists of 1..MAX_MUTATIONS mutations, shrinking towards a single flip at position 0."""
    one = st.builds(
        Mutation,
        kind=st.sampled_from(KINDS),
        position=st.integers(0, MAX_POSITION),
        value=st.integers(0, 255),
        data=st.binary(min_size=1, max_size=8),
    )
    return st.lists(one, min_size=1, max_size=MAX_MUTATIONS)


def mutated_seed(target: Target, seed: bytes, changes: list[Mutation]) -> bytes:
    """``seed`` with ``changes`` applied after the target's steering header, which stays."""
    header, body = seed[: target.header_bytes], seed[target.header_bytes :]
    return header + apply(body, changes, tls_stream=target.tls_stream)


def mutated_inputs(
    target: Target, seeds: dict[str, bytes] | None = None
) -> st.SearchStrategy[bytes]:
    """A seed of ``target`` (or of ``seeds``), mutated."""
    chosen = target.seeds() if seeds is None else seeds
    return st.builds(
        lambda seed, changes: mutated_seed(target, seed, changes),
        st.sampled_from([chosen[name] for name in sorted(chosen)]),
        mutation_lists(),
    )
