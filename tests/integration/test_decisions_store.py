"""The decision service on a real database: store, read back, list, override, atomicity."""

from __future__ import annotations

import copy
from datetime import timedelta
from decimal import Decimal

import pytest
from servicekit import StepClock, make_case
from sqlalchemy import func, select

from adjudicator import Adjudicator, InvalidCase, UnknownRuleset
from adjudicator.audit import chain as chain_module
from adjudicator.audit.log import list_audit
from adjudicator.audit.models import AuditEntryRow
from adjudicator.db.actor import Actor
from adjudicator.db.errors import InvalidRequest, NotFound
from adjudicator.db.store import Store
from adjudicator.decisions.models import DecisionRow
from adjudicator.decisions.overrides import Determination
from adjudicator.decisions.queries import DecisionFilter, get_decision, list_decisions
from adjudicator.decisions.service import create_decision, override_decision
from adjudicator.verification import verify_audit

SYSTEM = Actor(key_id="k-system", name="upstream", role="system")
STAFF = Actor(key_id="k-staff", name="alice", role="staff")


def _count(store: Store, model: type) -> int:
    with store.db.read() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_decision_is_stored_with_its_case_and_audit_entry(
    store: Store, adjudicator: Adjudicator, clock: StepClock
) -> None:
    case = make_case(order_id="PO-7")
    stored, created = create_decision(store, adjudicator, case, actor=SYSTEM, request_id="req-1")
    assert created
    assert stored.document["outcome"] == "upheld_full"
    assert stored.document["refund"] == {"amount": "20000.00", "currency": "USD"}
    again = get_decision(store, stored.decision_id)
    assert again.document == stored.document
    assert again.case == case
    assert again.overrides is None
    (entry,) = list_audit(store).items
    assert (entry.action, entry.subject, entry.request_id) == (
        "decision.created",
        stored.decision_id,
        "req-1",
    )
    assert (entry.actor_key_id, entry.actor_name) == ("k-system", "upstream")
    assert entry.payload["outcome"] == "upheld_full"
    assert entry.payload["order_id"] == "PO-7"
    assert entry.payload["case_digest"].startswith("sha256:")


def test_case_id_and_as_of_are_filled_when_absent(store: Store, adjudicator: Adjudicator) -> None:
    case = make_case()
    del case["case_id"], case["as_of"]
    stored, _ = create_decision(store, adjudicator, case, actor=SYSTEM)
    assert stored.case is not None
    assert stored.case["case_id"] and stored.document["case_id"] == stored.case["case_id"]
    assert stored.case["as_of"] == stored.document["as_of"]
    assert stored.document["as_of"].startswith("2026-01-01T00:00:01")  # the injected clock


def test_an_invalid_case_is_not_stored(store: Store, adjudicator: Adjudicator) -> None:
    case = make_case()
    case["order"]["lines"][0]["quantity"] = -1
    with pytest.raises(InvalidCase) as raised:
        create_decision(store, adjudicator, case, actor=SYSTEM)
    assert "order.lines.0.quantity" in raised.value.errors
    assert _count(store, DecisionRow) == 0 and _count(store, AuditEntryRow) == 0


def test_a_pinned_ruleset_is_used_and_an_unknown_one_refused(
    store: Store, adjudicator: Adjudicator
) -> None:
    version = adjudicator.catalog.active.version
    stored, _ = create_decision(store, adjudicator, make_case(), actor=SYSTEM, ruleset=version)
    assert stored.document["ruleset"]["version"] == version
    with pytest.raises(UnknownRuleset):
        create_decision(store, adjudicator, make_case(), actor=SYSTEM, ruleset="1999.9")


