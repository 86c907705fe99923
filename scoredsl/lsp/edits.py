"""Edits: a diagnostic -> the text changes that fix or acknowledge it (code actions).

An `accept CODE "reason"` acknowledges a diagnostic only inside the construct the
diagnostic is anchored to (see `checks._accepts`): the scheme for `scheme` and `input:`
anchors, the item, value or gate block, or the `levels` block. `acknowledge` writes it
there, opening a `{ }` block when the item or value has none.
"""

from __future__ import annotations

import re

import attrs

from scoredsl import nodes as n
from scoredsl import printer as fmt
from scoredsl.diagnostics import Diagnostic
from scoredsl.semantics import Scope
from scoredsl.source import Source, Span

_INDENT = "  "
REASON = "TODO: say why this is accepted (the erratum, the clause, who decided)"


@attrs.frozen
class Edit:
    """Replace `start:end` of the document's text with `text`."""

    start: int
    end: int
    text: str


@attrs.frozen
class Fix:
    title: str
    edit: Edit


def _indent_of(source: Source, offset: int) -> str:
    line = source.position(offset)[0]
    text = source.line_text(line)
    return text[: len(text) - len(text.lstrip(" \t"))]


def _into_block(block: Span, statement: str) -> Edit:
    """Add a statement as the last one of a `{ ... }` block ending at `block.end`."""
    source = block.source
    close = block.end - 1
    indent = _indent_of(source, block.start)
    line_start = source.text.rfind("\n", 0, close) + 1
    if not source.text[line_start:close].strip():  # `}` alone on its line
        return Edit(line_start, line_start, f"{indent}{_INDENT}{statement}\n")
    return Edit(close, close, f"\n{indent}{_INDENT}{statement}\n{indent}")


def _new_block(owner: Span, at: int, statement: str) -> Edit:
    """Open a block after a construct that has none (a judged item, a formula)."""
    indent = _indent_of(owner.source, owner.start)
    return Edit(at, at, f" {{\n{indent}{_INDENT}{statement}\n{indent}}}")


def _has_block(owner: Span, after: int) -> bool:
    """Whether a `{ }` block follows offset `after` inside the owner's span."""
    return "{" in owner.source.text[after : owner.end]


def _owner_edit(owner: n.Item | n.Value, statement: str) -> Edit:
    match owner.kind:
        case n.Lookup():
            return _into_block(owner.span, statement)
        case n.Formula(expr):
            after = expr.span.end
        case _:
            after = owner.points_span.end if isinstance(owner, n.Item) else owner.span.end
    if _has_block(owner.span, after):
        return _into_block(owner.span, statement)
    return _new_block(owner.span, owner.span.end, statement)


def _anchored(scope: Scope, anchor: str) -> n.Scheme | n.Item | n.Value | n.Gate | n.Levels | None:
    """The construct whose `accept`s cover a diagnostic with this anchor."""
    kind, _, key = anchor.partition(":")
    scheme = scope.scheme
    if anchor == "scheme" or kind == "input":
        return scheme
    if kind == "item":
        return scope.items.get(key)
    if kind == "value":
        return scope.values.get(key)
    if kind == "gate":
        return next((g for g in scheme.gates if g.id == key), None)
    if anchor == "levels":
        return next((s for s in reversed(scheme.body) if isinstance(s, n.Levels)), None)
    return None


def acknowledge(scope: Scope, diagnostic: Diagnostic, reason: str = REASON) -> Edit | None:
    """The edit that adds an `accept` for this diagnostic where it will count, if any.

    None when the diagnostic has no anchor (a syntax error) or belongs to a construct an
    extends parent declares: that file is not the one being edited.
    """
    node = _anchored(scope, diagnostic.anchor)
    if node is None or node.span.source is not scope.scheme.span.source:
        return None
    statement = f"accept {diagnostic.code} {fmt.quote(reason)}"
    if isinstance(node, n.Item | n.Value):
        return _owner_edit(node, statement)
    return _into_block(node.span, statement)


_SUGGESTIONS = re.compile(r"'([^']+)'")
_WRONG = re.compile(r"'([^']+)'|there is no item (\S+)")


def did_you_mean(diagnostic: Diagnostic) -> list[Fix]:
    """For an `unknown-name`: replace the name with each suggestion its hints make."""
    if diagnostic.code != "unknown-name":
        return []
    wrong = _WRONG.search(diagnostic.message)
    if wrong is None:
        return []
    name = wrong.group(1) or wrong.group(2)
    span = diagnostic.span
    found = re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w.])").search(
        span.source.text, span.start, span.end
    )
    if found is None:
        return []
    fixes = []
    for hint in diagnostic.hints:
        if hint.startswith("did you mean "):
            for suggestion in _SUGGESTIONS.findall(hint):
                edit = Edit(found.start(), found.end(), suggestion)
                fixes.append(Fix(f"change '{name}' to '{suggestion}'", edit))
    return fixes
