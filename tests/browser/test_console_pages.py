"""The console in Chromium: login, the pages that need no claim, journeys 4 and 5 (so far).

Each test asserts what a person sees, and runs axe-core on every page and
state it reaches.
"""

from __future__ import annotations

import json
from pathlib import Path

from browserkit import (
    OPERATOR,
    LiveServer,
    Screenshots,
    assert_accessible,
    log_in,
    log_out,
)
from playwright.sync_api import Browser, Page, expect
from servicekit import make_case

from adjudicator import load_catalog
from adjudicator.decisions.service import create_decision


def _decide(server: LiveServer) -> str:
    with server.app.app_context():
        stored, _ = create_decision(
            server.store, server.app.extensions["adjudicator"].decider, make_case(), actor=OPERATOR
        )
    return stored.decision_id


def test_login_refusal_and_lockout_are_said_on_the_page(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/console/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert_accessible(page, "the login page")
    for _ in range(4):
        page.get_by_label("Name").fill("sam")
        page.get_by_label("Password").fill("not my password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_have_text("The name or the password is not right.")
    assert_accessible(page, "a refused login")
    page.get_by_label("Name").fill("sam")
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("This account is locked after five failed")
    expect(page.get_by_role("alert")).to_contain_text("+08:00")  # the viewer's zone, with offset
    assert_accessible(page, "a locked account")


def test_the_decision_page_shows_the_card(page: Page, server: LiveServer) -> None:
    decision_id = _decide(server)
    log_in(page, server, "sam")
    expect(page.get_by_role("heading", name="Queue", level=1)).to_be_visible()
    assert_accessible(page, "the empty queue")
    page.goto(f"{server.url}/console/decisions/{decision_id}")
    expect(page.get_by_role("heading", name="Upheld in full")).to_be_visible()
    binding = page.locator("tr.binding")
    expect(binding).to_contain_text("Loss")
    expect(binding).to_contain_text("binding")
    reasons = page.locator(".reasons")
    expect(reasons).to_contain_text("had not wholly shipped by the agreed date 2024-04-15")
    expect(page.locator(".steps > li").first).to_be_visible()
    page.locator("summary", has_text="Decision document (JSON)").click()
    expect(page.get_by_label("Decision document")).to_contain_text('"outcome": "upheld_full"')
    assert_accessible(page, "the decision page")


def test_the_rules_page(page: Page, server: LiveServer) -> None:
    log_in(page, server, "sam")
    page.get_by_role("link", name="Rules").click()
    active = load_catalog().active_version
    expect(page.get_by_role("heading", name=f"trade_assurance {active} active")).to_be_visible()
    expect(page.get_by_role("cell", name="SHIPX-01a", exact=True)).to_be_visible()
    page.locator("summary", has_text=f"Parameters of {active}").click()
    expect(page.get_by_role("cell", name="receipt_window_days")).to_be_visible()
    assert_accessible(page, "the rules page")


def test_journey_5_an_auditor_verifies_the_chain(page: Page, server: LiveServer) -> None:
    _decide(server)
    log_in(page, server, "avery")
    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit", level=1)).to_be_visible()
    assert_accessible(page, "the audit page")
    page.get_by_role("button", name="Verify the chain").click()
    result = page.locator("#verify-result .result")
    expect(result).to_contain_text("The chain holds.")
    expect(result).to_be_focused()  # the swapped result takes the focus (and is announced)
    assert page.url.endswith("/console/audit")  # htmx swapped it in place
    assert_accessible(page, "the verification result")
    with page.expect_download() as download:
        page.get_by_role("link", name="download NDJSON").click()
    lines = Path(download.value.path()).read_text().splitlines()
    actions = [json.loads(line)["action"] for line in lines]
    assert actions.count("decision.created") == 1 and actions[-1] == "user.login"
    assert download.value.suggested_filename == "audit-1-head.ndjson"
    log_out(page)
    expect(page.get_by_text("You are logged out.")).to_be_visible()


def test_journey_4_the_new_claim_form_field_errors_and_preview(
    page: Page, server: LiveServer, tmp_path: Path, screenshot: Screenshots
) -> None:
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(make_case(order_id="PO-4004")))
    log_in(page, server, "sam")
    page.get_by_role("link", name="New claim").click()
    expect(page.get_by_role("heading", name="New claim")).to_be_visible()
    assert_accessible(page, "the empty new-claim form")
    page.get_by_label("Case document (JSON)").set_input_files(str(case_file))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_label("Order id")).to_have_value("PO-4004")
    quantity = page.locator("#f-order-lines-0-quantity")
    quantity.fill("0")
    page.get_by_role("button", name="Preview decision").last.click()
    error = page.locator("#e-f-order-lines-0-quantity")
    expect(error).to_have_text("Must be at least 1.")
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_be_focused()
    assert_accessible(page, "the new-claim form with a field error")
    screenshot(page, "new-claim")
    quantity.fill("10000")
    page.get_by_role("button", name="Preview decision").last.click()
    expect(page.get_by_text("Preview only: nothing has been stored.")).to_be_visible()
    expect(page.get_by_role("heading", name="Upheld in full")).to_be_focused()
    assert_accessible(page, "the new-claim preview")


def test_without_javascript_the_forms_still_work(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, server, "sam")
        page.goto(f"{server.url}/console/claims/new")
        page.get_by_role("button", name="Add a payment").click()
        expect(page.get_by_role("group", name="Payment 3")).to_be_visible()
        page.get_by_role("button", name="Preview decision").last.click()
        expect(page.get_by_role("heading", name="The case has", exact=False)).to_be_visible()
        expect(page.locator("#e-f-order-order_id")).to_be_visible()
        log_out(page)
        log_in(page, server, "avery")
        page.get_by_role("link", name="Audit").click()
        page.get_by_role("button", name="Verify the chain").click()
        expect(page.get_by_text("The chain holds.")).to_be_visible()
        assert "/console/audit/verify" in page.url  # a full page, served by the form's GET
    finally:
        context.close()
