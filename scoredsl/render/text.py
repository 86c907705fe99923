"""Plain-text rendering of a result and of a data template."""

from __future__ import annotations

from scoredsl.diagnostics import display_width
from scoredsl.evaluate import Result
from scoredsl.exactjson import number
from scoredsl.plan import Plan


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def result_text(result: Result) -> str:
    p = result.plan
    lines = [f"{p.title} ({p.id}" + (f", {p.source}" if p.source else "") + ")"]
    for gate in result.gates:
        mark = "passed" if gate.passed else "FAILED"
        lines.append(f"gate {gate.id} {gate.label}: {mark}: {gate.why}")
    lines.append(f"eligible: {'yes' if result.eligible else 'no'}")
    lines.append(f"total: {number(result.total)} / {number(p.total)}")
    level = f"{result.level} {result.level_label}" if result.level else "none"
    lines.append(f"level: {level}")
    if result.next_level is not None:
        name, needs = result.next_level
        label = next(lv.label for lv in p.levels if lv.name == name)
        more = f": {number(needs)} more points" if needs is not None else ""
        lines.append(f"next level: {name} {label}{more}")
    for name, value in result.values.items():
        lines.append(f"value {name}: {'null' if value is None else number(value)}")
    lines.append("")
    depth = {i.id: i.depth for i in p.items}
    rows = [
        (
            "  " * (depth[i.id] - 1) + f"{i.id} {i.title}",
            f"{number(i.score)}/{number(i.max)}",
            i.status,
            i.why,
        )
        for i in result.items
    ]
    width = max((display_width(r[0]) for r in rows), default=0)
    for name, score, status, why in rows:
        lines.append(f"{_pad(name, width)}  {score:>9}  {status:<8}  {why}")
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
