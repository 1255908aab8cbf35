"""The Flask app under test: the real decision core, a SQLite store emptied per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from servicekit import KEY_SECRET, ROLES, StepClock, auth, make_case, reset  # noqa: E402

from adjudicator import Adjudicator  # noqa: E402
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.identity.keys import create_key, revoke_key  # noqa: E402
from adjudicator.identity.users import create_user  # noqa: E402
from api import create_app  # noqa: E402

OPERATOR = Actor(key_id=None, name="cli:test", role="admin")


@pytest.fixture(scope="session")
def adjudicator() -> Adjudicator:
    return Adjudicator()


@pytest.fixture(scope="session")
def app(adjudicator: Adjudicator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path_factory.mktemp('api') / 'api.db'}"
    app = create_app(
        {
            "DATABASE_URL": url,
            "KEY_SECRET": KEY_SECRET,
            "ADJUDICATOR": adjudicator,
            "CLOCK": StepClock(),
        }
    )
    store(app).db.migrate()
    yield app
    store(app).close()


def store(app: Flask) -> Store:
    """The app's store."""
    found: Store = app.extensions["adjudicator"].store
    return found


@pytest.fixture
def keys(app: Flask) -> dict[str, str]:
    """A fresh database with one key per role, plus a revoked one (``"revoked"``)."""
    reset(store(app))
    for role in ("staff", "admin"):  # their keys belong to a person (four eyes on money)
        create_user(store(app), name=role, role=role, password="a long password", actor=OPERATOR)
    made = {
        role: create_key(
            store(app), role=role, name=f"{role}-key", actor=OPERATOR,
            user=role if role in ("staff", "admin") else None,
        )[1]
        for role in ROLES
    }  # fmt: skip
    info, made["revoked"] = create_key(store(app), role="admin", name="old", actor=OPERATOR)
    revoke_key(store(app), info.key_id, actor=OPERATOR)
    return made


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def decision(client: FlaskClient, keys: dict[str, str]) -> dict[str, Any]:
    """One stored decision (worked example 1), as POST returned it."""
    response = client.post("/v1/decisions", json=make_case(), headers=auth(keys["system"]))
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body
