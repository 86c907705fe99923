"""Benchmark: from a didChange of the 249 scheme to its publishDiagnostics (goal < 100 ms).

    python benchmarks/lsp.py [--changes 30]

Starts `python -m scoredsl lsp` as an editor would (a subprocess on stdio), opens
standards/t-ccsa-249-2019.score, then sends full-text changes that alternate between an
edit that breaks a band (a band-gap appears) and the original, and prints the wall time
of each round trip: median, 90th percentile and worst. Printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lsp_client import Client  # noqa: E402

SCHEME = ROOT / "standards" / "t-ccsa-249-2019.score"
GOAL_MS = 100.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=30)
    args = parser.parse_args()
    text = SCHEME.read_text("utf-8")
    broken = text.replace("90% <= _ < 95%", "91% <= _ < 95%", 1)
    assert broken != text, "the 249 scheme no longer has the band this benchmark edits"
    uri = SCHEME.resolve().as_uri()
    timings = []
    with Client() as client:
        client.open(uri, text)  # the first load also builds (or reads) the parser
        for version in range(2, args.changes + 2):
            changed = broken if version % 2 == 0 else text
            started = time.perf_counter()
            published = client.change(uri, changed, version)
            timings.append((time.perf_counter() - started) * 1000)
            codes = {d["code"] for d in published["diagnostics"]}
            assert ("band-gap" in codes) == (changed is broken), codes
    timings.sort()
    median = statistics.median(timings)
    p90 = timings[int(len(timings) * 0.9) - 1]
    print(f"lsp: didChange -> publishDiagnostics, 249 scheme, {len(timings)} changes")
    print(f"  median {median:.1f} ms   p90 {p90:.1f} ms   worst {timings[-1]:.1f} ms")
    print(f"  goal < {GOAL_MS:.0f} ms: median is {median / GOAL_MS:.2f} of it")


if __name__ == "__main__":
    main()
