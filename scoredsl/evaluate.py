"""Evaluate: `Plan` + `Assessment` -> `Result`, in exact Decimal arithmetic.

Every item gets a score, a status (scored, banded, vetoed, severe, deducted, computed) and
a `why` a person can read. Precedence on an item: severe > veto > findings or score.
The evaluator never sees the AST.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Any

import attrs

from scoredsl import plan as p
from scoredsl.data import Assessment
from scoredsl.exactjson import number
from scoredsl.plan import Band, Expr, Item, ItemKind, Plan, find_band

_MODES = {
    p.RoundingMode.HALF_UP: ROUND_HALF_UP,
    p.RoundingMode.HALF_EVEN: ROUND_HALF_EVEN,
    p.RoundingMode.DOWN: ROUND_DOWN,
    p.RoundingMode.UP: ROUND_UP,
}
ZERO = Decimal(0)


class EvaluationError(Exception):
    """A formula could not be computed (division by zero, a missing optional input...)."""


@attrs.frozen
class ItemResult:
    id: str
    parent: str | None
    title: str
    max: Decimal
    score: Decimal
    status: str
    explain: Callable[[], str] = attrs.field(eq=False, repr=False)

    @property
    def why(self) -> str:
        """Formatted on demand: a batch that writes only totals never pays for it."""
        return self.explain()


@attrs.frozen
class GateResult:
    id: str
    label: str
    passed: bool
    why: str


@attrs.frozen
class Result:
    plan: Plan
    id: str | None
    eligible: bool
    gates: tuple[GateResult, ...]
    total: Decimal
    level: str | None
    next_level: tuple[str, Decimal | None] | None
    values: dict[str, Decimal | None]
    items: tuple[ItemResult, ...]
    scores: dict[str, Decimal] = attrs.field(eq=False, repr=False, factory=dict)

    @property
    def level_label(self) -> str | None:
        return next((lv.label for lv in self.plan.levels if lv.name == self.level), None)

    def to_dict(self) -> dict[str, Any]:
        p = self.plan
        doc: dict[str, Any] = {}
        if self.id is not None:
            doc["id"] = self.id
        doc |= {
            "scheme": {"id": p.id, "title": p.title, "version": p.version, "hash": p.hash},
            "eligible": self.eligible,
            "gates": [{"id": g.id, "passed": g.passed, "why": g.why} for g in self.gates],
            "total": self.total,
            "max": p.total,
            "level": self.level,
            "level_label": self.level_label,
            "next_level": None
            if self.next_level is None
            else {"level": self.next_level[0], "needs": self.next_level[1]},
            "values": dict(self.values),
            "items": [
                {
                    "id": i.id,
                    "parent": i.parent,
                    "title": i.title,
                    "max": i.max,
                    "score": i.score,
                    "status": i.status,
                    "why": i.why,
                }
                for i in self.items
            ],
        }
        return doc


class _Missing(Exception):
    """An optional input is absent: the value that needs it is reported as null."""


class _Run:
    """One evaluation: memoised values and item scores over one assessment."""

    def __init__(self, plan: Plan, data: Assessment) -> None:
        self.plan = plan
        self.data = data
        self.values: dict[str, Decimal] = {}
        self.scores: dict[str, Decimal] = {}
        self.total: Decimal | None = None
        self.value_defs = {v.name: v for v in plan.values}
        self.inputs = {i.name: i for i in plan.inputs}
        self.rounding = plan.rounding

    def round(self, x: Decimal) -> Decimal:
        if self.rounding is None:
            return x
        return x.quantize(
            Decimal(1).scaleb(-self.rounding.places), rounding=_MODES[self.rounding.mode]
        )

    # ---- expressions ------------------------------------------------------------------

    def eval(self, e: Expr) -> Any:
        match e:
            case p.Num(value) | p.Truth(value):
                return value
            case p.InputRef(name):
                if name not in self.data.inputs:
                    raise _Missing(name)
                return self.data.inputs[name]
            case p.ValueRef(name):
                return self.value(name)
            case p.ItemRef(item_id):
                return self.item_score(item_id)
            case p.TotalRef():
                if self.total is None:
                    raise EvaluationError("total is not known yet here")
                return self.total
            case p.Not(operand):
                return not self.eval(operand)
            case p.Neg(operand):
                return -self.eval(operand)
            case p.Logic(p.LogicOp.AND, left, right):
                return self.eval(left) and self.eval(right)
            case p.Logic(p.LogicOp.OR, left, right):
                return self.eval(left) or self.eval(right)
            case p.Compare(ops, operands):
                return self.compare(ops, operands)
            case p.Call(func, args):
                return self.call(func, [self.eval(a) for a in args])
            case p.Weighted(terms):
                return sum((self.eval(t.ref) * t.weight for t in terms), ZERO)
            case p.Arith(op, left, right):
                a, b = self.eval(left), self.eval(right)
                if op is p.ArithOp.ADD:
                    return a + b
                if op is p.ArithOp.SUB:
                    return a - b
                if op is p.ArithOp.MUL:
                    return a * b
                if b == 0:
                    raise EvaluationError("division by zero")
                return a / b
        raise AssertionError(f"unknown expression {e!r}")

    def compare(self, ops: tuple[p.CmpOp, ...], operands: tuple[Expr, ...]) -> bool:
        values = [self.eval(o) for o in operands]
        for op, a, b in zip(ops, values, values[1:], strict=False):
            ok = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "=": a == b, "!=": a != b}[
                op.value
            ]
            if not ok:
                return False
        return True

    @staticmethod
    def call(func: p.Func, args: list[Decimal]) -> Decimal:
        if func is p.Func.MIN:
            return min(args)
        if func is p.Func.MAX:
            return max(args)
        if func is p.Func.ABS:
            return abs(args[0])
        if func is p.Func.FLOOR:
            return args[0].to_integral_value(rounding=ROUND_DOWN if args[0] >= 0 else ROUND_UP)
        if func is p.Func.CEIL:
            return args[0].to_integral_value(rounding=ROUND_UP if args[0] >= 0 else ROUND_DOWN)
        if func is p.Func.ROUND:
            places = int(args[1]) if len(args) > 1 else 0
            return args[0].quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        raise AssertionError(func)

    def value(self, name: str) -> Decimal:
        if name not in self.values:
            v = self.value_defs[name]
            if v.formula is not None:
                self.values[name] = self.eval(v.formula)
            else:
                assert v.input is not None
                x = self.eval(p.InputRef(v.input))
                band = _find_band(v.bands, x)
                if band is None:
                    raise EvaluationError(f"no band of {name} covers {self.show(v.input, x)}")
                self.values[name] = band.result
        return self.values[name]

    def show(self, name: str, x: Decimal | bool) -> str:
        if isinstance(x, bool):
            return "true" if x else "false"
        return self.inputs[name].show(x)

    # ---- items ------------------------------------------------------------------------

    def item_score(self, item_id: str) -> Decimal:
        """An item's score for a formula: scored on demand, in any document order."""
        if item_id not in self.scores:
            item = self.plan.item(item_id)
            self._item(item, self._inherited(item), None)
        return self.scores[item_id]

    def _inherited(self, item: Item) -> tuple[str, str] | None:
        """The severe or veto state an item inherits from its ancestors, if any."""
        chain = []
        parent = item.parent
        while parent is not None:
            chain.append(self.plan.item(parent))
            parent = chain[-1].parent
        forced = None
        for ancestor in reversed(chain):
            forced = forced or self._forced(ancestor)
        return forced

    def items(self, detail: bool = True) -> list[ItemResult]:
        """Score every item; with `detail`, also the per-item results in document order."""
        out: list[ItemResult] | None = [] if detail else None
        for top in self.plan.top_items:
            self._item(top, None, out)
        return out or []

    def _item(
        self, item: Item, forced: tuple[str, str] | None, out: list[ItemResult] | None
    ) -> Decimal:
        index = len(out) if out is not None else 0
        if out is not None:
            out.append(None)  # type: ignore[arg-type]  # placeholder keeps document order
        forced = forced or self._forced(item)
        children = [self._item(c, forced, out) for c in self.plan.children_of(item)]
        explain: Callable[[], str]
        if forced is not None:
            status, score = forced[0], ZERO
            explain = _constant(forced[1])
        elif item.kind is ItemKind.PARENT:
            score = sum(children, ZERO)
            status, explain = "computed", _sum_of(children)
        elif item.kind is ItemKind.BANDED:
            status, score, explain = self._banded(item)
        elif item.kind is ItemKind.COMPUTED:
            assert item.formula is not None
            score = self.round(self.eval(item.formula))
            status, explain = "computed", _formula(item.text, score)
        elif item.id in self.data.findings:
            problems, samples = self.data.findings[item.id]
            score = self.round(item.max * (1 - Decimal(problems) / Decimal(samples)))
            status, explain = "deducted", _deducted(item.max, problems, samples, score)
        else:
            score = self.data.scores[item.id]
            status, explain = "scored", _awarded(score, item.max)
        self.scores[item.id] = score
        if out is not None:
            out[index] = ItemResult(
                item.id, item.parent, item.label, item.max, score, status, explain
            )
        return score

    def _forced(self, item: Item) -> tuple[str, str] | None:
        """Severe (6.4) or vetoed: the item scores 0 whatever else the data says."""
        if item.id in self.data.severe:
            return ("severe", f"severe problem found in {item.id} ({item.label}): "
                              f"all {number(item.max)} points deducted")  # fmt: skip
        for veto in item.vetoes:
            if self.eval(veto.condition):
                return ("vetoed", f"vetoed: {self._explain(veto.condition, veto.text)} "
                                  f"({veto.reason})")  # fmt: skip
        return None

    def _banded(self, item: Item) -> tuple[str, Decimal, Callable[[], str]]:
        assert item.input is not None
        x = self.eval(p.InputRef(item.input))
        band = _find_band(item.bands, x)
        label = self.inputs[item.input].label or item.input
        if band is None:
            raise EvaluationError(f"no band of {item.id} covers {label} {self.show(item.input, x)}")
        shown = self.show
        show_bound = self.inputs[item.input].show

        def explain() -> str:
            return (
                f"{label} {shown(item.input or '', x)} is in {band.describe(show_bound)}: "
                f"{number(band.result)} of {number(item.max)}"
            )

        return "banded", band.result, explain

    def _explain(self, condition: Expr, text: str) -> str:
        """Name the true/false inputs behind a condition: 'a is true', 'rate is 98%'."""
        facts = []
        for name in p.input_names(condition):
            try:
                facts.append(f"{name} is {self.show(name, self.eval(p.InputRef(name)))}")
            except _Missing:
                continue
        if len(facts) == 1 and text.strip() == facts[0].split(" is ")[0]:
            return facts[0]
        return f"{text} holds" + (f" ({', '.join(facts)})" if facts else "")

    # ---- gates and levels -------------------------------------------------------------

    def gates(self) -> list[GateResult]:
        out = []
        for gate in self.plan.gates:
            failed = [
                f"{r.text} ({self._explain(r.condition, '').removeprefix(' holds').strip(' ()')})"
                for r in gate.requires
                if not self.eval(r.condition)
            ]
            why = (
                f"all {len(gate.requires)} condition(s) hold"
                if not failed
                else "not met: " + "; ".join(failed)
            )
            out.append(GateResult(gate.id, gate.label, not failed, why))
        return out


