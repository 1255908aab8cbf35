"""Readiness: can this process write to its database, and does it know within a second?

``/readyz`` must answer quickly whatever state the database is in, and must
fail when a decision could not be stored. :class:`ReadinessProbe` rewrites
the one row of ``readiness_probe`` in a transaction of its own, with waits
capped below its budget (PostgreSQL ``statement_timeout``/``lock_timeout``,
SQLite's busy timeout), on a thread of its own; the caller waits for that
thread at most ``budget`` seconds. A probe still running from an earlier call
(a connect that hangs) is not started twice: the caller is told the database
is unavailable at once.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from adjudicator.db.errors import DatabaseUnavailable
from adjudicator.db.readiness_models import PROBE_ID, ReadinessProbeRow
from adjudicator.db.store import Store

BUDGET_SECONDS = 0.9


def write_probe(store: Store, budget: float = BUDGET_SECONDS) -> None:
    """Rewrite the probe row, giving up after about ``budget`` seconds of waiting."""
    wait_ms = max(50, int(budget * 800))
    statement = (
        update(ReadinessProbeRow)
        .where(ReadinessProbeRow.id == PROBE_ID)
        .values(checked_at=store.clock())
    )
    engine = store.db.engine
    try:
        if store.db.dialect == "postgresql":
            with engine.begin() as connection:
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = {wait_ms}")
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")
                updated = connection.execute(statement).rowcount
        else:
            normal_ms = int(store.db.timeouts.statement * 1000)
            with engine.execution_options(adjudicator_write=True).connect() as connection:
                raw: Any = connection.connection.dbapi_connection  # outside any transaction
                raw.execute(f"PRAGMA busy_timeout = {wait_ms}")
                try:
                    with connection.begin():  # BEGIN IMMEDIATE: the write lock, or a timeout
                        updated = connection.execute(statement).rowcount
                finally:
                    raw.execute(f"PRAGMA busy_timeout = {normal_ms}")
    except (DBAPIError, PoolTimeout) as exc:
        raise DatabaseUnavailable("the database cannot be written") from exc
    if updated != 1:
        raise DatabaseUnavailable("the readiness probe's row is missing (run the migrations)")


class ReadinessProbe:
    """Runs :func:`write_probe` on its own thread and waits for it at most ``budget`` s."""

    def __init__(self, store: Store, budget: float = BUDGET_SECONDS) -> None:
        self._store = store
        self._budget = budget
        self._lock = threading.Lock()
        self._running: Future[None] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readiness")

    def check(self) -> None:
        """Return when the database took a write; raise :class:`DatabaseUnavailable` if not."""
        with self._lock:
            if self._running is not None and not self._running.done():
                raise DatabaseUnavailable("the previous readiness probe has not returned")
            running = self._running = self._pool.submit(write_probe, self._store, self._budget)
        try:
            running.result(timeout=self._budget)
        except FutureTimeout:
            raise DatabaseUnavailable("the database did not take a write in time") from None

    def close(self) -> None:
        """Stop the probe's thread (after a running probe returns)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
