"""The worker: timers act once per due claim, from the CLI too, and two workers share the work.

The race: two `adjudicator worker --once` processes take 120 due claims with FOR
UPDATE SKIP LOCKED (marked slow). On PostgreSQL both are held at the claims table
until each waits there, then let go at once, so every claim is contended and both
act on some; "acted on exactly once" is then a claim about the lock, not about who
started first. On SQLite, which serialises writers, they take turns over 50.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from claimkit import STAFF_A, SYSTEM, MovableClock, filed_case
from click.testing import CliRunner
from servicekit import KEY_SECRET, open_test_store, reset
from sqlalchemy import func, make_url, select, text

from adjudicator import Adjudicator, worker
from adjudicator.audit.log import list_audit
from adjudicator.claims.models import ClaimEventRow, ClaimRow
from adjudicator.claims.service import Viewer, act, claim_events, get_claim, open_claim
from adjudicator.cli import main
from adjudicator.db.config import utc_now
from adjudicator.db.store import Store
from adjudicator.settings import Settings
from adjudicator.verification import verify_audit

STAFF = Viewer(STAFF_A.key_id, "staff")
RACE_CLAIMS = {"postgresql": 120, "sqlite": 50}  # SKIP LOCKED is PostgreSQL's; SQLite serialises


JOBS = worker.all_jobs(Settings.from_env({}))  # the worker's jobs, default settings


@pytest.fixture
def clock() -> MovableClock:  # type: ignore[override]
    return MovableClock()


def test_auto_escalation_acts_once_when_due(
    store: Store, adjudicator: Adjudicator, clock: MovableClock
) -> None:
    record, _ = open_claim(store, adjudicator, filed_case(), SYSTEM)
    done = worker.run_once(store, JOBS)
    assert (done["claims.auto_escalate"], done["claims.lapse_evidence"]) == (0, 0)
    clock.move(timedelta(hours=170))
    assert worker.run_once(store, JOBS)["claims.auto_escalate"] == 1
    assert worker.run_once(store, JOBS)["claims.auto_escalate"] == 0
    claim = get_claim(store, record.ref, STAFF).to_dict()
    assert claim["status"] == "awaiting_staff"
    clocks = {c["name"]: c["state"] for c in claim["clocks"]}
    assert clocks["auto_escalation_at"] == "met" and clocks["supplier_response_due"] == "missed"
    (escalated,) = [e for e in claim_events(store, record.ref, STAFF) if e.action != "open"]
    assert (escalated.type, escalated.party, escalated.actor_name) == (
        "claim.escalated",
        "timer",
        "timer",
    )
    assert list_audit(store, action="claim.escalated").items[0].actor_name == "timer"


@pytest.mark.parametrize(
    ("party", "after"), [("buyer", "cancelled"), ("supplier", "awaiting_staff")]
)
def test_lapsed_evidence(
    store: Store, adjudicator: Adjudicator, clock: MovableClock, party: str, after: str
) -> None:
    record, _ = open_claim(store, adjudicator, filed_case(), SYSTEM)
    clock.move(timedelta(hours=80))
    act(store, adjudicator, record.ref, "escalate", {}, SYSTEM, party="buyer")
    due = clock() + timedelta(days=2)
    act(
        store,
        adjudicator,
        record.ref,
        "request_evidence",
        {"party": party, "what": "photos", "due": due},
        STAFF_A,
    )
    assert worker.run_once(store, JOBS)["claims.lapse_evidence"] == 0
    clock.move(timedelta(days=3))
    assert worker.run_once(store, JOBS)["claims.lapse_evidence"] == 1
    claim = get_claim(store, record.ref, STAFF).to_dict()
    assert claim["status"] == after
    assert {c["name"]: c["state"] for c in claim["clocks"]}["evidence_due"] == "missed"


def _real_time_store(database_url: str) -> Store:
    store = open_test_store(database_url)  # the real clock: the CLI's workers use it too
    reset(store)
    return store


def _env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "ADJUDICATOR_KEY_SECRET": KEY_SECRET.decode(),
    }


def test_worker_once_escalates_a_claim_filed_ten_days_ago(
    database_url: str, adjudicator: Adjudicator
) -> None:
    store = _real_time_store(database_url)
    try:
        case = filed_case(filed_at=utc_now() - timedelta(days=10))
        record, _ = open_claim(store, adjudicator, case, SYSTEM)
        result = CliRunner().invoke(
            main, ["worker", "--once"], env=_env(database_url), catch_exceptions=False
        )
        assert result.exit_code == 0
        assert orjson.loads(result.stdout)["claims.auto_escalate"] == 1
        assert get_claim(store, record.ref, STAFF).to_dict()["status"] == "awaiting_staff"
    finally:
        store.close()


def _workers_let_go_together(
    store: Store, database_url: str, n: int
) -> list[subprocess.Popen[bytes]]:
    """``n`` ``adjudicator worker --once`` processes that reach the due claims at once.

    On PostgreSQL the claims table is locked (EXCLUSIVE: reads pass, FOR UPDATE
    waits) until every worker waits on a lock; SQLite serialises its writers anyway.
    """
    command = [str(Path(sys.executable).parent / "adjudicator"), "worker", "--once"]
    env = {**_env(database_url), "ADJUDICATOR_DB_STATEMENT_TIMEOUT": "120"}  # the wait at the lock
    if store.db.dialect != "postgresql":
        return [subprocess.Popen(command, env=env, stdout=subprocess.PIPE) for _ in range(n)]
    name = f"race-{secrets.token_hex(4)}"  # the workers' connections, in pg_stat_activity
    url = make_url(database_url).update_query_dict({"application_name": name})
    env["DATABASE_URL"] = url.render_as_string(hide_password=False)
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"
        " AND wait_event_type = 'Lock'"
    )
    with store.db.engine.connect() as gate:
        gate.execute(text(f"LOCK TABLE {ClaimRow.__tablename__} IN EXCLUSIVE MODE"))
        workers = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE) for _ in range(n)]
        deadline = time.monotonic() + 120
        while True:
            gate.execute(text("SELECT pg_stat_clear_snapshot()"))  # a fresh look each time
            if gate.execute(waiting, {"name": name}).scalar_one() >= n:
                break
            assert all(w.poll() is None for w in workers), "a worker ended before the race"
            assert time.monotonic() < deadline, "the workers never reached the claims"
            time.sleep(0.05)
        gate.rollback()  # the lock goes: every worker takes claims from here at once
    return workers


@pytest.mark.slow
def test_two_workers_racing_over_due_claims_act_on_each_once(
    database_url: str, adjudicator: Adjudicator
) -> None:
    store = _real_time_store(database_url)
    claims = RACE_CLAIMS[store.db.dialect]
    try:
        filed = utc_now() - timedelta(days=10)
        for i in range(claims):
            open_claim(store, adjudicator, filed_case(filed_at=filed, order_id=f"PO-{i}"), SYSTEM)
        done = []
        for process in _workers_let_go_together(store, database_url, 2):
            out, _ = process.communicate(timeout=240)
            assert process.returncode == 0
            done.append(orjson.loads(out)["claims.auto_escalate"])
        assert sum(done) == claims
        if store.db.dialect == "postgresql":
            assert min(done) > 0, f"one worker took every claim: {done}"  # they did race
        with store.db.read() as session:
            per_claim = session.execute(
                select(ClaimEventRow.claim_ref, func.count())
                .where(ClaimEventRow.action == "auto_escalate")
                .group_by(ClaimEventRow.claim_ref)
            ).all()
        assert len(per_claim) == claims and {n for _, n in per_claim} == {1}
        assert verify_audit(store).ok
        print(f"\nworkers acted on {done} claims")
    finally:
        store.close()


def _worker_children(parent: int) -> list[int]:
    """The ``adjudicator worker --parent`` processes whose parent is ``parent``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            argv = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        if ppid == parent and b"worker" in argv and b"--parent" in argv:
            found.append(int(stat.parent.name))
    return found


