"""Explained rows: a row of an explained query (`plan_to_sql(..., explain=True)`) + `Plan`
-> the `Result` the Python evaluator gives for that assessment.

The query says what decided each part (a band's index, an item's own severe mark or veto,
a gate requirement that failed, the outcome's index) and the values the sentences show;
this module puts them back together as `scoredsl.why` values, so `Result.to_dict` writes
the same JSON whichever engine scored the row. It decides nothing itself: precedence
(the outermost severe or vetoed item forces its subtree) is the evaluator's, read from
the query's columns. A number may come as a DECIMAL or as its text (which a driver hands
over several times faster than a `Decimal`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from scoredsl import plan as p
from scoredsl.data import Assessment
from scoredsl.evaluate import GateResult, Result
from scoredsl.plan import Item, ItemKind, Plan
from scoredsl.sql import (
    DECIDED,
    band_column,
    finding_columns,
    gate_column,
    input_column,
    status_column,
)
from scoredsl.why import Banded, Fact, GateWhy, OutcomeWhy, Severe, Vetoed, Why


class Explained:
    """Rebuilds results from rows whose columns are `columns` (an explained query's)."""

    def __init__(self, plan: Plan, columns: Sequence[str]) -> None:
        self.plan = plan
        at = {name: k for k, name in enumerate(columns)}
        self.at = at
        self.inputs = {i.name: at[input_column(i.name)] for i in plan.inputs}
        # what a fact's name reads: an input's column, else a value's
        self.named = {v.name: at[v.name] for v in plan.values} | self.inputs
        self.scores = [(item.id, at[item.id]) for item in plan.items]
        self.values = [(v.name, at[v.name]) for v in plan.values]
        # per item: its guarded chain, outermost first: (item id, own column, veto facts)
        self.chains = [self._chain(item) for item in plan.items]
        self.bands = [at.get(band_column(item.id)) for item in plan.items]
        self.findings = [
            tuple(at[c] for c in finding_columns(item.id))
            if finding_columns(item.id)[0] in at
            else None
            for item in plan.items
        ]
        self.gates = [
            (
                at[gate_column(gate.id)],
                [
                    (at[gate_column(gate.id, k)], p.fact_names(r.condition))
                    for k, r in enumerate(gate.requires)
                ],
            )
            for gate in plan.gates
        ]
        self.outcomes = [
            None
            if o.condition is None
            else (
                p.input_names(o.condition),
                list(dict.fromkeys(x.id for x in p.walk(o.condition) if isinstance(x, p.GateRef))),
            )
            for o in plan.outcomes
        ]

    def _chain(self, item: Item) -> list[tuple[str, int, list[list[str]]]]:
        chain = [item]
        while chain[-1].parent is not None:
            chain.append(self.plan.item(chain[-1].parent))
        return [
            (a.id, self.at[status_column(a.id)], [p.input_names(v.condition) for v in a.vetoes])
            for a in reversed(chain)
            if status_column(a.id) in self.at
        ]

    def facts(self, row: Sequence[Any], names: list[str]) -> tuple[Fact, ...]:
        """The inputs (and values) among `names` with a value in this row, as
        `Program.facts` finds them. A value is named here only where the evaluator has
        surely computed it (`plan.values_read`); elsewhere the query sends the row to
        Python."""
        found = ((n, row[self.named[n]]) for n in names)
        return tuple((n, _number(x)) for n, x in found if x is not None)

    def result(self, row: Sequence[Any], ident: str | None) -> Result:
        plan, at = self.plan, self.at
        scores: dict[str, Decimal] = {item_id: Decimal(row[k]) for item_id, k in self.scores}
        findings: dict[str, tuple[int, int]] = {}
        decisions: list[Why | None] = []
        for k, item in enumerate(plan.items):
            why = self._forced(row, k)
            if why is None and item.kind is ItemKind.BANDED:
                assert item.input is not None
                band = self.bands[k]
                assert band is not None
                why = Banded(item.id, Decimal(row[self.inputs[item.input]]), int(row[band]))
            decisions.append(why)
            columns = self.findings[k]
            if columns is not None and row[columns[0]] is not None:
                findings[item.id] = (int(row[columns[1]]), int(row[columns[0]]))
        gates = []
        for g, (gate, (passed, requires)) in enumerate(zip(plan.gates, self.gates, strict=True)):
            failed = tuple(
                (j, self.facts(row, names))
                for j, (holds, names) in enumerate(requires)
                if not row[holds]
            )
            reason = GateWhy(len(requires), failed)
            gates.append(GateResult(gate.id, gate.label, bool(row[passed]), reason, plan, g))
        level, next_name, needs = (
            row[at["level"]],
            row[at["next_level"]],
            row[at["next_level_needs"]],
        )
        outcome, decided = self._outcome(row, gates)
        return Result(
            plan,
            ident,
            bool(row[at["eligible"]]),
            tuple(gates),
            Decimal(row[at["total"]]),
            level,
            None if next_name is None else (next_name, _number(needs)),
            {name: _number(row[k]) for name, k in self.values},
            scores,
            tuple(decisions),
            Assessment({}, {}, findings, frozenset(), ident),
            outcome,
            decided,
        )

    def _forced(self, row: Sequence[Any], k: int) -> Why | None:
        """The outermost item at or above item k that is marked severe or vetoed."""
        for item_id, own, vetoes in self.chains[k]:
            code = row[own]
            if code == 1:
                return Severe(item_id)
            if code >= 2:
                return Vetoed(item_id, code - 2, self.facts(row, vetoes[code - 2]))
        return None

    def _outcome(
        self, row: Sequence[Any], gates: list[GateResult]
    ) -> tuple[str | None, OutcomeWhy | None]:
        k = row[self.at[DECIDED]]
        if k is None or k < 0:
            return None, None
        test = self.outcomes[k]
        if test is None:
            return self.plan.outcomes[k].id, OutcomeWhy(k, ())
        names, reads = test
        passed = {g.id: g.passed for g in gates}
        failed = tuple(g for g in reads if not passed[g])
        return self.plan.outcomes[k].id, OutcomeWhy(k, self.facts(row, names), failed)


def _number(x: Any) -> Any:
    """A number given as text as a Decimal; anything else (a Decimal, a truth value,
    None) as it is."""
    return Decimal(x) if isinstance(x, str) else x
