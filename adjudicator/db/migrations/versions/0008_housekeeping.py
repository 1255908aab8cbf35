"""Worker housekeeping: replay heartbeats, and an index to prune the webhook log by.

- ``replays.heartbeat_at``: when the job last showed life (queued, planned, a
  chunk merged); the worker's ``replays.abandon`` job fails a queued or
  running replay whose heartbeat is older than ten minutes.
- ``ix_webhook_deliveries_finished`` (``status``, ``finished_at``): the
  worker's ``webhooks.prune`` job finds finished deliveries past retention.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adjudicator.db.models import UtcDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("replays") as batch:
        batch.add_column(sa.Column("heartbeat_at", UtcDateTime(), nullable=True))
    op.execute("UPDATE replays SET heartbeat_at = COALESCE(finished_at, started_at, created_at)")
    op.create_index(
        "ix_webhook_deliveries_finished", "webhook_deliveries", ["status", "finished_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_finished", table_name="webhook_deliveries")
    with op.batch_alter_table("replays") as batch:
        batch.drop_column("heartbeat_at")
