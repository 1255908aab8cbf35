"""Claims: the lifecycle tables (claims, revisions, events, outbox).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adjudicator.db.models import UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("claim_ref", sa.String(36), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dispatched_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index(op.f("ix_outbox_claim_ref"), "outbox", ["claim_ref"])
    op.create_index(op.f("ix_outbox_dispatched_at"), "outbox", ["dispatched_at"])

    op.create_table(
        "claims",
        sa.Column("ref", sa.String(36), nullable=False),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column("claim_id", sa.String(200), nullable=False),
        sa.Column("ground", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("recommended_outcome", sa.String(32), nullable=False),
        sa.Column("amount_claimed", sa.String(64), nullable=True),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("waiting_on", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("open_key", sa.String(64), nullable=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("clocks", sa.JSON(), nullable=False),
        sa.Column("filed_at", UtcDateTime(), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("opened_by", sa.String(64), nullable=True),
        sa.Column("next_due", UtcDateTime(), nullable=True),
        sa.Column("due_sort", UtcDateTime(), nullable=False),
        sa.Column("timer_due", UtcDateTime(), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("request_digest", sa.String(80), nullable=True),
        sa.PrimaryKeyConstraint("ref", name="pk_claims"),
        sa.UniqueConstraint("open_key", name="uq_claims_open_key"),
        sa.UniqueConstraint("idempotency_key", name="uq_claims_idempotency_key"),
    )
    op.create_index("ix_claims_order_id", "claims", ["order_id"])
    op.create_index("ix_claims_assignee", "claims", ["assignee"])
    op.create_index("ix_claims_opened_by", "claims", ["opened_by"])
    op.create_index("ix_claims_timer_due", "claims", ["timer_due"])
    op.create_index("ix_claims_due_sort_ref", "claims", ["due_sort", "ref"])
    op.create_index("ix_claims_status_due_sort", "claims", ["status", "due_sort", "ref"])
    op.create_index(
        "ix_claims_recommended_outcome_due_sort",
        "claims",
        ["recommended_outcome", "due_sort", "ref"],
    )

    op.create_table(
        "claim_revisions",
        sa.Column("claim_ref", sa.String(36), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("case_document", sa.JSON(), nullable=False),
        sa.Column("decision_id", sa.String(36), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_ref"], ["claims.ref"], name="fk_claim_revisions_claim_ref_claims"
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name="fk_claim_revisions_decision_id_decisions"
        ),
        sa.PrimaryKeyConstraint("claim_ref", "revision", name="pk_claim_revisions"),
    )
    op.create_index("ix_claim_revisions_decision_id", "claim_revisions", ["decision_id"])

    op.create_table(
        "claim_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("claim_ref", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("party", sa.String(16), nullable=False),
        sa.Column("actor_key_id", sa.String(64), nullable=True),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("from_status", sa.String(24), nullable=False),
        sa.Column("to_status", sa.String(24), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("request_digest", sa.String(80), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_ref"], ["claims.ref"], name="fk_claim_events_claim_ref_claims"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_claim_events"),
        sa.UniqueConstraint("claim_ref", "seq", name="uq_claim_events_claim_ref_seq"),
        sa.UniqueConstraint("claim_ref", "idempotency_key", name="uq_claim_events_claim_ref_key"),
    )


def downgrade() -> None:
    op.drop_table("claim_events")
    op.drop_table("claim_revisions")
    op.drop_table("claims")
    op.drop_table("outbox")
