"""Excel workbooks: `Plan` -> a template to fill in; a filled workbook -> raw assessments.

Two forms, both with a hidden sheet `scoredsl` holding the scheme id, the plan hash and
the form:

- single: one sheet (评分 / Scores) with one row per input, per judged item and per item
  the severe rule can mark; id, clause, label, type and maximum are locked (sheet
  protection without a password), the value cells are unlocked and validated;
- batch: one row per assessment, one column per name of the CSV batch layout
  (`scoredsl.batch.csv_columns`), labels in the second row.

Reading checks every cell (type, range) itself and names it (`评分!G12`); the data
problems `scoredsl.data.read_assessment` finds in what is left are mapped back to the
cell of their input or item. The raw mapping is what a YAML file would give, so the
evaluation is the same.

Numbers: an Excel cell holds a binary double (96.5% is stored as 0.965) and Excel keeps 15
significant digits. A number cell is read as the shortest decimal that gives the same
double (`repr`), rounded to 15 significant digits: 0.965 -> Decimal("0.965"),
0.1 + 0.2 -> Decimal("0.3"). No float reaches the evaluator.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from decimal import Context, Decimal
from pathlib import Path
from typing import Any, Literal

import attrs
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from scoredsl.batch import PROBLEMS, SAMPLES, ReadError, Row, csv_columns
from scoredsl.data import DataError, DataProblem, coerce_input, read_assessment
from scoredsl.exactjson import number
from scoredsl.numbers import read_decimal
from scoredsl.plan import Input, Item, Plan

META = "scoredsl"  # the hidden sheet
BATCH_ROWS = 1000  # rows of the batch form that carry data validation
PERCENT_FORMAT = "0.00%"

WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "sheet": "评分",
        "batch_sheet": "批量评分",
        "instructions": "说明",
        "kind": "类别",
        "id": "编号",
        "clause": "条款",
        "label": "名称",
        "type": "类型",
        "max": "满分/范围",
        "value": "值",
        "samples": "抽样数",
        "problems": "问题数",
        "input": "输入",
        "judged": "评分项",
        "severe": "严重问题",
        "percent": "百分比",
        "bool": "是/否",
        "integer": "整数",
        "number": "数值",
        "seconds": "秒",
        "score": "得分",
        "yes": "是",
        "no": "否",
        "optional": "可选",
        "hint": "只填写白色单元格；灰色单元格已锁定。",
        "assessment_id": "评估编号",
        "scheme_column": "方案",
        "severe_column": "严重问题的项（编号以;分隔）",
    },
    "en": {
        "sheet": "Scores",
        "batch_sheet": "Batch",
        "instructions": "Instructions",
        "kind": "kind",
        "id": "id",
        "clause": "clause",
        "label": "label",
        "type": "type",
        "max": "maximum / range",
        "value": "value",
        "samples": "samples",
        "problems": "problems",
        "input": "input",
        "judged": "judged item",
        "severe": "severe problem",
        "percent": "percent",
        "bool": "yes/no",
        "integer": "whole number",
        "number": "number",
        "seconds": "seconds",
        "score": "score",
        "yes": "yes",
        "no": "no",
        "optional": "optional",
        "hint": "Fill in the white cells only; the grey cells are locked.",
        "assessment_id": "assessment id",
        "scheme_column": "scheme",
        "severe_column": "items with a severe problem (ids separated by ;)",
    },
}

INSTRUCTIONS: dict[str, tuple[str, ...]] = {
    "zh": (
        "如何填写本工作簿",
        "1. 在“{sheet}”工作表的“值”列中，"
        "为每个输入填写测得的值，为每个评分项填写得分（0 至满分）。",
        "2. 百分比直接输入，例如 96.5%；是/否 从下拉列表中选择；计数填写整数。",
        "3. 按抽样扣分的评分项：不填得分，改为填写“抽样数”和“问题数”，"
        "得分 = 满分 × (1 − 问题数/抽样数)。",
        "4. 某项存在严重问题时，在“严重问题”行中选择“是”，该项全部分值扣除。",
        "5. 标为“可选”的输入只用于参考指标，可以留空。",
        "6. 保存后运行：scoredsl eval {scheme_file} 本文件.xlsx",
        "本工作簿只适用于方案 {scheme}（计划哈希 {hash}）；方案修改后请重新生成模板。",
    ),
    "en": (
        "How to fill in this workbook",
        "1. On the sheet '{sheet}', in the column 'value', give each input its measured value "
        "and each judged item its score (0 to its maximum).",
        "2. Type percentages as 96.5%; choose yes/no from the list; counts are whole numbers.",
        "3. An item scored by sampling: leave the score empty and give 'samples' and "
        "'problems'; score = maximum x (1 - problems / samples).",
        "4. An item with a severe problem: choose 'yes' on its 'severe problem' row; it loses "
        "all its points.",
        "5. Inputs marked 'optional' feed informational values only and may stay empty.",
        "6. Then run: scoredsl eval {scheme_file} THIS_FILE.xlsx",
        "This workbook is for scheme {scheme} (plan hash {hash}) only; make a new template "
        "when the scheme changes.",
    ),
}

BATCH_INSTRUCTIONS: dict[str, tuple[str, ...]] = {
    "zh": (
        "如何填写本工作簿（批量）",
        "1. 在“{sheet}”工作表中每行填写一次评估，"
        "从第 3 行开始；第 1 行是列名，第 2 行是说明，都已锁定。",
        "2. 百分比直接输入，例如 96.5%；是/否 从下拉列表中选择；计数填写整数。",
        "3. 按抽样扣分的评分项：不填得分，"
        "改为填写 编号.samples（抽样数）和 编号.problems（问题数）。",
        "4. severe 列填写存在严重问题的项的编号，以 ; 分隔。",
        "5. 保存后运行：scoredsl eval {scheme_file} 本文件.xlsx；"
        "有错误的行单独报告，其余行照常评定。",
        "本工作簿只适用于方案 {scheme}（计划哈希 {hash}）；方案修改后请重新生成模板。",
    ),
    "en": (
        "How to fill in this workbook (batch)",
        "1. On the sheet '{sheet}', one assessment per row from row 3; row 1 holds the column "
        "names and row 2 what they mean, both locked.",
        "2. Type percentages as 96.5%; choose yes/no from the list; counts are whole numbers.",
        "3. An item scored by sampling: leave the score empty and give ID.samples and ID.problems.",
        "4. The column severe lists the ids of items with a severe problem, separated by ;.",
        "5. Then run: scoredsl eval {scheme_file} THIS_FILE.xlsx; a bad row is reported on its "
        "own and the other rows are evaluated.",
        "This workbook is for scheme {scheme} (plan hash {hash}) only; make a new template "
        "when the scheme changes.",
    ),
}

Kind = Literal["whole", "decimal", "list"]
Operator = Literal["between", "greaterThanOrEqual", "lessThanOrEqual"] | None

_LOCKED_FILL = PatternFill("solid", fgColor="DDDDDD")
_BOLD = Font(bold=True)
_UNLOCKED = Protection(locked=False)


def scheme_language(plan: Plan) -> str:
    """zh when the scheme's title is written in Chinese, else en."""
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in plan.title) else "en"


