"""``adjudicator worker [--once]``: run the service's due jobs (claim timers, and more).

Several workers may run against one PostgreSQL database; each due item is
acted on once. ``--once`` does what is due now, prints what it did as one
JSON line and exits (1 when a job failed).

On SQLite, ``serve`` starts ``adjudicator worker --parent PID --supervise``:
a small process that runs the loop in a child of its own and starts a new
one, after a pause that doubles up to 30 s, whenever that child dies (an
out-of-memory kill, say), so the claim timers never stop silently.
"""

from __future__ import annotations

import logging.config
import os
import signal
import subprocess
import sys
import threading
import time
from types import FrameType
from typing import Any

import click
import orjson

from adjudicator import worker
from adjudicator.audit.signing import SigningKeyError
from adjudicator.cli import context
from adjudicator.logs import logging_config
from adjudicator.settings import SettingsError


@click.command("worker")
@click.option("--once", is_flag=True, help="Do what is due now, then exit.")
@click.option(
    "--interval", default=1.0, type=click.FloatRange(0.05, 3600), help="Seconds between rounds."
)
@click.option(
    "--parent",
    type=int,
    default=None,
    hidden=True,
    help="Stop when this process is no longer the parent (serve's own worker).",
)
@click.option(
    "--supervise",
    is_flag=True,
    hidden=True,
    help="Run the loop in a child process and restart it whenever it dies.",
)
def worker_command(once: bool, interval: float, parent: int | None, supervise: bool) -> None:
    """Run the due jobs: auto-escalation, evidence lapse, and every registered job."""
    try:
        settings = context.settings()
        jobs = worker.all_jobs(settings)
        log_level = settings.service.log_level
    except (SettingsError, SigningKeyError) as exc:
        raise click.ClickException(str(exc)) from exc
    logging.config.dictConfig(logging_config(log_level))  # JSON lines, as serve's

    if supervise and not once:
        _supervise(_stop_event(parent), interval)
        return
    with context.store(migrate=True) as store:
        if once:
            done = worker.run_once(store, jobs)
            click.echo(orjson.dumps(done))
            if any(count < 0 for count in done.values()):
                sys.exit(1)
            return
        worker.run(store, jobs, _stop_event(parent), interval)


def _stop_event(parent: int | None) -> threading.Event:
    """An event set by SIGTERM or SIGINT, or once ``parent`` is gone."""
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if parent is not None:
        threading.Thread(
            target=_stop_when_orphaned, args=(parent, stop), name="parent-watch", daemon=True
        ).start()
    return stop


def stop_child(child: subprocess.Popen[Any], grace: float = 10) -> None:
    """SIGTERM ``child``, SIGKILL it after ``grace`` seconds, and reap it."""
    child.terminate()
    try:
        child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _supervise(stop: threading.Event, interval: float, longest_pause: float = 30.0) -> None:
    """Keep one worker child running until ``stop``; then stop it (SIGTERM, SIGKILL after 10 s).

    A child that dies is started again after a pause of 1 s, doubled after
    each death up to ``longest_pause``, and back to 1 s once a child has run
    for a minute.
    """
    command = [sys.executable, "-m", "adjudicator", "worker", "--interval", str(interval)]
    pause = 1.0
    while True:
        child = subprocess.Popen([*command, "--parent", str(os.getpid())])
        started = time.monotonic()
        while child.poll() is None and not stop.wait(0.5):
            pass
        if stop.is_set():
            stop_child(child)
            return
        if time.monotonic() - started > 60:
            pause = 1.0
        worker.log.error(
            "the job worker (pid %d) exited with code %s; starting another in %.0f s",
            child.pid,
            child.returncode,
            pause,
        )
        if stop.wait(pause):
            return
        pause = min(pause * 2, longest_pause)


def _stop_when_orphaned(parent: int, stop: threading.Event, every: float = 0.5) -> None:
    """Set ``stop`` once ``parent`` is gone (this process was re-parented)."""
    while not stop.wait(every):
        if os.getppid() != parent:
            stop.set()
