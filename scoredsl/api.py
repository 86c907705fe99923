"""The Python API: `load_plan` and `evaluate_data` (re-exported by the package).

A path -> a checked, compiled `Plan`; a plan + one assessment mapping -> a `Result`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scoredsl.data import read_assessment
from scoredsl.diagnostics import Diagnostic
from scoredsl.evaluate import Result, evaluate
from scoredsl.plan import Plan


class SchemeError(Exception):
    """The scheme has errors; `diagnostics` holds them all."""

    def __init__(self, path: str, diagnostics: list[Diagnostic]) -> None:
        errors = [d for d in diagnostics if d.is_error]
        super().__init__(
            f"{path}: {len(errors)} error(s); first: {errors[0].message}" if errors else path
        )
        self.diagnostics = diagnostics


def load_plan(path: str | Path) -> Plan:
    """A `.score` file (checked and compiled) or a compiled `plan.json`."""
    from scoredsl.loader import compile_path

    if str(path).endswith(".json"):
        return Plan.from_json(Path(path).read_text(encoding="utf-8"))
    plan, diagnostics = compile_path(path)
    if plan is None:
        raise SchemeError(str(path), diagnostics)
    return plan


def evaluate_data(plan: Plan, data: Any) -> Result:
    """Validate one assessment mapping and evaluate it."""
    return evaluate(plan, read_assessment(plan, data))
