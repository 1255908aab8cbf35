"""Money in the console (lifecycle v1.1): the Refunds tab and its total owed, the order's ledger
on the claim page, the confirmation before each refund step, a settlement approved by a
colleague, and every refusal of the store shown at its form."""

from __future__ import annotations

import re
from typing import Any

from consolekit import SYSTEM, csrf_token, escalated_claim, login, store
from flask import Flask
from flask.testing import FlaskClient
from servicekit import make_case

from adjudicator.claims.service import Viewer, act, claim_events, get_claim, open_claim
from adjudicator.db.actor import Actor
from adjudicator.identity.users import get_user, user_actor

STAFF = Viewer(None, "staff")


def _act(client: FlaskClient, ref: str, **form: str) -> tuple[int, str]:
    form["csrf_token"] = csrf_token(client, f"/console/claims/{ref}")
    response = client.post(f"/console/claims/{ref}/act", data=form, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def _switch(client: FlaskClient, name: str) -> None:
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})
    login(client, name)


def _person(app: Flask, users: dict[str, int], name: str) -> Actor:
    """The actor the console records for ``name`` (a person: ``user_id`` set)."""
    info = get_user(store(app), users[name])
    assert info is not None
    return user_actor(info)


def _do(app: Flask, ref: str, action: str, body: dict[str, Any], actor: Actor) -> None:
    with app.app_context():
        act(store(app), app.extensions["adjudicator"].decider, ref, action, body, actor)


def _state(app: Flask, ref: str) -> Any:
    return get_claim(store(app), ref, STAFF).state


def _settled(app: Flask, users: dict[str, int], ref: str, amount: str) -> None:
    """``staff`` proposes a settlement of ``amount``, ``staff2`` approves it: refund pending."""
    settle = {"refund": {"amount": amount}, "terms": "Agreed in writing."}
    _do(app, ref, "settle", settle, _person(app, users, "staff"))
    proposal_id = _state(app, ref).proposal["proposal_id"]
    _do(app, ref, "approve", {"proposal_id": proposal_id}, _person(app, users, "staff2"))


def _case(order_id: str, currency: str = "USD") -> dict[str, Any]:
    case = make_case(order_id=order_id)
    case["order"]["currency"] = currency
    return case


def _event_count(app: Flask, ref: str) -> int:
    return len(claim_events(store(app), ref, STAFF))


# 1. The Refunds tab -------------------------------------------------------------------------


def _refunds_tab(app: Flask, users: dict[str, int]) -> dict[str, str]:
    """Claims in every stage; the refund ones with amounts chosen to add up by hand."""
    refs = {name: escalated_claim(app, _case(f"PO-RF-{name}", cur))
            for name, cur in (("a", "USD"), ("b", "USD"), ("c", "EUR"), ("d", "USD"),
                              ("e", "USD"))}  # fmt: skip
    _settled(app, users, refs["a"], "1500.50")  # refund pending, 1500.50 USD
    _do(app, refs["b"], "propose", {"kind": "confirm"}, _person(app, users, "staff"))  # 20000.00
    _do(
        app,
        refs["b"],
        "refund_initiated",
        {"payout_reference": "PAY-B"},
        _person(app, users, "staff"),
    )  # fmt: skip  (initiated: still owed)
    _settled(app, users, refs["c"], "700.25")  # EUR
    _settled(app, users, refs["d"], "99.99")  # paid: owed no more
    staff = _person(app, users, "staff")
    _do(app, refs["d"], "refund_initiated", {"payout_reference": "PAY-D"}, staff)
    _do(app, refs["d"], "refund_completed", {}, staff)
    return refs  # e stays awaiting staff


def test_the_refunds_tab_lists_what_is_owed_soonest_due_first_with_the_total_per_currency(
    app: Flask, staff: FlaskClient, users: dict[str, int]
) -> None:
    refs = _refunds_tab(app, users)
    page = staff.get("/console/?tab=refunds").get_data(as_text=True)
    assert re.search(r'<a href="/console/\?tab=refunds" aria-current="page">Refunds</a>', page)
    listed = re.findall(r'id="claim-([^"]+)"', page)
    assert set(listed) == {refs["a"], refs["b"], refs["c"]}
    dues = [get_claim(store(app), ref, STAFF).next_due for ref in listed]
    assert listed[-1] == refs["b"] and dues[-1] is None  # initiated: no clock runs, last
    assert dues[0] is not None and dues[1] is not None and dues[0] <= dues[1]  # soonest first
    # the total owed, by hand: USD 1500.50 + 20000.00 (initiated, not yet paid); EUR 700.25;
    # the completed 99.99 and the claim awaiting staff owe nothing
    owed = re.search(r'<section aria-labelledby="owed-h".*?</section>', page, re.S)
    assert owed is not None
    totals = re.findall(r"<dt>(\w{3}) \((\d+) claims?\)</dt><dd[^>]*>([\d.]+) \w{3}</dd>",
                        owed.group(0))  # fmt: skip
    assert totals == [("EUR", "1", "700.25"), ("USD", "2", "21500.50")]
    assert "Refund owed" in page and "PAY-B" in page
    # filtered, the total follows the filter
    usd = staff.get("/console/?tab=refunds&currency=EUR").get_data(as_text=True)
    assert re.findall(r'id="claim-([^"]+)"', usd) == [refs["c"]]
    assert "700.25 EUR" in usd and "21500.50" not in usd


