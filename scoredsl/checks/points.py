"""Points: children add up to their parent, top-level items to the total, bands stay within."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from scoredsl import nodes as n
from scoredsl.diagnostics import Diagnostic, error
from scoredsl.semantics import Scope, fmt_number, sum_terms


def _sum_text(items: tuple[n.Item, ...]) -> str:
    total = sum((i.points for i in items), Decimal(0))
    parts = sum_terms([fmt_number(i.points) for i in items])
    return f"{fmt_number(total)} ({parts})" if len(items) > 1 else fmt_number(total)


def check_points_sum(scope: Scope) -> Iterator[Diagnostic]:
    for item, _ in scope.scheme.walk_items():
        children = item.children
        if not children:
            continue
        total = sum((c.points for c in children), Decimal(0))
        if total != item.points:
            yield error(
                "points-sum",
                f"{item.id} is worth {fmt_number(item.points)} but its items add up to "
                f"{_sum_text(children)}",
                item.points_span,
                "change the parent's points or one of its items so that they agree",
                anchor=f"item:{item.id}",
            )


def check_total_sum(scope: Scope) -> Iterator[Diagnostic]:
    stmt = scope.scheme.total
    items = tuple(i for i in scope.scheme.items if not i.sheet)  # sheets are not in it
    if stmt is None or stmt.formula is not None or not items:
        return
    declared = stmt.points
    total = sum((i.points for i in items), Decimal(0))
    if total != declared:
        yield error(
            "total-sum",
            f"the scheme's total is {fmt_number(declared)} but its top-level items add up to "
            f"{_sum_text(items)}",
            stmt.span,
            anchor="scheme",
        )


def check_item_shape(scope: Scope) -> Iterator[Diagnostic]:
    """An item is judged, banded, computed or a parent: not two of these at once."""
    for item, _ in scope.scheme.walk_items():
        if item.children and item.kind is not None:
            how = "bands" if isinstance(item.kind, n.Lookup) else "a formula"
            yield error(
                "type-mismatch",
                f"{item.id} has both sub-items and {how}: its points come from its sub-items",
                item.kind.span,
                anchor=f"item:{item.id}",
            )
        if isinstance(item.kind, n.Lookup) and not item.bands:
            yield error(
                "band-gap",
                f"{item.id} is scored by '{item.kind.input}' but has no bands",
                item.kind.span,
                anchor=f"item:{item.id}",
            )


def check_band_exceeds_max(scope: Scope) -> Iterator[Diagnostic]:
    for item, _ in scope.scheme.walk_items():
        if not isinstance(item.kind, n.Lookup):
            continue
        for band in item.bands:
            if band.result > item.points or band.result < 0:
                yield error(
                    "band-exceeds-max",
                    f"this band awards {fmt_number(band.result)} but {item.id} is worth "
                    f"{fmt_number(item.points)}",
                    band.result_span,
                    f"a band awards between 0 and {fmt_number(item.points)}",
                    anchor=f"item:{item.id}",
                )
