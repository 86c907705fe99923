"""Examples: each embedded worked assessment gives the total, level and eligibility it expects.

This check runs after lowering (it evaluates the plan), so the loader calls it only for a
scheme that has no errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from scoredsl import nodes as n
from scoredsl.data import DataError, read_assessment
from scoredsl.diagnostics import Diagnostic, error
from scoredsl.evaluate import EvaluationError, evaluate
from scoredsl.exactjson import number
from scoredsl.plan import Plan
from scoredsl.semantics import literal_value


def example_data(example: n.Example, scheme: n.Scheme) -> dict[str, Any]:
    """The example as assessment data (the same mapping a YAML file would give)."""
    percent = {i.name for i in scheme.inputs if i.type == "percent"}
    inputs: dict[str, Any] = {}
    scores: dict[str, Any] = {}
    findings: dict[str, Any] = {}
    severe: list[str] = []
    for stmt in example.body:
        match stmt:
            case n.Given(name, n.Bool(value)):
                inputs[name] = value
            case n.Given(name, value):
                x = literal_value(value)  # type: ignore[arg-type]
                inputs[name] = f"{number(x)}%" if name in percent else x
            case n.GivenScore(key, score):
                scores[key] = score
            case n.GivenFindings(key, problems, samples):
                findings[key] = {"samples": samples, "problems": problems}
            case n.GivenSevere(key):
                severe.append(key)
    return {"inputs": inputs, "scores": scores, "findings": findings, "severe": severe}


def check_examples(scheme: n.Scheme, plan: Plan) -> Iterator[Diagnostic]:
    for example in scheme.examples:
        anchor = f"example:{example.name}"
        try:
            result = evaluate(plan, read_assessment(plan, example_data(example, scheme)))
        except DataError as exc:
            yield error(
                "example-failed",
                f'example "{example.name}" cannot be evaluated: {exc.problems[0]}',
                example.span,
                *exc.messages[1:],
                anchor=anchor,
            )
            continue
        except EvaluationError as exc:
            yield error(
                "example-failed", f'example "{example.name}": {exc}', example.span, anchor=anchor
            )
            continue
        for expect in (s for s in example.body if isinstance(s, n.Expect)):
            got: Any = {
                "total": result.total,
                "level": result.level,
                "eligible": result.eligible,
                "outcome": result.outcome,
            }[expect.what]
            if got != expect.value:
                yield error(
                    "example-failed",
                    f'example "{example.name}" expects {expect.what} {_show(expect.value)} '
                    f"but gets {_show(got)}",
                    expect.span,
                    anchor=anchor,
                )


def _show(x: Any) -> str:
    if isinstance(x, Decimal):
        return number(x)
    if x is None:
        return "none"
    if isinstance(x, bool):
        return "true" if x else "false"
    return str(x)
