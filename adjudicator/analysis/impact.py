"""Impact analysis: what a candidate ruleset would change, compared case by case.

Pure (no clock, no I/O): the replay job (``adjudicator.governance.replays``) feeds
each stored decision with its control and candidate decisions into an
:class:`ImpactTally`; tallies of separate chunks :meth:`merge`; :func:`finish`
turns the merged tally into the report's figures (rules-governance.md §5).

- The **control** is the case re-decided with the version recorded on the
  stored decision. When its *substance* (outcome, money, reasons, conditions,
  deadlines) differs from the stored decision's, the case is **drifted**: the
  engine or the data changed since; it is counted apart and never mixed into
  the impact figures.
- Otherwise the case is **changed** when the candidate's substance differs from
  the control's, else **unchanged**.
- Money is compared exactly (``Decimal`` from the contract's strings) and
  grouped by currency; amounts of different currencies are never added.
"""

from __future__ import annotations

import csv
import heapq
import io
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

LARGEST = 10  # drill-downs kept in a report
SAMPLES = 50  # drifted and failed cases listed in a report
CSV_COLUMNS = (
    "decision_id", "case_id", "order_id", "claim_id", "created_at", "ground", "currency",
    "outcome_before", "outcome_after", "refund_before", "refund_after", "refund_delta",
    "reasons_before", "reasons_after", "rules_only_before", "rules_only_after",
)  # fmt: skip
_SUBSTANCE = ("outcome", "refund", "fee_reimbursement", "money", "conditions", "deadlines")


def substance(document: Mapping[str, Any]) -> dict[str, Any]:
    """What a decision concluded: everything but its ids, times, trace and ruleset."""
    found = {key: document.get(key) for key in _SUBSTANCE}
    found["reasons"] = [
        (r.get("code"), r.get("rule"), r.get("message")) for r in document.get("reasons", [])
    ]
    return found