def test_a_refund_claim_far_from_its_deadline_is_in_the_refunds_tab_only(
    app: Flask, staff: FlaskClient, users: dict[str, int]
) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-RF-ONLY"))
    _settled(app, users, ref, "10.00")  # due in 7 business days: far from at risk
    for tab in ("needs_staff", "waiting", "approval", "at_risk", "closed"):
        page = staff.get(f"/console/?tab={tab}").get_data(as_text=True)
        assert f'id="claim-{ref}"' not in page, tab
    assert f'id="claim-{ref}"' in staff.get("/console/?tab=refunds").get_data(as_text=True)
    empty = staff.get("/console/?tab=needs_staff").get_data(as_text=True)
    assert "Total owed" not in empty  # only on the Refunds tab


def test_nothing_owed_says_so(staff: FlaskClient) -> None:
    page = staff.get("/console/?tab=refunds").get_data(as_text=True)
    assert "Nothing is owed." in page and "No claims here." in page


# 2. The order's ledger on the claim page ----------------------------------------------------


def test_the_claim_page_shows_the_orders_ledger(
    app: Flask, staff: FlaskClient, users: dict[str, int]
) -> None:
    first = escalated_claim(app, make_case(order_id="PO-LG", claim_id="CL-LG-1"))
    _settled(app, users, first, "6000.00")
    second = escalated_claim(app, make_case(order_id="PO-LG", claim_id="CL-LG-2"))
    _settled(app, users, second, "2500.00")
    staff_actor = _person(app, users, "staff")
    _do(app, first, "refund_initiated", {"payout_reference": "PAY-LG"}, staff_actor)
    _do(app, first, "refund_completed", {}, staff_actor)
    page = staff.get(f"/console/claims/{second}").get_data(as_text=True)
    ledger = re.search(r'<section aria-labelledby="ledger-h">.*?</section>', page, re.S)
    assert ledger is not None
    panel = ledger.group(0)
    figures = dict(re.findall(r"<dt>(\w+)</dt><dd class=\"num\">([\d.]+) USD</dd>", panel))
    assert figures == {"Cap": "20000.00", "Held": "2500.00", "Paid": "6000.00",
                       "Remaining": "11500.00"}  # fmt: skip
    rows = re.findall(
        r'<tr><td><a class="mono" href="/console/claims/([^"]+)">[^<]+</a>(.*?)</td>\s*'
        r'<td>(\w+)</td><td class="num">([\d.]+)</td>\s*<td><time datetime="[^"]+">[^<]+</time>'
        r'</td><td class="num">(\d+)</td></tr>',
        panel,
    )
    shown = [(ref, "this claim" in mark, kind, amount) for ref, mark, kind, amount, _ in rows]
    assert shown == [
        (first, False, "hold", "6000.00"),
        (second, True, "hold", "2500.00"),
        (first, False, "payout", "6000.00"),
    ]
    seqs = [int(seq) for *_, seq in rows]
    assert seqs == sorted(seqs) and all(seqs)  # each entry is an audit entry


# 3. The confirmation before each refund step ------------------------------------------------


def test_refund_initiated_without_confirmation_does_nothing_and_asks(
    app: Flask, staff: FlaskClient, users: dict[str, int]
) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-CF-1"))
    _settled(app, users, ref, "4321.00")
    before = _event_count(app, ref)
    status, page = _act(staff, ref, action="refund_initiated", payout_reference="PAY-77")
    assert status == 200
    assert "Confirm: refund initiated" in page
    confirm = re.search(r'<section aria-labelledby="confirm-h".*?</section>', page, re.S)
    assert confirm is not None
    assert "4321.00 USD" in confirm.group(0) and "PAY-77" in confirm.group(0)
    assert 'name="confirm" value="yes"' in confirm.group(0)
    assert 'name="payout_reference" value="PAY-77"' in confirm.group(0)
    assert _state(app, ref).status == "refund_pending" and _event_count(app, ref) == before
    # a confirm field with another value is not a confirmation either
    status, page = _act(staff, ref, action="refund_initiated", payout_reference="PAY-77",
                        confirm="no")  # fmt: skip
    assert "Confirm: refund initiated" in page and _event_count(app, ref) == before
    # confirmed: the second POST takes it
    status, page = _act(staff, ref, action="refund_initiated", payout_reference="PAY-77",
                        confirm="yes")  # fmt: skip
    assert status == 200 and "Refund marked as initiated." in page
    assert _state(app, ref).status == "refund_initiated"
    assert _state(app, ref).refund["payout_reference"] == "PAY-77"


