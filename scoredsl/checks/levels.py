"""Levels: thresholds that leave totals unrated, overlap, or cannot be reached.

Levels are listed lowest first; the highest level whose condition holds wins. The analysis
is exact for conditions over `total` alone (comparisons combined with and / or / not);
compound conditions (over inputs too) are evaluated, not analysed.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from scoredsl import nodes as n
from scoredsl.diagnostics import Diagnostic, error
from scoredsl.intervals import Interval, IntervalSet
from scoredsl.semantics import Scope, fmt_number, total_set


def _describe(s: Interval) -> str:
    return s.describe(fmt_number, var="total")


def check_levels(scope: Scope) -> Iterator[Diagnostic]:
    levels = scope.scheme.levels
    if not levels:
        return
    top = scope.max_total
    possible = IntervalSet.of([Interval(Decimal(0), top)])
    sets: list[tuple[n.Level, IntervalSet]] = []
    for level in levels:
        s = total_set(level.condition)
        if s is None:
            return  # compound conditions: nothing exact to say about totals alone
        sets.append((level, s.intersect(possible)))

    for i, (level, s) in enumerate(sets):
        if s.empty:
            yield error(
                "level-unreachable",
                f"level '{level.name}' needs {level.condition.span.text} but totals range "
                f"from 0 to {fmt_number(top)}",
                level.span,
                anchor="levels",
            )
            continue
        higher = IntervalSet.of(p for _, h in sets[i + 1 :] for p in h)
        if s.minus(higher).empty:
            yield error(
                "level-unreachable",
                f"level '{level.name}' never wins: every total it covers also reaches a higher "
                "level (levels are listed lowest first; the highest that holds wins)",
                level.span,
                anchor="levels",
            )
        bounded = s.upper_bound() is not None and s.upper_bound() != top
        for other, t in sets[i + 1 :]:
            both = s.intersect(t)
            if bounded and not both.empty:
                x = both.parts[0].witness()
                yield error(
                    "level-overlap",
                    f"a total of {fmt_number(x)} is both '{level.name}' "
                    f"({level.condition.span.text}) and '{other.name}' "
                    f"({other.condition.span.text})",
                    other.span,
                    f"the scheme reads it as '{other.name}' (the higher level wins)",
                    anchor="levels",
                )

    covered = IntervalSet.of(p for _, s in sets for p in s)
    if covered.empty:
        return
    first = covered.parts[0]
    start = IntervalSet.of([Interval(first.low, top, first.low_closed, True)])
    for gap in start.minus(covered):
        yield error(
            "level-gap",
            f"no level covers {_describe(gap)} (e.g. a total of {fmt_number(gap.witness())})",
            _level_after(sets, gap).span,
            anchor="levels",
        )


def _level_after(sets: list[tuple[n.Level, IntervalSet]], gap: Interval) -> n.Level:
    for level, s in sets:
        if (
            s.parts
            and gap.high is not None
            and s.parts[0].low is not None
            and s.parts[0].low >= gap.high
        ):
            return level
    return sets[-1][0]
