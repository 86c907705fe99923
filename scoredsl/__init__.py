"""scoredsl: scoring standards as source code.

.score text --parse--> AST --check--> diagnostics --compile--> Plan --eval--> Result

`import scoredsl` loads nothing else: each name below is imported when first used, so a
command pays only for the stages it runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["DataError", "Plan", "Result", "SchemeError", "evaluate_data", "load_plan"]

_WHERE = {
    "DataError": "scoredsl.data",
    "Plan": "scoredsl.plan",
    "Result": "scoredsl.evaluate",
    "SchemeError": "scoredsl.api",
    "evaluate_data": "scoredsl.api",
    "load_plan": "scoredsl.api",
}

if TYPE_CHECKING:
    from scoredsl.api import SchemeError, evaluate_data, load_plan
    from scoredsl.data import DataError
    from scoredsl.evaluate import Result
    from scoredsl.plan import Plan


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'scoredsl' has no attribute {name!r}")
