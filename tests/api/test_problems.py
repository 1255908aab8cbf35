"""Every error is application/problem+json a client can act on; nothing a client sends is a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from servicekit import auth, make_case

PROBLEM_KEYS = {"type", "title", "status", "detail", "errors", "request_id"}


def _problem(response: Any, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body: dict[str, Any] = response.get_json()
    assert set(body) == PROBLEM_KEYS
    assert body["status"] == status
    assert body["type"] == f"urn:adjudicator:problem:{kind}"
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


@pytest.mark.parametrize(
    "raw",
    [b"{", b"", b"null", b"[1, 2]", b'"case"', b"42", b"\xff\xfe", b'{"a": NaN}', b"{'a': 1}"],
)
def test_400_for_a_body_that_is_not_a_json_object(
    client: FlaskClient, keys: dict[str, str], raw: bytes
) -> None:
    response = client.post(
        "/v1/decisions",
        data=raw,
        headers={**auth(keys["system"]), "Content-Type": "application/json"},
    )
    _problem(response, 400, "malformed-json")


def test_400_for_a_malformed_override_body(
    client: FlaskClient, keys: dict[str, str], decision: dict[str, Any]
) -> None:
    response = client.post(
        f"/v1/decisions/{decision['decision_id']}/override",
        data=b"[]",
        headers=auth(keys["staff"]),
    )
    _problem(response, 400, "malformed-json")


def test_401_and_403(client: FlaskClient, keys: dict[str, str]) -> None:
    _problem(client.get("/v1/audit"), 401, "unauthorized")
    _problem(client.get("/v1/audit", headers=auth(keys["revoked"])), 401, "unauthorized")
    _problem(client.get("/v1/audit", headers=auth(keys["system"])), 403, "forbidden")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/decisions/00000000-0000-0000-0000-000000000000",
        "/v1/decisions/not-a-uuid",
        "/v1/decisions/%00",
        "/v1/rulesets/1999.1",
        "/v1/nothing-here",
        "/",
    ],
)
def test_404(client: FlaskClient, keys: dict[str, str], path: str) -> None:
    _problem(client.get(path, headers=auth(keys["admin"])), 404, "not-found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/v1/decisions"), ("PUT", "/v1/rulesets"), ("POST", "/healthz")],
)
def test_405(client: FlaskClient, keys: dict[str, str], method: str, path: str) -> None:
    response = client.open(path, method=method, headers=auth(keys["admin"]))
    _problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["Allow"] or "POST" in response.headers["Allow"]


def test_409_for_a_reused_idempotency_key(client: FlaskClient, keys: dict[str, str]) -> None:
    headers = {**auth(keys["system"]), "Idempotency-Key": "same"}
    first = client.post("/v1/decisions", json=make_case(), headers=headers)
    assert first.status_code == 201
    body = _problem(
        client.post("/v1/decisions", json=make_case(), headers=headers),
        409,
        "idempotency-conflict",
    )
    assert "Idempotency-Key" in body["detail"]


def test_413_over_the_body_limit(app: Flask, client: FlaskClient, keys: dict[str, str]) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    big = make_case(padding="x" * (1024 * 1024))
    _problem(
        client.post("/v1/decisions", json=big, headers=auth(keys["system"])),
        413,
        "payload-too-large",
    )


def test_the_body_limit_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from api import create_app

    monkeypatch.setenv("ADJUDICATOR_MAX_BODY_BYTES", "2048")
    app = create_app({"STORE": object(), "ADJUDICATOR": object()})
    assert app.config["MAX_CONTENT_LENGTH"] == 2048


def test_422_names_every_bad_field_path(client: FlaskClient, keys: dict[str, str]) -> None:
    case = make_case()
    case["order"]["lines"][0]["quantity"] = -5
    case["order"]["currency"] = "XXX1"
    del case["claim"]["ground"]
    body = _problem(
        client.post("/v1/decisions", json=case, headers=auth(keys["system"])),
        422,
        "invalid-case",
    )
    errors = body["errors"]
    assert {"order.lines.0.quantity", "order.currency", "claim.ground"} <= set(errors)
    assert all(isinstance(m, list) and m and all(isinstance(x, str) for x in m)
               for m in errors.values())  # fmt: skip


def test_422_for_an_unknown_ruleset_version(client: FlaskClient, keys: dict[str, str]) -> None:
    body = _problem(
        client.post("/v1/decisions?ruleset=1999.1", json=make_case(), headers=auth(keys["system"])),
        422,
        "unknown-ruleset",
    )
    assert "ruleset" in body["errors"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
        ("outcome=great", "outcome"),
        ("from=yesterday", "from"),
        ("to=2024-01-01T00:00:00", "to"),  # no offset
        ("cursor=garbage", "cursor"),
        ("order_id=%00", "order_id"),
    ],
)
def test_422_for_bad_list_parameters(
    client: FlaskClient, keys: dict[str, str], query: str, field: str
) -> None:
    body = _problem(
        client.get(f"/v1/decisions?{query}", headers=auth(keys["auditor"])),
        422,
        "invalid-request",
    )
    assert field in body["errors"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"refund": {"amount": "1.00"}, "justification": "x"}, "outcome"),
        ({"outcome": "denied", "refund": {"amount": "0"}}, "justification"),
        ({"outcome": "denied", "refund": {"amount": "0"}, "justification": ""}, "justification"),
        ({"outcome": "upheld_full", "refund": {"amount": "99999999"}, "justification": "x"},
         "refund.amount"),
        ({"outcome": "denied", "refund": "0", "justification": "x"}, "refund"),
        ({"outcome": "denied", "refund": {"amount": "0"}, "justification": "x", "extra": 1},
         "extra"),
    ],
)  # fmt: skip
def test_422_for_a_bad_override(
    client: FlaskClient,
    keys: dict[str, str],
    decision: dict[str, Any],
    payload: dict[str, Any],
    field: str,
) -> None:
    body = _problem(
        client.post(
            f"/v1/decisions/{decision['decision_id']}/override",
            json=payload,
            headers=auth(keys["staff"]),
        ),
        422,
        "invalid-request",
    )
    assert field in body["errors"], body


def test_503_when_the_database_is_down(tmp_path: Any, adjudicator: Any) -> None:
    from api import create_app

    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'missing' / 'x.db'}",
            "KEY_SECRET": b"s",
            "ADJUDICATOR": adjudicator,
        }
    )
    client = app.test_client()
    _problem(client.get("/readyz"), 503, "unavailable")
    assert client.get("/healthz").status_code == 200
    token = "adj_aaaaaaaaaaaa_" + "b" * 43
    _problem(client.get("/v1/rulesets", headers=auth(token)), 503, "unavailable")


@pytest.mark.parametrize(
    "case",
    [
        {"order": {"lines": [{"quantity": 10**30}]}},
        {"order": {"lines": "x" * 1000}},
        {"case_id": None, "as_of": None, "order": None, "claim": []},
        {"a" * 10000: 1},
        {"order": {"order_id": "\ud800"}},
        {"order": {"lines": [{"deep": [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}]}},
    ],
)
def test_odd_documents_are_4xx_never_500(
    client: FlaskClient, keys: dict[str, str], case: dict[str, Any]
) -> None:
    raw = json.dumps(case).encode()  # stdlib json: big ints and lone surrogates as sent
    response = client.post("/v1/decisions", data=raw, headers=auth(keys["system"]))
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"
