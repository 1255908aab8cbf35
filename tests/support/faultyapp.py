"""A test-only app and launcher: the real service under gunicorn, with one forced engine fault.

``python faultyapp.py PORT`` runs gunicorn (one gthread worker) exactly as
``adjudicator serve`` loads the app, but through :func:`create_app` here, which
builds the production app (``RECYCLE_ON_ENGINE_FAULT`` on, as ``serve`` sets
it) around an Adjudicator whose engine core raises ``MemoryError`` -- what
durable-rules does when a ruleset runs out of sessions -- for a case whose
claim id is :data:`MARKER`. Every response carries ``X-Test-Worker-Pid``.

Nothing in the service reaches this module: it is named only by the test.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from typing import Any

MARKER = "FORCE-ENGINE-MEMORY-ERROR"


def create_app() -> Any:
    """The production app with the fault armed (runs in the gunicorn worker)."""
    from flask import Response

    import adjudicator.core.engine as engine
    from adjudicator import Adjudicator
    from api import create_app as production_app

    armed = threading.local()
    real_assert_facts = engine._core.assert_facts

    def assert_facts(handle: Any, batch: str) -> Any:
        if getattr(armed, "on", False):
            raise MemoryError  # the C core's answer to a 1025th live session
        return real_assert_facts(handle, batch)

    engine._core.assert_facts = assert_facts  # this worker process only

    class FaultyAdjudicator(Adjudicator):
        def decide(self, case: Mapping[str, Any], *args: Any, **kwargs: Any) -> Any:
            claim = case.get("claim")
            armed.on = isinstance(claim, Mapping) and claim.get("claim_id") == MARKER
            try:
                return super().decide(case, *args, **kwargs)
            finally:
                armed.on = False

    app = production_app({"RECYCLE_ON_ENGINE_FAULT": True, "ADJUDICATOR": FaultyAdjudicator()})

    @app.after_request
    def worker_pid(response: Response) -> Response:
        response.headers["X-Test-Worker-Pid"] = str(os.getpid())
        return response

    return app


def main(port: int) -> None:
    from adjudicator.cli.gunicorn_app import ServiceApplication

    options = {
        "bind": f"127.0.0.1:{port}",
        "workers": 1,
        "worker_class": "gthread",
        "threads": 2,
        "timeout": 30,
        "graceful_timeout": 10,
        "control_socket_disable": True,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
    }
    ServiceApplication("faultyapp:create_app()", options).run()


if __name__ == "__main__":
    main(int(sys.argv[1]))
