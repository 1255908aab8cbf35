"""The audit log as an RFC 9162 Merkle tree: leaves, roots, inclusion proofs.

Hashing is RFC 9162 section 2.1.1 with SHA-256: a leaf is
``sha256(0x00 || entry bytes)``, an interior node ``sha256(0x01 || left ||
right)``, the empty tree ``sha256()``; a tree of ``n`` leaves splits at the
largest power of two below ``n``. The entry bytes of an audit entry are its
canonical form (:func:`adjudicator.audit.chain.entry_bytes`), leaf index
``seq - 1``.

Building the tree and its audit paths is ``pymerkle``'s (its ``InmemoryTree``
with the default prefixes is RFC 9162's tree: the tests compare it with the
RFC's known vectors). Checking an inclusion proof is written out here, as RFC
9162 section 2.1.3.2 gives it, because that is what a receipt's holder runs
and it must not depend on how the tree was built.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from pymerkle import InmemoryTree

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """``sha256(0x00 || data)``."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``sha256(0x01 || left || right)``."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


class Tree:
    """The Merkle tree over some entries' bytes, in order (leaf 0 first)."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._tree = InmemoryTree(algorithm="sha256")
        self.size = 0
        for data in leaves:
            self.append(data)

    def append(self, data: bytes) -> None:
        """Add the next leaf (the entry bytes, not yet hashed)."""
        self._tree.append_entry(data)
        self.size += 1

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first ``size`` leaves (all by default)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"the tree has {self.size} leaves, not {size}")
        return EMPTY_ROOT if size == 0 else bytes(self._tree.get_root(size))

    def inclusion_path(self, index: int, size: int) -> list[bytes]:
        """RFC 9162's audit path of leaf ``index`` (from 0) in the tree of ``size`` leaves."""
        if not 0 <= index < size <= self.size:
            raise ValueError(f"no leaf {index} in a tree of {size} leaves")
        proof = self._tree.prove_inclusion(index + 1, size)
        # pymerkle's path starts with the leaf's own hash; the siblings follow, bottom up.
        return [bytes.fromhex(step) for step in proof.serialize()["path"][1:]]


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root an audit path leads to from ``leaf`` (RFC 9162 2.1.3.2), or None if malformed."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(sibling, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, sibling)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """True when ``path`` proves ``leaf`` is leaf ``index`` of the tree ``root`` of ``size``."""
    return root_from_inclusion(index, size, leaf, path) == root
