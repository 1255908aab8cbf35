"""The derived dates of rules.md (SHIP-01 to SHIP-05), computed while normalising.

Each function is one rule of the catalogue; the normaliser lists each in the
decision trace with the dates it produced, so a reader sees where the ship-by
date and the actual ship date came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from adjudicator.core.dates import local_date

Doc = Mapping[str, Any]
_BILL_KINDS = ("bill_of_lading", "sea_waybill")


def ship_01_shipment_date(shipment: Doc) -> date | None:
    """SHIP-01: the actual ship date of one shipment, from its transport document."""
    doc = shipment["transport_document"]
    if doc["kind"] in _BILL_KINDS:
        found: date | None = doc.get("on_board_on") or doc.get("issued_on")
        return found
    picked = doc.get("picked_up_at")
    if picked is not None:
        return local_date(picked)
    issued: date | None = doc.get("issued_on")
    return issued


@dataclass(frozen=True, slots=True)
class OrderShipping:
    """SHIP-02's result: when the order counts as shipped, and what is still unshipped."""

    ship_day: date | None
    unshipped_at_filing: dict[str, int]
    late_quantities: dict[str, int] = field(default_factory=dict)
    complete_day: date | None = None
    """The date the last ordered unit shipped, whatever ``partial_shipments_allowed``
    says (clarification 6); ``None`` while some ordered quantity never shipped."""
    late_by_filing: dict[str, int] = field(default_factory=dict)
    """Quantities shipped after the ship-by date and on or before the filing
    (clarifications 5 and 16: shipping claims are judged as of the filing)."""


def ship_02_order_ship_date(
    order: Doc, dated: Sequence[tuple[date, Doc]], filed_on: date, ship_by: date | None
) -> OrderShipping:
    """SHIP-02: the order's actual ship date.

    Partial shipments not allowed: the date on which the last ordered quantity
    shipped. Allowed: each shipment stands on its own date, so the order's date
    is its latest shipment, and the quantities shipped after ``ship_by`` are late.
    """
    ordered = {line["line_id"]: int(line["quantity"]) for line in order["lines"]}
    shipped: dict[str, int] = dict.fromkeys(ordered, 0)
    by_filing: dict[str, int] = dict.fromkeys(ordered, 0)
    late: dict[str, int] = {}
    late_by_filing: dict[str, int] = {}
    ship_day: date | None = None
    complete_day: date | None = None
    for day, shipment in sorted(dated, key=lambda pair: pair[0]):
        for item in shipment["lines"]:
            line_id, quantity = item["line_id"], int(item["quantity"])
            shipped[line_id] += quantity
            if day <= filed_on:
                by_filing[line_id] += quantity
            if ship_by is not None and day > ship_by:
                late[line_id] = late.get(line_id, 0) + quantity
                if day <= filed_on:
                    late_by_filing[line_id] = late_by_filing.get(line_id, 0) + quantity
        if complete_day is None and all(shipped[k] >= q for k, q in ordered.items()):
            complete_day = day
        if (
            order["partial_shipments_allowed"]
            or ship_day is None
            and all(shipped[k] >= q for k, q in ordered.items())
        ):
            ship_day = day
    unshipped = {k: max(0, q - by_filing[k]) for k, q in ordered.items()}
    return OrderShipping(
        ship_day, {k: v for k, v in unshipped.items() if v}, late, complete_day, late_by_filing
    )


def _credited_day(payment: Doc) -> date | None:
    credited = payment.get("credited_at")
    return None if credited is None else local_date(credited)


def _first_credited(
    payments: Sequence[Doc], kind: str, *, with_funds: bool, revision: str = "1.0"
) -> date | None:
    """The first credited payment of ``kind``, as a local date.

    Revision 1.1: never one ``confirmed_without_funds`` (clarification 2), and
    the first by instant, not by local date (clarification 21).
    """
    if revision != "1.0":
        credited = [
            p["credited_at"]
            for p in payments
            if p["kind"] == kind
            and p.get("credited_at") is not None
            and not p["confirmed_without_funds"]
        ]
        return local_date(min(credited)) if credited else None
    days = [
        day
        for p in payments
        if p["kind"] == kind
        and (day := _credited_day(p)) is not None
        and not (with_funds and p["confirmed_without_funds"])
    ]
    return min(days) if days else None


def ship_03_agreed_ship_by(
    order: Doc, payments: Sequence[Doc], revision: str = "1.0"
) -> date | None:
    """SHIP-03: the agreed ship-by date; ``None`` when the shipping clock never started."""
    ship_by = order["ship_by"]
    if ship_by.get("date") is not None:
        fixed: date = ship_by["date"]
        return fixed
    if ship_by["anchor"] == "balance":
        anchor = _first_credited(payments, "balance", with_funds=True, revision=revision)
        if anchor is None:
            anchor = _first_credited(payments, "initial", with_funds=False, revision=revision)
    else:
        anchor = _first_credited(payments, "initial", with_funds=False, revision=revision)
    if anchor is None:
        return None
    return anchor + timedelta(days=int(ship_by["days_after_payment"]))


@dataclass(frozen=True, slots=True)
class Extensions:
    """SHIP-04's result: the extended date and the extensions it refused."""

    ship_by: date
    accepted_days: int
    refused: list[Doc]


def ship_04_platform_extensions(
    order: Doc, payments: Sequence[Doc], ship_by: date, limit_days: int, revision: str = "1.0"
) -> Extensions:
    """SHIP-04: apply platform extensions while the total shipping time stays within the limit."""
    relative = order["ship_by"].get("days_after_payment")
    if relative is not None:
        original = int(relative)
    else:
        start = _first_credited(payments, "initial", with_funds=False, revision=revision)
        if start is None and order.get("supplier_confirmed_at") is not None:
            start = local_date(order["supplier_confirmed_at"])
        original = (ship_by - start).days if start is not None else 0
    extensions = [a for a in order["amendments"] if a["kind"] == "ship_by_extension"]
    extensions.sort(key=lambda a: a["requested_at"])
    accepted, refused = 0, []
    for extension in extensions:
        days = int(extension["days"])
        if original + accepted + days <= limit_days:
            accepted += days
        else:
            refused.append(extension)
    return Extensions(ship_by + timedelta(days=accepted), accepted, refused)


@dataclass(frozen=True, slots=True)
class Changes:
    """SHIP-05's result: the ship-by date the buyer accepted, and how."""

    ship_by: date | None
    before_off_platform: date | None
    off_platform: bool


def ship_05_buyer_changes(order: Doc, ship_by: date | None) -> Changes:
    """SHIP-05: the latest buyer-accepted change replaces the ship-by date.

    ``before_off_platform`` keeps the date that held before an accepted
    off-platform change, which LATE-03 compares against. Without a date before
    it (clarification 4: the clock never started), the accepted date is the
    only one there is, so nothing shipped by it was late against another.
    """
    changes = [a for a in order["amendments"] if a["kind"] == "ship_by_change"]
    changes.sort(key=lambda a: a["agreed_by_buyer_at"])
    current, base, off = ship_by, ship_by, False
    for change in changes:
        if change["channel"] == "off_platform":
            if not off:
                base = current if current is not None else change["new_date"]
            off = True
        else:
            base, off = change["new_date"], False
        current = change["new_date"]
    return Changes(current, base, off)
