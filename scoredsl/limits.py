"""Every limit scoredsl puts on data, in one place, each with its number.

docs/guarantees.md lists them; a change here is a change there. Input beyond a limit is
refused with a message naming the file, row, cell or key, never a traceback.
"""

from __future__ import annotations

# ---- CSV and JSONL batches ---------------------------------------------------------------
# A batch file is read line by line: a line over its limit is skipped to its end and fails
# only its row. The csv module's own cell limit (128 KiB, which raises and would end the
# batch) is raised to CSV_LINE_BYTES while reading; a cell over CELL_CHARS fails its row.
CELL_CHARS = 65_536  # characters in one CSV cell
CSV_LINE_BYTES = 16 * 1024 * 1024  # bytes in one physical line of a CSV file (16 MiB)
JSON_LINE_BYTES = 16 * 1024 * 1024  # bytes in one line of a JSONL file (16 MiB)

# ---- numbers in data ---------------------------------------------------------------------
NUMBER_CHARS = 100  # characters of a number's text, sign, point and exponent included
NUMBER_EXPONENT = 30  # |adjusted exponent|: values from 1e-30 to below 1e31 are read
# Significant digits: arithmetic keeps 28 (Python's decimal default), so points and rates
# with at most 20 add up exactly in any realistic scheme.
NUMBER_DIGITS = 20

# ---- YAML and JSON documents -------------------------------------------------------------
YAML_NODES = 100_000  # nodes a YAML document may compose into, aliases expanded
YAML_ALIASES = 1_000  # alias references (`*name`) in one YAML document
DATA_NESTING = 100  # mappings and lists inside one another in a YAML or JSON document
DATA_FILE_BYTES = 64 * 1024 * 1024  # one YAML or JSON assessment file (64 MiB)

# ---- groups -------------------------------------------------------------------------------
# `every`/`sum` repeat their body once per member; nested ones multiply. A scheme whose
# quantifiers would expand to more nodes than this is refused (`group-too-large`) instead
# of filling memory: the checks take about 0.3 ms per expanded node (CC-CMM needs 60).
GROUP_EXPANSION_NODES = 10_000

# ---- extends ------------------------------------------------------------------------------
EXTENDS_DEPTH = 32  # schemes in one extends chain


class Refused(Exception):
    """A reader refuses a document (a limit above is passed, or it cannot be read);
    `line` and `column` are 1-based, 0 when unknown."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.line, self.column = line, column
