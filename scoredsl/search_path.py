"""Where `extends "base.score"` may look: the scheme's own folder tree and SCOREDSL_PATH.

A scheme names its base relative to its own file. The base must lie, once every symbolic
link is followed, inside the folder of the scheme that names it (or a folder below it), or
inside one of the folders listed in the environment variable SCOREDSL_PATH (separated by
`os.pathsep`, `:` on Linux and macOS), where it is looked for next. A name outside those
folders (`../../etc/passwd`, `/proc/self/environ`) is refused by that rule before anything
is read, with the same message whether or not such a file exists. Only `.score` files are
read. Chains are at most EXTENDS_DEPTH long and may not come back to a file already in
them (the message names the cycle: `a.score -> b.score -> a.score`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from scoredsl.limits import EXTENDS_DEPTH

ENV = "SCOREDSL_PATH"


def search_folders(scheme: Path) -> list[Path]:
    """The scheme's own folder first, then each folder of SCOREDSL_PATH."""
    extra = [Path(p) for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()]
    return [scheme.parent, *extra]


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop (RuntimeError before 3.13)
        return None


def locate_base(name: str, scheme: Path, chain: Sequence[Path]) -> Path | str:
    """The file `extends name` means, or why it cannot be used (a message for the editor).

    `chain` holds the resolved files that already extend, outermost first.
    """
    here = _resolved(scheme) or scheme.absolute()
    if len(chain) + 1 >= EXTENDS_DEPTH:
        return f"more than {EXTENDS_DEPTH} schemes extend one another here"
    inside_some = False
    for folder in search_folders(scheme):
        root = _resolved(folder)
        if root is None:
            continue
        candidate = _resolved(folder / name)
        if candidate is None:
            return f"'{name}' is a loop of symbolic links"
        if not candidate.is_relative_to(root):
            continue
        inside_some = True
        if candidate.suffix != ".score":
            return f"'{name}' is not a .score file: extends reads only .score files"
        if candidate.is_file():
            if candidate == here:
                return f"extends cycle: {here.name} -> {here.name}"
            if candidate in chain:
                cycle = [*chain[list(chain).index(candidate) :], here, candidate]
                return "extends cycle: " + " -> ".join(p.name for p in cycle)
            return candidate
    if not inside_some:
        return (
            f"'{name}' is outside the scheme's folder and the folders of {ENV}: "
            f"extends may only name files in {scheme.parent} (or below it) or in {ENV}"
        )
    looked = (scheme.parent / name).absolute()
    more = f" and in {ENV}" if len(search_folders(scheme)) > 1 else ""
    return f"cannot find '{name}' (looked for {looked}{more})"
