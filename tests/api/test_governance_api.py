"""The governance routes: replays (202, status, report, CSV) and gated activation over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from governkit import CANDIDATE, CHANGED, UNCHANGED, make_rules_root, seed
from servicekit import KEY_SECRET, StepClock, auth, make_case, reset

from adjudicator import Adjudicator, load_catalog
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.identity.keys import create_key

OPERATOR = Actor(key_id=None, name="cli:test", role="admin")


@pytest.fixture(scope="module")
def governed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    root = make_rules_root(tmp_path_factory.mktemp("rules"))
    url = f"sqlite:///{tmp_path_factory.mktemp('gov') / 'api.db'}"
    app = create_governed_app(url, root)
    _store(app).db.migrate()
    yield app
    _store(app).close()


def create_governed_app(url: str, root: Path) -> Flask:
    from api import create_app

    return create_app(
        {
            "DATABASE_URL": url,
            "KEY_SECRET": KEY_SECRET,
            "ADJUDICATOR": Adjudicator(load_catalog(root)),
            "RULES_DIR": root,
            "CLOCK": StepClock(),
            "ACTIVE_TTL": 0.0,
            "REPLAY_JOBS": 1,
        }
    )


def _store(app: Flask) -> Store:
    found: Store = app.extensions["adjudicator"].store
    return found


@pytest.fixture
def admins(governed_app: Flask) -> dict[str, str]:
    store = _store(governed_app)
    reset(store)
    return {
        name: create_key(store, role=role, name=name, actor=OPERATOR)[1]
        for name, role in (
            ("alice", "admin"),
            ("bob", "admin"),
            ("sam", "staff"),
            ("ada", "auditor"),
        )
    }


@pytest.fixture
def gclient(governed_app: Flask) -> FlaskClient:
    return governed_app.test_client()


def _finished(client: FlaskClient, location: str, token: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        body: dict[str, Any] = client.get(location, headers=auth(token)).get_json()
        if body["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def _replayed(client: FlaskClient, token: str, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/replays", json={"candidate": CANDIDATE, **body}, headers=auth(token)
    )
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_json()["status"] == "queued"
    done = _finished(client, response.headers["Location"], token)
    assert done["status"] == "succeeded", done
    return done


def test_a_replay_runs_in_the_background_and_reports(
    governed_app: Flask, gclient: FlaskClient, admins: dict[str, str]
) -> None:
    seed(_store(governed_app), governed_app.extensions["adjudicator"].adjudicator)
    assert (
        gclient.post(
            "/v1/replays", json={"candidate": CANDIDATE}, headers=auth(admins["sam"])
        ).status_code
        == 403
    )
    unknown = gclient.post("/v1/replays", json={"candidate": "nope"}, headers=auth(admins["alice"]))
    assert unknown.status_code == 422
    done = _replayed(gclient, admins["alice"])
    report = done["report"]
    assert done["progress"] == 1.0 and done["digest"] == report["digest"]
    assert (report["total"], report["changed"]) == (len(CHANGED) + len(UNCHANGED), len(CHANGED))
    csv = gclient.get(f"/v1/replays/{done['replay_id']}/changes.csv", headers=auth(admins["ada"]))
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert len(csv.get_data(as_text=True).splitlines()) == 1 + len(CHANGED)
    missing = gclient.get(
        "/v1/replays/00000000-0000-4000-8000-000000000000", headers=auth(admins["alice"])
    )
    assert missing.status_code == 404


def test_activation_is_gated_and_every_decision_follows_it(
    governed_app: Flask, gclient: FlaskClient, admins: dict[str, str]
) -> None:
    alice, bob = auth(admins["alice"]), auth(admins["bob"])
    default = gclient.get("/v1/rulesets", headers=alice).get_json()["active"]
    assert default != CANDIDATE
    seed(
        _store(governed_app),
        governed_app.extensions["adjudicator"].adjudicator,
        ("WE-1-never-shipped",),
    )
    report = _replayed(gclient, admins["alice"])["replay_id"]

    path = f"/v1/rulesets/{CANDIDATE}/activation-requests"
    body = {"report": report, "reason": "tighter quantity band"}
    assert gclient.post(path, json=body, headers=auth(admins["sam"])).status_code == 403
    filed = gclient.post(path, json=body, headers=alice)
    assert filed.status_code == 201, filed.get_data(as_text=True)
    request_id = filed.get_json()["request_id"]
    approve = f"/v1/activation-requests/{request_id}/approve"
    refused = gclient.post(approve, headers=alice)
    assert refused.status_code == 403
    assert refused.get_json()["type"] == "urn:adjudicator:problem:forbidden"
    approved = gclient.post(approve, headers=bob)
    assert approved.status_code == 200 and approved.get_json()["approved_by"] == "bob"
    again = gclient.post(approve, headers=bob)
    assert again.status_code == 409
    assert again.get_json()["type"] == "urn:adjudicator:problem:request-closed"

    listed = gclient.get("/v1/rulesets", headers=alice).get_json()
    assert listed["active"] == CANDIDATE
    assert [v["version"] for v in listed["versions"] if v["active"]] == [CANDIDATE]
    decided = gclient.post("/v1/decisions", json=make_case(), headers=alice).get_json()
    assert decided["ruleset"]["version"] == CANDIDATE
    pinned = gclient.post(f"/v1/decisions?ruleset={default}", json=make_case(), headers=alice)
    assert pinned.get_json()["ruleset"]["version"] == default

    rolled = gclient.post(
        "/v1/activations/rollback", json={"reason": "EUR refunds spiked"}, headers=bob
    )
    assert rolled.status_code == 200 and rolled.get_json()["version"] == default
    active = gclient.get("/v1/activations/active", headers=auth(admins["sam"])).get_json()
    assert (active["version"], active["kind"]) == (default, "rollback")
    nothing = gclient.post("/v1/activations/rollback", json={"reason": "x"}, headers=bob)
    assert nothing.get_json()["type"] == "urn:adjudicator:problem:nothing-to-roll-back"
    shown = gclient.get(f"/v1/activation-requests/{request_id}", headers=auth(admins["ada"]))
    assert shown.get_json()["status"] == "approved"


def test_a_report_measured_against_another_active_version_is_stale(
    governed_app: Flask, gclient: FlaskClient, admins: dict[str, str]
) -> None:
    alice, bob = auth(admins["alice"]), auth(admins["bob"])
    seed(
        _store(governed_app),
        governed_app.extensions["adjudicator"].adjudicator,
        ("WE-1-never-shipped",),
    )
    default = gclient.get("/v1/rulesets", headers=alice).get_json()["active"]
    against_candidate = _replayed(gclient, admins["alice"], baseline=CANDIDATE)
    assert against_candidate["baseline"]["version"] == CANDIDATE
    filed = gclient.post(
        f"/v1/rulesets/{CANDIDATE}/activation-requests",
        json={"report": against_candidate["replay_id"], "reason": "r"},
        headers=alice,
    )
    stale = gclient.post(
        f"/v1/activation-requests/{filed.get_json()['request_id']}/approve", headers=bob
    )
    assert stale.status_code == 409
    assert stale.get_json()["type"] == "urn:adjudicator:problem:stale-report"
    assert gclient.get("/v1/rulesets", headers=alice).get_json()["active"] == default
