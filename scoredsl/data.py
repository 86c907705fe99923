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
from scoredsl.plan import PLACES, CmpOp, Input, InputType, Item, ItemKind, Plan

TOP_KEYS = ("id", "scheme", "inputs", "scores", "findings", "severe")
_TRUE = {"true", "yes", "1", "是", "y"}
_FALSE = {"false", "no", "0", "否", "n"}
_BOOL_WORDS = _TRUE | _FALSE


@attrs.frozen
class DataProblem:
    """One problem in assessment data: a stable `code`, `where` it is (a path such as
    ``("scores", "5.1.1")`` or ``("inputs", "complaint_rate")``) and the message to show."""

    code: str
    where: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        return self.message


class DataError(Exception):
    """The assessment data has errors; `problems` lists each one."""

    def __init__(self, problems: list[DataProblem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems

    @property
    def messages(self) -> list[str]:
        return [p.message for p in self.problems]


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
    kind = inp.type
    if kind is InputType.BOOL:
        if raw is True or raw is False:
            return bool(raw)
        if isinstance(raw, str) and (word := raw.strip().lower()) in _BOOL_WORDS:
            return word in _TRUE
        if type(raw) in (int, Decimal) and raw in (0, 1):  # 1 and 0 as "1" and "0" are
            return bool(raw == 1)
        raise ValueError(f"{_what(inp)} must be true or false, not {_shown(raw)}")
    text = raw.strip() if isinstance(raw, str) else None
    if kind is InputType.PERCENT:
        if text is not None and text.endswith("%"):
            value = _decimal(text[:-1])
            if value is None:
                raise ValueError(
                    f'{_what(inp)} must be a percentage like "96.5%", not {_shown(raw)}'
                )
            value = value / 100
        else:
            value = _decimal(raw)
            if value is None:
                raise ValueError(
                    f'{_what(inp)} must be a percentage like "96.5%", not {_shown(raw)}'
                )
            if value > 1:
                raise ValueError(
                    f"{_what(inp)} is a percentage: {number(value)} is not a fraction between "
                    f'0 and 1; write "{number(value)}%"'
                )
    else:
        value = _decimal(raw)
        if value is None:
            raise ValueError(f"{_what(inp)} must be a number, not {_shown(raw)}")
        if kind is InputType.INTEGER and value != value.to_integral_value():
            raise ValueError(f"{_what(inp)} must be a whole number, not {number(value)}")
    domain = inp.domain
    if domain and not (domain[0].contains(value) or any(b.contains(value) for b in domain[1:])):
        shown = inp.show(value)
        allowed = ", ".join(inp.domain_text())
        raise ValueError(f"{_what(inp)} is {shown}, outside its range {allowed}")
    return value


def _what(inp: Input) -> str:
    return f"input '{inp.name}'" + (f" ({inp.label})" if inp.label else "")


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


class _Problems:
    """The problems found so far, and the places they were found at."""

    def __init__(self) -> None:
        self.found: list[DataProblem] = []
        self.places: set[tuple[str, ...]] = set()

    def add(self, code: str, where: tuple[str, ...], message: str) -> None:
        self.found.append(DataProblem(code, where, message))
        self.places.add(where)


def _mapping(raw: Any, name: str, problems: _Problems) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add(
            "not-a-mapping",
            (name,),
            f"'{name}' must be a mapping of names to values, not {type(raw).__name__}",
        )
        return {}
    return raw


def _count(raw: Any) -> int | None:
    value = _decimal(raw)
    if value is None or value != value.to_integral_value() or value < 0:
        return None
    return int(value)


def _too_precise(value: Decimal) -> bool:
    """More than PLACES decimal places (checked the cheap way for plain numbers)."""
    if value == value.to_integral_value():
        return False
    text = str(value)
    point = text.find(".")
    if point >= 0 and "E" not in text:
        return len(text) - point - 1 > PLACES
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent < -PLACES


class _Reader:
    """What validation needs of one plan, derived once (`Plan.derived`)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.keys = _Keys(plan)
        self.inputs = {i.name: i for i in plan.inputs}
        self.required = [i for i in plan.inputs if i.required]
        self.defaulted = [i for i in plan.inputs if i.default is not None]
        self.bounded = [i for i in plan.inputs if i.bound is not None]
        depth = plan.severe_depth
        self.judged_ids = {i.id: i for i in plan.items if i.kind is ItemKind.JUDGED}
        self.judged = [
            (item, tuple(a.id for a in _ancestors(plan, item) if a.depth == depth))
            for item in plan.items
            if item.kind is ItemKind.JUDGED
        ]

    @staticmethod
    def of(plan: Plan) -> _Reader:
        return plan.derived("data._Reader", _Reader)

    def read(self, raw: Any) -> Assessment:
        if not isinstance(raw, Mapping):
            message = (
                "an assessment must be a mapping with 'inputs' and 'scores', "
                f"not {type(raw).__name__}"
            )
            raise DataError([DataProblem("not-a-mapping", (), message)])
        problems = _Problems()
        self.top_keys(raw, problems)
        inputs = self.read_inputs(raw.get("inputs"), problems)
        severe = self.read_severe(raw.get("severe"), problems)
        scores = self.read_scores(raw.get("scores"), problems)
        findings = self.read_findings(raw.get("findings"), scores, problems)
        self.missing_items(scores, findings, severe, problems)
        if problems.found:
            raise DataError(problems.found)
        ident = raw.get("id")
        return Assessment(
            inputs, scores, findings, frozenset(severe), None if ident is None else str(ident)
        )

    def top_keys(self, raw: Mapping[str, Any], problems: _Problems) -> None:
        for key in raw:
            if key not in TOP_KEYS:
                problems.add(
                    "unknown-key",
                    (str(key),),
                    f"unknown key '{key}'{_hint(str(key), TOP_KEYS)}; "
                    f"expected {', '.join(TOP_KEYS)}",
                )
        scheme = raw.get("scheme")
        if scheme is not None and str(scheme) != self.plan.id:
            problems.add(
                "wrong-scheme",
                ("scheme",),
                f"this data is for scheme '{scheme}', not '{self.plan.id}'",
            )

    def read_inputs(self, raw: Any, problems: _Problems) -> dict[str, Decimal | bool]:
        inputs: dict[str, Decimal | bool] = {}
        for name, value in _mapping(raw, "inputs", problems).items():
            inp = self.inputs.get(str(name))
            if inp is None:
                where = ("inputs", str(name))
                hint = _hint(str(name), self.inputs)
                problems.add("unknown-input", where, f"unknown input '{name}'{hint}")
                continue
            if value is None or value == "":
                continue
            try:
                x = coerce_input(inp, value)
            except ValueError as exc:
                problems.add("bad-value", ("inputs", inp.name), str(exc))
                continue
            if not isinstance(x, bool) and _too_precise(x):
                problems.add(
                    "too-precise",
                    ("inputs", inp.name),
                    f"input '{inp.name}' has more than {PLACES} decimal places: {_shown(value)}",
                )
                continue
            inputs[inp.name] = x
        for inp in self.defaulted:
            if inp.name not in inputs and ("inputs", inp.name) not in problems.places:
                assert inp.default is not None
                inputs[inp.name] = inp.default
        for inp in self.required:
            if inp.name not in inputs and ("inputs", inp.name) not in problems.places:
                label = f" ({inp.label})" if inp.label else ""
                problems.add(
                    "missing-input", ("inputs", inp.name), f"missing input '{inp.name}'{label}"
                )
        self.check_bounds(inputs, problems)
        return inputs

    def check_bounds(self, inputs: dict[str, Decimal | bool], problems: _Problems) -> None:
        """An input bounded by another (``p1_method_compliant <= p1_items``), both given."""
        for inp in self.bounded:
            bound = inp.bound
            assert bound is not None
            x, limit = inputs.get(inp.name), inputs.get(bound.input)
            if not isinstance(x, Decimal) or not isinstance(limit, Decimal):
                continue
            if bound.holds(x, limit):
                continue
            other = self.inputs[bound.input]
            than = "more than" if bound.op is CmpOp.LE else "not less than"
            problems.add(
                "out-of-range",
                ("inputs", inp.name),
                f"input '{inp.name}' is {inp.show(x)}, {than} input '{bound.input}' "
                f"({other.show(limit)}): its domain is {', '.join(inp.domain_text())}",
            )

    def resolve(self, key: Any, section: str, problems: _Problems) -> Item | None:
        try:
            return self.keys.resolve(key, section)
        except ValueError as exc:
            code = "ambiguous-label" if "use the id" in str(exc) else "unknown-item"
            problems.add(code, (section, str(key)), str(exc))
            return None

    def read_severe(self, raw: Any, problems: _Problems) -> set[str]:
        plan = self.plan
        if isinstance(raw, str):
            raw = [raw]  # one id, not a list of characters
        elif raw is not None and not isinstance(raw, list):
            problems.add(
                "bad-severe", ("severe",), f"'severe' must be a list of item ids, not {_shown(raw)}"
            )
            raw = []
        severe: set[str] = set()
        for key in raw or []:
            item = self.resolve(key, "severe", problems)
            if item is None:
                continue
            if plan.severe_depth is None:
                problems.add(
                    "no-severe-rule",
                    ("severe", item.id),
                    f"severe: this scheme has no severe rule, so {item.id} cannot be marked",
                )
            elif item.depth != plan.severe_depth:
                problems.add(
                    "wrong-depth",
                    ("severe", item.id),
                    f"severe: {item.id} is at depth {item.depth}; the severe rule applies to "
                    f"items at depth {plan.severe_depth}",
                )
            else:
                severe.add(item.id)
        return severe

    def read_scores(self, raw: Any, problems: _Problems) -> dict[str, Decimal]:
        scores: dict[str, Decimal] = {}
        given: dict[str, Any] = {}  # item id -> the key it was given by
        judged = self.judged_ids
        for key, value in _mapping(raw, "scores", problems).items():
            # The common case first: a judged item by its id, a whole number in range (an
            # id given a second time comes by its label, so it takes the full path below).
            item = judged.get(key)
            if item is not None:
                kind = type(value)
                if (
                    kind is Decimal
                    and value.is_finite()
                    and 0 <= value <= item.max
                    and (value == value.to_integral_value() or not _too_precise(value))
                ):
                    scores[key] = value
                    continue
                elif kind is int and 0 <= value <= item.max:
                    scores[key] = Decimal(value)
                    continue
            item = self.resolve(key, "scores", problems)
            if item is None:
                continue
            where = ("scores", item.id)
            if item.id in given or item.id in scores:
                first = given.get(item.id, item.id)
                problems.add(
                    "given-twice",
                    where,
                    f"scores: {item.id} is given twice, as '{first}' and '{key}'",
                )
                continue
            given[item.id] = key
            if value is None or value == "":
                continue
            what = f"scores: {item.id} ({item.label})"
            if item.kind is not ItemKind.JUDGED:
                problems.add(
                    "not-judged", where, f"{what} is {_kind(item)}: it cannot be given a score"
                )
                continue
            score = _decimal(value)
            if score is None:
                problems.add("bad-value", where, f"{what} must be a number, not {_shown(value)}")
            elif score < 0 or score > item.max:
                problems.add(
                    "out-of-range",
                    where,
                    f"{what} is given {number(score)} but is worth 0 to {number(item.max)}",
                )
            elif _too_precise(score):
                problems.add("too-precise", where, f"{what} has more than {PLACES} decimal places")
            else:
                scores[item.id] = score
        return scores

    def read_findings(
        self, raw: Any, scores: dict[str, Decimal], problems: _Problems
    ) -> dict[str, tuple[int, int]]:
        findings: dict[str, tuple[int, int]] = {}
        for key, value in _mapping(raw, "findings", problems).items():
            item = self.resolve(key, "findings", problems)
            if item is None:
                continue
            place = ("findings", item.id)
            where = f"findings: {item.id} ({item.label})"
            if not self.plan.findings:
                problems.add(
                    "no-findings-rule", place, f"{where}: this scheme has no sample-deduction rule"
                )
            elif item.kind is not ItemKind.JUDGED:
                problems.add(
                    "not-judged", place, f"{where} is {_kind(item)}: it cannot be given findings"
                )
            elif not isinstance(value, Mapping) or set(value) != {"samples", "problems"}:
                problems.add("bad-findings", place, f"{where} must be {{samples: N, problems: M}}")
            else:
                found = self.count_findings(value, where, place, problems)
                if found is None:
                    continue
                if item.id in scores:
                    problems.add(
                        "score-and-findings",
                        place,
                        f"{where} has both a score and findings: give one",
                    )
                elif item.id in findings:
                    message = f"{where} is given twice (by id and by label): give one"
                    problems.add("given-twice", place, message)
                else:
                    findings[item.id] = found
        return findings

    @staticmethod
    def count_findings(
        value: Mapping[str, Any], where: str, place: tuple[str, ...], problems: _Problems
    ) -> tuple[int, int] | None:
        samples, found = _count(value["samples"]), _count(value["problems"])
        if samples is None or found is None:
            message = f"{where}: samples and problems must be whole numbers of at least 0"
        elif samples == 0:
            message = f"{where}: samples must be at least 1"
        elif found > samples:
            message = f"{where}: {found} problems is more than the {samples} samples"
        else:
            return found, samples
        problems.add("bad-findings", place, message)
        return None

    def missing_items(
        self,
        scores: dict[str, Decimal],
        findings: dict[str, tuple[int, int]],
        severe: set[str],
        problems: _Problems,
    ) -> None:
        what = "a score or findings" if self.plan.findings else "a score"
        places = problems.places
        for item, marked_at in self.judged:
            if item.id in scores or item.id in findings:
                continue
            if severe and any(a in severe for a in marked_at):
                continue
            if ("scores", item.id) in places or ("findings", item.id) in places:
                continue
            problems.add(
                "missing-score",
                ("scores", item.id),
                f"missing {what} for {item.id} ({item.label}, 0 to {number(item.max)})",
            )


def read_assessment(plan: Plan, raw: Any) -> Assessment:
    """Validate one assessment against the plan; raise `DataError` listing every problem."""
    return _Reader.of(plan).read(raw)


def _kind(item: Item) -> str:
    return {"banded": "scored by bands", "computed": "computed", "parent": "the sum of its items"}[
        item.kind.value
    ]


def _ancestors(plan: Plan, item: Item) -> list[Item]:
    """The item and the items above it."""
    chain = [item]
    while chain[-1].parent is not None:
        chain.append(plan.item(chain[-1].parent))
    return chain
