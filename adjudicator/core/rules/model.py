"""The loaded form of a ruleset: immutable values the engine and the API read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adjudicator.core.errors import RulesetError, UnknownRuleset
from adjudicator.core.rules.formulas import Formula

WAITING: Mapping[str, tuple[str, str]] = {
    "breach": ("finding", "none"),
    "loss": ("finding", "breach"),
    "refund": ("finding", "priced"),
}
"""The session state in which an eligible case waits for a single-winner stage's
rule: stage -> (state field, value). The hit-policy search reads it to find
gaps; a decision that ends in one of these states names the stage it waited for."""


def waiting_stage(state: Mapping[str, Any]) -> str | None:
    """The stage a case whose session ended in ``state`` was waiting for, if any."""
    for stage, (key, value) in WAITING.items():
        if state.get(key) == value:
            return stage
    return None


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One named rule of the ruleset, as the data defines it.

    ``definition`` is the durable-rules JSON of its condition (``all``/``pri``);
    ``reads`` lists the ``(fact type, field)`` pairs its condition reads, which
    become the facts shown in the decision trace; ``action`` names an entry of
    the action vocabulary and ``args`` its arguments from the data;
    ``formulas`` holds the compiled formulas of ``args`` by ``section.name``
    (``figures.cap``), in the order the data gives them.
    """

    id: str
    title: str
    source: str
    stage: str
    action: str
    args: Mapping[str, Any]
    message: str | None
    definition: Mapping[str, Any]
    reads: tuple[tuple[str, str], ...]
    joins_state: bool
    guard: str | None
    formulas: Mapping[str, Formula] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ruleset:
    """One version of a ruleset: its rules, parameters, AQL table and digest."""

    name: str
    version: str
    digest: str
    rules: tuple[RuleSpec, ...]
    parameters: Mapping[str, Any]
    aql_table: Mapping[str, Mapping[int, int]]
    initial_state: Mapping[str, Any]

    @property
    def engine_name(self) -> str:
        """The name the engine host registers this version under."""
        return f"{self.name}@{self.version}"

    @property
    def aql_values(self) -> frozenset[str]:
        """The AQL keys a case document may name."""
        return frozenset(self.aql_table)

    def engine_definition(self) -> dict[str, Any]:
        """The durable-rules ruleset dict: one named rule per RuleSpec."""
        return {
            spec.id: {**spec.definition, "run": f"{self.engine_name}/{spec.id}"}
            for spec in self.rules
        }


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every loaded version of one ruleset, which one is active, and the broken ones.

    ``broken`` maps a version that failed to load to its errors (one sentence
    each); it never stops the other versions from loading.
    """

    name: str
    active_version: str
    by_version: Mapping[str, Ruleset]
    broken: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def active(self) -> Ruleset:
        """The version decisions use unless a request names another.

        Raises :class:`RulesetError` when the active version is broken: a
        service must not start on it.
        """
        if self.active_version in self.broken:
            errors = "; ".join(self.broken[self.active_version])
            raise RulesetError(f"the active version {self.active_version} is broken: {errors}")
        return self.by_version[self.active_version]

    @property
    def versions(self) -> list[str]:
        """The loaded versions, sorted."""
        return sorted(self.by_version)

    def get(self, version: str | None) -> Ruleset:
        """The named version (the active one for ``None``); a broken one raises its errors."""
        if version is None:
            return self.active
        if version in self.broken:
            raise RulesetError(f"version {version} is broken: {'; '.join(self.broken[version])}")
        try:
            return self.by_version[version]
        except KeyError:
            raise UnknownRuleset(version, self.versions) from None
