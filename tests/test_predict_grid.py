"""`scaling-study predict RESULTS --experiment FILE [--cpus N] [--csv OUT]` and `scaling-study analyze
RESULTS --predicted CSV`, on the known-model directories of test_predict (no Ray). The expected
predictions are the hand-chosen KNOWN parameters' own; the expected ranges are worked by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from test_predict import KNOWN, setting, write_experiment

from scaling_study.analysis.extrapolation import NO_RANGE
from scaling_study.analysis.predict_grid import compared, measured_values, norm, why_not_predicted
from scaling_study.cli import main
from scaling_study.core import model

# 1, 2, 4 and 8 runners x 1, 4 envs x both modes; 0.125 CPU per runner, so 8 runners fit on the 2
# measured CPUs (1 + 8 x 0.125 = 2) and are beyond the measurements in runners only.
BIGGER = """\
name: bigger
env:
  id: FrozenLake-v1
  step_cost: {seconds: 0.002, mode: sleep}
search_space:
  num_env_runners: [1, 2, 4, 8]
  num_envs_per_env_runner: [1, 4]
  gym_env_vectorize_mode: [sync, async]
fixed:
  num_cpus_per_env_runner: 0.125
  train_batch_size_per_learner: 1000
  num_epochs: 2
"""
SETTINGS = ["num_env_runners", "num_envs_per_env_runner", "gym_env_vectorize_mode"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("predict_grid")
    (root / "bigger.yaml").write_text(BIGGER)
    return {
        "bigger": root / "bigger.yaml",
        "known": write_experiment(root / "known"),
        # every phase of the 4-runner points 1.25x the model's: the fit on 1-2 runners (exact) predicts
        # 4 runners 25% fast, one doubling past 2: 25% per doubling
        "slow4": write_experiment(root / "slow4", slower={4: 1.25}),
        "two": write_experiment(root / "two", grid=[(r, e, m) for r in (1, 2) for e in (1, 4)
                                                    for m in ("sync", "async")]),
    }


def run(capsys, *argv):
    code = main(["predict", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_every_grid_point_is_predicted_as_the_known_model_would(files, tmp_path, capsys):
    out_csv = tmp_path / "predicted.csv"
    code, out, _ = run(capsys, files["known"], "--experiment", files["bigger"], "--cpus", 8, "--csv", out_csv)
    assert code == 0
    table = pd.read_csv(out_csv)
    assert list(table.columns) == [*SETTINGS, "predicted_env_steps_per_s", "predicted_low", "predicted_high",
                                   "range_from"]
    assert len(table) == 16 and "not predicted" not in out
    for row in table.itertuples():
        truth = model.predicted_env_steps_per_s(
            setting(row.num_env_runners, row.num_envs_per_env_runner, row.gym_env_vectorize_mode, cores=8), KNOWN)
        assert row.predicted_env_steps_per_s == pytest.approx(truth, rel=5e-3), row
    # 8 CPUs are beyond the 2 measured: every range is the extrapolation check's
    assert set(table["range_from"]) == {"extrapolation check"}
    assert "bigger: 16 of 16 grid point(s) predicted on 8 CPUs" in out and f"wrote {out_csv}" in out
    assert not list(tmp_path.glob("*.tmp"))


def test_ranges_beyond_the_measurements_widen_per_doubling(files, tmp_path, capsys):
    """slow4: 25% per doubling of runners past 2 (by hand above). On 8 CPUs every point is beyond: at
    up to 4 runners the half-width is 25 x log2(4 / 2) = 25%, at 8 runners 25 x log2(8 / 2) = 50%. On the
    measured 2 CPUs, 1-4 runners are within the measurements (the leave-one-out range) and 8 is beyond: 50%."""
    for cpus, inside in ((8, set()), (None, {1, 2, 4})):
        out_csv = tmp_path / f"slow4_{cpus}.csv"
        machine = ["--cpus", cpus] if cpus else []
        assert run(capsys, files["slow4"], "--experiment", files["bigger"], *machine, "--csv", out_csv)[0] == 0
        table = pd.read_csv(out_csv)
        assert len(table) == 16
        for row in table.itertuples():
            if row.num_env_runners in inside:
                assert row.range_from == "leave-one-out"
                continue
            half = 0.25 if row.num_env_runners <= 4 else 0.50
            assert row.range_from == "extrapolation check"
            assert row.predicted_low / row.predicted_env_steps_per_s == pytest.approx(1 - half, abs=2e-3), row
            assert row.predicted_high / row.predicted_env_steps_per_s == pytest.approx(1 + half, abs=2e-3), row


def test_two_runner_counts_leave_predictions_beyond_them_without_a_range(files, tmp_path, capsys):
    out_csv = tmp_path / "two.csv"
    code, out, _ = run(capsys, files["two"], "--experiment", files["bigger"], "--csv", out_csv)
    assert code == 0
    table = pd.read_csv(out_csv)
    beyond = table[table["num_env_runners"] > 2]  # the results measured 1 and 2 runners
    assert len(beyond) == 8
    assert beyond["predicted_low"].isna().all() and beyond["predicted_high"].isna().all()
    assert set(beyond["range_from"]) == {NO_RANGE}
    assert "NaN" in out_csv.read_text()
    assert f"({NO_RANGE})" in out


def test_points_the_model_cannot_speak_for_are_listed_not_guessed(files, tmp_path, capsys):
    lr = tmp_path / "lr.yaml"
    lr.write_text(BIGGER.replace("search_space:\n", "search_space:\n  lr: [0.0003]\n"))
    code, out, err = run(capsys, files["known"], "--experiment", lr, "--csv", tmp_path / "lr.csv")
    # nothing could be predicted: the run did not do its job, so it fails and writes nothing
    assert code == 1 and not (tmp_path / "lr.csv").exists()
    assert err.strip() == (f"error: none of the 16 grid point(s) of {lr} can be predicted from {files['known']}; "
                           f"nothing written")
    refused = [line for line in out.splitlines() if line.startswith("not predicted: ")]
    assert len(refused) == 16
    assert refused[0] == ("not predicted: lr=0.0003, num_env_runners=1, num_envs_per_env_runner=1, "
                          "gym_env_vectorize_mode=sync: lr=0.0003: the model has no term for lr (measured: "
                          "lr=RLlib's default)")

    other_env = tmp_path / "cartpole.yaml"
    other_env.write_text(BIGGER.replace("FrozenLake-v1", "CartPole-v1"))
    code, out, _ = run(capsys, files["known"], "--experiment", other_env)
    assert code == 1
    assert out.count(": env CartPole-v1: the results measured FrozenLake-v1") == 16

    # 1.5 CPUs hold 1 + 4 x 0.125 but not 1 + 8 x 0.125 = 2
    code, out, _ = run(capsys, files["known"], "--experiment", files["bigger"], "--cpus", 1.5)
    assert code == 0
    assert out.count(": needs 2 CPUs, the machine has 1.5") == 4 and "12 of 16 grid point(s)" in out


def test_a_vectorize_mode_is_predicted_only_where_it_was_measured():
    measured = {"gym_env_vectorize_mode": {"sync"}, "lr": {"RLlib's default"}, "num_env_runners": {"1", "2"}}
    assert why_not_predicted({"gym_env_vectorize_mode": "sync", "num_env_runners": 16}, measured) is None
    assert why_not_predicted({"num_env_runners": 16}, measured) is None  # unset: RLlib's sync
    assert why_not_predicted({"gym_env_vectorize_mode": "async"}, measured) == (
        "gym_env_vectorize_mode=async: the model's term for it is fitted only from what was measured "
        "(gym_env_vectorize_mode=sync)")
    assert norm(1) == norm(1.0) == norm("1") == "1"
    # a step cost in the file's order and in params.json's (Tune sorts its keys) is one value
    assert norm({"seconds": 0.002, "mode": "sleep"}) == norm({"mode": "sleep", "seconds": 0.002}) == \
        "mode=sleep/seconds=0.002"
    assert norm(float("nan")) == norm(None) == "None"
    # what was measured is read from params.json as it stands, not through a display word in its key order
    measured = measured_values([{"step_cost": {"mode": "sleep", "seconds": 0.002}}])
    assert measured["step_cost"] == {compared("step_cost", {"seconds": 0.002, "mode": "sleep"})}


@pytest.mark.parametrize("argv, message", [
    (["--experiment", "{tmp}/missing.yaml"], "error: {tmp}/missing.yaml: no such experiment file"),
    (["--experiment", "{tmp}/broken.yaml"], "error: {tmp}/broken.yaml: broken YAML at line"),
    (["--experiment", "{bigger}", "--csv", "{tmp}"], "error: cannot write {tmp}:"),
    (["--csv", "{tmp}/out.csv", "--cpus", "8"], "--csv writes the predictions of --experiment FILE's grid"),
    (["--experiment", "{bigger}", "--nodes", "2"], "expected --cpus N, or --nodes K with --cpus-per-node C"),
])
def test_bad_input_is_one_line_and_exit_2(files, tmp_path, capsys, argv, message):
    (tmp_path / "broken.yaml").write_text("name: [unclosed\n")
    fill = {"tmp": tmp_path, "bigger": files["bigger"]}
    code, out, err = run(capsys, files["known"], *(a.format(**fill) for a in argv))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message.format(**fill) in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.tmp"))


def test_missing_results_are_one_line_and_exit_2(files, tmp_path, capsys):
    code, _, err = run(capsys, tmp_path / "missing", "--experiment", files["bigger"])
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_the_csv_replaces_an_old_one_whole(files, tmp_path, capsys):
    out_csv = tmp_path / "predicted.csv"
    out_csv.write_text("old\n")
    assert run(capsys, files["known"], "--experiment", files["bigger"], "--csv", out_csv)[0] == 0
    assert out_csv.read_text().startswith("num_env_runners,") and not list(tmp_path.glob("*.tmp"))


# --- analyze --predicted ---------------------------------------------------------------------------


def test_analyze_shows_the_predictions_beside_the_measurements(files, tmp_path):
    """A hand-written CSV: two points predicted 10% above the known model's value (which is what was
    measured, to the seeds' +-1% straddle), one point the results do not have."""
    rows = []
    for runners, envs, mode in ((1, 1, "sync"), (4, 4, "async")):
        truth = model.predicted_env_steps_per_s(setting(runners, envs, mode), KNOWN)
        rows.append({"num_env_runners": runners, "num_envs_per_env_runner": envs, "gym_env_vectorize_mode": mode,
                     "predicted_env_steps_per_s": 1.1 * truth, "predicted_low": math.nan,
                     "predicted_high": math.nan, "range_from": NO_RANGE})
    rows.append({**rows[0], "num_env_runners": 16})
    csv = tmp_path / "hand.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    assert main(["analyze", str(files["known"]), "--out", str(tmp_path / "out"), "--predicted", str(csv)]) == 0
    summary = pd.read_csv(tmp_path / "out" / "summary.csv")
    matched = summary[summary["predicted_from_csv_env_steps_per_s"].notna()]
    assert sorted(zip(matched["num_env_runners"], matched["num_envs_per_env_runner"],
                      matched["gym_env_vectorize_mode"], strict=True)) == [(1, 1, "sync"), (4, 4, "async")]
    assert matched["predicted_from_csv_error_pct"].tolist() == pytest.approx([10.0, 10.0], abs=0.05)
    text = (tmp_path / "out" / "report.md").read_text()
    assert (f"Predicted beside measured ({csv}): 2 of 12 measured point(s) matched on num_env_runners, "
            f"num_envs_per_env_runner, gym_env_vectorize_mode; the predictions are off by 10% (median; worst +10%).") \
        in text


@pytest.mark.parametrize("content, message", [
    (None, "no such predictions file"),
    ("num_env_runners,other\n1,2\n", "no predicted_env_steps_per_s column"),
    ("lr,predicted_env_steps_per_s\n0.1,100\n", "no setting column in common with the results"),
])
def test_analyze_refuses_a_predictions_file_it_cannot_use(files, tmp_path, capsys, content, message):
    csv = tmp_path / "p.csv"
    if content is not None:
        csv.write_text(content)
    out = tmp_path / "out"
    assert main(["analyze", str(files["known"]), "--out", str(out), "--predicted", str(csv)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and len(err.splitlines()) == 1
    assert not out.exists()  # refused before anything was written
