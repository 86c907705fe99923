"""Weights: the weights of one weighted sum add up to 100%."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from scoredsl import nodes as n
from scoredsl.diagnostics import Diagnostic, error
from scoredsl.semantics import (
    Scope,
    fmt_number,
    sum_terms,
    walk_expr,
    weight_fraction,
)


def _formulas(scope: Scope) -> Iterator[tuple[n.Expr, str]]:
    total = scope.scheme.total
    if total is not None and total.formula is not None:
        yield total.formula, "scheme"
    for item, _ in scope.scheme.walk_items():
        if isinstance(item.kind, n.Formula):
            yield item.kind.expr, f"item:{item.id}"
    for value in scope.scheme.values:
        if isinstance(value.kind, n.Formula):
            yield value.kind.expr, f"value:{value.name}"


def check_weights_sum(scope: Scope) -> Iterator[Diagnostic]:
    for expr, anchor in _formulas(scope):
        for sub in walk_expr(expr):
            if not isinstance(sub, n.Weighted):
                continue
            total = sum((weight_fraction(t.weight) for t in sub.terms), Decimal(0))
            if total != 1:
                parts = sum_terms([t.weight.span.text for t in sub.terms])
                yield error(
                    "weights-sum",
                    f"weights add up to {fmt_number(total * 100)}%, not 100% ({parts})",
                    sub.span,
                    "if the published standard says so, keep it and add: "
                    'accept weights-sum "reason"',
                    anchor=anchor,
                )
