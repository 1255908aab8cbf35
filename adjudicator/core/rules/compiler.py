"""Compile a rule's ``when`` expressions into durable-rules condition JSON.

A condition is written as a small Python-like expression over the fields of
one fact, for example ``ground == 'late_shipment' and ship_day > ship_by_day``.
The compiler accepts only what the engine can evaluate safely: comparisons of
a field with a constant, a parameter, another field of the same fact
(``ship_by_day``), ``+ - *``
on the right side, ``in [...]``, ``and``, ``or`` and ``not``. There is no
division (integer division by zero kills the engine's process) and every name
is checked against :mod:`adjudicator.core.fact_types`.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from adjudicator.core.errors import RulesetError

_OPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "$eq",
    ast.NotEq: "$neq",
    ast.Lt: "$lt",
    ast.LtE: "$lte",
    ast.Gt: "$gt",
    ast.GtE: "$gte",
}
_NEGATED: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_ARITH: dict[type[ast.operator], str] = {ast.Add: "$add", ast.Sub: "$sub", ast.Mult: "$mul"}
_KIND_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "bool": (bool,),
    "int": (int,),
    "day": (int,),
    "money": (int,),
}

Json = dict[str, Any]


class PatternCompiler:
    """Compiles the expressions of one rule; collects the fields they read.

    ``fields`` maps each fact type of the rule to its field kinds, ``aliases``
    maps each fact type to the rule's alias for it.
    """

    def __init__(
        self,
        rule_id: str,
        fields: Mapping[str, Mapping[str, str]],
        aliases: Mapping[str, str],
        parameters: Mapping[str, Any],
    ) -> None:
        self.rule_id = rule_id
        self.fields = fields
        self.aliases = aliases
        self.parameters = parameters
        self.reads: list[tuple[str, str]] = []

    def compile(self, fact_type: str, expression: str) -> list[Json]:
        """The list of conditions (to be AND-ed) for ``expression`` over ``fact_type``."""
        text = expression.strip()
        if not text:
            return []
        try:
            tree = ast.parse(f"({text})", mode="eval").body
        except SyntaxError as exc:
            raise self._error(f"cannot parse {expression!r}: {exc.msg}") from exc
        condition = self._node(fact_type, tree, negate=False)
        return [] if condition is None else [condition]

    # -- expression nodes -------------------------------------------------

    def _node(self, fact: str, node: ast.expr, *, negate: bool) -> Json | None:
        if isinstance(node, ast.BoolOp):
            is_and = isinstance(node.op, ast.And) != negate
            if is_and:
                parts = [self._node(fact, v, negate=negate) for v in node.values]
                return {"$and": [p for p in parts if p is not None]}
            return self._exclusive_or(fact, node.values, negate=negate)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self._node(fact, node.operand, negate=not negate)
        if isinstance(node, ast.Name):
            self._field(fact, node.id, "bool")
            return {node.id: not negate}
        if isinstance(node, ast.Constant) and node.value is True and not negate:
            return None
        if isinstance(node, ast.Compare):
            return self._compare(fact, node, negate=negate)
        raise self._error(f"unsupported expression {ast.unparse(node)!r}")

    def _exclusive_or(self, fact: str, values: list[ast.expr], *, negate: bool) -> Json:
        """``a or b`` as ``a or (not a and b)``: durable-rules fires a rule once per
        matching branch of an ``$or``, so the branches must never match together."""
        branches: list[Json] = []
        earlier: list[Json] = []
        for value in values:
            positive = self._node(fact, value, negate=negate)
            opposite = self._node(fact, value, negate=not negate)
            branch = [*earlier, positive] if positive is not None else list(earlier)
            branches.append(branch[0] if len(branch) == 1 else {"$and": branch})
            if opposite is not None:
                earlier.append(opposite)
        return {"$or": branches}

    def _compare(self, fact: str, node: ast.Compare, *, negate: bool) -> Json:
        if len(node.ops) != 1 or not isinstance(node.left, ast.Name):
            raise self._error(
                f"write one comparison with a field on the left: {ast.unparse(node)!r}"
            )
        name = node.left.id
        kind = self._field(fact, name, None)
        op_type: type[ast.cmpop] = type(node.ops[0])
        if negate:
            op_type = _NEGATED[op_type]
        right = node.comparators[0]
        if op_type in (ast.In, ast.NotIn):
            if not isinstance(right, ast.List | ast.Tuple):
                raise self._error(f"'in' needs a literal list: {ast.unparse(node)!r}")
            values = [self._constant(v, kind) for v in right.elts]
            if op_type is ast.In:
                return {"$or": [{name: v} for v in values]}
            return {"$and": [{"$neq": {name: v}} for v in values]}
        if op_type not in _OPS:
            raise self._error(f"unsupported comparison in {ast.unparse(node)!r}")
        value = self._operand(fact, right, kind)
        op = _OPS[op_type]
        if op == "$eq":
            return {name: value}
        return {op: {name: value}}

    def _operand(self, fact: str, node: ast.expr, kind: str) -> Any:
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _ARITH:
                raise self._error(f"only + - * are allowed (no division): {ast.unparse(node)!r}")
            return {
                _ARITH[type(node.op)]: {
                    "$l": self._operand(fact, node.left, kind),
                    "$r": self._operand(fact, node.right, kind),
                }
            }
        if isinstance(node, ast.Name):
            self._field(fact, node.id, None)
            return {"$m": node.id}
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owner, attr = node.value.id, node.attr
            if owner == "params":
                return self._parameter(attr, kind)
            if owner == fact:
                self._field(fact, attr, None)
                return {"$m": attr}
            # durable-rules 2.0.28 mis-evaluates a reference to another fact of
            # the rule when an $or is near (always true, or a segfault): a value
            # a state condition needs from the case is seeded into the state.
            raise self._error(
                f"{owner}.{attr}: a condition may compare only fields of its own fact"
            )
        return self._constant(node, kind)

    # -- leaves -----------------------------------------------------------

    def _constant(self, node: ast.expr, kind: str) -> Any:
        if not isinstance(node, ast.Constant):
            raise self._error(f"expected a constant, got {ast.unparse(node)!r}")
        value = node.value
        allowed = _KIND_TYPES[kind]
        if not isinstance(value, allowed) or (kind != "bool" and isinstance(value, bool)):
            raise self._error(f"{value!r} is not a {kind}")
        return value

    def _parameter(self, name: str, kind: str) -> Any:
        if name not in self.parameters:
            raise self._error(f"unknown parameter params.{name}")
        value = self.parameters[name]
        if not isinstance(value, _KIND_TYPES[kind]) or isinstance(value, bool):
            raise self._error(f"params.{name} is not usable as a {kind}")
        return value

    def _field(self, fact: str, name: str, expected: str | None) -> str:
        known = self.fields.get(fact, {})
        if name not in known:
            raise self._error(f"{fact} has no field {name!r}")
        kind = known[name]
        if expected is not None and kind != expected:
            raise self._error(f"{fact}.{name} is a {kind}, not a {expected}")
        if (fact, name) not in self.reads:
            self.reads.append((fact, name))
        return kind

    def _error(self, message: str) -> RulesetError:
        return RulesetError(f"rule {self.rule_id}: {message}")
