"""Render documents: `Plan` -> the scheme's own tables, `Result` -> an assessment report.

Markdown and HTML come from Jinja2 templates (HTML autoescaped: a label holding
``<script>`` shows as text). Renderers only lay out what the plan and result hold; they
never re-compute a score.
"""

from __future__ import annotations

import datetime
import functools
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from scoredsl.evaluate import Result
from scoredsl.exactjson import number
from scoredsl.plan import Band, Expr, InputRef, Item, ItemRef, Plan, ValueRef, Weighted, walk
from scoredsl.why import status_text

if TYPE_CHECKING:
    import jinja2

WORDS = {
    "zh": {
        "source": "来源", "version": "版本", "total": "总分", "hash": "计划哈希",
        "score_table": "分值分配表", "big": "大项", "small": "小项", "points": "分值",
        "share": "分值占比", "items": "评价项目", "id": "条款", "label": "项目",
        "how": "计分方式", "judged": "评审打分", "banded": "按分档计分",
        "computed": "按公式计算", "parent": "下级项目之和", "bands": "分档",
        "range": "范围", "vetoes": "否决条件", "veto_when": "条件", "reason": "依据",
        "gates": "基本条件", "requirement": "要求", "rules": "扣分规则", "levels": "等级",
        "level": "等级", "condition": "条件", "values": "派生值", "formula": "公式",
        "notes": "说明", "report": "评价报告", "date": "日期", "result": "评价结果",
        "eligible": "具备评定资格", "yes": "是", "no": "否", "none": "未达到等级",
        "next": "下一等级", "needs": "还需", "score": "计分", "score_share": "计分占比",
        "status": "状态", "why": "计分依据", "passed": "通过", "failed": "未通过",
        "chart": "各大项得分", "value": "值", "name": "名称", "errata": "已确认的问题",
        "lookup": "查表", "by": "依据", "category": "类别", "code": "代码", "line": "行",
        "finding": "检查结果", "weights": "权重", "term": "指标", "weight": "权重",
        "weights_sum": "权重合计", "inputs": "输入", "type": "类型", "domain": "取值范围",
        "meaning": "含义", "optional": "可选", "percent": "百分比", "bool": "是/否",
        "integer": "整数", "number": "数值", "seconds": "秒", "chart_of": "各{}得分",
        "decisive": "评定依据",
        "readings": "本方案的解读", "where": "位置", "reading": "解读",
        "outcomes": "结论", "outcome": "结论", "otherwise": "以上均不成立时",
        "outcomes_rule": "按所列顺序判定，取第一个条件成立的结论。", "no_outcome": "无结论",
        "sheet": "打分表（不计入总分）", "total_is": "总分按公式计算",
    },
    "en": {
        "source": "Source", "version": "Version", "total": "Total", "hash": "Plan hash",
        "score_table": "Score table", "big": "Item", "small": "Sub-item", "points": "Points",
        "share": "Share", "items": "Items", "id": "Clause", "label": "Item",
        "how": "Scored by", "judged": "assessor's judgement", "banded": "bands",
        "computed": "formula", "parent": "sum of its items", "bands": "Bands",
        "range": "Range", "vetoes": "Vetoes", "veto_when": "When", "reason": "Reason",
        "gates": "Eligibility conditions", "requirement": "Requirement",
        "rules": "Deduction rules", "levels": "Levels", "level": "Level",
        "condition": "Condition", "values": "Derived values", "formula": "Formula",
        "notes": "Notes", "report": "Assessment report", "date": "Date", "result": "Result",
        "eligible": "Eligible", "yes": "yes", "no": "no", "none": "no level",
        "next": "Next level", "needs": "needs", "score": "Score", "score_share": "Share of total",
        "status": "Status", "why": "Why", "passed": "passed", "failed": "failed",
        "chart": "Score by item", "value": "Value", "name": "Name", "errata": "Acknowledged",
        "lookup": "lookup", "by": "by", "category": "Class", "code": "Code", "line": "Line",
        "finding": "Finding", "weights": "Weights", "term": "Term", "weight": "Weight",
        "weights_sum": "Sum of weights", "inputs": "Inputs", "type": "Type",
        "domain": "Range", "meaning": "Meaning", "optional": "optional", "percent": "percent",
        "bool": "yes/no", "integer": "whole number", "number": "number", "seconds": "seconds",
        "chart_of": "Score by {}", "decisive": "Decisive values",
        "readings": "Readings", "where": "Where", "reading": "Reading",
        "outcomes": "Outcomes", "outcome": "Outcome", "otherwise": "none of the above",
        "outcomes_rule": "Decided in the order listed: the first whose condition holds.",
        "no_outcome": "no outcome",
        "sheet": "scoring sheet (not in the total)", "total_is": "The total is a formula",
    },
}  # fmt: skip