# ---- layout of the single form -----------------------------------------------------------

COLUMNS = ("kind", "id", "clause", "label", "type", "max", "value", "samples", "problems")
VALUE, SAMPLES_COL, PROBLEMS_COL = "G", "H", "I"
FIRST_ROW = 4  # title, hint, column headings above


@attrs.frozen
class Line:
    """One row of the single form: an input, a judged item, or an item that can be severe."""

    row: int
    kind: str  # input | judged | severe
    key: str  # input name or item id


def single_layout(plan: Plan) -> tuple[Line, ...]:
    keys = [("input", i.name) for i in plan.inputs]
    keys += [("judged", i.id) for i in plan.items if i.kind == "judged"]
    if plan.severe_depth is not None:
        keys += [("severe", i.id) for i in plan.items if i.depth == plan.severe_depth]
    return tuple(Line(FIRST_ROW + k, kind, key) for k, (kind, key) in enumerate(keys))


# ---- writing ----------------------------------------------------------------------------


def write_template(plan: Plan, path: Path, batch: bool, scheme_file: str) -> None:
    lang = scheme_language(plan)
    words = WORDS[lang]
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    if batch:
        sheet.title = words["batch_sheet"]
        _write_batch(plan, sheet, words)
        lines = BATCH_INSTRUCTIONS[lang]
    else:
        sheet.title = words["sheet"]
        _write_single(plan, sheet, words)
        lines = INSTRUCTIONS[lang]
    _write_instructions(book.create_sheet(words["instructions"]), lines, plan, sheet, scheme_file)
    meta = book.create_sheet(META)
    for row in (
        ("scheme", plan.id),
        ("hash", plan.hash),
        ("form", "batch" if batch else "single"),
        ("sheet", sheet.title),
    ):
        meta.append(row)
    meta.sheet_state = "hidden"
    meta.protection.sheet = True
    book.save(path)