def test_refund_completed_asks_first_naming_the_amount_and_the_payout_reference(
    app: Flask, staff: FlaskClient, users: dict[str, int]
) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-CF-2"))
    _settled(app, users, ref, "250.00")
    _do(app, ref, "refund_initiated", {"payout_reference": "PAY-88"}, _person(app, users, "staff"))
    before = _event_count(app, ref)
    status, page = _act(staff, ref, action="refund_completed")
    assert status == 200 and "Confirm: refund completed" in page
    assert "250.00 USD" in page and "PAY-88" in page
    assert "Yes, refund completed: 250.00 USD" in page
    assert _state(app, ref).status == "refund_initiated" and _event_count(app, ref) == before
    assert '<h2 id="actions-h">' not in page  # only the confirmation is offered
    status, page = _act(staff, ref, action="refund_completed", confirm="yes")
    assert status == 200 and "Refund marked as completed." in page
    assert _state(app, ref).status == "refunded"


def test_a_refund_step_without_a_payout_reference_is_refused_at_the_field(
    app: Flask, staff: FlaskClient, users: dict[str, int]
) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-CF-3"))
    _settled(app, users, ref, "10.00")
    status, page = _act(staff, ref, action="refund_initiated", payout_reference=" ")
    assert status == 422
    assert 'id="e-refund_initiated-payout_reference">Required' in page
    assert "Confirm:" not in page and _state(app, ref).status == "refund_pending"


def test_a_refund_step_not_available_now_is_refused_not_confirmed(
    app: Flask, staff: FlaskClient, users: dict[str, int]
) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-CF-4"))
    _settled(app, users, ref, "10.00")
    status, page = _act(staff, ref, action="refund_completed")  # not initiated yet
    assert status == 409 and "Confirm:" not in page
    assert "does not accept &#39;refund_completed&#39;" in page
    assert _state(app, ref).status == "refund_pending"


# 4. A settlement is a proposal a colleague approves -----------------------------------------


def _propose_settlement(client: FlaskClient, ref: str, amount: str) -> tuple[int, str]:
    return _act(client, ref, action="settle", terms="Both parties signed on 3 May.",
                **{"refund.amount": amount})  # fmt: skip


def test_the_proposer_cannot_approve_their_own_settlement(
    app: Flask, staff: FlaskClient, users: dict[str, int]
) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-ST-1"))
    status, page = _propose_settlement(staff, ref, "5000.00")
    assert status == 200 and "Settlement proposed" in page
    banner = re.search(r'<section aria-labelledby="approval-h".*?</section>', page, re.S)
    assert banner is not None
    card = banner.group(0)
    assert "<dt>Kind</dt><dd>Settlement</dd>" in card
    assert "5000.00 USD" in card and "<dt>Proposed by</dt><dd>staff</dd>" in card
    assert "Both parties signed on 3 May." in card
    assert 'value="approve"' not in card and 'value="decline"' not in card  # four eyes
    assert "You cannot approve or decline: The proposer may not" in card
    proposal_id = _state(app, ref).proposal["proposal_id"]
    status, page = _act(staff, ref, action="approve", proposal_id=proposal_id)
    assert status == 403 and "The proposer may not approve" in page
    assert _state(app, ref).status == "pending_approval"


def test_a_colleague_approves_the_settlement_and_the_claim_owes_the_refund(
    app: Flask, client: FlaskClient, users: dict[str, int]
) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-ST-2"))
    login(client, "staff")
    _propose_settlement(client, ref, "5000.00")
    _switch(client, "staff2")
    page = client.get(f"/console/claims/{ref}").get_data(as_text=True)
    proposal_id = _state(app, ref).proposal["proposal_id"]
    for name in ("approve", "decline"):
        form = re.search(rf'<form[^>]*>\s*<input type="hidden" name="csrf_token"[^>]*>\s*'
                         rf'<input type="hidden" name="proposal_id" value="([^"]+)">\s*'
                         rf'<button type="submit" name="action" value="{name}"', page)  # fmt: skip
        assert form is not None and form.group(1) == proposal_id, name
    status, page = _act(client, ref, action="approve", proposal_id=proposal_id)
    assert status == 200 and "Proposal approved." in page
    state = _state(app, ref)
    assert state.status == "refund_pending" and state.refund["amount"] == "5000.00"
    assert "refund / pending" in page
    assert "<dt>Settlement</dt><dd>5000.00 USD, proposed by staff, approved by staff2</dd>" in page
    assert '<td>hold</td><td class="num">5000.00</td>' in page  # the ledger holds it
    assert f'id="claim-{ref}"' in client.get("/console/?tab=refunds").get_data(as_text=True)


