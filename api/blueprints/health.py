"""``/healthz`` (the process answers) and ``/readyz`` (and its database does)."""

from __future__ import annotations

from flask.views import MethodView

from api.openapi import Blueprint
from api.schemas import HealthSchema
from api.services import services


def blueprint() -> Blueprint:
    """The health blueprint (no key needed)."""
    blp = Blueprint("health", __name__, description="Liveness and readiness.")

    @blp.route("/healthz")
    class Health(MethodView):  # type: ignore[misc]
        @blp.response(200, HealthSchema)
        def get(self) -> dict[str, str]:
            """The process is up."""
            return {"status": "ok"}

    @blp.route("/readyz")
    class Ready(MethodView):  # type: ignore[misc]
        @blp.response(200, HealthSchema)
        @blp.problems(503)
        def get(self) -> dict[str, str]:
            """The process is up and its database answers."""
            services().store.db.ping()
            return {"status": "ready"}

    return blp
