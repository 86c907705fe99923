"""Numbers in assessment data: raw values (text, Decimal, int, float) -> a bounded Decimal.

One rule for every reader (YAML, JSON, JSONL, CSV cells): plain decimal notation with ASCII
digits, an optional sign, point and exponent (`96.5`, `-3`, `1e-3`). Refused, so that a
typing slip is never read as some other number: underscores (`1_0`), full-width or other
non-ASCII digits (`１０`), `NaN`/`Infinity`, and values beyond the bounds in
`scoredsl.limits` (more than NUMBER_CHARS characters or NUMBER_DIGITS significant digits, an
exponent beyond NUMBER_EXPONENT), which no score, rate or count needs and which would make
exact arithmetic round, slow down or fail.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from scoredsl.limits import NUMBER_CHARS, NUMBER_DIGITS, NUMBER_EXPONENT

_PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def read_decimal(raw: object) -> Decimal | None:
    """The number `raw` stands for, or None if it is not one within the bounds.

    bool is not a number here (True is not 1); a float is read by its shortest repr.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        return _from_text(raw.strip())
    if isinstance(raw, int):
        if raw.bit_length() > 4 * NUMBER_CHARS:
            return None  # far beyond the bounds: do not even convert it
        return _bounded(Decimal(raw))
    if isinstance(raw, float):
        return _from_text(repr(raw))
    if isinstance(raw, Decimal):
        return _bounded(raw)
    return None


def _from_text(text: str) -> Decimal | None:
    if len(text) > NUMBER_CHARS or not _PLAIN.fullmatch(text):
        return None
    try:
        return _bounded(Decimal(text), digits_known=len(text) <= NUMBER_DIGITS)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid text
        return None


def _bounded(value: Decimal, digits_known: bool = False) -> Decimal | None:
    """`value` within the bounds; `digits_known` when it came from text no longer than
    NUMBER_DIGITS characters (so it cannot have more significant digits)."""
    if not value.is_finite():
        return None
    if not value:
        return Decimal(0)  # 0e999 and -0 are plain 0
    if abs(value.adjusted()) > NUMBER_EXPONENT:
        return None
    if not digits_known and _significant(value) > NUMBER_DIGITS:
        return None
    return value


def _significant(value: Decimal) -> int:
    """Digits from the first non-zero one to the last non-zero one (no context involved)."""
    digits = value.as_tuple().digits
    if len(digits) > NUMBER_CHARS:
        return len(digits)
    text = "".join(map(str, digits)).strip("0")
    return len(text)


SHOWN_CHARS = 40  # characters of a refused value echoed in a message


def shown(raw: object) -> str:
    """A refused value for a message: short, and why it is not a number when that helps."""
    if raw is None or isinstance(raw, bool):
        return {None: "null", True: "true", False: "false"}[raw]  # as YAML and JSON write them
    text = str(raw) if type(raw) is Decimal else repr(raw)
    if len(text) > SHOWN_CHARS:
        text = f"{text[: SHOWN_CHARS - 10]}...{text[-7:]} ({len(text)} characters)"
    return text + _why(raw)


_BOUNDS = (
    f" (numbers in data have at most {NUMBER_DIGITS} significant digits "
    f"and lie between 1e-{NUMBER_EXPONENT} and 1e{NUMBER_EXPONENT + 1})"
)


def _why(raw: object) -> str:
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            return " (not a finite number)"
        return _BOUNDS if read_decimal(raw) is None else ""
    if not isinstance(raw, str):
        return ""
    text = raw.strip()
    if text.endswith("%"):
        text = text[:-1].strip()
    if "_" in text:
        return " (write digits without underscores)"
    if any(c.isdigit() and not c.isascii() for c in text):
        return " (write the digits 0-9, not full-width or other digits)"
    if (len(text) > NUMBER_CHARS or _PLAIN.fullmatch(text)) and read_decimal(text) is None:
        return _BOUNDS
    return ""
