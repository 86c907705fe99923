"""The abstract syntax tree: frozen attrs nodes, each with the `Span` it came from.

Spans are excluded from equality, so two trees compare equal when they say the same thing
(the formatter's round-trip property relies on it). Statement order is kept as written:
`Scheme.body` and `Item.body` are tuples in source order, and the typed views below filter
them.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import TypeVar, Union

import attrs

from scoredsl.source import Span

T = TypeVar("T")


def _span() -> Span:
    return attrs.field(eq=False, repr=False)  # type: ignore[no-any-return]


# ---- expressions ---------------------------------------------------------------------


@attrs.frozen
class Number:
    value: Decimal
    span: Span = _span()


@attrs.frozen
class Percent:
    """A percentage as written: ``96.5%`` has ``value == Decimal("96.5")``."""

    value: Decimal
    span: Span = _span()

    @property
    def fraction(self) -> Decimal:
        return self.value / 100


@attrs.frozen
class Bool:
    value: bool
    span: Span = _span()


@attrs.frozen
class Name:
    name: str
    span: Span = _span()


@attrs.frozen
class ItemRef:
    item_id: str
    span: Span = _span()


@attrs.frozen
class GateRef:
    """``gate 6.1.1``: true when every requirement of the gate holds (levels, outcomes)."""

    gate_id: str
    span: Span = _span()


@attrs.frozen
class Neg:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class Not:
    operand: Expr
    span: Span = _span()


@attrs.frozen
class Binary:
    """Arithmetic (``+ - * /``), logic (``and or``), or ``else``: ``a / b else 0`` is the
    left side, or the right side when a divisor in the left side is 0."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@attrs.frozen
class Compare:
    """A comparison chain: ``a < b <= c`` holds when each adjacent pair does."""

    operands: tuple[Expr, ...]
    ops: tuple[str, ...]
    span: Span = _span()


@attrs.frozen
class Call:
    func: str
    args: tuple[Expr, ...]
    span: Span = _span()


@attrs.frozen
class Weight:
    ref: Name | ItemRef
    weight: Literal
    span: Span = _span()


@attrs.frozen
class Weighted:
    """Sum of ``ref x weight`` over the terms; the weights should add up to 100%."""

    terms: tuple[Weight, ...]
    span: Span = _span()


@attrs.frozen
class Quantified:
    """``every part in p1..p4 (share >= 100%)`` or ``sum part in p1..p4 (items)``: the body
    once per member of a group (all of them when there is no range), joined by ``and`` or
    ``+``. `scoredsl.groups` expands it before checking, so later stages never see it."""

    kind: str  # "every" | "sum"
    group: str
    first: str | None  # the range p1..p4, or None for every member
    last: str | None
    body: Expr
    span: Span = _span()
    group_span: Span = _span()
    first_span: Span | None = attrs.field(default=None, eq=False, repr=False)
    last_span: Span | None = attrs.field(default=None, eq=False, repr=False)


Literal = Union[Number, Percent, Neg]
Expr = Union[
    Number,
    Percent,
    Bool,
    Name,
    ItemRef,
    GateRef,
    Neg,
    Not,
    Binary,
    Compare,
    Call,
    Weighted,
    Quantified,
]


# ---- band conditions -----------------------------------------------------------------


@attrs.frozen
class OpenCondition:
    """``< 90%``, ``>= 98%``, ``= 100%`` (written ``_ < 90%`` when ``flipped``)."""

    op: str
    bound: Literal
    span: Span = _span()


@attrs.frozen
class ChainCondition:
    """``90% <= _ < 95%``: the value lies between ``low`` and ``high``."""

    low: Literal
    low_op: str
    high_op: str
    high: Literal
    span: Span = _span()


@attrs.frozen
class ElseCondition:
    span: Span = _span()


Condition = Union[OpenCondition, ChainCondition, ElseCondition]


@attrs.frozen
class Band:
    condition: Condition
    result: Decimal
    span: Span = _span()
    result_span: Span = _span()


# ---- statements ----------------------------------------------------------------------


@attrs.frozen
class Accept:
    code: str
    reason: str
    span: Span = _span()


@attrs.frozen
class Reading:
    """``reading "..."``: how the scheme reads a clause the standard leaves ambiguous."""

    text: str
    span: Span = _span()


@attrs.frozen
class English:
    label: str
    span: Span = _span()


@attrs.frozen
class Note:
    text: str
    span: Span = _span()


@attrs.frozen
class Category:
    """``category "过程类"``: the class an item belongs to (002 table C.1 column 类别)."""

    name: str
    span: Span = _span()


