"""Crash safety of claims: ``adjudicator serve`` on PostgreSQL killed with SIGKILL mid-actions.

Eight client threads each file a claim, then take turns on it as supplier and
buyer (``respond``, ``reject``, ``respond``...), every request with its own
Idempotency-Key. After some answers the whole process group gets SIGKILL.
The server is started again, and then:

- the audit chain verifies (decisions cross-checked too);
- every action that got a 200 is stored: an event with its key, its audit
  entry (same seq, action and subject) and its outbox row;
- each claim's events are numbered without a gap and its status is the last
  event's;
- retrying every request in order (same key, same body) answers 200: the
  stored ones are replayed, the one a kill cut off is taken now.
"""

from __future__ import annotations

import http.client
import signal
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from claimkit import filed_case
from httpkit import kill_group, request
from servicekit import open_test_store, pg_base_url, pg_schema
from sqlalchemy import select
from test_crash_safety import OPERATOR, Server, kill_mid_traffic

from adjudicator.audit.models import AuditEntryRow
from adjudicator.claims.models import ClaimEventRow, ClaimRow
from adjudicator.db.config import utc_now
from adjudicator.identity.keys import create_key
from adjudicator.verification import verify_audit
from adjudicator.webhooks.models import OutboxRow

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(
        pg_base_url() is None,
        reason="crash safety runs on PostgreSQL only: set ADJUDICATOR_TEST_DATABASE_URL",
    ),
]

THREADS, PER_THREAD = 8, 40
KILL_AFTER = 40  # answered actions before the kill


@pytest.fixture
def database_url() -> Iterator[str]:
    base = pg_base_url()
    assert base is not None
    with pg_schema(base, "claimcrash") as url:
        yield url


def _step(index: int) -> tuple[str, dict[str, Any]]:
    if index % 2 == 0:
        return "respond", {
            "as": "supplier",
            "kind": "refund",
            "refund": {"amount": f"{100 + index}.00"},
        }
    return "reject", {"as": "buyer"}


def test_sigkill_in_the_middle_of_claim_actions_loses_nothing(
    database_url: str, tmp_path: Path
) -> None:
    store = open_test_store(database_url)
    store.db.migrate()
    token = create_key(store, role="system", name="crash", actor=OPERATOR)[1]
    headers = {"Authorization": f"Bearer {token}"}
    filed = utc_now() - timedelta(hours=1)

    claims: dict[int, str] = {}
    sent: dict[str, tuple[int, str, dict[str, Any]]] = {}  # key -> (thread, action, body)
    acked: dict[str, dict[str, Any]] = {}
    failed: dict[str, str] = {}
    lock = threading.Lock()
    answered = threading.Semaphore(0)
    killed = threading.Event()

    def client(worker: int, port: int) -> None:
        case = filed_case(filed_at=filed, order_id=f"PO-CC-{worker}", claim_id=f"C-{worker}")
        status, _, body = request(
            port, "POST", "/v1/claims", case, {**headers, "Idempotency-Key": f"open-{worker}"}
        )
        assert status == 201, body
        ref = orjson.loads(body)["claim_ref"]
        with lock:
            claims[worker] = ref
        for index in range(PER_THREAD):
            key = f"cc-{worker}-{index}"
            action, payload = _step(index)
            with lock:
                sent[key] = (worker, action, payload)
            try:
                status, _, body = request(
                    port,
                    "POST",
                    f"/v1/claims/{ref}/{action}",
                    payload,
                    {**headers, "Idempotency-Key": key},
                )
            except (OSError, http.client.HTTPException) as exc:  # the server is gone
                with lock:
                    failed[key] = type(exc).__name__
                return
            with lock:
                if status == 200:
                    acked[key] = orjson.loads(body)
                else:
                    failed[key] = f"HTTP {status}: {body[:200]!r}"
            if status != 200:
                return
            answered.release()

    server = Server(database_url, tmp_path, "first")
    kill_mid_traffic(server, client, THREADS, KILL_AFTER, answered, killed, wait=60)

    assert not [v for v in failed.values() if v.startswith("HTTP")], failed
    assert len(sent) < THREADS * PER_THREAD  # the kill came in the middle
    assert len(claims) == THREADS

    server = Server(database_url, tmp_path, "second")
    try:
        report = verify_audit(store)
        assert report.ok, report
        with store.db.read() as session:
            events = session.execute(select(ClaimEventRow)).scalars().all()
            entries = {e.seq: e for e in session.execute(select(AuditEntryRow)).scalars()}
            outbox = session.execute(select(OutboxRow.claim_ref)).scalars().all()
            rows = {r.ref: r for r in session.execute(select(ClaimRow)).scalars()}
            by_key = {e.idempotency_key: e for e in events if e.idempotency_key}
            for key in acked:
                assert key in by_key, f"{key} got a 200 but is not stored"
            for event in events:
                entry = entries[event.audit_seq]
                assert (entry.action, entry.subject) == (event.type, event.claim_ref)
            assert len(outbox) == len(events)
            for ref, row in rows.items():
                mine = sorted((e for e in events if e.claim_ref == ref), key=lambda e: e.seq)
                assert [e.seq for e in mine] == list(range(1, row.event_count + 1))
                assert row.status == mine[-1].to_status

        for key, (worker, action, payload) in sorted(
            sent.items(), key=lambda kv: (kv[1][0], int(kv[0].rsplit("-", 1)[1]))
        ):
            ref = claims[worker]
            status, _, raw = request(
                server.port,
                "POST",
                f"/v1/claims/{ref}/{action}",
                payload,
                {**headers, "Idempotency-Key": key},
            )
            assert status == 200, (key, raw)
        assert verify_audit(store).ok
    finally:
        kill_group(server.process, signal.SIGTERM)
        store.close()
