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


# --- The report's content, as the browser shows it -------------------------------------------------------

READ_PAGE = """() => {
  const section = (name) => [...document.querySelectorAll('h2')].find(h => h.textContent === name);
  const items = (name) => { const h = section(name); const list = h && h.nextElementSibling;
    return list && list.tagName === 'UL' ? [...list.querySelectorAll('li')].map(li => li.innerText) : []; };
  const table = (name) => { let e = section(name); while (e && e.tagName !== 'TABLE') e = e.nextElementSibling;
    return e ? [...e.querySelectorAll('tbody tr')].map(tr => [...tr.querySelectorAll('td')].map(td => td.innerText)) : []; };
  return {answer: items('Answer'), warnings: items('Warnings'), summary: table('Summary per grid point'),
          text: document.body.innerText,
          injected: document.querySelectorAll('b, i, script, iframe, body img[onerror]').length};
}"""


def read_report(report: Path, tmp_path: Path) -> dict:
    """What Chromium shows of report.html: the Answer and Warnings lists, the summary table's cells."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = context.new_page()
            page.goto(report.as_uri(), wait_until="load")
            shown = page.evaluate(READ_PAGE)
        finally:
            context.close()
    shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)
    return shown


def test_the_answer_the_summary_rows_and_the_warnings_reach_the_page(tmp_path, capsys):
    out = tmp_path / "report"
    assert analyze_command(str(SUITE), str(out)) == 0
    capsys.readouterr()
    shown = read_report(out / "report.html", tmp_path)
    a, b = "num_env_runners=0, num_envs_per_env_runner=1", "num_env_runners=1, num_envs_per_env_runner=2"
    # By hand (tests/fixtures/README.md): B at 2000 steps/s, A at median(1125, 900) = 1012.5; 2000 / 1012.5 = 1.975
    assert shown["answer"][0].startswith(f"Fastest: {b} at 2,000 env steps/s")
    assert f"1.98x the smallest configuration ({a})" in shown["answer"][0]
    assert any(line.startswith("Bottleneck: Learning takes 70% of each iteration") for line in shown["answer"])
    assert shown["warnings"] == [f"{a}: throughput varies 16% across repeats (CV > 10%)."]
    # point, CPUs, repeats, steps/s, speedup, efficiency, 4 phase shares, setup s, CV, model, % of limit
    assert shown["summary"] == [
        [a, "1", "2", "1,012 [2 seeds: too few]", "1.00x", "100%", "50%", "40%", "5%", "5%", "2.5", "16%", "n/a", "2.0%"],
        [b, "2", "2", "2,000 [2 seeds: too few]", "1.98x", "99%", "20%", "70%", "5%", "5%", "5.0", "0%", "n/a", "4.0%"],
    ]


def test_markup_in_a_point_name_or_an_error_is_shown_as_text(tmp_path, capsys):
    import json

    from analysis_helpers import NEW_STACK, copy_fixture, set_trial_status, trial_dirs

    experiment = copy_fixture(NEW_STACK, tmp_path)
    names = ["<b>bold</b>", "a<script>alert(1)</script>"]
    for value, trial in zip(names, trial_dirs(experiment), strict=True):
        params = json.loads((trial / "params.json").read_text())
        params["note"] = value  # a swept setting of the user's: it becomes part of the point's name
        (trial / "params.json").write_text(json.dumps(params))
    errored = trial_dirs(experiment)[1]
    set_trial_status(experiment, errored, "ERROR")
    (errored / "error.txt").write_text("Traceback (most recent call last):\nValueError: 1 < 2 <i>boom</i>\n")
    out = tmp_path / "report"
    assert analyze_command(str(experiment), str(out)) == 0
    capsys.readouterr()
    shown = read_report(out / "report.html", tmp_path)
    assert shown["injected"] == 0, "markup from the results became elements of the page"
    for value in names:
        assert f"note={value}" in shown["text"]
    assert any("ValueError: 1 < 2 <i>boom</i>" in w for w in shown["warnings"]), shown["warnings"]
