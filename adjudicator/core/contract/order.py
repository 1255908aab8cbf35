"""The ``order`` object of the case document and what it nests (spec/contract.md)."""

from __future__ import annotations

from decimal import Context as DecimalContext
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError, post_load, validates_schema

from adjudicator.core.contract.base import (
    BoundedList,
    ContractSchema,
    Object,
    describe,
    loaded_items,
    put_error,
)
from adjudicator.core.contract.fields import (
    LONG_TEXT_MAX,
    MONEY_MAX,
    Aql,
    Choice,
    Currency,
    Money,
    Percent,
    Price,
    StrictBool,
    StrictDate,
    StrictInt,
    Text,
    Timestamp,
    show,
)

COVERAGES = ("receipt_30d", "post_delivery", "pre_shipment")
INCOTERMS = ("EXW", "FCA", "FAS", "FOB", "CFR", "CIF", "CPT", "CIP", "DAP", "DPU", "DDP")
SHIPPING_METHODS = ("sea", "air", "express", "rail", "road", "multimodal")
SHIP_BY_ANCHORS = ("initial", "balance")
AMENDMENT_KINDS = ("ship_by_extension", "ship_by_change")
CHANNELS = ("platform", "off_platform")
TOLERANCE_KINDS = ("exact", "about", "percent")

_WIDE = DecimalContext(prec=60)  # exact products of quantity × price for the order-value bound


