"""SQL: `Plan` -> one sqlglot `Select` over the batch table, for DuckDB, Spark and others.

The batch table has the CSV batch layout (`id`, optional `scheme`, inputs by name, judged
items by id or unique label, findings as `ID.samples` / `ID.problems`, `severe` as
`;`-separated ids), every cell read as text, so that validation is compiled too. The query
is built only with sqlglot builders; `.sql(dialect=...)` writes it for an engine.

Numbers are exact: every one is a whole number of 10**-PLACES units. On DuckDB it is a
BIGINT when its bound (tracked here from the cells' patterns, the items' maxima and the
constants) fits one, else a HUGEINT; elsewhere a DECIMAL(38, 0) (Spark and others narrow
the scale of wide decimal sums, which would round). Every multiplication and division is
done on whole numbers of units (HUGEINT or DECIMAL(38, 0)) and rounded half-even to PLACES
places, the rule the Python evaluator follows (docs/language.md, "Exact arithmetic"). No
float ever holds a value; a DOUBLE only estimates magnitudes to keep a row whose numbers
would not fit away from the integer arithmetic, and holds the powers of ten that scale a
cell's digits. DuckDB holds a percentage input as a DECIMAL(18, PLACES) (see
`percent_decimal`).

The SQL side is strict: a row is evaluated in SQL only when every cell is in a plain
canonical form it parses exactly and every check passes. Any other row gets `_python`
true (and `error` saying why), and the caller sends it through the Python data reader and
evaluator, so its result or error text is exactly the reference engine's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
from sqlglot import exp

from scoredsl import plan as p
from scoredsl.limits import CELL_CHARS
from scoredsl.output import FORMULA_STARTS, neutralise_cell
from scoredsl.plan import (
    PLACES,
    ArithOp,
    Band,
    CmpOp,
    Expr,
    Func,
    Input,
    InputType,
    Item,
    ItemKind,
    LogicOp,
    Plan,
    RoundingMode,
)

DIALECTS = ("duckdb", "spark", "postgres", "trino", "bigquery")
SCALE = 10**PLACES
INT_DIGITS = 12  # a cell with more digits before the point goes to the Python reader
SCORE_DIGITS = 6  # on DuckDB, for scores and percentages: their units then fit a BIGINT
BIGINT_MAX = 2**63 - 1
COUNT_DIGITS = 9  # samples and problems
ROW_CELLS = 32  # cells one regular expression tests at once (RE2 bounds a repetition)
TRUE_WORDS = ("true", "yes", "1", "是", "y")
FALSE_WORDS = ("false", "no", "0", "否", "n")
ROW = "_row"  # the row number column a runner may add to the batch table
_SPACE = r"[\p{Z}\t-\r\x{1c}-\x{1f}\x{85}]"  # what Python's str.strip() removes
_EDGE_SPACE = f"^{_SPACE}|{_SPACE}$"


class UnsupportedPlan(ValueError):
    """The plan has a construct this compiler cannot translate exactly."""


class LayoutError(ValueError):
    """The batch header cannot be evaluated in SQL (unknown, duplicate or ambiguous columns):
    the Python reader reports it row by row."""


# ---- the batch layout ------------------------------------------------------------------


@attrs.frozen
class Layout:
    """Which batch column holds what."""

    id: str | None
    scheme: str | None
    severe: str | None
    inputs: dict[str, str]  # input name -> column
    scores: dict[str, str]  # item id -> column
    samples: dict[str, str]  # item id -> column
    problems: dict[str, str]  # item id -> column
    header: tuple[str, ...] = ()  # every column, in order
    # DuckDB: columns read as they are typed (see `typed_columns`), not as text
    numeric: dict[str, int] = attrs.Factory(dict)  # column -> its scale (digits after the point)
    boolean: frozenset[str] = frozenset()


def canonical_header(plan: Plan) -> list[str]:
    """The batch columns a scheme reads, in the documented order."""
    judged = [i.id for i in plan.items if i.kind is ItemKind.JUDGED]
    findings = [f"{i}.{part}" for i in judged for part in ("samples", "problems")]
    severe = ["severe"] if plan.severe_depth is not None else []
    return [
        "id",
        *(i.name for i in plan.inputs),
        *judged,
        *(findings if plan.findings else []),
        *severe,
    ]


_INTEGER_TYPES = frozenset(
    ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
)
_DECIMAL_TYPE = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")
WIDEST_TYPED = 20  # digits of a DECIMAL column read as it is (times 10^12 it fits in 38)


def _scale(type_text: str, whole: bool) -> int | None:
    """The scale of a column type whose every value Python reads from its text exactly as
    SQL reads the value (None: read it as text): integer types, and DECIMALs of at most
    WIDEST_TYPED digits and PLACES places (scale 0 when `whole`)."""
    if type_text in _INTEGER_TYPES:
        return 0
    found = _DECIMAL_TYPE.fullmatch(type_text)
    if found is None:
        return None
    width, scale = int(found[1]), int(found[2])
    if width > WIDEST_TYPED or scale > PLACES or (whole and scale):
        return None
    return scale


def typed_columns(layout: Layout, plan: Plan, types: Mapping[str, str]) -> Layout:
    """`layout` with the columns of `types` (a DuckDB type per column, as Parquet gives
    them) that SQL can read as they are: judged scores and number inputs of an integer or
    DECIMAL type, integer inputs of an integer type, truth values of BOOLEAN. A value's text
    (what the Python reader gets) is then always plain, so no pattern is tested: only its
    range. Other columns are read as text, as from a CSV file."""
    numeric: dict[str, int] = {}
    boolean = set()
    kinds = {i.name: i.type for i in plan.inputs}
    for column in layout.scores.values():
        scale = _scale(types.get(column, ""), whole=False)
        if scale is not None:
            numeric[column] = scale
    for name, column in layout.inputs.items():
        kind, type_text = kinds[name], types.get(column, "")
        if kind is InputType.BOOL and type_text == "BOOLEAN":
            boolean.add(column)
        elif kind in (InputType.NUMBER, InputType.INTEGER):
            scale = _scale(type_text, whole=kind is InputType.INTEGER)
            if scale is not None:
                numeric[column] = scale
    return attrs.evolve(layout, numeric=numeric, boolean=frozenset(boolean))


def layout_for(plan: Plan, header: Sequence[str]) -> Layout:
    """The roles of a batch header's columns; LayoutError when SQL cannot take it."""
    if len(set(header)) != len(header):
        raise LayoutError("a column name appears twice")
    inputs = {i.name for i in plan.inputs}
    ids = {i.id: i for i in plan.items}
    by_label: dict[str, list[Item]] = {}
    for item in plan.items:
        by_label.setdefault(item.label, []).append(item)
    roles: dict[str, dict[str, str]] = {"inputs": {}, "scores": {}, "samples": {}, "problems": {}}
    special: dict[str, str] = {}
    for name in header:
        if name in ("id", "scheme", "severe"):
            special[name] = name
        elif name in inputs:
            roles["inputs"][name] = name
        elif name in ids:
            roles["scores"][name] = name
        elif len(by_label.get(name, [])) == 1:
            roles["scores"][by_label[name][0].id] = name
        elif name.endswith((".samples", ".problems")) and name.rsplit(".", 1)[0] in ids:
            item_id, part = name.rsplit(".", 1)
            roles[part][item_id] = name
        else:
            raise LayoutError(f"column {name!r} is not in the batch layout")
    if len(roles["scores"]) != len(
        [
            h
            for h in header
            if h not in special and h not in inputs and not h.endswith((".samples", ".problems"))
        ]
    ):
        raise LayoutError("an item is given by two columns")
    return Layout(
        special.get("id"),
        special.get("scheme"),
        special.get("severe"),
        roles["inputs"],
        roles["scores"],
        roles["samples"],
        roles["problems"],
        tuple(header),
    )


# ---- typed SQL values ------------------------------------------------------------------


@attrs.frozen
class _V:
    """A compiled expression: its SQL, the CTE layer it needs, and for numbers a bound on
    its magnitude in units (None: unknown)."""

    sql: exp.Expr
    layer: int
    bound: int | None = None
    is_bool: bool = False
    units: int | None = None  # a constant's value in units
    decimal: bool = False  # a DECIMAL(18, PLACES) value, not units (DuckDB's percentages)


_DECIMAL = exp.DataType.build(f"DECIMAL(38, {PLACES})")
_VARCHAR = exp.DataType.build("VARCHAR")


@functools.cache
def _parsed_type(text: str, dialect: str | None) -> exp.DataType:
    return exp.DataType.build(text, dialect=dialect)


def _dtype(text: str, dialect: str | None = None) -> exp.DataType:
    """A type by its SQL text, parsed once (a few thousand parses were a tenth of the
    compile time); a copy, since a node has one parent."""
    return _parsed_type(text, dialect).copy()


def _lit(n: int) -> exp.Expr:
    return exp.Literal.number(n) if n >= 0 else exp.Neg(this=exp.Literal.number(-n))


