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
- ``RATE_LIMIT``, ``RATE_BURST`` [``ADJUDICATOR_RATE_LIMIT``, ``ADJUDICATOR_RATE_BURST``]:
  per-key requests per second and burst for the whole service; ``RATE_SHARES``:
  how many worker processes share them (``serve`` passes its worker count)
- ``METRICS_MULTIPROCESS_DIR`` [``PROMETHEUS_MULTIPROC_DIR``]: merge all workers' metrics
- the rules [``ADJUDICATOR_RULES_DIR``]: another rules directory (default: the rules
  shipped inside the package); the service refuses to start when its active version is broken
- ``STORE``, ``ADJUDICATOR``, ``CLOCK``: objects to use instead of building them (tests)
- ``RECYCLE_ON_ENGINE_FAULT``: stop this worker after an engine fault that asks for it

The environment is read here once, through :class:`adjudicator.settings.ServiceSettings`.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g

from adjudicator.settings import ServiceSettings
from adjudicator.store import StoreConfig, open_store, utc_now
from adjudicator.store.config import key_secret_from_env
from api import console, metrics, observe, problems
from api.blueprints import audit, claims, decisions, health, rulesets, webhooks
from api.jsonio import OrjsonProvider
from api.openapi import BEARER, Api
from api.ratelimit import RateLimiter
from api.services import EXTENSION, Services

__all__ = ["create_app"]


def _settings(environ: Mapping[str, str], overrides: Mapping[str, Any]) -> dict[str, Any]:
    env = ServiceSettings.from_env(environ)
    settings: dict[str, Any] = {
        "MAX_CONTENT_LENGTH": env.max_body_bytes,
        "RATE_LIMIT": env.rate_limit,
        "RATE_BURST": env.rate_burst,
        "RATE_SHARES": 1,
        "METRICS_MULTIPROCESS_DIR": env.multiprocess_dir,
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

    # the rules first: a broken active version refuses before the database is opened
    adjudicator = app.config.get("ADJUDICATOR")
    if adjudicator is None:
        from adjudicator import Adjudicator, load_catalog
        from adjudicator.settings import rules_dir_from_env

        adjudicator = Adjudicator(load_catalog(rules_dir_from_env(os.environ)))
    store = app.config.get("STORE") or open_store(
        StoreConfig(
            database_url=app.config["DATABASE_URL"],
            key_secret=app.config["KEY_SECRET"],
            clock=app.config.get("CLOCK") or utc_now,
        )
    )
    measured = metrics.Metrics(store, app.config["METRICS_MULTIPROCESS_DIR"])
    limiter = RateLimiter.share(
        float(app.config["RATE_LIMIT"]), int(app.config["RATE_BURST"]), app.config["RATE_SHARES"]
    )
    app.extensions[EXTENSION] = Services(
        store=store, adjudicator=adjudicator, metrics=measured, limiter=limiter
    )

    api = Api(app)
    api.spec.components.security_scheme(BEARER, {"type": "http", "scheme": "bearer"})
    for module in (health, decisions, rulesets, audit, claims, webhooks):
        api.register_blueprint(module.blueprint())
    console.install(app)  # the staff console at /console/ (HTML, outside the OpenAPI document)
    metrics.register(app, measured)
    problems.register(app)
    observe.install(app, measured)
    app.after_request(_finish)
    return app


def _finish(response: Response) -> Response:
    if g.get("recycle_worker") and current_app.config["RECYCLE_ON_ENGINE_FAULT"]:
        # The engine asked to be replaced: let gunicorn start a fresh worker after this reply.
        response.call_on_close(lambda: os.kill(os.getpid(), signal.SIGTERM))
    return response
