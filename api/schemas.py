"""The API's marshmallow schemas: what views load and dump, and what OpenAPI shows.

The case document's schema is the contract's own (``adjudicator.core.contract.schemas.CaseSchema``);
the decision document's is here, field for field as contract.md lists it.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from adjudicator.core.decision import BINDINGS, OUTCOMES
from adjudicator.db.pagination import MAX_LIMIT
from adjudicator.decisions.overrides import DETERMINATIONS, JUSTIFICATION_MAX

_ID_MAX = 200
_no_nul = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")


def _text(max_length: int = _ID_MAX, **kwargs: Any) -> fields.String:
    return fields.String(validate=[validate.Length(max=max_length), _no_nul], **kwargs)


class AmountSchema(Schema):
    """A money amount in the order's currency."""

    amount = fields.String(
        required=True,
        metadata={"example": "5000.00", "description": "a decimal string, the currency's decimals"},
    )
    currency = fields.String(
        required=True, metadata={"example": "USD", "description": "ISO 4217 code, the order's"}
    )


class MoneyBreakdownSchema(Schema):
    """The figures the refund was computed from, and which one bound it."""

    loss = fields.String(
        required=True, metadata={"description": "what the breach cost under the remedy asked for"}
    )
    assurance_amount = fields.String(
        required=True,
        metadata={"description": "the Trade Assurance amount, after the supplier's limit"},
    )
    covered_payments = fields.String(
        required=True,
        metadata={"description": "credited, designated, not charged back, counted by coverage"},
    )
    prior_refunds = fields.String(
        required=True, metadata={"description": "refunded on earlier claims of the order"}
    )
    cap = fields.String(
        required=True,
        metadata={"description": "min(assurance_amount, covered_payments) less prior_refunds"},
    )
    binding = fields.String(
        required=True,
        validate=validate.OneOf(BINDINGS),
        metadata={"description": "the figure that set the refund"},
    )


class DeadlinesSchema(Schema):
    """The claim's timers."""

    supplier_response_due = fields.String(
        required=True, metadata={"description": "when the supplier must have answered"}
    )
    escalation_allowed_from = fields.String(
        required=True, metadata={"description": "when the buyer may escalate"}
    )
    auto_escalation_at = fields.String(
        required=True, metadata={"description": "when the claim escalates by itself"}
    )
    refund_initiation_due = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the date the refund must start by (upheld only)"},
    )


class ReasonSchema(Schema):
    """A reason code, the rule that produced it, and a sentence a buyer can read."""

    code = fields.String(
        required=True, metadata={"description": "a stable reason code (D_, E_, C_, W_, M_ ...)"}
    )
    rule = fields.String(required=True, metadata={"description": "the rule id that produced it"})
    message = fields.String(required=True, metadata={"description": "a sentence a buyer can read"})


class TraceStepSchema(Schema):
    """One rule that fired, in order, with the facts it read."""

    rule = fields.String(required=True, metadata={"description": "the rule that fired"})
    step = fields.Integer(required=True, metadata={"description": "its position, from 1"})
    facts = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata={"description": "the facts it read and the figures it set"},
    )


class RulesetRefSchema(Schema):
    """The ruleset version that decided, and its digest."""

    name = fields.String(required=True, metadata={"description": "the ruleset, trade_assurance"})
    version = fields.String(required=True, metadata={"description": "the version that decided"})
    digest = fields.String(
        required=True, metadata={"description": "sha256 over the version's files"}
    )


