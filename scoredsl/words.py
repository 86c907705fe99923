"""Words: one catalogue per language for every text the evaluator says to people.

Explanations are data (`scoredsl.why`); they become sentences only here, at the edge, in
the reader's language. English keeps identifiers (``complaint_rate is 0.6%``) because it
is what scripts and tests read; Chinese names inputs by their labels and says 是/否.
"""

from __future__ import annotations

from typing import Final

LANGS: Final = ("en", "zh")

CATALOGUE: Final[dict[str, dict[str, str]]] = {
    "en": {
        "status.scored": "scored",
        "status.banded": "banded",
        "status.vetoed": "vetoed",
        "status.severe": "severe",
        "status.deducted": "deducted",
        "status.computed": "computed",
        "awarded": "awarded {score} of {max}",
        "deducted": "{problems} problem(s) in {samples} samples: "
        "{max} x (1 - {problems}/{samples}) = {score}",
        "banded": "{label} {value} is in {band}: {result} of {max}",
        "vetoed": "vetoed: {condition} ({reason})",
        "severe": "severe problem found in {id} ({label}): all {max} points deducted",
        "sum": "sum of its {count} items: {terms}",
        "formula": "= {text} = {score}",
        "fact": "{name} is {value}",
        "facts.sep": ", ",
        "holds": "{text} holds",
        "holds.facts": "{text} holds ({facts})",
        "gate.passed": "all {count} condition(s) hold",
        "gate.failed": "not met: {failures}",
        "gate.failure": "{text} ({facts})",
        "gate.sep": "; ",
        "outcome.first": "{condition}; none of the {count} outcome(s) before it holds",
        "outcome.else": "none of the {count} outcome(s) before it holds",
        "outcome.gates": "gate(s) not met: {gates}",
        "outcome.with_gates": "{condition} [{gates}]",
        "true": "true",
        "false": "false",
        # the text report
        "report.gate": "gate {id} {label}: {mark}: {why}",
        "report.passed": "passed",
        "report.failed": "FAILED",
        "report.eligible": "eligible: {answer}",
        "report.yes": "yes",
        "report.no": "no",
        "report.total": "total: {total} / {max}",
        "report.level": "level: {level}",
        "report.none": "none",
        "report.next": "next level: {level} {label}{more}",
        "report.more": ": {needs} more points",
        "report.value": "value {name}: {value}",
        "report.null": "null",
        "report.outcome": "outcome: {outcome}",
    },
    "zh": {
        "status.scored": "评定",
        "status.banded": "分档",
        "status.vetoed": "否决",
        "status.severe": "严重问题",
        "status.deducted": "抽样扣分",
        "status.computed": "计算",
        "awarded": "评定 {score} 分（满分 {max} 分）",
        "deducted": "抽查 {samples} 个样本，发现问题 {problems} 个："
        "{max} ×（1 - {problems}/{samples}）= {score}",
        "banded": "{label} {value}，在 {band} 档：得 {result} 分（满分 {max} 分）",
        "vetoed": "否决：{condition}（{reason}）",
        "severe": "{id}（{label}）存在严重问题：扣除全部 {max} 分",
        "sum": "{count} 个下级项目得分之和：{terms}",
        "formula": "= {text} = {score}",
        "fact": "{name}为{value}",
        "facts.sep": "，",
        "holds": "{text} 成立",
        "holds.facts": "{text} 成立（{facts}）",
        "gate.passed": "全部 {count} 项条件均满足",
        "gate.failed": "未满足：{failures}",
        "gate.failure": "{text}（{facts}）",
        "gate.sep": "；",
        "outcome.first": "{condition}；排在它之前的 {count} 个结论均不成立",
        "outcome.else": "排在它之前的 {count} 个结论均不成立",
        "outcome.gates": "未满足的条件：{gates}",
        "outcome.with_gates": "{condition}（{gates}）",
        "true": "是",
        "false": "否",
        "report.gate": "{id} {label}：{mark}：{why}",
        "report.passed": "通过",
        "report.failed": "未通过",
        "report.eligible": "具备评定资格：{answer}",
        "report.yes": "是",
        "report.no": "否",
        "report.total": "总分：{total} / {max}",
        "report.level": "等级：{level}",
        "report.none": "未达到等级",
        "report.next": "下一等级：{level} {label}{more}",
        "report.more": "：还需 {needs} 分",
        "report.value": "{name}：{value}",
        "report.null": "无",
        "report.outcome": "结论：{outcome}",
    },
}


def say(lang: str, key: str, **fields: object) -> str:
    """The catalogue's sentence `key` in `lang`, with `fields` filled in."""
    return CATALOGUE[lang][key].format(**fields)
