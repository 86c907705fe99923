"""Properties of the checker and the evaluator over generated schemes (tests/strategies.py)."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from scoredsl.batch import read_batch
from scoredsl.builder import parse_source
from scoredsl.checks import check
from scoredsl.data import read_assessment
from scoredsl.diagnostics import Diagnostic
from scoredsl.evaluate import divide, evaluate, multiply
from scoredsl.groups import expand_groups
from scoredsl.lower import lower
from scoredsl.plan import Plan, with_hash
from scoredsl.render.batch import BatchWriter
from scoredsl.source import Source
from tests.strategies import GenBand, GenScheme, assessments, broken, grammarish_text, schemes


def checked(text: str) -> tuple[Any, list[Diagnostic]]:
    scheme, diagnostics = parse_source(Source("gen.score", text))
    assert scheme is not None, (diagnostics, text)
    scheme, expanded = expand_groups(scheme)  # a generated scheme may declare a group
    return scheme, diagnostics + expanded + check(scheme)


def errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.is_error]


@given(st.text(max_size=300))
def test_parser_and_checker_never_raise_on_text(text: str) -> None:
    scheme, diagnostics = parse_source(Source("x.score", text))
    if scheme is not None:
        check(scheme)
    else:
        assert [d.code for d in diagnostics] == ["syntax"]


@given(grammarish_text)
def test_parser_and_checker_never_raise_on_grammar_fragments(text: str) -> None:
    scheme, _ = parse_source(Source("x.score", 'scheme s "t" { ' + text))
    if scheme is not None:
        check(scheme)


@given(schemes())
def test_generated_schemes_check_clean(gen: GenScheme) -> None:
    _, diagnostics = checked(gen.text())
    assert errors(diagnostics) == [], gen.text()
    assert [d for d in diagnostics if not d.acknowledged] == []


@given(broken())
def test_each_break_gets_exactly_its_code(case: tuple[GenScheme, str]) -> None:
    gen, code = case
    _, diagnostics = checked(gen.text())
    assert {d.code for d in errors(diagnostics)} == {code}, gen.text()


def _bands_of(gen: GenScheme, owner: str) -> tuple[GenBand, ...]:
    return next(i.bands for i in gen.banded() if i.id == owner)


@given(broken().filter(lambda c: c[1] in ("band-gap", "band-overlap")))
def test_witnesses_are_real(case: tuple[GenScheme, str]) -> None:
    gen, code = case
    _, diagnostics = checked(gen.text())
    for d in errors(diagnostics):
        if code == "band-gap":
            owner, value = re.search(
                r"no band of (\S+) covers .* \(e\.g\. ([\d.]+)%\)", d.message
            ).groups()  # type: ignore[union-attr]
            hits = [b for b in _bands_of(gen, owner) if b.contains(Decimal(value))]
            assert hits == [], d.message
        else:
            value, owner = re.match(r"([\d.]+)% falls in two bands of (\S+):", d.message).groups()  # type: ignore[union-attr]
            hits = [b for b in _bands_of(gen, owner) if b.contains(Decimal(value))]
            assert len(hits) >= 2, d.message


@given(schemes())
def test_clean_band_tables_cover_every_value_once(gen: GenScheme) -> None:
    for item in gen.banded():
        probes = {Decimal(0), Decimal(100)}
        for b in item.bands:
            for x in (b.low, b.high):
                if x is not None:
                    probes |= {x, x - Decimal("0.001"), x + Decimal("0.001")}
        for x in probes:
            if 0 <= x <= 100:
                assert sum(b.contains(x) for b in item.bands) == 1, (item.id, x)


def _plan(gen: GenScheme) -> Plan:
    scheme, diagnostics = checked(gen.text())
    assert errors(diagnostics) == []
    return with_hash(lower(scheme))


@st.composite
def scheme_and_data(draw: st.DrawFn) -> tuple[GenScheme, dict[str, Any]]:
    gen = draw(schemes())
    return gen, draw(assessments(gen))


@given(scheme_and_data())
def test_scores_add_up_and_stay_in_range(case: tuple[GenScheme, dict[str, Any]]) -> None:
    gen, data = case
    plan = _plan(gen)
    result = evaluate(plan, read_assessment(plan, data))
    scores = {i.id: i for i in result.items}
    for item in result.items:
        assert 0 <= item.score <= item.max
        kids = plan.item(item.id).children
        if kids:
            assert item.score == sum((scores[k].score for k in kids), Decimal(0))
        if item.status == "vetoed":
            assert item.score == 0 and data["inputs"]["flag"] is True
    if data["inputs"]["flag"]:  # every vetoed item and its whole subtree score 0
        for vetoed in (i for i in gen.all_items() if i.veto):
            for sub in vetoed.walk():
                assert (scores[sub.id].score, scores[sub.id].status) == (0, "vetoed")
    # sheets are never part of the total; a formula total over the items gives the same
    summed = [i for i in plan.top_items if not i.sheet]
    assert result.total == sum((scores[i.id].score for i in summed), Decimal(0))
    for k, sheet in enumerate(gen.sheets, 1):
        feeds = divide(multiply(scores[sheet.id].score, Decimal(100)), sheet.max)
        assert result.values[f"sheet{k}"] == feeds
    assert [i.id for i in result.items] == [i.id for i in plan.items]
    reached = [f"l{k}" for k, t in enumerate(gen.levels) if result.total >= t]
    eligible = not gen.gate or data["inputs"]["ok"]
    assert result.eligible == eligible
    assert result.level == (reached[-1] if reached and eligible else None)


@given(scheme_and_data(), st.data())
def test_raising_a_judged_score_never_lowers_the_total(
    case: tuple[GenScheme, dict[str, Any]], more: st.DataObject
) -> None:
    gen, data = case
    if not data["scores"]:
        return
    plan = _plan(gen)
    before = evaluate(plan, read_assessment(plan, data)).total
    key = more.draw(st.sampled_from(sorted(data["scores"])))
    data["scores"][key] = plan.item(key).max
    assert evaluate(plan, read_assessment(plan, data)).total >= before


@given(scheme_and_data())
def test_plan_json_evaluates_like_the_source(case: tuple[GenScheme, dict[str, Any]]) -> None:
    gen, data = case
    plan = _plan(gen)
    again = Plan.from_json(plan.to_json())
    assert again == plan and again.hash == plan.hash
    a = evaluate(plan, read_assessment(plan, data)).to_dict()
    b = evaluate(again, read_assessment(again, data)).to_dict()
    assert a == b


@given(
    schemes().flatmap(
        lambda g: st.tuples(st.just(g), st.lists(assessments(g), min_size=1, max_size=5))
    )
)
def test_batch_and_single_agree(case: tuple[GenScheme, list[dict[str, Any]]]) -> None:
    gen, rows = case
    plan = _plan(gen)
    header = ["id", *rows[0]["inputs"], *rows[0]["scores"]]
    lines = [",".join(header)]
    for k, row in enumerate(rows):
        cells = [
            str(k),
            *(_cell(v) for v in row["inputs"].values()),
            *map(str, row["scores"].values()),
        ]
        lines.append(",".join(cells))
    out = io.StringIO()
    writer = BatchWriter(plan, out, "csv")
    for ident, raw in read_batch(Path("b.csv"), io.StringIO("\n".join(lines) + "\n"), plan):
        assert writer.row(ident, raw) is None
    written = out.getvalue().splitlines()[1:]
    for row, line in zip(rows, written, strict=True):
        single = evaluate(plan, read_assessment(plan, row))
        cells = line.split(",")
        assert Decimal(cells[2]) == single.total
        assert (cells[3] or None) == single.level
        assert cells[1] == ("true" if single.eligible else "false")


def _cell(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
