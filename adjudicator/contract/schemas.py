"""One marshmallow Schema per object of the case document (spec/contract.md).

The schemas are the contract in code: field names, closed enums, defaults and
the checks that span fields (money decimals against the order's currency,
lines that must exist, one ``ship_by`` form, per-kind amendments). They load
into plain dicts, and they also feed the OpenAPI document, so every field
carries a ``description``.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Context as DecimalContext
from decimal import Decimal
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, post_load, validates_schema

from adjudicator.contract.fields import (
    LONG_TEXT_MAX,
    MONEY_MAX,
    Aql,
    BoundedList,
    Choice,
    Currency,
    Money,
    Object,
    Percent,
    Price,
    StrictBool,
    StrictDate,
    StrictInt,
    Text,
    Timestamp,
    show,
)
from adjudicator.money import exponent, fits_exponent

COVERAGES = ("receipt_30d", "post_delivery", "pre_shipment")
INCOTERMS = ("EXW", "FCA", "FAS", "FOB", "CFR", "CIF", "CPT", "CIP", "DAP", "DPU", "DDP")
SHIPPING_METHODS = ("sea", "air", "express", "rail", "road", "multimodal")
SHIP_BY_ANCHORS = ("initial", "balance")
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
AMENDMENT_KINDS = ("ship_by_extension", "ship_by_change")
CHANNELS = ("platform", "off_platform")
TOLERANCE_KINDS = ("exact", "about", "percent")

_WIDE = DecimalContext(prec=60)  # exact products of quantity × price for the order-value bound
Path = tuple[str | int, ...]


def _d(text: str) -> dict[str, str]:
    return {"description": text}


def _put(errors: dict[Any, Any], path: Path, message: str) -> None:
    """Add ``message`` at ``path`` in a nested marshmallow error dict."""
    node = errors
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node.setdefault(path[-1], []).append(message)


def _items(data: dict[str, Any], key: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(index, item) of the items of ``data[key]`` that loaded at least in part."""
    value = data.get(key)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item


def _check_decimals(errors: dict[Any, Any], path: Path, amount: object, currency: str) -> None:
    """Money may carry no more decimals than its currency's ISO 4217 exponent."""
    if isinstance(amount, Decimal) and not fits_exponent(amount, currency):
        places = exponent(currency)
        allowed = f"at most {places} decimals" if places else "no decimals"
        _put(errors, path, f"{currency} allows {allowed}.")


class ContractSchema(Schema):
    """Base of the contract schemas: unknown keys are errors, a non-object says so."""

    class Meta:
        unknown = RAISE
        register = False

    error_messages = {"type": "Must be a JSON object.", "unknown": "Unknown field."}


