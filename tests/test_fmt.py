"""The formatter: canonical layout, comments kept, idempotent, meaning unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoredsl import fmt
from scoredsl.builder import parse_source
from scoredsl.cli import main
from scoredsl.fmt import comments, format_source
from scoredsl.loader import scheme_files
from scoredsl.source import Source
from tests.conftest import ROOT, STANDARDS
from tests.strategies import GenScheme, schemes

FIXTURES = ROOT / "tests" / "fixtures" / "fmt"


def formatted(text: str, path: str = "x.score") -> str:
    out, diagnostics = format_source(Source(path, text))
    assert out is not None, diagnostics
    return out


def test_messy_file_gets_the_canonical_layout() -> None:
    messy = (FIXTURES / "messy.score").read_text(encoding="utf-8")
    expected = (FIXTURES / "messy.expected.score").read_text(encoding="utf-8")
    assert formatted(messy) == expected
    assert formatted(expected) == expected


@pytest.mark.parametrize("path", sorted(scheme_files([STANDARDS])), ids=lambda p: p.name)
def test_shipped_schemes_are_formatted(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert formatted(text, str(path)) == text


def test_comments_stay_where_they_were_written() -> None:
    text = (
        '# head\nscheme s "t" {  # after the brace\n  total 1\n'
        '  # before the item\n  item a "A" 1 {\n    # last in the block\n  }  # after it\n}\n'
        "# tail\n"
    )
    assert formatted(text) == (
        '# head\nscheme s "t" {  # after the brace\n  total 1\n'
        '  # before the item\n  item a "A" 1 {\n    # last in the block\n  }  # after it\n}\n'
        "# tail\n"
    )


def test_a_hash_inside_a_label_is_not_a_comment() -> None:
    text = 'scheme s "t #1" {\n  total 1\n  item a "第#1项 \\"引号\\"" 1\n}\n'
    assert [c.text for c in comments(text)] == []
    assert formatted(text) == text


def test_blank_lines_collapse_to_one() -> None:
    text = 'scheme s "t" {\n\n\n  total 1\n\n\n\n  item a "A" 1\n\n}\n'
    assert formatted(text) == 'scheme s "t" {\n  total 1\n\n  item a "A" 1\n}\n'


def test_a_syntax_error_is_reported_not_formatted() -> None:
    out, diagnostics = format_source(Source("bad.score", 'scheme s "t" { item }'))
    assert out is None
    assert [(d.code, d.span.start_position) for d in diagnostics] == [("syntax", (1, 21))]


# ---- the command -----------------------------------------------------------------------


def test_fmt_check_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "messy.score"
    shutil.copy(FIXTURES / "messy.score", target)
    assert main(["fmt", "--check", str(target)]) == 1
    _, err = capsys.readouterr()
    assert err == f"would reformat {target}\nwould reformat 1 of 1 file(s)\n"
    assert target.read_text(encoding="utf-8") == (FIXTURES / "messy.score").read_text("utf-8")

    assert main(["fmt", str(tmp_path)]) == 0
    _, err = capsys.readouterr()
    assert err == f"reformatted {target}\nreformatted 1 of 1 file(s)\n"
    expected = (FIXTURES / "messy.expected.score").read_text(encoding="utf-8")
    assert target.read_text(encoding="utf-8") == expected
    assert main(["fmt", "--check", str(target)]) == 0


def test_fmt_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "a.score"
    target.write_text('scheme s "t" { total 1 item a "A" 1 }\n', encoding="utf-8")
    assert main(["fmt", "--diff", str(target)]) == 1
    out, _ = capsys.readouterr()
    assert out.splitlines()[2:] == [
        "@@ -1 +1,4 @@",
        '-scheme s "t" { total 1 item a "A" 1 }',
        '+scheme s "t" {',
        "+  total 1",
        '+  item a "A" 1',
        "+}",
    ]


def test_fmt_leaves_a_broken_file_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "bad.score"
    target.write_text('scheme s "t" {\n  item 1 "A"\n}\n', encoding="utf-8")
    assert main(["fmt", str(target)]) == 1
    _, err = capsys.readouterr()
    assert "error[syntax]" in err and f"{target}:3:1" in err
    assert target.read_text(encoding="utf-8") == 'scheme s "t" {\n  item 1 "A"\n}\n'


def test_fmt_refuses_to_write_what_changes_the_meaning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net: a formatter bug is caught by reading the output back."""
    target = tmp_path / "a.score"
    original = 'scheme s "t" {\n  total 2\n  item a "A" 2\n}\n'
    target.write_text(original, encoding="utf-8")
    monkeypatch.setattr(fmt, "number", lambda value: "1")
    assert main(["fmt", str(target)]) == 2
    _, err = capsys.readouterr()
    assert err == (
        f"scoredsl: internal error, {target} left as it is: "
        f"{target}: formatting would change what the file says\n"
    )
    assert target.read_text(encoding="utf-8") == original


