"""The database connection: engines, transactions, and migrations.

:class:`Database` owns one SQLAlchemy engine. :meth:`Database.read` opens a
read-only unit of work, :meth:`Database.autocommit` a session for single
statements; :meth:`Database.write` opens one that will append to the audit
chain and so must be serialised with every other writer:

- on SQLite it starts with ``BEGIN IMMEDIATE`` (the write lock is taken at the
  start, so two writers never interleave; WAL mode lets readers go on). Before
  that, writers queue on a gate (a thread lock, and ``flock`` on a file beside
  the database for other processes), so they wait in the kernel and wake as
  soon as the writer before them is done, instead of polling SQLite's busy
  handler with growing sleeps;
- on PostgreSQL the audit module locks the chain-head row with
  ``SELECT ... FOR UPDATE`` as the first statement of the transaction.

SQLAlchemy's connection errors are wrapped into :class:`DatabaseUnavailable`.

Every wait is bounded (:class:`~adjudicator.db.config.DatabaseTimeouts`):
PostgreSQL gets ``connect_timeout`` and, per session, ``statement_timeout``
and ``lock_timeout``; the pool gives up after ``pool_timeout``; SQLite's busy
handler waits at most the statement timeout; a thread waits for the writer
gate no longer either. A stalled database therefore fails a request with
:class:`DatabaseUnavailable` (a 503) within seconds instead of hanging it.

SQLite files are created with mode 0600 (its ``-wal`` and ``-shm`` files take
the database file's mode) and run with ``synchronous=FULL`` in WAL mode: each
commit is fsynced before it returns, so a decision the API acknowledged
survives a power cut (``NORMAL`` may lose the last commits; the measured cost
is in ``docs/benchmarks.md``).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import orjson
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from adjudicator.db.config import DatabaseTimeouts
from adjudicator.db.errors import DatabaseUnavailable

MIGRATIONS = Path(__file__).parent / "migrations"
_WRITE = "adjudicator_write"
_MIGRATION_LOCK = 0x61646A75  # pg_advisory_xact_lock key while migrating: "adju"
_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


SQLITE_SYNCHRONOUS = "FULL"


def _sqlite_connect(timeouts: DatabaseTimeouts) -> Any:
    busy_ms = int(timeouts.statement * 1000)

    def connect(dbapi_connection: Any, _record: Any) -> None:
        # Let BEGIN be issued by us (``_sqlite_begin``), not by the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}",
            "PRAGMA foreign_keys=ON",
            f"PRAGMA busy_timeout={busy_ms}",
        ):
            cursor.execute(pragma)
        cursor.close()

    return connect


def _pg_connect(timeouts: DatabaseTimeouts) -> Any:
    statement_ms = int(timeouts.statement * 1000)

    def connect(dbapi_connection: Any, _record: Any) -> None:
        # Session defaults, set outside any transaction so they outlive it.
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {statement_ms}")
            cursor.execute(f"SET lock_timeout = {statement_ms}")
        dbapi_connection.autocommit = autocommit

    return connect


def _create_private(database: str | None) -> None:
    """Create the SQLite file ``database`` with mode 0600 unless it exists."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    # Exists already, or cannot be made (no such folder): SQLite reports it on connecting.
    with suppress(OSError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_begin(connection: Connection) -> None:
    mode = "IMMEDIATE" if connection.get_execution_options().get(_WRITE) else "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, timeouts: DatabaseTimeouts | None = None) -> Engine:
    """An engine for ``url`` with orjson for JSON columns, bounded waits, SQLite set up."""
    timeouts = timeouts or DatabaseTimeouts()
    options: dict[str, Any] = {
        "json_serializer": _json_dumps,
        "json_deserializer": orjson.loads,
    }
    if url.startswith("sqlite"):
        options["connect_args"] = {"check_same_thread": False, "timeout": timeouts.statement}
        database = make_url(url).database
        if database and database != ":memory:":  # a file: a queue pool, whose wait is bounded
            options["pool_timeout"] = timeouts.pool
        engine = create_engine(url, **options)
        _create_private(engine.url.database)
        event.listen(engine, "connect", _sqlite_connect(timeouts))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    options["connect_args"] = {"connect_timeout": max(1, round(timeouts.connect))}
    engine = create_engine(
        url, pool_size=10, max_overflow=20, pool_timeout=timeouts.pool, **options
    )
    event.listen(engine, "connect", _pg_connect(timeouts))
    return engine


class _WriterGate:
    """Serialises SQLite writers: threads by a lock, processes by ``flock`` on a file."""

    def __init__(self, path: Path | None, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=self._timeout):
            raise DatabaseUnavailable("timed out waiting for the database's write lock")
        try:
            if self._path is None:
                yield
                return
            if self._fd is None or self._pid != os.getpid():  # not inherited across fork
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


def _gate_file(engine: Engine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database + "-lock")


class Database:
    """One database: sessions for reading and for serialised writing, and migrations."""

    def __init__(self, url: str, timeouts: DatabaseTimeouts | None = None) -> None:
        self.timeouts = timeouts or DatabaseTimeouts()
        self.engine = make_engine(url, self.timeouts)
        self.dialect = self.engine.dialect.name
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        autocommit = {"isolation_level": "AUTOCOMMIT"} if self.dialect == "postgresql" else {}
        self._autocommit = sessionmaker(self.engine.execution_options(**autocommit))
        self._write = sessionmaker(
            self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )
        self._gate = (
            _WriterGate(_gate_file(self.engine), self.timeouts.statement)
            if self.dialect == "sqlite"
            else None
        )

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; rolled back at the end."""
        try:
            with self._read() as session, session.begin():
                yield session
        except _UNAVAILABLE as exc:
            raise DatabaseUnavailable("the database is unavailable") from exc

    @contextmanager
    def autocommit(self) -> Iterator[Session]:
        """A session for single statements, each its own transaction on PostgreSQL.

        Saves the BEGIN and COMMIT round trips; on SQLite it is a deferred
        transaction, for reading only.
        """
        try:
            with self._autocommit() as session:
                yield session
        except _UNAVAILABLE as exc:
            raise DatabaseUnavailable("the database is unavailable") from exc

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on error."""
        try:
            with self._gated(), self._write() as session, session.begin():
                yield session
        except _UNAVAILABLE as exc:
            raise DatabaseUnavailable("the database is unavailable") from exc

    @contextmanager
    def _gated(self) -> Iterator[None]:
        if self._gate is None:
            yield
        else:
            with self._gate.hold():
                yield

    def migrate(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to ``revision`` (one process at a time)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            with (
                self._gated(),
                self.engine.execution_options(**{_WRITE: True}).begin() as connection,
            ):
                if self.dialect == "postgresql":
                    # Another host may be migrating: wait for it, however long it takes.
                    connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
                    connection.exec_driver_sql("SET LOCAL lock_timeout = 0")
                    connection.execute(select(func.pg_advisory_xact_lock(_MIGRATION_LOCK)))
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        except _UNAVAILABLE as exc:
            raise DatabaseUnavailable("the database is unavailable") from exc

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self._gate is not None:
            self._gate.close()
