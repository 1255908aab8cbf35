"""Rules governance: active version, replays, activation requests.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from adjudicator.db.models import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "replays",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("candidate_version", sa.String(64), nullable=False),
        sa.Column("candidate_digest", sa.String(80), nullable=False),
        sa.Column("baseline_version", sa.String(64), nullable=False),
        sa.Column("baseline_digest", sa.String(80), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("digest", sa.String(80), nullable=True),
        sa.Column("csv", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=True),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("actor_key_id", sa.String(32), nullable=True),
        sa.Column("actor_name", sa.String(200), nullable=False),
    )
    op.create_index("ix_replays_created_at", "replays", ["created_at"])

    op.create_table(
        "activation_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("replay_id", sa.String(36), nullable=False),
        sa.Column("report_digest", sa.String(80), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("requested_by_key_id", sa.String(32), nullable=True),
        sa.Column("requested_by_name", sa.String(200), nullable=False),
        sa.Column("approved_at", UtcDateTime(), nullable=True),
        sa.Column("approved_by_key_id", sa.String(32), nullable=True),
        sa.Column("approved_by_name", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(
            ["replay_id"], ["replays.id"], name="fk_activation_requests_replay_id_replays"
        ),
    )
    op.create_index("ix_activation_requests_replay_id", "activation_requests", ["replay_id"])

    op.create_table(
        "ruleset_activations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(36), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("activated_at", UtcDateTime(), nullable=False),
        sa.Column("actor_key_id", sa.String(32), nullable=True),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["previous_id"],
            ["ruleset_activations.id"],
            name="fk_ruleset_activations_previous_id_ruleset_activations",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["activation_requests.id"],
            name="fk_ruleset_activations_request_id_activation_requests",
        ),
    )


def downgrade() -> None:
    op.drop_table("ruleset_activations")
    op.drop_table("activation_requests")
    op.drop_index("ix_replays_created_at", "replays")
    op.drop_table("replays")
