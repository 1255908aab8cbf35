"""``/v1/replays``: impact analysis of a candidate ruleset over stored decisions (admin).

``POST`` stores a queued job and answers 202 at once; the job runs in a
background thread of this worker (with ``REPLAY_JOBS`` worker processes) and
``GET /v1/replays/{id}`` shows its status, progress and, when it succeeded,
the report. ``GET /v1/replays/{id}/changes.csv`` is every changed case.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from adjudicator.governance.replay_job import start_replay
from adjudicator.governance.replays import ReplaySpec, create_replay, get_replay, replay_csv
from api.auth import current_actor
from api.governance_schemas import ReplayRequestSchema, ReplaySchema
from api.jsonio import json_response
from api.openapi import Blueprint
from api.services import services

_LOCATION = {"Location": {"description": "the replay's URL", "schema": {"type": "string"}}}


blp = Blueprint(
    "replays", __name__, url_prefix="/v1/replays", description="Impact analysis (replays)."
)


@blp.route("")
class Replays(MethodView):
    @blp.secured()
    @blp.arguments(ReplayRequestSchema)
    @blp.response(202, ReplaySchema, headers=_LOCATION)
    @blp.problems(400, 413, 422)
    def post(self, body: dict[str, Any]) -> Response:
        """Start a replay of a candidate version; poll its URL for progress and the report."""
        found = services()
        spec = ReplaySpec(
            candidate=body["candidate"],
            baseline=body.get("baseline"),
            since=body.get("since"),
            until=body.get("until"),
            sample=body.get("sample"),
            seed=body["seed"],
        )
        info = create_replay(
            found.store, found.adjudicator, spec,
            active=found.active_version() or found.adjudicator.catalog.get(None).version,
            actor=current_actor(),
        )  # fmt: skip
        start_replay(
            found.store, info.replay_id, found.adjudicator,
            jobs=body.get("jobs") or found.replay_jobs, rules_dir=found.rules_dir,
        )  # fmt: skip
        location = {"Location": f"/v1/replays/{info.replay_id}"}
        return json_response(info.to_dict(), 202, location)


@blp.route("/<replay_id>")
class ReplayById(MethodView):
    @blp.secured("auditor")
    @blp.response(200, ReplaySchema)
    @blp.problems(404)
    def get(self, replay_id: str) -> Response:
        """A replay: status, progress, and the report once it succeeded."""
        return json_response(get_replay(services().store, replay_id).to_dict())


@blp.route("/<replay_id>/changes.csv")
class ReplayChanges(MethodView):
    @blp.secured("auditor")
    @blp.response(200, {"type": "string"}, content_type="text/csv")
    @blp.problems(404)
    def get(self, replay_id: str) -> Response:
        """Every changed case of a succeeded replay, one CSV row each."""
        text = replay_csv(services().store, replay_id)
        return Response(text, status=200, mimetype="text/csv")
