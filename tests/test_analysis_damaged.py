"""Bad and partial input: one clear line, exit 2 when nothing can be analysed, else one warning per problem."""

import json
import shutil

import numpy as np
import pytest
from analysis_helpers import (
    NEW_STACK,
    SUITE,
    copy_fixture,
    rllib_rate,
    rows_by_runners,
    set_trial_status,
    trial_dirs,
)

from scaling_study.analysis.command import analyze_command
from scaling_study.analysis.findings import find
from scaling_study.analysis.load import load_experiment
from scaling_study.analysis.summary import build_summary


def run(results, out, capsys):
    code = analyze_command(str(results), str(out))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def warning_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_missing_path_is_one_line_and_exit_2(tmp_path, capsys):
    code, out, err = run(tmp_path / "nope", tmp_path / "out", capsys)
    assert code == 2 and err == f"error: {tmp_path / 'nope'}: no such directory\n"
    assert "Traceback" not in out + err and not (tmp_path / "out").exists()


def test_dir_without_trials_exits_2(tmp_path, capsys):
    (tmp_path / "empty" / "some_dir").mkdir(parents=True)
    code, _, err = run(tmp_path / "empty", tmp_path / "out", capsys)
    assert code == 2 and err.count("\n") == 1 and "no Tune trials found" in err


def test_non_rllib_trials_exit_2(tmp_path, capsys):
    experiment = tmp_path / "plain_tune"
    for index in range(2):
        trial = experiment / f"train_fn_{index}"
        trial.mkdir(parents=True)
        (trial / "params.json").write_text(json.dumps({"lr": 0.1 * index}))
        rows = [{"training_iteration": i, "loss": 1.0 / i, "time_this_iter_s": 0.1} for i in (1, 2)]
        (trial / "result.json").write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, _, err = run(experiment, tmp_path / "out", capsys)
    assert code == 2
    assert err.strip().splitlines() == [f"error: {experiment}: no RLlib trials (none of its 2 trials reports "
                                        f"env steps sampled)"]


def test_truncated_last_line_keeps_the_good_rows(tmp_path, capsys):
    experiment = copy_fixture(SUITE, tmp_path)
    result = trial_dirs(experiment)[0] / "result.json"
    text = result.read_text()
    result.write_text(text[: len(text) - 40])  # cut into the last row
    loaded = load_experiment(experiment)
    assert len(loaded.iterations) == 11
    assert len(loaded.warnings) == 1 and "unreadable last line" in loaded.warnings[0]
    code, _, err = run(experiment, tmp_path / "out", capsys)
    assert code == 0
    assert [w for w in warning_lines(err) if "result.json" in w] == [f"warning: {loaded.warnings[0]}"]


def damage_each_way(experiment):
    """Four trials, four kinds of damage: empty result.json (progress.csv too), no params.json,
    a trial directory with no results at all, and one left intact."""
    empty, no_params, no_results, intact = trial_dirs(experiment)
    (empty / "result.json").write_text("")
    (empty / "progress.csv").unlink()
    (no_params / "params.json").unlink()
    for name in ("result.json", "progress.csv"):
        (no_results / name).unlink()
    return empty, no_params, no_results, intact


def test_each_damaged_trial_gives_one_warning_and_the_rest_is_reported(tmp_path, capsys):
    experiment = copy_fixture(SUITE, tmp_path)
    empty, no_params, no_results, intact = damage_each_way(experiment)
    loaded = load_experiment(experiment)
    assert sorted(w.split(":")[0] for w in loaded.warnings) == sorted([empty.name, no_params.name, no_results.name])
    assert set(loaded.iterations["trial"]) == {intact.name}
    code, out, err = run(experiment, tmp_path / "out", capsys)
    assert code == 0 and "Traceback" not in err
    skipped = [w for w in warning_lines(err) if "skipped" in w]
    assert len(skipped) == 3
    trials = (tmp_path / "out" / "trials.csv").read_text()
    assert trials.count("\n") == 5  # header + all four trials, skipped ones included


