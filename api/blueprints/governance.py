"""Gated activation of ruleset versions (admin): requests, approvals, the active version, rollback.

- ``POST /v1/rulesets/{version}/activation-requests`` ``{"report", "reason"}``: 201
- ``GET /v1/activation-requests/{id}``; ``POST /v1/activation-requests/{id}/approve``
  by a different admin (self-approval 403; a stale or mismatched report 409)
- ``GET /v1/activations/active``; ``POST /v1/activations/rollback`` ``{"reason"}``

The rules live in :mod:`adjudicator.governance.activation`; these views only parse and answer
(each answer dumped through its response schema).
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.views import MethodView

from adjudicator.governance.activation import (
    approve_activation,
    get_activation_request,
    request_activation,
    rollback,
)
from adjudicator.governance.active import active_version
from api.auth import current_actor
from api.governance_schemas import (
    ActivationRequestBodySchema,
    ActivationRequestSchema,
    ActiveVersionSchema,
    RollbackBodySchema,
)
from api.openapi import Blueprint
from api.services import services

blp = Blueprint(
    "governance", __name__, url_prefix="/v1", description="Gated activation of rulesets."
)


@blp.route("/rulesets/<version>/activation-requests")
class ActivationRequests(MethodView):
    @blp.secured()
    @blp.arguments(ActivationRequestBodySchema)
    @blp.response(201, ActivationRequestSchema)
    @blp.problems(400, 409, 413, 422)
    def post(self, body: dict[str, Any], version: str) -> tuple[dict[str, Any], dict[str, str]]:
        """Ask to activate a version, naming the replay report that measured it."""
        filed = request_activation(
            services().store, services().adjudicator.catalog, version,
            report=body["report"], reason=body["reason"],
            actor=current_actor(), request_id=g.request_id,
        )  # fmt: skip
        location = {"Location": f"/v1/activation-requests/{filed.request_id}"}
        return filed.to_dict(), location


@blp.route("/activation-requests/<request_id>")
class ActivationRequestById(MethodView):
    @blp.secured("auditor")
    @blp.response(200, ActivationRequestSchema)
    @blp.problems(404)
    def get(self, request_id: str) -> dict[str, Any]:
        """An activation request and its approval."""
        return get_activation_request(services().store, request_id).to_dict()


@blp.route("/activation-requests/<request_id>/approve")
class Approve(MethodView):
    @blp.secured()
    @blp.response(200, ActivationRequestSchema)
    @blp.problems(404, 409, 422)
    def post(self, request_id: str) -> dict[str, Any]:
        """Approve (a different admin) and activate: every worker follows within seconds."""
        approved = approve_activation(
            services().store, services().adjudicator.catalog, request_id,
            actor=current_actor(), request_id=g.request_id,
        )  # fmt: skip
        return approved.to_dict()


@blp.route("/activations/active")
class Active(MethodView):
    @blp.secured("system", "staff", "auditor")
    @blp.response(200, ActiveVersionSchema)
    def get(self) -> dict[str, Any]:
        """The active version as stored now (not this worker's cached view)."""
        return active_version(services().store, services().adjudicator.catalog).to_dict()


@blp.route("/activations/rollback")
class Rollback(MethodView):
    @blp.secured()
    @blp.arguments(RollbackBodySchema)
    @blp.response(200, ActiveVersionSchema)
    @blp.problems(400, 409, 413, 422)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Return to the version that was active before the current one, with a reason."""
        found = rollback(
            services().store, services().adjudicator.catalog,
            reason=body["reason"], actor=current_actor(), request_id=g.request_id,
        )  # fmt: skip
        return found.to_dict()