_CLAUSE = re.compile(r"[0-9]+(\.[0-9]+)*\Z")  # ids the standard numbers; others are not shown


def percent(x: Decimal | None, places: int = 2) -> str:
    """A fraction as a percentage with fixed places: 0.0199 -> 1.99%."""
    if x is None:
        return ""
    return f"{(x * 100).quantize(Decimal(1).scaleb(-places)):f}%"


def markdown_cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2  # loaded only by the commands that print documents

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("scoredsl.render", "templates"),
        # Templates are named like report.html.j2: escape by the inner extension.
        autoescape=lambda name: name is not None and ".html" in name,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = lambda x: "" if x is None else number(x)
    env.filters["pts"] = lambda x: format(x, "f")  # points as written: 2.00, 5.25
    env.filters["pct"] = percent
    env.filters["md"] = markdown_cell
    return env


class _Labels:
    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __call__(self, label: str, en: str | None) -> str:
        return en if self.lang == "en" and en else label


def _band_text(plan: Plan, band: Band, input_name: str) -> str:
    """As the standard writes a band: ``< 90%``, ``90% <= _ < 95%``, ``else``."""
    return band.describe(plan.input(input_name).show, var="_").removeprefix("_ ")


def _words(plan: Plan, lang: str) -> dict[str, str]:
    """The words of the language, with the scheme's own names for its tiers of items."""
    words = dict(WORDS[lang])
    if plan.tiers and lang == "zh":
        words["big"] = plan.tiers[0]
        words["small"] = plan.tiers[min(1, len(plan.tiers) - 1)]
        words["chart"] = words["chart_of"].format(plan.tiers[0])
    return words


_CONNECTIVES = {"zh": {"and": "且", "or": "或", "not": "非", "true": "是", "false": "否"}}


def _labelled(plan: Plan, label: _Labels) -> Any:
    """A formula or condition with its input and value names shown by their labels (and, in
    Chinese, its connectives in Chinese: 且, 或, 非)."""
    names = dict(_CONNECTIVES.get(label.lang, {}))
    names |= {i.name: label(i.label, None) for i in plan.inputs if i.label}
    names |= {v.name: label(v.label, v.en) for v in plan.values if v.label}
    pattern = re.compile(r"(?<![\w.])(\w+)(?![\w(])")

    def show(text: str) -> str:
        return pattern.sub(lambda m: names.get(m.group(1), m.group(1)), text).replace("非 ", "非")

    return show


def _context(plan: Plan, lang: str) -> dict[str, Any]:
    label = _Labels(lang)
    tops = plan.summed_items  # what the total adds up (none when it is a formula)
    plan_values = {v.name: v for v in plan.values}
    return {
        "plan": plan,
        "w": _words(plan, lang),
        "labelled": _labelled(plan, label),
        "lang": lang,
        "L": label,
        "tops": tops,
        "children": {i.id: plan.children_of(i) for i in plan.items},
        "banded": [i for i in plan.items if i.kind == "banded"],
        "vetoed": [i for i in plan.items if i.vetoes],
        "band_text": lambda band, name: _band_text(plan, band, name),
        "inputs": {i.name: i for i in plan.inputs},
        "indent": lambda item: item.depth - 1,
        "clause": lambda item: f"{item.id} " if _CLAUSE.match(item.id) else "",
        "categories": any(i.category for i in tops),
        "weight_tables": _weight_tables(plan, label),
        "show_value": lambda name, x: plan_values[name].show(x),
    }


