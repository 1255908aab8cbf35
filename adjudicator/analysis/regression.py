"""The fixture regression runner behind ``adjudicator regress``.

A fixture is one JSON file holding a case document and the decision the spec
(``rules.md``) says it must get, derived by hand::

    {"description": "...", "case": {...}, "expected": {"outcome": "denied", ...}}

:func:`load_fixtures` reads fixture files (or folders of them), :func:`check`
decides a fixture's case and compares the decision with the keys ``expected``
names, and :func:`unexercised` lists the rules that no fixture's decision
trace ever reached. Nothing here writes anything or reads a clock.

Fixtures belong to a ruleset version: ``fixtures/<version>/*.json``
(:func:`fixture_versions`, :func:`version_folder`); a new version starts as a
copy of its parent's folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from adjudicator.core.decision import Decision
from adjudicator.core.errors import AdjudicatorError
from adjudicator.core.rules.model import Ruleset

__all__ = [
    "Fixture",
    "FixtureError",
    "Result",
    "check",
    "fixture_versions",
    "load_fixtures",
    "unexercised",
    "version_folder",
]

DERIVED_RULES: tuple[str, ...] = ("SHIP-01", "SHIP-02", "SHIP-03", "SHIP-04", "SHIP-05")
"""Rule ids computed while normalising (not ruleset data) that appear in the trace."""

_SCALARS = ("outcome", "binding")
_AMOUNTS = ("refund", "fee_reimbursement")
_SEQUENCES = ("reason_codes", "conditions")
_SUBSETS = ("money", "deadlines")
EXPECTED_KEYS: frozenset[str] = frozenset(
    (*_SCALARS, *_AMOUNTS, *_SEQUENCES, *_SUBSETS, "rules_fired", "currency")
)
"""The keys an ``expected`` object may hold; each is compared only when present."""


class FixtureError(ValueError):
    """A fixture file cannot be read or does not have the fixture shape."""


class Decider(Protocol):
    """What :func:`check` needs: :class:`adjudicator.Adjudicator` satisfies it."""

    def decide(self, case: Mapping[str, Any], ruleset: str | Ruleset | None = None) -> Decision:
        """Decide one case document."""
        ...


@dataclass(frozen=True, slots=True)
class Fixture:
    """One fixture file: a case and the decision expected for it."""

    name: str
    path: Path
    description: str
    case: Mapping[str, Any]
    expected: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Result:
    """The outcome of checking one fixture.

    ``differences`` is empty when the decision matched every expected key;
    ``fired_rules`` is the decision trace's rule ids (empty when deciding
    raised, in which case ``error`` says why).
    """

    fixture: Fixture
    differences: tuple[str, ...]
    fired_rules: tuple[str, ...] = ()
    outcome: str = "error"
    decision: Mapping[str, Any] | None = field(default=None, repr=False)
    error: str | None = None

    @property
    def name(self) -> str:
        """The fixture's name (its file name without ``.json``)."""
        return self.fixture.name

    @property
    def passed(self) -> bool:
        """True when the decision matched the fixture."""
        return not self.differences


def fixture_versions(root: str | Path) -> dict[str, Path]:
    """The version folders under a fixtures root (``fixtures/2024.1``), by version name."""
    folder = Path(root)
    if not folder.is_dir():
        return {}
    return {
        child.name: child
        for child in sorted(folder.iterdir())
        if child.is_dir() and any(child.glob("*.json"))
    }


def version_folder(path: str | Path, version: str) -> Path:
    """``path`` itself, or its ``<version>`` subfolder when ``path`` is a fixtures root.

    So ``adjudicator regress fixtures/ --ruleset V`` runs ``fixtures/V/``.
    """
    folder = Path(path)
    nested = folder / version
    if folder.is_dir() and nested.is_dir() and not any(folder.glob("*.json")):
        return nested
    return folder


