"""CLI: argv -> the pipeline. The only module that prints or exits.

Exit codes: 0 success, 1 the input (scheme or data) has errors, 2 usage or I/O problem,
130 interrupted (Ctrl-C), 141 the reader of stdout went away (`scoredsl ... | head -1`,
the status a shell gives a program that SIGPIPE ends). Files named by `-o` are written
through a temporary file renamed into place when the run completes (`scoredsl.output`).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

from scoredsl import __version__, columnar, exactjson, spark
from scoredsl.batch import BATCH, SINGLE, ReadError, Row, csv_columns, read_batch, read_single
from scoredsl.builder import deep_nesting
from scoredsl.data import DataError, read_assessment
from scoredsl.diagnostics import Diagnostic, render_text, summary
from scoredsl.evaluate import EvaluationError, evaluate
from scoredsl.fmt import FormatError, format_source
from scoredsl.loader import Loaded, compile_path, load, scheme_files
from scoredsl.output import OutputError, atomic_output, atomic_path, check_target
from scoredsl.plan import Plan, PlanFormatError
from scoredsl.render.batch import write_batch
from scoredsl.render.documents import report_document, scheme_document
from scoredsl.render.text import result_text, template_yaml
from scoredsl.source import Source
from scoredsl.sql import UnsupportedPlan, plan_to_sql

OK, INPUT_ERROR, USAGE, INTERRUPTED, BROKEN_PIPE = 0, 1, 2, 130, 141


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"scoredsl: error: {message}", file=sys.stderr)
        raise SystemExit(USAGE)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="scoredsl", description="Check, compile and evaluate scoring standards.")
    p.add_argument("--version", action="version", version=f"scoredsl {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    c = sub.add_parser("check", help="check .score files or directories")
    c.add_argument("paths", nargs="+", metavar="PATH")
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument(
        "--verbose", action="store_true", help="show each acknowledged note in full (text)"
    )

    c = sub.add_parser("fmt", help="lay .score files out canonically, comments kept")
    c.add_argument("paths", nargs="+", metavar="PATH")
    c.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a file would change"
    )
    c.add_argument("--diff", action="store_true", help="change nothing; print what would change")

    c = sub.add_parser("compile", help="compile a scheme into a versioned JSON plan")
    c.add_argument("scheme", metavar="SCHEME")
    c.add_argument("-o", "--output", metavar="FILE", help="write the plan here (default: stdout)")

    c = sub.add_parser("inputs", help="list the inputs a scheme needs")
    c.add_argument("scheme", metavar="SCHEME")
    c.add_argument("--format", choices=("text", "json"), default="text")

    c = sub.add_parser("template", help="a data file to fill in: YAML, a CSV header or Excel")
    c.add_argument("scheme", metavar="SCHEME")
    c.add_argument("--format", choices=("yaml", "csv", "xlsx"), default="yaml")
    c.add_argument(
        "--batch", action="store_true", help="xlsx: one row per assessment (CSV always is)"
    )
    c.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")

    c = sub.add_parser("eval", help="evaluate assessment data against a scheme or plan")
    c.add_argument("scheme", metavar="SCHEME", help="a .score file or a compiled plan.json")
    c.add_argument(
        "data",
        metavar="DATA",
        help=".yaml/.yml/.json (one), .jsonl/.csv/.parquet (batch) or .xlsx (either)",
    )
    c.add_argument(
        "--format",
        choices=("text", "json", "md", "html", "csv", "jsonl", "parquet"),
        default=None,
    )
    c.add_argument(
        "--lang",
        choices=("zh", "en"),
        default=None,
        help="the language of every text for people (default: zh for md/html, en otherwise)",
    )
    c.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    c.add_argument("--quiet", action="store_true", help="no progress output for batches")
    c.add_argument(
        "--jobs",
        type=_positive,
        default=os.cpu_count() or 1,
        metavar="N",
        help="processes for a batch (default: one per CPU)",
    )
    c.add_argument(
        "--engine",
        choices=("duckdb", "python", "spark"),
        default="duckdb",
        help="what evaluates a batch file (default: duckdb; single assessments use python)",
    )
    c.add_argument("--spark-master", metavar="URL", help="Spark master for --engine spark")

    c = sub.add_parser("sql", help="print the SQL query that scores a batch table")
    c.add_argument("scheme", metavar="SCHEME", help="a .score file or a compiled plan.json")
    c.add_argument(
        "--dialect", choices=("duckdb", "spark", "postgres", "trino", "bigquery"), default="duckdb"
    )

    c = sub.add_parser("docs", help="the scheme as the standard's own tables")
    c.add_argument("scheme", metavar="SCHEME")
    c.add_argument("--format", choices=("md", "html"), default="md")
    c.add_argument("--lang", choices=("zh", "en"), default="zh")
    c.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")

    sub.add_parser(
        "lsp",
        help="run the language server on stdin/stdout (scoredsl[lsp])",
        description="The scoredsl language server (LSP over stdio) for editors; "
        "see editors/vscode/README.md. Needs the lsp extra: pip install 'scoredsl[lsp]'.",
    )
    return p


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {
        "check": cmd_check,
        "fmt": cmd_fmt,
        "compile": cmd_compile,
        "inputs": cmd_inputs,
        "template": cmd_template,
        "eval": cmd_eval,
        "docs": cmd_docs,
        "lsp": cmd_lsp,
        "sql": cmd_sql,
    }[args.command]
    try:
        with deep_nesting():
            status = handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:
        return _broken_pipe()
    except KeyboardInterrupt:
        print("scoredsl: interrupted", file=sys.stderr)
        return INTERRUPTED
    except OutputError as exc:
        print(f"scoredsl: {exc}", file=sys.stderr)
        return USAGE
    except RecursionError:
        print("scoredsl: the scheme nests too deeply to evaluate", file=sys.stderr)
        return INPUT_ERROR
    except _Exit as exc:
        return exc.code
    except UnicodeDecodeError as exc:
        print(
            f"scoredsl: {getattr(args, 'data', '')}: not UTF-8 text ({exc.reason})", file=sys.stderr
        )
        return INPUT_ERROR
    except OSError as exc:
        print(
            f"scoredsl: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr
        )
        return USAGE


def _broken_pipe() -> int:
    """The reader of stdout left: say nothing (the Python docs' recipe for SIGPIPE)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the flush at exit must not fail again
    return BROKEN_PIPE


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def _print_diagnostics(diagnostics: Sequence[Diagnostic]) -> None:
    for d in diagnostics:
        if d.is_error:
            print(render_text(d), end="\n\n", file=sys.stderr)


def _plan(path: str) -> Plan:
    """A .score file (checked and compiled) or a plan.json; exits on errors."""
    p = Path(path)
    if not p.is_file():
        print(f"scoredsl: no such file: {path}", file=sys.stderr)
        raise _Exit(USAGE)
    if p.suffix.lower() == ".json":
        try:
            return Plan.from_json(p.read_text(encoding="utf-8"))
        except PlanFormatError as exc:
            print(f"scoredsl: {path}: not a usable plan: {exc}", file=sys.stderr)
            raise _Exit(INPUT_ERROR) from None
    plan, diagnostics = compile_path(p)
    if plan is None:
        _print_diagnostics(diagnostics)
        errors, _ = summary(diagnostics)
        print(
            f"scoredsl: {path} has {errors} error(s); run: scoredsl check {path}", file=sys.stderr
        )
        raise _Exit(INPUT_ERROR)
    return plan


def _write(text: str, output: str | None, inputs: Sequence[str]) -> None:
    """To stdout, or to the file `output` through a temporary file (never onto an input)."""
    if output:
        with atomic_output(output, inputs) as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)