class DecisionSchema(Schema):
    """The decision document of contract.md, plus the override link.

    ``overrides`` is the id of the decision a staff override replaces (``null``
    for the engine's decisions); ``overridden_by`` the ids of the decisions that
    override this one, oldest first (empty while none does); ``justification``
    is the override's reason.
    """

    decision_id = fields.String(
        required=True, metadata={"description": "the decision's id (a UUID)"}
    )
    case_id = fields.String(
        required=True, metadata={"description": "the case's id, as sent or generated"}
    )
    as_of = fields.String(
        required=True, metadata={"description": "the decision time the rules used (RFC 3339)"}
    )
    decided_at = fields.String(
        required=True, metadata={"description": "when the service decided (RFC 3339)"}
    )
    outcome = fields.String(
        required=True,
        validate=validate.OneOf(OUTCOMES),
        metadata={"description": "what was decided"},
    )
    refund = fields.Nested(
        AmountSchema, required=True, metadata={"description": "the amount refunded to the buyer"}
    )
    fee_reimbursement = fields.Nested(
        AmountSchema,
        required=True,
        metadata={"description": "the inspection fee reimbursed, outside the cap"},
    )
    money = fields.Nested(
        MoneyBreakdownSchema,
        required=True,
        metadata={"description": "the figures the refund was computed from"},
    )
    conditions = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "what the buyer must do for the refund (may be empty)"},
    )
    deadlines = fields.Nested(
        DeadlinesSchema, required=True, metadata={"description": "the claim's timers"}
    )
    reasons = fields.List(
        fields.Nested(ReasonSchema),
        required=True,
        metadata={"description": "every reason that applies"},
    )
    trace = fields.List(
        fields.Nested(TraceStepSchema),
        required=True,
        metadata={"description": "every rule that fired, in order"},
    )
    ruleset = fields.Nested(
        RulesetRefSchema,
        required=True,
        metadata={"description": "the ruleset version and digest that decided"},
    )
    overrides = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the decision this staff override replaces (null: the engine's)"},
    )
    overridden_by = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "the decisions that override this one, oldest first"},
    )
    justification = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "a staff override's reason (null: the engine's)"},
    )


class DecisionWithCaseSchema(DecisionSchema):
    """A stored decision with the case document it decided."""

    case = fields.Dict(required=True, metadata={"description": "the case document as decided"})


class DecisionPageSchema(Schema):
    """One page of decisions, newest first."""

    items = fields.List(fields.Nested(DecisionSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class DecisionQuerySchema(Schema):
    """Filters and paging of ``GET /v1/decisions``; ``from`` inclusive, ``to`` exclusive."""

    order_id = _text()
    claim_id = _text()
    outcome = fields.String(validate=validate.OneOf(OUTCOMES))
    since = fields.AwareDateTime(data_key="from", metadata={"description": "decided at or after"})
    until = fields.AwareDateTime(data_key="to", metadata={"description": "decided before"})
    cursor = _text(512, metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))


class PostDecisionQuerySchema(Schema):
    """``POST /v1/decisions?ruleset=V`` pins a ruleset version."""

    ruleset = _text(64, metadata={"description": "a loaded version; default the active one"})


class OverrideAmountSchema(Schema):
    """An amount in the original decision's currency (``currency`` may be omitted)."""

    amount = fields.String(
        required=True,
        validate=validate.Length(max=40),
        metadata={"description": "a non-negative decimal string"},
    )
    currency = fields.String(
        validate=validate.Length(equal=3),
        metadata={"description": "the original's currency (may be omitted)"},
    )


class OverrideSchema(Schema):
    """A staff determination replacing a decision."""

    outcome = fields.String(
        required=True,
        validate=validate.OneOf(DETERMINATIONS),
        metadata={"description": "the determination"},
    )
    refund = fields.Nested(
        OverrideAmountSchema,
        required=True,
        metadata={"description": "more than 0 when upheld, else 0; never above the original's cap"},
    )
    fee_reimbursement = fields.Nested(
        OverrideAmountSchema,
        metadata={"description": "at most the designated inspection's fee (none: 0); upheld only"},
    )
    conditions = fields.List(
        _text(64),
        validate=validate.Length(max=20),
        metadata={"description": "default: the original's when upheld, else none"},
    )
    justification = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=JUSTIFICATION_MAX), _no_nul],
        metadata={"description": "why the engine's decision is replaced (required)"},
    )


class RuleInfoSchema(Schema):
    """One rule: its id, what it says, and where in the policy it comes from."""

    id = fields.String(required=True)
    title = fields.String(required=True)
    source = fields.String(required=True)
    stage = fields.String(required=True)


class RulesetSummarySchema(Schema):
    """A loaded ruleset version."""

    name = fields.String(required=True)
    version = fields.String(required=True)
    digest = fields.String(required=True)
    active = fields.Boolean(required=True)
    rule_count = fields.Integer(required=True)


