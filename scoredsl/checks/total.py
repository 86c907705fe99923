"""Total: a total written as a formula reaches its declared maximum; every scoring sheet
feeds something.

`total 203 = comprehensive_score` declares the total's formula and its maximum. The
formula's largest value is found by interval arithmetic over the inputs' domains, the
values' formulas and lookups, and the items' points (`formula_range`); where that cannot
be done (a condition, a division by something that can be 0, an unbounded input) the
check says nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal

from scoredsl import nodes as n
from scoredsl.diagnostics import Diagnostic, error, warning
from scoredsl.semantics import Scope, fmt_number, walk_expr, weight_fraction

Range = tuple[Decimal, Decimal]  # the least and the largest value, both reached or bounds

_EXACT = Context(prec=60)
_STEPLESS = ("min", "max", "abs", "floor", "ceil")


def formula_range(expr: n.Expr, scope: Scope, seen: frozenset[str] = frozenset()) -> Range | None:
    """The values `expr` can take (percentages as fractions), or None if unknown."""
    match expr:
        case n.Number(value):
            return value, value
        case n.Percent(value):
            return value / 100, value / 100
        case n.Name(name):
            return _name_range(name, scope, seen)
        case n.ItemRef(item_id) if item_id in scope.items:
            return Decimal(0), scope.items[item_id].points
        case n.Neg(operand):
            inner = formula_range(operand, scope, seen)
            return None if inner is None else (-inner[1], -inner[0])
        case n.Binary(op, left, right) if op in ("+", "-", "*", "/"):
            a, b = formula_range(left, scope, seen), formula_range(right, scope, seen)
            return None if a is None or b is None else _arith(op, a, b)
        case n.Call(func, args) if func in _STEPLESS and args:
            ranges = [formula_range(a, scope, seen) for a in args]
            known = [r for r in ranges if r is not None]
            return None if len(known) < len(ranges) else _call(func, known)
        case n.Weighted(terms):
            low = high = Decimal(0)
            for term in terms:
                r = formula_range(term.ref, scope, seen)
                if r is None:
                    return None
                w = weight_fraction(term.weight)
                ends = (_EXACT.multiply(r[0], w), _EXACT.multiply(r[1], w))
                low, high = low + min(ends), high + max(ends)
            return low, high
    return None


def _name_range(name: str, scope: Scope, seen: frozenset[str]) -> Range | None:
    inp = scope.inputs.get(name)
    if inp is not None:
        if inp.type == "bool" or inp.bound is not None:
            return None
        parts = scope.domain(inp).parts
        if not parts or parts[0].low is None or parts[-1].high is None:
            return None
        unit = Decimal(100) if inp.type == "percent" else Decimal(1)
        return parts[0].low / unit, parts[-1].high / unit
    value = scope.values.get(name)
    if value is None or name in seen:
        return None
    if isinstance(value.kind, n.Formula):
        return formula_range(value.kind.expr, scope, seen | {name})
    results = [b.result for b in value.bands]
    return (min(results), max(results)) if results else None


def _arith(op: str, a: Range, b: Range) -> Range | None:
    if op == "+":
        return a[0] + b[0], a[1] + b[1]
    if op == "-":
        return a[0] - b[1], a[1] - b[0]
    if op == "/":
        if b[0] <= 0 <= b[1]:
            return None
        corners = [_EXACT.divide(x, y) for x in a for y in b]
    else:
        corners = [_EXACT.multiply(x, y) for x in a for y in b]
    return min(corners), max(corners)


def _call(func: str, ranges: list[Range]) -> Range:
    match func:
        case "min":
            return min(r[0] for r in ranges), min(r[1] for r in ranges)
        case "max":
            return max(r[0] for r in ranges), max(r[1] for r in ranges)
        case "abs":
            low, high = ranges[0]
            if low >= 0:
                return low, high
            if high <= 0:
                return -high, -low
            return Decimal(0), max(-low, high)
        case "floor":
            return _whole(ranges[0], ROUND_FLOOR)
    return _whole(ranges[0], ROUND_CEILING)  # ceil


def _whole(r: Range, mode: str) -> Range:
    return r[0].to_integral_value(rounding=mode), r[1].to_integral_value(rounding=mode)


def check_total_max(scope: Scope) -> Iterator[Diagnostic]:
    """`total N = FORMULA`: the formula's largest value is N."""
    total = scope.scheme.total
    if total is None or total.formula is None:
        return
    reach = formula_range(total.formula, scope)
    if reach is None or reach[1] == total.points:
        return
    yield error(
        "total-max",
        f"the total is declared {fmt_number(total.points)} but its formula "
        f"'{total.formula.span.text}' reaches at most {fmt_number(reach[1].normalize())}",
        total.span,
        f"declare the maximum the formula reaches: total {fmt_number(reach[1].normalize())} = ...",
        anchor="scheme",
    )


def check_unused_sheets(scope: Scope) -> Iterator[Diagnostic]:
    """A scoring sheet is not part of the total: some formula must read it."""
    scheme = scope.scheme
    sheets = [item for item in scheme.items if item.sheet]
    if not sheets:
        return
    formulas = [v.kind.expr for v in scheme.values if isinstance(v.kind, n.Formula)]
    formulas += [i.kind.expr for i, _ in scheme.walk_items() if isinstance(i.kind, n.Formula)]
    if scheme.total is not None and scheme.total.formula is not None:
        formulas.append(scheme.total.formula)
    formulas += [r.condition for g in scheme.gates for r in g.requires]
    formulas += [lv.condition for lv in scheme.levels]
    read = {sub.item_id for f in formulas for sub in walk_expr(f) if isinstance(sub, n.ItemRef)}
    for sheet in sheets:
        if not any(row.id in read for row, _ in sheet.walk()):
            yield warning(
                "unused-sheet",
                f"sheet {sheet.id} is not part of the total and nothing reads it",
                sheet.id_span,
                f"convert it to the score it feeds: value NAME = item {sheet.id} * ...",
                anchor=f"item:{sheet.id}",
            )
