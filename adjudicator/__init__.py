"""Trade Assurance claim adjudication: the pure decision core.

``decide(case)`` validates a case document, normalises it into facts, lets
the durable-rules ruleset decide, and returns a :class:`Decision`. Nothing
here touches a clock, a database, the network or Flask: the service around it
loads, calls, stores and audits (see ``adjudicator/core/README.md``).
"""

from adjudicator.core.canonical import case_digest
from adjudicator.core.decide import Adjudicator, decide, load_catalog, load_ruleset
from adjudicator.core.decision import Decision
from adjudicator.core.errors import (
    AdjudicatorError,
    EngineError,
    InvalidCase,
    NoOutcome,
    RulesetError,
    UnknownRuleset,
)
from adjudicator.core.rules.model import Catalog, Ruleset

__all__ = [
    "Adjudicator",
    "AdjudicatorError",
    "Catalog",
    "Decision",
    "EngineError",
    "InvalidCase",
    "NoOutcome",
    "Ruleset",
    "RulesetError",
    "UnknownRuleset",
    "case_digest",
    "decide",
    "load_catalog",
    "load_ruleset",
]
