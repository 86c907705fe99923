"""Columnar batches: a batch file (CSV, JSONL, Parquet) + `Plan` -> an output file (CSV,
JSONL, Parquet), evaluated by DuckDB, Spark or the Python evaluator, with the same bytes.

DuckDB (the default) runs the query of `scoredsl.sql` over the file and writes the result
itself; the rows the query flags go through the Python data reader and evaluator, so their
error text, or their result, is exactly the reference engine's. Rows keep their input
order. For JSONL output the query also says what decided each part, and
`scoredsl.explained` rebuilds the evaluator's result from that (the sentences are made in
Python, from data). A JSONL batch is read by the Python reader, row by row.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import mmap
import os
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from sqlglot import exp

from scoredsl import exactjson
from scoredsl.batch import ReadError, Row, read_batch
from scoredsl.explained import Explained
from scoredsl.plan import PLACES, InputType, Plan
from scoredsl.render.batch import (
    OUTCOME_COLUMNS,
    BatchWriter,
    in_order,
    internal_error,
    write_batch,
    write_results,
)
from scoredsl.sql import (
    LayoutError,
    Query,
    input_column,
    layout_for,
    plan_to_sql,
    typed_columns,
)

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
    if suffix == ".jsonl" or engine == "python":
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
            csv_to_parquet(plan, target, out)
        else:
            _copy_file(target, out)
    return rows, failed


def csv_to_parquet(plan: Plan, source: Path, out: IO[bytes]) -> None:
    """The CSV output `source` as Parquet (`_typed`: numbers DECIMAL, `eligible` BOOLEAN)."""
    with tempfile.TemporaryDirectory(prefix="scoredsl-") as tmp:
        typed = Path(tmp) / "out.parquet"
        _copy(_connect(), _typed(plan, _scan_csv(source, csv_header(plan))), typed, "parquet")
        _copy_file(typed, out)


def parquet_rows(plan: Plan, data: Path) -> Iterator[tuple[str, Any]]:
    """Rows of a Parquet batch as raw mappings, every cell as text (as a CSV gives it)."""
    header, cells = parquet_cells(data)
    for number, row in enumerate(cells, 1):
        yield from row_mapping(plan, header, row, number)


def parquet_cells(data: Path) -> tuple[list[str], Iterator[list[str]]]:
    """A Parquet batch's header and its rows' cells, each as its text (NULL: empty)."""
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

    def rows() -> Iterator[list[str]]:
        while chunk := cursor.fetchmany(10000):
            for cells in chunk:
                yield ["" if c is None else str(c) for c in cells]

    return header, rows()


class Reread(Exception):
    """A row Python reads differently on its own: the whole file goes through Python."""


def row_mapping(plan: Plan, header: list[str], cells: list[str], number: int) -> list[Row]:
    """One row as `scoredsl.batch` reads it (nothing for a blank row), numbered `number`."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, cells])
    buffer.seek(0)
    rows = list(read_batch(Path("row.csv"), buffer, plan))
    out = []
    for ident, raw in rows:
        if isinstance(raw, ReadError):
            raise Reread(str(raw))
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


def _source(
    data: Path, header: list[str], numbered: bool = False, typed: Collection[str] = ()
) -> exp.Select:
    """The batch table: every cell as text (but Parquet's `typed` columns), named by the
    header; when `numbered`, with its row number (as `scoredsl.batch` numbers rows: the CSV
    line, the Parquet row from 1), which costs a window over the whole file."""
    string = exp.Literal.string
    if data.suffix.lower() == ".parquet":
        table: exp.Expr = exp.Anonymous(this="read_parquet", expressions=[string(str(data))])
        cols = [
            exp.column(h, quoted=True)
            if h in typed
            else exp.alias_(
                exp.Cast(this=exp.column(h, quoted=True), to=exp.DataType.build("VARCHAR")),
                h,
                quoted=True,
            )
            for h in header
        ]
        first = 0
    elif plain_lines(data):
        table, cols = _split_lines(data, header)
        first = 1
    else:
        table = _read_csv(
            data, [f"c{k}" for k in range(len(header))], header=exp.false(),
            skip=exp.Literal.number(1), delim=string(","), quote=string('"'),
            escape=string('"'), strict_mode=exp.true(), encoding=string("utf-8"),
        )  # fmt: skip
        cols = [exp.alias_(exp.column(f"c{k}"), h, quoted=True) for k, h in enumerate(header)]
        first = 1  # row_number() starts at 1; the CSV's first data line is line 2
    if not numbered:
        return exp.select(*cols).from_(table)
    number = exp.Add(this=exp.Window(this=exp.RowNumber()), expression=exp.Literal.number(first))
    return exp.select(*cols, exp.alias_(number, ROW, quoted=True)).from_(table)


