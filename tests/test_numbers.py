"""scoredsl.numbers (reading numbers from data) and exactjson.number (writing them)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoredsl import exactjson
from scoredsl.exactjson import number
from scoredsl.numbers import read_decimal, shown


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        ("96.5", Decimal("96.5")),
        (" -3 ", Decimal(-3)),
        ("1e-3", Decimal("0.001")),
        (".5", Decimal("0.5")),
        ("5.", Decimal(5)),
        ("1e30", Decimal("1e30")),
        ("0e99999", Decimal(0)),
        (Decimal("18.25"), Decimal("18.25")),
        (7, Decimal(7)),
        (1.5, Decimal("1.5")),
        ("12345678901234567890", Decimal("12345678901234567890")),
        ("1_0", None),
        ("１０", None),
        ("٣", None),  # an Arabic-Indic digit
        ("NaN", None),
        ("inf", None),
        ("1e31", None),
        ("1e-31", None),
        ("123456789012345678901", None),  # 21 significant digits
        ("9" * 5000, None),
        (10**400, None),
        (float("inf"), None),
        (Decimal("NaN"), None),
        (True, None),
        (None, None),
        ("", None),
        ("+", None),
        ("0x1F", None),
    ],
)
def test_read_decimal(raw: object, read: Decimal | None) -> None:
    assert read_decimal(raw) == read


def test_shown_is_short_and_says_why() -> None:
    assert shown(True) == "true" and shown(None) == "null"
    assert shown("1_0%") == "'1_0%' (write digits without underscores)"
    assert shown("x" * 100) == "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxx...xxxxxx' (102 characters)"
    assert shown("96.5") == "'96.5'"  # a number that is fine: no reason added


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("1000", "1000"),
        ("873.50", "873.5"),
        ("0.965", "0.965"),
        ("-3", "-3"),
        ("-0", "0"),
        ("0E+5", "0"),
        ("1E+30", "1000000000000000000000000000000"),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("1E-100", "0." + "0" * 99 + "1"),
        ("1E+999", "1E+999"),
        ("-1.2300E-999", "-1.23E-999"),
        ("9E+999999999", "9E+999999999"),
    ],
)
def test_number_is_exact_for_any_finite_decimal(value: str, text: str) -> None:
    assert number(Decimal(value)) == text


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_number_reads_back_as_the_same_value(value: Decimal) -> None:
    assert Decimal(number(value)) == value


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_JSON)
def test_dumps_writes_what_the_standard_library_writes(doc: object) -> None:
    assert exactjson.dumps(doc) == json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    assert exactjson.dumps(doc, indent=2) == json.dumps(doc, ensure_ascii=False, indent=2)


def test_dumps_writes_decimals_digit_for_digit() -> None:
    doc = {"total": Decimal("873.50"), "items": [Decimal("0E-12"), (Decimal("1E+2"),)], "号": {}}
    assert exactjson.dumps(doc) == '{"total":873.5,"items":[0,[100]],"号":{}}'
    assert exactjson.dumps(doc, indent=1) == (
        '{\n "total": 873.5,\n "items": [\n  0,\n  [\n   100\n  ]\n ],\n "号": {}\n}'
    )
    with pytest.raises(TypeError, match="cannot write float as JSON"):
        exactjson.dumps([1.5])
