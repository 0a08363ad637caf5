"""The waterfall (raw limit -> bare sampler ceiling -> sampling phase -> end to end) in summary.csv and the report."""

import json

import pandas as pd
import pytest
from analysis_helpers import SUITE, copy_fixture, write_large_experiment

from scaling_study.analysis.command import analyze_command

SECTION = "## Where the env steps go"


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory):
    """A synthetic 3 x 2 grid (sync, no step cost) whose calibration knows ceilings for 1 and 2 envs per runner."""
    root = write_large_experiment(tmp_path_factory.mktemp("w") / "exp", runners=(0, 1, 2), envs=(1, 2, 4),
                                  repeats=2, iterations=20)
    suite = root / "scaling_study"
    suite.mkdir()
    (suite / "calibration.json").write_text(json.dumps({
        "env_id": "FrozenLake-v1", "steps_per_s_per_core": 20_000.0,
        "sampler_ceilings": {"configs": {"1xsync": {"env_steps_per_s_per_runner": 1000.0},
                                         "2xsync": {"env_steps_per_s_per_runner": 1500.0}}},
    }))
    out = tmp_path_factory.mktemp("out")
    assert analyze_command(str(root), str(out)) == 0
    return pd.read_csv(out / "summary.csv").set_index("point"), (out / "report.md").read_text()


def test_sampler_ceiling_is_the_calibrated_runner_rate_times_the_runners(calibrated):
    summary, _ = calibrated
    ceiling = summary["sampler_ceiling_env_steps_per_s"]
    assert ceiling["num_env_runners=0, num_envs_per_env_runner=1"] == pytest.approx(1000)  # the local runner
    assert ceiling["num_env_runners=2, num_envs_per_env_runner=1"] == pytest.approx(2000)
    assert ceiling["num_env_runners=2, num_envs_per_env_runner=2"] == pytest.approx(3000)
    assert pd.isna(ceiling["num_env_runners=1, num_envs_per_env_runner=4"])  # not calibrated


def test_sampling_rate_is_env_steps_over_sample_time(calibrated):
    summary, _ = calibrated
    # The generator's sample time: 2 s / (runners * (1 + 0.5 * sqrt(envs - 1))) for 4,000 env steps,
    # times a jitter whose median over the 19 measured iterations is exactly 1.
    for runners, envs in [(0, 1), (2, 1), (1, 4)]:
        sample_s = 2.0 / (max(runners, 1) * (1 + 0.5 * (envs - 1) ** 0.5))
        point = f"num_env_runners={runners}, num_envs_per_env_runner={envs}"
        assert summary.loc[point, "sampling_env_steps_per_s"] == pytest.approx(4000 / sample_s)


def test_report_shows_the_layers_with_their_shares(calibrated):
    _, report = calibrated
    section = report.split(SECTION, 1)[1].split("\n## ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| num_env_runners=2, num_envs_per_env_runner=1 |"))
    # raw limit 2 x 20,000 = 40,000; ceiling 2,000 (5% of it); sampling 4,000 / (2 / 2) = 4,000 (200% of
    # the ceiling: the synthetic rates need not be physical)
    assert "40,000" in row and "2,000 (5%)" in row and "4,000 (200%)" in row


def test_results_without_the_sampler_calibration_still_analyse(tmp_path):
    experiment = copy_fixture(SUITE, tmp_path)
    assert analyze_command(str(experiment), str(tmp_path / "out")) == 0
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary["sampler_ceiling_env_steps_per_s"].isna().all()
    assert SECTION not in (tmp_path / "out" / "report.md").read_text()
