"""Read assessment files: one assessment (YAML, JSON) or a batch (JSONL, CSV), streamed.

Numbers are read as Decimal from their text (YAML and JSON numbers never pass through
float or int). A batch yields one raw mapping per row, or the row's read error, so one bad
row never loses the others: a batch file is decoded line by line, so a line that is not
UTF-8, or a CSV cell over its limit, fails only its own row.

Refused, naming the place: a duplicate key in a YAML or JSON mapping (both lines), JSON's
`NaN`/`Infinity`, YAML documents whose aliases expand beyond `YAML_NODES` nodes, nesting
beyond `DATA_NESTING`, a CSV file with no header or with two columns for one input or item.
Every bound is in `scoredsl.limits`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import json
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from scoredsl.limits import (
    CELL_CHARS,
    CSV_LINE_BYTES,
    DATA_FILE_BYTES,
    DATA_NESTING,
    JSON_LINE_BYTES,
    Refused,
)
from scoredsl.plan import Plan

SINGLE = (".yaml", ".yml", ".json")
BATCH = (".jsonl", ".csv")


class ReadError(Exception):
    """The data file cannot be read (syntax, encoding, shape); the message says where."""


# ---- YAML ------------------------------------------------------------------------------------


def _yaml(text: str) -> Any:
    from scoredsl import yamldata  # PyYAML loads only when a YAML file is read

    return yamldata.load(text)


# ---- JSON ------------------------------------------------------------------------------------


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise Refused(f"{name} is not a number; write a number, or null for no value")


_JSON_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|-?Infinity|NaN')


def _constant_line(text: str) -> int:
    """The line of the first NaN or Infinity outside a string (0 if none is found)."""
    for match in _JSON_CONSTANT.finditer(text):
        if not match.group().startswith('"'):
            return text.count("\n", 0, match.start()) + 1
    return 0  # pragma: no cover - only called after the decoder met one


def _json(text: str) -> Any:
    """JSON with exact numbers; duplicate keys and NaN/Infinity refused (`Refused`)."""
    try:
        value = json.loads(
            text,
            parse_float=Decimal,
            parse_int=Decimal,
            parse_constant=_constant,
            object_pairs_hook=_unique,
        )
    except _DuplicateKey as exc:
        raise _duplicate_in(text, exc.key) from None
    except Refused as exc:
        raise Refused(str(exc), _constant_line(text)) from None
    except RecursionError:
        raise Refused(f"nested more than {DATA_NESTING} levels deep") from None
    if _depth(value) > DATA_NESTING:
        raise Refused(f"nested more than {DATA_NESTING} levels deep")
    return value


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:]')


def _duplicate_in(text: str, key: str) -> Refused:
    """The two places of the first duplicate key, found by walking the (valid) JSON text."""
    objects: list[dict[str, int] | None] = []  # per open bracket: key -> line; None: a list
    previous: tuple[str, int] | None = None  # the last string, while a ':' may follow
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        keys = objects[-1] if objects else None
        if token == ":" and previous is not None and keys is not None:
            name, line = previous
            if name in keys:
                return Refused(
                    f"duplicate key '{name}' (first at line {keys[name]}, again at line {line})",
                    line,
                )
            keys[name] = line
        previous = None
        if token in ("{", "["):
            objects.append({} if token == "{" else None)
        elif token in ("}", "]"):
            objects.pop()
        elif token.startswith('"'):
            previous = (json.loads(token), text.count("\n", 0, match.start()) + 1)
    return Refused(f"duplicate key '{key}'")  # pragma: no cover - the walk finds it


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            if depth <= DATA_NESTING:
                stack.extend((v, depth + 1) for v in item)
    return deepest


# ---- one assessment --------------------------------------------------------------------------


def read_single(path: Path) -> Any:
    """One assessment from a .yaml/.yml/.json file; `ReadError` names the file and line."""
    if path.stat().st_size > DATA_FILE_BYTES:
        raise ReadError(f"{path}: larger than {DATA_FILE_BYTES} bytes; split it or use a batch")
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ReadError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be read)"
        ) from None
    try:
        if path.suffix.lower() == ".json":
            return _json(text)
        return _yaml(text)
    except Refused as exc:
        where = f"{path}:{exc.line}" if exc.line else f"{path}"
        where += f":{exc.column}" if exc.line and exc.column else ""
        raise ReadError(f"{where}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ReadError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise ReadError(f"{path}: nested more than {DATA_NESTING} levels deep") from None


# ---- a batch -----------------------------------------------------------------------------------

Row = tuple[str, Any | ReadError]  # (row id, raw mapping or the error reading it)


def read_batch(path: Path, handle: IO[bytes] | IO[str], plan: Plan) -> Iterator[Row]:
    """The rows of a .jsonl or .csv file (opened in binary, or as text), in order.

    Raises `ReadError` only for what concerns the whole file (a CSV with no header, or two
    columns for one value); everything else is the error of one row.
    """
    if path.suffix.lower() == ".jsonl":
        yield from _jsonl(path, handle)
    else:
        yield from _csv(path, handle, plan)


class _Lines:
    """Physical lines, each decoded on its own; a line that cannot be read is noted in
    `problems` (line number -> what) and passed on as replaced text, so one bad line fails
    only the row it belongs to."""

    def __init__(self, handle: IO[bytes] | IO[str], limit: int) -> None:
        self.handle = handle
        self.limit = limit
        self.number = 0
        self.problems: dict[int, str] = {}

    def __iter__(self) -> Iterator[str]:
        while True:
            raw = self.handle.readline(self.limit + 1)
            if not raw:
                return
            self.number += 1
            if len(raw) > self.limit and raw[-1:] not in ("\n", b"\n"):
                self._skip_rest()
                self.problems[self.number] = f"longer than {self.limit} bytes"
                yield "\n"
                continue
            yield self._decoded(raw)

    def _skip_rest(self) -> None:
        while (more := self.handle.readline(self.limit)) and more[-1:] not in ("\n", b"\n"):
            pass

    def _decoded(self, raw: str | bytes) -> str:
        if isinstance(raw, str):
            return raw.lstrip("\ufeff") if self.number == 1 else raw
        if self.number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            column = len(raw[: exc.start].decode("utf-8", "replace")) + 1
            self.problems[self.number] = (
                f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {column})"
            )
            return raw.decode("utf-8", "replace")

    def problem(self, first: int, last: int) -> str | None:
        """The first problem among lines first..last (a record's lines), if any."""
        if not self.problems:
            return None
        for n in range(first, last + 1):
            if n in self.problems:
                return self.problems[n] if n == first else f"line {n}: {self.problems[n]}"
        return None


def _jsonl(path: Path, handle: IO[bytes] | IO[str]) -> Iterator[Row]:
    lines = _Lines(handle, JSON_LINE_BYTES)
    for line in lines:
        number = lines.number
        if problem := lines.problem(number, number):
            yield str(number), ReadError(f"{path}:{number}: {problem}")
            continue
        if not line.strip():
            continue
        try:
            raw = _json(line)
        except json.JSONDecodeError as exc:
            yield str(number), ReadError(f"{path}:{number}:{exc.colno}: invalid JSON: {exc.msg}")
            continue
        except Refused as exc:
            yield str(number), ReadError(f"{path}:{number}: {_on_this_line(str(exc))}")
            continue
        ident = raw.get("id") if isinstance(raw, dict) else None
        yield (str(ident) if ident is not None else str(number)), raw


SAMPLES, PROBLEMS = ".samples", ".problems"  # findings columns: 5.4.3.2.samples


def csv_columns(plan: Plan) -> list[str]:
    """The CSV batch layout: id, scheme, inputs, judged items, findings, severe."""
    judged = [i.id for i in plan.items if i.kind == "judged"]
    findings = (
        [i + suffix for i in judged for suffix in (SAMPLES, PROBLEMS)] if plan.findings else []
    )
    severe = ["severe"] if plan.severe_depth is not None else []
    return ["id", "scheme", *(i.name for i in plan.inputs), *judged, *findings, *severe]


def _finding_column(name: str, items: set[str]) -> tuple[str, str] | None:
    """`5.4.3.2.samples` -> ("5.4.3.2", "samples"), when the part before is an item id or label."""
    for suffix in (SAMPLES, PROBLEMS):
        if name.endswith(suffix) and name[: -len(suffix)] in items:
            return name[: -len(suffix)], suffix[1:]
    return None


def _on_this_line(message: str) -> str:
    return re.sub(r" \(first at line \d+, again at line \d+\)$", " (twice on this line)", message)


@contextlib.contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    previous = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _csv(path: Path, handle: IO[bytes] | IO[str], plan: Plan) -> Iterator[Row]:
    lines = _Lines(handle, CSV_LINE_BYTES)
    with _field_limit(CSV_LINE_BYTES):
        records = _records(lines)
        header: list[str] | None = None
        for _, first, record in records:
            if isinstance(record, str):
                raise ReadError(f"{path}: the header (line {first}): {record}")
            if any(cell.strip() for cell in record):
                header = [h.strip() for h in record]
                break
        if header is None:
            raise ReadError(
                f"{path}: no header: the first line must name the columns "
                "(id, input names, item ids, severe)"
            )
        _check_columns(path, header, plan)
        yield from _csv_rows(path, header, plan, records)


def _records(lines: _Lines) -> Iterator[tuple[int, int, list[str] | str]]:
    """(row number, first line, cells or the problem) for each CSV record; row 1 is the
    header, and a blank line is a row, as in a spreadsheet."""
    reader = csv.reader(lines)
    number = 0
    while True:
        first = reader.line_num + 1
        number += 1
        try:
            record: list[str] | str = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            record = f"cannot be read as CSV ({exc})"
        if problem := lines.problem(first, reader.line_num):
            record = problem
        yield number, first, record


def _check_columns(path: Path, header: list[str], plan: Plan) -> None:
    """Two columns for one input or item (by the same name, or by id and label) are refused."""
    labels: dict[str, list[str]] = {}
    for item in plan.items:
        labels.setdefault(item.label, []).append(item.id)
    inputs = {i.name for i in plan.inputs}
    seen: dict[str, int] = {}
    for k, name in enumerate(header, 1):
        target = name
        if name not in inputs and len(labels.get(name, ())) == 1:
            target = labels[name][0]
        if target in seen:
            j = seen[target]
            what = f"both '{name}'" if header[j - 1] == name else f"'{header[j - 1]}' and '{name}'"
            raise ReadError(
                f"{path}: columns {j} and {k} are {what}"
                + ("" if header[j - 1] == name else f", both item {target}")
                + "; keep one"
            )
        seen[target] = k


def _csv_rows(
    path: Path,
    header: list[str],
    plan: Plan,
    records: Iterable[tuple[int, int, list[str] | str]],
) -> Iterator[Row]:
    inputs = {i.name for i in plan.inputs}
    items = {i.id for i in plan.items} | {i.label for i in plan.items}
    known = inputs | items | {"id", "severe", "scheme"}
    unknown = [h for h in header if h not in known and _finding_column(h, items) is None]
    for number, first, record in records:
        ident = str(number)
        where = f"{path}: row {number} (line {first})"
        if isinstance(record, str):
            yield ident, ReadError(f"{where}: {record}")
            continue
        if not any(cell.strip() for cell in record):
            continue  # a blank line, as in JSONL
        if unknown:
            yield ident, ReadError(f"{path}: unknown column(s): {', '.join(unknown)}")
            continue
        if len(record) != len(header):
            yield (
                ident,
                ReadError(f"{where}: {len(record)} cells but the header has {len(header)} columns"),
            )
            continue
        big = next((k for k, c in enumerate(record) if len(c) > CELL_CHARS), None)
        if big is not None:
            yield (
                ident,
                ReadError(
                    f"{where}, column '{header[big]}': the cell has {len(record[big])} "
                    f"characters; at most {CELL_CHARS} are read"
                ),
            )
            continue
        yield _csv_row(ident, header, inputs, items, record)


def _csv_row(
    ident: str, header: list[str], inputs: set[str], items: set[str], record: list[str]
) -> Row:
    raw: dict[str, Any] = {"inputs": {}, "scores": {}}
    findings: dict[str, dict[str, str]] = {}
    for name, cell in zip(header, record, strict=True):
        cell = cell.strip()
        if name == "id":
            raw["id"] = ident = cell or ident
        elif name == "severe":
            raw["severe"] = [s.strip() for s in cell.split(";") if s.strip()]
        elif name == "scheme":
            raw["scheme"] = cell or None
        elif name in inputs:
            raw["inputs"][name] = cell
        elif name in items:
            raw["scores"][name] = cell
        else:
            item, part = _finding_column(name, items) or ("", "")
            findings.setdefault(item, {})[part] = cell
    given = {k: v for k, v in findings.items() if any(v.values())}
    if given:
        raw["findings"] = {k: {"samples": "", "problems": "", **v} for k, v in given.items()}
    return ident, raw