LINE = "\x01"  # the delimiter that makes DuckDB's CSV reader give a CSV file's whole lines


def plain_lines(data: Path) -> bool:
    """Whether each line of a CSV batch is its cells joined by commas, as Python's csv
    module splits it: the file has no quote (a quoted cell may hold a comma or a line break),
    no carriage return, no NUL and no LINE. A pass over the file at memory speed."""
    return _holds(data, (b'"', b"\r", b"\x00", LINE.encode())) is False


def _holds(data: Path, needles: tuple[bytes, ...]) -> bool | None:
    """Whether a CSV batch's bytes hold any of `needles` (a search of the mapped file at
    memory speed); None for a Parquet or an empty file."""
    if data.suffix.lower() == ".parquet":
        return None
    with data.open("rb") as raw:
        if os.fstat(raw.fileno()).st_size == 0:
            return None
        with mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return any(view.find(needle) >= 0 for needle in needles)


def _read_csv(path: Path, columns: Sequence[str], **options: exp.Expr) -> exp.Expr:
    """DuckDB's `read_csv` of `path` with `options`, every one of `columns` as text, and no
    line taken for a comment (DuckDB may guess `#`)."""
    string = exp.Literal.string
    types = exp.Struct(
        expressions=[exp.PropertyEQ(this=string(c), expression=string("VARCHAR")) for c in columns]
    )
    options = {**options, "columns": types, "comment": string("")}
    return exp.Anonymous(
        this="read_csv",
        expressions=[
            string(str(path)),
            *(exp.EQ(this=exp.var(k), expression=v) for k, v in options.items()),
        ],
    )


def _split_lines(data: Path, header: list[str]) -> tuple[exp.Expr, list[exp.Expr]]:
    """A batch of `plain_lines` as (table, cells named by the header): each line read whole
    and split on its commas, which costs DuckDB about half of what its CSV reader spends
    finding 70 cells. An empty cell is NULL, as that reader makes it; blank lines are
    skipped, as it skips them; a line of another cell count stops the query, as it does."""
    string = exp.Literal.string
    read = _read_csv(
        data, ["line"], header=exp.false(), skip=exp.Literal.number(1), delim=string(LINE),
        quote=string(""), escape=string(""), strict_mode=exp.true(), encoding=string("utf-8"),
    )  # fmt: skip
    line = exp.column("line", quoted=True)
    cells = exp.column("_cells", quoted=True)
    split = exp.alias_(exp.func("STRING_SPLIT", line, string(",")), "_cells", quoted=True)
    blank = exp.Is(this=line.copy(), expression=exp.Null())
    lines = exp.select(split).from_(read).where(exp.Not(this=blank))
    whole = exp.If(
        this=exp.EQ(this=exp.func("LEN", cells.copy()), expression=exp.Literal.number(len(header))),
        true=exp.true(),
    )
    stop = exp.Anonymous(this="error", expressions=[string("a row of another cell count")])
    table = (
        exp.select(exp.Star())
        .from_(lines.subquery("lines"))
        .where(exp.Case(ifs=[whole], default=stop))
        .subquery("cells")
    )
    cols: list[exp.Expr] = [
        exp.alias_(
            exp.Nullif(
                this=exp.Bracket(this=cells.copy(), expressions=[exp.Literal.number(k)]),  # from 0
                expression=string(""),
            ),
            h,
            quoted=True,
        )
        for k, h in enumerate(header)
    ]
    return table, cols


def column_types(data: Path) -> dict[str, str]:
    """A Parquet batch's column types as DuckDB names them (a CSV file's are all text)."""
    if data.suffix.lower() != ".parquet":
        return {}
    table = exp.Anonymous(this="read_parquet", expressions=[exp.Literal.string(str(data))])
    query = exp.Describe(this=exp.select(exp.Star()).from_(table))
    return {str(r[0]): str(r[1]) for r in _connect().execute(query.sql("duckdb")).fetchall()}


