"""The names a formula may read, with their kinds, and where each value comes from.

Three sources, checked when a version loads (:mod:`adjudicator.core.rules.formulas`):

- the session **state** (``cap``, ``covered``, ``loss``, ``win_close``…), always;
- the **facts** the rule matched: bare names for the ``case`` fact's fields
  (``ship_day``, ``assurance_amount``), ``payment.amount``, ``prior.refund``,
  ``line.ordered`` for item facts;
- **measures** of the case kept on the Python side because the engine cannot
  hold them (exact decimals, goods by line): ``order_value``,
  ``percent_per_day``, ``affected``, ``unshipped``…

A new measure is the "new fact field" of ``docs/rules-as-data.md``: one entry
here (and, when it needs it, one field in :class:`~adjudicator.core.facts.Normalised`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

from adjudicator.core.context import Context
from adjudicator.core.dates import epoch_day
from adjudicator.core.fact_types import FACT_FIELDS, STATE_FIELDS, STATE_SEEDS
from adjudicator.core.rules.formulas import Name

_KIND_OF: Final = {"money": "money", "int": "int", "day": "day", "str": "str", "bool": "bool"}
"""Fact-field kinds (:mod:`adjudicator.core.fact_types`) as formula kinds."""

_ZERO = Decimal(0)


def _clause(ctx: Context, key: str) -> Decimal:
    clause = ctx.normalised.case["order"].get("delay_compensation")
    return _ZERO if clause is None else Decimal(clause[key])


def _affected(ctx: Context) -> dict[str, int]:
    return ctx.affected if ctx.affected is not None else ctx.normalised.ordered


def _claimed_else_affected(ctx: Context) -> dict[str, int]:
    return ctx.claimed() or _affected(ctx)


def _asked(ctx: Context) -> dict[str, int]:
    """What the claim asks for (clarification 19): its lines when given, else the whole order."""
    return ctx.claimed() or ctx.normalised.ordered


def _not_on_time(ctx: Context) -> dict[str, int]:
    """Clarification 5: units not shipped by the filing plus units shipped late by then."""
    goods = dict(ctx.normalised.unshipped)
    for line, quantity in ctx.normalised.late_by_filing.items():
        goods[line] = goods.get(line, 0) + quantity
    return goods


def _sample_size(ctx: Context) -> int:
    inspection = ctx.normalised.inspection
    return 0 if inspection is None else int(inspection["sample_size"])


Measure = tuple[str, Callable[[Context], Any]]

MEASURES: Final[dict[str, Measure]] = {
    "currency": ("str", lambda ctx: ctx.normalised.currency),
    "order_value": ("amount", lambda ctx: ctx.value_minor(ctx.normalised.ordered)),
    "percent_per_day": ("number", lambda ctx: _clause(ctx, "percent_per_day")),
    "max_percent": ("number", lambda ctx: _clause(ctx, "max_percent")),
    "sample_size": ("int", _sample_size),
    "filed_at": ("instant", lambda ctx: ctx.normalised.case["claim"]["filed_at"]),
    "as_of_day": ("day", lambda ctx: epoch_day(ctx.normalised.as_of)),
    # goods by line, priced with value() and counted with units()
    "ordered": ("quantities", lambda ctx: ctx.normalised.ordered),
    "unshipped": ("quantities", lambda ctx: ctx.normalised.unshipped),
    "late": ("quantities", lambda ctx: ctx.normalised.late),
    "late_by_filing": ("quantities", lambda ctx: ctx.normalised.late_by_filing),
    "not_on_time": ("quantities", _not_on_time),
    "asked": ("quantities", _asked),
    "lost": ("quantities", lambda ctx: ctx.normalised.lost),
    "shortfall": ("quantities", lambda ctx: ctx.shortfall),
    "affected": ("quantities", _affected),
    "claimed": ("quantities", lambda ctx: ctx.claimed()),
    "claimed_else_affected": ("quantities", _claimed_else_affected),
}
"""Values of the case computed on the Python side: name -> (kind, how to read it)."""


def _state_getter(name: str) -> Callable[[Context, Any], Any]:
    return lambda ctx, facts: facts["state"][name]


def _fact_getter(fact: str, name: str) -> Callable[[Context, Any], Any]:
    return lambda ctx, facts: facts[fact][name]


def _measure_getter(read: Callable[[Context], Any]) -> Callable[[Context, Any], Any]:
    return lambda ctx, facts: read(ctx)


def formula_names(fact_types: Iterable[str]) -> Mapping[str, Name]:
    """Every name a formula of a rule that matches ``fact_types`` may read."""
    names: dict[str, Name] = {}
    for key, (measure_kind, read) in MEASURES.items():
        names[key] = Name(measure_kind, _measure_getter(read))
    for fact in fact_types:
        if fact == "state":
            continue
        for field, kind in FACT_FIELDS[fact].items():
            key = field if fact == "case" else f"{fact}.{field}"
            names[key] = Name(_KIND_OF[kind], _fact_getter(fact, field))
    for field, (kind, _) in STATE_FIELDS.items():
        names[field] = Name(_KIND_OF[kind], _state_getter(field))
    for field, kind in STATE_SEEDS.items():
        names[field] = Name(_KIND_OF[kind], _state_getter(field))
    return names
