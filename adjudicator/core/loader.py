"""Read a ruleset folder into a checked :class:`Ruleset`.

Layout of ``rules/<name>/``: ``ruleset.toml`` names the ruleset and its active
version; each version folder (``2024.1/``) holds ``rules.toml`` (stages and
rules), ``parameters.toml``, ``aql.toml`` (the ISO 2859-1 table) and
``reasons.toml`` (the reason catalogue). The digest of a version is the sha256
over those files (path and bytes), so any change to the data is a new digest
on every decision it makes.

Each version loads or fails on its own: :func:`load_catalog` keeps a broken
version's errors in :attr:`Catalog.broken` and loads the others. The default
rules root is the one shipped inside the installed package
(:func:`default_rules_dir`); a composition root may pass another
(``ADJUDICATOR_RULES_DIR``), the core never reads the environment.
"""

from __future__ import annotations

import hashlib
import string
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from adjudicator.core.actions import VOCABULARY, written_fields
from adjudicator.core.errors import RulesetError
from adjudicator.core.fact_types import DISPLAY_KEYS, FACT_FIELDS, STATE_FIELDS, STATE_SEEDS
from adjudicator.core.measures import formula_names
from adjudicator.core.rules.checks import static_problems
from adjudicator.core.rules.compiler import PatternCompiler
from adjudicator.core.rules.formulas import Formula, FormulaCompiler, Name
from adjudicator.core.rules.model import Catalog, Ruleset, RuleSpec

PACKAGED_RULES = "ruledata"
"""The folder of the installed package that holds the shipped ``rules/`` (see setup.py)."""
VERSION_FILES = ("rules.toml", "parameters.toml", "aql.toml", "reasons.toml")
_REQUIRED_KEYS = frozenset({"id", "title", "source", "stage", "when", "action"})
_OPTIONAL_KEYS = frozenset({"message", "overrides"})
_REPORTED = frozenset(
    {
        "inel",
        "outcome",
        "finding",
        "upheld",
        "loss",
        "refund",
        "assurance",
        "covered",
        "prior",
        "cap",
    }
)
"""State fields the decision document reads (``decide.build_decision``), used or not."""


def default_rules_dir() -> Path:
    """The rules shipped with the package: ``adjudicator/ruledata`` in an installed
    wheel, the checkout's top-level ``rules/`` in a source tree (editable install)."""
    package = Path(__file__).resolve().parents[1]  # adjudicator/core/loader.py
    installed = package / PACKAGED_RULES
    return installed if installed.is_dir() else package.parent / "rules"


DEFAULT_RULES_DIR = default_rules_dir()


def load_catalog(root: Path | None = None, name: str = "trade_assurance") -> Catalog:
    """Load every version of ruleset ``name`` under ``root`` (default: the shipped rules).

    A version that fails to load is kept in ``Catalog.broken`` with its errors;
    the others load. Only a missing ``ruleset.toml`` or an ``active`` that names
    no version folder fails the whole catalog.
    """
    folder = (root or default_rules_dir()) / name
    meta = _read_toml(folder / "ruleset.toml")
    active = str(meta.get("active", ""))
    versions: dict[str, Ruleset] = {}
    broken: dict[str, tuple[str, ...]] = {}
    for child in sorted(folder.iterdir()):
        if not (child.is_dir() and (child / "rules.toml").exists()):
            continue
        try:
            versions[child.name] = load_version(child, name)
        except RulesetError as exc:
            broken[child.name] = tuple(str(exc).split("\n"))
    if active not in versions and active not in broken:
        raise RulesetError(f"{folder}/ruleset.toml: active version {active!r} is not a folder")
    return Catalog(name=name, active_version=active, by_version=versions, broken=broken)


def read_version_files(folder: Path) -> tuple[str, dict[str, dict[str, Any]]]:
    """The digest and the parsed files of one version folder (by file name)."""
    digest = hashlib.sha256()
    data: dict[str, dict[str, Any]] = {}
    for file_name in VERSION_FILES:
        path = folder / file_name
        raw = path.read_bytes() if path.exists() else b""
        if not raw:
            raise RulesetError(f"{path}: missing or empty")
        digest.update(file_name.encode() + b"\0" + raw + b"\0")
        data[file_name] = _parse_toml(path, raw)
    return "sha256:" + digest.hexdigest(), data


def load_version(folder: Path, name: str = "trade_assurance") -> Ruleset:
    """Load one version folder."""
    digest, data = read_version_files(folder)
    return build_ruleset(
        name=name,
        version=folder.name,
        digest=digest,
        rules_doc=data["rules.toml"],
        parameters=data["parameters.toml"],
        aql_doc=data["aql.toml"],
        reasons_doc=data["reasons.toml"],
    )


