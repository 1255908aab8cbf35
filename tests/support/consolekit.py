"""Helpers for the console tests: log in through the form, read a form's CSRF token."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from adjudicator.store import Actor, Store

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
