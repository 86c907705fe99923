"""Excel round trip: print the time to write the 249 templates and to read a filled batch.

    python benchmarks/xlsx_bench.py [--rows 1000]

Figures only, never asserted. openpyxl parses the whole workbook; a batch workbook is meant
for hundreds to a few thousand assessments (CSV or Parquet for more).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openpyxl import load_workbook  # noqa: E402

from scoredsl.batch import csv_columns  # noqa: E402
from scoredsl.loader import compile_path  # noqa: E402
from scoredsl.xlsx import open_workbook, read_batch_form, write_template  # noqa: E402
from tests.conftest import SCHEME_249, full_marks  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    rows = parser.parse_args().rows
    plan, _ = compile_path(SCHEME_249)
    assert plan is not None
    good = full_marks(plan)
    values = {**good["inputs"], **good["scores"]}
    with tempfile.TemporaryDirectory() as tmp:
        single, batch = Path(tmp) / "s.xlsx", Path(tmp) / "b.xlsx"
        start = time.perf_counter()
        write_template(plan, single, False, "t.score")
        print(f"single template: {(time.perf_counter() - start) * 1000:.0f} ms")
        start = time.perf_counter()
        write_template(plan, batch, True, "t.score")
        print(f"batch template: {(time.perf_counter() - start) * 1000:.0f} ms")
        book = load_workbook(batch)
        sheet = book.worksheets[0]
        names = csv_columns(plan)
        for r in range(rows):
            for c, name in enumerate(names, 1):
                v = values.get(name)
                if v is not None:
                    cell = v if not isinstance(v, str) else float(v[:-1]) / 100
                    sheet.cell(3 + r, c, "是" if v is True else "否" if v is False else cell)
        book.save(batch)
        start = time.perf_counter()
        opened, _ = open_workbook(plan, batch)
        read = sum(1 for _ in read_batch_form(plan, opened))
        elapsed = time.perf_counter() - start
        print(f"read and check {read} rows: {elapsed:.2f} s ({read / elapsed:.0f} rows/s)")


if __name__ == "__main__":
    main()
