"""The Refunds tab's total owed (``owed_by_currency``) is one aggregate, on SQLite and PostgreSQL.

Amounts chosen so that a float sum would show: the total is summed in minor units.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servicekit import make_case, open_test_store, pg_base_url, pg_schema, reset

from adjudicator import Adjudicator
from adjudicator.claims.queue import Owed, QueueFilter, owed_by_currency
from adjudicator.claims.service import Viewer, act, get_claim, open_claim
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store

SYSTEM = Actor(key_id="sys-owed", name="orders", role="system")
ANN = Actor(key_id="user:1", name="ann", role="staff", user_id=1)
BEN = Actor(key_id="user:2", name="ben", role="staff", user_id=2)
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            pg_base_url() is None, reason="ADJUDICATOR_TEST_DATABASE_URL unset"
        ),
    ),
]


@pytest.fixture(params=BACKENDS)
def owed_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = open_test_store(f"sqlite:///{tmp_path / 'owed.db'}")
        opened.db.migrate()
        yield opened
        opened.close()
        return
    base = pg_base_url()
    assert base is not None
    with pg_schema(base, "owed") as url:
        opened = open_test_store(url)
        opened.db.migrate()
        reset(opened)
        yield opened
        opened.close()


def _refund(store: Store, decider: Adjudicator, order_id: str, amount: str, cur: str) -> str:
    case = make_case(order_id=order_id)
    case["order"]["currency"] = cur
    record, _ = open_claim(store, decider, case, SYSTEM)
    act(store, decider, record.ref, "escalate", {}, SYSTEM, party="buyer")
    settle: dict[str, Any] = {"refund": {"amount": amount}, "terms": "signed"}
    act(store, decider, record.ref, "settle", settle, ANN)
    pending = record.ref
    proposal = get_claim(store, pending, Viewer.of(BEN)).state.proposal
    assert proposal is not None
    act(store, decider, pending, "approve", {"proposal_id": proposal["proposal_id"]}, BEN)
    return pending


def test_the_total_owed_per_currency_is_exact_and_follows_the_filter(
    owed_store: Store, adjudicator: Adjudicator
) -> None:
    store = owed_store
    for i, amount in enumerate(("0.10", "0.20", "0.70", "19999.99")):
        _refund(store, adjudicator, f"PO-OW-{i}", amount, "USD")
    _refund(store, adjudicator, "PO-OW-J", "1234.50", "EUR")
    paid = _refund(store, adjudicator, "PO-OW-P", "50.00", "USD")
    act(store, adjudicator, paid, "refund_initiated", {"payout_reference": "P"}, ANN)
    act(store, adjudicator, paid, "refund_completed", {}, ANN)
    viewer = Viewer.of(ANN)
    owed = owed_by_currency(store, QueueFilter(tab="refunds"), viewer)
    assert owed == [Owed("EUR", "1234.50", 1), Owed("USD", "20000.99", 4)]
    usd = owed_by_currency(store, QueueFilter(tab="refunds", currency="USD"), viewer)
    assert usd == [Owed("USD", "20000.99", 4)]
    one = owed_by_currency(store, QueueFilter(tab="refunds", search="PO-OW-3"), viewer)
    assert one == [Owed("USD", "19999.99", 1)]
    closed = owed_by_currency(store, QueueFilter(tab="closed"), viewer)
    assert closed == [Owed("USD", "0.00", 1)]  # paid: held, then paid out, holds nothing
