"""The T/CCSA 249-2019 scheme against the seed document: table 1, bands, vetoes, levels."""

from __future__ import annotations

from decimal import Decimal

from scoredsl.plan import Plan

# Table 1 (6.3): 大项, 分值, and each 小项 with its 分值.
TABLE_1 = {
    "5.1": (50, {"5.1.1": 20, "5.1.2": 20, "5.1.3": 10}),
    "5.2": (50, {"5.2.1": 20, "5.2.2": 20, "5.2.3": 10}),
    "5.3": (100, {"5.3.1": 20, "5.3.2": 30, "5.3.3": 50}),
    "5.4": (300, {"5.4.1": 60, "5.4.2": 60, "5.4.3": 150, "5.4.4": 20, "5.4.5": 10}),
    "5.5": (210, {"5.5.1": 100, "5.5.2": 70, "5.5.3": 30, "5.5.4": 10}),
    "5.6": (290, {"5.6.1": 20, "5.6.2": 90, "5.6.3": 10, "5.6.4": 10, "5.6.5": 20,
                  "5.6.6": 20, "5.6.7": 70, "5.6.8": 30, "5.6.9": 20}),
}  # fmt: skip

JUDGED_5_6 = {"5.6.1", "5.6.2.1", "5.6.3", "5.6.4", "5.6.5", "5.6.6", "5.6.7.1", "5.6.8.1", "5.6.9"}
BANDED = {"5.6.2.2", "5.6.2.3", "5.6.2.4", "5.6.2.5", "5.6.7.2", "5.6.7.3", "5.6.7.4", "5.6.8.2"}


def test_table_1(plan249: Plan) -> None:
    tops = {i.id: i for i in plan249.top_items}
    assert list(tops) == list(TABLE_1)
    for big, (points, small) in TABLE_1.items():
        assert tops[big].max == points
        children = {c: plan249.item(c).max for c in tops[big].children}
        assert children == small
    assert plan249.total == 1000 == sum(p for p, _ in TABLE_1.values())


def test_item_counts_and_kinds(plan249: Plan) -> None:
    kinds = {k: sorted(i.id for i in plan249.items if i.kind == k) for k in ("judged", "banded")}
    assert len(plan249.items) == 77
    assert set(kinds["banded"]) == BANDED
    assert {i for i in kinds["judged"] if i.startswith("5.6")} == JUDGED_5_6
    assert len(kinds["judged"]) == 52


def test_bands_of_the_complaint_rate(plan249: Plan) -> None:
    show = plan249.input("complaint_rate").show
    bands = {b.describe(show): b.result for b in plan249.item("5.6.2.4").bands}
    assert bands == {
        "x < 0.5%": Decimal(20),
        "0.5% <= x < 0.8%": Decimal(10),
        "0.8% <= x < 1%": Decimal(5),
        "x >= 1%": Decimal(0),
    }


def test_vetoes_gate_levels(plan249: Plan) -> None:
    assert [v.text for v in plan249.item("5.6.6").vetoes] == [
        "info_security_incident or secrecy_check_problem"
    ]
    assert len(plan249.item("5.6.9").vetoes) == 1
    (gate,) = plan249.gates
    assert (gate.id, gate.label, len(gate.requires)) == ("4.3", "基本条件", 2)
    assert [(lv.name, lv.label, lv.min_total) for lv in plan249.levels] == [
        ("three_star", "三星级", Decimal(700)),
        ("four_star", "四星级", Decimal(800)),
        ("five_star", "五星级", Decimal(900)),
    ]
    assert (plan249.severe_depth, plan249.findings) == (2, True)
