"""JSON with exact decimals: `Decimal` values are written as JSON numbers digit for digit.

The standard library would go through float (873.5 could become 873.4999...), so results
and plans are written by this small emitter and read back with ``parse_float=Decimal``.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

EXPONENT_FORM = 100  # beyond this many digits left or right of the point, write 1E+999


def number(x: Decimal) -> str:
    """No trailing zeros and no exponent: 1000, 873.5, 0.965, -3.

    Exact for any finite Decimal and independent of the decimal context (no rounding).
    A value further than EXPONENT_FORM digits from the point is written with an exponent
    (`1E+999`, still a JSON number) so that the text stays short.
    """
    if not x.is_finite():
        raise ValueError(f"{x} is not a finite number")
    if not x:
        return "0"
    if abs(x.adjusted()) > EXPONENT_FORM:
        sign, digits, _ = x.as_tuple()
        text = "".join(map(str, digits)).rstrip("0")
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{'-' if sign else ''}{mantissa}E{x.adjusted():+d}"
    text = f"{x:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def dumps(obj: Any, indent: int | None = None) -> str:
    out: list[str] = []
    _emit(obj, out, indent, 0)
    return "".join(out)


def loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def _emit(obj: Any, out: list[str], indent: int | None, level: int) -> None:
    if isinstance(obj, Decimal):
        out.append(number(obj))
    elif obj is None or isinstance(obj, (bool, int, str)):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif isinstance(obj, dict):
        _container("{", "}", list(obj.items()), out, indent, level, keyed=True)
    elif isinstance(obj, (list, tuple)):
        _container("[", "]", [(None, v) for v in obj], out, indent, level, keyed=False)
    else:
        raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def _container(
    open_: str,
    close: str,
    entries: list[tuple[Any, Any]],
    out: list[str],
    indent: int | None,
    level: int,
    keyed: bool,
) -> None:
    if not entries:
        out.append(open_ + close)
        return
    sep, pad, end_pad = (",", "", "") if indent is None else (",", "\n", "\n")
    inner = "" if indent is None else " " * (indent * (level + 1))
    outer = "" if indent is None else " " * (indent * level)
    out.append(open_ + pad)
    for i, (key, value) in enumerate(entries):
        out.append(inner)
        if keyed:
            out.append(
                json.dumps(str(key), ensure_ascii=False) + (": " if indent is not None else ":")
            )
        _emit(value, out, indent, level + 1)
        if i < len(entries) - 1:
            out.append(sep + pad)
    out.append(end_pad + outer + close)
