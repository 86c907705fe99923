"""Evaluate: `Plan` + `Assessment` -> `Result`, in exact Decimal arithmetic (the reference
engine: every faster engine is tested against it).

A plan is compiled once (and kept with it, `Plan.derived`) into closures over a row of
slots: inputs, values and item scores each have a fixed index, expressions are closures
that read them, so evaluating an assessment does no dispatch on expression classes.
Every item gets a score, a `Status` and what decided it (`scoredsl.why`: which band,
which veto, which rule); sentences are made from that only when someone reads them.
Precedence on an item: severe > veto > findings or score.

Arithmetic is exact except that the result of every multiplication and division is
rounded half-even to `PLACES` decimal places, the rule the SQL engine implements too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import (
    ROUND_CEILING,
    ROUND_DOWN,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    ROUND_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

import attrs

from scoredsl import plan as p
from scoredsl.data import Assessment
from scoredsl.plan import PLACES, Expr, Item, ItemKind, Plan, find_band
from scoredsl.why import (
    Awarded,
    Banded,
    Computed,
    Deducted,
    Fact,
    GateWhy,
    OutcomeWhy,
    Severe,
    Status,
    SumOf,
    Vetoed,
    Why,
    describe,
    gate_text,
    outcome_text,
)

ZERO = Decimal(0)
_STEP = Decimal(1).scaleb(-PLACES)
_CONTEXT = Context(
    prec=100, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, Overflow, DivisionByZero]
)
_MODES = {
    p.RoundingMode.HALF_UP: ROUND_HALF_UP,
    p.RoundingMode.HALF_EVEN: ROUND_HALF_EVEN,
    p.RoundingMode.DOWN: ROUND_DOWN,
    p.RoundingMode.UP: ROUND_UP,
}


class EvaluationError(Exception):
    """A formula could not be computed (division by zero, a value out of every band...)."""


class ZeroDivisor(EvaluationError):
    """A division by 0: `a / b else x` gives x; anywhere else the evaluation fails."""


def multiply(a: Decimal, b: Decimal) -> Decimal:
    """a x b, rounded half-even to `PLACES` places (exact when it has no more)."""
    return _CONTEXT.multiply(a, b).quantize(_STEP, context=_CONTEXT)


def divide(a: Decimal, b: Decimal) -> Decimal:
    """a / b, rounded half-even to `PLACES` places."""
    if b == 0:
        raise ZeroDivisor("division by zero")
    return _CONTEXT.divide(a, b).quantize(_STEP, context=_CONTEXT)


# ---- results -----------------------------------------------------------------------------


@attrs.frozen
class ItemResult:
    id: str
    parent: str | None
    title: str
    max: Decimal
    score: Decimal
    status: Status
    reason: Why
    plan: Plan = attrs.field(eq=False, repr=False)

    @property
    def why(self) -> str:
        return self.text("en")

    def text(self, lang: str) -> str:
        """Why the item got its score, in `lang`."""
        return describe(self.reason, self.plan, lang)


@attrs.frozen
class GateResult:
    id: str
    label: str
    passed: bool
    reason: GateWhy
    plan: Plan = attrs.field(eq=False, repr=False)
    index: int = attrs.field(eq=False, repr=False, default=0)

    @property
    def why(self) -> str:
        return self.text("en")

    def text(self, lang: str) -> str:
        return gate_text(self.reason, self.plan, self.index, lang)


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
    scores: dict[str, Decimal] = attrs.field(eq=False, repr=False)
    decisions: tuple[Why | None, ...] = attrs.field(eq=False, repr=False)
    data: Assessment = attrs.field(eq=False, repr=False)
    outcome: str | None = None  # the id of the outcome decided (None: none declared or held)
    outcome_reason: OutcomeWhy | None = attrs.field(default=None, eq=False, repr=False)

    @property
    def outcome_label(self) -> str | None:
        outcome = None if self.outcome is None else self.plan.outcome(self.outcome)
        return None if outcome is None else outcome.label

    def outcome_text(self, lang: str) -> str | None:
        """Why the outcome holds, in `lang` (None when no outcome holds)."""
        if self.outcome_reason is None:
            return None
        return outcome_text(self.outcome_reason, self.plan, lang)

    def outcome_dict(self, lang: str = "en") -> dict[str, Any] | None:
        """``{"id", "label", "en", "clause", "why"}`` of the outcome decided, or None."""
        outcome = None if self.outcome is None else self.plan.outcome(self.outcome)
        if outcome is None:
            return None
        return {"id": outcome.id, "label": outcome.label, "en": outcome.en,
                "clause": outcome.clause, "why": self.outcome_text(lang)}  # fmt: skip

    @functools.cached_property
    def items(self) -> tuple[ItemResult, ...]:
        """Every item in document order, with its status and reason."""
        return tuple(
            _item_result(self.plan, item, self.scores, decision, self.data)
            for item, decision in zip(self.plan.items, self.decisions, strict=True)
        )

    @property
    def level_label(self) -> str | None:
        level = None if self.level is None else self.plan.level(self.level)
        return None if level is None else level.label

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The result contract; `why` texts in `lang` (`status` stays the code)."""
        plan = self.plan
        doc: dict[str, Any] = {}
        if self.id is not None:
            doc["id"] = self.id
        doc |= {
            "scheme": {"id": plan.id, "title": plan.title, "version": plan.version,
                       "hash": plan.hash},
            "eligible": self.eligible,
            "gates": [{"id": g.id, "passed": g.passed, "why": g.text(lang)} for g in self.gates],
            "total": self.total,
            "max": plan.total,
            "level": self.level,
            "level_label": self.level_label,
            "next_level": None
            if self.next_level is None
            else {"level": self.next_level[0], "needs": self.next_level[1]},
            "values": dict(self.values),
            "outcome": self.outcome_dict(lang),
            "items": [
                {"id": item.id, "parent": item.parent, "title": item.label, "max": item.max,
                 "score": self.scores[item.id], "status": status.value,
                 "why": describe(reason, plan, lang)}
                for item, decision in zip(plan.items, self.decisions, strict=True)
                for status, reason in [_item_reason(item, self.scores, decision, self.data)]
            ],
        }  # fmt: skip
        return doc


