"""Store fixtures: every test runs on SQLite and, when configured, on PostgreSQL."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from servicekit import StepClock, open_test_store, pg_base_url, pg_schema, reset  # noqa: E402

from adjudicator import Adjudicator  # noqa: E402
from adjudicator.db.store import Store  # noqa: E402

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


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database for this worker: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'store.db'}"
        store = open_test_store(url)
        store.db.migrate()
        store.close()
        yield url
        return
    base = pg_base_url()
    assert base is not None
    with pg_schema(base, "store") as url:
        store = open_test_store(url)
        store.db.migrate()
        store.close()
        yield url


@pytest.fixture
def clock() -> StepClock:
    """A clock one second apart on each reading."""
    return StepClock()


@pytest.fixture
def store(database_url: str, clock: StepClock) -> Iterator[Store]:
    """An empty store on the database under test."""
    opened = open_test_store(database_url, clock)
    reset(opened)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def adjudicator() -> Adjudicator:
    """The real decision core (one engine host for the test session)."""
    return Adjudicator()