def cmd_compile(args: argparse.Namespace) -> int:
    plan = _plan(args.scheme)
    _write(plan.to_json() + "\n", args.output, [args.scheme])
    if args.output:
        print(f"wrote {args.output} ({plan.id}, hash {plan.hash[:12]})", file=sys.stderr)
    return OK


def cmd_inputs(args: argparse.Namespace) -> int:
    plan = _plan(args.scheme)
    rows = [
        {
            "name": i.name,
            "label": i.label,
            "type": i.type,
            "unit": {"percent": "%", "seconds": "s"}.get(i.type),
            "domain": i.domain_text() or None,
            "clause": i.clause,
        }
        for i in plan.inputs
    ]
    if args.format == "json":
        print(exactjson.dumps(rows, indent=2))
    else:
        for r, inp in zip(rows, plan.inputs, strict=True):
            optional = "" if inp.required else "  (optional)"
            domain = ", ".join(r["domain"] or [])
            label, clause = r["label"] or "", r["clause"] or ""
            print(f"{r['name']}: {r['type']}  {domain}  {label}  {clause}{optional}")
    return OK


def cmd_template(args: argparse.Namespace) -> int:
    plan = _plan(args.scheme)
    if args.format == "yaml":
        _write(template_yaml(plan), args.output, [args.scheme])
    elif args.format == "csv":
        _write(",".join(csv_columns(plan)) + "\n", args.output, [args.scheme])
    elif not args.output:
        print("scoredsl: --format xlsx writes a workbook: give -o FILE.xlsx", file=sys.stderr)
        return USAGE
    else:
        from scoredsl.xlsx import write_template  # openpyxl loads only when asked for

        with atomic_path(args.output, [args.scheme]) as partial:
            write_template(plan, partial, args.batch, args.scheme)
        print(f"wrote {args.output} ({plan.id}, hash {plan.hash[:12]})", file=sys.stderr)
    return OK


