"""Hypothesis strategies for VALID case documents, aimed past the gates.

The overlap and gap search (:mod:`adjudicator.analysis.overlaps`) needs cases
that reach the stages where one finding must win (breach, loss, refund), so
these strategies lean toward eligibility: both parties confirmed, a covered
initial payment credited before the filing, a filing inside the ground's
claim window, shipments and receipts around the ship-by date (the day before,
the day itself, the day after: where boundaries are). Every ground, remedy,
coverage, incoterm, tolerance kind, payment pattern (balance anchor, payment
to another account, chargebacks), prior refunds and the amount claimed are
drawn too, so each rule of a stage gets its chance. Shipments also list a line
with quantity 0, ship more than the order (a line again in a later, possibly
late, shipment), and a claim may name more than was ordered: the goods of spec
v1.2 (clarifications 22 and 24), where a breach can affect no goods at all.
The documents follow ``spec/contract.md``; the search still discards the rare
one the contract refuses (``hypothesis.assume``).

Hypothesis shrinks toward the first choice of each draw, so the first choices
here are the plain ones: the smallest example found reads like a fixture.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from adjudicator.core.contract.order import COVERAGES, INCOTERMS
from adjudicator.core.contract.records import CLAIM_GROUNDS, REMEDIES

DAY0 = date(2024, 3, 1)
CURRENCIES = {"USD": 2, "JPY": 0, "KWD": 3}
SAMPLE_SIZES = (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000, 100)
AQLS = ("2.5", "0.65", "1.0", "1.5", "4.0", "6.5")
COVERED_GROUNDS = CLAIM_GROUNDS[:5]
INSPECTORS = ("SGS", "Bureau Veritas", "TÜV Rheinland", "Local Lab")
SELLER_RISK = ("DAP", "DPU", "DDP")
NOT_RECEIVED_SHAPES = (
    ("seller", "last_lost"),
    ("any", "last_lost"),
    ("seller", "lost_listing_nothing"),
    ("seller", "none_lost"),
    ("seller", "all_lost"),
    ("seller", "all_lost_listing_nothing"),
)
"""``not_received`` claims: who bore the transit risk (``seller``: DAP, DPU, DDP, so
RECV-02 establishes a breach and the case goes on to the loss stage; ``any``
incoterm), and which shipments were lost in transit; ``..._listing_nothing``:
the lost shipments list their lines with quantity 0, a breach of no goods
(spec v1.2, clarification 22)."""

Doc = dict[str, Any]


def _day(offset: int) -> date:
    return DAY0 + timedelta(days=offset)


def _at(day: date, hour: int = 10) -> str:
    return (
        datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)
        .isoformat()
        .replace("+00:00", "Z")
    )


def _amount(minor: int, exponent: int) -> str:
    return str(Decimal(minor).scaleb(-exponent))


@st.composite
def valid_cases(draw: st.DrawFn) -> Doc:
    """One case document, valid under the contract, usually eligible."""
    currency = draw(st.sampled_from(sorted(CURRENCIES, key=lambda c: c != "USD")))
    exp = CURRENCIES[currency]
    scale = 10**exp

    def money(low: int, high: int) -> str:
        return _amount(draw(st.integers(low, high)) * scale, exp)

    def rarely() -> bool:
        return draw(st.integers(0, 9)) == 9

    ground = draw(st.sampled_from(COVERED_GROUNDS if not rarely() else CLAIM_GROUNDS))
    coverage = draw(st.sampled_from(COVERAGES))
    if coverage == "pre_shipment" and ground not in ("non_shipment", "late_shipment", "quality"):
        coverage = draw(st.sampled_from(COVERAGES[:2] if not rarely() else COVERAGES))
    risk, transit = (
        draw(st.sampled_from(NOT_RECEIVED_SHAPES))
        if ground == "not_received"
        else ("any", "none_lost")
    )
    lines: list[Doc] = []
    for index in range(draw(st.integers(1, 2))):
        tolerance = draw(
            st.sampled_from(
                [
                    {"kind": "exact"},
                    {"kind": "about"},
                    {"kind": "percent", "plus": "3", "minus": "5"},
                ]
            )
        )
        lines.append(
            {
                "line_id": f"L{index + 1}",
                "quantity": draw(st.sampled_from([100, 1000, 10, 1, 250])),
                "unit_price": draw(st.sampled_from(["2.00", "10", "0.5", "3.75"])),
                "tolerance": tolerance,
            }
        )
    ship_by = _day(draw(st.integers(30, 45)))
    value = sum(Decimal(line["quantity"]) * Decimal(line["unit_price"]) for line in lines)

    def near_value(*fractions: str) -> str:
        """An amount around the order's value: where caps and claims bind against the loss."""
        fraction = Decimal(draw(st.sampled_from(fractions)))
        return str((value * fraction).quantize(Decimal(1).scaleb(-exp)))

    incoterm = draw(st.sampled_from(SELLER_RISK if risk == "seller" else INCOTERMS))
    order: Doc = {
        "order_id": "PO-G",
        "currency": currency,
        "assurance_amount": (
            money(0, 40_000) if draw(st.booleans()) else near_value("1", "0.5", "0.25")
        ),
        "coverage": coverage,
        "sample_order": rarely(),
        "buyer_confirmed_at": None if rarely() else "2024-03-01T09:00:00Z",
        "supplier_confirmed_at": "2024-03-01T10:00:00Z",
        "incoterm": incoterm,
        "partial_shipments_allowed": draw(st.booleans()),
        "lines": lines,
        "amendments": [],
    }
    anchor_balance = rarely()
    if anchor_balance:
        order["ship_by"] = {"days_after_payment": 20, "anchor": "balance"}
    else:
        order["ship_by"] = {"date": ship_by.isoformat()}
    if draw(st.booleans()):
        order["supplier_assurance_limit"] = money(0, 40_000)
    if draw(st.booleans()):
        order["quality"] = {
            "measurable_spec": draw(st.booleans()),
            "inspection_level": "II",
            "aql": {"critical": "0", "major": draw(st.sampled_from(AQLS)), "minor": "4.0"},
        }
    if draw(st.booleans()):
        order["delay_compensation"] = {
            "percent_per_day": draw(st.sampled_from(["0.5", "1", "2.5"])),
            "max_percent": draw(st.sampled_from(["5", "10", "3"])),
        }
    if rarely():
        order["amendments"].append(
            {
                "kind": "ship_by_change",
                "new_date": (ship_by + timedelta(days=draw(st.integers(1, 10)))).isoformat(),
                "agreed_by_buyer_at": _at(ship_by - timedelta(days=5)),
                "channel": draw(st.sampled_from(["off_platform", "platform"])),
            }
        )

    payments = [
        {
            "payment_id": "P1",
            "kind": "initial",
            "method": "tt",
            "amount": money(0, 30_000) if draw(st.booleans()) else near_value("1", "0.6"),
            "credited_at": _at(_day(2)),
            "to_designated_account": not rarely(),
        }
    ]
    if draw(st.booleans()):
        payments.append(
            {
                "payment_id": "P2",
                "kind": draw(st.sampled_from(["balance", "other"])),
                "method": draw(st.sampled_from(["tt", "card"])),
                "amount": money(0, 30_000),
                "credited_at": _at(ship_by - timedelta(days=draw(st.integers(0, 25)))),
                "to_designated_account": not rarely(),
            }
        )
    if rarely():
        payments[-1]["chargeback"] = {
            "status": draw(st.sampled_from(["refunded_to_buyer", "pending", "rejected"])),
            "filed_at": _at(ship_by),
        }

    shipped_on: date | None = None
    received_on: date | None = None
    shipments = []
    if ground not in ("non_shipment", "late_shipment") or draw(st.integers(0, 3)) > 0:
        shipped_on = ship_by + timedelta(days=draw(st.integers(-3, 6)))
        if coverage == "pre_shipment" and ground == "quality":
            shipped_on = ship_by + timedelta(days=draw(st.integers(-2, 20)))
        parts = draw(st.integers(1, 2))
        remaining = {line["line_id"]: int(line["quantity"]) for line in lines}
        for part in range(parts):
            items = []
            for line in lines:
                left = remaining[line["line_id"]]
                if part < parts - 1:
                    shipped = left // 2
                else:  # what is left, one short, none (a line of quantity 0), or more
                    shipped = max(0, left + draw(st.sampled_from([0, -1, -left, 1, left])))
                remaining[line["line_id"]] -= shipped
                item: Doc = {"line_id": line["line_id"], "quantity": shipped}
                if ground == "quantity_shortage" and shipped:
                    item["received_quantity"] = draw(
                        st.sampled_from([shipped, shipped - 1, shipped * 9 // 10, 0])
                    )
                items.append(item)
            day = shipped_on - timedelta(days=5 * (parts - 1 - part) * draw(st.integers(0, 1)))
            lost = transit.startswith("all_lost") or (
                part == parts - 1 and transit in ("last_lost", "lost_listing_nothing")
            )
            if lost and transit.endswith("listing_nothing"):
                items = [{"line_id": item["line_id"], "quantity": 0} for item in items]
            shipment: Doc = {
                "shipment_id": f"S{part + 1}",
                "lines": items,
                "transport_document": {"kind": "bill_of_lading", "on_board_on": day.isoformat()},
                "transit_loss": lost,
            }
            if draw(st.integers(0, 3)) > 0:
                received_on = day + timedelta(days=draw(st.integers(5, 20)))
                shipment["received_on"] = received_on.isoformat()
            if draw(st.booleans()):
                shipment["customs_cleared_on"] = (day + timedelta(days=4)).isoformat()
            shipments.append(shipment)

    inspections = []
    if ground == "quality" and draw(st.integers(0, 5)) > 0:
        n = draw(st.sampled_from(SAMPLE_SIZES))
        stage = "pre_shipment" if coverage == "pre_shipment" else "post_delivery"
        inspections.append(
            {
                "inspection_id": "I1",
                "company": draw(st.sampled_from(INSPECTORS)),
                "stage": draw(st.sampled_from([stage, "loading"])),
                "inspected_on": (ship_by - timedelta(days=3)).isoformat(),
                "lot_size": 10_000,
                "sample_size": n,
                "defects": {
                    "critical": draw(st.sampled_from([0, 1])),
                    "major": draw(st.integers(0, min(n, 12))),
                    "minor": draw(st.integers(0, min(n, 12))),
                },
                "subjective_only": draw(st.booleans()),
            }
        )
        if draw(st.booleans()):
            inspections[0]["fee"] = money(0, 500)

    if ground in ("non_shipment", "late_shipment"):
        base = received_on or ship_by
        filed = base + timedelta(days=draw(st.integers(1, 25)))
        if shipped_on is not None and received_on is None:
            filed = max(filed, shipped_on + timedelta(days=1))
    elif ground == "quality" and coverage == "pre_shipment":
        filed = ship_by - timedelta(days=draw(st.integers(1, 4)))
    else:
        filed = (received_on or shipped_on or ship_by) + timedelta(days=draw(st.integers(1, 14)))
    claim: Doc = {
        "claim_id": "C-G",
        "ground": ground,
        "remedy": draw(st.sampled_from(REMEDIES)),
        "filed_at": _at(filed, 12),
    }
    if rarely():
        named = lines[0]["quantity"] + draw(st.sampled_from([0, 1]))  # or more than ordered
        claim["affected_lines"] = [{"line_id": "L1", "quantity": named}]
    if draw(st.booleans()):
        claim["amount_claimed"] = money(0, 40_000) if rarely() else near_value("0.4", "0.8", "0.2")
    prior = []
    if draw(st.integers(0, 3)) == 0:
        prior.append(
            {
                "claim_id": "PC1",
                "ground": draw(st.sampled_from(CLAIM_GROUNDS)),
                "status": draw(st.sampled_from(["settled", "decided", "closed_no_response"])),
                "filed_at": "2024-03-20T00:00:00Z",
                "refund_granted": money(0, 10_000),
            }
        )
    as_of = filed + timedelta(days=1)
    return {
        "case_id": "GEN",
        "as_of": _at(as_of, 12),
        "order": order,
        "payments": payments,
        "shipments": shipments,
        "inspections": inspections,
        "claim": claim,
        "prior_claims": prior,
    }
