"""The extrapolation check (analysis/extrapolation.py): the model fitted on fewer runners predicts the
points with more, and those errors give the range of every prediction beyond the measurements. Every
expected number is worked by hand in the test."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from test_predict import write_experiment

from scaling_study.analysis.command import analyze_command
from scaling_study.analysis.extrapolation import (
    NO_RANGE,
    check_sentence,
    error_per_doubling,
    extrapolation_check,
    extrapolation_range,
    half_width_pct,
    split_counts,
)
from scaling_study.cli import main
from scaling_study.core import model


def test_the_smaller_half_of_the_runner_counts_is_fitted_at_least_two():
    assert split_counts([0, 1, 2]) == ([0, 1], [2])          # 3 // 2 = 1, raised to 2
    assert split_counts([2, 0, 1, 4, 1, 0]) == ([0, 1], [2, 4])  # distinct counts, sorted
    assert split_counts([0, 1, 2, 4, 8]) == ([0, 1], [2, 4, 8])
    assert split_counts([1, 2, 4, 8, 16, 32]) == ([1, 2, 4], [8, 16, 32])
    assert split_counts([1, 2, 2, 1]) is None                # 2 counts: nothing beyond a 2-count fit
    assert split_counts([4]) is None


def test_the_error_per_doubling_is_the_worst_over_the_held_out_points():
    # past a fit up to 2 runners: 4 runners is 1 doubling (+10% -> 10 per doubling), 8 is 2 (-30% -> 15)
    assert error_per_doubling([4, 8], [10.0, -30.0], 2) == pytest.approx(15.0)
    # 3 runners past 1: log2(3) = 1.585 doublings, 20% -> 12.62% per doubling
    assert error_per_doubling([3], [20.0], 1) == pytest.approx(20.0 / 1.5849625, rel=1e-6)
    assert math.isnan(error_per_doubling([4], [float("nan")], 2))  # no measured held-out point: no rate


def test_the_range_widens_per_doubling_past_the_fit_and_never_narrows_below_the_measured():
    # 15% per doubling, fitted up to 2 runners, measured up to 8
    assert half_width_pct(15.0, 16, 8, 2) == pytest.approx(45.0)   # log2(16 / 2) = 3 doublings
    assert half_width_pct(15.0, 8, 8, 2) == pytest.approx(30.0)    # at the largest measured: 2
    assert half_width_pct(15.0, 1, 8, 2) == pytest.approx(30.0)    # fewer runners, bigger machine: still 2
    assert half_width_pct(15.0, 32, 8, 2) == pytest.approx(60.0)   # each doubling adds 15
    assert extrapolation_range(1000.0, 15.0, 16, 8, 2) == pytest.approx((550.0, 1450.0))
    assert extrapolation_range(1000.0, 40.0, 16, 8, 2) == pytest.approx((0.0, 2200.0))  # 120%: low clipped at 0


# Hand-chosen parameters the fit can recover from two runner counts of one env each (only `a` is free
# in sampling): a vector step is a + env step = 1 ms + 1 ms with cores to spare, 1,000 env steps an
# iteration, learning 1e-4 s x 1,000 = 0.1 s, weight sync 0.1 s, nothing else.
PARAMS = model.Params(a=1e-3, learn=1e-4, sync0=0.1)


def configuration(runners):
    return model.Configuration(runners=runners, envs=1, env_step_s=1e-3, batch=1000, cores=64)


def rows_and_measured():
    """A row per point (one trial each) with the model's phases; measured env steps/s: the model's at 1
    and 2 runners, and at 4 and 8 runners a value the model overshoots by 10% and undershoots by 30%."""
    rows, measured = [], {}
    # iteration seconds by hand: 1000 / runners x 2 ms sampling + 0.1 learning + 0.1 sync
    iteration = {1: 2.2, 2: 1.2, 4: 0.7, 8: 0.45}
    for runners, seconds in iteration.items():
        s = configuration(runners)
        rows.append({"point": f"r{runners}", "configuration": s, "sample_s": 2.0 / runners, "learn_s": 0.1,
                     "sync_s": 0.1, "other_s": 0.0})
        measured[f"r{runners}"] = 1000.0 / seconds
    measured["r4"] = (1000.0 / 0.7) / 1.10   # predicted 1,428.6 is +10% of this
    measured["r8"] = (1000.0 / 0.45) / 0.70  # predicted 2,222.2 is -30% of this
    return pd.DataFrame(rows), pd.Series(measured)


def test_the_check_fits_on_fewer_runners_and_predicts_the_rest():
    rows, measured = rows_and_measured()
    check = extrapolation_check(rows, measured)
    assert (check.fitted_counts, check.predicted_counts) == ([1, 2], [4, 8])
    assert check.predicted["r4"] == pytest.approx(1000.0 / 0.7, rel=1e-4)
    assert check.predicted["r8"] == pytest.approx(1000.0 / 0.45, rel=1e-4)
    assert check.error_pct["r4"] == pytest.approx(10.0, abs=0.01)
    assert check.error_pct["r8"] == pytest.approx(-30.0, abs=0.01)
    assert check.per_doubling_pct == pytest.approx(15.0, abs=0.01)   # 10 / 1 and 30 / 2
    # a prediction of 3,000 at 16 runners: 3 doublings past 2 -> +-45%
    low, high = check.range(3000.0, 16)
    assert (low, high) == pytest.approx((1650.0, 4350.0), rel=1e-3)
    assert check_sentence(check, 4).startswith(
        "Extrapolation check: fitted on 1-2 runners, predicted 4-8: errors 4 runners +10%; 8 runners -30% "
        "(worst 15.0% per doubling of runners past 2;")


def test_two_runner_counts_give_no_check():
    rows, measured = rows_and_measured()
    two = rows[rows["point"].isin(["r1", "r2"])]
    assert extrapolation_check(two, measured) is None
    assert "not done (needs 3 or more runner counts; 2 measured)" in check_sentence(None, 2)


@pytest.fixture(scope="module")
def two_counts(tmp_path_factory):
    """The known-model directory of test_predict, on 1 and 2 runners only (8 points)."""
    grid = [(r, e, mode) for r in (1, 2) for e in (1, 4) for mode in ("sync", "async")]
    return write_experiment(tmp_path_factory.mktemp("two_counts") / "known", grid=grid)


def test_a_sweep_with_two_runner_counts_gives_predictions_beyond_it_no_range(two_counts, tmp_path, capsys):
    assert analyze_command(str(two_counts), str(tmp_path / "out")) == 0
    text = (tmp_path / "out" / "report.md").read_text()
    assert "Extrapolation check: not done (needs 3 or more runner counts; 2 measured)" in text
    assert "for 8 CPUs: fastest" in text and f"env steps/s ({NO_RANGE})" in text
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert summary["extrapolation_error_pct"].isna().all()
    capsys.readouterr()
    assert main(["predict", str(two_counts), "--cpus", "8"]) == 0
    out = capsys.readouterr().out
    table = [line for line in out.splitlines() if line.startswith("  ") and "env runner(s)" in line]
    assert table and all(line.endswith("(no range)") for line in table)
    assert f"  ({NO_RANGE})" in out


def test_summary_and_report_give_the_held_out_errors(tmp_path):
    """The 12-point known-model directory: runners 1, 2, 4, so the fit is on 1-2 and 4 is held out;
    its phases are the model's (seeds +-1%), so the out-of-sample errors are ~0."""
    known = write_experiment(tmp_path / "known")
    assert analyze_command(str(known), str(tmp_path / "out")) == 0
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    held_out = summary["num_env_runners"] == 4
    assert summary.loc[~held_out, "extrapolation_error_pct"].isna().all()
    assert summary.loc[held_out, "extrapolation_error_pct"].notna().all()
    assert summary.loc[held_out, "extrapolation_error_pct"].abs().max() < 0.5
    text = (tmp_path / "out" / "report.md").read_text()
    assert "Extrapolation check: fitted on 1-2 runners, predicted 4: errors 4 runners " in text
    assert "from the extrapolation check" in text


