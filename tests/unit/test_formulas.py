"""Formulas are data: typed, checked at load, exact, and changed without touching Python."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from adjudicator import Adjudicator, RulesetError
from adjudicator.core.loader import DEFAULT_RULES_DIR, load_catalog, load_version
from adjudicator.core.measures import formula_names
from adjudicator.core.rules.formulas import FormulaCompiler, at_most, round_half_up

ROOT = Path(__file__).resolve().parents[2]
PARAMS: dict[str, Any] = {"receipt_window_days": 30, "post_delivery_window": "earlier"}


def _compile(text: str, expected: str | None = None, facts: tuple[str, ...] = ("case",)) -> Any:
    return FormulaCompiler("T-01", formula_names(facts), PARAMS).compile(text, expected)


@pytest.mark.parametrize(
    ("text", "expected", "error"),
    [
        ("cap + 1", "money", "cannot add int and money"),
        ("ship_day + cap", "day", "cannot add money and day"),
        ("value(ordered)", "money", "is amount, expected money"),
        ("round_half_up(value(ordered) / sample_size, currency)", "money", "can be zero"),
        ("round_half_up(value(ordered) / (sample_size - 1), currency)", "money", "can be zero"),
        ("cap / covered", None, "can be zero"),
        ("has_receipt and cap", None, "expected bool"),
        ("ship_day > 3", None, "cannot compare day with int"),
        ("mystery + 1", None, "unknown name 'mystery'"),
        ("ship_day + params.nope", None, "unknown parameter params.nope"),
        ("sqrt(cap)", None, "unknown function 'sqrt'"),
        ("round_half_up(cap, 'USD')", None, "round_half_up\\(x, currency\\)"),
        ("round_half_up(sample_size, currency)", None, "rounds money"),
        ("cap if has_receipt else ship_day", None, "branches"),
        ("ground == 3", None, "cannot compare"),
        ("payment.amount", None, "unknown name 'payment.amount'"),
        ("cap ** 2", None, "unsupported operator"),
        ("at_most(lost, 3)", None, "at_most\\(goods, limit\\)"),
        ("at_most(lost)", None, "at_most\\(goods, limit\\)"),
    ],
)
def test_a_formula_that_does_not_type_check_is_refused(
    text: str, expected: str | None, error: str
) -> None:
    with pytest.raises(RulesetError, match=error):
        _compile(text, expected)


def test_a_guarded_division_and_the_kinds_it_gives() -> None:
    ratio = _compile(
        "round_half_up(value(ordered) * min((defects_major + defects_minor) / sample_size, 1),"
        " currency) if sample_size > 0 else 0",
        "money",
    )
    assert ratio.kind == "money"
    assert _compile("ship_day - ship_by_day").kind == "int"
    assert _compile("ship_by_day + params.receipt_window_days").kind == "day"
    assert _compile("max(0, min(assurance, covered) - prior)").kind == "money"
    assert _compile("covered + payment.amount", facts=("payment",)).kind == "money"
    assert _compile("cap / 2").kind == "amount"
    assert _compile("0.5 * 3").kind == "number"


def test_at_most_counts_goods_per_line_up_to_a_limit() -> None:
    """Clarification 24: ``at_most(lost, ordered)``; a line the limit lacks counts 0."""
    assert at_most({"L1": 12000, "L2": 3, "L9": 5}, {"L1": 10000, "L2": 5}) == {
        "L1": 10000,
        "L2": 3,
    }
    assert at_most({"L1": 0}, {"L1": 10}) == {}
    assert _compile("units(within_claim(at_most(lost, ordered)))").kind == "int"


def test_a_parameter_choice_is_folded_at_load() -> None:
    formula = _compile(
        "min(customs_day + 15, ship_day) if params.post_delivery_window == 'earlier' "
        "else max(customs_day + 15, ship_day)"
    )
    facts = {"case": {"customs_day": 100, "ship_day": 120}, "state": {}}
    assert formula(None, facts) == 115


@pytest.mark.parametrize(
    ("amount", "minor"),
    [
        (Decimal("0.5"), 1),
        (Decimal("1.4999999"), 1),
        (Decimal("2.5"), 3),
        (Decimal("-2.5"), -3),
        (Decimal("7"), 7),
        (12, 12),
    ],
)
def test_round_half_up_is_exact(amount: Decimal, minor: int) -> None:
    assert round_half_up(amount) == minor


def test_decimal_literals_are_exact() -> None:
    formula = _compile("0.1 + 0.2")
    assert formula(None, {"state": {}}) == Decimal("0.3")


def test_every_figure_of_the_active_version_is_a_compiled_formula() -> None:
    ruleset = load_catalog().get("2024.1")
    by_rule = {spec.id: spec for spec in ruleset.rules}
    assert by_rule["CAP-04"].formulas["figures.cap"].text == (
        "max(0, min(assurance, covered) - prior)"
    )
    for rule_id in ("LOSS-01a", "LOSS-02a", "LOSS-03a", "LOSS-04a", "LOSS-05"):
        assert by_rule[rule_id].formulas["figures.loss"].kind == "money"
    assert "figures.win_close" in by_rule["WIN-03"].formulas


def _fixture(name: str) -> dict[str, Any]:
    found = sorted(ROOT.glob(f"fixtures/**/{name}.json"))
    case: dict[str, Any] = orjson.loads(found[0].read_bytes())["case"]
    return case


def test_an_analyst_changes_a_formula_in_the_data_only(tmp_path: Path) -> None:
    """Delay compensation capped at 3 % instead of the clause's maximum: data, no Python."""
    source = DEFAULT_RULES_DIR / "trade_assurance" / "2024.1"
    folder = tmp_path / "2024.1-three-percent"
    shutil.copytree(source, folder)
    rules = folder / "rules.toml"
    text = rules.read_text(encoding="utf-8")
    before = "min((ship_day - ship_by_day) * percent_per_day, max_percent)"
    assert text.count(before) == 1
    rules.write_text(
        text.replace(before, "min((ship_day - ship_by_day) * percent_per_day, max_percent, 3)"),
        encoding="utf-8",
    )
    changed = load_version(folder)
    adjudicator = Adjudicator()
    case = _fixture("LOSS-04a-delay-compensation-at-max")  # 20 days x 0.5 %, max 5 %
    assert adjudicator.decide(case, "2024.1").refund == "1000.00"
    assert adjudicator.decide(case, changed).refund == "600.00"
    small = _fixture("LOSS-04a-delay-compensation")  # 3 days x 0.5 % = 1.5 %: below 3 %
    assert adjudicator.decide(small, changed).refund == "300.00"
    assert changed.digest != load_catalog().get("2024.1").digest