def _item_result(
    plan: Plan, item: Item, scores: dict[str, Decimal], decision: Why | None, data: Assessment
) -> ItemResult:
    status, reason = _item_reason(item, scores, decision, data)
    return ItemResult(
        item.id, item.parent, item.label, item.max, scores[item.id], status, reason, plan
    )


def _item_reason(
    item: Item, scores: dict[str, Decimal], decision: Why | None, data: Assessment
) -> tuple[Status, Why]:
    """An item's status and reason: what the run decided (a band, a veto, a severe mark),
    or what follows from the item's kind and the data."""
    if decision is None:
        kind = item.kind
        if kind is ItemKind.JUDGED:
            if item.id in data.findings:
                problems, samples = data.findings[item.id]
                score = scores[item.id]
                return Status.DEDUCTED, Deducted(item.max, problems, samples, score)
            return Status.SCORED, Awarded(scores[item.id], item.max)
        if kind is ItemKind.PARENT:
            return Status.COMPUTED, SumOf(tuple([scores[c] for c in item.children]))
        if kind is ItemKind.COMPUTED:
            return Status.COMPUTED, Computed(item.text, scores[item.id])
    elif isinstance(decision, Banded):
        return Status.BANDED, decision
    elif isinstance(decision, Severe):
        return Status.SEVERE, decision
    elif isinstance(decision, Vetoed):
        return Status.VETOED, decision
    raise AssertionError(f"no status for {decision!r} on {item.id}")


# ---- the compiled program ----------------------------------------------------------------


