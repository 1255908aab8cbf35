"""Issue 10, point 3, in the store: idempotency per API key, the active ruleset named or
not, overrides (fee bound, Idempotency-Key, ``overridden_by``), the client's request id."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from servicekit import make_case
from sqlalchemy import func, select

from adjudicator import Adjudicator, load_catalog
from adjudicator.audit.log import list_audit
from adjudicator.db.actor import Actor
from adjudicator.db.errors import IdempotencyConflict, InvalidRequest
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.decisions.overrides import Determination
from adjudicator.decisions.queries import DecisionFilter, get_decision, list_decisions
from adjudicator.decisions.service import create_decision, override_decision
from adjudicator.verification import verify_audit

ORDERS = Actor(key_id="k-orders", name="orders", role="system")
BILLING = Actor(key_id="k-billing", name="billing", role="system")
STAFF = Actor(key_id="k-staff", name="alice", role="staff")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / load_catalog().active_version


def _count(store: Store) -> int:
    with store.db.read() as session:
        return int(session.execute(select(func.count()).select_from(DecisionRow)).scalar_one())


def _fixture_case(name: str) -> dict[str, Any]:
    case: dict[str, Any] = json.loads((FIXTURES / name).read_text())["case"]
    return copy.deepcopy(case)


def test_an_idempotency_key_is_scoped_to_the_api_key(
    store: Store, adjudicator: Adjudicator
) -> None:
    first, made = create_decision(
        store, adjudicator, make_case(), actor=ORDERS, idempotency_key="PO-1/claim-1"
    )
    other, other_made = create_decision(
        store, adjudicator, make_case(), actor=BILLING, idempotency_key="PO-1/claim-1"
    )
    assert made and other_made and first.decision_id != other.decision_id
    with pytest.raises(IdempotencyConflict):  # the same key and another body, same API key
        create_decision(
            store, adjudicator, make_case(), actor=ORDERS, idempotency_key="PO-1/claim-1"
        )
    assert _count(store) == 2


def test_naming_the_active_ruleset_is_the_same_request_as_naming_none(
    store: Store, adjudicator: Adjudicator
) -> None:
    active = adjudicator.catalog.active_version
    case = make_case()
    first, made = create_decision(
        store, adjudicator, case, actor=ORDERS, idempotency_key="r-1", active_ruleset=active
    )
    again, made_again = create_decision(
        store, adjudicator, case, actor=ORDERS, idempotency_key="r-1",
        ruleset=active, active_ruleset=active,
    )  # fmt: skip
    assert made and not made_again and again.decision_id == first.decision_id
    assert _count(store) == 1


def test_an_override_reimburses_no_more_than_the_designated_inspection_fee(
    store: Store, adjudicator: Adjudicator
) -> None:
    original, _ = create_decision(
        store, adjudicator, _fixture_case("FEE-01-post-delivery-last-day.json"), actor=ORDERS
    )
    assert original.document["fee_reimbursement"]["amount"] == "450.00"
    over = Determination("upheld_full", "100.00", "too much fee", fee_reimbursement="450.01")
    with pytest.raises(InvalidRequest) as raised:
        override_decision(store, original.decision_id, over, actor=STAFF)
    assert "fee_reimbursement.amount" in raised.value.errors
    exact = Determination("upheld_full", "100.00", "the fee", fee_reimbursement="450.00")
    done, _ = override_decision(store, original.decision_id, exact, actor=STAFF)
    assert done.document["fee_reimbursement"]["amount"] == "450.00"


def test_without_a_designated_inspection_an_override_reimburses_no_fee(
    store: Store, adjudicator: Adjudicator
) -> None:
    original, _ = create_decision(store, adjudicator, make_case(), actor=ORDERS)  # no inspection
    fee = Determination("upheld_full", "100.00", "a fee from nowhere", fee_reimbursement="0.01")
    with pytest.raises(InvalidRequest) as raised:
        override_decision(store, original.decision_id, fee, actor=STAFF)
    assert "fee_reimbursement.amount" in raised.value.errors


def test_an_override_with_one_idempotency_key_is_stored_once(
    store: Store, adjudicator: Adjudicator
) -> None:
    original, _ = create_decision(store, adjudicator, make_case(), actor=ORDERS)
    determination = Determination("upheld_partial", "100.00", "phone call")
    first, made = override_decision(
        store, original.decision_id, determination, actor=STAFF, idempotency_key="ovr-1"
    )
    again, made_again = override_decision(
        store, original.decision_id, determination, actor=STAFF, idempotency_key="ovr-1"
    )
    assert made and not made_again and again.decision_id == first.decision_id
    with pytest.raises(IdempotencyConflict):
        override_decision(
            store, original.decision_id, Determination("denied", "0", "changed my mind"),
            actor=STAFF, idempotency_key="ovr-1",
        )  # fmt: skip
    assert _count(store) == 2
    assert [e.action for e in list_audit(store).items].count("decision.overridden") == 1
    assert verify_audit(store).ok


def test_a_decision_shows_what_overrides_it(store: Store, adjudicator: Adjudicator) -> None:
    original, _ = create_decision(store, adjudicator, make_case(order_id="PO-OV"), actor=ORDERS)
    assert get_decision(store, original.decision_id).overridden_by == ()
    one, _ = override_decision(
        store, original.decision_id, Determination("denied", "0", "one"), actor=STAFF
    )
    two, _ = override_decision(
        store, original.decision_id, Determination("denied", "0", "two"), actor=STAFF
    )
    found = get_decision(store, original.decision_id)
    assert found.overridden_by == (one.decision_id, two.decision_id)
    assert found.to_dict()["overridden_by"] == [one.decision_id, two.decision_id]
    listed = {
        d.decision_id: d.overridden_by
        for d in list_decisions(store, DecisionFilter(order_id="PO-OV")).items
    }
    assert listed == {
        original.decision_id: (one.decision_id, two.decision_id),
        one.decision_id: (),
        two.decision_id: (),
    }


def test_the_audit_keeps_the_servers_request_id_and_the_clients_apart(
    store: Store, adjudicator: Adjudicator
) -> None:
    made, _ = create_decision(
        store, adjudicator, make_case(), actor=ORDERS,
        request_id="server-1", client_request_id="client-1",
    )  # fmt: skip
    override_decision(
        store, made.decision_id, Determination("denied", "0", "x"), actor=STAFF,
        request_id="server-2", client_request_id="client-2",
    )  # fmt: skip
    entries = list_audit(store).items
    assert [(e.request_id, e.payload["client_request_id"]) for e in entries] == [
        ("server-1", "client-1"),
        ("server-2", "client-2"),
    ]
    assert verify_audit(store).ok
