"""``/v1/claims`` over HTTP: the lifecycle, its refusals as problem+json, roles and views."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from claimkit import FILED, MovableClock, filed_case  # noqa: E402
from servicekit import KEY_SECRET, ROLES, auth, reset  # noqa: E402

from adjudicator import Adjudicator  # noqa: E402
from adjudicator.db.actor import Actor
from adjudicator.identity.keys import create_key  # noqa: E402
from adjudicator.identity.users import create_user  # noqa: E402
from api import create_app  # noqa: E402

OPERATOR = Actor(key_id=None, name="cli:test", role="admin")


@pytest.fixture(scope="module")
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(scope="module")
def claims_app(
    adjudicator: Adjudicator, clock: MovableClock, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path_factory.mktemp('claims') / 'api.db'}"
    app = create_app(
        {"DATABASE_URL": url, "KEY_SECRET": KEY_SECRET, "ADJUDICATOR": adjudicator, "CLOCK": clock}
    )
    app.extensions["adjudicator"].store.db.migrate()
    yield app
    app.extensions["adjudicator"].store.close()


@pytest.fixture
def http(claims_app: Flask, clock: MovableClock) -> FlaskClient:
    clock.set(FILED + timedelta(hours=1))
    return claims_app.test_client()


@pytest.fixture
def keys(claims_app: Flask) -> dict[str, str]:
    store = claims_app.extensions["adjudicator"].store
    reset(store)
    for name in ("ada", "bo"):
        create_user(store, name=name, role="staff", password="a long password", actor=OPERATOR)
    made = {
        role: create_key(store, role=role, name=f"{role}-key", actor=OPERATOR)[1] for role in ROLES
    }
    made["staff"] = create_key(store, role="staff", name="ada's", actor=OPERATOR, user="ada")[1]
    made["staff2"] = create_key(store, role="staff", name="bo's", actor=OPERATOR, user="bo")[1]
    made["unbound"] = create_key(store, role="staff", name="old staff key", actor=OPERATOR)[1]
    made["system2"] = create_key(store, role="system", name="other", actor=OPERATOR)[1]
    return made


def post(http: FlaskClient, key: str, path: str, body: dict[str, Any], **headers: str) -> Any:
    return http.post(path, json=body, headers={**auth(key), **headers})


def file_claim(http: FlaskClient, keys: dict[str, str], **kwargs: Any) -> dict[str, Any]:
    response = post(http, keys["system"], "/v1/claims", filed_case(**kwargs))
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    assert response.headers["Location"] == f"/v1/claims/{body['claim_ref']}"
    return body


def test_a_negotiated_refund_from_filing_to_payout(http: FlaskClient, keys: dict[str, str]) -> None:
    claim = file_claim(http, keys)
    ref = claim["claim_ref"]
    assert claim["revision"] == 1 and claim["case"]["claim"]["claim_id"]
    actions = {(a["action"], a["as"]): a for a in claim["available_actions"]}
    assert actions[("respond", "supplier")]["allowed"] is True
    assert actions[("escalate", "buyer")]["allowed"] is False
    assert "2024-04-23T10:00:00Z" in actions[("escalate", "buyer")]["reason"]

    unnamed = post(http, keys["system"], f"/v1/claims/{ref}/respond", {"kind": "replace"})
    assert unnamed.status_code == 403  # a system names the party it acts for
    too_much = post(
        http,
        keys["system"],
        f"/v1/claims/{ref}/respond",
        {"as": "supplier", "kind": "refund", "refund": {"amount": "20000.01"}},
    )
    assert too_much.status_code == 422 and "refund.amount" in too_much.get_json()["errors"]
    offer = {"as": "supplier", "kind": "refund", "refund": {"amount": "12000.00"}}
    answered = post(http, keys["system"], f"/v1/claims/{ref}/respond", offer)
    assert answered.status_code == 200 and answered.get_json()["status"] == "awaiting_buyer"
    accepted = post(http, keys["system"], f"/v1/claims/{ref}/accept", {"as": "buyer"})
    body = accepted.get_json()
    assert (body["stage"], body["status"], body["refund"]["amount"]) == (
        "refund",
        "pending",
        "12000.00",
    )
    assert {c["name"]: c["state"] for c in body["clocks"]}["refund_initiation_due"] == "pending"
    post(http, keys["system"], f"/v1/claims/{ref}/refund_initiated", {"payout_reference": "P-1"})
    done = post(http, keys["system"], f"/v1/claims/{ref}/refund_completed", {})
    assert done.get_json()["status"] == "refunded" and done.get_json()["stage"] == "closed"

    refused = post(http, keys["system"], f"/v1/claims/{ref}/withdraw", {"as": "buyer"})
    problem = refused.get_json()
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert problem["type"] == "urn:adjudicator:problem:invalid-transition"
    assert problem["allowed"] == []  # closed: only staff notes, and a system takes none
    staff_view = http.get(f"/v1/claims/{ref}", headers=auth(keys["staff"])).get_json()
    assert [a["action"] for a in staff_view["available_actions"]] == ["note"]


def test_platform_review_four_eyes_and_the_decision_behind_it(
    http: FlaskClient, keys: dict[str, str], clock: MovableClock
) -> None:
    ref = file_claim(http, keys)["claim_ref"]
    clock.move(timedelta(hours=73))
    escalated = post(http, keys["system"], f"/v1/claims/{ref}/escalate", {"as": "buyer"})
    assert escalated.get_json()["status"] == "awaiting_staff"
    override = {
        "kind": "override",
        "outcome": "upheld_partial",
        "refund": {"amount": "9000.00"},
        "justification": "half the goods arrived",
    }
    no_reason = post(http, keys["staff"], f"/v1/claims/{ref}/propose", {"kind": "override"})
    assert no_reason.status_code == 422 and "justification" in no_reason.get_json()["errors"]
    proposed = post(http, keys["staff"], f"/v1/claims/{ref}/propose", override)
    assert proposed.get_json()["status"] == "pending_approval"
    reviewed = {"proposal_id": proposed.get_json()["proposal"]["proposal_id"]}

    def approve_offered(key: str) -> bool:
        claim = http.get(f"/v1/claims/{ref}", headers=auth(keys[key])).get_json()
        return any(a["action"] == "approve" and a["allowed"] for a in claim["available_actions"])

    # judged per person: the proposer is not offered approve, a colleague is
    assert not approve_offered("staff") and approve_offered("staff2")
    assert not approve_offered("unbound")  # a key bound to nobody is nobody's eyes
    own = post(http, keys["staff"], f"/v1/claims/{ref}/approve", reviewed)
    assert own.status_code == 403
    approved = post(http, keys["staff2"], f"/v1/claims/{ref}/approve", reviewed).get_json()
    assert approved["status"] == "pending" and approved["determination"]["kind"] == "override"
    decision = http.get(
        f"/v1/decisions/{approved['determination']['decision_id']}", headers=auth(keys["auditor"])
    ).get_json()
    assert decision["outcome"] == "upheld_partial"
    assert decision["overrides"] == approved["recommendation"]["decision_id"]


def test_invalid_evidence_is_a_422_with_paths_and_stores_nothing(
    http: FlaskClient, keys: dict[str, str]
) -> None:
    ref = file_claim(http, keys)["claim_ref"]
    bad = {"as": "buyer", "payments": [{"payment_id": "P9", "amount": "x"}]}
    response = post(http, keys["system"], f"/v1/claims/{ref}/submit_evidence", bad)
    assert response.status_code == 422
    assert response.get_json()["type"] == "urn:adjudicator:problem:invalid-case"
    assert "payments.2.amount" in response.get_json()["errors"]
    events = http.get(f"/v1/claims/{ref}/events", headers=auth(keys["system"])).get_json()
    assert [e["type"] for e in events["items"]] == ["claim.opened"]
    good = {"as": "buyer", "payments": [{"payment_id": "P2", "amount": "13000.00"}]}
    revised = post(http, keys["system"], f"/v1/claims/{ref}/submit_evidence", good).get_json()
    assert revised["revision"] == 2 and revised["recommendation"]["cap"] == "19000.00"
    full = http.get(f"/v1/claims/{ref}", headers=auth(keys["staff"])).get_json()
    assert [r["revision"] for r in full["revisions"]] == [1, 2]
    assert full["case"]["payments"][1]["amount"] == "13000.00"


def test_roles_views_and_idempotent_actions(http: FlaskClient, keys: dict[str, str]) -> None:
    ref = file_claim(http, keys, order_id="PO-X")["claim_ref"]
    note = {"text": "supplier called"}
    first = post(http, keys["staff"], f"/v1/claims/{ref}/note", note, **{"Idempotency-Key": "n"})
    again = post(http, keys["staff"], f"/v1/claims/{ref}/note", note, **{"Idempotency-Key": "n"})
    other = post(
        http, keys["staff"], f"/v1/claims/{ref}/note", {"text": "x"}, **{"Idempotency-Key": "n"}
    )
    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 409)
    staff_events = http.get(f"/v1/claims/{ref}/events", headers=auth(keys["staff"])).get_json()
    system_events = http.get(f"/v1/claims/{ref}/events", headers=auth(keys["system"])).get_json()
    assert [e["type"] for e in staff_events["items"]] == ["claim.opened", "claim.noted"]
    assert staff_events["items"][1]["note"] == "supplier called"
    assert [e["type"] for e in system_events["items"]] == ["claim.opened"]
    assert post(http, keys["auditor"], f"/v1/claims/{ref}/note", note).status_code == 403
    assert http.get(f"/v1/claims/{ref}", headers=auth(keys["system2"])).status_code == 404
    assert http.get("/v1/claims", headers=auth(keys["system2"])).get_json()["items"] == []
    listed = http.get(
        "/v1/claims?order_id=PO-X&stage=negotiation&waiting_on=supplier",
        headers=auth(keys["auditor"]),
    ).get_json()
    assert [c["claim_ref"] for c in listed["items"]] == [ref]
    duplicate = post(
        http,
        keys["system"],
        "/v1/claims",
        filed_case(order_id="PO-X", claim_id=listed["items"][0]["claim_id"]),
    )
    assert duplicate.status_code == 409 and duplicate.get_json()["claim_ref"] == ref
    assert http.get("/v1/claims?stage=nowhere", headers=auth(keys["staff"])).status_code == 422


def test_claims_listed_by_currency_and_recommendation(
    http: FlaskClient, keys: dict[str, str]
) -> None:
    usd_case = filed_case(order_id="PO-USD")
    usd_case["claim"]["amount_claimed"] = "5000.00"
    eur_case = filed_case(order_id="PO-EUR")
    eur_case["order"]["currency"] = "EUR"
    usd = post(http, keys["system"], "/v1/claims", usd_case).get_json()
    eur = post(http, keys["system"], "/v1/claims", eur_case).get_json()
    assert usd["recommendation"]["outcome"] == eur["recommendation"]["outcome"] == "upheld_full"

    def refs(query: str) -> list[str]:
        response = http.get(f"/v1/claims?{query}", headers=auth(keys["staff"]))
        assert response.status_code == 200, response.get_data(as_text=True)
        return [c["claim_ref"] for c in response.get_json()["items"]]

    assert refs("currency=EUR") == [eur["claim_ref"]]
    assert refs("currency=USD&recommendation=upheld_full") == [usd["claim_ref"]]
    assert refs("recommendation=denied") == []
    upheld = refs("recommendation=upheld_full")
    assert sorted(upheld) == sorted([usd["claim_ref"], eur["claim_ref"]])
    for query, field in (
        ("currency=usd", "currency"),
        ("currency=ZZZ", "currency"),
        ("recommendation=escalate", "recommendation"),
    ):
        refused = http.get(f"/v1/claims?{query}", headers=auth(keys["staff"]))
        assert refused.status_code == 422, query
        assert refused.mimetype == "application/problem+json"
        assert field in str(refused.get_json()["errors"]), refused.get_json()
    spec = http.get("/v1/openapi.json").get_json()
    documented = {p["name"] for p in spec["paths"]["/v1/claims"]["get"]["parameters"]}
    assert {"currency", "recommendation"} <= documented


def test_the_order_cap_is_a_409_naming_what_remains(
    http: FlaskClient, keys: dict[str, str]
) -> None:
    """Two claims on one order (cap 20,000.00): the second grant gets what the first left."""
    refs = [file_claim(http, keys, order_id="PO-CAP")["claim_ref"] for _ in range(2)]
    for ref in refs:  # both offered before either was accepted
        offer = {"as": "supplier", "kind": "refund", "refund": {"amount": "15000.00"}}
        assert post(http, keys["system"], f"/v1/claims/{ref}/respond", offer).status_code == 200
    first = post(http, keys["system"], f"/v1/claims/{refs[0]}/accept", {"as": "buyer"})
    assert first.status_code == 200 and first.get_json()["status"] == "pending"
    second = post(http, keys["system"], f"/v1/claims/{refs[1]}/accept", {"as": "buyer"})
    problem = second.get_json()
    assert second.status_code == 409 and second.mimetype == "application/problem+json"
    assert problem["type"] == "urn:adjudicator:problem:cap-exhausted"
    assert problem["remaining"] == {"amount": "5000.00", "currency": "USD"}
    assert problem["order_id"] == "PO-CAP"
    still = http.get(f"/v1/claims/{refs[1]}", headers=auth(keys["system"])).get_json()
    assert still["status"] == "awaiting_buyer"  # nothing stored
    ledger = http.get("/v1/orders/PO-CAP/ledger", headers=auth(keys["system"])).get_json()
    assert (ledger["cap"], ledger["held"], ledger["remaining"]) == (
        "20000.00",
        "15000.00",
        "5000.00",
    )
    assert [(e["claim_ref"], e["kind"], e["amount"]) for e in ledger["entries"]] == [
        (refs[0], "hold", "15000.00")
    ]
    other = http.get("/v1/orders/PO-CAP/ledger", headers=auth(keys["system2"]))
    assert other.status_code == 404  # a system sees only the orders it filed claims on


def test_approving_a_replaced_proposal_is_a_409_stale(
    http: FlaskClient, keys: dict[str, str], clock: MovableClock
) -> None:
    """Ana proposes a 5.00 settlement, then replaces it with 20,000.00: Bo's approval of
    the first grants nothing."""
    ref = file_claim(http, keys)["claim_ref"]
    clock.move(timedelta(hours=73))
    post(http, keys["system"], f"/v1/claims/{ref}/escalate", {"as": "buyer"})
    small = {"refund": {"amount": "5.00"}, "terms": "signed by both"}
    first = post(http, keys["staff"], f"/v1/claims/{ref}/settle", small).get_json()
    large = {"refund": {"amount": "20000.00"}, "terms": "signed again"}
    newer = post(http, keys["staff"], f"/v1/claims/{ref}/settle", large).get_json()
    reviewed = {"proposal_id": first["proposal"]["proposal_id"]}
    stale = post(http, keys["staff2"], f"/v1/claims/{ref}/approve", reviewed)
    problem = stale.get_json()
    assert stale.status_code == 409 and problem["type"] == "urn:adjudicator:problem:stale"
    assert problem["proposal_id"] == newer["proposal"]["proposal_id"]
    still = http.get(f"/v1/claims/{ref}", headers=auth(keys["staff2"])).get_json()
    assert still["status"] == "pending_approval" and still["refund"] is None
