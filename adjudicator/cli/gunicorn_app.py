"""gunicorn run programmatically: the app is loaded by import string in each worker.

``preload_app`` stays off, so every worker imports and calls the app factory
after the fork and builds its own Adjudicator (its own durable-rules host).
gunicorn's own logs are JSON lines like the app's (:mod:`adjudicator.logs`);
its access log stays off because the app writes one access line per request.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]
from gunicorn.util import import_app  # type: ignore[import-untyped]

from adjudicator.logs import logging_config
from adjudicator.settings import ServiceSettings

# Settings older gunicorn releases do not have (the control socket is recent).
OPTIONAL = frozenset({"control_socket_disable"})


class ServiceApplication(BaseApplication):  # type: ignore[misc]
    """A gunicorn application serving the WSGI app named by ``app_uri``."""

    def __init__(self, app_uri: str, options: dict[str, Any]) -> None:
        self.app_uri = app_uri
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply the options ``serve`` passed; the newer-gunicorn-only ones when known."""
        for key, value in self.options.items():
            if key in OPTIONAL and key not in self.cfg.settings:
                continue
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Import the factory and build the app (runs in each worker)."""
        return import_app(self.app_uri)


def child_exit(server: Any, worker: Any) -> None:
    """A worker died: let prometheus-client drop its live samples (multiprocess mode)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def gunicorn_options(settings: ServiceSettings) -> dict[str, Any]:
    """gunicorn's settings for ``serve``: gthread workers, JSON logs, graceful stop."""
    return {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "gthread",
        "threads": settings.threads,
        "timeout": settings.timeout,
        "graceful_timeout": settings.graceful_timeout,
        "keepalive": 5,
        "proc_name": "adjudicator",
        "control_socket_disable": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings.log_level,
        "logconfig_dict": logging_config(settings.log_level),
        "child_exit": child_exit,
    }