class _Missing(Exception):
    """An optional input is absent: a value that needs it is reported as null."""


_UNSET: Any = object()


class _Row:
    """One evaluation: the slots (inputs, values, item scores), the items a severe mark or a
    veto forces to 0, and what decided each item where the data alone does not say."""

    __slots__ = ("data", "decisions", "forced", "gates", "slots", "total")

    def __init__(self, slots: list[Any], items: int, data: Assessment) -> None:
        self.slots = slots
        self.forced: list[Why | None] | None = None  # by guarded item, once known
        self.decisions: list[Why | None] = [None] * items
        self.data = data
        self.total: Decimal | None = None
        self.gates: list[bool] | None = None  # by gate, once decided


Fn = Callable[[_Row], Any]


class Program:
    """A plan compiled into closures; `Program.of(plan)` compiles each plan once."""

    @staticmethod
    def of(plan: Plan) -> Program:
        return plan.derived("evaluate.Program", Program)

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.inputs = [i.name for i in plan.inputs]
        self.input_slot = {name: k for k, name in enumerate(self.inputs)}
        base = len(self.inputs)
        self.value_slot = {v.name: base + k for k, v in enumerate(plan.values)}
        base += len(plan.values)
        self.item_index = {item.id: k for k, item in enumerate(plan.items)}
        self.item_base = base
        self.size = base + len(plan.items)
        self.rounding: Callable[[Decimal], Decimal] = _rounder(plan.rounding)
        self.value_fns: list[Fn] = [self._value(v) for v in plan.values]
        self.value_reads = [self._value_ref(v.name) for v in plan.values]
        self.children = [tuple(self.item_index[c] for c in item.children) for item in plan.items]
        self.parent = [None if i.parent is None else self.item_index[i.parent] for i in plan.items]
        self.guards = [self._guard(item) for item in plan.items]
        self.kernels = [self._kernel(k, item) for k, item in enumerate(plan.items)]
        self.anchor, self.guarded, self.outer = self._anchors(vetoes_only=False)
        self.vetoes_only = self._anchors(vetoes_only=True)
        self.order = self._order(self.anchor)
        self.order_vetoes = self._order(self.vetoes_only[0])
        self.tops = [self.item_index[i.id] for i in plan.summed_items]
        self.total_formula = None if plan.total_formula is None else self.expr(plan.total_formula)
        self.gates = [
            [(self.expr(r.condition), p.fact_names(r.condition)) for r in gate.requires]
            for gate in plan.gates
        ]
        self.levels = [self.expr(lv.condition) for lv in plan.levels]
        self.gate_index = {g.id: k for k, g in enumerate(plan.gates)}
        self.outcomes = [
            None
            if o.condition is None
            else (
                self.expr(o.condition),
                p.input_names(o.condition),
                [x.id for x in p.walk(o.condition) if isinstance(x, p.GateRef)],
            )
            for o in plan.outcomes
        ]

    # ---- expressions ------------------------------------------------------------------

    def expr(self, e: Expr) -> Fn:
        match e:
            case p.Num(value) | p.Truth(value):
                return lambda row: value
            case p.InputRef(name):
                return self._input(name)
            case p.ValueRef(name):
                return self._value_ref(name)
            case p.ItemRef(item_id):
                k = self.item_index[item_id]
                return lambda row: self.score(row, k)
            case p.TotalRef():
                return _total
            case p.GateRef(gate_id):
                return _gate_ref(self.gate_index[gate_id])
            case p.OnZero(value, otherwise):
                reads = [self._input(name) for name in p.input_names(value)]
                reads += [
                    self._value_ref(x.name) for x in p.walk(value) if isinstance(x, p.ValueRef)
                ]
                return _on_zero(self.expr(value), self.expr(otherwise), reads)
            case p.Not(operand):
                f = self.expr(operand)
                return lambda row: not f(row)
            case p.Neg(operand):
                f = self.expr(operand)
                return lambda row: -f(row)
            case p.Logic(p.LogicOp.AND, left, right):
                a, b = self.expr(left), self.expr(right)
                return lambda row: a(row) and b(row)
            case p.Logic(p.LogicOp.OR, left, right):
                a, b = self.expr(left), self.expr(right)
                return lambda row: a(row) or b(row)
            case p.Arith(op, left, right):
                return _arith(op, self.expr(left), self.expr(right))
            case p.Compare(ops, operands):
                return _compare(ops, [self.expr(o) for o in operands])
            case p.Call(func, args):
                return _call(func, [self.expr(a) for a in args])
            case p.Weighted(terms):
                parts = [(self.expr(t.ref), t.weight) for t in terms]
                return lambda row: sum((multiply(f(row), w) for f, w in parts), ZERO)
        raise AssertionError(f"the evaluator has no rule for {e!r}")

    def _input(self, name: str) -> Fn:
        k = self.input_slot[name]

        def read(row: _Row) -> Any:
            x = row.slots[k]
            if x is _UNSET:
                raise _Missing(name)
            return x

        return read

    def _value_ref(self, name: str) -> Fn:
        k = self.value_slot[name]
        index = k - len(self.inputs)

        def read(row: _Row) -> Any:
            x = row.slots[k]
            if x is _UNSET:
                x = row.slots[k] = self.value_fns[index](row)
            return x

        return read

    def _value(self, v: p.Value) -> Fn:
        if v.formula is not None:
            return self.expr(v.formula)
        assert v.input is not None
        read, bands, name = self._input(v.input), v.bands, v.name
        inp = self.plan.input(v.input)

        def lookup(row: _Row) -> Decimal:
            x = read(row)
            k = find_band(bands, x)
            if k is None:
                raise EvaluationError(f"no band of {name} covers {inp.show(x)}")
            return bands[k].result

        return lookup

    def facts(self, row: _Row, names: list[str]) -> tuple[Fact, ...]:
        """The inputs (and values) a condition reads, with their values (absent or not
        computed ones left out)."""
        slots, index, values = row.slots, self.input_slot, self.value_slot
        found = ((n, slots[index[n] if n in index else values[n]]) for n in names)
        return tuple((n, x) for n, x in found if x is not _UNSET and x is not None)

    # ---- items ------------------------------------------------------------------------

    def _guard(self, item: Item) -> Callable[[_Row], Why | None] | None:
        """Severe (6.4) or a veto of the item itself: it scores 0 whatever else is given."""
        severe = item.depth == self.plan.severe_depth
        vetoes = [(self.expr(v.condition), p.input_names(v.condition)) for v in item.vetoes]
        if not severe and not vetoes:
            return None
        item_id = item.id

        def guard(row: _Row) -> Why | None:
            if severe and item_id in row.data.severe:
                return Severe(item_id)
            for j, (condition, names) in enumerate(vetoes):
                if condition(row):
                    return Vetoed(item_id, j, self.facts(row, names))
            return None

        return guard

    def _kernel(self, k: int, item: Item) -> Callable[[_Row], Decimal]:
        """The item's own score (its children already scored); a band is recorded."""
        top, item_id, rounding = item.max, item.id, self.rounding
        match item.kind:
            case ItemKind.PARENT:
                slots = [self.item_base + c for c in self.children[k]]
                return lambda row: sum([row.slots[c] for c in slots], ZERO)
            case ItemKind.BANDED:
                assert item.input is not None
                read, bands, inp = self._input(item.input), item.bands, self.plan.input(item.input)

                def banded(row: _Row) -> Decimal:
                    x = read(row)
                    j = find_band(bands, x)
                    if j is None:
                        label = inp.label or inp.name
                        raise EvaluationError(f"no band of {item_id} covers {label} {inp.show(x)}")
                    row.decisions[k] = Banded(item_id, x, j)
                    return bands[j].result

                return banded
            case ItemKind.COMPUTED:
                assert item.formula is not None
                formula = self.expr(item.formula)
                return lambda row: rounding(formula(row))
            case ItemKind.JUDGED:

                def judged(row: _Row) -> Decimal:
                    data = row.data
                    if item_id not in data.findings:
                        return data.scores[item_id]
                    problems, samples = data.findings[item_id]
                    kept = multiply(top, Decimal(samples - problems))
                    return rounding(divide(kept, Decimal(samples)))

                return judged
        raise AssertionError(f"the evaluator has no rule for items of kind {item.kind!r}")

    def _anchors(self, vetoes_only: bool) -> tuple[list[int], list[int], list[int]]:
        """For each item, the nearest guarded item at or above it (-1: none); the guarded
        items in document order; for each, the nearest guarded item strictly above it.
        With `vetoes_only`, items guarded by the severe rule alone are left out: an
        assessment that marks nothing severe need not look at them."""
        anchor, outer = [-1] * len(self.guards), [-1] * len(self.guards)
        guarded = []
        for k, guard in enumerate(self.guards):
            parent = self.parent[k]
            above = -1 if parent is None else anchor[parent]
            if guard is not None and (self.plan.items[k].vetoes or not vetoes_only):
                guarded.append(k)
                outer[k] = above
                anchor[k] = k
            else:
                anchor[k] = above
        return anchor, guarded, outer

    def _order(self, anchor: list[int]) -> list[tuple[int, int, int, Callable[[_Row], Decimal]]]:
        """(item, its slot, its guard anchor, its kernel), children before parents."""
        return [
            (k, self.item_base + k, anchor[k], self.kernels[k])
            for k in reversed(range(len(self.kernels)))
        ]

    def forced(self, row: _Row, k: int) -> Why | None:
        """The severe mark or veto that zeroes item k, if any."""
        a = self.anchor[k]
        if row.forced is not None and not row.data.severe:
            a = self.vetoes_only[0][k]
        if a < 0:
            return None
        if row.forced is not None:
            return row.forced[a]
        found = None
        while a >= 0 and found is None:  # before the guards pass: walk up (rare)
            guard = self.guards[a]
            assert guard is not None
            found = guard(row) or found
            a = self.outer[a]
        return found

    def guard_all(self, row: _Row, guarded: list[int], outer: list[int]) -> None:
        """Decide every guard once, top-down: a forced item forces its subtree."""
        forced: list[Why | None] = [None] * len(self.guards)
        guards = self.guards
        for k in guarded:
            o = outer[k]
            found = forced[o] if o >= 0 else None
            forced[k] = found if found is not None else guards[k](row)  # type: ignore[misc]
        row.forced = forced

    def ensure(self, row: _Row, k: int) -> Decimal:
        """Item k's score, computing it (and its subtree) if it is not known yet."""
        slot = self.item_base + k
        score = row.slots[slot]
        if score is _UNSET:
            for c in self.children[k]:
                self.ensure(row, c)
            forced = self.forced(row, k)
            if forced is None:
                score = self.kernels[k](row)
            else:
                score, row.decisions[k] = ZERO, forced
            row.slots[slot] = score
        return score  # type: ignore[no-any-return]

    def score(self, row: _Row, k: int) -> Decimal:
        """An item's score for a formula, in any document order (scored on demand)."""
        return self.ensure(row, k)

    # ---- one assessment ---------------------------------------------------------------

    def run(self, data: Assessment) -> Result:
        plan = self.plan
        slots: list[Any] = [_UNSET] * self.size
        given = data.inputs
        for k, name in enumerate(self.inputs):
            if name in given:
                slots[k] = given[name]
        row = _Row(slots, len(plan.items), data)
        if data.severe:
            guarded, outer, order = self.guarded, self.outer, self.order
        else:
            guarded, outer, order = self.vetoes_only[1], self.vetoes_only[2], self.order_vetoes
        self.guard_all(row, guarded, outer)
        forced, decisions = row.forced, row.decisions
        assert forced is not None
        for k, slot, a, kernel in order:  # children before parents
            if slots[slot] is not _UNSET:
                continue  # scored on demand by a formula
            why = forced[a] if a >= 0 else None
            if why is None:
                slots[slot] = kernel(row)
            else:
                slots[slot], decisions[k] = ZERO, why
        base = self.item_base
        if self.total_formula is None:
            total = self.rounding(sum((slots[base + k] for k in self.tops), ZERO))
        else:
            total = self.rounding(self.total_formula(row))
        row.total = total
        gates = tuple(self._gate(row, g) for g in range(len(plan.gates)))
        row.gates = [g.passed for g in gates]
        eligible = all(g.passed for g in gates)
        reached = [k for k, level in enumerate(self.levels) if level(row)]
        index = reached[-1] if reached else -1
        level = plan.levels[index].name if eligible and reached else None
        next_level = None  # an organisation that is not eligible has no level to climb to
        if eligible and index + 1 < len(plan.levels):
            target = plan.levels[index + 1]
            needs = None if target.min_total is None else max(ZERO, target.min_total - total)
            next_level = (target.name, needs)
        values: dict[str, Decimal | None] = {}
        for v, read in zip(plan.values, self.value_reads, strict=True):
            try:
                values[v.name] = read(row)
            except (_Missing, EvaluationError):
                values[v.name] = None
        scores = {item.id: slots[base + k] for k, item in enumerate(plan.items)}
        outcome, decided = self._outcome(row)
        return Result(
            plan, data.id, eligible, gates, total, level, next_level, values, scores,
            tuple(row.decisions), data, outcome, decided,
        )  # fmt: skip

    def _outcome(self, row: _Row) -> tuple[str | None, OutcomeWhy | None]:
        """The first outcome whose condition holds (`else` always does), and why."""
        for k, (outcome, test) in enumerate(zip(self.plan.outcomes, self.outcomes, strict=True)):
            if test is None:
                return outcome.id, OutcomeWhy(k, ())
            condition, names, gates = test
            if condition(row):
                passed = dict(zip((g.id for g in self.plan.gates), row.gates or (), strict=True))
                failed = tuple(dict.fromkeys(g for g in gates if not passed[g]))
                return outcome.id, OutcomeWhy(k, self.facts(row, names), failed)
        return None, None

    def _gate(self, row: _Row, g: int) -> GateResult:
        gate = self.plan.gates[g]
        failed = tuple(
            (j, self.facts(row, names))
            for j, (condition, names) in enumerate(self.gates[g])
            if not condition(row)
        )
        why = GateWhy(len(gate.requires), failed)
        return GateResult(gate.id, gate.label, not failed, why, self.plan, g)


