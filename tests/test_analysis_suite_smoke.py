"""A real run of this suite (`scaling-study sweep experiments/smoke.yaml`, committed stripped of pickles and
ray.log): the analysis reads its numbers exactly as the files hold them."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pandas as pd
import pytest

from scaling_study.analysis.command import analyze_command
from scaling_study.analysis.load import load_experiment
from scaling_study.analysis.summary import build_summary

SMOKE = Path(__file__).parent / "fixtures" / "suite_smoke"


def by_hand() -> dict[str, dict]:
    """Per point, straight from result.json: median measured env steps/s, setup, CPUs."""
    points = {}
    for result in SMOKE.glob("*/result.json"):
        rows = [json.loads(line) for line in result.read_text().splitlines()]
        measured = [r["scaling"] for r in rows if not r["scaling"]["warmup"]]
        points[rows[0]["config"]["point"]] = {
            "env_steps_per_s": statistics.median(s["env_steps"] / s["iter_s"] for s in measured),
            "setup_s": rows[0]["scaling"]["setup_s"],
            "cpus": rows[0]["scaling"]["cpus"],
        }
    return points


def test_summary_matches_the_result_files():
    experiment = load_experiment(SMOKE)
    raw = json.loads((SMOKE / "scaling_study" / "calibration.json").read_text())["steps_per_s_per_core"]
    summary = build_summary(experiment.iterations, experiment.trials, raw, grid=experiment.grid).set_index("point")
    expected = by_hand()
    assert sorted(summary.index) == sorted(expected) == ["num_env_runners=0", "num_env_runners=1"]
    for point, values in expected.items():
        row = summary.loc[point]
        assert row["env_steps_per_s"] == pytest.approx(values["env_steps_per_s"])
        assert row["setup_s"] == pytest.approx(values["setup_s"])
        assert row["cpus"] == values["cpus"]
    # Both points sample on one CPU (the main process, or the one runner): the same limit.
    assert summary["limit_env_steps_per_s"].tolist() == pytest.approx([raw, raw])
    assert experiment.provenance["versions"]["ray"] == "2.60.0"


def test_analyze_writes_the_report_of_a_real_suite_run(tmp_path, capsys):
    assert analyze_command(str(SMOKE), str(tmp_path)) == 0
    assert capsys.readouterr().out.strip().endswith("report.html")
    report = (tmp_path / "report.md").read_text()
    expected = by_hand()
    fastest = max(expected, key=lambda point: expected[point]["env_steps_per_s"])
    assert f"Fastest: {fastest} at {expected[fastest]['env_steps_per_s']:,.0f} env steps/s" in report
    assert "Physical limit" in report
    summary = pd.read_csv(tmp_path / "summary.csv").set_index("point")
    assert sorted(summary.index) == sorted(expected)
    for point, values in expected.items():
        assert summary.loc[point, "env_steps_per_s"] == pytest.approx(values["env_steps_per_s"])
    trials = pd.read_csv(tmp_path / "trials.csv")
    assert len(trials) == len(list(SMOKE.glob("*/result.json")))
    assert "throughput_vs_runners.png" in report and (tmp_path / "report.html").read_text().count("<img") >= 1
