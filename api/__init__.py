"""The HTTP API around the decision core: ``create_app(config)`` is its composition root.

Nothing is built at import time. ``create_app`` reads its settings (defaults
from the environment, overridden by ``config``), opens the store, builds this
process's own :class:`adjudicator.Adjudicator` (its own engine host), and
registers one blueprint per resource, the problem+json error handlers and the
OpenAPI document at ``/v1/openapi.json``. Under gunicorn every worker calls it
after the fork, so no engine host is shared between processes.

Settings (``config`` keys; environment variable in brackets):

- ``DATABASE_URL`` [``DATABASE_URL``]: default ``sqlite:///adjudicator.db`` in the cwd
- ``KEY_SECRET`` [``ADJUDICATOR_KEY_SECRET`` or ``ADJUDICATOR_KEY_SECRET_FILE``, by
  default ``.adjudicator-secret`` beside the SQLite file]
- ``DB_TIMEOUTS`` [``ADJUDICATOR_DB_{CONNECT,STATEMENT,POOL}_TIMEOUT``]: a
  :class:`~adjudicator.db.config.DatabaseTimeouts`
- ``MAX_CONTENT_LENGTH`` [``ADJUDICATOR_MAX_BODY_BYTES``]: request body limit, default 1 MiB
- ``RATE_LIMIT``, ``RATE_BURST`` [``ADJUDICATOR_RATE_LIMIT``, ``ADJUDICATOR_RATE_BURST``]:
  per-key requests per second and burst for the whole service; ``RATE_SHARES``:
  how many worker processes share them (``serve`` passes its worker count)
- ``METRICS_MULTIPROCESS_DIR`` [``PROMETHEUS_MULTIPROC_DIR``]: merge all workers' metrics
- the rules [``ADJUDICATOR_RULES_DIR``]: another rules directory (default: the rules
  shipped inside the package); the service refuses to start when its active version is broken
- ``STORE``, ``ADJUDICATOR``, ``CLOCK``: objects to use instead of building them (tests)
- ``RULES_DIR`` [``ADJUDICATOR_RULES_DIR``]: the rules root (holding ``trade_assurance/``);
  default the rules shipped with the package. Replay worker processes load it too.
- ``REPLAY_JOBS`` [``ADJUDICATOR_REPLAY_JOBS``]: worker processes of an API replay, default
  the number of cores
- ``ACTIVE_TTL``: seconds a worker trusts its last read of the active version (default 2)
- ``RECYCLE_ON_ENGINE_FAULT``: stop this worker after an engine fault that asks for it

The environment is read here once, through :class:`adjudicator.settings.ServiceSettings`.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, current_app, g

from adjudicator.db.config import (
    StoreConfig,
    key_secret_from_env,
    utc_now,
)
from adjudicator.db.readiness import ReadinessProbe
from adjudicator.db.store import open_store
from adjudicator.governance.active import ACTIVE_TTL, ActiveVersionCache
from adjudicator.settings import Settings
from api import console, docs, metrics, observe, problems, ratelimit, strictquery
from api.blueprints import (
    audit,
    claims,
    decisions,
    governance,
    health,
    orders,
    replays,
    rulesets,
    webhooks,
)
from api.jsonio import OrjsonProvider
from api.openapi import BEARER, Api
from api.ratelimit import RateLimiter
from api.services import EXTENSION, Services

__all__ = ["create_app"]


def _settings(found: Settings, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The app's config: the settings' values, then ``overrides`` (each read only if needed)."""
    lazy: dict[str, Callable[[], Any]] = {
        "MAX_CONTENT_LENGTH": lambda: found.service.max_body_bytes,
        "RATE_LIMIT": lambda: found.service.rate_limit,
        "RATE_BURST": lambda: found.service.rate_burst,
        "METRICS_MULTIPROCESS_DIR": lambda: found.service.multiprocess_dir,
        "RULES_DIR": lambda: found.rules_dir,
        "REPLAY_JOBS": lambda: found.replay_jobs,
        "CONSOLE_SECURE_COOKIES": lambda: found.secure_cookies,
    }
    settings: dict[str, Any] = {
        "RATE_SHARES": 1,
        "RECYCLE_ON_ENGINE_FAULT": False,
        "ACTIVE_TTL": ACTIVE_TTL,
        "API_TITLE": "Trade Assurance claim adjudicator",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
    settings.update({name: read() for name, read in lazy.items() if name not in overrides})
    settings.update(overrides)
    if "STORE" not in settings:
        if "DATABASE_URL" not in settings:
            settings["DATABASE_URL"] = found.database_url
        if "KEY_SECRET" not in settings:
            settings["KEY_SECRET"] = key_secret_from_env(found.environ, settings["DATABASE_URL"])
        if "DB_TIMEOUTS" not in settings:
            settings["DB_TIMEOUTS"] = found.db_timeouts
    return settings


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app; ``config`` overrides the settings the environment gives."""
    app = Flask(__name__)
    app.config.update(_settings(Settings.from_env(), config or {}))
    app.json = OrjsonProvider(app)

    # the rules first: a broken active version refuses before the database is opened
    rules_dir = app.config.get("RULES_DIR")
    adjudicator = app.config.get("ADJUDICATOR")
    if adjudicator is None:
        from adjudicator import Adjudicator, load_catalog

        adjudicator = Adjudicator(load_catalog(rules_dir))
    store = app.config.get("STORE") or open_store(
        StoreConfig(
            database_url=app.config["DATABASE_URL"],
            key_secret=app.config["KEY_SECRET"],
            clock=app.config.get("CLOCK") or utc_now,
            timeouts=app.config["DB_TIMEOUTS"],
        )
    )
    measured = metrics.Metrics(store, app.config["METRICS_MULTIPROCESS_DIR"])
    limiter = RateLimiter.share(
        float(app.config["RATE_LIMIT"]), int(app.config["RATE_BURST"]), app.config["RATE_SHARES"]
    )
    catalog = getattr(adjudicator, "catalog", None)  # a test double may have none
    ttl = float(app.config["ACTIVE_TTL"])
    active = ActiveVersionCache(store, catalog, ttl=ttl) if catalog is not None else None
    app.extensions[EXTENSION] = Services(
        store=store,
        adjudicator=adjudicator,
        metrics=measured,
        limiter=limiter,
        active=active,
        rules_dir=rules_dir,
        replay_jobs=int(app.config["REPLAY_JOBS"]),
    )

    app.extensions[health.READINESS] = ReadinessProbe(store)

    api = Api(app)
    api.spec.components.security_scheme(BEARER, {"type": "http", "scheme": "bearer"})
    modules = (health, decisions, rulesets, audit, claims, orders, webhooks, replays, governance)
    for module in modules:
        api.register_blueprint(module.blp)
    console.install(app)  # the staff console at /console/ (HTML, outside the OpenAPI document)
    metrics.register(app, measured)
    docs.register(app, "/v1/openapi.json")
    problems.register(app)
    observe.install(app, measured)
    strictquery.install(app, api.spec)
    ratelimit.install(app, limiter)
    app.after_request(_finish)
    return app


def _finish(response: Response) -> Response:
    if g.get("recycle_worker") and current_app.config["RECYCLE_ON_ENGINE_FAULT"]:
        # The engine asked to be replaced: let gunicorn start a fresh worker after this reply.
        response.call_on_close(lambda: os.kill(os.getpid(), signal.SIGTERM))
    return response
