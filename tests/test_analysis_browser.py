"""report.html opened from disk in headless Chromium: every figure loads, nothing is fetched from a network.

Needs the `playwright` Python package and /usr/bin/chromium (no Playwright-downloaded browser).
"""

import shutil
from pathlib import Path

import pytest
from analysis_helpers import SUITE

from scaling_study.analysis.command import analyze_command
from scaling_study.analysis.figures import FIGURES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed"),
]


def test_report_renders_with_every_image_loaded(tmp_path, capsys):
    sync_api = pytest.importorskip("playwright.sync_api")
    out = tmp_path / "report"
    assert analyze_command(str(SUITE), str(out)) == 0
    capsys.readouterr()
    requests = []
    with sync_api.sync_playwright() as playwright:
        # A persistent context gives Chromium a fresh --user-data-dir of our own, removed below.
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = context.new_page()
            page.on("request", lambda request: requests.append(request.url))
            page.goto((out / "report.html").as_uri(), wait_until="load")
            widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
            title = page.title()
            heading = page.inner_text("h1")
        finally:
            context.close()
    shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)
    assert title == heading == "Scaling report: suite_format"
    # SVGs of 7.5 inches (540 pt: 720 CSS px); the fixture's two points on one node draw neither the model's
    # two figures nor the node figure
    assert len(widths) == len(FIGURES) - 3 and all(width == 720 for width in widths), widths
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
