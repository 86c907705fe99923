"""Load: a path -> the checked scheme and every diagnostic (parse, build, extends, check).

This is the front half of the pipeline in one call; it reads files but prints nothing.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs
import lark
from lark.exceptions import VisitError

from scoredsl import checks
from scoredsl import nodes as n
from scoredsl.builder import build
from scoredsl.checks.examples import check_examples
from scoredsl.diagnostics import Diagnostic, error
from scoredsl.plan import Acknowledged, Plan, lower, with_hash
from scoredsl.search_path import locate_base
from scoredsl.source import Source, Span
from scoredsl.syntax import parse

_META_KEYS = ("source", "version", "total", "rounding")


@attrs.frozen
class Loaded:
    """One scheme file after parsing and checking; `scheme` is None if it did not parse."""

    source: Source
    scheme: n.Scheme | None
    diagnostics: list[Diagnostic]

    @property
    def ok(self) -> bool:
        return self.scheme is not None and not any(d.is_error for d in self.diagnostics)


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


def _too_deep(source: Source, at: int = 0) -> Diagnostic:
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
        return None, [_too_deep(source, at)]
    try:
        with deep_nesting():
            return build(tree, source), []
    except RecursionError:
        return None, [_too_deep(source)]
    except VisitError as exc:  # Lark wraps what the builder raises
        if isinstance(exc.orig_exc, RecursionError):
            return None, [_too_deep(source)]
        raise


def load(path: str | Path, _chain: tuple[Path, ...] = ()) -> Loaded:
    source = Source.read(path)
    try:
        with deep_nesting():
            return _load(source, Path(path), _chain)
    except RecursionError:
        return Loaded(source, None, [_too_deep(source)])


def _load(source: Source, path: Path, chain: tuple[Path, ...]) -> Loaded:
    scheme, diagnostics = parse_source(source)
    if scheme is None:
        return Loaded(source, None, diagnostics)
    if scheme.extends is not None:
        scheme, more = _resolve_extends(scheme, path, chain)
        diagnostics += more
        if any(d.is_error for d in more):
            return Loaded(source, scheme, diagnostics)
    diagnostics += checks.check(scheme)
    if not any(d.is_error for d in diagnostics) and scheme.examples:
        found = list(check_examples(scheme, lower(scheme)))
        diagnostics += checks.apply_accepts_to(scheme, found)
    return Loaded(source, scheme, diagnostics)


def compile_path(path: str | Path) -> tuple[Plan | None, list[Diagnostic]]:
    """A scheme file -> its plan, or None and the diagnostics that prevent it."""
    loaded = load(path)
    if loaded.scheme is None or not loaded.ok:
        return None, loaded.diagnostics
    acknowledged = tuple(
        Acknowledged(d.code, d.message, d.acknowledged, d.span.start_position[0])
        for d in loaded.diagnostics
        if d.acknowledged is not None
    )
    with deep_nesting():
        plan = attrs.evolve(lower(loaded.scheme), acknowledged=acknowledged)
        return with_hash(plan), loaded.diagnostics


def _resolve_extends(
    scheme: n.Scheme, path: Path, chain: tuple[Path, ...]
) -> tuple[n.Scheme, list[Diagnostic]]:
    """The child's statements after the parent's; the child's meta replaces the parent's."""
    assert scheme.extends is not None
    span = scheme.id_span
    base = locate_base(scheme.extends, path, chain)
    if isinstance(base, str):
        return scheme, [error("extends", base, span)]
    parent = load(base, (*chain, path.resolve()))
    if parent.scheme is None or not parent.ok:
        cycle = [d.message for d in parent.diagnostics if d.message.startswith("extends cycle")]
        return scheme, [
            error("extends", f"'{scheme.extends}' has errors: run scoredsl check on it", span)
            if not cycle
            else error("extends", cycle[0], span)
        ]
    own = {m.key for m in scheme.body if isinstance(m, n.Meta)}
    inherited = tuple(
        s
        for s in parent.scheme.body
        if not (isinstance(s, n.Meta) and s.key in own) and not isinstance(s, n.Example)
    )
    return attrs.evolve(scheme, body=inherited + scheme.body), []


def scheme_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files as given, directories searched recursively for ``*.score``, in sorted order."""
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(p.rglob("*.score"))
        else:
            yield p
