"""/v1/decisions over HTTP: decide, read back, list, override, idempotency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from servicekit import auth, make_case
from sqlalchemy import func, select

from adjudicator.audit.models import AuditEntryRow
from adjudicator.decisions.models import DecisionRow
from api.schemas import DecisionPageSchema, DecisionSchema, DecisionWithCaseSchema


def test_post_decides_and_returns_201_with_location(
    client: FlaskClient, keys: dict[str, str]
) -> None:
    case = make_case()
    response = client.post("/v1/decisions", json=case, headers=auth(keys["system"]))
    assert response.status_code == 201
    body = response.get_json()
    assert DecisionSchema().validate(body) == {}
    assert response.headers["Location"] == f"/v1/decisions/{body['decision_id']}"
    assert body["outcome"] == "upheld_full"
    assert body["refund"] == {"amount": "20000.00", "currency": "USD"}
    assert body["deadlines"]["refund_initiation_due"] == "2024-05-09"
    assert body["case_id"] == case["case_id"]
    assert body["overrides"] is None and body["justification"] is None

    fetched = client.get(response.headers["Location"], headers=auth(keys["auditor"]))
    assert fetched.status_code == 200
    stored = fetched.get_json()
    assert DecisionWithCaseSchema().validate(stored) == {}
    assert stored["case"] == case
    assert {k: v for k, v in stored.items() if k != "case"} == body


def test_the_request_id_is_the_servers_and_the_clients_is_kept_apart(
    client: FlaskClient, keys: dict[str, str]
) -> None:
    given = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert len(given.headers["X-Request-Id"]) == 32
    assert given.headers["X-Client-Request-Id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-Id": "bad id\twith spaces"})
    assert len(made.headers["X-Request-Id"]) == 32 and "X-Client-Request-Id" not in made.headers


def test_the_request_id_reaches_the_audit_entry(client: FlaskClient, keys: dict[str, str]) -> None:
    headers = {**auth(keys["staff"]), "X-Request-Id": "req-42"}
    posted = client.post("/v1/decisions", json=make_case(), headers=headers)
    made = posted.get_json()
    log = client.get("/v1/audit?action=decision.created", headers=auth(keys["auditor"]))
    (entry,) = log.get_json()["items"]
    assert entry["request_id"] == posted.headers["X-Request-Id"] != "req-42"
    assert entry["payload"]["client_request_id"] == "req-42"
    assert entry["subject"] == made["decision_id"]
    assert entry["actor"]["name"] == "staff-key"


def test_a_pinned_ruleset(app: Flask, client: FlaskClient, keys: dict[str, str]) -> None:
    version = app.extensions["adjudicator"].adjudicator.catalog.active.version
    response = client.post(
        f"/v1/decisions?ruleset={version}", json=make_case(), headers=auth(keys["system"])
    )
    assert response.status_code == 201
    assert response.get_json()["ruleset"]["version"] == version


def test_case_id_and_as_of_may_be_omitted(client: FlaskClient, keys: dict[str, str]) -> None:
    case = make_case()
    del case["case_id"], case["as_of"]
    response = client.post("/v1/decisions", json=case, headers=auth(keys["system"]))
    assert response.status_code == 201
    body = response.get_json()
    stored = client.get(f"/v1/decisions/{body['decision_id']}", headers=auth(keys["staff"]))
    assert stored.get_json()["case"]["case_id"] == body["case_id"]


def test_idempotency_key_same_body_returns_the_stored_decision(
    client: FlaskClient, keys: dict[str, str]
) -> None:
    headers = {**auth(keys["system"]), "Idempotency-Key": "order-42-claim-1"}
    case = make_case()
    first = client.post("/v1/decisions", json=case, headers=headers)
    second = client.post("/v1/decisions", json=case, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json() == first.get_json()
    assert second.headers["Location"] == first.headers["Location"]


def test_twenty_threads_posting_one_key_get_one_decision(app: Flask, keys: dict[str, str]) -> None:
    case = make_case()
    headers = {**auth(keys["system"]), "Idempotency-Key": "burst"}
    start = threading.Barrier(20)

    def post(_: int) -> tuple[int, str]:
        client = app.test_client()
        start.wait()
        response = client.post("/v1/decisions", json=case, headers=headers)
        return response.status_code, response.get_json()["decision_id"]

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(post, range(20)))
    assert sorted(status for status, _ in results) == [200] * 19 + [201]
    assert len({ident for _, ident in results}) == 1
    store = app.extensions["adjudicator"].store
    with store.db.read() as session:
        assert session.execute(select(func.count()).select_from(DecisionRow)).scalar_one() == 1
        created = session.execute(
            select(func.count())
            .select_from(AuditEntryRow)
            .where(AuditEntryRow.action == "decision.created")
        ).scalar_one()
    assert created == 1


def test_list_filters_and_pages(client: FlaskClient, keys: dict[str, str]) -> None:
    made = []
    for i in range(5):
        case = make_case(order_id="PO-X" if i < 3 else "PO-Y")
        made.append(
            client.post("/v1/decisions", json=case, headers=auth(keys["system"])).get_json()
        )
    staff = auth(keys["staff"])

    seen, url = [], "/v1/decisions?limit=2"
    while url:
        page = client.get(url, headers=staff)
        assert page.status_code == 200
        body = page.get_json()
        assert DecisionPageSchema().validate(body) == {}
        assert len(body["items"]) <= 2 and all("case" not in d for d in body["items"])
        seen += [d["decision_id"] for d in body["items"]]
        url = body["next_cursor"] and f"/v1/decisions?limit=2&cursor={body['next_cursor']}"
    assert seen == [d["decision_id"] for d in reversed(made)]

    by_order = client.get("/v1/decisions?order_id=PO-X", headers=staff).get_json()["items"]
    assert [d["decision_id"] for d in by_order] == [d["decision_id"] for d in made[2::-1]]
    claim = client.get(f"/v1/decisions/{made[1]['decision_id']}", headers=staff).get_json()
    claim_id = claim["case"]["claim"]["claim_id"]
    by_claim = client.get(f"/v1/decisions?claim_id={claim_id}", headers=staff).get_json()
    assert [d["decision_id"] for d in by_claim["items"]] == [made[1]["decision_id"]]
    upheld = client.get("/v1/decisions?outcome=upheld_full", headers=staff).get_json()
    assert len(upheld["items"]) == 5
    future = client.get("/v1/decisions?from=2999-01-01T00:00:00Z", headers=staff).get_json()
    assert future["items"] == [] and future["next_cursor"] is None
    past = client.get("/v1/decisions?to=2000-01-01T00:00:00%2B08:00", headers=staff).get_json()
    assert past["items"] == []


def test_override_creates_a_linked_decision(
    client: FlaskClient, keys: dict[str, str], decision: dict[str, Any]
) -> None:
    original_id = decision["decision_id"]
    before = client.get(f"/v1/decisions/{original_id}", headers=auth(keys["staff"])).get_json()
    response = client.post(
        f"/v1/decisions/{original_id}/override",
        json={
            "outcome": "upheld_partial",
            "refund": {"amount": "12000.00", "currency": "USD"},
            "conditions": ["goods_returned"],
            "justification": "Buyer accepted a partial refund by phone.",
        },
        headers=auth(keys["staff"]),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert DecisionSchema().validate(body) == {}
    assert response.headers["Location"] == f"/v1/decisions/{body['decision_id']}"
    assert body["overrides"] == original_id
    assert body["outcome"] == "upheld_partial"
    assert body["refund"] == {"amount": "12000.00", "currency": "USD"}
    assert body["conditions"] == ["goods_returned"]
    assert body["justification"] == "Buyer accepted a partial refund by phone."
    after = client.get(f"/v1/decisions/{original_id}", headers=auth(keys["staff"])).get_json()
    assert after.pop("overridden_by") == [body["decision_id"]] and before["overridden_by"] == []
    assert after == {k: v for k, v in before.items() if k != "overridden_by"}

    again = client.post(
        f"/v1/decisions/{body['decision_id']}/override",
        json={"outcome": "denied", "refund": {"amount": "0"}, "justification": "Reopened."},
        headers=auth(keys["admin"]),
    )
    assert again.status_code == 201 and again.get_json()["overrides"] == body["decision_id"]
    verify = client.get("/v1/audit/verify", headers=auth(keys["auditor"])).get_json()
    assert verify["ok"] is True


def test_override_of_an_unknown_decision_is_404(client: FlaskClient, keys: dict[str, str]) -> None:
    response = client.post(
        "/v1/decisions/00000000-0000-0000-0000-000000000000/override",
        json={"outcome": "denied", "refund": {"amount": "0"}, "justification": "x"},
        headers=auth(keys["staff"]),
    )
    assert response.status_code == 404
