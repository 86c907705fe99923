"""JSON with exact decimals: `Decimal` values are written as JSON numbers digit for digit.

The standard library would go through float (873.5 could become 873.4999...), so results
and plans are written by this small emitter and read back with ``parse_float=Decimal``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from decimal import Decimal
from json.encoder import encode_basestring as _string  # C; as ensure_ascii=False writes
from typing import Any

EXPONENT_FORM = 100  # beyond this many digits left or right of the point, write 1E+999


def number(x: Decimal) -> str:
    """No trailing zeros and no exponent: 1000, 873.5, 0.965, -3.

    Exact for any finite Decimal and independent of the decimal context (no rounding).
    A value further than EXPONENT_FORM digits from the point is written with an exponent
    (`1E+999`, still a JSON number) so that the text stays short.
    """
    try:
        return _number(x)
    except TypeError:  # a signalling NaN has no hash
        raise ValueError(f"{x} is not a finite number") from None


@functools.lru_cache(maxsize=4096)  # equal values have one text; a batch repeats a few
def _number(x: Decimal) -> str:
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
    if indent is None:
        _compact(obj, out.append)
    else:
        _emit(obj, out, indent, 0)
    return "".join(out)


def loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def _scalar(obj: Any) -> str | None:
    """A scalar's JSON text (None: a container, or nothing JSON can hold)."""
    if isinstance(obj, str):
        return _string(obj)
    if isinstance(obj, Decimal):
        return number(obj)
    if obj is None:
        return "null"
    if obj is True or obj is False:
        return "true" if obj else "false"
    if isinstance(obj, int):
        return int.__repr__(obj)
    return None


def _compact(obj: Any, append: Callable[[str], None]) -> None:
    """`obj` without white space, as json.dumps(separators=(",", ":")) writes it but for
    Decimals: text and numbers written in place, no encoder built per value (a batch's
    JSONL is this)."""
    if isinstance(obj, dict):
        sep = "{"
        for key, value in obj.items():
            head = sep + (_KEYS.get(key) or _key(key))
            sep = ","
            kind = type(value)
            if kind is str:
                append(head + _string(value))
            elif kind is Decimal:
                append(head + number(value))
            else:
                append(head)
                _compact(value, append)
        append("}" if sep == "," else "{}")
    elif isinstance(obj, (list, tuple)):
        sep = "["
        for value in obj:
            append(sep)
            sep = ","
            _compact(value, append)
        append("]" if sep == "," else "[]")
    else:
        text = _scalar(obj)
        if text is None:
            raise TypeError(f"cannot write {type(obj).__name__} as JSON")
        append(text)


_KEYS: dict[Any, str] = {}  # a key's JSON text and colon: results repeat a few keys


def _key(key: Any) -> str:
    text = _string(str(key)) + ":"
    if len(_KEYS) < 4096 and type(key) is str:
        _KEYS[key] = text
    return text


def _emit(obj: Any, out: list[str], indent: int, level: int) -> None:
    if isinstance(obj, dict):
        _container("{", "}", list(obj.items()), out, indent, level, keyed=True)
    elif isinstance(obj, (list, tuple)):
        _container("[", "]", [(None, v) for v in obj], out, indent, level, keyed=False)
    else:
        text = _scalar(obj)
        if text is None:
            raise TypeError(f"cannot write {type(obj).__name__} as JSON")
        out.append(text)


def _container(
    open_: str,
    close: str,
    entries: list[tuple[Any, Any]],
    out: list[str],
    indent: int,
    level: int,
    keyed: bool,
) -> None:
    if not entries:
        out.append(open_ + close)
        return
    inner = " " * (indent * (level + 1))
    outer = " " * (indent * level)
    out.append(open_ + "\n")
    for i, (key, value) in enumerate(entries):
        out.append(inner)
        if keyed:
            out.append(_string(str(key)) + ": ")
        _emit(value, out, indent, level + 1)
        if i < len(entries) - 1:
            out.append(",\n")
    out.append("\n" + outer + close)