def test_the_report_gives_the_held_out_errors_and_the_ranges_they_make(tmp_path):
    """Every phase of the 4-runner points 1.25x the model's: the fit on 1-2 runners (the model's own
    phases) predicts them 1.25x too fast, +25%, one doubling past 2 runners: 25% per doubling. The best
    setting on 8 CPUs is then +-25 x log2(runners / 2) percent around its value."""
    slow = write_experiment(tmp_path / "slow4", slower={4: 1.25})
    assert analyze_command(str(slow), str(tmp_path / "out")) == 0
    text = (tmp_path / "out" / "report.md").read_text()
    assert ("Extrapolation check: fitted on 1-2 runners, predicted 4: errors 4 runners +25%, +25%, +25%, +25% "
            "(worst 25.0% per doubling of runners past 2;") in text
    line = next(line for line in text.splitlines() if "Prediction (model, not measured) for 8 CPUs" in line)
    runners = int(line.split("fastest ")[1].split(" env runner(s)")[0])
    value = float(line.split("about ")[1].split(" env steps/s")[0].replace(",", ""))
    low, high = (float(v.replace(",", "")) for v in line.split("(range ")[1].split(" from")[0].split("-"))
    half = 0.25 * math.log2(max(runners, 4) / 2)
    assert low == pytest.approx(value * (1 - half), abs=1.0) and high == pytest.approx(value * (1 + half), abs=1.0)
    assert "from the extrapolation check, 25.0% per doubling of runners past 2" in line
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    errors = summary.loc[summary["num_env_runners"] == 4, "extrapolation_error_pct"]
    assert errors.tolist() == pytest.approx([25.0] * 4, abs=0.1)
