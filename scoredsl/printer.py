"""Print: AST expressions, conditions and leaves -> canonical `.score` spelling.

Shared by the formatter (whole files) and lowering (the formula text a plan keeps for
people), so neither imports the other.
"""

from __future__ import annotations

import re
from decimal import Decimal

from scoredsl import nodes as n

_ITEM_ID = re.compile(r"[0-9]+(\.[0-9]+)*\Z")

# Binding strength of each expression form; a sub-expression that binds more loosely
# than its context is written in parentheses.
_OR, _AND, _NOT, _COMPARE, _ON_ZERO, _SUM, _PRODUCT, _NEG, _ATOM = range(1, 10)
_BINARY = {
    "or": _OR, "and": _AND, "else": _ON_ZERO, "+": _SUM, "-": _SUM, "*": _PRODUCT, "/": _PRODUCT
}  # fmt: skip


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\t", "\\t") + '"'


def number(value: Decimal) -> str:
    return format(value, "f")


def item_key(key: str) -> str:
    """An item id or clause number bare, anything else (a label) quoted."""
    return key if _ITEM_ID.match(key) else quote(key)


def weight(w: n.Weight) -> str:
    return f"{expr(w.ref)} {expr(w.weight)}"


def condition(c: n.Condition) -> str:
    if isinstance(c, n.OpenCondition):
        return f"{c.op} {expr(c.bound)}"
    if isinstance(c, n.ChainCondition):
        return f"{expr(c.low)} {c.low_op} _ {c.high_op} {expr(c.high)}"
    return "else"


def bounded_domain(numbers: n.Condition | None, bound: n.InputBound) -> str:
    """``<= p1_items`` or ``0 <= _ <= p1_items``."""
    if isinstance(numbers, n.OpenCondition) and numbers.op in (">=", ">"):
        low_op = "<=" if numbers.op == ">=" else "<"
        return f"{expr(numbers.bound)} {low_op} _ {bound.op} {bound.input}"
    return f"{bound.op} {bound.input}"


def expr(e: n.Expr) -> str:
    """An expression in canonical spelling, parenthesised only where it must be."""
    if isinstance(e, n.Number):
        return number(e.value)
    if isinstance(e, n.Percent):
        return f"{number(e.value)}%"
    if isinstance(e, n.Bool):
        return "true" if e.value else "false"
    if isinstance(e, n.Name):
        return e.name
    if isinstance(e, n.ItemRef):
        return f"item {e.item_id}"
    if isinstance(e, n.GateRef):
        return f"gate {e.gate_id}"
    if isinstance(e, n.Neg):
        return f"-{_wrap(e.operand, _NEG)}"
    if isinstance(e, n.Not):
        return f"not {_wrap(e.operand, _NOT)}"
    if isinstance(e, n.Binary) and e.op == "else":  # not associative: `a else b else c`
        return f"{_wrap(e.left, _SUM)} else {_wrap(e.right, _SUM)}"
    if isinstance(e, n.Binary):
        strength = _BINARY[e.op]
        return f"{_wrap(e.left, strength)} {e.op} {_wrap(e.right, strength + 1)}"
    if isinstance(e, n.Compare):
        parts = [_wrap(e.operands[0], _ON_ZERO)]
        for op, operand in zip(e.ops, e.operands[1:], strict=True):
            parts += [op, _wrap(operand, _ON_ZERO)]
        return " ".join(parts)
    if isinstance(e, n.Call):
        return f"{e.func}({', '.join(expr(a) for a in e.args)})"
    if isinstance(e, n.Weighted):
        return "weighted { " + " ".join(weight(t) for t in e.terms) + " }"
    if isinstance(e, n.Quantified):
        over = f" in {e.first}..{e.last}" if e.first is not None else ""
        return f"{e.kind} {e.group}{over} ({expr(e.body)})"
    raise TypeError(f"the formatter has no rule for {type(e).__name__}")


def _strength(e: n.Expr) -> int:
    if isinstance(e, n.Binary):
        return _BINARY[e.op]
    if isinstance(e, n.Compare):
        return _COMPARE
    if isinstance(e, n.Not):
        return _NOT
    if isinstance(e, n.Neg):
        return _NEG
    return _ATOM


def _wrap(e: n.Expr, at_least: int) -> str:
    text = expr(e)
    return text if _strength(e) >= at_least else f"({text})"
