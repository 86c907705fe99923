"""Spark: a CSV or Parquet batch + `Plan` -> CSV, JSONL or Parquet, scored by the
Spark-dialect query of `scoredsl.sql` on a SparkSession (local mode unless a master URL is
given).

A CSV batch of plain lines (`columnar.plain_lines`: no quote, CR or NUL) is read by the
workers, each line numbered as `scoredsl.batch` numbers it and split on its commas, and so
is a Parquet batch whose columns all hold text; any other batch (quoted cells, typed
Parquet columns) is read on the driver. Either way the scored rows come
to the driver in order, one partition at a time, and are written there. Rows the query
flags go through the Python reader and evaluator, as with DuckDB, so the output is byte for
byte the Python engine's.

pyspark is the optional extra `scoredsl[spark]`; it is imported only when this engine runs.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from sqlglot import exp

from scoredsl.columnar import (
    CHUNK,
    ROW,
    Explainer,
    Progress,
    Reread,
    column_types,
    csv_header,
    csv_to_parquet,
    parquet_cells,
    python_cells,
    read_header,
    run_batch,
)
from scoredsl.plan import Plan
from scoredsl.render.batch import write_results
from scoredsl.sql import LayoutError, layout_for, plan_to_sql

Cells = Callable[[int, Any], list[str]]  # a flagged row's input cells, by number and row


class EngineUnavailable(Exception):
    """pyspark is not installed."""


def _session(master: str | None, console: bool) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailable(
            "--engine spark needs pyspark: pip install 'scoredsl[spark]'"
        ) from None
    builder = SparkSession.builder.appName("scoredsl").master(master or "local[*]")
    builder = builder.config("spark.ui.enabled", "false").config("spark.sql.ansi.enabled", "true")
    # Spark's own bar (its stages) on a terminal: the rows reach the driver only at the end
    builder = builder.config("spark.ui.showConsoleProgress", str(console).lower())
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")  # not its warnings among the batch's messages
    return spark


def run_spark(
    plan: Plan,
    data: Path,
    out: IO[bytes],
    fmt: str,
    master: str | None = None,
    progress: Progress | None = None,
    console: bool = False,
) -> tuple[int, int]:
    """Evaluate the batch on Spark; return (rows, failed rows). `progress` hears of the rows
    written; `console` shows Spark's own progress bar (its stages) on stderr."""
    spark = _session(master, console)
    try:
        source = _register(spark, plan, data)
        if source is not None:
            return _score(spark, plan, out, fmt, progress, *source)
    except Reread:  # a row Python reads differently on its own
        pass
    return run_batch(plan, data, out, fmt, "python", progress=progress)


Source = tuple[list[str], Cells, str | None]  # header, a flagged row's cells, carried column


def _register(spark: Any, plan: Plan, data: Path) -> Source | None:
    """The batch as the view `batch` (text cells named by the header, and ROW): read by the
    workers where they read it as Python does, else on the driver; None for a batch only
    the Python engine reads."""
    header = read_header(data, blank_lines=False) if data.suffix.lower() == ".csv" else None
    if header is not None and _fits(plan, header):
        lines = _numbered_lines(spark, data, len(header))
        if lines is not None:
            return _from_lines(header, lines)
    texts = _text_columns(data)
    if texts is not None and _fits(plan, texts):
        return _from_parquet(spark, data, texts)
    batch = _batch(data)
    if batch is None or not _fits(plan, batch[0]):
        return None
    return _from_rows(spark, *batch)


def _fits(plan: Plan, header: list[str]) -> bool:
    try:
        layout_for(plan, header)
    except LayoutError:
        return False
    return True


# ---- plain lines, read by the workers --------------------------------------------------------

LINE = "_line"  # a row's whole line, carried to the driver only for a row Python must read


