"""Source text and spans.

A `Span` is a pair of character offsets into a `Source`; line and column are computed only
when a diagnostic is rendered, the way Lark's ``propagate_positions`` reports them.
"""

from __future__ import annotations

import bisect
from pathlib import Path

import attrs


@attrs.frozen(eq=False)
class Source:
    """The text of one file, with the offsets where its lines start."""

    path: str
    text: str
    undecodable: tuple[int, int] | None = None  # (offset, byte) of the first unreadable byte
    line_starts: tuple[int, ...] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        object.__setattr__(self, "line_starts", tuple(starts))

    @classmethod
    def read(cls, path: str | Path) -> Source:
        """Read a file as UTF-8, or UTF-16 when it starts with a UTF-16 byte-order mark.

        A BOM is dropped. Bytes that are not UTF-8 become U+FFFD and the first one is
        remembered, so that the parser can say the file is not UTF-8 text.
        """
        data = Path(path).read_bytes()
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return cls(str(path), data.decode("utf-16", errors="replace"))
        try:
            return cls(str(path), data.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            offset = len(data[: exc.start].decode("utf-8-sig", errors="replace"))
            text = data.decode("utf-8-sig", errors="replace")
            return cls(str(path), text, (offset, data[exc.start]))

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset; columns count characters."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line + 1, offset - self.line_starts[line] + 1

    def line_text(self, line: int) -> str:
        start = self.line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start : end if end >= 0 else len(self.text)].rstrip("\r")


@attrs.frozen
class Span:
    source: Source = attrs.field(eq=False, repr=False)
    start: int
    end: int

    @property
    def start_position(self) -> tuple[int, int]:
        return self.source.position(self.start)

    @property
    def end_position(self) -> tuple[int, int]:
        return self.source.position(self.end)

    def to(self, other: Span) -> Span:
        return Span(self.source, min(self.start, other.start), max(self.end, other.end))

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]
