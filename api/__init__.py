"""The HTTP API around the decision core: ``create_app(config)`` is its composition root.

Nothing is built at import time. ``create_app`` reads its settings (defaults
from the environment, overridden by ``config``), opens the store, builds this
process's own :class:`adjudicator.Adjudicator` (its own engine host), and
registers one blueprint per resource, the problem+json error handlers and the
OpenAPI document at ``/v1/openapi.json``. Under gunicorn every worker calls it
after the fork, so no engine host is shared between processes.

Settings (``config`` keys; environment variable in brackets):

- ``DATABASE_URL`` [``DATABASE_URL``]: default ``sqlite:///adjudicator.db`` in the cwd
- ``KEY_SECRET`` [``ADJUDICATOR_KEY_SECRET`` or the ``.adjudicator-secret`` file]
- ``MAX_CONTENT_LENGTH`` [``ADJUDICATOR_MAX_BODY_BYTES``]: request body limit, default 1 MiB
- ``STORE``, ``ADJUDICATOR``, ``CLOCK``: objects to use instead of building them (tests)
- ``RECYCLE_ON_ENGINE_FAULT``: stop this worker after an engine fault that asks for it
"""

from __future__ import annotations

import os
import re
import signal
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request

from adjudicator.store import StoreConfig, open_store, utc_now
from adjudicator.store.config import key_secret_from_env
from api import problems
from api.blueprints import audit, decisions, health, rulesets
from api.jsonio import OrjsonProvider
from api.openapi import BEARER, Api
from api.services import EXTENSION, Services

DEFAULT_MAX_BODY = 1024 * 1024
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

__all__ = ["create_app"]


def _settings(environ: Mapping[str, str], overrides: Mapping[str, Any]) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "MAX_CONTENT_LENGTH": int(environ.get("ADJUDICATOR_MAX_BODY_BYTES") or DEFAULT_MAX_BODY),
        "RECYCLE_ON_ENGINE_FAULT": False,
        "API_TITLE": "Trade Assurance claim adjudicator",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
    settings.update(overrides)
    if "STORE" not in settings:
        if "DATABASE_URL" not in settings:
            settings["DATABASE_URL"] = StoreConfig.from_env(environ, Path.cwd()).database_url
        if "KEY_SECRET" not in settings:
            settings["KEY_SECRET"] = key_secret_from_env(environ, Path.cwd())
    return settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app; ``config`` overrides the settings the environment gives."""
    app = Flask(__name__)
    app.config.update(_settings(os.environ, config or {}))
    app.json = OrjsonProvider(app)

    store = app.config.get("STORE") or open_store(
        StoreConfig(
            database_url=app.config["DATABASE_URL"],
            key_secret=app.config["KEY_SECRET"],
            clock=app.config.get("CLOCK") or utc_now,
        )
    )
    adjudicator = app.config.get("ADJUDICATOR")
    if adjudicator is None:
        from adjudicator import Adjudicator

        adjudicator = Adjudicator()
    app.extensions[EXTENSION] = Services(store=store, adjudicator=adjudicator)

    api = Api(app)
    api.spec.components.security_scheme(BEARER, {"type": "http", "scheme": "bearer"})
    for module in (health, decisions, rulesets, audit):
        api.register_blueprint(module.blueprint())
    problems.register(app)
    app.before_request(_assign_request_id)
    app.after_request(_finish)
    return app


def _assign_request_id() -> None:
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _finish(response: Response) -> Response:
    response.headers["X-Request-Id"] = g.get("request_id", "")
    if g.get("recycle_worker") and current_app.config["RECYCLE_ON_ENGINE_FAULT"]:
        # The engine asked to be replaced: let gunicorn start a fresh worker after this reply.
        response.call_on_close(lambda: os.kill(os.getpid(), signal.SIGTERM))
    return response
