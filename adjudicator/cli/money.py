"""``adjudicator money reconcile [--json]``: does every order's ledger agree with its claims?"""

from __future__ import annotations

import click
import orjson

from adjudicator.claims.reconcile import reconcile
from adjudicator.cli import context


@click.group("money")
def money_group() -> None:
    """The order ledger: what each order's claims hold and were paid against its cap."""


@money_group.command("reconcile")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def reconcile_command(as_json: bool) -> None:
    """Rebuild every order's ledger from the claim events and compare it with the ledger rows
    and the claim rows. Exit 0 when all agree, 1 naming each discrepancy."""
    with context.store(migrate=False) as store:
        report = reconcile(store)
    if as_json:
        click.echo(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2))
    else:
        for found in report.discrepancies:
            click.echo(found.message())
        verdict = "all agree" if report.ok else f"{len(report.discrepancies)} discrepancies"
        click.echo(f"{report.orders} orders, {report.claims} claims: {verdict}", err=True)
    raise SystemExit(0 if report.ok else 1)