def _write_instructions(
    sheet: Worksheet, lines: tuple[str, ...], plan: Plan, data: Worksheet, scheme_file: str
) -> None:
    for text in lines:
        sheet.append(
            [text.format(sheet=data.title, scheme=plan.id, hash=plan.hash, scheme_file=scheme_file)]
        )
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 120
    sheet.protection.sheet = True


def _type_word(inp: Input, words: Mapping[str, str]) -> str:
    word = words.get(inp.type, inp.type)
    return word if inp.required else f"{word} ({words['optional']})"


def _range_text(inp: Input) -> str:
    return ", ".join(inp.domain_text())


def _write_single(plan: Plan, sheet: Worksheet, words: Mapping[str, str]) -> None:
    sheet["A1"] = f"{plan.title} ({plan.source or plan.id})"
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"] = words["hint"]
    for col, name in enumerate(COLUMNS, 1):
        cell = sheet.cell(FIRST_ROW - 1, col, words[name])
        cell.font = _BOLD
        cell.fill = _LOCKED_FILL
    validations = _Validations(sheet, words)
    inputs = {i.name: i for i in plan.inputs}
    for line in single_layout(plan):
        if line.kind == "input":
            inp = inputs[line.key]
            fixed = [
                words["input"], inp.name, inp.clause or "", inp.label or "",
                _type_word(inp, words), _range_text(inp),
            ]  # fmt: skip
        else:
            item = plan.item(line.key)
            kind_word = words[line.kind]
            type_word = words["score"] if line.kind == "judged" else words["bool"]
            maximum = number(item.max) if line.kind == "judged" else ""
            fixed = [kind_word, item.id, item.id, item.label, type_word, maximum]
        for col, text in enumerate(fixed, 1):
            cell = sheet.cell(line.row, col, text)
            cell.fill = _LOCKED_FILL
        value = sheet[f"{VALUE}{line.row}"]
        value.protection = _UNLOCKED
        if line.kind == "input":
            validations.input(inp, value.coordinate)
            if inp.type == "percent":
                value.number_format = PERCENT_FORMAT
        elif line.kind == "judged":
            validations.score(plan.item(line.key), value.coordinate)
            if plan.findings:
                for letter in (SAMPLES_COL, PROBLEMS_COL):
                    count = sheet[f"{letter}{line.row}"]
                    count.protection = _UNLOCKED
                    validations.count(count.coordinate)
        else:
            validations.yes_no(value.coordinate)
    for letter, width in zip("ABCDEFGHI", (10, 32, 14, 40, 14, 18, 14, 10, 10), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = f"A{FIRST_ROW}"
    sheet.protection.sheet = True


def _batch_label(name: str, plan: Plan, words: Mapping[str, str]) -> str:
    inputs = {i.name: i for i in plan.inputs}
    if name in inputs:
        inp = inputs[name]
        return f"{inp.label or inp.name} ({_type_word(inp, words)})"
    if name == "id":
        return words["assessment_id"]
    if name == "scheme":
        return f"{words['scheme_column']}: {plan.id}"
    if name == "severe":
        return words["severe_column"]
    for suffix, word in ((SAMPLES, "samples"), (PROBLEMS, "problems")):
        if name.endswith(suffix):
            return f"{plan.item(name[: -len(suffix)]).label}: {words[word]}"
    item = plan.item(name)
    return f"{item.label} (0-{number(item.max)})"


def _write_batch(plan: Plan, sheet: Worksheet, words: Mapping[str, str]) -> None:
    columns = csv_columns(plan)
    inputs = {i.name: i for i in plan.inputs}
    validations = _Validations(sheet, words)
    last = 2 + BATCH_ROWS
    for col, name in enumerate(columns, 1):
        letter = get_column_letter(col)
        head = sheet.cell(1, col, name)
        head.font = _BOLD
        label = sheet.cell(2, col, _batch_label(name, plan, words))
        label.alignment = Alignment(wrap_text=True, vertical="top")
        for cell in (head, label):
            cell.fill = _LOCKED_FILL
        dimension = sheet.column_dimensions[letter]
        dimension.width = 16
        dimension.protection = _UNLOCKED
        cells = f"{letter}3:{letter}{last}"
        if name in inputs:
            validations.input(inputs[name], cells)
            if inputs[name].type == "percent":
                dimension.number_format = PERCENT_FORMAT
        elif name.endswith((SAMPLES, PROBLEMS)) and name not in {i.id for i in plan.items}:
            validations.count(cells)
        elif name not in ("id", "scheme", "severe"):
            validations.score(plan.item(name), cells)
    sheet.row_dimensions[2].height = 45
    sheet.freeze_panes = "B3"
    sheet.protection.sheet = True


class _Validations:
    """Data validation rules, one per kind of cell (Excel refuses a value outside them)."""

    def __init__(self, sheet: Worksheet, words: Mapping[str, str]) -> None:
        self.sheet = sheet
        self.words = words
        self.rules: dict[tuple[str, ...], DataValidation] = {}

    def _add(self, cells: str, kind: Kind, operator: Operator, *formulas: str) -> None:
        key = (kind, str(operator), *formulas)
        if key not in self.rules:
            first, second = (*formulas, None, None)[:2]
            rule = DataValidation(
                type=kind, operator=operator, formula1=first, formula2=second, allow_blank=True
            )
            rule.showErrorMessage = True
            self.sheet.add_data_validation(rule)
            self.rules[key] = rule
        self.rules[key].add(cells)

    def yes_no(self, cells: str) -> None:
        self._add(cells, "list", None, f'"{self.words["yes"]},{self.words["no"]}"')

    def count(self, cells: str) -> None:
        self._add(cells, "whole", "greaterThanOrEqual", "0")

    def score(self, item: Item, cells: str) -> None:
        self._add(cells, "decimal", "between", "0", number(item.max))

    def input(self, inp: Input, cells: str) -> None:
        if inp.type == "bool":
            self.yes_no(cells)
            return
        kind: Kind = "whole" if inp.type == "integer" else "decimal"
        low, high = _bounds(inp)
        if low is not None and high is not None:
            self._add(cells, kind, "between", number(low), number(high))
        elif low is not None:
            self._add(cells, kind, "greaterThanOrEqual", number(low))
        elif high is not None:
            self._add(cells, kind, "lessThanOrEqual", number(high))
        elif kind == "whole":
            self._add(cells, kind, "between", "-1000000000000000", "1000000000000000")


def _bounds(inp: Input) -> tuple[Decimal | None, Decimal | None]:
    """The outer ends of the input's domain (percent: 0..1 when none is declared)."""
    if not inp.domain:
        return (Decimal(0), Decimal(1)) if inp.type == "percent" else (None, None)
    lows = [b.low for b in inp.domain]
    highs = [b.high for b in inp.domain]
    low = None if any(x is None for x in lows) else min(x for x in lows if x is not None)
    high = None if any(x is None for x in highs) else max(x for x in highs if x is not None)
    return low, high


# ---- reading ------------------------------------------------------------------------------

_FIFTEEN = Context(prec=15)
_LARGEST = Decimal("1E+15")


def cell_number(value: Any) -> Decimal | None:
    """A cell's number as Excel shows it: 15 significant digits, no binary residue.

    None for what is not a number, and for magnitudes of 10^15 and more (beyond the digits
    Excel keeps, and no score, count or rate of a scheme).
    """
    if not isinstance(value, (float, int, str)):
        return None
    found = read_decimal(value)  # the bounds every data reader keeps; TRUE is not 1
    if found is not None and isinstance(value, float):
        found = _FIFTEEN.plus(found)  # the 15 significant digits Excel keeps
    if found is None or not found.is_finite() or abs(found) >= _LARGEST:
        return None
    if found == found.to_integral_value():
        return found.quantize(Decimal(1))
    return found.normalize() if isinstance(value, float) else found


def _shown(value: Any) -> str:
    return repr(value.strip()) if isinstance(value, str) else repr(str(value))


def open_workbook(plan: Plan, path: Path) -> tuple[Any, str]:
    """The workbook and its form (single | batch); ReadError when it is not for this plan."""
    try:
        book = load_workbook(path, data_only=True)
    except Exception:  # openpyxl raises many kinds (zip, XML, KeyError) for a broken file
        raise ReadError(f"{path}: not a readable Excel workbook (.xlsx)") from None
    if META not in book.sheetnames:
        raise ReadError(
            f"{path}: not a scoredsl template (it has no sheet '{META}'); make one with: "
            f"scoredsl template SCHEME --format xlsx -o FILE"
        )
    meta = {str(r[0]): r[1] for r in book[META].iter_rows(values_only=True) if r and r[0]}
    if meta.get("scheme") != plan.id:
        raise ReadError(
            f"{path}: this workbook is for scheme '{meta.get('scheme')}', not '{plan.id}'"
        )
    if meta.get("hash") != plan.hash:
        raise ReadError(
            f"{path}: this workbook was made for plan hash {meta.get('hash')}, but the scheme's "
            f"plan hash is {plan.hash}; the scheme changed: make a new template with "
            "scoredsl template SCHEME --format xlsx -o FILE and copy the values over"
        )
    form, sheet = meta.get("form"), meta.get("sheet")
    if form not in ("single", "batch") or sheet not in book.sheetnames:
        raise ReadError(f"{path}: the sheet '{META}' was changed (form {form!r}, sheet {sheet!r})")
    return book, str(form)


class _Cells:
    """Problems of one assessment, each at a cell: `评分!G12: ...`."""

    def __init__(self, sheet: str) -> None:
        self.sheet = sheet
        self.problems: list[DataProblem] = []
        self.reported: set[str] = set()  # keys with a problem already
        self.where: dict[str, str] = {}  # input name / item id -> its cell, for mapping

    def add(self, coordinate: str, message: str, where: tuple[str, ...], code: str) -> None:
        self.problems.append(DataProblem(code, where, f"{self.sheet}!{coordinate}: {message}"))
        if len(where) > 1:
            self.reported.add(where[1])

    def locate(self, problem: DataProblem) -> None:
        """A problem from read_assessment, at the cell of the input or item it names."""
        where, text = problem.where, problem.message
        key = where[1] if len(where) > 1 and where[1] in self.where else _named(text, self.where)
        if key is not None and where[:1] == ("findings",) and f"{key}{SAMPLES}" in self.where:
            self.add(self.where[f"{key}{SAMPLES}"], text, where, problem.code)
        elif key is None:
            self.problems.append(DataProblem(problem.code, where, f"{self.sheet}: {text}"))
        elif key not in self.reported:
            self.add(self.where[key], text, where, problem.code)


def _named(text: str, keys: Mapping[str, str]) -> str | None:
    for key in sorted(keys, key=len, reverse=True):
        if re.search(rf"(?<![\w.]){re.escape(key)}(?![\w.])", text):
            return key
    return None


def _input_cell(inp: Input, value: Any, coordinate: str, cells: _Cells) -> Any:
    """The value of an input cell for read_assessment, or None (blank or reported)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    raw: Any = value
    if not isinstance(value, (bool, str)):
        raw = cell_number(value)
        if raw is None:
            what = f"input '{inp.name}'" + (f" ({inp.label})" if inp.label else "")
            want = {"bool": "是 or 否", "percent": "a percentage like 96.5%"}.get(inp.type)
            message = f"{what} must be {want or 'a number'}, not {_shown(value)}"
            cells.add(coordinate, message, ("inputs", inp.name), "bad-value")
            return None
        if inp.type == "bool":
            raw = number(raw)  # 1 and 0 read as the text "1" and "0"
    try:
        return coerce_input(inp, raw)
    except ValueError as exc:
        cells.add(coordinate, str(exc), ("inputs", inp.name), "bad-value")
        return None


def _score_cell(item: Item, value: Any, coordinate: str, cells: _Cells) -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    what = f"{item.id} ({item.label})"
    score = cell_number(value)
    if score is None:
        message = f"{what} must be a number, not {_shown(value)}"
        cells.add(coordinate, message, ("scores", item.id), "bad-score")
    elif score < 0 or score > item.max:
        cells.add(
            coordinate,
            f"{what} is given {number(score)} but is worth 0 to {number(item.max)}",
            ("scores", item.id),
            "score-out-of-range",
        )
    else:
        return score
    return None


def _count_cell(item: Item, part: str, value: Any, coordinate: str, cells: _Cells) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    count = cell_number(value)
    if count is None or count < 0 or count != count.to_integral_value():
        cells.add(
            coordinate,
            f"{item.id} ({item.label}): {part} must be a whole number of at least 0, "
            f"not {_shown(value)}",
            ("findings", item.id),
            "bad-findings",
        )
        return None
    return int(count)


def _yes_no(value: Any, words: Mapping[str, str]) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in ("", words["no"], "否", "no", "false"):
        return False if text else None
    if text in (words["yes"], "是", "yes", "true"):
        return True
    return None


def _finish(plan: Plan, raw: dict[str, Any], cells: _Cells) -> None:
    """Map what read_assessment still finds to cells."""
    try:
        read_assessment(plan, raw)
    except DataError as exc:
        for problem in exc.problems:
            cells.locate(problem)


def read_single_form(plan: Plan, book: Any) -> dict[str, Any]:
    """The raw assessment of a filled single form; DataError naming cells otherwise."""
    sheet = book[_meta(book)["sheet"]]
    words = WORDS[scheme_language(plan)]
    cells = _Cells(sheet.title)
    inputs = {i.name: i for i in plan.inputs}
    raw: dict[str, Any] = {"scheme": plan.id, "inputs": {}, "scores": {}}
    findings: dict[str, dict[str, int | None]] = {}
    severe: list[str] = []
    for line in single_layout(plan):
        key_cell = sheet[f"B{line.row}"]
        if str(key_cell.value or "") != line.key:
            cells.add(
                key_cell.coordinate,
                f"expected '{line.key}' here, found {_shown(key_cell.value)}: "
                "the rows of this workbook were changed; make a new template",
                ("layout",),
                "changed-layout",
            )
            continue
        value_cell = sheet[f"{VALUE}{line.row}"]
        coordinate, value = value_cell.coordinate, value_cell.value
        cells.where.setdefault(line.key, coordinate)
        if line.kind == "input":
            raw["inputs"][line.key] = _input_cell(inputs[line.key], value, coordinate, cells)
        elif line.kind == "judged":
            item = plan.item(line.key)
            raw["scores"][item.id] = _score_cell(item, value, coordinate, cells)
            if plan.findings:
                cells.where[f"{item.id}{SAMPLES}"] = f"{SAMPLES_COL}{line.row}"
                counts = {
                    part: _count_cell(item, part, sheet[f"{col}{line.row}"].value,
                                      f"{col}{line.row}", cells)
                    for part, col in (("samples", SAMPLES_COL), ("problems", PROBLEMS_COL))
                }  # fmt: skip
                if any(v is not None for v in counts.values()):
                    findings[item.id] = counts
        else:
            marked = _yes_no(value, words)
            if marked is None and value is not None and str(value).strip():
                cells.add(
                    coordinate,
                    f"severe {line.key}: choose {words['yes']} or {words['no']}, "
                    f"not {_shown(value)}",
                    ("severe", line.key),
                    "bad-severe",
                )
            elif marked:
                severe.append(line.key)
    if findings:
        raw["findings"] = {
            k: {p: "" if v is None else v for p, v in counts.items()}
            for k, counts in findings.items()
        }
    if severe:
        raw["severe"] = severe
    _finish(plan, raw, cells)
    if cells.problems:
        raise DataError(cells.problems)
    return raw


def _meta(book: Any) -> dict[str, Any]:
    return {str(r[0]): r[1] for r in book[META].iter_rows(values_only=True) if r and r[0]}


@attrs.frozen
class _Column:
    """What one column of the batch form holds: its kind and its input or item."""

    kind: str  # id | scheme | severe | input | score | samples | problems
    input: Input | None = None
    item: Item | None = None


def _columns(plan: Plan, names: list[str]) -> list[_Column]:
    inputs = {i.name: i for i in plan.inputs}
    ids = {i.id for i in plan.items}
    columns = []
    for name in names:
        if name in ("id", "scheme", "severe"):
            columns.append(_Column(name))
        elif name in inputs:
            columns.append(_Column("input", input=inputs[name]))
        elif name in ids:
            columns.append(_Column("score", item=plan.item(name)))
        else:
            item_id, part = name.rsplit(".", 1)
            columns.append(_Column(part, item=plan.item(item_id)))
    return columns


def read_batch_form(plan: Plan, book: Any) -> Iterator[Row]:
    """One raw assessment per filled row (from row 3), or the ReadError naming its cells."""
    sheet = book[_meta(book)["sheet"]]
    header = [str(c.value or "").strip() for c in sheet[1]]
    expected = csv_columns(plan)
    if header[: len(expected)] != expected:
        yield "1", ReadError(f"{sheet.title}!1: the column names were changed; make a new template")
        return
    columns = _columns(plan, expected)
    for cells_of_row in sheet.iter_rows(min_row=3, max_col=len(expected)):
        values = [c.value for c in cells_of_row]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        yield _batch_row(plan, sheet.title, columns, cells_of_row)


def _text(value: Any) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _batch_row(plan: Plan, title: str, columns: list[_Column], row_cells: Any) -> Row:
    cells = _Cells(title)
    ident = str(row_cells[0].row)
    raw: dict[str, Any] = {"inputs": {}, "scores": {}}
    findings: dict[str, dict[str, int | None]] = {}
    for column, cell in zip(columns, row_cells, strict=True):
        value, coordinate = cell.value, cell.coordinate
        if column.kind == "id":
            number_id = cell_number(value) if isinstance(value, float) else None
            ident = _text(number_id if number_id is not None else value) or ident
            raw["id"] = ident
        elif column.kind == "scheme":
            raw["scheme"] = _text(value)
        elif column.kind == "severe":
            raw["severe"] = [s.strip() for s in str(value or "").split(";") if s.strip()]
        elif column.input is not None:
            name = column.input.name
            cells.where.setdefault(name, coordinate)
            raw["inputs"][name] = _input_cell(column.input, value, coordinate, cells)
        elif column.item is not None and column.kind == "score":
            cells.where.setdefault(column.item.id, coordinate)
            raw["scores"][column.item.id] = _score_cell(column.item, value, coordinate, cells)
        elif column.item is not None:
            item, part = column.item, column.kind
            cells.where.setdefault(f"{item.id}.{part}", coordinate)
            count = _count_cell(item, part, value, coordinate, cells)
            findings.setdefault(item.id, {})[part] = count
    given = {k: v for k, v in findings.items() if any(x is not None for x in v.values())}
    if given:
        raw["findings"] = {
            k: {p: "" if x is None else x for p, x in v.items()} for k, v in given.items()
        }
    _finish(plan, raw, cells)
    if cells.problems:
        return ident, ReadError("; ".join(p.message for p in cells.problems))
    return ident, raw
