"""The console under the Flask test client: the real core, a SQLite store emptied per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from consolekit import OPERATOR, PASSWORD, login, store  # noqa: E402
from servicekit import KEY_SECRET, StepClock, reset  # noqa: E402

from adjudicator import Adjudicator  # noqa: E402
from adjudicator.identity import users as users_module  # noqa: E402
from adjudicator.identity.users import create_user  # noqa: E402
from api import create_app  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _cheap_argon2() -> Iterator[None]:
    """Argon2id still, with light parameters: these tests log in often (the store's own
    tests use the real ones)."""
    saved = users_module._HASHER
    users_module._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    users_module._HASHER = saved


@pytest.fixture(scope="session")
def adjudicator() -> Adjudicator:
    return Adjudicator()


@pytest.fixture(scope="session")
def clock() -> StepClock:
    return StepClock()


@pytest.fixture(scope="session")
def app(
    adjudicator: Adjudicator, clock: StepClock, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path_factory.mktemp('console') / 'console.db'}"
    app = create_app(
        {"DATABASE_URL": url, "KEY_SECRET": KEY_SECRET, "ADJUDICATOR": adjudicator, "CLOCK": clock}
    )
    store(app).db.migrate()
    yield app
    store(app).close()


@pytest.fixture
def users(app: Flask) -> dict[str, int]:
    """A fresh database with console users ``staff``, ``staff2``, ``auditor``, ``admin``."""
    reset(store(app))
    made = {}
    for name, role in (("staff", "staff"), ("staff2", "staff"), ("auditor", "auditor"),
                       ("admin", "admin")):  # fmt: skip
        made[name] = create_user(
            store(app), name=name, role=role, password=PASSWORD, actor=OPERATOR
        ).user_id
    return made


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def staff(client: FlaskClient, users: dict[str, int]) -> FlaskClient:
    """A client logged in as ``staff``."""
    login(client, "staff")
    return client
