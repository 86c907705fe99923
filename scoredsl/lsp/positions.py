"""Positions: character offsets into a `Source` <-> LSP (line, character) positions.

Spans hold offsets in code points; the protocol counts a line's characters in the units
the client and server agreed on at initialisation: UTF-16 code units unless said
otherwise (a character outside the BMP, such as an emoji, is two of them; a Chinese
character is one), or UTF-8 bytes, or code points.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from scoredsl.source import Source

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def _utf16(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _utf8(ch: str) -> int:
    return len(ch.encode("utf-8", errors="surrogatepass"))


def _utf32(ch: str) -> int:
    return 1


_UNITS: dict[str, Callable[[str], int]] = {UTF8: _utf8, UTF16: _utf16, UTF32: _utf32}


class Positions:
    """Converts between offsets into one source's text and protocol positions."""

    def __init__(self, source: Source, encoding: str = UTF16) -> None:
        self.text = source.text
        self.starts = source.line_starts
        self.units = _UNITS.get(encoding, _utf16)

    def position(self, offset: int) -> tuple[int, int]:
        """0-based (line, character in protocol units) of an offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[line]
        return line, sum(map(self.units, self.text[start:offset]))

    def offset(self, line: int, character: int) -> int:
        """The offset of a protocol position; past the end of a line is its end."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        at = self.starts[line]
        end = self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.text)
        counted = 0
        while at < end and counted < character:
            counted += self.units(self.text[at])
            at += 1
        return at

    @property
    def end(self) -> tuple[int, int]:
        return self.position(len(self.text))
