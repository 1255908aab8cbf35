"""One marshmallow Schema per object of the case document (spec/contract.md).

The schemas are the contract in code: field names, closed enums, defaults and
the checks that span fields (money decimals against the order's currency,
lines that must exist, one ``ship_by`` form, per-kind amendments). They load
into plain dicts, and they also feed the OpenAPI document, so every field
carries a ``description``.

``order`` and what it nests live in :mod:`adjudicator.core.contract.order`, the
other records in :mod:`adjudicator.core.contract.records`; this module holds the
case document itself and the checks across its parts, and names every schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from marshmallow import ValidationError, validates_schema

from adjudicator.core.contract.base import (
    BoundedList,
    ContractSchema,
    Object,
    Path,
    check_decimals,
    describe,
    loaded_items,
    put_error,
)
from adjudicator.core.contract.fields import Text, Timestamp, show
from adjudicator.core.contract.order import (
    AMENDMENT_KINDS,
    CHANNELS,
    COVERAGES,
    INCOTERMS,
    SHIP_BY_ANCHORS,
    SHIPPING_METHODS,
    TOLERANCE_KINDS,
    AmendmentSchema,
    AqlSchema,
    DelayCompensationSchema,
    LineSchema,
    OrderSchema,
    QualitySchema,
    ShipBySchema,
    ToleranceSchema,
)
from adjudicator.core.contract.records import (
    CHARGEBACK_STATUSES,
    CLAIM_GROUNDS,
    INSPECTION_STAGES,
    PAYMENT_KINDS,
    PAYMENT_METHODS,
    PRIOR_CLAIM_STATUSES,
    REMEDIES,
    TRANSPORT_DOCUMENTS,
    AffectedLineSchema,
    ChargebackSchema,
    ClaimSchema,
    DefectsSchema,
    InspectionSchema,
    PaymentSchema,
    PriorClaimSchema,
    SentSchema,
    ShipmentLineSchema,
    ShipmentSchema,
    TransportDocumentSchema,
)

__all__ = [
    "AMENDMENT_KINDS",
    "CHANNELS",
    "CHARGEBACK_STATUSES",
    "CLAIM_GROUNDS",
    "COVERAGES",
    "INCOTERMS",
    "INSPECTION_STAGES",
    "PAYMENT_KINDS",
    "PAYMENT_METHODS",
    "PRIOR_CLAIM_STATUSES",
    "REMEDIES",
    "SHIPPING_METHODS",
    "SHIP_BY_ANCHORS",
    "TOLERANCE_KINDS",
    "TRANSPORT_DOCUMENTS",
    "AffectedLineSchema",
    "AmendmentSchema",
    "AqlSchema",
    "CaseSchema",
    "ChargebackSchema",
    "ClaimSchema",
    "ContractSchema",
    "DefectsSchema",
    "DelayCompensationSchema",
    "InspectionSchema",
    "LineSchema",
    "OrderSchema",
    "PaymentSchema",
    "PriorClaimSchema",
    "QualitySchema",
    "SentSchema",
    "ShipBySchema",
    "ShipmentLineSchema",
    "ShipmentSchema",
    "ToleranceSchema",
    "TransportDocumentSchema",
]


class CaseSchema(ContractSchema):
    """The case document: an order, its payments and shipments, and the claim to decide."""

    case_id = Text(non_empty=True, load_default=None, metadata=describe("generated when absent"))
    as_of = Timestamp(load_default=None, metadata=describe("the decision time; default now"))
    order = Object(OrderSchema, required=True, metadata=describe("the purchase order"))
    payments = BoundedList(
        Object(PaymentSchema),
        max_items=100,
        load_default=list,
        metadata=describe("payments towards the order"),
    )
    shipments = BoundedList(
        Object(ShipmentSchema),
        max_items=1000,
        load_default=list,
        metadata=describe("shipments of the order"),
    )
    inspections = BoundedList(
        Object(InspectionSchema),
        max_items=100,
        load_default=list,
        metadata=describe("inspection reports"),
    )
    claim = Object(ClaimSchema, required=True, metadata=describe("the claim being decided"))
    prior_claims = BoundedList(
        Object(PriorClaimSchema),
        max_items=100,
        load_default=list,
        metadata=describe("earlier claims on this order"),
    )

    @validates_schema(skip_on_field_errors=False)
    def _check_across(self, data: dict[str, Any], **kwargs: Any) -> None:
        order = data.get("order")
        if not isinstance(order, dict):
            return
        errors: dict[Any, Any] = {}
        currency = order.get("currency")
        if currency is not None:
            for path, amount in _amounts_in_order_currency(data, order):
                check_decimals(errors, path, amount, currency)
        line_ids = _line_ids(order)
        if line_ids is not None:
            for path, line_id in _line_references(data):
                if line_id not in line_ids:
                    put_error(errors, path, f"No line {show(str(line_id))} in order.lines.")
        if errors:
            raise ValidationError(errors)


def _amounts_in_order_currency(
    data: dict[str, Any], order: dict[str, Any]
) -> Iterator[tuple[Path, object]]:
    yield ("order", "assurance_amount"), order.get("assurance_amount")
    yield ("order", "supplier_assurance_limit"), order.get("supplier_assurance_limit")
    for index, payment in loaded_items(data, "payments"):
        yield ("payments", index, "amount"), payment.get("amount")
    for index, inspection in loaded_items(data, "inspections"):
        yield ("inspections", index, "fee"), inspection.get("fee")
    claim = data.get("claim")
    if isinstance(claim, dict):
        yield ("claim", "amount_claimed"), claim.get("amount_claimed")
    for index, prior in loaded_items(data, "prior_claims"):
        yield ("prior_claims", index, "refund_granted"), prior.get("refund_granted")


def _line_ids(order: dict[str, Any]) -> set[str] | None:
    """The order's line ids, or None when some line's id did not load (then skip the check)."""
    lines = order.get("lines")
    if not isinstance(lines, list):
        return None
    ids: set[str] = set()
    for line in lines:
        if not isinstance(line, dict) or "line_id" not in line:
            return None
        ids.add(line["line_id"])
    return ids


def _line_references(data: dict[str, Any]) -> Iterator[tuple[Path, object]]:
    for index, shipment in loaded_items(data, "shipments"):
        for number, line in loaded_items(shipment, "lines"):
            if "line_id" in line:
                yield ("shipments", index, "lines", number, "line_id"), line["line_id"]
    claim = data.get("claim")
    if isinstance(claim, dict):
        for number, line in loaded_items(claim, "affected_lines"):
            if "line_id" in line:
                yield ("claim", "affected_lines", number, "line_id"), line["line_id"]
