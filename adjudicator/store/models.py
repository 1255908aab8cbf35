"""The tables: decisions, API keys and the audit log (SQLAlchemy 2.0 typed ORM).

The schema itself is owned by the Alembic migrations in ``migrations/``; these
classes must describe the same tables (a test compares them).

Timestamps are timezone-aware UTC datetimes in Python; PostgreSQL stores them
as ``timestamptz`` and SQLite as its sortable ISO text, both to the microsecond.
JSON columns are ``json`` (not ``jsonb``) on PostgreSQL, so a stored document
keeps its key order and any string the client sent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

GENESIS_HASH = "0" * 64


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, normalised to UTC on the way in and out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON()}


class DecisionRow(Base):
    """One decision: the engine's, or a staff override linked to the one it replaces."""

    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(200))
    order_id: Mapped[str] = mapped_column(String(200), index=True)
    claim_id: Mapped[str] = mapped_column(String(200), index=True)
    outcome: Mapped[str] = mapped_column(String(32), index=True)
    ruleset_version: Mapped[str] = mapped_column(String(64))
    ruleset_digest: Mapped[str] = mapped_column(String(80))
    case_digest: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_digest: Mapped[str | None] = mapped_column(String(80))
    document: Mapped[dict[str, Any]]
    case_document: Mapped[dict[str, Any]]
    overrides_id: Mapped[str | None] = mapped_column(ForeignKey("decisions.id"), index=True)
    justification: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    actor_key_id: Mapped[str | None] = mapped_column(String(32))
    actor_name: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        Index("ix_decisions_created_at_id", "created_at", "id"),
        # An Idempotency-Key is the client's: unique per API key, not across the service.
        UniqueConstraint("actor_key_id", "idempotency_key", name="uq_decisions_idempotency_scope"),
    )


class ApiKeyRow(Base):
    """An API key: its public id, who holds it, its role, and only a hash of the secret."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("console_users.id"))


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


class OutboxRow(Base):
    """A claim event waiting to be announced: written in the same transaction as the event.

    The webhook dispatcher reads rows in ``id`` order and fans each out to the
    subscriptions that want its ``type``; ``dispatched_at`` marks a row done.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    claim_ref: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]
    dispatched_at: Mapped[datetime | None] = mapped_column(index=True)


# The other workstreams' tables, so that Base.metadata describes the whole schema.
from adjudicator.store import audit_models  # noqa: E402, F401  (checkpoints)
from adjudicator.store import claims_models as _claims_models  # noqa: E402, F401
from adjudicator.store import governance_models as _governance_models  # noqa: E402,F401
from adjudicator.store import hardening_models as _hardening_models  # noqa: E402, F401
from adjudicator.store import ledger_models as _ledger_models  # noqa: E402, F401  (money)
from adjudicator.store import users_models as _users_models  # noqa: E402, F401  (console)
from adjudicator.store import webhook_models as _webhook_models  # noqa: E402, F401