def read_header(data: Path, blank_lines: bool = True) -> list[str] | None:
    """The batch's column names, or None when the file is one SQL would read differently
    from Python's csv module: a header it cannot read, or (tested unless `blank_lines` is
    false) blank lines, which DuckDB skips without counting them."""
    if data.suffix.lower() == ".parquet":
        return list(column_types(data))
    with data.open("rb") as raw:
        if os.fstat(raw.fileno()).st_size == 0:
            return None
    if blank_lines and has_blank_lines(data):
        return None
    try:
        with data.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except (UnicodeDecodeError, csv.Error):
        return None
    if header is None or not any(h.strip() for h in header):
        return None
    return [h.strip() for h in header]


def has_blank_lines(data: Path) -> bool:
    """Whether a CSV batch has a blank line (a pass over the whole file); a Parquet
    batch has none."""
    return bool(_holds(data, (b"\n\n", b"\n\r\n")))


MEMORY_LIMIT = "512MB"  # DuckDB's share of the process; the rest stays under 1 GiB
SENTINEL = "\x1escoredsl-python\x1e"  # marks, in the error cell, a row Python must evaluate


def _duckdb(
    plan: Plan, data: Path, out: IO[bytes], fmt: str, jobs: int, progress: Progress | None
) -> tuple[int, int]:
    """One streaming pass: DuckDB reads, scores and writes every row. A row the query
    flags is written as one line holding SENTINEL and the row's cells (base64 JSON); a second,
    cheap pass (only when there is such a line) puts the Python engine's row in its place.
    Rows keep their order, and a row's number is its line in the output. DuckDB skips
    blank lines, which shifts those numbers: the file is searched for one (a pass over
    it) only when a number is needed, for a batch without ids or a row for Python."""
    types = column_types(data)  # a Parquet file's (its header too); a CSV file's: none
    header = list(types) if types else read_header(data, blank_lines=False)
    if header is None or (fmt != "jsonl" and _breaks_lines(plan)):
        return _python(plan, data, out, fmt, jobs, progress)
    try:
        layout = layout_for(plan, header)
    except LayoutError:
        return _python(plan, data, out, fmt, jobs, progress)
    numbered = layout.id is None  # no id column: the row number is the id, so SQL needs it
    if numbered and has_blank_lines(data):
        return _python(plan, data, out, fmt, jobs, progress)
    layout = typed_columns(layout, plan, types)
    typed = {*layout.numeric, *layout.boolean}
    if fmt == "jsonl":
        return _duckdb_jsonl(plan, data, out, header, numbered, types, typed, jobs, progress)
    import duckdb

    con = _connect()
    query = _batch_query(
        plan,
        header,
        numbered,
        types,
        text=True,
        only=csv_header(plan),
        typed_numbers=fmt == "parquet",  # not written as text to be read back
    )
    python = exp.column("_python", quoted=True)
    marked = exp.DPipe(
        this=exp.Literal.string(SENTINEL), expression=exp.column("_raw", quoted=True)
    )
    cells = []
    for name in csv_header(plan):
        value = marked if name == "error" else exp.Null()
        picked = exp.Case(
            ifs=[exp.If(this=python.copy(), true=value)], default=exp.column(name, quoted=True)
        )
        cells.append(exp.alias_(picked, name, quoted=True))
    scored = exp.select(*cells).from_(query.select.subquery("q", copy=False), copy=False)
    first = _first_row(data)
    with tempfile.TemporaryDirectory(prefix="scoredsl-") as tmp:
        target = Path(tmp) / f"sql.{fmt}"
        try:
            _open_batch(con, data, header, numbered, typed, tmp)
            if fmt == "parquet":
                scored = _typed(plan, scored)
            about = _estimated_rows(con, data) if progress is not None else 0
            rows = _copy_watched(con, scored, target, fmt, about, progress)
        except duckdb.Error:  # a row the SQL reader cannot take (cell count, encoding)
            return _python(plan, data, out, fmt, jobs, progress)
        try:
            if fmt == "parquet":
                failed, blank = _patch_parquet(con, plan, header, target, first, out, tmp, data)
            else:
                failed, blank = _patch_csv(plan, header, target, first, out, Path(tmp), data)
        except Reread:
            return _python(plan, data, out, fmt, jobs, progress)
    rows -= blank
    if progress is not None:
        progress(rows, failed)
    return rows, failed


