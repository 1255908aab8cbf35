"""``/v1/claims``: file a claim, read claims and their timelines, act on a claim.

Every action of lifecycle.md is its own operation (``POST
/v1/claims/{claim_ref}/{action}``) with its own body schema, so the OpenAPI
document says what each takes. A view parses, calls one service function
(:mod:`adjudicator.claims.service`, the same ones the staff console calls) and
writes the claim back; refusals become problem+json in :mod:`api.problems`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, g
from flask.views import MethodView

from adjudicator.claims.service import (
    ClaimFilter,
    Viewer,
    act,
    claim_events,
    get_claim,
    list_claims,
    open_claim,
)
from adjudicator.core.contract.schemas import CaseSchema
from adjudicator.core.lifecycle import API_ACTIONS, TABLE
from api.auth import current_actor
from api.blueprints.decisions import IdempotencyHeaderSchema
from api.claim_schemas import (
    ACTION_SCHEMAS,
    ActionSchema,
    ClaimEventsSchema,
    ClaimPageSchema,
    ClaimQuerySchema,
    ClaimResourceSchema,
    ClaimResourceWithCaseSchema,
    InvalidTransitionSchema,
)
from api.examples import WORKED_EXAMPLE_1
from api.jsonio import json_object_body, json_response
from api.openapi import Blueprint
from api.problems import PROBLEM_JSON
from api.services import services

_EXAMPLE = {k: v for k, v in WORKED_EXAMPLE_1.items() if k != "as_of"}
_CASE_BODY = {
    "required": True,
    "description": "The case document as filed (contract v1); `as_of` is the filing time.",
    "content": {"application/json": {"schema": CaseSchema, "example": _EXAMPLE}},
}
_LOCATION = {"Location": {"description": "the claim's URL", "schema": {"type": "string"}}}
_SUMMARIES = {
    "respond": "The supplier proposes a refund, a replacement, or refuses (as supplier).",
    "accept": "The buyer accepts the supplier's proposal (as buyer).",
    "reject": "The buyer rejects the supplier's proposal (as buyer).",
    "escalate": "The buyer asks the platform to determine (as buyer).",
    "withdraw": "The buyer withdraws the claim before a determination (as buyer).",
    "submit_evidence": "A party adds or corrects evidence: a new case revision, re-decided.",
    "request_evidence": "Staff ask a party for evidence by a due time.",
    "assign": "Staff assign the claim.",
    "note": "Staff add an internal note.",
    "propose": "Staff confirm the recommendation or propose an override.",
    "approve": "Another staff member approves the pending proposal.",
    "decline": "Another staff member declines the pending proposal.",
    "settle": "Staff record a written agreement of both parties.",
    "refund_initiated": "The refund payout was started (system or staff).",
    "refund_completed": "The refund payout arrived (system or staff).",
}


def _location(ref: str) -> dict[str, str]:
    return {"Location": f"/v1/claims/{ref}"}


def _roles(action: str) -> tuple[str, ...]:
    parties = {p for row in TABLE if row.action == action for p in row.parties}
    roles = []
    if parties & {"buyer", "supplier", "system"}:
        roles.append("system")
    if "staff" in parties:
        roles.append("staff")
    return tuple(roles)


def _viewer() -> Viewer:
    return Viewer.of(current_actor())


blp = Blueprint(
    "claims",
    __name__,
    url_prefix="/v1/claims",
    description="Claims over time: negotiation, review, determination, refund.",
)


@blp.route("")
class Claims(MethodView):
    @blp.secured("system", "staff")
    @blp.doc(requestBody=_CASE_BODY)
    @blp.arguments(IdempotencyHeaderSchema, location="headers")
    @blp.response(201, ClaimResourceWithCaseSchema, headers=_LOCATION)
    @blp.alt_response(
        200,
        schema=ClaimResourceSchema,
        success=True,
        description="The claim, for a repeated Idempotency-Key and body.",
    )
    @blp.alt_response(
        409,
        schema=InvalidTransitionSchema,
        content_type=PROBLEM_JSON,
        description="An open claim on this order has this claim_id.",
    )
    @blp.problems(400, 413, 422)
    def post(self, headers: dict[str, Any]) -> Response:
        """File a claim: decide the case, open negotiation."""
        store = services().store
        record, created = open_claim(
            store,
            services().decider,
            json_object_body(),
            current_actor(),
            request_id=g.request_id,
            idempotency_key=headers.get("idempotency_key"),
        )
        if created:
            body = get_claim(store, record.ref, _viewer()).to_dict()
            return json_response(body, 201, _location(record.ref))
        return json_response(record.to_dict(), 200, _location(record.ref))

    @blp.secured("system", "staff", "auditor")
    @blp.arguments(ClaimQuerySchema, location="query")
    @blp.response(200, ClaimPageSchema)
    @blp.problems(422)
    def get(self, query: dict[str, Any]) -> Response:
        """List claims, soonest next due first; a system sees the claims it opened."""
        where = ClaimFilter(
            **{
                k: query.get(k)
                for k in (
                    "stage",
                    "status",
                    "waiting_on",
                    "overdue",
                    "at_risk",
                    "ground",
                    "order_id",
                    "assignee",
                    "currency",
                    "recommendation",
                )
            }
        )
        page = list_claims(
            services().store, where, _viewer(), cursor=query.get("cursor"), limit=query["limit"]
        )
        body = {"items": [c.to_dict() for c in page.items], "next_cursor": page.next_cursor}
        return json_response(body)


@blp.route("/<claim_ref>")
class ClaimByRef(MethodView):
    @blp.secured("system", "staff", "auditor")
    @blp.response(200, ClaimResourceWithCaseSchema)
    @blp.problems(404)
    def get(self, claim_ref: str) -> Response:
        """A claim with its latest case document and revisions."""
        return json_response(get_claim(services().store, claim_ref, _viewer()).to_dict())


@blp.route("/<claim_ref>/events")
class ClaimEvents(MethodView):
    @blp.secured("system", "staff", "auditor")
    @blp.response(200, ClaimEventsSchema)
    @blp.problems(404)
    def get(self, claim_ref: str) -> Response:
        """The claim's timeline, each event with its audit seq (no notes for a system)."""
        events = claim_events(services().store, claim_ref, _viewer())
        return json_response({"items": [e.to_dict() for e in events]})