class ToleranceSchema(ContractSchema):
    """``order.lines[].tolerance``: exact (default), about (±10 %) or percent plus/minus."""

    kind = Choice(
        TOLERANCE_KINDS, required=True, metadata=describe("exact, about (±10 %) or percent")
    )
    plus = Percent(load_default=None, metadata=describe("percent kind: allowed excess, 0..100"))
    minus = Percent(load_default=None, metadata=describe("percent kind: allowed shortfall, 0..100"))

    @validates_schema
    def _check_kind(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[Any, Any] = {}
        for name in ("plus", "minus"):
            if data["kind"] == "percent" and data[name] is None:
                put_error(errors, (name,), "Required for kind percent.")
            if data["kind"] != "percent" and data[name] is not None:
                put_error(errors, (name,), "Only for kind percent.")
        if errors:
            raise ValidationError(errors)


def _exact() -> dict[str, Any]:
    return {"kind": "exact", "plus": None, "minus": None}


class LineSchema(ContractSchema):
    """``order.lines[]``: one ordered product."""

    line_id = Text(non_empty=True, required=True, metadata=describe("unique within the order"))
    description = Text(
        max_length=LONG_TEXT_MAX, load_default=None, metadata=describe("the product")
    )
    quantity = StrictInt(minimum=1, required=True, metadata=describe("ordered units, > 0"))
    unit_price = Price(required=True, metadata=describe("price per unit, up to 6 decimals"))
    tolerance = Object(ToleranceSchema, load_default=_exact, metadata=describe("quantity band"))


class AqlSchema(ContractSchema):
    """``order.quality.aql``: the acceptance quality limit per defect class."""

    critical = Aql(zero_ok=True, required=True, metadata=describe('"0" or an ISO 2859-1 AQL'))
    major = Aql(required=True, metadata=describe("an AQL of the ISO 2859-1 table"))
    minor = Aql(required=True, metadata=describe("an AQL of the ISO 2859-1 table"))


class QualitySchema(ContractSchema):
    """``order.quality``: the measurable quality spec of the PO."""

    measurable_spec = StrictBool(required=True, metadata=describe("the PO has a measurable spec"))
    inspection_level = Text(load_default=None, metadata=describe('ISO 2859-1 level, e.g. "II"'))
    aql = Object(AqlSchema, load_default=None, metadata=describe("AQL per defect class"))


class ShipBySchema(ContractSchema):
    """``order.ship_by``: a fixed date, or days after the anchor payment is credited."""

    date = StrictDate(load_default=None, metadata=describe("fixed ship-by date"))
    days_after_payment = StrictInt(
        minimum=0,
        maximum=3650,
        load_default=None,
        metadata=describe("days after the anchor payment"),
    )
    anchor = Choice(SHIP_BY_ANCHORS, load_default=None, metadata=describe("default initial"))

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

    percent_per_day = Percent(
        required=True, metadata=describe("percent of the order value per day")
    )
    max_percent = Percent(required=True, metadata=describe("cap, percent of the order value"))


# kind -> (keys it requires, keys it may carry); every other key must be absent or null
_AMENDMENT_KEYS = {
    "ship_by_extension": (("days", "requested_at"), ("channel",)),
    "ship_by_change": (("new_date", "agreed_by_buyer_at", "channel"), ("evidence",)),
}


class AmendmentSchema(ContractSchema):
    """``order.amendments[]``: a platform extension or a buyer-accepted new ship-by date."""

    kind = Choice(AMENDMENT_KINDS, required=True, metadata=describe("what changed"))
    days = StrictInt(
        minimum=1, maximum=3650, load_default=None, metadata=describe("extension days")
    )
    requested_at = Timestamp(
        load_default=None, metadata=describe("when the extension was requested")
    )
    channel = Choice(CHANNELS, load_default=None, metadata=describe("where the buyer agreed"))
    new_date = StrictDate(load_default=None, metadata=describe("the new ship-by date"))
    agreed_by_buyer_at = Timestamp(load_default=None, metadata=describe("when the buyer agreed"))
    evidence = Text(
        max_length=LONG_TEXT_MAX, load_default=None, metadata=describe("e.g. the e-mail")
    )

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
                put_error(errors, (name,), f"Required for kind {kind}.")
            elif name not in required and name not in optional and data[name] is not None:
                put_error(errors, (name,), f"Not used by kind {kind}.")
        if kind == "ship_by_extension" and data["channel"] not in (None, "platform"):
            put_error(errors, ("channel",), "A ship_by_extension is made on the platform.")
        if errors:
            raise ValidationError(errors)

    @post_load
    def _default_channel(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data["kind"] == "ship_by_extension" and data["channel"] is None:
            data["channel"] = "platform"
        return data


class OrderSchema(ContractSchema):
    """``order``: the purchase order the claim is about."""

    order_id = Text(non_empty=True, required=True, metadata=describe("the purchase order's id"))
    currency = Currency(required=True, metadata=describe("ISO 4217 code of all money in the case"))
    assurance_amount = Money(required=True, metadata=describe("Trade Assurance amount on the PO"))
    supplier_assurance_limit = Money(load_default=None, metadata=describe("caps assurance_amount"))
    coverage = Choice(COVERAGES, load_default="receipt_30d", metadata=describe("coverage model"))
    sample_order = StrictBool(
        load_default=False, metadata=describe("sample orders are not covered")
    )
    buyer_confirmed_at = Timestamp(load_default=None, metadata=describe("buyer confirmed the PO"))
    supplier_confirmed_at = Timestamp(
        load_default=None, metadata=describe("supplier confirmed the PO")
    )
    incoterm = Choice(INCOTERMS, required=True, metadata=describe("Incoterms 2020 code"))
    shipping_method = Choice(SHIPPING_METHODS, load_default=None, metadata=describe("how it ships"))
    ship_by = Object(ShipBySchema, required=True, metadata=describe("agreed shipping date"))
    delivery_by = StrictDate(load_default=None, metadata=describe("agreed arrival date (D-terms)"))
    partial_shipments_allowed = StrictBool(
        load_default=False, metadata=describe("partial shipments")
    )
    lines = BoundedList(
        Object(LineSchema),
        min_items=1,
        max_items=1000,
        required=True,
        metadata=describe("the ordered lines"),
    )
    quality = Object(QualitySchema, load_default=None, metadata=describe("measurable spec"))
    delay_compensation = Object(
        DelayCompensationSchema, load_default=None, metadata=describe("the PO's delay clause")
    )
    amendments = BoundedList(
        Object(AmendmentSchema),
        max_items=100,
        load_default=list,
        metadata=describe("changes to the ship-by date"),
    )

    @validates_schema(skip_on_field_errors=False)
    def _check_lines(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[Any, Any] = {}
        first: dict[str, int] = {}
        value = Decimal(0)
        for index, line in loaded_items(data, "lines"):
            line_id = line.get("line_id")
            if line_id in first:
                put_error(
                    errors,
                    ("lines", index, "line_id"),
                    f"Duplicate line_id {show(line_id)}; order.lines.{first[line_id]} has it.",
                )
            elif line_id is not None:
                first[line_id] = index
            if "quantity" in line and "unit_price" in line:
                value = _WIDE.add(value, _WIDE.multiply(line["quantity"], line["unit_price"]))
        if value > MONEY_MAX:
            put_error(
                errors,
                ("lines",),
                f"The order value (Σ quantity × unit_price) is over {MONEY_MAX}.",
            )
        if errors:
            raise ValidationError(errors)