CHUNK = 256  # rows fetched from DuckDB and formatted at a time for JSONL (4 MB of 249)


def _duckdb_jsonl(
    plan: Plan,
    data: Path,
    out: IO[bytes],
    header: list[str],
    numbered: bool,
    types: dict[str, str],
    typed: set[str],
    jobs: int,
    progress: Progress | None,
) -> tuple[int, int]:
    """JSONL out: DuckDB scores every row and says what decided each part (an explained
    query); `scoredsl.explained` turns that into the evaluator's result, whose sentences
    and JSON are the Python engine's. A row the query flags goes through the Python reader
    and evaluator, as in `_duckdb`."""
    import duckdb

    con = _connect()
    query = _batch_query(plan, header, numbered, types, explain=True)
    first = _first_row(data)
    with tempfile.TemporaryDirectory(prefix="scoredsl-") as tmp:
        target = Path(tmp) / "out.jsonl"
        try:
            _open_batch(con, data, header, numbered, typed, tmp)
            cursor = con.execute(_numbers_as_text(plan, query.select).sql("duckdb"))
            columns = [d[0] for d in cursor.description]
            with target.open("w", encoding="utf-8", newline="") as handle:
                rows, failed = _write_explained(
                    plan, data, header, cursor, columns, handle, first, jobs, progress
                )
        except (duckdb.Error, Reread):  # a row SQL cannot read, or numbers it would get wrong
            return _python(plan, data, out, "jsonl", jobs, progress)
        _copy_file(target, out)
    return rows, failed


def _numbers_as_text(plan: Plan, query: exp.Select) -> exp.Select:
    """`query` with its DECIMAL columns as text: DuckDB hands a text to Python about eight
    times faster than a `Decimal` (which `scoredsl.explained` makes of it)."""
    numbers = {"total", "next_level_needs", *(i.id for i in plan.items)}
    numbers |= {v.name for v in plan.values}
    numbers |= {input_column(i.name) for i in plan.inputs if i.type is not InputType.BOOL}
    cols = [
        exp.alias_(
            exp.Cast(this=exp.column(n, quoted=True), to=exp.DataType.build("VARCHAR")),
            n,
            quoted=True,
        )
        if n in numbers
        else exp.column(n, quoted=True)
        for n in (e.alias for e in query.expressions)
    ]
    return exp.select(*cols).from_(query.subquery("q", copy=False), copy=False)


def _write_explained(
    plan: Plan,
    data: Path,
    header: list[str],
    cursor: Any,
    columns: list[str],
    handle: IO[str],
    first: int,
    jobs: int,
    progress: Progress | None,
) -> tuple[int, int]:
    """Write the explained query's rows as JSONL, formatted on `jobs` processes (writing
    a result's sentences and JSON costs several times what DuckDB spends on the row);
    (rows, failed rows)."""
    python_at = columns.index("_python")

    def chunks() -> Iterator[list[tuple[int, Any]]]:
        number = first - 1  # the row's number (DuckDB skips blank lines: see below)
        checked = False
        while chunk := cursor.fetchmany(CHUNK):
            numbered = []
            for row in chunk:
                number += 1
                if row[python_at] and not checked:
                    if has_blank_lines(data):
                        raise Reread("blank lines: DuckDB does not count them")
                    checked = True
                numbered.append((number, row))
            yield numbered

    results: Iterable[tuple[str, int, int]]
    if jobs <= 1:
        results = map(Explainer(plan, header, columns), chunks())
    else:
        results = in_order(Explainer, (plan, header, columns), chunks(), jobs)
    return write_results(results, handle, progress)


