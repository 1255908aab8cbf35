"""Security basics: HMAC-stored keys compared in constant time, body limit, per-key
rate limit, and an audit log that no request can write except by deciding."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from servicekit import KEY_SECRET, auth, make_case
from sqlalchemy import select

from adjudicator import Adjudicator, load_catalog
from adjudicator.audit.log import chain_length
from adjudicator.core.lifecycle import API_ACTIONS
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.identity.keys import authenticate, create_key
from adjudicator.identity.models import ApiKeyRow
from api import create_app

ACTIVE_VERSION = load_catalog().active_version

OPERATOR = Actor(key_id=None, name="cli:test", role="admin")


def store(app: Flask) -> Store:
    """The app's store."""
    found: Store = app.extensions["adjudicator"].store
    return found


WRITES = ("POST", "PUT", "PATCH", "DELETE")
# The only routes that may append to the audit log (besides the CLI's key commands).
APPENDING = {
    ("/v1/decisions", "POST"),
    ("/v1/decisions/<decision_id>/override", "POST"),
    ("/v1/webhooks", "POST"),  # webhook.created
    ("/v1/webhooks/<webhook_id>", "DELETE"),  # webhook.deleted
    ("/v1/claims", "POST"),
    *((f"/v1/claims/<claim_ref>/{action}", "POST") for action in API_ACTIONS),
    # the rules-governance acts (audited), and starting a replay (its own row only)
    ("/v1/replays", "POST"),
    ("/v1/rulesets/<version>/activation-requests", "POST"),
    ("/v1/activation-requests/<request_id>/approve", "POST"),
    ("/v1/activations/rollback", "POST"),
}


def test_keys_are_stored_as_hmac_sha256_under_the_server_secret(
    app: Flask, keys: dict[str, str]
) -> None:
    token = keys["system"]
    with store(app).db.read() as session:
        rows = session.execute(select(ApiKeyRow)).scalars().all()
    row = next(r for r in rows if r.id == token.split("_")[1])
    assert row.key_hash == hmac.new(KEY_SECRET, token.encode(), hashlib.sha256).hexdigest()
    assert not any(token in repr(vars(r)) for r in rows)


def test_keys_are_compared_with_compare_digest(
    app: Flask, keys: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    token = keys["staff"]
    assert authenticate(store(app), token) is not None
    assert authenticate(store(app), token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert authenticate(store(app), "adj_" + "z" * 12 + token[16:]) is None  # unknown id
    assert len(calls) == 3  # an unknown id costs the same comparison


def test_a_10_mb_body_is_413(client: FlaskClient, keys: dict[str, str]) -> None:
    body = b'{"pad": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    response = client.post(
        "/v1/decisions",
        data=body,
        headers={**auth(keys["system"]), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"] == "urn:adjudicator:problem:payload-too-large"


@pytest.fixture
def limited(adjudicator: Adjudicator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app whose keys may make 3 requests, then one per 100 s (split over 1 process)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('limit') / 'limit.db'}"
    app = create_app(
        {
            "DATABASE_URL": url,
            "KEY_SECRET": KEY_SECRET,
            "ADJUDICATOR": adjudicator,
            "RATE_LIMIT": 0.01,
            "RATE_BURST": 3,
        }
    )
    store(app).db.migrate()
    yield app
    store(app).close()


def test_a_key_over_its_rate_is_429_with_retry_after(limited: Flask) -> None:
    first = create_key(store(limited), role="system", name="busy", actor=OPERATOR)[1]
    second = create_key(store(limited), role="system", name="calm", actor=OPERATOR)[1]
    client = limited.test_client()
    for _ in range(3):
        response = client.post("/v1/decisions", json=make_case(), headers=auth(first))
        assert response.status_code == 201
    refused = client.post("/v1/decisions", json=make_case(), headers=auth(first))
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["type"] == "urn:adjudicator:problem:rate-limited"
    assert refused.get_json()["request_id"] == refused.headers["X-Request-Id"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 100
    # Other keys keep their own bucket; the refused request stored nothing.
    assert client.post("/v1/decisions", json=make_case(), headers=auth(second)).status_code == 201
    assert chain_length(store(limited)) == 2 + 3 + 1


def test_the_default_limit_is_generous(app: Flask) -> None:
    limiter = app.extensions["adjudicator"].limiter
    assert limiter.rate >= 1000 and limiter.burst >= 2000


@pytest.mark.parametrize("path", ["/v1/audit", "/v1/audit/verify"])
@pytest.mark.parametrize("method", WRITES)
def test_the_audit_log_cannot_be_written(
    app: Flask, client: FlaskClient, keys: dict[str, str], method: str, path: str
) -> None:
    before = chain_length(store(app))
    response = client.open(path, method=method, json={"action": "x"}, headers=auth(keys["admin"]))
    assert response.status_code == 405
    assert chain_length(store(app)) == before


def test_only_the_audited_routes_accept_writes(app: Flask) -> None:
    # The staff console's forms (cookie sessions, CSRF) are checked in tests/console.
    writable = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) & set(WRITES)
        if not rule.rule.startswith("/console/")
    }
    assert writable == APPENDING


def test_reading_every_route_appends_nothing(
    app: Flask, client: FlaskClient, keys: dict[str, str], decision: dict[str, Any]
) -> None:
    before = chain_length(store(app))
    values = {"decision_id": decision["decision_id"], "version": ACTIVE_VERSION}
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or set()) and rule.endpoint != "static":
            path = rule.rule
            for name, value in values.items():
                path = path.replace(f"<{name}>", value)
            assert client.get(path, headers=auth(keys["admin"])).status_code < 500, path
    assert chain_length(store(app)) == before


def test_limited_responses_carry_the_ietf_ratelimit_fields(limited: Flask) -> None:
    token = create_key(store(limited), role="system", name="fields", actor=OPERATOR)[1]
    client = limited.test_client()
    seen = []
    for _ in range(4):
        response = client.get("/v1/rulesets", headers=auth(token))
        seen.append((response.status_code, response.headers.get("RateLimit")))
        # a bucket of 3 that refills at 0.01/s: 300 s to refill from empty
        assert response.headers["RateLimit-Policy"] == '"per-key";q=3;w=300'
    assert [status for status, _ in seen] == [200, 200, 200, 429]
    remaining = [field.split(";")[1] for _, field in seen]
    assert remaining == ["r=2", "r=1", "r=0", "r=0"]
    assert all(field.startswith('"per-key";') for _, field in seen)
    resets = [int(field.split(";t=")[1]) for _, field in seen]
    assert 99 <= resets[0] <= 100 and 299 <= resets[2] <= 300  # seconds until full again
    # No key, no bucket: a 401 carries no fields.
    assert "RateLimit" not in client.get("/v1/rulesets").headers