def test_fmt_missing_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", "no/such.score"]) == 2


# ---- properties ------------------------------------------------------------------------

_ATOMS = st.sampled_from(["1", "2.50", "0", "90%", "0.5%", "a", "b", "total", "item 1", "true"])


def _expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "and", "or"]), inner)
        compare = st.tuples(inner, st.sampled_from(["<", "<=", "=", "!=", ">=", "≥"]), inner)
        return st.one_of(
            binary.map(" ".join),
            compare.map(" ".join),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"-{e}"),
            inner.map(lambda e: f"not {e}"),
            st.tuples(st.sampled_from(["min", "max"]), inner, inner).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"
            ),
            st.lists(st.tuples(st.sampled_from(["a", "item 1"]), _ATOMS.filter(_is_literal)),
                     min_size=1, max_size=4).map(
                lambda ts: "weighted { " + " ".join(f"{r} {w}" for r, w in ts) + " }"
            ),
        )  # fmt: skip

    return st.recursive(_ATOMS, extend, max_leaves=12)


def _is_literal(atom: str) -> bool:
    return atom[0].isdigit()


@given(_expressions())
def test_expressions_print_back_to_the_same_tree(expression: str) -> None:
    text = f'scheme s "t" {{\n  value v = {expression}\n}}\n'
    scheme, _ = parse_source(Source("x.score", text))
    if scheme is None:  # e.g. a chain of comparisons the grammar does not take
        return
    out = formatted(text)
    again, problems = parse_source(Source("y.score", out))
    assert problems == []
    assert again == scheme
    assert formatted(out) == out


@st.composite
def _relaid(draw: st.DrawFn) -> str:
    """A generated scheme with its line breaks, indentation and comments shuffled."""
    gen: GenScheme = draw(schemes())
    out = []
    for line in gen.text().splitlines():
        out.append(draw(st.sampled_from(["", " ", "\t", "        "])) + line.strip())
        if draw(st.booleans()):
            out.append(f"  # c{len(out)} 注释")
        out.append(draw(st.sampled_from(["\n", "\n\n", "\n\n\n"])))
    return "".join(out)


@given(_relaid())
def test_format_keeps_meaning_and_comments_and_is_idempotent(text: str) -> None:
    scheme, _ = parse_source(Source("x.score", text))
    assert scheme is not None
    out = formatted(text)
    assert parse_source(Source("y.score", out))[0] == scheme
    assert [c.text for c in comments(out)] == [c.text for c in comments(text)]
    assert formatted(out) == out


def test_empty_blocks_keep_the_braces_the_grammar_needs() -> None:
    text = 'scheme s "t" { total 1 item a "A" 1 { } gate g "G" { } levels { } example "e" { } }'
    assert formatted(text) == (
        'scheme s "t" {\n  total 1\n  item a "A" 1\n  gate g "G" {}\n  levels {}\n'
        '  example "e" {}\n}\n'
    )


def test_tiers_keep_their_names_through_the_formatter() -> None:
    messy = 'scheme s "S" {\n  total 1\n  tiers   "能力域"\n   "能力项"\n  item a "A" 1\n}\n'
    expected = 'scheme s "S" {\n  total 1\n  tiers "能力域" "能力项"\n  item a "A" 1\n}\n'
    assert formatted(messy) == expected
    assert formatted(expected) == expected
