"""Bad days (issue 10, point 4): a stalled or read-only database, files, secrets, settings.

Each test here failed on the code before it: a stalled database hung requests
for 30 s, ``/readyz`` only read, SQLite files took the umask's mode, the key
secret landed in the working directory whatever its length, and a mistyped
``DATABASE_URL`` was answered with SQLAlchemy's words.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from servicekit import KEY_SECRET, auth, make_case, pg_base_url, pg_schema
from sqlalchemy import event, text

from adjudicator import Adjudicator
from adjudicator.cli import main
from adjudicator.db.actor import Actor
from adjudicator.db.config import DatabaseTimeouts, StoreConfig, key_secret_from_env
from adjudicator.db.database import Database
from adjudicator.identity.keys import create_key
from adjudicator.settings import SettingsError
from api import create_app

OPERATOR = Actor(key_id=None, name="cli:test", role="admin")
FAST = DatabaseTimeouts(connect=2, statement=1, pool=1)
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(pg_base_url() is None, reason="ADJUDICATOR_TEST_DATABASE_URL unset"),
        ],
    ),
]


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bad.db'}"
        return
    base = pg_base_url()
    assert base is not None
    with pg_schema(base, "bad") as url:
        yield url


@pytest.fixture
def app(database: str, adjudicator: Adjudicator) -> Iterator[Flask]:
    app = create_app(
        {
            "DATABASE_URL": database,
            "KEY_SECRET": KEY_SECRET,
            "ADJUDICATOR": adjudicator,
            "DB_TIMEOUTS": FAST,
        }
    )
    store = app.extensions["adjudicator"].store
    store.db.migrate()
    yield app
    app.extensions["adjudicator.readiness"].close()
    store.close()


def _call(fn: Any) -> Any:
    """Run ``fn`` on a thread; fail (rather than hang the suite) if it never returns."""
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "the request hung"
    return result[0]


@pytest.fixture
def hold_lock(database: str) -> Iterator[Any]:
    """A function that takes the database's write lock (or a row lock) from another connection."""
    held: list[Any] = []

    def hold(table: str) -> None:
        if database.startswith("sqlite"):
            conn = sqlite3.connect(database.removeprefix("sqlite:///"), isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
        else:
            import psycopg

            dsn = database.replace("postgresql+psycopg", "postgresql")
            conn = psycopg.connect(dsn)
            conn.execute(f"SELECT * FROM {table} FOR UPDATE")  # noqa: S608 (a fixed name)
        held.append(conn)

    yield hold
    for conn in held:
        conn.rollback()
        conn.close()


def test_a_stalled_database_is_a_503_not_a_hung_worker(app: Flask, hold_lock: Any) -> None:
    client = app.test_client()
    store = app.extensions["adjudicator"].store
    token = create_key(store, role="system", name="s", actor=OPERATOR)[1]
    assert client.post("/v1/decisions", json=make_case(), headers=auth(token)).status_code == 201
    hold_lock("audit_head")  # every writer queues behind this lock
    response = _call(lambda: client.post("/v1/decisions", json=make_case(), headers=auth(token)))
    assert response.status_code == 503
    assert response.get_json()["type"] == "urn:adjudicator:problem:unavailable"
    assert response.headers["Retry-After"] == "1"


def test_readyz_fails_when_a_writer_holds_the_database(app: Flask, hold_lock: Any) -> None:
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    hold_lock("readiness_probe")
    response = _call(lambda: client.get("/readyz"))
    assert response.status_code == 503


def test_readyz_fails_when_the_database_cannot_be_written(app: Flask, database: str) -> None:
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    engine = app.extensions["adjudicator"].store.db.engine
    read_only = (
        "PRAGMA query_only = 1"
        if database.startswith("sqlite")
        else "SET default_transaction_read_only = on"
    )

    def no_writes(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(read_only)
        cursor.close()
        if not database.startswith("sqlite"):
            dbapi_connection.commit()

    event.listen(engine, "connect", no_writes)
    engine.dispose()  # new connections: read-only ones
    with engine.connect() as connection:  # reading still works: a plain ping would pass
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
    assert _call(lambda: client.get("/readyz")).status_code == 503
    event.remove(engine, "connect", no_writes)
    engine.dispose()
    assert client.get("/readyz").status_code == 200


def test_sqlite_files_are_created_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "private.db"
        db = Database(f"sqlite:///{path}")
        db.migrate()
        with db.write() as session:
            session.execute(text("UPDATE audit_head SET seq = seq"))
        files = [p for p in tmp_path.iterdir() if p.name.startswith("private.db")]
        assert {p.name for p in files} >= {"private.db", "private.db-wal", "private.db-shm"}
        for file in files:
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
        db.close()
    finally:
        os.umask(old)


def test_sqlite_commits_are_synchronous_full(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'sync.db'}")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    db.close()


def test_the_key_secret_lives_beside_the_database_never_in_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    url = f"sqlite:///{tmp_path / 'data' / 'adjudicator.db'}"
    config = StoreConfig.from_env({"DATABASE_URL": url}, Path.cwd())
    secret_file = tmp_path / "data" / ".adjudicator-secret"
    assert secret_file.read_bytes().strip() == config.key_secret
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert list((tmp_path / "elsewhere").iterdir()) == []
    # One path, configured: used as it is.
    chosen = tmp_path / "chosen-secret"
    again = key_secret_from_env({"ADJUDICATOR_KEY_SECRET_FILE": str(chosen)}, url)
    assert chosen.read_bytes().strip() == again


def test_postgresql_needs_a_configured_secret() -> None:
    with pytest.raises(SettingsError) as raised:
        key_secret_from_env({}, "postgresql+psycopg://u@h/db")
    assert "ADJUDICATOR_KEY_SECRET_FILE" in str(raised.value)


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    with pytest.raises(SettingsError, match="ADJUDICATOR_KEY_SECRET"):
        key_secret_from_env({"ADJUDICATOR_KEY_SECRET": "x" * 31}, url)
    short = tmp_path / "short"
    short.write_text("y" * 31 + "\n")
    with pytest.raises(SettingsError, match="at least 32"):
        key_secret_from_env({"ADJUDICATOR_KEY_SECRET_FILE": str(short)}, url)
    assert key_secret_from_env({"ADJUDICATOR_KEY_SECRET": "x" * 32}, url) == b"x" * 32


def _cli(env: dict[str, str | None], *args: str) -> Any:
    return CliRunner().invoke(main, list(args), env=env)


def test_the_cli_will_not_make_a_second_secret_while_keys_exist(tmp_path: Path) -> None:
    env: dict[str, str | None] = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "ADJUDICATOR_KEY_SECRET": None,
        "ADJUDICATOR_KEY_SECRET_FILE": None,
    }
    made = _cli(env, "keys", "create", "--role", "staff", "--name", "alice")
    assert made.exit_code == 0, made.output
    secret = tmp_path / ".adjudicator-secret"
    assert secret.exists()
    secret.rename(tmp_path / "moved-away")
    refused = _cli(env, "keys", "list")
    assert refused.exit_code == 1
    assert "1 API key(s)" in refused.output and "ADJUDICATOR_KEY_SECRET_FILE" in refused.output
    assert not secret.exists()  # nothing was made
    env["ADJUDICATOR_KEY_SECRET_FILE"] = str(tmp_path / "moved-away")
    assert _cli(env, "keys", "list").exit_code == 0


@pytest.mark.parametrize(
    "url",
    ["not a url", "mysql://root:hunter2@db/x", "postgresql://u:hunter2@h/db", "nosuch+x://h/db"],
)
def test_database_url_errors_name_the_variable(tmp_path: Path, url: str) -> None:
    result = _cli({"DATABASE_URL": url, "ADJUDICATOR_KEY_SECRET": "k" * 32}, "db", "upgrade")
    assert result.exit_code == 1
    assert "DATABASE_URL" in result.output and "hunter2" not in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_database_names_the_variable(tmp_path: Path) -> None:
    url = "postgresql+psycopg://u:hunter2@127.0.0.1:1/db"  # nothing listens on port 1
    env = {"DATABASE_URL": url, "ADJUDICATOR_KEY_SECRET": "k" * 32}
    result = _cli(env, "db", "upgrade")
    assert result.exit_code == 1
    assert "DATABASE_URL=postgresql+psycopg://u:***@127.0.0.1:1/db" in result.output
    assert "hunter2" not in result.output


def test_an_exhausted_pool_is_a_503_not_a_wait(adjudicator: Adjudicator, tmp_path: Path) -> None:
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'pool.db'}",
            "KEY_SECRET": KEY_SECRET,
            "ADJUDICATOR": adjudicator,
            "DB_TIMEOUTS": FAST,
        }
    )
    store = app.extensions["adjudicator"].store
    store.db.migrate()
    token = create_key(store, role="staff", name="pool", actor=OPERATOR)[1]
    client = app.test_client()
    assert client.get("/v1/decisions", headers=auth(token)).status_code == 200
    pool = store.db.engine.pool
    held = [store.db.engine.connect() for _ in range(pool.size() + pool._max_overflow)]
    try:
        response = _call(lambda: client.get("/v1/decisions", headers=auth(token)))
        assert response.status_code == 503
        assert response.get_json()["type"] == "urn:adjudicator:problem:unavailable"
    finally:
        for connection in held:
            connection.close()
    assert client.get("/v1/decisions", headers=auth(token)).status_code == 200
    app.extensions["adjudicator.readiness"].close()
    store.close()


def test_a_database_that_accepts_but_never_answers_is_a_503(adjudicator: Adjudicator) -> None:
    import socket

    with socket.socket() as silent:  # the kernel completes the handshake; nobody answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        app = create_app(
            {
                "DATABASE_URL": f"postgresql+psycopg://u@127.0.0.1:{port}/db",
                "KEY_SECRET": KEY_SECRET,
                "ADJUDICATOR": adjudicator,
                "DB_TIMEOUTS": FAST,
            }
        )
        client = app.test_client()
        assert _call(lambda: client.get("/readyz")).status_code == 503
        token = "adj_aaaaaaaaaaaa_" + "b" * 43
        response = _call(lambda: client.get("/v1/rulesets", headers=auth(token)))
        assert response.status_code == 503
        app.extensions["adjudicator.readiness"].close()
        app.extensions["adjudicator"].store.close()
