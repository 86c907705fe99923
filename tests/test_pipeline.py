"""The pipeline: one load, a typed plan that round-trips, the compiled evaluator's rules."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from scoredsl.cli import main
from scoredsl.data import DataError, read_assessment
from scoredsl.evaluate import Program, divide, evaluate, multiply
from scoredsl.loader import compile_path, load
from scoredsl.plan import (
    FORMAT_VERSION,
    Arith,
    ArithOp,
    InputRef,
    ItemKind,
    Num,
    Plan,
    PlanFormatError,
    walk,
)
from tests.conftest import ROOT, STANDARDS

SCHEMES = sorted(STANDARDS.glob("*.score"))


@pytest.mark.parametrize("scheme", SCHEMES, ids=[p.stem for p in SCHEMES])
def test_every_shipped_plan_round_trips_with_a_stable_hash(scheme: Path) -> None:
    plan, _ = compile_path(scheme)
    again, _ = compile_path(scheme)
    assert plan is not None and again is not None
    assert plan.hash == again.hash and len(plan.hash) == 64
    read = Plan.from_json(plan.to_json())
    assert read == plan and read.hash == plan.hash
    assert read.to_json() == plan.to_json()


def test_the_hash_is_the_same_in_another_process() -> None:
    plan, _ = compile_path(STANDARDS / "t-ccsa-249-2019.score")
    assert plan is not None
    code = (
        "from scoredsl.loader import compile_path;"
        "print(compile_path('standards/t-ccsa-249-2019.score')[0].hash)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == plan.hash


def test_expressions_are_typed_classes(plan249: Plan) -> None:
    veto = plan249.item("5.6.9").vetoes[0]
    names = [e.name for e in walk(veto.condition) if isinstance(e, InputRef)]
    assert names == [
        "safety_accident",
        "security_facility_intact_rate",
        "drill_plan_completion_rate",
    ]
    assert plan249.item("5.6.2.2").kind is ItemKind.BANDED
    assert [b.is_else for b in plan249.item("5.6.2.2").bands] == [False] * 4


def test_an_old_plan_names_both_versions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan, _ = compile_path(STANDARDS / "t-ccsa-249-2019.score")
    assert plan is not None
    doc = json.loads(plan.to_json())
    doc["format_version"] = 1
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    example = STANDARDS / "examples" / "t-ccsa-249-2019.yaml"
    assert main(["eval", str(path), str(example)]) == 1
    assert capsys.readouterr().err == (
        f"scoredsl: {path}: not a usable plan: this plan has format_version 1, but this "
        f"scoredsl reads format_version {FORMAT_VERSION}: compile the scheme again\n"
    )
    with pytest.raises(PlanFormatError):
        Plan.from_dict([1, 2])


def test_a_scheme_with_examples_is_lowered_and_hashed_once() -> None:
    loaded = load(STANDARDS / "t-ccua-operation-capability.score")
    assert loaded.plan is not None
    assert loaded.plan.hash and loaded.plan.acknowledged
    assert compile_path(STANDARDS / "t-ccua-operation-capability.score")[0] == loaded.plan


def test_a_plan_is_compiled_once(plan249: Plan) -> None:
    assert Program.of(plan249) is Program.of(plan249)


def test_products_and_quotients_keep_twelve_places() -> None:
    assert divide(Decimal(1), Decimal(3)) == Decimal("0.333333333333")
    assert divide(Decimal(2), Decimal(3)) == Decimal("0.666666666667")
    assert divide(Decimal(1), Decimal(8)) == Decimal("0.125")
    assert multiply(Decimal("0.0000001"), Decimal("0.0000015")) == Decimal("0")
    assert multiply(Decimal("0.000001"), Decimal("0.0000015")) == Decimal("0.000000000002")


def test_a_sample_deduction_is_one_division(plan249: Plan, data249: dict[str, Any]) -> None:
    del data249["scores"]["5.4.3.1"]
    data249["findings"] = {"5.4.3.1": {"samples": 3, "problems": 1}}
    result = evaluate(plan249, read_assessment(plan249, data249))
    item = next(i for i in result.items if i.id == "5.4.3.1")
    assert (item.score, item.status, item.why) == (
        Decimal(10),
        "deducted",
        "1 problem(s) in 3 samples: 15 x (1 - 1/3) = 10",
    )


def test_an_unknown_input_does_not_hide_a_missing_score(
    plan249: Plan, data249: dict[str, Any]
) -> None:
    data249["inputs"]["x5.1.1"] = 1
    del data249["scores"]["5.1.1"]
    with pytest.raises(DataError) as info:
        read_assessment(plan249, data249)
    assert [(p.code, p.where) for p in info.value.problems] == [
        ("unknown-input", ("inputs", "x5.1.1")),
        ("missing-score", ("scores", "5.1.1")),
    ]
    assert info.value.messages[1] == "missing a score or findings for 5.1.1 (明确目标, 0 to 20)"


def test_too_many_decimal_places_are_refused(plan249: Plan, data249: dict[str, Any]) -> None:
    data249["inputs"]["customer_satisfaction_rate"] = "96.12345678901%"
    data249["scores"]["5.1.1"] = Decimal("1.0000000000001")
    with pytest.raises(DataError) as info:
        read_assessment(plan249, data249)
    assert info.value.messages == [
        "input 'customer_satisfaction_rate' has more than 12 decimal places: '96.12345678901%'",
        "scores: 5.1.1 (明确目标) has more than 12 decimal places",
    ]


WEIGHTED_GATE = """\
scheme w "weighted gate" {
  input a: number 0 <= _ <= 100 "a"
  input b: number 0 <= _ <= 100 "b"
  gate g "g" {
    require weighted { a 50% b 50% } >= 60 "the weighted mean is at least 60"
  }
  item 1 "one" 10
}
"""


def test_inputs_inside_weighted_are_named_in_the_facts(tmp_path: Path) -> None:
    path = tmp_path / "w.score"
    path.write_text(WEIGHTED_GATE, encoding="utf-8")
    plan, diagnostics = compile_path(path)
    assert plan is not None, diagnostics
    result = evaluate(
        plan, read_assessment(plan, {"inputs": {"a": 50, "b": 60}, "scores": {"1": 5}})
    )
    assert result.gates[0].why == "not met: the weighted mean is at least 60 (a is 50, b is 60)"


def test_the_evaluator_fails_loudly_on_an_unknown_expression(plan249: Plan) -> None:
    program = Program.of(plan249)
    assert program.expr(Arith(ArithOp.ADD, Num(Decimal(1)), Num(Decimal(2))))(None) == 3  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="no rule"):
        program.expr("not an expression")  # type: ignore[arg-type]


def test_import_scoredsl_leaves_the_heavy_libraries_alone() -> None:
    code = (
        "import sys, scoredsl;"
        "print(sorted(m for m in ('lark', 'jinja2', 'yaml', 'cattrs', 'duckdb', 'sqlglot',"
        " 'openpyxl') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