def _constant(text: str) -> Callable[[], str]:
    return lambda: text


def _sum_of(children: list[Decimal]) -> Callable[[], str]:
    return lambda: f"sum of its {len(children)} items: " + " + ".join(map(number, children))


def _formula(text: str, score: Decimal) -> Callable[[], str]:
    return lambda: f"= {text} = {number(score)}"


def _deducted(top: Decimal, problems: int, samples: int, score: Decimal) -> Callable[[], str]:
    return lambda: (
        f"{problems} problem(s) in {samples} samples: "
        f"{number(top)} x (1 - {problems}/{samples}) = {number(score)}"
    )


def _awarded(score: Decimal, top: Decimal) -> Callable[[], str]:
    return lambda: f"awarded {number(score)} of {number(top)}"


def _find_band(bands: tuple[Band, ...], x: Decimal) -> Band | None:
    k = find_band(bands, x)
    return None if k is None else bands[k]


def evaluate(plan: Plan, data: Assessment, detail: bool = True) -> Result:
    """Evaluate one assessment. Without `detail`, `items` is empty (scores are still in
    `scores`): the batch CSV writer needs no per-item explanations."""
    run = _Run(plan, data)
    items = run.items(detail)
    total = run.round(sum((run.scores[i.id] for i in plan.top_items), ZERO))
    run.total = total
    gates = run.gates()
    eligible = all(g.passed for g in gates)
    reached = [i for i, lv in enumerate(plan.levels) if run.eval(lv.condition)]
    index = reached[-1] if reached else -1
    level = plan.levels[index].name if eligible and reached else None
    next_level = None  # an organisation that is not eligible has no level to climb to
    if eligible and index + 1 < len(plan.levels):
        target = plan.levels[index + 1]
        needs = None if target.min_total is None else max(ZERO, target.min_total - total)
        next_level = (target.name, needs)
    values: dict[str, Decimal | None] = {}
    for v in plan.values:
        try:
            values[v.name] = run.value(v.name)
        except (_Missing, EvaluationError):
            values[v.name] = None
    return Result(
        plan, data.id, eligible, tuple(gates), total, level, next_level, values, tuple(items),
        run.scores,
    )  # fmt: skip