def test_empty_result_json_falls_back_to_progress_csv(tmp_path):
    experiment = copy_fixture(SUITE, tmp_path)
    (trial_dirs(experiment)[0] / "result.json").write_text("")
    loaded = load_experiment(experiment)
    assert len(loaded.iterations) == 12 and len(loaded.warnings) == 1
    assert "read progress.csv instead" in loaded.warnings[0]
    first = loaded.iterations[loaded.iterations["trial"] == trial_dirs(experiment)[0].name]
    # the flattened scaling/* columns give the same numbers as result.json
    assert first.sort_values("iteration")["env_steps_per_s"].tolist() == [500.0, 1000.0, 1250.0]
    assert first["warmup"].tolist() == [True, False, False] and first["nodes"].tolist() == [1, 1, 1]


def test_all_trials_damaged_exits_2(tmp_path, capsys):
    experiment = copy_fixture(NEW_STACK, tmp_path)
    for trial in trial_dirs(experiment):
        (trial / "result.json").write_text("{not json\n")
        (trial / "progress.csv").unlink()
    code, _, err = run(experiment, tmp_path / "out", capsys)
    assert code == 2 and "none of its 2 trials has results" in err.splitlines()[-1]


def test_checkpoints_and_pickles_left_behind_are_ignored(tmp_path):
    experiment = copy_fixture(NEW_STACK, tmp_path)
    (experiment / "tuner.pkl").write_bytes(b"\x80\x05junk")
    for trial in trial_dirs(experiment):
        checkpoint = trial / "checkpoint_000000"
        checkpoint.mkdir()
        (checkpoint / "algorithm_state.pkl").write_bytes(b"\x80\x05junk")
        (checkpoint / "rllib_checkpoint.json").write_text("{}")
        (trial / "events.out.tfevents.1.vm").write_bytes(b"junk")
    (experiment / "checkpoint_tmp123").mkdir()
    loaded = load_experiment(experiment)
    assert loaded.warnings == []
    # every row of the fixture, as its own files give it: nothing lost, nothing read from the leftovers
    expected = sorted(rllib_rate(row) for rows in rows_by_runners(NEW_STACK).values() for row in rows)
    assert len(expected) == 4
    assert sorted(loaded.iterations["env_steps_per_s"]) == pytest.approx(expected)


def test_errored_and_running_trials_are_warned_about(tmp_path):
    experiment = copy_fixture(NEW_STACK, tmp_path)
    first, second = trial_dirs(experiment)
    set_trial_status(experiment, first, "RUNNING")
    set_trial_status(experiment, second, "ERROR")
    (second / "error.txt").write_text("Traceback (most recent call last):\n  ...\nValueError: boom\n")
    loaded = load_experiment(experiment)
    trials = loaded.trials.set_index("trial")
    assert trials.loc[first.name, "status"] == "RUNNING" and not trials.loc[first.name, "errored"]
    assert trials.loc[second.name, "errored"] and trials.loc[second.name, "error"] == "ValueError: boom"
    warnings = find(loaded, build_summary(loaded.iterations, loaded.trials, grid=loaded.grid)).warnings
    assert any("errored: ValueError: boom" in w for w in warnings)
    assert any("was still RUNNING" in w for w in warnings)


def test_error_txt_without_experiment_state_marks_the_trial_errored(tmp_path):
    experiment = copy_fixture(NEW_STACK, tmp_path)
    next(experiment.glob("experiment_state-*.json")).unlink()
    (trial_dirs(experiment)[1] / "error.txt").write_text("RuntimeError: env runner died\n")
    trials = load_experiment(experiment).trials
    assert trials["status"].tolist() == ["UNKNOWN", "ERROR"]
    assert trials["errored"].tolist() == [False, True]


def shift_trial_times(trial, seconds, node_id=None):
    rows = [json.loads(line) for line in (trial / "result.json").read_text().splitlines()]
    for row in rows:
        row["scaling"]["trial_started_at"] += seconds
        row["scaling"]["iter_ended_at"] += seconds
        if node_id:
            row["scaling"]["node_ids"] = [node_id]
    (trial / "result.json").write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.parametrize("node, shared", [("node-a", True), ("node-b", False)])
def test_trials_overlapping_in_time_and_sharing_a_node(tmp_path, node, shared):
    experiment = copy_fixture(SUITE, tmp_path)
    first, second = trial_dirs(experiment)[:2]
    shift_trial_times(second, -15.0, node_id=node)  # second now starts 0.8 s into the first
    loaded = load_experiment(experiment)
    warnings = find(loaded, build_summary(loaded.iterations, loaded.trials, grid=loaded.grid)).warnings
    overlap = [w for w in warnings if "overlapped in time" in w]
    assert len(overlap) == 1 and "abcde_00000 and abcde_00001" in overlap[0]
    assert any("shared a node" in w for w in warnings) is shared


