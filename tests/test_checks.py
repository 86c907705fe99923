"""The checker's diagnostics: one fixture per code, exact text and positions, junk input.

Every `tests/fixtures/bad/<code>.score` triggers exactly one diagnostic code; beside it
`<code>.txt` is the exact output of `scoredsl check tests/fixtures/bad/<code>.score` run
from the repository root (the one absolute path a message may contain is written
`<repo>`). `several_errors.score` holds four mistakes that one run must report together.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scoredsl.cli import main

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "fixtures" / "bad"
DOC = ROOT / "docs" / "diagnostics.md"

# code -> the first diagnostic of its fixture: severity, line, column, end_line, end_column.
FIRST: dict[str, tuple[str, int, int, int, int]] = {
    "syntax": ("error", 19, 3, 19, 4),
    "duplicate-id": ("error", 13, 10, 13, 15),
    "unknown-name": ("error", 21, 15, 21, 28),
    "type-mismatch": ("error", 21, 32, 21, 33),
    "cycle": ("error", 29, 32, 29, 48),
    "points-sum": ("error", 11, 19, 11, 21),
    "total-sum": ("error", 5, 3, 5, 12),
    "band-gap": ("error", 18, 5, 18, 25),
    "band-overlap": ("error", 18, 5, 18, 11),
    "band-exceeds-max": ("error", 18, 23, 18, 25),
    "band-not-monotone": ("warning", 21, 5, 23, 25),
    "level-gap": ("error", 31, 5, 31, 31),
    "level-overlap": ("error", 32, 5, 32, 36),
    "level-unreachable": ("error", 32, 5, 32, 37),
    "weights-sum": ("error", 29, 32, 33, 4),
    "unused-input": ("warning", 10, 9, 10, 20),
    "unused-accept": ("warning", 21, 5, 21, 36),
    "example-failed": ("error", 42, 5, 42, 20),
    "extends": ("error", 3, 8, 3, 20),
    "reading": ("note", 30, 5, 30, 62),
    "level-not-nested": ("warning", 32, 5, 32, 36),
    "outcome-unreachable": ("warning", 32, 5, 32, 32),
    "outcome-gap": ("warning", 31, 5, 31, 33),
    "zero-denominator": ("warning", 13, 65, 13, 70),
    "empty-group": ("error", 11, 9, 11, 13),
    "unknown-group": ("error", 32, 40, 32, 45),
    "unknown-member": ("error", 32, 53, 32, 58),
    "group-too-large": ("error", 33, 36, 33, 233),
    "total-max": ("error", 5, 3, 5, 49),
    "unused-sheet": ("warning", 11, 9, 11, 12),
}

# The first message of each fixture, exactly (the .txt files hold the whole rendering).
MESSAGES = {
    "syntax": "expected a number after '->', found '}'",
    "duplicate-id": "item '5.1.1' is already defined on line 12",
    "unknown-name": "'complaint_rte' is not an input or value of this scheme",
    "type-mismatch": "'complaint_rate' is a percentage but 2 is a plain number",
    "cycle": "service_index depends on itself: service_index -> bonus -> service_index",
    "points-sum": "5.1 is worth 40 but its items add up to 45 (20 + 25)",
    "total-sum": "the scheme's total is 100 but its top-level items add up to "
    "105 (40 + 30 + 20 + 15)",
    "band-gap": "no band of 5.2 covers 85% <= x < 90% (e.g. 87.5%)",
    "band-overlap": "90% falls in two bands of 5.2: '80% <= _ <= 90%' (line 17) and '>= 90%'",
    "band-exceeds-max": "this band awards 35 but 5.2 is worth 30",
    "band-not-monotone": "the points of 5.3 go up and down along 'complaint_rate': 20, 5, 10",
    "level-gap": "no level covers 70 <= total < 75 (e.g. a total of 72.5)",
    "level-overlap": "a total of 92.5 is both 'good' (75 <= total <= 95) and "
    "'excellent' (total >= 90)",
    "level-unreachable": "level 'excellent' needs total >= 120 but totals range from 0 to 100",
    "weights-sum": "weights add up to 110%, not 100% (40% + 40% + 30%)",
    "unused-input": "input 'agent_count' is declared but never used",
    "unused-accept": "nothing here reports 'band-gap': this accept acknowledges nothing",
    "example-failed": 'example "优秀的热线" expects total 95 but gets 93',
    "extends": "cannot find 'hotline-base.score' (looked for "
    "<repo>/tests/fixtures/bad/hotline-base.score)",
    "reading": "reading of levels: 原文写合格60~74分、良好75~89分，总分可以是小数；"
    "本方案读作“至少60/75/90分”",
    "level-not-nested": "level 'excellent' does not imply 'good', the level below it: "
    "total = 95, answer_rate = 42.5% meets 'excellent' but not 'good' (answer_rate >= 85%)",
    "outcome-unreachable": "outcome 'review' comes after 'passed', which is `else`: "
    "it is never decided",
    "outcome-gap": "no outcome covers 60 <= total < 75 (e.g. a total of 67.5): "
    "the outcome is null there",
    "zero-denominator": "complaints / calls divides by calls, which can be 0, "
    "and does not say what that means",
    "empty-group": "group 'site' has no members",
    "unknown-group": "'sites' is not a group of this scheme",
    "unknown-member": "'nigth' is not a member of group 'site' (its members are day, night)",
    "group-too-large": "this sum over 'site' would expand to 262,142 terms (and the ones before "
    "it to 2), more than the 10,000 a scheme's quantifiers may expand to",
    "total-max": "the total is declared 100 but its formula 'quality_score + satisfaction_score' "
    "reaches at most 110",
    "unused-sheet": "sheet D_2 is not part of the total and nothing reads it",
}

FIXTURES = sorted(p.stem for p in BAD.glob("*.score"))


def stem(code: str) -> str:
    return code.replace("-", "_")


def relative(name: str) -> str:
    return f"tests/fixtures/bad/{name}.score"


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["check", *argv])
    out, _ = capsys.readouterr()
    return code, out.replace(str(ROOT), "<repo>")


def check_json(capsys: pytest.CaptureFixture[str], path: str | Path) -> tuple[int, dict[str, Any]]:
    code, out = check(capsys, "--format", "json", str(path))
    return code, json.loads(out)


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths in the output are as given on the command line: run from the repo root."""
    monkeypatch.chdir(ROOT)