# ---- closures for the operators -----------------------------------------------------------


def _total(row: _Row) -> Decimal:
    if row.total is None:
        raise EvaluationError("total is not known yet here")
    return row.total


def _gate_ref(g: int) -> Fn:
    def passed(row: _Row) -> bool:
        if row.gates is None:
            raise EvaluationError("a gate is read before the gates are decided")
        return row.gates[g]

    return passed


def _on_zero(value: Fn, otherwise: Fn, reads: list[Fn]) -> Fn:
    """`a / b else x`: x when a divisor in `a` is 0, provided every input and value `a`
    reads is given (whatever the order it reads them in: a missing one fails as before)."""

    def guarded(row: _Row) -> Any:
        try:
            return value(row)
        except ZeroDivisor:
            for read in reads:
                read(row)
            return otherwise(row)

    return guarded


def _arith(op: p.ArithOp, a: Fn, b: Fn) -> Fn:
    match op:
        case p.ArithOp.ADD:
            return lambda row: a(row) + b(row)
        case p.ArithOp.SUB:
            return lambda row: a(row) - b(row)
        case p.ArithOp.MUL:
            return lambda row: multiply(a(row), b(row))
        case p.ArithOp.DIV:
            return lambda row: divide(a(row), b(row))
    raise AssertionError(op)


