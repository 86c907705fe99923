"""Hostile and broken input (issue 13): every case ends with a clear message naming the file,
row or key, exit 1 (bad data or scheme), 2 (usage or I/O) or 130 (Ctrl-C), no traceback,
and nothing lost: no good row of a batch, no input file, no half-written output.

Batch cases run for every engine in `ENGINES` (an engine added later joins by name).
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoredsl import exactjson
from scoredsl.cli import main
from scoredsl.data import read_assessment
from scoredsl.evaluate import evaluate
from scoredsl.exactjson import number
from scoredsl.limits import CELL_CHARS, NUMBER_DIGITS, NUMBER_EXPONENT, YAML_NODES
from tests.conftest import ROOT, SCHEME_249, STANDARDS, full_marks
from tests.strategies import BAD_NUMBER_CELLS, plan_assessments

ENGINES = ["python", "duckdb"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def batch(
    capsys: pytest.CaptureFixture[str], engine: str, data: Path, *more: str
) -> tuple[int, str, str]:
    """A batch run on `engine`."""
    engine_args = ("--engine", engine)
    return run(capsys, "eval", str(SCHEME_249), str(data), "--quiet", *engine_args, *more)


def csv_rows(plan: Any, count: int) -> tuple[list[str], list[str]]:
    """The header and `count` full-marks rows of the 249 scheme as CSV cells."""
    data = full_marks(plan)
    header = ["id", *data["inputs"], *data["scores"]]
    cells = [str(v).lower() if isinstance(v, bool) else str(v) for v in data["inputs"].values()]
    cells += [str(v) for v in data["scores"].values()]
    return header, [",".join([f"r{k}", *cells]) for k in range(1, count + 1)]


def output_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# ---- output files --------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_output_onto_the_input_is_refused_and_the_input_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any, engine: str
) -> None:
    header, rows = csv_rows(plan249, 3)
    data = tmp_path / "data.csv"
    text = "\n".join([",".join(header), *rows]) + "\n"
    data.write_text(text, encoding="utf-8")
    code, out, err = batch(capsys, engine, data, "-o", str(data))
    assert (code, out) == (2, "")
    assert err == (
        f"scoredsl: -o {data} is the input file {data}: refusing to write over it; "
        "choose another output file\n"
    )
    assert data.read_text(encoding="utf-8") == text


def test_output_onto_the_scheme_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    scheme = tmp_path / "s.score"
    scheme.write_bytes(SCHEME_249.read_bytes())
    for command in (["compile", str(scheme)], ["docs", str(scheme)]):
        code, _, err = run(capsys, *command, "-o", str(scheme))
        assert (code, err) == (
            2,
            f"scoredsl: -o {scheme} is the input file {scheme}: refusing to write over it; "
            "choose another output file\n",
        )
    assert scheme.read_bytes() == SCHEME_249.read_bytes()


@pytest.mark.parametrize("engine", ENGINES)
def test_formula_cells_are_neutralised_in_csv_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any, engine: str
) -> None:
    header, rows = csv_rows(plan249, 6)
    ids = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "plain"]
    rows = [",".join([f'"{i.replace(chr(34), 2 * chr(34))}"', *r.split(",")[1:]])
            for i, r in zip(ids, rows, strict=True)]  # fmt: skip
    data = tmp_path / "data.csv"
    data.write_text("\n".join([",".join(header), *rows]) + "\n", encoding="utf-8")
    code, out, _ = batch(capsys, engine, data)
    assert code == 0
    written = [r["id"] for r in output_rows(out)]
    # the reader strips cells, so "\tx" is read as the id "x"
    assert written == ['\'=HYPERLINK("http://x","y")', "'+1", "'-2", "'@SUM(A1)", "x", "plain"]
    assert {r["total"] for r in output_rows(out)} == {"1000"}


# ---- signals and pipes (a real process) ------------------------------------------------------


def _process(argv: Sequence[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "scoredsl", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )


@pytest.mark.parametrize(("engine", "jobs"), [("python", "1"), ("python", "2"), ("duckdb", "1")])
def test_ctrl_c_during_a_batch_stops_with_one_line_and_no_file(
    tmp_path: Path, plan249: Any, engine: str, jobs: str
) -> None:
    """Interrupted once the batch reports progress (so while rows are being evaluated, by
    Python or DuckDB): one line, exit 130, no output file and no temporary folder left."""
    header, rows = csv_rows(plan249, 1)
    data = tmp_path / "data.csv"
    count = 600_000 if engine == "duckdb" else 60_000  # DuckDB must still be copying
    data.write_text(",".join(header) + "\n" + (rows[0] + "\n") * count, encoding="utf-8")
    target = tmp_path / "out.csv"
    argv = ["eval", str(SCHEME_249), str(data), "-o", str(target), "--jobs", jobs]
    process = _process([*argv, "--engine", engine])
    assert process.stderr is not None
    os.set_blocking(process.stderr.fileno(), False)
    seen, deadline = b"", time.monotonic() + 120
    while (
        b" rows (" not in seen
    ):  # a progress line ("evaluated N rows (F failed)"), not the summary
        assert time.monotonic() < deadline and process.poll() is None, seen
        seen += process.stderr.read() or b""
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole group gets it
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    lines = (seen + err).decode().splitlines()
    assert re.fullmatch(
        rf"scoredsl: interrupted after \d+ rows; nothing written to {re.escape(str(target))}",
        lines[-1],
    )
    assert all(line.startswith("evaluated ") for line in lines[:-1])  # progress, no traceback
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_a_closed_stdout_pipe_exits_quietly() -> None:
    process = _process(["template", str(SCHEME_249)])
    assert process.stdout is not None
    process.stdout.close()  # `| head -0`: the reader is gone before anything is written
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (141, b"")


# ---- numbers, single assessments ------------------------------------------------------------

BOUNDS = (
    f" (numbers in data have at most {NUMBER_DIGITS} significant digits "
    f"and lie between 1e-{NUMBER_EXPONENT} and 1e{NUMBER_EXPONENT + 1})"
)
RATE = "input 'customer_satisfaction_rate' (顾客满意率)"
PERCENT = f'{RATE} must be a percentage like "96.5%", not '
SCORE = "scores: 5.1.1 (明确目标)"
BIG = "9" * 5000
BIG_SHOWN = "999999999999999999999999999999...9999999 (5000 characters)"


def data_file(tmp_path: Path, plan: Any, name: str, where: str, token: str) -> Path:
    """The full-marks assessment with one value (`inputs.x`, `scores.5.1.1`, `severe`)
    replaced by `token`, written as it stands into JSON, or YAML for a .yaml name."""
    doc = full_marks(plan)
    section, _, key = where.partition(".")
    if key:
        doc[section][key] = "@@token@@"
    else:
        doc[section] = "@@token@@"
    text = exactjson.dumps(doc, indent=1).replace('"@@token@@"', token)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")  # JSON is YAML too
    return path


def single(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str, str]:
    return run(capsys, "eval", str(SCHEME_249), str(path), "--format", "json")


def data_error(path: Path, *problems: str) -> str:
    lines = [f"error[data]: {path}: {p}\n" for p in problems]
    return "".join(lines) + f"{len(problems)} error(s) in {path}\n"


SINGLE_NUMBER_CASES = [
    # (file, where, token as written, the problem reported)
    ("a.json", "inputs.customer_satisfaction_rate", "1e999", PERCENT + "1E+999" + BOUNDS),
    ("a.json", "inputs.customer_satisfaction_rate", '"1e999%"', PERCENT + "'1e999%'" + BOUNDS),
    ("a.yaml", "inputs.customer_satisfaction_rate", "1.0e+999", PERCENT + "1.0E+999" + BOUNDS),
    ("a.json", "inputs.customer_satisfaction_rate", '"9e999999999%"',
     PERCENT + "'9e999999999%'" + BOUNDS),
    ("a.json", "scores.5.1.1", "1e30",
     f"{SCORE} is given 1000000000000000000000000000000 but is worth 0 to 20"),
    ("a.json", "scores.5.1.1", "1.000000000000000000001",
     f"{SCORE} must be a number, not 1.000000000000000000001{BOUNDS}"),
    ("a.json", "scores.5.1.1", BIG, f"{SCORE} must be a number, not {BIG_SHOWN}{BOUNDS}"),
    ("a.yaml", "scores.5.1.1", BIG, f"{SCORE} must be a number, not {BIG_SHOWN}{BOUNDS}"),
    ("a.json", "scores.5.1.1", f'"{BIG}"',
     f"{SCORE} must be a number, not '99999999999999999999999999999...999999' (5002 characters)"
     f"{BOUNDS}"),
    ("a.json", "inputs.customer_satisfaction_rate", '"1_0%"',
     PERCENT + "'1_0%' (write digits without underscores)"),
    ("a.yaml", "inputs.customer_satisfaction_rate", '"９６%"',
     PERCENT + "'９６%' (write the digits 0-9, not full-width or other digits)"),
    ("a.json", "scores.5.1.1", '"１８"',
     f"{SCORE} must be a number, not '１８' (write the digits 0-9, not full-width or other "
     "digits)"),
    ("a.json", "severe", "5", "'severe' must be a list of item ids, not 5"),
    ("a.yaml", "severe", "true", "'severe' must be a list of item ids, not true"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "where", "token", "problem"), SINGLE_NUMBER_CASES)
def test_hostile_values_in_one_assessment(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    plan249: Any,
    name: str,
    where: str,
    token: str,
    problem: str,
) -> None:
    path = data_file(tmp_path, plan249, name, where, token)
    code, out, err = single(capsys, path)
    assert (code, out, err) == (1, "", data_error(path, problem))


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_json_nan_and_infinity_are_refused_with_their_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any, token: str
) -> None:
    path = data_file(tmp_path, plan249, "a.json", "inputs.customer_satisfaction_rate", token)
    line = next(n for n, t in enumerate(path.read_text("utf-8").splitlines(), 1) if token in t)
    code, _, err = single(capsys, path)
    assert (code, err) == (
        1,
        f"error[data]: {path}:{line}: {token} is not a number; write a number, "
        "or null for no value\n",
    )


def result_of(capsys: pytest.CaptureFixture[str], path: Path) -> Any:
    code, out, err = single(capsys, path)
    assert (code, err) == (0, "")
    return exactjson.loads(out)


@pytest.mark.parametrize(("one", "other"), [("1", '"1"'), ("0", "false"), ("1", "true")])
def test_integer_1_and_0_are_read_for_a_bool_like_text_1_and_0(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any, one: str, other: str
) -> None:
    where = "inputs.info_security_incident"
    a = result_of(capsys, data_file(tmp_path, plan249, "a.json", where, one))
    b = result_of(capsys, data_file(tmp_path, plan249, "b.yaml", where, other))
    assert a == b
    assert a["total"] == (980 if one == "1" else 1000)  # 5.6.6 (20 points) vetoed by 1


def test_severe_as_one_string_is_one_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any
) -> None:
    a = result_of(capsys, data_file(tmp_path, plan249, "a.json", "severe", '"5.4.3"'))
    b = result_of(capsys, data_file(tmp_path, plan249, "b.json", "severe", '["5.4.3"]'))
    assert a == b and a["total"] == 850


# ---- duplicates: never "last one wins" -------------------------------------------------------


def test_duplicate_yaml_key_names_both_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("inputs:\n  complaint_rate: 1%\nscores: {}\ninputs: {}\n", encoding="utf-8")
    code, _, err = single(capsys, path)
    assert (code, err) == (
        1,
        f"error[data]: {path}:4:1: duplicate key 'inputs' (first at line 1, again at line 4)\n",
    )


def test_duplicate_json_key_names_both_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "a.json"
    path.write_text(
        '{"inputs": {"a": 1, "b": 2},\n "scores": {"5.1.1": 3,\n  "5.1.1": 4}}', encoding="utf-8"
    )
    code, _, err = single(capsys, path)
    assert (code, err) == (
        1,
        f"error[data]: {path}:3: duplicate key '5.1.1' (first at line 2, again at line 3)\n",
    )


def test_an_item_given_by_id_and_by_label_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any
) -> None:
    path = data_file(tmp_path, plan249, "a.json", "scores.明确目标", "20")
    code, _, err = single(capsys, path)
    assert (code, err) == (
        1,
        data_error(path, "scores: 5.1.1 is given twice, as '5.1.1' and '明确目标'"),
    )


# ---- documents too big, too deep, not a file -------------------------------------------------

LAUGHS = "".join(
    f"{a}: &{a} [{', '.join([f'*{b}'] * 9)}]\n" for b, a in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_a_yaml_alias_bomb_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(f'a: &a ["lol", "lol", "lol"]\n{LAUGHS}inputs: *i\n', encoding="utf-8")
    code, _, err = single(capsys, path)
    assert (code, err) == (
        1,
        f"error[data]: {path}:1:1: its aliases expand to more than {YAML_NODES} values\n",
    )


@pytest.mark.parametrize(("name", "text", "where"), [
    ("deep.yaml", "inputs: " + "[" * 5000 + "]" * 5000 + "\n", ":1:108"),
    ("deep.json", '{"inputs": ' + "[" * 5000 + "]" * 5000 + "}", ""),
    ("deeper.json", '{"inputs": ' + "[" * 200000 + "]" * 200000 + "}", ""),
])  # fmt: skip
def test_deep_nesting_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, text: str, where: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    code, _, err = single(capsys, path)
    assert (code, err) == (1, f"error[data]: {path}{where}: nested more than 100 levels deep\n")


def test_a_directory_given_as_data_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "eval", str(SCHEME_249), str(tmp_path))
    assert (code, err) == (2, f"scoredsl: {tmp_path} is a directory; give a data file\n")


def test_a_non_utf8_assessment_names_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "a.yaml"
    path.write_bytes(b"inputs:\n  complaint_rate: 1%\nscores: {'5.1.1': \xff}\n")
    code, _, err = single(capsys, path)
    assert (code, err) == (
        1,
        f"error[data]: {path}:3: not UTF-8 text (byte 0xff cannot be read)\n",
    )


# ---- batches: one bad row never loses another ------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[str]) -> Path:
    path.write_text("\n".join([",".join(header), *rows]) + "\n", encoding="utf-8")
    return path


def with_cell(row: str, column: int, cell: str) -> str:
    cells = row.split(",")
    cells[column] = cell
    return ",".join(cells)


@pytest.mark.parametrize("engine", ENGINES)
def test_batch_hostile_cells_fail_only_their_rows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any, engine: str
) -> None:
    header, rows = csv_rows(plan249, 12)
    rate, score = header.index("customer_satisfaction_rate"), header.index("5.1.1")
    bad = {
        1: (rate, "NaN", PERCENT + "'NaN'"),
        3: (rate, "1e999%", PERCENT + "'1e999%'" + BOUNDS),
        4: (rate, "9e999999999%", PERCENT + "'9e999999999%'" + BOUNDS),
        6: (score, "1e30",
            f"{SCORE} is given 1000000000000000000000000000000 but is worth 0 to 20"),
        7: (score, BIG, f"{SCORE} must be a number, not '99999999999999999999999999999...999999' "
                        f"(5002 characters){BOUNDS}"),
        9: (rate, "1_0%", PERCENT + "'1_0%' (write digits without underscores)"),
        10: (rate, "９６%",
             PERCENT + "'９６%' (write the digits 0-9, not full-width or other digits)"),
    }  # fmt: skip
    for k, (column, cell, _) in bad.items():
        rows[k] = with_cell(rows[k], column, cell)
    data = write_csv(tmp_path / "data.csv", header, rows)
    code, out, _ = batch(capsys, engine, data)
    written = output_rows(out)
    assert code == 1
    assert [r["id"] for r in written] == [f"r{k}" for k in range(1, 13)]
    for k, row in enumerate(written):
        if k in bad:
            assert (row["error"], row["total"]) == (bad[k][2], "")
        else:
            assert (row["error"], row["total"], row["level"]) == ("", "1000", "five_star")


@pytest.mark.parametrize("engine", ENGINES)
def test_batch_jsonl_hostile_lines_fail_only_their_rows(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any, engine: str
) -> None:
    good = exactjson.dumps(full_marks(plan249))
    lines = [
        good,
        good.replace('"99%"', "NaN"),
        "",
        good.replace('"scores":{', '"scores":{"5.1.1":1,'),
        good.replace('"5.1.1":20', '"5.1.1":' + BIG),
        good,
    ]
    data = tmp_path / "data.jsonl"
    data.write_bytes("\n".join(lines).encode() + b'\n{"id": "\xff"}\n' + good.encode() + b"\n")
    code, out, _ = batch(capsys, engine, data, "--format", "jsonl")
    written = [exactjson.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [w.get("error") for w in written] == [
        None,
        f"{data}:2: NaN is not a number; write a number, or null for no value",
        f"{data}:4: duplicate key '5.1.1' (twice on this line)",
        f"{SCORE} must be a number, not {BIG_SHOWN}{BOUNDS}",
        None,
        f"{data}:7: not UTF-8 text (byte 0xff at column 9)",
        None,
    ]
    assert [w["id"] for w in written] == ["1", "2", "4", "5", "6", "7", "8"]
    assert [w.get("total") for w in written] == [1000, None, None, None, 1000, None, 1000]


@pytest.mark.parametrize("engine", ENGINES)
def test_batch_cell_over_the_limit_fails_its_row_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any, engine: str
) -> None:
    header, rows = csv_rows(plan249, 3)
    rows[1] = with_cell(rows[1], header.index("5.1.1"), "1" * (200 * 1024))
    data = write_csv(tmp_path / "data.csv", header, rows)
    code, out, _ = batch(capsys, engine, data)
    assert code == 1
    assert [(r["id"], r["total"], r["error"]) for r in output_rows(out)] == [
        ("r1", "1000", ""),
        ("3", "", f"{data}: row 3 (line 3), column '5.1.1': the cell has 204800 characters; "
                   f"at most {CELL_CHARS} are read"),
        ("r3", "1000", ""),
    ]  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
def test_batch_non_utf8_byte_at_row_700_of_1000_keeps_every_other_row(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any, engine: str
) -> None:
    header, rows = csv_rows(plan249, 1000)
    lines = [",".join(header).encode(), *(r.encode() for r in rows)]
    lines[700] = lines[700].replace(b"r700,", b"r700\xff,")  # row 701, the 700th data row
    data = tmp_path / "data.csv"
    data.write_bytes(b"\n".join(lines) + b"\n")
    code, out, _ = batch(capsys, engine, data)
    written = output_rows(out)
    assert code == 1 and len(written) == 1000
    assert written[699]["error"] == (
        f"{data}: row 701 (line 701): not UTF-8 text (byte 0xff at column 5)"
    )
    others = written[:699] + written[700:]
    assert [r["id"] for r in others] == [f"r{k}" for k in range(1, 1001) if k != 700]
    assert {(r["total"], r["error"]) for r in others} == {("1000", "")}


@pytest.mark.parametrize("engine", ENGINES)
def test_batch_blank_lines_are_skipped_and_rows_after_a_multiline_cell_keep_their_numbers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any, engine: str
) -> None:
    header, rows = csv_rows(plan249, 4)
    rows[0] = with_cell(rows[0], 0, '"two\nlines"')
    rows[2] = with_cell(rows[2], 0, "")  # no id: the row is named by its number
    rows[2] = with_cell(rows[2], header.index("5.1.1"), "x")
    data = write_csv(tmp_path / "data.csv", header, [rows[0], "", rows[1], ",,,", rows[2], rows[3]])
    code, out, _ = batch(capsys, engine, data)
    written = output_rows(out)
    assert code == 1
    assert [(r["id"], r["total"]) for r in written] == [
        ("two\nlines", "1000"), ("r2", "1000"), ("6", ""), ("r4", "1000"),
    ]  # fmt: skip
    assert written[2]["error"] == f"{SCORE} must be a number, not 'x'"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("text", ["", "\n\n", ",,,\n"])
def test_batch_empty_csv_says_there_is_no_header(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, engine: str, text: str
) -> None:
    data = tmp_path / "data.csv"
    data.write_text(text, encoding="utf-8")
    code, out, err = batch(capsys, engine, data)
    assert (code, out, err) == (
        1,
        "",
        f"error[data]: {data}: no header: the first line must name the columns "
        "(id, input names, item ids, severe)\n",
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("call_completion_rate", "customer_satisfaction_rate",
         "columns 2 and 3 are both 'customer_satisfaction_rate'"),
        ("5.1.2", "明确目标", "columns 17 and 18 are '5.1.1' and '明确目标', both item 5.1.1"),
    ],
)  # fmt: skip
def test_batch_duplicate_columns_are_refused_naming_both(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    plan249: Any,
    engine: str,
    old: str,
    new: str,
    message: str,
) -> None:
    header, rows = csv_rows(plan249, 2)
    header = [new if h == old else h for h in header]
    data = write_csv(tmp_path / "data.csv", header, rows)
    code, out, err = batch(capsys, engine, data)
    assert (code, out, err) == (1, "", f"error[data]: {data}: {message}; keep one\n")


@pytest.mark.parametrize("engine", ["python"])  # the SQL engine evaluates good rows in SQL
def test_an_unexpected_exception_is_that_rows_internal_error(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    plan249: Any,
    engine: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scoredsl.render import batch as render_batch

    real = render_batch.evaluate

    def flaky(plan: Any, assessment: Any, **kw: Any) -> Any:
        if assessment.id == "r2":
            raise KeyError("surprise")
        return real(plan, assessment, **kw)

    monkeypatch.setattr(render_batch, "evaluate", flaky)
    header, rows = csv_rows(plan249, 3)
    data = write_csv(tmp_path / "data.csv", header, rows)
    code, out, _ = batch(capsys, engine, data, "--jobs", "1")
    assert code == 1
    assert [(r["id"], r["total"], r["error"]) for r in output_rows(out)] == [
        ("r1", "1000", ""),
        ("r2", "", "internal: scoredsl failed on this row (KeyError: 'surprise'); this is a bug, "
                   "please report it with the row"),
        ("r3", "1000", ""),
    ]  # fmt: skip


# ---- extends ---------------------------------------------------------------------------------


def check(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, str]:
    code, out, _ = run(capsys, "check", "--format", "json", str(path))
    doc = exactjson.loads(out)
    return code, "; ".join(d["message"] for d in doc["diagnostics"] if d["severity"] == "error")


def scheme(folder: Path, name: str, extends: str) -> Path:
    path = folder / name
    path.write_text(f'scheme {path.stem} "{path.stem}" extends "{extends}" {{\n}}\n', "utf-8")
    return path


OUTSIDE = (
    "is outside the scheme's folder and the folders of SCOREDSL_PATH: extends may only "
    "name files in {folder} (or below it) or in SCOREDSL_PATH"
)


@pytest.mark.parametrize("target", ["../../etc/passwd", "/proc/self/environ", "../nope.score"])
def test_extends_outside_the_scheme_folder_is_refused_by_its_rule(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    target: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SCOREDSL_PATH", raising=False)
    path = scheme(tmp_path, "a.score", target)
    message = f"'{target}' " + OUTSIDE.format(folder=tmp_path)
    assert check(capsys, path) == (1, message)  # the same whether the file exists or not


def test_extends_through_a_symlink_loop_is_a_diagnostic(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "x.score").symlink_to(tmp_path / "y.score")
    (tmp_path / "y.score").symlink_to(tmp_path / "x.score")
    path = scheme(tmp_path, "a.score", "x.score")
    assert check(capsys, path) == (1, "'x.score' is a loop of symbolic links")


def test_an_extends_cycle_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    a = scheme(tmp_path, "a.score", "b.score")
    scheme(tmp_path, "b.score", "a.score")
    assert check(capsys, a) == (1, "extends cycle: a.score -> b.score -> a.score")
    assert check(capsys, scheme(tmp_path, "c.score", "c.score")) == (
        1,
        "extends cycle: c.score -> c.score",
    )


def test_extends_finds_a_base_on_scoredsl_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = tmp_path / "mine"
    child.mkdir()
    (child / "promo.score").write_bytes((STANDARDS / "cace-promotion.score").read_bytes())
    code, message = check(capsys, child / "promo.score")
    assert (code, message.split(" (looked")[0]) == (1, "cannot find 't-ccsa-249-2019.score'")
    monkeypatch.setenv("SCOREDSL_PATH", str(STANDARDS))
    assert check(capsys, child / "promo.score") == (0, "")


# ---- property: random batches with hostile rows mixed in -------------------------------------


@st.composite
def hostile_rows(draw: st.DrawFn, plan: Any) -> tuple[str, Any]:
    """("good", assessment) or a bad row: ("cell", assessment, column, cell), ("utf8", a),
    ("huge", a); or ("blank", None), a line that is no row."""
    kind = draw(st.sampled_from(["good", "good", "good", "cell", "utf8", "huge", "blank"]))
    if kind == "blank":
        return ("blank", None)
    assessment = draw(plan_assessments(plan))
    if kind != "cell":
        return (kind, assessment)
    section = draw(st.sampled_from(["inputs", "scores"]))
    column = draw(st.sampled_from(sorted(assessment[section])))
    cell = draw(BAD_NUMBER_CELLS.filter(lambda c: section == "scores" or c != "-1"))
    return ("cell", assessment, section, column, cell)


def _csv_line(ident: str, header: list[str], row: tuple[Any, ...]) -> bytes:
    assessment = row[1]
    values = {**assessment["inputs"], **assessment["scores"]}
    if row[0] == "cell":
        values[row[3]] = row[4]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([ident, *(values[h] for h in header[1:])])
    line = buffer.getvalue().encode()
    if row[0] == "utf8":
        line = line.replace(ident.encode(), ident.encode() + b"\xff", 1)
    elif row[0] == "huge":
        line = line.replace(ident.encode(), b"x" * (CELL_CHARS + 1), 1)
    return line


@pytest.mark.parametrize("engine", ENGINES)
@given(case=st.data())
def test_random_batches_keep_every_good_row_and_fail_every_bad_one(
    engine: str, case: st.DataObject, plan249: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    rows = case.draw(st.lists(hostile_rows(plan249), min_size=1, max_size=12))
    sample = full_marks(plan249)
    header = ["id", *sample["inputs"], *sample["scores"]]
    lines = [",".join(header).encode()]
    lines += [b"" if r[0] == "blank" else _csv_line(f"r{k}", header, r) for k, r in enumerate(rows)]
    folder = tmp_path_factory.mktemp("batch")
    data, target, plan = folder / "data.csv", folder / "out.csv", folder / "plan.json"
    data.write_bytes(b"\n".join(lines) + b"\n")
    plan.write_text(plan249.to_json(), encoding="utf-8")  # read faster than the .score
    engine_args = ["--engine", engine]
    argv = ["eval", str(plan), str(data), "-o", str(target), "--quiet", *engine_args]
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(argv)
    expected = [(k, r) for k, r in enumerate(rows) if r[0] != "blank"]
    written = output_rows(target.read_text(encoding="utf-8"))
    assert (code, err.getvalue()) == (int(any(r[0] != "good" for _, r in expected)), "")
    assert len(written) == len(expected)
    for (k, row), out in zip(expected, written, strict=True):
        if row[0] != "good":
            assert out["error"] and out["total"] == ""
            continue
        single = evaluate(plan249, read_assessment(plan249, row[1]))
        assert {key: out[key] for key in ("id", "eligible", "total", "level", "error")} | {
            t.id: out[t.id] for t in plan249.top_items
        } == {
            "id": f"r{k}",
            "eligible": "true" if single.eligible else "false",
            "total": number(single.total),
            "level": single.level or "",
            "error": "",
            **{t.id: number(single.scores[t.id]) for t in plan249.top_items},
        }


@pytest.mark.parametrize(("text", "message"), [
    ("inputs: &a [*a]\n", ":1:9: a value contains itself (an alias inside its own anchor)"),
    ("inputs: &a {x: *a}\n", ":1:9: a value contains itself (an alias inside its own anchor)"),
    ("scores: {5.1.1: !!int abc}\n",
     ": invalid YAML: a value cannot be read (invalid literal for int() with base 10: 'abc')"),
])  # fmt: skip
def test_yaml_values_that_cannot_be_built_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, err = single(capsys, path)
    assert (code, err) == (1, f"error[data]: {path}{message}\n")


def test_a_yaml_date_is_read_as_text(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any
) -> None:
    path = data_file(tmp_path, plan249, "a.yaml", "scores.5.1.1", "2001-13-01")
    code, _, err = single(capsys, path)
    assert (code, err) == (1, data_error(path, f"{SCORE} must be a number, not '2001-13-01'"))


def test_findings_given_by_id_and_by_label_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, plan249: Any
) -> None:
    doc = full_marks(plan249)
    del doc["scores"]["5.4.3.2"]
    doc["findings"] = {
        "5.4.3.2": {"samples": 20, "problems": 3},
        "设备设施管理": {"samples": 20, "problems": 0},
    }
    path = tmp_path / "a.json"
    path.write_text(exactjson.dumps(doc), encoding="utf-8")
    code, _, err = single(capsys, path)
    assert (code, err) == (
        1,
        data_error(path, "findings: 5.4.3.2 (设备设施管理) is given twice (by id and by label): "
                         "give one"),
    )  # fmt: skip