def _s(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _case(whens: Iterable[tuple[exp.Expr, exp.Expr]], default: exp.Expr | None = None) -> exp.Case:
    """CASE WHEN ... built in one go (the `when` builder copies the whole CASE each time)."""
    ifs = [exp.If(this=cond, true=value) for cond, value in whens]
    return exp.Case(ifs=ifs, default=default)


def _paren(e: exp.Expr) -> exp.Expr:
    return exp.Paren(this=e)


def _is_null(e: exp.Expr) -> exp.Expr:
    return exp.Is(this=_paren(e), expression=exp.Null())


_COMPARISONS: dict[CmpOp, Callable[[exp.Expr, exp.Expr], exp.Expr]] = {
    CmpOp.LT: lambda a, b: exp.LT(this=a, expression=b),
    CmpOp.LE: lambda a, b: exp.LTE(this=a, expression=b),
    CmpOp.GT: lambda a, b: exp.GT(this=a, expression=b),
    CmpOp.GE: lambda a, b: exp.GTE(this=a, expression=b),
    CmpOp.EQ: lambda a, b: exp.EQ(this=a, expression=b),
    CmpOp.NE: lambda a, b: exp.NEQ(this=a, expression=b),
}


def _units(x: Decimal) -> int:
    scaled = x * SCALE
    if scaled != scaled.to_integral_value():
        raise UnsupportedPlan(f"the number {x} has more than {PLACES} decimal places")
    return int(scaled)


def _and(parts: Sequence[exp.Expr]) -> exp.Expr:
    if not parts:
        return exp.true()
    return exp.and_(*(_paren(x) for x in parts), copy=False)


def _or(parts: Sequence[exp.Expr]) -> exp.Expr:
    if not parts:
        return exp.false()
    return exp.or_(*(_paren(x) for x in parts), copy=False)


class _Compiler:
    def __init__(self, plan: Plan, layout: Layout, dialect: str) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}; expected one of {', '.join(DIALECTS)}")
        self.plan = plan
        self.layout = layout
        self.dialect = dialect
        # DuckDB holds a number whose bound fits in a BIGINT in one (scores and
        # percentages have at most SCORE_DIGITS digits before the point: a longer one is
        # above any maximum, and Python says so), others in a HUGEINT.
        self.narrow = dialect == "duckdb"
        self.score_digits = SCORE_DIGITS if self.narrow else INT_DIGITS
        self.int_type = _dtype(
            "HUGEINT" if dialect == "duckdb" else "DECIMAL(38, 0)", dialect="duckdb"
        )
        # Largest magnitude (in units) an integer intermediate may reach: DuckDB's HUGEINT
        # holds 1.7e38; elsewhere a DECIMAL division keeps 32 digits before the point.
        self.limit = 10**37 if dialect == "duckdb" else 10**31
        self.layers: list[list[tuple[str, exp.Expr]]] = [[]]
        self.counter = 0
        # (TRUE when bad, reason, whether it sends the row to Python; if not, a later
        # problem that does covers it, and this one only says why more exactly)
        self.problems: list[tuple[exp.Expr, str, bool]] = []
        self.inputs: dict[str, _V] = {}
        self.items: dict[str, _V] = {}
        self.forced: dict[str, _V] = {}  # item id -> own code: 0 none, 1 severe, 2+k veto k
        self.bands: dict[str, _V] = {}  # banded item id -> band index
        self.values: dict[str, _V] = {}
        self.severe_marks: dict[str, _V] = {}
        self.total: _V | None = None
        self.gate_cols: dict[str, _V] = {}  # gate id -> whether it passed (levels, outcomes)
        self.requires: dict[str, list[_V]] = {}  # gate id -> whether each requirement holds
        self.declared_zero: list[list[exp.Expr]] = []  # divisors under `else`, innermost last
        self.unit_cols: dict[exp.Expr, _V] = {}  # a DECIMAL input's column -> its units
        # DuckDB: pattern -> [(a flag, its placeholder test, the cells it covers)]
        self.row_groups: dict[str, list[tuple[_V, exp.Paren, list[exp.Expr]]]] = {}

    # ---- columns and layers --------------------------------------------------------------

    def bind(
        self,
        value: exp.Expr,
        layer: int,
        prefix: str = "t",
        bound: int | None = None,
        is_bool: bool = False,
    ) -> _V:
        """Give an expression its own column in the layer after the ones it reads."""
        self.counter += 1
        name = f"_{prefix}{self.counter}"
        while len(self.layers) <= layer + 1:
            self.layers.append([])
        self.layers[layer + 1].append((name, value))
        return _V(_col(name), layer + 1, bound, is_bool)

    def problem(self, bad: exp.Expr, reason: str, flags: bool = True) -> None:
        self.problems.append((bad, reason, flags))

    def cast_int(self, e: exp.Expr) -> exp.Expr:
        return exp.Cast(this=e, to=self.int_type.copy())

    # ---- how a number is held -------------------------------------------------------------

    def const(self, units: int) -> _V:
        """The number of `units` as a typed constant."""
        sql = self.cast_int(_lit(units))
        if self.fits(abs(units)):
            sql = exp.Cast(this=_lit(units), to=_dtype("BIGINT"))
        return _V(sql, 0, abs(units), units=units)

    def const_as(self, units: int, decimal: bool) -> exp.Expr:
        """A constant for a units value or, when `decimal`, a DECIMAL(18, PLACES) one."""
        if not decimal:
            return self.const(units).sql
        width = 18 if abs(units) < 10**18 else 38
        text = format(Decimal(units).scaleb(-PLACES), "f")
        return exp.Cast(this=exp.Literal.number(text), to=_dtype(f"DECIMAL({width}, {PLACES})"))

    def percent_decimal(self, c: exp.Expr) -> tuple[exp.Expr, exp.Expr]:
        """DuckDB: a plain percentage cell as a DECIMAL(18, PLACES), written with and
        without `%`. Percentages are mostly compared with constants (bands, ranges), and a
        DECIMAL parse costs half of one into units; `units_of` converts when a formula
        reads one."""
        held = _dtype(f"DECIMAL(18, {PLACES})")
        digits = exp.Cast(
            this=exp.func("REPLACE", c.copy(), _s("%"), _s("")),
            to=_dtype(f"DECIMAL({self.score_digits + PLACES - 2}, {PLACES - 2})"),
        )
        # DECIMAL(2, 2): the product is DECIMAL(18, 12), 64 bits (with (3, 2), 128 bits)
        hundredth = exp.Cast(this=exp.Literal.number("0.01"), to=_dtype("DECIMAL(2, 2)"))
        as_percent = exp.Cast(this=exp.Mul(this=digits, expression=hundredth), to=held)
        return as_percent, exp.Cast(this=c.copy(), to=held.copy())

    def units_of(self, v: _V) -> _V:
        """`v` in units: a DECIMAL(18, PLACES) always shows PLACES digits after its point,
        so its text without the point is its units (bound to a column once)."""
        if not v.decimal:
            return v
        if v.sql in self.unit_cols:
            return self.unit_cols[v.sql]
        text = exp.Cast(this=v.sql.copy(), to=_VARCHAR.copy())
        units = exp.Cast(this=exp.func("REPLACE", text, _s("."), _s("")), to=_dtype("BIGINT"))
        out = self.bind(units, v.layer, "u", bound=v.bound)
        self.unit_cols[v.sql] = out
        return out

    def units_type(self, digits: int) -> exp.DataType:
        """DuckDB's integer type for a whole number of at most `digits` digits."""
        return _dtype("BIGINT" if self.fits(10**digits) else "HUGEINT")

    def fits(self, bound: int | None) -> bool:
        """Whether DuckDB holds a number of at most `bound` units in a BIGINT."""
        return self.narrow and bound is not None and bound <= BIGINT_MAX

    def to_int(self, v: _V) -> exp.Expr:
        """`v` as a whole number of units, wide enough for products and quotients."""
        if v.units is not None:
            return self.cast_int(_lit(v.units))
        return self.cast_int(v.sql) if self.narrow else v.sql

    def from_int(self, units: exp.Expr, bound: int | None = None) -> exp.Expr:
        """A whole number of units (at most `bound`) as a number: on DuckDB a BIGINT when
        the bound allows (TRY_CAST: were a bound wrong, the value would be NULL and the
        row would go to Python, never a wrong digit)."""
        if self.fits(bound):
            return exp.TryCast(this=units, to=_dtype("BIGINT"))
        return units

    def shown(self, x: exp.Expr) -> exp.Expr:
        """A number as the CSV writer prints a Decimal: no exponent, no trailing zeros."""
        if not self.narrow:
            return _format_units(self, x)
        # sign, whole part, and the fraction's digits up to its last non-zero one (their
        # count found by whole-number tests, cheaper than trimming text)
        magnitude = exp.Abs(this=_paren(x.copy()))
        whole = exp.IntDiv(this=magnitude.copy(), expression=_lit(SCALE))
        frac = _paren(exp.Mod(this=magnitude, expression=_lit(SCALE)))
        digits = _case(
            [
                (
                    exp.EQ(
                        this=exp.Mod(this=frac.copy(), expression=_lit(10 ** (PLACES - k))),
                        expression=_lit(0),
                    ),
                    _lit(k),
                )
                for k in range(1, PLACES)
            ],
            _lit(PLACES),
        )
        shifted = exp.Cast(
            this=exp.Add(this=frac.copy(), expression=_lit(SCALE)), to=_VARCHAR.copy()
        )
        fraction = _case(
            [(exp.EQ(this=frac.copy(), expression=_lit(0)), _s(""))],
            exp.DPipe(
                this=_s("."), expression=exp.Substring(this=shifted, start=_lit(2), length=digits)
            ),
        )
        sign = _case([(exp.LT(this=x.copy(), expression=_lit(0)), _s("-"))], _s(""))
        return exp.DPipe(
            this=exp.DPipe(this=sign, expression=exp.Cast(this=whole, to=_VARCHAR.copy())),
            expression=fraction,
        )

    def typed(self, x: exp.Expr) -> exp.Expr:
        """A number as a DECIMAL(38, PLACES) output column."""
        if not self.narrow:
            return exp.Cast(this=_format_units(self, x), to=_DECIMAL.copy())
        unit = exp.Cast(
            this=exp.Literal.number(format(Decimal(1).scaleb(-PLACES), "f")),
            to=_dtype(f"DECIMAL({PLACES + 1}, {PLACES})"),
        )
        whole = exp.Cast(this=x, to=_dtype("DECIMAL(38, 0)"))
        return exp.Cast(this=exp.Mul(this=whole, expression=unit), to=_DECIMAL.copy())

    def to_double(self, e: exp.Expr) -> exp.Expr:
        """The magnitude of a number in units, estimated in a DOUBLE."""
        return exp.Abs(this=exp.Cast(this=e, to=_dtype("DOUBLE")))

    # ---- integer division ------------------------------------------------------------------

    def trunc_div(self, a: exp.Expr, d: exp.Expr) -> exp.Expr:
        """a / d rounded toward zero; d > 0."""
        if self.dialect == "duckdb":
            return exp.IntDiv(this=_paren(a), expression=_paren(d))

        # Elsewhere a DECIMAL quotient, floored, then corrected by one if it rounded up.
        def floor_div(x: exp.Expr) -> exp.Expr:
            q = exp.Floor(this=exp.Div(this=_paren(x), expression=_paren(d)))
            over = exp.GT(this=exp.Mul(this=q.copy(), expression=_paren(d.copy())), expression=x)
            return self.cast_int(exp.Sub(this=q, expression=_case([(over, _lit(1))], _lit(0))))

        negative = exp.LT(this=a, expression=_lit(0))
        return _case(
            [(negative, exp.Neg(this=_paren(floor_div(exp.Neg(this=_paren(a))))))], floor_div(a)
        )

    def rounded_div(self, a: exp.Expr, d: exp.Expr, mode: str) -> exp.Expr:
        """a / d rounded to a whole number by `mode` (a RoundingMode, or floor / ceil); d > 0
        and `a` a column, since it is read several times."""
        q = self.trunc_div(a, d)
        r = exp.Sub(
            this=_paren(a.copy()),
            expression=exp.Mul(this=_paren(q.copy()), expression=_paren(d.copy())),
        )
        twice = exp.Mul(this=_lit(2), expression=exp.Abs(this=r.copy()))
        away = _case([(exp.LT(this=a.copy(), expression=_lit(0)), _lit(-1))], _lit(1))
        if mode == RoundingMode.DOWN:
            return q
        if mode == RoundingMode.UP:
            cond: exp.Expr = exp.NEQ(this=r, expression=_lit(0))
        elif mode == RoundingMode.HALF_UP:
            cond = exp.GTE(this=twice, expression=d.copy())
        elif mode == RoundingMode.HALF_EVEN:
            odd = exp.NEQ(
                this=exp.Mod(this=_paren(q.copy()), expression=_lit(2)), expression=_lit(0)
            )
            tie = exp.and_(exp.EQ(this=twice.copy(), expression=d.copy()), odd)
            cond = exp.or_(exp.GT(this=twice, expression=d.copy()), _paren(tie))
        elif mode == "floor":
            return exp.Sub(
                this=q, expression=_case([(exp.LT(this=r, expression=_lit(0)), _lit(1))], _lit(0))
            )
        elif mode == "ceil":
            return exp.Add(
                this=q, expression=_case([(exp.GT(this=r, expression=_lit(0)), _lit(1))], _lit(0))
            )
        else:
            raise UnsupportedPlan(f"unknown rounding mode {mode!r}")
        return exp.Add(this=_paren(q), expression=_case([(cond, away)], _lit(0)))

    def guarded(self, value: exp.Expr, guard: exp.Expr | None, reason: str) -> exp.Expr:
        if guard is None:
            return value
        self.problem(exp.Not(this=_paren(exp.func("COALESCE", guard.copy(), exp.true()))), reason)
        return _case([(guard, value)])

    # ---- numbers and expressions -----------------------------------------------------------

    def expr(self, e: Expr) -> _V:
        handler: Callable[[_Compiler, Any], _V] | None = _HANDLERS.get(type(e))
        if handler is None:
            raise UnsupportedPlan(f"the SQL compiler does not know the expression {e!r}")
        return handler(self, e)

    def number(self, e: Expr) -> _V:
        v = self.expr(e)
        if v.is_bool:
            raise UnsupportedPlan(f"a number was expected, not a condition: {e!r}")
        return v

    def condition(self, e: Expr) -> _V:
        v = self.expr(e)
        if not v.is_bool:
            raise UnsupportedPlan(f"a condition was expected, not a number: {e!r}")
        return v

    def atom(self, v: _V) -> _V:
        """`v` as something cheap to repeat: a column or a literal (bound if need be)."""
        sql = v.sql.this if isinstance(v.sql, exp.Cast) else v.sql
        if isinstance(sql, (exp.Column, exp.Literal, exp.Boolean, exp.Null)):
            return v
        return self.bind(v.sql, v.layer, bound=v.bound, is_bool=v.is_bool)

    def within(self, bound: int | None) -> bool:
        return bound is not None and bound < self.limit

    def add(self, a: _V, b: _V, op: ArithOp) -> _V:
        node = exp.Add if op is ArithOp.ADD else exp.Sub
        bound = None if a.bound is None or b.bound is None else a.bound + b.bound
        guard = None
        if not self.within(bound):
            a, b = self.atom(a), self.atom(b)  # read twice: columns, or sums of sums double
            guard = exp.LT(
                this=exp.Add(this=self.to_double(a.sql), expression=self.to_double(b.sql)),
                expression=exp.Literal.number(f"{self.limit:.0e}"),
            )
            bound = None
        x, y = a.sql, b.sql
        if self.narrow and not self.fits(bound):  # BIGINT + BIGINT must not overflow
            x, y = self.cast_int(x), self.cast_int(y)
        value = node(this=_paren(x), expression=_paren(y))  # type: exp.Expr
        value = self.guarded(value, guard, "a sum too large for exact SQL arithmetic")
        return _V(value, max(a.layer, b.layer), bound)

    def multiply(self, a: _V, b: _V) -> _V:
        """a x b rounded half-even to PLACES places."""
        product_bound = None if a.bound is None or b.bound is None else a.bound * b.bound
        guard = None
        if not self.within(product_bound):
            a, b = self.atom(a), self.atom(b)  # read twice, as in `add`
            guard = exp.LT(
                this=exp.Mul(this=self.to_double(a.sql), expression=self.to_double(b.sql)),
                expression=exp.Literal.number(f"{self.limit:.0e}"),
            )
        product: exp.Expr = exp.Mul(this=_paren(self.to_int(a)), expression=_paren(self.to_int(b)))
        product = self.guarded(product, guard, "a product too large for exact SQL arithmetic")
        col = self.bind(product, max(a.layer, b.layer))
        bound = None if product_bound is None else product_bound // SCALE + 1
        bound = bound if self.within(bound) else None
        rounded = self.rounded_div(col.sql, _lit(SCALE), RoundingMode.HALF_EVEN)
        return _V(self.from_int(rounded, bound), col.layer, bound)

    def divide(self, a: _V, b: _V) -> _V:
        """a / b rounded half-even to PLACES places; a zero divisor sends the row to Python."""
        guard = None
        if not self.within(None if a.bound is None else a.bound * SCALE):
            guard = exp.LT(
                this=self.to_double(a.sql),
                expression=exp.Literal.number(f"{self.limit // SCALE:.0e}"),
            )
        is_zero = exp.func("COALESCE", exp.EQ(this=b.sql.copy(), expression=_lit(0)), exp.false())
        if self.declared_zero:  # `a / b else x`: a zero divisor takes x (see _on_zero)
            self.declared_zero[-1].append(is_zero)
        else:
            self.problem(is_zero, "division by zero")
        negative = exp.LT(this=b.sql.copy(), expression=_lit(0))
        numerator = exp.Mul(this=_paren(self.to_int(a)), expression=_lit(SCALE))
        signed = _case([(negative, exp.Neg(this=_paren(numerator.copy())))], numerator)
        num = self.bind(
            self.guarded(signed, guard, "a quotient too large for exact SQL arithmetic"),
            max(a.layer, b.layer),
        )
        den = self.bind(
            _case(
                [(exp.EQ(this=b.sql.copy(), expression=_lit(0)), exp.Null())],
                exp.Abs(this=_paren(self.to_int(b))),
            ),
            b.layer,
        )
        layer = max(num.layer, den.layer)
        quotient = self.rounded_div(num.sql, den.sql, RoundingMode.HALF_EVEN)
        return _V(self.from_int(quotient), layer, None)

    def declared_round(self, v: _V) -> _V:
        rounding = self.plan.rounding
        if rounding is None or rounding.places >= PLACES:
            return v
        col = self.bind(self.to_int(v), v.layer, bound=v.bound)
        unit = 10 ** (PLACES - rounding.places)
        value = exp.Mul(
            this=_paren(self.rounded_div(col.sql, _lit(unit), rounding.mode)), expression=_lit(unit)
        )
        bound = None if v.bound is None else v.bound + unit
        return _V(self.from_int(value, bound), col.layer, bound)

    # ---- inputs ------------------------------------------------------------------------------

    def default(self, inp: Input) -> exp.Expr:
        """An input's declared default as SQL, or NULL."""
        if inp.default is None:
            return exp.Null()
        if isinstance(inp.default, bool):
            return exp.true() if inp.default else exp.false()
        return self.const(_units(inp.default)).sql

    def cells(self) -> None:
        """Layer 1: every used cell as text. Cells are not trimmed, nor is an empty text
        made NULL, but for the id, scheme and severe cells (each costs more than the rest
        of a cell's work): a number or truth value with white space, or empty but not
        NULL, fails its pattern and the row goes to the Python reader, which strips it."""
        lay = self.layout
        names = [
            lay.id,
            lay.scheme,
            lay.severe,
            *lay.inputs.values(),
            *lay.scores.values(),
            *lay.samples.values(),
            *lay.problems.values(),
        ]
        self.cell_cols: dict[str, _V] = {}
        self.scales: dict[str, int] = {}  # a typed number cell's column -> its scale
        free = {lay.id, lay.scheme, lay.severe}  # cells no pattern bounds
        for name in names:
            if name is None:
                continue
            if name in lay.numeric or name in lay.boolean:
                cell = self.bind(_col(name), 0, prefix="c")
                self.cell_cols[name] = cell
                if name in lay.numeric:
                    self.scales[cell.sql.name] = lay.numeric[name]
                continue
            text: exp.Expr = exp.Cast(this=_col(name), to=_VARCHAR.copy())
            if name in free:
                long = exp.GT(this=exp.Length(this=text.copy()), expression=_lit(CELL_CHARS))
                self.problem(exp.func("COALESCE", long, exp.false()), f"{name} is a long cell")
                text = exp.func("NULLIF", text, _s(""))
            self.cell_cols[name] = self.bind(text, 0, prefix="c")

    def text_of(self, column: str | None) -> _V | None:
        return None if column is None else self.cell_cols[column]

    def parse(
        self, text: exp.Expr, places: int, percent: bool, digits: int = INT_DIGITS
    ) -> exp.Expr:
        """A plain number's text (see `plain`, with at most `digits` before the point) as a
        number; a percentage as a fraction."""
        body = exp.func("REPLACE", text, _s("%"), _s("")) if percent else text
        if self.narrow:
            # Its digits without the point, times 10 ** (places - digits after the point),
            # in a BIGINT when they fit (DuckDB's DECIMAL to whole-number arithmetic
            # divides in 128 bits, several times slower).
            kind = self.units_type(digits + places)
            point = exp.StrPosition(this=body.copy(), substr=_s("."))
            after = _case(
                [(exp.EQ(this=point.copy(), expression=_lit(0)), _lit(0))],
                exp.Sub(this=exp.func("STRLEN", body.copy()), expression=point),
            )
            # 10 ** k for k <= PLACES is exact in a DOUBLE (a power of ten, not a value)
            power = exp.Pow(this=_lit(10), expression=exp.Sub(this=_lit(places), expression=after))
            shift = exp.Cast(this=power, to=kind)
            number = exp.TryCast(this=exp.func("REPLACE", body, _s("."), _s("")), to=kind.copy())
            return exp.Mul(this=number, expression=shift)
        dec: exp.Expr = exp.Cast(this=body, to=_dtype(f"DECIMAL({digits + places}, {places})"))
        factor = exp.Cast(this=_lit(10**places), to=_dtype(f"DECIMAL({places + 1}, 0)"))
        units = exp.Mul(this=dec, expression=factor)
        return self.cast_int(units)

    def number_cell(self, cell: _V, places: int | None, digits: int = INT_DIGITS) -> _V:
        """The number in a plain cell (see `plain`, with at most `digits` before the point;
        a whole number when `places` is None), NULL when the cell is NULL or not plain.

        On DuckDB most rows are proved plain once for all their number cells (see
        `row_plain`): when every one is a whole number, each is read by a BIGINT cast. A
        row that fails tests its cells one by one: a whole number without a regular
        expression (its text must be as long as its digits, which no sign, space, point,
        underscore or exponent can be unless the value is the same), anything else by the
        pattern. A typed cell (see `typed_columns`) is plain when in range."""
        text = cell.sql
        scale = self.scales.get(text.name)
        if scale is not None:
            return self.typed_number(cell, scale, digits)
        general = _case(
            [
                (
                    self.plain(text.copy(), places, digits),
                    self.parse(text.copy(), PLACES, False, digits),
                )
            ]
        )
        if not self.narrow:
            return _V(general, cell.layer)
        whole = self.bind(exp.TryCast(this=text.copy(), to=_dtype("BIGINT")), cell.layer, "w")
        limits = [
            (exp.LT(this=whole.sql.copy(), expression=_lit(10**k)), _lit(k))
            for k in range(1, digits + 1)
        ]
        count = _case([(exp.LT(this=whole.sql.copy(), expression=_lit(0)), _lit(-1)), *limits])
        plain = exp.EQ(this=exp.func("STRLEN", text.copy()), expression=count)
        units: exp.Expr = whole.sql.copy()
        if not self.fits(10 ** (digits + PLACES)):
            units = self.cast_int(units)
        exact = exp.Mul(this=units, expression=_lit(SCALE))
        one_by_one = _case([(plain, exact.copy())], general)
        every_whole = self.row_plain(self.plain_pattern(None, digits), cell)
        value = _case([(every_whole.sql.copy(), exact)], one_by_one)
        return _V(value, max(whole.layer, every_whole.layer))

    def typed_number(self, cell: _V, scale: int, digits: int) -> _V:
        """A typed number cell (an integer or a DECIMAL with `scale` places, see
        `typed_columns`) in units; NULL when it is NULL or out of the plain range (a sign, or
        more than `digits` digits before the point)."""
        x = cell.sql
        in_range = _and(
            [
                exp.GTE(this=x.copy(), expression=_lit(0)),
                exp.LT(this=x.copy(), expression=_lit(10**digits)),
            ]
        )
        kind = self.units_type(digits + PLACES)
        if scale:  # a DECIMAL's value times 10^12 is whole
            units: exp.Expr = exp.TryCast(
                this=exp.Mul(this=x.copy(), expression=_lit(SCALE)), to=kind
            )
        else:
            units = exp.Mul(this=exp.TryCast(this=x.copy(), to=kind), expression=_lit(SCALE))
        return _V(_case([(in_range, units)]), cell.layer)

    def row_plain(self, pattern: str, cell: _V) -> _V:
        """Whether each of the row's cells registered under `pattern` with this one (up to
        ROW_CELLS) matches it or is empty (DuckDB only). One regular expression over the
        cells joined by commas costs a fraction of one per cell; no pattern admits a comma, so
        a comma inside a cell breaks the count and fails the test. `_assemble` writes the
        test once every cell is registered."""
        groups = self.row_groups.setdefault(pattern, [])
        if not groups or len(groups[-1][2]) == ROW_CELLS:
            test = exp.Paren(this=exp.true())
            flag = self.bind(test, cell.layer, "row", is_bool=True)
            groups.append((flag, test, []))
        flag, _, cells = groups[-1]
        if cell.layer >= flag.layer:
            raise AssertionError("row_plain covers cells of the first layer only")
        cells.append(cell.sql.copy())
        return flag

    def write_row_tests(self) -> None:
        for pattern, (_, test, cells) in (
            (pattern, group) for pattern, groups in self.row_groups.items() for group in groups
        ):
            joined: list[exp.Expr] = []
            for cell in cells:
                joined += [_s(","), cell] if joined else [cell]
            whole = f"^(?:{pattern})?(?:,(?:{pattern})?){{{len(cells) - 1}}}$"
            concat = exp.Anonymous(this="CONCAT", expressions=joined)  # NULL is ''
            test.set("this", self.matches(concat, whole))

    def formula_start(self, text: exp.Expr) -> exp.Expr:
        """Whether `text` starts as a spreadsheet formula (FORMULA_STARTS): on DuckDB by
        its first code point (ASCII gives it; one SUBSTRING a comparison costs more)."""
        if not self.narrow:
            return self.one_of(exp.func("SUBSTRING", text.copy(), _lit(1), _lit(1)), FORMULA_STARTS)
        first = exp.func("ASCII", text.copy())
        return _paren(
            _or([exp.EQ(this=first.copy(), expression=_lit(ord(ch))) for ch in FORMULA_STARTS])
        )

    @staticmethod
    def one_of(text: exp.Expr, words: Sequence[str]) -> exp.Expr:
        return _paren(_or([exp.EQ(this=text.copy(), expression=_s(w)) for w in words]))

    def matches(self, text: exp.Expr, pattern: str) -> exp.Expr:
        return _paren(exp.RegexpLike(this=text, expression=_s(pattern)))

    def plain(
        self, text: exp.Expr, places: int | None, digits: int = INT_DIGITS, percent: bool = False
    ) -> exp.Expr:
        """`text` is ``[0-9]{1,digits}([.][0-9]{1,places})?`` (or, when `percent`, that or
        the same with two places fewer and a final ``%``): the numbers SQL parses exactly
        as Python does. One regular expression
        a cell is the cheapest exact test (cheaper than a chain of string functions)."""
        return self.matches(text, f"^{self.plain_pattern(places, digits, percent)}$")

    def plain_pattern(
        self, places: int | None, digits: int = INT_DIGITS, percent: bool = False
    ) -> str:
        fraction = "" if places is None else f"([.][0-9]{{1,{places}}})?"
        if percent:  # a percentage has two places fewer than the fraction it stands for
            assert places is not None
            fraction = f"(([.][0-9]{{1,{places - 2}}})?%|{fraction})"
        return f"[0-9]{{1,{digits}}}{fraction}"

    def compile_inputs(self) -> None:
        for inp in self.plan.inputs:
            cell = self.text_of(self.layout.inputs.get(inp.name))
            what = f"input {inp.name!r}"
            if cell is None:
                if inp.required:
                    self.problem(exp.true(), f"{what} is missing")
                self.inputs[inp.name] = _V(self.default(inp), 0, 0, inp.type is InputType.BOOL)
                continue
            c = cell.sql
            is_null = _is_null(c.copy())
            # A required number without a default is NULL exactly when its cell is missing
            # or not plain: one test then sends the row to Python for all three problems
            # (each below keeps its reason).
            merged = inp.required and inp.default is None and inp.type is not InputType.BOOL
            if inp.required:
                self.problem(is_null.copy(), f"{what} is missing", flags=not merged)
            if inp.type is InputType.BOOL:
                if self.layout.inputs[inp.name] in self.layout.boolean:
                    truth: exp.Expr = c.copy()  # BOOLEAN: its text is `true` or `false`
                else:
                    # Only the words as written in TRUE_WORDS / FALSE_WORDS (an IN list or
                    # LOWER costs more than these comparisons); "True" goes to Python.
                    self.problem(
                        exp.Not(
                            this=exp.func(
                                "COALESCE", self.one_of(c, TRUE_WORDS + FALSE_WORDS), exp.true()
                            )
                        ),
                        f"{what} is not a plain true or false",
                    )
                    truth = self.one_of(c, TRUE_WORDS)
                if inp.default is not None:  # a cell left empty takes the declared default
                    truth = exp.func("COALESCE", truth, self.default(inp))
                self.inputs[inp.name] = self.bind(truth, cell.layer, "i", is_bool=True)
                continue
            if inp.type is InputType.PERCENT:
                digits = self.score_digits  # more: far above 100%, which Python says
                one: exp.Expr = self.plain(c.copy(), PLACES, digits, percent=True)
                layer = cell.layer
                if self.narrow:  # the row's test, then (NULL stays NULL) not empty
                    every = self.row_plain(self.plain_pattern(PLACES, digits, True), cell)
                    one = _case(
                        [(every.sql.copy(), exp.NEQ(this=c.copy(), expression=_s("")))], one
                    )
                    layer = every.layer
                ok = self.bind(one, layer, "ok", is_bool=True)
                self.problem(
                    exp.Not(this=_paren(exp.func("COALESCE", ok.sql.copy(), exp.true()))),
                    f"{what} is not a plain percentage",
                    flags=not merged,
                )
                percent: exp.Expr = exp.EQ(
                    this=exp.func("RIGHT", c.copy(), _lit(1)), expression=_s("%")
                )
                if self.narrow:
                    # DuckDB: a byte compare, where RIGHT counts characters (10M cells: 0.1 s less)
                    percent = exp.Anonymous(this="ENDS_WITH", expressions=[c.copy(), _s("%")])
                    as_percent, as_fraction = self.percent_decimal(c)
                else:
                    as_percent = self.parse(c.copy(), PLACES - 2, True, digits)
                    as_fraction = self.parse(c.copy(), PLACES, False, digits)
                value: exp.Expr = _case(
                    [(ok.sql.copy(), _case([(percent, as_percent)], as_fraction))]
                )
                layer = ok.layer
            else:
                number = self.number_cell(cell, None if inp.type is InputType.INTEGER else PLACES)
                number = self.bind(number.sql, number.layer, "n")
                self.problem(
                    exp.and_(_is_null(number.sql.copy()), exp.Not(this=is_null.copy())),
                    f"{what} is not a plain number",
                    flags=not merged,
                )
                value, layer = number.sql, number.layer
            held = self.narrow and inp.type is InputType.PERCENT  # see percent_decimal
            parsed: exp.Expr = value
            if inp.default is not None:  # a cell left empty takes the declared default
                default = self.default(inp)
                if held:
                    assert isinstance(inp.default, Decimal)
                    default = self.const_as(_units(inp.default), True)
                parsed = exp.func("COALESCE", value, default)
            digits = self.score_digits if inp.type is InputType.PERCENT else INT_DIGITS
            bound = 10 ** (digits + PLACES)
            if inp.default is not None and not isinstance(inp.default, bool):
                bound = max(bound, abs(_units(inp.default)))
            v = self.bind(parsed, layer, "i", bound=bound)
            if held:
                v = attrs.evolve(v, decimal=True)
            checks: list[exp.Expr] = []
            if inp.type is InputType.PERCENT:
                whole = self.const_as(SCALE, v.decimal)  # 100%
                checks.append(exp.LTE(this=v.sql.copy(), expression=whole))
            if inp.domain:
                checks.append(
                    _or(
                        [
                            _and(
                                self.interval_test(
                                    v.sql, b.low, b.high, b.low_closed, b.high_closed, v.decimal
                                )
                            )
                            for b in inp.domain
                        ]
                    )
                )
            if checks:
                self.problem(
                    exp.Not(this=_paren(exp.func("COALESCE", _and(checks), exp.true()))),
                    f"{what} is out of its range",
                    flags=not merged,
                )
            if merged:
                bad = (
                    exp.Not(this=_paren(exp.func("COALESCE", _and(checks), exp.false())))
                    if checks
                    else _is_null(v.sql.copy())
                )
                self.problem(bad, f"{what} is missing, not plain or out of its range")
            self.inputs[inp.name] = v
        self.compile_bounds()

    def compile_bounds(self) -> None:
        """An input bounded by another (``p1_method_compliant <= p1_items``): a row that
        breaks it goes to the Python reader, which names both inputs."""
        for inp in self.plan.inputs:
            if inp.bound is None:
                continue
            x, limit = self.inputs[inp.name], self.inputs[inp.bound.input]
            if x.decimal != limit.decimal:
                x, limit = self.units_of(x), self.units_of(limit)
            test = _COMPARISONS[inp.bound.op](x.sql.copy(), limit.sql.copy())
            broken = exp.func("COALESCE", exp.Not(this=_paren(test)), exp.false())
            self.problem(broken, f"input {inp.name!r} is above its bound {inp.bound.input!r}")

    def interval_test(
        self,
        x: exp.Expr,
        low: Decimal | None,
        high: Decimal | None,
        low_closed: bool,
        high_closed: bool,
        decimal: bool = False,
    ) -> list[exp.Expr]:
        parts = []
        if low is not None:
            op = CmpOp.GE if low_closed else CmpOp.GT
            parts.append(self.compare_const(x, op, low, decimal))
        if high is not None:
            op = CmpOp.LE if high_closed else CmpOp.LT
            parts.append(self.compare_const(x, op, high, decimal))
        return parts

    def compare_const(self, x: exp.Expr, op: CmpOp, c: Decimal, decimal: bool = False) -> exp.Expr:
        """x (in units, or a DECIMAL when `decimal`) op c, exact even when c has more than
        PLACES places."""
        scaled = c * SCALE
        if scaled == scaled.to_integral_value():
            return _CMP[op](this=x.copy(), expression=self.const_as(int(scaled), decimal))
        low, high = (
            int(scaled.to_integral_value(rounding="ROUND_FLOOR")),
            int(scaled.to_integral_value(rounding="ROUND_CEILING")),
        )
        if op in (CmpOp.LT, CmpOp.LE):
            return exp.LTE(this=x.copy(), expression=self.const_as(low, decimal))
        if op in (CmpOp.GT, CmpOp.GE):
            return exp.GTE(this=x.copy(), expression=self.const_as(high, decimal))
        return exp.false() if op is CmpOp.EQ else exp.true()

    # ---- findings, scores, severe ------------------------------------------------------------

    def compile_marks(self) -> None:
        """The severe column: which items at the severe depth are marked."""
        cell = self.text_of(self.layout.severe)
        if cell is None:
            return
        depth = self.plan.severe_depth
        if depth is None:
            self.problem(
                exp.Not(this=_is_null(cell.sql.copy())),
                "severe is given but the scheme has no severe rule",
            )
            return
        ids = [i.id for i in self.plan.items if i.depth == depth]
        one = "(" + "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True)) + ")"
        ok = self.matches(cell.sql.copy(), f"^{one}(;{one})*$")
        self.problem(
            exp.Not(this=_paren(exp.func("COALESCE", ok, exp.true()))),
            "severe is not a plain list of ids at the severe depth",
        )
        listed = exp.DPipe(
            this=exp.DPipe(this=_s(";"), expression=cell.sql.copy()), expression=_s(";")
        )
        for item_id in ids:
            found = exp.GT(
                this=exp.StrPosition(this=listed.copy(), substr=_s(f";{item_id};")),
                expression=_lit(0),
            )
            self.severe_marks[item_id] = self.bind(
                exp.func("COALESCE", found, exp.false()), cell.layer, "m", is_bool=True
            )

    def judged_base(self, item: Item) -> _V:
        """A judged item's score from its cell or its findings, before severe and vetoes."""
        score = self.text_of(self.layout.scores.get(item.id))
        samples = self.text_of(self.layout.samples.get(item.id))
        found = self.text_of(self.layout.problems.get(item.id))
        top = _units(item.max)
        score_v: exp.Expr = exp.Null()
        layer = 0
        if score is not None and samples is None and found is None:
            # One check for the common case: NULL is a missing cell (unless a severe mark
            # covers the item) or one that is not plain; otherwise at most the maximum.
            number = self.number_cell(score, PLACES, self.score_digits)
            value = self.bind(number.sql, number.layer, "j", bound=self.cell_bound())
            above = exp.GT(this=value.sql.copy(), expression=self.const(top).sql)
            has_cell = exp.Not(this=_is_null(score.sql.copy()))
            # its own column: read by the item and by the one test of all scores
            score = self.bind(self.at_most(value.sql, top), value.layer, "k", bound=top)
            self.pending_missing.append((item, value.sql, (has_cell, above, score.sql)))
            return score
        if score is not None:
            number = self.number_cell(score, PLACES, self.score_digits)
            value = self.bind(number.sql, number.layer, "j", bound=self.cell_bound())
            # NULL from a cell that is not NULL: not plain (one pattern test a cell).
            above = exp.GT(this=value.sql.copy(), expression=self.const(top).sql)
            self.problem(
                exp.func("COALESCE", above, exp.Not(this=_is_null(score.sql.copy()))),
                f"score of {item.id} is not a plain number from 0 to its maximum",
            )
            score_v, layer = self.at_most(value.sql, top), value.layer
        if samples is None and found is None:
            self.need_score(item, score_v)
            return _V(score_v, layer, top)
        if samples is None or found is None or not self.plan.findings:
            given = [c.sql.copy() for c in (samples, found) if c is not None]
            self.problem(
                _or([exp.Not(this=_is_null(g)) for g in given]),
                f"findings of {item.id} are incomplete or not allowed",
            )
            self.need_score(item, score_v)
            return _V(score_v, layer, top)
        has = exp.or_(
            exp.Not(this=_is_null(samples.sql.copy())), exp.Not(this=_is_null(found.sql.copy()))
        )
        s_ok = self.plain(samples.sql.copy(), None, COUNT_DIGITS)
        p_ok = self.plain(found.sql.copy(), None, COUNT_DIGITS)
        s = self.bind(_case([(s_ok, self.cast_int(samples.sql.copy()))]), samples.layer, "n")
        f = self.bind(_case([(p_ok, self.cast_int(found.sql.copy()))]), found.layer, "n")
        bad = exp.and_(
            _paren(has.copy()),
            _paren(
                exp.or_(
                    _is_null(s.sql.copy()),
                    _is_null(f.sql.copy()),
                    exp.LT(this=s.sql.copy(), expression=_lit(1)),
                    exp.GT(this=f.sql.copy(), expression=s.sql.copy()),
                    exp.Not(this=_is_null(score_v.copy())),
                )
            ),
        )
        self.problem(
            exp.func("COALESCE", bad, exp.true()),
            f"findings of {item.id} are not plain counts with problems <= samples",
        )
        numerator = exp.Mul(
            this=_lit(top), expression=_paren(exp.Sub(this=s.sql.copy(), expression=f.sql.copy()))
        )
        num = self.bind(numerator, max(s.layer, f.layer))
        quotient = self.rounded_div(num.sql, s.sql.copy(), RoundingMode.HALF_EVEN)
        deducted = self.declared_round(_V(self.from_int(quotient, top), num.layer, top))
        chosen = _case([(has, deducted.sql)], score_v)
        self.need_score(item, exp.func("COALESCE", score_v.copy(), s.sql.copy()), findings=True)
        self.finding_cols[item.id] = (s, f)
        return _V(chosen, max(deducted.layer, layer), top)

    def cell_bound(self) -> int:
        """The most units a plain score cell holds."""
        return int(10 ** (self.score_digits + PLACES))

    @staticmethod
    def at_most(score: exp.Expr, top: int) -> exp.Expr:
        """A judged score, NULL above the item's maximum (the row goes to Python then): the
        score's bound then holds on every row, so DuckDB's sums of scores never overflow."""
        return _case([(exp.LTE(this=score.copy(), expression=_lit(top)), score)])

    def need_score(self, item: Item, given: exp.Expr, findings: bool = False) -> None:
        """A judged item without a score (or findings) is a problem unless severe covers it."""
        self.pending_missing.append((item, given, None))

    # ---- items ------------------------------------------------------------------------------

    def compile_items(self) -> None:
        self.finding_cols: dict[str, tuple[_V, _V]] = {}
        # (item, its score, and for a score cell alone: cell given, score above maximum)
        self.pending_missing: list[
            tuple[Item, exp.Expr, tuple[exp.Expr, exp.Expr, exp.Expr] | None]
        ] = []
        self.effective: dict[str, _V | None] = {}
        self.scoring: set[str] = set()
        for item in self.plan.items:
            self.score(item)
        scores: list[exp.Expr] = []  # judged scores a missing or bad cell makes NULL
        most = 0  # their sum's bound
        for item, given, cell in self.pending_missing:
            covered = [
                self.severe_marks[a.id].sql.copy()
                for a in self.chain(item)
                if a.id in self.severe_marks
            ]
            missing = _is_null(given.copy())
            if cell is not None:
                given_cell, above, score = cell
                unsure = (
                    _or([given_cell, exp.Not(this=_paren(_or(covered)))]) if covered else exp.true()
                )
                self.problem(
                    _case([(missing, unsure)], above),
                    f"score of {item.id} is missing, not a plain number, or above its maximum",
                    flags=bool(covered),
                )
                if not covered:
                    scores.append(score)
                    most += _units(item.max)
                continue
            bad = exp.and_(missing, exp.Not(this=_paren(_or(covered)))) if covered else missing
            self.problem(bad, f"{item.id} has no score")
        if scores:
            # One test for them all: a sum is NULL when a score is (each is NULL when its
            # cell is missing, not plain or above the maximum, see `at_most`), and the
            # scores are bounded by their maxima, so even a BIGINT sum cannot overflow.
            if self.narrow and not self.fits(most):
                scores = [self.cast_int(x) for x in scores]
            total: exp.Expr = _paren(scores[0])
            for score in scores[1:]:
                total = exp.Add(this=total, expression=_paren(score))
            self.problem(
                _is_null(total), "a score is missing, not a plain number, or above its maximum"
            )

    def chain(self, item: Item) -> list[Item]:
        """The item and its ancestors, outermost first."""
        out = [item]
        while out[-1].parent is not None:
            out.append(self.plan.item(out[-1].parent))
        return out[::-1]

    def own_forced(self, item: Item) -> _V | None:
        """0 when the item itself is neither severe nor vetoed, 1 severe, 2 + k veto k."""
        if item.id in self.forced:
            return self.forced[item.id]
        whens: list[tuple[exp.Expr, exp.Expr]] = []
        layer = 0
        mark = self.severe_marks.get(item.id)
        if mark is not None:
            whens.append((mark.sql.copy(), _lit(1)))
            layer = mark.layer
        for k, veto in enumerate(item.vetoes):
            cond = self.condition(veto.condition)
            self.problem(_is_null(cond.sql.copy()), f"a veto of {item.id} cannot be decided")
            whens.append((cond.sql, _lit(2 + k)))
            layer = max(layer, cond.layer)
        own = self.bind(_case(whens, _lit(0)), layer, "o") if whens else None
        if own is not None:
            self.forced[item.id] = own
        return own

    def forced_flag(self, item: Item) -> _V | None:
        """True when the item or an ancestor is severe or vetoed (None: never)."""
        if item.id not in self.effective:
            parent = None if item.parent is None else self.forced_flag(self.plan.item(item.parent))
            own = self.own_forced(item)
            parts = [x.sql.copy() for x in (parent,) if x is not None]
            if own is not None:
                parts.append(exp.NEQ(this=own.sql.copy(), expression=_lit(0)))
            layers = [x.layer for x in (parent, own) if x is not None]
            self.effective[item.id] = (
                self.bind(_or(parts), max(layers), "f", is_bool=True) if parts else None
            )
        return self.effective[item.id]

    def score(self, item: Item) -> _V:
        if item.id in self.items:
            return self.items[item.id]
        if item.id in self.scoring:
            raise UnsupportedPlan(f"the score of {item.id} depends on itself")
        self.scoring.add(item.id)
        forced = self.forced_flag(item)
        children = [self.score(c) for c in self.plan.children_of(item)]
        base = self.base(item, children)
        v = base
        if forced is not None:
            value = _case([(forced.sql.copy(), self.const(0).sql)], base.sql)
            v = _V(value, max(forced.layer, base.layer), base.bound)
        v = self.bind(v.sql, v.layer, "s", bound=v.bound)
        if item.kind in (ItemKind.BANDED, ItemKind.COMPUTED):
            # A judged item without a score is caught by its cell's checks or by
            # `has no score`; a parent is NULL only when a child is.
            self.problem(_is_null(v.sql.copy()), f"{item.id} cannot be scored")
        self.items[item.id] = v
        return v

    def base(self, item: Item, children: list[_V]) -> _V:
        if item.kind is ItemKind.PARENT:
            total = children[0]
            for c in children[1:]:
                total = self.add(total, c, ArithOp.ADD)
            return total
        if item.kind is ItemKind.BANDED:
            assert item.input is not None
            index, value = self.banded(self.inputs[item.input], item.bands)
            self.bands[item.id] = index
            return value
        if item.kind is ItemKind.COMPUTED:
            assert item.formula is not None
            return self.declared_round(self.number(item.formula))
        if item.kind is ItemKind.JUDGED:
            return self.judged_base(item)
        raise UnsupportedPlan(f"unknown item kind {item.kind!r}")

    def banded(self, x: _V, bands: tuple[Band, ...]) -> tuple[_V, _V]:
        """(band index, band result): the first band that holds, else the `else` band."""
        order = [k for k, b in enumerate(bands) if not b.is_else] + [
            k for k, b in enumerate(bands) if b.is_else
        ][:1]
        whens = []
        for k in order:
            band = bands[k]
            cond = (
                exp.true()
                if band.is_else
                else _and(
                    self.interval_test(
                        x.sql, band.low, band.high, band.low_closed, band.high_closed, x.decimal
                    )
                )
            )
            whens.append((cond, k))
        index = self.bind(_case([(c, _lit(k)) for c, k in whens]), x.layer, "b")
        value = _case(
            [
                (
                    exp.EQ(this=index.sql.copy(), expression=_lit(k)),
                    self.const(_units(bands[k].result)).sql,
                )
                for _, k in whens
            ]
        )
        return index, _V(value, index.layer, max((abs(_units(b.result)) for b in bands), default=0))

    # ---- values, gates, levels -----------------------------------------------------------------

    def outside_else(self, compile: Callable[[], _V]) -> _V:
        """Compile a value or item of its own: a division in it is not the `else`'s."""
        saved, self.declared_zero = self.declared_zero, []
        try:
            return compile()
        finally:
            self.declared_zero = saved

    def value(self, name: str) -> _V:
        if name not in self.values:
            v = next(v for v in self.plan.values if v.name == name)
            if v.formula is not None:
                result = self.number(v.formula)
            else:
                assert v.input is not None
                _, result = self.banded(self.inputs[v.input], v.bands)
            self.values[name] = self.bind(result.sql, result.layer, "v", bound=result.bound)
        return self.values[name]

    def compile_total(self) -> None:
        if self.plan.total_formula is not None:  # `total N = FORMULA`
            total = self.number(self.plan.total_formula)
            self.problem(_is_null(total.sql.copy()), "the total cannot be computed")
        else:
            parts = [self.items[i.id] for i in self.plan.summed_items]
            total = parts[0] if parts else self.const(0)
            for x in parts[1:]:
                total = self.add(total, x, ArithOp.ADD)
        self.total = self.bind(
            self.declared_round(total).sql, total.layer, "total", bound=total.bound
        )

    def compile_outcome(self) -> None:
        gates = []
        for gate in self.plan.gates:
            held = []  # each requirement a column: an explained query shows which failed
            for req in gate.requires:
                cond = self.condition(req.condition)
                holds = self.bind(cond.sql, cond.layer, "req", is_bool=True)
                self.problem(_is_null(holds.sql.copy()), f"gate {gate.id} cannot be decided")
                held.append(holds)
            self.requires[gate.id] = held
            layer = max((r.layer for r in held), default=0)
            passed = self.bind(_and([r.sql.copy() for r in held]), layer, "gate", is_bool=True)
            self.gate_cols[gate.id] = passed
            gates.append(passed)
        layer = max((g.layer for g in gates), default=0)
        self.eligible = self.bind(_and([g.sql for g in gates]), layer, "eligible", is_bool=True)
        reached = []
        for k, level in enumerate(self.plan.levels):
            cond = self.condition(level.condition)
            self.problem(_is_null(cond.sql.copy()), f"level {level.name} cannot be decided")
            reached.append((cond, k))
        layer = max([c.layer for c, _ in reached] + [self.eligible.layer])
        whens = [(c.sql, _lit(k)) for c, k in reversed(reached)]
        self.reached = self.bind(_case(whens, _lit(-1)) if whens else _lit(-1), layer, "reached")
        self.compile_decision()

    def compile_decision(self) -> None:
        """The index of the first outcome whose condition holds (-1: none)."""
        decided: list[tuple[exp.Expr, int]] = []
        layer = 0
        for k, outcome in enumerate(self.plan.outcomes):
            if outcome.condition is None:
                decided.append((exp.true(), k))
                break
            cond = self.condition(outcome.condition)
            self.problem(_is_null(cond.sql.copy()), f"outcome {outcome.id} cannot be decided")
            decided.append((cond.sql, k))
            layer = max(layer, cond.layer)
        whens = [(c, _lit(k)) for c, k in decided]
        self.decision = self.bind(_case(whens, _lit(-1)) if whens else _lit(-1), layer, "decided")