def cmd_docs(args: argparse.Namespace) -> int:
    text = scheme_document(_plan(args.scheme), args.format, args.lang)
    _write(text, args.output, [args.scheme])
    return OK


def cmd_lsp(args: argparse.Namespace) -> int:
    try:
        from scoredsl.lsp.server import serve  # pygls is an optional extra
    except ImportError as exc:
        if exc.name not in ("pygls", "lsprotocol") and not str(exc.name).startswith("pygls."):
            raise
        print(
            "scoredsl: the language server needs pygls: pip install 'scoredsl[lsp]'",
            file=sys.stderr,
        )
        return USAGE
    serve()
    return OK


def cmd_eval(args: argparse.Namespace) -> int:
    plan = _plan(args.scheme)
    data = Path(args.data)
    if data.is_dir():
        print(f"scoredsl: {args.data} is a directory; give a data file", file=sys.stderr)
        return USAGE
    if not data.is_file():
        print(f"scoredsl: no such file: {args.data}", file=sys.stderr)
        return USAGE
    inputs = [args.scheme, args.data]
    if args.output:
        check_target(args.output, inputs)  # refused before any work is done
    suffix = data.suffix.lower()
    if suffix in BATCH or suffix in columnar.INPUTS:
        return _eval_batch(plan, data, args)
    if suffix == ".xlsx":
        return _eval_workbook(plan, data, args)
    if suffix not in SINGLE:
        print(
            f"scoredsl: {args.data}: expected .yaml, .yml, .json, .jsonl, .csv or .xlsx",
            file=sys.stderr,
        )
        return USAGE
    try:
        raw = read_single(data)
    except ReadError as exc:
        print(f"error[data]: {exc}", file=sys.stderr)
        return INPUT_ERROR
    return _eval_single(plan, raw, args)


def _eval_workbook(plan: Plan, data: Path, args: argparse.Namespace) -> int:
    from scoredsl import xlsx  # openpyxl loads only when asked for

    try:
        book, form = xlsx.open_workbook(plan, data)
        if form == "batch":
            return _eval_batch(plan, data, args, xlsx.read_batch_form(plan, book))
        raw = xlsx.read_single_form(plan, book)
    except ReadError as exc:
        print(f"error[data]: {exc}", file=sys.stderr)
        return INPUT_ERROR
    except DataError as exc:
        return _data_problems(exc, args.data)
    return _eval_single(plan, raw, args)


def _data_problems(exc: DataError, data: str) -> int:
    """Every problem of one assessment, each on its line, then their count."""
    for problem in exc.problems:
        print(f"error[data]: {data}: {problem}", file=sys.stderr)
    print(f"{len(exc.problems)} error(s) in {data}", file=sys.stderr)
    return INPUT_ERROR


