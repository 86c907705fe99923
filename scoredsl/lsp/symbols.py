"""Symbols: a loaded scheme -> every name declared or used in it, with its span.

What the editor asks about a position (hover, go to definition, find references, the
outline, completion) is answered from one `Index` built from the checked AST. Inputs and
values share one namespace (`name`), as they do in formulas; items are found by id,
levels by name, and the `extends` string stands for the parent file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs

from scoredsl import nodes as n
from scoredsl import printer as fmt
from scoredsl.semantics import Scope, fmt_number, sum_terms, walk_expr
from scoredsl.source import Source, Span
from scoredsl.syntax import grammar_text

NAME, ITEM, LEVEL, FILE = "name", "item", "level", "file"


@attrs.frozen
class Symbol:
    kind: str  # NAME (an input or a value), ITEM, LEVEL or FILE
    key: str


@attrs.frozen
class Occurrence:
    symbol: Symbol
    span: Span
    declaration: bool = False


@attrs.frozen
class Outline:
    """One entry of the document outline: the clause tree, with inputs, values, levels."""

    name: str
    detail: str
    kind: str  # scheme | input | value | gate | item | levels | level | example
    span: Span
    selection: Span
    children: tuple[Outline, ...] = ()


_STRING = r'"(?:\\.|[^"\\\n])*"'
_EXTENDS = re.compile(rf"\s*{_STRING}\s*extends\s*({_STRING})")


def extends_span(scheme: n.Scheme) -> Span | None:
    """Where the `extends "file"` string is written (it follows the scheme's title)."""
    if scheme.extends is None:
        return None
    source = scheme.id_span.source
    found = _EXTENDS.match(source.text, scheme.id_span.end)
    if found is None:
        return None
    return Span(source, found.start(1), found.end(1))


def parent_path(scheme: n.Scheme) -> Path | None:
    if scheme.extends is None:
        return None
    return (Path(scheme.id_span.source.path).parent / scheme.extends).resolve()


def _tail(span: Span, text: str) -> Span:
    """The last `len(text)` characters of a span (the id in ``item 5.1``)."""
    return Span(span.source, span.end - len(text), span.end)


def _after(span: Span, pattern: str) -> Span | None:
    """The span of the first group of `pattern` matched at the start of `span`'s text."""
    found = re.compile(pattern).match(span.source.text, span.start, span.end)
    if found is None:
        return None
    return Span(span.source, found.start(1), found.end(1))


def _expressions(scheme: n.Scheme) -> Iterator[n.Expr]:
    if scheme.total is not None and scheme.total.formula is not None:
        yield scheme.total.formula
    for value in scheme.values:
        if isinstance(value.kind, n.Formula):
            yield value.kind.expr
    for item, _ in scheme.walk_items():
        if isinstance(item.kind, n.Formula):
            yield item.kind.expr
        yield from (veto.condition for veto in item.vetoes)
    for gate in scheme.gates:
        yield from (req.condition for req in gate.requires)
    for level in scheme.levels:
        yield level.condition


def occurrences(scope: Scope) -> Iterator[Occurrence]:
    """Every declaration and use of an input, value, item or level, and the extends file."""
    scheme = scope.scheme
    for inp in scheme.inputs:
        yield Occurrence(Symbol(NAME, inp.name), inp.name_span, True)
    for value in scheme.values:
        yield Occurrence(Symbol(NAME, value.name), value.name_span, True)
        if isinstance(value.kind, n.Lookup):
            yield Occurrence(Symbol(NAME, value.kind.input), value.kind.span)
    for item, _ in scheme.walk_items():
        yield Occurrence(Symbol(ITEM, item.id), item.id_span, True)
        if isinstance(item.kind, n.Lookup):
            yield Occurrence(Symbol(NAME, item.kind.input), item.kind.span)
    for level in scheme.levels:
        span = Span(level.span.source, level.span.start, level.span.start + len(level.name))
        yield Occurrence(Symbol(LEVEL, level.name), span, True)
    for expr in _expressions(scheme):
        for sub in walk_expr(expr):
            if isinstance(sub, n.Name):
                yield Occurrence(Symbol(NAME, sub.name), sub.span)
            elif isinstance(sub, n.ItemRef):
                yield Occurrence(Symbol(ITEM, sub.item_id), _tail(sub.span, sub.item_id))
    yield from _example_occurrences(scope)
    where, parent = extends_span(scheme), parent_path(scheme)
    if where is not None and parent is not None:
        yield Occurrence(Symbol(FILE, str(parent)), where)


def _example_occurrences(scope: Scope) -> Iterator[Occurrence]:
    labels = scope.labels()
    for example in scope.scheme.examples:
        for stmt in example.body:
            match stmt:
                case n.Given(name):
                    span = _after(stmt.span, r"given\s+(\w+)")
                    if span is not None:
                        yield Occurrence(Symbol(NAME, name), span)
                case n.GivenScore(key) | n.GivenFindings(key) | n.GivenSevere(key):
                    span = _after(stmt.span, rf"\w+\s+({_STRING}|[\w.]+)")
                    ids = [key] if key in scope.items else labels.get(key, [])
                    if span is not None and len(ids) == 1:
                        yield Occurrence(Symbol(ITEM, ids[0]), span)
                case n.Expect("level", str(name)):
                    span = _after(stmt.span, r"expect\s+level\s+(\w+)")
                    if span is not None:
                        yield Occurrence(Symbol(LEVEL, name), span)


class Index:
    """The names of one open document, and what its scheme (with its parent) declares."""

    def __init__(self, scheme: n.Scheme, source: Source) -> None:
        self.scheme = scheme
        self.source = source
        self.scope = Scope.of(scheme)
        self.occurrences = list(occurrences(self.scope))

    def at(self, offset: int) -> Occurrence | None:
        """The occurrence in this document under (or just after) the cursor."""
        found = [
            o
            for o in self.occurrences
            if o.span.source is self.source and o.span.start <= offset <= o.span.end
        ]
        return min(found, key=lambda o: o.span.end - o.span.start, default=None)

    def declaration(self, symbol: Symbol) -> Span | None:
        """Where a symbol is declared; for the extends file, the start of that file."""
        if symbol.kind == FILE:
            return Span(Source(symbol.key, ""), 0, 0) if Path(symbol.key).is_file() else None
        found = [o.span for o in self.occurrences if o.symbol == symbol and o.declaration]
        return found[0] if found else None

    def references(self, symbol: Symbol, include_declaration: bool = True) -> list[Span]:
        return [
            o.span
            for o in self.occurrences
            if o.symbol == symbol and (include_declaration or not o.declaration)
        ]

    def hover(self, symbol: Symbol) -> str | None:
        """Markdown that says what the symbol is, from its declaration."""
        scope = self.scope
        if symbol.kind == ITEM and symbol.key in scope.items:
            return item_hover(scope, scope.items[symbol.key])
        if symbol.kind == NAME and symbol.key in scope.inputs:
            return input_hover(scope.inputs[symbol.key])
        if symbol.kind == NAME and symbol.key in scope.values:
            return value_hover(scope.values[symbol.key])
        if symbol.kind == LEVEL and symbol.key in scope.levels:
            return level_hover(scope.levels[symbol.key])
        if symbol.kind == FILE:
            return f"extends `{symbol.key}`"
        return None


# ---- hover text ----------------------------------------------------------------------


def _bands(bands: tuple[n.Band, ...]) -> list[str]:
    if not bands:
        return []
    rows = [f"    {fmt.condition(b.condition)} -> {fmt.number(b.result)}" for b in bands]
    return ["", "bands:", "", *rows]


def item_hover(scope: Scope, item: n.Item) -> str:
    lines = [f"**item {item.id}** {item.label}", "", f"- points: {fmt_number(item.points)}"]
    parent = scope.parents.get(item.id)
    lines.append(f"- parent: {parent.id} {parent.label}" if parent else "- parent: none (top)")
    if item.children:
        parts = [fmt_number(c.points) for c in item.children]
        total = sum((c.points for c in item.children), Decimal(0))
        lines.append(f"- its items add up to {fmt_number(total)} ({sum_terms(parts)})")
    match item.kind:
        case n.Lookup(name):
            lines.append(f"- banded by `{name}`")
        case n.Formula(expr):
            lines.append(f"- computed: `{fmt.expr(expr)}`")
        case None if not item.children:
            lines.append(f"- judged: the assessor awards 0 to {fmt_number(item.points)}")
    lines += [f"- veto when `{fmt.expr(v.condition)}`" for v in item.vetoes]
    return "\n".join(lines + _bands(item.bands))


def input_hover(inp: n.Input) -> str:
    lines = [f"**input {inp.name}**: {inp.type}", ""]
    if inp.label:
        lines.append(f"- label: {inp.label}")
    if inp.clause:
        lines.append(f"- clause: {inp.clause}")
    domain = fmt.condition(inp.domain) if inp.domain else _default_domain(inp.type)
    if inp.bound is not None:
        domain = fmt.bounded_domain(inp.domain, inp.bound)
    lines.append(f"- domain: `{domain}`")
    return "\n".join(lines)


def _default_domain(type_: str) -> str:
    return {"percent": "0% <= _ <= 100%", "bool": "true or false"}.get(type_, ">= 0")


def value_hover(value: n.Value) -> str:
    lines = [f"**value {value.name}**" + (f" {value.label}" if value.label else ""), ""]
    if value.clause:
        lines.append(f"- clause: {value.clause}")
    match value.kind:
        case n.Formula(expr):
            lines.append(f"- formula: `{value.name} = {fmt.expr(expr)}`")
        case n.Lookup(name):
            lines.append(f"- looked up by `{name}`")
    return "\n".join(lines + _bands(value.bands))


def level_hover(level: n.Level) -> str:
    return "\n".join(
        [f"**level {level.name}** {level.label}", "", f"- when `{fmt.expr(level.condition)}`"]
    )


# ---- outline -------------------------------------------------------------------------


def outline(scheme: n.Scheme, source: Source) -> list[Outline]:
    """The document's own statements (not an extends parent's) as a tree under the scheme."""
    children = tuple(
        entry for stmt in scheme.body if stmt.span.source is source for entry in _outline(stmt)
    )
    return [Outline(scheme.id, scheme.title, "scheme", scheme.span, scheme.id_span, children)]


def _outline(stmt: n.SchemeStmt | n.Item) -> Iterator[Outline]:
    match stmt:
        case n.Input():
            yield Outline(stmt.name, stmt.label or stmt.type, "input", stmt.span, stmt.name_span)
        case n.Value():
            yield Outline(stmt.name, stmt.label or "", "value", stmt.span, stmt.name_span)
        case n.Gate():
            yield Outline(stmt.id, stmt.label, "gate", stmt.span, stmt.span)
        case n.Item():
            children = tuple(e for c in stmt.children for e in _outline(c))
            detail = f"{stmt.label} ({fmt_number(stmt.points)})"
            yield Outline(stmt.id, detail, "item", stmt.span, stmt.id_span, children)
        case n.Levels():
            levels = tuple(
                Outline(lv.name, lv.label, "level", lv.span, lv.span) for lv in stmt.levels
            )
            yield Outline("levels", "", "levels", stmt.span, stmt.span, levels)
        case n.Example():
            yield Outline(stmt.name, "example", "example", stmt.span, stmt.span)


# ---- completion ----------------------------------------------------------------------


def keywords() -> list[str]:
    """The words of the language: the grammar's quoted keywords, types and rounding modes."""
    text = grammar_text()
    quoted = set(re.findall(r'"([a-z]+)"', text))
    for rule in ("TYPE", "ROUNDING_MODE", "BOOL"):
        found = re.search(rf"^{rule}: /\(([\w|-]+)\)", text, re.MULTILINE)
        if found:
            quoted.update(found.group(1).split("|"))
    return sorted(quoted)
