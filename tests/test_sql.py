"""The SQL back end (scoredsl/sql.py, scoredsl/columnar.py, scoredsl/spark.py) against the
reference engine: the same bytes out of `--engine duckdb` and `--engine python`, every row
the Python reader accepts evaluated in SQL (not handed back), exact digits per construct."""

from __future__ import annotations

import csv
import importlib.util
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from scoredsl import exactjson
from scoredsl.batch import read_single
from scoredsl.cli import main
from scoredsl.columnar import ROW, _source, plain_lines, read_header
from scoredsl.data import DataError, read_assessment
from scoredsl.evaluate import evaluate
from scoredsl.exactjson import number
from scoredsl.loader import compile_path
from scoredsl.plan import Plan
from scoredsl.sql import DIALECTS, canonical_header, layout_for, plan_to_sql
from tests.strategies import GenScheme, assessments, schemes

ROOT = Path(__file__).resolve().parent.parent
STANDARDS = sorted((ROOT / "standards").glob("*.score"))


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def batch_rows(plan: Plan, raws: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Assessments (the YAML shape) as rows of the CSV batch layout."""
    header = canonical_header(plan)
    labels = {i.label: i.id for i in plan.items}
    rows = []
    for k, raw in enumerate(raws):
        row = dict.fromkeys(header, "")
        row["id"] = str(raw.get("id", f"r{k}"))
        for name, value in (raw.get("inputs") or {}).items():
            row[name] = _cell(value)
        for name, value in (raw.get("scores") or {}).items():
            row[labels.get(str(name), str(name))] = _cell(value)
        for name, value in (raw.get("findings") or {}).items():
            item = labels.get(str(name), str(name))
            row[f"{item}.samples"] = _cell(value["samples"])
            row[f"{item}.problems"] = _cell(value["problems"])
        if raw.get("severe"):
            row["severe"] = ";".join(raw["severe"])
        rows.append([row[h] for h in header])
    return header, rows


def write_csv(path: Path, header: list[str], rows: list[list[str]], style: str = "plain") -> Path:
    """A CSV batch; `style` "quoted" quotes every cell and "crlf" ends lines with CR LF:
    files DuckDB must read with its CSV reader, not as plain lines split on commas."""
    quoting = csv.QUOTE_ALL if style == "quoted" else csv.QUOTE_MINIMAL
    with path.open("w", encoding="utf-8", newline="") as handle:
        end = "\r\n" if style == "crlf" else "\n"
        writer = csv.writer(handle, lineterminator=end, quoting=quoting)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_engine(scheme: Path, data: Path, out: Path, engine: str, *more: str) -> tuple[int, bytes]:
    code = main(["eval", str(scheme), str(data), "-o", str(out), "--quiet", "--engine", engine,
                 "--jobs", "1", *more])  # fmt: skip
    return code, out.read_bytes()


def flags(plan: Plan, data: Path) -> list[bool]:
    """Per row: did the query hand it back to Python?"""
    header = read_header(data)
    assert header is not None
    con = duckdb.connect()
    con.execute(f"CREATE VIEW batch AS {_source(data, header, numbered=True).sql('duckdb')}")
    query = plan_to_sql(plan, "duckdb", header, row_column=ROW)
    return [r[0] for r in con.execute(f"SELECT _python FROM ({query.sql()})").fetchall()]


def python_accepts(plan: Plan, raw: dict[str, Any]) -> bool:
    try:
        evaluate(plan, read_assessment(plan, raw))
    except DataError:
        return False
    return True


def assert_same_output(scheme: Path, data: Path, tmp: Path) -> bytes:
    """The CSV output, after checking that CSV and JSONL are the same on both engines."""
    outputs = {}
    for fmt in ("csv", "jsonl"):
        py = run_engine(scheme, data, tmp / f"py.{fmt}", "python")
        db = run_engine(scheme, data, tmp / f"db.{fmt}", "duckdb")
        assert db == py
        outputs[fmt] = py[1]
    return outputs["csv"]


# ---- the shipped schemes with their examples ----------------------------------------------


@pytest.mark.parametrize("scheme", STANDARDS, ids=lambda p: p.stem)
def test_shipped_examples_give_the_same_bytes_and_run_in_sql(scheme: Path, tmp_path: Path) -> None:
    plan, _ = compile_path(scheme)
    assert plan is not None
    examples = sorted((ROOT / "standards" / "examples").glob(f"{scheme.stem}*.yaml"))
    raws = [read_single(p) for p in examples]
    assert raws
    header, rows = batch_rows(plan, raws)
    data = write_csv(tmp_path / "batch.csv", header, rows)
    assert_same_output(scheme, data, tmp_path)
    assert flags(plan, data) == [not python_accepts(plan, raw) for raw in raws]


@pytest.mark.parametrize("style", ["plain", "quoted", "crlf"])
def test_bad_rows_mixed_in_keep_their_python_errors(tmp_path: Path, style: str) -> None:
    scheme = ROOT / "standards" / "t-ccsa-249-2019.score"
    plan, _ = compile_path(scheme)
    assert plan is not None
    good = read_single(ROOT / "standards" / "examples" / "t-ccsa-249-2019.yaml")
    header, rows = batch_rows(plan, [good] * 8)
    col = header.index
    rows[1][col("5.1.1")] = "21"  # above its maximum
    rows[2][col("customer_satisfaction_rate")] = "1.5"  # a fraction above 1
    rows[3][col("5.4.3.2.problems")] = "30"  # more problems than samples
    rows[4][col("severe")] = "5.1"  # wrong depth
    rows[5][col("id")] = "=cmd"  # neutralised, evaluated in SQL
    rows[6][col("call_completion_rate")] = " 92% "  # spaces: Python strips them, SQL defers
    rows[7][col("5.1.2")] = "1e1"  # not a plain number: Python decides (and accepts)
    data = write_csv(tmp_path / "batch.csv", header, rows, style)
    assert plain_lines(data) is (style == "plain")
    out = assert_same_output(scheme, data, tmp_path).decode()
    assert flags(plan, data) == [False, True, True, True, True, False, True, True]
    lines = out.splitlines()
    assert lines[0] == "id,eligible,total,level,level_label,error,5.1,5.2,5.3,5.4,5.5,5.6"
    assert lines[1] == "r0,true,838.15,four_star,四星级,,45,43,86,260.75,187.4,216"
    assert lines[2].startswith("r1,,,,,scores: 5.1.1 (")
    assert lines[6].startswith("'=cmd,true,838.15,")
    assert lines[8] == "r7,true,830.15,four_star,四星级,,37,43,86,260.75,187.4,216"


def two_items(folder: Path) -> Path:
    """A scheme of two judged items, `a` and `b`, of 10 points each."""
    scheme = folder / "s.score"
    scheme.write_text('scheme s "t" {\n  item a "A" 10\n  item b "B" 10\n}\n', encoding="utf-8")
    return scheme


def test_a_row_of_another_cell_count_in_plain_lines_keeps_its_python_error(
    tmp_path: Path,
) -> None:
    scheme = two_items(tmp_path)
    data = tmp_path / "short.csv"
    data.write_text("id,a,b\nr1,1,2\nr2,3\nr3,4,5,6\nr4,7,8\n", encoding="utf-8")
    assert plain_lines(data)
    out = assert_same_output(scheme, data, tmp_path).decode()
    assert out.splitlines() == [
        "id,eligible,total,level,level_label,error,a,b",
        "r1,true,3,,,,1,2",
        f"3,,,,,{data}: row 3 (line 3): 2 cells but the header has 3 columns,,",
        f"4,,,,,{data}: row 4 (line 4): 4 cells but the header has 3 columns,,",
        "r4,true,15,,,,7,8",
    ]


@pytest.mark.parametrize("style", ["plain", "quoted"])
def test_a_hash_in_a_cell_is_written_as_python_writes_it(tmp_path: Path, style: str) -> None:
    # DuckDB's CSV writer quotes any cell with a `#` unless told there are no comments
    scheme = tmp_path / "s.score"
    scheme.write_text('scheme s "t" {\n  item a "A" 10\n}\n', encoding="utf-8")
    data = write_csv(
        tmp_path / "b.csv", ["id", "a"], [["#1", "1"], ["a#b", "2"], ["#", "3"]], style
    )
    out = assert_same_output(scheme, data, tmp_path).decode()
    assert out.splitlines() == [
        "id,eligible,total,level,level_label,error,a",
        "#1,true,1,,,,1",
        "a#b,true,2,,,,2",
        "#,true,3,,,,3",
    ]


# ---- generated schemes and data, bad rows mixed in -----------------------------------------


BAD_CELLS = st.sampled_from(["", "abc", "-1", "1e1", "9999", "50.0000000000001%", " 1"])


@st.composite
def batches(draw: st.DrawFn) -> tuple[GenScheme, list[dict[str, Any]]]:
    gen = draw(schemes())
    raws = draw(st.lists(assessments(gen), min_size=1, max_size=6))
    for raw in raws:
        if draw(st.integers(0, 3)) == 0:  # one bad cell in about a quarter of the rows
            section = draw(st.sampled_from(["inputs", "scores"]))
            if raw[section]:
                key = draw(st.sampled_from(sorted(raw[section])))
                raw[section][key] = draw(BAD_CELLS)
    return gen, raws


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=batches(), style=st.sampled_from(["plain", "quoted", "crlf"]))
def test_generated_batches_give_the_same_bytes(
    case: tuple[GenScheme, list[dict[str, Any]]],
    style: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    gen, raws = case
    tmp = tmp_path_factory.mktemp("gen")
    scheme = tmp / "gen.score"
    scheme.write_text(gen.text(), encoding="utf-8")
    plan, diagnostics = compile_path(scheme)
    assert plan is not None, diagnostics
    header, rows = batch_rows(plan, raws)
    data = write_csv(tmp / "batch.csv", header, rows, style)
    assert_same_output(scheme, data, tmp)
    # Rows Python accepts are scored in SQL, except the ones SQL hands back on purpose (the
    # bytes are compared above): a cell that is not a plain number (padded, `1e1`), or an
    # input left empty.
    for flagged, raw in zip(flags(plan, data), raws, strict=True):
        cells = [*raw["inputs"].values(), *raw["scores"].values()]
        if python_accepts(plan, raw) and all(map(_plain_cell, cells)):
            assert not flagged


def _plain_cell(value: Any) -> bool:
    return not isinstance(value, str) or bool(
        re.fullmatch(r"[0-9]+(\.[0-9]+)?%?|true|false", value)
    )


# ---- each construct, exact digits -----------------------------------------------------------

CONSTRUCTS = """\
scheme t "t" {
  total 100
  rounding 2 half-even
  input a: number "a"
  input b: number "b"
  input r: percent "r"
  input f: bool "f"
  value third "1/3" = a / b
  value mixed "mixed" = min(a, b) + max(a, b) * 2 - abs(a - b)
  value floors "floors" = floor(a / b) + ceil(a / b) + round(a / b, 1)
  value pick "pick" by a {
    < 2 -> 10
    2 <= _ < 5 -> 20
    >= 5 -> 30
  }
  value w "w" = weighted {
    a 30%
    b 70%
  }
  item 1 "one" 40 {
    item 1.1 "judged" 10
    item 1.2 "banded" 30 by r {
      < 50% -> 0
      50% <= _ < 90% -> 15
      >= 90% -> 30
    }
  }
  item 2 "two" 60 {
    item 2.1 "formula" 30 = 30 * a / (a + b)
    item 2.2 "vetoed" 30 {
      veto when f "f"
      item 2.2.1 "leaf" 30
    }
  }
  gate g "g" { require not f "no f" }
  levels {
    low "低" when total >= 40
    high "高" when total >= 80 and item 1.1 >= 5
  }
}
"""


def _sql_result(plan: Plan, row: dict[str, str | None]) -> dict[str, Any]:
    con = duckdb.connect()
    header = list(row)
    cols = ", ".join(f'"{h}" VARCHAR' for h in header)
    con.execute(f"CREATE TABLE batch ({cols})")
    con.execute(f"INSERT INTO batch VALUES ({', '.join('?' for _ in header)})", list(row.values()))
    query = plan_to_sql(plan, "duckdb", header)
    cursor = con.execute(query.sql())
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


@pytest.fixture(scope="module")
def construct_plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    path = tmp_path_factory.mktemp("c") / "t.score"
    path.write_text(CONSTRUCTS, encoding="utf-8")
    plan, diagnostics = compile_path(path)
    assert plan is not None, [d.message for d in diagnostics]
    return plan


CASES = [
    # cells a, b, r, f, 1.1, 2.2.1 -> what both engines must give
    (("1", "3", "95%", "false", "5", "30"),
     {"total": "72.5", "level": "low", "next_level": "high", "next_level_needs": None,
      "2.1": "7.5", "third": "0.333333333333", "mixed": "5", "floors": "1.3", "pick": "10",
      "w": "2.4"}),
    (("2", "3", "50%", "false", "0", "10"),
     {"total": "37", "level": None, "next_level": "low", "next_level_needs": "3", "2.1": "12",
      "third": "0.666666666667", "mixed": "7", "floors": "1.7", "pick": "20", "w": "2.7"}),
    (("5", "0.5", "10%", "true", "10", "30"),  # vetoed 2.2; the gate fails; 150/5.5 rounded
     {"total": "37.27", "level": None, "next_level": None, "next_level_needs": None,
      "2.1": "27.27", "third": "10", "mixed": "6", "floors": "30", "pick": "30", "w": "1.85"}),
]  # fmt: skip


def _shown(value: Any) -> Any:
    return number(value) if isinstance(value, Decimal) else value


@pytest.mark.parametrize(("cells", "expected"), CASES)
def test_each_construct_gives_the_python_digits(
    construct_plan: Plan, cells: tuple[str, ...], expected: dict[str, Any]
) -> None:
    a, b, r, f, judged, leaf = cells
    row = {"id": "x", "a": a, "b": b, "r": r, "f": f, "1.1": judged, "2.2.1": leaf}
    got = _sql_result(construct_plan, row)
    assert got["_python"] is False, got["error"]
    assert {k: _shown(got[k]) for k in expected} == expected
    raw = {"inputs": {"a": a, "b": b, "r": r, "f": f}, "scores": {"1.1": judged, "2.2.1": leaf}}
    result = evaluate(construct_plan, read_assessment(construct_plan, raw))
    doc = result.to_dict()
    python = {"total": number(result.total), "level": result.level,
              "next_level": doc["next_level"] and doc["next_level"]["level"],
              "next_level_needs": doc["next_level"] and _shown(doc["next_level"]["needs"]),
              "2.1": number(result.scores["2.1"]),
              **{k: _shown(v) for k, v in result.values.items()}}  # fmt: skip
    assert python == expected


def test_a_zero_divisor_goes_to_python(construct_plan: Plan) -> None:
    row = {"id": "x", "a": "0", "b": "0", "r": "95%", "f": "false", "1.1": "5", "2.2.1": "3"}
    got = _sql_result(construct_plan, row)
    assert (got["_python"], got["error"], got["total"]) == (True, "division by zero", None)


def test_division_results_are_decimal_not_double(construct_plan: Plan) -> None:
    con = duckdb.connect()
    con.execute('CREATE TABLE batch (id VARCHAR, a VARCHAR, b VARCHAR, r VARCHAR, f VARCHAR, '
                '"1.1" VARCHAR, "2.2.1" VARCHAR)')  # fmt: skip
    query = plan_to_sql(construct_plan, "duckdb", ["id", "a", "b", "r", "f", "1.1", "2.2.1"])
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {query.sql()}").fetchall()}
    assert {types[k] for k in ("total", "third", "2.1", "next_level_needs")} == {"DECIMAL(38,12)"}


# ---- dialects, the command -------------------------------------------------------------------


@pytest.mark.parametrize("scheme", STANDARDS, ids=lambda p: p.stem)
def test_every_dialect_is_generated(scheme: Path) -> None:
    plan, _ = compile_path(scheme)
    assert plan is not None
    query = plan_to_sql(plan, "spark")
    for dialect in DIALECTS:
        text = plan_to_sql(plan, dialect).sql(dialect)
        assert text.startswith("WITH l0 AS (SELECT * FROM ")
    assert "`5.1.1`" in query.sql("spark") or plan.id != "t-ccsa-249-2019"


def test_sql_command_prints_the_query(capsys: pytest.CaptureFixture[str]) -> None:
    scheme = ROOT / "standards" / "t-ccua-operation-capability.score"
    assert main(["sql", str(scheme), "--dialect", "postgres"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("WITH l0 AS (") and out.rstrip().endswith(";")
    assert '"level_label"' in out


def test_parquet_in_and_out_match_between_engines(tmp_path: Path) -> None:
    scheme = ROOT / "standards" / "t-ccsa-249-2019.score"
    plan, _ = compile_path(scheme)
    assert plan is not None
    good = read_single(ROOT / "standards" / "examples" / "t-ccsa-249-2019.yaml")
    header, rows = batch_rows(plan, [good, good])
    rows[1][header.index("5.1.1")] = "99"
    data = write_csv(tmp_path / "batch.csv", header, rows)
    parquet = tmp_path / "batch.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_csv('{data}', all_varchar=true)) TO '{parquet}'"
    )
    outs = {}
    for engine in ("python", "duckdb"):
        code, _ = run_engine(scheme, parquet, tmp_path / f"{engine}.parquet", engine)
        assert code == 1
        outs[engine] = (
            duckdb.connect()
            .execute(f"SELECT * FROM read_parquet('{tmp_path / f'{engine}.parquet'}')")
            .fetchall()
        )
    assert outs["duckdb"] == outs["python"]
    assert outs["duckdb"][0][:5] == ("r0", True, Decimal("838.15"), "four_star", "四星级")
    jsonl = {e: run_engine(scheme, parquet, tmp_path / f"{e}.jsonl", e) for e in outs}
    assert jsonl["duckdb"] == jsonl["python"]
    assert [exactjson.loads(line)["id"] for line in jsonl["duckdb"][1].splitlines()] == [
        "r0",
        "r1",
    ]


# ---- Spark ------------------------------------------------------------------------------------

HAS_SPARK = importlib.util.find_spec("pyspark") is not None
NEEDS_SPARK = pytest.mark.skipif(
    not HAS_SPARK, reason="pyspark is not installed (pip install 'scoredsl[spark]')"
)


@NEEDS_SPARK
def test_spark_gives_the_python_bytes(
    construct_plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheme = tmp_path / "t.score"
    scheme.write_text(CONSTRUCTS, encoding="utf-8")
    header = ["id", "a", "b", "r", "f", "1.1", "2.2.1"]
    rows = [["r0", *CASES[0][0]], ["r1", *CASES[1][0]], ["r2", *CASES[2][0]],
            ["r3", "0", "0", "1%", "false", "1", "1"],
            ["r4", "1", "2", "1%", "maybe", "1", "1"]]  # fmt: skip
    data = write_csv(tmp_path / "batch.csv", header, rows)
    for fmt in ("csv", "jsonl"):  # JSONL: rebuilt from the explained query's columns
        python = run_engine(scheme, data, tmp_path / f"python.{fmt}", "python")
        seen = _python_evaluations(monkeypatch)
        spark = run_engine(scheme, data, tmp_path / f"spark.{fmt}", "spark")
        assert (spark, seen) == (python, ["r3"])  # r3 divides by 0; r4 is not read
    lines = [exactjson.loads(line) for line in spark[1].splitlines()]
    assert [d["id"] for d in lines] == ["r0", "r1", "r2", "r3", "r4"]
    assert lines[2]["items"][5]["why"] == "vetoed: f is true (f)"
    # Parquet in (each cell's text, as the Python reader takes it) and Parquet out
    parquet = tmp_path / "batch.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_csv('{data}', all_varchar=true)) TO '{parquet}'"
    )
    for source, fmt in ((parquet, "csv"), (data, "parquet")):
        python = run_engine(scheme, source, tmp_path / f"python-{fmt}.{fmt}", "python")
        seen = _python_evaluations(monkeypatch)
        spark = run_engine(scheme, source, tmp_path / f"spark-{fmt}.{fmt}", "spark")
        assert (spark, seen) == (python, ["r3"])
    table = duckdb.connect().execute(
        f"SELECT id, total FROM '{tmp_path / 'spark-parquet.parquet'}'"
    )
    assert [r[0] for r in table.fetchall()] == ["r0", "r1", "r2", "r3", "r4"]
    # quoted cells: read by the csv module on the driver, not as lines by the workers; an
    # id with a comma and a quote is quoted in the CSV line the workers write
    rows[0][0] = 'r0, "x"'
    quoted = write_csv(tmp_path / "quoted.csv", header, rows, "quoted")
    python = run_engine(scheme, quoted, tmp_path / "python-quoted.csv", "python")
    seen = _python_evaluations(monkeypatch)
    spark = run_engine(scheme, quoted, tmp_path / "spark-quoted.csv", "spark")
    assert (spark, seen) == (python, ["r3"])
    assert spark[1].decode().splitlines()[1].startswith('"r0, ""x""",true,')


def _lines_batch(rows: int, ids: bool) -> str:
    """A batch of plain lines with blank lines and bad rows (a cell `x`) among them."""
    lines = ["id,a,b" if ids else "a,b"]
    for k in range(rows):
        cells = [f"{k % 11}", "x" if k % 37 == 0 else f"{k % 7}"]
        lines.append("" if k % 19 == 0 else ",".join([f"r{k}", *cells] if ids else cells))
    return "\n".join(lines) + "\n"


@NEEDS_SPARK
def test_spark_numbers_lines_read_by_its_workers_as_python_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pyspark.sql import SparkSession

    from scoredsl import spark as spark_engine

    scheme = two_items(tmp_path)
    session = SparkSession.builder.master("local[2]").getOrCreate()
    session.conf.set("spark.sql.files.maxPartitionBytes", "1000")  # blocks of 1 KB: lines
    session.conf.set("spark.sql.files.openCostInBytes", "0")  # cross their ends
    taken: list[int] = []
    from_lines = spark_engine._from_lines
    monkeypatch.setattr(spark_engine, "_from_lines", lambda *a: taken.append(1) or from_lines(*a))
    try:
        for ids in (True, False):
            data = tmp_path / f"lines-{ids}.csv"
            data.write_text(_lines_batch(1500, ids), encoding="utf-8")
            assert session.read.text(str(data)).rdd.getNumPartitions() > 5
            for fmt in ("csv", "jsonl", "parquet"):
                python = run_engine(scheme, data, tmp_path / f"python.{fmt}", "python")
                spark = run_engine(scheme, data, tmp_path / f"spark.{fmt}", "spark")
                assert spark == python
                assert spark[0] == 1  # the bad rows failed
        assert len(taken) == 6
        lines = (tmp_path / "python.csv").read_text(encoding="utf-8").splitlines()
        assert lines[1:3] == ["3,true,2,,,,1,1", "4,true,4,,,,2,2"]  # line 2 is blank
        # a byte that is not UTF-8: the driver reads the file, as Python reads it
        bad = tmp_path / "bad.csv"
        text = _lines_batch(600, True).encode("utf-8")
        cut = text.index(b"\n", 5000) + 1
        bad.write_bytes(text[:cut] + b"r\xff,1,2\n" + text[cut:])
        assert run_engine(scheme, bad, tmp_path / "s.csv", "spark") == run_engine(
            scheme, bad, tmp_path / "p.csv", "python"
        )
        assert len(taken) == 6
    finally:
        session.conf.unset("spark.sql.files.maxPartitionBytes")
        session.conf.unset("spark.sql.files.openCostInBytes")


def test_a_count_above_its_bound_goes_to_python_on_both_engines(tmp_path: Path) -> None:
    """CC-CMM: a part's compliant count can never exceed its items (11 of 10 is refused)."""
    scheme = ROOT / "standards" / "cc-cmm-star-rating.score"
    plan, _ = compile_path(scheme)
    assert plan is not None
    raw = read_single(ROOT / "standards" / "examples" / "cc-cmm-star-rating-four-star.yaml")
    broken = {**raw, "id": "broken", "inputs": {**raw["inputs"], "p1_method_compliant": 11,
                                               "p1_items": 10}}  # fmt: skip
    header, rows = batch_rows(plan, [raw, broken])
    data = write_csv(tmp_path / "batch.csv", header, rows)
    out = assert_same_output(scheme, data, tmp_path).decode("utf-8")
    assert flags(plan, data) == [False, True]
    assert "p1_method_compliant" in out.splitlines()[2]


def test_an_input_left_out_takes_its_default_in_sql(tmp_path: Path) -> None:
    """cace-promotion's 第十四条（十四）1 input: absent (no column, or an empty cell) is false."""
    scheme = ROOT / "standards" / "cace-promotion.score"
    plan, _ = compile_path(scheme)
    assert plan is not None
    raw = read_single(ROOT / "standards" / "examples" / "cace-promotion-eligible.yaml")
    del raw["inputs"]["reapplying_within_half_year"]
    header, rows = batch_rows(plan, [raw])
    data = write_csv(tmp_path / "batch.csv", header, rows)  # an empty cell
    assert assert_same_output(scheme, data, tmp_path)
    assert flags(plan, data) == [False]
    column = header.index("reapplying_within_half_year")
    narrow = [h for k, h in enumerate(header) if k != column]
    data = write_csv(
        tmp_path / "narrow.csv", narrow, [[c for k, c in enumerate(rows[0]) if k != column]]
    )
    assert assert_same_output(scheme, data, tmp_path)
    assert flags(plan, data) == [False]


# ---- the streaming DuckDB runner ----------------------------------------------------------

NUMBERISH = st.text(alphabet="0123456789.eE+-_ %\t,", min_size=0, max_size=14)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(judged=NUMBERISH, a=NUMBERISH, leaf=NUMBERISH, r=NUMBERISH)
def test_a_number_cell_is_read_as_python_reads_it_or_handed_to_python(
    construct_plan: Plan, judged: str, a: str, leaf: str, r: str
) -> None:
    """On DuckDB the number cells of a row are proved plain by one regular expression over
    them joined by commas, and a row that fails tests each cell (a whole number by its
    length): whatever the cells (commas and empty texts among them), SQL gives Python's
    numbers or defers the row."""
    row = {"id": "x", "a": a, "b": "3", "r": r, "f": "false", "1.1": judged, "2.2.1": leaf}
    got = _sql_result(construct_plan, row)
    if got["_python"]:
        return
    raw = {"inputs": {"a": a, "b": "3", "r": r, "f": "false"},
           "scores": {"1.1": judged, "2.2.1": leaf}}  # fmt: skip
    result = evaluate(construct_plan, read_assessment(construct_plan, raw))
    assert Decimal(got["1.1"]) == result.scores["1.1"]
    assert Decimal(got["1.2"]) == result.scores["1.2"]
    assert Decimal(got["2.2.1"]) == result.scores["2.2.1"]
    assert Decimal(got["1"]) == result.scores["1"]
    assert Decimal(got["third"]) == result.values["third"]


@pytest.mark.parametrize(
    ("judged", "leaf", "r", "deferred"),
    [
        ("5", "30", "95%", False),  # every cell plain: the row's one test
        ("5", "", "95%", True),  # an empty text is no number: Python says so
        ("5.5", "30", "0.95", False),  # a fraction: DECIMAL casts, still in SQL
        ("1,5", "", "95%", True),  # a comma in a cell breaks the count
        ("1", "5,30", "95%", True),
        ("", "", "9,5%", True),
        ("05", "30", "95%", False),  # a leading zero: 5, as Python reads it
    ],
)
def test_the_row_test_defers_exactly_what_the_cell_tests_defer(
    construct_plan: Plan, judged: str, leaf: str, r: str, deferred: bool
) -> None:
    row = {"id": "x", "a": "1", "b": "3", "r": r, "f": "false", "1.1": judged, "2.2.1": leaf}
    assert _sql_result(construct_plan, row)["_python"] is deferred


@pytest.mark.parametrize(
    ("r", "error"),
    [
        (None, "input 'r' is missing"),
        ("", "input 'r' is not a plain percentage"),
        ("9.5 %", "input 'r' is not a plain percentage"),
        ("150%", "input 'r' is out of its range"),
        ("1234567%", "input 'r' is not a plain percentage"),  # 6 digits at most on DuckDB
    ],
)
def test_one_test_flags_a_required_input_and_each_problem_keeps_its_reason(
    construct_plan: Plan, r: str | None, error: str
) -> None:
    row = {"id": "x", "a": "1", "b": "3", "r": r, "f": "false", "1.1": "5", "2.2.1": "30"}
    got = _sql_result(construct_plan, row)
    assert (got["_python"], got["error"]) == (True, error)


PERCENTS = """\
scheme p "p" {
  total 100
  input r: percent "r"
  input q: percent "q" default 50%
  input n: integer 0 <= _ <= 10 "n"
  value doubled "doubled" = r * 2 + q
  value share "share" = r * n / 3
  item 1 "banded" 60 by r {
    < 33.3% -> 0
    33.3% <= _ < 90.05% -> 30
    >= 90.05% -> 60
  }
  item 2 "formula" 40 = q * 40
  levels {
    pass "合格" when total >= 60 and r > q
  }
}
"""


@pytest.mark.parametrize(
    ("r", "q"),
    [("95%", "12.5%"), ("0.9005", ""), ("33.3%", "100%"), ("33.29999%", "0.5"), ("0%", "")],
)
def test_percentages_held_as_decimals_give_the_python_digits(
    tmp_path: Path, r: str, q: str
) -> None:
    """On DuckDB a percentage is a DECIMAL compared with DECIMAL constants, and in units
    where a formula reads it: every path gives Python's bytes, in SQL."""
    scheme = tmp_path / "p.score"
    scheme.write_text(PERCENTS, encoding="utf-8")
    plan, diagnostics = compile_path(scheme)
    assert plan is not None, [d.message for d in diagnostics]
    header = ["id", "r", "q", "n"]
    data = write_csv(tmp_path / "p.csv", header, [["a", r, q, "7"], ["b", r, q, "0"]])
    assert_same_output(scheme, data, tmp_path)
    assert flags(plan, data) == [False, False]


def test_the_duckdb_query_has_no_in_list_or_join(construct_plan: Plan) -> None:
    """DuckDB keeps a streamed file's row order through projections, not through a join
    (and it turns a long IN list into one); the runner relies on that order."""
    for scheme in STANDARDS:
        plan, _ = compile_path(scheme)
        assert plan is not None
        select = plan_to_sql(plan, "duckdb", raw=True, text=True).select
        assert select.find(exp.In) is None, scheme.name
        assert select.find(exp.Join) is None, scheme.name


def test_python_rows_are_put_back_in_place_in_a_long_batch(tmp_path: Path) -> None:
    """Bad rows scattered through a batch large enough for DuckDB to read in parallel:
    each comes back from Python on its own line, every other row from SQL, in order."""
    scheme = ROOT / "standards" / "t-ccsa-249-2019.score"
    plan, _ = compile_path(scheme)
    assert plan is not None
    good = read_single(ROOT / "standards" / "examples" / "t-ccsa-249-2019.yaml")
    header, rows = batch_rows(plan, [good])
    template = rows[0]
    col = header.index
    bad = {7: ("5.1.1", "21"), 40_000: ("5.1.2", " 3"), 99_998: ("id", "")}
    data = tmp_path / "big.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        for k in range(100_000):
            row = list(template)
            row[col("id")] = f"r{k}"
            row[col("5.1.3")] = str(k % 11)
            if k in bad:
                name, value = bad[k]
                row[col(name)] = value
            writer.writerow(row)
    code, out = run_engine(scheme, data, tmp_path / "db.csv", "duckdb")
    assert code == 1  # one row failed
    lines = out.decode().splitlines()
    assert len(lines) == 100_001
    assert [line.split(",", 1)[0] for line in lines[1:6]] == ["r0", "r1", "r2", "r3", "r4"]
    assert all(lines[k + 1].startswith(f"r{k},") for k in range(0, 100_000, 997))
    assert lines[8].startswith("r7,,,,,") and "5.1.1" in lines[8]
    assert lines[40_001].startswith("r40000,true,")
    assert lines[99_999].startswith("100000,true,")  # no id: its CSV line stands in
    assert "\x1e" not in out.decode()


@pytest.mark.parametrize("bad_row", [False, True])
@pytest.mark.parametrize("with_ids", [True, False])
def test_blank_lines_keep_row_numbers(tmp_path: Path, bad_row: bool, with_ids: bool) -> None:
    """DuckDB skips blank lines without counting them: a batch that has one is searched
    for them only when a number matters (no id column, or a row for Python), and then goes
    through Python, so the numbers in error texts and ids are Python's."""
    scheme = ROOT / "standards" / "t-ccsa-249-2019.score"
    plan, _ = compile_path(scheme)
    assert plan is not None
    good = read_single(ROOT / "standards" / "examples" / "t-ccsa-249-2019.yaml")
    header, rows = batch_rows(plan, [good] * 4)
    if bad_row:  # above its maximum, and no id: Python numbers it by its line (6)
        rows[3][header.index("5.1.1")] = "21"
        rows[3][header.index("id")] = ""
    if not with_ids:
        header, rows = header[1:], [r[1:] for r in rows]
    lines = [",".join(header), *(",".join(r) for r in rows)]
    data = tmp_path / "blank.csv"
    data.write_text("\n".join([*lines[:3], "", *lines[3:]]) + "\n", encoding="utf-8")
    out = assert_same_output(scheme, data, tmp_path).decode().splitlines()
    ids = [line.split(",", 1)[0] for line in out[1:]]
    assert ids == (
        ["r0", "r1", "r2", "6" if bad_row else "r3"] if with_ids else ["2", "3", "5", "6"]
    )
    assert ("is given 21 but is worth 0 to 20" in out[4]) is bad_row
    tables = []
    for engine in ("python", "duckdb"):  # CSV in, Parquet out: the same rows
        target = tmp_path / f"{engine}.parquet"
        run_engine(scheme, data, target, engine)
        tables.append(duckdb.connect().execute(f"SELECT * FROM '{target}'").fetchall())
    assert tables[0] == tables[1]
    assert [row[0] for row in tables[1]] == ids


# ---- a total that is a formula, and sheets outside it ---------------------------------------

SHEETS = """\
scheme s "s" {
  total 180 = item D_1 * 100 / 30 + half + item 1
  input x: number 0 <= _ <= 100 "x"
  value half "half" = x / 2
  sheet D_1 "打分表" 30 {
    item D_1_1 "row" 20
    item D_1_2 "row2" 10
  }
  item 1 "one" 30
  levels {
    pass "合格" when total >= 60
    good "良好" when total >= 150
  }
}
"""


def test_a_formula_total_and_sheets_give_the_same_bytes_in_sql(tmp_path: Path) -> None:
    scheme = tmp_path / "s.score"
    scheme.write_text(SHEETS, encoding="utf-8")
    plan, diagnostics = compile_path(scheme)
    assert plan is not None, diagnostics
    data = write_csv(
        tmp_path / "data.csv",
        ["id", "x", "D_1_1", "D_1_2", "1"],
        [
            ["r1", "40", "15", "10", "20"],  # 83.333333333333 + 20 + 20
            ["r2", "100", "20", "10", "30"],  # 100 + 50 + 30: the maximum
            ["r3", "0", "0", "0", "0"],
            ["r4", "", "15", "10", "20"],  # x missing: the total needs it
        ],
    )
    out = assert_same_output(scheme, data, tmp_path)
    assert out.decode().splitlines() == [
        "id,eligible,total,level,level_label,error,D_1,1",
        "r1,true,123.333333333333,pass,合格,,25,20",
        "r2,true,180,good,良好,,30,30",
        "r3,true,0,,,,0,0",
        "r4,,,,,missing input 'x' (x),,",
    ]
    assert flags(plan, data) == [False, False, False, True]


LABELLED = """\
scheme s "s" {
  total 10
  item 1 "one" 10
  levels {
    pass "合\\n格" when total >= 5
  }
}
"""


def test_a_level_label_with_a_line_break_keeps_row_numbers(tmp_path: Path) -> None:
    """An output row is then more than one line, so a deferred row's number cannot be read
    from its line: such a scheme's batches go through Python, with the same bytes."""
    scheme = tmp_path / "s.score"
    scheme.write_text(LABELLED, encoding="utf-8")
    data = write_csv(tmp_path / "data.csv", ["id", "1"], [["r1", "7"], ["r2", "8"], ["", "9"]])
    out = assert_same_output(scheme, data, tmp_path).decode()
    assert out == (
        "id,eligible,total,level,level_label,error,1\n"
        'r1,true,7,pass,"合\n格",,7\n'
        'r2,true,8,pass,"合\n格",,8\n'
        '4,true,9,pass,"合\n格",,9\n'  # the row without an id: its CSV line, 4
    )


# ---- JSONL from the explained query --------------------------------------------------------


def _python_evaluations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Ids the Python evaluator scores from here on (in a batch, through BatchWriter)."""
    import scoredsl.render.batch as batch_writer

    seen: list[str] = []
    real = batch_writer.evaluate

    def counted(plan: Plan, data: Any, detail: bool = True) -> Any:
        seen.append(str(data.id))
        return real(plan, data, detail)

    monkeypatch.setattr(batch_writer, "evaluate", counted)
    return seen


@pytest.mark.parametrize("scheme", STANDARDS, ids=lambda p: p.stem)
def test_jsonl_rows_scored_in_sql_are_explained_from_its_columns(
    scheme: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every example (gates failed with their facts, severe marks, vetoes, findings, every
    outcome) is written from the query's columns, not evaluated again, and reads as the
    Python engine writes it."""
    plan, _ = compile_path(scheme)
    assert plan is not None
    examples = sorted((ROOT / "standards" / "examples").glob(f"{scheme.stem}*.yaml"))
    raws = [read_single(p) for p in examples]
    header, rows = batch_rows(plan, raws)
    data = write_csv(tmp_path / "batch.csv", header, rows)
    python = run_engine(scheme, data, tmp_path / "py.jsonl", "python")
    seen = _python_evaluations(monkeypatch)
    assert run_engine(scheme, data, tmp_path / "db.jsonl", "duckdb") == python
    assert seen == []  # the examples Python rejects fail before the evaluator
    assert len(python[1].splitlines()) == len(raws)


VALUE_GATE = """\
scheme t "t" {
  total 10
  input a: number "a"
  input b: number "b"
  value half "half" = a / 2
  item 1 "one" 10
  gate g "g" {
    require a >= 1 "a"
    require half >= 1 "half"
    require b >= 1 or half >= 5 "b"
  }
  levels { ok "好" when total >= 5 }
}
"""


@pytest.mark.parametrize(
    ("a", "b", "passed", "by_python"),
    [
        ("4", "3", True, False),
        ("0", "3", False, False),  # a >= 1 and half >= 1 fail: explained from SQL
        ("1", "3", False, False),
        ("4", "0", False, True),  # b >= 1 or half >= 5 fails
        ("12", "0", True, False),
    ],
)
def test_a_failed_requirement_that_maybe_reads_a_value_is_explained_by_python(
    a: str,
    b: str,
    passed: bool,
    by_python: bool,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failed requirement shows the values it read: `half >= 1` surely reads `half`, and
    is explained from SQL; right of an `or` it is read only when the left side is false,
    and whether the evaluator had computed it before is its business: that row is
    evaluated by Python."""
    scheme = tmp_path / "t.score"
    scheme.write_text(VALUE_GATE, encoding="utf-8")
    data = write_csv(tmp_path / "b.csv", ["id", "a", "b", "1"], [["x", a, b, "7"]])
    python = run_engine(scheme, data, tmp_path / "py.jsonl", "python")
    seen = _python_evaluations(monkeypatch)
    assert run_engine(scheme, data, tmp_path / "db.jsonl", "duckdb") == python
    assert seen == (["x"] if by_python else [])
    gate = exactjson.loads(python[1])["gates"][0]
    assert gate["passed"] is passed
    if a == "0":
        assert gate["why"] == "not met: a (a is 0); half (half is 0)"


def test_jsonl_rows_explained_from_sql_say_what_decided_each_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheme = tmp_path / "t.score"
    scheme.write_text(CONSTRUCTS, encoding="utf-8")
    header = ["id", "a", "b", "r", "f", "1.1", "2.2.1"]
    data = write_csv(tmp_path / "b.csv", header, [["v", "5", "0.5", "10%", "true", "10", "30"]])
    seen = _python_evaluations(monkeypatch)
    code, out = run_engine(scheme, data, tmp_path / "db.jsonl", "duckdb")
    assert (code, seen) == (0, [])
    doc = exactjson.loads(out)
    items = {i["id"]: (i["score"], i["status"], i["why"]) for i in doc["items"]}
    assert items["1.2"] == (0, "banded", "r 10% is in x < 50%: 0 of 30")
    assert items["2.2"] == (0, "vetoed", "vetoed: f is true (f)")
    assert items["2.2.1"] == (0, "vetoed", "vetoed: f is true (f)")
    assert items["2.1"] == (Decimal("27.27"), "computed", "= 30 * a / (a + b) = 27.27")
    assert items["1"] == (10, "computed", "sum of its 2 items: 10 + 0")
    assert doc["gates"] == [{"id": "g", "passed": False, "why": "not met: no f (f is true)"}]
    assert (doc["eligible"], doc["total"], doc["values"]["third"]) == (False, Decimal("37.27"), 10)
    assert next(iter(doc)) == "id"


def test_jsonl_is_formatted_on_several_processes_in_order(tmp_path: Path) -> None:
    """More rows than three chunks, formatted on two processes: the lines come back in
    input order, the bad row (and one the query hands to Python) in its place."""
    scheme = ROOT / "standards" / "t-ccsa-249-2019.score"
    plan, _ = compile_path(scheme)
    assert plan is not None
    good = read_single(ROOT / "standards" / "examples" / "t-ccsa-249-2019.yaml")
    header, rows = batch_rows(plan, [good] * 700)
    for k, row in enumerate(rows):
        row[header.index("id")] = f"r{k}"
        row[header.index("5.1.3")] = str(k % 11)
    rows[300][header.index("5.1.1")] = "21"  # above its maximum
    rows[500][header.index("5.1.2")] = " 3"  # accepted by Python only
    data = write_csv(tmp_path / "batch.csv", header, rows)
    python = run_engine(scheme, data, tmp_path / "py.jsonl", "python")
    code = main(["eval", str(scheme), str(data), "-o", str(tmp_path / "db.jsonl"), "--quiet",
                 "--jobs", "2"])  # fmt: skip
    assert (code, (tmp_path / "db.jsonl").read_bytes()) == python
    docs = [exactjson.loads(line) for line in python[1].splitlines()]
    assert [d["id"] for d in docs] == [f"r{k}" for k in range(700)]
    assert docs[300]["error"] == "scores: 5.1.1 (明确目标) is given 21 but is worth 0 to 20"
    # the example's 838.15 with 5.1.2 = 3 (not 18) and 5.1.3 = 500 % 11 = 5 (not 9)
    assert docs[500]["total"] == Decimal("819.15")


# ---- typed Parquet columns -------------------------------------------------------------------

TYPED_VALUES = {
    "a": ("BIGINT", ["0", "3", "-2", "1000000000000", None]),
    "b": ("DECIMAL(9, 3)", ["0.5", "2.250", "-0.001", "0", None]),
    "f": ("BOOLEAN", ["true", "false", None]),
    "1.1": ("DECIMAL(4, 1)", ["5.5", "10.0", "10.5", "-1.0", None]),
    "2.2.1": ("UTINYINT", ["0", "30", "31", "255", None]),
}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.fixed_dictionaries({k: st.sampled_from(v) for k, (_, v) in TYPED_VALUES.items()}),
        min_size=1,
        max_size=5,
    )
)
def test_typed_parquet_columns_are_read_as_python_reads_their_text(
    rows: list[dict[str, str | None]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Integer, DECIMAL and BOOLEAN columns are read as they are (no text pattern): a value
    in range scores in SQL; a sign, too many digits or a NULL goes to Python, which reads
    the value's text. Both engines give the same bytes."""
    tmp = tmp_path_factory.mktemp("typed")
    scheme = tmp / "t.score"
    scheme.write_text(CONSTRUCTS, encoding="utf-8")
    con = duckdb.connect()
    cols = ", ".join(f'"{k}" {t}' for k, (t, _) in TYPED_VALUES.items())
    con.execute(f"CREATE TABLE t (id VARCHAR, {cols}, r VARCHAR)")
    for k, row in enumerate(rows):
        values = [f"x{k}", *(row[name] for name in TYPED_VALUES), "95%"]
        con.execute(f"INSERT INTO t VALUES ({', '.join('?' * len(values))})", values)
    data = tmp / "typed.parquet"
    con.execute(f"COPY t TO '{data}'")
    for fmt in ("csv", "jsonl"):
        python = run_engine(scheme, data, tmp / f"py.{fmt}", "python")
        assert run_engine(scheme, data, tmp / f"db.{fmt}", "duckdb") == python


def test_typed_columns_are_only_those_whose_text_is_always_plain(construct_plan: Plan) -> None:
    from scoredsl.sql import typed_columns

    header = ["id", "a", "b", "r", "f", "1.1", "2.2.1"]
    types = {"id": "VARCHAR", "a": "DECIMAL(21, 2)", "b": "DOUBLE", "r": "DECIMAL(5, 4)",
             "f": "BOOLEAN", "1.1": "DECIMAL(20, 12)", "2.2.1": "HUGEINT"}  # fmt: skip
    layout = typed_columns(layout_for(construct_plan, header), construct_plan, types)
    # too wide; a DOUBLE's text is not its value; a percentage is read as text; 12 places
    # at most; HUGEINT holds more than any bound
    assert (layout.numeric, layout.boolean) == ({"1.1": 12}, frozenset({"f"}))
    query = plan_to_sql(construct_plan, "duckdb", header, types=types).sql()
    assert 'CAST("1.1" AS TEXT)' not in query and 'CAST("a" AS TEXT)' in query


def test_a_typed_row_in_range_is_scored_in_sql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scheme = tmp_path / "t.score"
    scheme.write_text(CONSTRUCTS, encoding="utf-8")
    con = duckdb.connect()
    cols = ", ".join(f'"{k}" {t}' for k, (t, _) in TYPED_VALUES.items())
    con.execute(f"CREATE TABLE t (id VARCHAR, {cols}, r VARCHAR)")
    con.execute("INSERT INTO t VALUES ('in', 3, 2.25, false, 5.5, 30, '95%'), "
                "('out', 1000000000000, 2.25, false, 5.5, 30, '95%')")  # fmt: skip
    data = tmp_path / "typed.parquet"
    con.execute(f"COPY t TO '{data}'")
    python = run_engine(scheme, data, tmp_path / "py.csv", "python")
    seen = _python_evaluations(monkeypatch)
    assert run_engine(scheme, data, tmp_path / "db.csv", "duckdb") == python
    assert seen == ["out"]  # 13 digits: more than SQL reads; Python reads (and scores) it
    assert python[1].decode().splitlines()[1] == "in,true,82.64,high,高,,35.5,47.14"


def test_a_bug_rebuilding_one_row_costs_only_that_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scoredsl.explained import Explained

    scheme = ROOT / "standards" / "t-ccsa-249-2019.score"
    plan, _ = compile_path(scheme)
    assert plan is not None
    good = read_single(ROOT / "standards" / "examples" / "t-ccsa-249-2019.yaml")
    header, rows = batch_rows(plan, [good] * 3)
    data = write_csv(tmp_path / "batch.csv", header, rows)
    real = Explained.result

    def buggy(self: Explained, row: Any, ident: str | None) -> Any:
        if ident == "r1":
            raise KeyError("boom")
        return real(self, row, ident)

    monkeypatch.setattr(Explained, "result", buggy)
    code, out = run_engine(scheme, data, tmp_path / "db.jsonl", "duckdb")
    docs = [exactjson.loads(line) for line in out.splitlines()]
    assert code == 1 and [d["id"] for d in docs] == ["r0", "r1", "r2"]
    assert docs[1] == {
        "id": "r1",
        "error": "internal: scoredsl failed on this row (KeyError: 'boom'); "
        "this is a bug, please report it with the row",
    }
    assert docs[0]["total"] == docs[2]["total"] == Decimal("838.15")


@NEEDS_SPARK
def test_spark_reads_text_parquet_on_its_workers_and_typed_parquet_on_the_driver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scoredsl import spark as spark_engine

    scheme = two_items(tmp_path)
    con = duckdb.connect()
    text, typed = tmp_path / "text.parquet", tmp_path / "typed.parquet"
    for path, ids in ((text, False), (typed, True)):  # no ids: a row's number is its id
        data = tmp_path / f"lines-{ids}.csv"
        data.write_text(_lines_batch(3000, ids), encoding="utf-8")
        typed_a = " REPLACE (CAST(a AS BIGINT) AS a)" if ids else ""
        rows = f"SELECT *{typed_a} FROM read_csv('{data}', all_varchar=true)"
        con.execute(f"COPY ({rows}) TO '{path}' (ROW_GROUP_SIZE 1000)")  # three row groups
    taken: list[str] = []
    for name in ("_from_parquet", "_from_rows"):
        real = getattr(spark_engine, name)
        monkeypatch.setattr(
            spark_engine, name, lambda *a, _n=name, _r=real: taken.append(_n) or _r(*a)
        )
    for parquet in (text, typed):
        for fmt in ("csv", "jsonl", "parquet"):
            python = run_engine(scheme, parquet, tmp_path / f"python.{fmt}", "python")
            spark = run_engine(scheme, parquet, tmp_path / f"spark.{fmt}", "spark")
            assert spark == python
            assert spark[0] == 1  # the bad rows (b is `x`) failed
        if parquet == text:
            lines = (tmp_path / "python.csv").read_text(encoding="utf-8").splitlines()
            assert lines[1:3] == ["1,true,2,,,,1,1", "2,true,4,,,,2,2"]
    assert taken == ["_from_parquet"] * 3 + ["_from_rows"] * 3
