"""Spark: a CSV or Parquet batch + `Plan` -> CSV, JSONL or Parquet, scored by the
Spark-dialect query of `scoredsl.sql` on a SparkSession (local mode unless a master URL is
given).

pyspark is the optional extra `scoredsl[spark]`; it is imported only when this engine runs.
Rows the query flags go through the Python reader and evaluator, as with DuckDB, so the
output is byte for byte the Python engine's.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path
from typing import IO, Any

from scoredsl.columnar import (
    ROW,
    Explainer,
    Reread,
    csv_header,
    csv_to_parquet,
    parquet_cells,
    python_cells,
    read_header,
    run_batch,
)
from scoredsl.plan import Plan
from scoredsl.sql import LayoutError, layout_for, plan_to_sql


class EngineUnavailable(Exception):
    """pyspark is not installed."""


def _session(master: str | None) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailable(
            "--engine spark needs pyspark: pip install 'scoredsl[spark]'"
        ) from None
    builder = SparkSession.builder.appName("scoredsl").master(master or "local[*]")
    builder = builder.config("spark.ui.enabled", "false").config("spark.sql.ansi.enabled", "true")
    return builder.getOrCreate()


def _batch(data: Path) -> tuple[list[str], list[list[str]]] | None:
    """The header and rows of a CSV or Parquet batch, each row its number (as
    `scoredsl.batch` numbers it: the CSV line, the Parquet row from 1) and its cells as
    text; None for a file Python must read on its own (a header it cannot read, a row of
    another cell count: the csv module's, so that a flagged row is read as Python reads it)."""
    if data.suffix.lower() == ".parquet":
        columns, cells = parquet_cells(data)
        return columns, [[str(number), *row] for number, row in enumerate(cells, 1)]
    header = read_header(data)
    if header is None or data.suffix.lower() != ".csv":
        return None
    with data.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = [[str(number), *cells] for number, cells in enumerate(reader, 2)]
    if any(len(r) != len(header) + 1 for r in rows):
        return None
    return header, rows


def run_spark(
    plan: Plan, data: Path, out: IO[bytes], fmt: str, master: str | None = None
) -> tuple[int, int]:
    """Evaluate the batch on Spark; return (rows, failed rows)."""
    spark = _session(master)
    batch = _batch(data)
    if batch is None:
        return run_batch(plan, data, out, fmt, "python")
    header, rows = batch
    try:
        layout_for(plan, header)
    except LayoutError:
        return run_batch(plan, data, out, fmt, "python")
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    schema = StructType(
        [StructField(ROW, StringType()), *(StructField(h, StringType()) for h in header)]
    )
    frame = spark.createDataFrame(rows, schema)
    frame = frame.withColumn(ROW, frame[ROW].cast(LongType()))
    frame.createOrReplaceTempView("batch")
    if fmt == "jsonl":
        try:
            return _jsonl(spark, plan, header, rows, out)
        except Reread:  # a row Python reads differently on its own
            return run_batch(plan, data, out, fmt, "python")
    query = plan_to_sql(plan, "spark", header, table="batch", row_column=ROW, text=True)
    names = csv_header(plan)
    result = spark.sql(query.sql("spark")).select(*(f"`{n}`" for n in [*names, "_python", ROW]))
    scored = sorted(result.collect(), key=lambda r: r[ROW])
    flagged = {r[ROW] for r in scored if r["_python"]}
    cells_of = ((int(r[0]), r[1:]) for r in rows if int(r[0]) in flagged)
    fixed = {n: (cells, bad) for n, cells, bad in python_cells(plan, header, cells_of)}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    failed = written = 0
    for r in scored:
        if r[ROW] in fixed:
            cells, bad = fixed[r[ROW]]
            failed += bad
            if cells is None:  # a blank row: Python skips it
                continue
            writer.writerow(cells)
        else:
            writer.writerow(["" if r[n] is None else r[n] for n in names])
        written += 1
    if fmt == "parquet":
        with tempfile.TemporaryDirectory(prefix="scoredsl-") as tmp:
            text = Path(tmp) / "out.csv"
            text.write_text(buffer.getvalue(), encoding="utf-8")
            csv_to_parquet(plan, text, out)
    else:
        out.write(buffer.getvalue().encode("utf-8"))
    return written, failed


class _Explainer(Explainer):
    """The DuckDB runner's JSONL lines; a flagged row's cells come from the batch as read
    here (Spark's query carries none)."""

    def __init__(
        self, plan: Plan, header: list[str], columns: list[str], batch: dict[int, list[str]]
    ) -> None:
        super().__init__(plan, header, columns)
        self.batch = batch

    def cells(self, number: int, row: Any) -> list[str]:
        return self.batch[number]


def _jsonl(
    spark: Any, plan: Plan, header: list[str], rows: list[list[str]], out: IO[bytes]
) -> tuple[int, int]:
    """JSONL from the explained query: each row's result rebuilt from what its columns say
    decided it (`scoredsl.explained`); a row the query flags read and evaluated by Python."""
    query = plan_to_sql(plan, "spark", header, table="batch", row_column=ROW, explain=True)
    result = spark.sql(query.sql("spark"))
    batch = {int(r[0]): r[1:] for r in rows}
    explainer = _Explainer(plan, header, list(result.columns), batch)
    ordered = sorted(result.collect(), key=lambda r: r[ROW])
    text, written, failed = explainer([(r[ROW], r) for r in ordered])
    out.write(text.encode("utf-8"))
    return written, failed
