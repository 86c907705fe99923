"""Parse: text -> Lark tree, with syntax errors as diagnostics.

The grammar is ``grammar/scoredsl.lark`` (shipped inside the package as
``scoredsl/scoredsl.lark``). Lark's errors are turned into sentences a standards editor
understands: what was expected, after what, and where.
"""

from __future__ import annotations

import functools
from importlib import resources

import lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from scoredsl.diagnostics import Diagnostic, error
from scoredsl.source import Source, Span

# What each terminal is called in a message.
_WORDS = {
    "NUMBER": "a number",
    "NEGATIVE": "a number",
    "INT": "a whole number",
    "PERCENT": "a percentage like 90%",
    "STRING": 'a quoted label like "顾客满意率"',
    "NAME": "a name",
    "SCHEME_ID": "a scheme id like t-ccsa-249-2019",
    "ITEM_ID": "a clause number like 5.1.1",
    "CODE": "a diagnostic code like weights-sum",
    "TYPE": "a type (percent, number, integer, bool, seconds)",
    "COMP_OP": "a comparison (<, <=, >, >=, =)",
    "ADD_OP": "an operator",
    "MUL_OP": "an operator",
    "BOOL": "true or false",
    "ROUNDING_MODE": "a rounding mode (half-up, half-even, down, up)",
    "LBRACE": "'{'",
    "RBRACE": "'}'",
    "LPAR": "'('",
    "RPAR": "')'",
    "COLON": "':'",
    "COMMA": "','",
    "EQUAL": "'='",
    "MINUS": "'-'",
    "__ANON_0": "'->'",
}

_FULL_WIDTH = {
    "“": 'straight double quotes "..." around labels',
    "”": 'straight double quotes "..." around labels',
    "：": "':' (ASCII colon)",
    "，": "',' (ASCII comma)",
    "（": "'(' (ASCII parenthesis)",
    "）": "')' (ASCII parenthesis)",
    "％": "'%' (ASCII percent sign)",
    "－": "'-' (ASCII minus)",
    "＝": "'=' (ASCII equals sign)",
    "＜": "'<' (ASCII less-than)",
    "＞": "'>' (ASCII greater-than)",
}


@functools.cache
def grammar_text() -> str:
    return resources.files("scoredsl").joinpath("scoredsl.lark").read_text(encoding="utf-8")


@functools.cache
def parser() -> lark.Lark:
    return lark.Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,  # Lark keeps the built parser in the temp dir, keyed by the grammar
    )


def parse(source: Source) -> tuple[lark.Tree[lark.Token] | None, list[Diagnostic]]:
    """Parse one file. On a syntax error: no tree and one `syntax` diagnostic."""
    if source.undecodable is not None:
        offset, byte = source.undecodable
        return None, [
            error(
                "syntax",
                f"this file is not UTF-8 text: byte 0x{byte:02x} cannot be read",
                Span(source, offset, offset + 1),
                "save the file as UTF-8 (or UTF-16 with a byte-order mark)",
            )
        ]
    try:
        return parser().parse(source.text), []
    except UnexpectedInput as exc:
        return None, [_diagnostic(source, exc)]


def _describe(names: set[str] | frozenset[str]) -> str:
    words = sorted({_WORDS.get(n, _keyword(n)) for n in names})
    if not words:
        return "something else"
    if len(words) == 1:
        return words[0]
    if len(words) > 6:
        return ", ".join(words[:6]) + " or another statement"
    return ", ".join(words[:-1]) + " or " + words[-1]


def _keyword(name: str) -> str:
    term = {t.name: t for t in parser().terminals}.get(name)
    if term is not None and term.pattern.type == "str":
        return f"'{term.pattern.value}'"
    return name.lower()


def _shown(text: str) -> str:
    text = text if len(text) <= 20 else text[:20] + "..."
    return repr(text)[1:-1]


def _diagnostic(source: Source, exc: UnexpectedInput) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        start = exc.pos_in_stream or 0
        ch = source.text[start] if start < len(source.text) else ""
        span = Span(source, start, start + 1)
        if ch in _FULL_WIDTH:
            return error(
                "syntax",
                f"'{ch}' is a full-width character: use {_FULL_WIDTH[ch]}",
                span,
                'scoredsl syntax uses ASCII punctuation; Chinese text belongs inside "..."',
            )
        hints: list[str] = []
        expected = _describe(exc.allowed or set())
        return error(
            "syntax", f"unexpected character '{_shown(ch)}': expected {expected}", span, *hints
        )
    if isinstance(exc, UnexpectedEOF):
        end = len(source.text)
        expected = _describe(set(exc.expected))
        return error(
            "syntax", f"the file ends too early: expected {expected}", Span(source, end, end)
        )
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    expected = _describe(set(exc.expected))
    history = getattr(exc, "token_history", None) or []
    last = history[-1] if history else None  # None before the first token
    after = f" after '{_shown(str(last))}'" if last is not None else ""
    if token.type == "$END":
        end = len(source.text)
        return error(
            "syntax",
            f"the file ends too early: expected {expected}{after}",
            Span(source, end, end),
        )
    start = token.start_pos if token.start_pos is not None else 0
    end = token.end_pos if token.end_pos is not None else start + len(token)
    return error(
        "syntax",
        f"expected {expected}{after}, found '{_shown(str(token))}'",
        Span(source, start, end),
    )
