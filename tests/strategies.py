"""Hypothesis strategies: valid schemes, deliberately broken ones, data that fits, text.

A generated scheme is kept as structured data (`GenScheme`) and rendered to `.score`
text, so a test knows what the checker and the evaluator must find.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

POINTS = st.integers(min_value=1, max_value=4000).map(lambda n: Decimal(n) / 4)  # 0.25 steps


@attrs.frozen
class GenBand:
    low: Decimal | None  # percent as written (0..100); None = open below
    high: Decimal | None
    low_closed: bool
    high_closed: bool
    result: Decimal

    def text(self) -> str:
        if self.low is None:
            assert self.high is not None
            return f"{'<=' if self.high_closed else '<'} {self.high}%"
        if self.high is None:
            return f"{'>=' if self.low_closed else '>'} {self.low}%"
        lo, hi = ("<=" if self.low_closed else "<"), ("<=" if self.high_closed else "<")
        return f"{self.low}% {lo} _ {hi} {self.high}%"

    def contains(self, x: Decimal) -> bool:
        if self.low is not None and (x < self.low or (x == self.low and not self.low_closed)):
            return False
        return self.high is None or x < self.high or (x == self.high and self.high_closed)


@attrs.frozen
class GenItem:
    id: str
    max: Decimal
    children: tuple[GenItem, ...] = ()
    bands: tuple[GenBand, ...] = ()  # banded over input r{index} when not empty
    veto: bool = False  # vetoed when input `flag` is true

    def walk(self) -> list[GenItem]:
        return [self, *(d for c in self.children for d in c.walk())]


@attrs.frozen
class GenScheme:
    items: tuple[GenItem, ...]
    levels: tuple[Decimal, ...]  # thresholds, ascending: level k is `total >= levels[k]`
    gate: bool
    # scoring sheets S1, S2 ... (judged rows, not in the total), each read by a value
    # `sheet{k} = item S{k} * 100 / max`
    sheets: tuple[GenItem, ...] = ()
    formula_total: bool = False  # `total N = item 1 + item 2 ...`: the same total, as a formula
    outcomes: bool = False  # outcomes over the same thresholds, highest first, then `else`
    grouped: bool = False  # the banded items' inputs declared as one group, with a sum

    def rate(self, k: int) -> str:
        """The input of the k-th banded item: `r0`, or `r0_rate` from the group."""
        return f"r{k}_rate" if self.is_grouped else f"r{k}"

    @property
    def is_grouped(self) -> bool:
        return self.grouped and bool(self.banded())

    @property
    def total(self) -> Decimal:
        return sum((i.max for i in self.items), Decimal(0))

    def all_items(self) -> list[GenItem]:
        return [d for i in self.items for d in i.walk()]

    def banded(self) -> list[GenItem]:
        return [i for i in self.all_items() if i.bands]

    def judged(self) -> list[GenItem]:
        rows = [d for sheet in self.sheets for d in sheet.walk()]
        return [i for i in [*self.all_items(), *rows] if not i.children and not i.bands]

    def text(self) -> str:
        total = f"  total {self.total}"
        if self.formula_total:
            total += " = " + " + ".join(f"item {i.id}" for i in self.items)
        out = ['scheme gen "生成的方案" {', total, '  input flag: bool "否决"']
        if self.is_grouped:
            members = "  ".join(f'r{k} "{k}"' for k, _ in enumerate(self.banded()))
            out += ['  group r "比率" {', f"    members {members}",
                    '    input rate: percent "比率{r}"', "  }",
                    '  value rate_sum "比率合计" = sum r (rate)']  # fmt: skip
        for k, _ in enumerate(self.banded()):
            if not self.is_grouped:
                out.append(f'  input r{k}: percent "比率{k}"')
        if self.gate:
            out.append('  input ok: bool "基本条件"')
            out.append('  gate g "基本条件" { require ok "必须满足" }')
        banded = {i.id: self.rate(k) for k, i in enumerate(self.banded())}
        for item in self.items:
            out.extend(_item_lines(item, banded, 1))
        for k, sheet in enumerate(self.sheets, 1):
            out.extend(_item_lines(sheet, banded, 1, keyword="sheet"))
            out.append(f'  value sheet{k} "打分表{k}得分" = item {sheet.id} * 100 / {sheet.max}')
        out.append("  levels {")
        for k, threshold in enumerate(self.levels):
            out.append(f'    l{k} "等级{k}" when total >= {threshold}')
        out.append("  }")
        if self.outcomes:
            out.extend(self.outcome_lines())
        if not any(i.veto for i in self.all_items()):
            out.append('  accept unused-input "flag is only used when an item has a veto"')
        out.append("}")
        return "\n".join(out) + "\n"

    def outcome_lines(self) -> list[str]:
        out = ["  outcomes {"]
        if self.gate:
            out.append('    refused "不予通过" when not gate g')
        for k in reversed(range(len(self.levels))):
            out.append(f'    o{k} "结论{k}" clause 6.3.2 when total >= {self.levels[k]}')
        out.append('    below "未达到" else')
        out.append("  }")
        return out

    def expected_outcome(self, total: Decimal, gate_passed: bool) -> str:
        """The outcome the generated block decides (the first that holds)."""
        if self.gate and not gate_passed:
            return "refused"
        reached = [k for k, t in enumerate(self.levels) if total >= t]
        return f"o{reached[-1]}" if reached else "below"


def _item_lines(
    item: GenItem, banded: dict[str, str], depth: int, keyword: str = "item"
) -> list[str]:
    pad = "  " * depth
    head = f'{pad}{keyword} {item.id} "项目 {item.id}" {item.max}'
    if item.bands:
        lines = [f"{head} by {banded[item.id]} {{"]
        lines += [f"{pad}  {b.text()} -> {b.result}" for b in item.bands]
    elif item.children or item.veto:
        lines = [f"{head} {{"]
    else:
        return [head]
    if item.veto:
        lines.append(f'{pad}  veto when flag "否决"')
    for child in item.children:
        lines += _item_lines(child, banded, depth + 1)
    return [*lines, f"{pad}}}"]


@st.composite
def band_tables(draw: st.DrawFn, top: Decimal) -> tuple[GenBand, ...]:
    """A partition of 0%..100% into 2-5 bands, points monotone within 0..top."""
    cuts = sorted(draw(st.sets(st.integers(1, 999), min_size=1, max_size=4)))
    bounds = [Decimal(c) / 10 for c in cuts]
    closed_left = [draw(st.booleans()) for _ in bounds]  # is each cut owned by the band above?
    steps = sorted(draw(st.lists(st.integers(0, 4), min_size=len(bounds) + 1,
                                 max_size=len(bounds) + 1)))  # fmt: skip
    points = [top * s / 4 for s in steps]
    if draw(st.booleans()):
        points.reverse()  # lower is better
    bands = []
    for k in range(len(bounds) + 1):
        low = bounds[k - 1] if k > 0 else None
        high = bounds[k] if k < len(bounds) else None
        bands.append(GenBand(
            low, high,
            low_closed=closed_left[k - 1] if k > 0 else True,
            high_closed=(not closed_left[k]) if k < len(bounds) else True,
            result=points[k],
        ))  # fmt: skip
    return tuple(bands)


@st.composite
def item_trees(draw: st.DrawFn, prefix: str, depth: int) -> GenItem:
    if depth >= 3 or draw(st.integers(0, 2)) == 0:
        top = draw(POINTS)
        kind = draw(st.sampled_from(("judged", "judged", "banded")))
        bands = draw(band_tables(top)) if kind == "banded" else ()
        return GenItem(prefix, top, bands=bands, veto=draw(st.integers(0, 5)) == 0)
    count = draw(st.integers(1, 4))
    children = tuple(draw(item_trees(f"{prefix}.{k}", depth + 1)) for k in range(1, count + 1))
    total = sum((c.max for c in children), Decimal(0))
    return GenItem(prefix, total, children, veto=draw(st.integers(0, 8)) == 0)


@st.composite
def schemes(draw: st.DrawFn) -> GenScheme:
    count = draw(st.integers(1, 4))
    items = tuple(draw(item_trees(str(k), 1)) for k in range(1, count + 1))
    total = sum((i.max for i in items), Decimal(0))
    raw = draw(st.sets(st.integers(1, 99), min_size=1, max_size=3))
    levels = sorted({(total * p / 100).quantize(Decimal("0.01")) for p in raw})
    sheets = tuple(draw(sheet_tables(k)) for k in range(1, draw(st.integers(0, 2)) + 1))
    return GenScheme(
        items, tuple(levels), draw(st.booleans()), sheets, draw(st.booleans()), draw(st.booleans())
    )


@st.composite
def sheet_tables(draw: st.DrawFn, k: int) -> GenItem:
    """A scoring sheet: 1-4 judged rows, its points their sum."""
    rows = tuple(GenItem(f"S{k}_{j}", draw(POINTS)) for j in range(1, draw(st.integers(1, 4)) + 1))
    return GenItem(f"S{k}", sum((r.max for r in rows), Decimal(0)), rows)


# ---- deliberate breaks -------------------------------------------------------------------


def _replace(item: GenItem, target: str, new: GenItem) -> GenItem:
    if item.id == target:
        return new
    return attrs.evolve(item, children=tuple(_replace(c, target, new) for c in item.children))


def _swap(scheme: GenScheme, target: str, new: GenItem) -> GenScheme:
    return attrs.evolve(scheme, items=tuple(_replace(i, target, new) for i in scheme.items))


@st.composite
def broken(draw: st.DrawFn) -> tuple[GenScheme, str]:
    """A valid scheme with one deliberate mistake, and the diagnostic code it must get."""
    scheme = draw(schemes().filter(lambda s: bool(s.banded()) or any(
        i.children for i in s.all_items())))  # fmt: skip
    options = []
    if scheme.banded():
        options += ["band-gap", "band-overlap"]
    if any(i.children for i in scheme.all_items()):
        options.append("points-sum")
    code = draw(st.sampled_from(options))
    if code == "points-sum":
        parent = draw(st.sampled_from([i for i in scheme.all_items() if i.children]))
        child = parent.children[0]
        delta = draw(POINTS)
        new_child = _change_points(child, child.max + delta)
        return _swap(scheme, child.id, new_child), code
    item = draw(st.sampled_from(scheme.banded()))
    k = draw(st.integers(0, len(item.bands) - 2))
    bands = list(item.bands)
    if code == "band-gap" and draw(st.booleans()):  # remove a whole band
        del bands[k]
    elif code == "band-gap":  # leave one point out: `< 50%` then `> 50%`
        bands[k] = attrs.evolve(bands[k], high_closed=False)
        bands[k + 1] = attrs.evolve(bands[k + 1], low_closed=False)
    else:  # move band k's upper end past the next band's start
        b = bands[k]
        assert b.high is not None
        nxt = bands[k + 1]
        bump = (nxt.high - b.high) / 2 if nxt.high is not None else Decimal("0.5")
        bands[k] = attrs.evolve(b, high=b.high + bump, high_closed=True)
    return _swap(scheme, item.id, attrs.evolve(item, bands=tuple(bands))), code


def _change_points(item: GenItem, points: Decimal) -> GenItem:
    """The leaf (or first leaf below) gets new points; its bands are scaled to stay within."""
    if item.children:
        first = _change_points(item.children[0], item.children[0].max + points - item.max)
        return attrs.evolve(item, children=(first, *item.children[1:]))
    return attrs.evolve(item, max=points)


# ---- data --------------------------------------------------------------------------------


@st.composite
def assessments(draw: st.DrawFn, scheme: GenScheme) -> dict[str, Any]:
    rates = st.integers(0, 1000).map(lambda n: f"{Decimal(n) / 10}%")
    inputs: dict[str, Any] = {"flag": draw(st.booleans())}
    for k, _ in enumerate(scheme.banded()):
        inputs[scheme.rate(k)] = draw(rates)
    if scheme.gate:
        inputs["ok"] = draw(st.booleans())
    scores = {}
    for item in scheme.judged():
        quarters = int(item.max * 4)
        scores[item.id] = Decimal(draw(st.integers(0, quarters))) / 4
    return {"inputs": inputs, "scores": scores}


SCORE_WORDS = st.sampled_from([
    "scheme", "item", "input", "percent", "bool", "by", "veto", "when", "levels", "gate",
    "require", "total", "{", "}", "->", "<", "<=", ">=", "_", "90%", "5.1.1", "20", '"标签"',
    "and", "or", "not", "=", "else", "accept", "weighted", "(", ")", "\n", " ",
])  # fmt: skip
grammarish_text = st.lists(SCORE_WORDS, max_size=60).map(" ".join)


# ---- batches of a real scheme, with hostile rows mixed in (issue 13) ----------------------

# A CSV cell that must fail its row, for any input or item it is put in: each kind of the
# hostile-input corpus that fits in one cell.
BAD_NUMBER_CELLS = st.sampled_from([
    "NaN", "Infinity", "1e999", "1e999%", "9e999999999%", "1e30", "9" * 5000, "1_0%", "９６%",
    "-1", "abc", "=1+2",
])  # fmt: skip


@st.composite
def plan_assessments(draw: st.DrawFn, plan: Any) -> dict[str, Any]:
    """A valid assessment of a compiled plan (percent and bool inputs, judged scores), as
    CSV would carry it: every value text, scores in quarter points."""
    inputs: dict[str, Any] = {}
    for inp in plan.inputs:
        if inp.type == "bool":
            inputs[inp.name] = draw(st.sampled_from(["true", "false"]))
        else:
            assert inp.type == "percent", inp.type
            inputs[inp.name] = f"{Decimal(draw(st.integers(0, 1000))) / 10}%"
    scores = {}
    for item in plan.items:
        if item.kind == "judged":
            quarters = draw(st.integers(0, int(item.max * 4)))
            scores[item.id] = str(Decimal(quarters) / 4)
    return {"inputs": inputs, "scores": scores}
