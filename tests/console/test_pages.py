"""The console's pages: decision card, audit verification, rules, the new-claim form."""

from __future__ import annotations

import io
import re

import orjson
from consolekit import csrf_token, login, store
from flask import Flask
from flask.testing import FlaskClient
from servicekit import auth, make_case
from sqlalchemy import func, select, update

from adjudicator import load_catalog
from adjudicator.audit.log import list_audit
from adjudicator.audit.models import AuditEntryRow
from adjudicator.db.actor import Actor
from adjudicator.decisions.models import DecisionRow
from adjudicator.decisions.queries import get_decision
from adjudicator.decisions.service import create_decision
from adjudicator.identity.keys import create_key
from api.console.caseform import form_from_case

SYSTEM = Actor(key_id=None, name="cli:test", role="admin")


def _decide(app: Flask) -> str:
    with app.app_context():
        stored, _ = create_decision(
            store(app), app.extensions["adjudicator"].decider, make_case(), actor=SYSTEM
        )
    return stored.decision_id


def _field_error(page: str, path: str) -> str | None:
    found = re.search(rf'id="e-f-{re.escape(path.replace(".", "-"))}">([^<]*)<', page)
    return None if found is None else found.group(1)


def _decisions(app: Flask) -> int:
    with store(app).db.read() as session:
        return int(session.execute(select(func.count()).select_from(DecisionRow)).scalar_one())


def test_the_decision_page_shows_the_card(app: Flask, staff: FlaskClient) -> None:
    decision_id = _decide(app)
    page = staff.get(f"/console/decisions/{decision_id}").get_data(as_text=True)
    assert "Upheld in full" in page and "20000.00 USD" in page
    binding = re.search(r'<tr class="binding">\s*<th scope="row">([^<]+)<', page)
    assert binding is not None and binding.group(1).strip() == "Loss"
    assert "had not wholly shipped by the agreed date 2024-04-15" in page  # a reason sentence
    steps = re.findall(r'<span class="mono rule-id">([^<]+)</span> ([^<]*)</p>', page)
    trace = get_decision(store(app), decision_id).document["trace"]
    assert [rule for rule, _ in steps] == [step["rule"] for step in trace]  # in order
    assert all(title.strip() for _, title in steps)  # each with its title
    assert "<code>=> " not in page and "<code>cap = 20000.00</code>" in page  # set figures
    assert "<code>ship_by = 2024-04-15</code>" in page  # facts read
    assert "sha256:" in page and load_catalog().active_version in page
    assert "Case document (JSON)" in page and "&#34;order_id&#34;" in page


def test_an_unknown_decision_is_a_404_page(staff: FlaskClient) -> None:
    response = staff.get("/console/decisions/no-such-id")
    assert response.status_code == 404
    assert "There is no decision" in response.get_data(as_text=True)


def test_the_auditor_verifies_the_chain_and_sees_the_first_bad_entry(
    app: Flask, client: FlaskClient, users
) -> None:
    _decide(app)
    login(client, "auditor")
    page = client.get("/console/audit/verify").get_data(as_text=True)
    assert "The chain holds." in page and "<html" in page
    with store(app).db.write() as session:
        session.execute(update(AuditEntryRow).where(AuditEntryRow.seq == 2).values(subject="x"))
    piece = client.get("/console/audit/verify", headers={"HX-Request": "true"})
    text = piece.get_data(as_text=True)
    assert "<html" not in text  # htmx gets the partial only
    assert "The chain is broken at entry 2" in text and "changed" in text


def test_the_rules_page_lists_versions_rules_and_parameters(staff: FlaskClient) -> None:
    page = staff.get("/console/rules").get_data(as_text=True)
    assert "trade_assurance 2024.1" in page and "active" in page and "sha256:" in page
    assert ">SHIPX-01a<" in page and ">receipt_window_days<" in page


