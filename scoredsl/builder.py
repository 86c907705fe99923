"""Build: Lark tree -> AST (`scoredsl.nodes`), every node with its `Span`.

One `Transformer`, one method per grammar rule. It raises nothing a user can cause: the
grammar already guarantees each rule's shape. `parse_source` is the whole front end of
one file: text -> AST, or the syntax diagnostic; it never raises for any text.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import lark
from lark import Token, Transformer, Tree, v_args
from lark.exceptions import VisitError
from lark.tree import Meta as LarkMeta

from scoredsl import nodes as n
from scoredsl.diagnostics import Diagnostic, error
from scoredsl.source import Source, Span
from scoredsl.syntax import parse

_OPS = {"≤": "<=", "≥": ">=", "≠": "!=", "×": "*", "÷": "/"}


@attrs.frozen
class _Id:
    text: str
    span: Span


def unquote(token: str) -> str:
    """The text of a STRING token: quotes removed, ``\\"``, ``\\\\``, ``\\n``, ``\\t`` decoded."""
    body = token[1:-1]
    out: list[str] = []
    chars = iter(body)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
    return "".join(out)


@v_args(meta=True)
class Builder(Transformer[Token, n.Scheme]):
    def __init__(self, source: Source) -> None:
        super().__init__(visit_tokens=False)
        self._file = source

    # ---- spans ------------------------------------------------------------------------

    def _span(self, meta: LarkMeta) -> Span:
        if getattr(meta, "empty", True):
            return Span(self._file, 0, 0)
        return Span(self._file, meta.start_pos, meta.end_pos)

    def _tok(self, token: Token) -> Span:
        start = token.start_pos or 0
        end = token.end_pos if token.end_pos is not None else start + len(token)
        return Span(self._file, start, end)

    @staticmethod
    def _strings(children: list[Any]) -> list[str]:
        return [unquote(c) for c in children if isinstance(c, Token) and c.type == "STRING"]

    @staticmethod
    def _first(children: list[Any], cls: type[Any]) -> Any:
        return next((c for c in children if isinstance(c, cls)), None)

    # ---- scheme -----------------------------------------------------------------------

    def start(self, meta: LarkMeta, children: list[Any]) -> n.Scheme:
        scheme: n.Scheme = children[0]
        return scheme

    def scheme(self, meta: LarkMeta, children: list[Any]) -> n.Scheme:
        ident, title, *rest = children
        extends = rest[0] if rest and isinstance(rest[0], str) else None
        body = tuple(c for c in rest if not isinstance(c, str))
        return n.Scheme(
            str(ident), unquote(title), extends, body, self._span(meta), self._tok(ident)
        )

    def extends(self, meta: LarkMeta, children: list[Any]) -> str:
        return unquote(children[0])

    def _meta(self, key: str, meta: LarkMeta, value: str) -> n.Meta:
        return n.Meta(key, value, self._span(meta))

    def source(self, meta: LarkMeta, children: list[Any]) -> n.Meta:
        return self._meta("source", meta, unquote(children[0]))

    def version(self, meta: LarkMeta, children: list[Any]) -> n.Meta:
        return self._meta("version", meta, unquote(children[0]))

    def total(self, meta: LarkMeta, children: list[Any]) -> n.Total:
        formula = children[1] if len(children) > 1 else None
        return n.Total(Decimal(str(children[0])), self._span(meta), formula=formula)

    def rounding(self, meta: LarkMeta, children: list[Any]) -> n.Rounding:
        mode = str(children[1]) if len(children) > 1 and children[1] is not None else "half-up"
        return n.Rounding(int(children[0]), mode, self._span(meta))

    def tiers(self, meta: LarkMeta, children: list[Any]) -> n.Tiers:
        return n.Tiers(tuple(self._strings(children)), self._span(meta))

    def en(self, meta: LarkMeta, children: list[Any]) -> n.English:
        return n.English(unquote(children[0]), self._span(meta))

    def accept(self, meta: LarkMeta, children: list[Any]) -> n.Accept:
        return n.Accept(str(children[0]), unquote(children[1]), self._span(meta))

    def reading(self, meta: LarkMeta, children: list[Any]) -> n.Reading:
        return n.Reading(unquote(children[0]), self._span(meta))

    def note(self, meta: LarkMeta, children: list[Any]) -> n.Note:
        return n.Note(unquote(children[0]), self._span(meta))

    def category(self, meta: LarkMeta, children: list[Any]) -> n.Category:
        return n.Category(unquote(children[0]), self._span(meta))

    # ---- inputs and values ------------------------------------------------------------

    def input(self, meta: LarkMeta, children: list[Any]) -> n.Input:
        name, type_, domain, *rest = children
        strings = self._strings(rest)
        clause = self._first(rest, _Clause)
        limit: n.InputBound | None = None
        if isinstance(domain, _Bounded):
            bounded: _Bounded = domain
            limit = bounded.bound
            domain = bounded.numbers
        return n.Input(
            str(name),
            str(type_),
            domain,
            strings[0] if strings else None,
            clause.text if clause else None,
            self._span(meta),
            self._tok(name),
            bound=limit,
            default=default.value if (default := self._first(rest, _Default)) else None,
        )

    def default(self, meta: LarkMeta, children: list[Any]) -> _Default:
        value = children[0]
        if isinstance(value, Token):  # BOOL
            value = n.Bool(str(value) == "true", self._tok(value))
        return _Default(value)

    def bound_domain(self, meta: LarkMeta, children: list[Any]) -> _Bounded:
        op, name = children
        return _Bounded(None, n.InputBound(_op(op), str(name), self._span(meta)))

    def chain_bound_domain(self, meta: LarkMeta, children: list[Any]) -> _Bounded:
        low, low_op, op, name = children
        numbers = n.OpenCondition(_FLIP_LOW[_op(low_op)], low, low.span)
        return _Bounded(numbers, n.InputBound(_op(op), str(name), self._tok(name)))

    def domain(self, meta: LarkMeta, children: list[Any]) -> n.Condition:
        condition: n.Condition = children[0]
        return condition

    def clause(self, meta: LarkMeta, children: list[Any]) -> _Clause:
        token = children[0]
        text = unquote(token) if token.type == "STRING" else str(token)
        return _Clause(text)

    def value(self, meta: LarkMeta, children: list[Any]) -> n.Value:
        name, *rest = children
        strings = self._strings(rest)
        clause = self._first(rest, _Clause)
        kind, body = self._first(rest, tuple)
        unit = self._first(rest, _Unit)
        return n.Value(
            str(name),
            strings[0] if strings else None,
            kind,
            clause.text if clause else None,
            body,
            self._span(meta),
            self._tok(name),
            unit=unit.text if unit else None,
        )

    def unit(self, meta: LarkMeta, children: list[Any]) -> _Unit:
        return _Unit(unquote(children[0]))

    def formula(self, meta: LarkMeta, children: list[Any]) -> tuple[n.Formula, tuple[Any, ...]]:
        expr, *block = children
        body = tuple(block[0]) if block and block[0] is not None else ()
        return n.Formula(expr, self._span(meta)), body

    def lookup(self, meta: LarkMeta, children: list[Any]) -> tuple[n.Lookup, tuple[Any, ...]]:
        return n.Lookup(str(children[0]), self._tok(children[0])), children[1]

    by = lookup
    computed = formula

    # ---- groups -----------------------------------------------------------------------

    def group(self, meta: LarkMeta, children: list[Any]) -> n.Group:
        name, *rest = children
        strings = [unquote(c) for c in rest if isinstance(c, Token)]
        body = tuple(c for c in rest if not isinstance(c, Token))
        label = strings[0] if strings else None
        return n.Group(str(name), label, body, self._span(meta), self._tok(name))

    def members(self, meta: LarkMeta, children: list[Any]) -> n.Members:
        return n.Members(tuple(children), self._span(meta))

    def member(self, meta: LarkMeta, children: list[Any]) -> n.Member:
        name, label = children
        return n.Member(str(name), unquote(label), self._span(meta))

    def _quantified(self, kind: str, meta: LarkMeta, children: list[Any]) -> n.Quantified:
        group, *rest = children
        body: n.Expr = rest[-1]
        first = last = None
        first_span = last_span = None
        if len(rest) == 2 and rest[0] is not None:
            first, last = rest[0]
            first_span, last_span = self._tok(first), self._tok(last)
        return n.Quantified(
            kind,
            str(group),
            None if first is None else str(first),
            None if last is None else str(last),
            body,
            self._span(meta),
            self._tok(group),
            first_span=first_span,
            last_span=last_span,
        )

    def every(self, meta: LarkMeta, children: list[Any]) -> n.Quantified:
        return self._quantified("every", meta, children)

    def group_sum(self, meta: LarkMeta, children: list[Any]) -> n.Quantified:
        return self._quantified("sum", meta, children)

    def member_range(self, meta: LarkMeta, children: list[Any]) -> tuple[Token, Token]:
        first, last = children
        return first, last

    # ---- items ------------------------------------------------------------------------

    def item(self, meta: LarkMeta, children: list[Any]) -> n.Item:
        ident, label, points, *rest = children
        kind: n.Lookup | n.Formula | None = None
        body: tuple[Any, ...] = ()
        if rest and isinstance(rest[0], tuple) and len(rest[0]) == 2 and _is_kind(rest[0][0]):
            kind, body = rest[0]
        elif rest and isinstance(rest[0], list):
            body = tuple(rest[0])
        return n.Item(
            ident.text,
            unquote(label),
            Decimal(str(points)),
            kind,
            tuple(body),
            self._span(meta),
            ident.span,
            self._tok(points),
        )

    def sheet(self, meta: LarkMeta, children: list[Any]) -> n.Item:
        ident, label, points, *rest = children
        body = tuple(rest[0]) if rest and isinstance(rest[0], list) else ()
        return n.Item(
            ident.text,
            unquote(label),
            Decimal(str(points)),
            None,
            body,
            self._span(meta),
            ident.span,
            self._tok(points),
            sheet=True,
        )

    def item_id(self, meta: LarkMeta, children: list[Any]) -> _Id:
        return _Id(str(children[0]), self._tok(children[0]))

    def block(self, meta: LarkMeta, children: list[Any]) -> list[Any]:
        return list(children)

    def bands(self, meta: LarkMeta, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)

    def veto(self, meta: LarkMeta, children: list[Any]) -> n.Veto:
        return n.Veto(children[0], unquote(children[1]), self._span(meta))

    def band(self, meta: LarkMeta, children: list[Any]) -> n.Band:
        condition, result = children
        return n.Band(condition, Decimal(str(result)), self._span(meta), self._tok(result))

    def open_band(self, meta: LarkMeta, children: list[Any]) -> n.OpenCondition:
        op, bound = children
        return n.OpenCondition(_op(op), bound, self._span(meta))

    def open_band_flipped(self, meta: LarkMeta, children: list[Any]) -> n.OpenCondition:
        return self.open_band(meta, children)

    def chain_band(self, meta: LarkMeta, children: list[Any]) -> n.ChainCondition:
        low, low_op, high_op, high = children
        return n.ChainCondition(low, _op(low_op), _op(high_op), high, self._span(meta))

    def else_band(self, meta: LarkMeta, children: list[Any]) -> n.ElseCondition:
        return n.ElseCondition(self._tok(children[0]))

    # ---- gates, rules, levels ---------------------------------------------------------

    def gate(self, meta: LarkMeta, children: list[Any]) -> n.Gate:
        ident, label, *body = children
        return n.Gate(ident.text, unquote(label), tuple(body), self._span(meta))

    def require(self, meta: LarkMeta, children: list[Any]) -> n.Require:
        strings = self._strings(children[1:])
        return n.Require(children[0], strings[0] if strings else None, self._span(meta))

    def severe(self, meta: LarkMeta, children: list[Any]) -> n.SevereRule:
        strings = self._strings(children[1:])
        return n.SevereRule(int(children[0]), strings[0] if strings else None, self._span(meta))

    def findings(self, meta: LarkMeta, children: list[Any]) -> n.FindingsRule:
        strings = self._strings(children)
        return n.FindingsRule(strings[0] if strings else None, self._span(meta))

    def levels(self, meta: LarkMeta, children: list[Any]) -> n.Levels:
        return n.Levels(tuple(children), self._span(meta))

    def level(self, meta: LarkMeta, children: list[Any]) -> n.Level:
        name, label, cond, *rest = children
        en = self._first(rest, n.English)
        return n.Level(str(name), unquote(label), cond, en.label if en else None, self._span(meta))

    def outcomes(self, meta: LarkMeta, children: list[Any]) -> n.Outcomes:
        return n.Outcomes(tuple(children), self._span(meta))

    def outcome(self, meta: LarkMeta, children: list[Any]) -> n.Outcome:
        name, label, *rest = children
        clause = self._first(rest, _Clause)
        en = self._first(rest, n.English)
        condition = next((c for c in rest if not isinstance(c, (_Clause, n.English, Token))), None)
        return n.Outcome(
            str(name),
            unquote(label),
            clause.text if clause else None,
            condition,
            en.label if en else None,
            self._span(meta),
            self._tok(name),
        )

    # ---- examples ---------------------------------------------------------------------

    def example(self, meta: LarkMeta, children: list[Any]) -> n.Example:
        return n.Example(unquote(children[0]), tuple(children[1:]), self._span(meta))

    def given(self, meta: LarkMeta, children: list[Any]) -> n.Given:
        name, value = children
        if isinstance(value, Token):  # BOOL
            value = n.Bool(str(value) == "true", self._tok(value))
        return n.Given(str(name), value, self._span(meta))

    def key(self, meta: LarkMeta, children: list[Any]) -> str:
        c = children[0]
        return c.text if isinstance(c, _Id) else unquote(c)

    def score(self, meta: LarkMeta, children: list[Any]) -> n.GivenScore:
        return n.GivenScore(children[0], Decimal(str(children[1])), self._span(meta))

    def sample(self, meta: LarkMeta, children: list[Any]) -> n.GivenFindings:
        key, problems, samples = children
        return n.GivenFindings(key, int(problems), int(samples), self._span(meta))

    def severe_item(self, meta: LarkMeta, children: list[Any]) -> n.GivenSevere:
        return n.GivenSevere(children[0], self._span(meta))

    def expect_total(self, meta: LarkMeta, children: list[Any]) -> n.Expect:
        return n.Expect("total", Decimal(str(children[0])), self._span(meta))

    def expect_level(self, meta: LarkMeta, children: list[Any]) -> n.Expect:
        name = str(children[0])
        return n.Expect("level", None if name == "none" else name, self._span(meta))

    def expect_outcome(self, meta: LarkMeta, children: list[Any]) -> n.Expect:
        name = str(children[0])
        return n.Expect("outcome", None if name == "none" else name, self._span(meta))

    def expect_eligible(self, meta: LarkMeta, children: list[Any]) -> n.Expect:
        return n.Expect("eligible", str(children[0]) == "true", self._span(meta))

    # ---- expressions ------------------------------------------------------------------

    def _fold(self, op: str, meta: LarkMeta, children: list[Any]) -> n.Expr:
        expr: n.Expr = children[0]
        for right in children[1:]:
            expr = n.Binary(op, expr, right, expr.span.to(right.span))
        return expr

    def or_expr(self, meta: LarkMeta, children: list[Any]) -> n.Expr:
        return self._fold("or", meta, children)

    def and_expr(self, meta: LarkMeta, children: list[Any]) -> n.Expr:
        return self._fold("and", meta, children)

    def _arith(self, meta: LarkMeta, children: list[Any]) -> n.Expr:
        expr: n.Expr = children[0]
        for i in range(1, len(children), 2):
            right = children[i + 1]
            expr = n.Binary(_op(children[i]), expr, right, expr.span.to(right.span))
        return expr

    sum = _arith
    product = _arith

    def comparison(self, meta: LarkMeta, children: list[Any]) -> n.Compare:
        operands = tuple(children[0::2])
        ops = tuple(_op(t) for t in children[1::2])
        return n.Compare(operands, ops, self._span(meta))

    def paren(self, meta: LarkMeta, children: list[Any]) -> n.Expr:
        """``(a + b)`` is ``a + b``; its span takes the parentheses in, so that the text of
        a formula such as ``(a + b) / c`` is what was written. A name or number keeps its
        own span: a diagnostic about it points at it, not at the parentheses."""
        expr: n.Expr = children[0]
        if isinstance(expr, (n.Binary, n.Compare, n.Not, n.Neg)):
            return attrs.evolve(expr, span=self._span(meta))
        return expr

    def not_(self, meta: LarkMeta, children: list[Any]) -> n.Not:
        return n.Not(children[0], self._span(meta))

    def neg(self, meta: LarkMeta, children: list[Any]) -> n.Neg:
        return n.Neg(children[0], self._span(meta))

    def number(self, meta: LarkMeta, children: list[Any]) -> n.Number:
        return n.Number(Decimal(str(children[0])), self._tok(children[0]))

    def percent(self, meta: LarkMeta, children: list[Any]) -> n.Percent:
        return n.Percent(Decimal(str(children[0])[:-1]), self._tok(children[0]))

    def bool_(self, meta: LarkMeta, children: list[Any]) -> n.Bool:
        return n.Bool(str(children[0]) == "true", self._tok(children[0]))

    def name(self, meta: LarkMeta, children: list[Any]) -> n.Name:
        return n.Name(str(children[0]), self._tok(children[0]))

    def item_ref(self, meta: LarkMeta, children: list[Any]) -> n.ItemRef:
        return n.ItemRef(children[0].text, self._span(meta))

    def gate_ref(self, meta: LarkMeta, children: list[Any]) -> n.GateRef:
        return n.GateRef(children[0].text, self._span(meta))

    def on_zero(self, meta: LarkMeta, children: list[Any]) -> n.Binary:
        left, right = children
        return n.Binary("else", left, right, left.span.to(right.span))

    def call(self, meta: LarkMeta, children: list[Any]) -> n.Call:
        func, *args = children
        return n.Call(str(func), tuple(a for a in args if a is not None), self._span(meta))

    def weighted(self, meta: LarkMeta, children: list[Any]) -> n.Weighted:
        return n.Weighted(tuple(children), self._span(meta))

    def weight(self, meta: LarkMeta, children: list[Any]) -> n.Weight:
        ref, weight = children
        target: n.Name | n.ItemRef
        if isinstance(ref, _Id):
            target = n.ItemRef(ref.text, ref.span)
        else:
            target = n.Name(str(ref), self._tok(ref))
        return n.Weight(target, weight, self._span(meta))


