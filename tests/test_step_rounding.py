"""round_to / ceil_to / floor_to: rounding to a multiple of a step, exactly; values with a
unit (`unit "%"` shows 0.975 as 97.5%)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoredsl import plan as p
from scoredsl.builder import parse_source
from scoredsl.checks import check
from scoredsl.data import read_assessment
from scoredsl.evaluate import EvaluationError, evaluate, to_step
from scoredsl.fmt import format_source
from scoredsl.loader import compile_path
from scoredsl.render.documents import report_document, scheme_document
from scoredsl.source import Source

D = Decimal


@pytest.mark.parametrize(
    ("x", "step", "ceil", "floor", "nearest"),
    [
        ("2.1", "0.5", "2.5", "2", "2"),
        ("2.25", "0.5", "2.5", "2", "2.5"),  # halves go up
        ("2.5", "0.5", "2.5", "2.5", "2.5"),
        ("1.166666666667", "0.5", "1.5", "1", "1"),
        ("-2.1", "0.5", "-2", "-2.5", "-2"),
        ("-2.25", "0.5", "-2", "-2.5", "-2"),  # halves go up, toward +inf
        ("7", "3", "9", "6", "6"),
        ("0", "0.25", "0", "0", "0"),
    ],
)
def test_to_step(x: str, step: str, ceil: str, floor: str, nearest: str) -> None:
    assert to_step(p.Func.CEIL_TO, D(x), D(step)) == D(ceil)
    assert to_step(p.Func.FLOOR_TO, D(x), D(step)) == D(floor)
    assert to_step(p.Func.ROUND_TO, D(x), D(step)) == D(nearest)


def test_a_step_of_zero_is_an_evaluation_error() -> None:
    with pytest.raises(EvaluationError, match=r"ceil_to\(\) needs a step above 0, not 0"):
        to_step(p.Func.CEIL_TO, D(1), D(0))


DECIMALS = st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False)
STEPS = st.decimals(min_value=D("0.001"), max_value=100, places=3, allow_nan=False)


@given(DECIMALS, STEPS)
def test_the_multiples_bracket_x(x: Decimal, step: Decimal) -> None:
    up, down = to_step(p.Func.CEIL_TO, x, step), to_step(p.Func.FLOOR_TO, x, step)
    nearest = to_step(p.Func.ROUND_TO, x, step)
    for r in (up, down, nearest):
        assert (r / step) % 1 == 0  # a multiple of the step
    assert down <= x <= up and up - down in (0, step)
    assert (up == down) == (x == up)
    # the nearest multiple; at exactly half way, the upper one
    assert nearest == (up if up - x <= x - down else down)


def scheme_with(formula: str) -> str:
    return f'scheme s "t" {{\n  total 0\n  input x: number "x"\n  value v = {formula}\n}}\n'


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("ceil_to(x, 0)", "the step of ceil_to() must be a number above 0, not 0"),
        ("round_to(x, x)", "the step of round_to() must be a number above 0, not x"),
        ("floor_to(x, 50%)", "the step of floor_to() must be a number above 0, not 50%"),
        ("ceil_to(x)", "ceil_to() takes 2 argument(s), not 1"),
    ],
)
def test_the_step_must_be_a_positive_number(formula: str, message: str) -> None:
    scheme, _ = parse_source(Source("s.score", scheme_with(formula)))
    assert scheme is not None
    found = [(d.code, d.message) for d in check(scheme) if d.code != "unused-input"]
    assert found == [("type-mismatch", message)]


def test_evaluated_in_a_scheme(tmp_path: Path) -> None:
    path = tmp_path / "s.score"
    path.write_text(scheme_with("ceil_to(x / 3, 0.5)"), encoding="utf-8")
    plan, diagnostics = compile_path(path)
    assert plan is not None, diagnostics
    assert plan.values[0].formula == p.Call(
        p.Func.CEIL_TO,
        (p.Arith(p.ArithOp.DIV, p.InputRef("x"), p.Num(D(3))), p.Num(D("0.5"))),
    )
    assert plan.values[0].text == "ceil_to(x / 3, 0.5)"
    again = p.Plan.from_json(plan.to_json())
    assert again == plan
    result = evaluate(plan, read_assessment(plan, {"inputs": {"x": "3.5"}}))
    assert result.values["v"] == D("1.5")


# ---- values with a unit ------------------------------------------------------------------

UNITS = """scheme s "t" {
  total 0
  input a: integer "a"
  input b: integer >= 1 "b"
  value rate "比率" clause "A.1" unit "%" = a / b
  value days "天数" unit "人日" = a / 2
  value plain = a
}
"""


def test_a_value_carries_its_unit_into_the_plan_and_the_reports(tmp_path: Path) -> None:
    path = tmp_path / "s.score"
    path.write_text(UNITS, encoding="utf-8")
    plan, diagnostics = compile_path(path)
    assert plan is not None, diagnostics
    assert [(v.name, v.unit) for v in plan.values] == [
        ("rate", "%"),
        ("days", "人日"),
        ("plain", None),
    ]
    assert p.Plan.from_json(plan.to_json()) == plan
    result = evaluate(plan, read_assessment(plan, {"inputs": {"a": 39, "b": 40}}))
    assert result.values == {"rate": D("0.975"), "days": D("19.5"), "plain": D(39)}
    shown = [v.show(result.values[v.name]) for v in plan.values]
    assert shown == ["97.5%", "19.5 人日", "39"]
    md = report_document(result, "md", date="2026-01-01")
    assert "| `rate` | 97.5% |" in md and "| `days` | 19.5 人日 |" in md
    html = report_document(result, "html", date="2026-01-01")
    assert '<td class="num">97.5%</td>' in html
    assert "| `rate` | 比率 (%) |" in scheme_document(plan, "md")


def test_unit_survives_formatting() -> None:
    messy = UNITS.replace('unit "%" =', 'unit   "%"   =')
    out, problems = format_source(Source("x.score", messy))
    assert problems == []
    assert out == UNITS
