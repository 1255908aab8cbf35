"""An engine fault in one decision, seen through the API (the app in-process).

A rule action is made to fail for one request (as tests/unit/test_engine_faults.py
does for the core): that request gets a problem+json 500 with its request id and
no stack trace, the fault is logged with the case digest and not the case, no
engine session is left behind, nothing is stored, and the next decisions are right.
A valid case the ruleset reaches no outcome for (spec v1.2, clarification 22) is a
422 problem naming the case digest and the stage, never a bare 500.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from servicekit import auth, make_case
from sqlalchemy import func, select

import adjudicator.core.context as context_module
from adjudicator import Adjudicator, case_digest
from adjudicator.audit.models import AuditEntryRow
from adjudicator.decisions.models import DecisionRow
from api.problems import PROBLEM_JSON


def _counts(app: Flask) -> tuple[int, int]:
    store = app.extensions["adjudicator"].store
    with store.db.read() as session:
        decisions = session.execute(select(func.count()).select_from(DecisionRow)).scalar_one()
        entries = session.execute(select(func.count()).select_from(AuditEntryRow)).scalar_one()
    return decisions, entries


def test_a_fault_in_one_decision_is_a_500_for_that_request_only(
    app: Flask,
    client: FlaskClient,
    keys: dict[str, str],
    adjudicator: Adjudicator,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    headers = auth(keys["system"])
    before = client.post("/v1/decisions", json=make_case(), headers=headers)
    assert before.status_code == 201
    expected = {k: before.get_json()[k] for k in ("outcome", "refund", "money", "reasons")}
    stored_before = _counts(app)

    def broken(start: Any, days: int) -> Any:
        raise ZeroDivisionError("forced fault")

    monkeypatch.setattr(context_module, "add_business_days", broken)
    case = make_case(order_id="PO-SECRET-ORDER", case_id="case-secret-1")
    with caplog.at_level(logging.ERROR, logger="api"):
        failed = client.post(
            "/v1/decisions",
            json=case,
            headers={**headers, "Idempotency-Key": "fault-1", "X-Request-Id": "req-fault-1"},
        )
    monkeypatch.undo()

    assert failed.status_code == 500
    assert failed.mimetype == PROBLEM_JSON
    problem = failed.get_json()
    assert problem["type"] == "urn:adjudicator:problem:internal"
    assert problem["request_id"] == failed.headers["X-Request-Id"]
    assert failed.headers["X-Client-Request-Id"] == "req-fault-1"
    text = failed.get_data(as_text=True)
    for leak in ("Traceback", "ZeroDivisionError", "forced fault", "TIME-02", "PO-SECRET"):
        assert leak not in text

    faults = [r for r in caplog.records if r.name == "api" and r.levelno == logging.ERROR]
    assert len(faults) == 1, [r.getMessage() for r in caplog.records]
    logged = faults[0]
    digest = case_digest(case)
    assert logged.getMessage().count(digest) == 1
    assert getattr(logged, "case_digest", None) == digest
    assert failed.headers["X-Request-Id"] in logged.getMessage()
    for leak in ("PO-SECRET-ORDER", "case-secret-1", "20000.00", "non_shipment"):
        assert leak not in logged.getMessage()

    sids = [str(sid) for sid in range(1, 201)]
    assert adjudicator.engine.live_sessions(adjudicator.catalog.active, sids) == []
    assert _counts(app) == stored_before  # nothing stored for the failed request

    for _ in range(3):
        after = client.post("/v1/decisions", json=make_case(), headers=headers)
        assert after.status_code == 201
        assert {k: after.get_json()[k] for k in expected} == expected
    # The failed request's key was never stored: retrying it now decides it.
    retried = client.post(
        "/v1/decisions", json=case, headers={**headers, "Idempotency-Key": "fault-1"}
    )
    assert retried.status_code == 201
    assert retried.get_json()["outcome"] == expected["outcome"]


def _lost_nothing(**ids: Any) -> dict[str, Any]:
    """Worked example 1 as a ``not_received`` claim under DDP whose only shipment, lost in
    transit, lists its line with quantity 0: a breach that affects no goods (spec v1.2,
    clarification 22), which version 2024.2 reaches no outcome for."""
    case = make_case(**ids)
    case["order"]["incoterm"] = "DDP"
    case["shipments"] = [
        {
            "shipment_id": "S1",
            "lines": [{"line_id": "L1", "quantity": 0}],
            "transport_document": {"kind": "bill_of_lading", "on_board_on": "2024-04-10"},
            "transit_loss": True,
        }
    ]
    case["claim"].update(ground="not_received", filed_at="2024-05-25T10:00:00Z")
    case["as_of"] = "2024-05-30T12:00:00Z"
    return case


def test_a_case_that_reaches_no_outcome_is_a_problem_naming_its_digest_and_stage(
    app: Flask,
    client: FlaskClient,
    keys: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Clarification 22: an engine that reaches no outcome (here the known gap of 2024.2)
    answers a problem+json naming the case digest, the version and the stage, never a
    bare 500; nothing is stored, and the version that closes the gap decides the case."""
    headers = auth(keys["system"])
    case = _lost_nothing(order_id="PO-SECRET-GAP", case_id="case-secret-gap")
    stored_before = _counts(app)
    with caplog.at_level(logging.ERROR, logger="api"):
        failed = client.post(
            "/v1/decisions?ruleset=2024.2",
            json=case,
            headers={**headers, "Idempotency-Key": "gap-1", "X-Request-Id": "req-gap-1"},
        )

    assert failed.status_code == 422
    assert failed.mimetype == PROBLEM_JSON
    problem = failed.get_json()
    assert problem["type"] == "urn:adjudicator:problem:no-outcome"
    assert problem["case_digest"] == case_digest(case)
    assert problem["ruleset"] == "2024.2"
    assert problem["stage"] == "loss"
    assert "2024.2" in problem["detail"] and "loss" in problem["detail"]
    assert problem["request_id"] == failed.headers["X-Request-Id"]
    for leak in ("Traceback", "PO-SECRET", "case-secret", "durable"):
        assert leak not in failed.get_data(as_text=True)

    logged = [r for r in caplog.records if r.name == "api" and r.levelno == logging.ERROR]
    assert len(logged) == 1, [r.getMessage() for r in caplog.records]
    assert case_digest(case) in logged[0].getMessage()
    assert "loss" in logged[0].getMessage()
    assert "PO-SECRET-GAP" not in logged[0].getMessage()
    assert _counts(app) == stored_before  # nothing decided, nothing stored

    decided = client.post("/v1/decisions", json=case, headers=headers)  # the active version
    assert decided.status_code == 201
    body = decided.get_json()
    assert body["ruleset"]["version"] != "2024.2"
    assert body["outcome"] == "denied"
    assert [r["code"] for r in body["reasons"]][-1] == "D_CLAIMED_GOODS_NOT_AFFECTED"
