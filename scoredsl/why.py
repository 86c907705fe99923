"""Why: explanations as data, and their sentences in the reader's language.

Every engine says *what* decided an item (which band, which veto, which rule) with these
small values; `describe` turns one into words from `scoredsl.words`, at the edge. The
Python evaluator builds them while scoring; the SQL engine builds the same values from the
columns its query returns, so both print the same sentences.
"""

from __future__ import annotations

import enum
import functools
from decimal import Decimal

import attrs

from scoredsl.exactjson import number
from scoredsl.plan import Plan
from scoredsl.words import say


class Status(enum.StrEnum):
    SCORED = "scored"
    BANDED = "banded"
    VETOED = "vetoed"
    SEVERE = "severe"
    DEDUCTED = "deducted"
    COMPUTED = "computed"


Fact = tuple[str, "Decimal | bool"]  # an input's name and its value in the assessment


@attrs.frozen
class Awarded:
    score: Decimal
    max: Decimal


@attrs.frozen
class Deducted:
    """6.4: max x (1 - problems/samples)."""

    max: Decimal
    problems: int
    samples: int
    score: Decimal


@attrs.frozen
class Banded:
    item: str
    value: Decimal  # the input's value
    band: int  # index into the item's bands


@attrs.frozen
class Vetoed:
    item: str  # the item whose veto holds (the item itself or an ancestor)
    veto: int  # index into that item's vetoes
    facts: tuple[Fact, ...]


@attrs.frozen
class Severe:
    item: str  # the item marked severe (the item itself or an ancestor)


@attrs.frozen
class SumOf:
    scores: tuple[Decimal, ...]


@attrs.frozen
class Computed:
    text: str
    score: Decimal


Why = Awarded | Deducted | Banded | Vetoed | Severe | SumOf | Computed


@attrs.frozen
class GateWhy:
    """How many requirements a gate has, and the failing ones with their facts."""

    count: int
    failed: tuple[tuple[int, tuple[Fact, ...]], ...]


@attrs.frozen
class OutcomeWhy:
    """The outcome decided (an index into the plan's outcomes) and the facts its
    condition read; an `else` outcome has none."""

    outcome: int
    facts: tuple[Fact, ...]
    failed_gates: tuple[str, ...] = ()  # the gates its condition reads that are not met


# ---- sentences --------------------------------------------------------------------------


def status_text(status: str, lang: str) -> str:
    return say(lang, f"status.{status}")


def describe(why: Why, plan: Plan, lang: str = "en") -> str:
    if type(why) in _ALONE:
        return _alone(why, lang)
    match why:
        case Banded():
            said = plan.derived("why.banded", _sentences)
            key = (why, lang)
            text = said.get(key)
            if text is None:
                if len(said) >= SENTENCES:
                    said.clear()
                text = said[key] = _banded(why, plan, lang)
            return text
        case Vetoed(item_id, k, facts):
            veto = plan.item(item_id).vetoes[k]
            condition = _holds(plan, veto.text, facts, lang)
            return say(lang, "vetoed", condition=condition, reason=veto.reason)
        case Severe(item_id):
            item = plan.item(item_id)
            return say(lang, "severe", id=item.id, label=item.label, max=number(item.max))
    raise AssertionError(f"no sentence for {why!r}")


SENTENCES = 8192  # banded sentences kept per plan: a batch's rates repeat


def _sentences(plan: Plan) -> dict[tuple[Banded, str], str]:
    return {}


def _banded(why: Banded, plan: Plan, lang: str) -> str:
    item = plan.item(why.item)
    assert item.input is not None
    inp = plan.input(item.input)
    band = item.bands[why.band]
    return say(lang, "banded", label=inp.label or inp.name, value=inp.show(why.value),
               band=band.describe(inp.show), result=number(band.result),
               max=number(item.max))  # fmt: skip


_ALONE = (Awarded, Deducted, SumOf, Computed)  # said without the plan


@functools.lru_cache(maxsize=8192)  # a batch says the same few sentences again and again
def _alone(why: Awarded | Deducted | SumOf | Computed, lang: str) -> str:
    """A sentence that needs nothing but `why`: equal values (18 and 18.00) say the same."""
    match why:
        case Awarded(score, top):
            return say(lang, "awarded", score=number(score), max=number(top))
        case Deducted(top, problems, samples, score):
            return say(lang, "deducted", problems=problems, samples=samples, max=number(top),
                       score=number(score))  # fmt: skip
        case SumOf(scores):
            terms = " + ".join(map(number, scores))
            return say(lang, "sum", count=len(scores), terms=terms)
        case Computed(text, score):
            return say(lang, "formula", text=text, score=number(score))
    raise AssertionError(f"no sentence for {why!r}")


def gate_text(why: GateWhy, plan: Plan, gate_index: int, lang: str = "en") -> str:
    if not why.failed:
        return say(lang, "gate.passed", count=why.count)
    gate = plan.gates[gate_index]
    failures = [
        say(lang, "gate.failure", text=gate.requires[k].text, facts=_facts(plan, facts, lang))
        if facts
        else gate.requires[k].text  # nothing it reads has a value to show
        for k, facts in why.failed
    ]
    return say(lang, "gate.failed", failures=say(lang, "gate.sep").join(failures))


def outcome_text(why: OutcomeWhy, plan: Plan, lang: str = "en") -> str:
    """``first of 4 outcomes that holds: not gate 6.1.1 holds`` / ``none of the 3 before it
    holds``."""
    outcome = plan.outcomes[why.outcome]
    if outcome.condition is None:
        return say(lang, "outcome.else", count=why.outcome)
    condition = _holds(plan, outcome.text, why.facts, lang)
    if why.failed_gates:
        gates = say(lang, "outcome.gates", gates=", ".join(why.failed_gates))
        condition = say(lang, "outcome.with_gates", condition=condition, gates=gates)
    return say(lang, "outcome.first", condition=condition, count=why.outcome)


def _holds(plan: Plan, text: str, facts: tuple[Fact, ...], lang: str) -> str:
    """'a is true' when the condition is that one input; else 'text holds (facts)'."""
    if len(facts) == 1 and text.strip() == facts[0][0]:
        return _facts(plan, facts, lang)
    if not facts:
        return say(lang, "holds", text=text)
    return say(lang, "holds.facts", text=text, facts=_facts(plan, facts, lang))


def _facts(plan: Plan, facts: tuple[Fact, ...], lang: str) -> str:
    sentences = [
        say(lang, "fact", name=_name(plan, name, lang), value=_show(plan, name, value, lang))
        for name, value in facts
    ]
    return say(lang, "facts.sep").join(sentences)


def _name(plan: Plan, name: str, lang: str) -> str:
    """English says the identifier; other languages the input's (or value's) label."""
    if lang == "en":
        return name
    value = plan.value(name)
    return (value.label if value is not None else plan.input(name).label) or name


def _show(plan: Plan, name: str, value: Decimal | bool, lang: str) -> str:
    if isinstance(value, bool):
        return say(lang, "true" if value else "false")
    derived = plan.value(name)
    return derived.show(value) if derived is not None else plan.input(name).show(value)