def build_ruleset(
    *,
    name: str,
    version: str,
    digest: str,
    rules_doc: Mapping[str, Any],
    parameters: Mapping[str, Any],
    aql_doc: Mapping[str, Any],
    reasons_doc: Mapping[str, Any] | None = None,
) -> Ruleset:
    """Check and compile ruleset data given as dicts (tests build rulesets this way).

    ``reasons_doc`` is the parsed ``reasons.toml``; ``None`` (a test's partial
    ruleset) skips the reason-catalogue checks. Every problem the checks of
    :mod:`adjudicator.core.rules.checks` find is reported at once, one per line.
    """
    stages = list(rules_doc.get("stages", []))
    if not stages:
        raise RulesetError(f"{name}@{version}: rules.toml has no stages")
    raw_rules = rules_doc.get("rules", [])
    reasons = None if reasons_doc is None else dict(reasons_doc.get("reasons", {}))
    findings = {key: action.finding for key, action in VOCABULARY.items()}
    problems = [str(p) for p in static_problems(raw_rules, parameters, reasons, findings)]
    problems += _override_problems(raw_rules)
    if problems:
        raise RulesetError("\n".join(f"{name}@{version}: {p}" for p in problems))
    specs: list[RuleSpec] = []
    initial_state: dict[str, Any] = {k: v for k, (_, v) in STATE_FIELDS.items()}
    for index, raw in enumerate(raw_rules):
        try:
            spec = _compile_rule(index, raw, stages, parameters, reasons)
        except RulesetError as exc:
            raise RulesetError(f"{name}@{version}: {exc}") from exc
        if spec.guard:
            initial_state[spec.guard] = 0
        specs.append(spec)
    ids = [s.id for s in specs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RulesetError(f"{name}@{version}: duplicate rule ids {duplicates}")
    # The engine re-reads the whole state after every action: keep only the fields
    # this version's rules read or write, and those every decision reports.
    used = set(_REPORTED)
    for spec in specs:
        used |= {f for t, f in spec.reads if t == "state"} | written_fields(spec)
        for formula in spec.formulas.values():
            used.update(formula.names)
    initial_state = {k: v for k, v in initial_state.items() if k in used or k not in STATE_FIELDS}
    return Ruleset(
        name=name,
        version=version,
        digest=digest,
        rules=tuple(specs),
        parameters=dict(parameters),
        aql_table=_aql_table(aql_doc),
        initial_state=initial_state,
    )


def _override_problems(raw_rules: Any) -> list[str]:
    """``overrides`` names rules of the same stage that this rule is meant to overlap."""
    stage_of = {str(r.get("id")): r.get("stage") for r in raw_rules}
    problems = []
    for raw in raw_rules:
        overrides = raw.get("overrides", [])
        if not isinstance(overrides, list):
            problems.append(f"rule {raw.get('id')}: overrides must be a list of rule ids")
            continue
        for other in overrides:
            if stage_of.get(other) != raw.get("stage"):
                problems.append(
                    f"rule {raw.get('id')}: overrides {other!r}, which is not a rule of "
                    f"its stage {raw.get('stage')!r}"
                )
    return problems


def _compile_rule(
    index: int,
    raw: Mapping[str, Any],
    stages: list[str],
    parameters: Mapping[str, Any],
    reasons: Mapping[str, Any] | None = None,
) -> RuleSpec:
    rule_id = str(raw.get("id", f"#{index}"))
    for key in _REQUIRED_KEYS:
        if key not in raw:
            raise RulesetError(f"rule {rule_id}: missing {key!r}")
    stage = raw["stage"]
    if stage not in stages:
        raise RulesetError(f"rule {rule_id}: unknown stage {stage!r}")
    when: Mapping[str, str] = raw["when"]
    fact_types = [t for t in when if t != "state"]
    unknown = [t for t in fact_types if t not in FACT_FIELDS]
    if unknown or len(fact_types) != 1:
        raise RulesetError(
            f"rule {rule_id}: 'when' needs exactly one fact of {sorted(FACT_FIELDS)} "
            f"(and optionally 'state'), got {list(when)}"
        )
    joins_state = "state" in when
    if joins_state and fact_types != ["case"]:
        raise RulesetError(f"rule {rule_id}: only 'case' rules may join the state")
    aliases = {t: f"{t}_{index}" for t in when}
    fields: dict[str, Mapping[str, str]] = dict(FACT_FIELDS)
    fields["state"] = {k: kind for k, (kind, _) in STATE_FIELDS.items()} | STATE_SEEDS
    compiler = PatternCompiler(rule_id, fields, aliases, parameters)
    action_name = raw["action"]
    if action_name not in VOCABULARY:
        raise RulesetError(f"rule {rule_id}: unknown action {action_name!r}")
    # The action's arguments are the rule's other keys (figures.cap = "...", reason = ...):
    # the verb's check refuses any it does not take, so a misspelt key is a load error.
    args = {k: v for k, v in raw.items() if k not in _REQUIRED_KEYS | _OPTIONAL_KEYS}
    action = VOCABULARY[action_name]
    action.check_args(rule_id, args, parameters)
    if "quantities" in args and "line" not in when:
        raise RulesetError(f"rule {rule_id}: quantities are recorded only by rules on a line")
    names = dict(formula_names(when))
    formulas: dict[str, Formula] = {}
    for key, text, kind in action.formulas(args):
        formula = FormulaCompiler(rule_id, names, parameters).compile(text, kind)
        formulas[key] = formula
        if key.startswith("let."):
            local = key.removeprefix("let.")
            if local in names:
                raise RulesetError(f"rule {rule_id}: let.{local} hides the name {local!r}")
            names[local] = Name(formula.kind, _local_getter(local))
    patterns: list[dict[str, Any]] = []
    guard = None
    for fact_type, expression in when.items():
        conditions = compiler.compile(fact_type, str(expression))
        if fact_type == "state" and not _excludes_itself(conditions, action.finding_written(args)):
            guard = f"g{index}"
        if fact_type == "state":
            conditions += [{guard: 0}, {"$s": 1}] if guard else [{"$s": 1}]
        else:
            conditions = [{"t": fact_type}, *conditions]
        pattern = conditions[0] if len(conditions) == 1 else {"$and": conditions}
        patterns.append({aliases[fact_type]: pattern})
    message = raw.get("message")
    if message is None and reasons is not None and str(args.get("reason")) in reasons:
        message = reasons[str(args["reason"])].get("sentence")
    if message is not None:
        _check_message(rule_id, str(message))
    for extra in args.get("also", []):
        if extra.get("message") is not None:
            _check_message(rule_id, str(extra["message"]))
    return RuleSpec(
        id=rule_id,
        title=str(raw["title"]),
        source=str(raw["source"]),
        stage=stage,
        action=action_name,
        args=args,
        message=None if message is None else str(message),
        definition={"all": patterns, "pri": _priority(stages.index(stage), raw)},
        reads=tuple(compiler.reads),
        joins_state=joins_state,
        guard=guard,
        formulas=formulas,
    )


def _local_getter(name: str) -> Callable[[Any, Any], Any]:
    return lambda ctx, facts: facts["let"][name]


def _priority(stage_index: int, raw: Mapping[str, Any]) -> int:
    """durable-rules priority (lower fires first): by stage; within its stage a rule
    that declares ``overrides`` fires before the rules it overrides."""
    return 2 * (stage_index + 1) - (1 if raw.get("overrides") else 0)


def _excludes_itself(conditions: list[dict[str, Any]], finding: str | None) -> bool:
    """True when the action rewrites ``finding`` so that the rule's own state test fails.

    A rule that joins the state is re-matched after every action (the state is
    re-asserted); unless its own action falsifies it, it gets a guard field
    (``g<n> == 0``, set to 1 when it fires) so that it fires at most once.
    """
    if finding is None:
        return False
    tests: list[Any] = []
    for condition in conditions:
        tests.extend(condition.get("$and", [condition]))
    return any(
        isinstance(test, dict)
        and isinstance(test.get("finding"), str)
        and test["finding"] != finding
        for test in tests
    )


def _check_message(rule_id: str, message: str) -> None:
    for _, field_name, _, _ in string.Formatter().parse(message):
        if field_name is not None and field_name not in DISPLAY_KEYS:
            raise RulesetError(f"rule {rule_id}: message names unknown value {{{field_name}}}")


def _aql_table(doc: Mapping[str, Any]) -> dict[str, dict[int, int]]:
    sizes = [int(n) for n in doc.get("sample_sizes", [])]
    table: dict[str, dict[int, int]] = {"0": dict.fromkeys(sizes, 0)}
    for aql, row in doc.get("acceptance", {}).items():
        if len(row) != len(sizes):
            raise RulesetError(f"aql.toml: AQL {aql} has {len(row)} numbers for {len(sizes)} sizes")
        table[str(aql)] = dict(zip(sizes, (int(x) for x in row), strict=True))
    return table


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise RulesetError(f"{path}: missing")
    return _parse_toml(path, path.read_bytes())


def _parse_toml(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesetError(f"{path}: {exc}") from exc
