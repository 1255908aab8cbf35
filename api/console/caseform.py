"""The new-claim form: a case document as flat, dotted field names, and back.

Every input is named by the contract's own field path (``order.lines.0.quantity``),
so the contract's errors (``InvalidCase.errors``, keyed by the same paths) land
next to their fields without any mapping. Repeated groups (lines, payments,
shipments, inspections) are rendered ``rows`` at a time; an all-empty row is
left out of the case. Nothing here validates: the contract does, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adjudicator.core.contract.order import COVERAGES, INCOTERMS, SHIPPING_METHODS
from adjudicator.core.contract.records import (
    CLAIM_GROUNDS,
    INSPECTION_STAGES,
    PAYMENT_KINDS,
    PAYMENT_METHODS,
    REMEDIES,
    TRANSPORT_DOCUMENTS,
)

MAX_ROWS = 20


@dataclass(frozen=True)
class Field:
    """One input: its path below its group, label, kind and (for a select) choices."""

    path: str
    label: str
    kind: str = "text"  # text, int, bool, select, date, timestamp
    choices: tuple[str, ...] = ()
    hint: str = ""


@dataclass(frozen=True)
class Group:
    """A fieldset: a single object (``order``) or a repeated one (``payments``)."""

    key: str
    legend: str
    fields: tuple[Field, ...]
    repeated: bool = False
    default_rows: int = 1
    noun: str = ""


_TS = "RFC 3339 with an offset, e.g. 2024-04-16T01:30:00+08:00"
_DATE = "YYYY-MM-DD"

GROUPS: tuple[Group, ...] = (
    Group("order", "Order", (
        Field("order_id", "Order id"),
        Field("currency", "Currency", hint="ISO 4217 code, e.g. USD"),
        Field("assurance_amount", "Assurance amount", hint="a decimal, e.g. 20000.00"),
        Field("coverage", "Coverage", "select", COVERAGES),
        Field("incoterm", "Incoterm", "select", INCOTERMS),
        Field("shipping_method", "Shipping method", "select", SHIPPING_METHODS),
        Field("buyer_confirmed_at", "Buyer confirmed at", "timestamp", hint=_TS),
        Field("supplier_confirmed_at", "Supplier confirmed at", "timestamp", hint=_TS),
        Field("ship_by.date", "Ship by", "date", hint=_DATE),
        Field("delivery_by", "Delivery by", "date", hint=_DATE),
        Field("partial_shipments_allowed", "Partial shipments allowed", "bool"),
        Field("sample_order", "Sample order", "bool"),
    )),
    Group("order.lines", "Order lines", (
        Field("line_id", "Line id"),
        Field("description", "Description"),
        Field("quantity", "Quantity", "int"),
        Field("unit_price", "Unit price", hint="a decimal, up to 6 places"),
    ), repeated=True, default_rows=1, noun="line"),
    Group("payments", "Payments", (
        Field("payment_id", "Payment id"),
        Field("kind", "Kind", "select", PAYMENT_KINDS),
        Field("method", "Method", "select", PAYMENT_METHODS),
        Field("amount", "Amount credited"),
        Field("credited_at", "Credited at", "timestamp", hint=_TS),
        Field("to_designated_account", "To the designated account", "bool"),
    ), repeated=True, default_rows=2, noun="payment"),
    Group("shipments", "Shipments", (
        Field("shipment_id", "Shipment id"),
        Field("lines.0.line_id", "Line shipped"),
        Field("lines.0.quantity", "Quantity shipped", "int"),
        Field("transport_document.kind", "Transport document", "select", TRANSPORT_DOCUMENTS),
        Field("transport_document.on_board_on", "On board on", "date", hint=_DATE),
        Field("received_on", "Received on", "date", hint=_DATE),
    ), repeated=True, default_rows=1, noun="shipment"),
    Group("inspections", "Inspections", (
        Field("inspection_id", "Inspection id"),
        Field("company", "Company"),
        Field("stage", "Stage", "select", INSPECTION_STAGES),
        Field("inspected_on", "Inspected on", "date", hint=_DATE),
        Field("lot_size", "Lot size", "int"),
        Field("sample_size", "Sample size", "int"),
        Field("defects.critical", "Critical defects", "int"),
        Field("defects.major", "Major defects", "int"),
        Field("defects.minor", "Minor defects", "int"),
    ), repeated=True, default_rows=1, noun="inspection"),
    Group("claim", "Claim", (
        Field("claim_id", "Claim id"),
        Field("ground", "Ground", "select", CLAIM_GROUNDS),
        Field("remedy", "Remedy", "select", REMEDIES),
        Field("filed_at", "Filed at", "timestamp", hint=_TS),
        Field("amount_claimed", "Amount claimed", hint="optional; the refund never exceeds it"),
    )),
    Group("", "Decision time", (
        Field("as_of", "As of", "timestamp", hint="optional; empty means now. " + _TS),
    )),
)  # fmt: skip


def name(group: Group, field: Field, row: int | None = None) -> str:
    """The input's name: the contract path (``payments.1.amount``)."""
    parts = [group.key] if group.key else []
    if row is not None:
        parts.append(str(row))
    parts.append(field.path)
    return ".".join(parts)


