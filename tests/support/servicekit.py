"""Shared helpers for the service tests (tests/integration and tests/api).

A valid case (worked example 1 of rules.md), databases to test against
(SQLite always; PostgreSQL when ADJUDICATOR_TEST_DATABASE_URL is set, in a
schema of its own per xdist worker), a store reset between tests, and a clock.
"""

from __future__ import annotations

import copy
import itertools
import os
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, delete, update
from sqlalchemy.schema import CreateSchema, DropSchema

import adjudicator.tables  # noqa: F401  (every table in the metadata)
from adjudicator.audit.models import GENESIS_HASH, AuditEntryRow, AuditHeadRow, CheckpointRow
from adjudicator.claims.models import ClaimEventRow, ClaimRevisionRow, ClaimRow
from adjudicator.db.config import StoreConfig
from adjudicator.db.store import Store, open_store
from adjudicator.decisions.models import DecisionRow
from adjudicator.governance.models import (
    ActivationRequestRow,
    ReplayRow,
    RulesetActivationRow,
)
from adjudicator.identity.models import ApiKeyRow, UserRow
from adjudicator.ledger.models import LedgerEntryRow, OrderAccountRow, ReconcileRunRow
from adjudicator.webhooks.models import (
    OutboxRow,
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookSubscriptionRow,
)
from api.examples import WORKED_EXAMPLE_1

PG_ENV = "ADJUDICATOR_TEST_DATABASE_URL"
ROLES = ("system", "staff", "auditor", "admin")
KEY_SECRET = b"test-secret-of-at-least-32-bytes-0123456789"


def make_case(
    *, order_id: str = "PO-1001", claim_id: str | None = None, **top: Any
) -> dict[str, Any]:
    """Worked example 1 (upheld_full, refund 20000.00 USD) with its own ids."""
    case = copy.deepcopy(WORKED_EXAMPLE_1)
    case["case_id"] = f"case-{uuid.uuid4().hex[:10]}"
    case["order"]["order_id"] = order_id
    case["claim"]["claim_id"] = claim_id or f"CL-{uuid.uuid4().hex[:8]}"
    case.update(top)
    return case


class StepClock:
    """A clock that advances by ``step`` on every reading (thread-safe)."""

    def __init__(self, start: datetime | None = None, step: timedelta = timedelta(seconds=1)):
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._step = step
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self._now += self._step
            return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the clock on by ``delta`` (on top of its steps)."""
        with self._lock:
            self._now += delta


def pg_base_url() -> str | None:
    """The PostgreSQL server to test against, or None."""
    return os.environ.get(PG_ENV) or None


def schema_url(base_url: str, schema: str) -> str:
    """``base_url`` with every connection's search_path set to ``schema``."""
    return f"{base_url.split('?')[0]}?options=-csearch_path%3D{schema}"


@contextmanager
def pg_schema(base_url: str, label: str) -> Iterator[str]:
    """A fresh schema (dropped afterwards); yields the URL that selects it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    schema = f"t_{label}_{worker}_{secrets.token_hex(4)}"
    engine = create_engine(base_url.split("?")[0])
    with engine.begin() as conn:
        conn.execute(CreateSchema(schema))
    try:
        yield schema_url(base_url, schema)
    finally:
        with engine.begin() as conn:
            conn.execute(DropSchema(schema, cascade=True))
        engine.dispose()


def open_test_store(url: str, clock: Any = None) -> Store:
    """A store on ``url`` with the test key secret (and ``clock`` when given)."""
    config = StoreConfig(database_url=url, key_secret=KEY_SECRET)
    if clock is not None:
        config = StoreConfig(database_url=url, key_secret=KEY_SECRET, clock=clock)
    return open_store(config)


def reset(store: Store) -> None:
    """Empty every table and rewind the chain head."""
    with store.db.write() as session:
        for governance in (RulesetActivationRow, ActivationRequestRow, ReplayRow):
            session.execute(delete(governance))
        session.execute(delete(AuditEntryRow))
        for table in (
            WebhookAttemptRow, WebhookDeliveryRow, WebhookSubscriptionRow, LedgerEntryRow,
            OrderAccountRow, ReconcileRunRow, ClaimEventRow, ClaimRevisionRow, ClaimRow, OutboxRow,
        ):  # fmt: skip
            session.execute(delete(table))
        session.execute(delete(CheckpointRow))
        session.execute(delete(DecisionRow))
        session.execute(delete(ApiKeyRow))
        session.execute(delete(UserRow))
        session.execute(
            update(AuditHeadRow).values(seq=0, prev_hash=GENESIS_HASH, hash=GENESIS_HASH)
        )


_ids = itertools.count()


def unique(prefix: str) -> str:
    """A unique, readable id."""
    return f"{prefix}-{next(_ids)}-{uuid.uuid4().hex[:6]}"


def auth(token: str | None) -> dict[str, str]:
    """The Authorization header for ``token`` (none for ``None``)."""
    return {} if token is None else {"Authorization": f"Bearer {token}"}
