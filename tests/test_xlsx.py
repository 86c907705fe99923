"""Excel round trip: template -> filled by openpyxl as an assessor would -> evaluated."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from scoredsl.batch import read_single
from scoredsl.cli import main
from scoredsl.loader import compile_path
from scoredsl.xlsx import cell_number
from tests.conftest import SCHEME_249, STANDARDS

EXAMPLE = STANDARDS / "examples" / "t-ccsa-249-2019.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _example() -> dict[str, Any]:
    return dict(read_single(EXAMPLE))


def _cell(value: Any) -> Any:
    """What Excel stores when an assessor types the YAML value: 96.5% is the double 0.965."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str) and value.endswith("%"):
        return float(Decimal(value[:-1]) / 100)
    return float(value) if isinstance(value, Decimal) else value


def _template(capsys: pytest.CaptureFixture[str], tmp_path: Path, *extra: str) -> Path:
    path = tmp_path / "t.xlsx"
    code, _, err = run(
        capsys, "template", str(SCHEME_249), "--format", "xlsx", *extra, "-o", str(path)
    )
    assert code == 0 and err.startswith(f"wrote {path} (t-ccsa-249-2019, hash ")
    return path


def _fill_single(path: Path, data: dict[str, Any]) -> None:
    book = load_workbook(path)
    sheet = book["评分"]
    values = {**data["inputs"], **data["scores"]}
    for row in range(4, sheet.max_row + 1):
        kind, key = sheet[f"A{row}"].value, sheet[f"B{row}"].value
        if kind in ("输入", "评分项") and key in values:
            sheet[f"G{row}"] = _cell(values[key])
        if kind == "评分项" and key in data.get("findings", {}):
            sheet[f"H{row}"] = data["findings"][key]["samples"]
            sheet[f"I{row}"] = data["findings"][key]["problems"]
        if kind == "严重问题" and key in data.get("severe", []):
            sheet[f"G{row}"] = "是"
    book.save(path)


def _expected_json(capsys: pytest.CaptureFixture[str]) -> Any:
    code, out, _ = run(capsys, "eval", str(SCHEME_249), str(EXAMPLE), "--format", "json")
    assert code == 0
    return json.loads(out)