class RulesetSchema(RulesetSummarySchema):
    """A ruleset version with its rules and parameters."""

    rules = fields.List(fields.Nested(RuleInfoSchema), required=True)
    parameters = fields.Dict(keys=fields.String(), required=True)


class RulesetListSchema(Schema):
    """Every loaded version and which one is active."""

    name = fields.String(required=True)
    active = fields.String(required=True)
    versions = fields.List(fields.Nested(RulesetSummarySchema), required=True)


class ActorSchema(Schema):
    """Who acted: the API key's id, name and role (no key id for the command line).

    ``role`` is null only on entries written before roles were recorded.
    """

    key_id = fields.String(required=True, allow_none=True)
    name = fields.String(required=True)
    role = fields.String(required=True, allow_none=True)


class AuditEntrySchema(Schema):
    """One audit entry, with the hashes that chain it."""

    seq = fields.Integer(required=True)
    at = fields.String(required=True)
    actor = fields.Nested(ActorSchema, required=True)
    action = fields.String(required=True)
    subject = fields.String(required=True)
    request_id = fields.String(required=True, allow_none=True)
    payload = fields.Dict(keys=fields.String(), required=True)
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True)


class AuditPageSchema(Schema):
    """One page of the audit log, in chain order."""

    items = fields.List(fields.Nested(AuditEntrySchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class CheckpointSchema(Schema):
    """A signed checkpoint of the audit log's Merkle tree (C2SP tlog-checkpoint note)."""

    id = fields.Integer(required=True)
    tree_size = fields.Integer(required=True)
    root_hash = fields.String(required=True, metadata={"description": "hex SHA-256 root"})
    created_at = fields.String(required=True)
    origin = fields.String(required=True)
    verifier_key = fields.String(required=True, metadata={"description": "the signing key"})
    note = fields.String(required=True, metadata={"description": "the signed note"})


class CheckpointListSchema(Schema):
    """The newest checkpoints and every key that signed one (newest first)."""

    items = fields.List(fields.Nested(CheckpointSchema), required=True)
    verifier_keys = fields.List(fields.String(), required=True)


class CheckpointQuerySchema(Schema):
    """How many checkpoints to list."""

    limit = fields.Integer(load_default=20, validate=validate.Range(1, MAX_LIMIT))


class ReceiptSchema(Schema):
    """An inclusion proof of one entry against a signed checkpoint (RFC 9162)."""

    entry = fields.Nested(AuditEntrySchema, required=True)
    leaf_index = fields.Integer(required=True)
    tree_size = fields.Integer(required=True)
    audit_path = fields.List(
        fields.String(), required=True, metadata={"description": "base64 hashes, bottom up"}
    )
    checkpoint = fields.String(required=True)
    verifier_key = fields.String(required=True)


class ExportQuerySchema(Schema):
    """``GET /v1/audit/export``: the format and the entries (a seq or an ISO 8601 time each)."""

    format = fields.String(load_default="ndjson", validate=validate.OneOf(["ndjson", "csv"]))
    from_ = _text(64, data_key="from")
    to = _text(64)


class AuditQuerySchema(Schema):
    """Filters and paging of ``GET /v1/audit``."""

    action = _text(64)
    subject = _text()
    cursor = _text(512)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))


class ChainHeadSchema(Schema):
    """The chain's last seq and hash."""

    seq = fields.Integer(required=True)
    hash = fields.String(required=True)


class BrokenEntrySchema(Schema):
    """The first entry at which the chain does not hold."""

    seq = fields.Integer(required=True)
    problem = fields.String(
        required=True, validate=validate.OneOf(["changed", "deleted", "reordered", "unrecorded"])
    )
    detail = fields.String(required=True)


class VerifyReportSchema(Schema):
    """The result of walking the audit chain."""

    ok = fields.Boolean(required=True)
    entries = fields.Integer(required=True)
    head = fields.Nested(ChainHeadSchema, required=True)
    first_bad = fields.Nested(BrokenEntrySchema, required=True, allow_none=True)


class HealthSchema(Schema):
    """Liveness or readiness."""

    status = fields.String(required=True)
