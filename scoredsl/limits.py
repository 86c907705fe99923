"""Every limit scoredsl puts on data, in one place, each with its number.

docs/guarantees.md lists them; a change here is a change there. Input beyond a limit is
refused with a message naming the file, row, cell or key, never a traceback.
"""

from __future__ import annotations

# ---- CSV --------------------------------------------------------------------------------
# The csv module refuses a cell over 128 KiB by raising, which would end a batch. We raise
# its limit to this and refuse, row by row, any cell longer than CELL_CHARS.
CELL_CHARS = 1_048_576  # characters in one CSV cell (1 Mi)
CSV_FIELD_LIMIT = CELL_CHARS + 1  # what csv.field_size_limit is set to while reading

# ---- numbers in data ---------------------------------------------------------------------
NUMBER_CHARS = 100  # characters of a number's text, sign, point and exponent included
NUMBER_EXPONENT = 30  # |adjusted exponent|: values from 1e-30 to below 1e31 are read

# ---- YAML and JSON documents -------------------------------------------------------------
YAML_NODES = 100_000  # nodes a YAML document may compose into, aliases expanded
YAML_ALIASES = 1_000  # alias references (`*name`) in one YAML document
DATA_NESTING = 100  # mappings and lists inside one another in a YAML or JSON document
DATA_FILE_BYTES = 64 * 1024 * 1024  # one YAML or JSON assessment file (64 MiB)
JSON_LINE_CHARS = CELL_CHARS * 8  # one JSONL line (8 Mi characters)

# ---- extends ------------------------------------------------------------------------------
EXTENDS_DEPTH = 32  # schemes in one extends chain
