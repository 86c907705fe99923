"""A total that is a formula with its own maximum (`total 180 = ...`), and scoring sheets
that are scored like items but are not part of the total: grammar, formatting, the
`total-max` analysis, lowering and the JSON plan, evaluation (levels and next_level)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from scoredsl import plan as p
from scoredsl.data import DataError, read_assessment
from scoredsl.evaluate import Result, evaluate
from scoredsl.fmt import format_source
from scoredsl.loader import load_text
from scoredsl.plan import Plan
from scoredsl.source import Source

D = Decimal

SCHEME = """\
scheme s "演示" {
  total 180 = item D_1 * 100 / 30 + half + item 1
  input x: number 0 <= _ <= 100 "x"
  value half "一半" = x / 2
  sheet D_1 "打分表" 30 {
    item D_1_1 "行一" 20
    item D_1_2 "行二" 10
  }
  item 1 "一" 30
  levels {
    pass "合格" when total >= 60
    good "良好" when total >= 150
  }
}
"""


def load(text: str) -> tuple[Plan | None, list[tuple[str, str]]]:
    loaded = load_text(text, "s.score")
    return loaded.plan, [(d.code, d.message) for d in loaded.diagnostics]


@pytest.fixture(scope="module")
def plan() -> Plan:
    compiled, found = load(SCHEME)
    assert (compiled is not None, found) == (True, [])
    assert compiled is not None
    return compiled


def run(plan: Plan, **scores: Any) -> Result:
    data = {"inputs": {"x": scores.pop("x", 40)}, "scores": scores}
    return evaluate(plan, read_assessment(plan, data))


def test_the_plan_has_the_formula_and_marks_the_sheet(plan: Plan) -> None:
    assert (plan.total, plan.total_text) == (180, "item D_1 * 100 / 30 + half + item 1")
    assert isinstance(plan.total_formula, p.Arith)
    assert [(i.id, i.sheet) for i in plan.items] == [
        ("D_1", True),
        ("D_1_1", False),
        ("D_1_2", False),
        ("1", False),
    ]
    assert [i.id for i in plan.top_items] == ["D_1", "1"]
    assert plan.summed_items == ()  # the formula decides, not a sum
    assert [i.name for i in plan.inputs if i.required] == ["x"]  # the total reads it


def test_the_json_plan_round_trips(plan: Plan) -> None:
    again = Plan.from_json(plan.to_json())
    assert again == plan and again.hash == plan.hash
    assert again.total_formula == plan.total_formula
    assert again.item("D_1").sheet is True
    assert run(again, D_1_1=15, D_1_2=10, **{"1": 20}).total == D("123.333333333333")


def test_the_total_is_the_formula_and_levels_read_it(plan: Plan) -> None:
    r = run(plan, D_1_1=15, D_1_2=10, **{"1": 20})
    # 25 x 100 / 30 = 83.333333333333 (12 places), + 40 / 2 + 20
    assert (r.total, r.level, r.next_level) == (D("123.333333333333"), "pass",
                                                ("good", D("26.666666666667")))  # fmt: skip
    assert r.to_dict()["max"] == 180
    assert [(i.id, i.score) for i in r.items] == [
        ("D_1", D(25)), ("D_1_1", D(15)), ("D_1_2", D(10)), ("1", D(20)),
    ]  # fmt: skip
    top = run(plan, x=100, D_1_1=20, D_1_2=10, **{"1": 30})
    assert (top.total, top.level, top.next_level) == (D(180), "good", None)


def test_a_sheet_row_is_data_like_any_item(plan: Plan) -> None:
    with pytest.raises(DataError, match="D_1_1"):
        run(plan, D_1_1=21, D_1_2=10, **{"1": 20})  # above the row's 20
    with pytest.raises(DataError, match="D_1_2"):
        run(plan, D_1_1=20, **{"1": 20})


def test_a_summed_total_leaves_sheets_out() -> None:
    text = SCHEME.replace("total 180 = item D_1 * 100 / 30 + half + item 1", "total 30")
    text = text.replace("  levels {", '  value converted "换算" = item D_1 * 100 / 30\n  levels {')
    text = text.replace("total >= 60", "total >= 18").replace("total >= 150", "total >= 27")
    plan, found = load(text)
    assert plan is not None, found
    assert [i.id for i in plan.summed_items] == ["1"]
    r = evaluate(plan, read_assessment(plan, {"scores": {"D_1_1": 15, "D_1_2": 10, "1": 20},
                                              "inputs": {"x": 1}}))  # fmt: skip
    assert (r.total, r.level, r.values["converted"]) == (D(20), "pass", D("83.333333333333"))
    assert r.next_level == ("good", D(7))


def test_formatting_round_trips() -> None:
    messy = SCHEME.replace("total 180 = item D_1 * 100 / 30", "total 180 =   (item D_1 * 100) / 30")
    messy = messy.replace('  sheet D_1 "打分表" 30 {', '  sheet   D_1 "打分表" 30{')
    out, problems = format_source(Source("s.score", messy))
    assert (out, problems) == (SCHEME, [])


@pytest.mark.parametrize(
    ("total", "found"),
    [
        ("total 180 = item D_1 * 100 / 30 + half + item 1", []),
        ("total 200 = item D_1 * 100 / 30 + half + item 1",
         [("total-max", "the total is declared 200 but its formula "
           "'item D_1 * 100 / 30 + half + item 1' reaches at most 180")]),
        ("total 150 = item D_1 * 100 / 30 + max(half, item 1)", []),  # 100 + max(50, 30)
        ("total 30 = item 1 - half + 0 * item D_1", []),  # 30 - 0
        ("total 20 = item 1 - half + 0 * item D_1",
         [("total-max", "the total is declared 20 but its formula "
           "'item 1 - half + 0 * item D_1' reaches at most 30")]),
        ("total 40 = item D_1 + item D_1 / x", []),  # x can be 0: not analysed
        ("total 30 = item D_1", []),
        ("total 1 = x > 2", [("type-mismatch", "expected a number here, but this is a condition"),
                             ("unused-sheet", "sheet D_1 is not part of the total and nothing "
                                              "reads it")]),
        ("total 1 = total", [("unknown-name", "'total' is not an input or value of this scheme"),
                             ("unused-sheet", "sheet D_1 is not part of the total and nothing "
                                              "reads it")]),
    ],
)  # fmt: skip
def test_the_declared_maximum_is_checked(total: str, found: list[tuple[str, str]]) -> None:
    text = SCHEME.replace("total 180 = item D_1 * 100 / 30 + half + item 1", total)
    text = text.replace("total >= 150", "total >= 1").replace("total >= 60", "total >= 0")
    _, diagnostics = load(text)
    assert [d for d in diagnostics if d[0] != "level-unreachable"] == found
