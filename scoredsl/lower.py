"""Lower: checked AST -> `Plan` (the typed IR in `scoredsl.plan`).

Names are resolved (an input, a value, an item or the total), percentages become
fractions, weights become fractions, band conditions become intervals, and the text of
each formula is kept for people. Lowering runs once per load, on a scheme that checked
without errors; the plan gets its hash when it is complete (`plan.with_hash`).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from scoredsl import nodes as n
from scoredsl import plan as p
from scoredsl.groups import expand_groups
from scoredsl.intervals import Interval, IntervalSet
from scoredsl.printer import expr as expr_text
from scoredsl.semantics import (
    Scope,
    condition_set,
    is_percent,
    literal_value,
    readings,
    total_set,
    walk_expr,
    weight_fraction,
)

_ARITH = {op.value: op for op in p.ArithOp}
_LOGIC = {op.value: op for op in p.LogicOp}
_CMP = {op.value: op for op in p.CmpOp}
_FUNC = {f.value: f for f in p.Func}


class _Lowerer:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def unit(self, name: str) -> Decimal:
        """Percent inputs are held as fractions: a bound written 90% is 0.9."""
        inp = self.scope.inputs.get(name)
        return Decimal(100) if inp is not None and inp.type == "percent" else Decimal(1)

    def bands(self, input_name: str, bands: tuple[n.Band, ...]) -> tuple[p.Band, ...]:
        unit = self.unit(input_name)
        return tuple(self.band(b.condition, b.result, unit) for b in bands)

    @staticmethod
    def band(cond: n.Condition, result: Decimal, unit: Decimal) -> p.Band:
        if isinstance(cond, n.ElseCondition):
            return p.Band(None, None, False, False, result, is_else=True)
        (part,) = condition_set(cond).parts or (Interval(Decimal(1), Decimal(0)),)
        return p.Band(
            None if part.low is None else part.low / unit,
            None if part.high is None else part.high / unit,
            part.low_closed,
            part.high_closed,
            result,
        )

    def domain(self, inp: n.Input) -> tuple[Interval, ...]:
        if inp.type == "bool":
            return ()
        unit = self.unit(inp.name)
        return tuple(
            Interval(
                None if part.low is None else part.low / unit,
                None if part.high is None else part.high / unit,
                part.low_closed,
                part.high_closed,
            )
            for part in self.scope.domain(inp)
        )

    def expr(self, e: n.Expr) -> p.Expr:
        match e:
            case n.Number(value):
                return p.Num(value)
            case n.Percent(value):
                return p.Num(value / 100)
            case n.Bool(value):
                return p.Truth(value)
            case n.Name(name) if name in self.scope.values:
                return p.ValueRef(name)
            case n.Name(name) if name in self.scope.inputs:
                return p.InputRef(name)
            case n.Name("total"):
                return p.TotalRef()
            case n.ItemRef(item_id):
                return p.ItemRef(item_id)
            case n.GateRef(gate_id):
                return p.GateRef(gate_id)
            case n.Binary("else", left, right):
                return p.OnZero(self.expr(left), self.expr(right))
            case n.Not(operand):
                return p.Not(self.expr(operand))
            case n.Neg(operand):
                return p.Neg(self.expr(operand))
            case n.Binary(op, left, right) if op in _LOGIC:
                return p.Logic(_LOGIC[op], self.expr(left), self.expr(right))
            case n.Binary(op, left, right):
                return p.Arith(_ARITH[op], self.expr(left), self.expr(right))
            case n.Compare(operands, ops):
                return p.Compare(tuple(_CMP[o] for o in ops), tuple(self.expr(o) for o in operands))
            case n.Call(func, args):
                return p.Call(_FUNC[func], tuple(self.expr(a) for a in args))
            case n.Weighted(terms):
                return p.Weighted(
                    tuple(p.Term(self.expr(t.ref), weight_fraction(t.weight)) for t in terms)
                )
        raise AssertionError(f"cannot lower {e!r}")


def required_inputs(scheme: n.Scheme, scope: Scope) -> set[str]:
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
    if scheme.total is not None and scheme.total.formula is not None:
        roots.append(scheme.total.formula)  # the total is a score
    roots.extend(o.condition for o in scheme.outcomes if o.condition is not None)
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


def lower(scheme: n.Scheme, acknowledged: Iterable[p.Acknowledged] = ()) -> p.Plan:
    """The plan of a scheme that checked without errors (without its hash yet)."""
    scheme, _ = expand_groups(scheme)  # nothing to do when the loader has done it
    scope = Scope.of(scheme)
    low = _Lowerer(scope)
    required = required_inputs(scheme, scope)
    rounding = scheme.rounding
    severe = [s for s in scheme.body if isinstance(s, n.SevereRule)]
    findings = [s for s in scheme.body if isinstance(s, n.FindingsRule)]
    total_formula = None if scheme.total is None else scheme.total.formula
    return p.Plan(
        id=scheme.id,
        title=scheme.title,
        en=scheme.en,
        source=_meta(scheme, "source"),
        version=_meta(scheme, "version"),
        total=scope.max_total,
        rounding=None
        if rounding is None
        else p.Rounding(rounding.places, p.RoundingMode(rounding.mode)),
        inputs=tuple(
            p.Input(
                i.name,
                p.InputType(i.type),
                i.label,
                i.clause,
                low.domain(i),
                i.name in required and i.default is None,
                None if i.bound is None else p.Bound(_CMP[i.bound.op], i.bound.input),
                _default(i),
            )
            for i in scheme.inputs
        ),
        values=tuple(_value(low, v) for v in scheme.values),
        items=tuple(_item(low, scope, item, depth) for item, depth in scheme.walk_items()),
        gates=tuple(
            p.Gate(
                g.id,
                g.label,
                g.en,
                tuple(
                    p.Requirement(
                        low.expr(r.condition), r.text or r.written or expr_text(r.condition)
                    )
                    for r in g.requires
                ),
            )
            for g in scheme.gates
        ),
        levels=tuple(_level(low, lv) for lv in scheme.levels),
        severe_depth=severe[-1].depth if severe else None,
        findings=bool(findings),
        rules=tuple(t for t in [r.text for r in severe] + [r.text for r in findings] if t),
        tiers=next((t.names for t in reversed(scheme.body) if isinstance(t, n.Tiers)), ()),
        acknowledged=tuple(acknowledged),
        readings=tuple(p.Reading(r.text, where) for r, where in readings(scheme)),
        total_formula=None if total_formula is None else low.expr(total_formula),
        total_text="" if total_formula is None else expr_text(total_formula),
        outcomes=tuple(_outcome(low, o) for o in scheme.outcomes),
    )


def _outcome(low: _Lowerer, o: n.Outcome) -> p.Outcome:
    if o.condition is None:
        return p.Outcome(o.name, o.label, o.en, o.clause, None, "else")
    condition = low.expr(o.condition)
    return p.Outcome(o.name, o.label, o.en, o.clause, condition, expr_text(o.condition))


def _default(inp: n.Input) -> Decimal | bool | None:
    """An input's default in the plan's unit (a percentage as a fraction)."""
    match inp.default:
        case None:
            return None
        case n.Bool(value):
            return value
        case literal:
            x: Decimal = literal_value(literal)
            return x / 100 if is_percent(literal) else x


def _level(low: _Lowerer, lv: n.Level) -> p.Level:
    condition = low.expr(lv.condition)
    least = _least(total_set(lv.condition))
    text = lv.written or expr_text(lv.condition)
    return p.Level(lv.name, lv.label, lv.en, condition, text, least)


def _meta(scheme: n.Scheme, key: str) -> str | None:
    meta = scheme.meta(key)
    return meta.value if meta else None


def _value(low: _Lowerer, v: n.Value) -> p.Value:
    if isinstance(v.kind, n.Formula):
        formula = low.expr(v.kind.expr)
        text = v.kind.written or expr_text(v.kind.expr)
        return p.Value(v.name, v.label, v.en, formula, None, (), text, v.unit)
    bands = low.bands(v.kind.input, v.bands)
    return p.Value(v.name, v.label, v.en, None, v.kind.input, bands, "", v.unit)


def _item(low: _Lowerer, scope: Scope, item: n.Item, depth: int) -> p.Item:
    parent = scope.parents[item.id]
    common = {
        "id": item.id,
        "parent": parent.id if parent else None,
        "label": item.label,
        "en": item.en,
        "max": item.points,
        "depth": depth,
        "vetoes": tuple(
            p.Veto(low.expr(v.condition), v.written or expr_text(v.condition), v.reason or "")
            for v in item.vetoes
        ),
        "notes": tuple(note.text for note in item.notes),
        "children": tuple(c.id for c in item.children),
        "category": item.category,
        "sheet": item.sheet,
    }
    if item.children:
        return p.Item(kind=p.ItemKind.PARENT, **common)  # type: ignore[arg-type]
    if isinstance(item.kind, n.Lookup):
        bands = low.bands(item.kind.input, item.bands)
        return p.Item(kind=p.ItemKind.BANDED, input=item.kind.input, bands=bands, **common)  # type: ignore[arg-type]
    if isinstance(item.kind, n.Formula):
        formula = low.expr(item.kind.expr)
        text = item.kind.written or expr_text(item.kind.expr)
        return p.Item(kind=p.ItemKind.COMPUTED, formula=formula, text=text, **common)  # type: ignore[arg-type]
    return p.Item(kind=p.ItemKind.JUDGED, **common)  # type: ignore[arg-type]


def _least(s: IntervalSet | None) -> Decimal | None:
    if s is None or s.empty or s.parts[0].low is None:
        return None
    return s.parts[0].low