def test_a_failed_audit_append_leaves_no_decision(
    store: Store, adjudicator: Adjudicator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decision and audit entry are one transaction: when the entry fails, nothing is kept."""
    if store.db.dialect == "postgresql":
        # One statement writes both; make it fail after the decision's insert.
        monkeypatch.setattr(chain_module, "canonical_parts", lambda **_: ("x", "y" + "\x00"))
    else:

        def broken_append(*args: object, **kwargs: object) -> None:
            raise RuntimeError("disk full")

        monkeypatch.setattr(chain_module, "append", broken_append)
    with pytest.raises(Exception):  # noqa: B017 - any failure will do
        create_decision(store, adjudicator, make_case(), actor=SYSTEM)
    assert _count(store, DecisionRow) == 0 and _count(store, AuditEntryRow) == 0
    monkeypatch.undo()
    create_decision(store, adjudicator, make_case(), actor=SYSTEM)
    assert verify_audit(store).ok


@pytest.mark.parametrize(
    ("path", "value"),
    [("order.order_id", "x" * 201), ("claim.claim_id", "c" * 201), ("case_id", "i" * 201)],
)
def test_identifiers_longer_than_the_columns_are_refused(
    store: Store, adjudicator: Adjudicator, path: str, value: str
) -> None:
    case = make_case()
    *parents, leaf = path.split(".")
    target = case
    for part in parents:
        target = target[part]
    target[leaf] = value
    with pytest.raises(InvalidCase) as raised:
        create_decision(store, adjudicator, case, actor=SYSTEM)
    assert path in raised.value.errors


def test_an_unknown_or_malformed_id_is_not_found(store: Store) -> None:
    for ident in ["00000000-0000-0000-0000-000000000000", "nope", "\x00", "x" * 5000]:
        with pytest.raises(NotFound):
            get_decision(store, ident)


def test_decisions_list_newest_first_with_filters_and_cursor(
    store: Store, adjudicator: Adjudicator, clock: StepClock
) -> None:
    ids = []
    for i in range(7):
        order = "PO-A" if i % 2 == 0 else "PO-B"
        ids.append(create_decision(store, adjudicator, make_case(order_id=order), actor=SYSTEM)[0])
    newest_first = [d.decision_id for d in reversed(ids)]

    seen, cursor = [], None
    while True:
        page = list_decisions(store, DecisionFilter(), cursor=cursor, limit=3)
        assert len(page.items) <= 3
        seen += [d.decision_id for d in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == newest_first
    assert all(d.case is None for d in page.items)  # lists leave the case documents out

    only_a = list_decisions(store, DecisionFilter(order_id="PO-A")).items
    assert [d.decision_id for d in only_a] == newest_first[::2]
    claim = ids[3].document["case_id"]
    by_claim = list_decisions(store, DecisionFilter(claim_id=get_claim(store, ids[3]))).items
    assert [d.document["case_id"] for d in by_claim] == [claim]
    assert list_decisions(store, DecisionFilter(outcome="denied")).items == []
    assert len(list_decisions(store, DecisionFilter(outcome="upheld_full")).items) == 7

    times = [d.created_at for d in ids]
    window = DecisionFilter(since=times[2], until=times[5])
    assert [d.decision_id for d in list_decisions(store, window).items] == [
        ids[4].decision_id,
        ids[3].decision_id,
        ids[2].decision_id,
    ]


def get_claim(store: Store, stored: object) -> str:
    case = get_decision(store, stored.decision_id).case  # type: ignore[attr-defined]
    assert case is not None
    return str(case["claim"]["claim_id"])


def test_the_cursor_breaks_ties_on_equal_times(store: Store, adjudicator: Adjudicator) -> None:
    frozen = StepClock(step=timedelta(0))
    same_time = Store(db=store.db, key_secret=store.key_secret, clock=frozen)
    made = {
        create_decision(same_time, adjudicator, make_case(), actor=SYSTEM)[0].decision_id
        for _ in range(5)
    }
    seen, cursor = [], None
    while True:
        page = list_decisions(store, DecisionFilter(), cursor=cursor, limit=2)
        seen += [d.decision_id for d in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(made) and len(seen) == 5


@pytest.mark.parametrize("cursor", ["garbage", "eyJ0IjoxfQ", "eyJzIjoxfQ", "e30", "x" * 600])
def test_a_foreign_cursor_is_refused(store: Store, cursor: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        list_decisions(store, DecisionFilter(), cursor=cursor)
    assert "cursor" in raised.value.errors


def test_an_override_is_a_new_linked_decision_and_the_original_never_changes(
    store: Store, adjudicator: Adjudicator
) -> None:
    original, _ = create_decision(store, adjudicator, make_case(), actor=SYSTEM)
    before = copy.deepcopy(get_decision(store, original.decision_id))
    determination = Determination(
        outcome="upheld_partial", refund="1500.50", justification="Supplier proved part shipment."
    )
    first, created = override_decision(store, original.decision_id, determination, actor=STAFF)
    assert created
    assert first.decision_id != original.decision_id
    assert first.overrides == original.decision_id
    assert first.justification == "Supplier proved part shipment."
    doc = first.document
    assert doc["outcome"] == "upheld_partial"
    assert doc["refund"] == {"amount": "1500.50", "currency": "USD"}
    assert doc["case_id"] == original.document["case_id"]
    assert doc["money"] == original.document["money"]
    assert doc["reasons"] == [
        {"code": "M_MANUAL_DETERMINATION", "rule": "MANUAL", "message": determination.justification}
    ]
    assert get_decision(store, first.decision_id).case == original.case

    second, _ = override_decision(
        store,
        first.decision_id,
        Determination(outcome="denied", refund="0", justification="Evidence withdrawn."),
        actor=STAFF,
    )
    assert second.overrides == first.decision_id
    assert second.document["refund"]["amount"] == "0.00"

    after = get_decision(store, original.decision_id)
    assert (after.document, after.case, after.overrides) == (
        before.document,
        before.case,
        before.overrides,
    )
    assert after.overridden_by == (first.decision_id,)  # read from the override, not stored
    assert get_decision(store, first.decision_id).overridden_by == (second.decision_id,)
    actions = [e.action for e in list_audit(store).items]
    assert actions == ["decision.created", "decision.overridden", "decision.overridden"]
    entry = list_audit(store).items[1]
    assert entry.payload["overrides"] == original.decision_id
    assert entry.payload["justification"] == determination.justification
    assert entry.actor_name == "alice"
    assert verify_audit(store).ok


@pytest.mark.parametrize(
    ("determination", "field"),
    [
        (Determination("upheld_full", "20000.01", "over the cap"), "refund.amount"),
        (Determination("upheld_full", "0", "nothing"), "refund.amount"),
        (Determination("denied", "10.00", "denied but paid"), "refund.amount"),
        (Determination("upheld_partial", "10.001", "too precise"), "refund.amount"),
        (Determination("upheld_partial", "-1", "negative"), "refund.amount"),
        (Determination("upheld_partial", "1e3", "exponent"), "refund.amount"),
        (Determination("upheld_partial", "10", "   "), "justification"),
        (Determination("manual_review", "0", "not a determination"), "outcome"),
        (
            Determination("upheld_partial", "10", "wrong currency", currency="EUR"),
            "refund.currency",
        ),
        (
            Determination("denied", "0", "fee when denied", fee_reimbursement="5.00"),
            "fee_reimbursement.amount",
        ),
    ],
)
def test_an_override_is_checked(
    store: Store, adjudicator: Adjudicator, determination: Determination, field: str
) -> None:
    original, _ = create_decision(store, adjudicator, make_case(), actor=SYSTEM)
    with pytest.raises(InvalidRequest) as raised:
        override_decision(store, original.decision_id, determination, actor=STAFF)
    assert field in raised.value.errors
    assert _count(store, DecisionRow) == 1


def test_the_refund_may_equal_the_cap(store: Store, adjudicator: Adjudicator) -> None:
    original, _ = create_decision(store, adjudicator, make_case(), actor=SYSTEM)
    cap = original.document["money"]["cap"]
    done, _ = override_decision(
        store, original.decision_id, Determination("upheld_full", cap, "full"), actor=STAFF
    )
    assert Decimal(done.document["refund"]["amount"]) == Decimal(cap)


def test_overriding_an_unknown_decision_is_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        override_decision(
            store,
            "00000000-0000-0000-0000-000000000000",
            Determination("denied", "0", "x"),
            actor=STAFF,
        )