def differing_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The top-level substance fields in which two decisions differ."""
    a, b = substance(before), substance(after)
    return [key for key in a if a[key] != b[key]]


def _fired(document: Mapping[str, Any]) -> list[str]:
    return [str(step.get("rule")) for step in document.get("trace", [])]


def _refund(document: Mapping[str, Any]) -> Decimal:
    return Decimal(str(document["refund"]["amount"]))


def drill_down(
    row: Mapping[str, Any], control: Mapping[str, Any], candidate: Mapping[str, Any]
) -> dict[str, Any]:
    """One changed case in full: the case, both decisions, and the reasons and trace that differ."""
    before_reasons = [(r["code"], r["rule"], r["message"]) for r in control["reasons"]]
    after_reasons = [(r["code"], r["rule"], r["message"]) for r in candidate["reasons"]]
    before_steps = {s["rule"]: s["facts"] for s in control["trace"]}
    after_steps = {s["rule"]: s["facts"] for s in candidate["trace"]}
    figures = [
        {"rule": rule, "before": before_steps[rule], "after": after_steps[rule]}
        for rule in before_steps
        if rule in after_steps and before_steps[rule] != after_steps[rule]
    ]
    delta = _refund(candidate) - _refund(control)
    return {
        "decision_id": row["decision_id"],
        "case_id": row["case_id"],
        "created_at": row["created_at"],
        "changed": differing_fields(control, candidate),
        "outcome": {"before": control["outcome"], "after": candidate["outcome"]},
        "refund": {
            "currency": control["refund"]["currency"],
            "before": control["refund"]["amount"],
            "after": candidate["refund"]["amount"],
            "delta": str(delta),
        },
        "reasons": {
            "removed": [_reason(r) for r in before_reasons if r not in after_reasons],
            "added": [_reason(r) for r in after_reasons if r not in before_reasons],
        },
        "trace": {
            "only_before": [rule for rule in before_steps if rule not in after_steps],
            "only_after": [rule for rule in after_steps if rule not in before_steps],
            "figures": figures,
        },
        "case": row["case"],
        "before": dict(control),
        "after": dict(candidate),
    }


def _reason(reason: tuple[str, str, str]) -> dict[str, str]:
    return {"code": reason[0], "rule": reason[1], "message": reason[2]}


@dataclass
class ImpactTally:
    """Running figures of one chunk (or of a merge of chunks). Picklable plain data."""

    total: int = 0
    unchanged: int = 0
    changed: int = 0
    errors: int = 0
    drifted: int = 0
    oldest: str | None = None
    newest: str | None = None
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    compared_by_currency: Counter[str] = field(default_factory=Counter)
    deltas: dict[tuple[str, str], list[Decimal]] = field(default_factory=dict)
    fires_before: Counter[str] = field(default_factory=Counter)
    fires_after: Counter[str] = field(default_factory=Counter)
    largest: list[tuple[Decimal, int, str, dict[str, Any]]] = field(default_factory=list)
    csv_rows: list[tuple[str, ...]] = field(default_factory=list)
    drifted_cases: list[dict[str, Any]] = field(default_factory=list)
    error_cases: list[dict[str, Any]] = field(default_factory=list)

    def _seen(self, created_at: str) -> None:
        self.total += 1
        if self.oldest is None or created_at < self.oldest:
            self.oldest = created_at
        if self.newest is None or created_at > self.newest:
            self.newest = created_at

    def add_error(self, row: Mapping[str, Any], message: str) -> None:
        """A case that could not be decided (candidate or control)."""
        self._seen(row["created_at"])
        self.errors += 1
        if len(self.error_cases) < SAMPLES:
            self.error_cases.append({"decision_id": row["decision_id"], "error": message})

    def add(
        self,
        row: Mapping[str, Any],
        control: Mapping[str, Any],
        candidate: Mapping[str, Any],
    ) -> None:
        """One stored decision (``row``: ids, time, document, case) and its two re-decisions."""
        self._seen(row["created_at"])
        stored = row["document"]
        drift = differing_fields(stored, control)
        if drift:
            self.drifted += 1
            if len(self.drifted_cases) < SAMPLES:
                self.drifted_cases.append(
                    {
                        "decision_id": row["decision_id"],
                        "ruleset": stored.get("ruleset"),
                        "differs_in": drift,
                        "stored": {"outcome": stored["outcome"], "refund": stored["refund"]},
                        "control": {"outcome": control["outcome"], "refund": control["refund"]},
                    }
                )
            return
        before, after = control["outcome"], candidate["outcome"]
        currency = str(control["refund"]["currency"])
        ground = str(row["case"].get("claim", {}).get("ground", "?"))
        self.transitions[(before, after)] += 1
        self.compared_by_currency[currency] += 1
        self.fires_before.update(set(_fired(control)))
        self.fires_after.update(set(_fired(candidate)))
        if substance(control) == substance(candidate):
            self.unchanged += 1
            return
        self.changed += 1
        delta = _refund(candidate) - _refund(control)
        if delta:
            self.deltas.setdefault((currency, ground), []).append(delta)
        rank = (abs(delta), int(before != after), row["decision_id"])
        if len(self.largest) < LARGEST or rank > self._smallest_rank():
            entry = (abs(delta), int(before != after), row["decision_id"],
                     drill_down(row, control, candidate))  # fmt: skip
            if len(self.largest) < LARGEST:
                heapq.heappush(self.largest, entry)
            else:
                heapq.heapreplace(self.largest, entry)
        before_fired, after_fired = _fired(control), _fired(candidate)
        case = row["case"]
        self.csv_rows.append(
            (
                row["decision_id"], row["case_id"],
                str(case.get("order", {}).get("order_id", "")),
                str(case.get("claim", {}).get("claim_id", "")),
                row["created_at"], ground, currency, before, after,
                control["refund"]["amount"], candidate["refund"]["amount"], str(delta),
                " ".join(r["code"] for r in control["reasons"]),
                " ".join(r["code"] for r in candidate["reasons"]),
                " ".join(r for r in before_fired if r not in after_fired),
                " ".join(r for r in after_fired if r not in before_fired),
            )
        )  # fmt: skip

    def _smallest_rank(self) -> tuple[Decimal, int, str]:
        low = self.largest[0]
        return (low[0], low[1], low[2])

    def merge(self, other: ImpactTally) -> None:
        """Add another chunk's figures to these."""
        for name in ("total", "unchanged", "changed", "errors", "drifted"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for stamp in (other.oldest, other.newest):
            if stamp is not None:
                self.oldest = stamp if self.oldest is None else min(self.oldest, stamp)
                self.newest = stamp if self.newest is None else max(self.newest, stamp)
        self.transitions.update(other.transitions)
        self.compared_by_currency.update(other.compared_by_currency)
        for key, values in other.deltas.items():
            self.deltas.setdefault(key, []).extend(values)
        self.fires_before.update(other.fires_before)
        self.fires_after.update(other.fires_after)
        self.largest = heapq.nlargest(LARGEST, self.largest + other.largest, key=_rank)
        heapq.heapify(self.largest)
        self.csv_rows.extend(other.csv_rows)
        # The samples kept are the SAMPLES smallest decision ids, whatever the chunking.
        self.drifted_cases = sorted(self.drifted_cases + other.drifted_cases, key=_ident)[:SAMPLES]
        self.error_cases = sorted(self.error_cases + other.error_cases, key=_ident)[:SAMPLES]


def _ident(sample: Mapping[str, Any]) -> str:
    return str(sample["decision_id"])


def _rank(entry: tuple[Decimal, int, str, dict[str, Any]]) -> tuple[Decimal, int, str]:
    return (entry[0], entry[1], entry[2])


def percentile(ordered: list[Decimal], p: int) -> Decimal:
    """The nearest-rank ``p``-th percentile of an ascending list (not empty)."""
    return ordered[max(0, math.ceil(p * len(ordered) / 100) - 1)]


def _stats(compared: int, deltas: Iterable[Decimal]) -> dict[str, Any]:
    ordered = sorted(deltas)
    total = sum(ordered, Decimal(0))
    exponent = min((d.as_tuple().exponent for d in ordered), default=0)
    quantum = Decimal(1).scaleb(int(exponent))
    mean = (total / compared).quantize(quantum, ROUND_HALF_EVEN) if compared else Decimal(0)
    out: dict[str, Any] = {
        "cases": compared,
        "refund_changed": len(ordered),
        "sum": str(total),
        "mean": str(mean),
        "increased": sum(1 for d in ordered if d > 0),
        "decreased": sum(1 for d in ordered if d < 0),
    }
    for p in (50, 90, 99):
        out[f"p{p}"] = str(percentile(ordered, p)) if ordered else None
    return out


def finish(tally: ImpactTally) -> dict[str, Any]:
    """The report's figures from a merged tally (JSON-ready, deterministic order).

    Refund change per currency (and per ground and currency): ``sum`` of the
    deltas (candidate − control), ``mean`` over every compared case of that
    currency, and the percentiles of the non-zero deltas.
    """
    matrix: dict[str, dict[str, int]] = {}
    for (before, after), count in sorted(tally.transitions.items()):
        matrix.setdefault(before, {})[after] = count
    by_currency: dict[str, list[Decimal]] = {}
    by_ground: dict[str, dict[str, list[Decimal]]] = {}
    for (currency, ground), values in tally.deltas.items():
        by_currency.setdefault(currency, []).extend(values)
        by_ground.setdefault(ground, {}).setdefault(currency, []).extend(values)
    currencies = sorted(set(tally.compared_by_currency) | set(by_currency))
    refund_change = {
        "by_currency": {
            c: _stats(tally.compared_by_currency[c], by_currency.get(c, [])) for c in currencies
        },
        "by_ground": {
            g: {c: _stats(len(v), v) for c, v in sorted(per.items())}
            for g, per in sorted(by_ground.items())
        },
    }
    rules = sorted(set(tally.fires_before) | set(tally.fires_after))
    rule_fires: list[dict[str, Any]] = [
        {
            "rule": rule,
            "before": tally.fires_before[rule],
            "after": tally.fires_after[rule],
            "delta": tally.fires_after[rule] - tally.fires_before[rule],
        }
        for rule in rules
        if tally.fires_before[rule] != tally.fires_after[rule]
    ]
    rule_fires.sort(key=lambda r: (-abs(int(r["delta"])), str(r["rule"])))
    largest = [entry[3] for entry in sorted(tally.largest, key=_rank, reverse=True)]
    return {
        "total": tally.total,
        "unchanged": tally.unchanged,
        "changed": tally.changed,
        "errors": tally.errors,
        "drifted": tally.drifted,
        "oldest_decision": tally.oldest,
        "newest_decision": tally.newest,
        "transitions": matrix,
        "refund_change": refund_change,
        "rule_fires": rule_fires,
        "largest_changes": largest,
        "drifted_cases": sorted(tally.drifted_cases, key=lambda d: d["decision_id"]),
        "error_cases": sorted(tally.error_cases, key=lambda d: d["decision_id"]),
    }


def changes_csv(tally: ImpactTally) -> str:
    """Every changed case, one CSV row each, ordered by decision id."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(sorted(tally.csv_rows))
    return out.getvalue()
