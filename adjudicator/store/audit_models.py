"""The audit workstream's table: signed checkpoints of the audit log's Merkle tree.

Imported at the end of :mod:`adjudicator.store.models` so ``Base.metadata``
holds it; migration 0004 creates it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from adjudicator.store.models import Base


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