def _numbered_lines(spark: Any, data: Path, width: int) -> Any | None:
    """A CSV batch read by Spark's workers as lines, each with its number as
    `scoredsl.batch` counts it (ROW, LINE; the header and blank lines left out), or None
    when a line is not `columnar.plain_lines`'s kind (a quote, CR, NUL, or a replacement
    character: bytes that are not UTF-8) or has another cell count than the header: then
    the file is read on the driver by Python's csv module.

    Numbers without a pass of one worker over the file: Spark numbers rows within a
    partition (`monotonically_increasing_id`) and says which block of the file each came
    from (`input_file_block_start`); one pass counts the lines of each block, and a
    line's number is the count before its block plus its place in it."""
    from pyspark.sql import functions as F

    text = F.col(LINE)
    at = spark.read.text(str(data)).select(
        F.col("value").alias(LINE),
        F.input_file_block_start().alias("_block"),
        F.monotonically_increasing_id().alias("_at"),
    )
    odd = text.rlike('["\\r\\x00\\x{FFFD}]')  # the regular expression's own escapes
    bad = odd | ((text != "") & (F.size(F.split(text, ",", -1)) != width))
    blocks = (
        at.groupBy("_block")
        .agg(
            F.count(F.lit(1)).alias("_lines"),
            F.min("_at").alias("_first"),
            F.max(bad.cast("int")).alias("_bad"),
        )
        .collect()
    )
    if not blocks or any(b["_bad"] for b in blocks):
        return None
    starts, number = [], 1
    for b in sorted(blocks, key=lambda b: b["_block"]):
        starts.append((b["_block"], b["_first"], number))
        number += b["_lines"]
    offsets = spark.createDataFrame(starts, "_block LONG, _first LONG, _start LONG")
    row = (F.col("_start") + F.col("_at") - F.col("_first")).alias(ROW)
    numbered = at.join(F.broadcast(offsets), "_block").select(row, text)
    return numbered.filter((F.col(ROW) > 1) & (text != ""))


def _from_lines(header: list[str], lines: Any) -> Source:
    """Numbered lines (`_numbered_lines`) split into their cells on the workers; a flagged
    row's cells are its line's, split as Python's csv module splits it."""
    from pyspark.sql import functions as F

    cells = F.split(F.col(LINE), ",", -1)
    frame = lines.select(
        F.col(ROW), F.col(LINE), *(cells.getItem(k).alias(h) for k, h in enumerate(header))
    )
    frame.createOrReplaceTempView("batch")
    return header, lambda _, row: str(row[LINE]).split(","), LINE


# ---- Parquet of text columns, read by the workers --------------------------------------------

CELLS = "_cells"  # a row's cells (a JSON list), carried to the driver only for a flagged row


def _text_columns(data: Path) -> list[str] | None:
    """A Parquet batch's columns when every one holds text (whose values Spark reads as the
    Python reader does: as they are); None for a CSV file or a Parquet one with a typed
    column (Spark would print its values in its own way)."""
    types = column_types(data)
    if not types or any(t != "VARCHAR" for t in types.values()):
        return None
    return list(types)


def _from_parquet(spark: Any, data: Path, header: list[str]) -> Source:
    """A Parquet batch of text columns read by the workers, each row numbered by its
    place in the file (`_metadata.row_index`, from 1 as `scoredsl.batch` counts)."""
    from pyspark.sql import functions as F

    frame = spark.read.parquet(str(data))
    columns = [F.col(f"`{h}`") for h in header]
    texts = F.to_json(F.array(*(F.coalesce(c, F.lit("")) for c in columns)))
    number = (F.col("_metadata.row_index") + 1).alias(ROW)
    frame.select(number, texts.alias(CELLS), *columns).createOrReplaceTempView("batch")
    return header, lambda _, row: list(json.loads(row[CELLS])), CELLS


# ---- any other batch, read on the driver -----------------------------------------------------


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


