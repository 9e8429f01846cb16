"""RFC 6962 / 9162 hashing and proofs, checked against published vectors and hand-built trees."""

from __future__ import annotations

import hashlib

import pytest

from wbs.audit import merkle

# Certificate Transparency test leaves (RFC 6962 reference implementation) and their published
# roots for sizes 1..8.
CT_DATA = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# Hashing written out again with hashlib, so the expected values do not come from the module.
def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _leaf(data: bytes) -> bytes:
    return _h(b"\x00" + data)


def _node(left: bytes, right: bytes) -> bytes:
    return _h(b"\x01" + left + right)


L = [_leaf(d) for d in CT_DATA]
# Each tree drawn by hand: the left subtree is always the largest power of two below n.
HAND_ROOTS = {
    1: L[0],
    2: _node(L[0], L[1]),
    3: _node(_node(L[0], L[1]), L[2]),
    5: _node(_node(_node(L[0], L[1]), _node(L[2], L[3])), L[4]),
    7: _node(_node(_node(L[0], L[1]), _node(L[2], L[3])), _node(_node(L[4], L[5]), L[6])),
}


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert merkle.EMPTY_ROOT.hex() == EMPTY
    assert merkle.root([]).hex() == EMPTY
    assert merkle.frontier_root([], 0).hex() == EMPTY


def test_leaf_and_node_hashes_use_the_rfc_prefixes() -> None:
    for data in CT_DATA:
        assert merkle.leaf_hash(data) == _leaf(data)
    assert merkle.node_hash(L[0], L[1]) == _node(L[0], L[1])
    assert merkle.node_hash(L[0], L[1]) != merkle.node_hash(L[1], L[0])


@pytest.mark.parametrize("n", sorted(HAND_ROOTS))
def test_root_matches_hand_built_tree(n: int) -> None:
    assert merkle.root([merkle.leaf_hash(d) for d in CT_DATA[:n]]) == HAND_ROOTS[n]


@pytest.mark.parametrize("n", range(1, 9))
def test_root_matches_published_ct_roots(n: int) -> None:
    assert merkle.root(L[:n]).hex() == CT_ROOTS[n - 1]


def test_hand_built_trees_agree_with_published_roots() -> None:
    # Guards the test itself: the hand-drawn trees are the RFC's trees.
    for n, expected in HAND_ROOTS.items():
        assert expected.hex() == CT_ROOTS[n - 1]


def test_frontier_root_equals_root_for_every_size_up_to_70() -> None:
    leaves = _leaves(70)
    frontier: list[bytes] = []
    assert merkle.frontier_root(frontier, 0) == merkle.root([])
    for size, leaf in enumerate(leaves):
        frontier = merkle.frontier_append(frontier, size, leaf)
        assert len(frontier) == (size + 1).bit_count()  # O(log n) state
        assert merkle.frontier_root(frontier, size + 1) == merkle.root(leaves[: size + 1])
        assert merkle.decode_frontier(merkle.encode_frontier(frontier)) == frontier


def test_frontier_of_the_wrong_size_is_refused() -> None:
    # One hash describes a tree of size 1, 2, 4...; size 3 needs two.
    frontier = merkle.frontier_append([], 0, L[0])
    with pytest.raises(ValueError):
        merkle.frontier_append(frontier, 3, L[1])
    with pytest.raises(ValueError):
        merkle.frontier_root(frontier, 3)
    with pytest.raises(ValueError):
        merkle.decode_frontier(b"\x00" * 33)


def test_published_inclusion_and_consistency_vectors() -> None:
    inclusion_5_of_8 = [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    assert [h.hex() for h in merkle.inclusion_proof(L, 5, 8)] == inclusion_5_of_8
    consistency_2_to_5 = [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]
    assert [h.hex() for h in merkle.consistency_proof(L, 2, 5)] == consistency_2_to_5
    # Consistency 6 → 8 by hand: MTH(D[4:6]), MTH(D[6:8]), MTH(D[0:4]).
    expected = [_node(L[4], L[5]), _node(L[6], L[7]), bytes.fromhex(CT_ROOTS[3])]
    assert merkle.consistency_proof(L, 6, 8) == expected
    assert merkle.verify_consistency(
        6, 8, bytes.fromhex(CT_ROOTS[5]), bytes.fromhex(CT_ROOTS[7]), expected
    )


def _tampered(proof: list[bytes]) -> list[list[bytes]]:
    variants = [proof[:-1], [*proof, b"\xab" * 32]]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([proof[i][0] ^ 1]) + proof[i][1:]
        variants.append(flipped)
    if len(proof) >= 2 and proof[0] != proof[1]:
        variants.append([proof[1], proof[0], *proof[2:]])
    return variants


def test_every_inclusion_proof_up_to_20_verifies_and_tampering_fails() -> None:
    leaves = _leaves(20)
    wrong = merkle.leaf_hash(b"not in the log")
    for n in range(1, 21):
        tree_root = merkle.root(leaves[:n])
        for index in range(n):
            proof = merkle.inclusion_proof(leaves, index, n)
            assert merkle.verify_inclusion(leaves[index], index, n, proof, tree_root)
            assert not merkle.verify_inclusion(wrong, index, n, proof, tree_root)
            assert not merkle.verify_inclusion(leaves[index], index, n, proof, wrong)
            if n > 1:
                other = (index + 1) % n
                assert not merkle.verify_inclusion(leaves[index], other, n, proof, tree_root)
            for bad in _tampered(proof):
                if bad:  # an empty proof for n == 1 is the valid proof itself
                    assert not merkle.verify_inclusion(leaves[index], index, n, bad, tree_root)


def test_every_consistency_proof_up_to_20_verifies_and_tampering_fails() -> None:
    leaves = _leaves(20)
    roots = [merkle.root(leaves[:n]) for n in range(21)]
    wrong = merkle.leaf_hash(b"forged")
    for n in range(21):
        for m in range(n + 1):
            proof = merkle.consistency_proof(leaves, m, n)
            assert merkle.verify_consistency(m, n, roots[m], roots[n], proof), (m, n)
            assert not merkle.verify_consistency(m, n, wrong, roots[n], proof)
            if m > 0:  # every tree extends the empty one, whatever its root
                assert not merkle.verify_consistency(m, n, roots[m], wrong, proof)
            assert not merkle.verify_consistency(n + 1, n, roots[m], roots[n], proof)
            for bad in _tampered(proof):
                if bad or 0 < m < n:
                    assert not merkle.verify_consistency(m, n, roots[m], roots[n], bad), (m, n)


def test_proof_requests_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_proof(L, 8, 8)
    with pytest.raises(ValueError):
        merkle.consistency_proof(L, 5, 3)
    with pytest.raises(ValueError):
        merkle.consistency_proof(L, 0, 9)
    assert not merkle.verify_inclusion(L[0], 0, 8, [b"short"], bytes.fromhex(CT_ROOTS[7]))
