"""Constructs beyond 249: weighted sums, lookups, values, rounding, examples, extends, cycles."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from scoredsl.data import read_assessment
from scoredsl.evaluate import EvaluationError, Result, evaluate
from scoredsl.loader import load
from scoredsl.lower import lower


def write(tmp_path: Path, text: str, name: str = "s.score") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def codes(path: Path) -> list[tuple[str, str, int, bool]]:
    return [
        (d.code, d.message, d.span.start_position[0], d.acknowledged is not None)
        for d in load(path).diagnostics
    ]


def run(path: Path, data: dict[str, Any]) -> Result:
    loaded = load(path)
    assert loaded.scheme is not None and loaded.ok, loaded.diagnostics
    plan = lower(loaded.scheme)
    return evaluate(plan, read_assessment(plan, data))


WEIGHTED = """scheme w "加权" {
  total 100
  input asa: seconds "平均应答速度"
  value asa_coefficient "应答速度系数" by asa {
    <= 20 -> 1
    20 < _ <= 40 -> 0.9
    > 40 -> 0.8
  }
  item a "服务" 40
  item b "质量" 60
  value index "综合指数" = weighted {
    item a 30%
    item b 70%
  }
  value adjusted "调整后" = round(index * asa_coefficient, 2)
  levels { pass "合格" when adjusted >= 30 }
}
"""


def test_weighted_sum_lookup_and_formula(tmp_path: Path) -> None:
    path = write(tmp_path, WEIGHTED)
    assert codes(path) == []
    r = run(path, {"inputs": {"asa": 25}, "scores": {"a": 33, "b": 47}})
    # index = 33 x 0.3 + 47 x 0.7 = 9.9 + 32.9 = 42.8; x 0.9 = 38.52
    assert r.values == {
        "asa_coefficient": Decimal("0.9"),
        "index": Decimal("42.8"),
        "adjusted": Decimal("38.52"),
    }
    assert (r.total, r.level) == (Decimal(80), "pass")


def test_weights_sum_reported_and_accepted(tmp_path: Path) -> None:
    bad = WEIGHTED.replace("item b 70%", "item b 80%")
    message = "weights add up to 110%, not 100% (30% + 80%)"
    assert codes(write(tmp_path, bad)) == [("weights-sum", message, 11, False)]
    # An accept in the value's own block turns it into an acknowledged note.
    accepted = bad.replace(
        "    item b 80%\n  }", '    item b 80%\n  } {\n    accept weights-sum "原文如此"\n  }'
    )
    assert codes(write(tmp_path, accepted, "ok.score")) == [("weights-sum", message, 11, True)]


def test_optional_input_gives_null_value(tmp_path: Path) -> None:
    text = """scheme v "值" {
      total 10
      input calls: integer "呼叫次数"
      input answered: integer "应答次数"
      value answer_rate "接通率" = answered / calls
      item a "甲" 10
    }"""
    path = write(tmp_path, text)
    # calls can be 0 and the scheme does not say what the rate is then: a warning, and null
    assert [c[0] for c in codes(path)] == ["zero-denominator"]
    r = run(path, {"inputs": {"calls": 200, "answered": 190}, "scores": {"a": 5}})
    assert r.values == {"answer_rate": Decimal("0.95")}
    assert run(path, {"inputs": {}, "scores": {"a": 5}}).values == {"answer_rate": None}
    assert run(path, {"inputs": {"calls": 0, "answered": 0}, "scores": {"a": 5}}).values == {
        "answer_rate": None
    }


def test_division_by_zero_in_a_score_is_an_evaluation_error(tmp_path: Path) -> None:
    text = """scheme z "零" {
      total 10
      input n: integer "n"
      item a "甲" 10 = min(10, 100 / n)
    }"""
    path = write(tmp_path, text)
    loaded = load(path)
    assert loaded.scheme is not None
    plan = lower(loaded.scheme)
    with pytest.raises(EvaluationError, match="division by zero"):
        evaluate(plan, read_assessment(plan, {"inputs": {"n": 0}}))


def test_rounding_applies_to_deductions_and_total(tmp_path: Path) -> None:
    text = """scheme r "取整" {
      total 20
      rounding 2 half-up
      findings "按问题比例扣分"
      item a "甲" 20
    }"""
    path = write(tmp_path, text)
    r = run(path, {"findings": {"a": {"samples": 3, "problems": 1}}})
    assert (r.items[0].score, r.total) == (Decimal("13.33"), Decimal("13.33"))


def test_examples_are_evaluated_by_check(tmp_path: Path) -> None:
    text = """scheme e "示例" {
      total 20
      input ok: bool "合格"
      gate g "条件" { require ok "须合格" }
      item a "甲" 10
      item b "乙" 10
      levels { good "好" when total >= 15 }
      example "两项" {
        given ok = true
        score a = 9
        score "乙" = 8
        expect total 17
        expect level good
      }
      example "写错的" {
        given ok = false
        score a = 9
        score b = 8
        expect total 18
        expect eligible true
      }
    }"""
    assert codes(write(tmp_path, text)) == [
        ("example-failed", 'example "写错的" expects total 18 but gets 17', 19, False),
        ("example-failed", 'example "写错的" expects eligible true but gets false', 20, False),
    ]


def test_example_with_bad_data(tmp_path: Path) -> None:
    text = """scheme e "示例" {
      total 10
      item a "甲" 10
      example "缺分" { expect total 10 }
    }"""
    assert codes(write(tmp_path, text)) == [
        (
            "example-failed",
            'example "缺分" cannot be evaluated: missing a score for a (甲, 0 to 10)',
            4,
            False,
        )
    ]


def test_extends_adds_gates_to_the_base(tmp_path: Path) -> None:
    write(tmp_path, 'scheme base "基础" {\n  total 10\n  item a "甲" 10\n}\n', "base.score")
    child = write(
        tmp_path,
        'scheme child "扩展" extends "base.score" {\n'
        '  input licensed: bool "持有许可"\n'
        '  gate article_11 "申报条件" { require licensed "持有经营许可证" }\n'
        "}\n",
        "child.score",
    )
    r = run(child, {"inputs": {"licensed": False}, "scores": {"a": 7}})
    assert (r.plan.id, r.total, r.eligible) == ("child", Decimal(7), False)
    assert r.gates[0].why == "not met: 持有经营许可证 (licensed is false)"


def test_extends_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'scheme c "c" extends "nope.score" {\n}\n')
    ((code, message, line, _),) = codes(path)
    assert (code, line) == ("extends", 1)
    assert message.startswith("cannot find 'nope.score'")


def test_cycles(tmp_path: Path) -> None:
    text = """scheme c "循环" {
      total 10
      input a: number "a"
      value x "x" = y + a
      value y "y" = x * 2
      item 1 "甲" 10 = min(10, item 1 + x)
    }"""
    assert [(c[0], c[1], c[2]) for c in codes(write(tmp_path, text))] == [
        ("cycle", "x depends on itself: x -> y -> x", 4),
        ("cycle", "1 depends on itself: 1 -> 1", 6),
    ]


def test_forward_item_reference_inherits_veto(tmp_path: Path) -> None:
    text = """scheme f "前向引用" {
      total 30
      input bad: bool "问题"
      item 1 "合计的一半" 10 = item 2 / 2
      item 2 "评审" 20 {
        veto when bad "有问题不得分"
        item 2.1 "甲" 20
      }
    }"""
    path = write(tmp_path, text)
    assert run(path, {"inputs": {"bad": False}, "scores": {"2.1": 16}}).total == 24
    vetoed = run(path, {"inputs": {"bad": True}, "scores": {"2.1": 16}})
    assert [(i.id, i.score, i.status) for i in vetoed.items] == [
        ("1", 0, "computed"), ("2", 0, "vetoed"), ("2.1", 0, "vetoed"),
    ]  # fmt: skip


DEFAULTS = """\
scheme d "defaults" {
  input first: bool "first application" default true
  input rate: percent "rate" default 90%
  input count: integer 1 <= _ <= 9 "count" default 0
  input flag: bool "flag" default 1
  gate g "g" {
    require first and rate >= 80%
  }
  item 1 "one" 10
}
"""


def test_a_default_is_checked_against_its_type_and_domain(tmp_path: Path) -> None:
    path = write(tmp_path, DEFAULTS)
    assert codes(path) == [
        ("unused-input", "input 'count' is declared but never used", 4, False),
        ("type-mismatch", "the default of 'count' is 0, outside its domain", 4, False),
        ("unused-input", "input 'flag' is declared but never used", 5, False),
        ("type-mismatch", "'flag' needs true or false", 5, False),
    ]


def test_an_input_left_out_takes_its_default(tmp_path: Path) -> None:
    text = DEFAULTS.replace('  input count: integer 1 <= _ <= 9 "count" default 0\n', "")
    path = write(tmp_path, text.replace('  input flag: bool "flag" default 1\n', ""))
    assert codes(path) == []
    loaded = load(path)
    assert loaded.plan is not None
    assert [(i.name, i.required, i.default) for i in loaded.plan.inputs] == [
        ("first", False, True),
        ("rate", False, Decimal("0.9")),
    ]
    passed = run(path, {"scores": {"1": 5}})
    assert (passed.eligible, passed.gates[0].why) == (True, "all 1 condition(s) hold")
    failed = run(path, {"inputs": {"rate": "70%"}, "scores": {"1": 5}})
    assert failed.gates[0].why == "not met: first and rate >= 80% (first is true, rate is 70%)"