_COMPARE: dict[p.CmpOp, Callable[[Any, Any], bool]] = {
    p.CmpOp.LT: lambda a, b: a < b,
    p.CmpOp.LE: lambda a, b: a <= b,
    p.CmpOp.GT: lambda a, b: a > b,
    p.CmpOp.GE: lambda a, b: a >= b,
    p.CmpOp.EQ: lambda a, b: a == b,
    p.CmpOp.NE: lambda a, b: a != b,
}


def _compare(ops: tuple[p.CmpOp, ...], operands: list[Fn]) -> Fn:
    if len(ops) == 1:
        test, a, b = _COMPARE[ops[0]], operands[0], operands[1]
        return lambda row: test(a(row), b(row))
    tests = [_COMPARE[op] for op in ops]

    def chain(row: _Row) -> bool:
        values = [f(row) for f in operands]
        return all(t(x, y) for t, x, y in zip(tests, values, values[1:], strict=False))

    return chain


def _call(func: p.Func, args: list[Fn]) -> Fn:
    match func:
        case p.Func.MIN:
            return lambda row: min(f(row) for f in args)
        case p.Func.MAX:
            return lambda row: max(f(row) for f in args)
        case p.Func.ABS:
            return lambda row: abs(args[0](row))
        case p.Func.FLOOR:
            return lambda row: args[0](row).to_integral_value(rounding=ROUND_FLOOR)
        case p.Func.CEIL:
            return lambda row: args[0](row).to_integral_value(rounding=ROUND_CEILING)
        case p.Func.ROUND:
            places = args[1] if len(args) > 1 else (lambda row: ZERO)
            return lambda row: args[0](row).quantize(
                Decimal(1).scaleb(-int(places(row))), rounding=ROUND_HALF_UP
            )
        case p.Func.ROUND_TO | p.Func.CEIL_TO | p.Func.FLOOR_TO:
            x, step = args
            return lambda row: to_step(func, x(row), step(row))
    raise AssertionError(func)


