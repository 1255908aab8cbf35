"""The formula language: the figures a rule computes, written in the version's data.

A formula is a small, typed, exact expression, for example
``max(0, min(assurance, covered) - prior)`` or
``round_half_up(order_value * min(days_late * percent_per_day, max_percent) / 100, currency)``.
It is parsed with Python's :mod:`ast` (the same surface as the conditions),
type-checked and compiled ONCE, when the version loads, into nested closures;
a decision only calls them.

Why not CEL: measured on this machine, ``cel-python`` 0.5.0 evaluates a
four-operator formula in ~790 µs (more than a whole decision), and
``common-expression-language`` 0.10.0 (2.2 µs compiled) has only int64 with
truncating division and binary floats (``1.1 + 2.2`` is ``3.3000000000000003``),
so neither computes money exactly. See ``docs/rules-as-data.md``.

Kinds (a formula's type):

- ``money``: exact money, integer minor units of the case's currency;
- ``amount``: money that may carry fractions of a minor unit (after ``*`` by a
  ratio or a ``/``); only ``round_half_up(x, currency)`` turns it back into
  ``money``, so a missing rounding is a load error, not a cent lost at run time;
- ``int`` (counts, days between dates), ``number`` (exact decimal ratios and
  percentages), ``day`` (an epoch day), ``instant`` and ``duration`` (deadlines),
  ``bool``, ``str``, and ``quantities`` (goods by line, priced by ``value()``).

Operators: ``+ - * /``, comparisons, ``and or not``, ``x if c else y``;
functions ``min``, ``max``, ``round_half_up``, ``ceil`` (of an amount: the
next whole minor unit), ``value``, ``units``, ``within_claim``, ``at_most``,
``hours``, ``add_business_days``. ``money + int`` or ``day + money`` is an
error; a division needs a divisor that cannot be zero: a non-zero literal, or
the same expression guarded by the enclosing conditional
(``found / sample_size if sample_size > 0 else 0``).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from adjudicator.core.errors import RulesetError

Getter = Callable[[Any, Any], Any]
"""A compiled formula: ``fn(ctx, facts) -> value`` (ctx: the decision's Context)."""

NUMERIC = frozenset({"money", "amount", "int", "number", "zero"})


@dataclass(frozen=True, slots=True)
class Formula:
    """One compiled formula: its source text, its kind and the closure that computes it."""

    text: str
    kind: str
    run: Getter
    names: tuple[str, ...]

    def __call__(self, ctx: Any, facts: Any) -> Any:
        return self.run(ctx, facts)


@dataclass(frozen=True, slots=True)
class Name:
    """A name a formula may read: its kind and how to read it from a decision."""

    kind: str
    get: Getter


@dataclass(slots=True)
class _Typed:
    kind: str
    run: Getter
    const: Any = None
    is_const: bool = False


def _const(kind: str, value: Any) -> _Typed:
    return _Typed(kind, lambda ctx, facts: value, value, True)


_ONE = Decimal(1)


def round_half_up(value: Any) -> int:
    """Round an amount in minor units half-up to a whole minor unit (negative: away from 0)."""
    if isinstance(value, int):
        return value
    return int(Decimal(value).quantize(_ONE, rounding=ROUND_HALF_UP))


def at_most(goods: Mapping[str, int], limit: Mapping[str, int]) -> dict[str, int]:
    """Per line, ``goods`` counted at most up to ``limit`` (a line ``limit`` lacks counts 0).

    Spec v1.2, clarification 24: ``at_most(lost, ordered)`` counts the goods a
    breach affects only up to the ordered quantity, so goods shipped above the
    order add no loss.
    """
    counted = {line: min(quantity, limit.get(line, 0)) for line, quantity in goods.items()}
    return {line: quantity for line, quantity in counted.items() if quantity > 0}


class FormulaCompiler:
    """Type-checks and compiles the formulas of one rule against the names it may read.

    ``names`` maps each readable name (``covered``, ``case`` fields, measures,
    ``payment.amount``) to its :class:`Name`; ``parameters`` are the version's
    parameters, folded in as constants (``params.receipt_window_days``).
    """

    def __init__(
        self, rule_id: str, names: Mapping[str, Name], parameters: Mapping[str, Any]
    ) -> None:
        self.rule_id = rule_id
        self.names = names
        self.parameters = parameters
        self._read: list[str] = []

    def compile(self, text: str, expected: str | None = None) -> Formula:
        """Compile ``text``; with ``expected``, its kind must be assignable to that kind."""
        self._read = []
        try:
            tree = ast.parse(f"({text.strip()})", mode="eval").body
        except SyntaxError as exc:
            raise self._error(f"cannot parse formula {text!r}: {exc.msg}") from exc
        typed = self._node(tree, frozenset())
        if expected is not None and not assignable(typed.kind, expected):
            raise self._error(f"formula {text.strip()!r} is {typed.kind}, expected {expected}")
        return Formula(text.strip(), typed.kind, typed.run, tuple(self._read))

    # -- nodes ---------------------------------------------------------------

    def _node(self, node: ast.expr, nonzero: frozenset[str]) -> _Typed:
        if isinstance(node, ast.Constant):
            return self._literal(node.value)
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "params":
                return self._parameter(node.attr)
            return self._name(f"{node.value.id}.{node.attr}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self._node(node.operand, nonzero)
            if inner.kind not in NUMERIC:
                raise self._error(f"cannot negate a {inner.kind}: {ast.unparse(node)!r}")
            f = inner.run
            return _Typed(inner.kind, lambda c, x: -f(c, x))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self._expect(node.operand, "bool", nonzero)
            f = inner.run
            return _Typed("bool", lambda c, x: not f(c, x))
        if isinstance(node, ast.BinOp):
            return self._binop(node, nonzero)
        if isinstance(node, ast.BoolOp):
            parts = [self._expect(v, "bool", nonzero).run for v in node.values]
            if isinstance(node.op, ast.And):
                return _Typed("bool", lambda c, x: all(p(c, x) for p in parts))
            return _Typed("bool", lambda c, x: any(p(c, x) for p in parts))
        if isinstance(node, ast.Compare):
            return self._compare(node, nonzero)
        if isinstance(node, ast.IfExp):
            return self._if(node, nonzero)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            return self._call(node.func.id, node, nonzero)
        raise self._error(f"unsupported formula {ast.unparse(node)!r}")

    def _literal(self, value: Any) -> _Typed:
        if isinstance(value, bool):
            return _const("bool", value)
        if isinstance(value, int):
            return _const("zero" if value == 0 else "int", value)
        if isinstance(value, str):
            return _const("str", value)
        if isinstance(value, float):
            # exact: the literal's own digits, never the binary float Python parsed
            return _const("number", Decimal(repr(value)))
        raise self._error(f"unsupported literal {value!r}")

    def _name(self, name: str) -> _Typed:
        found = self.names.get(name)
        if found is None:
            raise self._error(f"unknown name {name!r}")
        if name not in self._read:
            self._read.append(name)
        return _Typed(found.kind, found.get)

    def _parameter(self, name: str) -> _Typed:
        if name not in self.parameters:
            raise self._error(f"unknown parameter params.{name}")
        value = self.parameters[name]
        if isinstance(value, bool):
            return _const("bool", value)
        if isinstance(value, int):
            return _const("zero" if value == 0 else "int", value)
        if isinstance(value, str):
            return _const("str", value)
        raise self._error(f"params.{name} is not an int, bool or string")

    def _expect(self, node: ast.expr, kind: str, nonzero: frozenset[str]) -> _Typed:
        typed = self._node(node, nonzero)
        if not assignable(typed.kind, kind):
            raise self._error(f"{ast.unparse(node)!r} is {typed.kind}, expected {kind}")
        return typed

    def _binop(self, node: ast.BinOp, nonzero: frozenset[str]) -> _Typed:
        left, right = self._node(node.left, nonzero), self._node(node.right, nonzero)
        typed = self._arith(node, left, right, nonzero)
        if left.is_const and right.is_const:  # both sides known at load: fold
            return _const(typed.kind, typed.run(None, None))
        return typed

    def _arith(
        self, node: ast.BinOp, left: _Typed, right: _Typed, nonzero: frozenset[str]
    ) -> _Typed:
        lk, rk = left.kind, right.kind
        lf, rf = left.run, right.run
        text = ast.unparse(node)
        if isinstance(node.op, ast.Add | ast.Sub):
            kind = _additive(lk, rk, isinstance(node.op, ast.Sub))
            if kind is None:
                raise self._error(f"cannot {_OPNAME[type(node.op)]} {rk} and {lk}: {text!r}")
            if isinstance(node.op, ast.Add):
                return _Typed(kind, lambda c, x: lf(c, x) + rf(c, x))
            return _Typed(kind, lambda c, x: lf(c, x) - rf(c, x))
        if isinstance(node.op, ast.Mult):
            kind = _multiplicative(lk, rk)
            if kind is None:
                raise self._error(f"cannot multiply {lk} by {rk}: {text!r}")
            if kind == "duration":
                raise self._error(f"use hours(n) for durations: {text!r}")
            return _Typed(kind, lambda c, x: lf(c, x) * rf(c, x))
        if isinstance(node.op, ast.Div):
            kind = _divided(lk, rk)
            if kind is None:
                raise self._error(f"cannot divide {lk} by {rk}: {text!r}")
            if not (right.is_const and right.const != 0) and ast.dump(node.right) not in nonzero:
                raise self._error(
                    f"division by {ast.unparse(node.right)!r}, which can be zero: guard it "
                    f"('... if {ast.unparse(node.right)} > 0 else ...'): {text!r}"
                )
            return _Typed(kind, lambda c, x: Decimal(lf(c, x)) / rf(c, x))
        raise self._error(f"unsupported operator in {text!r}")

    def _compare(self, node: ast.Compare, nonzero: frozenset[str]) -> _Typed:
        if len(node.ops) != 1:
            raise self._error(f"write one comparison at a time: {ast.unparse(node)!r}")
        left = self._node(node.left, nonzero)
        right = self._node(node.comparators[0], nonzero)
        if unify(left.kind, right.kind) is None and _family(left.kind) != _family(right.kind):
            raise self._error(
                f"cannot compare {left.kind} with {right.kind}: {ast.unparse(node)!r}"
            )
        op = _COMPARE.get(type(node.ops[0]))
        if op is None:
            raise self._error(f"unsupported comparison {ast.unparse(node)!r}")
        if op not in ("==", "!=") and left.kind in ("str", "bool"):
            raise self._error(f"cannot order {left.kind} values: {ast.unparse(node)!r}")
        lf, rf = left.run, right.run
        fn = _COMPARE_FN[op]
        if left.is_const and right.is_const:
            return _const("bool", fn(left.const, right.const))
        return _Typed("bool", lambda c, x: fn(lf(c, x), rf(c, x)))

    def _if(self, node: ast.IfExp, nonzero: frozenset[str]) -> _Typed:
        test = self._expect(node.test, "bool", nonzero)
        when_true, when_false = _guards(node.test)
        body = self._node(node.body, nonzero | when_true)
        orelse = self._node(node.orelse, nonzero | when_false)
        kind = unify(body.kind, orelse.kind)
        if kind is None:
            raise self._error(
                f"the branches of {ast.unparse(node)!r} differ: {body.kind} and {orelse.kind}"
            )
        if test.is_const:  # a parameter choice (post_delivery_window == 'earlier'): fold it
            return body if test.const else orelse
        tf, bf, of = test.run, body.run, orelse.run
        return _Typed(kind, lambda c, x: bf(c, x) if tf(c, x) else of(c, x))

    def _call(self, name: str, node: ast.Call, nonzero: frozenset[str]) -> _Typed:
        args = [self._node(a, nonzero) for a in node.args]
        text = ast.unparse(node)
        kinds = [a.kind for a in args]
        runs = [a.run for a in args]
        if name in ("min", "max"):
            if len(args) < 2:
                raise self._error(f"{name} needs two or more arguments: {text!r}")
            kind: str | None = kinds[0]
            for other in kinds[1:]:
                kind = unify(kind, other) if kind is not None else None
            if kind is None or kind not in NUMERIC | {"day"}:
                raise self._error(f"{name} over {kinds} does not agree: {text!r}")
            pick = min if name == "min" else max
            return _Typed(kind, lambda c, x: pick(r(c, x) for r in runs))
        if name == "round_half_up":
            if (
                len(args) != 2
                or not isinstance(node.args[1], ast.Name)
                or node.args[1].id != "currency"
            ):
                raise self._error(f"write round_half_up(x, currency): {text!r}")
            if kinds[0] not in ("money", "amount", "zero"):
                raise self._error(f"round_half_up rounds money, not {kinds[0]}: {text!r}")
            inner = runs[0]
            return _Typed("money", lambda c, x: round_half_up(inner(c, x)))
        if name == "ceil":
            if len(args) != 1 or kinds[0] not in ("int", "number", "zero", "money", "amount"):
                raise self._error(f"ceil takes one number or amount: {text!r}")
            inner = runs[0]
            kind = "money" if kinds[0] in ("money", "amount") else "int"
            return _Typed(kind, lambda c, x: math.ceil(inner(c, x)))
        if name == "within_claim":
            if len(args) != 1 or kinds[0] != "quantities":
                raise self._error(f"within_claim takes goods by line: {text!r}")
            inner = runs[0]
            return _Typed("quantities", lambda c, x: c.within_claim(inner(c, x)))
        if name == "at_most":
            if len(args) != 2 or kinds != ["quantities", "quantities"]:
                raise self._error(f"write at_most(goods, limit) with goods by line: {text!r}")
            goods, limit = runs
            return _Typed("quantities", lambda c, x: at_most(goods(c, x), limit(c, x)))
        if name in ("value", "units"):
            if len(args) != 1 or kinds[0] != "quantities":
                raise self._error(f"{name} takes goods by line (affected, ordered, ...): {text!r}")
            inner = runs[0]
            if name == "units":
                return _Typed("int", lambda c, x: sum(inner(c, x).values()))
            return _Typed("amount", lambda c, x: c.value_minor(inner(c, x)))
        if name == "hours":
            if len(args) != 1 or kinds[0] not in ("int", "zero"):
                raise self._error(f"hours takes an int: {text!r}")
            if args[0].is_const:  # hours(params.x): one timedelta, made at load
                return _const("duration", timedelta(hours=args[0].const))
            inner = runs[0]
            return _Typed("duration", lambda c, x: timedelta(hours=inner(c, x)))
        if name == "add_business_days":
            if len(args) != 2 or kinds[0] != "day" or kinds[1] not in ("int", "zero"):
                raise self._error(f"write add_business_days(day, int): {text!r}")
            day, count = runs
            return _Typed("day", lambda c, x: c.add_business_days(day(c, x), count(c, x)))
        raise self._error(f"unknown function {name!r}")

    def _error(self, message: str) -> RulesetError:
        return RulesetError(f"rule {self.rule_id}: {message}")


_OPNAME = {ast.Add: "add", ast.Sub: "subtract"}
_COMPARE: dict[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
_COMPARE_FN: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: bool(a == b),
    "!=": lambda a, b: bool(a != b),
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


def _family(kind: str) -> str:
    if kind in ("money", "amount"):
        return "money"
    if kind in ("int", "number"):
        return "number"
    return kind


def unify(a: str, b: str) -> str | None:
    """The kind two values of kinds ``a`` and ``b`` share (branches, ``min``), or None."""
    if a == b:
        return a
    if "zero" in (a, b):
        other = b if a == "zero" else a
        return other if other in NUMERIC else None
    pair = {a, b}
    if pair == {"money", "amount"}:
        return "amount"
    if pair == {"int", "number"}:
        return "number"
    return None


def assignable(kind: str, target: str) -> bool:
    """May a value of ``kind`` be stored where ``target`` is expected?"""
    if kind == target:
        return True
    if kind == "zero":
        return target in NUMERIC
    return kind == "int" and target == "number"


def _additive(a: str, b: str, subtract: bool) -> str | None:
    if a == "day" and b in ("int", "zero"):
        return "day"
    if b == "day" and a in ("int", "zero") and not subtract:
        return "day"
    if a == "day" and b == "day" and subtract:
        return "int"
    if a == "instant" and b == "duration":
        return "instant"
    kind = unify(a, b)
    if kind in NUMERIC:
        return kind
    return None


def _multiplicative(a: str, b: str) -> str | None:
    pair = sorted((a, b))
    if "zero" in pair:
        other = pair[0] if pair[1] == "zero" else pair[1]
        return other if other in NUMERIC else None
    if pair == ["int", "int"]:
        return "int"
    if pair == ["int", "money"]:
        return "money"
    if pair in (["amount", "int"], ["amount", "number"], ["money", "number"]):
        return "amount"
    if pair in (["int", "number"], ["number", "number"]):
        return "number"
    return None


def _divided(a: str, b: str) -> str | None:
    if a in ("money", "amount", "zero") and b in ("int", "number"):
        return "amount"
    if a in ("money", "amount") and b in ("money", "amount"):
        return "number"
    if a in ("int", "number", "zero") and b in ("int", "number"):
        return "number"
    return None


def _guards(test: ast.expr) -> tuple[frozenset[str], frozenset[str]]:
    """The expressions known to be non-zero when ``test`` holds, and when it fails."""
    conjuncts = (
        test.values if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) else [test]
    )
    when_true: set[str] = set()
    for part in conjuncts:
        if not isinstance(part, ast.Compare) or len(part.ops) != 1:
            continue
        op, left, right = part.ops[0], part.left, part.comparators[0]
        if _is_zero(right) and isinstance(op, ast.Gt | ast.NotEq | ast.Lt):
            when_true.add(ast.dump(left))
        if _is_zero(left) and isinstance(op, ast.Lt | ast.NotEq | ast.Gt):
            when_true.add(ast.dump(right))
    when_false: set[str] = set()
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
        if _is_zero(test.comparators[0]):
            when_false.add(ast.dump(test.left))
        if _is_zero(test.left):
            when_false.add(ast.dump(test.comparators[0]))
    return frozenset(when_true), frozenset(when_false)


def _is_zero(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == 0 and not isinstance(node.value, bool)
