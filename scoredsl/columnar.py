"""Columnar batches: a batch file (CSV, JSONL, Parquet) + `Plan` -> an output file (CSV,
JSONL, Parquet), evaluated by DuckDB, Spark or the Python evaluator, with the same bytes.

DuckDB (the default) runs the query of `scoredsl.sql` over the file and writes the result
itself; the rows the query flags go through the Python data reader and evaluator, so their
error text, or their result, is exactly the reference engine's. Rows keep their input
order. JSONL (input or output) needs the `why` texts, which the Python evaluator formats:
those batches are evaluated row by row in Python whatever the engine.
"""

from __future__ import annotations

import csv
import io
import mmap
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from sqlglot import exp

from scoredsl.batch import ReadError, Row, read_batch
from scoredsl.plan import PLACES, Plan
from scoredsl.render.batch import OUTCOME_COLUMNS, BatchWriter, write_batch
from scoredsl.sql import LayoutError, layout_for, plan_to_sql

ENGINES = ("duckdb", "python")  # and spark, in scoredsl.spark
INPUTS = (".csv", ".jsonl", ".parquet")
OUTPUTS = (".csv", ".jsonl", ".parquet")
ROW = "_row"

Progress = Callable[[int, int], None]


def csv_header(plan: Plan) -> list[str]:
    """The batch CSV output header: the same for every engine."""
    return [
        "id",
        "eligible",
        "total",
        "level",
        "level_label",
        "error",
        *(i.id for i in plan.top_items),
        *OUTCOME_COLUMNS[: 2 if plan.outcomes else 0],
    ]


def output_format(path: str | None, fmt: str | None) -> str:
    if path is not None and Path(path).suffix.lower() in OUTPUTS:
        return Path(path).suffix.lower().lstrip(".")
    return fmt or "csv"


def run_batch(
    plan: Plan,
    data: Path,
    out: IO[bytes],
    fmt: str,
    engine: str = "duckdb",
    jobs: int = 1,
    progress: Progress | None = None,
) -> tuple[int, int]:
    """Evaluate every row of `data`, write `fmt` (csv, jsonl, parquet) to `out`; return
    (rows, failed rows)."""
    suffix = data.suffix.lower()
    if fmt == "jsonl" or suffix == ".jsonl" or engine == "python":
        return _python(plan, data, out, fmt, jobs, progress)
    return _duckdb(plan, data, out, fmt, jobs, progress)


# ---- the Python engine -------------------------------------------------------------------


def _python(
    plan: Plan, data: Path, out: IO[bytes], fmt: str, jobs: int, progress: Progress | None
) -> tuple[int, int]:
    text_fmt = "jsonl" if fmt == "jsonl" else "csv"
    with tempfile.TemporaryDirectory(prefix="scoredsl-") as tmp:
        target = Path(tmp) / f"out.{text_fmt}"
        with target.open("w", encoding="utf-8", newline="") as handle:
            if data.suffix.lower() == ".parquet":
                rows, failed = write_batch(
                    plan, parquet_rows(plan, data), handle, text_fmt, jobs, progress
                )
            else:
                with data.open("rb") as source:
                    rows, failed = write_batch(
                        plan, read_batch(data, source, plan), handle, text_fmt, jobs, progress
                    )
        if fmt == "parquet":
            con = _connect()
            _copy_parquet(con, plan, _scan_csv_output(target, plan), out, tmp)
        else:
            _copy_file(target, out)
    return rows, failed


def parquet_rows(plan: Plan, data: Path) -> Iterator[tuple[str, Any]]:
    """Rows of a Parquet batch as raw mappings, every cell as text (as a CSV gives it)."""
    con = _connect()
    table = exp.Anonymous(this="read_parquet", expressions=[exp.Literal.string(str(data))])
    relation = con.sql(exp.select(exp.Star()).from_(table).sql("duckdb"))
    header = [str(c) for c in relation.columns]
    cast = [
        exp.alias_(
            exp.Cast(this=exp.column(h, quoted=True), to=exp.DataType.build("VARCHAR")),
            h,
            quoted=True,
        )
        for h in header
    ]
    cursor = con.execute(exp.select(*cast).from_(table).sql("duckdb"))
    number = 0
    while chunk := cursor.fetchmany(10000):
        for cells in chunk:
            number += 1
            yield from _row_mapping(
                plan, header, ["" if c is None else str(c) for c in cells], number
            )


