"""Names: duplicate ids, unknown references (with did-you-mean), unused inputs."""

from __future__ import annotations

from collections.abc import Iterator

from scoredsl import nodes as n
from scoredsl.diagnostics import Diagnostic, error, warning
from scoredsl.semantics import FUNCTIONS, Scope, did_you_mean, walk_expr
from scoredsl.source import Span


def check_duplicate_ids(scope: Scope) -> Iterator[Diagnostic]:
    scheme = scope.scheme
    groups: list[tuple[str, list[tuple[str, Span, str]]]] = [
        ("item", [(i.id, i.id_span, f"item:{i.id}") for i, _ in scheme.walk_items()]),
        (
            "input or value",
            [(i.name, i.name_span, f"input:{i.name}") for i in scheme.inputs]
            + [(v.name, v.name_span, f"value:{v.name}") for v in scheme.values],
        ),
        ("level", [(lv.name, lv.span, "levels") for lv in scheme.levels]),
        ("gate", [(g.id, g.span, f"gate:{g.id}") for g in scheme.gates]),
    ]
    for kind, entries in groups:
        seen: dict[str, Span] = {}
        for name, span, anchor in entries:
            if name in seen:
                line = seen[name].start_position[0]
                yield error(
                    "duplicate-id",
                    f"{kind} '{name}' is already defined on line {line}",
                    span,
                    "give each one a different id",
                    anchor=anchor,
                )
            else:
                seen[name] = span


def _expressions(scope: Scope) -> Iterator[tuple[n.Expr, str, bool]]:
    """Every expression with its anchor and whether `total` may be used in it."""
    scheme = scope.scheme
    if scheme.total is not None and scheme.total.formula is not None:
        yield scheme.total.formula, "scheme", False
    for value in scheme.values:
        if isinstance(value.kind, n.Formula):
            yield value.kind.expr, f"value:{value.name}", False
    for item, _ in scheme.walk_items():
        if isinstance(item.kind, n.Formula):
            yield item.kind.expr, f"item:{item.id}", False
        for veto in item.vetoes:
            yield veto.condition, f"item:{item.id}", False
    for gate in scheme.gates:
        for req in gate.requires:
            yield req.condition, f"gate:{gate.id}", True
    for level in scheme.levels:
        yield level.condition, "levels", True


def check_unknown_names(scope: Scope) -> Iterator[Diagnostic]:
    known = {**scope.inputs, **scope.values}
    for expr, anchor, total_ok in _expressions(scope):
        for sub in walk_expr(expr):
            match sub:
                case n.Name(name) if name not in known and not (total_ok and name == "total"):
                    where = "an input or value" + (" (or total)" if total_ok else "")
                    yield error(
                        "unknown-name",
                        f"'{name}' is not {where} of this scheme",
                        sub.span,
                        *did_you_mean(name, [*known, *(["total"] if total_ok else [])]),
                        anchor=anchor,
                    )
                case n.ItemRef(item_id) if item_id not in scope.items:
                    yield error(
                        "unknown-name",
                        f"there is no item {item_id}",
                        sub.span,
                        *did_you_mean(item_id, scope.items),
                        anchor=anchor,
                    )
                case n.Call(func, args) if func not in FUNCTIONS:
                    yield error(
                        "unknown-name",
                        f"there is no function '{func}'",
                        sub.span,
                        *did_you_mean(func, list(FUNCTIONS)),
                        f"functions: {', '.join(sorted(FUNCTIONS))}",
                        anchor=anchor,
                    )
                case n.Call(func, args) if not _arity_ok(func, len(args)):
                    low, high = FUNCTIONS[func]
                    want = (
                        f"{low}"
                        if low == high
                        else f"{low} or more"
                        if high is None
                        else f"{low} to {high}"
                    )
                    yield error(
                        "type-mismatch",
                        f"{func}() takes {want} argument(s), not {len(args)}",
                        sub.span,
                        anchor=anchor,
                    )
    yield from _unknown_lookup_inputs(scope)
    yield from _unknown_example_names(scope)


def _arity_ok(func: str, count: int) -> bool:
    low, high = FUNCTIONS[func]
    return count >= low and (high is None or count <= high)


