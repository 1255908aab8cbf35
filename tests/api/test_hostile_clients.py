"""Hostile clients (issue 10, point 3): what a client picks never grows the service's state."""

from __future__ import annotations

import io
import random
import string
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from servicekit import auth, make_case
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request


def _series(client: FlaskClient) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    text = client.get("/metrics").get_data(as_text=True)
    return {
        (sample.name, tuple(sorted(sample.labels.items())))
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


TOKEN = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"  # RFC 9110's token characters
STANDARD = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def _hostile_requests(rng: random.Random, n: int) -> list[tuple[str, str]]:
    """``n`` (method, path): a different non-standard method each time, of 1 to 20 token
    characters, on a route (405), a missing path (404) and paths the client made up."""
    methods: set[str] = set()
    while len(methods) < n:
        method = "".join(rng.choices(TOKEN, k=rng.randint(1, 20)))
        if method.upper() not in STANDARD:  # the server reads the method upper-cased
            methods.add(method)
    paths = ("/healthz", "/nowhere", "/v1/claims/{}", "/{}")
    return [
        (method, rng.choice(paths).format("".join(rng.choices(string.ascii_letters, k=12))))
        for method in sorted(methods)
    ]


def test_random_methods_add_no_metric_series(client: FlaskClient) -> None:
    """A label from a client's method would add a series per method: 400 distinct ones
    show it as well as any larger number (each would be a new series)."""
    rng = random.Random(10)
    client.open("/healthz", method="BREW")  # the "other" series exists from here on
    client.open("/nowhere", method="BREW")
    _series(client)  # and the scrape's own series
    before = _series(client)
    for method, path in _hostile_requests(rng, 400):
        response = client.open(path, method=method)
        assert response.status_code in (404, 405), (method, path)
    after = _series(client)
    assert after == before
    methods = {dict(labels).get("method") for _, labels in after} - {None}
    assert "other" in methods and methods <= STANDARD | {"other"}


def _chunked(client: FlaskClient, body: bytes, token: str) -> Any:
    """POST ``body`` as a server that decodes chunked bodies hands it over: no length."""
    environ = EnvironBuilder(
        path="/v1/decisions", method="POST", input_stream=io.BytesIO(body), headers=auth(token)
    ).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    environ["wsgi.input_terminated"] = True  # as gunicorn sets it
    return client.open(Request(environ))


@pytest.mark.parametrize("size", [1024 * 1024 + 1, 3 * 1024 * 1024])
def test_a_chunked_body_over_the_limit_is_413(
    client: FlaskClient, keys: dict[str, str], size: int
) -> None:
    body = b'{"pad": "' + b"x" * (size - 11) + b'"}'
    assert len(body) == size
    response = _chunked(client, body, keys["system"])
    assert response.status_code == 413, response.get_data()
    assert response.get_json()["type"] == "urn:adjudicator:problem:payload-too-large"


def test_a_chunked_body_under_the_limit_is_read(client: FlaskClient, keys: dict[str, str]) -> None:
    body = orjson.dumps(make_case())
    assert _chunked(client, body, keys["system"]).status_code == 201
    exact = b'{"pad": "' + b"x" * (1024 * 1024 - 11) + b'"}'
    assert len(exact) == 1024 * 1024  # at the limit: read, and a 422 for its content
    assert _chunked(client, exact, keys["system"]).status_code == 422


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("/v1/decisions?outcom=denied", "staff"),
        ("/v1/decisions/00000000-0000-0000-0000-000000000000?verbose=1", "staff"),
        ("/v1/rulesets?outcom=x", "staff"),
        ("/v1/rulesets/2024.1?outcom=x", "staff"),
        ("/v1/audit?outcom=x", "auditor"),
        ("/v1/audit/verify?outcom=x", "auditor"),
        ("/healthz?outcom=x", None),
        ("/readyz?outcom=x", None),
    ],
)
def test_an_unknown_query_parameter_is_422_naming_it(
    client: FlaskClient, keys: dict[str, str], path: str, role: str | None
) -> None:
    response = client.get(path, headers=auth(keys[role]) if role else {})
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert body["type"] == "urn:adjudicator:problem:invalid-request"
    assert list(body["errors"]) == [path.split("?")[1].split("=")[0]]


def test_known_parameters_still_work(client: FlaskClient, keys: dict[str, str]) -> None:
    response = client.get("/v1/decisions?outcome=denied&limit=5", headers=auth(keys["staff"]))
    assert response.status_code == 200
    posted = client.post(
        "/v1/decisions?ruleset=2024.1&outcom=x", json=make_case(), headers=auth(keys["system"])
    )
    assert posted.status_code == 422 and list(posted.get_json()["errors"]) == ["outcom"]


def test_idempotency_keys_of_two_systems_do_not_meet_over_http(
    client: FlaskClient, keys: dict[str, str]
) -> None:
    case = make_case()
    one = {**auth(keys["system"]), "Idempotency-Key": "PO-1/claim-1"}
    two = {**auth(keys["staff"]), "Idempotency-Key": "PO-1/claim-1"}
    first = client.post("/v1/decisions", json=case, headers=one)
    other = client.post("/v1/decisions", json=make_case(), headers=two)
    assert (first.status_code, other.status_code) == (201, 201)
    active = client.get("/v1/rulesets", headers=auth(keys["system"])).get_json()["active"]
    again = client.post(f"/v1/decisions?ruleset={active}", json=case, headers=one)
    assert again.status_code == 200
    assert again.get_json()["decision_id"] == first.get_json()["decision_id"]


def test_an_override_double_submitted_is_stored_once(
    client: FlaskClient, keys: dict[str, str], decision: dict[str, Any]
) -> None:
    url = f"/v1/decisions/{decision['decision_id']}/override"
    body = {"outcome": "upheld_partial", "refund": {"amount": "10.00"}, "justification": "call"}
    headers = {**auth(keys["staff"]), "Idempotency-Key": "override-1"}
    first = client.post(url, json=body, headers=headers)
    second = client.post(url, json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json() == second.get_json()
    shown = client.get(f"/v1/decisions/{decision['decision_id']}", headers=auth(keys["staff"]))
    assert shown.get_json()["overridden_by"] == [first.get_json()["decision_id"]]
    other = client.post(url, json={**body, "justification": "another"}, headers=headers)
    assert other.status_code == 409
