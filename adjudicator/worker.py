"""The worker: runs the service's due jobs, once (``--once``) or in a loop.

A job is a callable taking the :class:`Store` (and so its one clock) and
returning how many items it acted on. :data:`JOBS` is the registry: another
part of the service adds its job with one line (webhook delivery, audit
checkpoints...). Jobs must be safe to run in several workers at once (the
claim jobs take due rows with ``FOR UPDATE SKIP LOCKED``).

``adjudicator worker`` runs it as a process; on the SQLite default,
``adjudicator serve`` starts one such process beside gunicorn (never a thread
of its master, which forks). This module does no I/O of its own: the jobs
do, through the store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from adjudicator.audit.checkpoints import checkpoint_job
from adjudicator.claims.jobs import auto_escalate, lapse_evidence
from adjudicator.claims.reconcile import reconcile_job
from adjudicator.db.store import Store
from adjudicator.governance.replays import abandon_stale_replays
from adjudicator.webhooks import deliver_due, dispatch_outbox
from adjudicator.webhooks.retention import prune_webhook_log

Job = Callable[[Store], int]
log = logging.getLogger("adjudicator.worker")

JOBS: dict[str, Job] = {
    "claims.auto_escalate": auto_escalate,
    "claims.lapse_evidence": lapse_evidence,
    "webhooks.dispatch": dispatch_outbox,
    "webhooks.deliver": deliver_due,
    "webhooks.prune": prune_webhook_log,
    "audit.checkpoint": checkpoint_job,
    "replays.abandon": abandon_stale_replays,
    "money.reconcile": reconcile_job,
}


def run_once(store: Store, jobs: dict[str, Job] | None = None) -> dict[str, int]:
    """Run every job once until nothing is due; return how many items each acted on.

    A failing job is logged and counted as -1; the others still run.
    """
    done: dict[str, int] = {}
    for name, job in (JOBS if jobs is None else jobs).items():
        try:
            done[name] = job(store)
        except Exception:
            log.exception("worker job %s failed", name)
            done[name] = -1
    return done


def run(store: Store, stop: threading.Event, interval: float = 1.0) -> None:
    """Run the jobs every ``interval`` seconds until ``stop`` is set."""
    while not stop.is_set():
        done = run_once(store)
        if any(count > 0 for count in done.values()):
            log.info("worker: %s", done)
        stop.wait(interval)
