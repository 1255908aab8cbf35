"""Money: the order ledger, and API keys that belong to a person.

- ``order_accounts``: one cap account per order and currency (minor units);
  the CHECK constraint ``held + paid <= cap`` is the invariant of lifecycle
  v1.1, kept by the database itself.
- ``ledger_entries``: every hold, release and payout, with its audit entry.
- ``money_reconcile_runs``: the worker's hourly reconciliations.
- ``api_keys.user_id``: the console user a staff or admin key belongs to, so
  four eyes on money counts persons, not keys.

Existing claims are carried into the ledger (:mod:`adjudicator.ledger.carry`):
a claim in the refund stage becomes a hold, a refunded one a hold and its
payout; an order already over its cap is carried as it is and reported by
``adjudicator money reconcile``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from adjudicator.db.models import UtcDateTime
from adjudicator.ledger.carry import carry_over

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_api_keys_user_id_console_users", "console_users", ["user_id"], ["id"]
        )
    op.create_table(
        "order_accounts",
        sa.Column("order_id", sa.String(200), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("cap", sa.BigInteger(), nullable=False),
        sa.Column("decided_cap", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("decision_id", sa.String(36), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("held >= 0 AND paid >= 0", name="ck_order_accounts_not_negative"),
        sa.CheckConstraint("held + paid <= cap", name="ck_order_accounts_within_cap"),
    )
    op.create_table(
        "ledger_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("claim_ref", sa.String(36), sa.ForeignKey("claims.ref"), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_ledger_entries_positive"),
        sa.CheckConstraint("kind IN ('hold', 'release', 'payout')", name="ck_ledger_entries_kind"),
    )
    op.create_index("ix_ledger_entries_claim_ref", "ledger_entries", ["claim_ref"])
    op.create_table(
        "money_reconcile_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("discrepancies", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
    )
    op.create_index("ix_ledger_entries_order", "ledger_entries", ["order_id", "currency", "id"])
    carry_over(Session(bind=op.get_bind()), datetime.now(UTC))


def downgrade() -> None:
    op.drop_table("money_reconcile_runs")
    op.drop_table("ledger_entries")
    op.drop_table("order_accounts")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint("fk_api_keys_user_id_console_users", type_="foreignkey")
        batch.drop_column("user_id")
