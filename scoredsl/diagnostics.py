"""Diagnostics: what the parser and the checker find, as data.

Detection (syntax.py, builder.py, checks/) produces `Diagnostic` values; rendering them
(rustc-style text or JSON) is done here and nowhere else.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable
from typing import Any

import attrs

from scoredsl.source import Span


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@attrs.frozen
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    hints: tuple[str, ...] = ()
    acknowledged: str | None = None  # the reason given by an `accept`, when there is one
    anchor: str = ""  # key of the construct the diagnostic belongs to (for `accept`)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR and self.acknowledged is None

    def acknowledge(self, reason: str) -> Diagnostic:
        return attrs.evolve(self, severity=Severity.NOTE, acknowledged=reason)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.source.path, self.span.start, self.span.end, self.code)

    def to_json(self) -> dict[str, Any]:
        line, column = self.span.start_position
        end_line, end_column = self.span.end_position
        hints = list(self.hints)
        if self.acknowledged is not None:
            hints.append(f"acknowledged: {self.acknowledged}")
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.span.source.path,
            "line": line,
            "column": column,
            "end_line": end_line,
            "end_column": end_column,
            "hints": hints,
            "acknowledged": self.acknowledged is not None,
        }


def error(code: str, message: str, span: Span, *hints: str, anchor: str = "") -> Diagnostic:
    return Diagnostic(code, Severity.ERROR, message, span, tuple(hints), anchor=anchor)


def warning(code: str, message: str, span: Span, *hints: str, anchor: str = "") -> Diagnostic:
    return Diagnostic(code, Severity.WARNING, message, span, tuple(hints), anchor=anchor)


def note(code: str, message: str, span: Span, *hints: str, anchor: str = "") -> Diagnostic:
    return Diagnostic(code, Severity.NOTE, message, span, tuple(hints), anchor=anchor)


def render_text(diagnostic: Diagnostic) -> str:
    """rustc-style: header, location arrow, the source line and a caret under the span."""
    d = diagnostic
    source = d.span.source
    line, column = d.span.start_position
    end_line, end_column = d.span.end_position
    label = "acknowledged" if d.acknowledged is not None else d.severity.value
    out = [f"{label}[{d.code}]: {d.message}"]
    gutter = " " * len(str(line))
    out.append(f"{gutter}--> {source.path}:{line}:{column}")
    if line <= len(source.line_starts):
        text = source.line_text(line)
        end = end_column - 1 if end_line == line else len(text)
        start = column - 1
        if len(text) > _WIDEST:  # show a window of a very long line around the span
            first = max(0, min(start - _WIDEST // 3, len(text) - _WIDEST))
            head = "…" if first else ""
            tail = "…" if first + _WIDEST < len(text) else ""
            text = head + text[first : first + _WIDEST] + tail
            shift = first - len(head)
            start, end = start - shift, min(end - shift, len(text) - len(tail))
        text = _printable(text)
        pad = display_width(text[:start])
        width = display_width(text[start:end])
        out.append(f"{gutter} |")
        out.append(f"{line} | {text}")
        out.append(f"{gutter} | {' ' * pad}{'^' * max(1, width)}")
    for hint in d.hints:
        out.append(f"{gutter} = help: {hint}")
    if d.acknowledged is not None:
        out.append(f"{gutter} = accepted: {d.acknowledged}")
    return "\n".join(out)


_WIDEST = 120  # characters of a source line shown under a diagnostic


def _printable(text: str) -> str:
    """A source line safe for a terminal: tabs as spaces, control characters as U+FFFD."""
    return "".join(
        " " if ch == "\t" else "\ufffd" if unicodedata.category(ch) == "Cc" else ch for ch in text
    )


def display_width(text: str) -> int:
    """Terminal columns: CJK wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def summary(diagnostics: Iterable[Diagnostic]) -> tuple[int, int]:
    """(errors, warnings), counting only what is not acknowledged."""
    errors = warnings = 0
    for d in diagnostics:
        if d.acknowledged is not None:
            continue
        if d.severity is Severity.ERROR:
            errors += 1
        elif d.severity is Severity.WARNING:
            warnings += 1
    return errors, warnings