@attrs.frozen
class _Default:
    value: n.Literal | n.Bool


@attrs.frozen
class _Clause:
    text: str


@attrs.frozen
class _Unit:
    text: str


@attrs.frozen
class _Bounded:
    """A domain with a bound by another input (``0 <= _ <= p1_items``)."""

    numbers: n.OpenCondition | None  # ``>= 0``: the part written with a number
    bound: n.InputBound


_FLIP_LOW = {"<=": ">=", "<": ">", ">=": "<=", ">": "<", "=": "=", "!=": "!="}


def _is_kind(x: object) -> bool:
    return isinstance(x, (n.Formula, n.Lookup))


def _op(token: Token | str) -> str:
    text = str(token)
    return _OPS.get(text, text)


def build(tree: Tree[Token], source: Source) -> n.Scheme:
    return Builder(source).transform(tree)


# Deeply nested files (items in items, parenthesised formulas) are walked recursively.
# Python's default limit of 1000 frames stops at about 900 levels; 20,000 frames take
# about 6,000 levels and stay well inside the C stack. Deeper gets a diagnostic.
RECURSION_LIMIT = 20_000


@contextlib.contextmanager
def deep_nesting() -> Iterator[None]:
    """Run with room for deeply nested files (the limit is restored afterwards)."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


MAX_DEPTH = 3_000  # levels of the parse tree: about 1,500 nested items or 1,000 brackets


def too_deep(source: Source, at: int = 0) -> Diagnostic:
    return error(
        "syntax",
        "this file nests too deeply to read",
        Span(source, at, at),
        f"items and formulas may nest about {MAX_DEPTH // 2} levels deep",
    )


def _deepest(tree: lark.Tree[lark.Token]) -> tuple[int, int]:
    """(depth, offset) of the deepest point of a parse tree, found without recursion."""
    stack: list[tuple[lark.Tree[lark.Token], int]] = [(tree, 1)]
    best = (0, 0)
    while stack:
        node, depth = stack.pop()
        if depth > best[0]:
            best = (depth, getattr(node.meta, "start_pos", 0) or 0)
        stack.extend((c, depth + 1) for c in node.children if isinstance(c, lark.Tree))
    return best


def parse_source(source: Source) -> tuple[n.Scheme | None, list[Diagnostic]]:
    """Text -> AST, or the syntax diagnostic. Never raises for any text."""
    tree, diagnostics = parse(source)
    if tree is None:
        return None, diagnostics
    depth, at = _deepest(tree)
    if depth > MAX_DEPTH:
        return None, [too_deep(source, at)]
    try:
        with deep_nesting():
            return build(tree, source), []
    except RecursionError:
        return None, [too_deep(source)]
    except VisitError as exc:  # Lark wraps what the builder raises
        if isinstance(exc.orig_exc, RecursionError):
            return None, [too_deep(source)]
        raise