class Explainer:
    """JSONL lines for numbered rows of the explained query: a row scored in SQL from what
    its columns say decided it, a row the query flags by the Python reader and evaluator."""

    def __init__(self, plan: Plan, header: list[str], columns: list[str]) -> None:
        self.plan, self.header = plan, header
        self.explained = Explained(plan, columns)
        self.ident_at, self.python_at = columns.index("id"), columns.index("_python")
        self.raw_at = columns.index("_raw") if "_raw" in columns else -1  # raw: DuckDB's
        self.numbered = "id" not in header  # no id column: the id is the row's number

    def cells(self, number: int, row: Any) -> list[str]:
        """The input cells of row `number`, which the query flags (DuckDB's carries them
        in `_raw`)."""
        return _raw_cells(row[self.raw_at])

    def scored(self, writer: BatchWriter, out: IO[str], row: Any) -> bool:
        """Write a row scored in SQL; whether it failed (only a bug in scoredsl: then that
        row's error, as the Python engine writes one, and the batch goes on)."""
        ident = row[self.ident_at]
        try:
            doc = self.explained.result(row, None if self.numbered else ident).to_dict()
        except Exception as exc:  # a bug must not end the batch or lose the other rows
            writer.error(ident, internal_error(exc))
            return True
        doc["id"] = ident
        out.write(exactjson.dumps(doc) + "\n")
        return False

    def __call__(self, chunk: list[tuple[int, Any]]) -> tuple[str, int, int]:
        buffer = io.StringIO()
        writer = BatchWriter(self.plan, buffer, "jsonl", header=False)
        rows = failed = 0
        for number, row in chunk:
            if not row[self.python_at]:
                failed += self.scored(writer, buffer, row)
                rows += 1
                continue
            cells = self.cells(number, row)
            for ident, raw in row_mapping(self.plan, self.header, cells, number):
                failed += writer.row(ident, raw) is not None
                rows += 1
        return buffer.getvalue(), rows, failed


def _batch_query(
    plan: Plan, header: list[str], numbered: bool, types: dict[str, str], **options: Any
) -> Query:
    """The runner's query over the view `batch`: flagged rows carry their cells (`raw`);
    without an id column, rows are numbered."""
    row_column = ROW if numbered else None
    return plan_to_sql(
        plan, "duckdb", header, table="batch", row_column=row_column, raw=True, types=types,
        **options,
    )  # fmt: skip


def _open_batch(
    con: Any, data: Path, header: list[str], numbered: bool, typed: Collection[str], tmp: str
) -> None:
    """`data` as the view `batch`; DuckDB's memory bounded whatever the row count (it
    spills to the run's own folder `tmp`)."""
    _set(con, "memory_limit", MEMORY_LIMIT)
    _set(con, "temp_directory", tmp)
    source = _source(data, header, numbered, typed)
    view = exp.Create(this=exp.to_table("batch"), kind="VIEW", expression=source)
    con.execute(view.sql("duckdb"))


def _first_row(data: Path) -> int:
    """The first row's number, as `scoredsl.batch` numbers rows: a CSV file's first data
    line is line 2, a Parquet file's first row is 1."""
    return 1 if data.suffix.lower() == ".parquet" else 2


def _breaks_lines(plan: Plan) -> bool:
    """Whether a label the output repeats has a line break (`"三\\n星"`): then an output row
    is not one line, and a marked row's number cannot be read from its line."""
    labels = [lv.label for lv in plan.levels] + [o.label for o in plan.outcomes]
    return any("\n" in text or "\r" in text for text in labels)


def _set(con: Any, name: str, value: str) -> None:
    item = exp.SetItem(this=exp.EQ(this=exp.var(name), expression=exp.Literal.string(value)))
    con.execute(exp.Set(expressions=[item]).sql("duckdb"))


def _copy_watched(
    con: Any, query: exp.Select, target: Path, fmt: str, rows: int, progress: Progress | None
) -> int:
    """COPY `query` to `target` (in this thread, where Ctrl-C stops DuckDB); meanwhile a
    watcher reports DuckDB's progress through a file of about `rows` rows. The number of
    rows written."""
    if progress is None:
        return _copy(con, query, target, fmt)
    import threading

    _set(con, "enable_progress_bar", "true")  # DuckDB tracks progress only with its bar on,
    _set(con, "enable_progress_bar_print", "false")  # which it must not print
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.5):
            share = con.query_progress()  # per cent of the scan done, -1 before it starts
            if share > 0 and not stop.is_set():
                progress(int(rows * min(share, 100) / 100), 0)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return _copy(con, query, target, fmt)
    finally:
        stop.set()
        watcher.join()


