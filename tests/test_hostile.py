"""Hostile and broken input (issue 13): every case ends with a clear message naming the file,
row or key, exit 1 (bad data or scheme), 2 (usage or I/O) or 130 (Ctrl-C), no traceback,
and nothing lost: no good row of a batch, no input file, no half-written output.

Batch cases run for every engine in `ENGINES` (an engine added later joins by name).
"""

from __future__ import annotations

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

from scoredsl.cli import main
from tests.conftest import ROOT, SCHEME_249, full_marks

ENGINES = ["python"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def batch(
    capsys: pytest.CaptureFixture[str], engine: str, data: Path, *more: str
) -> tuple[int, str, str]:
    """A batch run on `engine` (the python engine is the one without an --engine option)."""
    engine_args = () if engine == "python" else ("--engine", engine)
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


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_during_a_batch_stops_with_one_line_and_no_file(
    tmp_path: Path, plan249: Any, jobs: str
) -> None:
    header, rows = csv_rows(plan249, 1)
    data = tmp_path / "data.csv"
    data.write_text(",".join(header) + "\n" + (rows[0] + "\n") * 60_000, encoding="utf-8")
    target = tmp_path / "out.csv"
    process = _process(["eval", str(SCHEME_249), str(data), "-o", str(target), "--jobs", jobs])
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size for p in tmp_path.glob(".out.csv.*")):  # rows are written
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole group gets it
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    lines = err.decode().splitlines()
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