def test_an_approval_of_a_replaced_proposal_is_refused_and_said(
    app: Flask, client: FlaskClient, users: dict[str, int]
) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-ST-3"))
    login(client, "staff")
    _propose_settlement(client, ref, "5.00")
    reviewed = _state(app, ref).proposal["proposal_id"]
    _propose_settlement(client, ref, "19000.00")  # replaces it
    _switch(client, "staff2")
    status, page = _act(client, ref, action="approve", proposal_id=reviewed)
    assert status == 409
    assert "the proposal you reviewed was replaced or withdrawn" in page
    state = _state(app, ref)
    assert state.status == "pending_approval" and state.proposal["refund"]["amount"] == "19000.00"


def test_a_colleague_declines_the_settlement(
    app: Flask, client: FlaskClient, users: dict[str, int]
) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-ST-4"))
    login(client, "staff")
    _propose_settlement(client, ref, "100.00")
    _switch(client, "staff2")
    proposal_id = _state(app, ref).proposal["proposal_id"]
    status, page = _act(client, ref, action="decline", proposal_id=proposal_id)
    assert status == 200 and "Proposal declined." in page
    assert _state(app, ref).status == "awaiting_staff"


def test_a_settlement_without_terms_is_refused_at_the_field(
    app: Flask, staff: FlaskClient, users: dict[str, int]
) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-ST-5"))
    status, page = _act(staff, ref, action="settle", **{"refund.amount": "10.00"})
    assert status == 422
    assert 'id="e-settle-terms">Required' in page
    assert 'id="e-propose-' not in page  # the error is at the form that was sent only


def _two_claims_one_order(app: Flask, order_id: str) -> tuple[str, str]:
    """Two claims on one order, both decided before either was granted (each sees 20000.00)."""
    decider = app.extensions["adjudicator"].decider
    refs = []
    with app.app_context():
        for claim_id in ("CL-1", "CL-2"):
            record, _ = open_claim(
                store(app), decider, make_case(order_id=order_id, claim_id=claim_id), SYSTEM
            )
            act(store(app), decider, record.ref, "escalate", {}, SYSTEM, party="buyer")
            refs.append(record.ref)  # fmt: skip
    return refs[0], refs[1]


def test_a_settlement_the_cap_cannot_cover_says_what_the_order_has_left(
    app: Flask, staff: FlaskClient, users: dict[str, int]
) -> None:
    first, second = _two_claims_one_order(app, "PO-CAP-1")
    _settled(app, users, first, "18000.00")  # 2000.00 left
    status, page = _propose_settlement(staff, second, "5000.00")
    assert status == 409
    assert 'id="e-settle-refund-amount">The order has 2000.00 USD left' in page
    assert "Not granted: order PO-CAP-1 has 2000.00 USD of its cap left" in page
    assert _state(app, second).status == "awaiting_staff"


def test_an_approval_the_cap_cannot_cover_is_refused_at_the_banner(
    app: Flask, client: FlaskClient, users: dict[str, int]
) -> None:
    first, second = _two_claims_one_order(app, "PO-CAP-2")
    login(client, "staff")
    _propose_settlement(client, second, "5000.00")  # fits now
    _do(app, first, "propose", {"kind": "confirm"}, _person(app, users, "staff2"))  # takes all
    _switch(client, "staff2")
    proposal_id = _state(app, second).proposal["proposal_id"]
    status, page = _act(client, second, action="approve", proposal_id=proposal_id)
    assert status == 409
    banner = re.search(r'<section aria-labelledby="approval-h".*?</section>', page, re.S)
    assert banner is not None
    assert "The order has 0.00 USD left: decline, and propose that or less." in banner.group(0)
    assert _state(app, second).status == "pending_approval"


def test_an_override_fee_above_the_inspections_fee_is_refused_at_the_field(
    app: Flask, staff: FlaskClient, users: dict[str, int]
) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-FEE-1"))  # no designated inspection
    money = {"refund.amount": "100.00", "fee_reimbursement.amount": "99999.00"}
    status, page = _act(staff, ref, action="propose", kind="override", outcome="upheld_partial",
                        justification="Part of the goods.", **money)  # fmt: skip
    assert status == 422
    assert (
        'id="e-propose-fee_reimbursement-amount">Must not exceed the designated inspection' in page
    )
    assert _state(app, ref).status == "awaiting_staff"