# ---- one fixture per code -------------------------------------------------------------


def test_every_code_has_a_fixture_and_a_table_row() -> None:
    assert sorted(FIRST) == sorted(MESSAGES)
    assert sorted(FIXTURES) == sorted([*map(stem, FIRST), "several_errors"])
    for name in FIXTURES:
        assert (BAD / f"{name}.txt").is_file(), name


@pytest.mark.usefixtures("at_root")
@pytest.mark.parametrize("name", FIXTURES)
def test_rendered_text_is_exact(capsys: pytest.CaptureFixture[str], name: str) -> None:
    _, out = check(capsys, relative(name))
    assert out == (BAD / f"{name}.txt").read_text(encoding="utf-8")


@pytest.mark.usefixtures("at_root")
@pytest.mark.parametrize("code", sorted(FIRST))
def test_first_diagnostic_as_json(capsys: pytest.CaptureFixture[str], code: str) -> None:
    exit_code, doc = check_json(capsys, relative(stem(code)))
    first = doc["diagnostics"][0]
    severity, line, column, end_line, end_column = FIRST[code]
    assert (
        first["code"],
        first["severity"],
        first["line"],
        first["column"],
        first["end_line"],
        first["end_column"],
    ) == (code, severity, line, column, end_line, end_column)
    assert first["message"].replace(str(ROOT), "<repo>") == MESSAGES[code]
    assert first["file"] == relative(stem(code))
    assert first["acknowledged"] is False
    # each fixture triggers exactly its own code and nothing else
    assert [d["code"] for d in doc["diagnostics"]] == [code]
    errors = 1 if severity == "error" else 0
    warnings = 1 if severity == "warning" else 0  # a reading is a note: counted as neither
    assert (doc["errors"], doc["warnings"]) == (errors, warnings)
    assert exit_code == errors