def _estimated_rows(con: Any, data: Path) -> int:
    """About how many rows `data` has: Parquet says; a CSV file's size over the length of
    its first lines."""
    if data.suffix.lower() == ".parquet":
        table = exp.Anonymous(this="read_parquet", expressions=[exp.Literal.string(str(data))])
        query = exp.select(exp.func("count", exp.Star())).from_(table)
        return int(con.execute(query.sql("duckdb")).fetchone()[0])
    with data.open("rb") as handle:
        sample = handle.read(1 << 20)
        size = os.fstat(handle.fileno()).st_size
    lines = max(sample.count(b"\n"), 1)
    return max(int(size * lines / max(len(sample), 1)) - 1, 0)


def python_cells(
    plan: Plan, header: list[str], rows: Iterable[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str] | None, bool]]:
    """(row number, output cells or None for a blank row, failed) for each of `rows` (their
    number and raw cells), from the Python reader and evaluator: exactly what the Python
    engine writes for that row."""
    for number, cells in rows:
        found = row_mapping(plan, header, cells, number)
        if not found:
            yield number, None, False
            continue
        ident, raw = found[0]
        buffer = io.StringIO()
        failed = BatchWriter(plan, buffer, "csv", header=False).row(ident, raw) is not None
        for out in csv.reader(io.StringIO(buffer.getvalue())):
            yield number, out, failed


def _sentinel_cells(marked: bytes) -> list[str]:
    """The input cells carried by a marked error cell (SENTINEL, then `_raw`)."""
    return _raw_cells(marked[len(SENTINEL.encode("utf-8")) :])


def _raw_cells(raw: bytes | str) -> list[str]:
    """The input cells of a row the query sends to Python (its `_raw`: base64 JSON)."""
    cells = json.loads(base64.b64decode(raw))
    return ["" if c is None else str(c) for c in cells]


def _patch_csv(
    plan: Plan, header: list[str], source: Path, first: int, out: IO[bytes], tmp: Path, data: Path
) -> tuple[int, int]:
    """Copy `source` to `out`, every marked line replaced by the Python engine's row;
    return (failed, blank) rows. Reread when there is a marked line and the batch `data`
    has blank lines (its rows' numbers would be wrong)."""
    marker = SENTINEL.encode("utf-8")
    with source.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        try:
            at = view.find(marker)
            if at < 0:
                _copy_file(source, out)
                return 0, 0
            if has_blank_lines(data):
                raise Reread("blank lines: DuckDB does not count them")
            failed = blank = 0
            patched = tmp / "patched.csv"
            with patched.open("wb") as target:
                done, line = 0, 1  # the offset and line number the copy has reached
                while at >= 0:
                    start = view.rfind(b"\n", 0, at) + 1
                    end = view.find(b"\n", at)
                    end = len(view) if end < 0 else end + 1
                    chunk = view[done:start]
                    target.write(chunk)
                    line += chunk.count(b"\n")
                    comma = view.find(b",", at, end)
                    stop = comma if comma >= 0 else end - (view[end - 1 : end] == b"\n")
                    cells = _sentinel_cells(view[at:stop])
                    number = line - 2 + first
                    for _, fixed, bad in python_cells(plan, header, [(number, cells)]):
                        failed += bad
                        if fixed is None:
                            blank += 1
                        else:
                            buffer = io.StringIO()
                            csv.writer(buffer, lineterminator="\n").writerow(fixed)
                            target.write(buffer.getvalue().encode("utf-8"))
                    done, line = end, line + 1
                    at = view.find(marker, end)
                target.write(view[done:])
        finally:
            if isinstance(view, mmap.mmap):
                view.close()
    _copy_file(patched, out)
    return failed, blank


