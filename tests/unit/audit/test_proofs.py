"""The cached consistency proofs are exactly RFC 9162's, and read few leaves once warm."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

import pytest

from wbs.audit import merkle
from wbs.audit.proofs import BLOCK, MissingEntries, ProofCache


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(n)]


class Reader:
    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.rows = 0

    def __call__(self, first: int, last: int) -> Sequence[bytes]:
        self.rows += last - first + 1
        return self.leaves[first - 1:last]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 8, 255, 256, 257, 511, 512, 513, 1000, 1300])
def test_every_pair_agrees_with_the_plain_proof(n: int) -> None:
    leaves = _leaves(n)
    cache, read = ProofCache(), Reader(leaves)
    pairs = {(1, n), (n, n), (max(1, n - 1), n), (max(1, n // 2), n)}
    pairs |= {tuple(sorted(random.Random(n * 7 + i).sample(range(1, n + 1), 2)))  # type: ignore[misc]
              for i in range(20)} if n > 1 else set()
    for m, size in sorted(pairs):
        proof = cache.consistency(read, m, size)
        assert proof == merkle.consistency_proof(leaves, m, size), (m, size)
        assert merkle.verify_consistency(m, size, merkle.root(leaves[:m]),
                                         merkle.root(leaves[:size]), proof)


def test_a_warm_cache_reads_only_the_edges_and_repeats_read_nothing() -> None:
    leaves = _leaves(5000)
    cache, read = ProofCache(), Reader(leaves)
    cache.consistency(read, 1000, 4000)
    assert read.rows < 4000 + 3 * BLOCK  # the first proof reads the log about once
    read.rows = 0
    cache.consistency(read, 1000, 4000)
    assert read.rows == 0
    cache.consistency(read, 1700, 4900)  # new edges: a few partial blocks, and the new part
    assert read.rows < 900 + 6 * BLOCK


def test_a_short_log_is_reported() -> None:
    with pytest.raises(MissingEntries):
        ProofCache().consistency(Reader(_leaves(100)), 10, 300)
    with pytest.raises(ValueError):
        ProofCache().consistency(Reader(_leaves(10)), 0, 5)
