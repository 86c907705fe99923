"""The language server, driven through the protocol: `python -m scoredsl lsp` in a
subprocess speaking JSON-RPC over stdio (tests/lsp_client.py), one server per module."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

pytest.importorskip("pygls", reason="the language server needs the lsp extra (pygls)")

from scoredsl.diagnostics import error
from scoredsl.loader import load_text
from scoredsl.lsp.edits import acknowledge
from scoredsl.lsp.positions import UTF8, UTF16, Positions
from scoredsl.lsp.symbols import Index, keywords
from scoredsl.source import Source, Span
from tests.lsp_client import Client
from tests.strategies import GenScheme, broken

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "fixtures" / "bad"
STANDARDS = ROOT / "standards"


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with Client() as c:
        yield c


def _uri(path: Path) -> str:
    return path.resolve().as_uri()


def _open(client: Client, path: Path, text: str | None = None) -> list[dict[str, Any]]:
    published = client.open(_uri(path), path.read_text("utf-8") if text is None else text)
    diagnostics: list[dict[str, Any]] = published["diagnostics"]
    return diagnostics


def _range(line: int, start: int, end: int, end_line: int | None = None) -> dict[str, Any]:
    return {
        "start": {"line": line, "character": start},
        "end": {"line": line if end_line is None else end_line, "character": end},
    }


def _at(path: Path, line: int, character: int) -> dict[str, Any]:
    return {"textDocument": {"uri": _uri(path)}, "position": {"line": line, "character": character}}


def _apply(text: str, edits: list[dict[str, Any]]) -> str:
    """Apply LSP text edits (UTF-16 positions) to a text, last first."""
    where = Positions(Source("x", text), UTF16)
    spans = [
        (
            where.offset(e["range"]["start"]["line"], e["range"]["start"]["character"]),
            where.offset(e["range"]["end"]["line"], e["range"]["end"]["character"]),
            e["newText"],
        )
        for e in edits
    ]
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


# ---- initialize and diagnostics -------------------------------------------------------


def test_initialize_announces_every_feature_in_utf16(client: Client) -> None:
    capabilities = client.initialized["capabilities"]
    assert capabilities["positionEncoding"] == "utf-16"
    for feature in (
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "documentSymbolProvider",
        "documentFormattingProvider",
        "completionProvider",
        "codeActionProvider",
    ):
        assert capabilities.get(feature) not in (None, False), feature
    assert client.initialized["serverInfo"]["name"] == "scoredsl"


def test_band_gap_at_the_range_check_reports(client: Client) -> None:
    path = BAD / "band_gap.score"
    [gap] = _open(client, path)
    assert gap["code"] == "band-gap"
    assert gap["severity"] == 1
    assert gap["range"] == _range(17, 4, 24)
    assert gap["message"] == (
        "no band of 5.2 covers 85% <= x < 90% (e.g. 87.5%)\n"
        "help: 'answer_rate' can be anything in 0% <= x <= 100%"
    )
    checked = subprocess.run(
        [sys.executable, "-m", "scoredsl", "check", "--format", "json", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    [expected] = json.loads(checked.stdout)["diagnostics"]
    assert (expected["line"] - 1, expected["column"] - 1) == (17, 4)
    assert (expected["end_line"] - 1, expected["end_column"] - 1) == (17, 24)
    assert gap["message"].split("\n")[0] == expected["message"]


_CHECKED = sorted([*BAD.glob("*.score"), *STANDARDS.glob("*.score")])
_SEVERITY = {"error": 1, "warning": 2, "note": 3}


def test_every_fixture_and_shipped_scheme_gets_what_check_reports(client: Client) -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "scoredsl", "check", "--format", "json", *map(str, _CHECKED)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    expected: dict[str, list[tuple[Any, ...]]] = {str(p): [] for p in _CHECKED}
    for d in json.loads(checked.stdout)["diagnostics"]:
        where = _range(d["line"] - 1, d["column"] - 1, d["end_column"] - 1, d["end_line"] - 1)
        severity = 3 if d["acknowledged"] else _SEVERITY[d["severity"]]
        expected[d["file"]].append((d["code"], severity, d["message"], d["hints"], where))
    assert sum(map(len, expected.values())) > len(_CHECKED)
    for path in _CHECKED:
        got = []
        for d in _open(client, path):
            message, *rest = d["message"].split("\n")
            hints = [h.removeprefix("help: ").replace("accepted: ", "acknowledged: ") for h in rest]
            got.append((d["code"], d["severity"], message, hints, d["range"]))
        assert got == expected[str(path)], path.name


_WIDE = (
    (BAD / "band_gap.score")
    .read_text("utf-8")
    .replace('item 5.2 "接通率" 30 by answer_rate', 'item 5.2 "接通率😀" 30 by answer_rat')
)


def test_columns_count_utf16_units_after_chinese_and_an_emoji(client: Client) -> None:
    # `  item 5.2 "接通率😀" 30 by ` is 24 characters; the emoji is two UTF-16 units.
    diagnostics = _open(client, BAD / "wide.score", _WIDE)
    [unknown] = [d for d in diagnostics if d["code"] == "unknown-name"]
    assert unknown["range"] == _range(14, 25, 35)
    assert unknown["message"] == (
        "'answer_rat' is not an input of this scheme\nhelp: did you mean 'answer_rate'?"
    )


def test_columns_count_bytes_when_the_client_asks_for_utf8() -> None:
    with Client(encodings=["utf-8", "utf-16"]) as c:
        assert c.initialized["capabilities"]["positionEncoding"] == "utf-8"
        published = c.open(_uri(BAD / "wide.score"), _WIDE)
    [unknown] = [d for d in published["diagnostics"] if d["code"] == "unknown-name"]
    # 11 ASCII + quote + 3 x 3 bytes + 4 bytes + quote + 7 ASCII = 33
    assert unknown["range"] == _range(14, 33, 43)


def test_acknowledged_diagnostics_are_information(client: Client) -> None:
    diagnostics = _open(client, STANDARDS / "cmm-525-0006.score")
    weights = [d for d in diagnostics if d["code"] == "weights-sum"]
    assert weights
    assert all(d["severity"] == 3 for d in weights)
    assert all("\naccepted: " in d["message"] for d in weights)
    assert not [d for d in diagnostics if d["severity"] in (1, 2)]


def test_a_parents_errors_show_on_the_extends_line(client: Client, tmp_path: Path) -> None:
    parent = tmp_path / "parent.score"
    parent.write_text((BAD / "band_gap.score").read_text("utf-8"), "utf-8")
    child = tmp_path / "child.score"
    child.write_text('scheme child "子" extends "parent.score" {\n}\n', "utf-8")
    diagnostics = _open(client, child)
    assert [(d["code"], d["range"]) for d in diagnostics] == [
        ("extends", _range(0, 7, 12)),
        ("band-gap", _range(0, 25, 39)),
    ]
    assert diagnostics[0]["message"] == "'parent.score' has errors: run scoredsl check on it"
    assert diagnostics[1]["message"].startswith(
        f"{parent.resolve()}:18:5: no band of 5.2 covers 85% <= x < 90% (e.g. 87.5%)"
    )


# ---- hover, definition, references, symbols -----------------------------------------


def test_hover_over_an_item_id_shows_its_points_parent_and_bands(client: Client) -> None:
    path = BAD / "band_gap.score"
    _open(client, path)
    hover = client.request("textDocument/hover", _at(path, 14, 8))
    assert hover["range"] == _range(14, 7, 10)
    assert hover["contents"]["value"] == (
        "**item 5.2** 接通率\n\n- points: 30\n- parent: none (top)\n- banded by `answer_rate`"
        "\n\nbands:\n\n    < 80% -> 0\n    80% <= _ < 85% -> 15\n    >= 90% -> 30"
    )
    child = client.request("textDocument/hover", _at(path, 11, 10))
    assert child["contents"]["value"] == (
        "**item 5.1.1** 服务制度\n\n- points: 20\n- parent: 5.1 服务管理\n"
        "- judged: the assessor awards 0 to 20"
    )
    parent = client.request("textDocument/hover", _at(path, 10, 8))
    assert "- its items add up to 40 (20 + 20)" in parent["contents"]["value"]


def test_hover_over_an_input_a_value_and_a_level(client: Client) -> None:
    path = STANDARDS / "t-ccua-operation-capability.score"
    text = path.read_text("utf-8")
    _open(client, path)
    where = Positions(Source(str(path), text))

    def hover_on(needle: str, skip: int = 0) -> str:
        at = text.index(needle) + skip
        line, character = where.position(at)
        value: str = client.request("textDocument/hover", _at(path, line, character))["contents"][
            "value"
        ]
        return value

    level = hover_on('excellent "优秀"')
    assert level.startswith("**level excellent** 优秀\n\n- when `total >= 95`")
    inp = BAD / "band_gap.score"
    _open(client, inp)
    value = client.request("textDocument/hover", _at(inp, 6, 10))["contents"]["value"]
    assert value == (
        "**input answer_rate**: percent\n\n- label: 20秒接通率\n- clause: 5.2\n"
        "- domain: `0% <= _ <= 100%`"
    )


def test_definition_of_an_input_reference_lands_on_its_declaration(client: Client) -> None:
    path = BAD / "band_gap.score"
    _open(client, path)
    found = client.request("textDocument/definition", _at(path, 14, 30))
    assert found == {"uri": _uri(path), "range": _range(6, 8, 19)}


def test_definition_of_an_inherited_input_and_of_the_extends_file(client: Client) -> None:
    path = STANDARDS / "cace-promotion.score"
    text = path.read_text("utf-8")
    assert not [d for d in _open(client, path) if d["severity"] == 1]
    where = Positions(Source(str(path), text))
    line, character = where.position(text.index("require meets_ydt3609") + 10)
    found = client.request("textDocument/definition", _at(path, line, character))
    parent = STANDARDS / "t-ccsa-249-2019.score"
    declared = (
        parent.read_text("utf-8")
        .splitlines()
        .index(
            "  input meets_ydt3609_indicators: bool "
            '"满足YD/T 3609-2019及其附录B规定的各项服务质量指标要求" clause 4.3'
        )
    )
    assert found == {"uri": _uri(parent), "range": _range(declared, 8, 32)}
    line, character = where.position(text.index('"t-ccsa-249-2019.score"') + 3)
    file = client.request("textDocument/definition", _at(path, line, character))
    assert file == {"uri": _uri(parent), "range": _range(0, 0, 0)}


def test_references_of_an_input(client: Client) -> None:
    path = BAD / "unknown_name.score"
    _open(client, path)
    found = client.request(
        "textDocument/references", {**_at(path, 7, 10), "context": {"includeDeclaration": True}}
    )
    assert found == [
        {"uri": _uri(path), "range": _range(7, 8, 22)},
        {"uri": _uri(path), "range": _range(19, 25, 39)},
    ]
    without = client.request(
        "textDocument/references", {**_at(path, 7, 10), "context": {"includeDeclaration": False}}
    )
    assert without == found[1:]


def test_document_symbols_are_the_clause_tree(client: Client) -> None:
    path = BAD / "band_gap.score"
    _open(client, path)
    [scheme] = client.request("textDocument/documentSymbol", {"textDocument": {"uri": _uri(path)}})
    assert (scheme["name"], scheme["detail"], scheme["kind"]) == (
        "hotline-demo",
        "客服热线服务质量评价",
        2,
    )
    names = [c["name"] for c in scheme["children"]]
    assert names == [
        "answer_rate", "complaint_rate", "security_incident", "5.1", "5.2", "5.3", "5.4", "levels"
    ]  # fmt: skip
    item = scheme["children"][3]
    assert item["detail"] == "服务管理 (40)"
    assert [c["name"] for c in item["children"]] == ["5.1.1", "5.1.2"]
    assert item["selectionRange"] == _range(10, 7, 10)
    assert [c["name"] for c in scheme["children"][-1]["children"]] == ["pass", "good", "excellent"]


# ---- formatting, completion, code actions --------------------------------------------


def test_formatting_equals_scoredsl_fmt(client: Client, tmp_path: Path) -> None:
    messy = (STANDARDS / "t-ccua-operation-capability.score").read_text("utf-8")
    messy = messy.replace("\n  ", "\n      ").replace(" -> ", "->").replace("{\n", "{  \n")
    path = tmp_path / "messy.score"
    path.write_text(messy, "utf-8")
    _open(client, path, messy)
    edits = client.request(
        "textDocument/formatting",
        {"textDocument": {"uri": _uri(path)}, "options": {"tabSize": 2, "insertSpaces": True}},
    )
    subprocess.run(
        [sys.executable, "-m", "scoredsl", "fmt", str(path)], cwd=ROOT, check=True, timeout=60
    )
    formatted = path.read_text("utf-8")
    assert formatted != messy
    assert _apply(messy, edits) == formatted


def test_formatting_refuses_a_file_with_a_syntax_error(client: Client) -> None:
    path = BAD / "syntax.score"
    _open(client, path)
    edits = client.request(
        "textDocument/formatting",
        {"textDocument": {"uri": _uri(path)}, "options": {"tabSize": 2, "insertSpaces": True}},
    )
    assert edits == []
    shown = client.wait_for("window/showMessage")
    assert shown["type"] == 2
    assert shown["message"].startswith("scoredsl: not formatted, the file has a syntax error (")


def test_completion_lists_inputs_items_levels_and_keywords(client: Client) -> None:
    path = BAD / "band_gap.score"
    _open(client, path)
    found = client.request("textDocument/completion", _at(path, 15, 0))
    labels = {c["label"]: c for c in found["items"]}
    for name in ("answer_rate", "complaint_rate", "security_incident"):
        assert labels[name]["kind"] == 6  # Variable
    assert labels["answer_rate"]["detail"] == "percent 20秒接通率"
    assert labels["5.1.1"]["detail"] == "服务制度"
    assert labels["excellent"]["detail"] == "优秀"
    for keyword in ("item", "input", "veto", "when", "levels", "accept", "percent"):
        assert labels[keyword]["kind"] == 14  # Keyword


def test_while_a_syntax_error_is_fixed_completion_keeps_the_last_good_names(
    client: Client, tmp_path: Path
) -> None:
    path = tmp_path / "typing.score"
    text = (BAD / "band_gap.score").read_text("utf-8")
    _open(client, path, text)
    typing = text.replace("  levels {", '  item 5.5 "新" ->\n  levels {')
    [syntax] = client.change(_uri(path), typing, 2)["diagnostics"]
    assert syntax["code"] == "syntax"
    found = client.request("textDocument/completion", _at(path, 28, 12))
    assert "answer_rate" in {c["label"] for c in found["items"]}


def _actions(client: Client, path: Path, diagnostic: dict[str, Any]) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": _uri(path)},
            "range": diagnostic["range"],
            "context": {"diagnostics": [diagnostic]},
        },
    )
    return actions


@pytest.mark.parametrize(
    ("fixture", "code"),
    [
        ("band_gap", "band-gap"),  # an item's bands
        ("points_sum", "points-sum"),  # an item's block
        ("total_sum", "total-sum"),  # the scheme
        ("level_gap", "level-gap"),  # the levels block
    ],
)
def test_the_acknowledge_action_makes_the_diagnostic_acknowledged(
    client: Client, fixture: str, code: str
) -> None:
    path = BAD / f"{fixture}.score"
    text = path.read_text("utf-8")
    [found] = [d for d in _open(client, path) if d["code"] == code]
    [action] = [a for a in _actions(client, path, found) if a["title"].startswith("Acknowledge")]
    assert action["title"] == f"Acknowledge this diagnostic: add accept {code}"
    assert action["kind"] == "quickfix"
    fixed = _apply(text, action["edit"]["changes"][_uri(path)])
    assert f'accept {code} "TODO: say why this is accepted' in fixed
    after = client.change(_uri(path), fixed, 2)["diagnostics"]
    [now] = [d for d in after if d["code"] == code]
    assert now["severity"] == 3
    assert now["data"]["acknowledged"] is True
    assert not [d for d in after if d["severity"] in (1, 2)]


def test_the_did_you_mean_fix_replaces_the_unknown_name(client: Client) -> None:
    path = BAD / "unknown_name.score"
    text = path.read_text("utf-8")
    [unknown] = [d for d in _open(client, path) if d["code"] == "unknown-name"]
    actions = _actions(client, path, unknown)
    [fix] = [a for a in actions if a["title"].startswith("change")]
    assert fix["title"] == "change 'complaint_rte' to 'complaint_rate'"
    assert fix["isPreferred"] is True
    fixed = _apply(text, fix["edit"]["changes"][_uri(path)])
    assert fixed == text.replace("when complaint_rte", "when complaint_rate")
    assert not client.change(_uri(path), fixed, 2)["diagnostics"]


# ---- the pure parts, without a server ------------------------------------------------


def test_acknowledging_a_judged_item_opens_a_block_for_the_accept() -> None:
    text = (BAD / "band_gap.score").read_text("utf-8")
    loaded = load_text(text, BAD / "band_gap.score")
    assert loaded.scheme is not None
    index = Index(loaded.scheme, loaded.source)
    item = index.scope.items["5.1.1"]
    found = error("points-sum", "x", item.id_span, anchor="item:5.1.1")
    edit = acknowledge(index.scope, found, "勘误 1")
    assert edit is not None
    fixed = text[: edit.start] + edit.text + text[edit.end :]
    assert '    item 5.1.1 "服务制度" 20 {\n      accept points-sum "勘误 1"\n    }\n' in fixed
    again = load_text(fixed, BAD / "band_gap.score")
    assert again.scheme is not None
    [accepts] = [i.body for i, _ in again.scheme.walk_items() if i.id == "5.1.1"]
    assert [a.code for a in accepts] == ["points-sum"]


@pytest.mark.parametrize("encoding", [UTF8, UTF16, "utf-32"])
def test_positions_round_trip_every_offset(encoding: str) -> None:
    text = 'a\n  "接通率😀" x\r\n\nb😀'
    where = Positions(Source("x", text), encoding)
    for offset in range(len(text) + 1):
        assert where.offset(*where.position(offset)) == offset or text[offset - 1] == "\r"


def test_keywords_are_the_grammars() -> None:
    words = keywords()
    assert {"scheme", "extends", "item", "veto", "when", "else", "weighted", "by"} <= set(words)
    assert {"percent", "bool", "seconds", "half-up", "true", "false"} <= set(words)
    assert "_" not in words


def test_spans_of_another_source_are_never_under_the_cursor() -> None:
    text = (STANDARDS / "cace-promotion.score").read_text("utf-8")
    loaded = load_text(text, STANDARDS / "cace-promotion.score")
    assert loaded.scheme is not None
    index = Index(loaded.scheme, loaded.source)
    offset = text.index("business_registered")
    found = index.at(offset)
    assert found is not None
    assert found.span == Span(loaded.source, offset, offset + len("business_registered"))


@settings(max_examples=40)
@given(broken())
def test_acknowledging_every_error_leaves_none_and_no_unused_accept(
    case: tuple[GenScheme, str],
) -> None:
    gen, code = case
    text = gen.text()
    for _ in range(10):
        loaded = load_text(text, "gen.score")
        assert loaded.scheme is not None, text
        errors = [d for d in loaded.diagnostics if d.is_error]
        if not errors:
            break
        edit = acknowledge(Index(loaded.scheme, loaded.source).scope, errors[0])
        assert edit is not None, errors[0]
        text = text[: edit.start] + edit.text + text[edit.end :]
    assert not [d for d in loaded.diagnostics if d.is_error], text
    assert code in {d.code for d in loaded.diagnostics if d.acknowledged is not None}
    assert "unused-accept" not in {d.code for d in loaded.diagnostics}, text


@pytest.mark.parametrize("path", sorted(STANDARDS.glob("*.score")), ids=lambda p: p.stem)
def test_every_name_in_the_shipped_schemes_has_a_hover_and_a_declaration(path: Path) -> None:
    loaded = load_text(path.read_text("utf-8"), path)
    assert loaded.scheme is not None
    index = Index(loaded.scheme, loaded.source)
    for found in index.occurrences:
        if found.symbol.key == "total":  # the total, in gates and levels: not a name
            continue
        assert index.hover(found.symbol), found
        assert index.declaration(found.symbol) is not None, found
