"""Exact interval arithmetic over Decimal, with open and closed ends.

Bands, levels and input domains all reduce to `IntervalSet`s; band gaps, overlaps and
level reachability are set operations on them. ``None`` bounds mean -inf / +inf.
For integer domains, `IntervalSet.integers` drops the pieces that hold no whole number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

import attrs


@attrs.frozen(order=False)
class Interval:
    low: Decimal | None
    high: Decimal | None
    low_closed: bool = True
    high_closed: bool = True

    @classmethod
    def point(cls, x: Decimal) -> Interval:
        return cls(x, x, True, True)

    @classmethod
    def from_comparison(cls, op: str, bound: Decimal) -> Interval | None:
        """The values x with ``x OP bound``; None for ``!=`` (not one interval)."""
        return {
            "<": cls(None, bound, False, False),
            "<=": cls(None, bound, False, True),
            ">": cls(bound, None, False, False),
            ">=": cls(bound, None, True, False),
            "=": cls(bound, bound, True, True),
        }.get(op)

    @property
    def empty(self) -> bool:
        if self.low is None or self.high is None:
            return False
        if self.low > self.high:
            return True
        return self.low == self.high and not (self.low_closed and self.high_closed)

    def contains(self, x: Decimal) -> bool:
        if self.low is not None and (x < self.low or (x == self.low and not self.low_closed)):
            return False
        return not (
            self.high is not None and (x > self.high or (x == self.high and not self.high_closed))
        )

    def intersect(self, other: Interval) -> Interval:
        low, low_closed = _max_low(self, other)
        high, high_closed = _min_high(self, other)
        return Interval(low, high, low_closed, high_closed)

    def witness(self) -> Decimal:
        """A value inside this (non-empty) interval, as round as possible."""
        assert not self.empty
        if self.low is None and self.high is None:
            return Decimal(0)
        if self.low is None:
            assert self.high is not None
            return self.high if self.high_closed else self.high - 1
        if self.high is None:
            return self.low if self.low_closed else self.low + 1
        if self.low == self.high:
            return self.low
        return (self.low + self.high) / 2

    def integer_witness(self) -> Decimal | None:
        """A whole number inside, or None when there is none."""
        low = self.low
        if low is None:
            start = (self.high if self.high is not None else Decimal(0)) - 1
        else:
            start = Decimal(math.ceil(low))
            if start == low and not self.low_closed:
                start += 1
        candidate = Decimal(int(start))
        return candidate if self.contains(candidate) else None

    def describe(self, fmt: Callable[[Decimal], str], var: str = "x") -> str:
        """As a standards editor writes it: ``90% <= x < 95%``, ``x >= 98%``, ``x = 100%``;
        `var` names the value (``total >= 700``)."""
        if self.low is not None and self.low == self.high:
            return f"{var} = {fmt(self.low)}"
        lo = "<=" if self.low_closed else "<"
        hi = "<=" if self.high_closed else "<"
        if self.low is None and self.high is None:
            return f"any {var}"
        if self.low is None:
            assert self.high is not None
            return f"{var} {hi} {fmt(self.high)}"
        if self.high is None:
            return f"{var} {'>=' if self.low_closed else '>'} {fmt(self.low)}"
        return f"{fmt(self.low)} {lo} {var} {hi} {fmt(self.high)}"


@attrs.frozen
class IntervalSet:
    """A union of disjoint, sorted, non-empty intervals."""

    parts: tuple[Interval, ...] = ()

    @classmethod
    def of(cls, intervals: Iterable[Interval]) -> IntervalSet:
        return cls(_normalise([i for i in intervals if not i.empty]))

    @classmethod
    def everything(cls) -> IntervalSet:
        return cls((Interval(None, None, False, False),))

    @property
    def empty(self) -> bool:
        return not self.parts

    def __iter__(self) -> Iterator[Interval]:
        return iter(self.parts)

    def union(self, other: IntervalSet) -> IntervalSet:
        return IntervalSet.of(self.parts + other.parts)

    def intersect(self, other: IntervalSet) -> IntervalSet:
        return IntervalSet.of(a.intersect(b) for a in self.parts for b in other.parts)

    def minus(self, other: IntervalSet) -> IntervalSet:
        result = self
        for cut in other.parts:
            result = IntervalSet.of(piece for part in result.parts for piece in _cut(part, cut))
        return result

    def contains(self, x: Decimal) -> bool:
        return any(p.contains(x) for p in self.parts)

    def integers(self) -> IntervalSet:
        """Only the pieces that hold at least one whole number."""
        return IntervalSet(tuple(p for p in self.parts if p.integer_witness() is not None))

    def upper_bound(self) -> Decimal | None:
        return self.parts[-1].high if self.parts else None


def _max_low(a: Interval, b: Interval) -> tuple[Decimal | None, bool]:
    if a.low is None:
        return b.low, b.low_closed
    if b.low is None or a.low > b.low:
        return a.low, a.low_closed
    if b.low > a.low:
        return b.low, b.low_closed
    return a.low, a.low_closed and b.low_closed


def _min_high(a: Interval, b: Interval) -> tuple[Decimal | None, bool]:
    if a.high is None:
        return b.high, b.high_closed
    if b.high is None or a.high < b.high:
        return a.high, a.high_closed
    if b.high < a.high:
        return b.high, b.high_closed
    return a.high, a.high_closed and b.high_closed


def _cut(part: Interval, cut: Interval) -> Iterator[Interval]:
    """`part` minus `cut`: up to two pieces."""
    if cut.low is not None:
        yield part.intersect(Interval(None, cut.low, False, not cut.low_closed))
    if cut.high is not None:
        yield part.intersect(Interval(cut.high, None, not cut.high_closed, False))


def _low_key(i: Interval) -> tuple[int, Decimal, int]:
    if i.low is None:
        return (0, Decimal(0), 0)
    return (1, i.low, 0 if i.low_closed else 1)


def _touches(a: Interval, b: Interval) -> bool:
    """b starts no later than just after a ends (a sorted before b)."""
    if a.high is None or b.low is None:
        return True
    if b.low < a.high:
        return True
    return b.low == a.high and (a.high_closed or b.low_closed)


def _normalise(intervals: list[Interval]) -> tuple[Interval, ...]:
    out: list[Interval] = []
    for cur in sorted(intervals, key=_low_key):
        if out and _touches(out[-1], cur):
            prev = out[-1]
            if prev.high is None:
                continue
            if cur.high is None or cur.high > prev.high:
                out[-1] = Interval(prev.low, cur.high, prev.low_closed, cur.high_closed)
            elif cur.high == prev.high:
                out[-1] = Interval(
                    prev.low, prev.high, prev.low_closed, prev.high_closed or cur.high_closed
                )
        else:
            out.append(cur)
    return tuple(out)
