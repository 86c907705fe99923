"""Bands: every value of the input's domain falls in exactly one band (exact, not sampled)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from decimal import Decimal
from itertools import pairwise

from scoredsl import nodes as n
from scoredsl.diagnostics import Diagnostic, error, warning
from scoredsl.intervals import Interval, IntervalSet
from scoredsl.semantics import Scope, condition_set, fmt_number


def _tables(scope: Scope) -> Iterator[tuple[str, str, n.Input, tuple[n.Band, ...], n.Lookup]]:
    """(owner name, anchor, input, bands, lookup) for every banded item and lookup value."""
    for item, _ in scope.scheme.walk_items():
        if isinstance(item.kind, n.Lookup) and item.kind.input in scope.inputs:
            inp = scope.inputs[item.kind.input]
            yield item.id, f"item:{item.id}", inp, item.bands, item.kind
    for value in scope.scheme.values:
        if isinstance(value.kind, n.Lookup) and value.kind.input in scope.inputs:
            inp = scope.inputs[value.kind.input]
            yield value.name, f"value:{value.name}", inp, value.bands, value.kind


def fmt_value(inp: n.Input, x: Decimal) -> str:
    return fmt_number(x) + ("%" if inp.type == "percent" else "")


def _domain(scope: Scope, inp: n.Input) -> IntervalSet:
    domain = scope.domain(inp)
    return domain.integers() if inp.type == "integer" else domain


def _witness(inp: n.Input, interval: Interval) -> Decimal:
    if inp.type == "integer":
        found = interval.integer_witness()
        if found is not None:
            return found
    return interval.witness()


def _pieces(inp: n.Input, found: IntervalSet) -> list[Interval]:
    return list(found.integers() if inp.type == "integer" else found)


def check_band_coverage(scope: Scope) -> Iterator[Diagnostic]:
    for owner, anchor, inp, bands, lookup in _tables(scope):
        if inp.type == "bool" or not bands:
            continue
        if any(isinstance(b.condition, n.ElseCondition) for b in bands):
            continue
        domain = _domain(scope, inp)
        covered = IntervalSet.of([])
        for band in bands:
            covered = covered.union(condition_set(band.condition))
        show = functools.partial(fmt_value, inp)
        for gap in _pieces(inp, domain.minus(covered)):
            yield error(
                "band-gap",
                f"no band of {owner} covers {gap.describe(show)} (e.g. {show(_witness(inp, gap))})",
                _nearest_band(bands, gap).span if bands else lookup.span,
                f"'{inp.name}' can be anything in " + ", ".join(p.describe(show) for p in domain),
                anchor=anchor,
            )


def _nearest_band(bands: tuple[n.Band, ...], gap: Interval) -> n.Band:
    """The band just after the gap (or the last one): where a missing line would go."""
    for band in bands:
        parts = condition_set(band.condition).parts
        if parts and gap.high is not None and parts[0].low is not None and parts[0].low >= gap.high:
            return band
    return bands[-1]


def check_band_overlap(scope: Scope) -> Iterator[Diagnostic]:
    for owner, anchor, inp, bands, _ in _tables(scope):
        if inp.type == "bool":
            continue
        domain = _domain(scope, inp)
        seen: list[tuple[n.Band, IntervalSet]] = []
        for band in bands:
            if isinstance(band.condition, n.ElseCondition):
                continue
            mine = condition_set(band.condition).intersect(domain)
            for other, theirs in seen:
                both = _pieces(inp, mine.intersect(theirs))
                if both:
                    x = _witness(inp, both[0])
                    line = other.span.start_position[0]
                    yield error(
                        "band-overlap",
                        f"{fmt_value(inp, x)} falls in two bands of {owner}: "
                        f"'{other.condition.span.text}' (line {line}) and "
                        f"'{band.condition.span.text}'",
                        band.condition.span,
                        "make one end of the two bands open (< instead of <=)",
                        anchor=anchor,
                    )
            seen.append((band, mine))


def check_band_monotone(scope: Scope) -> Iterator[Diagnostic]:
    """A better value never gives fewer points: points rise or fall along the input."""
    for owner, anchor, inp, bands, _ in _tables(scope):
        if not anchor.startswith("item:"):
            continue
        ordered = sorted(
            (b for b in bands if not isinstance(b.condition, n.ElseCondition)),
            key=lambda b: _sort_key(condition_set(b.condition)),
        )
        points = [b.result for b in ordered]
        rising = all(a <= b for a, b in pairwise(points))
        falling = all(a >= b for a, b in pairwise(points))
        if len(points) > 2 and not rising and not falling:
            yield warning(
                "band-not-monotone",
                f"the points of {owner} go up and down along '{inp.name}': "
                + ", ".join(fmt_number(p) for p in points),
                ordered[0].span.to(ordered[-1].span),
                "a better value should never give fewer points",
                anchor=anchor,
            )


def _sort_key(s: IntervalSet) -> tuple[int, Decimal]:
    if not s.parts or s.parts[0].low is None:
        return (0, Decimal(0))
    return (1, s.parts[0].low)
