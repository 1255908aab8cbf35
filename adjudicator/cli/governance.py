"""``adjudicator replay`` and ``adjudicator rules request-activation|approve|rollback|active``.

Impact analysis and gated activation from the command line, on the database
the service uses (``DATABASE_URL``) and the rules it loads
(``ADJUDICATOR_RULES_DIR``, read here and in ``api.create_app`` only).

Who acts: a replay is run by the operator at the shell (``cli:<user>``,
like ``keys create``). Governance acts need an **admin API key**: the CLI
reads it from ``ADJUDICATOR_API_KEY`` (or asks for it, hidden), checks it
like the API does, and records its key id and name as the actor, so the
request, the approval and the rollback name the same people whichever way
they were done, and an admin cannot approve their own request at the shell
either.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import orjson

from adjudicator.cli import context
from adjudicator.cli.context import make_adjudicator, rules_root
from adjudicator.core.decide import Adjudicator
from adjudicator.core.errors import UnknownRuleset
from adjudicator.db.actor import Actor
from adjudicator.db.store import Store
from adjudicator.governance.activation import (
    GovernanceConflict,
    SelfApproval,
    approve_activation,
    request_activation,
    rollback,
)
from adjudicator.governance.active import active_version
from adjudicator.governance.replay_job import run_replay
from adjudicator.governance.replays import ReplaySpec, create_replay, replay_csv
from adjudicator.identity.keys import authenticate

API_KEY_ENV = "ADJUDICATOR_API_KEY"


def rules_dir() -> Path | None:
    """The rules root named by ``ADJUDICATOR_RULES_DIR`` (``None``: the packaged rules)."""
    return rules_root()


def _adjudicator() -> Adjudicator:
    return make_adjudicator()


def _moment(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            "an RFC 3339 timestamp, e.g. 2024-05-01T00:00:00Z", param_hint=name
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter("needs an offset (Z or +hh:mm)", param_hint=name)
    return moment


def _admin(store: Store) -> Actor:
    token = context.settings().api_key or click.prompt("Admin API key", hide_input=True)
    actor = authenticate(store, token.strip())
    if actor is None:
        raise click.ClickException("the API key is not valid (unknown or revoked)")
    if actor.role != "admin":
        raise click.ClickException(f"the key has the role {actor.role!r}; an admin key is needed")
    return actor


def _refused(exc: Exception) -> click.ClickException:
    if isinstance(exc, SelfApproval):
        return click.ClickException(f"refused (403): {exc}")
    if isinstance(exc, GovernanceConflict):
        return click.ClickException(f"refused (409 {exc.kind}): {exc}")
    return click.ClickException(str(exc))


@click.command("replay")
@click.option("--candidate", required=True, help="The version to measure.")
@click.option("--baseline", default=None, help="Replay only decisions made with this version.")
@click.option("--from", "since", default=None, help="Decided at or after (RFC 3339).")
@click.option("--to", "until", default=None, help="Decided before (RFC 3339).")
@click.option("--sample", type=click.IntRange(1), default=None, help="Replay N sampled decisions.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="Sample seed.")
@click.option(
    "--jobs", "-j", type=click.IntRange(1, 64), default=None, help="Worker processes [all cores]."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every changed case to this CSV file.",
)
def replay_command(
    candidate: str,
    baseline: str | None,
    since: str | None,
    until: str | None,
    sample: int | None,
    seed: int,
    jobs: int | None,
    as_json: bool,
    csv_path: Path | None,
) -> None:
    """Replay stored decisions with a CANDIDATE version and report what would change.

    Nothing is written but the replay and its report (with its replay_id).
    """
    spec = ReplaySpec(
        candidate=candidate,
        baseline=baseline,
        since=_moment(since, "--from"),
        until=_moment(until, "--to"),
        sample=sample,
        seed=seed,
    )
    decider = _adjudicator()
    with context.store(migrate=True) as store:
        try:
            active = active_version(store, decider.catalog).version
            info = create_replay(store, decider, spec, active=active, actor=context.operator())
        except UnknownRuleset as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"replay {info.replay_id}: {candidate} against {info.baseline['version']}", err=True
        )
        with _progress_bar() as progress:
            done = run_replay(
                store,
                info.replay_id,
                decider,
                jobs=jobs or os.cpu_count() or 1,
                rules_dir=rules_dir(),
                progress=progress,
            )
        if csv_path is not None:
            csv_path.write_text(replay_csv(store, done.replay_id), encoding="utf-8")
    report = done.report or {}
    if as_json:
        click.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
        return
    _print_summary(report)


@contextmanager
def _progress_bar() -> Iterator[Callable[[int, int], None]]:
    """A progress bar on stderr when it is a terminal (nothing otherwise)."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    if not console.is_terminal:
        yield lambda done, total: None
        return
    with Progress(console=console) as bar:
        task = bar.add_task("Replaying", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _print_summary(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"replay {report['replay_id']}  digest {report['digest']}\n"
        f"candidate {report['candidate']['version']} {report['candidate']['digest']}\n"
        f"baseline  {report['baseline']['version']} {report['baseline']['digest']}",
        highlight=False,
    )
    counts = Table("total", "unchanged", "changed", "errors", "drifted", "oldest", "newest")
    counts.add_row(
        *(
            str(report[k])
            for k in (
                "total",
                "unchanged",
                "changed",
                "errors",
                "drifted",
                "oldest_decision",
                "newest_decision",
            )
        )
    )
    console.print(counts)
    targets = sorted({t for row in report["transitions"].values() for t in row})
    matrix = Table("from \\ to", *targets, title="outcome transitions")
    columns = [str(c.header) for c in matrix.columns[1:]]
    for before, row in report["transitions"].items():
        matrix.add_row(before, *(str(row.get(c, "")) for c in columns))
    console.print(matrix)
    money = Table(
        "currency",
        "cases",
        "refund changed",
        "sum",
        "mean",
        "p50",
        "p90",
        "p99",
        title="refund change (candidate - control)",
    )
    for currency, s in report["refund_change"]["by_currency"].items():
        money.add_row(
            currency,
            *(str(s[k]) for k in ("cases", "refund_changed", "sum", "mean", "p50", "p90", "p99")),
        )
    console.print(money)
    fires = Table("rule", "before", "after", "delta", title="rule-fire changes")
    for entry in report["rule_fires"][:20]:
        fires.add_row(entry["rule"], str(entry["before"]), str(entry["after"]), str(entry["delta"]))
    console.print(fires)


@click.command("request-activation")
@click.argument("version")
@click.option("--report", required=True, help="The replay_id of the report measuring VERSION.")
@click.option(
    "--reason",
    prompt="Why should it become active",
    help="Why VERSION should become active (asked when omitted).",
)
def request_activation_command(version: str, report: str, reason: str) -> None:
    """Ask for VERSION to become active (an admin; another approves). Prints the request id."""
    decider = _adjudicator()
    with context.store(migrate=True) as store:
        actor = _admin(store)
        try:
            filed = request_activation(
                store, decider.catalog, version, report=report, reason=reason, actor=actor
            )
        except (GovernanceConflict, UnknownRuleset) as exc:
            raise _refused(exc) from exc
    click.echo(f"activation of {filed.version} requested by {filed.requested_by}", err=True)
    click.echo(filed.request_id)


@click.command("approve")
@click.argument("request_id")
def approve_command(request_id: str) -> None:
    """Approve REQUEST_ID and activate its version (an admin other than the requester)."""
    decider = _adjudicator()
    with context.store(migrate=True) as store:
        actor = _admin(store)
        try:
            approved = approve_activation(store, decider.catalog, request_id, actor=actor)
        except (GovernanceConflict, SelfApproval) as exc:
            raise _refused(exc) from exc
    click.echo(f"{approved.version} is active (approved by {approved.approved_by})")


@click.command("rollback")
@click.option("--reason", required=True, help="Why the active version is rolled back.")
def rollback_command(reason: str) -> None:
    """Return to the version that was active before the current one (an admin)."""
    decider = _adjudicator()
    with context.store(migrate=True) as store:
        actor = _admin(store)
        try:
            found = rollback(store, decider.catalog, reason=reason, actor=actor)
        except GovernanceConflict as exc:
            raise _refused(exc) from exc
    click.echo(f"{found.version} is active again")


@click.command("active")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def active_command(as_json: bool) -> None:
    """The active version as the database holds it."""
    decider = _adjudicator()
    with context.store(migrate=True) as store:
        found = active_version(store, decider.catalog)
    if as_json:
        click.echo(orjson.dumps(found.to_dict()))
    else:
        click.echo(f"{found.version} {found.digest} ({found.kind})")


# Commands of the ``rules`` group that act on the database (the group is :mod:`.core`'s).
RULES_COMMANDS = (request_activation_command, approve_command, rollback_command, active_command)
