"""Readings: every `reading` statement, listed as a note.

A reading is how the scheme reads a clause the standard leaves ambiguous. It is not a
problem, so it is neither an error nor a warning; `scoredsl check` lists each one (code
`reading`, severity note) so that a reader sees every interpretation the scheme makes.
Readings a scheme takes over with `extends` are listed where they are written, when that
file is checked; the plan of the extending scheme carries them all the same.
"""

from __future__ import annotations

from collections.abc import Iterator

from scoredsl.diagnostics import Diagnostic, note
from scoredsl.semantics import Scope, readings


def check_readings(scope: Scope) -> Iterator[Diagnostic]:
    own = scope.scheme.span.source
    for reading, where in readings(scope.scheme):
        if reading.span.source is not own:
            continue
        yield note(
            "reading",
            f"reading of {'the scheme' if where == 'scheme' else where}: {reading.text}",
            reading.span,
            anchor=where.replace(" ", ":", 1),
        )