# Takes ``action`` (its route's default) on the claim and answers the claim. No docstring:
# flask-smorest would read one into each operation, whose summary is its action's own.
def _take_action(
    body: dict[str, Any], headers: dict[str, Any], claim_ref: str, action: str
) -> Response:
    party = body.pop("as_", None)
    record, _ = act(
        services().store,
        services().decider,
        claim_ref,
        action,
        body,
        current_actor(),
        party=party,
        request_id=g.request_id,
        idempotency_key=headers.get("idempotency_key"),
    )
    return json_response(record.to_dict())


def _operation(action: str) -> Callable[..., Response]:
    """``_take_action`` documented as the operation ``claim_<action>``, with its body."""
    decorators = (
        blp.secured(*_roles(action)),
        blp.arguments(ACTION_SCHEMAS.get(action, ActionSchema)),
        blp.arguments(IdempotencyHeaderSchema, location="headers"),
        blp.response(200, ClaimResourceSchema),
        blp.alt_response(
            409,
            schema=InvalidTransitionSchema,
            content_type=PROBLEM_JSON,
            description="Not now: `allowed` lists what the claim accepts.",
        ),
        blp.problems(400, 404, 413, 422),
        blp.doc(summary=_SUMMARIES[action], operationId=f"claim_{action}"),
    )
    view: Callable[..., Response] = _take_action
    for decorate in reversed(decorators):
        view = decorate(view)
    return view


# One operation per action, each its own endpoint; the route passes the action to the view.
for action in API_ACTIONS:
    blp.route(
        f"/<claim_ref>/{action}",
        methods=["POST"],
        endpoint=f"claim_{action}",
        defaults={"action": action},
    )(_operation(action))