def row_counts(form: Mapping[str, str], add: str | None = None) -> dict[str, int]:
    """How many rows each repeated group shows (``rows.<group>``), one more for ``add``."""
    counts: dict[str, int] = {}
    for group in GROUPS:
        if not group.repeated:
            continue
        try:
            count = int(form.get(f"rows.{group.key}", group.default_rows))
        except ValueError:
            count = group.default_rows
        if add == group.key:
            count += 1
        counts[group.key] = max(1, min(count, MAX_ROWS))
    return counts


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node: Any = target
    for part, following in zip(parts, parts[1:], strict=False):
        key: Any = int(part) if part.isdigit() else part
        empty: Any = [] if following.isdigit() else {}
        if isinstance(node, list):
            while len(node) <= key:
                node.append(None)
            if node[key] is None:
                node[key] = empty
            node = node[key]
        else:
            node = node.setdefault(key, empty)
    last = parts[-1]
    if isinstance(node, list):
        index = int(last)
        while len(node) <= index:
            node.append(None)
        node[index] = value
    else:
        node[last] = value


def _value(field: Field, raw: str | None) -> Any:
    if field.kind == "bool":
        return raw is not None and raw != ""
    text = (raw or "").strip()
    if field.kind == "int" and text.lstrip("-").isdigit():
        return int(text)
    return text  # a non-number stays text: the contract says what is wrong with it


def case_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The case document the form describes (empty inputs and empty rows left out)."""
    case: dict[str, Any] = {}
    counts = row_counts(form)
    for group in GROUPS:
        if not group.repeated:
            for field in group.fields:
                value = _value(field, form.get(name(group, field)))
                if value not in ("", False) or (field.kind == "bool" and group.key == "order"):
                    _put(case, name(group, field), value)
            continue
        rows = []
        for row in range(counts[group.key]):
            values = {f.path: _value(f, form.get(name(group, f, row))) for f in group.fields}
            if all(v in ("", False) for v in values.values()):
                continue
            item: dict[str, Any] = {}
            for path, value in values.items():
                if value != "":
                    _put(item, path, value)
            rows.append(item)
        _put(case, group.key, rows)
    return _prune(case)


def _prune(case: dict[str, Any]) -> dict[str, Any]:
    for key in ("payments", "shipments", "inspections"):
        if case.get(key) == []:
            del case[key]
    return case


def form_from_case(case: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, int]]:
    """Form values (and row counts) showing an uploaded case document."""
    values: dict[str, str] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, Mapping):
            for key, child in node.items():
                walk(f"{prefix}.{key}" if prefix else str(key), child)
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(f"{prefix}.{index}", child)
        elif node is True:
            values[prefix] = "on"
        elif node is not None and node is not False:
            values[prefix] = str(node)

    walk("", case)
    counts = {}
    for group in GROUPS:
        if group.repeated:
            found = _lookup(case, group.key)
            size = len(found) if isinstance(found, list) else 0
            counts[group.key] = max(group.default_rows, min(size, MAX_ROWS))
    return values, counts


def _lookup(case: Mapping[str, Any], path: str) -> Any:
    node: Any = case
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node
