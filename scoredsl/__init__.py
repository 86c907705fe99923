"""scoredsl: scoring standards as source code.

    .score text --parse--> AST --check--> diagnostics --compile--> Plan --eval--> Result
"""

__version__ = "0.1.0"
