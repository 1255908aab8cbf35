"""The claim API's marshmallow schemas: the claim resource, its events, and each action's body.

The claim and event documents are built by the service (``ClaimRecord.to_dict()``)
and written with orjson; these schemas document them (OpenAPI) and the tests
check responses against them. Action bodies are loaded through them: shape
errors are 422s with field paths before the service is called.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from adjudicator.core.contract.fields import Currency
from adjudicator.core.decision import OUTCOMES
from adjudicator.core.lifecycle import STAGES
from adjudicator.core.lifecycle.state import WAITING_ON
from adjudicator.db.pagination import MAX_LIMIT
from adjudicator.decisions.overrides import DETERMINATIONS, JUSTIFICATION_MAX
from api.openapi import ProblemSchema

_no_nul = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")
WIRE_STATUSES = (
    "awaiting_supplier",
    "awaiting_buyer",
    "awaiting_staff",
    "awaiting_evidence",
    "pending_approval",
    "pending",
    "initiated",
    "settled",
    "determined",
    "refunded",
    "withdrawn",
    "cancelled",
)
GROUNDS = (
    "non_shipment",
    "late_shipment",
    "quality",
    "quantity_shortage",
    "not_received",
    "cost_dispute",
    "after_sales",
    "other",
)


def _text(max_length: int = 200, **kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(max=max_length), _no_nul], **kwargs)


class ClaimAmountSchema(Schema):
    """An amount in the order's currency (``currency`` may be omitted)."""

    amount = fields.String(
        required=True, validate=validate.Length(max=40), metadata={"example": "5000.00"}
    )
    currency = fields.String(validate=validate.Length(equal=3))


class ClockSchema(Schema):
    """A clock of lifecycle.md: its due time and state."""

    name = fields.String(required=True)
    due = fields.String(required=True)
    state = fields.String(
        required=True, validate=validate.OneOf(("pending", "met", "missed", "cancelled"))
    )


class AvailableActionSchema(Schema):
    """An action the caller may take, as which party, and why not yet when it may not."""

    action = fields.String(required=True)
    as_ = fields.String(required=True, data_key="as")
    allowed = fields.Boolean(required=True)
    reason = fields.String(required=True, allow_none=True)


class RevisionSchema(Schema):
    """A revision of the case document and the decision made on it."""

    revision = fields.Integer(required=True)
    decision_id = fields.String(required=True)
    event_seq = fields.Integer(required=True)
    created_at = fields.String(required=True)


class ClaimResourceSchema(Schema):
    """The claim resource of lifecycle.md."""

    claim_ref = fields.String(required=True)
    order_id = fields.String(required=True)
    claim_id = fields.String(required=True)
    ground = fields.String(required=True)
    stage = fields.String(required=True, validate=validate.OneOf(STAGES))
    status = fields.String(required=True, validate=validate.OneOf(WIRE_STATUSES))
    waiting_on = fields.String(required=True, validate=validate.OneOf(WAITING_ON))
    assignee = fields.String(required=True, allow_none=True)
    revision = fields.Integer(required=True)
    filed_at = fields.String(required=True)
    opened_at = fields.String(required=True)
    updated_at = fields.String(required=True)
    recommendation = fields.Dict(
        required=True,
        metadata={
            "description": "the engine's decision on the latest revision: decision_id, outcome, "
            "refund, fee_reimbursement, cap"
        },
    )
    offer = fields.Dict(
        required=True, allow_none=True, metadata={"description": "the supplier's last proposal"}
    )
    proposal = fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": "a staff override awaiting approval"},
    )
    evidence_request = fields.Dict(required=True, allow_none=True)
    determination = fields.Dict(required=True, allow_none=True)
    agreement = fields.Dict(required=True, allow_none=True)
    refund = fields.Dict(required=True, allow_none=True)
    clocks = fields.List(fields.Nested(ClockSchema), required=True)
    next_due = fields.String(required=True, allow_none=True)
    overdue = fields.Boolean(required=True)
    at_risk = fields.Boolean(required=True)
    available_actions = fields.List(fields.Nested(AvailableActionSchema), required=True)


class ClaimResourceWithCaseSchema(ClaimResourceSchema):
    """A claim with its latest case document and every revision."""

    revisions = fields.List(fields.Nested(RevisionSchema), required=True)
    case = fields.Dict(required=True, metadata={"description": "the latest case revision"})


