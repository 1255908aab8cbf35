"""The console queue's tabs through list_claims, on SQLite and PostgreSQL."""

from __future__ import annotations

from servicekit import make_case

from adjudicator import Adjudicator
from adjudicator.store import Actor, Store
from adjudicator.store.claims import Viewer, act, list_claims, open_claim
from adjudicator.store.queue import QueueFilter

SYSTEM = Actor(key_id="sys-1", name="orders", role="system")
ANN = Actor(key_id="user:1", name="ann", role="staff")
BEN = Actor(key_id="user:2", name="ben", role="staff")


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