class ToleranceSchema(ContractSchema):
    """``order.lines[].tolerance``: exact (default), about (±10 %) or percent plus/minus."""

    kind = Choice(TOLERANCE_KINDS, required=True, metadata=_d("exact, about (±10 %) or percent"))
    plus = Percent(load_default=None, metadata=_d("percent kind: allowed excess, 0..100"))
    minus = Percent(load_default=None, metadata=_d("percent kind: allowed shortfall, 0..100"))

    @validates_schema
    def _check_kind(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[Any, Any] = {}
        for name in ("plus", "minus"):
            if data["kind"] == "percent" and data[name] is None:
                _put(errors, (name,), "Required for kind percent.")
            if data["kind"] != "percent" and data[name] is not None:
                _put(errors, (name,), "Only for kind percent.")
        if errors:
            raise ValidationError(errors)


def _exact() -> dict[str, Any]:
    return {"kind": "exact", "plus": None, "minus": None}


class LineSchema(ContractSchema):
    """``order.lines[]``: one ordered product."""

    line_id = Text(non_empty=True, required=True, metadata=_d("unique within the order"))
    description = Text(max_length=LONG_TEXT_MAX, load_default=None, metadata=_d("the product"))
    quantity = StrictInt(minimum=1, required=True, metadata=_d("ordered units, > 0"))
    unit_price = Price(required=True, metadata=_d("price per unit, up to 6 decimals"))
    tolerance = Object(ToleranceSchema, load_default=_exact, metadata=_d("quantity band"))


class AqlSchema(ContractSchema):
    """``order.quality.aql``: the acceptance quality limit per defect class."""

    critical = Aql(zero_ok=True, required=True, metadata=_d('"0" or an ISO 2859-1 AQL'))
    major = Aql(required=True, metadata=_d("an AQL of the ISO 2859-1 table"))
    minor = Aql(required=True, metadata=_d("an AQL of the ISO 2859-1 table"))


class QualitySchema(ContractSchema):
    """``order.quality``: the measurable quality spec of the PO."""

    measurable_spec = StrictBool(required=True, metadata=_d("the PO has a measurable spec"))
    inspection_level = Text(load_default=None, metadata=_d('ISO 2859-1 level, e.g. "II"'))
    aql = Object(AqlSchema, load_default=None, metadata=_d("AQL per defect class"))


class ShipBySchema(ContractSchema):
    """``order.ship_by``: a fixed date, or days after the anchor payment is credited."""

    date = StrictDate(load_default=None, metadata=_d("fixed ship-by date"))
    days_after_payment = StrictInt(
        minimum=0, maximum=3650, load_default=None, metadata=_d("days after the anchor payment")
    )
    anchor = Choice(SHIP_BY_ANCHORS, load_default=None, metadata=_d("default initial"))

    @validates_schema
    def _check_form(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data["date"] is None) == (data["days_after_payment"] is None):
            raise ValidationError("Give either date or days_after_payment, not both or neither.")
        if data["date"] is not None and data["anchor"] is not None:
            raise ValidationError("Only with days_after_payment.", "anchor")

    @post_load
    def _default_anchor(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data["days_after_payment"] is not None and data["anchor"] is None:
            data["anchor"] = "initial"
        return data


class DelayCompensationSchema(ContractSchema):
    """``order.delay_compensation``: the PO's delay clause."""

    percent_per_day = Percent(required=True, metadata=_d("percent of the order value per day"))
    max_percent = Percent(required=True, metadata=_d("cap, percent of the order value"))


# kind -> (keys it requires, keys it may carry); every other key must be absent or null
_AMENDMENT_KEYS = {
    "ship_by_extension": (("days", "requested_at"), ("channel",)),
    "ship_by_change": (("new_date", "agreed_by_buyer_at", "channel"), ("evidence",)),
}


class AmendmentSchema(ContractSchema):
    """``order.amendments[]``: a platform extension or a buyer-accepted new ship-by date."""

    kind = Choice(AMENDMENT_KINDS, required=True, metadata=_d("what changed"))
    days = StrictInt(minimum=1, maximum=3650, load_default=None, metadata=_d("extension days"))
    requested_at = Timestamp(load_default=None, metadata=_d("when the extension was requested"))
    channel = Choice(CHANNELS, load_default=None, metadata=_d("where the buyer agreed"))
    new_date = StrictDate(load_default=None, metadata=_d("the new ship-by date"))
    agreed_by_buyer_at = Timestamp(load_default=None, metadata=_d("when the buyer agreed"))
    evidence = Text(max_length=LONG_TEXT_MAX, load_default=None, metadata=_d("e.g. the e-mail"))

    @validates_schema
    def _check_kind(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind = data["kind"]
        required, optional = _AMENDMENT_KEYS[kind]
        errors: dict[Any, Any] = {}
        for name in (
            "days",
            "requested_at",
            "channel",
            "new_date",
            "agreed_by_buyer_at",
            "evidence",
        ):
            if name in required and data[name] is None:
                _put(errors, (name,), f"Required for kind {kind}.")
            elif name not in required and name not in optional and data[name] is not None:
                _put(errors, (name,), f"Not used by kind {kind}.")
        if kind == "ship_by_extension" and data["channel"] not in (None, "platform"):
            _put(errors, ("channel",), "A ship_by_extension is made on the platform.")
        if errors:
            raise ValidationError(errors)

    @post_load
    def _default_channel(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data["kind"] == "ship_by_extension" and data["channel"] is None:
            data["channel"] = "platform"
        return data


class OrderSchema(ContractSchema):
    """``order``: the purchase order the claim is about."""

    order_id = Text(non_empty=True, required=True, metadata=_d("the purchase order's id"))
    currency = Currency(required=True, metadata=_d("ISO 4217 code of all money in the case"))
    assurance_amount = Money(required=True, metadata=_d("Trade Assurance amount on the PO"))
    supplier_assurance_limit = Money(load_default=None, metadata=_d("caps assurance_amount"))
    coverage = Choice(COVERAGES, load_default="receipt_30d", metadata=_d("coverage model"))
    sample_order = StrictBool(load_default=False, metadata=_d("sample orders are not covered"))
    buyer_confirmed_at = Timestamp(load_default=None, metadata=_d("buyer confirmed the PO"))
    supplier_confirmed_at = Timestamp(load_default=None, metadata=_d("supplier confirmed the PO"))
    incoterm = Choice(INCOTERMS, required=True, metadata=_d("Incoterms 2020 code"))
    shipping_method = Choice(SHIPPING_METHODS, load_default=None, metadata=_d("how it ships"))
    ship_by = Object(ShipBySchema, required=True, metadata=_d("agreed shipping date"))
    delivery_by = StrictDate(load_default=None, metadata=_d("agreed arrival date (D-terms)"))
    partial_shipments_allowed = StrictBool(load_default=False, metadata=_d("partial shipments"))
    lines = BoundedList(
        Object(LineSchema),
        min_items=1,
        max_items=1000,
        required=True,
        metadata=_d("the ordered lines"),
    )
    quality = Object(QualitySchema, load_default=None, metadata=_d("measurable spec"))
    delay_compensation = Object(
        DelayCompensationSchema, load_default=None, metadata=_d("the PO's delay clause")
    )
    amendments = BoundedList(
        Object(AmendmentSchema),
        max_items=100,
        load_default=list,
        metadata=_d("changes to the ship-by date"),
    )

    @validates_schema(skip_on_field_errors=False)
    def _check_lines(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[Any, Any] = {}
        first: dict[str, int] = {}
        value = Decimal(0)
        for index, line in _items(data, "lines"):
            line_id = line.get("line_id")
            if line_id in first:
                _put(
                    errors,
                    ("lines", index, "line_id"),
                    f"Duplicate line_id {show(line_id)}; order.lines.{first[line_id]} has it.",
                )
            elif line_id is not None:
                first[line_id] = index
            if "quantity" in line and "unit_price" in line:
                value = _WIDE.add(value, _WIDE.multiply(line["quantity"], line["unit_price"]))
        if value > MONEY_MAX:
            _put(
                errors,
                ("lines",),
                f"The order value (Σ quantity × unit_price) is over {MONEY_MAX}.",
            )
        if errors:
            raise ValidationError(errors)


class SentSchema(ContractSchema):
    """``payments[].sent``: what the buyer sent, in its own currency."""

    amount = Money(required=True, metadata=_d("amount sent, in sent.currency"))
    currency = Currency(required=True, metadata=_d("ISO 4217 code of the amount sent"))

    @validates_schema
    def _check_decimals(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[Any, Any] = {}
        _check_decimals(errors, ("amount",), data["amount"], data["currency"])
        if errors:
            raise ValidationError(errors)


class ChargebackSchema(ContractSchema):
    """``payments[].chargeback``: a card chargeback on the payment."""

    status = Choice(CHARGEBACK_STATUSES, required=True, metadata=_d("state of the chargeback"))
    filed_at = Timestamp(required=True, metadata=_d("when it was filed"))
    reason_code = Text(load_default=None, metadata=_d("the card scheme's reason code"))


class PaymentSchema(ContractSchema):
    """``payments[]``: money the buyer paid towards the order."""

    payment_id = Text(non_empty=True, required=True, metadata=_d("the payment's id"))
    kind = Choice(PAYMENT_KINDS, required=True, metadata=_d("initial, balance or other"))
    method = Choice(PAYMENT_METHODS, required=True, metadata=_d("how it was paid"))
    amount = Money(required=True, metadata=_d("amount credited, in the order currency"))
    sent = Object(SentSchema, load_default=None, metadata=_d("what the buyer sent"))
    credited_at = Timestamp(load_default=None, metadata=_d("null when not credited"))
    to_designated_account = StrictBool(required=True, metadata=_d("paid to the designated account"))
    confirmed_without_funds = StrictBool(load_default=False, metadata=_d("received, yet no funds"))
    chargeback = Object(ChargebackSchema, load_default=None, metadata=_d("card chargeback"))


class ShipmentLineSchema(ContractSchema):
    """``shipments[].lines[]``: units of one order line in a shipment."""

    line_id = Text(non_empty=True, required=True, metadata=_d("an order line's id"))
    quantity = StrictInt(required=True, metadata=_d("units shipped, >= 0"))
    received_quantity = StrictInt(load_default=None, metadata=_d("units received, >= 0"))


class TransportDocumentSchema(ContractSchema):
    """``shipments[].transport_document``: the document that dates the shipment."""

    kind = Choice(TRANSPORT_DOCUMENTS, required=True, metadata=_d("the document type"))
    issued_on = StrictDate(load_default=None, metadata=_d("issue date"))
    on_board_on = StrictDate(load_default=None, metadata=_d("shipped-on-board date"))
    picked_up_at = Timestamp(load_default=None, metadata=_d("carrier pick-up time"))


class ShipmentSchema(ContractSchema):
    """``shipments[]``: one shipment of goods."""

    shipment_id = Text(non_empty=True, required=True, metadata=_d("the shipment's id"))
    lines = BoundedList(
        Object(ShipmentLineSchema), max_items=1000, required=True, metadata=_d("what was shipped")
    )
    transport_document = Object(
        TransportDocumentSchema, required=True, metadata=_d("the transport document")
    )
    customs_cleared_on = StrictDate(load_default=None, metadata=_d("cleared at destination"))
    received_on = StrictDate(load_default=None, metadata=_d("the buyer's confirmed receipt"))
    refused_by_buyer = StrictBool(load_default=False, metadata=_d("refused or returned"))
    transit_loss = StrictBool(load_default=False, metadata=_d("lost or destroyed in transit"))


class DefectsSchema(ContractSchema):
    """``inspections[].defects``: nonconforming units in the sample, per class."""

    critical = StrictInt(load_default=0, metadata=_d("critical defects, default 0"))
    major = StrictInt(load_default=0, metadata=_d("major defects, default 0"))
    minor = StrictInt(load_default=0, metadata=_d("minor defects, default 0"))


def _no_defects() -> dict[str, int]:
    return {"critical": 0, "major": 0, "minor": 0}


class InspectionSchema(ContractSchema):
    """``inspections[]``: a third-party inspection report."""

    inspection_id = Text(non_empty=True, required=True, metadata=_d("the report's id"))
    company = Text(non_empty=True, required=True, metadata=_d("e.g. SGS, Bureau Veritas"))
    stage = Choice(INSPECTION_STAGES, required=True, metadata=_d("when it was inspected"))
    inspected_on = StrictDate(required=True, metadata=_d("inspection date"))
    lot_size = StrictInt(minimum=1, required=True, metadata=_d("units in the lot"))
    sample_size = StrictInt(minimum=1, required=True, metadata=_d("units sampled (n)"))
    defects = Object(DefectsSchema, load_default=_no_defects, metadata=_d("per class"))
    subjective_only = StrictBool(load_default=False, metadata=_d("no measurable deviation"))
    fee = Money(load_default=None, metadata=_d("inspection fee the buyer paid"))

    @validates_schema(skip_on_field_errors=False)
    def _check_counts(self, data: dict[str, Any], **kwargs: Any) -> None:
        sample, defects = data.get("sample_size"), data.get("defects")
        if sample is None or not isinstance(defects, dict):
            return
        errors: dict[Any, Any] = {}
        for name, count in defects.items():
            if count > sample:
                _put(errors, ("defects", name), f"More than the sample size ({sample}).")
        if errors:
            raise ValidationError(errors)


class AffectedLineSchema(ContractSchema):
    """``claim.affected_lines[]``: units of one order line the claim is about."""

    line_id = Text(non_empty=True, required=True, metadata=_d("an order line's id"))
    quantity = StrictInt(minimum=1, required=True, metadata=_d("affected units, > 0"))


class ClaimSchema(ContractSchema):
    """``claim``: the claim being decided."""

    claim_id = Text(non_empty=True, required=True, metadata=_d("the claim's id"))
    ground = Choice(CLAIM_GROUNDS, required=True, metadata=_d("what went wrong"))
    remedy = Choice(REMEDIES, required=True, metadata=_d("what the buyer asks for"))
    filed_at = Timestamp(required=True, metadata=_d("when the claim was filed"))
    affected_lines = BoundedList(
        Object(AffectedLineSchema),
        min_items=1,
        max_items=1000,
        load_default=None,
        metadata=_d("null: the whole order"),
    )
    amount_claimed = Money(load_default=None, metadata=_d("the refund never exceeds it"))

    @validates_schema(skip_on_field_errors=False)
    def _check_unique(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[Any, Any] = {}
        seen: set[str] = set()
        for index, line in _items(data, "affected_lines"):
            line_id = line.get("line_id")
            if line_id in seen:
                _put(
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

    claim_id = Text(non_empty=True, required=True, metadata=_d("the earlier claim's id"))
    ground = Choice(CLAIM_GROUNDS, required=True, metadata=_d("its ground"))
    status = Choice(PRIOR_CLAIM_STATUSES, required=True, metadata=_d("where it stands"))
    filed_at = Timestamp(required=True, metadata=_d("when it was filed"))
    refund_granted = Money(load_default=Decimal("0"), metadata=_d("refunded on it, default 0"))


class CaseSchema(ContractSchema):
    """The case document: an order, its payments and shipments, and the claim to decide."""

    case_id = Text(non_empty=True, load_default=None, metadata=_d("generated when absent"))
    as_of = Timestamp(load_default=None, metadata=_d("the decision time; default now"))
    order = Object(OrderSchema, required=True, metadata=_d("the purchase order"))
    payments = BoundedList(
        Object(PaymentSchema),
        max_items=100,
        load_default=list,
        metadata=_d("payments towards the order"),
    )
    shipments = BoundedList(
        Object(ShipmentSchema),
        max_items=1000,
        load_default=list,
        metadata=_d("shipments of the order"),
    )
    inspections = BoundedList(
        Object(InspectionSchema),
        max_items=100,
        load_default=list,
        metadata=_d("inspection reports"),
    )
    claim = Object(ClaimSchema, required=True, metadata=_d("the claim being decided"))
    prior_claims = BoundedList(
        Object(PriorClaimSchema),
        max_items=100,
        load_default=list,
        metadata=_d("earlier claims on this order"),
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
                _check_decimals(errors, path, amount, currency)
        line_ids = _line_ids(order)
        if line_ids is not None:
            for path, line_id in _line_references(data):
                if line_id not in line_ids:
                    _put(errors, path, f"No line {show(str(line_id))} in order.lines.")
        if errors:
            raise ValidationError(errors)


def _amounts_in_order_currency(
    data: dict[str, Any], order: dict[str, Any]
) -> Iterator[tuple[Path, object]]:
    yield ("order", "assurance_amount"), order.get("assurance_amount")
    yield ("order", "supplier_assurance_limit"), order.get("supplier_assurance_limit")
    for index, payment in _items(data, "payments"):
        yield ("payments", index, "amount"), payment.get("amount")
    for index, inspection in _items(data, "inspections"):
        yield ("inspections", index, "fee"), inspection.get("fee")
    claim = data.get("claim")
    if isinstance(claim, dict):
        yield ("claim", "amount_claimed"), claim.get("amount_claimed")
    for index, prior in _items(data, "prior_claims"):
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
    for index, shipment in _items(data, "shipments"):
        for number, line in _items(shipment, "lines"):
            if "line_id" in line:
                yield ("shipments", index, "lines", number, "line_id"), line["line_id"]
    claim = data.get("claim")
    if isinstance(claim, dict):
        for number, line in _items(claim, "affected_lines"):
            if "line_id" in line:
                yield ("claim", "affected_lines", number, "line_id"), line["line_id"]
