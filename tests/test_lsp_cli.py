"""`scoredsl lsp` without the optional pygls: one clear line and exit 2; and importing
scoredsl never imports pygls (the language server is an optional extra)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_WITHOUT_PYGLS = """
import sys
sys.modules["pygls"] = None  # as if the lsp extra were not installed
from scoredsl.cli import main
sys.exit(main(["lsp"]))
"""


def test_lsp_without_pygls_says_how_to_install_it_and_exits_2() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_PYGLS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "scoredsl: the language server needs pygls: pip install 'scoredsl[lsp]'\n"
    )


def test_importing_scoredsl_and_its_cli_does_not_import_pygls() -> None:
    code = "import sys, scoredsl, scoredsl.cli, scoredsl.lsp; print('pygls' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout == "False\n", done.stderr
