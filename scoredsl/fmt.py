"""Format: AST (+ the comments of its source) -> canonical `.score` text.

The layout is fixed: one statement per line, two spaces per block level, `{` at the end
of the line that opens a block, `}` alone, single spaces around operators, numbers as
written. Only two things are taken from the source: comments (kept beside the statement
they were written next to) and single blank lines between statements. Reading the output
back gives the same AST, and formatting it again changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import attrs

from scoredsl import nodes as n
from scoredsl.builder import deep_nesting, parse_source
from scoredsl.diagnostics import Diagnostic
from scoredsl.printer import bounded_domain, condition, expr, item_key, number, quote, weight
from scoredsl.source import Source

_INDENT = "  "

_MULTILINE_WEIGHTS = 3  # a formula's `weighted { }` with this many terms gets one per line


@attrs.frozen
class _Line:
    depth: int
    text: str
    pos: int  # where in the source the construct starts (the `}` for a closing line)
    kind: str = "stmt"  # stmt | open | close | reopen (`} {`) | comment


@attrs.frozen
class Comment:
    pos: int
    text: str
    own_line: bool  # nothing but whitespace before it on its line


def comments(text: str) -> list[Comment]:
    """Every `#` comment outside a string, in order."""
    found = []
    line_start = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\n":
            line_start = i + 1
        elif ch == '"':
            i += 1
            while i < len(text) and text[i] not in '"\n':
                i += 2 if text[i] == "\\" else 1
        elif ch == "#":
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            own = not text[line_start:i].strip()
            found.append(Comment(i, text[i:end].rstrip(), own))
            i = end
            continue
        i += 1
    return found


class FormatError(Exception):
    """The formatted text would not read back as the same scheme: a bug in the formatter."""


def format_scheme(scheme: n.Scheme, source: Source) -> str:
    """The canonical text of a parsed scheme, with the comments of its source."""
    notes = comments(source.text)
    lines = list(_Printer([c.pos for c in notes]).scheme(scheme))
    return _weave(lines, notes, source.text)


def format_source(source: Source) -> tuple[str | None, list[Diagnostic]]:
    """Canonical text of a file, or None and the syntax diagnostics that prevent it.

    The result is verified before it is returned: it parses back to the same AST with
    the same comments, or `FormatError` is raised and nothing should be written.
    """
    scheme, diagnostics = parse_source(source)
    if scheme is None:
        return None, diagnostics
    with deep_nesting():
        text = format_scheme(scheme, source)
    again, problems = parse_source(Source(source.path, text))
    if again != scheme or problems:
        raise FormatError(f"{source.path}: formatting would change what the file says")
    if [c.text for c in comments(text)] != [c.text for c in comments(source.text)]:
        raise FormatError(f"{source.path}: formatting would lose or reorder a comment")
    return text, []


# ---- comments and blank lines ----------------------------------------------------------


def _weave(lines: list[_Line], notes: list[Comment], text: str) -> str:
    """Put each comment back: own-line comments before the next construct, trailing ones
    at the end of the line of the construct they follow."""
    trailing: dict[int, list[str]] = {}
    leading: list[tuple[int, _Line]] = []  # (index of the line it precedes, comment line)
    floor = 0  # comments stay in source order: none goes before one already placed
    for c in notes:
        if c.own_line:
            at = next((k for k, ln in enumerate(lines) if ln.pos > c.pos), len(lines))
            floor = at = max(at, floor)
            leading.append((at, _Line(_comment_depth(lines, at), c.text, c.pos, "comment")))
        else:
            at = max((k for k, ln in enumerate(lines) if ln.pos <= c.pos), default=0)
            floor = at = max(at, floor)
            if at < len(lines):
                trailing.setdefault(at, []).append(c.text)
            else:
                leading.append((at, _Line(0, c.text, c.pos, "comment")))
    merged: list[_Line] = []
    queue = iter(sorted(leading, key=lambda x: x[0]))
    pending = next(queue, None)
    for k, line in enumerate(lines):
        while pending is not None and pending[0] == k:
            merged.append(pending[1])
            pending = next(queue, None)
        if k in trailing:
            line = attrs.evolve(line, text=f"{line.text}  {'  '.join(trailing[k])}")
        merged.append(line)
    while pending is not None:
        merged.append(pending[1])
        pending = next(queue, None)
    out: list[str] = []
    previous: _Line | None = None
    for line in merged:
        if (
            previous is not None
            and previous.kind not in ("open", "reopen")
            and line.kind not in ("close", "reopen")
            and _blank_before(text, line.pos)
        ):
            out.append("")
        out.append(_INDENT * line.depth + line.text)
        previous = line
    return "\n".join(out) + "\n"


def _comment_depth(lines: list[_Line], at: int) -> int:
    if at >= len(lines):
        return 0
    line = lines[at]
    return line.depth + 1 if line.kind in ("close", "reopen") else line.depth


def _blank_before(text: str, pos: int) -> bool:
    """Whether the source has an empty line just before `pos`."""
    start = pos
    while start > 0 and text[start - 1] in " \t\r\n\f\u3000":
        start -= 1
    return text.count("\n", start, pos) >= 2


# ---- the printer ------------------------------------------------------------------------


class _Printer:
    def __init__(self, comment_positions: list[int]) -> None:
        self._comments = comment_positions

    def _holds_comment(self, start: int, end: int) -> bool:
        return any(start <= pos < end for pos in self._comments)

    def scheme(self, s: n.Scheme) -> Iterator[_Line]:
        extends = f" extends {quote(s.extends)}" if s.extends is not None else ""
        yield _Line(0, f"scheme {s.id} {quote(s.title)}{extends} {{", s.span.start, "open")
        for stmt in s.body:
            yield from self.stmt(stmt, 1)
        yield _Line(0, "}", s.span.end - 1, "close")

    def stmt(self, s: object, d: int) -> Iterator[_Line]:
        method = getattr(self, f"stmt_{type(s).__name__}", None)
        if method is None:
            raise TypeError(f"the formatter has no rule for {type(s).__name__}")
        yield from method(s, d)

    def _block(
        self,
        header: str,
        body: tuple[object, ...],
        d: int,
        start: int,
        end: int,
        braces: bool = False,  # the grammar needs them even around nothing
    ) -> Iterator[_Line]:
        if not body and not self._holds_comment(start, end):
            yield _Line(d, f"{header} {{}}" if braces else header, start)
            return
        yield _Line(d, f"{header} {{", start, "open")
        for stmt in body:
            yield from self.stmt(stmt, d + 1)
        yield _Line(d, "}", end - 1, "close")

    # ---- one method per statement node ------------------------------------------------

    def stmt_Meta(self, m: n.Meta, d: int) -> Iterator[_Line]:
        yield _Line(d, f"{m.key} {quote(m.value)}", m.span.start)

    def stmt_Total(self, t: n.Total, d: int) -> Iterator[_Line]:
        formula = "" if t.formula is None else f" = {expr(t.formula)}"
        yield _Line(d, f"total {number(t.points)}{formula}", t.span.start)

    def stmt_Rounding(self, r: n.Rounding, d: int) -> Iterator[_Line]:
        yield _Line(d, f"rounding {r.places} {r.mode}", r.span.start)

    def stmt_Tiers(self, t: n.Tiers, d: int) -> Iterator[_Line]:
        yield _Line(d, " ".join(["tiers", *map(quote, t.names)]), t.span.start)

    def stmt_English(self, e: n.English, d: int) -> Iterator[_Line]:
        yield _Line(d, f"en {quote(e.label)}", e.span.start)

    def stmt_Note(self, e: n.Note, d: int) -> Iterator[_Line]:
        yield _Line(d, f"note {quote(e.text)}", e.span.start)

    def stmt_Reading(self, r: n.Reading, d: int) -> Iterator[_Line]:
        yield _Line(d, f"reading {quote(r.text)}", r.span.start)

    def stmt_Category(self, e: n.Category, d: int) -> Iterator[_Line]:
        yield _Line(d, f"category {quote(e.name)}", e.span.start)

    def stmt_Accept(self, a: n.Accept, d: int) -> Iterator[_Line]:
        yield _Line(d, f"accept {a.code} {quote(a.reason)}", a.span.start)

    def stmt_Input(self, i: n.Input, d: int) -> Iterator[_Line]:
        parts = [f"input {i.name}: {i.type}"]
        if i.bound is not None:
            parts.append(bounded_domain(i.domain, i.bound))
        elif i.domain is not None:
            parts.append(condition(i.domain))
        if i.label is not None:
            parts.append(quote(i.label))
        if i.clause is not None:
            parts.append(f"clause {item_key(i.clause)}")
        if i.default is not None:
            parts.append(f"default {expr(i.default)}")
        yield _Line(d, " ".join(parts), i.span.start)

    def stmt_Value(self, v: n.Value, d: int) -> Iterator[_Line]:
        head = " ".join(
            [f"value {v.name}"]
            + ([quote(v.label)] if v.label is not None else [])
            + ([f"clause {item_key(v.clause)}"] if v.clause is not None else [])
            + ([f"unit {quote(v.unit)}"] if v.unit is not None else [])
        )
        yield from self._kind(head, v.kind, v.body, d, v.span.start, v.span.end)

    def stmt_Item(self, i: n.Item, d: int) -> Iterator[_Line]:
        keyword = "sheet" if i.sheet else "item"
        head = f"{keyword} {i.id} {quote(i.label)} {number(i.points)}"
        yield from self._kind(head, i.kind, i.body, d, i.span.start, i.span.end)

    def _kind(
        self,
        head: str,
        kind: n.Formula | n.Lookup | None,
        body: tuple[object, ...],
        d: int,
        start: int,
        end: int,
    ) -> Iterator[_Line]:
        if kind is None:
            yield from self._block(head, body, d, start, end)
        elif isinstance(kind, n.Lookup):
            # A band table reads as a table: the arrows line up.
            width = max((len(condition(b.condition)) for b in body if isinstance(b, n.Band)),
                        default=0)  # fmt: skip
            yield _Line(d, f"{head} by {kind.input} {{", start, "open")
            for stmt in body:
                if isinstance(stmt, n.Band):
                    text = f"{condition(stmt.condition):<{width}} -> {number(stmt.result)}"
                    yield _Line(d + 1, text, stmt.span.start)
                else:
                    yield from self.stmt(stmt, d + 1)
            yield _Line(d, "}", end - 1, "close")
        elif isinstance(kind.expr, n.Weighted) and len(kind.expr.terms) >= _MULTILINE_WEIGHTS:
            yield _Line(d, f"{head} = weighted {{", start, "open")
            for term in kind.expr.terms:
                yield _Line(d + 1, weight(term), term.span.start)
            close = kind.expr.span.end - 1
            if body:
                yield _Line(d, "} {", close, "reopen")
                for stmt in body:
                    yield from self.stmt(stmt, d + 1)
                yield _Line(d, "}", end - 1, "close")
            else:
                yield _Line(d, "}", close, "close")
        else:
            yield from self._block(f"{head} = {expr(kind.expr)}", body, d, start, end)

    def stmt_Group(self, g: n.Group, d: int) -> Iterator[_Line]:
        header = f"group {g.name}" + (f" {quote(g.label)}" if g.label is not None else "")
        yield from self._block(header, g.body, d, g.span.start, g.span.end, braces=True)

    def stmt_Members(self, m: n.Members, d: int) -> Iterator[_Line]:
        listed = "  ".join(f"{x.name} {quote(x.label)}" for x in m.members)
        yield _Line(d, f"members {listed}", m.span.start)

    def stmt_Band(self, b: n.Band, d: int) -> Iterator[_Line]:
        yield _Line(d, f"{condition(b.condition)} -> {number(b.result)}", b.span.start)

    def stmt_Veto(self, v: n.Veto, d: int) -> Iterator[_Line]:
        reason = f" {quote(v.reason)}" if v.reason is not None else ""
        yield _Line(d, f"veto when {expr(v.condition)}{reason}", v.span.start)

    def stmt_Gate(self, g: n.Gate, d: int) -> Iterator[_Line]:
        header = f"gate {g.id} {quote(g.label)}"
        yield from self._block(header, g.body, d, g.span.start, g.span.end, braces=True)

    def stmt_Require(self, r: n.Require, d: int) -> Iterator[_Line]:
        text = f" {quote(r.text)}" if r.text is not None else ""
        yield _Line(d, f"require {expr(r.condition)}{text}", r.span.start)

    def stmt_SevereRule(self, s: n.SevereRule, d: int) -> Iterator[_Line]:
        text = f" {quote(s.text)}" if s.text is not None else ""
        yield _Line(d, f"severe depth {s.depth}{text}", s.span.start)

    def stmt_FindingsRule(self, s: n.FindingsRule, d: int) -> Iterator[_Line]:
        text = f" {quote(s.text)}" if s.text is not None else ""
        yield _Line(d, f"findings{text}", s.span.start)

    def stmt_Levels(self, levels: n.Levels, d: int) -> Iterator[_Line]:
        span = levels.span
        yield from self._block("levels", levels.body, d, span.start, span.end, braces=True)

    def stmt_Level(self, lv: n.Level, d: int) -> Iterator[_Line]:
        en = f" en {quote(lv.en)}" if lv.en is not None else ""
        yield _Line(d, f"{lv.name} {quote(lv.label)} when {expr(lv.condition)}{en}", lv.span.start)

    def stmt_Outcomes(self, outcomes: n.Outcomes, d: int) -> Iterator[_Line]:
        span = outcomes.span
        yield from self._block("outcomes", outcomes.body, d, span.start, span.end, braces=True)

    def stmt_Outcome(self, o: n.Outcome, d: int) -> Iterator[_Line]:
        parts = [o.name, quote(o.label)]
        if o.clause is not None:
            parts.append(f"clause {item_key(o.clause)}")
        parts.append("else" if o.condition is None else f"when {expr(o.condition)}")
        if o.en is not None:
            parts.append(f"en {quote(o.en)}")
        yield _Line(d, " ".join(parts), o.span.start)

    def stmt_Example(self, e: n.Example, d: int) -> Iterator[_Line]:
        header = f"example {quote(e.name)}"
        yield from self._block(header, e.body, d, e.span.start, e.span.end, braces=True)

    def stmt_Given(self, g: n.Given, d: int) -> Iterator[_Line]:
        yield _Line(d, f"given {g.name} = {expr(g.value)}", g.span.start)

    def stmt_GivenScore(self, g: n.GivenScore, d: int) -> Iterator[_Line]:
        yield _Line(d, f"score {item_key(g.key)} = {number(g.score)}", g.span.start)

    def stmt_GivenFindings(self, g: n.GivenFindings, d: int) -> Iterator[_Line]:
        text = f"findings {item_key(g.key)} = {g.problems} of {g.samples}"
        yield _Line(d, text, g.span.start)

    def stmt_GivenSevere(self, g: n.GivenSevere, d: int) -> Iterator[_Line]:
        yield _Line(d, f"severe {item_key(g.key)}", g.span.start)

    def stmt_Expect(self, e: n.Expect, d: int) -> Iterator[_Line]:
        if e.what == "total":
            assert isinstance(e.value, Decimal)
            value = number(e.value)
        elif e.what in ("level", "outcome"):
            value = "none" if e.value is None else str(e.value)
        else:
            value = "true" if e.value else "false"
        yield _Line(d, f"expect {e.what} {value}", e.span.start)
