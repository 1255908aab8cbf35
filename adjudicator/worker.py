"""The worker: runs the service's due jobs, once (``--once``) or in a loop.

A job is a callable taking the :class:`Store` (and so its one clock) and
returning how many items it acted on. :func:`all_jobs` is the registry, each
job given the part of the worker's :class:`~adjudicator.settings.Settings` it
needs: another part of the service adds its job with one line. Jobs must be
safe to run in several workers at once (the claim jobs take due rows with
``FOR UPDATE SKIP LOCKED``).

``adjudicator worker`` runs it as a process; on the SQLite default,
``adjudicator serve`` starts one such process beside gunicorn (never a thread
of its master, which forks). This module does no I/O of its own: the jobs
do, through the store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from functools import partial

from adjudicator.audit.checkpoints import checkpoint_job
from adjudicator.claims.jobs import auto_escalate, lapse_evidence
from adjudicator.claims.reconcile import reconcile_job
from adjudicator.db.store import Store
from adjudicator.governance.replays import abandon_stale_replays
from adjudicator.settings import Settings
from adjudicator.webhooks import deliver_due, dispatch_outbox
from adjudicator.webhooks.retention import prune_webhook_log

Job = Callable[[Store], int]
log = logging.getLogger("adjudicator.worker")


def all_jobs(settings: Settings) -> dict[str, Job]:
    """Every job, each given the settings it needs: the registry a worker runs."""
    return {
        "claims.auto_escalate": auto_escalate,
        "claims.lapse_evidence": lapse_evidence,
        "webhooks.dispatch": dispatch_outbox,
        "webhooks.deliver": deliver_due,
        "webhooks.prune": partial(
            prune_webhook_log, retention_days=settings.service.webhook_retention_days
        ),
        "audit.checkpoint": partial(checkpoint_job, settings=settings.audit),
        "replays.abandon": abandon_stale_replays,
        "money.reconcile": reconcile_job,
    }


def run_once(store: Store, jobs: Mapping[str, Job]) -> dict[str, int]:
    """Run every job once until nothing is due; return how many items each acted on.

    A failing job is logged and counted as -1; the others still run.
    """
    done: dict[str, int] = {}
    for name, job in jobs.items():
        try:
            done[name] = job(store)
        except Exception:
            log.exception("worker job %s failed", name)
            done[name] = -1
    return done


def run(
    store: Store, jobs: Mapping[str, Job], stop: threading.Event, interval: float = 1.0
) -> None:
    """Run the jobs every ``interval`` seconds until ``stop`` is set."""
    while not stop.is_set():
        done = run_once(store, jobs)
        if any(count > 0 for count in done.values()):
            log.info("worker: %s", done)
        stop.wait(interval)
