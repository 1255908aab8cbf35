"""``/v1/webhooks`` through the Flask client: subscribing, validation, deletion, the log.

Also: a receiver that hangs does not slow the API, because no request ever
sends a webhook and the worker holds no database lock while it waits.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from servicekit import auth, make_case
from standardwebhooks import Webhook
from webhookkit import emit, receiver

from adjudicator.db.store import Store
from adjudicator.webhooks import Timeouts, deliver_due, dispatch_outbox

HOOK = {"url": "https://orders.example/hooks", "events": ["claim.escalated"], "description": "ERP"}


def _store(app: Flask) -> Store:
    found: Store = app.extensions["adjudicator"].store
    return found


def _subscribe(client: FlaskClient, token: str, body: dict[str, Any]) -> Any:
    return client.post("/v1/webhooks", json=body, headers=auth(token))


def test_a_subscription_is_made_and_its_secret_shown_once(
    client: FlaskClient, keys: dict[str, str]
) -> None:
    response = _subscribe(client, keys["admin"], HOOK)
    assert response.status_code == 201, response.get_data(as_text=True)
    made = response.get_json()
    assert response.headers["Location"] == f"/v1/webhooks/{made['webhook_id']}"
    assert made["secret"].startswith("whsec_")
    Webhook(made["secret"])  # any Standard Webhooks library takes it as it is
    assert {k: made[k] for k in ("url", "events", "description")} == HOOK
    assert made["created_by"] == "admin-key"

    listed = client.get("/v1/webhooks", headers=auth(keys["admin"])).get_json()["items"]
    assert listed == [{k: v for k, v in made.items() if k != "secret"}]
    assert made["secret"] not in client.get("/v1/webhooks", headers=auth(keys["admin"])).get_data(
        as_text=True
    )


def test_star_subscribes_to_every_event(client: FlaskClient, keys: dict[str, str]) -> None:
    body = {"url": "http://127.0.0.1:9/hooks", "events": ["claim.opened", "*"]}
    made = _subscribe(client, keys["admin"], body).get_json()
    assert made["events"] == ["*"]
    assert made["description"] == ""
    bare = _subscribe(client, keys["admin"], {**body, "events": "*"})
    assert bare.status_code == 201
    assert bare.get_json()["events"] == ["*"]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://orders.example/hooks",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "orders.example/hooks",
        "https://",
        "",
        "https://user:password@orders.example/hooks",
        "https://orders.example/" + "a" * 2100,
    ],
)
def test_only_http_and_https_urls_are_accepted(
    client: FlaskClient, keys: dict[str, str], url: str
) -> None:
    response = _subscribe(client, keys["admin"], {**HOOK, "url": url})
    assert response.status_code == 422, url
    problem = response.get_json()
    assert problem["type"] == "urn:adjudicator:problem:invalid-request"
    assert list(problem["errors"]) == ["url"]


@pytest.mark.parametrize(
    "events", [[], ["claim.noted"], ["claim.unknown"], ["*", "claim.noted"], "claim.opened", None]
)
def test_the_events_must_be_known_deliverable_types(
    client: FlaskClient, keys: dict[str, str], events: Any
) -> None:
    response = _subscribe(client, keys["admin"], {**HOOK, "events": events})
    assert response.status_code == 422
    assert "events" in " ".join(response.get_json()["errors"])


def test_creating_and_deleting_are_audit_entries(client: FlaskClient, keys: dict[str, str]) -> None:
    made = _subscribe(client, keys["admin"], HOOK).get_json()
    path = f"/v1/webhooks/{made['webhook_id']}"
    assert client.delete(path, headers=auth(keys["admin"])).status_code == 204
    again = client.delete(path, headers=auth(keys["admin"]))
    assert again.status_code == 404
    assert again.get_json()["type"] == "urn:adjudicator:problem:not-found"
    assert client.get(path + "/deliveries", headers=auth(keys["admin"])).status_code == 404
    assert client.get("/v1/webhooks", headers=auth(keys["admin"])).get_json()["items"] == []

    audit = client.get("/v1/audit?subject=" + made["webhook_id"], headers=auth(keys["auditor"]))
    entries = audit.get_json()["items"]
    assert [e["action"] for e in entries] == ["webhook.created", "webhook.deleted"]
    assert {e["actor"]["name"] for e in entries} == {"admin-key"}
    assert made["secret"] not in audit.get_data(as_text=True)
    verified = client.get("/v1/audit/verify", headers=auth(keys["auditor"])).get_json()
    assert verified["ok"] is True


def test_unknown_subscriptions_are_404(client: FlaskClient, keys: dict[str, str]) -> None:
    for method, path in (("DELETE", "/v1/webhooks/nope"), ("GET", "/v1/webhooks/nope/deliveries")):
        response = client.open(path, method=method, headers=auth(keys["admin"]))
        assert response.status_code == 404


def test_the_delivery_log_shows_each_attempt(
    app: Flask, client: FlaskClient, keys: dict[str, str]
) -> None:
    with receiver() as rx:
        rx.statuses.append(503)
        made = _subscribe(client, keys["admin"], {"url": rx.url, "events": ["*"]}).get_json()
        event_id = emit(_store(app), "claim.opened")
        dispatch_outbox(_store(app))
        assert deliver_due(_store(app)) == 1
    log = f"/v1/webhooks/{made['webhook_id']}/deliveries"
    page = client.get(log, headers=auth(keys["admin"])).get_json()
    (delivery,) = page["items"]
    assert (delivery["event_id"], delivery["event_type"]) == (event_id, "claim.opened")
    assert delivery["status"] == "pending"
    (attempt,) = delivery["attempts"]
    assert (attempt["number"], attempt["status_code"], attempt["error"]) == (1, 503, "HTTP 503")
    assert attempt["next_retry_at"] == delivery["next_attempt_at"]
    assert page["next_cursor"] is None
    filtered = client.get(log + "?status=delivered", headers=auth(keys["admin"])).get_json()
    assert filtered["items"] == []
    bad = client.get(log + "?cursor=garbage", headers=auth(keys["admin"]))
    assert bad.status_code == 422


def test_a_hanging_receiver_does_not_slow_the_api(
    app: Flask, client: FlaskClient, keys: dict[str, str]
) -> None:
    """While the worker waits on a receiver that does not answer, requests (writes
    included) are served: the worker holds no transaction, and no request delivers."""
    store = _store(app)
    with receiver() as rx:
        rx.hang = True
        made = _subscribe(client, keys["admin"], {"url": rx.url, "events": ["*"]}).get_json()
        emit(store, "claim.escalated")
        dispatch_outbox(store)
        worker = threading.Thread(
            target=deliver_due, args=(store,), kwargs={"timeouts": Timeouts(read=60)}
        )
        worker.start()
        assert rx.hanging.wait(30), "the worker never reached the receiver"

        served: list[int] = []

        def requests() -> None:
            served.append(
                client.post(
                    "/v1/decisions", json=make_case(), headers=auth(keys["system"])
                ).status_code
            )
            served.append(_subscribe(client, keys["admin"], HOOK).status_code)
            log = f"/v1/webhooks/{made['webhook_id']}/deliveries"
            served.append(client.get(log, headers=auth(keys["admin"])).status_code)
            emit(store, "claim.determined")  # a claim event, written while the worker waits
            served.append(len(rx.requests))

        api = threading.Thread(target=requests)
        api.start()
        api.join(25)  # a worker holding the write lock would keep these waiting until release
        assert not api.is_alive(), "the API was blocked by the delivery in progress"
        assert served == [201, 201, 200, 1]
        assert worker.is_alive() and not rx.release.is_set()
        rx.release.set()
        worker.join(30)
    log = f"/v1/webhooks/{made['webhook_id']}/deliveries"
    items = client.get(log, headers=auth(keys["admin"])).get_json()["items"]
    assert [d["status"] for d in items] == ["delivered"]  # claim.determined waits its dispatch
