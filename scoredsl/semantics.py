"""Semantics: AST -> what checks and lowering both read.

The symbol table (`Scope`: inputs, values, items, levels by name, parents and depths),
literal values, the interval set of a band condition, the totals a level condition
covers (`total_set`), weights as fractions, and the inputs a score depends on. It sits
below both `checks/` and `lower`, so neither borrows from the other.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from decimal import Decimal

import attrs

from scoredsl import nodes as n
from scoredsl.exactjson import number
from scoredsl.intervals import Interval, IntervalSet

fmt_number = number  # a Decimal as a person writes it: 1000, 873.5, 0.965

FUNCTIONS = {"min": (1, None), "max": (1, None), "round": (1, 2), "floor": (1, 1),
             "ceil": (1, 1), "abs": (1, 1),
             "round_to": (2, 2), "ceil_to": (2, 2), "floor_to": (2, 2)}  # fmt: skip
STEP_FUNCTIONS = ("round_to", "ceil_to", "floor_to")  # x to a multiple of a positive step
NUMERIC_TYPES = ("percent", "number", "integer", "seconds")


@attrs.frozen
class Scope:
    scheme: n.Scheme
    inputs: dict[str, n.Input]
    values: dict[str, n.Value]
    items: dict[str, n.Item]
    parents: dict[str, n.Item | None]
    depths: dict[str, int]
    levels: dict[str, n.Level]

    @classmethod
    def of(cls, scheme: n.Scheme) -> Scope:
        items: dict[str, n.Item] = {}
        parents: dict[str, n.Item | None] = {}
        depths: dict[str, int] = {}

        def visit(item: n.Item, parent: n.Item | None, depth: int) -> None:
            items.setdefault(item.id, item)
            parents.setdefault(item.id, parent)
            depths.setdefault(item.id, depth)
            for child in item.children:
                visit(child, item, depth + 1)

        for top in scheme.items:
            visit(top, None, 1)
        return cls(
            scheme,
            _first_by(scheme.inputs, lambda i: i.name),
            _first_by(scheme.values, lambda v: v.name),
            items,
            parents,
            depths,
            _first_by(scheme.levels, lambda lv: lv.name),
        )

    @property
    def declared_total(self) -> Decimal | None:
        total = self.scheme.total
        return total.points if total else None

    @property
    def max_total(self) -> Decimal:
        total = self.declared_total
        return (
            total
            if total is not None
            else sum((i.points for i in self.scheme.items if not i.sheet), Decimal(0))
        )

    def labels(self) -> dict[str, list[str]]:
        """Item label -> the ids that carry it."""
        out: dict[str, list[str]] = {}
        for item_id, item in self.items.items():
            out.setdefault(item.label, []).append(item_id)
        return out

    def domain(self, inp: n.Input) -> IntervalSet:
        """The values an input can take (declared, or the type's default)."""
        if inp.domain is not None:
            return condition_set(inp.domain)
        if inp.type == "percent":
            return IntervalSet.of([Interval(Decimal(0), Decimal(100))])
        return IntervalSet.of([Interval(Decimal(0), None, True, False)])


def _first_by(nodes: tuple[n.T, ...], key: object) -> dict[str, n.T]:
    out: dict[str, n.T] = {}
    for node in nodes:
        out.setdefault(key(node), node)  # type: ignore[operator]
    return out


def literal_value(lit: n.Literal) -> Decimal:
    """A literal as written: ``96.5%`` is 96.5, ``-3`` is -3."""
    match lit:
        case n.Number(value) | n.Percent(value):
            return value
        case n.Neg(operand):
            return -literal_value(operand)  # type: ignore[arg-type]
    raise AssertionError(f"not a literal: {lit!r}")


def is_percent(lit: n.Literal) -> bool:
    return isinstance(lit, n.Percent) or (
        isinstance(lit, n.Neg) and isinstance(lit.operand, n.Percent)
    )


def condition_interval(cond: n.OpenCondition | n.ChainCondition) -> Interval:
    match cond:
        case n.OpenCondition(op, bound):
            interval = Interval.from_comparison(op, literal_value(bound))
            return interval if interval is not None else Interval(Decimal(1), Decimal(0))
        case n.ChainCondition(low, low_op, high_op, high):
            return Interval(
                literal_value(low), literal_value(high), low_op == "<=", high_op == "<="
            )
    raise AssertionError(cond)


def condition_set(cond: n.Condition) -> IntervalSet:
    if isinstance(cond, n.ElseCondition):
        return IntervalSet.everything()
    if isinstance(cond, n.OpenCondition) and cond.op == "!=":
        x = literal_value(cond.bound)
        return IntervalSet.everything().minus(IntervalSet((Interval.point(x),)))
    return IntervalSet.of([condition_interval(cond)])


def band_literals(cond: n.Condition) -> tuple[n.Literal, ...]:
    match cond:
        case n.OpenCondition(_, bound):
            return (bound,)
        case n.ChainCondition(low, _, _, high):
            return (low, high)
    return ()


def walk_expr(expr: n.Expr) -> Iterator[n.Expr]:
    """The expression and all its sub-expressions, outermost first."""
    yield expr
    match expr:
        case n.Neg(operand) | n.Not(operand):
            yield from walk_expr(operand)
        case n.Binary(_, left, right):
            yield from walk_expr(left)
            yield from walk_expr(right)
        case n.Compare(operands) | n.Call(_, operands):
            for operand in operands:
                yield from walk_expr(operand)
        case n.Weighted(terms):
            for term in terms:
                yield term.ref
                yield term.weight


def did_you_mean(name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    if not close:
        return ()
    return ("did you mean " + " or ".join(f"'{c}'" for c in close) + "?",)


def sum_terms(parts: list[str], shown: int = 20) -> str:
    """``20 + 25 + 10``; a long sum keeps its ends: ``1 + 1 + … + 1 (100000 terms)``."""
    if len(parts) <= shown:
        return " + ".join(parts)
    head, tail = parts[: shown - 2], parts[-2:]
    return f"{' + '.join(head)} + … + {' + '.join(tail)} ({len(parts)} terms)"


# ---- levels: the totals a condition covers --------------------------------------------

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


def total_set(expr: n.Expr) -> IntervalSet | None:
    """The totals for which the condition holds, or None if it depends on more than total."""
    match expr:
        case n.Binary("and", left, right):
            a, b = total_set(left), total_set(right)
            return None if a is None or b is None else a.intersect(b)
        case n.Binary("or", left, right):
            a, b = total_set(left), total_set(right)
            return None if a is None or b is None else a.union(b)
        case n.Not(operand):
            inner = total_set(operand)
            return None if inner is None else IntervalSet.everything().minus(inner)
        case n.Compare(operands, ops):
            result = IntervalSet.everything()
            for left, op, right in zip(operands, ops, operands[1:], strict=False):
                piece = _comparison(left, op, right)
                if piece is None:
                    return None
                result = result.intersect(piece)
            return result
    return None


def _comparison(left: n.Expr, op: str, right: n.Expr) -> IntervalSet | None:
    if _is_total(left) and _is_literal(right):
        bound, op_ = literal_value(right), op  # type: ignore[arg-type]
    elif _is_literal(left) and _is_total(right):
        bound, op_ = literal_value(left), _FLIP[op]  # type: ignore[arg-type]
    else:
        return None
    if op_ == "!=":
        return IntervalSet.everything().minus(IntervalSet((Interval.point(bound),)))
    interval = Interval.from_comparison(op_, bound)
    return IntervalSet.of([interval]) if interval else None


def _is_total(e: n.Expr) -> bool:
    return isinstance(e, n.Name) and e.name == "total"


def _is_literal(e: n.Expr) -> bool:
    return isinstance(e, n.Number) or (isinstance(e, n.Neg) and isinstance(e.operand, n.Number))


# ---- weights ---------------------------------------------------------------------------


def weight_fraction(lit: n.Literal) -> Decimal:
    """A weight as a fraction: ``30%`` and ``0.3`` are both 0.3."""
    x = literal_value(lit)
    return x / 100 if is_percent(lit) else x


# ---- readings ----------------------------------------------------------------------------


def readings(scheme: n.Scheme) -> Iterator[tuple[n.Reading, str]]:
    """Each `reading` statement with the place it reads, in document order:
    ``scheme``, ``item 5.6.6``, ``value audit_days``, ``gate 4.3`` or ``levels``."""
    for stmt in scheme.body:
        match stmt:
            case n.Reading():
                yield stmt, "scheme"
            case n.Item():
                for item, _ in stmt.walk():
                    yield from _readings_in(item.body, f"item {item.id}")
            case n.Value(name=name, body=body):
                yield from _readings_in(body, f"value {name}")
            case n.Gate(id=gid, body=body):
                yield from _readings_in(body, f"gate {gid}")
            case n.Levels(body=body):
                yield from _readings_in(body, "levels")


def _readings_in(body: tuple[object, ...], where: str) -> Iterator[tuple[n.Reading, str]]:
    return ((r, where) for r in body if isinstance(r, n.Reading))