@pytest.mark.usefixtures("at_root")
def test_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    _, doc = check_json(capsys, relative("band_gap"))
    assert set(doc) == {"diagnostics", "errors", "warnings"}
    assert doc["diagnostics"] == [
        {
            "code": "band-gap",
            "severity": "error",
            "message": "no band of 5.2 covers 85% <= x < 90% (e.g. 87.5%)",
            "file": "tests/fixtures/bad/band_gap.score",
            "line": 18,
            "column": 5,
            "end_line": 18,
            "end_column": 25,
            "hints": ["'answer_rate' can be anything in 0% <= x <= 100%"],
            "acknowledged": False,
        }
    ]


@pytest.mark.usefixtures("at_root")
def test_several_errors_in_one_run(capsys: pytest.CaptureFixture[str]) -> None:
    exit_code, doc = check_json(capsys, relative("several_errors"))
    found = [(d["code"], d["line"], d["column"]) for d in doc["diagnostics"]]
    assert found == [
        ("points-sum", 12, 19),
        ("band-gap", 19, 5),
        ("unknown-name", 22, 15),
        ("level-gap", 33, 5),
    ]
    assert (doc["errors"], doc["warnings"], exit_code) == (4, 0, 1)


@pytest.mark.usefixtures("at_root")
def test_all_fixtures_in_one_run(capsys: pytest.CaptureFixture[str]) -> None:
    """A directory: every file is checked, one file's errors never hide another's."""
    exit_code, doc = check_json(capsys, "tests/fixtures/bad")
    codes = {d["code"] for d in doc["diagnostics"]}
    assert codes == set(FIRST)
    assert (doc["errors"], doc["warnings"], exit_code) == (
        25,
        8,
        1,
    )  # total-max, unused-sheet: an error, a warning; outcome and zero-denominator warnings; the
    # four group codes: errors


