"""The order ledger's tables: one cap account per order and currency, and its entries.

- ``order_accounts``: the cap an order's claims share and what is held and
  paid against it, in the currency's minor units. ``decided_cap`` is
  ``min(assurance, covered payments)`` of the latest decision on the order;
  ``cap`` is what grants are checked against: the same, unless that decision
  came after more than it was held or paid (then ``held + paid``: nothing
  granted is taken back, nothing more fits). The CHECK constraint
  ``held + paid <= cap`` is the invariant itself, kept by the database on
  SQLite and PostgreSQL alike; grants are conditional updates of this row
  (:mod:`adjudicator.ledger.accounts`), so two claims granted at the same instant
  cannot both take the last of the cap.
- ``ledger_entries``: every hold, release and payout, with the audit entry that
  recorded it.
- ``money_reconcile_runs``: the worker's hourly reconciliations (``/metrics``
  exports the latest count of discrepancies).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from adjudicator.db.models import Base

ENTRY_KINDS = ("hold", "release", "payout")


class OrderAccountRow(Base):
    """One order's cap account in one currency (amounts in minor units)."""

    __tablename__ = "order_accounts"

    order_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    cap: Mapped[int] = mapped_column(BigInteger)
    decided_cap: Mapped[int] = mapped_column(BigInteger)
    held: Mapped[int] = mapped_column(BigInteger)
    paid: Mapped[int] = mapped_column(BigInteger)
    decision_id: Mapped[str] = mapped_column(String(36))
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint("held >= 0 AND paid >= 0", name="ck_order_accounts_not_negative"),
        CheckConstraint("held + paid <= cap", name="ck_order_accounts_within_cap"),
    )


class LedgerEntryRow(Base):
    """One movement on an order's account: a hold, its release, or its payout."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    order_id: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    claim_ref: Mapped[str] = mapped_column(ForeignKey("claims.ref"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
    audit_seq: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_ledger_entries_positive"),
        CheckConstraint("kind IN ('hold', 'release', 'payout')", name="ck_ledger_entries_kind"),
        Index("ix_ledger_entries_order", "order_id", "currency", "id"),
    )


class ReconcileRunRow(Base):
    """One run of the worker's hourly ``money reconcile``: when, and what it found."""

    __tablename__ = "money_reconcile_runs"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime]
    orders: Mapped[int] = mapped_column(Integer)
    discrepancies: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]]
