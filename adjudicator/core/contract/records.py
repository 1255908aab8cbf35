"""Payments, shipments, inspections and claims: the case document's records (spec/contract.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, validates_schema

from adjudicator.core.contract.base import (
    BoundedList,
    ContractSchema,
    Object,
    check_decimals,
    describe,
    loaded_items,
    put_error,
)
from adjudicator.core.contract.fields import (
    Choice,
    Currency,
    Money,
    StrictBool,
    StrictDate,
    StrictInt,
    Text,
    Timestamp,
    show,
)

PAYMENT_KINDS = ("initial", "balance", "other")
PAYMENT_METHODS = ("tt", "card", "echeck", "pay_later", "other")
CHARGEBACK_STATUSES = ("pending", "refunded_to_buyer", "rejected")
TRANSPORT_DOCUMENTS = (
    "bill_of_lading",
    "sea_waybill",
    "air_waybill",
    "courier_receipt",
    "platform_scan",
    "other",
)
INSPECTION_STAGES = ("pre_shipment", "loading", "post_delivery")
CLAIM_GROUNDS = (
    "non_shipment",
    "late_shipment",
    "quality",
    "quantity_shortage",
    "not_received",
    "cost_dispute",
    "after_sales",
    "other",
)
REMEDIES = (
    "cancel_full_refund",
    "cancel_remainder",
    "reject_and_return",
    "return_and_refund",
    "keep_partial_refund",
    "keep_goods_compensation",
)
PRIOR_CLAIM_STATUSES = ("open", "withdrawn", "closed_no_response", "settled", "decided")


class SentSchema(ContractSchema):
    """``payments[].sent``: what the buyer sent, in its own currency."""

    amount = Money(required=True, metadata=describe("amount sent, in sent.currency"))
    currency = Currency(required=True, metadata=describe("ISO 4217 code of the amount sent"))

    @validates_schema
    def _check_decimals(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[Any, Any] = {}
        check_decimals(errors, ("amount",), data["amount"], data["currency"])
        if errors:
            raise ValidationError(errors)


class ChargebackSchema(ContractSchema):
    """``payments[].chargeback``: a card chargeback on the payment."""

    status = Choice(
        CHARGEBACK_STATUSES, required=True, metadata=describe("state of the chargeback")
    )
    filed_at = Timestamp(required=True, metadata=describe("when it was filed"))
    reason_code = Text(load_default=None, metadata=describe("the card scheme's reason code"))


class PaymentSchema(ContractSchema):
    """``payments[]``: money the buyer paid towards the order."""

    payment_id = Text(non_empty=True, required=True, metadata=describe("the payment's id"))
    kind = Choice(PAYMENT_KINDS, required=True, metadata=describe("initial, balance or other"))
    method = Choice(PAYMENT_METHODS, required=True, metadata=describe("how it was paid"))
    amount = Money(required=True, metadata=describe("amount credited, in the order currency"))
    sent = Object(SentSchema, load_default=None, metadata=describe("what the buyer sent"))
    credited_at = Timestamp(load_default=None, metadata=describe("null when not credited"))
    to_designated_account = StrictBool(
        required=True, metadata=describe("paid to the designated account")
    )
    confirmed_without_funds = StrictBool(
        load_default=False, metadata=describe("received, yet no funds")
    )
    chargeback = Object(ChargebackSchema, load_default=None, metadata=describe("card chargeback"))


class ShipmentLineSchema(ContractSchema):
    """``shipments[].lines[]``: units of one order line in a shipment."""

    line_id = Text(non_empty=True, required=True, metadata=describe("an order line's id"))
    quantity = StrictInt(required=True, metadata=describe("units shipped, >= 0"))
    received_quantity = StrictInt(load_default=None, metadata=describe("units received, >= 0"))


class TransportDocumentSchema(ContractSchema):
    """``shipments[].transport_document``: the document that dates the shipment."""

    kind = Choice(TRANSPORT_DOCUMENTS, required=True, metadata=describe("the document type"))
    issued_on = StrictDate(load_default=None, metadata=describe("issue date"))
    on_board_on = StrictDate(load_default=None, metadata=describe("shipped-on-board date"))
    picked_up_at = Timestamp(load_default=None, metadata=describe("carrier pick-up time"))


class ShipmentSchema(ContractSchema):
    """``shipments[]``: one shipment of goods."""

    shipment_id = Text(non_empty=True, required=True, metadata=describe("the shipment's id"))
    lines = BoundedList(
        Object(ShipmentLineSchema),
        max_items=1000,
        required=True,
        metadata=describe("what was shipped"),
    )
    transport_document = Object(
        TransportDocumentSchema, required=True, metadata=describe("the transport document")
    )
    customs_cleared_on = StrictDate(load_default=None, metadata=describe("cleared at destination"))
    received_on = StrictDate(load_default=None, metadata=describe("the buyer's confirmed receipt"))
    refused_by_buyer = StrictBool(load_default=False, metadata=describe("refused or returned"))
    transit_loss = StrictBool(load_default=False, metadata=describe("lost or destroyed in transit"))


class DefectsSchema(ContractSchema):
    """``inspections[].defects``: nonconforming units in the sample, per class."""

    critical = StrictInt(load_default=0, metadata=describe("critical defects, default 0"))
    major = StrictInt(load_default=0, metadata=describe("major defects, default 0"))
    minor = StrictInt(load_default=0, metadata=describe("minor defects, default 0"))


def _no_defects() -> dict[str, int]:
    return {"critical": 0, "major": 0, "minor": 0}


class InspectionSchema(ContractSchema):
    """``inspections[]``: a third-party inspection report."""

    inspection_id = Text(non_empty=True, required=True, metadata=describe("the report's id"))
    company = Text(non_empty=True, required=True, metadata=describe("e.g. SGS, Bureau Veritas"))
    stage = Choice(INSPECTION_STAGES, required=True, metadata=describe("when it was inspected"))
    inspected_on = StrictDate(required=True, metadata=describe("inspection date"))
    lot_size = StrictInt(minimum=1, required=True, metadata=describe("units in the lot"))
    sample_size = StrictInt(minimum=1, required=True, metadata=describe("units sampled (n)"))
    defects = Object(DefectsSchema, load_default=_no_defects, metadata=describe("per class"))
    subjective_only = StrictBool(load_default=False, metadata=describe("no measurable deviation"))
    fee = Money(load_default=None, metadata=describe("inspection fee the buyer paid"))

    @validates_schema(skip_on_field_errors=False)
    def _check_counts(self, data: dict[str, Any], **kwargs: Any) -> None:
        sample, defects = data.get("sample_size"), data.get("defects")
        if sample is None or not isinstance(defects, dict):
            return
        errors: dict[Any, Any] = {}
        for name, count in defects.items():
            if count > sample:
                put_error(errors, ("defects", name), f"More than the sample size ({sample}).")
        if errors:
            raise ValidationError(errors)


class AffectedLineSchema(ContractSchema):
    """``claim.affected_lines[]``: units of one order line the claim is about."""

    line_id = Text(non_empty=True, required=True, metadata=describe("an order line's id"))
    quantity = StrictInt(minimum=1, required=True, metadata=describe("affected units, > 0"))


class ClaimSchema(ContractSchema):
    """``claim``: the claim being decided."""

    claim_id = Text(non_empty=True, required=True, metadata=describe("the claim's id"))
    ground = Choice(CLAIM_GROUNDS, required=True, metadata=describe("what went wrong"))
    remedy = Choice(REMEDIES, required=True, metadata=describe("what the buyer asks for"))
    filed_at = Timestamp(required=True, metadata=describe("when the claim was filed"))
    affected_lines = BoundedList(
        Object(AffectedLineSchema),
        min_items=1,
        max_items=1000,
        load_default=None,
        metadata=describe("null: the whole order"),
    )
    amount_claimed = Money(load_default=None, metadata=describe("the refund never exceeds it"))

    @validates_schema(skip_on_field_errors=False)
    def _check_unique(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[Any, Any] = {}
        seen: set[str] = set()
        for index, line in loaded_items(data, "affected_lines"):
            line_id = line.get("line_id")
            if line_id in seen:
                put_error(
                    errors,
                    ("affected_lines", index, "line_id"),
                    f"Line {show(line_id)} is listed twice.",
                )
            elif line_id is not None:
                seen.add(line_id)
        if errors:
            raise ValidationError(errors)


class PriorClaimSchema(ContractSchema):
    """``prior_claims[]``: an earlier claim on the same order."""

    claim_id = Text(non_empty=True, required=True, metadata=describe("the earlier claim's id"))
    ground = Choice(CLAIM_GROUNDS, required=True, metadata=describe("its ground"))
    status = Choice(PRIOR_CLAIM_STATUSES, required=True, metadata=describe("where it stands"))
    filed_at = Timestamp(required=True, metadata=describe("when it was filed"))
    refund_granted = Money(
        load_default=Decimal("0"), metadata=describe("refunded on it, default 0")
    )
