"""The webhook tables: subscriptions, deliveries (one per event and subscription), attempts.

Migration ``0003_webhooks`` creates them; ``models.py`` imports this module
so that ``Base.metadata`` (and the schema test) sees them.

- ``webhook_subscriptions``: where to send which events; the signing secret is
  stored sealed (:mod:`adjudicator.webhooks.sealing`), never in clear. A
  deleted subscription keeps its row (``deleted_at``) so its delivery log and
  audit entries keep pointing somewhere.
- ``webhook_deliveries``: one outbox event for one subscription, with its
  state (``pending``, ``delivered``, ``failed``, ``cancelled``), the attempts
  made and when the next one is due. ``(subscription_id, event_id)`` is unique,
  so an event is never fanned out twice to one subscription.
- ``webhook_attempts``: every HTTP attempt: when, the status code or the
  error, and the retry it scheduled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from adjudicator.db.models import Base

_BIG_ID = BigInteger().with_variant(Integer, "sqlite")
URL_MAX = 2048
DESCRIPTION_MAX = 500
ERROR_MAX = 500


class WebhookSubscriptionRow(Base):
    """An upstream system's endpoint, the event types it wants and its sealed secret."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_MAX))
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX))
    secret_sealed: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))
    deleted_at: Mapped[datetime | None]


class WebhookDeliveryRow(Base):
    """One event owed to one subscription, until it is delivered, failed or cancelled."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    subscription_id: Mapped[str] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    outbox_id: Mapped[int] = mapped_column(_BIG_ID, ForeignKey("outbox.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(ERROR_MAX))

    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_log", "subscription_id", "id"),
        Index("ix_webhook_deliveries_finished", "status", "finished_at"),
    )


class WebhookAttemptRow(Base):
    """One HTTP attempt of a delivery: its time, outcome and the retry it scheduled."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(_BIG_ID, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        _BIG_ID, ForeignKey("webhook_deliveries.id"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(ERROR_MAX))
    duration_ms: Mapped[int] = mapped_column(Integer)
    next_retry_at: Mapped[datetime | None]


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
