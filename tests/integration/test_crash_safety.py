"""Crash safety: ``adjudicator serve`` on PostgreSQL killed with SIGKILL mid-traffic loses nothing.

A fresh schema of its own; ``adjudicator serve`` (2 workers x 2 threads) on a
free loopback port; 8 client threads post distinct cases with distinct
Idempotency-Keys; once some decisions are in, the whole process group
(master and workers) gets SIGKILL. The server is started again, and then:

- the audit chain verifies;
- every stored decision has its ``decision.created`` entry, and every such
  entry its decision (the one-transaction rule held through the kill);
- every request that got a 201 is stored, as it was returned;
- retrying every request (same key, same body) returns the stored decision
  with 200, and decides the ones never stored with 201.

Bounded: at most ``THREADS * PER_THREAD`` requests, every wait has a deadline.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from httpkit import free_port, group_alive, kill_group, request, wait_ready
from servicekit import KEY_SECRET, make_case, open_test_store, pg_base_url, pg_schema
from sqlalchemy import select

from adjudicator.audit.models import AuditEntryRow
from adjudicator.db.actor import Actor
from adjudicator.decisions.models import DecisionRow
from adjudicator.identity.keys import create_key
from adjudicator.verification import verify_audit

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(
        pg_base_url() is None,
        reason="crash safety runs on PostgreSQL only: set ADJUDICATOR_TEST_DATABASE_URL",
    ),
]

ADJUDICATOR = str(Path(sys.executable).with_name("adjudicator"))
THREADS, PER_THREAD = 8, 60
KILL_AFTER = 40  # answered requests before the kill
OPERATOR = Actor(key_id=None, name="cli:test", role="admin")


@pytest.fixture
def database_url() -> Iterator[str]:
    base = pg_base_url()
    assert base is not None
    with pg_schema(base, "crash") as url:
        yield url


class Server:
    """``adjudicator serve`` in a process group of its own."""

    def __init__(self, url: str, workdir: Path, name: str) -> None:
        env = {**os.environ, "DATABASE_URL": url, "ADJUDICATOR_KEY_SECRET": KEY_SECRET.decode()}
        self.port = free_port()
        self.log_path = workdir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [ADJUDICATOR, "serve", "--port", str(self.port), "--workers", "2",
                 "--threads", "2"],
                cwd=workdir, env=env, stdout=log, stderr=log, start_new_session=True,
            )  # fmt: skip
        wait_ready(self.port, self.process, self.log_path)

    def kill(self) -> None:
        """SIGKILL the master and its workers at once; wait until none is left."""
        kill_group(self.process, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while group_alive(self.process.pid):
            assert time.monotonic() < deadline, "workers survived SIGKILL of their group"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None or group_alive(self.process.pid):
            kill_group(self.process, signal.SIGKILL)


def kill_mid_traffic(
    server: Server,
    client: Callable[[int, int], None],
    threads: int,
    kill_after: int,
    answered: threading.Semaphore,
    killed: threading.Event,
    wait: float,
) -> None:
    """Run ``threads`` clients against ``server``; SIGKILL it after ``kill_after`` answers.

    Each client is ``client(worker, port)`` and releases ``answered`` per answer;
    ``killed`` is set just before the kill. Returns once every client has ended.
    """
    try:
        running = [
            threading.Thread(target=client, args=(i, server.port), daemon=True)
            for i in range(threads)
        ]
        for thread in running:
            thread.start()
        for _ in range(kill_after):
            assert answered.acquire(timeout=wait), server.log_path.read_text()[-3000:]
        killed.set()
        server.kill()
        for thread in running:
            thread.join(timeout=30)
            assert not thread.is_alive()
    finally:
        server.stop()


def test_sigkill_in_the_middle_loses_nothing(database_url: str, tmp_path: Path) -> None:
    store = open_test_store(database_url)
    store.db.migrate()
    token = create_key(store, role="system", name="crash", actor=OPERATOR)[1]
    headers = {"Authorization": f"Bearer {token}"}

    bodies: dict[str, dict[str, Any]] = {}  # Idempotency-Key -> the case posted
    created: dict[str, dict[str, Any]] = {}  # Idempotency-Key -> the 201 body
    failed: dict[str, str] = {}  # Idempotency-Key -> what happened instead
    lock = threading.Lock()
    answered = threading.Semaphore(0)
    killed = threading.Event()

    def client(worker: int, port: int) -> None:
        for index in range(PER_THREAD):
            key = f"crash-{worker}-{index}"
            case = make_case(order_id=f"PO-CRASH-{worker}", claim_id=f"CL-{worker}-{index}")
            with lock:
                bodies[key] = case
            try:
                status, _, body = request(
                    port, "POST", "/v1/decisions", case, {**headers, "Idempotency-Key": key}
                )
            except (OSError, http.client.HTTPException) as exc:  # the server is gone
                with lock:
                    failed[key] = type(exc).__name__
                if killed.is_set():
                    return
                continue
            with lock:
                if status == 201:
                    created[key] = orjson.loads(body)
                else:
                    failed[key] = f"HTTP {status}"
            answered.release()

    server = Server(database_url, tmp_path, "first")
    kill_mid_traffic(server, client, THREADS, KILL_AFTER, answered, killed, wait=30)

    assert len(created) >= KILL_AFTER // 2, failed  # most answers before the kill were 201s
    assert len(created) + len(failed) == len(bodies)
    assert not [v for v in failed.values() if v.startswith("HTTP")], failed
    assert len(bodies) < THREADS * PER_THREAD  # the kill really came in the middle

    server = Server(database_url, tmp_path, "second")
    try:
        report = verify_audit(store)
        assert report.ok, report

        with store.db.read() as session:
            rows = session.execute(select(DecisionRow.idempotency_key, DecisionRow.id)).all()
            stored = {key: decision_id for key, decision_id in rows}
            entries = session.execute(
                select(AuditEntryRow.subject).where(AuditEntryRow.action == "decision.created")
            ).scalars().all()  # fmt: skip
        assert sorted(entries) == sorted(stored.values())
        assert len(set(entries)) == len(entries)
        assert set(stored) <= set(bodies)

        for key, body in created.items():
            assert key in stored, f"{key} got a 201 but is not stored"
            assert stored[key] == body["decision_id"]

        for key, case in sorted(bodies.items()):
            status, _, raw = request(
                server.port, "POST", "/v1/decisions", case, {**headers, "Idempotency-Key": key}
            )
            body = orjson.loads(raw)
            if key in stored:  # also those stored whose answer the kill cut off
                assert status == 200, (key, raw)
                assert body["decision_id"] == stored[key]
                if key in created:
                    assert body == created[key]  # the very decision the 201 returned
            else:
                assert status == 201, (key, raw)

        report = verify_audit(store)
        assert report.ok, report
        assert report.entries == 1 + len(bodies)  # the key, then one decision per request
    finally:
        kill_group(server.process, signal.SIGTERM)
        store.close()