def load_fixtures(paths: Iterable[str | Path]) -> list[Fixture]:
    """Read fixture files; a folder contributes its ``*.json`` files. Sorted by path.

    Raises :class:`FixtureError` for a missing path, invalid JSON, or a file
    without the ``case``/``expected`` objects or with unknown expected keys.
    """
    files: set[Path] = set()
    for item in paths:
        path = Path(item)
        if path.is_dir():
            files.update(p for p in path.glob("*.json") if p.is_file())
        elif path.is_file():
            files.add(path)
        else:
            raise FixtureError(f"{path}: no such file or folder")
    return [_read_fixture(path) for path in sorted(files)]


def _read_fixture(path: Path) -> Fixture:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FixtureError(f"{path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise FixtureError(f"{path}: a fixture is a JSON object")
    case, expected = doc.get("case"), doc.get("expected")
    if not isinstance(case, dict) or not isinstance(expected, dict):
        raise FixtureError(f"{path}: needs the objects 'case' and 'expected'")
    unknown = sorted(set(expected) - EXPECTED_KEYS)
    if unknown:
        raise FixtureError(f"{path}: unknown expected keys {unknown}")
    return Fixture(
        name=path.stem,
        path=path,
        description=str(doc.get("description", "")),
        case=case,
        expected=expected,
    )


def check(fixture: Fixture, adjudicator: Decider, ruleset: str | Ruleset | None = None) -> Result:
    """Decide the fixture's case and compare the decision with its expected keys.

    Each difference is one readable line such as
    ``outcome: expected denied, got upheld_full``. A case the core refuses
    (``InvalidCase``, an engine error) is a single ``error:`` difference.
    """
    try:
        decision = adjudicator.decide(fixture.case, ruleset)
    except AdjudicatorError as exc:
        detail = getattr(exc, "errors", None)
        text = f"{type(exc).__name__}: {exc}" + (f" {detail}" if detail else "")
        return Result(fixture, (f"error: {text}",), error=text)
    document = decision.to_dict()
    fired = tuple(decision.fired_rules)
    differences = _compare(fixture.expected, document, decision.reason_codes, fired)
    return Result(
        fixture,
        tuple(differences),
        fired_rules=fired,
        outcome=decision.outcome,
        decision=document,
    )


def _compare(
    expected: Mapping[str, Any],
    document: Mapping[str, Any],
    reason_codes: Sequence[str],
    fired: Sequence[str],
) -> list[str]:
    """The readable differences between ``expected`` and a decision document."""
    out: list[str] = []
    actual: dict[str, Any] = {
        "outcome": document["outcome"],
        "binding": document["money"]["binding"],
        "refund": document["refund"]["amount"],
        "fee_reimbursement": document["fee_reimbursement"]["amount"],
        "currency": document["refund"]["currency"],
        "reason_codes": list(reason_codes),
        "conditions": list(document["conditions"]),
    }
    for key in (*_SCALARS, *_AMOUNTS, "currency", *_SEQUENCES):
        if key in expected and _normal(expected[key]) != _normal(actual[key]):
            out.append(f"{key}: expected {_show(expected[key])}, got {_show(actual[key])}")
    for key in _SUBSETS:
        wanted = expected.get(key)
        if wanted is None:
            continue
        if not isinstance(wanted, Mapping):
            out.append(f"{key}: expected must be an object, got {_show(wanted)}")
            continue
        got: Mapping[str, Any] = document[key]
        for name, value in wanted.items():
            have = got.get(name, "<absent>")
            if _normal(value) != _normal(have):
                out.append(f"{key}.{name}: expected {_show(value)}, got {_show(have)}")
    if "rules_fired" in expected:
        missing = [rule for rule in expected["rules_fired"] if rule not in fired]
        if missing:
            out.append(
                f"rules_fired: expected {', '.join(missing)} in the trace, "
                f"got {', '.join(fired) or 'nothing'}"
            )
    return out


def _normal(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if value is None:
        return "null"
    return str(value)


def unexercised(results: Iterable[Result], ruleset: Ruleset) -> list[str]:
    """Rule ids of ``ruleset`` (and SHIP-01..05) that appear in no result's trace.

    Returned in ruleset order, the derived SHIP rules last.
    """
    seen: set[str] = set()
    for result in results:
        seen.update(result.fired_rules)
    ids = [spec.id for spec in ruleset.rules] + list(DERIVED_RULES)
    return [rule_id for rule_id in ids if rule_id not in seen]
