"""The T/CCUA operation capability scheme against seed 002: C.1 points, B.1, A.1, D.1, E."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoredsl.cli import main
from scoredsl.data import read_assessment
from scoredsl.diagnostics import Severity
from scoredsl.evaluate import Result, evaluate
from scoredsl.loader import compile_path
from scoredsl.plan import Plan

ROOT = Path(__file__).resolve().parent.parent
SCHEME = ROOT / "standards" / "t-ccua-operation-capability.score"
EXAMPLES = ROOT / "standards" / "examples"
APPENDIX_E = EXAMPLES / "t-ccua-operation-capability-appendix-e.yaml"
EXCELLENT = EXAMPLES / "t-ccua-operation-capability-excellent.yaml"
PASS_AT_60 = EXAMPLES / "t-ccua-operation-capability-pass-at-60.yaml"
IMPROVE = EXAMPLES / "t-ccua-operation-capability-improve.yaml"

D = Decimal

# Table C.1 (and E.6): 能力域 -> (类别, 分值, {能力项 id: (label as in E.6, 分值)}).
TABLE_C1 = {
    "6.2.1": ("战略规划", "过程类", D("10"), {
        "strategic_goal": ("战略目标", D("2.00")),
        "planning_focus": ("规划重点", D("4.00")),
        "implementation_plan": ("实施计划", D("4.00")),
    }),
    "6.2.2": ("能力建设", "过程类", D("25"), {
        "business_capability": ("业务能力", D("5.00")),
        "data_capability": ("数据能力", D("5.00")),
        "technical_capability": ("技术能力", D("5.00")),
        "knowledge_application": ("知识应用", D("5.00")),
        "intelligent_application": ("智能应用", D("5.00")),
    }),
    "6.3.1": ("多元化运营", "结果类", D("35"), {
        "capability_matching": ("能力匹配", D("3.50")),
        "customer_experience": ("客户体验", D("5.25")),
        "operation_plan": ("运营计划", D("3.50")),
        "process_management": ("流程管理", D("3.50")),
        "quality_management": ("质量管理", D("7.00")),
        "performance_management": ("绩效管理", D("7.00")),
        "staff_management": ("员工管理", D("3.50")),
        "service_and_business": ("服务与经营", D("1.75")),
    }),
    "6.3.2": ("多模态交互", "结果类", D("30"), {
        "traffic_forecast": ("流量预测", D("12.00")),
        "multimedia_application": ("多媒体应用", D("9.00")),
        "physical_service_integration": ("实体服务一体化", D("9.00")),
    }),
}  # fmt: skip

# Table E.6: 能力项 label -> (计分, 计分占比 as printed).
TABLE_E6 = {
    "战略目标": ("1.70", "1.99%"),
    "规划重点": ("3.56", "4.16%"),
    "实施计划": ("3.48", "4.07%"),
    "业务能力": ("4.20", "4.91%"),
    "数据能力": ("4.00", "4.68%"),
    "技术能力": ("3.75", "4.38%"),
    "知识应用": ("4.05", "4.73%"),
    "智能应用": ("3.80", "4.44%"),
    "能力匹配": ("2.98", "3.48%"),
    "客户体验": ("4.31", "5.04%"),
    "运营计划": ("3.12", "3.65%"),
    "流程管理": ("2.84", "3.32%"),
    "质量管理": ("6.16", "7.20%"),
    "绩效管理": ("6.44", "7.53%"),
    "员工管理": ("3.12", "3.65%"),
    "服务与经营": ("1.14", "1.33%"),
    "流量预测": ("10.80", "12.62%"),
    "多媒体应用": ("8.28", "9.68%"),
    "实体服务一体化": ("7.83", "9.15%"),
}

OVERLAP_MESSAGE = "a total of 60 is both 'improve' (total <= 60) and 'pass' (total >= 60)"


@pytest.fixture(scope="module")
def plan() -> Plan:
    compiled, diagnostics = compile_path(SCHEME)
    assert compiled is not None, diagnostics
    return compiled


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def run(plan: Plan, data: dict[str, Any]) -> Result:
    return evaluate(plan, read_assessment(plan, data))


def scores_for(plan: Plan, total: Decimal) -> dict[str, Decimal]:
    """Judged scores that add up to `total`: items filled to their maximum in order."""
    left, out = total, {}
    for item in plan.items:
        if item.kind == "judged":
            out[item.id] = min(item.max, left)
            left -= out[item.id]
    assert left == 0
    return out


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


# ---- chapter 5/6 and table C.1: 4 能力域, 19 能力项, 100 points ---------------------------


def test_four_areas_nineteen_items_hundred_points(plan: Plan) -> None:
    assert (plan.id, plan.total) == ("t-ccua-operation-capability", D(100))
    assert [i.id for i in plan.top_items] == list(TABLE_C1)
    assert [i.label for i in plan.top_items] == ["战略规划", "能力建设", "多元化运营", "多模态交互"]
    assert len(plan.items) == 23
    judged = [i for i in plan.items if i.kind == "judged"]
    assert len(judged) == 19
    assert all(i.depth == 2 for i in judged)
    assert sum(i.max for i in judged) == D(100) == sum(i.max for i in plan.top_items)


def test_table_c1_points_categories_and_labels(plan: Plan) -> None:
    for area_id, (label, category, points, items) in TABLE_C1.items():
        area = plan.item(area_id)
        assert (area.label, area.category, area.max, area.kind) == (
            label,
            category,
            points,
            "parent",
        )
        assert area.children == tuple(items)
        assert {c: (plan.item(c).label, plan.item(c).max) for c in area.children} == items
        assert sum(m for _, m in items.values()) == points
    # the maxima keep the document's two decimals
    assert str(plan.item("customer_experience").max) == "5.25"
    assert str(plan.item("strategic_goal").max) == "2.00"


def test_item_labels_are_those_of_table_e6(plan: Plan) -> None:
    assert [i.label for i in plan.items if i.kind == "judged"] == list(TABLE_E6)


def test_b1_checklists_are_the_item_notes(plan: Plan) -> None:
    for item in plan.items:
        if item.kind != "judged":
            continue
        letters = [note[:2] for note in item.notes]
        assert letters == ["a)", "b)", "c)", "d)", "e)"][: len(item.notes)], item.id
        assert item.notes[-1][2:] == "评估与测评结果符合测评关键指标值计算的70%要求", item.id
    assert plan.item("strategic_goal").notes[1] == (
        "b)在不同层级制定计划和指标，体现对客户、组织和对服务质量的承诺；"
    )
    assert (
        plan.item("business_capability")
        .notes[0]
        .startswith("a)形成通用服务能力：1)制定与服务相适应的产品")
    )
    assert len(plan.item("service_and_business").notes) == 3


# ---- table D.1: levels, and the overlap at 60 --------------------------------------------


def test_levels_of_table_d1(plan: Plan) -> None:
    assert [(lv.name, lv.label, lv.text) for lv in plan.levels] == [
        ("improve", "改进", "total <= 60"),
        ("pass", "合格", "total >= 60"),
        ("good", "良好", "total >= 75"),
        ("excellent", "优秀", "total >= 95"),
    ]


def test_the_overlap_at_60_is_acknowledged() -> None:
    _, found = compile_path(SCHEME)
    # readings: tests/test_readings.py; A.1's zero denominators: tests/test_outcomes.py
    diagnostics = [d for d in found if d.code not in ("reading", "zero-denominator")]
    assert [(d.code, d.severity, d.message, d.hints) for d in diagnostics] == [
        (
            "level-overlap",
            Severity.NOTE,
            OVERLAP_MESSAGE,
            ("the scheme reads it as 'pass' (the higher level wins)",),
        )
    ]
    reason = diagnostics[0].acknowledged
    assert reason is not None and reason.startswith(
        "表D.1（及表E.7）写 合格 “≥60分” 而 改进 “≤60分”"
    )
    assert "60 is 合格" in reason


READING_60 = (
    "reading of levels: 表D.1写合格“≥60分”、改进“≤60分”，恰好60分两档都成立；"
    "本方案读作合格（取成立的最高等级）"
)


READING_ZERO = (
    "reading of the scheme: 表A.1的公式都是比值，没有说分母为0（如无人工呼入、无投诉、无员工）"
    "时指标取何值；本方案不给它赋值：分母为0的指标报告为null（不适用），不当作0%或100%"
)


def test_check_json_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(capsys, "check", str(SCHEME), "--format", "json")
    report = json.loads(out)
    assert (code, report["errors"], report["warnings"]) == (0, 0, 0)
    found = [d for d in report["diagnostics"] if d["code"] != "zero-denominator"]
    assert [(d["code"], d["message"], d["acknowledged"]) for d in found] == [
        ("reading", READING_ZERO, False),
        ("level-overlap", OVERLAP_MESSAGE, True),
        ("reading", READING_60, False),
    ]
    zero = [d for d in report["diagnostics"] if d["code"] == "zero-denominator"]
    assert len(zero) == 67 and all(d["acknowledged"] for d in zero)


@pytest.mark.parametrize(
    ("total", "level", "next_level"),
    [
        ("100", "excellent", None),
        ("95", "excellent", None),
        ("94.99", "good", ("excellent", D("0.01"))),
        ("75", "good", ("excellent", D("20"))),
        ("74.99", "pass", ("good", D("0.01"))),
        ("60", "pass", ("good", D("15"))),
        ("59.99", "improve", ("pass", D("0.01"))),
        ("0", "improve", ("pass", D("60"))),
    ],
)
def test_level_edges(plan: Plan, total: str, level: str, next_level: Any) -> None:
    r = run(plan, {"scores": scores_for(plan, D(total))})
    assert (r.total, r.level, r.next_level) == (D(total), level, next_level)


# ---- appendix E: the worked assessment (E.5, E.6, E.7) ------------------------------------


def test_appendix_e_file_gives_85_56_good(plan: Plan) -> None:
    data = load(APPENDIX_E)
    assert list(data["scores"]) == list(TABLE_E6)  # keyed by the E.6 labels
    r = run(plan, data)
    assert (r.total, r.level, r.level_label, r.eligible) == (D("85.56"), "good", "良好", True)
    assert r.next_level == ("excellent", D("9.44"))
    areas = {i.id: i.score for i in r.items if i.parent is None}
    assert areas == {
        "6.2.1": D("8.74"),
        "6.2.2": D("19.8"),
        "6.3.1": D("30.11"),
        "6.3.2": D("26.91"),
    }
    by_label = {i.title: i.score for i in r.items if i.parent is not None}
    assert by_label == {label: D(score) for label, (score, _) in TABLE_E6.items()}
    assert all(v is None for v in r.values.values())  # appendix E gives no raw counts


def test_appendix_e_score_shares_are_those_of_table_e6(plan: Plan) -> None:
    r = run(plan, load(APPENDIX_E))
    for item in r.items:
        if item.parent is not None:
            share = (item.score / r.total * 100).quantize(D("0.01"))
            assert f"{share}%" == TABLE_E6[item.title][1], item.title


def test_embedded_appendix_e_example_is_checked(tmp_path: Path) -> None:
    text = SCHEME.read_text(encoding="utf-8")
    assert 'score "战略目标" = 1.70' in text and "expect total 85.56" in text
    broken = tmp_path / "broken.score"
    broken.write_text(text.replace("expect total 85.56", "expect total 85.57"), encoding="utf-8")
    _, diagnostics = compile_path(broken)
    failed = [d for d in diagnostics if d.code == "example-failed"]
    assert len(failed) == 1 and "85.56" in failed[0].message and "85.57" in failed[0].message


def test_appendix_e_report_md(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(capsys, "eval", str(SCHEME), str(APPENDIX_E), "--format", "md")
    assert code == 0
    assert "85.56" in out
    assert "良好" in out
    assert "1.99%" in out
    row = next(line for line in out.splitlines() if "战略目标" in line)
    assert "| 1.7 | 1.99% |" in row
    for _, share in TABLE_E6.values():
        assert share in out


def test_appendix_e_eval_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(capsys, "eval", str(SCHEME), str(APPENDIX_E), "--format", "json")
    result = json.loads(out, parse_float=Decimal)
    assert code == 0
    assert (result["total"], result["level"], result["level_label"]) == (D("85.56"), "good", "良好")
    assert len(result["items"]) == 23


# ---- table A.1: the key indicators as derived values --------------------------------------

A1_EXCELLENT = {
    "repost_rate": "0.025",
    "answer_speed_wait": "15",
    "question_recognition_rate": "0.975",
    "speech_recognition_accuracy": "0.95",
    "intent_accuracy": "0.975",
    "switch_availability": "1",
    "info_system_availability": "0.999",
    "multimedia_ticket_on_time_rate": "0.98",
    "kb_update_on_time_rate": "0.95",
    "kb_content_accuracy": "0.98",
    "channel_split_rate": "0.3",
    "capability_shift_accuracy": "0.95",
    "resolution_rate": "0.92",
    "first_call_resolution_rate": "0.88",
    "satisfaction_survey_rate": "0.985",
    "overall_satisfaction": "0.9",
    "overall_dissatisfaction": "0.02",
    "complaint_on_time_rate": "0.99",
    "complaint_satisfaction": "0.9",
    "recruitment_on_time_rate": "0.95",
    "shift_forecast_accuracy": "0.98",
    "forecast_accuracy_peak": "0.9",
    "forecast_accuracy_daily": "0.95",
    "plan_on_time_rate": "0.95",
    "selfservice_ticket_on_time_rate": "0.96",
    "new_scheme_on_time_rate": "0.95",
    "interaction_accuracy": "0.98",
    "volume_resolution_rate": "0.9",
    "first_contact_resolution_rate": "0.8",
    "content_accuracy": "0.98",
    "business_critical_accuracy": "0.995",
    "customer_critical_accuracy": "0.992",
    "compliance_critical_accuracy": "1",
    "seat_utilisation": "0.84",
    "on_time_rate": "0.95",
    "adherence_rate": "0.97",
    "absence_rate": "0.03",
    "average_handle_time": "300",
    "average_talk_time": "240",
    "daily_calls_per_seat": "120",
    "answer_speed_target_rate": "0.96",
    "abandon_rate": "0.02",
    "voice_agent_answer_rate": "0.9375",
    "text_agent_answer_rate": "0.99",
    "video_agent_answer_rate": "0.98",
    "voice_service_level": "0.78",
    "text_service_level": "0.9",
    "video_service_level": "0.9",
    "attrition_rate": "0.1",
    "training_effect": "0.95",
    "staff_satisfaction": "0.9",
    "sales_success_rate": "0.12",
    "sales_conversion_rate": "0.025",
    "marketing_revenue_ratio": "0.025",
    "multimedia_split_rate": "0.7",
    "error_rate": "0.002",
    "system_function_rate": "0.999",
    "multimedia_self_handling_rate": "0.8",
    "multimedia_service_share": "0.56",
    "multimedia_error_rate": "0.0015",
    "bot_recognition_rate": "0.96",
    "bot_resolution_rate": "0.92",
    "ivr_split_rate": "0.7",
    "bot_text_split_rate": "0.875",
    "outlet_resolution_rate": "0.97",
    "service_timeliness": "0.98",
}


def test_a1_inputs_are_optional_and_documented(plan: Plan) -> None:
    assert len(plan.inputs) == 124
    assert not any(i.required for i in plan.inputs)
    assert all(i.label and i.clause and i.clause.startswith("表A.1") for i in plan.inputs)
    types = {i.name: i.type for i in plan.inputs}
    assert (types["questions_total"], types["on_duty_time"], types["total_revenue"]) == (
        "integer",
        "seconds",
        "number",
    )


def test_a1_values_on_raw_counts(plan: Plan) -> None:
    r = run(plan, load(EXCELLENT))
    assert (r.total, r.level) == (D("97.7"), "excellent")
    assert [v.name for v in plan.values] == list(A1_EXCELLENT)
    assert r.values == {k: D(v) for k, v in A1_EXCELLENT.items()}


def test_a1_formulas_as_written(plan: Plan) -> None:
    texts = {v.name: (v.label, v.text) for v in plan.values}
    assert len(texts) == 66
    assert texts["attrition_rate"] == ("人员流失率", "leavers / (staff_at_start + joiners) * 100%")
    assert texts["repost_rate"] == ("转发量", "reposts_total / fans_total * 100%")
    assert texts["daily_calls_per_seat"][1] == (
        "voice_agent_answered_day / (seat_work_time_day / seat_standard_time_day) * 100%"
    )


def test_a1_formula_text_keeps_a_leading_parenthesis(plan: Plan) -> None:
    texts = {v.name: v.text for v in plan.values}
    assert texts["question_recognition_rate"] == (
        "(questions_total - questions_unrecognised) / questions_total * 100%"
    )
    assert texts["intent_accuracy"] == "(1 - intent_errors_labelled / asr_correct_labelled) * 100%"


def test_a1_values_are_null_without_their_counts(plan: Plan) -> None:
    r = run(plan, load(PASS_AT_60))
    present = {k: v for k, v in r.values.items() if v is not None}
    assert present == {
        "question_recognition_rate": D("0.85"),  # (4000 - 600) / 4000
        "complaint_on_time_rate": D("0.85"),  # 170 / 200
        "attrition_rate": D("0.3"),  # 45 / (100 + 50)
    }


def test_a1_value_with_a_zero_denominator_is_null(plan: Plan) -> None:
    data = {
        "inputs": {"complaints_closed_on_time": 0, "complaints_total": 0, "leavers": 3,
                   "staff_at_start": 27, "joiners": 3},
        "scores": scores_for(plan, D(80)),
    }  # fmt: skip
    r = run(plan, data)
    assert r.values["complaint_on_time_rate"] is None
    assert r.values["attrition_rate"] == D("0.1")
    assert (r.total, r.level) == (D(80), "good")


# ---- the other example files -------------------------------------------------------------


def test_pass_at_60_file(plan: Plan) -> None:
    r = run(plan, load(PASS_AT_60))
    assert (r.total, r.level, r.level_label, r.next_level) == (
        D(60),
        "pass",
        "合格",
        ("good", D(15)),
    )
    assert all(i.score == i.max * D("0.6") for i in r.items)


def test_improve_file(plan: Plan) -> None:
    r = run(plan, load(IMPROVE))
    assert (r.total, r.level, r.level_label, r.next_level) == (
        D("52.5"),
        "improve",
        "改进",
        ("pass", D("7.5")),
    )
    scores = {i.id: i.score for i in r.items}
    assert scores["service_and_business"] == 0
    assert [scores[a] for a in TABLE_C1] == [D(7), D("14.5"), D(19), D(12)]


@pytest.mark.parametrize(
    ("path", "total", "level"),
    [
        (APPENDIX_E, "85.56", "good"),
        (EXCELLENT, "97.7", "excellent"),
        (PASS_AT_60, "60", "pass"),
        (IMPROVE, "52.5", "improve"),
    ],
)
def test_example_files_through_the_cli(
    capsys: pytest.CaptureFixture[str], path: Path, total: str, level: str
) -> None:
    code, out = run_cli(capsys, "eval", str(SCHEME), str(path), "--format", "json")
    result = json.loads(out, parse_float=Decimal)
    assert code == 0
    assert (result["scheme"]["id"], result["total"], result["level"]) == (
        "t-ccua-operation-capability",
        D(total),
        level,
    )