@attrs.frozen
class Veto:
    condition: Expr
    reason: str | None
    span: Span = _span()
    written: str | None = attrs.field(default=None, eq=False, kw_only=True)  # see Formula


@attrs.frozen
class InputBound:
    """``<= p1_items`` in an input's domain: its value may not exceed another input's."""

    op: str
    input: str
    span: Span = _span()


@attrs.frozen
class Input:
    name: str
    type: str
    domain: Condition | None  # the part of the domain written with numbers
    label: str | None
    clause: str | None
    span: Span = _span()
    name_span: Span = _span()
    bound: InputBound | None = attrs.field(default=None, kw_only=True)
    default: Literal | Bool | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class Formula:
    expr: Expr
    span: Span = _span()
    # the formula as written when a group quantifier was expanded in it (for the plan's text)
    written: str | None = attrs.field(default=None, eq=False, kw_only=True)


@attrs.frozen
class Lookup:
    """Points or a value looked up from the bands over one input."""

    input: str
    span: Span = _span()


ItemStmt = Union["Item", Band, Veto, Note, Category, Accept, English, Reading]


@attrs.frozen
class Item:
    id: str
    label: str
    points: Decimal
    kind: Lookup | Formula | None
    body: tuple[ItemStmt, ...]
    span: Span = _span()
    id_span: Span = _span()
    points_span: Span = _span()
    sheet: bool = attrs.field(default=False, kw_only=True)  # a scoring sheet: not in the total

    @property
    def children(self) -> tuple[Item, ...]:
        return _only(self.body, Item)

    @property
    def bands(self) -> tuple[Band, ...]:
        return _only(self.body, Band)

    @property
    def vetoes(self) -> tuple[Veto, ...]:
        return _only(self.body, Veto)

    @property
    def notes(self) -> tuple[Note, ...]:
        return _only(self.body, Note)

    @property
    def category(self) -> str | None:
        found = _only(self.body, Category)
        return found[-1].name if found else None

    @property
    def en(self) -> str | None:
        return _last_label(self.body)

    def walk(self, depth: int = 1) -> Iterator[tuple[Item, int]]:
        """This item and its descendants in document order, with their depth (top = 1)."""
        yield self, depth
        for child in self.children:
            yield from child.walk(depth + 1)


@attrs.frozen
class Value:
    """A derived value: a formula over inputs and values, or a lookup table."""

    name: str
    label: str | None
    kind: Formula | Lookup
    clause: str | None
    body: tuple[ItemStmt, ...]
    span: Span = _span()
    name_span: Span = _span()
    unit: str | None = attrs.field(default=None, kw_only=True)  # "%": shown as 97.5%

    @property
    def bands(self) -> tuple[Band, ...]:
        return _only(self.body, Band)

    @property
    def en(self) -> str | None:
        return _last_label(self.body)


@attrs.frozen
class Require:
    condition: Expr
    text: str | None
    span: Span = _span()
    written: str | None = attrs.field(default=None, eq=False, kw_only=True)  # see Formula


@attrs.frozen
class Gate:
    id: str
    label: str
    body: tuple[Require | Accept | English | Reading, ...]
    span: Span = _span()

    @property
    def requires(self) -> tuple[Require, ...]:
        return _only(self.body, Require)

    @property
    def en(self) -> str | None:
        return _last_label(self.body)


@attrs.frozen
class SevereRule:
    depth: int
    text: str | None
    span: Span = _span()


@attrs.frozen
class FindingsRule:
    text: str | None
    span: Span = _span()


@attrs.frozen
class Level:
    name: str
    label: str
    condition: Expr
    en: str | None
    span: Span = _span()
    written: str | None = attrs.field(default=None, eq=False, kw_only=True)  # see Formula


@attrs.frozen
class Levels:
    body: tuple[Level | Accept | Reading, ...]
    span: Span = _span()

    @property
    def levels(self) -> tuple[Level, ...]:
        return _only(self.body, Level)


@attrs.frozen
class Outcome:
    """A named decision (6.3.2 批准认证); `condition` None is ``else``."""

    name: str
    label: str
    clause: str | None
    condition: Expr | None
    en: str | None
    span: Span = _span()
    name_span: Span = _span()


@attrs.frozen
class Outcomes:
    """``outcomes { ... }``: decided in the order written, the first that holds."""

    body: tuple[Outcome | Accept | Reading, ...]
    span: Span = _span()

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        return _only(self.body, Outcome)


@attrs.frozen
class Member:
    """``p1 "1.0"``: one part of a group; its inputs and values are named ``p1_<name>``."""

    name: str
    label: str
    span: Span = _span()


