"""Generated requests against every operation of ``/v1/openapi.json`` (schemathesis).

The app runs in-process (WSGI) on the session's temporary SQLite database;
each operation starts from a fresh database with one key per role, one
stored decision and one open claim. Every request is sent with the admin key (admin may do
everything; schemathesis also sends requests without it), and fewer with a
system and an auditor key (each refused some operations); each must get no 5xx,
a documented status code and content type, documented headers, and a body
matching the documented schema. Each operation gets its documented examples,
then valid and invalid generated requests, bounded by ``MAX_EXAMPLES``.

The operations are listed here (and checked against the document) instead of
using ``schema.parametrize()`` on a fixture: ``schemathesis.pytest.from_fixture``
fails on pytest 9 (it reads ``request.node._nodeid``).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from servicekit import auth, make_case

from adjudicator.core.lifecycle import API_ACTIONS

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 60
OPERATIONS = [
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/v1/decisions"),
    ("GET", "/v1/decisions"),
    ("GET", "/v1/decisions/{decision_id}"),
    ("POST", "/v1/decisions/{decision_id}/override"),
    ("GET", "/v1/rulesets"),
    ("GET", "/v1/rulesets/{version}"),
    ("GET", "/v1/audit"),
    ("GET", "/v1/audit/verify"),
    ("GET", "/v1/audit/export"),
    ("GET", "/v1/audit/checkpoints"),
    ("GET", "/v1/audit/entries/{seq}/proof"),
    ("POST", "/v1/webhooks"),
    ("GET", "/v1/webhooks"),
    ("DELETE", "/v1/webhooks/{webhook_id}"),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"),
    ("POST", "/v1/claims"),
    ("GET", "/v1/claims"),
    ("GET", "/v1/claims/{claim_ref}"),
    ("GET", "/v1/claims/{claim_ref}/events"),
    ("GET", "/v1/orders/{order_id}/ledger"),
    *(("POST", f"/v1/claims/{{claim_ref}}/{action}") for action in API_ACTIONS),
    ("POST", "/v1/replays"),
    ("GET", "/v1/replays/{replay_id}"),
    ("GET", "/v1/replays/{replay_id}/changes.csv"),
    ("POST", "/v1/rulesets/{version}/activation-requests"),
    ("GET", "/v1/activation-requests/{request_id}"),
    ("POST", "/v1/activation-requests/{request_id}/approve"),
    ("GET", "/v1/activations/active"),
    ("POST", "/v1/activations/rollback"),
]


@pytest.fixture(scope="module")
def api_schema(app: Flask) -> Any:
    return schemathesis.openapi.from_wsgi("/v1/openapi.json", app)


@pytest.fixture
def seeded(client: FlaskClient, keys: dict[str, str]) -> dict[str, str]:
    """A fresh database with one key per role and one stored decision."""
    response = client.post("/v1/decisions", json=make_case(), headers=auth(keys["system"]))
    assert response.status_code == 201
    response = client.post("/v1/claims", json=make_case(), headers=auth(keys["system"]))
    assert response.status_code == 201
    return keys


def test_the_operations_below_are_all_the_documented_ones(api_schema: Any) -> None:
    found = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


# admin may do everything: the full run. system and auditor are each refused some
# operations (403) and allowed others: a shorter run each, so the role checks conform too.
ROLE_RUNS = [("admin", MAX_EXAMPLES), ("system", 10), ("auditor", 10)]


@pytest.mark.parametrize(("role", "examples"), ROLE_RUNS, ids=[r for r, _ in ROLE_RUNS])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_conforms_to_the_document(
    api_schema: Any, seeded: dict[str, str], method: str, path: str, role: str, examples: int
) -> None:
    operation = api_schema[path][method]
    cases = st.one_of(
        *operation.get_strategies_from_examples(),
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    headers = auth(seeded[role])

    @given(case=cases)
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
