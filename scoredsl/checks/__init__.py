"""Check: AST -> diagnostics. One small function per check, listed in `CHECKS`.

`check(scheme)` runs them all (one mistake never hides another), then applies the
scheme's `accept` statements: an accepted diagnostic becomes an acknowledged note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from scoredsl import nodes as n
from scoredsl.checks.bands import check_band_coverage, check_band_monotone, check_band_overlap
from scoredsl.checks.bounds import check_input_bounds
from scoredsl.checks.compound_levels import check_compound_levels
from scoredsl.checks.levels import check_levels
from scoredsl.checks.names import (
    check_cycles,
    check_duplicate_ids,
    check_unknown_names,
    check_unused_inputs,
)
from scoredsl.checks.outcomes import check_outcomes_reachable, check_zero_denominators
from scoredsl.checks.points import (
    check_band_exceeds_max,
    check_item_shape,
    check_points_sum,
    check_total_sum,
)
from scoredsl.checks.readings import check_readings
from scoredsl.checks.total import check_total_max, check_unused_sheets
from scoredsl.checks.types import check_types
from scoredsl.checks.weights import check_weights_sum
from scoredsl.diagnostics import Diagnostic, warning
from scoredsl.groups import expand_groups
from scoredsl.semantics import Scope

Check = Callable[[Scope], Iterable[Diagnostic]]

CHECKS: tuple[Check, ...] = (
    check_duplicate_ids,
    check_unknown_names,
    check_cycles,
    check_types,
    check_input_bounds,
    check_item_shape,
    check_points_sum,
    check_total_sum,
    check_total_max,
    check_unused_sheets,
    check_band_exceeds_max,
    check_band_coverage,
    check_band_overlap,
    check_band_monotone,
    check_levels,
    check_compound_levels,
    check_weights_sum,
    check_unused_inputs,
    check_readings,
    check_outcomes_reachable,
    check_zero_denominators,
)


def check(scheme: n.Scheme, extra: Iterable[Check] = ()) -> list[Diagnostic]:
    scheme, found = expand_groups(scheme)  # nothing to do when the loader has done it
    scope = Scope.of(scheme)
    found += [d for c in (*CHECKS, *extra) for d in c(scope)]
    return sorted(apply_accepts(scheme, found), key=Diagnostic.sort_key)


def apply_accepts_to(scheme: n.Scheme, found: list[Diagnostic]) -> list[Diagnostic]:
    """Accepts for diagnostics found after the main checks (examples); no unused warnings."""
    out = []
    for d in found:
        for accept, anchors in _accepts(scheme):
            if accept.code == d.code and _covers(anchors, d.anchor):
                d = d.acknowledge(accept.reason)
                break
        out.append(d)
    return out


def _accepts(scheme: n.Scheme) -> Iterator[tuple[n.Accept, tuple[str, ...]]]:
    """Each accept with the anchors it covers."""
    for stmt in scheme.body:
        match stmt:
            case n.Accept():
                yield stmt, ("scheme", "input:")
            case n.Value(name=name, body=body):
                yield from ((a, (f"value:{name}",)) for a in body if isinstance(a, n.Accept))
            case n.Gate(id=gid, body=body):
                yield from ((a, (f"gate:{gid}",)) for a in body if isinstance(a, n.Accept))
            case n.Levels(body=body):
                yield from ((a, ("levels",)) for a in body if isinstance(a, n.Accept))
            case n.Outcomes(body=body):
                yield from ((a, ("outcomes",)) for a in body if isinstance(a, n.Accept))
    for item, _ in scheme.walk_items():
        yield from ((a, (f"item:{item.id}",)) for a in item.body if isinstance(a, n.Accept))


def _covers(anchors: tuple[str, ...], anchor: str) -> bool:
    return any(anchor == a or (a.endswith(":") and anchor.startswith(a)) for a in anchors)


def apply_accepts(scheme: n.Scheme, found: list[Diagnostic]) -> Iterator[Diagnostic]:
    accepts = list(_accepts(scheme))
    used: set[int] = set()
    for d in found:
        for i, (accept, anchors) in enumerate(accepts):
            if accept.code == d.code and _covers(anchors, d.anchor):
                used.add(i)
                d = d.acknowledge(accept.reason)
                break
        yield d
    for i, (accept, _) in enumerate(accepts):
        if i not in used:
            yield warning(
                "unused-accept",
                f"nothing here reports '{accept.code}': this accept acknowledges nothing",
                accept.span,
                "remove it, or move it into the item, value, gate or levels block the "
                "diagnostic belongs to",
            )