def _num(c: _Compiler, e: p.Num) -> _V:
    return c.const(_units(e.value))


def _truth(c: _Compiler, e: p.Truth) -> _V:
    return _V(exp.true() if e.value else exp.false(), 0, is_bool=True)


def _input(c: _Compiler, e: p.InputRef) -> _V:
    return c.units_of(c.inputs[e.name])


def _value(c: _Compiler, e: p.ValueRef) -> _V:
    return c.outside_else(lambda: c.value(e.name))


def _item_ref(c: _Compiler, e: p.ItemRef) -> _V:
    # a formula may read an item anywhere in the document
    return c.outside_else(lambda: c.score(c.plan.item(e.id)))


def _gate_ref(c: _Compiler, e: p.GateRef) -> _V:
    if e.id not in c.gate_cols:
        raise UnsupportedPlan(f"gate {e.id} is read before the gates are decided")
    return c.gate_cols[e.id]


def _on_zero(c: _Compiler, e: p.OnZero) -> _V:
    """`a / b else x`: x when a divisor of `a` is 0 and every input and value `a` reads is
    given (as the evaluator: a missing one makes it null), else `a`."""
    c.declared_zero.append([])
    try:
        value = c.number(e.value)
    finally:
        divisors = c.declared_zero.pop()
    otherwise = c.number(e.otherwise)
    reads = [c.inputs[name] for name in p.input_names(e.value)]
    reads += [c.value(x.name) for x in p.walk(e.value) if isinstance(x, p.ValueRef)]
    given = [exp.Not(this=_is_null(r.sql.copy())) for r in reads]
    zero = exp.and_(_or(divisors), _and(given), copy=False)
    layer = max([value.layer, otherwise.layer] + [r.layer for r in reads])
    bound = (
        None
        if value.bound is None or otherwise.bound is None
        else max(value.bound, otherwise.bound)
    )
    return _V(_case([(zero, otherwise.sql)], value.sql), layer, bound)


