"""Examples shown in the OpenAPI document: worked example 1 of rules.md (upheld in full)."""

from __future__ import annotations

from typing import Any

WORKED_EXAMPLE_1: dict[str, Any] = {
    "as_of": "2024-04-30T00:00:00Z",
    "order": {
        "order_id": "PO-1001",
        "currency": "USD",
        "assurance_amount": "20000.00",
        "coverage": "receipt_30d",
        "buyer_confirmed_at": "2024-03-01T09:00:00Z",
        "supplier_confirmed_at": "2024-03-01T10:00:00Z",
        "incoterm": "FOB",
        "shipping_method": "sea",
        "ship_by": {"date": "2024-04-15"},
        "lines": [{"line_id": "L1", "quantity": 10000, "unit_price": "2.00"}],
    },
    "payments": [
        {"payment_id": "P1", "kind": "initial", "method": "tt", "amount": "6000.00",
         "credited_at": "2024-03-02T08:00:00Z", "to_designated_account": True},
        {"payment_id": "P2", "kind": "balance", "method": "tt", "amount": "14000.00",
         "credited_at": "2024-04-10T08:00:00Z", "to_designated_account": True},
    ],
    "claim": {"claim_id": "CL-1", "ground": "non_shipment", "remedy": "cancel_full_refund",
              "filed_at": "2024-04-20T10:00:00Z"},
}  # fmt: skip