def _eval_single(plan: Plan, raw: Any, args: argparse.Namespace) -> int:
    try:
        result = evaluate(plan, read_assessment(plan, raw))
    except ReadError as exc:
        print(f"error[data]: {exc}", file=sys.stderr)
        return INPUT_ERROR
    except DataError as exc:
        return _data_problems(exc, args.data)
    except EvaluationError as exc:
        print(f"error[eval]: {args.data}: {exc}", file=sys.stderr)
        return INPUT_ERROR
    fmt = args.format or "text"
    lang = args.lang or ("zh" if fmt in ("md", "html") else "en")
    inputs = [args.scheme, args.data]
    if fmt == "json":
        _write(exactjson.dumps(result.to_dict(lang), indent=2) + "\n", args.output, inputs)
    elif fmt == "text":
        _write(result_text(result, lang) + "\n", args.output, inputs)
    elif fmt in ("md", "html"):
        _write(report_document(result, fmt, lang), args.output, inputs)
    else:
        print(f"scoredsl: --format {fmt} is for batches (.jsonl, .csv)", file=sys.stderr)
        return USAGE
    return OK


def _eval_batch(
    plan: Plan, data: Path, args: argparse.Namespace, rows: Iterable[Row] | None = None
) -> int:
    fmt = columnar.output_format(args.output, args.format)
    if fmt not in ("csv", "jsonl", "parquet"):
        print(f"scoredsl: a batch is written as csv, jsonl or parquet, not {fmt}", file=sys.stderr)
        return USAGE
    if fmt == "parquet" and not args.output:
        print("scoredsl: Parquet output needs -o FILE.parquet", file=sys.stderr)
        return USAGE

    done = [0, 0]  # rows, failed: written so far
    terminal = columnar.TerminalProgress(None)

    def progress(rows: int, failed: int) -> None:
        if args.quiet:
            return
        if terminal.enabled:
            terminal(rows, failed)
        elif rows // 10000 > done[0] // 10000:
            print(f"evaluated {rows} rows ({failed} failed)", file=sys.stderr)
        done[:] = [rows, failed]

    if rows is None and data.suffix.lower() in columnar.INPUTS:
        return _eval_batch_file(plan, data, args, fmt, progress, done)
    if fmt == "parquet":
        print("scoredsl: a workbook batch is written as csv or jsonl", file=sys.stderr)
        return USAGE

    def run() -> tuple[int, int]:
        with contextlib.ExitStack() as stack:
            out = sys.stdout
            if args.output:
                out = stack.enter_context(
                    atomic_output(args.output, [args.scheme, args.data], newline="")
                )
            source = rows
            if source is None:
                handle = stack.enter_context(data.open("rb"))  # decoded line by line
                source = read_batch(data, handle, plan)
            return write_batch(plan, source, out, fmt, args.jobs, progress)

    return _batch_outcome(run, args, done)


def _batch_outcome(
    run: Callable[[], tuple[int, int]], args: argparse.Namespace, done: list[int]
) -> int:
    """Run a batch; say how it went (or that it was interrupted, or that the file as a
    whole cannot be read) and give the exit code."""
    try:
        total, failed = run()
    except ReadError as exc:  # the file as a whole (no header, two columns for one value)
        print(f"error[data]: {exc}", file=sys.stderr)
        return INPUT_ERROR
    except KeyboardInterrupt:
        where = f"; nothing written to {args.output}" if args.output else ""
        print(f"scoredsl: interrupted after {done[0]} rows{where}", file=sys.stderr)
        return INTERRUPTED
    if not args.quiet:
        print(f"evaluated {total} rows: {total - failed} ok, {failed} failed", file=sys.stderr)
    return INPUT_ERROR if failed else OK


def _eval_batch_file(
    plan: Plan,
    data: Path,
    args: argparse.Namespace,
    fmt: str,
    progress: columnar.Progress,
    done: list[int],
) -> int:
    """A .csv, .jsonl or .parquet batch through the engine asked for (DuckDB by default)."""

    def run() -> tuple[int, int]:
        out: IO[bytes]
        with contextlib.ExitStack() as stack:
            if args.output:
                target = stack.enter_context(atomic_path(args.output, [args.scheme, args.data]))
                out = stack.enter_context(target.open("wb"))
            else:
                sys.stdout.flush()
                out = sys.stdout.buffer
            if args.engine == "spark":
                console = not args.quiet and sys.stderr.isatty()
                counts = spark.run_spark(plan, data, out, fmt, args.spark_master, progress, console)
            else:
                counts = columnar.run_batch(plan, data, out, fmt, args.engine, args.jobs, progress)
            out.flush()
            return counts

    try:
        return _batch_outcome(run, args, done)
    except spark.EngineUnavailable as exc:
        print(f"scoredsl: {exc}", file=sys.stderr)
        return USAGE