def _total(c: _Compiler, e: p.TotalRef) -> _V:
    if c.total is None:
        raise UnsupportedPlan("total is read before every item is scored")
    return c.total


def _not(c: _Compiler, e: p.Not) -> _V:
    v = c.condition(e.operand)
    return _V(exp.Not(this=_paren(v.sql)), v.layer, is_bool=True)


def _neg(c: _Compiler, e: p.Neg) -> _V:
    v = c.number(e.operand)
    return _V(exp.Neg(this=_paren(v.sql)), v.layer, v.bound)


def _arith(c: _Compiler, e: p.Arith) -> _V:
    a, b = c.number(e.left), c.number(e.right)
    if e.op in (ArithOp.ADD, ArithOp.SUB):
        return c.add(a, b, e.op)
    if e.op is ArithOp.MUL:
        return c.multiply(a, b)
    return c.divide(a, b)


def _logic(c: _Compiler, e: p.Logic) -> _V:
    """Python's short circuit: `a and b` is false when a is, whatever b (even missing)."""
    a, b = c.atom(c.condition(e.left)), c.condition(e.right)
    a_null = _is_null(a.sql.copy())
    if e.op is LogicOp.AND:
        value = _case(
            [(a_null, exp.Null()), (exp.Not(this=_paren(a.sql.copy())), exp.false())], b.sql
        )
    else:
        value = _case([(a_null, exp.Null()), (a.sql.copy(), exp.true())], b.sql)
    return _V(value, max(a.layer, b.layer), is_bool=True)


