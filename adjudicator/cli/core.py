"""``adjudicator decide``, ``adjudicator regress`` and ``adjudicator rules list``."""

from __future__ import annotations

import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from xml.sax.saxutils import escape

import click
import orjson

from adjudicator.cli.context import load_rules_catalog, make_adjudicator
from adjudicator.core.errors import AdjudicatorError, InvalidCase, RulesetError, UnknownRuleset


def _read_json(source: TextIO) -> Any:
    try:
        return orjson.loads(source.read())
    except orjson.JSONDecodeError as exc:
        raise click.ClickException(f"not valid JSON: {exc}") from exc


def with_caller_defaults(case: Any, now: datetime) -> Any:
    """Fill what the contract lets a caller omit: ``as_of`` (now) and ``case_id``."""
    if not isinstance(case, dict):
        return case
    filled = dict(case)
    if filled.get("as_of") is None:
        filled["as_of"] = now.isoformat().replace("+00:00", "Z")
    if filled.get("case_id") is None:
        filled["case_id"] = f"case-{uuid.uuid4().hex[:12]}"
    return filled


@click.command("decide")
@click.argument("case_file", type=click.File("r", encoding="utf-8"))
@click.option("--ruleset", "version", default=None, help="Ruleset version (default: active).")
def decide_command(case_file: TextIO, version: str | None) -> None:
    """Decide CASE_FILE (a case document, a fixture file, or - for stdin); print the decision.

    An invalid document exits 2 and prints its field errors as JSON.
    """
    now = datetime.now(UTC)
    document = _read_json(case_file)
    if (
        isinstance(document, dict)
        and isinstance(document.get("case"), dict)
        and "expected" in document
    ):
        click.echo("(a fixture file: deciding its case)", err=True)
        document = document["case"]
    case = with_caller_defaults(document, now)
    try:
        decision = make_adjudicator().decide(
            case, version, decision_id=str(uuid.uuid4()), decided_at=now
        )
    except InvalidCase as exc:
        click.echo(orjson.dumps({"errors": exc.errors}, option=orjson.OPT_INDENT_2).decode())
        sys.exit(2)
    except (UnknownRuleset, RulesetError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(orjson.dumps(decision.to_dict(), option=orjson.OPT_INDENT_2).decode())


@click.command("regress")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--ruleset", "version", default=None, help="Ruleset version (default: active).")
@click.option("--jobs", "-j", default=1, show_default=True, help="Cases decided at once.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), help="Write JUnit XML.")
def regress_command(
    paths: tuple[Path, ...], version: str | None, jobs: int, junit: Path | None
) -> None:
    """Run fixture cases against the rules; exit 1 on any mismatch.

    Without PATHS, runs the version's own fixtures, ``fixtures/<version>/``; a
    PATH that is a fixtures root (holding version folders) means its
    ``<version>/`` folder.
    """
    from rich.console import Console
    from rich.progress import track
    from rich.table import Table

    from adjudicator.analysis import regression

    console = Console(stderr=False)
    adjudicator = make_adjudicator()
    try:
        ruleset = adjudicator.catalog.get(version)
    except AdjudicatorError as exc:
        raise click.ClickException(str(exc)) from exc
    folders = [
        regression.version_folder(p, ruleset.version) for p in (paths or (Path("fixtures"),))
    ]
    try:
        fixtures = regression.load_fixtures(folders)
    except regression.FixtureError as exc:
        raise click.ClickException(str(exc)) from exc
    if not fixtures:
        raise click.ClickException(f"no fixtures in {', '.join(str(f) for f in folders)}")

    def run(fixture: regression.Fixture) -> regression.Result:
        return regression.check(fixture, adjudicator, ruleset)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(
            track(
                pool.map(run, fixtures),
                total=len(fixtures),
                description="Deciding fixtures",
                console=console,
                disable=not console.is_terminal,
            )
        )
    failed = [r for r in results if not r.passed]
    table = Table(title=f"Regression against {ruleset.name} {ruleset.version}")
    table.add_column("fixture")
    table.add_column("result")
    table.add_column("outcome")
    for result in results:
        table.add_row(
            result.name,
            "[green]pass[/green]" if result.passed else "[red]FAIL[/red]",
            result.outcome,
        )
    console.print(table)
    for result in failed:
        console.print(f"[red]FAIL[/red] {result.name}")
        for line in result.differences:
            console.print(f"    {line}", highlight=False)
    missing = regression.unexercised(results, ruleset)
    if missing:
        console.print(f"Rules never exercised: {', '.join(missing)}")
    else:
        console.print("Every rule was exercised.")
    console.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if junit is not None:
        _write_junit(junit, results)
    sys.exit(1 if failed else 0)


def _write_junit(path: Path, results: list[Any]) -> None:
    failures = sum(1 for r in results if not r.passed)
    cases = []
    for result in results:
        body = ""
        if not result.passed:
            text = escape("\n".join(result.differences))
            body = f'<failure message="decision differs">{text}</failure>'
        cases.append(
            f'<testcase classname="fixtures" name="{escape(result.name)}">{body}</testcase>'
        )
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?>\n<testsuite name="adjudicator-regress" '
        f'tests="{len(results)}" failures="{failures}">{"".join(cases)}</testsuite>\n',
        encoding="utf-8",
    )


@click.group("rules")
def rules_group() -> None:
    """Inspect the loaded rulesets."""


@rules_group.command("list")
@click.option("--ruleset", "version", default=None, help="Ruleset version (default: active).")
def rules_list(version: str | None) -> None:
    """List every version (a broken one with its errors), then the rules of one version."""
    from rich.console import Console
    from rich.table import Table

    catalog = load_rules_catalog()
    console = Console()
    versions = Table(title=f"{catalog.name} versions")
    for column in ("version", "status", "digest or errors"):
        versions.add_column(column)
    for name in sorted({*catalog.by_version, *catalog.broken}):
        active = " (active)" if name == catalog.active_version else ""
        if name in catalog.broken:
            versions.add_row(name, f"[red]broken[/red]{active}", "\n".join(catalog.broken[name]))
        else:
            versions.add_row(name, f"loaded{active}", catalog.by_version[name].digest)
    console.print(versions)
    try:
        ruleset = catalog.get(version)
    except AdjudicatorError as exc:
        raise click.ClickException(str(exc)) from exc
    table = Table(title=f"{ruleset.name} {ruleset.version}  {ruleset.digest}")
    for column in ("id", "stage", "source", "title"):
        table.add_column(column)
    for spec in ruleset.rules:
        table.add_row(spec.id, spec.stage, spec.source, spec.title)
    console.print(table)
