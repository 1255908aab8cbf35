"""Each console action calls the same service function as its API twin (no logic of its own).

For every pair the function the console view calls is the very object the
API's view calls, and a spy put in both places sees both requests, with the
same store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from consolekit import csrf_token, login, store
from flask import Flask
from flask.testing import FlaskClient
from servicekit import auth, make_case

import api.blueprints.audit as api_audit
import api.blueprints.decisions as api_decisions
import api.console.views as console_views
from adjudicator.db.actor import Actor
from adjudicator.identity.keys import create_key
from api.console.caseform import form_from_case

OPERATOR = Actor(key_id=None, name="cli:test", role="admin")


def _spy(monkeypatch: pytest.MonkeyPatch, name: str, *modules: Any) -> list[tuple[Any, ...]]:
    """Replace ``name`` in each module by one wrapper of the shared original; return its calls."""
    original: Callable[..., Any] = getattr(modules[0], name)
    for module in modules[1:]:
        assert getattr(module, name) is original, f"{module.__name__}.{name} is another function"
    calls: list[tuple[Any, ...]] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(*args, **kwargs)

    for module in modules:
        monkeypatch.setattr(module, name, spy)
    return calls


def test_verify_is_verify_audit(
    app: Flask, client: FlaskClient, users, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _spy(monkeypatch, "verify_audit", api_audit, console_views)
    key = create_key(store(app), role="auditor", name="a", actor=OPERATOR)[1]
    assert client.get("/v1/audit/verify", headers=auth(key)).status_code == 200
    login(client, "auditor")
    assert client.get("/console/audit/verify").status_code == 200
    assert len(calls) == 2 and calls[0][0] is calls[1][0] is store(app)


def test_the_decision_page_is_get_decision(
    app: Flask, client: FlaskClient, users, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = create_key(store(app), role="staff", name="s", actor=OPERATOR)[1]
    made = client.post("/v1/decisions", json=make_case(), headers=auth(key)).get_json()
    calls = _spy(monkeypatch, "get_decision", api_decisions, console_views)
    assert client.get(f"/v1/decisions/{made['decision_id']}", headers=auth(key)).status_code == 200
    login(client, "staff")
    assert client.get(f"/console/decisions/{made['decision_id']}").status_code == 200
    assert [call[1] for call in calls] == [made["decision_id"]] * 2


def test_the_preview_decides_with_the_deciders_of_post_decisions(
    app: Flask, adjudicator, client: FlaskClient, users, monkeypatch: pytest.MonkeyPatch
) -> None:
    decided: list[dict[str, Any]] = []
    original = adjudicator.decide

    def spy(case: Any, *args: Any, **kwargs: Any) -> Any:
        decided.append(case)
        return original(case, *args, **kwargs)

    monkeypatch.setattr(adjudicator, "decide", spy)
    key = create_key(store(app), role="staff", name="s", actor=OPERATOR)[1]
    case = make_case(order_id="PO-TWIN")
    assert client.post("/v1/decisions", json=case, headers=auth(key)).status_code == 201
    login(client, "staff")
    values, counts = form_from_case(case)
    form = {**values, **{f"rows.{k}": str(n) for k, n in counts.items()}, "action": "preview"}
    form["csrf_token"] = csrf_token(client, "/console/claims/new")
    assert client.post("/console/claims/new", data=form).status_code == 200
    assert [c["order"]["order_id"] for c in decided] == ["PO-TWIN", "PO-TWIN"]
    assert decided[1]["claim"] == decided[0]["claim"]


def test_claim_pages_and_actions_are_the_claims_service(
    app: Flask, client: FlaskClient, users, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The claims API (api.blueprints.claims) and the console call the very same functions
    # of adjudicator.claims.service, and each console page or action calls one.
    import adjudicator.claims.service as service
    import api.blueprints.claims as api_claims
    import api.console.claims as console_claims

    calls = {
        name: _spy(monkeypatch, name, service, api_claims, console_claims)
        for name in ("open_claim", "act", "get_claim", "list_claims", "claim_events")
    }
    login(client, "staff")
    values, counts = form_from_case(make_case(order_id="PO-TWIN-C"))
    form = {**values, **{f"rows.{k}": str(n) for k, n in counts.items()}, "action": "open"}
    form["csrf_token"] = csrf_token(client, "/console/claims/new")
    opened = client.post("/console/claims/new", data=form)
    ref = opened.headers["Location"].rsplit("/", 1)[1]
    client.get("/console/?tab=waiting")
    note = {
        "action": "note",
        "text": "n",
        "csrf_token": csrf_token(client, f"/console/claims/{ref}"),
    }
    client.post(f"/console/claims/{ref}/act", data=note)
    assert len(calls["open_claim"]) == 1 and calls["open_claim"][0][0] is store(app)
    assert [c[2:4] for c in calls["act"]] == [(ref, "note")]
    assert calls["list_claims"] and calls["get_claim"] and calls["claim_events"]
    key = create_key(store(app), role="staff", name="s", actor=OPERATOR)[1]
    api_note = {"text": "from the API"}
    noted = client.post(f"/v1/claims/{ref}/note", json=api_note, headers=auth(key))
    assert noted.status_code == 200
    assert client.get(f"/v1/claims/{ref}", headers=auth(key)).status_code == 200
    assert [c[2:4] for c in calls["act"]] == [(ref, "note"), (ref, "note")]
    assert len(calls["get_claim"]) >= 2


def test_the_export_and_checkpoints_are_the_apis(
    app: Flask, client: FlaskClient, users, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = _spy(monkeypatch, "iter_entries", api_audit, console_views)
    listed = _spy(monkeypatch, "list_checkpoints", api_audit, console_views)
    key = create_key(store(app), role="auditor", name="a", actor=OPERATOR)[1]
    client.get("/v1/audit/export", headers=auth(key)).get_data()
    client.get("/v1/audit/checkpoints", headers=auth(key))
    login(client, "auditor")
    client.get("/console/audit/export").get_data()
    client.get("/console/audit")
    assert len(entries) == 2 and len(listed) == 2