def _patch_parquet(
    con: Any,
    plan: Plan,
    header: list[str],
    source: Path,
    first: int,
    out: IO[bytes],
    tmp: str,
    data: Path,
) -> tuple[int, int]:
    """`source` to `out`, the marked rows replaced by the Python engine's; (failed, blank).
    Reread as `_patch_csv`."""
    table = exp.Anonymous(
        this="read_parquet",
        expressions=[
            exp.Literal.string(str(source)),
            exp.EQ(this=exp.var("file_row_number"), expression=exp.true()),
        ],
    )
    position = exp.column("file_row_number", quoted=True)
    error = exp.column("error", quoted=True)
    marked = exp.func("STARTS_WITH", error.copy(), exp.Literal.string(SENTINEL))
    found = con.execute(
        exp.select(position.copy(), error.copy()).from_(table.copy()).where(marked).sql("duckdb")
    ).fetchall()
    if not found:
        _copy_file(source, out)
        return 0, 0
    if has_blank_lines(data):
        raise Reread("blank lines: DuckDB does not count them")
    rows = ((int(k) + first, _sentinel_cells(e.encode("utf-8"))) for k, e in found)
    fixed = Path(tmp) / "python-rows.csv"
    failed = 0
    blank: list[int] = []
    with fixed.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([ROW, *csv_header(plan)])
        for number, cells, bad in python_cells(plan, header, rows):
            failed += bad
            if cells is None:
                blank.append(number - first)
            else:
                writer.writerow([number - first, *cells])
    names = csv_header(plan)
    fix = _typed(plan, _scan_csv(fixed, [ROW, *names]), keep=[ROW])
    at = exp.column("file_row_number", table="s", quoted=True)
    taken = exp.Not(
        this=exp.Is(this=exp.column(ROW, table="f", quoted=True), expression=exp.Null())
    )
    merged = (
        exp.select(*(_either(taken, n) for n in names))
        .from_(table.as_("s"))
        .join(
            fix.subquery("f"),
            on=exp.EQ(this=exp.column(ROW, table="f", quoted=True), expression=at.copy()),
            join_type="left",
        )
    )
    if blank:
        merged = merged.where(exp.Not(this=at.copy().isin(*map(exp.Literal.number, blank))))
    merged = merged.order_by(at.copy())
    target = Path(tmp) / "patched.parquet"
    _copy(con, merged, target, "parquet")
    _copy_file(target, out)
    return failed, len(blank)


def _either(taken: exp.Expr, name: str) -> exp.Expr:
    """Column `name` from the Python row `f` where there is one, else from `s`."""
    value = exp.Case(
        ifs=[exp.If(this=taken.copy(), true=exp.column(name, table="f", quoted=True))],
        default=exp.column(name, table="s", quoted=True),
    )
    return exp.alias_(value, name, quoted=True)


def _copy(con: Any, query: exp.Select, target: Path, fmt: str) -> int:
    """COPY `query` to `target` as csv or parquet; the number of rows written."""
    options = exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var(fmt.upper()))
    # COMMENT '': DuckDB otherwise quotes every cell with a `#` (one that a reader guessing
    # `#` for comments could skip), where Python's csv module quotes only what needs it
    extra = (
        [
            exp.CopyParameter(this=exp.var("HEADER"), expression=exp.true()),
            exp.CopyParameter(this=exp.var("COMMENT"), expression=exp.Literal.string("")),
        ]
        if fmt == "csv"
        else []
    )
    copy = exp.Copy(
        this=query.subquery(copy=False),
        kind=False,
        files=[exp.Literal.string(str(target))],
        params=[options, *extra],
    )
    import duckdb

    try:
        return int(con.execute(copy.sql("duckdb", copy=False)).fetchone()[0])
    except (RuntimeError, duckdb.InterruptException) as exc:
        # DuckDB takes Ctrl-C itself while it runs and stops the query: a Ctrl-C still.
        if "interrupted" not in str(exc).lower():
            raise
        raise KeyboardInterrupt from None


def _scan_csv(path: Path, names: list[str]) -> exp.Select:
    """A CSV file with a header of `names`, every cell as text."""
    quote = exp.Literal.string('"')
    source = _read_csv(path, names, header=exp.true(), quote=quote, escape=quote.copy())
    return exp.select(*(exp.column(n, quoted=True) for n in names)).from_(source)


def _typed(plan: Plan, rows: exp.Select, keep: Sequence[str] = ()) -> exp.Select:
    """The CSV columns of `rows` (and `keep`) typed for Parquet: `eligible` BOOLEAN, numbers
    DECIMAL(38, PLACES), the rest text."""
    numbers = {"total", *(i.id for i in plan.top_items)}
    cols: list[exp.Expr] = [exp.column(k, quoted=True) for k in keep]
    for name in csv_header(plan):
        col: exp.Expr = exp.column(name, quoted=True)
        if name == "eligible":
            col = exp.Cast(this=col, to=exp.DataType.build("BOOLEAN"))
        elif name in numbers:
            col = exp.Cast(this=col, to=exp.DataType.build(f"DECIMAL(38, {PLACES})"))
        cols.append(exp.alias_(col, name, quoted=True))
    return exp.select(*cols).from_(rows.subquery("r", copy=False), copy=False)


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
