"""A worker whose engine reports MemoryError is replaced, under real gunicorn.

The app is the production one (``RECYCLE_ON_ENGINE_FAULT`` on, as ``serve`` sets
it), loaded by gunicorn through tests/support/faultyapp.py, whose engine core
raises MemoryError for one marked case. That request gets a problem+json 500;
the worker then stops, gunicorn starts a new one (another pid), and the next
requests are decided normally.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from faultyapp import MARKER
from httpkit import free_port, kill_group, request, wait_ready
from servicekit import KEY_SECRET, make_case, open_test_store

from adjudicator.db.actor import Actor
from adjudicator.identity.keys import create_key

SUPPORT = Path(__file__).resolve().parents[1] / "support"
PID = "X-Test-Worker-Pid"


@pytest.mark.slow
def test_worker_is_recycled_after_engine_memory_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'recycle.db'}"
    store = open_test_store(url)
    store.db.migrate()
    actor = Actor(key_id=None, name="cli:test", role="admin")
    key = create_key(store, role="system", name="recycle", actor=actor)[1]
    store.close()
    headers = {"Authorization": f"Bearer {key}"}

    env = {**os.environ, "DATABASE_URL": url, "ADJUDICATOR_KEY_SECRET": KEY_SECRET.decode()}
    env["PYTHONPATH"] = os.pathsep.join([str(SUPPORT), env.get("PYTHONPATH", "")])
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, str(SUPPORT / "faultyapp.py"), str(port)],
            cwd=tmp_path, env=env, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
    try:
        wait_ready(port, server, log_path)
        status, got, body = request(port, "POST", "/v1/decisions", make_case(), headers)
        assert status == 201, body
        first_pid = int(got[PID])
        expected = orjson.loads(body)["outcome"]

        status, got, body = request(
            port, "POST", "/v1/decisions", make_case(claim_id=MARKER), headers
        )
        assert status == 500, body
        assert got["Content-Type"] == "application/problem+json"
        problem = orjson.loads(body)
        assert problem["type"] == "urn:adjudicator:problem:internal" and problem["request_id"]
        assert b"MemoryError" not in body and b"Traceback" not in body

        # The next requests land on a new worker (one worker: no other pid to reach).
        deadline = time.monotonic() + 15
        pids: list[int] = []
        while time.monotonic() < deadline and not (pids and pids[-1] != first_pid):
            try:
                status, got, body = request(port, "POST", "/v1/decisions", make_case(), headers)
            except OSError:  # between the old worker's exit and the new one's accept
                time.sleep(0.05)
                continue
            assert status == 201, body
            assert orjson.loads(body)["outcome"] == expected
            pids.append(int(got[PID]))
            time.sleep(0.02)
        assert pids and pids[-1] != first_pid, f"never recycled: {len(pids)} x {set(pids)}"
        for _ in range(3):  # and the new worker decides right
            status, got, body = request(port, "POST", "/v1/decisions", make_case(), headers)
            assert status == 201 and orjson.loads(body)["outcome"] == expected, body
            assert int(got[PID]) == pids[-1]
        with pytest.raises(ProcessLookupError):
            os.kill(first_pid, 0)  # the old worker is gone (reaped by the master)
        assert server.poll() is None  # the master lives on
    finally:
        kill_group(server, signal.SIGTERM)
    text = log_path.read_text()
    assert text.count("Booting worker") >= 2, text[-3000:]
    assert "this worker will be recycled" in text and "case sha256:" in text
