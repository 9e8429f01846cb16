"""Consistency proofs between published checkpoints, without rereading the log per request.

The public endpoint used to read every leaf up to the larger size on each call: one anonymous
client could make the server hash the whole log as often as it liked. The log only grows, so
the hash of a complete, aligned block of leaves never changes once the block is full. This cache
keeps the hashes of such subtrees (blocks of BLOCK leaves and everything above them) for the
life of the process, reads only the few leaves a proof needs at the edges of its two sizes, and
keeps the last proofs it made keyed by their pair of published sizes.

The proofs are exactly RFC 9162's (`merkle.consistency_proof` over the same leaves), which the
tests check against the plain computation.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

from wbs.audit import merkle

# Leaves per cached block: a proof reads at most a few blocks' worth of rows from the database.
BLOCK = 256
MAX_PROOFS = 1024

# read(first, last): leaf hashes of entries first..last (1-based sequence numbers, inclusive).
LeafReader = Callable[[int, int], Sequence[bytes]]


class MissingEntries(LookupError):
    """The log has fewer entries than a published checkpoint says: `wbs audit verify`."""


class ProofCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._perfect: dict[tuple[int, int], bytes] = {}  # (start index, size) -> subtree hash
        self._proofs: OrderedDict[tuple[int, int], list[bytes]] = OrderedDict()

    def consistency(self, read: LeafReader, first: int, second: int) -> list[bytes]:
        """PROOF(first, D[second]) of RFC 9162 §2.1.4, for 1 <= first <= second."""
        if not 1 <= first <= second:
            raise ValueError("need 1 <= first <= second")
        with self._lock:
            cached = self._proofs.get((first, second))
            if cached is not None:
                self._proofs.move_to_end((first, second))
                return list(cached)
        proof = self._subproof(read, first, 0, second, True)
        with self._lock:
            self._proofs[(first, second)] = proof
            while len(self._proofs) > MAX_PROOFS:
                self._proofs.popitem(last=False)
        return list(proof)

    def _leaves(self, read: LeafReader, lo: int, hi: int) -> list[bytes]:
        leaves = list(read(lo + 1, hi))
        if len(leaves) != hi - lo:
            raise MissingEntries(f"entries {lo + 1}..{hi} are not all there")
        return leaves

    def _perfect_hash(self, read: LeafReader, lo: int, size: int) -> bytes:
        # A complete subtree of `size` (a power of two) leaves starting at `lo` (a multiple of
        # it). Those of at least BLOCK leaves are kept; smaller ones come from their leaves.
        if size < BLOCK:
            return merkle.root(self._leaves(read, lo, lo + size))
        with self._lock:
            known = self._perfect.get((lo, size))
        if known is not None:
            return known
        if size == BLOCK:
            value = merkle.root(self._leaves(read, lo, lo + size))
        else:
            half = size // 2
            value = merkle.node_hash(self._perfect_hash(read, lo, half),
                                     self._perfect_hash(read, lo + half, half))
        with self._lock:
            self._perfect[(lo, size)] = value
        return value

    def _mth(self, read: LeafReader, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) for a subtree of the RFC 6962 tree: a complete left part, recursively."""
        n = hi - lo  # >= 1: _subproof never asks for an empty range
        if n & (n - 1) == 0:
            return self._perfect_hash(read, lo, n)
        if n < BLOCK:
            return merkle.root(self._leaves(read, lo, hi))
        k = 1 << ((n - 1).bit_length() - 1)
        return merkle.node_hash(self._perfect_hash(read, lo, k), self._mth(read, lo + k, hi))

    def _subproof(self, read: LeafReader, m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
        # SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1, as merkle._subproof, with cached MTH.
        n = hi - lo
        if m == n:
            return [] if whole else [self._mth(read, lo, hi)]
        k = 1 << ((n - 1).bit_length() - 1)
        if m <= k:
            return [*self._subproof(read, m, lo, lo + k, whole), self._mth(read, lo + k, hi)]
        return [*self._subproof(read, m - k, lo + k, hi, False), self._mth(read, lo, lo + k)]
