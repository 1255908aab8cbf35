"""A Python client generated from ``/v1/openapi.json`` by openapi-python-client round-trips
worked example 1 against a live ``adjudicator serve`` (issue 10, point 7).

The client is generated at test time into a temporary directory, from the
document the running server serves, so a change to the API that breaks
generated clients fails here.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from httpkit import free_port, request, wait_ready
from servicekit import KEY_SECRET

from adjudicator import load_catalog

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]
WORKED_EXAMPLE_1 = ROOT / "fixtures" / load_catalog().active_version / "WE-1-never-shipped.json"
PACKAGE = "adjudicator_generated_client"

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
        "ADJUDICATOR_KEY_SECRET": KEY_SECRET.decode(),
    }
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(BIN / "adjudicator"), "serve", "--port", str(port), "--workers", "1"],
            env=env, stdout=log, stderr=log, cwd=tmp_path,
        )  # fmt: skip
        try:
            wait_ready(port, process, log_path)
            yield port, env
        finally:
            process.terminate()
            process.wait(timeout=30)


def _generate(spec: bytes, where: Path) -> Any:
    (where / "openapi.json").write_bytes(spec)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [str(BIN / "openapi-python-client"), "generate", "--path", "openapi.json",
         "--meta", "none", "--output-path", PACKAGE],
        cwd=where, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, done.stdout  # every operation and model generated
    sys.path.insert(0, str(where))
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))


def test_a_generated_client_round_trips_worked_example_1(
    server: tuple[int, dict[str, str]], tmp_path: Path
) -> None:
    port, env = server
    status, _, spec = request(port, "GET", "/v1/openapi.json")
    assert status == 200
    key = subprocess.run(
        [str(BIN / "adjudicator"), "keys", "create", "--role", "staff", "--name", "generated"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    client_pkg = _generate(spec, tmp_path)
    try:
        post = importlib.import_module(f"{PACKAGE}.api.decisions.post_v1_decisions")
        get = importlib.import_module(f"{PACKAGE}.api.decisions.get_v1_decisions_decision_id")
        models = importlib.import_module(f"{PACKAGE}.models")

        fixture = json.loads(WORKED_EXAMPLE_1.read_text())
        case = models.Case.from_dict(fixture["case"])
        with client_pkg.AuthenticatedClient(
            base_url=f"http://127.0.0.1:{port}", token=key
        ) as client:
            created = post.sync_detailed(client=client, body=case, idempotency_key="PO-1/claim-1")
            assert created.status_code == 201, created.content
            decision = created.parsed
            assert isinstance(decision, models.Decision)
            again = post.sync_detailed(client=client, body=case, idempotency_key="PO-1/claim-1")
            assert again.status_code == 200 and again.parsed.decision_id == decision.decision_id
            fetched = get.sync(client=client, decision_id=decision.decision_id)
        assert isinstance(fetched, models.DecisionWithCase)

        expected = fixture["expected"]
        assert decision.outcome == expected["outcome"] == "upheld_full"
        assert decision.refund.amount == expected["refund"] and decision.refund.currency == "USD"
        assert [r.code for r in decision.reasons] == expected["reason_codes"]
        assert decision.money.to_dict() == {**expected["money"], "binding": expected["binding"]}
        assert decision.deadlines.to_dict() == expected["deadlines"]
        # The decision and its case come back through the client's models unchanged.
        assert fetched.to_dict() == {**decision.to_dict(), "case": fetched.case.to_dict()}
        sent = json.loads(json.dumps(case.to_dict(), default=str))
        received = {k: v for k, v in fetched.case.to_dict().items() if k in sent}
        assert received == sent
    finally:
        for name in [m for m in sys.modules if m.startswith(PACKAGE)]:
            del sys.modules[name]
        shutil.rmtree(tmp_path / PACKAGE, ignore_errors=True)