_CMP = {
    CmpOp.LT: exp.LT,
    CmpOp.LE: exp.LTE,
    CmpOp.GT: exp.GT,
    CmpOp.GE: exp.GTE,
    CmpOp.EQ: exp.EQ,
    CmpOp.NE: exp.NEQ,
}


def _compare(c: _Compiler, e: p.Compare) -> _V:
    values = [c.atom(c.expr(o)) for o in e.operands]
    pairs = [
        _CMP[op](this=_paren(a.sql.copy()), expression=_paren(b.sql.copy()))
        for op, a, b in zip(e.ops, values, values[1:], strict=False)
    ]
    layer = max(v.layer for v in values)
    if len(pairs) == 1:  # NULL when either side is, as the evaluator's None
        return _V(pairs[0], layer, is_bool=True)
    any_null = _or([_is_null(v.sql.copy()) for v in values])
    return _V(_case([(any_null, exp.Null())], _and(pairs)), layer, is_bool=True)


def _call(c: _Compiler, e: p.Call) -> _V:
    args = [c.number(a) for a in e.args]
    layer = max(a.layer for a in args)
    if e.func in (Func.MIN, Func.MAX):
        cols = [c.bind(a.sql, a.layer, bound=a.bound) for a in args]
        any_null = _or([_is_null(x.sql.copy()) for x in cols])
        best = cols[0].sql
        for x in cols[1:]:
            better = (exp.LT if e.func is Func.MIN else exp.GT)(
                this=x.sql.copy(), expression=best.copy()
            )
            best = _case([(better, x.sql.copy())], best)
        bounds = [x.bound for x in cols]
        bound = None if None in bounds else max(b for b in bounds if b is not None)
        return _V(_case([(any_null, exp.Null())], best), max(x.layer for x in cols), bound)
    x = args[0]
    if e.func in (Func.ROUND_TO, Func.CEIL_TO, Func.FLOOR_TO):
        return _to_step(c, e.func, x, args[1])
    if e.func is Func.ABS:
        return _V(exp.Abs(this=_paren(x.sql)), layer, x.bound)
    bound = None if x.bound is None else x.bound + SCALE
    if e.func in (Func.FLOOR, Func.CEIL):
        col = c.bind(c.to_int(x), x.layer, bound=x.bound)
        q = c.rounded_div(col.sql, _lit(SCALE), "floor" if e.func is Func.FLOOR else "ceil")
        return _V(
            c.from_int(exp.Mul(this=_paren(q), expression=_lit(SCALE)), bound), col.layer, bound
        )
    if e.func is Func.ROUND:
        places = 0
        if len(e.args) > 1:
            arg = e.args[1]
            if not isinstance(arg, p.Num) or arg.value != arg.value.to_integral_value():
                raise UnsupportedPlan("round(x, n) needs n to be a whole number in the scheme")
            places = int(arg.value)
        if places >= PLACES:
            return x
        col = c.bind(c.to_int(x), x.layer, bound=x.bound)
        unit = 10 ** (PLACES - places)
        q = c.rounded_div(col.sql, _lit(unit), RoundingMode.HALF_UP)
        bound = None if x.bound is None else x.bound + unit
        return _V(
            c.from_int(exp.Mul(this=_paren(q), expression=_lit(unit)), bound), col.layer, bound
        )
    raise UnsupportedPlan(f"the SQL compiler does not know the function {e.func!r}")


