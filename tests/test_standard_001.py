"""The CMM-525-0006 scheme against seed 001: the total is C.5's 综合评价得分 (max 203),
12.1 weights, 9.3.2/9.3.3 coefficients, chapter 9 minimums as gates, appendix D sheets
(not in the total, converted to the 评价得分 they feed) and the 6.3.2 decision as levels."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoredsl.cli import main
from scoredsl.data import DataError, read_assessment
from scoredsl.diagnostics import Severity
from scoredsl.evaluate import Result, evaluate
from scoredsl.loader import compile_path
from scoredsl.plan import Expr, InputRef, ItemRef, Plan, ValueRef, Weighted

ROOT = Path(__file__).resolve().parent.parent
SCHEME = ROOT / "standards" / "cmm-525-0006.score"
EXAMPLES = ROOT / "standards" / "examples"

D = Decimal

# Appendix D: each sheet's rows (分值) and its 合计.
SHEETS = {
    "D_1_1": ("服务规范性打分表", 30, {"服务流程规范性": 10, "服务用语规范性": 8,
                                       "服务标准执行": 6, "服务记录完整性": 6}),
    "D_1_2": ("服务专业性打分表", 30, {"专业知识水平": 8, "业务能力": 8,
                                       "沟通能力": 7, "问题解决能力": 7}),
    "D_2_1": ("整体满意度打分表", 30, {"整体满意度": 20, "调研覆盖率": 5,
                                       "调研频次": 3, "调研质量": 2}),
    "D_2_2": ("客户投诉处理打分表", 30, {"投诉按期办结率": 10, "投诉处理满意度": 8,
                                         "投诉处理规范性": 6, "投诉预防能力": 6}),
}  # fmt: skip

# The 评价得分 each sheet feeds (chapter 9: 满分100分).
SHEET_FEEDS = {
    "service_standardization_score": "D_1_1",
    "service_professionalism_score": "D_1_2",
    "overall_satisfaction_score": "D_2_1",
    "complaint_handling_score": "D_2_2",
}

# 12.1.1 / appendix C.1-C.4: (input or value, weight %).
BASIC_WEIGHTS = [
    ("service_standardization_score", 20),
    ("service_professionalism_score", 15),
    ("service_efficiency_score", 15),
    ("service_responsiveness_score", 10),
    ("overall_satisfaction_score", 15),
    ("special_satisfaction_score", 10),
    ("customer_loyalty_score", 8),
    ("complaint_handling_score", 12),
    ("service_level_score", 15),
    ("asa_score", 10),
    ("call_completion_score", 10),
    ("staff_utilization_score", 5),
    ("system_stability_score", 10),
    ("tech_support_capability_score", 8),
    ("data_security_score", 12),
    ("system_performance_score", 10),
]
IMPROVEMENT_WEIGHTS = [
    ("tech_application_score", 3),
    ("service_innovation_score", 2),
    ("management_innovation_score", 2),
    ("continuous_improvement_score", 3),
    ("satisfaction_ranking_score", 2),
    ("industry_influence_score", 2),
    ("social_recognition_score", 2),
    ("brand_value_score", 2),
]


@pytest.fixture(scope="module")
def plan() -> Plan:
    compiled, diagnostics = compile_path(SCHEME)
    assert compiled is not None, diagnostics
    return compiled


def example(name: str) -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / f"cmm-525-0006-{name}.yaml").read_text(encoding="utf-8"))


def run(plan: Plan, data: dict[str, Any]) -> Result:
    return evaluate(plan, read_assessment(plan, data))


def with_inputs(name: str, **changes: Any) -> dict[str, Any]:
    data = example(name)
    data["inputs"] |= changes
    return data


# ---- the scheme itself --------------------------------------------------------------------


def test_appendix_d_sheets(plan: Plan) -> None:
    assert [i.id for i in plan.top_items] == list(SHEETS)
    assert all(i.sheet for i in plan.top_items)
    assert plan.summed_items == ()
    for sheet, (label, total, rows) in SHEETS.items():
        item = plan.item(sheet)
        assert (item.label, item.max, item.kind, item.sheet) == (label, total, "parent", True)
        children = [plan.item(c) for c in item.children]
        assert {c.label: c.max for c in children} == rows
        assert sum(rows.values()) == total
        assert all(c.kind == "judged" and c.notes and not c.sheet for c in children)
    assert len(plan.items) == 20
    assert len([i for i in plan.items if i.kind == "judged"]) == 16


def test_each_sheet_feeds_its_indicator_score(plan: Plan) -> None:
    # 合计 30 -> 评价得分 out of 100, stated as a reading (the rule is silent)
    values = {v.name: v for v in plan.values}
    assert {name: values[name].text for name in SHEET_FEEDS} == {
        name: f"item {sheet} * 100 / 30" for name, sheet in SHEET_FEEDS.items()
    }
    assert not any(i.name in SHEET_FEEDS for i in plan.inputs)
    (reading,) = [r for r in plan.readings if r.where == "scheme"]
    assert reading.text.startswith("附录D的打分表合计30分")
    assert "评价得分 = 打分表得分 × 100 / 30" in reading.text


def test_total_is_c5(plan: Plan) -> None:
    assert (plan.total, plan.total_text) == (203, "comprehensive_score")
    assert plan.total_formula == ValueRef("comprehensive_score")
    c5 = {v.name: v for v in plan.values}["comprehensive_score"]
    assert c5.text == (
        "service_quality_score + customer_satisfaction_score + operation_efficiency_score "
        "+ tech_support_score + improvement_index_score"
    )


def test_inputs_are_ascii_with_chinese_labels_and_clauses(plan: Plan) -> None:
    assert len(plan.inputs) == 41 + 32  # chapters 10 and 11: 32 more; 4 scores come from sheets
    for inp in plan.inputs:
        assert inp.name.isascii() and inp.name == inp.name.lower()
        assert inp.label and not inp.label.isascii()
        assert inp.clause
    types = {i.name: i.type for i in plan.inputs}
    assert types["average_speed_of_answer"] == "seconds"
    assert types["call_completion_rate"] == "percent"
    assert {i.name: i.clause for i in plan.inputs}["call_completion_rate"] == "9.3.3"


def test_the_total_needs_every_indicator(plan: Plan) -> None:
    # The total is C.5, so every input it is built from is required.
    assert [i.name for i in plan.inputs if not i.required] == []
    data = example("certified")
    del data["inputs"]["brand_value_score"]
    with pytest.raises(DataError, match="brand_value_score"):
        read_assessment(plan, data)


def test_weights_as_published(plan: Plan) -> None:
    values = {v.name: v for v in plan.values}
    basic = values["basic_index_score"]
    assert basic.label == "基础指标得分"
    assert isinstance(basic.formula, Weighted)
    assert [(_ref(t.ref), t.weight * 100) for t in basic.formula.terms] == BASIC_WEIGHTS
    assert sum(w for _, w in BASIC_WEIGHTS) == 185
    improvement = values["improvement_index_score"]
    assert isinstance(improvement.formula, Weighted)
    assert [(_ref(t.ref), t.weight * 100) for t in improvement.formula.terms] == IMPROVEMENT_WEIGHTS
    assert sum(w for _, w in IMPROVEMENT_WEIGHTS) == 18


def _ref(ref: Expr) -> str:
    assert isinstance(ref, InputRef | ValueRef | ItemRef)
    return ref.id if isinstance(ref, ItemRef) else ref.name


def _bands(plan: Plan, value: str) -> list[tuple[str, D]]:
    v = next(v for v in plan.values if v.name == value)
    assert v.input is not None
    show = plan.input(v.input).show
    return [(b.describe(show), b.result) for b in v.bands]


def test_coefficient_bands_as_written(plan: Plan) -> None:
    assert _bands(plan, "asa_coefficient") == [
        ("x <= 20", D("1.0")),
        ("20 < x <= 30", D("0.8")),
        ("x > 30", D("0.6")),
    ]
    assert _bands(plan, "call_completion_coefficient") == [
        ("x >= 90%", D("1.0")),
        ("80% <= x <= 90%", D("0.9")),
        ("70% <= x <= 80%", D("0.8")),
        ("x < 70%", D(0)),
    ]


def test_gates_and_levels(plan: Plan) -> None:
    assert [(g.id, g.label, len(g.requires)) for g in plan.gates] == [
        ("6.1.1", "申请条件", 5),
        ("9.1", "服务质量评价指标要求", 4),
        ("9.2", "客户满意度评价指标要求", 8),
        ("9.3", "运营效率评价指标要求", 4),
        ("9.4", "技术支持评价指标要求", 8),
        ("10.2", "人员管理要求", 3),
        ("10.3", "现场管理要求", 7),
        ("11.2", "系统性能要求", 14),
        ("11.3", "网络与信息安全要求", 6),
        ("11.4", "技术支持要求", 6),
    ]
    # every requirement cites its clause
    for gate in plan.gates[5:]:
        assert all(r.text.startswith(gate.id + ".") for r in gate.requires)
    assert plan.gates[1].requires[0].text == "9.1.1 服务规范性评价得分应达到85分以上（满分100分）"
    assert [(lv.name, lv.label, lv.min_total) for lv in plan.levels] == [
        ("conditional", "有条件批准认证", None),
        ("certified", "批准认证", None),
    ]


def test_diagnostics_are_the_acknowledged_errata() -> None:
    _, found = compile_path(SCHEME)
    diagnostics = [d for d in found if d.code != "reading"]  # readings: tests/test_readings.py
    assert [(d.code, d.severity, d.message) for d in diagnostics] == [
        (
            "band-overlap",
            Severity.NOTE,
            "90% falls in two bands of call_completion_coefficient: '>= 90%' (line 137) "
            "and '80% <= _ <= 90%'",
        ),
        (
            "band-overlap",
            Severity.NOTE,
            "80% falls in two bands of call_completion_coefficient: '80% <= _ <= 90%' "
            "(line 138) and '70% <= _ <= 80%'",
        ),
        (
            "weights-sum",
            Severity.NOTE,
            "weights add up to 185%, not 100% (20% + 15% + 15% + 10% + 15% + 10% + 8% + 12% "
            "+ 15% + 10% + 10% + 5% + 10% + 8% + 12% + 10%)",
        ),
        (
            "weights-sum",
            Severity.NOTE,
            "weights add up to 18%, not 100% (3% + 2% + 2% + 3% + 2% + 2% + 2% + 2%)",
        ),
    ]
    assert all(d.acknowledged for d in diagnostics)
    assert diagnostics[0].acknowledged.endswith("接通率90%折算系数1.0，80%折算系数0.9")
    assert diagnostics[2].acknowledged.startswith(
        "12.1.1和附录C.1~C.4公布的16项二级指标权重之和为185%"
    )


def test_check_json_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(SCHEME), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert (code, report["errors"], report["warnings"]) == (0, 0, 0)
    assert [(d["code"], d["line"], d["acknowledged"]) for d in report["diagnostics"]] == [
        ("band-overlap", 138, True),
        ("band-overlap", 139, True),
        ("reading", 142, False),
        ("weights-sum", 154, True),
        ("weights-sum", 176, True),
        ("reading", 240, False),  # 10.2.1's ratios
        ("reading", 246, False),  # 10.3.1 = 9.3.4
        ("reading", 256, False),  # 11.2.1 = 9.4.1
        ("reading", 281, False),  # 11.4.2/11.4.3 = 9.4.2
        ("reading", 355, False),  # appendix D: 打分表 x 100 / 30
    ]


# ---- the examples ---------------------------------------------------------------------------


def test_certified(plan: Plan) -> None:
    r = run(plan, example("certified"))
    assert (r.eligible, r.total, r.level, r.level_label, r.next_level) == (
        True,
        D("175.62"),  # C.5
        "certified",
        "批准认证",
        None,
    )
    assert all(g.passed for g in r.gates)
    assert r.gates[2].why == "all 8 condition(s) hold"
    assert r.values == {
        "service_standardization_score": D(90),  # D.1.1: 27 x 100 / 30
        "service_professionalism_score": D(85),  # D.1.2: 25.5
        "overall_satisfaction_score": D(90),  # D.2.1: 27
        "complaint_handling_score": D(84),  # D.2.2: 25.2
        "asa_coefficient": D("1.0"),
        "call_completion_coefficient": D("1.0"),  # 90% exactly: the first band, “90%以上”
        "asa_score": D(100),
        "call_completion_score": D(100),
        "service_quality_score": D("51.85"),
        "customer_satisfaction_score": D("38.58"),
        "operation_efficiency_score": D("37.1"),
        "tech_support_score": D("35.34"),
        "basic_index_score": D("162.87"),
        "improvement_index_score": D("12.75"),
        "comprehensive_score": D("175.62"),
    }
    parts = ("service_quality_score", "customer_satisfaction_score",
             "operation_efficiency_score", "tech_support_score")  # fmt: skip
    assert sum(r.values[p] for p in parts) == r.values["basic_index_score"]
    assert (
        r.total
        == r.values["comprehensive_score"]
        == sum(r.values[p] for p in parts) + (r.values["improvement_index_score"] or 0)
    )
    items = {i.id: i for i in r.items}
    assert [i.id for i in r.items] == [i.id for i in plan.items]  # every item, sheets too
    assert [(i, items[i].score) for i in SHEETS] == [
        ("D_1_1", D(27)),
        ("D_1_2", D("25.5")),
        ("D_2_1", D(27)),
        ("D_2_2", D("25.2")),
    ]
    assert items["D_1_1"].why == "sum of its 4 items: 9 + 7 + 5 + 6"
    assert (items["D_1_1_3"].status, items["D_1_1_3"].why) == ("scored", "awarded 5 of 6")
    assert (items["D_2_2_4"].status, items["D_2_2_4"].why) == ("scored", "awarded 4.2 of 6")


def test_fails_a_minimum(plan: Plan) -> None:
    r = run(plan, example("fails-minimum"))
    assert (r.eligible, r.total, r.level, r.level_label) == (False, D("174.22"), None, None)
    assert [(g.id, g.passed) for g in r.gates] == [
        ("6.1.1", True),
        ("9.1", False),
        ("9.2", False),
        ("9.3", True),
        ("9.4", True),
        ("10.2", True),
        ("10.3", True),
        ("11.2", True),
        ("11.3", True),
        ("11.4", True),
    ]
    assert r.gates[1].why == (
        "not met: 9.1.1 服务规范性评价得分应达到85分以上（满分100分） "
        "(service_standardization_score is 83)"
    )
    assert r.gates[2].why == "not met: 9.2.3 客户流失率应控制在20%以下 (customer_churn_rate is 22%)"
    # The 综合评价得分 (the total) is still computed.
    assert r.values["service_standardization_score"] == D(83)  # D.1.1: 24.9 x 100 / 30
    assert r.values["service_quality_score"] == D("50.45")
    assert r.values["comprehensive_score"] == D("174.22")
    assert r.values["call_completion_coefficient"] == D("1.0")  # 92%
    items = {i.id: i for i in r.items}
    assert (items["D_1_1"].score, items["D_1_1"].why) == (
        D("24.9"),
        "sum of its 4 items: 8 + 7 + 3.9 + 6",
    )


def test_coefficients_reduce_scores(plan: Plan) -> None:
    r = run(plan, example("coefficient-reduced"))
    assert (r.eligible, r.total, r.level, r.level_label) == (
        True,
        D("172.62"),
        "conditional",
        "有条件批准认证",
    )
    assert r.next_level == ("certified", None)
    assert {k: r.values[k] for k in ("asa_coefficient", "call_completion_coefficient")} == {
        "asa_coefficient": D("0.8"),  # 25 s: >20秒~≤30秒
        "call_completion_coefficient": D("0.9"),  # 80% exactly: the first band, “80%~90%之间”
    }
    assert (r.values["asa_score"], r.values["call_completion_score"]) == (D(80), D(90))
    assert r.values["operation_efficiency_score"] == D("34.1")
    assert r.values["basic_index_score"] == D("159.87")
    assert r.values["comprehensive_score"] == D("172.62")


def test_major_nonconformity_is_not_certified(plan: Plan) -> None:
    r = run(plan, example("major-nonconformity"))
    assert (r.eligible, r.total, r.level) == (True, D("161.62"), None)
    assert r.next_level == ("conditional", None)
    assert (r.values["asa_coefficient"], r.values["call_completion_coefficient"]) == (
        D("0.6"),
        D(0),
    )
    assert r.values["operation_efficiency_score"] == D("23.1")
    assert r.values["comprehensive_score"] == D("161.62")


# ---- boundaries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "coefficient"),
    [
        ("100%", "1.0"),
        ("90%", "1.0"),  # 90%以上 and 80%~90%之间: the first band written wins
        ("89.99%", "0.9"),
        ("80%", "0.9"),  # 80%~90%之间 and 70%~80%之间: the first band written wins
        ("79.99%", "0.8"),
        ("70%", "0.8"),
        ("69.99%", "0"),
        ("0%", "0"),
    ],
)
def test_call_completion_coefficient_at_the_boundaries(
    plan: Plan, rate: str, coefficient: str
) -> None:
    r = run(plan, with_inputs("certified", call_completion_rate=rate))
    assert r.values["call_completion_coefficient"] == D(coefficient)
    assert r.values["call_completion_score"] == 100 * D(coefficient)


@pytest.mark.parametrize(
    ("seconds", "coefficient"),
    [(0, "1.0"), (20, "1.0"), ("20.5", "0.8"), (30, "0.8"), ("30.1", "0.6"), (300, "0.6")],
)
def test_asa_coefficient_at_the_boundaries(plan: Plan, seconds: Any, coefficient: str) -> None:
    r = run(plan, with_inputs("certified", average_speed_of_answer=seconds))
    assert r.values["asa_coefficient"] == D(coefficient)


@pytest.mark.parametrize(
    ("changes", "gates"),
    [
        ({"customer_churn_rate": "20%"}, []),  # “20%以下” includes 20%
        ({"system_availability": "99.9%"}, []),
        ({"system_availability": "99.89%"}, ["9.4", "11.2"]),  # 9.4.1 and 11.2.1
        ({"tech_support_response_minutes": 31}, ["9.4", "11.4"]),  # 9.4.2, 11.4.2, 11.4.3
        ({"management_system_months": "2.5"}, ["6.1.1"]),
        ({"major_violation_12m": True}, ["6.1.1"]),
        # chapters 10 and 11
        ({"agent_count": 120, "manager_count": 12}, []),  # 1:10 exactly
        ({"agent_count": 121, "manager_count": 12}, ["10.2"]),
        ({"agent_count": 120, "tech_support_staff_count": 7}, ["10.2"]),  # 105 < 120
        ({"quality_staff_count": 5}, ["10.2"]),  # 5 x 20 = 100 < 120
        ({"forecast_accuracy": "85%"}, []),
        ({"forecast_accuracy": "84.9%"}, ["10.3"]),
        ({"scheduling_rationality_score": 79}, ["9.3", "10.3"]),  # 9.3.4 and 10.3.1
        ({"quality_monitoring_coverage": "99.9%"}, ["10.3"]),
        ({"report_accuracy_score": 89}, ["10.3"]),
        ({"call_setup_response_seconds": 3}, []),
        ({"call_setup_response_seconds": "3.1"}, ["11.2"]),
        ({"concurrent_channels": 999}, ["11.2"]),
        ({"backup_restore_hours": "1.5"}, ["11.2"]),
        ({"network_incident_response_minutes": 31}, ["11.3"]),
        ({"security_incident_handling_score": 84}, ["11.3"]),
        ({"tech_support_resolution_rate": "94%"}, ["11.4"]),
        ({"tech_support_satisfaction": "90%"}, []),
    ],
)
def test_minimums_at_the_boundaries(plan: Plan, changes: dict[str, Any], gates: list[str]) -> None:
    r = run(plan, with_inputs("certified", **changes))
    assert [g.id for g in r.gates if not g.passed] == gates
    assert r.level == (None if gates else "certified")


@pytest.mark.parametrize(
    ("row", "score", "gates"),
    [
        ("3.5", D(85), []),  # 25.5 of 30 is 85: “85分以上” includes 85
        ("3.49", D("84.966666666667"), ["9.1"]),  # 25.49 x 100 / 30, 12 places
        ("3.47", D("84.9"), ["9.1"]),
        (6, D("93.333333333333"), []),  # 28 of 30
    ],
)
def test_the_sheet_decides_9_1_1(plan: Plan, row: Any, score: D, gates: list[str]) -> None:
    data = example("certified")
    data["scores"] |= {"D_1_1_1": 9, "D_1_1_2": 7, "D_1_1_3": row, "D_1_1_4": 6}
    r = run(plan, data)
    assert r.values["service_standardization_score"] == score
    assert [g.id for g in r.gates if not g.passed] == gates
    assert r.values["service_quality_score"] == (
        score * D("0.2") + 85 * D("0.15") + 82 * D("0.15") + 88 * D("0.1")
    ).quantize(D(10) ** -12)
    assert r.total == r.values["comprehensive_score"]


def test_full_marks_reach_203(plan: Plan) -> None:
    data = example("certified")
    for name in [n for n, _ in BASIC_WEIGHTS + IMPROVEMENT_WEIGHTS if n.endswith("_score")]:
        if name in data["inputs"]:
            data["inputs"][name] = 100
    data["scores"] = {i.id: i.max for i in plan.items if i.kind == "judged"}
    r = run(plan, data)
    assert (r.total, r.values["basic_index_score"]) == (D(203), D(185))
    assert (r.values["improvement_index_score"], r.values["comprehensive_score"]) == (D(18), D(203))
    assert all(r.values[name] == 100 for name in SHEET_FEEDS)  # 30 of 30 each


def test_eval_cli_text(capsys: pytest.CaptureFixture[str]) -> None:
    data = EXAMPLES / "cmm-525-0006-fails-minimum.yaml"
    assert main(["eval", str(SCHEME), str(data), "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert "eligible: no" in out
    assert "level: none" in out
    assert "total: 174.22 / 203" in out
    assert "value comprehensive_score: 174.22" in out


def test_fails_chapters_10_and_11(plan: Plan) -> None:
    r = run(plan, example("fails-chapter-10-11"))
    assert (r.eligible, r.level) == (False, None)
    failed = {g.id: g.why for g in r.gates if not g.passed}
    assert failed == {
        "10.2": "not met: 10.2.1 管理人员与座席的比例应控制在1:10以内 "
        "(agent_count is 130, manager_count is 12)",
        "11.2": "not met: 11.2.1 呼叫建立响应时间 ≤3秒 (call_setup_response_seconds is 3.5)",
    }