def to_step(func: p.Func, x: Decimal, step: Decimal) -> Decimal:
    """`x` rounded to a multiple of `step` (> 0), exactly: up (`ceil_to`), down
    (`floor_to`) or to the nearest, halves up (`round_to`)."""
    if step <= 0:
        raise EvaluationError(f"{func.value}() needs a step above 0, not {step}")
    whole, rest = _CONTEXT.divmod(x, step)  # whole truncated toward 0, rest exact
    if rest < 0:  # make rest the distance above the multiple below x
        whole, rest = whole - 1, rest + step
    if func is p.Func.CEIL_TO:
        up = rest > 0
    elif func is p.Func.FLOOR_TO:
        up = False
    else:
        up = rest * 2 >= step
    return _CONTEXT.multiply(whole + 1 if up else whole, step)


def _rounder(rounding: p.Rounding | None) -> Callable[[Decimal], Decimal]:
    if rounding is None:
        return lambda x: x
    step, mode = Decimal(1).scaleb(-rounding.places), _MODES[rounding.mode]
    return lambda x: x.quantize(step, rounding=mode)


def evaluate(plan: Plan, data: Assessment, detail: bool = True) -> Result:
    """Evaluate one assessment. `detail` is kept for callers; reasons are always recorded
    (as data) and turned into sentences only when read."""
    try:
        return Program.of(plan).run(data)
    except _Missing as exc:
        raise EvaluationError(f"input '{exc}' is needed here but was not given") from None
    except (InvalidOperation, Overflow, DivisionByZero):
        raise EvaluationError("a number is too large or too small to compute with") from None