def test_oversubscription_is_warned_about(tmp_path):
    experiment = copy_fixture(SUITE, tmp_path)
    provenance_file = experiment / "scaling_study" / "provenance.json"
    provenance = json.loads(provenance_file.read_text())
    provenance["cluster"].update(oversubscribed=True, logical_cpus=1.0)
    provenance_file.write_text(json.dumps(provenance))
    loaded = load_experiment(experiment)
    warnings = find(loaded, build_summary(loaded.iterations, loaded.trials, grid=loaded.grid)).warnings
    assert any(w.startswith("CPUs were oversubscribed") for w in warnings)
    assert any("2 trial(s) reserved more CPUs (2) than the 1 available" in w for w in warnings)


def test_missing_suite_files_are_tolerated(tmp_path, capsys):
    experiment = copy_fixture(SUITE, tmp_path)
    shutil.rmtree(experiment / "scaling_study")
    code, _, _ = run(experiment, tmp_path / "out", capsys)
    assert code == 0
    report = (tmp_path / "out" / "report.md").read_text()
    assert "machine unknown" in report and "Physical limit: unknown" in report


def test_only_warmup_iterations_exits_2(tmp_path, capsys):
    experiment = copy_fixture(SUITE, tmp_path)
    for trial in trial_dirs(experiment):
        result = trial / "result.json"
        result.write_text(result.read_text().replace('"warmup": false', '"warmup": true'))
    code, _, err = run(experiment, tmp_path / "out", capsys)
    assert code == 2 and err.strip().splitlines()[-1].endswith("no measured iterations (every iteration is "
                                                               "warmup or has no throughput)")
    assert "Traceback" not in err


@pytest.mark.parametrize("node, warned", [("node-a", True), ("node-b", False)])
def test_a_node_exclusive_sweep_is_warned_only_about_trials_that_shared_a_node(tmp_path, node, warned):
    # Side by side on different nodes is what a node-exclusive sweep does; on one node it went wrong.
    experiment = copy_fixture(SUITE, tmp_path)
    provenance_file = experiment / "scaling_study" / "provenance.json"
    provenance = json.loads(provenance_file.read_text())
    provenance["concurrency"] = {"trials_at_once": 2, "node_cpus": 1.0, "node_exclusive": True, "why": "test"}
    provenance_file.write_text(json.dumps(provenance))
    first, second = trial_dirs(experiment)[:2]  # both on node-a
    shift_trial_times(second, -15.0, node_id=node)
    loaded = load_experiment(experiment)
    warnings = find(loaded, build_summary(loaded.iterations, loaded.trials, grid=loaded.grid)).warnings
    assert any("overlapped in time" in w for w in warnings) is warned
    assert any("shared a node" in w for w in warnings) is warned


# --- Damaged suite files: the experiment's own provenance.json, calibration.json, and odd row values ----


@pytest.mark.parametrize("name, unknown", [("provenance.json", "machine unknown"),
                                           ("calibration.json", "Physical limit: unknown")])
@pytest.mark.parametrize("damage", ["{not json", "", "[1, 2]"])
def test_a_corrupt_suite_file_is_warned_about_and_treated_as_absent(tmp_path, capsys, name, unknown, damage):
    experiment = copy_fixture(SUITE, tmp_path)
    (experiment / "scaling_study" / name).write_text(damage)
    loaded = load_experiment(experiment)
    assert [w for w in loaded.warnings if name in w] == [f"scaling_study/{name}: unreadable (not a JSON object); "
                                                         f"ignored"]
    code, _, err = run(experiment, tmp_path / "out", capsys)
    assert code == 0 and "Traceback" not in err
    assert f"warning: scaling_study/{name}: unreadable" in err
    assert unknown in (tmp_path / "out" / "report.md").read_text()


def rewrite_rows(trial, change):
    rows = [json.loads(line) for line in (trial / "result.json").read_text().splitlines()]
    for row in rows:
        change(row)
    (trial / "result.json").write_text("".join(json.dumps(r) + "\n" for r in rows))  # NaN as JSON's NaN


