"""Read assessment files: one assessment (YAML, JSON) or a batch (JSONL, CSV), streamed.

Numbers are read as Decimal from their text (YAML floats and JSON numbers never pass
through float). A batch yields one raw mapping per row, or the row's read error, so one
bad row never loses the others.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import yaml

from scoredsl.plan import Plan

SINGLE = (".yaml", ".yml", ".json")
BATCH = (".jsonl", ".csv")


class _DecimalLoader(yaml.SafeLoader):
    """YAML where 96.5 is Decimal("96.5") and keys like 5.1 stay as written."""


def _decimal_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except ArithmeticError:
        return text


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal_float)


class ReadError(Exception):
    """The data file cannot be read (syntax, encoding, shape); the message says where."""


def read_single(path: Path) -> Any:
    text = path.read_text(encoding="utf-8-sig", errors="strict")
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text, parse_float=Decimal)
        return yaml.load(text, Loader=_DecimalLoader)
    except json.JSONDecodeError as exc:
        raise ReadError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ReadError(f"{where}: invalid YAML: {problem}") from None


Row = tuple[str, Any | ReadError]  # (row id, raw mapping or the error reading it)


def read_batch(path: Path, handle: IO[str], plan: Plan) -> Iterator[Row]:
    if path.suffix.lower() == ".jsonl":
        yield from _jsonl(path, handle)
    else:
        yield from _csv(path, handle, plan)


def _jsonl(path: Path, handle: IO[str]) -> Iterator[Row]:
    for number, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            yield str(number), ReadError(f"{path}:{number}:{exc.colno}: invalid JSON: {exc.msg}")
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


def _csv(path: Path, handle: IO[str], plan: Plan) -> Iterator[Row]:
    reader = csv.reader(handle)
    header = next(reader, None)
    if header is None:
        return
    header = [h.strip().lstrip("\ufeff") for h in header]
    inputs = {i.name for i in plan.inputs}
    items = {i.id for i in plan.items} | {i.label for i in plan.items}
    known = inputs | items | {"id", "severe", "scheme"}
    unknown = [h for h in header if h not in known and _finding_column(h, items) is None]
    for number, row in enumerate(reader, 2):
        ident = str(number)
        if unknown:
            yield ident, ReadError(f"{path}: unknown column(s): {', '.join(unknown)}")
            continue
        if len(row) != len(header):
            yield (
                ident,
                ReadError(
                    f"{path}:{number}: {len(row)} cells but the header has {len(header)} columns"
                ),
            )
            continue
        raw: dict[str, Any] = {"inputs": {}, "scores": {}}
        findings: dict[str, dict[str, str]] = {}
        for name, cell in zip(header, row, strict=True):
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
        yield ident, raw