class _Reread(Exception):
    """A row Python reads differently on its own: the whole file goes through Python."""


def _row_mapping(plan: Plan, header: list[str], cells: list[str], number: int) -> list[Row]:
    """One row as `scoredsl.batch` reads it (nothing for a blank row), numbered `number`."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, cells])
    buffer.seek(0)
    rows = list(read_batch(Path("row.csv"), buffer, plan))
    out = []
    for ident, raw in rows:
        if isinstance(raw, ReadError):
            raise _Reread(str(raw))
        if "id" not in header or not cells[header.index("id")].strip():
            ident = str(number)
            if isinstance(raw, dict) and "id" in raw:
                raw["id"] = ident
        out.append((ident, raw))
    return out


# ---- DuckDB ------------------------------------------------------------------------------


def _connect() -> Any:
    import duckdb  # imported when a batch runs: `import scoredsl` stays fast

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    return con


def _source(data: Path, header: list[str]) -> exp.Select:
    """The batch table: every cell as text, named by the header, with its row number
    (as `scoredsl.batch` numbers rows: the CSV line, the Parquet row from 1)."""
    string = exp.Literal.string
    if data.suffix.lower() == ".parquet":
        table: exp.Expr = exp.Anonymous(this="read_parquet", expressions=[string(str(data))])
        cols = [
            exp.alias_(
                exp.Cast(this=exp.column(h, quoted=True), to=exp.DataType.build("VARCHAR")),
                h,
                quoted=True,
            )
            for h in header
        ]
        first = 0
    else:
        types = exp.Struct(
            expressions=[
                exp.PropertyEQ(this=string(f"c{k}"), expression=string("VARCHAR"))
                for k in range(len(header))
            ]
        )
        options = {
            "header": exp.false(),
            "skip": exp.Literal.number(1),
            "delim": string(","),
            "quote": string('"'),
            "escape": string('"'),
            "strict_mode": exp.true(),
            "columns": types,
            "encoding": string("utf-8"),
        }
        args = [
            string(str(data)),
            *(exp.EQ(this=exp.var(k), expression=v) for k, v in options.items()),
        ]
        table = exp.Anonymous(this="read_csv", expressions=args)
        cols = [exp.alias_(exp.column(f"c{k}"), h, quoted=True) for k, h in enumerate(header)]
        first = 1  # row_number() starts at 1; the CSV's first data line is line 2
    number = exp.Add(this=exp.Window(this=exp.RowNumber()), expression=exp.Literal.number(first))
    return exp.select(*cols, exp.alias_(number, ROW, quoted=True)).from_(table)


def read_header(data: Path) -> list[str] | None:
    """The batch's column names, or None when the file is one SQL would read differently
    from Python's csv module (blank lines, a header it cannot read)."""
    if data.suffix.lower() == ".parquet":
        con = _connect()
        table = exp.Anonymous(this="read_parquet", expressions=[exp.Literal.string(str(data))])
        return [
            str(c)
            for c in con.sql(exp.select(exp.Star()).from_(table).limit(0).sql("duckdb")).columns
        ]
    with data.open("rb") as raw:
        if os.fstat(raw.fileno()).st_size == 0:
            return None
        with mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) as view:
            if view.find(b"\n\n") >= 0 or view.find(b"\n\r\n") >= 0:
                return None  # blank lines: DuckDB and Python would number rows differently
    try:
        with data.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except (UnicodeDecodeError, csv.Error):
        return None
    if header is None or not any(h.strip() for h in header):
        return None
    return [h.strip() for h in header]


