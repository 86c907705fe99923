"""Fuzz the data readers: any YAML, JSON, JSONL or CSV text (or bytes) ends in a result or in
one of the documented errors (`ReadError`, `DataError`, `EvaluationError`), never another
exception, and a batch never gives a row the `internal` error.

CI runs the default profile (few examples); for a longer local run see docs/guarantees.md.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from scoredsl.batch import ReadError, read_batch, read_single
from scoredsl.data import TOP_KEYS, DataError, read_assessment
from scoredsl.evaluate import EvaluationError, evaluate
from scoredsl.plan import Plan
from scoredsl.render.batch import BatchWriter
from tests.strategies import BAD_NUMBER_CELLS

WORDS = st.sampled_from([
    *TOP_KEYS, "customer_satisfaction_rate", "info_security_incident", "5.1.1", "5.4.3",
    "明确目标", "数据分析", "samples", "problems", "true", "1", "0", "96.5%", "20", "",
])  # fmt: skip
SCALARS = st.one_of(
    WORDS,
    BAD_NUMBER_CELLS,
    st.text(max_size=12),
    st.integers(-(10**40), 10**40),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.booleans(),
    st.none(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(WORDS, inner, max_size=5),
    max_leaves=25,
)
DOCUMENTS = st.dictionaries(WORDS, VALUES, max_size=6)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# YAML forms that construct values in surprising ways (tags, anchors, dates, merges)
YAML_TOKENS = st.sampled_from([
    "2001-13-01", "2001-01-01 10:00:00", "!!int abc", "!!int 0x", "!!float abc", "!!bool x",
    "!!binary x", "!!set {a, b}", "!!omap [a: 1]", "!!timestamp x", "!!str 1", "!!null x",
    "&a [*a]", "&b {k: *b}", "&c 1", "*c", "*nowhere", "{<<: 5}", "{<<: [1]}", "1:30",
    "0o17", "0x1F", "0b102", ".nan", "-.inf", "~", "? [a]", "[a, {b: c}]", "{a: 1, a: 2}",
    "!!python/object:os.system x", "1.0e+999", "-0", "1_000", "'96.5%'", "|\n  text",
])  # fmt: skip
YAML_SOUP = st.lists(
    st.tuples(st.sampled_from(["", "  ", "- "]), WORDS, YAML_TOKENS), max_size=8
).map(lambda lines: "".join(f"{pad}{key}: {value}\n" for pad, key, value in lines))


def _mutated(text: str, data: st.DataObject) -> str:
    """The text, sometimes with a slice replaced by noise (to reach the syntax errors)."""
    if not text or not data.draw(st.booleans()):
        return text
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start, len(text)))
    return text[:start] + data.draw(st.text(max_size=8)) + text[end:]


def _single_text(data: st.DataObject, suffix: str) -> bytes:
    choice = data.draw(st.sampled_from(["document", "text", "bytes", "soup"]))
    if choice == "bytes":
        return data.draw(st.binary(max_size=200))
    if choice == "soup":
        return data.draw(YAML_SOUP).encode("utf-8", "surrogatepass")
    if choice == "text":
        return data.draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    doc = _plain(data.draw(DOCUMENTS))
    if suffix == ".json":
        text = json.dumps(doc, ensure_ascii=False)
    else:
        text = yaml.safe_dump(doc, allow_unicode=True)
    return _mutated(text, data).encode("utf-8", "surrogatepass")


def _batch_text(data: st.DataObject, suffix: str) -> bytes:
    if data.draw(st.booleans()):
        return data.draw(st.binary(max_size=300))
    if suffix == ".jsonl":
        lines = [json.dumps(_plain(data.draw(DOCUMENTS)), ensure_ascii=False) for _ in range(3)]
        lines = [_mutated(line, data) for line in lines]
    else:
        header = data.draw(st.lists(WORDS, min_size=1, max_size=6))
        cells = st.one_of(WORDS, BAD_NUMBER_CELLS, st.text(max_size=8))
        rows = data.draw(
            st.lists(st.lists(cells, min_size=len(header), max_size=len(header)), max_size=4)
        )
        lines = [",".join(header)] + [",".join(r) for r in rows]
        lines = [_mutated(line, data) for line in lines]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


FOLDER = Path(tempfile.mkdtemp(prefix="scoredsl-fuzz-"))


@given(data=st.data(), suffix=st.sampled_from([".yaml", ".json"]))
def test_one_assessment_reads_or_fails_with_a_documented_error(
    plan249: Plan, data: st.DataObject, suffix: str
) -> None:
    path = FOLDER / f"a{suffix}"
    path.write_bytes(_single_text(data, suffix))
    with contextlib.suppress(ReadError, DataError, EvaluationError):
        evaluate(plan249, read_assessment(plan249, read_single(path)))


@given(data=st.data(), suffix=st.sampled_from([".jsonl", ".csv"]))
def test_a_batch_reads_every_row_or_fails_it_with_a_documented_error(
    plan249: Plan, data: st.DataObject, suffix: str
) -> None:
    text = _batch_text(data, suffix)
    writer = BatchWriter(plan249, io.StringIO(), "jsonl")
    try:
        for ident, raw in read_batch(Path(f"b{suffix}"), io.BytesIO(text), plan249):
            error = writer.row(ident, raw)
            assert error is None or not error.startswith("internal:"), error
    except ReadError:
        pass  # the file as a whole: no header, or two columns for one value
