"""Compound levels: levels whose conditions are not thresholds on the total alone.

When every level's condition is a conjunction of comparisons, each between one name (an
input, a value or `total`) and literals (``method_share >= 90% and total_score >= 2500``,
``700 <= total < 800``), or a yes/no input (``certified``, ``not incident``), a condition
is a box: one interval set per name. Over those boxes the analysis is exact, taking each
name as free within its domain (an input's declared domain, `total` in 0..max, a value
built from non-negative inputs by ``+ * /``, ``min`` and ``max`` as non-negative; the
relations between values are not followed):

- `level-unreachable`: no value of some name satisfies the level's condition, or the level
  implies a higher one (it never wins: the highest level that holds wins);
- `level-not-nested`: a level does not imply the one below it (of those that can win),
  with a witness assignment that meets the higher level and fails the lower.

For conditions of any other form it says nothing. Conditions over `total` alone are the
business of `scoredsl.checks.levels`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal

import attrs

from scoredsl import nodes as n
from scoredsl.diagnostics import Diagnostic, error, warning
from scoredsl.intervals import Interval, IntervalSet
from scoredsl.semantics import NUMERIC_TYPES, Scope, fmt_number, literal_value, total_set

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}
_NON_NEGATIVE = IntervalSet.of([Interval(Decimal(0), None, True, False)])


@attrs.frozen
class Box:
    """A conjunction: for each name (in order of appearance), the values it may take."""

    bounds: dict[str, IntervalSet]
    percent: frozenset[str]  # names compared with percentages: shown as 97.5%


def condition_box(expr: n.Expr, scope: Scope) -> Box | None:
    """The box a level condition describes, or None if it is not a conjunction of
    comparisons of one name with literals (fractions for percentages: 90% is 0.9)."""
    bounds: dict[str, IntervalSet] = {}
    percent: set[str] = set()
    for conjunct in _conjuncts(expr):
        found = _constraints(conjunct, scope, percent)
        if found is None:
            return None
        for name, s in found:
            bounds[name] = bounds.get(name, IntervalSet.everything()).intersect(s)
    return Box(bounds, frozenset(percent))


def _conjuncts(expr: n.Expr) -> Iterator[n.Expr]:
    if isinstance(expr, n.Binary) and expr.op == "and":
        yield from _conjuncts(expr.left)
        yield from _conjuncts(expr.right)
    else:
        yield expr


def _constraints(
    e: n.Expr, scope: Scope, percent: set[str]
) -> list[tuple[str, IntervalSet]] | None:
    match e:
        case n.Name(name) if _is_bool(name, scope):
            return [(name, IntervalSet((Interval.point(Decimal(1)),)))]
        case n.Not(n.Name(name)) if _is_bool(name, scope):
            return [(name, IntervalSet((Interval.point(Decimal(0)),)))]
        case n.Compare(operands, ops):
            out = []
            for left, op, right in zip(operands, ops, operands[1:], strict=False):
                piece = _pair(left, op, right, scope, percent)
                if piece is None:
                    return None
                out.append(piece)
            return out
    return None


def _pair(
    left: n.Expr, op: str, right: n.Expr, scope: Scope, percent: set[str]
) -> tuple[str, IntervalSet] | None:
    if isinstance(left, n.Name) and _is_literal(right):
        name, lit, op_ = left.name, right, op
    elif _is_literal(left) and isinstance(right, n.Name) and op in _FLIP:
        name, lit, op_ = right.name, left, _FLIP[op]
    else:
        return None
    if not _is_numeric(name, scope):
        return None
    bound = literal_value(lit)  # type: ignore[arg-type]
    if _is_percent_literal(lit) or _is_percent_input(name, scope):
        percent.add(name)
    if _is_percent_literal(lit):
        bound /= 100
    if op_ == "!=":
        return name, IntervalSet.everything().minus(IntervalSet((Interval.point(bound),)))
    interval = Interval.from_comparison(op_, bound)
    return (name, IntervalSet.of([interval])) if interval is not None else None


def _is_literal(e: n.Expr) -> bool:
    return isinstance(e, (n.Number, n.Percent)) or (
        isinstance(e, n.Neg) and isinstance(e.operand, (n.Number, n.Percent))
    )


def _is_percent_literal(e: n.Expr) -> bool:
    return isinstance(e, n.Percent) or (isinstance(e, n.Neg) and isinstance(e.operand, n.Percent))


def _is_bool(name: str, scope: Scope) -> bool:
    inp = scope.inputs.get(name)
    return inp is not None and inp.type == "bool"


def _is_numeric(name: str, scope: Scope) -> bool:
    inp = scope.inputs.get(name)
    if inp is not None:
        return inp.type in NUMERIC_TYPES
    return name in scope.values or name == "total"


def _is_percent_input(name: str, scope: Scope) -> bool:
    inp = scope.inputs.get(name)
    return inp is not None and inp.type == "percent"


# ---- domains --------------------------------------------------------------------------


@attrs.frozen
class Domain:
    values: IntervalSet
    integer: bool


def name_domain(name: str, scope: Scope) -> Domain:
    """The values a name can take: an input's domain (percentages as fractions), `total`
    in 0..max, a value non-negative when it is built so from non-negative parts."""
    inp = scope.inputs.get(name)
    if inp is not None:
        if inp.type == "bool":
            return Domain(IntervalSet.of([Interval(Decimal(0), Decimal(1))]), True)
        s = scope.domain(inp)
        if inp.type == "percent":
            s = IntervalSet.of(_scaled(part, Decimal(100)) for part in s)
        return Domain(s, inp.type == "integer")
    if name == "total":
        return Domain(IntervalSet.of([Interval(Decimal(0), scope.max_total)]), False)
    if _non_negative(name, scope, frozenset()):
        return Domain(_NON_NEGATIVE, False)
    return Domain(IntervalSet.everything(), False)


def _scaled(part: Interval, unit: Decimal) -> Interval:
    return Interval(
        None if part.low is None else part.low / unit,
        None if part.high is None else part.high / unit,
        part.low_closed,
        part.high_closed,
    )


def _non_negative(name: str, scope: Scope, seen: frozenset[str]) -> bool:
    if name in seen:
        return False
    inp = scope.inputs.get(name)
    if inp is not None:
        return inp.type in NUMERIC_TYPES and not scope.domain(inp).minus(_NON_NEGATIVE).parts
    value = scope.values.get(name)
    if value is None:
        return False
    if isinstance(value.kind, n.Lookup):
        return all(b.result >= 0 for b in value.bands)
    return _expr_non_negative(value.kind.expr, scope, seen | {name})


def _expr_non_negative(e: n.Expr, scope: Scope, seen: frozenset[str]) -> bool:
    match e:
        case n.Number(value) | n.Percent(value):
            return value >= 0
        case n.Name(name):
            return _non_negative(name, scope, seen)
        case n.Binary(op, left, right) if op in ("+", "*", "/"):
            return _expr_non_negative(left, scope, seen) and _expr_non_negative(right, scope, seen)
        case n.Call(func, args) if func in ("min", "max", "ceil", "floor", "abs"):
            return func == "abs" or all(_expr_non_negative(a, scope, seen) for a in args)
    return False


def _within(s: IntervalSet, domain: Domain) -> IntervalSet:
    inside = s.intersect(domain.values)
    return inside.integers() if domain.integer else inside


def _pick(name: str, s: IntervalSet, scope: Scope) -> Decimal:
    """A value of `name` in `s` (within its domain; `s` is known to hold one)."""
    domain = name_domain(name, scope)
    part = _within(s, domain).parts[0]
    if domain.integer:
        found = part.integer_witness()
        assert found is not None  # `_within` kept only parts that hold a whole number
        return found
    return part.witness()


# ---- a combined share follows its parts --------------------------------------------------


def with_combined_shares(box: Box, scope: Scope) -> Box:
    """`box` with the bounds it implies on combined shares: a value ``A / B`` where `A` sums
    ``a1 .. ak`` and `B` sums ``b1 .. bk`` (written out, or values that are such sums), each
    ``a_i / b_i`` a value of its own and each ``b_i`` positive, lies within the hull of the
    parts' sets (a weighted average of the parts' shares)."""
    derived = dict(box.bounds)
    percent = set(box.percent)
    for name in scope.values:
        parts = _share_parts(name, scope)
        if not parts:
            continue
        sets = [
            _within(box.bounds.get(r, IntervalSet.everything()), name_domain(r, scope))
            for r in parts
        ]
        if any(x.empty for x in sets):
            continue
        hull = _hull(sets)
        derived[name] = derived.get(name, IntervalSet.everything()).intersect(hull)
        if any(r in box.percent for r in parts):
            percent.add(name)
    return Box(derived, frozenset(percent))


def _share_parts(name: str, scope: Scope) -> list[str]:
    """The part shares ``r_i = a_i / b_i`` that the value `name` averages, or []."""
    value = scope.values.get(name)
    if value is None or not isinstance(value.kind, n.Formula):
        return []
    match value.kind.expr:
        case n.Binary("/", numerator, denominator):
            tops, bottoms = _summands(numerator, scope), _summands(denominator, scope)
        case _:
            return []
    if len(tops) < 2 or len(tops) != len(bottoms):
        return []
    by_formula = {
        (v.kind.expr.left.name, v.kind.expr.right.name): v.name
        for v in scope.values.values()
        if isinstance(v.kind, n.Formula)
        and isinstance(v.kind.expr, n.Binary)
        and v.kind.expr.op == "/"
        and isinstance(v.kind.expr.left, n.Name)
        and isinstance(v.kind.expr.right, n.Name)
    }
    parts = [by_formula.get(pair) for pair in zip(tops, bottoms, strict=True)]
    if any(r is None for r in parts) or not all(_positive(b, scope) for b in bottoms):
        return []
    return [r for r in parts if r is not None]


def _summands(e: n.Expr, scope: Scope, depth: int = 0) -> list[str]:
    """``a + b + c`` (or a value defined so) -> its names; [] for any other form."""
    match e:
        case n.Binary("+", left, right):
            a, b = _summands(left, scope, depth), _summands(right, scope, depth)
            return a + b if a and b else []
        case n.Name(name):
            value = scope.values.get(name)
            if value is not None and isinstance(value.kind, n.Formula) and depth < 1:
                inner = value.kind.expr
                if isinstance(inner, n.Binary) and inner.op == "+":
                    return _summands(inner, scope, depth + 1)
            return [name]
    return []


def _positive(name: str, scope: Scope) -> bool:
    """Whether every value `name` can take is above zero."""
    not_positive = IntervalSet.of([Interval(None, Decimal(0), False, True)])
    return _within(not_positive, name_domain(name, scope)).empty


def _hull(sets: list[IntervalSet]) -> IntervalSet:
    joined = sets[0]
    for other in sets[1:]:
        joined = joined.union(other)
    first, last = joined.parts[0], joined.parts[-1]
    return IntervalSet.of([Interval(first.low, last.high, first.low_closed, last.high_closed)])


# ---- the checks -------------------------------------------------------------------------


def check_compound_levels(scope: Scope) -> Iterator[Diagnostic]:
    levels = scope.scheme.levels
    if not levels or all(total_set(lv.condition) is not None for lv in levels):
        return  # no levels, or thresholds on the total: scoredsl.checks.levels
    boxes = [condition_box(lv.condition, scope) for lv in levels]
    if any(b is None for b in boxes):
        return  # a condition of another form: nothing exact to say
    checked = [(lv, b) for lv, b in zip(levels, boxes, strict=True) if b is not None]
    reachable = []
    for level, box in checked:
        problem = _unsatisfiable(level, box, scope)
        if problem is not None:
            yield problem
        else:
            reachable.append((level, box))
    winning = []
    for i, (level, box) in enumerate(reachable):
        strong = with_combined_shares(box, scope)
        higher = next((h for h, hb in reachable[i + 1 :] if _implies(strong, hb, scope)), None)
        if higher is None:
            winning.append((level, box))
        else:
            yield error(
                "level-unreachable",
                f"level '{level.name}' never wins: whatever meets it also meets the higher "
                f"level '{higher.name}' (levels are listed lowest first; the highest that "
                "holds wins)",
                level.span,
                anchor="levels",
            )
    for (low, low_box), (high, high_box) in itertools.pairwise(winning):
        yield from _nesting(low, low_box, high, with_combined_shares(high_box, scope), scope)


def _unsatisfiable(level: n.Level, box: Box, scope: Scope) -> Diagnostic | None:
    for name, s in box.bounds.items():
        domain = name_domain(name, scope)
        if _within(s, domain).empty:
            return error(
                "level-unreachable",
                f"level '{level.name}' can never be reached: no value of '{name}' in "
                f"{_describe_set(domain.values, name, box, scope)} meets "
                f"{_describe_set(s, name, box, scope)}",
                level.span,
                anchor="levels",
            )
    return None


def _implies(box: Box, other: Box, scope: Scope) -> bool:
    """Whether every assignment in `box` (within the domains) is in `other`."""
    for name, s in other.bounds.items():
        mine = box.bounds.get(name, IntervalSet.everything())
        if not _within(mine, name_domain(name, scope)).minus(s).empty:
            return False
    return True


def _nesting(
    low: n.Level, low_box: Box, high: n.Level, high_box: Box, scope: Scope
) -> Iterator[Diagnostic]:
    for name, needed in low_box.bounds.items():
        domain = name_domain(name, scope)
        mine = high_box.bounds.get(name, IntervalSet.everything())
        outside = _within(_within(mine, domain).minus(needed), domain)
        if outside.empty:
            continue
        shown = {**high_box.bounds, name: outside}
        percent = high_box.percent | low_box.percent
        assignment = ", ".join(
            f"{var} = {_show(var, _pick(var, s, scope), percent, scope)}"
            for var, s in shown.items()
        )
        yield warning(
            "level-not-nested",
            f"level '{high.name}' does not imply '{low.name}', the level below it: "
            f"{assignment} meets '{high.name}' but not "
            f"'{low.name}' ({_describe_set(needed, name, low_box, scope)})",
            high.span,
            "levels are listed lowest first and the highest that holds wins: this "
            f"assessment is rated '{high.name}' although it fails '{low.name}'",
            "each input and value is taken as free within its domain; relations between "
            "values (a share and the counts it is computed from) are not followed",
            anchor="levels",
        )
        return


def _show(name: str, x: Decimal, percent: frozenset[str], scope: Scope) -> str:
    if _is_bool(name, scope):
        return "true" if x else "false"
    return f"{fmt_number(x * 100)}%" if name in percent else fmt_number(x)


def _describe_set(s: IntervalSet, name: str, box: Box, scope: Scope) -> str:
    if s.empty:
        return "nothing"
    if _is_bool(name, scope):
        values = sorted({p.low for p in s.parts if p.low is not None and p.low == p.high})
        return " or ".join(f"{name} = {'true' if v else 'false'}" for v in values) or name
    percent = box.percent
    return " or ".join(
        part.describe(lambda x: _show(name, x, percent, scope), var=name) for part in s.parts
    )
