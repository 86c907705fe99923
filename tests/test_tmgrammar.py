"""The VS Code TextMate grammar (editors/vscode): it knows every keyword of the Lark
grammar, and its scope tests are written on lines that the shipped schemes contain.
(The scopes themselves are asserted by editors/vscode/test.sh with vscode-tmgrammar-test.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from scoredsl.lsp.symbols import keywords

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = json.loads((VSCODE / "syntaxes" / "scoredsl.tmLanguage.json").read_text("utf-8"))
ROUNDING_MODES = {"half-up", "half-even", "down", "up"}


def _patterns(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "match" in node:
            yield node
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def _scopes_of(word: str) -> list[str]:
    """Scopes of the patterns that match `word` as a whole."""
    found = []
    for pattern in _patterns(GRAMMAR["repository"]):
        hit = re.search(pattern["match"], word)
        if hit and hit.span() == (0, len(word)) and "name" in pattern:
            found.append(pattern["name"])
    return found


def test_every_keyword_of_the_language_is_coloured() -> None:
    missing = [w for w in keywords() if w not in ROUNDING_MODES and not _scopes_of(w)]
    assert missing == []


def test_rounding_modes_are_coloured_after_rounding() -> None:
    [rounding] = [
        p for p in _patterns(GRAMMAR["repository"]) if p["match"].startswith(r"\b(rounding)")
    ]
    for mode in ROUNDING_MODES:
        hit = re.match(rounding["match"], f"rounding 2 {mode}")
        assert hit is not None and hit.group(3) == mode


def test_grammar_tests_are_lines_of_the_shipped_schemes() -> None:
    shipped = {
        line
        for path in (ROOT / "standards").glob("*.score")
        for line in path.read_text("utf-8").splitlines()
    }
    tested = [
        line
        for path in (VSCODE / "tests").glob("*.test.score")
        for line in path.read_text("utf-8").splitlines()[1:]
        if line and not line.startswith("#")
    ]
    assert len(tested) >= 20
    assert [line for line in tested if line not in shipped] == []
