"""``/v1/orders/{order_id}/ledger``: the cap account an order's claims share (lifecycle v1.1)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from adjudicator.claims.ledger_view import order_ledger
from adjudicator.claims.service import Viewer
from api.auth import current_actor
from api.openapi import Blueprint
from api.services import services

_MONEY = {"description": "a decimal string in the order's currency", "example": "20000.00"}


class LedgerEntrySchema(Schema):
    """One hold, release or payout."""

    claim_ref = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("hold", "release", "payout")))
    amount = fields.String(required=True, metadata=_MONEY)
    at = fields.String(required=True)
    audit_seq = fields.Integer(required=True)


class LedgerSchema(Schema):
    """An order's cap account: ``held + paid <= cap``, always."""

    order_id = fields.String(required=True)
    currency = fields.String(required=True)
    cap = fields.String(
        required=True,
        metadata={"description": "min(assurance amount, covered payments) of the latest decision"},
    )
    held = fields.String(required=True, metadata=_MONEY)
    paid = fields.String(required=True, metadata=_MONEY)
    remaining = fields.String(required=True, metadata=_MONEY)
    entries = fields.List(fields.Nested(LedgerEntrySchema), required=True)


class LedgerQuerySchema(Schema):
    """Which currency's account (only needed when claims on the order used several)."""

    currency = fields.String(validate=validate.Regexp(r"^[A-Z]{3}$"))


blp = Blueprint(
    "orders", __name__, url_prefix="/v1/orders", description="What an order's claims share."
)


@blp.route("/<order_id>/ledger")
class OrderLedger(MethodView):
    @blp.secured("staff", "auditor", "system")
    @blp.arguments(LedgerQuerySchema, location="query")
    @blp.response(200, LedgerSchema)
    @blp.problems(404, 422)
    def get(self, query: dict[str, Any], order_id: str) -> dict[str, Any]:
        """The order's cap, what is held and paid against it, and every entry.

        A system sees the orders it filed claims on.
        """
        viewer = Viewer.of(current_actor())
        ledger = order_ledger(services().store, order_id, viewer, query.get("currency"))
        return ledger.to_dict()
