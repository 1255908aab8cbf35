"""``decide()``: validate, normalise, let the rules fire, build the decision.

:class:`Adjudicator` is the composition root of the core: it owns the loaded
rulesets and one engine host. The module-level :func:`decide` uses a default
adjudicator built on first use (never at import time).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from adjudicator.core import money
from adjudicator.core.canonical import canonical_json, case_digest, sha256_hex
from adjudicator.core.context import Context
from adjudicator.core.contract import load_case
from adjudicator.core.dates import rfc3339
from adjudicator.core.decision import UPHELD, Deadlines, Decision, Money, RulesetRef
from adjudicator.core.engine import RulesEngine
from adjudicator.core.errors import InvalidCase, NoOutcome
from adjudicator.core.facts import normalise
from adjudicator.core.loader import load_catalog as _load_catalog
from adjudicator.core.rules.model import Catalog, Ruleset, waiting_stage

_DECISION_NAMESPACE = uuid.UUID("6f0c2a8e-3b1d-4c55-9a57-0d7c1f3e9b21")


def load_catalog(root: Path | None = None) -> Catalog:
    """Every version of the trade_assurance ruleset under ``root`` (default: ``rules/``)."""
    return _load_catalog(root)


def load_ruleset(version: str | None = None, root: Path | None = None) -> Ruleset:
    """One ruleset version (the active one for ``None``)."""
    return _load_catalog(root).get(version)


class Adjudicator:
    """Decides cases against a catalog of ruleset versions with its own engine host."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self.catalog = catalog or _load_catalog()
        self.catalog.active  # noqa: B018 - refuses to start on a broken active version
        self.engine = RulesEngine(self.catalog.by_version.values())

    def decide(
        self,
        case: Mapping[str, Any],
        ruleset: str | Ruleset | None = None,
        *,
        decision_id: str | None = None,
        decided_at: datetime | None = None,
    ) -> Decision:
        """Decide one case document. Pure: the same case and ruleset give the same decision.

        ``case["as_of"]`` is required here (the caller supplies "now"); without
        ``decision_id``/``decided_at`` the decision id is derived from the case
        and ruleset digests and ``decided_at`` is ``as_of``.
        """
        chosen = ruleset if isinstance(ruleset, Ruleset) else self.catalog.get(ruleset)
        loaded = load_case(case, aql_values=chosen.aql_values)
        if loaded.get("as_of") is None:
            raise InvalidCase({"as_of": ["Missing: the caller supplies the decision time."]})
        normalised = normalise(loaded, chosen)
        ctx = Context.start(normalised, chosen)
        state = self.engine.run(chosen, ctx, normalised.facts)
        case_id = loaded.get("case_id") or _derived_case_id(case)
        if decision_id is None:
            seed = f"{_digest(case)}|{chosen.digest}"
            decision_id = str(uuid.uuid5(_DECISION_NAMESPACE, seed))
        try:
            return build_decision(
                ctx, state, chosen, case_id, decision_id, decided_at or loaded["as_of"]
            )
        except NoOutcome as exc:
            exc.case_digest = case_digest(case)  # names the case; the case itself is not kept
            raise


def build_decision(
    ctx: Context,
    state: Mapping[str, Any],
    ruleset: Ruleset,
    case_id: str,
    decision_id: str,
    decided_at: datetime,
) -> Decision:
    """Assemble the decision document from what the rules recorded."""
    currency = ctx.normalised.currency
    if state["inel"]:
        outcome = "not_eligible"
    elif state["outcome"] != "none":
        outcome = str(state["outcome"])
    else:  # clarification 22: a gap of the ruleset, never a decision
        finding = str(state["finding"])
        stage = waiting_stage(state) or "unknown"
        raise NoOutcome(ruleset.name, ruleset.version, stage, finding)
    upheld = outcome in UPHELD

    def fmt(minor: int) -> str:
        return money.format_minor(int(minor), currency)

    loss = state["loss"] if not state["inel"] else 0
    return Decision(
        decision_id=decision_id,
        case_id=case_id,
        as_of=rfc3339(ctx.normalised.case["as_of"]),
        decided_at=rfc3339(decided_at),
        outcome=outcome,
        currency=currency,
        refund=fmt(state["refund"] if upheld else 0),
        fee_reimbursement=fmt(ctx.fee if upheld else 0),
        money=Money(
            loss=fmt(loss),
            assurance_amount=fmt(state["assurance"]),
            covered_payments=fmt(state["covered"]),
            prior_refunds=fmt(state["prior"]),
            cap=fmt(state["cap"]),
            binding=ctx.binding if upheld else "loss",
        ),
        conditions=tuple(ctx.conditions) if upheld else (),
        deadlines=Deadlines(
            supplier_response_due=ctx.deadlines["supplier_response_due"],
            escalation_allowed_from=ctx.deadlines["escalation_allowed_from"],
            auto_escalation_at=ctx.deadlines["auto_escalation_at"],
            refund_initiation_due=ctx.refund_due if upheld else None,
        ),
        reasons=tuple(ctx.reasons),
        trace=tuple(ctx.trace),
        ruleset=RulesetRef(ruleset.name, ruleset.version, ruleset.digest),
    )


def _digest(case: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json(dict(case)))


def _derived_case_id(case: Mapping[str, Any]) -> str:
    return "case-" + _digest(case)[:16]


_default: Adjudicator | None = None
_default_lock = threading.Lock()


def _default_adjudicator() -> Adjudicator:
    global _default
    with _default_lock:
        if _default is None:
            _default = Adjudicator()
        return _default


def decide(case: Mapping[str, Any], ruleset: str | Ruleset | None = None) -> Decision:
    """Decide ``case`` with the named ruleset version (the active one for ``None``)."""
    return _default_adjudicator().decide(case, ruleset)