@attrs.frozen
class Members:
    members: tuple[Member, ...]
    span: Span = _span()


@attrs.frozen
class Group:
    """``group part "部分" { members ...  input ...  value ... }``: parts declared once, with
    the inputs and values every part has. Expanded by `scoredsl.groups` before checking."""

    name: str
    label: str | None
    body: tuple[Members | Input | Value, ...]
    span: Span = _span()
    name_span: Span = _span()

    @property
    def members(self) -> tuple[Member, ...]:
        return tuple(m for block in _only(self.body, Members) for m in block.members)

    @property
    def declarations(self) -> tuple[Input | Value, ...]:
        return tuple(s for s in self.body if isinstance(s, (Input, Value)))


@attrs.frozen
class Given:
    name: str
    value: Literal | Bool
    span: Span = _span()


@attrs.frozen
class GivenScore:
    key: str
    score: Decimal
    span: Span = _span()


@attrs.frozen
class GivenFindings:
    key: str
    problems: int
    samples: int
    span: Span = _span()


@attrs.frozen
class GivenSevere:
    key: str
    span: Span = _span()


@attrs.frozen
class Expect:
    """``expect total 85.56`` / ``expect level good`` / ``expect eligible false`` /
    ``expect outcome approved``."""

    what: str
    value: Decimal | str | bool | None
    span: Span = _span()


ExampleStmt = Union[Given, GivenScore, GivenFindings, GivenSevere, Expect]


@attrs.frozen
class Example:
    name: str
    body: tuple[ExampleStmt, ...]
    span: Span = _span()


@attrs.frozen
class Meta:
    """``source "..."``, ``version "..."``: texts about the scheme."""

    key: str
    value: str
    span: Span = _span()


@attrs.frozen
class Total:
    """``total 1000``: the declared maximum, which the top-level items add up to; or
    ``total 203 = FORMULA``: the total is the formula, 203 its declared maximum."""

    points: Decimal
    span: Span = _span()
    formula: Expr | None = attrs.field(default=None, kw_only=True)
    key = "total"


@attrs.frozen
class Rounding:
    """``rounding 2 half-up``: computed and deducted scores and the total are rounded."""

    places: int
    mode: str
    span: Span = _span()
    key = "rounding"


@attrs.frozen
class Tiers:
    """``tiers "能力域" "能力项"``: the standard's own names for items at depth 1, 2, ..."""

    names: tuple[str, ...]
    span: Span = _span()
    key = "tiers"


Setting = Union[Meta, Total, Rounding, Tiers]  # a child scheme's setting replaces its parent's
SETTINGS = (Meta, Total, Rounding, Tiers)

SchemeStmt = Union[
    Meta, Total, Rounding, Input, Value, Gate, Item, SevereRule, FindingsRule, Levels, Example,
    Accept, English, Tiers, Reading, Outcomes, Group,
]  # fmt: skip


@attrs.frozen
class Scheme:
    id: str
    title: str
    extends: str | None
    body: tuple[SchemeStmt, ...]
    span: Span = _span()
    id_span: Span = _span()

    def meta(self, key: str) -> Meta | None:
        found = [m for m in _only(self.body, Meta) if m.key == key]
        return found[-1] if found else None

    @property
    def total(self) -> Total | None:
        found = _only(self.body, Total)
        return found[-1] if found else None

    @property
    def rounding(self) -> Rounding | None:
        found = _only(self.body, Rounding)
        return found[-1] if found else None

    @property
    def inputs(self) -> tuple[Input, ...]:
        return _only(self.body, Input)

    @property
    def values(self) -> tuple[Value, ...]:
        return _only(self.body, Value)

    @property
    def gates(self) -> tuple[Gate, ...]:
        return _only(self.body, Gate)

    @property
    def items(self) -> tuple[Item, ...]:
        return _only(self.body, Item)

    @property
    def levels(self) -> tuple[Level, ...]:
        return tuple(lv for block in _only(self.body, Levels) for lv in block.levels)

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        return tuple(o for block in _only(self.body, Outcomes) for o in block.outcomes)

    @property
    def examples(self) -> tuple[Example, ...]:
        return _only(self.body, Example)

    @property
    def en(self) -> str | None:
        return _last_label(self.body)

    def walk_items(self) -> Iterator[tuple[Item, int]]:
        for item in self.items:
            yield from item.walk()


def _only(body: tuple[object, ...], cls: type[T]) -> tuple[T, ...]:
    return tuple(s for s in body if isinstance(s, cls))


def _last_label(body: tuple[object, ...]) -> str | None:
    labels = _only(body, English)
    return labels[-1].label if labels else None
