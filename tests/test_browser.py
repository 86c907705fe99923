"""The HTML report in a real headless browser (Debian's chromium): DOM and screenshot.

Skipped where no chromium is installed, except in CI (CI=true), where its absence fails.
"""

from __future__ import annotations

import json
import os
import re
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


PROBE = """<script>
  const items = document.querySelector('#items thead');
  const chart = document.querySelector('#chart');
  const overlaps = [...document.querySelectorAll('#chart g.bar')].filter(bar => {
    const clip = bar.querySelector('svg').getBoundingClientRect();
    const label = bar.querySelector('text').getBoundingClientRect();
    const rect = bar.querySelector('rect').getBoundingClientRect();
    return Math.min(label.right, clip.right) > rect.left;
  }).length;
  const probe = document.createElement('pre');
  probe.id = 'probe';
  probe.textContent = JSON.stringify({
    thead: getComputedStyle(items).display,
    rows_in_thead: items.querySelectorAll('tr').length,
    chart_fits: chart.getBoundingClientRect().right <= document.body.getBoundingClientRect().right,
    overlaps: overlaps,
    font: getComputedStyle(document.body).fontFamily,
  });
  document.body.appendChild(probe);
</script>"""


def _report_249(plan249: Plan) -> str:
    raw = yaml.safe_load((STANDARDS / "examples" / "t-ccsa-249-2019.yaml").read_text("utf-8"))
    result = evaluate(plan249, read_assessment(plan249, raw))
    return report_document(result, "html", date="2026-11-23")


def test_report_prints_on_a4_with_table_headers_repeated(plan249: Plan, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(_report_249(plan249).replace("</body>", PROBE + "</body>"), encoding="utf-8")
    for width in (1100, 600):  # a wide window and a narrow one: the chart scales to both
        dom = chromium(f"--window-size={width},1000", "--dump-dom", page.as_uri()).stdout
        found = re.search(r'<pre id="probe">(.*?)</pre>', dom.decode("utf-8"))
        assert found is not None
        probe = json.loads(found.group(1))
        assert probe["thead"] == "table-header-group" and probe["rows_in_thead"] == 1
        assert probe["chart_fits"] and probe["overlaps"] == 0
    assert probe["font"].startswith(
        '"Microsoft YaHei", 微软雅黑, "PingFang SC", "Hiragino Sans GB"'
    )

    pdf = tmp_path / "report.pdf"
    chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    data = pdf.read_bytes()
    boxes = set(re.findall(rb"/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]", data))
    assert [(round(float(w) / 72 * 25.4), round(float(h) / 72 * 25.4)) for w, h in boxes] == [
        (210, 297)
    ]  # A4 in millimetres, on every page
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 3  # the items table runs over pages
