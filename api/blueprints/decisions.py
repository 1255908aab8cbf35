"""``/v1/decisions``: decide a case, read a decision, list them, override one.

Decision documents are already the contract's JSON (built by the core,
checked against ``DecisionSchema`` in the tests), so these views write them
with orjson directly instead of dumping them through marshmallow again.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from adjudicator.core.contract.schemas import CaseSchema
from adjudicator.decisions.overrides import Determination
from adjudicator.decisions.queries import DecisionFilter, get_decision, list_decisions
from adjudicator.decisions.service import create_decision, override_decision
from api.auth import current_actor
from api.examples import WORKED_EXAMPLE_1
from api.jsonio import json_object_body, json_response
from api.openapi import Blueprint
from api.schemas import (
    DecisionPageSchema,
    DecisionQuerySchema,
    DecisionSchema,
    DecisionWithCaseSchema,
    OverrideSchema,
    PostDecisionQuerySchema,
)
from api.services import services

_CASE_BODY = {
    "required": True,
    "description": "A case document (contract v1). `case_id` and `as_of` may be omitted.",
    "content": {"application/json": {"schema": CaseSchema, "example": WORKED_EXAMPLE_1}},
}
_LOCATION = {"Location": {"description": "the decision's URL", "schema": {"type": "string"}}}


class IdempotencyHeaderSchema(Schema):
    """``Idempotency-Key``: retry safely; the same key and body return the stored decision."""

    idempotency_key = fields.String(
        data_key="Idempotency-Key", validate=validate.Length(min=1, max=255)
    )


def _location(decision_id: str) -> dict[str, str]:
    return {"Location": f"/v1/decisions/{decision_id}"}


blp = Blueprint(
    "decisions", __name__, url_prefix="/v1/decisions", description="Decisions on claims."
)


@blp.route("")
class Decisions(MethodView):
    @blp.secured("system", "staff")
    @blp.doc(requestBody=_CASE_BODY)
    @blp.arguments(PostDecisionQuerySchema, location="query")
    @blp.arguments(IdempotencyHeaderSchema, location="headers")
    @blp.response(201, DecisionSchema, headers=_LOCATION)
    @blp.alt_response(
        200,
        schema=DecisionSchema,
        success=True,
        description="The stored decision, for a repeated Idempotency-Key and body.",
    )
    @blp.problems(400, 409, 413, 422)
    def post(self, query: dict[str, Any], headers: dict[str, Any]) -> Response:
        """Decide a case and store the decision."""
        catalog = getattr(services().adjudicator, "catalog", None)
        stored, created = create_decision(
            services().store,
            services().decider,
            json_object_body(),
            actor=current_actor(),
            ruleset=query.get("ruleset") or services().active_version(),
            idempotency_key=headers.get("idempotency_key"),
            request_id=g.request_id,
            client_request_id=g.get("client_request_id"),
            active_ruleset=getattr(catalog, "active_version", None),
        )
        status = 201 if created else 200
        return json_response(stored.to_dict(), status, _location(stored.decision_id))

    @blp.secured("staff", "auditor")
    @blp.arguments(DecisionQuerySchema, location="query")
    @blp.response(200, DecisionPageSchema)
    @blp.problems(422)
    def get(self, query: dict[str, Any]) -> Response:
        """List decisions, newest first, filtered; follow ``next_cursor`` for more."""
        where = DecisionFilter(
            order_id=query.get("order_id"),
            claim_id=query.get("claim_id"),
            outcome=query.get("outcome"),
            since=query.get("since"),
            until=query.get("until"),
        )
        page = list_decisions(
            services().store, where, cursor=query.get("cursor"), limit=query["limit"]
        )
        body = {"items": [d.to_dict() for d in page.items], "next_cursor": page.next_cursor}
        return json_response(body)


@blp.route("/<decision_id>")
class DecisionById(MethodView):
    @blp.secured("system", "staff", "auditor")
    @blp.response(200, DecisionWithCaseSchema)
    @blp.problems(404)
    def get(self, decision_id: str) -> Response:
        """A decision with the case document it decided."""
        stored = get_decision(services().store, decision_id)
        return json_response(stored.to_dict(with_case=True))


@blp.route("/<decision_id>/override")
class Override(MethodView):
    @blp.secured("staff")
    @blp.arguments(OverrideSchema)
    @blp.arguments(IdempotencyHeaderSchema, location="headers")
    @blp.response(201, DecisionSchema, headers=_LOCATION)
    @blp.alt_response(
        200,
        schema=DecisionSchema,
        success=True,
        description="The stored override, for a repeated Idempotency-Key and body.",
    )
    @blp.problems(400, 404, 409, 413, 422)
    def post(
        self, determination: dict[str, Any], headers: dict[str, Any], decision_id: str
    ) -> Response:
        """Record a staff determination as a new decision that overrides this one."""
        fee = determination.get("fee_reimbursement")
        conditions = determination.get("conditions")
        stored, created = override_decision(
            services().store,
            decision_id,
            Determination(
                outcome=determination["outcome"],
                refund=determination["refund"]["amount"],
                currency=determination["refund"].get("currency"),
                fee_reimbursement=None if fee is None else fee["amount"],
                conditions=None if conditions is None else tuple(conditions),
                justification=determination["justification"],
            ),
            actor=current_actor(),
            request_id=g.request_id,
            client_request_id=g.get("client_request_id"),
            idempotency_key=headers.get("idempotency_key"),
        )
        status = 201 if created else 200
        return json_response(stored.to_dict(), status, _location(stored.decision_id))
