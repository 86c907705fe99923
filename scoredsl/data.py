"""Assessment data: a raw mapping (YAML, JSON, a JSONL line, a CSV row) -> `Assessment`.

Every rule of the data contract is checked here, and all problems of one assessment are
reported together, each naming the input or item: nothing is silently assumed.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from scoredsl.exactjson import number
from scoredsl.numbers import read_decimal
from scoredsl.numbers import shown as _shown
from scoredsl.plan import Input, InputType, Item, ItemKind, Plan

TOP_KEYS = ("id", "scheme", "inputs", "scores", "findings", "severe")
_TRUE = {"true", "yes", "1", "是", "y"}
_FALSE = {"false", "no", "0", "否", "n"}


class DataError(Exception):
    """The assessment data has errors; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@attrs.frozen
class Assessment:
    inputs: dict[str, Decimal | bool]
    scores: dict[str, Decimal]
    findings: dict[str, tuple[int, int]]  # item id -> (problems, samples)
    severe: frozenset[str]
    id: str | None = None


def _hint(name: str, candidates: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _decimal(raw: Any) -> Decimal | None:
    """A number from data within the bounds of `scoredsl.numbers` (which says which)."""
    return read_decimal(raw)


def coerce_input(inp: Input, raw: Any) -> Decimal | bool:
    """One input value in the plan's unit; raises ValueError with the message to show."""
    what = f"input '{inp.name}'" + (f" ({inp.label})" if inp.label else "")
    if inp.type is InputType.BOOL:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            return raw.strip().lower() in _TRUE
        if type(raw) in (int, Decimal) and raw in (0, 1):  # 1 and 0 as "1" and "0" are
            return bool(raw == 1)
        raise ValueError(f"{what} must be true or false, not {_shown(raw)}")
    if inp.type is InputType.PERCENT:
        if isinstance(raw, str) and raw.strip().endswith("%"):
            value = _decimal(raw.strip()[:-1])
            if value is None:
                raise ValueError(f'{what} must be a percentage like "96.5%", not {_shown(raw)}')
            value = value / 100
        else:
            value = _decimal(raw)
            if value is None:
                raise ValueError(f'{what} must be a percentage like "96.5%", not {_shown(raw)}')
            if value > 1:
                raise ValueError(
                    f"{what} is a percentage: {number(value)} is not a fraction between 0 and 1; "
                    f'write "{number(value)}%"'
                )
    else:
        value = _decimal(raw)
        if value is None:
            raise ValueError(f"{what} must be a number, not {_shown(raw)}")
        if inp.type is InputType.INTEGER and value != value.to_integral_value():
            raise ValueError(f"{what} must be a whole number, not {number(value)}")
    if inp.domain and not any(b.contains(value) for b in inp.domain):
        shown = inp.show(value)
        allowed = ", ".join(inp.domain_text())
        raise ValueError(f"{what} is {shown}, outside its range {allowed}")
    return value


class _Keys:
    """Item keys: an id, or a label that is unique in the scheme."""

    def __init__(self, plan: Plan) -> None:
        self.ids = {i.id: i for i in plan.items}
        self.labels: dict[str, list[Item]] = {}
        for item in plan.items:
            self.labels.setdefault(item.label, []).append(item)

    def resolve(self, key: Any, where: str) -> Item:
        key = str(key)
        if key in self.ids:
            return self.ids[key]
        found = self.labels.get(key, [])
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            ids = ", ".join(i.id for i in found)
            raise ValueError(
                f"{where}: label '{key}' is used by {len(found)} items ({ids}); use the id"
            )
        raise ValueError(
            f"{where}: there is no item '{key}'" + _hint(key, [*self.ids, *self.labels])
        )


def _mapping(raw: Any, name: str, problems: list[str]) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(f"'{name}' must be a mapping of names to values, not {type(raw).__name__}")
        return {}
    return raw


def _count(raw: Any) -> int | None:
    value = _decimal(raw)
    if value is None or value != value.to_integral_value() or value < 0:
        return None
    return int(value)


def read_assessment(plan: Plan, raw: Any) -> Assessment:
    """Validate one assessment against the plan; raise `DataError` listing every problem."""
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        raise DataError(
            [
                "an assessment must be a mapping with 'inputs' and 'scores', "
                f"not {type(raw).__name__}"
            ]
        )
    for key in raw:
        if key not in TOP_KEYS:
            problems.append(
                f"unknown key '{key}'{_hint(str(key), TOP_KEYS)}; expected {', '.join(TOP_KEYS)}"
            )
    if raw.get("scheme") is not None and str(raw["scheme"]) != plan.id:
        problems.append(f"this data is for scheme '{raw['scheme']}', not '{plan.id}'")

    by_name = {i.name: i for i in plan.inputs}
    inputs: dict[str, Decimal | bool] = {}
    for name, value in _mapping(raw.get("inputs"), "inputs", problems).items():
        inp = by_name.get(str(name))
        if inp is None:
            problems.append(f"unknown input '{name}'{_hint(str(name), by_name)}")
        elif value is None or value == "":
            continue
        else:
            try:
                inputs[inp.name] = coerce_input(inp, value)
            except ValueError as exc:
                problems.append(str(exc))
    for inp in plan.inputs:
        if inp.required and inp.name not in inputs and not any(inp.name in p for p in problems):
            label = f" ({inp.label})" if inp.label else ""
            problems.append(f"missing input '{inp.name}'{label}")

    keys = _keys_for(plan)
    severe: set[str] = set()
    marked = raw.get("severe")
    if isinstance(marked, str):
        marked = [marked]  # one id, not a list of characters
    elif marked is not None and not isinstance(marked, list):
        problems.append(f"'severe' must be a list of item ids, not {_shown(marked)}")
        marked = []
    for key in marked or []:
        try:
            item = keys.resolve(key, "severe")
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if plan.severe_depth is None:
            problems.append(
                f"severe: this scheme has no severe rule, so {item.id} cannot be marked"
            )
        elif item.depth != plan.severe_depth:
            problems.append(
                f"severe: {item.id} is at depth {item.depth}; the severe rule applies to items at "
                f"depth {plan.severe_depth}"
            )
        else:
            severe.add(item.id)

    scores: dict[str, Decimal] = {}
    given: dict[str, Any] = {}  # item id -> the key it was given by
    for key, value in _mapping(raw.get("scores"), "scores", problems).items():
        try:
            item = keys.resolve(key, "scores")
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if item.id in given:
            problems.append(f"scores: {item.id} is given twice, as '{given[item.id]}' and '{key}'")
            continue
        given[item.id] = key
        if value is None or value == "":
            continue
        if item.kind is not ItemKind.JUDGED:
            problems.append(
                f"scores: {item.id} ({item.label}) is {_kind(item)}: it cannot be given a score"
            )
            continue
        score = _decimal(value)
        if score is None:
            problems.append(
                f"scores: {item.id} ({item.label}) must be a number, not {_shown(value)}"
            )
        elif score < 0 or score > item.max:
            problems.append(
                f"scores: {item.id} ({item.label}) is given {number(score)} "
                f"but is worth 0 to {number(item.max)}"
            )
        else:
            scores[item.id] = score

    findings: dict[str, tuple[int, int]] = {}
    for key, value in _mapping(raw.get("findings"), "findings", problems).items():
        try:
            item = keys.resolve(key, "findings")
        except ValueError as exc:
            problems.append(str(exc))
            continue
        where = f"findings: {item.id} ({item.label})"
        if not plan.findings:
            problems.append(f"{where}: this scheme has no sample-deduction rule")
            continue
        if item.kind is not ItemKind.JUDGED:
            problems.append(f"{where} is {_kind(item)}: it cannot be given findings")
            continue
        if not isinstance(value, Mapping) or set(value) != {"samples", "problems"}:
            problems.append(f"{where} must be {{samples: N, problems: M}}")
            continue
        samples, found = _count(value["samples"]), _count(value["problems"])
        if samples is None or found is None:
            problems.append(f"{where}: samples and problems must be whole numbers of at least 0")
        elif samples == 0:
            problems.append(f"{where}: samples must be at least 1")
        elif found > samples:
            problems.append(f"{where}: {found} problems is more than the {samples} samples")
        elif item.id in scores:
            problems.append(f"{where} has both a score and findings: give one")
        else:
            findings[item.id] = (found, samples)

    for item in plan.items:
        if item.kind is not ItemKind.JUDGED or item.id in scores or item.id in findings:
            continue
        if _under(plan, item, severe):
            continue
        if not any(item.id in p for p in problems):
            what = "a score or findings" if plan.findings else "a score"
            problems.append(f"missing {what} for {item.id} ({item.label}, 0 to {number(item.max)})")

    if problems:
        raise DataError(problems)
    ident = raw.get("id")
    return Assessment(
        inputs, scores, findings, frozenset(severe), None if ident is None else str(ident)
    )


def _kind(item: Item) -> str:
    return {"banded": "scored by bands", "computed": "computed", "parent": "the sum of its items"}[
        item.kind.value
    ]


def _under(plan: Plan, item: Item, marked: set[str]) -> bool:
    current: Item | None = item
    while current is not None:
        if current.id in marked:
            return True
        current = plan.item(current.parent) if current.parent else None
    return False


_KEYS_CACHE: dict[int, tuple[Plan, _Keys]] = {}


def _keys_for(plan: Plan) -> _Keys:
    cached = _KEYS_CACHE.get(id(plan))
    if cached is None or cached[0] is not plan:
        cached = (plan, _Keys(plan))
        _KEYS_CACHE[id(plan)] = cached
    return cached[1]
