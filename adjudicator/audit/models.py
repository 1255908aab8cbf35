"""The audit log's tables: the hash-chained entries, the chain head, and signed
checkpoints of the log's Merkle tree (migrations 0001 and 0004 create them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from adjudicator.db.models import Base

GENESIS_HASH = "0" * 64


class AuditEntryRow(Base):
    """One entry of the append-only audit log, chained to its predecessor by hash.

    ``prev_hash`` and ``hash`` are unique, so the table cannot hold a fork.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor_key_id: Mapped[str | None] = mapped_column(String(32))
    actor_name: Mapped[str] = mapped_column(String(200))
    actor_role: Mapped[str | None] = mapped_column(String(16))  # NULL: written before 0004
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    request_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHeadRow(Base):
    """The single row holding the chain's last seq, hash and the hash before it.

    Appenders lock it (``SELECT ... FOR UPDATE``) to serialise the chain, and
    verification compares it with the last entry, which reveals a truncated tail.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class CheckpointRow(Base):
    """One signed checkpoint: the tree size and root it commits to, and the signed note.

    ``note`` is the whole C2SP signed note as published; ``verifier_key`` the
    public key that signed it, in the note verifier-key format, so listing
    checkpoints needs no private key.
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    origin: Mapped[str] = mapped_column(String(200))
    verifier_key: Mapped[str] = mapped_column(String(300))
    note: Mapped[str] = mapped_column(Text)
