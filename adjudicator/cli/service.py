"""``adjudicator serve``, ``db upgrade``, ``keys create|list|revoke``.

``db backup`` is :mod:`adjudicator.cli.audit`'s (the group lists it there).

These are the operator's commands around the service. Nothing here imports
Flask or ``api``: ``serve`` hands gunicorn the import string of the app
factory, and each worker builds its own app (and its own engine host).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import click
import orjson

from adjudicator.cli import context
from adjudicator.core.errors import AdjudicatorError
from adjudicator.db.errors import NotFound
from adjudicator.identity.keys import ROLES, create_key, list_keys, revoke_key
from adjudicator.settings import SettingsError

APP_FACTORY = "api:create_app({{'RECYCLE_ON_ENGINE_FAULT': True, 'RATE_SHARES': {workers}}})"


@click.command("serve")
@click.option("--host", default=None, help="Address to bind [ADJUDICATOR_HOST, 127.0.0.1].")
@click.option(
    "--port", default=None, type=click.IntRange(0, 65535), help="[ADJUDICATOR_PORT, 8000]"
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="Worker processes, each with its own engine host [ADJUDICATOR_WORKERS, 2].",
)
@click.option(
    "--threads",
    default=None,
    type=click.IntRange(1, 64),
    help="Threads per worker (gthread) [ADJUDICATOR_THREADS, 2].",
)
def serve_command(
    host: str | None, port: int | None, workers: int | None, threads: int | None
) -> None:
    """Migrate the database, then serve the API under gunicorn.

    SIGTERM stops it gracefully: no new connections, in-flight requests finish
    within ``ADJUDICATOR_GRACEFUL_TIMEOUT`` seconds, then it exits 0.
    """
    try:
        settings = context.settings().service
        context.load_rules_catalog().active  # noqa: B018 - refuses to start on a broken active version
    except (SettingsError, AdjudicatorError) as exc:
        raise click.ClickException(str(exc)) from exc
    settings = replace(
        settings,
        host=host or settings.host,
        port=settings.port if port is None else port,
        workers=workers or settings.workers,
        threads=threads or settings.threads,
    )
    with context.store(migrate=True):
        pass
    with metrics_dir(settings.metrics_dir) as shared, _sqlite_worker():
        # Set before gunicorn forks: each worker's prometheus-client writes its samples there.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = shared
        from adjudicator.cli.gunicorn_app import ServiceApplication, gunicorn_options

        app_uri = APP_FACTORY.format(workers=settings.workers)
        ServiceApplication(app_uri, gunicorn_options(settings)).run()


@contextmanager
def _sqlite_worker() -> Iterator[None]:
    """On SQLite, ``serve`` starts the worker beside gunicorn (``make run`` is all).

    It is a process of its own, ``adjudicator worker --parent PID --supervise``,
    never a thread of gunicorn's master: gunicorn forks its workers from the
    master, and a fork taken while a thread holds a lock (SQLite's own mutexes,
    a connection pool's) leaves that lock held for ever in the child, whose
    requests then hang. It keeps the job loop running in a child of its own
    (restarted when it dies), stops on SIGTERM, or by itself once ``serve``
    is gone (even when it was SIGKILLed).
    """
    config = context.config()
    if not config.database_url.startswith("sqlite"):
        yield
        return
    from adjudicator.cli.worker import stop_child

    owner = os.getpid()
    command = [sys.executable, "-m", "adjudicator", "worker", "--parent", str(owner), "--supervise"]
    process = subprocess.Popen(command)  # inherits the environment, so the same database
    try:
        yield
    finally:
        if os.getpid() == owner:  # gunicorn's forks unwind this frame too: only the master stops
            stop_child(process)


@contextmanager
def metrics_dir(configured: str | None) -> Iterator[str]:
    """The workers' metrics directory: ``configured`` emptied of old samples, or a temp one."""
    if configured is None:
        made = tempfile.mkdtemp(prefix="adjudicator-metrics-")
        owner = os.getpid()
        try:
            yield made
        finally:
            # gunicorn's workers are forks of this process and leave by sys.exit(), which
            # unwinds this very frame in each of them: only the master may remove the dir.
            if os.getpid() == owner:
                shutil.rmtree(made, ignore_errors=True)
        return
    Path(configured).mkdir(parents=True, exist_ok=True)
    for stale in Path(configured).glob("*.db"):
        stale.unlink(missing_ok=True)
    yield configured


@click.group("db")
def db_group() -> None:
    """The database schema."""


@db_group.command("upgrade")
def db_upgrade_command() -> None:
    """Apply the migrations (idempotent; serve runs it on start)."""
    with context.store(migrate=True):
        click.echo("database schema is up to date", err=True)


@click.group("keys")
def keys_group() -> None:
    """API keys: create (shown once), list, revoke."""


@keys_group.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the key may do.")
@click.option("--name", required=True, help="Who holds it (shown in the audit log).")
@click.option(
    "--user",
    default=None,
    help="The console user the key belongs to (needed by staff and admin keys to "
    "propose, approve or decline: four eyes counts persons, not keys).",
)
def keys_create_command(role: str, name: str, user: str | None) -> None:
    """Create a key and print it: it is shown this once and stored only as a hash."""
    with context.store(migrate=True) as store:
        info, token = create_key(store, role=role, name=name, actor=context.operator(), user=user)
    click.echo(
        f"created key {info.key_id} ({info.role}, {info.name}); it is not shown again", err=True
    )
    click.echo(token)


@keys_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
def keys_list_command(as_json: bool) -> None:
    """Every key: id, name, role, created, revoked (never the key or its hash)."""
    with context.store(migrate=True) as store:
        keys = list_keys(store)
    if as_json:
        for key in keys:
            click.echo(orjson.dumps(key.to_dict()))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("key id", "name", "role", "user", "created", "revoked")
    for key in keys:
        revoked = key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else ""
        user = "" if key.user_id is None else f"user:{key.user_id}"
        created = key.created_at.isoformat(timespec="seconds")
        table.add_row(key.key_id, key.name, key.role, user, created, revoked)
    Console().print(table)


@keys_group.command("revoke")
@click.argument("key_id")
def keys_revoke_command(key_id: str) -> None:
    """Revoke KEY_ID: every request with it is refused from now on."""
    with context.store(migrate=True) as store:
        try:
            info, revoked = revoke_key(store, key_id, actor=context.operator())
        except NotFound:
            raise click.ClickException(f"no key with id {key_id!r}") from None
    state = "revoked" if revoked else "was already revoked"
    click.echo(f"key {info.key_id} ({info.role}, {info.name}) {state}", err=True)
