"""Named outcomes (`outcomes { ... }`, `gate ID`, `expect outcome`) and a declared meaning
for a zero divisor (`a / b else x`): parse, check, format, plan, both engines, docs."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoredsl.batch import read_single
from scoredsl.builder import parse_source
from scoredsl.checks import check
from scoredsl.cli import main
from scoredsl.data import read_assessment
from scoredsl.evaluate import Result, evaluate
from scoredsl.fmt import format_source
from scoredsl.loader import compile_path, load_text
from scoredsl.plan import OnZero, Plan
from scoredsl.render.documents import report_document, scheme_document
from scoredsl.source import Source
from tests.strategies import GenScheme, assessments, schemes
from tests.test_sql import _sql_result, assert_same_output, flags, write_csv

ROOT = Path(__file__).resolve().parent.parent
CMM = ROOT / "standards" / "cmm-525-0006.score"
EXAMPLES = ROOT / "standards" / "examples"

SCHEME = """\
scheme t "t" {
  total 10
  input a: integer "a"
  input b: integer "b"
  input bad: bool "bad"
  input minor: bool "minor"
  gate g1 "准入" {
    require not bad "无不良记录"
  }
  value ratio "比率" = a / b else 0
  value share "占比" = (a + 1) / (b + 1)
  item 1 "x" 10
  outcomes {
    reading "先判定准入"
    refused "不予通过" clause 6.3.2 when not gate g1 en "refused"
    conditional "有条件通过" clause 6.3.2 when minor or ratio > 1 en "conditional"
    passed "通过" clause 6.3.2 else en "passed"
  }
  example "通过" {
    given a = 1
    given b = 0
    given bad = false
    given minor = false
    score 1 = 3
    expect outcome passed
  }
}
"""


def compile_text(tmp_path: Path, text: str, name: str = "t.score") -> Plan:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    plan, diagnostics = compile_path(path)
    assert plan is not None, [d.message for d in diagnostics]
    return plan


def run(plan: Plan, inputs: dict[str, Any], scores: dict[str, Any] | None = None) -> Result:
    return evaluate(plan, read_assessment(plan, {"inputs": inputs, "scores": scores or {"1": 3}}))


@pytest.fixture
def plan(tmp_path: Path) -> Plan:
    return compile_text(tmp_path, SCHEME)


def row(a: int, b: int, bad: bool = False, minor: bool = False) -> dict[str, Any]:
    return {"a": a, "b": b, "bad": bad, "minor": minor}


# ---- the language --------------------------------------------------------------------------


def test_outcomes_parse_in_order_with_else_last() -> None:
    scheme, diagnostics = parse_source(Source("t.score", SCHEME))
    assert diagnostics == [] and scheme is not None
    got = [(o.name, o.label, o.clause, o.en, o.condition is None) for o in scheme.outcomes]
    assert got == [
        ("refused", "不予通过", "6.3.2", "refused", False),
        ("conditional", "有条件通过", "6.3.2", "conditional", False),
        ("passed", "通过", "6.3.2", "passed", True),
    ]


def test_the_formatter_keeps_outcomes_and_else_and_is_stable() -> None:
    messy = SCHEME.replace("  outcomes {\n", "  outcomes {   ").replace(
        "= a / b else 0", "=  (a/b) else 0"
    )
    formatted, diagnostics = format_source(Source("t.score", messy))
    assert diagnostics == [] and formatted is not None
    assert formatted == SCHEME
    again, _ = format_source(Source("t.score", formatted))
    assert again == formatted


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("(a / b else 0) * 100%", "(a / b else 0) * 100%"),
        ("a / b * 100% else 0", "a / b * 100% else 0"),
        ("a / (b else 1)", "a / (b else 1)"),
        ("(a / b else 0) else 1", "(a / b else 0) else 1"),
    ],
)
def test_else_binds_between_sums_and_comparisons(text: str, printed: str) -> None:
    source = f'scheme t "t" {{\n  input a: integer\n  input b: integer\n  value v = {text}\n}}\n'
    formatted, diagnostics = format_source(Source("t.score", source))
    assert diagnostics == [] and formatted is not None
    assert f"  value v = {printed}\n" in formatted


def test_unknown_gates_and_gates_read_too_early_are_unknown_names() -> None:
    text = (
        SCHEME.replace("when not gate g1", "when not gate g1x")
        .replace(
            'value share "占比" = (a + 1) / (b + 1)',
            'value share "占比" = (a + 1) / (b + 1)\n'
            '  item 2 "y" 0 {\n    veto when gate g1 "v"\n  }',
        )
        .replace("expect outcome passed", "expect outcome pased")
    )
    scheme, _ = parse_source(Source("t.score", text))
    assert scheme is not None
    found = [(d.code, d.message, d.hints) for d in check(scheme) if d.code == "unknown-name"]
    assert found == [
        ("unknown-name", "gate g1 can only be read in levels and outcomes",
         ("a gate is decided after every item and value is scored",)),
        ("unknown-name", "there is no gate g1x", ("did you mean 'g1'?",)),
        ("unknown-name", "there is no outcome 'pased'", ("did you mean 'passed'?",)),
    ]  # fmt: skip


def test_a_duplicate_outcome_is_a_duplicate_id() -> None:
    text = SCHEME.replace('passed "通过" clause 6.3.2 else', 'refused "通过" clause 6.3.2 else')
    text = text.replace("expect outcome passed", "expect outcome refused")
    scheme, _ = parse_source(Source("t.score", text))
    assert scheme is not None
    found = [d for d in check(scheme) if d.code == "duplicate-id"]
    assert [(d.message, d.span.start_position) for d in found] == [
        ("outcome 'refused' is already defined on line 15", (17, 5))
    ]


def test_an_outcome_with_an_earlier_condition_is_unreachable() -> None:
    text = SCHEME.replace(
        '    passed "通过"', '    again "重复" when minor or ratio > 1\n    passed "通过"'
    )
    scheme, _ = parse_source(Source("t.score", text))
    assert scheme is not None
    found = [(d.code, d.message) for d in check(scheme) if d.code.startswith("outcome")]
    assert found == [
        ("outcome-unreachable", "outcome 'again' has the same condition as 'conditional', "
         "which comes first: it is never decided"),
    ]  # fmt: skip


def test_outcomes_over_the_total_are_analysed_exactly() -> None:
    outcomes = """  outcomes {
    low "低" when total < 5
    mid "中" when total <= 4
    big "高" when total > 12
    rest "其他" when total >= 5
  }
