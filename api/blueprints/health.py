"""``/healthz`` (the process answers) and ``/readyz`` (and its database takes a write).

``/readyz`` answers within a second whatever the database does: 200 when the
readiness probe rewrote its row (:mod:`adjudicator.db.readiness`), else a
503 problem.
"""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from api.openapi import Blueprint
from api.schemas import HealthSchema

READINESS = "adjudicator.readiness"

blp = Blueprint("health", __name__, description="Liveness and readiness.")


@blp.route("/healthz")
class Health(MethodView):
    """The process (no key needed)."""

    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    """The process and its database (no key needed)."""

    @blp.response(200, HealthSchema)
    @blp.problems(503)
    def get(self) -> dict[str, str]:
        """The process is up and its database takes a write (answered within 1 s)."""
        current_app.extensions[READINESS].check()
        return {"status": "ready"}
