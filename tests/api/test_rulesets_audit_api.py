"""/v1/rulesets, /v1/audit, /v1/audit/verify, /healthz, /readyz and /v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from servicekit import auth
from sqlalchemy import update

from adjudicator.audit.models import AuditEntryRow
from api.schemas import AuditPageSchema, RulesetListSchema, RulesetSchema, VerifyReportSchema


def test_rulesets_list_versions_digests_and_the_active_one(
    app: Flask, client: FlaskClient, keys: dict[str, str]
) -> None:
    catalog = app.extensions["adjudicator"].adjudicator.catalog
    body = client.get("/v1/rulesets", headers=auth(keys["system"])).get_json()
    assert RulesetListSchema().validate(body) == {}
    assert body["active"] == catalog.active.version
    assert [v["version"] for v in body["versions"]] == catalog.versions
    (active,) = [v for v in body["versions"] if v["active"]]
    assert active["digest"] == catalog.active.digest and active["digest"].startswith("sha256:")


def test_a_ruleset_shows_each_rule(app: Flask, client: FlaskClient, keys: dict[str, str]) -> None:
    ruleset = app.extensions["adjudicator"].adjudicator.catalog.active
    response = client.get(f"/v1/rulesets/{ruleset.version}", headers=auth(keys["auditor"]))
    body = response.get_json()
    assert RulesetSchema().validate(body) == {}
    assert body["digest"] == ruleset.digest and body["active"] is True
    assert [r["id"] for r in body["rules"]] == [r.id for r in ruleset.rules]
    assert all(r["title"] and r["source"] for r in body["rules"])
    assert body["rule_count"] == len(ruleset.rules)


def test_the_audit_log_pages_and_verifies(
    app: Flask, client: FlaskClient, keys: dict[str, str], decision: dict[str, Any]
) -> None:
    auditor = auth(keys["auditor"])
    seen, url = [], "/v1/audit?limit=2"
    while url:
        body = client.get(url, headers=auditor).get_json()
        assert AuditPageSchema().validate(body) == {}
        seen += body["items"]
        url = body["next_cursor"] and f"/v1/audit?limit=2&cursor={body['next_cursor']}"
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
    assert [e["action"] for e in seen][-1] == "decision.created"
    assert seen[-1]["payload"]["decision_id"] == decision["decision_id"]

    report = client.get("/v1/audit/verify", headers=auditor).get_json()
    assert VerifyReportSchema().validate(report) == {}
    assert report == {
        "ok": True,
        "entries": len(seen),
        "head": {"seq": len(seen), "hash": seen[-1]["hash"]},
        "first_bad": None,
    }

    store = app.extensions["adjudicator"].store
    with store.db.write() as session:
        session.execute(
            update(AuditEntryRow).where(AuditEntryRow.seq == 2).values(subject="tampered")
        )
    report = client.get("/v1/audit/verify", headers=auditor).get_json()
    assert report["ok"] is False
    assert report["first_bad"]["seq"] == 2 and report["first_bad"]["problem"] == "changed"


def test_health_and_readiness(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_openapi_is_generated_from_the_schemas(client: FlaskClient) -> None:
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    schemas = spec["components"]["schemas"]
    assert {"Case", "Order", "Claim", "Decision", "Problem", "Override"} <= set(schemas)
    post = spec["paths"]["/v1/decisions"]["post"]
    body_schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/Case"}
    assert {"200", "201", "400", "401", "403", "409", "413", "422"} <= set(post["responses"])
    problem = post["responses"]["422"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    params = {p["name"] for p in post["parameters"]}
    assert {"Idempotency-Key", "ruleset"} <= params
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
