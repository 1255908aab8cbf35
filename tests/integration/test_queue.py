"""The console queue's tabs through list_claims, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from servicekit import make_case
from sqlalchemy import select

from adjudicator import Adjudicator
from adjudicator.claims.models import ClaimRow
from adjudicator.claims.queue import QueueFilter
from adjudicator.claims.service import ClaimFilter, Viewer, act, list_claims, open_claim
from adjudicator.db.actor import Actor
from adjudicator.db.errors import InvalidRequest
from adjudicator.db.store import Store

SYSTEM = Actor(key_id="sys-1", name="orders", role="system")
ANN = Actor(key_id="user:1", name="ann", role="staff", user_id=1)
BEN = Actor(key_id="user:2", name="ben", role="staff", user_id=2)


def _refs(store: Store, tab: str, viewer: Actor, **more: str) -> set[str]:
    where = QueueFilter(tab=tab, viewer=viewer.key_id, **more)
    return {c.ref for c in list_claims(store, where, Viewer.of(viewer), limit=200).items}


def test_the_tabs_and_the_proposers_own_proposal(store: Store, adjudicator: Adjudicator) -> None:
    decider = adjudicator
    waiting, _ = open_claim(store, decider, make_case(order_id="PO-W"), SYSTEM)
    escalated, _ = open_claim(store, decider, make_case(order_id="PO-E"), SYSTEM)
    act(store, decider, escalated.ref, "escalate", {}, SYSTEM, party="buyer")
    proposed, _ = open_claim(store, decider, make_case(order_id="PO-P"), SYSTEM)
    act(store, decider, proposed.ref, "escalate", {}, SYSTEM, party="buyer")
    override = {"kind": "override", "outcome": "upheld_partial", "refund": {"amount": "100.00"},
                "justification": "part"}  # fmt: skip
    act(store, decider, proposed.ref, "propose", override, ANN)
    assert _refs(store, "needs_staff", BEN) == {escalated.ref, proposed.ref}
    assert _refs(store, "needs_staff", ANN) == {escalated.ref}  # not her own proposal
    assert _refs(store, "approval", ANN) == {proposed.ref}
    assert _refs(store, "waiting", ANN) == {waiting.ref}
    assert _refs(store, "closed", ANN) == set()
    assert _refs(store, "needs_staff", BEN, search="PO-E") == {escalated.ref}


def _case(order_id: str, currency: str = "USD", **claim: str) -> dict[str, Any]:
    case = make_case(order_id=order_id)
    case["order"]["currency"] = currency
    case["claim"].update(claim)
    return case


def _listed(store: Store, where: ClaimFilter) -> dict[str, str | None]:
    page = list_claims(store, where, Viewer.of(ANN), limit=200)
    return {c.ref: c.amount_claimed for c in page.items}


def test_currency_and_recommendation_filters_follow_each_revision(
    store: Store, adjudicator: Adjudicator
) -> None:
    decider = adjudicator
    usd, _ = open_claim(store, decider, _case("PO-U", amount_claimed="5000.00"), SYSTEM)
    eur, _ = open_claim(store, decider, _case("PO-X", "EUR"), SYSTEM)
    early, _ = open_claim(store, decider, _case("PO-N", filed_at="2024-04-10T10:00:00Z"), SYSTEM)
    assert usd.state.recommendation["outcome"] == "upheld_full"
    assert early.state.recommendation["outcome"] == "not_eligible"

    assert _listed(store, ClaimFilter(currency="EUR")) == {eur.ref: None}
    assert _listed(store, ClaimFilter(currency="USD")) == {usd.ref: "5000.00", early.ref: None}
    assert _listed(store, ClaimFilter(recommendation="not_eligible")) == {early.ref: None}
    both = ClaimFilter(currency="USD", recommendation="upheld_full")
    assert _listed(store, both) == {usd.ref: "5000.00"}
    assert _listed(store, ClaimFilter(currency="JPY")) == {}
    in_tab = QueueFilter(tab="waiting", viewer=ANN.key_id, currency="EUR")
    assert _listed(store, in_tab) == {eur.ref: None}

    # New evidence re-decides: the row's recommendation follows; the amount claimed stays.
    undesignated = [{"payment_id": p, "to_designated_account": False} for p in ("P1", "P2")]
    revised, _ = act(store, decider, usd.ref, "submit_evidence", {"payments": undesignated},
                     SYSTEM, party="buyer")  # fmt: skip
    assert revised.state.revision == 2
    assert revised.state.recommendation["outcome"] == "not_eligible"
    assert _listed(store, both) == {}
    assert _listed(store, ClaimFilter(recommendation="not_eligible")) == {
        usd.ref: "5000.00",
        early.ref: None,
    }
    with store.db.read() as session:
        row = session.execute(select(ClaimRow).where(ClaimRow.ref == usd.ref)).scalar_one()
        assert (row.currency, row.recommended_outcome, row.amount_claimed) == (
            "USD",
            "not_eligible",
            "5000.00",
        )


@pytest.mark.parametrize(
    ("where", "field"),
    [
        (ClaimFilter(currency="usd"), "currency"),
        (ClaimFilter(currency="ABC"), "currency"),
        (ClaimFilter(currency="US"), "currency"),
        (ClaimFilter(recommendation="escalate"), "recommendation"),
        (ClaimFilter(recommendation="UPHELD_FULL"), "recommendation"),
    ],
)
def test_a_bad_currency_or_recommendation_is_refused(
    store: Store, where: ClaimFilter, field: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        list_claims(store, where, Viewer.of(ANN))
    assert list(refused.value.errors) == [field]
