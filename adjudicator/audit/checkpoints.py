"""Signed checkpoints of the audit log, inclusion receipts, and checking a kept checkpoint.

The audit entries are the leaves of an RFC 9162 Merkle tree (leaf ``seq - 1``
holds the entry's canonical bytes, :func:`adjudicator.audit.chain.entry_bytes`).
A checkpoint signs the tree's size and root (:mod:`adjudicator.audit.checkpoint_note`);
someone who keeps a copy of one can later prove the log was neither cut below
it nor rewritten under it (:func:`check_checkpoint`), and the holder of a
receipt (:func:`receipt`) can prove, with no database, that an entry is in the
log the checkpoint signed (:mod:`adjudicator.audit.receipts`).

A checkpoint is signed only over a chain that verifies (every link and hash)
and that still has the root of the newest stored checkpoint at its size, so
the stored checkpoints are one consistent series and never bless a log that
was already altered.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from adjudicator.audit.chain import HEAD_ID, entry_bytes, format_time
from adjudicator.audit.checkpoint_note import Checkpoint, Signer, sign_checkpoint
from adjudicator.audit.merkle import Tree
from adjudicator.audit.models import GENESIS_HASH, AuditEntryRow, AuditHeadRow, CheckpointRow
from adjudicator.audit.signing import AuditSettings
from adjudicator.db.database import Database
from adjudicator.db.errors import StoreError
from adjudicator.db.store import Store

_BATCH = 1000


class ChainUnsound(StoreError):
    """The chain does not verify (or contradicts the last checkpoint): nothing is signed."""


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A checkpoint as stored: what it commits to, when, by which key, and the note."""

    id: int
    tree_size: int
    root_hash: str
    created_at: datetime
    origin: str
    verifier_key: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (the API's checkpoint)."""
        return {
            "id": self.id,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "created_at": format_time(self.created_at),
            "origin": self.origin,
            "verifier_key": self.verifier_key,
            "note": self.note,
        }


def _stored(row: CheckpointRow) -> StoredCheckpoint:
    return StoredCheckpoint(
        row.id, row.tree_size, row.root_hash, row.created_at, row.origin, row.verifier_key,
        row.note,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Leaf:
    """One entry on the way into the tree: its row, canonical bytes, and recomputed hash."""

    row: Any
    data: bytes
    hash: str


def _entry_data(row: Any) -> bytes:
    return entry_bytes(
        seq=row.seq, at=row.at, actor_key_id=row.actor_key_id, actor_name=row.actor_name,
        actor_role=row.actor_role, action=row.action, subject=row.subject,
        request_id=row.request_id, payload=row.payload,
    )  # fmt: skip


def leaves(session: Session, size: int) -> Iterator[Leaf]:
    """Entries 1..``size`` in order with their bytes and recomputed chain hashes."""
    query = (
        select(*AuditEntryRow.__table__.c)
        .where(AuditEntryRow.seq <= size)
        .order_by(AuditEntryRow.seq)
        .execution_options(yield_per=_BATCH)
    )
    result = session.execute(query)
    try:
        for row in result:
            data = _entry_data(row)
            yield Leaf(row, data, hashlib.sha256(row.prev_hash.encode() + data).hexdigest())
    finally:
        result.close()


@dataclass(frozen=True, slots=True)
class Walk:
    """The tree over the entries that chain soundly from the start, and where that stopped."""

    tree: Tree
    problem: str | None


def sound_tree(session: Session, size: int) -> Walk:
    """The tree of entries 1..``size``, checking each link and hash on the way."""
    tree, prev = Tree(), GENESIS_HASH
    for leaf in leaves(session, size):
        seq = tree.size + 1
        if leaf.row.seq != seq:
            return Walk(tree, f"entry {seq} is missing")
        if leaf.row.prev_hash != prev or leaf.hash != leaf.row.hash:
            return Walk(tree, f"entry {seq} does not match its hash or its predecessor")
        tree.append(leaf.data)
        prev = leaf.row.hash
    if tree.size < size:
        return Walk(tree, f"the log ends at entry {tree.size}, not {size}")
    return Walk(tree, None)


def _head_seq(session: Session) -> int:
    seq = session.execute(select(AuditHeadRow.seq).where(AuditHeadRow.id == HEAD_ID)).scalar_one()
    return int(seq)


def latest_checkpoint(store: Store) -> StoredCheckpoint | None:
    """The newest stored checkpoint (largest tree), if any."""
    query = select(CheckpointRow).order_by(CheckpointRow.tree_size.desc(), CheckpointRow.id.desc())
    with store.db.autocommit() as session:
        row = session.execute(query.limit(1)).scalar_one_or_none()
        return None if row is None else _stored(row)


def list_checkpoints(store: Store, *, limit: int = 50) -> list[StoredCheckpoint]:
    """The newest ``limit`` checkpoints, newest first."""
    query = select(CheckpointRow).order_by(CheckpointRow.tree_size.desc(), CheckpointRow.id.desc())
    with store.db.autocommit() as session:
        return [_stored(row) for row in session.execute(query.limit(limit)).scalars()]


def verifier_keys(store: Store) -> list[str]:
    """Every verifier key that signed a stored checkpoint, newest first."""
    query = (
        select(CheckpointRow.verifier_key, func.max(CheckpointRow.id).label("last"))
        .group_by(CheckpointRow.verifier_key)
        .order_by(func.max(CheckpointRow.id).desc())
    )
    with store.db.autocommit() as session:
        return [key for key, _ in session.execute(query)]


def make_checkpoint(store: Store, signer: Signer) -> StoredCheckpoint:
    """Sign the current tree (all entries up to the head) and store the checkpoint.

    Raises :class:`ChainUnsound` when the chain does not verify or no longer
    has the newest stored checkpoint's root at its size.
    """
    last = latest_checkpoint(store)
    with store.db.read() as session:
        size = _head_seq(session)
        walk = sound_tree(session, size)
    if walk.problem is not None:
        raise ChainUnsound(f"not signing: {walk.problem}")
    if last is not None:
        if last.tree_size > size:
            raise ChainUnsound(
                f"not signing: the log holds {size} entries, below the last checkpoint's "
                f"{last.tree_size}"
            )
        if walk.tree.root(last.tree_size).hex() != last.root_hash:
            raise ChainUnsound(
                f"not signing: entries 1..{last.tree_size} no longer have the last "
                "checkpoint's root"
            )
    checkpoint = Checkpoint(signer.name, size, walk.tree.root())
    made = StoredCheckpoint(
        id=0,
        tree_size=size,
        root_hash=checkpoint.root.hex(),
        created_at=store.clock(),
        origin=signer.name,
        verifier_key=signer.verifier.encode(),
        note=sign_checkpoint(checkpoint, signer),
    )
    row = {name: getattr(made, name) for name in made.__slots__ if name != "id"}
    with store.db.write() as session:
        stored = insert(CheckpointRow).returning(CheckpointRow.id)
        new_id = session.execute(stored, row).scalar_one()
    return replace(made, id=new_id)


def due(store: Store, settings: AuditSettings) -> bool:
    """True when ``every_entries`` entries are unsigned, or the oldest unsigned waited long."""
    last = latest_checkpoint(store)
    signed = 0 if last is None else last.tree_size
    with store.db.read() as session:
        size = _head_seq(session)
        if size <= signed:
            return False
        if size - signed >= settings.every_entries:
            return True
        first_unsigned = session.execute(
            select(AuditEntryRow.at).where(AuditEntryRow.seq == signed + 1)
        ).scalar_one_or_none()
    if first_unsigned is None:
        return True  # a gap: let make_checkpoint say what is wrong
    waited = (store.clock() - first_unsigned).total_seconds()
    return waited >= settings.every_seconds


_unconfigured_warned = threading.Event()


def checkpoint_job(store: Store, settings: AuditSettings) -> int:
    """The worker's job: sign a checkpoint when one is due (1), else nothing (0).

    ``settings`` are the worker's (:attr:`adjudicator.settings.Settings.audit`).
    Raises :class:`ChainUnsound` when the log does not verify: a worker should
    log it loudly, never sign over it.
    """
    if settings.key_file is None:
        # No key configured and no database file to keep one beside (PostgreSQL):
        # say so once per process instead of failing every round of the worker.
        if not _unconfigured_warned.is_set():
            _unconfigured_warned.set()
            logging.getLogger("adjudicator.worker").warning(
                "audit checkpoints are off: set ADJUDICATOR_AUDIT_KEY_FILE to sign them"
            )
        return 0
    if not due(store, settings):
        return 0
    make_checkpoint(store, settings.signer())
    return 1


_TREES: weakref.WeakKeyDictionary[Database, tuple[tuple[int, str], Tree]] = (
    weakref.WeakKeyDictionary()
)
_TREES_LOCK = threading.Lock()


def _checkpoint_tree(store: Store, checkpoint: StoredCheckpoint) -> Tree:
    """The tree of the entries ``checkpoint`` covers, built once per process and checkpoint.

    Receipts against the same checkpoint then cost a path, not a pass over the
    log. The cache is keyed by size and signed root: a tree with that root is
    that tree.
    """
    key = (checkpoint.tree_size, checkpoint.root_hash)
    with _TREES_LOCK:
        cached = _TREES.get(store.db)
    if cached is not None and cached[0] == key:
        return cached[1]
    with store.db.read() as session:
        tree = Tree(leaf.data for leaf in leaves(session, checkpoint.tree_size))
    if tree.size == checkpoint.tree_size and tree.root().hex() == checkpoint.root_hash:
        with _TREES_LOCK:
            _TREES[store.db] = (key, tree)
    return tree


def receipt(store: Store, seq: int) -> dict[str, Any] | None:
    """An inclusion proof of entry ``seq`` against the newest checkpoint covering it.

    None when no stored checkpoint covers it yet. The proof is computed from
    the stored entries (once per checkpoint, :func:`_checkpoint_tree`) and
    carries the entry as stored now; if either was altered it does not
    verify, which is the point (see :mod:`adjudicator.audit.receipts`).
    """
    from adjudicator.audit.log import get_entry

    last = latest_checkpoint(store)
    entry = get_entry(store, seq)
    if last is None or entry is None or seq > last.tree_size:
        return None
    tree = _checkpoint_tree(store, last)
    if tree.size < last.tree_size:
        return None
    path = tree.inclusion_path(seq - 1, last.tree_size)
    return {
        "entry": entry.to_dict(),
        "leaf_index": seq - 1,
        "tree_size": last.tree_size,
        "audit_path": [base64.b64encode(step).decode() for step in path],
        "checkpoint": last.note,
        "verifier_key": last.verifier_key,
    }


@dataclass(frozen=True, slots=True)
class CheckpointReport:
    """The log against one checkpoint: ``problem`` is None, "cut" or "rewritten"."""

    checkpoint: Checkpoint
    head_seq: int
    problem: str | None
    detail: str

    @property
    def ok(self) -> bool:
        """True when the log still holds the checkpoint's tree."""
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "ok": self.ok,
            "origin": self.checkpoint.origin,
            "tree_size": self.checkpoint.size,
            "head_seq": self.head_seq,
            "problem": self.problem,
            "detail": self.detail,
        }


def check_checkpoint(store: Store, checkpoint: Checkpoint) -> CheckpointReport:
    """Does the log still hold ``checkpoint``'s tree? (Its signature is the caller's to check.)

    Cut: the log holds fewer entries than the checkpoint signed (the tail was
    deleted and the head rolled back). Rewritten: entries 1..size no longer
    hash to the signed root (an entry was edited and everything after rehashed).
    """
    size = checkpoint.size
    tree = Tree()
    with store.db.read() as session:
        head = _head_seq(session)
        for leaf in leaves(session, size):
            if leaf.row.seq != tree.size + 1:
                detail = (
                    f"the log was rewritten under the checkpoint: entry {tree.size + 1} of the "
                    f"{size} it signed is missing"
                )
                return CheckpointReport(checkpoint, head, "rewritten", detail)
            tree.append(leaf.data)
    if tree.size < size:
        detail = (
            f"the log was cut below the checkpoint: it signed {size} entries, the log now "
            f"holds {tree.size} of them (head at {head})"
        )
        return CheckpointReport(checkpoint, head, "cut", detail)
    if tree.root(size) != checkpoint.root:
        detail = (
            f"the log was rewritten under the checkpoint: entries 1..{size} no longer hash "
            "to its signed root"
        )
        return CheckpointReport(checkpoint, head, "rewritten", detail)
    return CheckpointReport(checkpoint, head, None, f"entries 1..{size} match the checkpoint")
