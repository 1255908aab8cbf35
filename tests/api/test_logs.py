"""Structured logs: JSON lines carrying the request id; never a key, a case or a traceback."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from servicekit import KEY_SECRET, auth, make_case

from adjudicator import Adjudicator
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.identity.keys import create_key
from adjudicator.logs import JsonFormatter
from api import create_app

OPERATOR = Actor(key_id=None, name="cli:test", role="admin")


def store(app: Flask) -> Store:
    """The app's store."""
    found: Store = app.extensions["adjudicator"].store
    return found


MARKER = "ZQX-distinctive-case-text-4711"


class Capture:
    """A JSON handler on the root logger; ``text`` is what it wrote, ``records`` parsed."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        self.handler = logging.StreamHandler(self.out)
        self.handler.setFormatter(JsonFormatter())

    @property
    def text(self) -> str:
        return self.out.getvalue()

    @property
    def records(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.text.splitlines()]


@pytest.fixture
def capture() -> Iterator[Capture]:
    found = Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(found.handler)
    root.setLevel(logging.DEBUG)
    try:
        yield found
    finally:
        root.removeHandler(found.handler)
        root.setLevel(old_level)


class ChattyFailingAdjudicator:
    """Logs a line while deciding (to see the request id on it), then fails with case text."""

    def __init__(self, real: Adjudicator) -> None:
        self.real = real
        self.catalog = real.catalog

    def decide(self, case: Any, ruleset: Any = None, **kwargs: Any) -> Any:
        logging.getLogger("adjudicator.test").warning("deciding a case")
        if case["claim"].get("claim_id") == f"boom-{MARKER}":
            raise RuntimeError(f"engine blew up on {case}")
        return self.real.decide(case, ruleset, **kwargs)


@pytest.fixture
def chatty_app(
    adjudicator: Adjudicator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    url = f"sqlite:///{tmp_path_factory.mktemp('logs') / 'logs.db'}"
    app = create_app(
        {
            "DATABASE_URL": url,
            "KEY_SECRET": KEY_SECRET,
            "ADJUDICATOR": ChattyFailingAdjudicator(adjudicator),
        }
    )
    store(app).db.migrate()
    yield app
    store(app).close()


def test_every_line_is_json_with_the_request_id_which_is_echoed(
    client: FlaskClient, keys: dict[str, str], capture: Capture
) -> None:
    response = client.post(
        "/v1/decisions",
        json=make_case(),
        headers={**auth(keys["system"]), "X-Request-Id": "req-1.A_b"},
    )
    assert response.status_code == 201
    server_id = response.headers["X-Request-Id"]
    assert len(server_id) == 32 and response.headers["X-Client-Request-Id"] == "req-1.A_b"
    access = [r for r in capture.records if r["logger"] == "adjudicator.access"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == server_id and line["client_request_id"] == "req-1.A_b"
    assert line["method"] == "POST" and line["path"] == "/v1/decisions"
    assert line["status"] == 201 and line["duration_ms"] > 0
    assert line["key_id"] == keys["system"].split("_")[1]
    assert {"time", "level", "message"} <= set(line)


@pytest.mark.parametrize("given", ["", "x" * 65, "bad id", "a/b", "ä", "a:b"])
def test_an_insane_request_id_is_replaced(client: FlaskClient, given: str) -> None:
    response = client.get("/v1/decisions/nope", headers={"X-Request-Id": given})
    echoed = response.headers["X-Request-Id"]
    assert echoed != given and len(echoed) == 32
    assert "X-Client-Request-Id" not in response.headers
    assert response.get_json()["request_id"] == echoed  # one id: header and problem body


def test_the_access_line_leaves_out_the_query_string(
    client: FlaskClient, keys: dict[str, str], capture: Capture
) -> None:
    client.get("/v1/decisions?order_id=secret-order-77", headers=auth(keys["staff"]))
    (line,) = [r for r in capture.records if r["logger"] == "adjudicator.access"]
    assert line["path"] == "/v1/decisions" and "secret-order-77" not in capture.text


def test_no_key_case_text_or_traceback_in_any_line(chatty_app: Flask, capture: Capture) -> None:
    token = create_key(store(chatty_app), role="admin", name="logs", actor=OPERATOR)[1]
    client = chatty_app.test_client()
    good = make_case(claim_id=f"ok-{MARKER}", order_id=f"PO-{MARKER}")
    assert client.post("/v1/decisions", json=good, headers=auth(token)).status_code == 201
    invalid = make_case(order_id=MARKER, note=MARKER)
    invalid["order"]["lines"] = [{"line_id": MARKER, "quantity": -1}]
    assert client.post("/v1/decisions", json=invalid, headers=auth(token)).status_code == 422
    failing = make_case(claim_id=f"boom-{MARKER}")
    response = client.post(
        "/v1/decisions", json=failing, headers={**auth(token), "X-Request-Id": "fault-1"}
    )
    assert response.status_code == 500
    bad_key = token[:-4] + "AAAA"
    assert client.get("/v1/rulesets", headers=auth(bad_key)).status_code == 401

    text = capture.text
    assert text, "nothing was logged"
    for secret in (MARKER, token, token.rsplit("_", 1)[-1], bad_key.rsplit("_", 1)[-1]):
        assert secret not in text
    assert "Traceback" not in text and 'File "' not in text and "blew up" not in text
    records = capture.records  # every line is one JSON object
    fault = [r for r in records if r.get("request_id") == response.headers["X-Request-Id"]]
    assert {r["logger"] for r in fault} >= {"adjudicator.test", "adjudicator.access"}
    assert any(r["level"] == "ERROR" for r in fault)
    # Every line here was written while a request was served, and carries its id.
    assert all(r.get("request_id") for r in records)


@pytest.mark.parametrize(
    "header_line",
    [
        "Authorization Bearer {token}",  # no colon: gunicorn logs the whole line
        "Authorization: Bearer{token}",
        "authorization:bearer {token}",
        "X-Api-Key: {token}",
        "Authorization: Basic {secret}",
        "Authorization: Token {secret}",
    ],
)
def test_no_key_in_a_line_even_inside_a_malformed_header(
    capture: Capture, header_line: str
) -> None:
    from gunicorn.http.errors import InvalidHeader

    token = "adj_abcdefghijkl_" + "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tS3cr3tx"
    secret = token.rsplit("_", 1)[-1]
    line = header_line.format(token=token, secret=secret)
    # What gunicorn's worker writes for a request it cannot parse (workers/base.py).
    error = InvalidHeader(line)
    logging.getLogger("gunicorn.error").warning(f"Invalid request from ip=1.2.3.4: {error}")
    logging.getLogger("adjudicator.test").info("seen %s", line)
    assert capture.records
    assert secret not in capture.text and "S3cr3t" not in capture.text
