"""``GET /metrics``: Prometheus text; decisions, latencies and the audit chain's length."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families
from servicekit import auth, make_case

from adjudicator import load_catalog
from adjudicator.audit.log import list_audit
from adjudicator.db.store import Store


def store(app: Flask) -> Store:
    """The app's store."""
    found: Store = app.extensions["adjudicator"].store
    return found


def scrape(client: FlaskClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and sorted labels."""
    response = client.get("/metrics")  # no key: readable by whoever reaches the bind address
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


DECIDED = (
    "adjudicator_decisions_total",
    (("outcome", "upheld_full"), ("ruleset", load_catalog().active_version)),
)
POSTED = (
    "adjudicator_request_duration_seconds_count",
    (("endpoint", "/v1/decisions"), ("method", "POST"), ("status", "201")),
)
REPLAYED = (POSTED[0], (("endpoint", "/v1/decisions"), ("method", "POST"), ("status", "200")))
ENGINE = ("adjudicator_decision_duration_seconds_count", ())
CHAIN = ("adjudicator_audit_chain_length", ())


def test_metrics_count_decisions_requests_engine_time_and_the_chain(
    app: Flask, client: FlaskClient, keys: dict[str, str]
) -> None:
    before = scrape(client)
    headers = {**auth(keys["system"]), "Idempotency-Key": "metrics-1"}
    body = make_case()
    assert client.post("/v1/decisions", json=body, headers=headers).status_code == 201
    assert client.post("/v1/decisions", json=body, headers=headers).status_code == 200
    other = client.post("/v1/decisions", json=make_case(), headers=auth(keys["staff"]))
    assert other.status_code == 201
    after = scrape(client)

    assert after[DECIDED] - before.get(DECIDED, 0) == 2  # the replay stored nothing new
    assert after[POSTED] - before.get(POSTED, 0) == 2
    assert after[REPLAYED] - before.get(REPLAYED, 0) == 1
    assert after[ENGINE] - before.get(ENGINE, 0) >= 2
    entries = list_audit(store(app), cursor=None, limit=200, action=None, subject=None).items
    assert after[CHAIN] == len(entries) == entries[-1].seq


def test_unmatched_paths_do_not_become_labels(client: FlaskClient) -> None:
    client.get("/no/such/path/12345")
    text = client.get("/metrics").get_data(as_text=True)
    assert "12345" not in text and 'endpoint="unmatched"' in text


def test_metrics_name_no_key_or_key_id(client: FlaskClient, keys: dict[str, str]) -> None:
    client.post("/v1/decisions", json=make_case(), headers=auth(keys["system"]))
    text = client.get("/metrics").get_data(as_text=True)
    for token in keys.values():
        assert token.split("_")[1] not in text