def _one_worker_child(parent: int, timeout: float = 30) -> int:
    """The pid of ``parent``'s one worker child, once it has started."""
    deadline = time.monotonic() + timeout
    while True:
        children = _worker_children(parent)
        if children or time.monotonic() > deadline:
            assert len(children) == 1, f"worker children of {parent}: {children}"
            return children[0]
        time.sleep(0.1)


def _gone(*pids: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while any(_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(_running(pid) for pid in pids)


@pytest.fixture
def serve_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """serve's environment on a migrated SQLite file of this test's own."""
    monkeypatch.setenv("ADJUDICATOR_KEY_SECRET", KEY_SECRET.decode())
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    open_test_store(os.environ["DATABASE_URL"]).db.migrate()
    return monkeypatch


def test_serve_runs_the_worker_beside_it_on_sqlite_only(serve_env: pytest.MonkeyPatch) -> None:
    """A process of its own, not a thread: gunicorn forks its workers from serve's process."""
    from adjudicator.cli.service import _sqlite_worker

    threads = {t.name for t in threading.enumerate()}
    with _sqlite_worker():
        assert {t.name for t in threading.enumerate()} == threads  # nothing to fork under
        supervisor = _one_worker_child(os.getpid())
        loop = _one_worker_child(supervisor)
    assert not _worker_children(os.getpid())  # stopped and reaped
    assert _gone(supervisor, loop)
    serve_env.setenv("DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    with _sqlite_worker():
        assert not _worker_children(os.getpid())


@pytest.mark.usefixtures("serve_env")
def test_serves_worker_is_started_again_when_it_dies() -> None:
    """An out-of-memory kill of the job loop does not stop the claim timers for good."""
    from adjudicator.cli.service import _sqlite_worker

    with _sqlite_worker():
        supervisor = _one_worker_child(os.getpid())
        first = _one_worker_child(supervisor)
        os.kill(first, signal.SIGKILL)
        assert _gone(first)
        second = _one_worker_child(supervisor)
        assert second != first and _running(second)
    assert _gone(supervisor, second)


@pytest.mark.parametrize("supervised", [False, True], ids=["loop", "supervised"])
def test_serves_worker_stops_when_serve_is_killed(tmp_path: Path, supervised: bool) -> None:
    """serve SIGKILLed leaves no worker behind: it notices it was orphaned and exits."""
    env = {
        **os.environ,
        "ADJUDICATOR_KEY_SECRET": KEY_SECRET.decode(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'orphan.db'}",
    }
    open_test_store(env["DATABASE_URL"]).db.migrate()
    extra = ", '--supervise'" if supervised else ""
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, subprocess, sys, time\n"
            "w = subprocess.Popen([sys.executable, '-m', 'adjudicator', 'worker',"
            f" '--parent', str(os.getpid()){extra}])\n"
            "print(w.pid, flush=True)\n"
            "time.sleep(60)\n",
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    with parent:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        pids = [child, _one_worker_child(child)] if supervised else [child]
        parent.kill()
    assert _gone(*pids), "the orphaned worker is still running"


def _running(pid: int) -> bool:
    """``pid`` exists and has not exited (a zombie waits only for init to reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
