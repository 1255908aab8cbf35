"""The golden journeys of console.md that work claims (1, 2, 3, 4's end, 6), in Chromium,
and journey 2 for a settlement through to the refund (lifecycle v1.1: money).

Each asserts what a person sees and runs axe-core on every page and state. The
parties' side (an order system filing and escalating, the supplier's
evidence) goes through the claims API over HTTP with a system key.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from browserkit import (
    LiveServer,
    Screenshots,
    api,
    assert_accessible,
    escalated_claim,
    log_in,
    log_out,
    system_key,
    tab_to,
)
from playwright.sync_api import Browser, Page, expect
from servicekit import make_case

from adjudicator import worker
from adjudicator.claims.service import Viewer, act, get_claim
from adjudicator.core.dates import rfc3339
from adjudicator.identity.users import list_users, user_actor
from adjudicator.settings import Settings

SHIPPED = {
    "shipments": [{
        "shipment_id": "S1",
        "lines": [{"line_id": "L1", "quantity": 10000}],
        "transport_document": {"kind": "bill_of_lading", "on_board_on": "2024-04-12"},
    }]
}  # fmt: skip


def _summary(page: Page, term: str) -> str:
    return page.locator(f"dl.figures div:has(dt:text-is('{term}')) dd").inner_text()


def test_journey_1_request_evidence_and_it_comes_back(
    page: Page, server: LiveServer, screenshot: Screenshots
) -> None:
    ref, key = escalated_claim(server, make_case(order_id="PO-J1"))
    log_in(page, server, "sam")
    expect(page.get_by_role("link", name="Needs staff")).to_have_attribute("aria-current", "page")
    row = page.get_by_role("row").filter(has_text="PO-J1")
    expect(row).to_contain_text("platform review / awaiting staff")
    expect(row.locator(".countdown")).to_be_visible()
    assert_accessible(page, "the queue")
    screenshot(page, "queue")
    page.get_by_label("Currency").fill("USD")
    page.get_by_label("Recommendation").select_option("upheld_full")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"currency=USD&recommendation=upheld_full"))
    expect(row.locator("td.num")).to_have_text("—")  # the case names no amount claimed
    assert_accessible(page, "the queue filtered by currency and recommendation")
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", name="Claim", level=1)).to_contain_text("PO-J1")
    before = _summary(page, "Recommended")
    assert_accessible(page, "an escalated claim")
    form = page.locator("form", has=page.get_by_role("heading", name="Request evidence"))
    form.get_by_label("From").select_option("supplier")
    form.get_by_label("What").fill("The bill of lading")
    form.get_by_role("button", name="Request evidence").click()
    expect(page.get_by_role("status").filter(has_text="Evidence requested.")).to_be_focused()
    expect(page.locator(".badge.status")).to_have_text("platform review / awaiting evidence")
    assert_accessible(page, "the claim awaiting evidence")
    page.get_by_role("link", name="Queue").click()
    page.get_by_role("link", name="Waiting on parties").click()
    expect(page.get_by_role("row").filter(has_text="PO-J1")).to_contain_text("supplier")
    # the supplier's evidence arrives through the API
    api(server, key, f"/v1/claims/{ref}/submit_evidence", {"as": "supplier", **SHIPPED})
    page.get_by_role("link", name="Needs staff").click()
    page.get_by_role("row").filter(has_text="PO-J1").get_by_role("link").click()
    expect(page.locator(".badge.status")).to_have_text("platform review / awaiting staff")
    expect(page.locator("dl.figures div:has(dt:text-is('Revision')) dd")).to_have_text("2")
    assert _summary(page, "Recommended") != before
    expect(page.get_by_role("cell", name="S1", exact=True)).to_be_visible()
    assert_accessible(page, "the claim with new evidence")


def test_journey_3_the_timer_escalates_and_a_missed_clock_is_red(
    page: Page, server: LiveServer
) -> None:
    clock = server.app.config["CLOCK"]
    case = make_case(order_id="PO-J3")
    case.pop("as_of", None)
    case["claim"]["filed_at"] = rfc3339(clock() - timedelta(hours=1))
    key = system_key(server)
    ref = api(server, key, "/v1/claims", case)["claim_ref"]
    log_in(page, server, "sam")
    expect(page.get_by_role("cell", name="No claims here.")).to_be_visible()  # not yet
    clock.offset = timedelta(days=8)  # past auto_escalation_at (filed + 168 h)
    jobs = worker.all_jobs(Settings.from_env({}))
    escalate = {"claims.auto_escalate": jobs["claims.auto_escalate"]}
    assert worker.run_once(server.store, escalate) == {"claims.auto_escalate": 1}
    page.reload()
    row = page.get_by_role("row").filter(has_text="PO-J3")
    expect(row).to_contain_text("platform review / awaiting staff")
    assert_accessible(page, "the queue after the timer")
    row.get_by_role("link").click()
    expect(page).to_have_url(f"{server.url}/console/claims/{ref}")
    missed = page.locator(".clock").filter(has_text="supplier response due")
    expect(missed).to_contain_text("missed")
    overdue = missed.locator(".countdown.overdue")
    expect(overdue).to_have_text(re.compile(r"^-\d+d \d+h$"))
    color = overdue.evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(164, 22, 26)"  # red
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline).to_contain_text("claim.escalated")
    assert_accessible(page, "the auto-escalated claim")


def test_journey_2_four_eyes(page: Page, server: LiveServer, screenshot: Screenshots) -> None:
    escalated_claim(server, make_case(order_id="PO-J2"))
    log_in(page, server, "sam")
    page.get_by_role("row").filter(has_text="PO-J2").get_by_role("link").click()
    form = page.locator("form", has=page.get_by_role("heading", name="Propose a determination"))
    form.get_by_label("Override", exact=True).check()
    form.get_by_label("Outcome (override)").select_option("upheld_partial")
    form.get_by_label("Refund (override)").fill("15000.00")
    form.get_by_label("Justification (override)").fill("Only part of the order is affected.")
    form.get_by_role("button", name="Propose a determination").click()
    banner = page.get_by_role("region", name="Pending approval")
    expect(banner).to_be_visible()
    expect(banner.get_by_role("button")).to_have_count(0)  # four eyes: no Approve, no Decline
    expect(banner).to_contain_text(
        "You cannot approve or decline: The proposer may not approve or decline their own proposal."
    )
    assert_accessible(page, "the proposer's approval banner")
    log_out(page)
    log_in(page, server, "kim")
    page.get_by_role("link", name="Pending approval").click()
    page.get_by_role("row").filter(has_text="PO-J2").get_by_role("link").click()
    approve = page.get_by_role("region", name="Pending approval").get_by_role(
        "button", name="Approve"
    )
    expect(approve).to_be_enabled()
    assert_accessible(page, "the approver's banner")
    approve.click()
    expect(page.locator(".badge.status")).to_have_text("refund / pending")
    clock = page.locator(".clock").filter(has_text="refund initiation due")
    expect(clock).to_contain_text("pending")
    expect(clock.locator(".countdown")).to_be_visible()
    expect(clock.locator("time")).to_contain_text("+08:00")
    assert_accessible(page, "the determined claim")
    screenshot(page, "claim")


def test_journey_4_opened_it_is_in_the_queue(
    page: Page, server: LiveServer, tmp_path: Path
) -> None:
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(make_case(order_id="PO-J4")))
    log_in(page, server, "sam")
    page.get_by_role("link", name="New claim").click()
    page.get_by_label("Case document (JSON)").set_input_files(str(case_file))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_text("Preview only: nothing has been stored.")).to_be_visible()
    page.get_by_role("button", name="Open claim").click()
    expect(page.get_by_role("heading", name="Claim", level=1)).to_contain_text("PO-J4")
    expect(page.get_by_text("is open.")).to_be_visible()
    assert_accessible(page, "the opened claim")
    page.get_by_role("link", name="Queue").click()
    page.get_by_role("link", name="Waiting on parties").click()
    expect(page.get_by_role("row").filter(has_text="PO-J4")).to_contain_text("supplier")
    assert_accessible(page, "the waiting-on-parties tab")


def test_journey_6_four_eyes_with_the_keyboard_only(page: Page, server: LiveServer) -> None:
    escalated_claim(server, make_case(order_id="PO-J6"))
    page.goto(f"{server.url}/console/login")
    tab_to(page, "#username")
    page.keyboard.type("sam")
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Queue", level=1)).to_be_visible()
    tab_to(page, "a[id^='claim-']")
    expect(page.locator(":focus")).to_have_text(page.get_by_role("row").filter(has_text="PO-J6")
                                                .get_by_role("link").inner_text())  # fmt: skip
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Claim", level=1)).to_contain_text("PO-J6")
    tab_to(page, "#kind-confirm")
    page.keyboard.press("ArrowRight")  # the radio group: Override
    expect(page.locator("#kind-override")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.locator("#outcome")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#outcome")).to_have_value("upheld_partial")
    page.keyboard.press("Tab")
    page.keyboard.type("12000.00")
    page.keyboard.press("Tab")
    expect(page.locator("#p-fee")).to_be_focused()  # the fee: left empty (the decision's own)
    page.keyboard.press("Tab")
    page.keyboard.type("Agreed on the evidence in the file.")
    tab_to(page, "button[value='propose']")
    page.keyboard.press("Enter")
    banner = page.get_by_role("region", name="Pending approval")
    expect(banner).to_contain_text("You cannot approve")
    assert_accessible(page, "the proposer's banner (keyboard)")
    tab_to(page, "button.link-button")  # Log out
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    tab_to(page, "#username")
    page.keyboard.type("kim")
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Queue", level=1)).to_be_visible()
    tab_to(page, "a[id^='claim-']")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Claim", level=1)).to_contain_text("PO-J6")
    tab_to(page, "button[value='approve']")
    page.keyboard.press("Enter")
    expect(page.locator(".badge.status")).to_have_text("refund / pending")
    expect(page.locator(".clock").filter(has_text="refund initiation due")).to_contain_text(
        "pending"
    )
    assert_accessible(page, "the determined claim (keyboard)")


def test_journey_2_a_settlement_approved_by_a_colleague_then_refunded(
    page: Page, server: LiveServer
) -> None:
    escalated_claim(server, make_case(order_id="PO-J2S"))
    log_in(page, server, "sam")
    page.get_by_role("row").filter(has_text="PO-J2S").get_by_role("link").click()
    form = page.locator("form", has=page.get_by_role("heading", name="Propose a settlement"))
    form.get_by_label("Agreed refund").fill("7500.00")
    form.get_by_label("Terms").fill("Both parties signed on 3 May: 7,500.00 for the short lot.")
    form.get_by_role("button", name="Propose a settlement").click()
    expect(page.get_by_role("status").filter(has_text="Settlement proposed")).to_be_focused()
    banner = page.get_by_role("region", name="Pending approval")
    expect(banner.locator("div:has(dt:text-is('Kind')) dd")).to_have_text("Settlement")
    expect(banner.locator("div:has(dt:text-is('Refund')) dd")).to_have_text("7500.00 USD")
    expect(banner.locator("div:has(dt:text-is('Proposed by')) dd")).to_have_text("sam")
    expect(banner.get_by_role("button")).to_have_count(0)  # the proposer cannot approve
    expect(banner).to_contain_text("You cannot approve or decline")
    assert_accessible(page, "the proposer's settlement")
    log_out(page)

    log_in(page, server, "kim")
    page.get_by_role("link", name="Pending approval").click()
    page.get_by_role("row").filter(has_text="PO-J2S").get_by_role("link").click()
    banner = page.get_by_role("region", name="Pending approval")
    expect(banner.get_by_role("button", name="Decline")).to_be_enabled()
    assert_accessible(page, "the colleague's settlement to review")
    banner.get_by_role("button", name="Approve").click()
    expect(page.locator(".badge.status")).to_have_text("refund / pending")
    expect(page.locator("dl.figures div:has(dt:text-is('Settlement')) dd")).to_have_text(
        "7500.00 USD, proposed by sam, approved by kim"
    )
    ledger = page.get_by_role("region", name="Order ledger")
    expect(ledger.locator("div:has(dt:text-is('Held')) dd")).to_have_text("7500.00 USD")
    expect(ledger.locator("div:has(dt:text-is('Remaining')) dd")).to_have_text("12500.00 USD")
    expect(ledger.get_by_role("row").filter(has_text="(this claim)")).to_contain_text("hold")
    assert_accessible(page, "the approved settlement and the order's ledger")

    page.get_by_role("link", name="Queue").click()
    page.get_by_role("link", name="Refunds").click()
    owed = page.get_by_role("region", name="Total owed")
    expect(owed.locator("dd")).to_have_text("7500.00 USD")
    expect(page.get_by_role("row").filter(has_text="PO-J2S")).to_contain_text("refund / pending")
    assert_accessible(page, "the Refunds tab")
    page.get_by_role("row").filter(has_text="PO-J2S").get_by_role("link").click()

    form = page.locator("form", has=page.get_by_role("heading", name="Refund initiated"))
    form.get_by_label("Payout reference").fill("PAY-2024-0042")
    form.get_by_role("button", name="Refund initiated").click()
    confirm = page.get_by_role("region", name="Confirm: refund initiated")
    expect(confirm.get_by_role("heading")).to_be_focused()
    expect(confirm).to_contain_text("7500.00 USD")
    expect(confirm).to_contain_text("PAY-2024-0042")
    expect(page.locator(".badge.status")).to_have_text("refund / pending")  # nothing done yet
    assert_accessible(page, "the refund-initiated confirmation")
    page.keyboard.press("Tab")  # the keyboard confirms
    yes = confirm.get_by_role("button", name="Yes, refund initiated: 7500.00 USD")
    expect(yes).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".badge.status")).to_have_text("refund / initiated")
    expect(page.locator("dl.figures div:has(dt:text-is('Refund')) dd").first).to_contain_text(
        "PAY-2024-0042"
    )
    assert_accessible(page, "the refund initiated")

    form = page.locator("form", has=page.get_by_role("heading", name="Refund completed"))
    form.get_by_role("button", name="Refund completed").click()
    confirm = page.get_by_role("region", name="Confirm: refund completed")
    expect(confirm).to_contain_text("7500.00 USD")
    expect(confirm).to_contain_text("PAY-2024-0042")
    assert_accessible(page, "the refund-completed confirmation")
    confirm.get_by_role("button", name="Yes, refund completed: 7500.00 USD").click()
    expect(page.locator(".badge.status")).to_have_text("closed / refunded")
    ledger = page.get_by_role("region", name="Order ledger")
    expect(ledger.locator("div:has(dt:text-is('Paid')) dd")).to_have_text("7500.00 USD")
    expect(ledger.locator("div:has(dt:text-is('Held')) dd")).to_have_text("0.00 USD")
    expect(ledger.get_by_role("row").filter(has_text="payout")).to_contain_text("7500.00")
    assert_accessible(page, "the refunded claim")


def test_the_refund_confirmation_works_without_javascript(
    browser: Browser, server: LiveServer
) -> None:
    ref, _ = escalated_claim(server, make_case(order_id="PO-NOJS"))
    people = {u.name: user_actor(u) for u in list_users(server.store)}
    decider = server.app.extensions["adjudicator"].decider
    with server.app.app_context():
        act(server.store, decider, ref, "settle",
            {"refund": {"amount": "300.00"}, "terms": "signed"}, people["sam"])  # fmt: skip
        proposal = get_claim(server.store, ref, Viewer(None, "staff")).state.proposal
        assert proposal is not None
        act(server.store, decider, ref, "approve", {"proposal_id": proposal["proposal_id"]},
            people["kim"])  # fmt: skip
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, server, "sam")
        page.goto(f"{server.url}/console/claims/{ref}")
        form = page.locator("form", has=page.get_by_role("heading", name="Refund initiated"))
        form.get_by_label("Payout reference").fill("PAY-NOJS")
        form.get_by_role("button", name="Refund initiated").click()
        confirm = page.get_by_role("region", name="Confirm: refund initiated")
        expect(confirm).to_contain_text("300.00 USD")
        expect(page.locator(".badge.status")).to_have_text("refund / pending")
        confirm.get_by_role("button", name="Yes, refund initiated: 300.00 USD").click()
        expect(page.locator(".badge.status")).to_have_text("refund / initiated")
        expect(page.get_by_text("Refund marked as initiated.")).to_be_visible()
        assert page.url == f"{server.url}/console/claims/{ref}"  # the server redirected
    finally:
        context.close()
