"""The HTML report in a real headless browser (Debian's chromium): DOM and screenshot.

Skipped where no chromium is installed, except in CI (CI=true), where its absence fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from scoredsl.data import read_assessment
from scoredsl.evaluate import evaluate
from scoredsl.plan import Plan
from scoredsl.render.documents import report_document
from tests.conftest import STANDARDS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--window-size=1100,1400",
]  # fmt: skip

if CHROMIUM is None and os.environ.get("CI") == "true":
    pytest.fail("CI must install chromium (see .ci/run)", pytrace=False)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def chromium(*args: str) -> subprocess.CompletedProcess[bytes]:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            timeout=120,
            check=True,
        )


def test_report_in_headless_chromium(plan249: Plan, tmp_path: Path) -> None:
    raw = yaml.safe_load((STANDARDS / "examples" / "t-ccsa-249-2019.yaml").read_text("utf-8"))
    result = evaluate(plan249, read_assessment(plan249, raw))
    page = tmp_path / "report.html"
    page.write_text(report_document(result, "html", date="2026-11-23"), encoding="utf-8")

    dom = chromium("--dump-dom", page.as_uri()).stdout.decode("utf-8")
    assert '<strong id="total">838.15</strong>' in dom
    assert '<svg class="chart" id="chart"' in dom
    assert dom.count('<g class="bar"') == 6  # one bar per 大项

    shot = tmp_path / "report.png"
    chromium(f"--screenshot={shot}", page.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a rendered page, not a blank one