def _from_rows(spark: Any, header: list[str], rows: list[list[str]]) -> Source:
    """Rows read on the driver (`_batch`) handed to Spark."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    schema = StructType(
        [StructField(ROW, StringType()), *(StructField(h, StringType()) for h in header)]
    )
    frame = spark.createDataFrame(rows, schema)
    frame.withColumn(ROW, frame[ROW].cast(LongType())).createOrReplaceTempView("batch")
    batch = {int(r[0]): r[1:] for r in rows}
    return header, lambda number, _: batch[number], None


# ---- scoring and writing ---------------------------------------------------------------------


def _score(
    spark: Any,
    plan: Plan,
    out: IO[bytes],
    fmt: str,
    progress: Progress | None,
    header: list[str],
    cells_of: Cells,
    carry: str | None,
) -> tuple[int, int]:
    """Score the view `batch` and write `fmt` to `out`: the rows come to the driver in
    order, a partition at a time (JSONL rebuilt from the explained query's columns, as on
    DuckDB); a flagged row is the Python engine's, from `cells_of` (the batch's column
    `carry` comes along for such a row)."""
    explain = fmt == "jsonl"
    query = plan_to_sql(
        plan, "spark", header, table="batch", row_column=ROW, text=not explain, explain=explain
    )
    if carry is not None:
        python = exp.column("_python", quoted=True)
        carried = exp.Case(ifs=[exp.If(this=python, true=exp.column(carry, quoted=True))])
        query.select.append("expressions", exp.alias_(carried, carry, quoted=True))
    result = spark.sql(query.sql("spark"))
    if not explain:  # a row's CSV line made by the workers: one text to hand to the driver
        kept = [_csv_line(csv_header(plan)), "_python", ROW, *([carry] if carry else [])]
        result = result.select(*kept)
    result = result.orderBy(ROW)
    rows = result.toLocalIterator(prefetchPartitions=True)  # the next computed meanwhile
    with tempfile.TemporaryDirectory(prefix="scoredsl-") as tmp:
        target = Path(tmp) / ("out.jsonl" if explain else "out.csv")
        with target.open("w", encoding="utf-8", newline="") as handle:
            if explain:
                explainer = _Explainer(plan, header, list(result.columns), cells_of)
                chunks = map(explainer, _chunks(rows))
                written, failed = write_results(chunks, handle, progress)
            else:
                written, failed = _write_csv(plan, header, rows, handle, cells_of, progress)
        if fmt == "parquet":
            csv_to_parquet(plan, target, out)
        else:
            with target.open("rb") as text:
                shutil.copyfileobj(text, out)
    return written, failed


def _chunks(rows: Iterator[Any]) -> Iterator[list[tuple[int, Any]]]:
    chunk: list[tuple[int, Any]] = []
    for row in rows:
        chunk.append((row[ROW], row))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


CSV_LINE = "_csv"


def _csv_line(names: list[str]) -> Any:
    """The column CSV_LINE: a row's cells as Python's csv module writes them (NULL empty;
    a cell with a comma, quote or line break quoted, its quotes doubled)."""
    from pyspark.sql import functions as F

    def cell(name: str) -> Any:
        c = F.col(f"`{name}`")
        special = c.contains(",") | c.contains('"') | c.contains("\r") | c.contains("\n")
        quoted = F.concat(F.lit('"'), F.replace(c, F.lit('"'), F.lit('""')), F.lit('"'))
        return F.coalesce(F.when(special, quoted).otherwise(c), F.lit(""))

    return F.concat_ws(",", *map(cell, names)).alias(CSV_LINE)


def _write_csv(
    plan: Plan,
    header: list[str],
    rows: Iterator[Any],
    out: IO[str],
    cells_of: Cells,
    progress: Progress | None,
) -> tuple[int, int]:
    """The CSV output of the scored rows, in order; a flagged row is the Python engine's
    (nothing for a blank row, which Python skips)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_header(plan))
    written = failed = 0
    for r in rows:
        if not r["_python"]:
            out.write(r[CSV_LINE] + "\n")
            written += 1
        else:
            for _, cells, bad in python_cells(plan, header, [(r[ROW], cells_of(r[ROW], r))]):
                failed += bad
                if cells is not None:
                    writer.writerow(cells)
                    written += 1
        if progress is not None and written % CHUNK == 0:
            progress(written, failed)
    if progress is not None:
        progress(written, failed)
    return written, failed


class _Explainer(Explainer):
    """The DuckDB runner's JSONL lines; a flagged row's cells from `cells_of` (Spark's
    query carries no `_raw`)."""

    def __init__(self, plan: Plan, header: list[str], columns: list[str], cells_of: Cells) -> None:
        super().__init__(plan, header, columns)
        self.cells_of = cells_of

    def cells(self, number: int, row: Any) -> list[str]:
        return self.cells_of(number, row)