def _duckdb(
    plan: Plan, data: Path, out: IO[bytes], fmt: str, jobs: int, progress: Progress | None
) -> tuple[int, int]:
    header = read_header(data)
    if header is None:
        return _python(plan, data, out, fmt, jobs, progress)
    try:
        layout_for(plan, header)
    except LayoutError:
        return _python(plan, data, out, fmt, jobs, progress)
    import duckdb

    con = _connect()
    query = plan_to_sql(plan, "duckdb", header, table="batch", row_column=ROW, text=True)
    keep = [*csv_header(plan), "_python", ROW]
    scored = exp.select(*(exp.column(k, quoted=True) for k in keep)).from_(
        query.select.subquery("q")
    )
    try:
        con.execute(
            exp.Create(
                this=exp.to_table("batch"), kind="VIEW", expression=_source(data, header)
            ).sql("duckdb")
        )
        con.execute(
            exp.Create(
                this=exp.to_table("scored"),
                kind="TABLE",
                expression=scored,
                properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
            ).sql("duckdb")
        )
    except (
        duckdb.Error
    ):  # a row the SQL reader cannot take (cell count, encoding): Python reads all
        return _python(plan, data, out, fmt, jobs, progress)
    rows = con.execute("SELECT count(*) FROM scored").fetchone()[0]
    flagged = [
        r[0]
        for r in con.execute(
            exp.select(exp.column(ROW, quoted=True))
            .from_("scored")
            .where(exp.column("_python", quoted=True))
            .order_by(exp.column(ROW, quoted=True))
            .sql("duckdb")
        ).fetchall()
    ]
    with tempfile.TemporaryDirectory(prefix="scoredsl-") as tmp:
        failed = 0
        if flagged:
            try:
                failed, blank = _python_rows(con, plan, header, flagged, Path(tmp))
            except _Reread:
                return _python(plan, data, out, fmt, jobs, progress)
            rows -= blank
        if progress is not None:
            progress(rows, failed)
        final = (
            exp.select(*(exp.column(k, quoted=True) for k in csv_header(plan)))
            .from_("scored")
            .order_by(exp.column(ROW, quoted=True))
        )
        if fmt == "parquet":
            _copy_parquet(con, plan, final, out, tmp)
        else:
            target = Path(tmp) / "out.csv"
            _copy(con, final, target, "csv")
            _copy_file(target, out)
    return rows, failed


def python_cells(
    plan: Plan, header: list[str], rows: Iterable[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str] | None, bool]]:
    """(row number, output cells or None for a blank row, failed) for each of `rows` (their
    number and raw cells), from the Python reader and evaluator: exactly what the Python
    engine writes for that row."""
    for number, cells in rows:
        found = _row_mapping(plan, header, cells, number)
        if not found:
            yield number, None, False
            continue
        ident, raw = found[0]
        buffer = io.StringIO()
        failed = BatchWriter(plan, buffer, "csv", header=False).row(ident, raw) is not None
        for out in csv.reader(io.StringIO(buffer.getvalue())):
            yield number, out, failed


def _raw_cells(con: Any, header: list[str], flagged: list[int]) -> Iterator[tuple[int, list[str]]]:
    """The flagged rows' cells as the SQL source read them, in order."""
    row = exp.column(ROW, quoted=True)
    cols = [exp.column(h, quoted=True) for h in header]
    wanted = exp.In(this=row.copy(), expressions=[exp.Literal.number(n) for n in flagged])
    query = exp.select(row, *cols).from_("batch").where(wanted).order_by(row.copy())
    cursor = con.execute(query.sql("duckdb"))
    while chunk := cursor.fetchmany(10000):
        for number, *cells in chunk:
            yield int(number), ["" if c is None else str(c) for c in cells]


