"""Evaluation of T/CCSA 249-2019 with hand-computed expectations (seed 000)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from scoredsl.data import read_assessment
from scoredsl.evaluate import Result, evaluate
from scoredsl.plan import Plan


def run(plan: Plan, data: dict[str, Any]) -> Result:
    return evaluate(plan, read_assessment(plan, data))


def item(result: Result, item_id: str) -> tuple[Decimal, str, str]:
    found = next(i for i in result.items if i.id == item_id)
    return found.score, found.status, found.why


def test_full_marks(plan249: Plan, data249: dict[str, Any]) -> None:
    r = run(plan249, data249)
    assert (r.total, r.level, r.eligible, r.next_level) == (Decimal(1000), "five_star", True, None)
    assert len(r.items) == len(plan249.items) == 77
    assert r.level_label == "五星级"


@pytest.mark.parametrize(
    ("rate", "points"),
    [
        ("89.99%", 0),
        ("90%", 5),
        ("94.99%", 5),
        ("95%", 10),
        ("97.9%", 10),
        ("98%", 20),
        ("100%", 20),
    ],
)
def test_satisfaction_band_boundaries(
    plan249: Plan, data249: dict[str, Any], rate: str, points: int
) -> None:
    data249["inputs"]["customer_satisfaction_rate"] = rate
    r = run(plan249, data249)
    assert item(r, "5.6.2.2")[0] == points
    assert r.total == 1000 - 20 + points


@pytest.mark.parametrize(
    ("rate", "points"),
    [("0.49%", 20), ("0.5%", 10), ("0.79%", 10), ("0.8%", 5), ("0.99%", 5), ("1%", 0), ("5%", 0)],
)
def test_complaint_rate_lower_is_better(
    plan249: Plan, data249: dict[str, Any], rate: str, points: int
) -> None:
    data249["inputs"]["complaint_rate"] = rate
    assert item(run(plan249, data249), "5.6.2.4")[0] == points


def test_fraction_input_means_the_same_as_percent(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["inputs"]["customer_satisfaction_rate"] = Decimal("0.965")
    score, status, why = item(run(plan249, data249), "5.6.2.2")
    assert (score, status, why) == (
        Decimal(10),
        "banded",
        "顾客满意率 96.5% is in 95% <= x < 98%: 10 of 20",
    )


def test_pass_fail_band(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["inputs"]["training_plan_completion_rate"] = "99.9%"
    assert item(run(plan249, data249), "5.6.7.2")[:2] == (Decimal(0), "banded")


def test_veto_information_security(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["inputs"]["info_security_incident"] = True
    r = run(plan249, data249)
    score, status, why = item(r, "5.6.6")
    assert (score, status) == (Decimal(0), "vetoed")
    assert why.startswith("vetoed: info_security_incident or secrecy_check_problem holds")
    assert "info_security_incident is true" in why
    assert r.total == 980


@pytest.mark.parametrize(
    ("name", "value"),
    [("safety_accident", True), ("security_facility_intact_rate", "99%"),
     ("drill_plan_completion_rate", "90%")],
)  # fmt: skip
def test_veto_environment_and_safety(
    plan249: Plan, data249: dict[str, Any], name: str, value: object
) -> None:
    data249["inputs"][name] = value
    r = run(plan249, data249)
    assert item(r, "5.6.9")[:2] == (Decimal(0), "vetoed")
    assert r.total == 980


def test_gate_fails_no_level_but_total_reported(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["inputs"]["major_safety_accident_3y"] = True
    r = run(plan249, data249)
    assert (r.eligible, r.level, r.total) == (False, None, Decimal(1000))
    (gate,) = r.gates
    assert (gate.id, gate.passed) == ("4.3", False)
    assert gate.why == (
        "not met: 近三年内现场未发生较大及以上的生产安全事故 (major_safety_accident_3y is true)"
    )


def test_severe_zeroes_the_whole_subtree(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["severe"] = ["5.4.3"]
    r = run(plan249, data249)
    assert item(r, "5.4.3")[:2] == (Decimal(0), "severe")
    assert all(item(r, f"5.4.3.{k}")[:2] == (Decimal(0), "severe") for k in range(1, 11))
    assert item(r, "5.4")[0] == 150
    assert (r.total, r.level) == (Decimal(850), "four_star")
    assert r.next_level == ("five_star", Decimal(50))


def test_severe_beats_veto_and_score(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["severe"] = ["5.6.6"]
    data249["inputs"]["info_security_incident"] = True
    assert item(run(plan249, data249), "5.6.6")[1] == "severe"


def test_sample_deduction(plan249: Plan, data249: dict[str, Any]) -> None:
    del data249["scores"]["5.4.3.2"]
    data249["findings"] = {"5.4.3.2": {"samples": 20, "problems": 3}}
    r = run(plan249, data249)
    assert item(r, "5.4.3.2") == (
        Decimal("12.75"),
        "deducted",
        "3 problem(s) in 20 samples: 15 x (1 - 3/20) = 12.75",
    )
    assert r.total == Decimal("997.75")


def _lower(data: dict[str, Any], ids: list[str]) -> None:
    for item_id in ids:
        data["scores"][item_id] = 0


@pytest.mark.parametrize(
    ("last", "total", "level", "needs"),
    [
        (Decimal("9.5"), Decimal("699.5"), None, ("three_star", Decimal("0.5"))),
        (Decimal(10), Decimal(700), "three_star", ("four_star", Decimal(100))),
    ],
)
def test_three_star_threshold(
    plan249: Plan, data249: dict[str, Any], last: Decimal, total: Decimal, level: str | None,
    needs: tuple[str, Decimal],
) -> None:  # fmt: skip
    # 1000 - 150 (5.4.3) - 100 (5.5.1) - 30 (5.3.2) - 20 (5.3.1) = 700, then 5.1.3 decides.
    _lower(data249, [f"5.4.3.{k}" for k in range(1, 11)] + [f"5.5.1.{k}" for k in range(1, 5)])
    _lower(data249, ["5.3.2", "5.3.1"])
    data249["scores"]["5.1.3"] = last
    r = run(plan249, data249)
    assert (r.total, r.level, r.next_level) == (total, level, needs)


@pytest.mark.parametrize(
    ("score", "total", "level"),
    [(Decimal("19.99"), Decimal("899.99"), "four_star"), (Decimal(20), Decimal(900), "five_star")],
)
def test_five_star_threshold(
    plan249: Plan, data249: dict[str, Any], score: Decimal, total: Decimal, level: str
) -> None:
    _lower(data249, [f"5.5.1.{k}" for k in range(1, 5)])
    data249["scores"]["5.1.1"] = score
    r = run(plan249, data249)
    assert (r.total, r.level) == (total, level)


def test_result_json_shape(plan249: Plan, data249: dict[str, Any]) -> None:
    doc = run(plan249, data249).to_dict()
    assert list(doc) == ["scheme", "eligible", "gates", "total", "max", "level", "level_label",
                         "next_level", "values", "outcome", "items"]  # fmt: skip
    assert list(doc["scheme"]) == ["id", "title", "version", "hash"]
    assert doc["items"][0] == {
        "id": "5.1", "parent": None, "title": "领导的作用", "max": Decimal(50),
        "score": Decimal(50), "status": "computed", "why": "sum of its 3 items: 20 + 20 + 10",
    }  # fmt: skip
    assert doc["scheme"]["hash"] == plan249.hash and len(plan249.hash) == 64
