"""The Merkle tree is RFC 9162's: known roots, and every audit path checks out.

The vectors are the eight leaves and roots of the Certificate Transparency
test data (RFC 6962/9162 hashing), used by the reference implementations.
"""

from __future__ import annotations

import hashlib

import pytest

from adjudicator.audit.merkle import (
    EMPTY_ROOT,
    Tree,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]  # fmt: skip
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 2.1.1, written straight from the definition."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 2.1.3.1 PATH(m, D[n]), written straight from the definition."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*_path(m, leaves[:k]), _mth(leaves[k:])]
    return [*_path(m - k, leaves[k:]), _mth(leaves[:k])]


def test_the_known_roots() -> None:
    tree = Tree(LEAVES)
    assert tree.root(0) == EMPTY_ROOT
    for size, expected in enumerate(ROOTS, start=1):
        assert tree.root(size).hex() == expected
        assert _mth(LEAVES[:size]).hex() == expected


def test_audit_paths_are_rfc_9162_and_verify() -> None:
    leaves = [f"entry {i}".encode() for i in range(37)]
    tree = Tree(leaves)
    for size in range(1, len(leaves) + 1):
        root = tree.root(size)
        assert root == _mth(leaves[:size])
        for index in range(size):
            path = tree.inclusion_path(index, size)
            assert path == _path(index, leaves[:size]), (index, size)
            assert verify_inclusion(index, size, leaf_hash(leaves[index]), path, root)


def test_a_tampered_proof_fails() -> None:
    leaves = [f"entry {i}".encode() for i in range(13)]
    tree = Tree(leaves)
    root, path = tree.root(), tree.inclusion_path(5, 13)
    good = leaf_hash(leaves[5])
    assert verify_inclusion(5, 13, good, path, root)
    assert not verify_inclusion(5, 13, leaf_hash(b"entry 5!"), path, root)
    assert not verify_inclusion(6, 13, good, path, root)
    assert not verify_inclusion(5, 7, good, path, root)  # (the size is bound by the checkpoint)
    assert not verify_inclusion(5, 13, good, path[:-1], root)
    assert root_from_inclusion(5, 13, good, [*path, path[0]]) is None
    flipped = [path[0], bytes([path[1][0] ^ 1]) + path[1][1:], *path[2:]]
    assert not verify_inclusion(5, 13, good, flipped, root)


@pytest.mark.parametrize(("index", "size"), [(-1, 3), (3, 3), (0, 0)])
def test_out_of_range(index: int, size: int) -> None:
    assert root_from_inclusion(index, size, b"x" * 32, []) is None
    with pytest.raises(ValueError):
        Tree([b"a", b"b", b"c"]).inclusion_path(index, size)