def test_a_formula_error_in_the_data_names_the_rule(tmp_path: Path) -> None:
    source = DEFAULT_RULES_DIR / "trade_assurance" / "2024.1"
    folder = tmp_path / "broken"
    shutil.copytree(source, folder)
    rules = folder / "rules.toml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(
        text.replace(
            'figures.cap = "max(0, min(assurance, covered) - prior)"',
            'figures.cap = "max(0, min(assurance, covered) - prior) + 1"',
        ),
        encoding="utf-8",
    )
    with pytest.raises(RulesetError, match="rule CAP-04: cannot add int and money"):
        load_version(folder)


def test_an_also_reason_needs_a_bool_formula_and_its_keys(tmp_path: Path) -> None:
    source = DEFAULT_RULES_DIR / "trade_assurance" / "2024.2"
    folder = tmp_path / "also"
    shutil.copytree(source, folder)
    rules = folder / "rules.toml"
    text = rules.read_text(encoding="utf-8")
    good = 'when = "late_qty > 0"'
    assert text.count(good) == 1
    rules.write_text(text.replace(good, 'when = "late_qty"'), encoding="utf-8")
    with pytest.raises(RulesetError, match="rule SHIPX-01b: .*is int, expected bool"):
        load_version(folder)
    rules.write_text(text.replace(good, 'wen = "late_qty > 0"'), encoding="utf-8")
    with pytest.raises(RulesetError, match=r"rule SHIPX-01b: also\[0\] needs reason and when"):
        load_version(folder)
