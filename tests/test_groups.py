"""Groups (scoredsl/groups.py): parts declared once, `every` and `sum` over them.

The expansion gives ordinary inputs, values and conditions with the names of the contract
(`p1_items` ...); diagnostics point at the group form; the formatter prints it back; the
plan keeps the written text; both engines give the same bytes; and CC-CMM written with
groups gives, for any data, what it gave written out by hand.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoredsl import nodes as n
from scoredsl.builder import parse_source
from scoredsl.data import DataError, read_assessment
from scoredsl.diagnostics import Diagnostic
from scoredsl.evaluate import evaluate
from scoredsl.fmt import format_source
from scoredsl.groups import expand_groups
from scoredsl.loader import compile_path, load_text
from scoredsl.lsp.symbols import Index, outline
from scoredsl.plan import Plan
from scoredsl.render.documents import scheme_document
from scoredsl.source import Source
from tests.test_sql import assert_same_output, batch_rows, flags, python_accepts, write_csv

ROOT = Path(__file__).resolve().parent.parent
CC_CMM = ROOT / "standards" / "cc-cmm-star-rating.score"
WRITTEN_OUT = ROOT / "tests" / "fixtures" / "groups" / "cc-cmm-written-out.score"

SCHEME = """scheme s "t" {
  total 0
  group part "部分" {
    members p1 "1.0"  p2 "2.0"  p3 "3.0"
    input items: integer >= 1 "{part}部分的条目数" clause 6
    input done: integer <= items "{part}部分完成数" clause 6
    value share "{part}部分完成率" clause 6 = done / items {
      en "share of part {part}"
    }
  }
  value done_1_2 "1.0~2.0完成数" = sum part in p1..p2 (done)
  value share_all "合计完成率" = sum part (done) / sum part (items)
  levels {
    a "A" when share_all >= 50%
    b "B" when every part (share >= 90%) and share_all >= 50%
  }
}
"""


def load(text: str) -> tuple[Plan | None, list[Diagnostic]]:
    loaded = load_text(text, "s.score")
    return loaded.plan, loaded.diagnostics


def found(text: str) -> list[tuple[str, str, tuple[int, int], str]]:
    """(code, message, (line, column), the text under the span) of every diagnostic."""
    _, diagnostics = load(text)
    return [
        (d.code, d.message, d.span.start_position, text[d.span.start : d.span.end])
        for d in diagnostics
        if d.code != "reading"
    ]


# ---- expansion ----------------------------------------------------------------------------


def test_a_group_declares_each_members_inputs_and_values_in_order() -> None:
    plan, diagnostics = load(SCHEME)
    assert plan is not None, diagnostics
    assert [(i.name, i.label) for i in plan.inputs] == [
        ("p1_items", "1.0部分的条目数"),
        ("p1_done", "1.0部分完成数"),
        ("p2_items", "2.0部分的条目数"),
        ("p2_done", "2.0部分完成数"),
        ("p3_items", "3.0部分的条目数"),
        ("p3_done", "3.0部分完成数"),
    ]
    assert plan.input("p2_done").bound is not None
    assert plan.input("p2_done").bound.input == "p2_items"  # type: ignore[union-attr]
    assert [(v.name, v.label, v.en, v.text) for v in plan.values] == [
        ("p1_share", "1.0部分完成率", "share of part 1.0", "p1_done / p1_items"),
        ("p2_share", "2.0部分完成率", "share of part 2.0", "p2_done / p2_items"),
        ("p3_share", "3.0部分完成率", "share of part 3.0", "p3_done / p3_items"),
        ("done_1_2", "1.0~2.0完成数", None, "sum part in p1..p2 (done)"),
        ("share_all", "合计完成率", None, "sum part (done) / sum part (items)"),
    ]
    # the plan keeps the condition as written; the formula is the expansion
    level = plan.level("b")
    assert level is not None
    assert level.text == "every part (share >= 90%) and share_all >= 50%"
    assert Plan.from_json(plan.to_json()) == plan


def test_the_expansion_is_the_written_out_scheme() -> None:
    grouped, _ = parse_source(Source("s.score", SCHEME))
    assert grouped is not None
    expanded, diagnostics = expand_groups(grouped)
    assert diagnostics == []
    written, _ = parse_source(
        Source(
            "w.score",
            """scheme s "t" {
  total 0
  input p1_items: integer >= 1 "1.0部分的条目数" clause 6
  input p1_done: integer <= p1_items "1.0部分完成数" clause 6
  value p1_share "1.0部分完成率" clause 6 = p1_done / p1_items {
    en "share of part 1.0"
  }
  input p2_items: integer >= 1 "2.0部分的条目数" clause 6
  input p2_done: integer <= p2_items "2.0部分完成数" clause 6
  value p2_share "2.0部分完成率" clause 6 = p2_done / p2_items {
    en "share of part 2.0"
  }
  input p3_items: integer >= 1 "3.0部分的条目数" clause 6
  input p3_done: integer <= p3_items "3.0部分完成数" clause 6
  value p3_share "3.0部分完成率" clause 6 = p3_done / p3_items {
    en "share of part 3.0"
  }
  value done_1_2 "1.0~2.0完成数" = p1_done + p2_done
  value share_all "合计完成率" = (p1_done + p2_done + p3_done) / (p1_items + p2_items + p3_items)
  levels {
    a "A" when share_all >= 50%
    b "B" when (p1_share >= 90% and p2_share >= 90%) and p3_share >= 90% and share_all >= 50%
  }
}
""",
        )
    )
    assert expanded == written


def test_a_scheme_without_groups_is_left_as_it_is() -> None:
    scheme, _ = parse_source(Source("w.score", WRITTEN_OUT.read_text(encoding="utf-8")))
    assert scheme is not None
    assert expand_groups(scheme) == (scheme, [])


def test_a_quantifier_inside_a_group_and_nested_quantifiers() -> None:
    plan, diagnostics = load(
        """scheme s "t" {
  total 0
  group g {
    members a "A"  b "B"
    input x: integer >= 0 "{g}"
    value above "高于平均" = x * 2 - sum g (x)
  }
  value both = sum g (x * sum g (x))
  levels {
    ok "OK" when every g (every g (x >= 1))
  }
}
"""
    )
    assert plan is not None, diagnostics
    assert [v.text for v in plan.values] == [
        "a_x * 2 - sum g (x)",
        "b_x * 2 - sum g (x)",
        "sum g (x * sum g (x))",
    ]
    result = evaluate(plan, read_assessment(plan, {"inputs": {"a_x": 2, "b_x": 3}}))
    assert result.values == {"a_above": Decimal(-1), "b_above": Decimal(1), "both": Decimal(25)}
    assert result.level == "ok"


# ---- diagnostics at the group form ------------------------------------------------------


def with_body(body: str) -> str:
    return f"""scheme s "t" {{
  total 0
  group part "部分" {{
    members p1 "1.0"  p2 "2.0"
    input items: integer >= 1 "{{part}}条目数"
  }}
{body}
}}
"""


def test_a_range_that_runs_backwards_selects_no_member() -> None:
    text = with_body("  value n = sum part in p2..p1 (items)")
    assert found(text) == [
        (
            "empty-group",
            "p2..p1 selects no member of group 'part': p2 comes after p1",
            (7, 13),
            "sum part in p2..p1 (items)",
        )
    ]


def test_both_range_ends_are_checked() -> None:
    text = with_body("  value n = sum part in p0..p9 (items)")
    assert found(text) == [
        (
            "unknown-member",
            "'p0' is not a member of group 'part' (its members are p1, p2)",
            (7, 25),
            "p0",
        ),
        (
            "unknown-member",
            "'p9' is not a member of group 'part' (its members are p1, p2)",
            (7, 29),
            "p9",
        ),
    ]


def test_an_unknown_group_far_from_any_is_not_guessed() -> None:
    text = with_body("  value n = sum zzz (items)")
    assert found(text) == [
        ("unknown-group", "'zzz' is not a group of this scheme", (7, 17), "zzz"),
        ("unused-input", "input 'p1_items' is declared but never used", (5, 11), "items"),
        ("unused-input", "input 'p2_items' is declared but never used", (5, 11), "items"),
    ]


def test_groups_and_members_declared_twice() -> None:
    text = """scheme s "t" {
  total 0
  group g {
    members a "A"  a "B"
    input x: integer
  }
  group g {
    members c "C"
  }
  value v = sum g (x)
}
"""
    assert found(text) == [
        ("duplicate-id", "member 'a' of group 'g' is already listed on line 4", (4, 20), 'a "B"'),
        ("duplicate-id", "group 'g' is already defined on line 3", (7, 9), "g"),
    ]


def test_a_members_name_that_collides_is_shown_in_the_group() -> None:
    text = with_body('  input p2_items: integer "另一个"\n  value n = sum part (items) + p2_items')
    assert found(text) == [
        (
            "duplicate-id",
            "input or value 'p2_items' is already defined on line 5",
            (7, 9),
            "p2_items",
        ),
    ]


def test_a_typo_inside_a_group_is_shown_where_it_was_written() -> None:
    text = """scheme s "t" {
  total 0
  group part {
    members p1 "1.0"  p2 "2.0"
    input items: integer >= 1
    value share = done / items
  }
  levels {
    a "A" when every part (share >= 50%)
  }
}
"""
    codes = found(text)
    assert codes[0] == (
        "unknown-name",
        "'done' is not an input or value of this scheme",
        (6, 19),
        "done",
    )
    assert {c[0] for c in codes} == {"unknown-name"}


def test_an_empty_group_in_a_quantifier_is_reported_once() -> None:
    text = """scheme s "t" {
  total 0
  group part {
    input items: integer >= 1
  }
  value n = sum part (items)
}
"""
    assert found(text) == [("empty-group", "group 'part' has no members", (3, 9), "part")]


# ---- the formatter ----------------------------------------------------------------------


def test_the_formatter_prints_the_group_back() -> None:
    messy = """scheme s "t" { total 0
group part "部分" { members p1 "1.0" p2 "2.0"   # the parts
input items : integer>=1 "{part}" }
value n = sum   part in p1 .. p2( items )+1
levels { a "A" when every part(items>=1) }
}
"""
    text, problems = format_source(Source("s.score", messy))
    assert problems == []
    assert (
        text
        == """scheme s "t" {
  total 0
  group part "部分" {
    members p1 "1.0"  p2 "2.0"  # the parts
    input items: integer >= 1 "{part}"
  }
  value n = sum part in p1..p2 (items) + 1
  levels {
    a "A" when every part (items >= 1)
  }
}
"""
    )
    assert format_source(Source("s.score", text)) == (text, [])


def test_the_shipped_scheme_is_formatted() -> None:
    source = Source.read(CC_CMM)
    assert format_source(source) == (source.text, [])
    assert "every part in p1..p4 (method_share >= 100% and executed_share >= 100%)" in source.text


# ---- CC-CMM: the same results as written out by hand ---------------------------------------


@pytest.fixture(scope="module")
def cc_cmm() -> tuple[Plan, Plan]:
    grouped, d1 = compile_path(CC_CMM)
    written, d2 = compile_path(WRITTEN_OUT)
    assert grouped is not None and written is not None, (d1, d2)
    return grouped, written


def test_the_input_names_are_the_contract(cc_cmm: tuple[Plan, Plan]) -> None:
    grouped, written = cc_cmm
    names = [f"p{k}_{x}" for k in range(1, 6) for x in ("items", "method_compliant", "executed")]
    assert [i.name for i in grouped.inputs] == [*names, "total_score", "headcount"]
    assert grouped.inputs == written.inputs
    assert [v.name for v in grouped.values] == [v.name for v in written.values]
    assert [(v.label, v.formula) for v in grouped.values] == [
        (v.label, v.formula) for v in written.values
    ]


def test_the_five_star_level_reads_as_the_rules(cc_cmm: tuple[Plan, Plan]) -> None:
    level = cc_cmm[0].level("l5")
    assert level is not None
    assert level.text == (
        "every part in p1..p4 (method_share >= 100% and executed_share >= 100%) and "
        "p5_method_share >= 100% and p5_executed_share >= 90% and total_score >= 3380"
    )


@st.composite
def cc_cmm_inputs(draw: st.DrawFn) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for k in range(1, 6):
        items = draw(st.integers(1, 12))
        full = draw(st.booleans())  # often every point, so that L5 and L4 are reached
        inputs[f"p{k}_items"] = items
        inputs[f"p{k}_method_compliant"] = items if full else draw(st.integers(0, items))
        inputs[f"p{k}_executed"] = items if full else draw(st.integers(0, items))
    inputs["total_score"] = draw(st.sampled_from([2400, 2500, 2750, 3200, 3380, 3500]))
    inputs["headcount"] = draw(st.integers(1, 1200))
    return inputs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs=cc_cmm_inputs())
def test_grouped_and_written_out_give_the_same_result(
    cc_cmm: tuple[Plan, Plan], inputs: dict[str, Any]
) -> None:
    grouped, written = cc_cmm
    a = evaluate(grouped, read_assessment(grouped, {"inputs": inputs}))
    b = evaluate(written, read_assessment(written, {"inputs": inputs}))
    assert (a.level, a.total, a.next_level, a.values) == (b.level, b.total, b.next_level, b.values)


# ---- every and sum mean what they say, on both engines -----------------------------------------


@st.composite
def group_cases(draw: st.DrawFn) -> tuple[str, list[str], int, int, int, list[dict[str, Any]]]:
    members = [f"m{k}" for k in range(draw(st.integers(1, 5)))]
    first = draw(st.integers(0, len(members) - 1))
    last = draw(st.integers(first, len(members) - 1))
    threshold = draw(st.integers(0, 100))
    listed = "  ".join(f'{m} "{m.upper()}"' for m in members)
    text = f"""scheme s "t" {{
  total 0
  group g "组" {{
    members {listed}
    input n: integer >= 1 "{{g}}数"
    input x: integer <= n "{{g}}达标数"
    value share "{{g}}达标率" = x / n
  }}
  value x_sum "达标数（合计）" = sum g in {members[first]}..{members[last]} (x)
  levels {{
    ok "达标" when every g in {members[first]}..{members[last]} (share >= {threshold}%)
  }}
}}
"""
    rows = []
    for _ in range(draw(st.integers(1, 4))):
        inputs: dict[str, Any] = {}
        for m in members:
            n_ = draw(st.integers(1, 9))
            inputs[f"{m}_n"] = n_
            inputs[f"{m}_x"] = draw(st.integers(0, n_))
        rows.append({"inputs": inputs, "scores": {}})
    return text, members, first, last, threshold, rows


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=group_cases())
def test_every_and_sum_over_a_range_on_both_engines(
    case: tuple[str, list[str], int, int, int, list[dict[str, Any]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    text, members, first, last, threshold, rows = case
    tmp = tmp_path_factory.mktemp("groups")
    scheme = tmp / "s.score"
    scheme.write_text(text, encoding="utf-8")
    plan, diagnostics = compile_path(scheme)
    assert plan is not None, diagnostics
    chosen = members[first : last + 1]
    for raw in rows:
        got = evaluate(plan, read_assessment(plan, raw))
        inputs = raw["inputs"]
        assert got.values["x_sum"] == sum(inputs[f"{m}_x"] for m in chosen)
        every = all(inputs[f"{m}_x"] * 100 >= threshold * inputs[f"{m}_n"] for m in chosen)
        assert got.level == ("ok" if every else None)
    header, cells = batch_rows(plan, rows)
    data = write_csv(tmp / "batch.csv", header, cells)
    assert_same_output(scheme, data, tmp)
    assert flags(plan, data) == [not python_accepts(plan, raw) for raw in rows]


def test_a_count_above_its_parts_items_names_the_expanded_inputs(
    cc_cmm: tuple[Plan, Plan],
) -> None:
    grouped, _ = cc_cmm
    inputs = {f"p{k}_{x}": 10 for k in range(1, 6) for x in ("items", "method_compliant",
                                                            "executed")}  # fmt: skip
    inputs |= {"p3_executed": 11, "total_score": 3400}
    with pytest.raises(DataError) as caught:
        read_assessment(grouped, {"inputs": inputs})
    assert [p.where for p in caught.value.problems] == [("inputs", "p3_executed")]


# ---- the language server on a group ------------------------------------------------------


def test_the_language_server_reads_the_group_form() -> None:
    source = Source.read(CC_CMM)
    loaded = load_text(source.text, CC_CMM)
    assert loaded.scheme is not None and loaded.ok
    index = Index(loaded.scheme, loaded.source)
    for offset in range(len(source.text)):
        occurrence = index.at(offset)
        if occurrence is not None:
            index.hover(occurrence.symbol)
            index.references(occurrence.symbol)
    names = [o.name for o in outline(loaded.scheme, loaded.source)[0].children]
    assert names[:3] == ["p1_items", "p1_method_compliant", "p1_executed"]
    at = source.text.index("every part in p1..p4 (method_share") + len("every part in p1..p4 (")
    occurrence = index.at(at)
    assert occurrence is not None and occurrence.symbol.key == "p1_method_share"


def test_the_docs_show_the_level_as_written(cc_cmm: tuple[Plan, Plan]) -> None:
    text = scheme_document(cc_cmm[0], "md", "zh")
    row = next(line for line in text.splitlines() if line.startswith("| `l5` |"))
    assert row == (
        "| `l5` | 五星级 | `every part in p1..p4 (method_share >= 100% 且 executed_share >= "
        "100%) 且 5.0部分方法合规率 >= 100% 且 5.0部分执行到位率 >= 90% 且 "
        "方法和执行总分 >= 3380` |"
    )


def test_groups_are_nodes_with_spans() -> None:
    scheme, _ = parse_source(Source("s.score", SCHEME))
    assert scheme is not None
    group = next(s for s in scheme.body if isinstance(s, n.Group))
    assert [m.name for m in group.members] == ["p1", "p2", "p3"]
    assert [d.name for d in group.declarations] == ["items", "done", "share"]
    assert SCHEME[group.name_span.start : group.name_span.end] == "part"


def test_quantifiers_expand_within_one_budget_per_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scoredsl.groups.GROUP_EXPANSION_NODES", 1_000)
    members = "  ".join(f'm{k} "{k}"' for k in range(10))
    values = "\n".join(f"  value v{k} = sum g (sum g (x))" for k in range(12))  # 110 terms
    text = f"""scheme s "t" {{
  total 0
  group g {{
    members {members}
    input x: integer
  }}
{values}
}}
"""
    problems = [d for d in load(text)[1] if d.code == "group-too-large"]
    message = (
        "this sum over 'g' would expand to 110 terms (and the ones before it to 990), "
        "more than the 1,000 a scheme's quantifiers may expand to"
    )
    assert [(d.message, d.span.start_position) for d in problems] == [
        (message, (16, 14)),
        (message, (17, 15)),
        (message, (18, 15)),
    ]


def test_a_large_group_expands_to_a_shallow_tree() -> None:
    members = "  ".join(f'm{k} "{k}"' for k in range(1000))
    text = f"""scheme s "t" {{
  total 0
  group g {{
    members {members}
    input x: integer >= 0
  }}
  value total_x = sum g (x)
  levels {{
    ok "OK" when every g (x >= 1)
  }}
}}
"""
    plan, diagnostics = load(text)
    assert plan is not None, diagnostics

    def depth(e: object) -> int:
        children = [getattr(e, a) for a in ("left", "right") if hasattr(e, a)]
        return 1 + max((depth(c) for c in children), default=0)

    value = plan.values[0]
    assert depth(value.formula) == 22  # halved 6 times, then chains of at most 16
    inputs = {f"m{k}_x": k for k in range(1000)}
    result = evaluate(plan, read_assessment(plan, {"inputs": inputs}))
    assert result.values["total_x"] == sum(range(1000))
    assert result.level is None  # m0_x is 0
    inputs["m0_x"] = 1
    assert evaluate(plan, read_assessment(plan, {"inputs": inputs})).level == "ok"


def test_a_total_formula_may_sum_over_a_group() -> None:
    plan, diagnostics = load(
        """scheme s "t" {
  total 20 = sum g (sc)
  group g {
    members a "A"  b "B"
    input sc: number 0 <= _ <= 10 "{g}得分"
  }
}
"""
    )
    assert plan is not None, diagnostics
    result = evaluate(plan, read_assessment(plan, {"inputs": {"a_sc": "7.5", "b_sc": 9}}))
    assert result.total == Decimal("16.5")
