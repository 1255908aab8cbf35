"""Helpers for the console tests: log in through the form, read a form's CSRF token."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from adjudicator.db.actor import Actor
from adjudicator.db.store import Store

OPERATOR = Actor(key_id=None, name="cli:test", role="admin")
PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def store(app: Flask) -> Store:
    """The app's store."""
    found: Store = app.extensions["adjudicator"].store
    return found


def csrf_token(client: FlaskClient, path: str = "/console/login") -> str:
    """The CSRF token of the form on ``path``, as a browser would read it."""
    page = client.get(path)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found is not None, f"no CSRF token on {path}"
    return found.group(1)


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> None:
    """Log ``name`` in through the login form."""
    token = csrf_token(client)
    form = {"username": name, "password": password, "csrf_token": token}
    response = client.post("/console/login", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)


SYSTEM = Actor(key_id="orders-sys", name="orders", role="system")


def escalated_claim(app: Flask, case: dict[str, Any]) -> str:
    """A claim opened by an order system and escalated by its buyer: awaiting staff."""
    from adjudicator.claims.service import act, open_claim

    decider = app.extensions["adjudicator"].decider
    with app.app_context():
        record, _ = open_claim(store(app), decider, case, SYSTEM)
        act(store(app), decider, record.ref, "escalate", {}, SYSTEM, party="buyer")
    return record.ref
