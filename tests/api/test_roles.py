"""Every route with every role, with a revoked key, a malformed key, and no key."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from servicekit import ROLES, auth, make_case

from adjudicator.db.actor import Actor
from adjudicator.webhooks import create_subscription

ANYONE = None
ANY_KEY = frozenset(ROLES)
ADMIN_ONLY: frozenset[str] = frozenset()
SUBSCRIPTION = {"url": "https://orders.example/hooks", "events": ["*"]}
ADMIN: frozenset[str] = frozenset()
NO_SUCH = "00000000-0000-4000-8000-000000000000"
OVERRIDE = {"outcome": "upheld_partial", "refund": {"amount": "10.00"}, "justification": "ok"}

# method, path template, roles allowed (admin always is), success status, JSON body
ROUTES: list[tuple[str, str, frozenset[str] | None, int, Any]] = [
    ("GET", "/healthz", ANYONE, 200, None),
    ("GET", "/readyz", ANYONE, 200, None),
    ("GET", "/v1/openapi.json", ANYONE, 200, None),
    ("POST", "/v1/decisions", frozenset({"system", "staff"}), 201, "case"),
    ("GET", "/v1/decisions", frozenset({"staff", "auditor"}), 200, None),
    ("GET", "/v1/decisions/{id}", frozenset({"system", "staff", "auditor"}), 200, None),
    ("POST", "/v1/decisions/{id}/override", frozenset({"staff"}), 201, OVERRIDE),
    ("GET", "/v1/rulesets", ANY_KEY, 200, None),
    ("GET", "/v1/rulesets/{version}", ANY_KEY, 200, None),
    ("GET", "/v1/audit", frozenset({"auditor"}), 200, None),
    ("GET", "/v1/audit/verify", frozenset({"auditor"}), 200, None),
    ("GET", "/v1/audit/export", frozenset({"auditor"}), 200, None),
    ("GET", "/v1/audit/checkpoints", ANY_KEY, 200, None),
    # no checkpoint is signed in this fixture: an allowed role gets the 404 that says so
    ("GET", "/v1/audit/entries/{seq}/proof", frozenset({"staff", "auditor"}), 404, None),
    ("POST", "/v1/webhooks", ADMIN_ONLY, 201, SUBSCRIPTION),
    ("GET", "/v1/webhooks", ADMIN_ONLY, 200, None),
    ("DELETE", "/v1/webhooks/{webhook_id}", ADMIN_ONLY, 204, None),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries", ADMIN_ONLY, 200, None),
    ("POST", "/v1/claims", frozenset({"system", "staff"}), 201, "case"),
    ("GET", "/v1/claims", frozenset({"system", "staff", "auditor"}), 200, None),
    ("GET", "/v1/claims/{claim_ref}", frozenset({"system", "staff", "auditor"}), 200, None),
    ("GET", "/v1/claims/{claim_ref}/events", frozenset({"system", "staff", "auditor"}), 200, None),
    # Actions on a claim just filed (awaiting the supplier; escalation allowed by now): the
    # roles a route admits get the lifecycle's answer, 200 or 409 (not a move from here).
    *(
        ("POST", f"/v1/claims/{{claim_ref}}/{action}", frozenset(roles), status, body)
        for action, roles, status, body in [
            ("respond", {"system"}, 200, {"as": "supplier", "kind": "reject"}),
            ("accept", {"system"}, 409, {"as": "buyer"}),
            ("reject", {"system"}, 409, {"as": "buyer"}),
            ("escalate", {"system"}, 200, {"as": "buyer"}),
            ("withdraw", {"system"}, 200, {"as": "buyer"}),
            ("submit_evidence", {"system"}, 200, {"as": "buyer", "shipments": []}),
            (
                "request_evidence",
                {"staff"},
                409,
                {"party": "buyer", "what": "photos", "due": "2030-01-01T00:00:00Z"},
            ),
            ("assign", {"staff"}, 200, {"assignee": "user:1"}),
            ("note", {"staff"}, 200, {"text": "called"}),
            ("propose", {"staff"}, 409, {"kind": "confirm"}),
            ("approve", {"staff"}, 409, {"proposal_id": NO_SUCH}),
            ("decline", {"staff"}, 409, {"proposal_id": NO_SUCH}),
            ("settle", {"staff"}, 200, {"refund": {"amount": "0"}, "terms": "signed"}),
            ("refund_initiated", {"system", "staff"}, 409, {"payout_reference": "PAY-1"}),
            ("refund_completed", {"system", "staff"}, 409, {}),
        ]
    ),
    ("GET", "/v1/orders/{order_id}/ledger", frozenset({"system", "staff", "auditor"}), 200, None),
    # rules governance: admin only to act; a role allowed past the key check gets the
    # status its (empty) database gives: no such replay/request, nothing to roll back
    ("POST", "/v1/replays", ADMIN, 202, {"candidate": "{version}"}),
    ("GET", "/v1/replays/{replay_id}", frozenset({"auditor"}), 404, None),
    ("GET", "/v1/replays/{replay_id}/changes.csv", frozenset({"auditor"}), 404, None),
    (
        "POST",
        "/v1/rulesets/{version}/activation-requests",
        ADMIN,
        422,
        {"report": NO_SUCH, "reason": "r"},
    ),
    ("GET", "/v1/activation-requests/{request_id}", frozenset({"auditor"}), 404, None),
    ("POST", "/v1/activation-requests/{request_id}/approve", ADMIN, 404, None),
    ("GET", "/v1/activations/active", ANY_KEY, 200, None),
    ("POST", "/v1/activations/rollback", ADMIN, 409, {"reason": "r"}),
]
CALLERS = [*ROLES, "revoked", "malformed", None]


@pytest.fixture
def claim(client: FlaskClient, keys: dict[str, str]) -> dict[str, Any]:
    """One claim filed by the system key (a system sees only the claims it opened)."""
    response = client.post("/v1/claims", json=make_case(), headers=auth(keys["system"]))
    assert response.status_code == 201, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def _expected(allowed: frozenset[str] | None, success: int, caller: str | None) -> int:
    if allowed is None:
        return success
    if caller not in ROLES:
        return 401
    return success if caller in allowed | {"admin"} else 403


@pytest.mark.parametrize("caller", CALLERS, ids=[str(c) for c in CALLERS])
@pytest.mark.parametrize(
    ("method", "template", "allowed", "success", "body"),
    ROUTES,
    ids=[f"{m} {p}" for m, p, *_ in ROUTES],
)
def test_route_by_role(
    app: Flask,
    client: FlaskClient,
    keys: dict[str, str],
    decision: dict[str, Any],
    claim: dict[str, Any],
    method: str,
    template: str,
    allowed: frozenset[str] | None,
    success: int,
    body: Any,
    caller: str | None,
) -> None:
    token = {"malformed": "adj_not-a-key", None: None}.get(caller, keys.get(str(caller)))
    version = app.extensions["adjudicator"].adjudicator.catalog.active.version
    subscription, _ = create_subscription(
        app.extensions["adjudicator"].store,
        url="https://orders.example/hooks",
        events=["*"],
        actor=Actor(None, "cli:test", "admin"),
    )
    path = template.format(
        id=decision["decision_id"],
        version=version,
        seq=1,
        webhook_id=subscription.webhook_id,
        claim_ref=claim["claim_ref"],
        order_id=claim["order_id"],
        replay_id=NO_SUCH,
        request_id=NO_SUCH,
    )
    payload = make_case() if body == "case" else body
    if isinstance(payload, dict) and payload.get("candidate") == "{version}":
        payload = {"candidate": version}
    response = client.open(path, method=method, json=payload, headers=auth(token))
    assert response.status_code == _expected(allowed, success, caller), response.get_data(
        as_text=True
    )
    if response.status_code in (401, 403):
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == response.status_code
    if response.status_code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_matrix_covers_every_documented_operation(client: FlaskClient) -> None:
    spec = client.get("/v1/openapi.json").get_json()
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    tested = {(m, p.replace("{id}", "{decision_id}")) for m, p, *_ in ROUTES}
    assert documented | {("GET", "/v1/openapi.json")} == tested


def test_the_documented_roles_are_the_enforced_ones(client: FlaskClient) -> None:
    spec = client.get("/v1/openapi.json").get_json()
    for method, template, allowed, _, _ in ROUTES:
        if allowed is None or template == "/v1/openapi.json":
            continue
        operation = spec["paths"][template.replace("{id}", "{decision_id}")][method.lower()]
        assert set(operation["x-roles"]) == set(allowed | {"admin"})
        assert operation["security"] == [{"bearerAuth": []}]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "bearer adj_x",
        "Token abc",
        "Bearer " + "a" * 5000,
    ],
)
def test_a_malformed_authorization_header_is_401(
    client: FlaskClient, keys: dict[str, str], header: str
) -> None:
    response = client.get("/v1/rulesets", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
