"""Bounds by another input: ``input done: integer 0 <= _ <= items`` (checked, kept by the
formatter, carried by the plan, enforced by the data reader with both names)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoredsl import plan as p
from scoredsl.builder import parse_source
from scoredsl.checks import check
from scoredsl.data import DataError, read_assessment
from scoredsl.fmt import format_source
from scoredsl.loader import compile_path
from scoredsl.lower import lower
from scoredsl.source import Source
from tests.conftest import STANDARDS

SCHEME = """scheme s "t" {
  total 0
  input items: integer >= 1 "条目数"
  input done: integer 0 <= _ <= items "完成数"
  input failed: integer < items "未完成数"
  value share = done / items + failed
}
"""


@pytest.fixture
def plan(tmp_path: Path) -> p.Plan:
    path = tmp_path / "s.score"
    path.write_text(SCHEME, encoding="utf-8")
    compiled, diagnostics = compile_path(path)
    assert compiled is not None, diagnostics
    return compiled


def test_the_plan_carries_the_bound(plan: p.Plan) -> None:
    assert plan.input("done").bound == p.Bound(p.CmpOp.LE, "items")
    assert plan.input("failed").bound == p.Bound(p.CmpOp.LT, "items")
    assert plan.input("items").bound is None
    assert plan.input("done").domain_text() == ["x >= 0", "x <= items"]
    assert p.Plan.from_json(plan.to_json()) == plan


def problems(plan: p.Plan, inputs: dict[str, Any]) -> list[tuple[str, tuple[str, ...], str]]:
    try:
        read_assessment(plan, {"inputs": inputs})
    except DataError as exc:
        return [(x.code, x.where, x.message) for x in exc.problems]
    return []


def test_the_reader_names_both_inputs(plan: p.Plan) -> None:
    assert problems(plan, {"items": 10, "done": 11, "failed": 10}) == [
        (
            "out-of-range",
            ("inputs", "done"),
            "input 'done' is 11, more than input 'items' (10): its domain is x >= 0, x <= items",
        ),
        (
            "out-of-range",
            ("inputs", "failed"),
            "input 'failed' is 10, not less than input 'items' (10): its domain is x >= 0, "
            "x < items",
        ),
    ]
    assert problems(plan, {"items": 10, "done": 10, "failed": 9}) == []
    # the bound is checked only when both are given (these inputs are optional)
    assert problems(plan, {"done": 11, "failed": 0}) == []


@given(st.integers(0, 50), st.integers(1, 50))
def test_accepted_exactly_when_within_the_bound(done: int, items: int) -> None:
    scheme, _ = parse_source(Source("s.score", SCHEME))
    assert scheme is not None
    compiled = lower(scheme)
    found = problems(compiled, {"items": items, "done": done, "failed": 0})
    assert (found == []) == (done <= items)


def test_formatting_keeps_the_bound() -> None:
    messy = SCHEME.replace("0 <= _ <= items", "0<=_<=items").replace("< items", "_ < items")
    out, found = format_source(Source("x.score", messy))
    assert found == []
    assert out == SCHEME


@pytest.mark.parametrize(
    ("domain", "code", "message"),
    [
        ("<= itmes", "unknown-name", "'itmes' bounds input 'done' but is not an input of "
         "this scheme"),
        ("<= share", "unknown-name", "'share' bounds input 'done' but is a value"),
        (">= items", "type-mismatch", "input 'done' may be bounded by another input from "
         "above only (< or <=), not '>='"),
        ("<= rate", "type-mismatch", "'done' is a plain number but 'rate' is a percentage"),
        ("<= flag", "type-mismatch", "'done' (integer) cannot be bounded by 'flag' (bool): "
         "both must be numbers"),
        ("<= done", "type-mismatch", "input 'done' is bounded by itself"),
    ],
)  # fmt: skip
def test_a_bound_must_be_a_numeric_input_of_the_same_kind(
    domain: str, code: str, message: str
) -> None:
    text = SCHEME.replace("0 <= _ <= items", domain).replace(
        "  input failed", '  input rate: percent "r"\n  input flag: bool "f"\n  input failed'
    )
    text = text.replace("+ failed", "+ failed + rate + items * 0\n  value f = flag")
    scheme, found = parse_source(Source("s.score", text))
    assert scheme is not None, found
    diagnostics = [d for d in check(scheme) if d.code not in ("unused-input", "type-mismatch")
                   or "bound" in d.message or "percentage" in d.message]  # fmt: skip
    assert [(d.code, d.message) for d in diagnostics] == [(code, message)]


def test_cc_cmm_counts_cannot_exceed_a_parts_items() -> None:
    """Issue 14: 11 of 10 in one part hid a shortfall in another and gave L4."""
    plan, _ = compile_path(STANDARDS / "cc-cmm-star-rating.score")
    assert plan is not None
    bounded = {i.name: i.bound.input for i in plan.inputs if i.bound is not None}
    assert bounded == {
        f"p{k}_{what}": f"p{k}_items"
        for k in range(1, 6)
        for what in ("method_compliant", "executed")
    }
    inputs = {
        f"p{k}_{w}": 10 for k in range(1, 6) for w in ("items", "method_compliant", "executed")
    }
    inputs |= {
        "p1_method_compliant": 11,
        "p2_method_compliant": 9,
        "total_score": 3300,
        "headcount": 5,
    }
    assert problems(plan, inputs) == [
        (
            "out-of-range",
            ("inputs", "p1_method_compliant"),
            "input 'p1_method_compliant' is 11, more than input 'p1_items' (10): "
            "its domain is x >= 0, x <= p1_items",
        )
    ]


def test_t_ccua_numerators_cannot_exceed_their_denominators() -> None:
    plan, _ = compile_path(STANDARDS / "t-ccua-operation-capability.score")
    assert plan is not None
    bounds = {i.name: i.bound.input for i in plan.inputs if i.bound is not None}
    assert len(bounds) == 55
    assert bounds["questions_unrecognised"] == "questions_total"
    assert bounds["complaints_closed_on_time"] == "complaints_total"
    assert "forecast_staff_demand" not in bounds  # a forecast may exceed the actual demand
    found = problems(plan, {"complaints_closed_on_time": 7, "complaints_total": 5})
    assert (
        "out-of-range",
        ("inputs", "complaints_closed_on_time"),
        "input 'complaints_closed_on_time' is 7, more than input 'complaints_total' (5): "
        "its domain is x >= 0, x <= complaints_total",
    ) in found
