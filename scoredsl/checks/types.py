"""Types: conditions are true/false, formulas are numbers, percentages meet percentages."""

from __future__ import annotations

from collections.abc import Iterator

from scoredsl import nodes as n
from scoredsl.diagnostics import Diagnostic, error
from scoredsl.semantics import (
    NUMERIC_TYPES,
    STEP_FUNCTIONS,
    Scope,
    band_literals,
    is_percent,
    literal_value,
)

BOOL, NUMBER, PERCENT = "bool", "number", "percent"
UNKNOWN = "unknown"  # an undefined name: unknown-name reports it, nothing else should


def infer(expr: n.Expr, scope: Scope, seen: frozenset[str] = frozenset()) -> str:
    """bool, number or percent (percent: an input or literal written in %)."""
    match expr:
        case n.Bool():
            return BOOL
        case n.Percent():
            return PERCENT
        case n.Name(name) if name in scope.inputs:
            t = scope.inputs[name].type
            return t if t in (BOOL, PERCENT) else NUMBER
        case n.Name(name) if name in scope.values and name not in seen:
            kind = scope.values[name].kind
            if isinstance(kind, n.Formula):
                return infer(kind.expr, scope, seen | {name})
            return NUMBER
        case n.Name(name) if name not in scope.values and name != "total":
            return UNKNOWN
        case n.Not() | n.Compare():
            return BOOL
        case n.Binary(op) if op in ("and", "or"):
            return BOOL
        case n.Neg(operand):
            return infer(operand, scope, seen)
        case n.Binary(op, left, right) if op in ("+", "-"):
            types = {infer(left, scope, seen), infer(right, scope, seen)}
            return PERCENT if types == {PERCENT} else NUMBER
    return NUMBER


def _operands(expr: n.Expr) -> Iterator[tuple[n.Expr, str]]:
    """Each direct operand with the type the operator needs."""
    match expr:
        case n.Not(operand):
            yield operand, BOOL
        case n.Binary(op, left, right):
            need = BOOL if op in ("and", "or") else NUMBER
            yield left, need
            yield right, need
        case n.Neg(operand):
            yield operand, NUMBER
        case n.Compare(operands):
            for operand in operands:
                yield operand, NUMBER
        case n.Call(_, args):
            for arg in args:
                yield arg, NUMBER
        case n.Weighted(terms):
            for term in terms:
                yield term.ref, NUMBER


def _check_expr(expr: n.Expr, need: str, scope: Scope, anchor: str) -> Iterator[Diagnostic]:
    got = infer(expr, scope)
    if got != UNKNOWN and (need == BOOL) != (got == BOOL):
        want = "a condition (true or false)" if need == BOOL else "a number"
        what = "a condition" if got == BOOL else "a number"
        yield error(
            "type-mismatch", f"expected {want} here, but this is {what}", expr.span, anchor=anchor
        )
        return
    for operand, operand_need in _operands(expr):
        yield from _check_expr(operand, operand_need, scope, anchor)
    if isinstance(expr, n.Compare):
        yield from _check_percent_comparison(expr, scope, anchor)
    if isinstance(expr, n.Call) and expr.func in STEP_FUNCTIONS and len(expr.args) == 2:
        yield from _check_step(expr, expr.args[1], anchor)


def _check_step(call: n.Call, step: n.Expr, anchor: str) -> Iterator[Diagnostic]:
    """The step of round_to / ceil_to / floor_to: a number above 0, written as a number."""
    if isinstance(step, n.Number) and step.value > 0:
        return
    yield error(
        "type-mismatch",
        f"the step of {call.func}() must be a number above 0, not {step.span.text}",
        step.span,
        f"for half days: {call.func}(x, 0.5)",
        anchor=anchor,
    )


def _input_type(expr: n.Expr, scope: Scope) -> str | None:
    if isinstance(expr, n.Name) and expr.name in scope.inputs:
        return scope.inputs[expr.name].type
    return None


def _check_percent_comparison(expr: n.Compare, scope: Scope, anchor: str) -> Iterator[Diagnostic]:
    """`rate >= 0.9` on a percent input, or `count >= 90%` on a number input."""
    for a, b in zip(expr.operands, expr.operands[1:], strict=False):
        for inp, lit in ((a, b), (b, a)):
            t = _input_type(inp, scope)
            if t is None or t == BOOL:
                continue
            if t == PERCENT and isinstance(lit, n.Number):
                yield error(
                    "type-mismatch",
                    f"'{inp.name}' is a percentage but {lit.span.text} is a plain number",  # type: ignore[union-attr]
                    lit.span,
                    f"write it as a percentage, e.g. {lit.span.text}%",
                    anchor=anchor,
                )
            elif t != PERCENT and isinstance(lit, n.Percent):
                yield error(
                    "type-mismatch",
                    f"'{inp.name}' is {t} but {lit.span.text} is a percentage",  # type: ignore[union-attr]
                    lit.span,
                    anchor=anchor,
                )


