"""The whole analysis through analyze_command: files written, figures are valid images, report content."""

import json
import xml.etree.ElementTree as ET

import matplotlib.image
import pandas as pd
import pytest
from analysis_helpers import NEW_STACK, OLD_STACK, SUITE, raw_rows, trial_dirs, write_large_experiment
from matplotlib.figure import Figure
from PIL import Image

from scaling_study.analysis import plots
from scaling_study.analysis.command import analyze_command
from scaling_study.analysis.figures import FIGURES
from scaling_study.analysis.load import load_experiment
from scaling_study.analysis.meta import describe_run
from scaling_study.analysis.summary import build_summary
from scaling_study.core.stats import AmdahlFit

SUMMARY_CSV_COLUMNS = {
    "num_env_runners", "num_envs_per_env_runner", "cpus", "repeats", "env_steps_per_s", "env_steps_per_s_ci_low",
    "env_steps_per_s_ci_high", "speedup", "efficiency", "sample_share", "learn_share", "sync_share",
    "other_share", "setup_s", "cv", "pct_of_limit",
}
TRIALS_CSV_COLUMNS = {"trial_id", "point", "status", "errored", "restarts", "nodes", "started_at", "ended_at"}
# The suite fixture has two points on one node: too few for the model, one node count to compare.
MODEL_FIGURES = {"measured_vs_predicted", "model_curve"}
SUITE_FIGURES = set(FIGURES) - MODEL_FIGURES - {"throughput_by_nodes"}


@pytest.fixture(scope="module")
def suite_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "suite"
    assert analyze_command(str(SUITE), str(out)) == 0
    return out


def assert_valid_png(path, size=(750, 460)):
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.size[0] == size[0] and image.size[1] >= size[1] // 2
    assert matplotlib.image.imread(path).ndim == 3


def test_every_figure_is_written_as_valid_png_and_svg(suite_report):
    assert {p.stem for p in suite_report.glob("*.png")} == SUITE_FIGURES
    for name in SUITE_FIGURES:
        assert_valid_png(suite_report / f"{name}.png")
        assert ET.parse(suite_report / f"{name}.svg").getroot().tag.endswith("svg")


def test_csv_files(suite_report):
    summary = pd.read_csv(suite_report / "summary.csv")
    assert SUMMARY_CSV_COLUMNS <= set(summary.columns) and len(summary) == 2
    assert summary["env_steps_per_s"].tolist() == [1012.5, 2000.0]  # medians of per-seed medians
    assert summary["seeds"].tolist() == [2, 2] and summary["env_steps_per_s_ci_low"].isna().all()
    trials = pd.read_csv(suite_report / "trials.csv")
    assert TRIALS_CSV_COLUMNS <= set(trials.columns) and len(trials) == 4
    assert trials["status"].eq("TERMINATED").all() and trials["restarts"].eq(0).all()


def test_report_markdown_says_what_matters(suite_report):
    report = (suite_report / "report.md").read_text()
    assert ("Fastest: num_env_runners=1, num_envs_per_env_runner=2 at 2,000 env steps/s "
            "(no interval: 2 seeds, an interval needs 3)") in report
    assert "there is no interval to tell whether the difference is real" in report
    assert "do not overlap" not in report
    assert "Bottleneck: Learning takes 70% of each iteration" in report
    assert "throughput varies 16% across repeats" in report
    assert "the fastest point reaches 4.0% of its limit" in report
    assert "Amdahl fit: not done (2 CPU count(s) measured" in report and "serial fraction" not in report
    assert "Model self-check: not done" in report
    for name in SUITE_FIGURES:
        assert f"]({name}.png)" in report


def test_report_html_is_self_contained(suite_report):
    page = (suite_report / "report.html").read_text()
    assert page.count("<img src='data:image/svg+xml;base64,") == len(SUITE_FIGURES)
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_default_out_dir_and_last_line_is_the_report(tmp_path, monkeypatch, capsys, suite_report):
    monkeypatch.chdir(tmp_path)
    assert analyze_command(str(SUITE), None) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "reports/suite_format/report.html"
    # the same report as one written to a folder given with --out: the default changes where, not what
    default = tmp_path / "reports" / "suite_format"
    for name in ("report.md", "summary.csv", "trials.csv"):
        assert (default / name).read_text() == (suite_report / name).read_text(), name


@pytest.mark.parametrize("fixture", [NEW_STACK, OLD_STACK])
def test_foreign_dirs_report_without_node_figure(fixture, tmp_path):
    assert analyze_command(str(fixture), str(tmp_path)) == 0
    written = {p.stem for p in tmp_path.glob("*.png")}
    assert written == set(FIGURES) - MODEL_FIGURES - {"throughput_by_nodes"}
    report = (tmp_path / "report.md").read_text()
    (host,) = {row["hostname"] for d in trial_dirs(fixture) for row in raw_rows(d)}  # the fixture's own
    assert f"machine unknown (host {host}) | Ray version unknown" in report
    assert "Phase times are unavailable" in report


def test_stamp_names_experiment_machine_ray_and_date():
    # Expected from the fixtures' own files: provenance.json where the suite wrote one, else the rows.
    prov = json.loads((SUITE / "scaling_study" / "provenance.json").read_text())
    assert describe_run(load_experiment(SUITE)).stamp == (
        f"suite_format | {prov['machine']['cpu_model']}, {prov['machine']['cpu_count']} cores | "
        f"Ray {prov['versions']['ray']} | {prov['started_at'][:10]}")
    rows = [row for d in trial_dirs(NEW_STACK) for row in raw_rows(d)]
    (host,) = {row["hostname"] for row in rows}
    first_day = min(row["date"] for row in rows)[:10]  # Tune's date: 2026-11-25_02-27-12
    assert describe_run(load_experiment(NEW_STACK)).stamp == (
        f"new_stack | machine unknown (host {host}) | Ray version unknown | {first_day}")


def test_plots_draw_on_a_given_ax():
    experiment = load_experiment(SUITE)
    summary = build_summary(experiment.iterations, experiment.trials, 50_000.0, grid=experiment.grid)
    for draw in (lambda ax: plots.plot_throughput_vs_runners(summary, experiment.grid, ax=ax),
                 lambda ax: plots.plot_heatmap(summary, ax=ax)):
        ax = Figure().add_subplot()
        assert draw(ax) is ax and ax.has_data()
    ax = Figure().add_subplot()
    assert plots.plot_speedup(summary, experiment.grid, AmdahlFit(0.2, 5.0), ax=ax) is ax
    ax = Figure().add_subplot()
    # one median line per point (two points, two seeds each), not one per trial
    assert plots.plot_return_vs_time(experiment.iterations, ax=ax) is ax and len(ax.lines) == 2


def test_hundred_trials_of_twenty_iterations_analyse(tmp_path, capsys):
    """How fast is a goal measured by `make bench` (analysis speed), not asserted here."""
    experiment = write_large_experiment(tmp_path / "big")
    assert analyze_command(str(experiment), str(tmp_path / "out")) == 0
    assert "loaded 100 trial(s), 2000 iteration(s)" in capsys.readouterr().out
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert len(summary) == 20 and summary["repeats"].eq(5).all()
