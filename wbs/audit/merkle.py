"""Merkle tree hashing of RFC 6962 / RFC 9162 §2.1, pure functions over 32-byte hashes.

We follow the Certificate Transparency definitions exactly (domain-separated leaf and node
hashes, the largest-power-of-two split) so that any off-the-shelf transparency-log verifier
agrees with our roots and proofs; a home-grown variant would prove nothing to an outsider.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    # Index ranges instead of slices keep this O(n) in memory for a whole log.
    n = hi - lo
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[lo]
    k = _split(n)
    return node_hash(_mth(leaves, lo, lo + k), _mth(leaves, lo + k, hi))


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 §2.1.1 over already-hashed leaves."""
    return _mth(leaf_hashes, 0, len(leaf_hashes))


def _check_frontier(frontier: Sequence[bytes], size: int) -> None:
    # The frontier holds one perfect subtree per set bit of the size, largest first.
    if size < 0 or len(frontier) != size.bit_count():
        raise ValueError("frontier does not match the tree size")
    if any(len(h) != HASH_SIZE for h in frontier):
        raise ValueError("frontier hashes must be 32 bytes")


def frontier_append(frontier: Sequence[bytes], size: int, leaf: bytes) -> list[bytes]:
    """Frontier of the tree of size+1, from the frontier of size and the new leaf hash."""
    _check_frontier(frontier, size)
    merged = list(frontier)
    node = leaf
    # Each trailing one bit of the old size is a perfect subtree the new leaf completes.
    while size & 1:
        node = node_hash(merged.pop(), node)
        size >>= 1
    merged.append(node)
    return merged


def frontier_root(frontier: Sequence[bytes], size: int) -> bytes:
    """Root of the tree described by a frontier; equals root() of the same leaves."""
    _check_frontier(frontier, size)
    if size == 0:
        return EMPTY_ROOT
    node = frontier[-1]
    for left in reversed(frontier[:-1]):
        node = node_hash(left, node)
    return node


def encode_frontier(frontier: Sequence[bytes]) -> bytes:
    return b"".join(frontier)


def decode_frontier(blob: bytes) -> list[bytes]:
    if len(blob) % HASH_SIZE:
        raise ValueError("frontier blob is not a whole number of hashes")
    return [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


def _subproof(leaves: Sequence[bytes], m: int, lo: int, hi: int, whole: bool) -> list[bytes]:
    # SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1, m counted from lo.
    n = hi - lo
    if m == n:
        return [] if whole else [_mth(leaves, lo, hi)]
    k = _split(n)
    if m <= k:
        return [*_subproof(leaves, m, lo, lo + k, whole), _mth(leaves, lo + k, hi)]
    return [*_subproof(leaves, m - k, lo + k, hi, False), _mth(leaves, lo, lo + k)]


def consistency_proof(leaf_hashes: Sequence[bytes], m: int, n: int) -> list[bytes]:
    """PROOF(m, D[n]): the hashes that show the tree of size n extends the tree of size m."""
    if not 0 <= m <= n <= len(leaf_hashes):
        raise ValueError("need 0 <= m <= n <= number of leaves")
    if m == 0:
        return []  # Every tree extends the empty tree; there is nothing to prove.
    return _subproof(leaf_hashes, m, 0, n, True)


def verify_consistency(
    m: int, n: int, root_m: bytes, root_n: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2, with the trivial sizes (0 and m == n) decided explicitly."""
    if not 0 <= m <= n or any(len(h) != HASH_SIZE for h in (root_m, root_n, *proof)):
        return False
    if m == n:
        return not proof and root_m == root_n
    if m == 0:
        return not proof and root_m == EMPTY_ROOT
    path = list(proof)
    if not path:
        return False
    if m & (m - 1) == 0:  # m is a power of two: the old root is itself a node of the new tree.
        path.insert(0, root_m)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == root_m and sr == root_n


def _path(leaves: Sequence[bytes], index: int, lo: int, hi: int) -> list[bytes]:
    # PATH(m, D[lo:hi]) of RFC 9162 §2.1.3.1, index counted from lo.
    n = hi - lo
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*_path(leaves, index, lo, lo + k), _mth(leaves, lo + k, hi)]
    return [*_path(leaves, index - k, lo + k, hi), _mth(leaves, lo, lo + k)]


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, n: int) -> list[bytes]:
    """The audit path of leaf `index` in the tree of the first n leaves."""
    if not 0 <= index < n <= len(leaf_hashes):
        raise ValueError("need 0 <= index < n <= number of leaves")
    return _path(leaf_hashes, index, 0, n)


def verify_inclusion(
    leaf: bytes, index: int, n: int, proof: Sequence[bytes], root_n: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does the tree of size n with root root_n hold `leaf` at `index`?"""
    if not 0 <= index < n or any(len(h) != HASH_SIZE for h in (leaf, root_n, *proof)):
        return False
    fn, sn = index, n - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root_n
