"""Generated documents and reports: snapshots, escaping, language fallback."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoredsl.builder import parse_source
from scoredsl.data import read_assessment
from scoredsl.evaluate import evaluate
from scoredsl.loader import compile_path
from scoredsl.lower import lower
from scoredsl.plan import Plan
from scoredsl.render.documents import percent, report_document, scheme_document
from scoredsl.source import Source
from tests.conftest import STANDARDS

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("SCOREDSL_UPDATE_SNAPSHOTS") == "1"
SCHEMES = sorted(STANDARDS.glob("*.score"))


def snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if UPDATE or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; SCOREDSL_UPDATE_SNAPSHOTS=1"


@pytest.mark.parametrize("scheme", SCHEMES, ids=[p.stem for p in SCHEMES])
def test_scheme_markdown_snapshot(scheme: Path) -> None:
    plan, diagnostics = compile_path(scheme)
    assert plan is not None, diagnostics
    snapshot(f"{scheme.stem}.md", scheme_document(plan, "md"))


def test_249_docs_reproduce_table_1(plan249: Plan) -> None:
    doc = scheme_document(plan249, "md")
    table = doc.split("## 分值分配表")[1].split("##")[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in table.splitlines()[4:]]
    small = [r for r in rows if len(r) == 5 and r[2]]
    assert len(small) == 27  # the 27 小项 of table 1
    assert ["5.4 服务过程", "300", "5.4.1 服务需求识别与分析", "60", "6.00%"] in small
    assert ["", "", "5.4.3 服务过程实施", "150", "15.00%"] in small
    assert "| **总分** | **1000** | | | |" in doc


def test_docs_show_values_and_acknowledged_errata(tmp_path: Path) -> None:
    scheme = tmp_path / "w.score"
    scheme.write_text(
        'scheme w "w" {\n  total 10\n  input a: percent\n  input b: percent\n'
        '  value v "加权" = weighted { a 50% b 60% } {\n'
        '    accept weights-sum "原文如此"\n  }\n'
        '  item 1 "x" 10 {\n    category "过程类"\n  }\n}\n',
        encoding="utf-8",
    )
    plan, diagnostics = compile_path(scheme)
    assert plan is not None, diagnostics
    doc = scheme_document(plan, "md")
    assert "## 派生值" in doc
    assert "| 类别 | 大项 | 分值 | 小项 | 分值 | 分值占比 |" in doc
    assert "| 过程类 | 1 x | 10 | | | 100.00% |" in doc
    assert "| `weights-sum` | 5 | weights add up to 110%, not 100% (50% + 60%) | 原文如此 |" in doc
    html = scheme_document(plan, "html")
    assert '<table id="errata" class="errata">' in html and "原文如此" in html


def test_report_markdown_for_the_example(plan249: Plan) -> None:
    raw = yaml.safe_load((STANDARDS / "examples" / "t-ccsa-249-2019.yaml").read_text("utf-8"))
    result = evaluate(plan249, read_assessment(plan249, raw))
    doc = report_document(result, "md", date="2026-11-23")
    assert "| **838.15** / 1000 | 四星级 (four_star) | 是 | 五星级: 还需 61.85 |" in doc
    assert (
        "| 5.1 | 领导的作用 | 50 | 45 | 5.37% | 计算 | 3 个下级项目得分之和：18 + 18 + 9 |" in doc
    )
    assert (
        "| 5.6.2.2 | 　　顾客满意率 | 20 | 10 | 1.19% | 分档 | "
        "顾客满意率 96.5%，在 95% <= x < 98% 档：得 10 分（满分 20 分） |"
    ) in doc
    snapshot("t-ccsa-249-2019.report.md", doc)
    english = report_document(result, "md", "en", date="2026-11-23")
    assert (
        "| 5.1 | Leadership | 50 | 45 | 5.37% | computed | sum of its 3 items: 18 + 18 + 9 |"
        in english
    )


STATUS_AND_REASON_WORDS = re.compile(
    r"\b(scored|banded|vetoed|severe|deducted|computed|awarded|sum of|holds|problem|"
    r"samples|is in|of \d|not met|condition)\b"
)


def test_a_chinese_report_says_no_english_status_or_reason(plan249: Plan) -> None:
    raw = yaml.safe_load((STANDARDS / "examples" / "t-ccsa-249-2019.yaml").read_text("utf-8"))
    raw["inputs"]["info_security_incident"] = True  # a veto
    raw["severe"] = ["5.4.3"]
    del raw["scores"]["5.1.1"]
    raw.setdefault("findings", {})["5.1.1"] = {"samples": 4, "problems": 1}
    result = evaluate(plan249, read_assessment(plan249, raw))
    for fmt in ("md", "html"):
        doc = report_document(result, fmt, "zh", date="2026-11-23")
        rows = [line for line in doc.splitlines() if line.startswith(("| 5.", "<tr class="))]
        rows = [row for row in rows if "| 5." in row or "<td>5." in row]  # item rows
        assert len(rows) == len(plan249.items)
        for row in rows:
            shown = re.sub(r"<[^>]*>", "|", row)  # what a reader sees, not the CSS classes
            assert not STATUS_AND_REASON_WORDS.search(shown), row
    statuses = {i.status for i in result.items}
    assert statuses == {"scored", "banded", "vetoed", "severe", "deducted", "computed"}


NASTY = """
scheme x "<script>alert(1)</script>" {
  total 10
  input r: percent "<b>rate</b>"
  item a "<script>alert('item')</script>" 10 by r { < 50% -> 0  >= 50% -> 10 }
  levels { ok "<i>ok</i>" when total >= 5 }
}
"""


def _nasty() -> tuple[Plan, Any]:
    scheme, diagnostics = parse_source(Source("x.score", NASTY))
    assert scheme is not None and not diagnostics
    plan = lower(scheme)
    result = evaluate(plan, read_assessment(plan, {"inputs": {"r": "60%"}}))
    return plan, result


def test_html_escapes_everything_from_the_scheme() -> None:
    plan, result = _nasty()
    for html in (scheme_document(plan, "html"), report_document(result, "html")):
        assert "<script>" not in html and "<b>rate" not in html and "<i>ok" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_markdown_cells_escape_pipes() -> None:
    plan, _ = _nasty()
    doc = scheme_document(plan, "md")
    assert "| a | &lt;" not in doc  # markdown is not HTML-escaped ...
    assert "<script>alert('item')</script>" in doc  # ... but text stays text


def test_english_labels_fall_back_to_the_original(plan249: Plan) -> None:
    doc = scheme_document(plan249, "md", lang="en")
    assert "| 5.1 Leadership | 50 | 5.1.1 明确目标 | 20 |" in doc
    assert "## Score table" in doc


def test_percent_share_format() -> None:
    from decimal import Decimal

    assert (percent(None), percent(Decimal("0.0199")), percent(Decimal(1))) == (
        "",
        "1.99%",
        "100.00%",
    )


def test_001_docs_show_the_weight_tables_and_the_errata() -> None:
    plan, _ = compile_path(STANDARDS / "cmm-525-0006.score")
    assert plan is not None
    doc = scheme_document(plan, "md")
    weights = doc.split("## 权重")[1].split("## 等级")[0]
    assert "### 基础指标得分" in weights and "### 提升指标得分" in weights
    assert "| 服务规范性评价得分 (service_standardization_score) | 20% |" in weights
    assert weights.count("| **权重合计** |") == 2
    assert "| **权重合计** | **185%** |" in weights
    assert "| **权重合计** | **18%** |" in weights
    errata = doc.split("## 已确认的问题")[1].split("##")[0]
    assert errata.count("`weights-sum`") == 2 and errata.count("`band-overlap`") == 2
    assert "weights add up to 185%, not 100%" in errata


def test_docs_name_the_tiers_of_items_as_the_scheme_does() -> None:
    plan, _ = compile_path(STANDARDS / "t-ccua-operation-capability.score")
    assert plan is not None and plan.tiers == ("能力域", "能力项")
    assert Plan.from_json(plan.to_json()).tiers == ("能力域", "能力项")
    md = scheme_document(plan, "md")
    assert "| 类别 | 能力域 | 分值 | 能力项 | 分值 | 分值占比 |" in md
    html = report_document(_appendix_e(plan), "html")
    assert "<h2>各能力域得分</h2>" in html and "大项" not in html
    assert "| Class | Item | Points | Sub-item |" in scheme_document(plan, "md", "en")


def _appendix_e(plan: Plan) -> Any:
    path = STANDARDS / "examples" / "t-ccua-operation-capability-appendix-e.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return evaluate(plan, read_assessment(plan, raw))


def test_docs_list_the_inputs_and_show_formulas_by_their_labels() -> None:
    plan, _ = compile_path(STANDARDS / "cc-cmm-star-rating.score")
    assert plan is not None
    md = scheme_document(plan, "md")
    assert "| `headcount` | 客户的有效人数 | 附录A | 整数 (可选) | `x >= 1` |" in md
    assert (
        "| `p1_method_share` | 1.0部分方法合规率 | "
        "`1.0部分方法合规的条目数 / 1.0部分的条目（控制点）数` |"
    ) in md


def test_a_scheme_without_points_reports_its_decisive_values() -> None:
    plan, _ = compile_path(STANDARDS / "cc-cmm-star-rating.score")
    assert plan is not None
    raw = yaml.safe_load(
        (STANDARDS / "examples" / "cc-cmm-star-rating-four-star.yaml").read_text("utf-8")
    )
    result = evaluate(plan, read_assessment(plan, raw))
    html = report_document(result, "html")
    md = report_document(result, "md")
    assert 'id="chart"' not in html and "/ 0" not in html and 'id="total"' not in html
    assert "<h2>评定依据</h2>" in html
    assert "| 2.0部分执行到位率 (`p2_executed_share`) | 94.29% |" in md
    assert "| 四星级 ✓ |" in md and "/ 0" not in md
    assert " and " not in md and " 且 方法和执行总分 >= 3200` |" in md  # connectives in Chinese


def test_md_docs_show_item_notes() -> None:
    plan, _ = compile_path(STANDARDS / "cmm-525-0006.score")
    assert plan is not None
    assert "| D_1_1_1 | 　服务流程规范性<br><small>服务流程的完整性和合理性</small> | 10 |" in (
        scheme_document(plan, "md")
    )


def test_001_docs_and_reports_show_the_total_formula_and_the_sheets() -> None:
    plan, _ = compile_path(STANDARDS / "cmm-525-0006.score")
    assert plan is not None
    md = scheme_document(plan, "md")
    assert "总分按公式计算: 总分 = `综合评价得分` (≤ 203)" in md
    assert "## 分值分配表" not in md  # nothing adds up to the total
    assert "合计30</small> | 30 | 打分表（不计入总分）: 下级项目之和 |" in md
    en = scheme_document(plan, "html", "en")
    assert "The total is a formula: Total = <code>综合评价得分</code> (≤ 203)" in en
    raw = yaml.safe_load(
        (STANDARDS / "examples" / "cmm-525-0006-certified.yaml").read_text("utf-8")
    )
    report = report_document(evaluate(plan, read_assessment(plan, raw)), "md")
    assert "| **175.62** / 203 | 批准认证 (certified) | 是 | — |" in report
    assert "| D_1_1 | 服务规范性打分表 | 30 | 27 |  | 计算 |" in report  # no share of the total
    assert "| | **总分 = 综合评价得分** | **203** | **175.62** | 100.00% | | |" in report