def test_a_bad_field_shows_the_contracts_message_at_the_field(
    app: Flask, staff: FlaskClient
) -> None:
    values, counts = form_from_case(make_case())
    form = {**values, **{f"rows.{k}": str(n) for k, n in counts.items()}}
    form.update({"order.lines.0.quantity": "0", "claim.filed_at": "yesterday"})
    form.update({"csrf_token": csrf_token(staff, "/console/claims/new"), "action": "preview"})
    response = staff.post("/console/claims/new", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _field_error(page, "order.lines.0.quantity") == "Must be at least 1."
    assert "e.g. 2024-04-16T01:30:00+08:00" in (_field_error(page, "claim.filed_at") or "")
    assert 'id="f-order-lines-0-quantity" name="order.lines.0.quantity" value="0"' in page
    assert "Preview only" not in page


def test_the_preview_shows_the_card_and_stores_nothing(app: Flask, staff: FlaskClient) -> None:
    values, counts = form_from_case(make_case())
    form = {**values, **{f"rows.{k}": str(n) for k, n in counts.items()}}
    form.update({"csrf_token": csrf_token(staff, "/console/claims/new"), "action": "preview"})
    before = len(list_audit(store(app), limit=200).items)
    response = staff.post("/console/claims/new", data=form, headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in page
    assert "Preview only: nothing has been stored." in page and "Upheld in full" in page
    assert _decisions(app) == 0 and len(list_audit(store(app), limit=200).items) == before


def test_an_uploaded_case_is_previewed_and_fills_the_form(staff: FlaskClient) -> None:
    case = make_case(order_id="PO-UP-1")
    token = csrf_token(staff, "/console/claims/new")
    upload = (io.BytesIO(orjson.dumps({"case": case})), "case.json")
    form = {"csrf_token": token, "action": "upload", "case_file": upload}
    page = staff.post("/console/claims/new", data=form).get_data(as_text=True)
    assert "Upheld in full" in page
    assert 'name="order.order_id" value="PO-UP-1"' in page
    junk = {"csrf_token": token, "action": "upload", "case_file": (io.BytesIO(b"{no"), "x.json")}
    refused = staff.post("/console/claims/new", data=junk)
    assert refused.status_code == 422
    assert _field_error(refused.get_data(as_text=True), "case_file") == "This file is not JSON."


def test_add_a_row_without_javascript(staff: FlaskClient) -> None:
    token = csrf_token(staff, "/console/claims/new")
    form = {"csrf_token": token, "action": "add:payments", "rows.payments": "2"}
    page = staff.post("/console/claims/new", data=form).get_data(as_text=True)
    assert 'name="payments.2.amount"' in page and 'name="payments.3.amount"' not in page
    assert "The case has" not in page  # adding a row is not a preview


def test_the_api_twin_reads_the_same_decision(app: Flask, staff: FlaskClient) -> None:
    decision_id = _decide(app)
    key = create_key(store(app), role="auditor", name="a", actor=SYSTEM)[1]
    api = staff.get(f"/v1/decisions/{decision_id}", headers=auth(key)).get_json()
    page = staff.get(f"/console/decisions/{decision_id}").get_data(as_text=True)
    assert api["outcome"] == "upheld_full" and api["ruleset"]["digest"] in page


def test_the_audit_page_lists_checkpoints_and_exports_the_log(
    app: Flask, client: FlaskClient, users, tmp_path
) -> None:
    from adjudicator.audit.checkpoints import make_checkpoint
    from adjudicator.audit.signing import Signer, load_or_create_key

    _decide(app)
    signer = Signer("adjudicator.test/audit", load_or_create_key(tmp_path / "k.pem"))
    made = make_checkpoint(store(app), signer)
    login(client, "auditor")
    page = client.get("/console/audit").get_data(as_text=True)
    assert made.root_hash in page and signer.verifier.encode() in page
    exported = client.get("/console/audit/export?format=ndjson")
    assert exported.headers["Content-Type"] == "application/x-ndjson"
    lines = [orjson.loads(line) for line in exported.get_data(as_text=True).splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, len(lines) + 1))
    assert any(e["action"] == "decision.created" for e in lines)
    csv_export = client.get("/console/audit/export?format=csv")
    assert csv_export.headers["Content-Disposition"].endswith('.csv"')
    assert csv_export.get_data(as_text=True).count("\n") == len(lines) + 1


def test_the_rules_page_lists_the_impact_reports(
    app: Flask, adjudicator, staff: FlaskClient
) -> None:
    from adjudicator.governance.replays import ReplaySpec, create_replay

    empty = staff.get("/console/rules").get_data(as_text=True)
    assert "No candidate version has been replayed yet" in empty
    version = adjudicator.catalog.active.version
    create_replay(store(app), adjudicator, ReplaySpec(candidate=version), active=version,
                  actor=SYSTEM)  # fmt: skip
    page = staff.get("/console/rules").get_data(as_text=True)
    assert "Impact reports of candidate versions" in page
    assert "<td>queued</td>" in page and "cli:test" in page