def test_an_accepted_diagnostic_is_a_note(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = (BAD / "weights_sum.score").read_text(encoding="utf-8")
    text = text.replace(
        "    item 5.3 30%\n  }\n",
        '    item 5.3 30%\n  } {\n    accept weights-sum "原文权重之和为110%，按原文编码"\n  }\n',
    )
    path = tmp_path / "accepted.score"
    path.write_text(text, encoding="utf-8")
    exit_code, doc = check_json(capsys, path)
    [d] = doc["diagnostics"]
    assert (d["code"], d["severity"], d["acknowledged"], d["line"]) == (
        "weights-sum",
        "note",
        True,
        29,
    )
    assert d["hints"][-1] == "acknowledged: 原文权重之和为110%，按原文编码"
    assert (doc["errors"], doc["warnings"], exit_code) == (0, 0, 0)


# ---- the fixture set and the docs follow the checker's source ----------------------------


def codes_in_source() -> set[str]:
    """Every code passed to error(...) / warning(...) / note(...) in scoredsl/."""
    pattern = re.compile(r"\b(?:error|warning|note)\(\s*\"([a-z]+(?:-[a-z]+)*)\"")
    found: set[str] = set()
    for path in (ROOT / "scoredsl").rglob("*.py"):
        found.update(pattern.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_code_in_the_source_has_a_fixture() -> None:
    codes = codes_in_source()
    assert len(codes) >= 19
    missing = sorted(c for c in codes if not (BAD / f"{stem(c)}.score").is_file())
    assert missing == []
    assert codes == set(FIRST)


def test_every_code_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    headings = set(re.findall(r"^## `([a-z-]+)`", doc, re.MULTILINE))
    assert headings == codes_in_source()


def test_the_docs_quote_the_exact_messages() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for name in FIXTURES:
        rendered = (BAD / f"{name}.txt").read_text(encoding="utf-8")
        first = rendered.split("\n\n")[0]
        assert first in doc, name


# ---- junk input: diagnostics, never a traceback ------------------------------------------


def first_of(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[str, int, int]:
    """(code, line, column) of the first diagnostic; the CLI must exit 1 in both formats."""
    exit_code, doc = check_json(capsys, path)
    assert exit_code == 1
    assert main(["check", str(path)]) == 1
    out, _ = capsys.readouterr()
    assert "error[" in out
    d = doc["diagnostics"][0]
    return d["code"], d["line"], d["column"]


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "junk.score"
    path.write_bytes(data)
    return path


def fixture_text(name: str) -> str:
    return (BAD / f"{name}.score").read_text(encoding="utf-8")


def test_binary_junk(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # a PNG header and bytes that are not UTF-8: read as U+FFFD, reported at the first one
    path = write(tmp_path, b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x01\xc3(")
    assert first_of(capsys, path) == ("syntax", 1, 1)


def test_binary_junk_in_a_subprocess(tmp_path: Path) -> None:
    """The real console entry: exit 1 and no traceback."""
    path = write(tmp_path, bytes(range(256)) * 4)
    done = subprocess.run(
        [sys.executable, "-m", "scoredsl", "check", str(path)],
        capture_output=True,
        check=False,
    )
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    assert done.stdout.startswith(b"error[syntax]: ")


def test_empty_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, b"")
    assert first_of(capsys, path) == ("syntax", 1, 1)
    _, doc = check_json(capsys, path)
    assert doc["diagnostics"][0]["message"] == "the file ends too early: expected 'scheme'"


def test_half_written_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = fixture_text("points_sum")
    cut = text.index("80% <= _ <") + len("80% <= _ <")  # truncated in the middle of a band
    path = write(tmp_path, text[:cut].encode("utf-8"))
    assert first_of(capsys, path) == ("syntax", 17, 15)
    _, doc = check_json(capsys, path)
    assert doc["diagnostics"][0]["message"] == (
        "the file ends too early: expected a number or a percentage like 90%"
    )


def test_ten_megabytes_of_junk(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, random.Random(7).randbytes(10_000_000))
    assert first_of(capsys, path) == ("syntax", 1, 2)
    _, doc = check_json(capsys, path)
    assert (
        doc["diagnostics"][0]["message"] == "this file is not UTF-8 text: byte 0xb4 cannot be read"
    )


def test_ten_megabyte_scheme(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """10 MB of commentary, then a mistake at the very end: found at the right line."""
    line = "# 客服中心应建立并执行服务规范，保留记录备查。Records are kept for the assessor.\n"
    count = 10_000_000 // len(line.encode("utf-8")) + 1
    text = (
        'scheme big "大型方案" {\n  total 100\n'
        + line * count
        + '  item 5.1 "服务管理" 100 {\n'
        + '    item 5.1.1 "服务制度" 60\n'
        + '    item 5.1.2 "人员培训" 50\n'
        + "  }\n}\n"
    )
    data = text.encode("utf-8")
    assert len(data) >= 10_000_000
    path = write(tmp_path, data)
    assert first_of(capsys, path) == ("points-sum", count + 3, 19)


def nested_items(depth: int) -> str:
    """`depth` items, each inside the one before; the innermost is worth 2, not 1."""
    opening = "".join(
        f'{"  " * (k + 1)}item d{k} "第{k}层" {2 if k == depth - 1 else 1}'
        + (" {\n" if k < depth - 1 else "\n")
        for k in range(depth)
    )
    closing = "".join(f"{'  ' * (k + 1)}}}\n" for k in reversed(range(depth - 1)))
    return 'scheme deep "深层嵌套" {\n  total 1\n' + opening + closing + "}\n"


def test_nested_items_shallow(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The shape of the deep test below at a depth that works today."""
    path = write(tmp_path, nested_items(50).encode("utf-8"))
    # d48 (line 51) holds d49 worth 2: the points of d48 are at column 2 * 49 + 17
    assert first_of(capsys, path) == ("points-sum", 51, 2 * 49 + 17)


def test_thousand_nested_items(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, nested_items(1000).encode("utf-8"))
    assert first_of(capsys, path) == ("points-sum", 1001, 2 * 999 + 19)


def test_thousand_redundant_parentheses(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    expr = "(" * 1000 + "rate" + ")" * 1000  # no input called rate
    text = f'scheme parens "深层括号" {{\n  total 10\n  item a "条目" 10 = {expr}\n}}\n'
    path = write(tmp_path, text.encode("utf-8"))
    assert first_of(capsys, path) == ("unknown-name", 3, 20 + 1000)


def test_thousand_deep_expression(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    expr = "rate"  # no input called rate
    for _ in range(1000):
        expr = f"(1% + {expr})"
    text = f'scheme parens "深层括号" {{\n  total 10\n  item a "条目" 10 = {expr}\n}}\n'
    path = write(tmp_path, text.encode("utf-8"))
    assert first_of(capsys, path) == ("unknown-name", 3, 20 + 1000 * len("(1% + "))


def test_utf16_with_bom(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, fixture_text("points_sum").encode("utf-16"))
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert first_of(capsys, path) == ("points-sum", 11, 19)  # read as UTF-16


def test_utf8_bom_does_not_shift_columns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf" + fixture_text("points_sum").encode("utf-8"))
    assert first_of(capsys, path) == ("points-sum", 11, 19)


def test_crlf_line_ends_do_not_shift_columns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, fixture_text("points_sum").replace("\n", "\r\n").encode("utf-8"))
    assert first_of(capsys, path) == ("points-sum", 11, 19)


def test_nesting_beyond_what_can_be_read_is_a_diagnostic(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, nested_items(2_000).encode("utf-8"))
    exit_code, doc = check_json(capsys, path)
    assert exit_code == 1
    assert [(d["code"], d["message"], d["line"], d["column"]) for d in doc["diagnostics"]] == [
        ("syntax", "this file nests too deeply to read", 2002, 4006)
    ]
    assert doc["diagnostics"][0]["hints"] == ["items and formulas may nest about 1500 levels deep"]


def test_control_characters_and_long_lines_are_shown_safely(tmp_path: Path) -> None:
    from scoredsl.diagnostics import render_text
    from scoredsl.loader import load

    text = 'scheme s "t" {\n  total 1\n  item a "A\x07" 1 = ' + "1 + " * 200 + "nope\n}\n"
    path = write(tmp_path, text.encode("utf-8"))
    (d,) = [d for d in load(path).diagnostics if d.code == "unknown-name"]
    shown = render_text(d).splitlines()
    source_line = shown[3]
    assert "\x07" not in source_line and source_line.startswith("3 | …")
    assert source_line.endswith("1 + nope")
    caret = shown[4]
    assert caret.index("^") == source_line.index("nope") and caret.count("^") == 4


def test_a_long_sum_is_shortened_in_the_message(tmp_path: Path) -> None:
    from scoredsl.loader import load

    items = "".join(f'    item 1.{k} "x" 1\n' for k in range(1, 31))
    text = f'scheme s "t" {{\n  total 31\n  item 1 "A" 31 {{\n{items}  }}\n}}\n'
    (d,) = [d for d in load(write(tmp_path, text.encode())).diagnostics if d.code == "points-sum"]
    assert d.message == (
        "1 is worth 31 but its items add up to 30 ("
        + " + ".join(["1"] * 18)
        + " + … + 1 + 1 (30 terms))"
    )
