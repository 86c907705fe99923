"""cace-promotion (seed 004): the 249 scheme's table 1 plus the 第十一条 eligibility gate."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from scoredsl.cli import main
from scoredsl.data import DataError, read_assessment
from scoredsl.evaluate import evaluate
from scoredsl.loader import compile_path
from scoredsl.plan import Plan
from tests.conftest import STANDARDS, full_marks

SCHEME = STANDARDS / "cace-promotion.score"
EXAMPLES = STANDARDS / "examples"
ARTICLE_11 = {
    "business_registered": True,
    "telecom_license": True,
    "regulator_criticism_3y": False,
    "trained_staff_count": 2,
    "reapplying_within_half_year": False,
}


@pytest.fixture(scope="module")
def plan() -> Plan:
    plan, diagnostics = compile_path(SCHEME)
    assert plan is not None, diagnostics
    assert [d.code for d in diagnostics] == ["reading"]  # its own: the look-back of （四）（五）
    return plan


def eligible_centre(plan: Plan, **changes: Any) -> dict[str, Any]:
    data = full_marks(plan)
    data["scheme"] = "cace-promotion"
    data["inputs"] |= ARTICLE_11 | changes
    return data


def run(plan: Plan, data: dict[str, Any]) -> Any:
    return evaluate(plan, read_assessment(plan, data))


def test_reuses_every_item_and_level_of_249(plan: Plan, plan249: Plan) -> None:
    assert [(i.id, i.label, i.max) for i in plan.items] == [
        (i.id, i.label, i.max) for i in plan249.items
    ]
    assert plan.levels == plan249.levels
    assert (plan.id, plan.total) == ("cace-promotion", Decimal(1000))


def test_article_11_gate_and_its_inputs(plan: Plan) -> None:
    assert [g.id for g in plan.gates] == ["4.3", "article_11", "article_14_14"]
    gate = plan.gates[1]
    assert gate.label == "第十一条 申请条件"
    assert [r.text[:3] for r in gate.requires] == [
        "（一）",
        "（二）",
        "（三）",
        "（四）",
        "（五）",
        "（六）",
    ]
    types = {i.name: (i.type, i.clause) for i in plan.inputs}
    assert types["business_registered"] == ("bool", "第十一条（一）")
    assert types["telecom_license"] == ("bool", "第十一条（二）")
    assert types["regulator_criticism_3y"] == ("bool", "第十一条（五）、第十四条（四）")
    assert types["trained_staff_count"] == ("integer", "第十一条（六）")


def test_an_eligible_centre_gets_its_249_level(plan: Plan) -> None:
    result = run(plan, eligible_centre(plan))
    assert (result.eligible, result.total, result.level) == (True, Decimal(1000), "five_star")
    assert [(g.id, g.passed) for g in result.gates] == [
        ("4.3", True),
        ("article_11", True),
        ("article_14_14", True),
    ]


@pytest.mark.parametrize(
    ("change", "failed"),
    [
        (
            {"business_registered": False},
            "（一）所隶属的企业依法工商登记注册 (business_registered is false)",
        ),
        (
            {"telecom_license": False},
            "（二）所隶属的企业依法取得电信业务经营许可 (telecom_license is false)",
        ),
        (
            {"regulator_criticism_3y": True},
            "（五）在近三年内其服务现场及所隶属的企业没有被电信管理机构通报批评"
            "（第十四条（四）：近三年内（不含当年）） (regulator_criticism_3y is true)",
        ),
        (
            {"trained_staff_count": 1},
            "（六）申请单位应有至少两名获得本协会《信息通信业服务现场系列标准宣贯》"
            "考核合格的工作人员 (trained_staff_count is 1)",
        ),
    ],
)
def test_failing_one_condition_means_no_level(
    plan: Plan, change: dict[str, Any], failed: str
) -> None:
    result = run(plan, eligible_centre(plan, **change))
    assert (result.eligible, result.total, result.level, result.next_level) == (
        False,
        Decimal(1000),
        None,
        None,
    )
    gates = {g.id: g for g in result.gates}
    assert gates["4.3"].passed
    assert not gates["article_11"].passed
    assert gates["article_11"].why == f"not met: {failed}"


def test_reapplying_within_half_year_is_refused(plan: Plan) -> None:
    """第十四条（十四）1: a certified centre may apply again only half a year after."""
    result = run(plan, eligible_centre(plan, reapplying_within_half_year=True))
    assert (result.eligible, result.total, result.level) == (False, Decimal(1000), None)
    gates = {g.id: g for g in result.gates}
    assert gates["article_11"].passed
    assert gates["article_14_14"].why == (
        "not met: 获证单位可重新进行申请，但必须距上次获证间隔半年以上 "
        "(reapplying_within_half_year is true)"
    )


def test_the_document_its_date_and_look_back(plan: Plan) -> None:
    """第二十五条: 本办法自 2020 年 5 月 17 日起施行; 第十四条（四）: 近三年内（不含当年）."""
    assert plan.version == "2020-05-17"
    assert plan.source == "中国通信企业协会《信息通信业服务现场质量推进办法》"
    criticism = plan.input("regulator_criticism_3y")
    assert criticism.label == "近三年内（不含当年）服务现场或所隶属的企业被电信管理机构通报批评"
    assert all("近三年内（不含当年）" in r.text for r in plan.gates[1].requires[3:5])


def test_two_trained_staff_is_enough(plan: Plan) -> None:
    assert run(plan, eligible_centre(plan, trained_staff_count=2)).eligible
    assert not run(plan, eligible_centre(plan, trained_staff_count=0)).eligible


def test_article_11_inputs_are_required(plan: Plan) -> None:
    data = eligible_centre(plan)
    del data["inputs"]["trained_staff_count"]
    with pytest.raises(DataError) as info:
        read_assessment(plan, data)
    assert info.value.messages == [
        "missing input 'trained_staff_count' "
        "(获得《信息通信业服务现场系列标准宣贯》考核合格的工作人员数)"
    ]


EXPECTED = {
    "eligible": (True, "four_star", {"4.3": True, "article_11": True, "article_14_14": True}),
    "one-trained-staff": (False, None, {"4.3": True, "article_11": False, "article_14_14": True}),
    "criticised": (False, None, {"4.3": False, "article_11": False, "article_14_14": True}),
    "reapplied-too-soon": (False, None, {"4.3": True, "article_11": True, "article_14_14": False}),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_example_assessments(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = EXAMPLES / f"cace-promotion-{name}.yaml"
    code = main(["eval", str(SCHEME), str(path), "--format", "json"])
    doc = json.loads(capsys.readouterr().out, parse_float=Decimal)
    eligible, level, gates = EXPECTED[name]
    assert code == 0
    assert doc["total"] == Decimal("838.15")  # the same evidence as the 249 example
    assert (doc["eligible"], doc["level"]) == (eligible, level)
    assert {g["id"]: g["passed"] for g in doc["gates"]} == gates
    if eligible:
        assert doc["next_level"] == {"level": "five_star", "needs": Decimal("61.85")}
    else:
        assert doc["next_level"] is None


def test_data_with_the_briefs_inputs_only_is_a_first_application(plan: Plan) -> None:
    """第十四条（十四）1 applies to a centre applying again; data that does not say so is a
    first application (`default false`), so the brief's four inputs are enough."""
    data = eligible_centre(plan)
    del data["inputs"]["reapplying_within_half_year"]
    result = run(plan, data)
    assert (result.eligible, result.level) == (True, "five_star")
    assert next(i for i in plan.inputs if i.name == "reapplying_within_half_year").required is False
