"""Load: a path -> the checked scheme, its plan and every diagnostic.

The front half of the pipeline in one call, each stage once:
parse -> build -> expand groups -> resolve `extends` -> check -> lower -> run the examples on
that plan -> hash. `check` and `compile` share it. It reads files but prints nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

from scoredsl import checks
from scoredsl import nodes as n
from scoredsl.builder import deep_nesting, parse_source, too_deep
from scoredsl.diagnostics import Diagnostic, error
from scoredsl.examples import check_examples
from scoredsl.groups import expand_groups
from scoredsl.lower import lower
from scoredsl.plan import Acknowledged, Plan
from scoredsl.search_path import locate_base
from scoredsl.source import Source


@attrs.frozen
class Loaded:
    """One scheme file after parsing and checking; `scheme` is None if it did not parse,
    `plan` is None if it has errors."""

    source: Source
    scheme: n.Scheme | None
    diagnostics: list[Diagnostic]
    plan: Plan | None = None

    @property
    def ok(self) -> bool:
        return self.scheme is not None and not any(d.is_error for d in self.diagnostics)


def load(
    path: str | Path, _chain: tuple[Path, ...] = (), memo: dict[Path, Loaded] | None = None
) -> Loaded:
    """Load one file. Loads that share a `memo` read each file once (a parent that several
    schemes extend, or that is checked itself too)."""
    key = Path(path).resolve()
    if memo is not None and key in memo:
        return memo[key]
    source = Source.read(path)
    try:
        with deep_nesting():
            loaded = _load(source, Path(path), _chain, memo)
    except RecursionError:
        loaded = Loaded(source, None, [too_deep(source)])
    if memo is not None:
        memo[key] = loaded
    return loaded


def load_text(text: str, path: str | Path) -> Loaded:
    """Like `load`, for text not yet saved (an editor's buffer) that lives at `path`.

    Only an `extends` parent is read from disk, relative to `path`.
    """
    source = Source(str(path), text)
    try:
        with deep_nesting():
            return _load(source, Path(path), ())
    except RecursionError:
        return Loaded(source, None, [too_deep(source)])


def _load(
    source: Source, path: Path, chain: tuple[Path, ...], memo: dict[Path, Loaded] | None = None
) -> Loaded:
    scheme, diagnostics = parse_source(source)
    if scheme is None:
        return Loaded(source, None, diagnostics)
    scheme, expanded = expand_groups(scheme)
    diagnostics += expanded
    if scheme.extends is not None:
        scheme, more = _resolve_extends(scheme, path, chain, memo)
        diagnostics += more
        if any(d.is_error for d in more):
            return Loaded(source, scheme, diagnostics)
    diagnostics += checks.check(scheme)
    if any(d.is_error for d in diagnostics):
        return Loaded(source, scheme, diagnostics)
    plan = lower(scheme)
    if scheme.examples:
        diagnostics += checks.apply_accepts_to(scheme, list(check_examples(scheme, plan)))
        if any(d.is_error for d in diagnostics):
            return Loaded(source, scheme, diagnostics)
    acknowledged = tuple(
        Acknowledged(d.code, d.message, d.acknowledged, d.span.start_position[0])
        for d in diagnostics
        if d.acknowledged is not None
    )
    return Loaded(source, scheme, diagnostics, attrs.evolve(plan, acknowledged=acknowledged))


def compile_path(path: str | Path) -> tuple[Plan | None, list[Diagnostic]]:
    """A scheme file -> its plan, or None and the diagnostics that prevent it."""
    loaded = load(path)
    return loaded.plan, loaded.diagnostics


def _resolve_extends(
    scheme: n.Scheme, path: Path, chain: tuple[Path, ...], memo: dict[Path, Loaded] | None
) -> tuple[n.Scheme, list[Diagnostic]]:
    """The child's statements after the parent's; the child's meta replaces the parent's."""
    assert scheme.extends is not None
    span = scheme.id_span
    base = locate_base(scheme.extends, path, chain)
    if isinstance(base, str):
        return scheme, [error("extends", base, span)]
    parent = load(base, (*chain, path.resolve()), memo)
    if parent.scheme is None or not parent.ok:
        cycle = [d.message for d in parent.diagnostics if d.message.startswith("extends cycle")]
        return scheme, [
            error("extends", f"'{scheme.extends}' has errors: run scoredsl check on it", span)
            if not cycle
            else error("extends", cycle[0], span)
        ]
    own = {m.key for m in scheme.body if isinstance(m, n.SETTINGS)}
    inherited = tuple(
        s
        for s in parent.scheme.body
        if not (isinstance(s, n.SETTINGS) and s.key in own) and not isinstance(s, n.Example)
    )
    return attrs.evolve(scheme, body=inherited + scheme.body), []


def scheme_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files as given, directories searched recursively for ``*.score``, in sorted order."""
    for p in map(Path, paths):
        if p.is_dir():
            yield from sorted(p.rglob("*.score"))
        else:
            yield p