def _to_step(c: _Compiler, func: Func, x: _V, step: _V) -> _V:
    """`x` to a multiple of `step` (> 0; otherwise the row goes to Python): up, down, or to
    the nearest with halves up, as `evaluate.to_step`."""
    positive = exp.GT(this=_paren(step.sql.copy()), expression=_lit(0))
    c.problem(exp.Not(this=_paren(exp.func("COALESCE", positive.copy(), exp.true()))),
              f"{func.value}() needs a step above 0")  # fmt: skip
    den = c.bind(_case([(positive, _paren(c.to_int(step)))]), step.layer)
    if func is Func.ROUND_TO:  # floor((2x + step) / 2 step)
        twice = exp.Mul(this=_lit(2), expression=_paren(c.to_int(x)))
        num = c.bind(exp.Add(this=twice, expression=den.sql.copy()), max(x.layer, den.layer))
        wide = exp.Mul(this=_lit(2), expression=den.sql.copy())
        q = c.rounded_div(num.sql, wide, "floor")
    else:
        num = c.bind(c.to_int(x), x.layer, bound=x.bound)
        q = c.rounded_div(num.sql, den.sql.copy(), "ceil" if func is Func.CEIL_TO else "floor")
    layer = max(num.layer, den.layer)
    product = exp.Mul(this=_paren(q), expression=den.sql.copy())
    return _V(c.from_int(product), layer, None)


