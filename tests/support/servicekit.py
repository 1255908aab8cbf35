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

from adjudicator.store import Store, StoreConfig, open_store
from adjudicator.store.models import (
    GENESIS_HASH,
    ApiKeyRow,
    AuditEntryRow,
    AuditHeadRow,
    DecisionRow,
)

PG_ENV = "ADJUDICATOR_TEST_DATABASE_URL"
ROLES = ("system", "staff", "auditor", "admin")
KEY_SECRET = b"test-secret"

WORKED_EXAMPLE_1: dict[str, Any] = {
    "as_of": "2024-04-30T00:00:00Z",
    "order": {
        "order_id": "PO-1001",
        "currency": "USD",
        "assurance_amount": "20000.00",
        "coverage": "receipt_30d",
        "buyer_confirmed_at": "2024-03-01T09:00:00Z",
        "supplier_confirmed_at": "2024-03-01T10:00:00Z",
        "incoterm": "FOB",
        "shipping_method": "sea",
        "ship_by": {"date": "2024-04-15"},
        "lines": [{"line_id": "L1", "quantity": 10000, "unit_price": "2.00"}],
    },
    "payments": [
        {"payment_id": "P1", "kind": "initial", "method": "tt", "amount": "6000.00",
         "credited_at": "2024-03-02T08:00:00Z", "to_designated_account": True},
        {"payment_id": "P2", "kind": "balance", "method": "tt", "amount": "14000.00",
         "credited_at": "2024-04-10T08:00:00Z", "to_designated_account": True},
    ],
    "claim": {"claim_id": "CL-1", "ground": "non_shipment", "remedy": "cancel_full_refund",
              "filed_at": "2024-04-20T10:00:00Z"},
}  # fmt: skip


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
        session.execute(delete(AuditEntryRow))
        session.execute(delete(DecisionRow))
        session.execute(delete(ApiKeyRow))
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
