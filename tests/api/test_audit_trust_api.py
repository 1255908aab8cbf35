"""/v1/audit/checkpoints, /v1/audit/entries/{seq}/proof and /v1/audit/export."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
from flask import Flask
from flask.testing import FlaskClient
from servicekit import auth

from adjudicator.audit.checkpoint_note import Signer, Verifier, open_checkpoint
from adjudicator.audit.checkpoints import make_checkpoint
from adjudicator.audit.receipts import verify_export, verify_receipt
from adjudicator.audit.signing import load_or_create_key
from api.schemas import CheckpointListSchema, ReceiptSchema


def _signer(tmp_path: Path) -> Signer:
    return Signer("adjudicator.test/audit", load_or_create_key(tmp_path / "k.pem"))


def _store(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["adjudicator"].store


def test_checkpoints_are_listed_with_their_key(
    app: Flask, client: FlaskClient, keys: dict[str, str], tmp_path: Path
) -> None:
    empty = client.get("/v1/audit/checkpoints", headers=auth(keys["system"])).get_json()
    assert empty == {"items": [], "verifier_keys": []}
    signer = _signer(tmp_path)
    made = make_checkpoint(_store(app), signer)
    body = client.get("/v1/audit/checkpoints", headers=auth(keys["system"])).get_json()
    assert CheckpointListSchema().validate(body) == {}
    assert body["verifier_keys"] == [signer.verifier.encode()]
    (item,) = body["items"]
    assert (item["tree_size"], item["note"]) == (made.tree_size, made.note)
    checkpoint = open_checkpoint(item["note"], Verifier.parse(body["verifier_keys"][0]))
    assert checkpoint.root.hex() == item["root_hash"]


def test_a_proof_is_a_receipt_that_verifies(
    app: Flask, client: FlaskClient, keys: dict[str, str], decision: dict[str, object],
    tmp_path: Path,
) -> None:  # fmt: skip
    staff = auth(keys["staff"])
    assert client.get("/v1/audit/entries/3/proof", headers=staff).status_code == 404
    signer = _signer(tmp_path)
    size = make_checkpoint(_store(app), signer).tree_size
    response = client.get(f"/v1/audit/entries/{size}/proof", headers=staff)
    assert response.status_code == 200
    got = response.get_json()
    assert ReceiptSchema().validate(got) == {}
    assert got["entry"]["payload"]["decision_id"] == decision["decision_id"]
    assert verify_receipt(got, signer.verifier).ok
    assert client.get(f"/v1/audit/entries/{size + 1}/proof", headers=staff).status_code == 404
    assert client.get("/v1/audit/entries/0/proof", headers=staff).status_code == 404
    assert client.get("/v1/audit/entries/1/proof", headers=auth(keys["system"])).status_code == 403


def test_export_streams_ndjson_and_csv_that_verify(
    client: FlaskClient, keys: dict[str, str], decision: dict[str, object]
) -> None:
    auditor = auth(keys["auditor"])
    response = client.get("/v1/audit/export", headers=auditor)
    assert response.status_code == 200 and response.is_streamed
    assert response.content_type == "application/x-ndjson"
    lines = response.get_data().splitlines()
    report = verify_export(lines)
    assert report.ok and report.entries == len(lines) >= 6
    part = client.get("/v1/audit/export?from=2&to=3", headers=auditor).get_data().splitlines()
    assert [orjson.loads(line)["seq"] for line in part] == [2, 3]
    table = client.get("/v1/audit/export?format=csv", headers=auditor)
    assert table.content_type.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table.get_data(as_text=True))))
    assert [int(r["seq"]) for r in rows] == list(range(1, len(lines) + 1))
    assert rows[-1]["action"] == "decision.created" and rows[-1]["actor_role"] == "system"
    bad = client.get("/v1/audit/export?from=yesterday", headers=auditor)
    assert bad.status_code == 422 and "from" in bad.get_json()["errors"]
    assert client.get("/v1/audit/export", headers=auth(keys["staff"])).status_code == 403
