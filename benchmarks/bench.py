"""Benchmarks: print wall times and memory for the brief's performance targets.

    python benchmarks/bench.py [--rows 100000] [--items 10000]

Targets (printed beside each figure, never asserted): `scoredsl check standards/` well
under a second; a 10,000-item scheme checked in under two seconds; one in-process
evaluation of the compiled 249 plan well under a millisecond; 100,000 CSV rows in
seconds with memory flat in the row count.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scoredsl.data import read_assessment  # noqa: E402
from scoredsl.evaluate import evaluate  # noqa: E402
from scoredsl.loader import compile_path, load  # noqa: E402
from tests.conftest import full_marks  # noqa: E402

SCHEME = ROOT / "standards" / "t-ccsa-249-2019.score"


def line(name: str, value: str, target: str) -> None:
    print(f"{name:<48} {value:>16}   (target: {target})")


def generated_scheme(items: int) -> str:
    """`items` judged leaves under 100-item parents, plus one banded item per parent."""
    groups = max(1, items // 100)
    out = ['scheme big "generated" {', f"  total {groups * 100}", "  input r: percent"]
    for g in range(1, groups + 1):
        out.append(f'  item {g} "group {g}" 100 {{')
        for k in range(1, 99):
            out.append(f'    item {g}.{k} "leaf {g}.{k}" 1')
        out.append(f'    item {g}.99 "banded {g}" 2 by r {{ < 50% -> 0  >= 50% -> 2 }}')
        out.append("  }")
    out.append("}")
    return "\n".join(out) + "\n"


def bench_check(items: int) -> None:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "scoredsl", "check", str(ROOT / "standards")],
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - start
    line("scoredsl check standards/ (process, wall)", f"{wall * 1000:.0f} ms", "well under 1 s")
    if proc.returncode != 0:
        print(proc.stdout.decode(), proc.stderr.decode())
    start = time.perf_counter()
    for path in sorted((ROOT / "standards").glob("*.score")):
        load(path)
    line("  of which in-process load+check", f"{(time.perf_counter() - start) * 1000:.0f} ms", "")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.score"
        path.write_text(generated_scheme(items), encoding="utf-8")
        start = time.perf_counter()
        loaded = load(path)
        wall = time.perf_counter() - start
        errors = sum(d.is_error for d in loaded.diagnostics)
        line(f"check a {items}-item scheme (in-process)", f"{wall * 1000:.0f} ms", "under 2 s")
        assert errors == 0, loaded.diagnostics[:3]


def bench_eval() -> None:
    plan, _ = compile_path(SCHEME)
    assert plan is not None
    data = full_marks(plan)
    n = 2000
    per = timeit.timeit(lambda: evaluate(plan, read_assessment(plan, data)), number=n) / n
    line("evaluate one 249 assessment (validate+eval)", f"{per * 1e6:.0f} us", "well under 1 ms")
    assessment = read_assessment(plan, data)
    per = timeit.timeit(lambda: evaluate(plan, assessment), number=n) / n
    line("  of which evaluation alone", f"{per * 1e6:.0f} us", "")


def bench_batch(rows: int) -> None:
    plan, _ = compile_path(SCHEME)
    assert plan is not None
    data = full_marks(plan)
    header = ["id", *data["inputs"], *data["scores"]]
    values = [
        *({True: "true", False: "false"}.get(v, v) if isinstance(v, bool) else str(v)
          for v in data["inputs"].values()),
        *(str(v) for v in data["scores"].values()),
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for count in (rows // 10, rows):
            path = Path(tmp) / f"batch{count}.csv"
            with path.open("w", encoding="utf-8") as f:
                f.write(",".join(header) + "\n")
                for i in range(count):
                    f.write(",".join([f"r{i}", *values]) + "\n")
            out = Path(tmp) / "out.csv"
            for jobs in sorted({1, os.cpu_count() or 1}):
                cmd = [sys.executable, "-m", "scoredsl", "eval", str(SCHEME), str(path),
                       "-o", str(out), "--quiet", "--jobs", str(jobs)]  # fmt: skip
                before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                start = time.perf_counter()
                subprocess.run(cmd, check=True)
                wall = time.perf_counter() - start
                rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                what = f"batch CSV, {count} rows, --jobs {jobs} (wall)"
                line(what, f"{wall:.1f} s", "a few seconds")
                line("  rows per second", f"{count / wall:,.0f}", "")
                line("  peak RSS of one process", f"{max(rss, before) / 1024:.0f} MiB", "flat")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--items", type=int, default=10_000)
    args = p.parse_args()
    bench_check(args.items)
    bench_eval()
    bench_batch(args.rows)


if __name__ == "__main__":
    main()