class ClaimPageSchema(Schema):
    """One page of claims, soonest next due first."""

    items = fields.List(fields.Nested(ClaimResourceSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class ClaimEventSchema(Schema):
    """One event of a claim's timeline."""

    seq = fields.Integer(required=True)
    type = fields.String(required=True)
    action = fields.String(required=True)
    at = fields.String(required=True)
    as_ = fields.String(required=True, data_key="as")
    actor = fields.Dict(required=True)
    from_status = fields.String(required=True)
    to_status = fields.String(required=True)
    revision = fields.Integer(required=True)
    audit_seq = fields.Integer(required=True)
    data = fields.Dict(required=True)
    note = fields.String(metadata={"description": "internal notes only, never for a system"})


class ClaimEventsSchema(Schema):
    """A claim's timeline."""

    items = fields.List(fields.Nested(ClaimEventSchema), required=True)


class ClaimQuerySchema(Schema):
    """Filters and paging of ``GET /v1/claims``."""

    stage = fields.String(validate=validate.OneOf(STAGES))
    status = fields.String(validate=validate.OneOf(WIRE_STATUSES))
    waiting_on = fields.String(validate=validate.OneOf(WAITING_ON))
    overdue = fields.Boolean(metadata={"description": "a duty clock is past due"})
    at_risk = fields.Boolean(metadata={"description": "a duty clock falls due within 24 h"})
    ground = fields.String(validate=validate.OneOf(GROUNDS))
    order_id = _text()
    assignee = _text()
    currency = Currency(metadata={"description": "the claim's currency (ISO 4217)"})
    recommendation = fields.String(
        validate=validate.OneOf(OUTCOMES),
        metadata={"description": "the recommended outcome on the latest revision"},
    )
    cursor = _text(512, metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))


class InvalidTransitionSchema(ProblemSchema):
    """A 409 refusal of an action: what the claim accepts now (``allowed``)."""

    allowed = fields.List(fields.String())
    claim_ref = fields.String()


# ---- action bodies -------------------------------------------------------


class ActionSchema(Schema):
    """An action; an upstream system names the party it acts for with ``as``."""

    as_ = fields.String(
        data_key="as",
        validate=validate.OneOf(("buyer", "supplier")),
        metadata={"description": "role system only: the party acted for"},
    )
    message = _text(2000)


class RespondSchema(ActionSchema):
    """The supplier's proposal: a refund (never above the cap), a replacement, or a refusal."""

    kind = fields.String(required=True, validate=validate.OneOf(("refund", "replace", "reject")))
    refund = fields.Nested(ClaimAmountSchema)


class EvidenceSchema(ActionSchema):
    """Additions or corrections to the case (merged by id or ``index``)."""

    payments = fields.List(fields.Dict(), validate=validate.Length(max=100))
    shipments = fields.List(fields.Dict(), validate=validate.Length(max=100))
    inspections = fields.List(fields.Dict(), validate=validate.Length(max=100))
    amendments = fields.List(fields.Dict(), validate=validate.Length(max=100))


class RequestEvidenceSchema(ActionSchema):
    """Staff ask a party for evidence by a due time."""

    party = fields.String(required=True, validate=validate.OneOf(("buyer", "supplier")))
    what = _text(2000, required=True)
    due = fields.AwareDateTime(required=True)


class AssignSchema(ActionSchema):
    """Assign the claim to a staff member (``null``: nobody)."""

    assignee = _text(required=True, allow_none=True)


class NoteSchema(ActionSchema):
    """An internal note (never shown to a system)."""

    text = fields.String(required=True, validate=[validate.Length(min=1, max=4000), _no_nul])


class ProposeSchema(ActionSchema):
    """``confirm`` the recommendation; propose an ``override`` (outcome, refund, justification)
    or a ``settle``ment (refund, terms) for a second person's approval."""

    kind = fields.String(required=True, validate=validate.OneOf(("confirm", "override", "settle")))
    outcome = fields.String(validate=validate.OneOf(DETERMINATIONS))
    refund = fields.Nested(ClaimAmountSchema)
    fee_reimbursement = fields.Nested(ClaimAmountSchema)
    conditions = fields.List(_text(64), validate=validate.Length(max=20))
    justification = fields.String(validate=[validate.Length(min=1, max=JUSTIFICATION_MAX), _no_nul])
    terms = _text(2000, metadata={"description": "settle: the written agreement's terms"})

    @validates_schema
    def _kind_fields(self, data: dict[str, Any], **_: Any) -> None:
        needed = {"override": ("outcome", "refund", "justification"), "settle": ("refund", "terms")}
        missing = [k for k in needed.get(data.get("kind", ""), ()) if k not in data]
        if missing:
            raise ValidationError({k: [f"Required for {data['kind']}."] for k in missing})


class SettleSchema(ActionSchema):
    """A written agreement of both parties, with the agreed refund: proposed for approval.

    The alias of ``propose {"kind": "settle"}`` (lifecycle v1.1), from any open status.
    """

    refund = fields.Nested(ClaimAmountSchema, required=True)
    terms = _text(2000, required=True)


class ReviewSchema(ActionSchema):
    """``approve`` or ``decline``: the proposal reviewed, by its id."""

    proposal_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "the `proposal.proposal_id` reviewed; a replaced one is 409"},
    )


class RefundInitiatedSchema(ActionSchema):
    """The payout was started."""

    payout_reference = _text(required=True)


ACTION_SCHEMAS: dict[str, type[ActionSchema]] = {
    "respond": RespondSchema,
    "submit_evidence": EvidenceSchema,
    "request_evidence": RequestEvidenceSchema,
    "assign": AssignSchema,
    "note": NoteSchema,
    "propose": ProposeSchema,
    "settle": SettleSchema,
    "approve": ReviewSchema,
    "decline": ReviewSchema,
    "refund_initiated": RefundInitiatedSchema,
}
