"""Two ``adjudicator serve`` processes on one PostgreSQL follow an activation without a restart.

Each server stands for a host with its own workers; an admin requests the
activation on one, another admin approves on the other, and both then decide
with the new version (each worker re-reads the active version after at most
``ACTIVE_TTL`` seconds). Then a rollback on one switches both back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from governkit import CANDIDATE, make_rules_root
from servicekit import make_case, pg_base_url, pg_schema

from adjudicator.db.actor import Actor
from adjudicator.db.config import StoreConfig
from adjudicator.db.store import open_store
from adjudicator.identity.keys import create_key

ADJUDICATOR = str(Path(sys.executable).with_name("adjudicator"))
SECRET = "activation-test-secret-of-at-least-32-bytes"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.skipif(pg_base_url() is None, reason="ADJUDICATOR_TEST_DATABASE_URL unset"),
]


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _call(port: int, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conn.request(method, path, None if body is None else orjson.dumps(body), headers)
        response = conn.getresponse()
        raw = response.read()
        return response.status, orjson.loads(raw) if raw else None
    finally:
        conn.close()


@contextmanager
def _serve(env: dict[str, str], log_path: Path) -> Iterator[int]:
    port = _free_port()
    log = log_path.open("wb")
    server = subprocess.Popen(
        [ADJUDICATOR, "serve", "--port", str(port), "--workers", "2", "--threads", "1"],
        cwd=log_path.parent,
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log.close()


def _until(check: Callable[[], bool], what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + 60
    while not check():
        assert time.monotonic() < deadline, what + "\n" + "\n".join(p.read_text() for p in logs)
        time.sleep(0.1)


def _ready(port: int) -> bool:
    try:
        return _call(port, "GET", "/readyz", "")[0] == 200
    except OSError:
        return False


def _active_everywhere(ports: list[int], token: str, version: str) -> bool:
    # several requests per server, so each of its workers is asked
    return all(
        _call(port, "GET", "/v1/rulesets", token)[1]["active"] == version
        for port in ports
        for _ in range(6)
    )


def test_both_servers_switch_to_an_approved_version_and_back(tmp_path: Path) -> None:
    base = pg_base_url()
    assert base is not None
    root = make_rules_root(tmp_path / "rules")
    with ExitStack() as stack:
        url = stack.enter_context(pg_schema(base, "serve2"))
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "ADJUDICATOR_KEY_SECRET": SECRET,
            "ADJUDICATOR_RULES_DIR": str(root),
            "ADJUDICATOR_REPLAY_JOBS": "1",
        }
        logs = []
        ports = []
        for name in ("host-a", "host-b"):
            (tmp_path / name).mkdir()
            logs.append(tmp_path / name / "serve.log")
            ports.append(stack.enter_context(_serve(env, logs[-1])))
        for port in ports:
            _until(lambda port=port: _ready(port), "a server did not start", logs)  # type: ignore[misc]

        store = open_store(StoreConfig(database_url=url, key_secret=SECRET.encode()))
        stack.callback(store.close)
        operator = Actor(key_id=None, name="cli:test", role="admin")
        alice = create_key(store, role="admin", name="alice", actor=operator)[1]
        bob = create_key(store, role="admin", name="bob", actor=operator)[1]
        a, b = ports

        default = _call(a, "GET", "/v1/rulesets", alice)[1]["active"]
        assert default != CANDIDATE and _active_everywhere(ports, alice, default)
        assert _call(a, "POST", "/v1/decisions", alice, make_case())[0] == 201
        status, replay = _call(a, "POST", "/v1/replays", alice, {"candidate": CANDIDATE})
        assert status == 202, replay

        def succeeded() -> bool:
            found = _call(b, "GET", f"/v1/replays/{replay['replay_id']}", bob)[1]
            assert found["status"] != "failed", found
            return bool(found["status"] == "succeeded")

        _until(succeeded, "the replay did not finish", logs)
        status, filed = _call(
            a,
            "POST",
            f"/v1/rulesets/{CANDIDATE}/activation-requests",
            alice,
            {"report": replay["replay_id"], "reason": "tighter quantity band"},
        )
        assert status == 201, filed
        approve = f"/v1/activation-requests/{filed['request_id']}/approve"
        assert _call(b, "POST", approve, alice)[0] == 403  # on any host: not the requester
        assert _call(b, "POST", approve, bob)[0] == 200

        _until(lambda: _active_everywhere(ports, alice, CANDIDATE), "not all switched", logs)
        for port in ports:
            decided = _call(port, "POST", "/v1/decisions", alice, make_case())[1]
            assert decided["ruleset"]["version"] == CANDIDATE

        status, _ = _call(b, "POST", "/v1/activations/rollback", bob, {"reason": "roll back"})
        assert status == 200
        _until(lambda: _active_everywhere(ports, alice, default), "not all rolled back", logs)
    for log in logs:
        assert "Traceback" not in log.read_text()
