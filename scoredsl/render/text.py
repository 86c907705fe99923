"""Plain-text rendering of a result and of a data template."""

from __future__ import annotations

from scoredsl.diagnostics import display_width
from scoredsl.evaluate import Result
from scoredsl.exactjson import number
from scoredsl.plan import Plan
from scoredsl.why import status_text
from scoredsl.words import say


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def result_text(result: Result, lang: str = "en") -> str:
    """The result for a terminal, every word in `lang`."""
    p = result.plan

    def t(key: str, **fields: object) -> str:
        return say(lang, f"report.{key}", **fields)

    lines = [f"{p.title} ({p.id}" + (f", {p.source}" if p.source else "") + ")"]
    for gate in result.gates:
        mark = t("passed") if gate.passed else t("failed")
        lines.append(t("gate", id=gate.id, label=gate.label, mark=mark, why=gate.text(lang)))
    lines.append(t("eligible", answer=t("yes") if result.eligible else t("no")))
    lines.append(t("total", total=number(result.total), max=number(p.total)))
    level = f"{result.level} {result.level_label}" if result.level else t("none")
    lines.append(t("level", level=level))
    if result.next_level is not None:
        name, needs = result.next_level
        label = next(lv.label for lv in p.levels if lv.name == name)
        more = t("more", needs=number(needs)) if needs is not None else ""
        lines.append(t("next", level=name, label=label, more=more))
    if p.outcomes:
        outcome = t("none")
        if result.outcome is not None:
            outcome = f"{result.outcome} {result.outcome_label}: {result.outcome_text(lang)}"
        lines.append(t("outcome", outcome=outcome))
    labels = {v.name: v.label for v in p.values}
    shows = {v.name: v.show for v in p.values}
    for name, value in result.values.items():
        shown = t("null") if value is None else shows[name](value)
        lines.append(t("value", name=name if lang == "en" else labels[name] or name, value=shown))
    lines.append("")
    depth = {i.id: i.depth for i in p.items}
    rows = [
        (
            "  " * (depth[i.id] - 1) + f"{i.id} {i.title}",
            f"{number(i.score)}/{number(i.max)}",
            status_text(i.status, lang),
            i.text(lang),
        )
        for i in result.items
    ]
    width = max((display_width(r[0]) for r in rows), default=0)
    score_width = max([9, *(len(r[1]) for r in rows)])
    status_width = max([8, *(display_width(r[2]) for r in rows)])
    for name, score, status, why in rows:
        lines.append(
            f"{_pad(name, width)}  {score:>{score_width}}  {_pad(status, status_width)}  {why}"
        )
    return "\n".join(lines)


def template_yaml(plan: Plan) -> str:
    """A data file to fill in: every input and judged item, labels as comments."""
    out = [
        f"# {plan.title} ({plan.source or plan.id})",
        "# Fill in the values, then: scoredsl eval SCHEME THIS_FILE",
        f"scheme: {plan.id}",
        "inputs:",
    ]
    for inp in plan.inputs:
        kind = {"percent": 'percent, e.g. "96.5%"', "bool": "true or false"}.get(inp.type, inp.type)
        extra = "" if inp.required else ", optional"
        clause = f"; {inp.clause}" if inp.clause else ""
        out.append(f"  {inp.name}:   # {inp.label or ''} ({kind}{extra}{clause})")
    out.append("scores:")
    for item in plan.items:
        if item.kind == "judged":
            out.append(f'  "{item.id}":   # {item.label} (0 to {number(item.max)})')
    if plan.findings:
        out.append('# findings: {"5.4.3.2": {samples: 20, problems: 3}}   # instead of a score')
    if plan.severe_depth is not None:
        out.append(f"severe: []   # ids of depth-{plan.severe_depth} items with a severe problem")
    return "\n".join(out) + "\n"
