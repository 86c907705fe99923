"""Writing output files safely: never onto an input, never half a file under the final name.

`atomic_path` gives a temporary path beside the target and renames it into place only when
the block completes; on any exception (KeyboardInterrupt included) the temporary file is
removed and the target is left as it was. `atomic_output` is the same with an open text
handle. Both refuse a target that is one of the inputs (the same path, or the same file
through a link). `neutralise_cell` keeps CSV text from being run as a spreadsheet formula.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO


class OutputError(Exception):
    """The output cannot be written where asked; the message says why (a usage error)."""


def _same_file(target: Path, source: Path) -> bool:
    if target.resolve() == source.resolve():
        return True
    try:
        return os.path.samefile(target, source)
    except OSError:  # one of them does not exist: they are not the same file
        return False


def check_target(target: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """The target as a Path, or `OutputError` if it is an input, a directory or has no folder."""
    path = Path(target)
    for source in inputs:
        if _same_file(path, Path(source)):
            raise OutputError(
                f"-o {target} is the input file {source}: refusing to write over it; "
                "choose another output file"
            )
    if path.is_dir():
        raise OutputError(f"-o {target} is a directory; give a file name")
    if not path.parent.resolve().is_dir():
        raise OutputError(f"-o {target}: there is no directory {path.parent}")
    return path


def _mode_for(target: Path) -> int:
    """The permissions a new file gets (umask applied), or those of the file replaced."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(target: str | Path, inputs: Iterable[str | Path] = ()) -> Iterator[Path]:
    """A temporary file beside `target` (same suffix) to write; renamed to `target` on success.

    For writers that want a path (DuckDB's COPY, openpyxl). The file exists, empty, when
    the block starts; the block may overwrite it.
    """
    path = check_target(target, inputs)
    handle, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


@contextlib.contextmanager
def atomic_output(
    target: str | Path, inputs: Iterable[str | Path] = (), *, newline: str | None = None
) -> Iterator[IO[str]]:
    """A UTF-8 text handle on a temporary file, renamed to `target` when the block completes."""
    with (
        atomic_path(target, inputs) as temporary,
        temporary.open("w", encoding="utf-8", newline=newline) as handle,
    ):
        yield handle


# OWASP, "CSV Injection": a cell starting with one of these is run as a formula by
# spreadsheets; prefixing a single quote makes it text (and the quote is not shown).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(text: str) -> str:
    """Text for a CSV cell that a spreadsheet will not run: `=1+2` becomes `'=1+2`.

    Only for text (ids, labels, error messages); numbers the program computed (a total of
    -3) are written as numbers and must not pass through here.
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text