def check_types(scope: Scope) -> Iterator[Diagnostic]:
    scheme = scope.scheme
    if scheme.total is not None and scheme.total.formula is not None:
        yield from _check_expr(scheme.total.formula, NUMBER, scope, "scheme")
    for value in scheme.values:
        if isinstance(value.kind, n.Formula):
            yield from _check_expr(value.kind.expr, NUMBER, scope, f"value:{value.name}")
        else:
            yield from _check_bands(value.kind, value.bands, scope, f"value:{value.name}")
    for item, _ in scheme.walk_items():
        anchor = f"item:{item.id}"
        if isinstance(item.kind, n.Formula):
            yield from _check_expr(item.kind.expr, NUMBER, scope, anchor)
        elif isinstance(item.kind, n.Lookup):
            yield from _check_bands(item.kind, item.bands, scope, anchor)
        for veto in item.vetoes:
            yield from _check_expr(veto.condition, BOOL, scope, anchor)
    for gate in scheme.gates:
        for req in gate.requires:
            yield from _check_expr(req.condition, BOOL, scope, f"gate:{gate.id}")
    for level in scheme.levels:
        yield from _check_expr(level.condition, BOOL, scope, "levels")
    for inp in scheme.inputs:
        if inp.domain is not None:
            if inp.type == BOOL:
                yield error(
                    "type-mismatch",
                    f"'{inp.name}' is a bool: it takes no range",
                    inp.domain.span,
                    anchor=f"input:{inp.name}",
                )
            else:
                yield from _check_literals(inp, band_literals(inp.domain), f"input:{inp.name}")
        if inp.default is not None:
            yield from _check_default(inp, scope)
    yield from _check_examples(scope)


def _check_default(inp: n.Input, scope: Scope) -> Iterator[Diagnostic]:
    """A default is a value of the input's type, inside its domain."""
    default, anchor = inp.default, f"input:{inp.name}"
    assert default is not None
    if (inp.type == BOOL) != isinstance(default, n.Bool):
        want = "true or false" if inp.type == BOOL else f"a {inp.type} value"
        yield error("type-mismatch", f"'{inp.name}' needs {want}", default.span, anchor=anchor)
        return
    if isinstance(default, n.Bool):
        return
    found = list(_check_literals(inp, (default,), anchor))
    yield from found
    x = literal_value(default)
    if not found and not scope.domain(inp).contains(x):
        yield error(
            "type-mismatch",
            f"the default of '{inp.name}' is {default.span.text}, outside its domain",
            default.span,
            anchor=anchor,
        )


def _check_bands(
    lookup: n.Lookup, bands: tuple[n.Band, ...], scope: Scope, anchor: str
) -> Iterator[Diagnostic]:
    inp = scope.inputs.get(lookup.input)
    if inp is None:
        return
    if inp.type == BOOL:
        yield error(
            "type-mismatch",
            f"'{inp.name}' is a bool (true/false): it cannot be divided into bands",
            lookup.span,
            "use a veto or a gate for a yes/no input",
            anchor=anchor,
        )
        return
    for band in bands:
        yield from _check_literals(inp, band_literals(band.condition), anchor)


def _check_literals(
    inp: n.Input, literals: tuple[n.Literal, ...], anchor: str
) -> Iterator[Diagnostic]:
    for lit in literals:
        if inp.type == PERCENT and not is_percent(lit):
            yield error(
                "type-mismatch",
                f"'{inp.name}' is a percentage but {lit.span.text} is a plain number",
                lit.span,
                f"write it as a percentage, e.g. {lit.span.text}%",
                anchor=anchor,
            )
        elif inp.type in NUMERIC_TYPES and inp.type != PERCENT and is_percent(lit):
            yield error(
                "type-mismatch",
                f"'{inp.name}' is {inp.type} but {lit.span.text} is a percentage",
                lit.span,
                anchor=anchor,
            )


def _check_examples(scope: Scope) -> Iterator[Diagnostic]:
    for example in scope.scheme.examples:
        for stmt in example.body:
            if not isinstance(stmt, n.Given) or stmt.name not in scope.inputs:
                continue
            inp = scope.inputs[stmt.name]
            anchor = f"example:{example.name}"
            if (inp.type == BOOL) != isinstance(stmt.value, n.Bool):
                want = "true or false" if inp.type == BOOL else f"a {inp.type} value"
                yield error(
                    "type-mismatch", f"'{inp.name}' needs {want}", stmt.value.span, anchor=anchor
                )
            elif not isinstance(stmt.value, n.Bool):
                yield from _check_literals(inp, (stmt.value,), anchor)
