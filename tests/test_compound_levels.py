"""Compound levels: nesting, reachability and witnesses (scoredsl.checks.compound_levels)."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from scoredsl.builder import parse_source
from scoredsl.checks import check
from scoredsl.checks.compound_levels import condition_box, name_domain
from scoredsl.diagnostics import Diagnostic
from scoredsl.semantics import Scope
from scoredsl.source import Source

HEAD = """scheme s "复合等级" {
  total 100
  input rate: percent "接通率"
  input parts: integer >= 1 "部分数"
  input done: integer "完成数"
  input certified: bool "已获证"
  value share "完成率" = done / parts
  item 1 "评分" 100
"""


def diagnostics(levels: str) -> list[Diagnostic]:
    scheme, problems = parse_source(Source("s.score", HEAD + levels + "}\n"))
    assert scheme is not None, problems
    return [d for d in check(scheme) if d.code.startswith("level")]


def found(levels: str) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in diagnostics(levels)]


def test_nested_levels_say_nothing() -> None:
    assert (
        found("""levels {
    a "A" when total >= 60 and rate >= 80%
    b "B" when total >= 75 and rate >= 90% and certified
    c "C" when 90 <= total and rate = 100% and certified and share >= 100%
  }""")
        == []
    )


def test_a_level_without_the_lower_ones_condition_gets_a_witness() -> None:
    assert found("""levels {
    a "A" when total >= 60 and certified
    b "B" when total >= 75 and rate >= 90%
  }""") == [
        (
            "level-not-nested",
            "level 'b' does not imply 'a', the level below it: total = 87.5, rate = 95%, "
            "certified = false meets 'b' but not 'a' (certified = true)",
        )
    ]


def test_integer_witness_and_percent_display() -> None:
    assert found("""levels {
    a "A" when total >= 60 and done >= 3
    b "B" when total >= 60 and done >= 2 and rate > 50%
  }""") == [
        (
            "level-not-nested",
            "level 'b' does not imply 'a', the level below it: total = 80, done = 2, "
            "rate = 75% meets 'b' but not 'a' (done >= 3)",
        )
    ]


def test_a_condition_nothing_meets_is_unreachable() -> None:
    assert found("""levels {
    a "A" when total >= 60 and rate > 100%
    b "B" when total >= 80 and done < 0 and certified
  }""") == [
        (
            "level-unreachable",
            "level 'a' can never be reached: no value of 'rate' in 0% <= rate <= 100% "
            "meets rate > 100%",
        ),
        (
            "level-unreachable",
            "level 'b' can never be reached: no value of 'done' in done >= 0 meets done < 0",
        ),
    ]


def test_a_level_that_implies_a_higher_one_never_wins() -> None:
    assert found("""levels {
    a "A" when total >= 90 and rate >= 95%
    b "B" when total >= 80 and rate >= 90%
  }""") == [
        (
            "level-unreachable",
            "level 'a' never wins: whatever meets it also meets the higher level 'b' "
            "(levels are listed lowest first; the highest that holds wins)",
        )
    ]


def test_other_forms_say_nothing() -> None:
    assert (
        found("""levels {
    a "A" when total >= 60 or rate >= 80%
    b "B" when total >= 90
  }""")
        == []
    )
    assert (
        found("""levels {
    a "A" when total >= 60 and done / parts >= 80%
    b "B" when total >= 90
  }""")
        == []
    )


def test_domains() -> None:
    scheme, _ = parse_source(Source("s.score", HEAD + "}\n"))
    assert scheme is not None
    scope = Scope.of(scheme)
    assert str(name_domain("rate", scope).values.parts[0].high) == "1"
    assert name_domain("parts", scope).integer
    assert name_domain("share", scope).values.parts[0].low == Decimal(0)  # done / parts >= 0
    assert name_domain("total", scope).values.parts[0].high == Decimal(100)


THRESHOLDS = st.lists(st.integers(0, 100), min_size=2, max_size=2)


@given(THRESHOLDS, THRESHOLDS)
def test_nesting_matches_a_brute_force_search(low: list[int], high: list[int]) -> None:
    """b fails to imply a exactly when some (total, done) on a grid meets b and fails a
    (unless a never wins); the reported witness really does."""
    levels = f"""levels {{
    a "A" when total >= {low[0]} and done >= {low[1]}
    b "B" when total >= {high[0]} and done >= {high[1]}
  }}"""
    scheme, _ = parse_source(Source("s.score", HEAD + levels + "}\n"))
    assert scheme is not None
    box = condition_box(scheme.levels[1].condition, Scope.of(scheme))
    assert box is not None
    counter = [
        (t, d)
        for t in range(0, 101)
        for d in range(0, 102)
        if t >= high[0] and d >= high[1] and not (t >= low[0] and d >= low[1])
    ]
    nested = [d for d in diagnostics(levels) if d.code == "level-not-nested"]
    unreachable = [d for d in diagnostics(levels) if d.code == "level-unreachable"]
    implies_higher = low[0] >= high[0] and low[1] >= high[1]
    assert bool(unreachable) == implies_higher
    assert bool(nested) == (bool(counter) and not implies_higher)
    for d in nested:
        found = re.search(r"total = ([0-9.]+), done = ([0-9]+) meets", d.message)
        assert found is not None, d.message
        t, n = Decimal(found[1]), int(found[2])
        assert t >= high[0] and n >= high[1] and not (t >= low[0] and n >= low[1])