def _weight_tables(plan: Plan, label: _Labels) -> list[dict[str, Any]]:
    """Each weighted sum (001 appendix C) as a table: term, weight, and the weights' sum."""

    labels = {i.name: i.label for i in plan.inputs} | {v.name: v.label for v in plan.values}

    def term(ref: Expr) -> str:
        match ref:
            case ItemRef(item_id):
                item = plan.item(item_id)
                return f"{item_id} {label(item.label, item.en)}"
            case InputRef(name) | ValueRef(name):
                labelled = labels.get(name)
                return f"{labelled} ({name})" if labelled else name
        raise AssertionError(f"a weight's term is a reference, not {ref!r}")

    tables = []
    owners = [(v.label or v.name, v.en, v.formula) for v in plan.values]
    owners += [(f"{i.id} {i.label}", i.en, i.formula) for i in plan.items]
    for title, en, formula in owners:
        if isinstance(formula, Weighted):
            rows = [(term(t.ref), t.weight) for t in formula.terms]
            total = sum((w for _, w in rows), Decimal(0))
            tables.append({"title": label(title, en), "rows": rows, "sum": total})
    return tables


def scheme_document(plan: Plan, fmt: str, lang: str = "zh") -> str:
    return _environment().get_template(f"scheme.{fmt}.j2").render(**_context(plan, lang))


def report_document(result: Result, fmt: str, lang: str = "zh", date: str | None = None) -> str:
    plan = result.plan
    total = result.total
    ctx = _context(plan, lang)
    ctx |= {
        "r": result,
        "status": lambda code: status_text(code, lang),
        "date": date or datetime.date.today().isoformat(),
        "share": (lambda s: s / total if total else None),
        # items in a sheet are not part of the total: no share of it
        "counted": {i.id for i in plan.items if not _in_sheet(plan, i)},
        "scores": {i.id: i for i in result.items},
        "level_label": {lv.name: ctx["L"](lv.label, lv.en) for lv in plan.levels},
        "bars": _bars(result, plan.top_items, ctx["L"]),
        "decisive": _decisive(result, ctx["L"]),
    }
    return _environment().get_template(f"report.{fmt}.j2").render(**ctx)


def _decisive(result: Result, label: _Labels) -> list[dict[str, Any]]:
    """The values the level conditions read, for a scheme whose levels are not on points."""
    plan = result.plan
    # read from the conditions themselves: a level written with a group quantifier
    # (`every part (share >= 90%)`) keeps that text, not the members' names
    used = {x.name for lv in plan.levels for x in walk(lv.condition) if isinstance(x, ValueRef)}
    texts = " ".join(lv.text for lv in plan.levels)
    return [
        {
            "name": v.name,
            "label": label(v.label or v.name, v.en),
            "value": result.values[v.name],
            # compared with a percentage (share >= 90%, or inside a quantifier the member's
            # name without its prefix: p1_share as share): shown as one
            "percent": any(
                re.search(rf"\b{re.escape(name)}\s*[<>=]+\s*[0-9.]+%", texts) is not None
                for name in (v.name, *_member_suffixes(v.name))
            ),
        }
        for v in plan.values
        if v.name in used and v.name in result.values
    ]


def _member_suffixes(name: str) -> list[str]:
    """``p1_method_share`` -> ``method_share``, ``share``: how a group may have written it."""
    parts = name.split("_")
    return ["_".join(parts[k:]) for k in range(1, len(parts))]


def _in_sheet(plan: Plan, item: Item) -> bool:
    while item.parent is not None:
        item = plan.item(item.parent)
    return item.sheet


def _bars(result: Result, tops: tuple[Item, ...], label: _Labels) -> list[dict[str, Any]]:
    """One bar per top-level item: widths in % of the largest maximum."""
    widest = max((i.max for i in tops), default=Decimal(1)) or Decimal(1)
    scores = {i.id: i.score for i in result.items}
    return [
        {
            "id": i.id,
            "label": label(i.label, i.en),
            "max": i.max,
            "score": scores[i.id],
            "max_width": (i.max / widest * 100).quantize(Decimal("0.1")),
            "score_width": (scores[i.id] / widest * 100).quantize(Decimal("0.1")),
        }
        for i in tops
    ]