def _unknown_lookup_inputs(scope: Scope) -> Iterator[Diagnostic]:
    owners: list[tuple[n.Lookup, str]] = [
        (i.kind, f"item:{i.id}")
        for i, _ in scope.scheme.walk_items()
        if isinstance(i.kind, n.Lookup)
    ]
    owners += [
        (v.kind, f"value:{v.name}") for v in scope.scheme.values if isinstance(v.kind, n.Lookup)
    ]
    for lookup, anchor in owners:
        if lookup.input not in scope.inputs:
            yield error(
                "unknown-name",
                f"'{lookup.input}' is not an input of this scheme",
                lookup.span,
                *did_you_mean(lookup.input, scope.inputs),
                anchor=anchor,
            )


def _unknown_example_names(scope: Scope) -> Iterator[Diagnostic]:
    labels = scope.labels()
    for example in scope.scheme.examples:
        anchor = f"example:{example.name}"
        for stmt in example.body:
            match stmt:
                case n.Given(name) if name not in scope.inputs:
                    yield error(
                        "unknown-name",
                        f"'{name}' is not an input of this scheme",
                        stmt.span,
                        *did_you_mean(name, scope.inputs),
                        anchor=anchor,
                    )
                case n.GivenScore(key) | n.GivenFindings(key) | n.GivenSevere(key) if (
                    key not in scope.items and key not in labels
                ):
                    yield error(
                        "unknown-name",
                        f"there is no item '{key}'",
                        stmt.span,
                        *did_you_mean(key, [*scope.items, *labels]),
                        anchor=anchor,
                    )
                case n.Expect("level", str(name)) if name not in scope.levels:
                    yield error(
                        "unknown-name",
                        f"there is no level '{name}'",
                        stmt.span,
                        *did_you_mean(name, scope.levels),
                        anchor=anchor,
                    )


def check_unused_inputs(scope: Scope) -> Iterator[Diagnostic]:
    used: set[str] = set()
    for expr, _, _ in _expressions(scope):
        used.update(sub.name for sub in walk_expr(expr) if isinstance(sub, n.Name))
    for item, _ in scope.scheme.walk_items():
        if isinstance(item.kind, n.Lookup):
            used.add(item.kind.input)
    for value in scope.scheme.values:
        if isinstance(value.kind, n.Lookup):
            used.add(value.kind.input)
    for inp in scope.scheme.inputs:
        if inp.name not in used:
            yield warning(
                "unused-input",
                f"input '{inp.name}' is declared but never used",
                inp.name_span,
                "use it in a band, formula, veto, gate or level, or remove it",
                anchor=f"input:{inp.name}",
            )


def _dependencies(scope: Scope) -> dict[str, tuple[list[str], Span]]:
    """value:NAME / item:ID -> the values and items its formula uses, and where."""
    graph: dict[str, tuple[list[str], Span]] = {}
    formulas: list[tuple[str, n.Expr]] = [
        (f"value:{v.name}", v.kind.expr)
        for v in scope.scheme.values
        if isinstance(v.kind, n.Formula)
    ]
    formulas += [
        (f"item:{i.id}", i.kind.expr)
        for i, _ in scope.scheme.walk_items()
        if isinstance(i.kind, n.Formula)
    ]
    for node, expr in formulas:
        uses = []
        for sub in walk_expr(expr):
            if isinstance(sub, n.Name) and sub.name in scope.values:
                uses.append(f"value:{sub.name}")
            elif isinstance(sub, n.ItemRef) and sub.item_id in scope.items:
                uses.append(f"item:{sub.item_id}")
                # a parent's score is the sum of its items: it depends on them
                uses += [f"item:{d.id}" for d, _ in scope.items[sub.item_id].walk()][1:]
        graph[node] = (uses, expr.span)
    return graph


def check_cycles(scope: Scope) -> Iterator[Diagnostic]:
    """A formula that needs itself, directly or through other values and items."""
    graph = _dependencies(scope)
    reported: set[str] = set()
    for start in graph:
        path = _cycle_from(start, graph)
        if path and not reported.intersection(path):
            reported.update(path)
            shown = " -> ".join(p.split(":", 1)[1] for p in [*path, path[0]])
            yield error(
                "cycle",
                f"{start.split(':', 1)[1]} depends on itself: {shown}",
                graph[start][1],
                "a formula cannot use its own result",
                anchor=start,
            )


def _cycle_from(start: str, graph: dict[str, tuple[list[str], Span]]) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, ([], None))[0]:
            if nxt == start:
                return path
            if nxt not in seen and nxt in graph:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None
