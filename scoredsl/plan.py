"""Lower: checked AST -> `Plan`, the evaluation IR (flat, resolved, no spans).

A plan is plain data: items in document order with their parent, bands as intervals in
the input's own unit (percentages as fractions: 90% is 0.9), expressions as nested
tuples. It is written as versioned JSON whose ``hash`` is the sha256 of the canonical
plan, and `Plan.from_json` reads it back unchanged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs

from scoredsl import exactjson
from scoredsl import nodes as n
from scoredsl.checks.levels import total_set
from scoredsl.checks.scope import Scope, condition_set, walk_expr
from scoredsl.checks.weights import weight_fraction
from scoredsl.fmt import expr as expr_text
from scoredsl.intervals import Interval, IntervalSet

FORMAT_VERSION = 1

# An expression: ("num", Decimal) | ("bool", bool) | ("input", name) | ("value", name)
# | ("item", id) | ("total",) | ("not", e) | ("neg", e) | (op, a, b) for and/or/+/-/*//
# | ("cmp", ops, operands) | ("call", func, args) | ("weighted", ((ref, weight), ...)).
Expr = tuple[Any, ...]


@attrs.frozen
class Band:
    low: Decimal | None
    high: Decimal | None
    low_closed: bool
    high_closed: bool
    result: Decimal
    text: str  # the range as a person reads it: "95% <= x < 98%", or "else"

    def contains(self, x: Decimal) -> bool:
        if self.text == "else":
            return True
        low, high = self.low, self.high
        if low is not None and (x < low or (x == low and not self.low_closed)):
            return False
        return high is None or x < high or (x == high and self.high_closed)


@attrs.frozen
class Input:
    name: str
    type: str
    label: str | None
    clause: str | None
    domain: tuple[Band, ...]  # intervals (result unused), in the input's own unit
    required: bool  # a score, gate or level depends on it


@attrs.frozen
class Value:
    name: str
    label: str | None
    en: str | None
    formula: Expr | None
    input: str | None
    bands: tuple[Band, ...]
    text: str


@attrs.frozen
class Veto:
    condition: Expr
    text: str
    reason: str


@attrs.frozen
class Item:
    id: str
    parent: str | None
    label: str
    en: str | None
    max: Decimal
    kind: str  # judged | banded | computed | parent
    depth: int
    input: str | None = None
    bands: tuple[Band, ...] = ()
    formula: Expr | None = None
    text: str = ""
    vetoes: tuple[Veto, ...] = ()
    notes: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    category: str | None = None


@attrs.frozen
class Requirement:
    condition: Expr
    text: str


@attrs.frozen
class Gate:
    id: str
    label: str
    en: str | None
    requires: tuple[Requirement, ...]


@attrs.frozen
class Level:
    name: str
    label: str
    en: str | None
    condition: Expr
    text: str
    min_total: Decimal | None  # the least total that reaches it, when it depends on total only


@attrs.frozen
class Acknowledged:
    """A diagnostic the scheme accepts (a published erratum): shown in docs and reports."""

    code: str
    message: str
    reason: str
    line: int


@attrs.frozen
class Plan:
    id: str
    title: str
    en: str | None
    source: str | None
    version: str | None
    total: Decimal
    rounding: tuple[int, str] | None
    inputs: tuple[Input, ...]
    values: tuple[Value, ...]
    items: tuple[Item, ...]
    gates: tuple[Gate, ...]
    levels: tuple[Level, ...]
    severe_depth: int | None
    findings: bool
    rules: tuple[str, ...]  # the text of the severe and findings rules, for reports
    acknowledged: tuple[Acknowledged, ...] = ()
    tiers: tuple[str, ...] = ()  # the standard's names for items at depth 1, 2, ...: 能力域
    hash: str = attrs.field(default="", eq=False)
    _index: dict[str, Item] = attrs.field(init=False, eq=False, repr=False)
    _children: dict[str, tuple[Item, ...]] = attrs.field(init=False, eq=False, repr=False)
    _top: tuple[Item, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        index = {i.id: i for i in self.items}
        object.__setattr__(self, "_index", index)
        children = {i.id: tuple(index[c] for c in i.children) for i in self.items}
        object.__setattr__(self, "_children", children)
        object.__setattr__(self, "_top", tuple(i for i in self.items if i.parent is None))

    def children_of(self, item: Item) -> tuple[Item, ...]:
        return self._children[item.id]

    def item(self, item_id: str) -> Item:
        return self._index[item_id]

    @property
    def top_items(self) -> tuple[Item, ...]:
        return self._top

    # ---- JSON -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        body = _encode(
            attrs.asdict(
                self,
                recurse=False,
                filter=lambda a, _: a.name not in ("hash", "_index", "_children", "_top"),
            )
        )
        doc = {"format_version": FORMAT_VERSION, "scheme": self.id, **body}
        doc["hash"] = _digest(doc)
        return doc

    def to_json(self) -> str:
        return exactjson.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Plan:
        if not isinstance(doc, dict) or doc.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"plan format_version {doc.get('format_version')!r} is not {FORMAT_VERSION}"
            )
        expected = doc.get("hash")
        body = {k: v for k, v in doc.items() if k != "hash"}
        if _digest(body) != expected:
            raise ValueError("plan hash does not match its content (was the file edited?)")
        plan = _decode_plan(body)
        return attrs.evolve(plan, hash=str(expected))

    @classmethod
    def from_json(cls, text: str) -> Plan:
        return cls.from_dict(json.loads(text, parse_float=Decimal, parse_int=Decimal))


def _digest(doc: dict[str, Any]) -> str:
    canonical = exactjson.dumps({k: doc[k] for k in sorted(doc) if k != "hash"})
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def with_hash(plan: Plan) -> Plan:
    return attrs.evolve(plan, hash=plan.to_dict()["hash"])


# ---- encoding (attrs values <-> JSON-ready data) ---------------------------------------


def _encode(x: Any) -> Any:
    if attrs.has(type(x)):
        return {k: _encode(v) for k, v in attrs.asdict(x, recurse=False).items()}
    if isinstance(x, dict):
        return {k: _encode(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return [_encode(v) for v in x]
    return x


def _tup(x: Any) -> Any:
    """JSON lists back to tuples, recursively (expressions are tuples)."""
    return tuple(_tup(v) for v in x) if isinstance(x, list) else x


def _band(d: dict[str, Any]) -> Band:
    return Band(d["low"], d["high"], d["low_closed"], d["high_closed"], d["result"], d["text"])


def _decode_plan(d: dict[str, Any]) -> Plan:
    return Plan(
        id=d["id"],
        title=d["title"],
        en=d["en"],
        source=d["source"],
        version=d["version"],
        total=d["total"],
        rounding=None if d["rounding"] is None else (int(d["rounding"][0]), d["rounding"][1]),
        inputs=tuple(
            Input(i["name"], i["type"], i["label"], i["clause"],
                  tuple(_band(b) for b in i["domain"]), i["required"])
            for i in d["inputs"]
        ),
        values=tuple(
            Value(v["name"], v["label"], v["en"], _tup(v["formula"]), v["input"],
                  tuple(_band(b) for b in v["bands"]), v["text"])
            for v in d["values"]
        ),
        items=tuple(
            Item(
                i["id"], i["parent"], i["label"], i["en"], i["max"], i["kind"], int(i["depth"]),
                i["input"], tuple(_band(b) for b in i["bands"]), _tup(i["formula"]), i["text"],
                tuple(Veto(_tup(v["condition"]), v["text"], v["reason"]) for v in i["vetoes"]),
                tuple(i["notes"]), tuple(i["children"]), i["category"],
            )
            for i in d["items"]
        ),
        gates=tuple(
            Gate(g["id"], g["label"], g["en"],
                 tuple(Requirement(_tup(r["condition"]), r["text"]) for r in g["requires"]))
            for g in d["gates"]
        ),
        levels=tuple(
            Level(lv["name"], lv["label"], lv["en"], _tup(lv["condition"]), lv["text"],
                  lv["min_total"])
            for lv in d["levels"]
        ),
        severe_depth=None if d["severe_depth"] is None else int(d["severe_depth"]),
        findings=d["findings"],
        rules=tuple(d["rules"]),
        acknowledged=tuple(
            Acknowledged(a["code"], a["message"], a["reason"], int(a["line"]))
            for a in d["acknowledged"]
        ),
        tiers=tuple(d.get("tiers", ())),
    )  # fmt: skip


# ---- lowering ----------------------------------------------------------------------------


class _Lowerer:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def unit(self, name: str) -> Decimal:
        """Percent inputs are held as fractions: a bound written 90% is 0.9."""
        inp = self.scope.inputs.get(name)
        return Decimal(100) if inp is not None and inp.type == "percent" else Decimal(1)

    def bands(self, input_name: str, bands: tuple[n.Band, ...]) -> tuple[Band, ...]:
        inp = self.scope.inputs[input_name]
        return tuple(self.band(inp, b.condition, b.result) for b in bands)

    def band(self, inp: n.Input, cond: n.Condition, result: Decimal) -> Band:
        if isinstance(cond, n.ElseCondition):
            return Band(None, None, False, False, result, "else")
        unit = self.unit(inp.name)
        suffix = "%" if inp.type == "percent" else ""
        (part,) = condition_set(cond).parts or (Interval(Decimal(1), Decimal(0)),)
        text = part.describe(lambda x: exactjson.number(x) + suffix)
        return Band(
            None if part.low is None else part.low / unit,
            None if part.high is None else part.high / unit,
            part.low_closed,
            part.high_closed,
            result,
            text,
        )

    def domain(self, inp: n.Input) -> tuple[Band, ...]:
        if inp.type == "bool":
            return ()
        unit = self.unit(inp.name)
        return tuple(
            Band(
                None if p.low is None else p.low / unit,
                None if p.high is None else p.high / unit,
                p.low_closed,
                p.high_closed,
                Decimal(0),
                p.describe(lambda x: exactjson.number(x) + ("%" if inp.type == "percent" else "")),
            )
            for p in self.scope.domain(inp)
        )

    def expr(self, e: n.Expr) -> Expr:
        match e:
            case n.Number(value):
                return ("num", value)
            case n.Percent(value):
                return ("num", value / 100)
            case n.Bool(value):
                return ("bool", value)
            case n.Name("total") if (
                "total" not in self.scope.inputs and "total" not in self.scope.values
            ):
                return ("total",)
            case n.Name(name) if name in self.scope.values:
                return ("value", name)
            case n.Name(name):
                return ("input", name)
            case n.ItemRef(item_id):
                return ("item", item_id)
            case n.Not(operand):
                return ("not", self.expr(operand))
            case n.Neg(operand):
                return ("neg", self.expr(operand))
            case n.Binary(op, left, right):
                return (op, self.expr(left), self.expr(right))
            case n.Compare(operands, ops):
                return ("cmp", ops, tuple(self.expr(o) for o in operands))
            case n.Call(func, args):
                return ("call", func, tuple(self.expr(a) for a in args))
            case n.Weighted(terms):
                return (
                    "weighted",
                    tuple((self.expr(t.ref), weight_fraction(t.weight)) for t in terms),
                )
        raise AssertionError(f"cannot lower {e!r}")


def _required_inputs(scheme: n.Scheme, scope: Scope) -> set[str]:
    """Inputs a score, gate or level depends on (directly or through values)."""
    roots: list[n.Expr] = []
    names: set[str] = set()
    for item, _ in scheme.walk_items():
        if isinstance(item.kind, n.Lookup):
            names.add(item.kind.input)
        elif isinstance(item.kind, n.Formula):
            roots.append(item.kind.expr)
        roots.extend(v.condition for v in item.vetoes)
    roots.extend(r.condition for g in scheme.gates for r in g.requires)
    roots.extend(lv.condition for lv in scheme.levels)
    seen: set[str] = set()
    while roots:
        for sub in walk_expr(roots.pop()):
            if not isinstance(sub, n.Name) or sub.name in seen:
                continue
            seen.add(sub.name)
            value = scope.values.get(sub.name)
            if value is None:
                names.add(sub.name)
            elif isinstance(value.kind, n.Formula):
                roots.append(value.kind.expr)
            else:
                names.add(value.kind.input)
    return names & set(scope.inputs)


def lower(scheme: n.Scheme) -> Plan:
    """The plan of a scheme that checked without errors."""
    scope = Scope.of(scheme)
    low = _Lowerer(scope)
    required = _required_inputs(scheme, scope)
    items: list[Item] = []
    for item, depth in scheme.walk_items():
        parent = scope.parents[item.id]
        common: dict[str, Any] = {
            "id": item.id,
            "parent": parent.id if parent else None,
            "label": item.label,
            "en": item.en,
            "max": item.points,
            "depth": depth,
            "vetoes": tuple(Veto(low.expr(v.condition), expr_text(v.condition), v.reason or "")
                            for v in item.vetoes),
            "notes": tuple(note.text for note in item.notes),
            "children": tuple(c.id for c in item.children),
            "category": item.category,
        }  # fmt: skip
        if item.children:
            items.append(Item(kind="parent", **common))
        elif isinstance(item.kind, n.Lookup):
            bands = low.bands(item.kind.input, item.bands)
            items.append(Item(kind="banded", input=item.kind.input, bands=bands, **common))
        elif isinstance(item.kind, n.Formula):
            formula = low.expr(item.kind.expr)
            text = expr_text(item.kind.expr)
            items.append(Item(kind="computed", formula=formula, text=text, **common))
        else:
            items.append(Item(kind="judged", **common))
    values = []
    for v in scheme.values:
        if isinstance(v.kind, n.Formula):
            values.append(Value(v.name, v.label, v.en, low.expr(v.kind.expr), None, (),
                                expr_text(v.kind.expr)))  # fmt: skip
        else:
            values.append(Value(v.name, v.label, v.en, None, v.kind.input,
                                low.bands(v.kind.input, v.bands), ""))  # fmt: skip
    levels = []
    for lv in scheme.levels:
        s = total_set(lv.condition)
        levels.append(Level(lv.name, lv.label, lv.en, low.expr(lv.condition),
                            expr_text(lv.condition), _least(s)))  # fmt: skip
    severe = [s for s in scheme.body if isinstance(s, n.SevereRule)]
    findings = [s for s in scheme.body if isinstance(s, n.FindingsRule)]
    rounding = scheme.meta("rounding")
    meta = {k: (m.value if (m := scheme.meta(k)) else None) for k in ("source", "version")}
    plan = Plan(
        id=scheme.id,
        title=scheme.title,
        en=scheme.en,
        source=meta["source"],
        version=meta["version"],
        total=scope.max_total,
        rounding=(int(rounding.value.split()[0]), rounding.value.split()[1]) if rounding else None,
        inputs=tuple(
            Input(i.name, i.type, i.label, i.clause, low.domain(i), i.name in required)
            for i in scheme.inputs
        ),
        values=tuple(values),
        items=tuple(items),
        gates=tuple(
            Gate(
                g.id,
                g.label,
                g.en,
                tuple(
                    Requirement(low.expr(r.condition), r.text or expr_text(r.condition))
                    for r in g.requires
                ),
            )
            for g in scheme.gates
        ),
        levels=tuple(levels),
        severe_depth=severe[-1].depth if severe else None,
        findings=bool(findings),
        rules=tuple(t for t in [r.text for r in severe] + [r.text for r in findings] if t),
        tiers=next((t.names for t in reversed(scheme.body) if isinstance(t, n.Tiers)), ()),
    )
    return with_hash(plan)


def _least(s: IntervalSet | None) -> Decimal | None:
    if s is None or s.empty or s.parts[0].low is None:
        return None
    return s.parts[0].low


def iter_descendants(plan: Plan, item_id: str) -> Iterator[Item]:
    for child in plan.item(item_id).children:
        yield plan.item(child)
        yield from iter_descendants(plan, child)
