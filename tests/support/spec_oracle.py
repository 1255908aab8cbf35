"""An independent, plain-Python reading of spec/rules.md v1.1 — a test oracle, NOT the product.

It reads the case document directly (no normaliser, no engine, no ruleset data)
and decides an ELIGIBLE case the way the spec's text and clarifications say,
for the space ``tests/unit/test_outcome_properties.py::eligible_cases`` draws
from (no amendments; bills of lading; exact tolerances). It returns the
outcome, refund, binding and reason codes, which the property compares with
the product's decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

EXPONENTS = {"USD": 2, "JPY": 0, "KWD": 3}
DESIGNATED = {"sgs", "tüv rheinland", "tuv rheinland", "bureau veritas"}
BUYER_RISK = {"EXW", "FCA", "FAS", "FOB", "CFR", "CIF", "CPT", "CIP"}
SIZES = [2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000]
ACCEPTANCE = {  # rules.md, "ISO 2859-1 normal single sampling"
    "0": [0] * 16,
    "2.5": [0, 0, 0, 0, 1, 1, 2, 3, 5, 7, 10, 14, 21, 21, 21, 21],
    "4.0": [0, 0, 0, 1, 1, 2, 3, 5, 7, 10, 14, 21, 21, 21, 21, 21],
}
DEFAULT_AQL = {"critical": "0", "major": "2.5", "minor": "4.0"}


@dataclass(frozen=True)
class Reading:
    """What the spec says the decision is."""

    outcome: str
    refund: Decimal
    binding: str
    reasons: tuple[str, ...]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))


def _ship_day(shipment: dict[str, Any]) -> date:
    return date.fromisoformat(shipment["transport_document"]["on_board_on"])


def decide(case: dict[str, Any]) -> Reading:
    """The spec v1.1 decision of an eligible case."""
    order, claim = case["order"], case["claim"]
    exp = EXPONENTS[order["currency"]]
    quantum = Decimal(1).scaleb(-exp)
    filed_at = _instant(claim["filed_at"])
    filed_on = filed_at.date()
    ordered = {line["line_id"]: line["quantity"] for line in order["lines"]}
    price = {line["line_id"]: Decimal(line["unit_price"]) for line in order["lines"]}
    reasons: list[str] = []

    def value(goods: dict[str, int]) -> Decimal:
        return sum((price[k] * q for k, q in goods.items()), Decimal(0))

    # CAP-01..03 with clarifications 1-3
    assurance = Decimal(order["assurance_amount"])
    if order.get("supplier_assurance_limit") is not None:
        assurance = min(assurance, Decimal(order["supplier_assurance_limit"]))
    covered = Decimal(0)
    for p in case["payments"]:
        by_filing = p.get("credited_at") is not None and _instant(p["credited_at"]) <= filed_at
        funded = not p.get("confirmed_without_funds", False)
        if by_filing and funded and not p["to_designated_account"]:
            reasons.append("W_PAYMENT_NOT_DESIGNATED")
        if not (by_filing and funded and p["to_designated_account"]):
            continue
        if (p.get("chargeback") or {}).get("status") == "refunded_to_buyer":
            continue
        if order["coverage"] == "pre_shipment" and p["kind"] != "initial":
            continue
        covered += Decimal(p["amount"])
    prior = sum((Decimal(c["refund_granted"]) for c in case["prior_claims"]), Decimal(0))
    cap = max(Decimal(0), min(assurance, covered) - prior)

    # SHIP-03 (clarifications 2, 21): fixed, or the first funded initial credit by instant
    if order["ship_by"].get("date"):
        ship_by = date.fromisoformat(order["ship_by"]["date"])
    else:
        credits = [
            _instant(p["credited_at"])
            for p in case["payments"]
            if p["kind"] == "initial"
            and p.get("credited_at")
            and not p.get("confirmed_without_funds", False)
        ]
        ship_by = min(credits).date() + timedelta(days=order["ship_by"]["days_after_payment"])

    claimed: dict[str, int] = {}
    for item in claim.get("affected_lines") or []:
        claimed[item["line_id"]] = claimed.get(item["line_id"], 0) + item["quantity"]

    def narrow(goods: dict[str, int]) -> dict[str, int]:  # clarification 7
        if not claimed:
            return {k: q for k, q in goods.items() if q > 0}
        return {k: min(q, goods.get(k, 0)) for k, q in claimed.items() if goods.get(k, 0) > 0}

    def settle(outcome: str, code: str) -> Reading:
        return Reading(outcome, Decimal(0), "loss", tuple(sorted([*reasons, code])))

    partial = order["partial_shipments_allowed"]
    ground = claim["ground"]
    breach: str
    affected: dict[str, int]
    unshipped: dict[str, int] = {}
    complete: date | None = None
    if ground in ("non_shipment", "late_shipment"):  # clarifications 5, 12, 16
        shipped = dict.fromkeys(ordered, 0)
        late: dict[str, int] = {}
        for s in sorted(case["shipments"], key=_ship_day):
            if _ship_day(s) > filed_on:
                continue
            for item in s["lines"]:
                shipped[item["line_id"]] += item["quantity"]
                if _ship_day(s) > ship_by:
                    late[item["line_id"]] = late.get(item["line_id"], 0) + item["quantity"]
            if complete is None and all(shipped[k] >= q for k, q in ordered.items()):
                complete = _ship_day(s)
        unshipped = {k: q - shipped[k] for k, q in ordered.items() if q > shipped[k]}
        if unshipped:
            breach = "not_shipped"
            reasons.append("D_NOT_SHIPPED")
            if partial:
                affected = dict(unshipped)
                for k, q in late.items():
                    affected[k] = affected.get(k, 0) + q
                if late:
                    reasons.append("D_LATE_SHIPMENT")
            else:
                affected = dict(ordered)
        else:
            assert complete is not None
            if complete <= ship_by:
                return settle("denied", "D_ON_TIME")
            breach = "late"
            reasons.append("D_LATE_SHIPMENT")
            affected = dict(late) if partial else dict(ordered)
    elif ground == "quality":
        stages = ("pre_shipment", "loading") if order["coverage"] == "pre_shipment" else None
        found = [
            (i["inspected_on"], index, i)
            for index, i in enumerate(case["inspections"])
            if i["company"].strip().casefold() in DESIGNATED
            and (stages is None or i["stage"] in stages)
        ]
        if not found:
            return settle("manual_review", "E_EVIDENCE_INSUFFICIENT")
        inspection = max(found, key=lambda t: (t[0], t[1]))[2]  # clarification 11
        quality = order.get("quality")
        measurable = bool(quality and quality["measurable_spec"])
        if inspection.get("subjective_only") and not measurable:
            return settle("denied", "D_NO_MEASURABLE_SPEC")
        n = inspection["sample_size"]
        if n not in SIZES:
            return settle("manual_review", "E_EVIDENCE_INSUFFICIENT")
        aql = quality["aql"] if measurable and quality.get("aql") else DEFAULT_AQL
        defects = inspection["defects"]
        rejected = any(defects[k] > ACCEPTANCE[aql[k]][SIZES.index(n)] for k in defects)
        if not rejected:
            return settle("denied", "D_AQL_ACCEPTED")
        breach, affected = "quality", dict(ordered)
        reasons.append("D_AQL_REJECTED")
    elif ground == "quantity_shortage":
        received = dict.fromkeys(ordered, 0)
        for s in case["shipments"]:
            for item in s["lines"]:
                got = item.get("received_quantity")
                received[item["line_id"]] += item["quantity"] if got is None else got
        affected = {k: q - received[k] for k, q in ordered.items() if received[k] < q}
        if not affected:
            return settle("denied", "D_QTY_WITHIN_TOLERANCE")
        breach = "shortage"
        reasons.append("D_QTY_SHORTAGE")
    else:  # not_received
        lost: dict[str, int] = {}
        for s in case["shipments"]:
            if s.get("transit_loss"):
                for item in s["lines"]:
                    lost[item["line_id"]] = lost.get(item["line_id"], 0) + item["quantity"]
        if not lost:
            return settle("manual_review", "E_EVIDENCE_INSUFFICIENT")
        if order["incoterm"] in BUYER_RISK:
            return settle("denied", "E_TRANSPORT_RISK_BUYER")
        breach, affected = "non_delivery", lost
        reasons.append("D_NON_DELIVERY_SELLER_RISK")

    narrowed = narrow(affected)
    if claimed and not narrowed:  # clarification 20
        return settle("denied", "D_CLAIMED_GOODS_NOT_AFFECTED")
    remedy = claim["remedy"]
    asked = claimed or ordered
    whole = all(narrowed.get(k, 0) >= q for k, q in asked.items())  # clarification 19
    if breach == "shortage" and remedy != "cancel_remainder":  # clarification 8
        loss, outcome = value(narrowed), "upheld_partial"
    elif remedy in ("cancel_full_refund", "reject_and_return", "return_and_refund"):
        loss, outcome = value(narrowed), "upheld_full" if whole else "upheld_partial"
    elif remedy == "cancel_remainder":
        if breach != "not_shipped":  # clarification 8
            return settle("manual_review", "E_REMEDY_MISMATCH")
        loss, outcome = value(narrow(unshipped)), "upheld_partial"
    elif remedy == "keep_partial_refund":
        if breach != "quality":
            return settle("manual_review", "E_REMEDY_MISMATCH")
        d = inspection["defects"]
        ratio = min(Decimal(d["critical"] + d["major"] + d["minor"]) / inspection["sample_size"], 1)
        loss, outcome = value(narrowed) * ratio, "upheld_partial"
    else:  # keep_goods_compensation
        if breach != "late":  # clarification 21
            return settle("manual_review", "E_REMEDY_MISMATCH")
        clause = order.get("delay_compensation")
        if clause is None:
            return settle("manual_review", "E_NO_DELAY_CLAUSE")
        assert complete is not None
        days = (complete - ship_by).days
        percent = min(days * Decimal(clause["percent_per_day"]), Decimal(clause["max_percent"]))
        loss, outcome = value(ordered) * percent / 100, "upheld_partial"

    # CAP-04 with clarifications 10 and 17: the unrounded loss against each figure
    limit = Decimal(claim["amount_claimed"]) if claim.get("amount_claimed") is not None else None
    if loss <= cap and (limit is None or loss <= limit):
        refund, binding = loss.quantize(quantum, rounding=ROUND_HALF_UP), "loss"
    elif limit is not None and limit < cap:
        refund, binding = limit, "amount_claimed"
        reasons.append("C_CAPPED_AT_CLAIMED")
    else:
        refund = cap
        if prior > 0:
            reasons.append("C_CAP_REMAINING")
        reasons.append("C_CAPPED_AT_TA_AMOUNT" if assurance <= covered else "C_CAPPED_AT_PAID")
        if limit is not None and limit == cap:
            reasons.append("C_CAPPED_AT_CLAIMED")
        binding = (
            "prior_refunds"
            if prior > 0
            else "assurance_amount"
            if assurance <= covered
            else "covered_payments"
        )
    return Reading(outcome, refund, binding, tuple(sorted(reasons)))
