"""Readings: `reading "..."` statements in every block, listed by check, carried by the plan,
shown in docs and reports, kept by the formatter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoredsl.builder import parse_source
from scoredsl.cli import main
from scoredsl.fmt import format_source
from scoredsl.loader import compile_path
from scoredsl.render.documents import scheme_document
from scoredsl.source import Source
from tests.conftest import STANDARDS

EVERYWHERE = """scheme s "读法" {
  total 10
  reading "方案一级"
  input rate: percent "比率"
  value half "一半" = rate / 2 {
    reading "值的读法"
  }
  value days "天数" by rate {
    < 50%  -> 1
    >= 50% -> 2
    reading "查表的读法"
  }
  item 1 "大项" 10 {
    reading "大项的读法"
    item 1.1 "小项" 4 {
      reading "小项的读法"
    }
    item 1.2 "按比率" 6 by rate {
      reading "分档的读法"
      < 90%  -> 0
      >= 90% -> 6
    }
  }
  gate g "条件" {
    reading "条件的读法"
    require rate >= 10%
  }
  levels {
    reading "等级的读法"
    ok "合格" when total >= 6
  }
}
"""


def test_a_reading_stands_in_every_block(tmp_path: Path) -> None:
    path = tmp_path / "s.score"
    path.write_text(EVERYWHERE, encoding="utf-8")
    plan, diagnostics = compile_path(path)
    assert plan is not None
    expected = [
        ("方案一级", "scheme"),
        ("值的读法", "value half"),
        ("查表的读法", "value days"),
        ("大项的读法", "item 1"),
        ("小项的读法", "item 1.1"),
        ("分档的读法", "item 1.2"),
        ("条件的读法", "gate g"),
        ("等级的读法", "levels"),
    ]
    assert [(r.text, r.where) for r in plan.readings] == expected
    assert [(d.code, d.severity.value, d.message) for d in diagnostics] == [
        ("reading", "note", f"reading of {'the scheme' if w == 'scheme' else w}: {t}")
        for t, w in expected
    ]
    assert plan.to_dict()["readings"][0] == {"text": "方案一级", "where": "scheme"}


def test_readings_survive_formatting() -> None:
    messy = EVERYWHERE.replace("\n  ", "\n").replace(
        'reading "等级的读法"', 'reading   "等级的读法"'
    )
    out, problems = format_source(Source("x.score", messy))
    assert problems == []
    assert out == EVERYWHERE


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=30))
def test_any_reading_text_prints_back(text: str) -> None:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    source = Source("x.score", f'scheme s "t" {{ reading "{escaped}" total 1 }}')
    scheme, _ = parse_source(source)
    assert scheme is not None
    out, _ = format_source(source)
    assert out is not None
    again, _ = parse_source(Source("y.score", out))
    assert again == scheme


SHIPPED = {
    "t-ccsa-249-2019": ["scheme", "levels"],
    "cace-promotion": ["scheme", "levels", "gate article_11"],
    "cmm-525-0006": [
        "value call_completion_coefficient",
        "gate 10.2",
        "gate 10.3",
        "gate 11.2",
        "gate 11.4",
        "scheme",  # appendix D: a sheet's 30 points as the 100-point 评价得分
        "outcomes",
        "outcomes",
    ],
    "t-ccua-operation-capability": ["scheme", "levels"],
    "cc-cmm-star-rating": ["value surveillance_days", "value recertification_days", "levels"],
}


@pytest.mark.parametrize("scheme", sorted(SHIPPED))
def test_shipped_schemes_state_their_readings(scheme: str) -> None:
    plan, _ = compile_path(STANDARDS / f"{scheme}.score")
    assert plan is not None
    assert [r.where for r in plan.readings] == SHIPPED[scheme]
    doc = scheme_document(plan, "md")
    assert "## 本方案的解读" in doc
    for reading in plan.readings:
        assert reading.text in doc
    html = scheme_document(plan, "html", "en")
    assert '<h2>Readings</h2>\n<table id="readings" class="readings">' in html


def test_check_lists_readings_and_counts_them_apart(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--format", "json", str(STANDARDS)]) == 0
    doc = json.loads(capsys.readouterr().out)
    readings = [d for d in doc["diagnostics"] if d["code"] == "reading"]
    # cace-promotion's inherited 249 readings are listed once, where they are written
    assert len(readings) == 16
    assert {d["severity"] for d in readings} == {"note"}
    assert (doc["errors"], doc["warnings"]) == (0, 0)
    assert main(["check", str(STANDARDS)]) == 0
    out = capsys.readouterr().out
    assert out.endswith("73 acknowledged, 16 reading(s)\n")
    assert "standards/t-ccsa-249-2019.score: 2 reading(s); --verbose shows them" in out


def test_a_report_shows_the_readings(capsys: pytest.CaptureFixture[str]) -> None:
    scheme = STANDARDS / "t-ccua-operation-capability.score"
    data = STANDARDS / "examples" / "t-ccua-operation-capability-pass-at-60.yaml"
    assert main(["eval", str(scheme), str(data), "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert "| levels | 表D.1写合格“≥60分”、改进“≤60分”，恰好60分两档都成立；" in out


def test_html_escapes_a_reading(tmp_path: Path) -> None:
    path = tmp_path / "s.score"
    path.write_text(EVERYWHERE.replace("方案一级", "<b>一级</b>"), encoding="utf-8")
    plan, _ = compile_path(path)
    assert plan is not None
    html = scheme_document(plan, "html")
    assert "&lt;b&gt;一级&lt;/b&gt;" in html
    assert "<b>一级</b>" not in html