def test_single_workbook_round_trip_equals_the_yaml_example(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _template(capsys, tmp_path)
    _fill_single(path, _example())
    code, out, err = run(capsys, "eval", str(SCHEME_249), str(path), "--format", "json")
    assert (code, err) == (0, "")
    assert json.loads(out) == _expected_json(capsys)


@pytest.mark.parametrize(
    "example", sorted((STANDARDS / "examples").glob("*.yaml")), ids=lambda p: p.stem
)
def test_every_shipped_example_survives_the_workbook_round_trip(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, example: Path
) -> None:
    scheme = next(p for p in STANDARDS.glob("*.score") if example.stem.startswith(p.stem))
    plan, _ = compile_path(scheme)
    assert plan is not None
    data = dict(read_single(example))
    by_label = {i.label: i.id for i in plan.items}
    data["scores"] = {
        by_label.get(str(k), str(k)): v for k, v in (data.get("scores") or {}).items()
    }
    data["findings"] = {str(k): v for k, v in (data.get("findings") or {}).items()}
    data["inputs"] = data.get("inputs") or {}
    path = tmp_path / "t.xlsx"
    assert run(capsys, "template", str(scheme), "--format", "xlsx", "-o", str(path))[0] == 0
    _fill_single(path, data)
    code, out, err = run(capsys, "eval", str(scheme), str(path), "--format", "json")
    assert (code, err) == (0, "")
    _, expected, _ = run(capsys, "eval", str(scheme), str(example), "--format", "json")
    assert json.loads(out) == json.loads(expected)


def test_single_template_locks_labels_and_validates_value_cells(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _template(capsys, tmp_path)
    book = load_workbook(path)
    assert book.sheetnames == ["评分", "说明", "scoredsl"]
    sheet = book["评分"]
    assert sheet.protection.sheet and not sheet.protection.password
    assert [sheet.cell(3, c).value for c in range(1, 10)] == [
        "类别", "编号", "条款", "名称", "类型", "满分/范围", "值", "抽样数", "问题数",
    ]  # fmt: skip
    assert [c.value for c in sheet[4]][:6] == [
        "输入", "customer_satisfaction_rate", "5.6.2.2", "顾客满意率", "百分比", "0% <= x <= 100%",
    ]  # fmt: skip
    assert sheet["D4"].protection.locked and not sheet["G4"].protection.locked
    assert sheet["G4"].number_format == "0.00%"
    rules = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    percent = next(dv for ref, dv in rules.items() if "G4" in ref.split())
    assert (percent.type, percent.formula1, percent.formula2) == ("decimal", "0", "1")
    row = next(r for r in range(4, sheet.max_row + 1) if sheet[f"B{r}"].value == "5.1.1")
    assert [sheet[f"{c}{row}"].value for c in "ABDEF"] == [
        "评分项",
        "5.1.1",
        "明确目标",
        "得分",
        "20",
    ]
    score = next(dv for ref, dv in rules.items() if f"G{row}" in ref.split())
    assert (score.type, score.formula1, score.formula2) == ("decimal", "0", "20")
    yes_no = next(dv for ref, dv in rules.items() if "G13" in ref.split())
    assert (yes_no.type, yes_no.formula1) == ("list", '"是,否"')
    meta = book["scoredsl"]
    assert meta.sheet_state == "hidden"
    assert meta["B1"].value == "t-ccsa-249-2019" and meta["B3"].value == "single"
    assert book["说明"]["A1"].value == "如何填写本工作簿"


def test_every_problem_names_its_sheet_and_cell(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _template(capsys, tmp_path)
    data = _example()
    data["inputs"]["customer_satisfaction_rate"] = "abc"  # G4
    data["inputs"]["info_security_incident"] = "maybe"  # G12
    del data["inputs"]["call_completion_rate"]  # G5 left empty
    data["scores"]["5.1.1"] = 25  # worth 20
    _fill_single(path, data)
    book = load_workbook(path)
    sheet = book["评分"]
    row = next(r for r in range(4, sheet.max_row + 1) if sheet[f"B{r}"].value == "5.4.3.2")
    sheet[f"I{row}"] = 30  # more problems than the 20 samples
    book.save(path)
    code, out, err = run(capsys, "eval", str(SCHEME_249), str(path))
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"error[data]: {path}: 评分!G4: input 'customer_satisfaction_rate' (顾客满意率) "
        "must be a percentage like \"96.5%\", not 'abc'",
        f"error[data]: {path}: 评分!G12: input 'info_security_incident' (近一年内发生信息安全事件) "
        "must be true or false, not 'maybe'",
        f"error[data]: {path}: 评分!G19: 5.1.1 (明确目标) is given 25 but is worth 0 to 20",
        f"error[data]: {path}: 评分!G5: missing input 'call_completion_rate' (顾客接通率)",
        f"error[data]: {path}: 评分!H{row}: findings: 5.4.3.2 (设备设施管理): "
        "30 problems is more than the 20 samples",
        f"5 error(s) in {path}",
    ]


def test_odd_cell_values_are_named_not_crashed_on(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _template(capsys, tmp_path)
    _fill_single(path, _example())
    book = load_workbook(path)
    sheet = book["评分"]
    sheet["G4"] = datetime.datetime(2020, 1, 1)  # a date typed into a percent cell
    sheet["G6"] = 1e308  # beyond the 15 digits Excel keeps
    sheet["G12"] = 1  # a yes/no input given 1: read as yes
    sheet["G19"] = True  # a score given TRUE
    book.save(path)
    code, _, err = run(capsys, "eval", str(SCHEME_249), str(path))
    assert code == 1
    assert err.splitlines() == [
        f"error[data]: {path}: 评分!G4: input 'customer_satisfaction_rate' (顾客满意率) must be "
        "a percentage like 96.5%, not '2020-01-01 00:00:00'",
        f"error[data]: {path}: 评分!G6: input 'complaint_rate' (顾客投诉率) must be a percentage "
        "like 96.5%, not '1e+308'",
        f"error[data]: {path}: 评分!G19: 5.1.1 (明确目标) must be a number, not 'True'",
        f"3 error(s) in {path}",
    ]


def test_a_workbook_for_another_plan_hash_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _template(capsys, tmp_path)
    book = load_workbook(path)
    book["scoredsl"]["B2"] = "0" * 64
    book.save(path)
    _, plan_out, _ = run(capsys, "compile", str(SCHEME_249))
    plan_hash = json.loads(plan_out)["hash"]
    code, out, err = run(capsys, "eval", str(SCHEME_249), str(path))
    assert code == 1 and out == ""
    assert err == (
        f"error[data]: {path}: this workbook was made for plan hash {'0' * 64}, but the "
        f"scheme's plan hash is {plan_hash}; the scheme changed: make a new template with "
        "scoredsl template SCHEME --format xlsx -o FILE and copy the values over\n"
    )


def test_a_workbook_that_is_not_a_template_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"not a zip")
    code, _, err = run(capsys, "eval", str(SCHEME_249), str(path))
    assert (code, err) == (
        1,
        f"error[data]: {path}: not a readable Excel workbook (.xlsx)\n",
    )


def _fill_batch(path: Path, rows: list[dict[str, Any]]) -> None:
    book = load_workbook(path)
    sheet = book["批量评分"]
    names = [c.value for c in sheet[1]]
    for number, data in enumerate(rows, 3):
        values: dict[str, Any] = {"id": data.get("id"), **data["inputs"], **data["scores"]}
        for key, finding in data.get("findings", {}).items():
            values[f"{key}.samples"] = finding["samples"]
            values[f"{key}.problems"] = finding["problems"]
        values["severe"] = ";".join(data.get("severe", [])) or None
        for col, name in enumerate(names, 1):
            if values.get(name) is not None:
                sheet.cell(number, col, _cell(values[name]))
    book.save(path)


def test_batch_workbook_round_trip_equals_the_yaml_example(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _template(capsys, tmp_path, "--batch")
    good = {**_example(), "id": "centre-1"}
    bad = _example()
    bad["id"] = "centre-2"
    bad["scores"] = {**bad["scores"], "5.1.2": 99}
    _fill_batch(path, [good, bad, {**_example(), "id": "centre-3"}])
    code, out, err = run(capsys, "eval", str(SCHEME_249), str(path), "--format", "jsonl", "--quiet")
    first, second, third = (json.loads(line) for line in out.splitlines())
    assert code == 1 and err == ""
    assert first == {"id": "centre-1", **_expected_json(capsys)}
    assert second == {
        "id": "centre-2",
        "error": "批量评分!S4: 5.1.2 (配置资源) is given 99 but is worth 0 to 20",
    }
    assert third["id"] == "centre-3" and third["total"] == first["total"]
    code, out, _ = run(capsys, "eval", str(SCHEME_249), str(path), "--quiet")
    assert (
        out.splitlines()[0] == "id,eligible,total,level,level_label,error,5.1,5.2,5.3,5.4,5.5,5.6"
    )
    assert out.splitlines()[1].startswith(f"centre-1,true,{first['total']},four_star,四星级,,")


def test_batch_template_has_the_csv_layout_with_labels(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _template(capsys, tmp_path, "--batch")
    code, header, _ = run(capsys, "template", str(SCHEME_249), "--format", "csv")
    sheet = load_workbook(path)["批量评分"]
    names = [c.value for c in sheet[1]]
    assert code == 0 and names == header.strip().split(",")
    assert names[:3] == ["id", "scheme", "customer_satisfaction_rate"]
    assert names[-3:] == ["5.6.9.samples", "5.6.9.problems", "severe"]
    assert sheet.cell(2, 3).value == "顾客满意率 (百分比)"
    assert sheet.protection.sheet and sheet.cell(1, 3).protection.locked
    column = sheet.column_dimensions["C"]  # data rows take the column's style: unlocked, percent
    assert not column.protection.locked and column.number_format == "0.00%"


def test_csv_template_filled_evaluates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, header, _ = run(capsys, "template", str(SCHEME_249), "--format", "csv")
    names = header.strip().split(",")
    data = _example()
    values: dict[str, Any] = {"id": "c1", "scheme": data["scheme"], **data["inputs"]}
    values |= {k: str(v) for k, v in data["scores"].items()}
    for key, finding in data["findings"].items():
        values[f"{key}.samples"] = finding["samples"]
        values[f"{key}.problems"] = finding["problems"]
    row = [
        {True: "true", False: "false"}[v] if isinstance(v, bool) else str(values.get(n, ""))
        for n, v in ((n, values.get(n, "")) for n in names)
    ]
    path = tmp_path / "filled.csv"
    path.write_text(header + ",".join(row) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "eval", str(SCHEME_249), str(path), "--format", "jsonl", "--quiet")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"id": "c1", **_expected_json(capsys)}


def test_csv_findings_need_both_columns(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, header, _ = run(capsys, "template", str(SCHEME_249), "--format", "csv")
    names = header.strip().split(",")
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    values = {**data["inputs"], **{str(k): v for k, v in data["scores"].items()}}
    values |= {"5.4.3.2.samples": 20, "5.5.1.3.samples": 25, "5.5.1.3.problems": 2}
    row = [
        {True: "true", False: "false"}[v] if isinstance(v, bool) else str(v)
        for v in (values.get(n, "") for n in names)
    ]
    path = tmp_path / "filled.csv"
    path.write_text(header + ",".join(row) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "eval", str(SCHEME_249), str(path), "--quiet")
    assert code == 1
    assert out.splitlines()[1] == (
        "2,,,,,findings: 5.4.3.2 (设备设施管理): samples and problems must be whole numbers of at "
        "least 0,,,,,,"
    )


@given(
    st.decimals(
        min_value=Decimal(0), max_value=Decimal(1), places=6, allow_nan=False, allow_infinity=False
    )
)
def test_a_percent_cell_reads_back_the_decimal_that_was_typed(typed: Decimal) -> None:
    assert cell_number(float(typed)) == typed


@pytest.mark.parametrize(
    ("stored", "read"),
    [(0.965, "0.965"), (0.1, "0.1"), (0.1 + 0.2, "0.3"), (96.5, "96.5"), (20.0, "20"), (3, "3")],
)
def test_cell_numbers_are_exact_decimals(stored: float, read: str) -> None:
    value = cell_number(stored)
    assert isinstance(value, Decimal) and str(value) == read


def test_xlsx_template_needs_an_output_file_and_never_overwrites_the_scheme(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "template", str(SCHEME_249), "--format", "xlsx")
    assert (code, out) == (2, "")
    assert err == "scoredsl: --format xlsx writes a workbook: give -o FILE.xlsx\n"
    scheme = tmp_path / "s.score"
    scheme.write_text(SCHEME_249.read_text(encoding="utf-8"), encoding="utf-8")
    code, _, err = run(capsys, "template", str(scheme), "--format", "xlsx", "-o", str(scheme))
    assert (code, err) == (
        2,
        f"scoredsl: -o {scheme} is the input file {scheme}: refusing to write over it; "
        "choose another output file\n",
    )
    assert scheme.read_text(encoding="utf-8") == SCHEME_249.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir()] == ["s.score"]  # no partial file left


def test_csv_template_is_the_batch_header(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_file = tmp_path / "h.csv"
    code, out, _ = run(capsys, "template", str(SCHEME_249), "--format", "csv", "-o", str(out_file))
    header = out_file.read_text(encoding="utf-8")
    assert (code, out) == (0, "")
    names = header.strip().split(",")
    assert len(names) == 2 + 15 + 52 + 2 * 52 + 1
    assert names.index("5.1.1") == 17 and names.index("5.1.1.samples") == 69
