"""Claims in the console: open, queue tabs, the claim page, actions, four eyes, audit actors."""

from __future__ import annotations

import re

from consolekit import csrf_token, escalated_claim, login, store
from flask import Flask
from flask.testing import FlaskClient
from servicekit import make_case

from adjudicator.audit.log import list_audit
from adjudicator.claims.service import Viewer, get_claim
from api.console.caseform import form_from_case


def _open_form(client: FlaskClient, order_id: str) -> dict[str, str]:
    values, counts = form_from_case(make_case(order_id=order_id))
    form = {**values, **{f"rows.{k}": str(n) for k, n in counts.items()}, "action": "open"}
    form["csrf_token"] = csrf_token(client, "/console/claims/new")
    return form


def _act(client: FlaskClient, ref: str, **form: str) -> tuple[int, str]:
    form["csrf_token"] = csrf_token(client, f"/console/claims/{ref}")
    response = client.post(f"/console/claims/{ref}/act", data=form, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def test_open_claim_stores_it_as_the_user_and_it_waits_on_the_supplier(
    app: Flask, staff: FlaskClient, users
) -> None:
    response = staff.post("/console/claims/new", data=_open_form(staff, "PO-OPEN-1"))
    assert response.status_code == 302
    ref = response.headers["Location"].rsplit("/", 1)[1]
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "on order PO-OPEN-1" in page and "is open." in page
    waiting = staff.get("/console/?tab=waiting").get_data(as_text=True)
    assert f'id="claim-{ref}"' in waiting
    assert f'id="claim-{ref}"' not in staff.get("/console/").get_data(as_text=True)
    opened = [e for e in list_audit(store(app), limit=200).items if e.subject == ref]
    assert opened and opened[0].actor_key_id == f"user:{users['staff']}"


def test_a_second_open_of_the_same_claim_is_an_error_at_the_claim_id(staff: FlaskClient) -> None:
    form = _open_form(staff, "PO-OPEN-2")
    assert staff.post("/console/claims/new", data=form).status_code == 302
    again = staff.post("/console/claims/new", data=form)
    assert again.status_code == 422
    assert "This order already has an open claim with this id." in again.get_data(as_text=True)


def test_the_queue_tabs_and_filters_live_in_the_url(app: Flask, staff: FlaskClient) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-Q-1"))
    other = escalated_claim(app, make_case(order_id="PO-Q-2"))
    page = staff.get("/console/").get_data(as_text=True)  # Needs staff is the default
    assert f'id="claim-{ref}"' in page and f'id="claim-{other}"' in page
    found = staff.get("/console/?tab=needs_staff&q=PO-Q-2").get_data(as_text=True)
    assert f'id="claim-{other}"' in found and f'id="claim-{ref}"' not in found
    tabs = re.findall(r'href="(/console/\?[^"]*tab=waiting[^"]*)"', found)
    assert tabs and "q=PO-Q-2" in tabs[0]  # switching tab keeps the filters
    piece = staff.get("/console/?tab=needs_staff", headers={"HX-Request": "true"})
    assert "<html" not in piece.get_data(as_text=True)  # the self-refresh gets the table only


def _row(page: str, ref: str) -> str:
    found = re.search(rf'<tr>\s*<td><a id="claim-{ref}".*?</tr>', page, re.S)
    assert found, ref
    return found.group(0)


def test_the_queue_filters_by_currency_and_recommendation_and_shows_the_amount_claimed(
    app: Flask, staff: FlaskClient
) -> None:
    usd_case = make_case(order_id="PO-CUR-USD")
    usd_case["claim"]["amount_claimed"] = "5000.00"
    eur_case = make_case(order_id="PO-CUR-EUR")
    eur_case["order"]["currency"] = "EUR"
    usd, eur = escalated_claim(app, usd_case), escalated_claim(app, eur_case)
    page = staff.get("/console/").get_data(as_text=True)
    assert '<label for="currency">Currency</label>' in page
    assert '<label for="recommendation">Recommendation</label>' in page
    assert '<th scope="col" class="num">Amount claimed</th>' in page
    assert re.search(r'<td class="num">5000\.00 USD</td>', _row(page, usd))
    assert '<td class="num">—</td>' in _row(page, eur)

    eurs = staff.get("/console/?tab=needs_staff&currency=eur").get_data(as_text=True)
    assert f'id="claim-{eur}"' in eurs and f'id="claim-{usd}"' not in eurs
    tabs = re.findall(r'href="(/console/\?[^"]*tab=waiting[^"]*)"', eurs)
    assert tabs and "currency=eur" in tabs[0]  # switching tab keeps the filter
    upheld = staff.get("/console/?recommendation=upheld_full&currency=USD").get_data(as_text=True)
    assert f'id="claim-{usd}"' in upheld and f'id="claim-{eur}"' not in upheld
    assert '<option value="upheld_full" selected>' in upheld
    denied = staff.get("/console/?recommendation=denied").get_data(as_text=True)
    assert f'id="claim-{usd}"' not in denied and "No claims here." in denied

    bad = staff.get("/console/?currency=ZZZ&recommendation=escalate").get_data(as_text=True)
    assert 'role="alert"' in bad and "currency:" in bad and "recommendation:" in bad


def test_the_queue_pages_with_a_cursor(app: Flask, staff: FlaskClient) -> None:
    refs = {escalated_claim(app, make_case(order_id=f"PO-P-{i}")) for i in range(27)}
    first = staff.get("/console/").get_data(as_text=True)
    following = re.search(r'href="(/console/\?[^"]*cursor=[^"]+)"', first)
    assert following is not None
    second = staff.get(following.group(1).replace("&amp;", "&")).get_data(as_text=True)
    seen = set(re.findall(r'id="claim-([^"]+)"', first)) | set(
        re.findall(r'id="claim-([^"]+)"', second)
    )
    assert seen == refs


def test_request_evidence_then_the_claim_waits_on_the_party(
    app: Flask, staff: FlaskClient, users
) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-EV-1"))
    page = staff.get(f"/console/claims/{ref}").get_data(as_text=True)
    assert "Request evidence" in page and "Approve" not in page  # only what is available
    status, page = _act(
        staff,
        ref,
        action="request_evidence",
        party="supplier",
        what="the bill of lading",
        due="2099-01-01T00:00:00Z",
    )
    assert status == 200 and "Evidence requested." in page
    assert "awaiting evidence" in page
    entries = [e for e in list_audit(store(app), limit=200).items if e.subject == ref]
    assert entries[-1].actor_key_id == f"user:{users['staff']}"


def test_a_bad_due_time_is_shown_at_the_field(app: Flask, staff: FlaskClient) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-EV-2"))
    status, page = _act(staff, ref, action="request_evidence", party="supplier", due="soon")
    assert status == 422
    assert 'id="e-request_evidence-due">Must be a timestamp with an offset.' in page


def test_a_note_is_marked_staff_only(app: Flask, staff: FlaskClient) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-N-1"))
    status, page = _act(staff, ref, action="note", text="called the supplier")
    assert status == 200 and "staff only" in page and "called the supplier" in page


def test_four_eyes_the_proposer_sees_no_approve_and_the_reason(
    app: Flask, client: FlaskClient, users
) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-4E-1"))
    login(client, "staff")
    status, page = _act(
        client,
        ref,
        action="propose",
        kind="override",
        outcome="upheld_partial",
        **{"refund.amount": "15000.00"},
        justification="Partial goods found.",
    )
    assert status == 200 and "Pending approval" in page
    assert 'value="approve"' not in page and 'value="decline"' not in page
    assert (
        "You cannot approve or decline: The proposer may not approve or decline their own "
        "proposal." in page
    )
    proposal_id = get_claim(store(app), ref, Viewer(None, "staff")).state.proposal["proposal_id"]
    forced = _act(client, ref, action="approve", proposal_id=proposal_id)
    assert forced[0] == 403  # and the server refuses it too, saying why
    assert "The proposer may not approve or decline their own proposal." in forced[1]
    assert f'id="claim-{ref}"' not in client.get("/console/").get_data(as_text=True)
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})
    login(client, "staff2")
    assert f'id="claim-{ref}"' in client.get("/console/").get_data(as_text=True)  # Needs staff
    page = client.get(f"/console/claims/{ref}").get_data(as_text=True)
    assert f'name="proposal_id" value="{proposal_id}"' in page
    status, page = _act(client, ref, action="approve", proposal_id=proposal_id)
    assert status == 200 and "Proposal approved" in page
    assert "refund / pending" in page and "refund initiation due" in page


def test_an_auditor_reads_claims_but_has_no_actions(app: Flask, client: FlaskClient, users) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-AU-1"))
    login(client, "auditor")
    page = client.get(f"/console/claims/{ref}").get_data(as_text=True)
    assert "Actions" not in page and "Timeline" in page
    token = csrf_token(client, f"/console/claims/{ref}")
    refused = client.post(
        f"/console/claims/{ref}/act", data={"csrf_token": token, "action": "note"}
    )
    assert refused.status_code == 403


def test_an_action_without_the_csrf_token_is_refused(app: Flask, staff: FlaskClient) -> None:
    ref = escalated_claim(app, make_case(order_id="PO-CS-1"))
    response = staff.post(f"/console/claims/{ref}/act", data={"action": "note", "text": "x"})
    assert response.status_code == 400
    assert "x</" not in staff.get(f"/console/claims/{ref}").get_data(as_text=True)
