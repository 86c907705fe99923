"""Batch output: one line per assessment, CSV (a summary row) or JSONL (the full result).

CSV text cells (id, level, error) pass through `neutralise_cell` so that a spreadsheet
never runs them as formulas; numbers the evaluator computed are written as they are.

Rows are evaluated in chunks, on several processes when asked (`jobs`); chunks are
written in input order and only a few are in flight at once, so memory does not grow with
the row count.
"""

from __future__ import annotations

import csv
import io
import itertools
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any, TypeVar

from scoredsl import exactjson
from scoredsl.batch import ReadError
from scoredsl.data import DataError, read_assessment
from scoredsl.evaluate import EvaluationError, evaluate
from scoredsl.exactjson import number
from scoredsl.output import neutralise_cell
from scoredsl.plan import Plan

if TYPE_CHECKING:
    from concurrent.futures import Future

C = TypeVar("C")
R = TypeVar("R")

CSV_COLUMNS = ("id", "eligible", "total", "level", "level_label", "error")
OUTCOME_COLUMNS = ("outcome", "outcome_label")  # last, only for a scheme with outcomes


class BatchWriter:
    """Evaluates and writes rows one at a time: memory does not grow with the row count."""

    def __init__(self, plan: Plan, out: IO[str], fmt: str, header: bool = True) -> None:
        self.plan = plan
        self.out = out
        self.fmt = fmt
        self.top = [i.id for i in plan.top_items]
        self.outcomes = bool(plan.outcomes)
        self.csv = csv.writer(out, lineterminator="\n") if fmt == "csv" else None
        if self.csv is not None and header:
            extra = OUTCOME_COLUMNS if self.outcomes else ()
            self.csv.writerow([*CSV_COLUMNS, *self.top, *extra])

    def row(self, ident: str, raw: Any) -> str | None:
        """Write one row; return its error message, if any."""
        try:
            if isinstance(raw, ReadError):
                raise raw
            detail = self.csv is None
            result = evaluate(self.plan, read_assessment(self.plan, raw), detail=detail)
        except (ReadError, EvaluationError) as exc:
            return self.error(ident, str(exc))
        except DataError as exc:
            return self.error(ident, "; ".join(exc.messages))
        except Exception as exc:  # a bug must not end the batch or lose the other rows
            return self.error(ident, internal_error(exc))
        if self.csv is not None:
            scores = result.scores
            self.csv.writerow([
                neutralise_cell(ident), "true" if result.eligible else "false",
                number(result.total), neutralise_cell(result.level or ""),
                neutralise_cell(result.level_label or ""), "",
                *(number(scores[t]) for t in self.top),
                *((neutralise_cell(result.outcome or ""),
                   neutralise_cell(result.outcome_label or "")) if self.outcomes else ()),
            ])  # fmt: skip
        else:
            doc = result.to_dict()
            doc["id"] = ident
            self.out.write(exactjson.dumps(doc) + "\n")
        return None

    def error(self, ident: str, message: str) -> str:
        """Write the row `ident` as failed with `message`; return the message."""
        if self.csv is not None:
            cells = [neutralise_cell(ident), neutralise_cell(message)]
            blank = len(self.top) + (len(OUTCOME_COLUMNS) if self.outcomes else 0)
            self.csv.writerow([cells[0], "", "", "", "", cells[1], *([""] * blank)])
        else:
            self.out.write(exactjson.dumps({"id": ident, "error": message}) + "\n")
        return message


def internal_error(exc: Exception) -> str:
    """The error of a row that met a bug in scoredsl (code `internal`)."""
    return (
        f"internal: scoredsl failed on this row ({type(exc).__name__}: {exc}); "
        "this is a bug, please report it with the row"
    )


CHUNK = 500  # rows a worker evaluates at a time


def write_batch(
    plan: Plan,
    rows: Iterable[tuple[str, Any]],
    out: IO[str],
    fmt: str,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Evaluate every row and write it; return (rows, failed rows).

    `progress(rows, failed)` is called after every chunk written.
    """
    chunks = _chunks(rows)
    first = next(chunks, [])  # before the header: a file-level ReadError leaves no output
    BatchWriter(plan, out, fmt)  # the header
    second = next(chunks, [])
    chunks = itertools.chain([first, second] if second else [first], chunks)
    results: Iterator[tuple[str, int, int]]
    if jobs <= 1 or not second:  # one chunk is not worth starting processes for
        results = (_evaluate_chunk(plan, fmt, c) for c in chunks)
    else:
        results = _parallel(plan, fmt, chunks, jobs)
    return write_results(results, out, progress)


def write_results(
    results: Iterable[tuple[str, int, int]],
    out: IO[str],
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Write chunks' (text, rows, failed rows) in order, reporting progress after each;
    return (rows, failed rows)."""
    total = failed = 0
    for text, count, errors in results:
        out.write(text)
        total, failed = total + count, failed + errors
        if progress is not None:
            progress(total, failed)
    return total, failed


def _chunks(rows: Iterable[tuple[str, Any]]) -> Iterator[list[tuple[str, Any]]]:
    it = iter(rows)
    while chunk := list(itertools.islice(it, CHUNK)):
        yield chunk


def _evaluate_chunk(plan: Plan, fmt: str, chunk: list[tuple[str, Any]]) -> tuple[str, int, int]:
    buffer = io.StringIO()
    writer = BatchWriter(plan, buffer, fmt, header=False)
    errors = sum(1 for ident, raw in chunk if writer.row(ident, raw) is not None)
    return buffer.getvalue(), len(chunk), errors


class _Evaluator:
    """Evaluates and writes a chunk of rows (in a worker process: built there once)."""

    def __init__(self, plan: Plan, fmt: str) -> None:
        self.plan, self.fmt = plan, fmt

    def __call__(self, chunk: list[tuple[str, Any]]) -> tuple[str, int, int]:
        return _evaluate_chunk(self.plan, self.fmt, chunk)


def _parallel(
    plan: Plan, fmt: str, chunks: Iterator[list[tuple[str, Any]]], jobs: int
) -> Iterator[tuple[str, int, int]]:
    return in_order(_Evaluator, (plan, fmt), chunks, jobs)


_WORKER: list[Callable[[Any], Any]] = []


def _init_worker(make: Callable[..., Callable[[Any], Any]], args: tuple[Any, ...]) -> None:
    # Ctrl-C reaches every process of the terminal's group: the parent alone handles it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER[:] = [make(*args)]


def _work(chunk: Any) -> Any:
    return _WORKER[0](chunk)


def in_order(
    make: Callable[..., Callable[[C], R]], args: tuple[Any, ...], chunks: Iterable[C], jobs: int
) -> Iterator[R]:
    """Each chunk through `make(*args)` (built once in each of `jobs` processes), the
    results yielded in input order, 2 x jobs chunks in flight.

    If the consumer stops (Ctrl-C, an error writing, an error reading the next chunk) the
    queued chunks are cancelled and the pool is not waited for: a worker only finishes the
    chunk it holds.
    """
    from concurrent.futures import ProcessPoolExecutor  # only a parallel batch needs it

    pool = ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(make, args))
    pending: deque[Future[R]] = deque()
    try:
        for chunk in chunks:
            pending.append(pool.submit(_work, chunk))
            if len(pending) >= 2 * jobs:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
