"""The pipeline's figures in one run, beside a hand-written plain-Python 249 loop.

    python benchmarks/pipeline.py

Prints (never asserts) the three targets of the pipeline issue: one T/CCSA 249 evaluation
with its data checks (CPU, target <= 100 us, aim 50), `import scoredsl` in a fresh
process (target <= 80 ms) and `scoredsl check standards/` (target <= 0.3 s), each the best
of several runs, with the ratio to the hand-written loop. Run it on an idle machine: other
work on the two cores inflates every figure.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scoredsl.data import read_assessment  # noqa: E402
from scoredsl.evaluate import evaluate  # noqa: E402
from scoredsl.loader import compile_path  # noqa: E402
from tests.conftest import full_marks  # noqa: E402

SCHEME = ROOT / "standards" / "t-ccsa-249-2019.score"
PERCENT = Decimal(100)

# The 249 bands written out by hand: (lower bounds ascending, points), higher is better
# except the complaint rate.
BANDS = {
    "5.6.2.2": ("customer_satisfaction_rate", ((90, 5), (95, 10), (98, 20))),
    "5.6.2.3": ("call_completion_rate", ((85, 5), (90, 10), (95, 20))),
    "5.6.2.5": ("complaint_timely_rate", ((98, 5), (98.5, 10), (99, 20))),
    "5.6.7.3": ("training_participation_rate", ((90, 5), (95, 10), (99, 20))),
    "5.6.7.4": ("suggestion_participation_rate", ((5, 5), (10, 10), (20, 20))),
    "5.6.8.2": ("request_resolution_rate", ((90, 5), (95, 10), (99, 20))),
}


def hand_written(scores: dict[str, Decimal], rates: dict[str, Any], maxima: dict[str, Any]) -> Any:
    """The 249 total the way one would code it for this one standard: check each score
    is a number within its maximum and each rate a percentage, then add up."""
    total = Decimal(0)
    for key, score in scores.items():
        if not isinstance(score, Decimal) or not 0 <= score <= maxima[key]:
            raise ValueError(key)
        total += score
    values = {}
    for name, raw in rates.items():
        if isinstance(raw, bool):
            values[name] = raw
            continue
        if not raw.endswith("%"):
            raise ValueError(name)
        values[name] = Decimal(raw[:-1])
    for _, (name, bands) in BANDS.items():
        x = values[name]
        points = 0
        for low, got in bands:
            if x >= Decimal(str(low)):
                points = got
        total += points
    c = values["complaint_rate"]
    total += 20 if c < Decimal("0.5") else 10 if c < Decimal("0.8") else 5 if c < 1 else 0
    total += 20 if values["training_plan_completion_rate"] == PERCENT else 0
    if not (values["info_security_incident"] or values["secrecy_check_problem"]):
        total += 0  # 5.6.6 is judged; a veto would zero it
    eligible = values["meets_ydt3609_indicators"] and not values["major_safety_accident_3y"]
    level = "five_star" if total >= 900 else "four_star" if total >= 800 else None
    return total, eligible, level


def cpu_per_call(fn: Callable[[], object], number: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(number):
            fn()
        best = min(best, (time.process_time() - start) / number)
    return best


def wall(cmd: list[str], repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def line(name: str, value: str, target: str) -> None:
    print(f"{name:<52} {value:>12}   {target}")


def main() -> None:
    plan, _ = compile_path(SCHEME)
    assert plan is not None
    data = full_marks(plan)
    scores = dict(data["scores"])
    maxima = {i.id: i.max for i in plan.items}
    rates = data["inputs"]
    baseline = cpu_per_call(lambda: hand_written(scores, rates, maxima), 20_000)
    line("hand-written plain-Python 249 loop (CPU)", f"{baseline * 1e6:.1f} us", "the floor")
    ours = cpu_per_call(lambda: evaluate(plan, read_assessment(plan, data)), 5_000)
    line(
        "scoredsl: one 249 evaluation with data checks",
        f"{ours * 1e6:.1f} us",
        f"target <= 100 us, aim 50; {ours / baseline:.0f}x the hand-written loop",
    )
    checked = read_assessment(plan, data)
    alone = cpu_per_call(lambda: evaluate(plan, checked), 5_000)
    line("  of which evaluation alone", f"{alone * 1e6:.1f} us", "")
    line("  of which data checks", f"{(ours - alone) * 1e6:.1f} us", "")

    python = [sys.executable, "-c", "pass"]
    start = wall(python)
    imported = wall([sys.executable, "-c", "import scoredsl"])
    line("python -c 'import scoredsl' (wall)", f"{imported * 1000:.0f} ms", "target <= 80 ms")
    line("  of which the interpreter starting", f"{start * 1000:.0f} ms", "")
    check = wall([sys.executable, "-m", "scoredsl", "check", "standards/"], repeat=3)
    line("scoredsl check standards/ (wall, 5 schemes)", f"{check * 1000:.0f} ms", "target <= 0.3 s")


if __name__ == "__main__":
    main()