def _weighted(c: _Compiler, e: p.Weighted) -> _V:
    total: _V | None = None
    for term in e.terms:
        weight = _units(term.weight)
        part = c.multiply(c.number(term.ref), c.const(weight))
        total = part if total is None else c.add(total, part, ArithOp.ADD)
    return total if total is not None else c.const(0)


_HANDLERS: dict[type, Callable[[_Compiler, Any], _V]] = {
    p.Num: _num,
    p.Truth: _truth,
    p.InputRef: _input,
    p.ValueRef: _value,
    p.ItemRef: _item_ref,
    p.TotalRef: _total,
    p.Not: _not,
    p.Neg: _neg,
    p.Arith: _arith,
    p.Logic: _logic,
    p.Compare: _compare,
    p.Call: _call,
    p.Weighted: _weighted,
    p.GateRef: _gate_ref,
    p.OnZero: _on_zero,
}


# ---- the query ---------------------------------------------------------------------------


@attrs.frozen
class Query:
    """The compiled query and what its internal columns mean."""

    select: exp.Select
    items: tuple[str, ...]  # item ids, in document order (score columns use these names)
    values: tuple[str, ...]
    explained: bool

    def sql(self, dialect: str = "duckdb", pretty: bool = False) -> str:
        return self.select.sql(dialect=dialect, pretty=pretty)


def status_column(item_id: str) -> str:
    """Per item: 0, 1 when marked severe itself, 2 + k when its veto k holds."""
    return f"_own.{item_id}"


def band_column(item_id: str) -> str:
    return f"_band.{item_id}"


def finding_columns(item_id: str) -> tuple[str, str]:
    return f"_samples.{item_id}", f"_problems.{item_id}"


def input_column(name: str) -> str:
    """An input's value (the default when its cell is empty; NULL: not given)."""
    return f"_input.{name}"


def gate_column(gate_id: str, requirement: int | None = None) -> str:
    """Whether a gate passed, or (with `requirement`) whether its requirement k holds."""
    return f"_gate.{gate_id}" if requirement is None else f"_gate.{gate_id}.{requirement}"


DECIDED = "_decided"  # the index of the outcome decided (-1: none)


def plan_to_sql(
    plan: Plan,
    dialect: str = "duckdb",
    header: Sequence[str] | None = None,
    table: str = "batch",
    row_column: str | None = None,
    text: bool = False,
    explain: bool = False,
    raw: bool = False,
    only: Collection[str] | None = None,
    types: Mapping[str, str] | None = None,
    typed_numbers: bool = False,
) -> Query:
    """One SELECT over `table` (the batch layout with `header`, default the canonical one)
    that validates and scores every row.

    Output: `id`, `error`, `eligible`, `total`, `level`, `level_label`, `next_level`,
    `next_level_needs`, a column per item (named by its id) and per value, and `_python`
    (true: the row must go through the Python reader; `error` says why, the rest is NULL).
    With `text`, numbers are text as the CSV writer prints them and `eligible` is
    `true`/`false` (but with `typed_numbers`, for a Parquet writer: numbers stay DECIMAL
    and `eligible` BOOLEAN, text cells are as for CSV); otherwise numbers are
    DECIMAL(38, PLACES). With `explain`, what decided
    each part, for `scoredsl.explained`: per item `_own.ID`, `_band.ID`, `_samples.ID`,
    `_problems.ID`; per gate and requirement `_gate.ID`, `_gate.ID.K`; `_decided`; every
    input's value `_input.NAME`. A gate requirement that fails and reads a value only
    maybe (right of `and`/`or`) sends its row to Python: whether the value shows among its
    facts depends on what the evaluator computed before.
    With `raw` (DuckDB), `_raw` holds the cells of a row that goes to Python (a JSON list
    of texts, in base64 so that no CSV writer quotes it) and `error` is NULL (the runner
    replaces such a row whole, so no reason is computed), and a row with no id (without
    `row_column`) or a line break in its id goes to Python too: every output row is then
    one line, numbered as its input row. With `only`, just those output columns (and
    `_python`, `_raw`, `row_column`): DuckDB parses and binds a query without the ones a
    runner would drop markedly faster. With `types` (DuckDB: a type per column, as a
    Parquet file gives them), the columns `typed_columns` allows are read as they are,
    the rest as text.
    """
    layout = layout_for(plan, list(header) if header is not None else canonical_header(plan))
    if types:
        if dialect != "duckdb":
            raise ValueError("typed columns are read on DuckDB only")
        layout = typed_columns(layout, plan, types)
    c = _Compiler(plan, layout, dialect)
    c.cells()
    c.compile_inputs()
    c.compile_marks()
    c.compile_items()
    c.compile_total()
    for v in plan.values:
        c.value(v.name)
    c.compile_outcome()
    query = _assemble(c, table, row_column, text, explain, raw, typed_numbers)
    if only is not None:
        kept = {*only, "_python", "_raw", row_column}
        query.select.set("expressions", [e for e in query.select.expressions if e.alias in kept])
    return query


