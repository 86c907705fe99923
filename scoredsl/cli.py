"""CLI: argv -> the pipeline. The only module that prints or exits.

Exit codes: 0 success, 1 the input (scheme or data) has errors, 2 usage or I/O problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from scoredsl import __version__
from scoredsl.diagnostics import Diagnostic, render_text, summary
from scoredsl.loader import load, scheme_files

OK, INPUT_ERROR, USAGE = 0, 1, 2


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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = {"check": cmd_check}[args.command]
    try:
        return handler(args)
    except OSError as exc:
        print(f"scoredsl: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return USAGE


def _missing(paths: Sequence[str]) -> list[str]:
    return [p for p in paths if not Path(p).exists()]


def cmd_check(args: argparse.Namespace) -> int:
    if missing := _missing(args.paths):
        for p in missing:
            print(f"scoredsl: no such file or directory: {p}", file=sys.stderr)
        return USAGE
    diagnostics: list[Diagnostic] = []
    files = list(scheme_files(args.paths))
    for path in files:
        diagnostics += load(path).diagnostics
    errors, warnings = summary(diagnostics)
    if args.format == "json":
        doc = {
            "diagnostics": [d.to_json() for d in diagnostics],
            "errors": errors,
            "warnings": warnings,
        }
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        for d in diagnostics:
            print(render_text(d), end="\n\n")
        notes = sum(1 for d in diagnostics if d.acknowledged is not None)
        print(
            f"checked {len(files)} file(s): {errors} error(s), {warnings} warning(s), "
            f"{notes} acknowledged"
        )
    return INPUT_ERROR if errors else OK