@pytest.mark.parametrize("iter_s, rate", [(0.0, float("nan")), (float("nan"), float("nan")), (0.0, 1250.0)])
def test_an_iteration_without_a_usable_time_or_rate_is_left_out(tmp_path, capsys, iter_s, rate):
    """Iteration 3 of abcde_00000 (1250 steps/s, fixtures/README.md) with iter_s 0 or NaN (its rate NaN, or
    left at 1250 beside a zero time): it is not a measurement, so A's first seed is its iteration 2 alone
    (1000), and A = median(1000, 900) = 950."""
    experiment = copy_fixture(SUITE, tmp_path)
    first = trial_dirs(experiment)[0]

    def damage(row):
        if row["training_iteration"] == 3:
            row["time_this_iter_s"] = iter_s
            row["scaling"].update(iter_s=iter_s, env_steps_per_s=rate)
    rewrite_rows(first, damage)
    loaded = load_experiment(experiment)
    assert len(loaded.iterations) == 11
    summary = build_summary(loaded.iterations, loaded.trials, grid=loaded.grid).set_index("point")
    assert summary.loc["num_env_runners=0, num_envs_per_env_runner=1", "env_steps_per_s"] == 950.0
    code, _, err = run(experiment, tmp_path / "out", capsys)
    assert code == 0 and "Traceback" not in err
    assert "nan" not in (tmp_path / "out" / "report.md").read_text().lower()


def test_a_nan_phase_time_does_not_reach_the_shares(tmp_path, capsys):
    """A NaN sample_s in one measured row: the shares come from the rows that have all phases."""
    experiment = copy_fixture(SUITE, tmp_path)
    first = trial_dirs(experiment)[0]
    rewrite_rows(first, lambda row: row["scaling"].update(sample_s=float("nan"))
                 if row["training_iteration"] == 2 else None)
    loaded = load_experiment(experiment)
    summary = build_summary(loaded.iterations, loaded.trials, grid=loaded.grid).set_index("point")
    shares = summary.loc["num_env_runners=0, num_envs_per_env_runner=1",
                         ["sample_share", "learn_share", "sync_share", "other_share"]]
    assert np.isfinite(shares).all() and shares.sum() == pytest.approx(1.0)
    code, _, err = run(experiment, tmp_path / "out", capsys)
    assert code == 0 and "Traceback" not in err


def test_a_ledger_line_without_trial_index_or_trial_dir_is_skipped_with_one_warning(tmp_path):
    """The ledger's one reader (core/layout.py), for the analysis and the sweep alike: a line without
    trial_index (no writer of the suite writes one) or without trial_dir is damaged, skipped, and said."""
    from scaling_study.core import layout

    experiment = copy_fixture(SUITE, tmp_path)
    first, second = (d.name for d in trial_dirs(experiment)[:2])
    (experiment / "scaling_study" / "finished.jsonl").write_text(
        json.dumps({"trial_dir": first}) + "\n" + json.dumps({"trial_index": 1}) + "\n"
        + json.dumps({"trial_index": 2, "trial_dir": second}) + "\n")
    ledger = layout.read_ledger(experiment)
    assert set(ledger.by_dir()) == {second}
    assert ledger.warnings == ["finished.jsonl: skipped 2 damaged line(s) (line(s) 1, 2: cut short, or without "
                               "a trial_index or trial_dir)"]
    assert len(load_experiment(experiment).iterations) == 12


def test_the_sweeps_ledger_reader_skips_a_line_without_trial_index(tmp_path):
    from scaling_study.run.ledger import finished_trials

    (tmp_path / "scaling_study").mkdir()
    (tmp_path / "scaling_study" / "finished.jsonl").write_text(
        json.dumps({"trial_dir": "a"}) + "\n" + json.dumps({"trial_index": 1, "trial_dir": "b"}) + "\n")
    assert finished_trials(tmp_path) == {1: "b"}


def test_a_missing_rate_beside_a_usable_time_is_worked_out_from_the_steps(tmp_path):
    """Iteration 3 of abcde_00000 with its rate NaN but iter_s 0.8: 1000 / 0.8 = 1250, A stays 1012.5."""
    experiment = copy_fixture(SUITE, tmp_path)
    rewrite_rows(trial_dirs(experiment)[0], lambda row: row["scaling"].update(env_steps_per_s=float("nan"))
                 if row["training_iteration"] == 3 else None)
    loaded = load_experiment(experiment)
    summary = build_summary(loaded.iterations, loaded.trials, grid=loaded.grid).set_index("point")
    assert summary.loc["num_env_runners=0, num_envs_per_env_runner=1", "env_steps_per_s"] == 1012.5