def _python_rows(
    con: Any, plan: Plan, header: list[str], flagged: list[int], tmp: Path
) -> tuple[int, int]:
    """Evaluate the flagged rows in Python and put their cells into `scored` (a blank row
    is dropped, as Python skips it); return how many failed and how many were blank."""
    fixed = tmp / "python-rows.csv"
    failed = 0
    blank: list[int] = []
    with fixed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([ROW, *csv_header(plan)])
        for number, cells, bad in python_cells(plan, header, _raw_cells(con, header, flagged)):
            failed += bad
            if cells is None:
                blank.append(number)
            else:
                writer.writerow([number, *cells])
    names = csv_header(plan)
    types = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.Literal.string(n), expression=exp.Literal.string("VARCHAR"))
            for n in [ROW, *names]
        ]
    )
    source = exp.Anonymous(
        this="read_csv",
        expressions=[
            exp.Literal.string(str(fixed)),
            exp.EQ(this=exp.var("header"), expression=exp.true()),
            exp.EQ(this=exp.var("columns"), expression=types),
            exp.EQ(this=exp.var("quote"), expression=exp.Literal.string('"')),
            exp.EQ(this=exp.var("escape"), expression=exp.Literal.string('"')),
        ],
    )
    con.execute(
        exp.Create(
            this=exp.to_table("fix"),
            kind="TABLE",
            expression=exp.select(exp.Star()).from_(source),
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        ).sql("duckdb")
    )
    update = exp.Update(
        this=exp.to_table("scored"),
        expressions=[
            exp.EQ(
                this=exp.column(n, quoted=True), expression=exp.column(n, table="fix", quoted=True)
            )
            for n in names
        ],
        from_=exp.From(this=exp.to_table("fix")),
        where=exp.Where(
            this=exp.EQ(
                this=exp.column(ROW, table="scored", quoted=True),
                expression=exp.Cast(
                    this=exp.column(ROW, table="fix", quoted=True), to=exp.DataType.build("BIGINT")
                ),
            )
        ),
    )
    con.execute(update.sql("duckdb"))
    if blank:
        where = exp.column(ROW, quoted=True).isin(*(exp.Literal.number(n) for n in blank))
        con.execute(exp.delete("scored", where=where).sql("duckdb"))
    return failed, len(blank)


def _copy(con: Any, query: exp.Select, target: Path, fmt: str) -> None:
    options = exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var(fmt.upper()))
    extra = (
        [exp.CopyParameter(this=exp.var("HEADER"), expression=exp.true())] if fmt == "csv" else []
    )
    copy = exp.Copy(
        this=query.subquery(),
        kind=False,
        files=[exp.Literal.string(str(target))],
        params=[options, *extra],
    )
    con.execute(copy.sql("duckdb"))


def _scan_csv_output(path: Path, plan: Plan) -> exp.Select:
    names = csv_header(plan)
    types = exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.Literal.string(n), expression=exp.Literal.string("VARCHAR"))
            for n in names
        ]
    )
    source = exp.Anonymous(
        this="read_csv",
        expressions=[
            exp.Literal.string(str(path)),
            exp.EQ(this=exp.var("header"), expression=exp.true()),
            exp.EQ(this=exp.var("columns"), expression=types),
            exp.EQ(this=exp.var("quote"), expression=exp.Literal.string('"')),
            exp.EQ(this=exp.var("escape"), expression=exp.Literal.string('"')),
        ],
    )
    return exp.select(*(exp.column(n, quoted=True) for n in names)).from_(source)


def _copy_parquet(con: Any, plan: Plan, rows: exp.Select, out: IO[bytes], tmp: str) -> None:
    """The CSV columns, typed: `eligible` BOOLEAN, numbers DECIMAL(38, PLACES)."""
    numbers = {"total", *(i.id for i in plan.top_items)}
    cols = []
    for name in csv_header(plan):
        col: exp.Expr = exp.column(name, quoted=True)
        if name == "eligible":
            col = exp.Cast(this=col, to=exp.DataType.build("BOOLEAN"))
        elif name in numbers:
            col = exp.Cast(this=col, to=exp.DataType.build(f"DECIMAL(38, {PLACES})"))
        cols.append(exp.alias_(col, name, quoted=True))
    target = Path(tmp) / "out.parquet"
    _copy(con, exp.select(*cols).from_(rows.subquery("r")), target, "parquet")
    _copy_file(target, out)


def _copy_file(path: Path, out: IO[bytes]) -> None:
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            out.write(chunk)


# ---- progress ----------------------------------------------------------------------------


class TerminalProgress:
    """Rows done, rate and time left on stderr, at most once a second, only on a terminal."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.start = time.monotonic()
        self.shown = 0.0
        self.enabled = sys.stderr.isatty()

    def __call__(self, rows: int, failed: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.shown < 1:
            return
        self.shown = now
        rate = rows / max(now - self.start, 1e-9)
        left = ""
        if self.total and rate > 0:
            left = f", about {max(self.total - rows, 0) / rate:.0f} s left"
        print(f"\r{rows} rows ({failed} failed), {rate:.0f} rows/s{left}", end="", file=sys.stderr)
