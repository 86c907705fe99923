"""``python -m scoredsl``: the same as the ``scoredsl`` console script."""

from scoredsl.cli import main

raise SystemExit(main())
