"""``adjudicator rules check | doc | mutate``: a version is checked, documented, and its
boundaries pinned before anyone relies on it.

- ``rules check [VERSION]``: the loader's checks (each refusal names its rule
  and says what is wrong), then the hit-policy search for overlaps and gaps
  over generated valid cases, each with the smallest example found. Exit 1
  when anything is found. Without VERSION, every version.
- ``rules doc VERSION``: the rule catalogue as Markdown, ``docs/rules-<version>.md``.
- ``rules mutate VERSION``: flip each comparison (and formula operator), run
  the version's fixtures against each mutant, list the survivors; exit 1 when
  a survivor is not declared equivalent in the version's data.

Registered on the ``rules`` group by :mod:`adjudicator.cli`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from adjudicator.cli.context import load_rules_catalog, make_adjudicator, rules_root
from adjudicator.core.errors import AdjudicatorError
from adjudicator.core.loader import default_rules_dir


def _folder(name: str, version: str) -> Path:
    return (rules_root() or default_rules_dir()) / name / version


@click.command("check")
@click.argument("version", required=False)
@click.option(
    "--examples",
    default=300,
    show_default=True,
    help="Generated valid cases per search round (hypothesis max_examples).",
)
@click.option("--search/--no-search", default=True, help="Search for overlaps and gaps.")
@click.option(
    "--stage",
    "stages",
    multiple=True,
    help="Search only this single-winner stage (repeatable; default: breach, loss, refund).",
)
def rules_check(version: str | None, examples: int, search: bool, stages: tuple[str, ...]) -> None:
    """Check VERSION (default: every version); exit 1 on any refusal, overlap or gap."""
    from adjudicator.analysis.overlaps import SINGLE_WINNER_STAGES, OverlapSearch, VersionData

    catalog = load_rules_catalog()
    known = sorted({*catalog.by_version, *catalog.broken})
    if version is not None and version not in known:
        raise click.ClickException(f"unknown ruleset version {version!r}; known: {known}")
    failed = False
    for name in [version] if version else known:
        if name in catalog.broken:
            failed = True
            click.echo(f"{catalog.name} {name}: BROKEN, it does not load")
            for line in catalog.broken[name]:
                click.echo(f"  {line}")
            continue
        click.echo(f"{catalog.name} {name}: loads; every static check passes")
        if not search:
            continue
        data = VersionData.read(_folder(catalog.name, name))
        findings = OverlapSearch(data, stages or SINGLE_WINNER_STAGES).search(max_examples=examples)
        if not findings:
            click.echo(
                f"  hit policy: no overlap or gap in the single-winner stages "
                f"({examples} generated valid cases per round)"
            )
        for finding in findings:
            failed = True
            click.echo(f"  {finding.kind.upper()} {finding.sentence()}")
            click.echo("    smallest example found: " + orjson.dumps(finding.example).decode())
    sys.exit(1 if failed else 0)


@click.command("doc")
@click.argument("version")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write (default: docs/rules-VERSION.md).",
)
def rules_doc(version: str, output: Path | None) -> None:
    """Write the rule catalogue of VERSION as Markdown."""
    from adjudicator.analysis.catalogue_doc import render
    from adjudicator.analysis.overlaps import VersionData

    catalog = load_rules_catalog()
    try:
        catalog.get(version)
    except AdjudicatorError as exc:
        raise click.ClickException(str(exc)) from exc
    text = render(VersionData.read(_folder(catalog.name, version)))
    target = output or Path("docs") / f"rules-{version}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}")


@click.command("mutate")
@click.argument("version")
@click.option(
    "--fixtures",
    "fixtures_root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("fixtures"),
    show_default=True,
    help="The fixtures root (its VERSION folder is used) or a folder of fixtures.",
)
@click.option("--hit-policy/--no-hit-policy", default=True, help="Overlaps and gaps kill too.")
@click.option("--rule", "only_rules", multiple=True, help="Mutate only this rule (repeatable).")
def rules_mutate(
    version: str, fixtures_root: Path, hit_policy: bool, only_rules: tuple[str, ...]
) -> None:
    """Flip each comparison of VERSION's conditions, run its fixtures, list the survivors."""
    from adjudicator.analysis import regression
    from adjudicator.analysis.mutate import run_mutants
    from adjudicator.analysis.overlaps import VersionData

    catalog = load_rules_catalog()
    try:
        catalog.get(version)
        fixtures = regression.load_fixtures([regression.version_folder(fixtures_root, version)])
    except (AdjudicatorError, regression.FixtureError) as exc:
        raise click.ClickException(str(exc)) from exc
    if not fixtures:
        raise click.ClickException(f"no fixtures for {version} under {fixtures_root}")
    data = VersionData.read(_folder(catalog.name, version))
    try:
        report = run_mutants(
            name=data.name,
            version=version,
            rules_doc=data.rules_doc,
            parameters=data.parameters,
            aql_doc=data.aql_doc,
            reasons_doc=data.reasons_doc,
            fixtures=fixtures,
            decider=make_adjudicator,
            hit_policy=hit_policy,
            only_rules=set(only_rules) or None,
        )
    except AdjudicatorError as exc:
        raise click.ClickException(str(exc)) from exc
    for result in report.results:
        if result.status == "survived":
            click.echo(f"SURVIVED {result.mutation.rule}: {result.mutation.mutation}")
    for stale in report.stale:
        click.echo(
            f"STALE declaration {stale.rule}: {stale.mutation} (a fixture kills it, "
            "or no such mutation)"
        )
    for kind in ("comparison", "equality", "formula"):
        total = sum(1 for r in report.results if r.mutation.kind == kind)
        by_policy = sum(
            1
            for r in report.results
            if r.mutation.kind == kind and r.status == "killed" and r.how not in ("", "decision")
        )
        click.echo(
            f"{kind}: {total} mutants, {report.count('killed', kind)} killed "
            f"({by_policy} by the hit policy), {report.count('equivalent', kind)} declared "
            f"equivalent, {report.count('survived', kind)} survived"
        )
    click.echo(f"{len(fixtures)} fixtures of {version}")
    sys.exit(1 if report.survivors or report.stale else 0)


# ``rules check|doc|mutate``: listed in the rules group by :mod:`adjudicator.cli`.
RULE_TOOLS = (
    rules_check,
    rules_doc,
    rules_mutate,
)
