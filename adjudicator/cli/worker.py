"""``adjudicator worker [--once]``: run the service's due jobs (claim timers, and more).

Several workers may run against one PostgreSQL database; each due item is
acted on once. ``--once`` does what is due now, prints what it did as one
JSON line and exits (1 when a job failed).
"""

from __future__ import annotations

import logging.config
import os
import signal
import sys
import threading
from types import FrameType

import click
import orjson

from adjudicator import worker
from adjudicator.logs import logging_config
from adjudicator.settings import ServiceSettings, SettingsError


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
def worker_command(once: bool, interval: float, parent: int | None) -> None:
    """Run the due jobs: auto-escalation, evidence lapse, and every registered job."""
    from adjudicator.cli.service import _store

    try:
        settings = ServiceSettings.from_env(os.environ)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    logging.config.dictConfig(logging_config(settings.log_level))  # JSON lines, as serve's

    with _store(migrate=True) as store:
        if once:
            done = worker.run_once(store)
            click.echo(orjson.dumps(done))
            if any(count < 0 for count in done.values()):
                sys.exit(1)
            return
        stop = threading.Event()

        def _stop(_signum: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        if parent is not None:
            threading.Thread(
                target=_stop_when_orphaned, args=(parent, stop), name="parent-watch", daemon=True
            ).start()
        worker.run(store, stop, interval)


def _stop_when_orphaned(parent: int, stop: threading.Event, every: float = 0.5) -> None:
    """Set ``stop`` once ``parent`` is gone (this process was re-parented)."""
    while not stop.wait(every):
        if os.getppid() != parent:
            stop.set()
