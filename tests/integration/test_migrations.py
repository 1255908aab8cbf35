"""The Alembic migrations build exactly the tables the models describe, idempotently."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from adjudicator.audit.models import GENESIS_HASH, AuditHeadRow
from adjudicator.db.store import Store
from adjudicator.tables import metadata


def test_the_models_match_the_migrated_schema(store: Store) -> None:
    with store.db.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert compare_metadata(context, metadata) == []


def test_upgrading_again_changes_nothing(store: Store) -> None:
    store.db.migrate()
    store.db.migrate()
    with store.db.read() as session:
        head = session.execute(select(AuditHeadRow)).scalar_one()
    assert (head.id, head.seq, head.hash) == (1, 0, GENESIS_HASH)
