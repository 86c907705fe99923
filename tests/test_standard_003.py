"""The CC-CMM star-rating scheme against seed 003: chapter 6 levels and appendix A audit time."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoredsl.cli import main
from scoredsl.data import DataError, read_assessment
from scoredsl.diagnostics import Severity
from scoredsl.evaluate import Result, evaluate
from scoredsl.loader import compile_path
from scoredsl.plan import Plan

ROOT = Path(__file__).resolve().parent.parent
SCHEME = ROOT / "standards" / "cc-cmm-star-rating.score"
EXAMPLES = ROOT / "standards" / "examples"

D = Decimal
PARTS = range(1, 6)


@pytest.fixture(scope="module")
def plan() -> Plan:
    compiled, diagnostics = compile_path(SCHEME)
    assert compiled is not None, diagnostics
    return compiled


def inputs(
    parts: dict[int, tuple[int, int, int]] | None = None,
    total_score: int | str = 3400,
    headcount: int | None = None,
) -> dict[str, Any]:
    """A 五星级 assessment (every control point compliant and executed, 总分 3400) with
    the given parts (items, method-compliant, executed) replaced."""
    chosen = {p: (100, 100, 100) for p in PARTS} | (parts or {})
    out: dict[str, Any] = {}
    for p, (items, method, executed) in chosen.items():
        out |= {f"p{p}_items": items, f"p{p}_method_compliant": method, f"p{p}_executed": executed}
    out["total_score"] = total_score
    if headcount is not None:
        out["headcount"] = headcount
    return out


def run(plan: Plan, data: dict[str, Any]) -> Result:
    return evaluate(plan, read_assessment(plan, {"scheme": "cc-cmm-star-rating", "inputs": data}))


def level(plan: Plan, **kwargs: Any) -> str | None:
    return run(plan, inputs(**kwargs)).level


# ---- the scheme itself ------------------------------------------------------------------


def test_inputs_levels_and_no_items(plan: Plan) -> None:
    names = [f"p{p}_{k}" for p in PARTS for k in ("items", "method_compliant", "executed")]
    assert [i.name for i in plan.inputs] == [*names, "total_score", "headcount"]
    assert all(i.type == "integer" for i in plan.inputs if i.name != "total_score")
    assert all(i.label and i.clause for i in plan.inputs)
    assert {i.name: i.clause for i in plan.inputs}["headcount"] == "附录A"
    assert [i.name for i in plan.inputs if not i.required] == ["headcount"]
    assert (plan.id, plan.total, plan.items) == ("cc-cmm-star-rating", 0, ())
    assert [(lv.name, lv.label, lv.en) for lv in plan.levels] == [
        ("l2", "达标级", "CC-CMM L2"),
        ("l3", "三星级", "CC-CMM L3"),
        ("l4", "四星级", "CC-CMM L4"),
        ("l5", "五星级", "CC-CMM L5"),
    ]


def test_only_the_appendix_a_gap_is_reported() -> None:
    """L5 (every part of 1.0-4.0 at 100%) implies L4's combined 1.0-4.0 shares: the group's
    sums let the level analysis see it, so no level-not-nested is left to acknowledge."""
    _, found = compile_path(SCHEME)
    diagnostics = [d for d in found if d.code != "reading"]  # readings: tests/test_readings.py
    assert [(d.code, d.severity, d.message, d.hints) for d in diagnostics] == [
        (
            "band-gap",
            Severity.NOTE,
            "no band of audit_days covers x > 1175 (e.g. 1176)",
            ("'headcount' can be anything in x >= 1",),
        ),
    ]
    assert diagnostics[0].acknowledged.startswith("附录A的表止于876~1175人")


def test_check_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(SCHEME), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert (code, report["errors"], report["warnings"]) == (0, 0, 0)
    assert [(d["code"], d["acknowledged"]) for d in report["diagnostics"]] == [
        ("band-gap", True),
        ("reading", False),
        ("reading", False),
        ("reading", False),
    ]


# ---- chapter 6: levels --------------------------------------------------------------------


def test_full_marks_is_five_star(plan: Plan) -> None:
    r = run(plan, inputs())
    assert (r.level, r.level_label, r.eligible, r.total, r.next_level) == (
        "l5",
        "五星级",
        True,
        0,
        None,
    )


# Parts 1.0-4.0 with 40 control points in all (10 each): 36 = 90%, 28 = 70%.
L2_EDGE = {p: (10, 9, 7) for p in range(1, 5)} | {5: (10, 0, 0)}


def test_l2_at_its_edges(plan: Plan) -> None:
    r = run(plan, inputs(L2_EDGE, total_score=2500))
    assert r.level == "l2"
    assert (r.values["method_share_1_4"], r.values["executed_share_1_4"]) == (D("0.9"), D("0.7"))
    assert r.next_level == ("l3", None)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({1: (10, 8, 7)}, "35 of 40 = 87.5% method-compliant < 90%"),
        ({1: (10, 9, 6)}, "27 of 40 = 67.5% executed < 70%"),
    ],
)
def test_l2_just_below_the_shares(plan: Plan, change: dict[int, Any], why: str) -> None:
    assert level(plan, parts=L2_EDGE | change, total_score=2500) is None, why


def test_l2_just_below_the_total(plan: Plan) -> None:
    assert level(plan, parts=L2_EDGE, total_score="2499.5") is None
    assert level(plan, parts=L2_EDGE, total_score=2499) is None


def test_l2_shares_are_over_parts_1_to_4_combined(plan: Plan) -> None:
    # Part 1 alone at 80% method-compliant, 1.0~4.0 together at 90%: still 达标级.
    parts = {1: (10, 8, 7), 2: (10, 10, 7), 3: (10, 9, 7), 4: (10, 9, 7), 5: (10, 0, 0)}
    r = run(plan, inputs(parts, total_score=2500))
    assert (r.values["p1_method_share"], r.values["method_share_1_4"]) == (D("0.8"), D("0.9"))
    assert r.level == "l2"


def test_l2_and_l3_ignore_part_5(plan: Plan) -> None:
    assert level(plan, parts={5: (10, 0, 0)}, total_score=2750) == "l3"
    assert level(plan, parts={5: (10, 0, 0)}, total_score=3400) == "l3"


# Parts 1.0-4.0 all method-compliant, 32 of 40 = 80% executed; 总分 2750.
L3_EDGE = {p: (10, 10, 8) for p in range(1, 5)} | {5: (10, 0, 0)}


def test_l3_at_its_edges(plan: Plan) -> None:
    assert level(plan, parts=L3_EDGE, total_score=2750) == "l3"
    assert level(plan, parts=L3_EDGE, total_score=2749) == "l2"
    assert level(plan, parts=L3_EDGE | {4: (10, 10, 7)}, total_score=2750) == "l2"  # 77.5%
    assert level(plan, parts=L3_EDGE | {4: (10, 9, 8)}, total_score=2750) == "l2"  # 97.5%


# 1.0~4.0: all method-compliant, 36 of 40 = 90% executed; 5.0: 80% / 70%; 总分 3200.
L4_EDGE = {p: (10, 10, 9) for p in range(1, 5)} | {5: (10, 8, 7)}


def test_l4_at_its_edges(plan: Plan) -> None:
    assert level(plan, parts=L4_EDGE, total_score=3200) == "l4"
    assert level(plan, parts=L4_EDGE, total_score=3199) == "l3"
    assert level(plan, parts=L4_EDGE | {1: (10, 10, 8)}, total_score=3200) == "l3"  # 87.5%


@pytest.mark.parametrize(
    ("part5", "why"),
    [((10, 7, 7), "5.0 method-compliant 70% < 80%"), ((10, 8, 6), "5.0 executed 60% < 70%")],
)
def test_a_part_5_shortfall_drops_l4_to_l3(
    plan: Plan, part5: tuple[int, int, int], why: str
) -> None:
    assert level(plan, parts=L4_EDGE | {5: part5}, total_score=3300) == "l3", why


def test_l5_at_its_edges(plan: Plan) -> None:
    # 5.0 at exactly 90% executed and 总分 exactly 3380.
    assert level(plan, parts={5: (10, 10, 9)}, total_score=3380) == "l5"
    assert level(plan, parts={5: (10, 10, 9)}, total_score=3379) == "l4"
    assert level(plan, parts={5: (100, 100, 89)}, total_score=3380) == "l4"


@pytest.mark.parametrize("p", [1, 2, 3, 4])
def test_one_part_at_99_percent_executed_is_not_five_star(plan: Plan, p: int) -> None:
    # 五星级: 每一部分 of 1.0~4.0 100% executed. 99 of 100 in one part -> 399 of 400 in 1.0~4.0
    # = 99.75% >= 90%: 四星级.
    r = run(plan, inputs({p: (100, 100, 99)}))
    assert r.values[f"p{p}_executed_share"] == D("0.99")
    assert r.values["executed_share_1_4"] == D("0.9975")
    assert (r.level, r.next_level) == ("l4", ("l5", None))


def test_one_part_at_99_percent_method_compliant_falls_to_l2(plan: Plan) -> None:
    # 三星级, 四星级 and 五星级 all need 100% of 1.0~4.0 method-compliant: 399 of 400 fails them.
    r = run(plan, inputs({3: (100, 99, 100)}))
    assert r.values["method_share_1_4"] == D("0.9975")
    assert r.level == "l2"


def test_part_5_at_99_percent(plan: Plan) -> None:
    # 5.0 needs 100% method-compliant for 五星级 but only 90% executed.
    assert level(plan, parts={5: (100, 99, 100)}) == "l4"
    assert level(plan, parts={5: (100, 100, 99)}) == "l5"


# ---- appendix A: audit time ---------------------------------------------------------------

APPENDIX_A = [
    (1, 15, "3.5"),
    (16, 25, "4.5"),
    (26, 45, "5.5"),
    (46, 65, "6"),
    (66, 85, "7"),
    (86, 125, "8"),
    (126, 175, "9"),
    (176, 275, "10"),
    (276, 425, "11"),
    (426, 625, "12"),
    (626, 875, "13"),
    (876, 1175, "15"),
]


def audit(plan: Plan, headcount: int) -> tuple[Decimal | None, ...]:
    values = run(plan, inputs(headcount=headcount)).values
    return tuple(values[k] for k in ("audit_days", "surveillance_days", "recertification_days"))


@pytest.mark.parametrize(
    ("headcount", "expected"),
    [
        # 3.5 days; 1/3 = 1.1667 and 2/3 = 2.3333 rounded up to the half day.
        (15, ("3.5", "1.5", "2.5")),
        (16, ("4.5", "1.5", "3")),
        (1175, ("15", "5", "10")),
    ],
)
def test_audit_days(plan: Plan, headcount: int, expected: tuple[str, str, str]) -> None:
    assert audit(plan, headcount) == tuple(D(x) for x in expected)


def test_audit_days_table(plan: Plan) -> None:
    for low, high, days in APPENDIX_A:
        assert audit(plan, low)[0] == audit(plan, high)[0] == D(days), (low, high)


def test_audit_days_beyond_the_table_and_without_headcount(plan: Plan) -> None:
    assert audit(plan, 1176) == (None, None, None)
    r = run(plan, inputs())
    assert "headcount" not in inputs()
    assert r.values["audit_days"] is None and r.level == "l5"


def test_headcount_zero_is_refused(plan: Plan) -> None:
    with pytest.raises(DataError, match="headcount"):
        run(plan, inputs(headcount=0))


# ---- the example files ------------------------------------------------------------------

ALL_VALUES = [
    "p1_method_share",
    "p1_executed_share",
    "p2_method_share",
    "p2_executed_share",
    "p3_method_share",
    "p3_executed_share",
    "p4_method_share",
    "p4_executed_share",
    "p5_method_share",
    "p5_executed_share",
    "items_1_4",
    "method_compliant_1_4",
    "executed_1_4",
    "method_share_1_4",
    "executed_share_1_4",
    "audit_days",
    "surveillance_days",
    "recertification_days",
]


def share(a: int, b: int) -> Decimal:
    """a / b by the arithmetic rule: rounded half-even to 12 places (docs/language.md)."""
    return (D(a) / D(b)).quantize(D("1e-12"), rounding=ROUND_HALF_EVEN)


EXAMPLE_RESULTS: dict[str, dict[str, Any]] = {
    "five-star": {
        "level": "l5",
        "level_label": "五星级",
        "next_level": None,
        "values": {
            "p5_executed_share": D("0.95"),
            "items_1_4": 155,
            "method_share_1_4": 1,
            "executed_share_1_4": 1,
            "audit_days": 11,
            "surveillance_days": 4,
            "recertification_days": D("7.5"),
        },
    },
    "four-star": {
        "level": "l4",
        "level_label": "四星级",
        "next_level": {"level": "l5", "needs": None},
        "values": {
            "p5_method_share": D("0.85"),
            "p5_executed_share": D("0.75"),
            "executed_1_4": 145,
            "method_share_1_4": 1,
            "executed_share_1_4": share(145, 155),
            "audit_days": 9,
            "surveillance_days": 3,
            "recertification_days": 6,
        },
    },
    "part5-shortfall": {
        "level": "l3",
        "level_label": "三星级",
        "next_level": {"level": "l4", "needs": None},
        "values": {
            "p5_method_share": D("0.75"),
            "method_share_1_4": 1,
            "executed_share_1_4": share(145, 155),
            "audit_days": None,
            "surveillance_days": None,
            "recertification_days": None,
        },
    },
    "pass-level": {
        "level": "l2",
        "level_label": "达标级",
        "next_level": {"level": "l3", "needs": None},
        "values": {
            "method_compliant_1_4": 144,
            "executed_1_4": 119,
            "method_share_1_4": share(144, 155),
            "executed_share_1_4": share(119, 155),
            "audit_days": 6,
            "surveillance_days": 2,
            "recertification_days": 4,
        },
    },
    "unrated": {
        "level": None,
        "level_label": None,
        "next_level": {"level": "l2", "needs": None},
        "values": {
            "method_compliant_1_4": 138,
            "method_share_1_4": share(138, 155),
            "executed_share_1_4": share(123, 155),
            "audit_days": D("3.5"),
            "surveillance_days": D("1.5"),
            "recertification_days": D("2.5"),
        },
    },
}


@pytest.mark.parametrize("case", sorted(EXAMPLE_RESULTS))
def test_example_file(capsys: pytest.CaptureFixture[str], case: str) -> None:
    path = EXAMPLES / f"cc-cmm-star-rating-{case}.yaml"
    code = main(["eval", str(SCHEME), str(path), "--format", "json"])
    result = json.loads(capsys.readouterr().out, parse_float=Decimal)
    expected = EXAMPLE_RESULTS[case]
    assert code == 0
    assert result["scheme"]["id"] == "cc-cmm-star-rating"
    assert (result["eligible"], result["gates"], result["total"], result["max"]) == (
        True,
        [],
        0,
        0,
    )
    assert result["items"] == []
    for key in ("level", "level_label", "next_level"):
        assert result[key] == expected[key], key
    assert list(result["values"]) == ALL_VALUES
    for name, value in expected["values"].items():
        assert result["values"][name] == value, name
    # Every value agrees with the data in the file.
    data = yaml.safe_load(path.read_text(encoding="utf-8"))["inputs"]
    for p in PARTS:
        n = data[f"p{p}_items"]
        assert result["values"][f"p{p}_method_share"] == share(data[f"p{p}_method_compliant"], n)
        assert result["values"][f"p{p}_executed_share"] == share(data[f"p{p}_executed"], n)


def test_every_example_file_is_tested() -> None:
    files = sorted(p.name for p in EXAMPLES.glob("cc-cmm-star-rating-*.yaml"))
    assert files == sorted(f"cc-cmm-star-rating-{c}.yaml" for c in EXAMPLE_RESULTS)
