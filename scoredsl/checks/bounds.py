"""Bounds by another input: ``input done: integer 0 <= _ <= items``.

The bound must name a numeric input of the same kind (a percentage bounded by a
percentage, a count by a number), and be an upper bound (``<`` or ``<=``). The data reader
checks it on every assessment.
"""

from __future__ import annotations

from collections.abc import Iterator

from scoredsl import nodes as n
from scoredsl.diagnostics import Diagnostic, error
from scoredsl.semantics import NUMERIC_TYPES, Scope, did_you_mean


def check_input_bounds(scope: Scope) -> Iterator[Diagnostic]:
    for inp in scope.scheme.inputs:
        if inp.bound is not None:
            yield from _check_bound(inp, inp.bound, scope)


def _check_bound(inp: n.Input, bound: n.InputBound, scope: Scope) -> Iterator[Diagnostic]:
    anchor = f"input:{inp.name}"
    other = scope.inputs.get(bound.input)
    if other is None:
        what = "a value" if bound.input in scope.values else "not an input of this scheme"
        yield error(
            "unknown-name",
            f"'{bound.input}' bounds input '{inp.name}' but is {what}",
            bound.span,
            *did_you_mean(bound.input, scope.inputs),
            "an input's domain may name another input: 0 <= _ <= p1_items",
            anchor=anchor,
        )
        return
    if bound.op not in ("<", "<="):
        yield error(
            "type-mismatch",
            f"input '{inp.name}' may be bounded by another input from above only "
            f"(< or <=), not '{bound.op}'",
            bound.span,
            anchor=anchor,
        )
    if inp.type not in NUMERIC_TYPES or other.type not in NUMERIC_TYPES:
        yield error(
            "type-mismatch",
            f"'{inp.name}' ({inp.type}) cannot be bounded by '{other.name}' ({other.type}): "
            "both must be numbers",
            bound.span,
            anchor=anchor,
        )
    elif (inp.type == "percent") != (other.type == "percent"):
        yield error(
            "type-mismatch",
            f"'{inp.name}' is a {_kind(inp)} but '{other.name}' is a {_kind(other)}",
            bound.span,
            anchor=anchor,
        )
    elif other.name == inp.name:
        yield error(
            "type-mismatch",
            f"input '{inp.name}' is bounded by itself",
            bound.span,
            anchor=anchor,
        )


def _kind(inp: n.Input) -> str:
    return "percentage" if inp.type == "percent" else "plain number"