"""
    text = SCHEME[: SCHEME.index("  outcomes {")] + outcomes + "}\n"
    scheme, _ = parse_source(Source("t.score", text))
    assert scheme is not None
    found = [(d.code, d.message) for d in check(scheme) if d.code.startswith("outcome")]
    assert found == [
        ("outcome-unreachable", "outcome 'mid' is never decided: every total it covers is "
         "taken by an outcome before it (the first that holds is decided)"),
        ("outcome-unreachable", "outcome 'big' needs total > 12 but totals range from 0 to 10"),
    ]  # fmt: skip


# ---- evaluation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "outcome", "why_en", "why_zh"),
    [
        (row(1, 0, bad=True, minor=True), "refused",
         "not gate g1 holds [gate(s) not met: g1]; none of the 0 outcome(s) before it holds",
         "not gate g1 成立（未满足的条件：g1）；排在它之前的 0 个结论均不成立"),
        (row(3, 2), "conditional",
         "minor or ratio > 1 holds (minor is false); none of the 1 outcome(s) before it holds",
         "minor or ratio > 1 成立（minor为否）；排在它之前的 1 个结论均不成立"),
        (row(1, 0), "passed", "none of the 2 outcome(s) before it holds",
         "排在它之前的 2 个结论均不成立"),
    ],
)  # fmt: skip
def test_the_first_outcome_that_holds_is_decided_with_why(
    plan: Plan, inputs: dict[str, Any], outcome: str, why_en: str, why_zh: str
) -> None:
    result = run(plan, inputs)
    assert result.outcome == outcome
    assert result.outcome_text("en") == why_en
    assert result.outcome_text("zh") == why_zh
    doc = result.to_dict("en")
    labels = {"refused": "不予通过", "conditional": "有条件通过", "passed": "通过"}
    assert doc["outcome"] == {
        "id": outcome, "label": labels[outcome], "en": outcome, "clause": "6.3.2",
        "why": why_en,
    }  # fmt: skip
    assert result.level is None  # `level` keeps its contract


def test_an_outcome_is_decided_although_not_eligible(plan: Plan) -> None:
    result = run(plan, row(1, 1, bad=True))
    assert (result.eligible, result.outcome) == (False, "refused")


def test_no_outcome_holds_gives_null(tmp_path: Path) -> None:
    text = SCHEME.replace('    passed "通过" clause 6.3.2 else en "passed"\n', "").replace(
        "expect outcome passed", "expect outcome none"
    )
    plan = compile_text(tmp_path, text)
    result = run(plan, row(1, 0))
    assert (result.outcome, result.outcome_text("en"), result.to_dict()["outcome"]) == (
        None, None, None
    )  # fmt: skip


def test_a_scheme_without_outcomes_gives_outcome_null() -> None:
    plan, _ = compile_path(ROOT / "standards" / "t-ccsa-249-2019.score")
    assert plan is not None
    raw = read_single(EXAMPLES / "t-ccsa-249-2019.yaml")
    doc = evaluate(plan, read_assessment(plan, raw)).to_dict()
    assert doc["outcome"] is None
    assert list(doc)[-2:] == ["outcome", "items"]


def test_a_failed_expect_outcome_says_what_it_got(tmp_path: Path) -> None:
    text = SCHEME.replace("expect outcome passed", "expect outcome refused")
    path = tmp_path / "t.score"
    path.write_text(text, encoding="utf-8")
    loaded = load_text(text, path)
    found = [(d.code, d.message) for d in loaded.diagnostics if d.code == "example-failed"]
    assert found == [("example-failed", 'example "通过" expects outcome refused but gets passed')]


# ---- a zero divisor --------------------------------------------------------------------------


def test_else_gives_its_value_when_the_divisor_is_zero(plan: Plan) -> None:
    assert run(plan, row(3, 0)).values == {"ratio": Decimal(0), "share": Decimal(4)}
    assert run(plan, row(3, 2)).values == {"ratio": Decimal("1.5"),
                                           "share": Decimal("1.333333333333")}  # fmt: skip


def test_else_does_not_hide_a_missing_input(tmp_path: Path) -> None:
    text = SCHEME.replace("input a: integer", "input a: integer\n  input c: integer").replace(
        'value ratio "比率" = a / b else 0', 'value ratio "比率" = c + a / b else 0'
    )
    text = text.replace("minor or ratio > 1", "minor").replace(
        "given a = 1", "given a = 1\n    given c = 1"
    )
    plan = compile_text(tmp_path, text)
    result = evaluate(plan, read_assessment(plan, {"inputs": row(3, 0), "scores": {"1": 3}}))
    assert result.values["ratio"] is None  # c is missing: null, not the `else` value


def test_a_guarded_division_is_not_reported_and_a_bare_one_is() -> None:
    scheme, _ = parse_source(Source("t.score", SCHEME))
    assert scheme is not None  # a / b else 0 is declared, b + 1 cannot be 0
    assert [d for d in check(scheme) if d.code == "zero-denominator"] == []
    text = SCHEME.replace("(a + 1) / (b + 1)", "(a + 1) / (a + b) + a / b")
    scheme, _ = parse_source(Source("t.score", text))
    assert scheme is not None
    found = [(d.message, d.anchor, d.span.start_position)
             for d in check(scheme) if d.code == "zero-denominator"]  # fmt: skip
    assert found == [
        ("(a + 1) / (a + b) divides by (a + b), which can be 0 (a can be 0 and b can be 0), "
         "and does not say what that means", "value:share", (11, 32)),
        ("a / b divides by b, which can be 0, and does not say what that means", "input:b",
         (11, 46)),
    ]  # fmt: skip


def test_a_divisor_bounded_above_zero_is_not_reported() -> None:
    text = SCHEME.replace('input b: integer "b"', 'input b: integer >= 1 "b"')
    text = text.replace("given b = 0", "given b = 1")
    scheme, _ = parse_source(Source("t.score", text))
    assert scheme is not None
    assert [d for d in check(scheme) if d.code == "zero-denominator"] == []


def test_t_ccua_acknowledges_its_zero_denominators(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--format", "json", str(ROOT / "standards")])
    doc = json.loads(capsys.readouterr().out)
    zero = [d for d in doc["diagnostics"] if d["code"] == "zero-denominator"]
    assert code == 0 and doc["warnings"] == 0
    assert {Path(d["file"]).name for d in zero} == {"t-ccua-operation-capability.score"}
    assert len(zero) == 67 and all(d["acknowledged"] for d in zero)


# ---- the plan ------------------------------------------------------------------------------


def test_the_plan_round_trips_outcomes_and_else(plan: Plan) -> None:
    again = Plan.from_json(plan.to_json())
    assert again == plan and again.hash == plan.hash
    assert [(o.id, o.text) for o in again.outcomes] == [
        ("refused", "not gate g1"), ("conditional", "minor or ratio > 1"), ("passed", "else")
    ]  # fmt: skip
    assert isinstance(again.values[0].formula, OnZero)


# ---- both engines --------------------------------------------------------------------------


def test_batch_csv_gains_outcome_columns_only_with_outcomes(plan: Plan, tmp_path: Path) -> None:
    scheme = tmp_path / "t.score"
    scheme.write_text(SCHEME, encoding="utf-8")
    header = ["id", "a", "b", "bad", "minor", "1"]
    rows = [
        ["r1", "1", "0", "true", "false", "3"],
        ["r2", "3", "2", "false", "false", "4"],
        ["r3", "1", "0", "false", "false", "5"],
        ["r4", "1", "0", "false", "true", "6"],
        ["r5", "", "0", "false", "true", "6"],
    ]
    data = write_csv(tmp_path / "batch.csv", header, rows)
    out = assert_same_output(scheme, data, tmp_path)
    assert out.decode() == (
        "id,eligible,total,level,level_label,error,1,outcome,outcome_label\n"
        "r1,false,3,,,,3,refused,不予通过\n"
        "r2,true,4,,,,4,conditional,有条件通过\n"
        "r3,true,5,,,,5,passed,通过\n"
        "r4,true,6,,,,6,conditional,有条件通过\n"
        "r5,,,,,missing input 'a' (a),,,\n"
    )
    assert flags(plan, data) == [False, False, False, False, True]


def test_249s_batch_header_does_not_change(tmp_path: Path) -> None:
    from scoredsl.columnar import csv_header

    plan, _ = compile_path(ROOT / "standards" / "t-ccsa-249-2019.score")
    assert plan is not None
    assert csv_header(plan)[:6] == ["id", "eligible", "total", "level", "level_label", "error"]
    assert "outcome" not in csv_header(plan)


@settings(max_examples=40, deadline=None)
@given(a=st.integers(0, 50), b=st.integers(0, 5), minor=st.booleans(), bad=st.booleans())
def test_sql_decides_like_python(a: int, b: int, minor: bool, bad: bool) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        plan = compile_text(Path(tmp), SCHEME)
    cells = {"id": "x", "a": str(a), "b": str(b), "bad": str(bad).lower(),
             "minor": str(minor).lower(), "1": "3"}  # fmt: skip
    got = _sql_result(plan, cells)
    assert got["_python"] is False, got["error"]
    result = run(plan, row(a, b, bad, minor))
    assert (got["outcome"], got["outcome_label"]) == (result.outcome, result.outcome_label)
    assert got["ratio"] == result.values["ratio"]


@st.composite
def with_outcomes(draw: st.DrawFn) -> tuple[GenScheme, dict[str, Any]]:
    gen = attrs.evolve(draw(schemes()), outcomes=True)
    return gen, draw(assessments(gen))


@settings(max_examples=30, deadline=None)
@given(with_outcomes())
def test_generated_outcomes_check_clean_and_decide_the_first_that_holds(
    case: tuple[GenScheme, dict[str, Any]],
) -> None:
    gen, data = case
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gen.score"
        path.write_text(gen.text(), encoding="utf-8")
        loaded = load_text(gen.text(), path)
    assert [d for d in loaded.diagnostics if not d.acknowledged and d.code != "reading"] == []
    plan = loaded.plan
    assert plan is not None
    result = evaluate(plan, read_assessment(plan, data))
    assert result.outcome == gen.expected_outcome(result.total, data["inputs"].get("ok", True))


# ---- CMM-525-0006: 6.1.1 and 6.3.2 ----------------------------------------------------------


@pytest.fixture(scope="module")
def cmm() -> Plan:
    plan, diagnostics = compile_path(CMM)
    assert plan is not None, diagnostics
    return plan


def test_cmm_declares_the_decisions_of_6_1_and_6_3_2(cmm: Plan) -> None:
    assert [(o.id, o.label, o.clause, o.condition is None) for o in cmm.outcomes] == [
        ("not_accepted", "不予受理", "6.1.3", False),
        ("refused", "不予批准认证", "6.3.2", False),
        ("conditional", "有条件批准认证", "6.3.2", False),
        ("approved", "批准认证", "6.3.2", True),
    ]


def test_cmm_examples_cover_every_outcome() -> None:
    scheme, _ = parse_source(Source.read(CMM))
    assert scheme is not None
    expected = [
        s.value for e in scheme.examples for s in e.body if getattr(s, "what", "") == "outcome"
    ]
    assert sorted(set(expected)) == ["approved", "conditional", "not_accepted", "refused"]


@pytest.mark.parametrize(
    ("name", "outcome", "failed"),
    [
        ("certified", "approved", ()),
        ("major-nonconformity", "refused", ()),
        ("fails-chapter-10-11", "refused", ("10.2", "11.2")),
    ],
)
def test_cmm_yaml_examples_give_their_decision(
    cmm: Plan, name: str, outcome: str, failed: tuple[str, ...]
) -> None:
    raw = read_single(EXAMPLES / f"cmm-525-0006-{name}.yaml")
    result = evaluate(cmm, read_assessment(cmm, raw))
    assert result.outcome == outcome
    assert result.outcome_reason is not None
    assert result.outcome_reason.failed_gates == failed


def test_cmm_not_accepted_when_6_1_1_fails(cmm: Plan) -> None:
    raw = read_single(EXAMPLES / "cmm-525-0006-certified.yaml")
    raw["inputs"]["basic_conditions"] = False
    raw["inputs"]["major_nonconformity"] = True  # the application is not even accepted
    result = evaluate(cmm, read_assessment(cmm, raw))
    assert (result.eligible, result.outcome) == (False, "not_accepted")
    assert result.outcome_text("zh") == (
        "not gate 6.1.1 成立（未满足的条件：6.1.1）；排在它之前的 0 个结论均不成立"
    )


# ---- docs and reports ----------------------------------------------------------------------


def test_docs_list_the_outcomes(cmm: Plan) -> None:
    md = scheme_document(cmm, "md", "zh")
    assert "## 结论\n\n按所列顺序判定，取第一个条件成立的结论。\n" in md
    assert "| `approved` | 批准认证 | 6.3.2 | 以上均不成立时 |" in md
    html = scheme_document(cmm, "html", "en")
    assert '<table id="outcomes">' in html
    assert "<td><code>not_accepted</code></td><td>application not accepted</td>" in html


def test_reports_show_the_outcome(cmm: Plan) -> None:
    raw = read_single(EXAMPLES / "cmm-525-0006-major-nonconformity.yaml")
    result = evaluate(cmm, read_assessment(cmm, raw))
    md = report_document(result, "md", "zh", date="2026-01-01")
    assert "| **不予批准认证** (`refused`) | 6.3.2 |" in md
    html = report_document(result, "html", "en", date="2026-01-01")
    assert '<strong id="outcome">certification refused</strong>refused' in html


# ---- the language server -------------------------------------------------------------------


def test_the_language_server_reads_outcomes_without_failing() -> None:
    from scoredsl.lsp.symbols import keywords, occurrences, outline
    from scoredsl.semantics import Scope

    source = Source("t.score", SCHEME)
    scheme, _ = parse_source(source)
    assert scheme is not None
    names = [o.symbol.key for o in occurrences(Scope.of(scheme)) if not o.declaration]
    # read by an outcome (and, for minor, given by the example)
    assert (names.count("minor"), names.count("ratio")) == (2, 1)
    assert [o.name for o in outline(scheme, source)[0].children][-2:] == ["1", "通过"]
    assert {"outcomes", "outcome", "gate"} <= set(keywords())
