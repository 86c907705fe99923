"""Bad assessment data: every rule of the data contract, each with its exact message."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from scoredsl.data import DataError, read_assessment
from scoredsl.plan import Plan


def problems(plan: Plan, data: dict[str, Any]) -> list[str]:
    with pytest.raises(DataError) as info:
        read_assessment(plan, data)
    return info.value.messages


def test_bare_number_above_one_for_a_percent(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["inputs"]["customer_satisfaction_rate"] = Decimal("96.5")
    assert problems(plan249, data249) == [
        "input 'customer_satisfaction_rate' (顾客满意率) is a percentage: 96.5 is not a fraction "
        'between 0 and 1; write "96.5%"'
    ]


def test_missing_input(plan249: Plan, data249: dict[str, Any]) -> None:
    del data249["inputs"]["complaint_rate"]
    assert problems(plan249, data249) == ["missing input 'complaint_rate' (顾客投诉率)"]


def test_unknown_input_with_did_you_mean(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["inputs"]["customer_satisfaction"] = "90%"
    assert problems(plan249, data249) == [
        "unknown input 'customer_satisfaction' (did you mean 'customer_satisfaction_rate'?)"
    ]


def test_percent_out_of_range(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["inputs"]["call_completion_rate"] = "101%"
    assert problems(plan249, data249) == [
        "input 'call_completion_rate' (顾客接通率) is 101%, outside its range 0% <= x <= 100%"
    ]


def test_wrong_type_for_bool(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["inputs"]["safety_accident"] = "maybe"
    assert problems(plan249, data249) == [
        "input 'safety_accident' (近一年内发生生产安全事故) must be true or false, not 'maybe'"
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (25, "scores: 5.1.1 (明确目标) is given 25 but is worth 0 to 20"),
        (-1, "scores: 5.1.1 (明确目标) is given -1 but is worth 0 to 20"),
        ("lots", "scores: 5.1.1 (明确目标) must be a number, not 'lots'"),
    ],
)
def test_bad_scores(plan249: Plan, data249: dict[str, Any], value: object, message: str) -> None:
    data249["scores"]["5.1.1"] = value
    assert problems(plan249, data249) == [message]


def test_missing_score(plan249: Plan, data249: dict[str, Any]) -> None:
    del data249["scores"]["5.1.1"]
    assert problems(plan249, data249) == [
        "missing a score or findings for 5.1.1 (明确目标, 0 to 20)"
    ]


def test_score_for_a_banded_item(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["scores"]["5.6.2.2"] = 10
    assert problems(plan249, data249) == [
        "scores: 5.6.2.2 (顾客满意率) is scored by bands: it cannot be given a score"
    ]


def test_score_and_findings(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["findings"] = {"5.4.3.2": {"samples": 20, "problems": 3}}
    assert problems(plan249, data249) == [
        "findings: 5.4.3.2 (设备设施管理) has both a score and findings: give one"
    ]


def test_more_problems_than_samples(plan249: Plan, data249: dict[str, Any]) -> None:
    del data249["scores"]["5.4.3.2"]
    data249["findings"] = {"5.4.3.2": {"samples": 3, "problems": 4}}
    assert problems(plan249, data249) == [
        "findings: 5.4.3.2 (设备设施管理): 4 problems is more than the 3 samples"
    ]


def test_scheme_mismatch(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["scheme"] = "cmm-525-0006"
    assert problems(plan249, data249) == [
        "this data is for scheme 'cmm-525-0006', not 't-ccsa-249-2019'"
    ]


def test_ambiguous_label_names_the_candidates(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["scores"]["数据分析"] = 5
    assert problems(plan249, data249) == [
        "scores: label '数据分析' is used by 3 items (5.6.2.1, 5.6.7.1, 5.6.8.1); use the id"
    ]


def test_unique_label_is_a_key(plan249: Plan, data249: dict[str, Any]) -> None:
    del data249["scores"]["5.1.1"]
    data249["scores"]["明确目标"] = 18
    assert read_assessment(plan249, data249).scores["5.1.1"] == 18


def test_severe_only_at_its_depth(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["severe"] = ["5.4.3.1"]
    assert problems(plan249, data249) == [
        "severe: 5.4.3.1 is at depth 3; the severe rule applies to items at depth 2"
    ]


def test_unknown_top_level_key(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["score"] = {}
    assert problems(plan249, data249) == [
        "unknown key 'score' (did you mean 'scores'?); expected id, scheme, inputs, scores, "
        "findings, severe"
    ]


def test_all_problems_reported_together(plan249: Plan, data249: dict[str, Any]) -> None:
    del data249["inputs"]["complaint_rate"]
    data249["scores"]["5.1.1"] = 25
    assert len(problems(plan249, data249)) == 2
