"""Normalise a validated case document into the facts the rules engine reads.

Dates become epoch days in their local offset, money becomes integer minor
units, the derived dates SHIP-01 to SHIP-05 are computed (and traced), and the
evidence the rules judge (the inspection, the line quantities) is laid out as
flat facts. Nothing here decides a claim: it measures, the rules judge.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from adjudicator.core import money, shipping
from adjudicator.core.dates import epoch_day, local_date
from adjudicator.core.decision import Reason
from adjudicator.core.fact_types import NO_LIMIT
from adjudicator.core.rules.model import Ruleset

Doc = Mapping[str, Any]


@dataclass(slots=True)
class Normalised:
    """A case laid out for the engine, plus what the actions need to price it."""

    case: Doc
    currency: str
    facts: list[dict[str, Any]]
    display: dict[str, str]
    derived: list[tuple[str, dict[str, Any]]]
    reasons: list[Reason]
    prices: dict[str, Decimal]
    ordered: dict[str, int]
    unshipped: dict[str, int]
    late: dict[str, int]
    late_by_filing: dict[str, int]
    lost: dict[str, int]
    inspection: Doc | None
    as_of: date


_COVERAGE_NAMES = {
    "receipt_30d": "30-days-after-receipt",
    "post_delivery": "post-delivery",
    "pre_shipment": "pre-shipment",
}


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _day(day: date | None) -> int:
    return 0 if day is None else epoch_day(day)


def _designated(company: str, inspectors: list[str]) -> bool:
    wanted = company.strip().casefold()
    return any(wanted == name.casefold() for name in inspectors)


def select_inspection(case: Doc, parameters: Doc) -> Doc | None:
    """The latest inspection by a designated inspector (pre-shipment coverage: before shipping)."""
    stages = ("pre_shipment", "loading") if case["order"]["coverage"] == "pre_shipment" else None
    candidates = [
        i
        for i in case["inspections"]
        if _designated(i["company"], parameters["designated_inspectors"])
        and (stages is None or i["stage"] in stages)
    ]
    if not candidates:
        return None
    latest: Doc = max(enumerate(candidates), key=lambda p: (p[1]["inspected_on"], p[0]))[1]
    return latest


def _aqls(case: Doc, parameters: Doc) -> dict[str, str]:
    quality = case["order"].get("quality")
    if quality and quality["measurable_spec"] and quality.get("aql"):
        return dict(quality["aql"])
    return {k: str(v) for k, v in parameters["default_aql"].items()}


def _band_floor_scaled(line: Doc, parameters: Doc) -> int:
    tolerance = line["tolerance"]
    if tolerance["kind"] == "about":
        minus = Decimal(parameters["about_tolerance_percent"])
    elif tolerance["kind"] == "percent":
        minus = tolerance["minus"] or Decimal(0)
    else:
        minus = Decimal(0)
    return math.ceil(Decimal(line["quantity"]) * (Decimal(100) - minus) * 100)


def normalise(case: Doc, ruleset: Ruleset) -> Normalised:
    """Lay out a validated case (``adjudicator.core.contract.load_case``) as engine facts."""
    params = ruleset.parameters
    revision = str(params.get("spec_revision", "1.0"))
    order, claim = case["order"], case["claim"]
    currency = order["currency"]
    filed_on = local_date(claim["filed_at"])
    derived: list[tuple[str, dict[str, Any]]] = []
    reasons: list[Reason] = []

    dated: list[tuple[date, Doc]] = []
    for shipment in case["shipments"]:
        day = shipping.ship_01_shipment_date(shipment)
        derived.append(
            ("SHIP-01", {"shipment_id": shipment["shipment_id"], "ship_date": _iso(day)})
        )
        if day is not None:
            dated.append((day, shipment))

    ship_by = shipping.ship_03_agreed_ship_by(order, case["payments"], revision)
    derived.append(("SHIP-03", {"ship_by": _iso(ship_by)}))
    base_ship_by, off_platform = ship_by, False
    if ship_by is None and revision != "1.0":
        # clarification 4: an accepted change sets a date even when the clock never started
        # (clarification 18: there is nothing to extend, so SHIP-04 does not apply)
        if any(a["kind"] == "ship_by_change" for a in order["amendments"]):
            changed = shipping.ship_05_buyer_changes(order, None)
            derived.append(
                (
                    "SHIP-05",
                    {"ship_by": _iso(changed.ship_by), "off_platform": changed.off_platform},
                )
            )
            ship_by, base_ship_by, off_platform = (
                changed.ship_by,
                changed.before_off_platform,
                changed.off_platform,
            )
    elif ship_by is not None:
        extended = shipping.ship_04_platform_extensions(
            order, case["payments"], ship_by, int(params["extension_limit_days"]), revision
        )
        if order["amendments"]:
            derived.append(
                (
                    "SHIP-04",
                    {"ship_by": _iso(extended.ship_by), "extension_days": extended.accepted_days},
                )
            )
        for refused in extended.refused:
            reasons.append(
                Reason(
                    "V_EXTENSION_EXCEEDS_90",
                    "SHIP-04",
                    f"The {refused['days']}-day extension requested "
                    f"{local_date(refused['requested_at']).isoformat()} was ignored: it would "
                    f"take the shipping time past {params['extension_limit_days']} days.",
                )
            )
        changes = shipping.ship_05_buyer_changes(order, extended.ship_by)
        if any(a["kind"] == "ship_by_change" for a in order["amendments"]):
            derived.append(
                (
                    "SHIP-05",
                    {"ship_by": _iso(changes.ship_by), "off_platform": changes.off_platform},
                )
            )
        ship_by, base_ship_by, off_platform = (
            changes.ship_by,
            changes.before_off_platform,
            changes.off_platform,
        )

    shipped = shipping.ship_02_order_ship_date(order, dated, filed_on, ship_by)
    derived.append(
        (
            "SHIP-02",
            {
                "ship_date": _iso(shipped.ship_day),
                "unshipped_qty": sum(shipped.unshipped_at_filing.values()),
            },
        )
    )

    receipts = [s["received_on"] for s in case["shipments"] if s.get("received_on")]
    customs = [s["customs_cleared_on"] for s in case["shipments"] if s.get("customs_cleared_on")]
    lost: dict[str, int] = {}
    for shipment in case["shipments"]:
        if shipment["transit_loss"]:
            for item in shipment["lines"]:
                lost[item["line_id"]] = lost.get(item["line_id"], 0) + int(item["quantity"])

    inspection = select_inspection(case, params)
    aqls = _aqls(case, params)
    n = int(inspection["sample_size"]) if inspection else 0
    table = ruleset.aql_table
    in_table = inspection is not None and n in table["0"]
    acceptance = {k: table[aqls[k]].get(n, 0) if in_table else 0 for k in aqls}
    defects = inspection["defects"] if inspection else {"critical": 0, "major": 0, "minor": 0}
    quality = order.get("quality")
    limit = order.get("supplier_assurance_limit")
    claimed = claim.get("amount_claimed")
    fee = inspection.get("fee") if inspection else None

    def minor(amount: Decimal) -> int:
        return money.to_minor(amount, currency)

    case_fact: dict[str, Any] = {
        "t": "case",
        "buyer_confirmed": order.get("buyer_confirmed_at") is not None,
        "supplier_confirmed": order.get("supplier_confirmed_at") is not None,
        "sample_order": order["sample_order"],
        "coverage": order["coverage"],
        "ground": claim["ground"],
        "remedy": claim["remedy"],
        "incoterm": order["incoterm"],
        "partial_allowed": order["partial_shipments_allowed"],
        "filed_day": epoch_day(filed_on),
        "has_ship_by": ship_by is not None,
        "ship_by_day": _day(ship_by),
        "base_ship_by_day": _day(base_ship_by),
        "accepted_off_platform": off_platform,
        "has_ship_day": shipped.ship_day is not None,
        "ship_day": _day(shipped.ship_day),
        "unshipped_qty": sum(shipped.unshipped_at_filing.values()),
        "late_qty": sum(shipped.late_by_filing.values()),
        "has_complete_ship_day": shipped.complete_day is not None,
        "complete_ship_day": _day(shipped.complete_day),
        "has_claimed_lines": bool(claim.get("affected_lines")),
        "has_receipt": bool(receipts),
        "receipt_day": _day(max(receipts) if receipts else None),
        "has_customs": bool(customs),
        "customs_day": _day(max(customs) if customs else None),
        "any_transit_loss": bool(lost) or any(s["transit_loss"] for s in case["shipments"]),
        "has_inspection": inspection is not None,
        "sample_in_table": in_table,
        "measurable_spec": bool(quality and quality["measurable_spec"]),
        "subjective_only": bool(inspection and inspection["subjective_only"]),
        "defects_critical": int(defects["critical"]),
        "defects_major": int(defects["major"]),
        "defects_minor": int(defects["minor"]),
        "ac_critical": acceptance["critical"],
        "ac_major": acceptance["major"],
        "ac_minor": acceptance["minor"],
        "inspection_fee": minor(fee) if fee is not None else 0,
        "claim_limit": minor(claimed) if claimed is not None else NO_LIMIT,
        "has_delay_clause": order.get("delay_compensation") is not None,
        "assurance_amount": minor(order["assurance_amount"]),
        "has_supplier_limit": limit is not None,
        "supplier_limit": minor(limit) if limit is not None else 0,
    }
    # Item facts go in reversed: durable-rules runs activations of equal priority
    # last in, first out, so each rule then fires for the items in document order.
    facts: list[dict[str, Any]] = [case_fact]
    for index, payment in reversed(list(enumerate(case["payments"]))):
        credited = payment.get("credited_at")
        chargeback = payment.get("chargeback")
        facts.append(
            {
                "t": "payment",
                "i": index,
                "payment_id": payment["payment_id"],
                "kind": payment["kind"],
                "credited": credited is not None,
                "credited_day": _day(local_date(credited) if credited else None),
                "credited_by_filing": credited is not None and credited <= claim["filed_at"],
                "filed_day": epoch_day(filed_on),
                "designated": payment["to_designated_account"],
                "without_funds": payment["confirmed_without_funds"],
                "chargeback": chargeback["status"] if chargeback else "none",
                "amount": minor(payment["amount"]),
                "coverage": order["coverage"],
            }
        )
    for index, prior in reversed(list(enumerate(case["prior_claims"]))):
        facts.append(
            {
                "t": "prior",
                "i": index,
                "claim_id": prior["claim_id"],
                "status": prior["status"],
                "ground": prior["ground"],
                "claim_ground": claim["ground"],
                "refund": minor(prior["refund_granted"]),
            }
        )
    received: dict[str, int] = {}
    for shipment in case["shipments"]:
        for item in shipment["lines"]:
            got = item.get("received_quantity")
            received[item["line_id"]] = received.get(item["line_id"], 0) + int(
                item["quantity"] if got is None else got
            )
    for index, line in reversed(list(enumerate(order["lines"]))):
        got = received.get(line["line_id"], 0)
        facts.append(
            {
                "t": "line",
                "i": index,
                "line_id": line["line_id"],
                "ground": claim["ground"],
                "ordered": int(line["quantity"]),
                "received": got,
                "received_scaled": got * 10000,
                "floor_scaled": _band_floor_scaled(line, params),
            }
        )

    display = {
        "order_id": str(order["order_id"]),
        "claim_id": str(claim["claim_id"]),
        "ground": claim["ground"].replace("_", " "),
        "remedy": claim["remedy"].replace("_", " "),
        "incoterm": order["incoterm"],
        "coverage": _COVERAGE_NAMES[order["coverage"]],
        "currency": currency,
        "filed_on": filed_on.isoformat(),
        "ship_by": _iso(ship_by) or "not set (no anchor payment credited)",
        "base_ship_by": _iso(base_ship_by) or "not set",
        "ship_date": _iso(shipped.ship_day) or "not shipped",
        "completed_on": _iso(shipped.complete_day) or "not wholly shipped",
        "late_qty": str(sum(shipped.late_by_filing.values())),
        "days_late": _days_text(shipped.ship_day, ship_by),
        "receipt": _iso(max(receipts)) if receipts else "not received",
        "unshipped_qty": str(sum(shipped.unshipped_at_filing.values())),
        "inspection_id": str(inspection["inspection_id"]) if inspection else "none",
        "inspection_company": str(inspection["company"]) if inspection else "none",
        "sample_size": str(n),
        "defects": "critical {critical}, major {major}, minor {minor}".format(**defects),
        "acceptance": "critical {critical}, major {major}, minor {minor}".format(**acceptance),
        "claimed": f"{claimed} {currency}" if claimed is not None else "not stated",
    }
    return Normalised(
        case=case,
        currency=currency,
        facts=facts,
        display=display,
        derived=derived,
        reasons=reasons,
        prices={line["line_id"]: line["unit_price"] for line in order["lines"]},
        ordered={line["line_id"]: int(line["quantity"]) for line in order["lines"]},
        unshipped=shipped.unshipped_at_filing,
        late=shipped.late_quantities,
        late_by_filing=shipped.late_by_filing,
        lost=lost,
        inspection=inspection,
        as_of=local_date(case["as_of"]),
    )


def _days_text(shipped: date | None, ship_by: date | None) -> str:
    if shipped is None or ship_by is None:
        return "unknown"
    days = (shipped - ship_by).days
    if days == 1:
        return "one day"
    return f"{days} days"