def cmd_sql(args: argparse.Namespace) -> int:
    plan = _plan(args.scheme)
    try:
        query = plan_to_sql(plan, args.dialect)
    except UnsupportedPlan as exc:
        print(f"scoredsl: {args.scheme}: cannot be written as SQL: {exc}", file=sys.stderr)
        return INPUT_ERROR
    print(query.sql(args.dialect, pretty=True) + ";")
    return OK


def _missing(paths: Sequence[str]) -> list[str]:
    return [p for p in paths if not Path(p).exists()]


def cmd_check(args: argparse.Namespace) -> int:
    if missing := _missing(args.paths):
        for p in missing:
            print(f"scoredsl: no such file or directory: {p}", file=sys.stderr)
        return USAGE
    diagnostics: list[Diagnostic] = []
    files = list(scheme_files(args.paths))
    shown: list[Diagnostic | str] = []
    memo: dict[Path, Loaded] = {}  # a parent scheme is read once, however many extend it
    for path in files:
        found = load(path, memo=memo).diagnostics
        diagnostics += found
        quiet = [d for d in found if _is_quiet(d) and not args.verbose]
        shown += [d for d in found if not _is_quiet(d) or args.verbose]
        if quiet:
            shown.append(_acknowledged_line(path, quiet))
    errors, warnings = summary(diagnostics)
    if args.format == "json":
        doc = {
            "diagnostics": [d.to_json() for d in diagnostics],
            "errors": errors,
            "warnings": warnings,
        }
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        for d in shown:
            if isinstance(d, str):
                print(d)
            else:
                print(render_text(d), end="\n\n")
        notes = sum(1 for d in diagnostics if d.acknowledged is not None)
        read = sum(1 for d in diagnostics if d.code == "reading" and d.acknowledged is None)
        print(
            f"checked {len(files)} file(s): {errors} error(s), {warnings} warning(s), "
            f"{notes} acknowledged" + (f", {read} reading(s)" if read else "")
        )
    return INPUT_ERROR if errors else OK


def _is_quiet(d: Diagnostic) -> bool:
    """Acknowledged notes and readings: summarised per file unless --verbose."""
    return d.acknowledged is not None or d.code == "reading"


def _acknowledged_line(path: Path, notes: Sequence[Diagnostic]) -> str:
    """One line for a file's acknowledged notes and readings:
    `file: 3 acknowledged (band-overlap, ...), 2 reading(s); --verbose shows them`."""
    codes: dict[str, int] = {}
    acknowledged = [d for d in notes if d.acknowledged is not None]
    for d in acknowledged:
        codes[d.code] = codes.get(d.code, 0) + 1
    listed = ", ".join(c + (f" x{k}" if k > 1 else "") for c, k in sorted(codes.items()))
    parts = [f"{len(acknowledged)} acknowledged ({listed})"] if acknowledged else []
    if readings := len(notes) - len(acknowledged):
        parts.append(f"{readings} reading(s)")
    return f"{path}: {', '.join(parts)}; --verbose shows them"


def cmd_fmt(args: argparse.Namespace) -> int:
    if missing := _missing(args.paths):
        print(f"scoredsl: no such file or directory: {', '.join(missing)}", file=sys.stderr)
        return USAGE
    status = OK
    changed = 0
    files = list(scheme_files(args.paths))
    for path in files:
        source = Source.read(path)
        try:
            text, diagnostics = format_source(source)
        except FormatError as exc:
            print(f"scoredsl: internal error, {path} left as it is: {exc}", file=sys.stderr)
            return USAGE
        if text is None:
            for d in diagnostics:
                print(render_text(d), end="\n\n", file=sys.stderr)
            status = INPUT_ERROR
            continue
        if text == source.text:
            continue
        changed += 1
        if args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    source.text.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    f"{path}",
                    f"{path} (formatted)",
                )
            )
        if args.check or args.diff:
            print(f"would reformat {path}", file=sys.stderr)
            status = INPUT_ERROR
        else:
            with atomic_output(path) as handle:  # never half a file, even on Ctrl-C
                handle.write(text)
            print(f"reformatted {path}", file=sys.stderr)
    verb = "would reformat" if args.check or args.diff else "reformatted"
    print(f"{verb} {changed} of {len(files)} file(s)", file=sys.stderr)
    return status
