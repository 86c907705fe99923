"""Outcomes and divisions: an outcome that is never decided, totals no outcome takes, and a
division by something that can be 0 without a declared meaning.

Outcomes are decided in the order written: the first whose condition holds. An outcome is
unreachable when it follows an `else` outcome, repeats an earlier condition, or (for
conditions over `total` alone, exactly, as for levels) covers only totals that earlier
outcomes already take. Without an `else`, totals no outcome covers are a gap.

A divisor "can be 0" when some values of the inputs it reads give 0: a literal 0, an input
whose domain holds 0, a sum or difference of such, a product with such a factor, a
quotient whose dividend can be 0, or an item score or the total. `a / b else x` declares
what the division means when `b` is 0, and is not reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from scoredsl import nodes as n
from scoredsl.checks.names import expressions
from scoredsl.diagnostics import Diagnostic, warning
from scoredsl.intervals import Interval, IntervalSet
from scoredsl.semantics import Scope, fmt_number, total_set

ZERO = Decimal(0)


def check_outcomes_reachable(scope: Scope) -> Iterator[Diagnostic]:
    outcomes = scope.scheme.outcomes
    possible = IntervalSet.of([Interval(ZERO, scope.max_total)])
    taken = IntervalSet.of([])  # totals an earlier outcome over total alone takes
    exact = True  # every outcome so far is over total alone
    otherwise: n.Outcome | None = None
    for k, outcome in enumerate(outcomes):
        if otherwise is not None:
            yield _unreachable(
                outcome, f"outcome '{outcome.name}' comes after '{otherwise.name}', which is "
                "`else`: it is never decided",
            )  # fmt: skip
            continue
        if outcome.condition is None:
            otherwise = outcome
            continue
        same = next((o for o in outcomes[:k] if o.condition == outcome.condition), None)
        if same is not None:
            yield _unreachable(
                outcome,
                f"outcome '{outcome.name}' has the same condition as '{same.name}', which "
                "comes first: it is never decided",
            )
            continue
        covers = total_set(outcome.condition)
        if covers is None:
            exact = False
            continue
        mine = covers.intersect(possible)
        if mine.empty:
            yield _unreachable(
                outcome,
                f"outcome '{outcome.name}' needs {outcome.condition.span.text} but totals "
                f"range from 0 to {fmt_number(scope.max_total)}",
            )
        elif exact and mine.minus(taken).empty:
            yield _unreachable(
                outcome,
                f"outcome '{outcome.name}' is never decided: every total it covers is taken "
                "by an outcome before it (the first that holds is decided)",
            )
        taken = taken.union(mine)
    if outcomes and otherwise is None and exact:
        for gap in possible.minus(taken):
            yield warning(
                "outcome-gap",
                f"no outcome covers {gap.describe(fmt_number, var='total')} "
                f"(e.g. a total of {fmt_number(gap.witness())}): the outcome is null there",
                outcomes[-1].span,
                'add an outcome for it, or end the list with `NAME "label" else`',
                anchor="outcomes",
            )


def _unreachable(outcome: n.Outcome, message: str) -> Diagnostic:
    return warning(
        "outcome-unreachable",
        message,
        outcome.span,
        "outcomes are decided in the order written: the first whose condition holds",
        anchor="outcomes",
    )


# ---- zero divisors -------------------------------------------------------------------------


def check_zero_denominators(scope: Scope) -> Iterator[Diagnostic]:
    for expr, anchor, _ in expressions(scope):
        for division in _divisions(expr):
            reason = can_be_zero(division.right, scope)
            if reason is None:
                continue
            divisor = division.right
            on_input = isinstance(divisor, n.Name) and divisor.name in scope.inputs
            why = "" if reason == f"{divisor.span.text} can be 0" else f" ({reason})"
            fix = (
                f"bound the input above 0 (`input {divisor.span.text}: ... >= 1`), "
                if on_input
                else ""
            )
            yield warning(
                "zero-denominator",
                f"{division.span.text} divides by {divisor.span.text}, which can be 0{why}, "
                "and does not say what that means",
                divisor.span,
                f"declare it: `{division.span.text} else 0` (the value when the divisor is 0)",
                f'{fix}or acknowledge it: `accept zero-denominator "reason"`',
                # a bare input: acknowledged with the input (a scheme-level accept covers it)
                anchor=f"input:{divisor.span.text}" if on_input else anchor,
            )


def _divisions(expr: n.Expr) -> Iterator[n.Binary]:
    """The divisions of an expression that no `else` guards."""
    match expr:
        case n.Binary("else", _, right):
            yield from _divisions(right)  # the left side's divisions are declared
            return
        case n.Binary("/", left, right):
            yield expr
            yield from _divisions(left)
            yield from _divisions(right)
        case n.Binary(_, left, right):
            yield from _divisions(left)
            yield from _divisions(right)
        case n.Neg(operand) | n.Not(operand):
            yield from _divisions(operand)
        case n.Compare(operands) | n.Call(_, operands):
            for operand in operands:
                yield from _divisions(operand)
        case n.Weighted(terms):
            for term in terms:
                yield from _divisions(term.ref)


def can_be_zero(expr: n.Expr, scope: Scope, seen: frozenset[str] = frozenset()) -> str | None:
    """Why `expr` can be 0 (e.g. ``fans_total can be 0``), or None when it cannot."""
    match expr:
        case n.Number(value) | n.Percent(value):
            return "it is 0" if value == 0 else None
        case n.Name(name) if name in scope.inputs:
            inp = scope.inputs[name]
            if inp.type != "bool" and scope.domain(inp).contains(ZERO):
                return f"{name} can be 0"
            return None
        case n.Name(name) if name in scope.values and name not in seen:
            kind = scope.values[name].kind
            if isinstance(kind, n.Formula):
                return can_be_zero(kind.expr, scope, seen | {name})
            bands = scope.values[name].bands
            return f"{name} can be 0" if any(b.result == 0 for b in bands) else None
        case n.Name("total") | n.ItemRef():
            return f"{expr.span.text} can be 0"
        case n.Neg(operand):
            return can_be_zero(operand, scope, seen)
        case n.Binary("+" | "-", left, right):
            a, b = can_be_zero(left, scope, seen), can_be_zero(right, scope, seen)
            return None if a is None or b is None else f"{a} and {b}"
        case n.Binary("*", left, right):
            return can_be_zero(left, scope, seen) or can_be_zero(right, scope, seen)
        case n.Binary("/", left, _):
            return can_be_zero(left, scope, seen)
        case n.Binary("else", left, right):
            return can_be_zero(left, scope, seen) or can_be_zero(right, scope, seen)
        case n.Call("min" | "max", args):
            return next((r for a in args if (r := can_be_zero(a, scope, seen))), None)
    return None