def _format_units(c: _Compiler, x: exp.Expr) -> exp.Expr:
    """Units as the CSV writer prints a Decimal: no exponent, no trailing zeros."""
    magnitude = exp.Abs(this=_paren(x.copy()))
    whole = c.trunc_div(magnitude.copy(), _lit(SCALE))
    frac = exp.Sub(
        this=magnitude.copy(), expression=exp.Mul(this=_paren(whole.copy()), expression=_lit(SCALE))
    )
    varchar = _dtype("VARCHAR")
    digits = exp.func(
        "RTRIM",
        exp.func("LPAD", exp.Cast(this=frac.copy(), to=varchar), _lit(PLACES), _s("0")),
        _s("0"),
    )
    point = _case(
        [(exp.EQ(this=frac, expression=_lit(0)), _s(""))],
        exp.DPipe(this=_s("."), expression=digits),
    )
    sign = _case([(exp.LT(this=x.copy(), expression=_lit(0)), _s("-"))], _s(""))
    return exp.DPipe(
        this=exp.DPipe(this=sign, expression=exp.Cast(this=whole, to=varchar.copy())),
        expression=point,
    )


def _assemble(
    c: _Compiler,
    table: str,
    row_column: str | None,
    text: bool,
    explain: bool,
    raw: bool,
    typed_numbers: bool = False,
) -> Query:
    plan = c.plan
    python = _col("_python")
    if explain:
        for gate in plan.gates:
            for req, holds in zip(gate.requires, c.requires[gate.id], strict=True):
                maybe = {x.name for x in p.walk(req.condition) if isinstance(x, p.ValueRef)}
                if maybe - p.values_read(req.condition):
                    c.problem(exp.Not(this=holds.sql.copy()), "a failed requirement reads a value")
    c.write_row_tests()

    def out(value: exp.Expr) -> exp.Expr:
        if raw:  # the runner replaces a Python row's line whole: its cells do not matter
            return value
        return _case([(python.copy(), exp.Null())], value)

    def number(x: exp.Expr) -> exp.Expr:
        return c.shown(x) if text and not typed_numbers else c.typed(x)

    ident: exp.Expr = c.cell_cols[c.layout.id].sql.copy() if c.layout.id else exp.Null()
    if c.layout.id:  # Python strips every kind of white space, SQL's TRIM only spaces
        c.problem(
            exp.func("COALESCE", _paren(c.matches(ident.copy(), _EDGE_SPACE)), exp.false()),
            "the id has white space at an end",
        )
    if raw and c.layout.id:
        breaks = [exp.func("CONTAINS", ident.copy(), _s(ch)) for ch in "\n\r"]
        c.problem(exp.func("COALESCE", _or(breaks), exp.false()), "the id has a line break")
    if row_column is not None:
        row = exp.Cast(this=_col(row_column), to=_dtype("VARCHAR"))
        ident = exp.func("COALESCE", ident, row)
    elif raw:
        c.problem(_is_null(ident.copy()), "the row has no id")
    if text:
        # Equalities, not IN: DuckDB turns a long IN list into a join, which does not
        # keep the rows in order.
        risky = c.formula_start(ident)
        ident = _case([(risky, exp.DPipe(this=_s("'"), expression=ident.copy()))], ident)
    flag = _or([exp.func("COALESCE", bad, exp.true()) for bad, _, flags in c.problems if flags])
    last = len(c.layers)
    c.layers.append([("_python", flag)])
    # With `raw` the runner replaces a Python row's line whole, and no other row has an
    # error: the reasons (every test again, half the query) would never be read.
    reasons: exp.Expr = (
        exp.Null()
        if raw
        else _case(
            [(exp.func("COALESCE", bad.copy(), exp.true()), _s(why)) for bad, why, _ in c.problems]
        )
    )
    assert c.total is not None
    eligible: exp.Expr = c.eligible.sql.copy()
    if text and not typed_numbers:
        eligible = _case([(eligible, _s("true"))], _s("false"))
    reached = c.reached.sql
    level_whens = [
        (exp.EQ(this=reached.copy(), expression=_lit(k)), lv) for k, lv in enumerate(plan.levels)
    ]
    not_eligible = exp.Not(this=_paren(c.eligible.sql.copy()))
    shown = neutralise_cell if text else str
    level = _case(
        [(not_eligible.copy(), exp.Null())] + [(w, _s(shown(lv.name))) for w, lv in level_whens]
    )
    label = _case(
        [(not_eligible.copy(), exp.Null())] + [(w, _s(shown(lv.label))) for w, lv in level_whens]
    )
    nexts = [
        (exp.EQ(this=reached.copy(), expression=_lit(k - 1)), lv)
        for k, lv in enumerate(plan.levels)
    ]
    next_level = _case([(not_eligible.copy(), exp.Null())] + [(w, _s(lv.name)) for w, lv in nexts])
    needs_whens: list[tuple[exp.Expr, exp.Expr]] = [(not_eligible.copy(), exp.Null())]
    for w, lv in nexts:
        if lv.min_total is not None:
            gap = exp.Sub(this=c.const(_units(lv.min_total)).sql, expression=c.total.sql.copy())
            positive = _case([(exp.GT(this=gap.copy(), expression=_lit(0)), gap)], c.const(0).sql)
            needs_whens.append((w, number(positive)))
    columns: list[exp.Expr] = [
        exp.alias_(ident, "id", quoted=True, copy=False),
        exp.alias_(_case([(python.copy(), reasons)]), "error", quoted=True, copy=False),
        exp.alias_(out(eligible), "eligible", quoted=True, copy=False),
        exp.alias_(out(number(c.total.sql)), "total", quoted=True, copy=False),
        exp.alias_(out(level), "level", quoted=True, copy=False),
        exp.alias_(out(label), "level_label", quoted=True, copy=False),
        exp.alias_(out(next_level), "next_level", quoted=True, copy=False),
        exp.alias_(out(_case(needs_whens)), "next_level_needs", quoted=True, copy=False),
    ]
    for item in plan.items:
        columns.append(
            exp.alias_(
                out(number(c.items[item.id].sql)),
                item.id,
                quoted=True,
                copy=False,
            )
        )
    for v in plan.values:
        columns.append(
            exp.alias_(out(number(c.values[v.name].sql)), v.name, quoted=True, copy=False)
        )
    if plan.outcomes:
        decided = c.decision.sql
        outcome_whens = [
            (exp.EQ(this=decided.copy(), expression=_lit(k)), o)
            for k, o in enumerate(plan.outcomes)
        ]
        outcome = _case([(w, _s(shown(o.id))) for w, o in outcome_whens])
        outcome_label = _case([(w, _s(shown(o.label))) for w, o in outcome_whens])
        columns.append(exp.alias_(out(outcome), "outcome", quoted=True, copy=False))
        columns.append(exp.alias_(out(outcome_label), "outcome_label", quoted=True, copy=False))
    if explain:
        for item_id, own in c.forced.items():
            columns.append(
                exp.alias_(out(own.sql.copy()), status_column(item_id), quoted=True, copy=False)
            )
        for item_id, band in c.bands.items():
            columns.append(
                exp.alias_(out(band.sql.copy()), band_column(item_id), quoted=True, copy=False)
            )
        for item_id, (s, f) in c.finding_cols.items():
            for col, name in zip((s, f), finding_columns(item_id), strict=True):
                columns.append(exp.alias_(out(col.sql.copy()), name, quoted=True, copy=False))
        for gate in plan.gates:
            named = [(gate_column(gate.id), c.gate_cols[gate.id])]
            named += [(gate_column(gate.id, k), r) for k, r in enumerate(c.requires[gate.id])]
            for name, passed in named:
                columns.append(exp.alias_(out(passed.sql.copy()), name, quoted=True, copy=False))
        columns.append(exp.alias_(out(c.decision.sql.copy()), DECIDED, quoted=True, copy=False))
        for inp in plan.inputs:
            held = c.inputs[inp.name]
            value = held.sql.copy()
            if held.decimal:
                value = exp.Cast(this=value, to=_DECIMAL.copy())
            elif not held.is_bool:
                value = c.typed(value)
            columns.append(exp.alias_(out(value), input_column(inp.name), quoted=True, copy=False))
    columns.append(exp.alias_(python.copy(), "_python", quoted=True, copy=False))
    if raw:
        typed = {*c.layout.numeric, *c.layout.boolean}  # given to Python as their text
        cells = exp.Array(
            expressions=[
                exp.Cast(this=_col(h), to=_VARCHAR.copy()) if h in typed else _col(h)
                for h in c.layout.header
            ]
        )
        utf8 = exp.Anonymous(this="ENCODE", expressions=[exp.func("TO_JSON", cells)])
        encoded = exp.func("TO_BASE64", utf8)
        value = _case([(python.copy(), encoded)])
        columns.append(exp.alias_(value, "_raw", quoted=True, copy=False))
    if row_column is not None:
        columns.append(exp.alias_(_col(row_column), row_column, quoted=True, copy=False))

    query = exp.select(exp.Star()).from_(exp.to_table(table, quoted=True), copy=False)
    ctes: list[tuple[str, exp.Select]] = [("l0", query)]
    for k in range(1, last + 1):
        cols = [exp.alias_(e, name, quoted=True, copy=False) for name, e in c.layers[k]]
        layer = exp.Select(expressions=[exp.Star(), *cols]).from_(f"l{k - 1}", copy=False)
        ctes.append((f"l{k}", layer))
    select = exp.Select(expressions=columns).from_(f"l{last}", copy=False)
    with_ = exp.With(
        expressions=[
            exp.CTE(this=cte, alias=exp.TableAlias(this=exp.to_identifier(name)))
            for name, cte in ctes
        ]
    )
    select.set("with_", with_)
    return Query(
        select, tuple(i.id for i in plan.items), tuple(v.name for v in plan.values), explain
    )
