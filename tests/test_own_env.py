"""An env of your own, swept like FrozenLake: imported from its module in the driver and every worker,
its trials named by their settings, TensorBoard, W&B (offline) and MLflow (local files) fed scaling/*,
and a resumed experiment analysed with every trial's true status and id.

One real sweep of examples/envs/corridor.py is shared by the Ray tests here: two trials, then one of
them is struck from the ledger (as if the driver had been killed before it finished) and the same
command resumes the experiment, running that trial again in a second Tune session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ray_processes import REPO, own_ray_temp_dir, run_captured

from scaling_study.core import env_imports
from scaling_study.core.spec import SpecError, parse_spec

CORRIDOR = "examples.envs.corridor:Corridor-v0"
SCALING_CLI = str(Path(sys.executable).parent / "scaling-study")  # the console script, as a user runs it
SMALL = {
    "name": "corridor",
    "env": {"id": CORRIDOR, "config": {"latency_s": 0.0005}},
    "search_space": {"num_env_runners": [0, 1]},
    "fixed": {"train_batch_size_per_learner": 400, "minibatch_size": 100, "num_epochs": 1, "fcnet_hiddens": [16]},
    "stop": {"training_iteration": 3},
}


def run_cli(args: list[str], cwd: Path, timeout: int, **env: str) -> subprocess.CompletedProcess:
    return run_captured([SCALING_CLI, *args], timeout_s=timeout, cwd=cwd, env={**os.environ, **env})


def trial_dirs(exp_dir: Path) -> list[Path]:
    return sorted(p for p in exp_dir.iterdir() if (p / "params.json").exists())


def rows_of(trial_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (trial_dir / "result.json").read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------- before Ray starts (no Ray)


def test_a_module_env_id_is_imported_and_found():
    spec = parse_spec({**SMALL, "env": {"id": CORRIDOR}})
    assert spec.env_id == CORRIDOR and "Corridor-v0" in __import__("gymnasium").envs.registry


@pytest.mark.parametrize("env, message", [
    ({"id": "no_such_pkg.envs:Corridor-v0"}, "env.id: cannot import 'no_such_pkg.envs' (No module named 'no_such_pkg')"),
    ({"id": "Corridor-v9", "import": ["examples.envs.corridor"]},
     "env.id: gymnasium does not know 'Corridor-v9' after importing examples.envs.corridor (did you mean Corridor-v0?)"),
    ({"id": "Corridor-v0", "import": ["examples.envs.nothing_here"]}, "env.import: cannot import 'examples.envs.nothing_here'"),
    ({"id": "Corridor-v0", "import": [3]}, "env.import: expected a list of Python module names"),
])
def test_env_import_mistakes_are_one_line_and_exit_2(tmp_path, env, message):
    experiment = tmp_path / "bad.yaml"
    experiment.write_text(yaml.safe_dump({**SMALL, "env": env}))
    done = run_cli(["validate", str(experiment)], cwd=REPO, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_an_observation_space_rllib_cannot_take_is_refused_before_ray_starts(tmp_path):
    (tmp_path / "talking_env.py").write_text(
        "import gymnasium as gym\n"
        "class Talk(gym.Env):\n"
        "    observation_space = gym.spaces.Dict({'words': gym.spaces.Text(8), 'x': gym.spaces.Discrete(2)})\n"
        "    action_space = gym.spaces.Discrete(2)\n"
        "gym.register(id='Talk-v0', entry_point=Talk)\n"
    )
    experiment = tmp_path / "talk.yaml"
    experiment.write_text(yaml.safe_dump({**SMALL, "env": {"id": "talking_env:Talk-v0"}}))
    done = run_cli(["sweep", str(experiment), "--storage-path", str(tmp_path / "results")], cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "env.id: observation space Text" in done.stderr and "gymnasium.ObservationWrapper" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "results").exists()


def test_your_own_modules_are_shipped_to_workers_and_installed_ones_are_not():
    import gymnasium.envs.toy_text.frozen_lake as installed

    own = env_imports.import_in_driver(["examples.envs.corridor"])
    assert env_imports.runtime_env(own) == {"py_modules": [str(REPO / "examples")]}
    assert env_imports.runtime_env([installed]) is None


@pytest.mark.parametrize("tracking, message", [
    ({"neptune": {}}, "tracking.neptune: unknown tracker; expected one of tensorboard, wandb, mlflow"),
    ({"tensorboard": "yes"}, "tracking.tensorboard: expected true or false"),
    ({"mlflow": {"uri": "x"}}, "tracking.mlflow.uri: unknown option"),
    ({"wandb": ["project"]}, "tracking.wandb: expected true or a mapping"),
    ({"wandb": {"api_key": "k"}}, "tracking.wandb.api_key: keep secrets out of experiment files"),
])
def test_tracking_mistakes_are_one_line(tracking, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_spec({**SMALL, "tracking": tracking})


def test_mlflow_options_are_those_of_tunes_callback():
    import inspect

    from ray.air.integrations.mlflow import MLflowLoggerCallback

    from scaling_study.core.tracking_spec import MLFLOW_KEYS

    assert set(MLFLOW_KEYS) == set(inspect.signature(MLflowLoggerCallback).parameters)


def test_where_results_are_sent_is_not_part_of_the_experiment(tmp_path):
    from scaling_study.run.resume import _same_experiment

    stored = parse_spec({**SMALL}).to_dict()
    assert _same_experiment(json.loads(json.dumps(stored)), parse_spec({**SMALL, "tracking": {"tensorboard": False}}))


def test_tensorboard_gets_numbers_and_keeps_its_groups():
    from scaling_study.run.tracking import scalars_only

    row = {"scaling": {"env_steps_per_s": 812.5, "warmup": False, "node_ids": ["a", "b"], "nodes": 1},
           "env_runners": {"episode_return_mean": 0.2}, "hostname": "h", "training_iteration": 3}
    assert scalars_only(row) == {"scaling": {"env_steps_per_s": 812.5, "warmup": False, "nodes": 1},
                                 "env_runners": {"episode_return_mean": 0.2}, "training_iteration": 3}


def test_trial_names_say_the_settings():
    from types import SimpleNamespace

    from scaling_study.core.trial_names import TrialNames, settings_words

    params = {"point": "num_env_runners=2, num_envs_per_env_runner=4, step_cost=0.002/sleep", "repeat": 1}
    assert settings_words(params) == "runners=2_envs=4_step_cost=0.002-sleep"
    # Tune names a trial before it resolves sample_from values: only trial_index is real then.
    trial = SimpleNamespace(config={"trial_index": 0, "point": ("__fn_ph", "77a5a218")}, trial_id="b657d_00000")
    assert TrialNames([params]).dirname(trial) == "runners=2_envs=4_step_cost=0.002-sleep_rep1_b657d_00000"


# ---------------------------------------------------------------- one real sweep, resumed (Ray)


@pytest.mark.ray
@pytest.mark.timeout(180)
def test_a_worker_that_cannot_see_the_source_imports_ray_s_copy(tmp_path, monkeypatch, ray_tmp):
    """As on a cluster node without this checkout: the worker's directory holds no `examples`, yet the
    env module imports there, from the py_modules package Ray shipped, and registers its env."""
    import ray

    monkeypatch.chdir(tmp_path)  # Ray puts the driver's current directory on its workers' path
    monkeypatch.syspath_prepend(str(REPO))  # the driver alone sees the checkout
    runtime = env_imports.runtime_env(env_imports.import_in_driver(["examples.envs.corridor"]))

    @ray.remote(num_cpus=1)
    def where_the_env_comes_from() -> tuple[str, str]:
        import gymnasium

        from scaling_study.run.envs import make_env

        env = make_env({"id": "Corridor-v0", "imports": ["examples.envs.corridor"]})
        space = str(env.observation_space)
        env.close()
        return sys.modules["examples.envs.corridor"].__file__, space + str("Corridor-v0" in gymnasium.envs.registry)

    ray.init(num_cpus=1, include_dashboard=False, _node_ip_address="127.0.0.1", runtime_env=runtime)
    file, space = ray.get(where_the_env_comes_from.remote(), timeout=120)
    assert not file.startswith(str(REPO)) and "py_modules_files" in file, file
    assert space.startswith("Dict('cell': Discrete(16)") and space.endswith("True")


@pytest.fixture(scope="module")
def corridor_sweep(tmp_path_factory):
    """The corridor swept with the two commands a user types, W&B offline and MLflow in local files;
    then resumed after one trial is struck from the ledger. Returns (exp_dir, tmp, the first ledger)."""
    tmp = tmp_path_factory.mktemp("own_env")
    experiment = tmp / "corridor.yaml"
    mlruns = tmp / "mlruns"
    experiment.write_text(yaml.safe_dump({**SMALL, "tracking": {
        "wandb": {"mode": "offline"}, "mlflow": {"tracking_uri": mlruns.as_uri()}}}))
    command = ["sweep", str(experiment), "--storage-path", str(tmp / "results"), "--no-analyze"]
    # MLflow 3 keeps its file store only on request; a local file store keeps this test off the network.
    env = {"MLFLOW_ALLOW_FILE_STORE": "true", "WANDB_SILENT": "true"}
    exp_dir = tmp / "results" / "corridor"
    with own_ray_temp_dir():
        # 400 s each: both inside the tests' 900 s pytest-timeout, so a hang fails with its output.
        first = run_cli(command, cwd=REPO, timeout=400, **env)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        (tmp / "first_sweep_stdout.txt").write_text(first.stdout)  # a piped sweep's progress: test_progress.py
        ledger = exp_dir / "scaling_study" / "finished.jsonl"
        lines = ledger.read_text().splitlines()
        ledger.write_text(lines[0] + "\n")  # the second trial "did not finish"
        second = run_cli(command, cwd=REPO, timeout=400, **env)
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "1 of 2 trials already finished; running the other 1." in second.stdout
    return exp_dir, tmp, [json.loads(line) for line in lines]



@pytest.mark.ray
@pytest.mark.timeout(900)  # the shared fixture runs two sweeps: about 3 minutes here
def test_the_own_env_trials_ran_and_carry_the_scaling_contract(corridor_sweep):
    exp_dir, _, _ = corridor_sweep
    dirs = trial_dirs(exp_dir)
    assert len(dirs) == 2
    for trial in dirs:
        assert json.loads((trial / "params.json").read_text())["env_id"] == CORRIDOR
        rows = rows_of(trial)
        assert [r["training_iteration"] for r in rows] == [1, 2, 3]
        assert all(r["scaling"]["env_steps"] >= 400 for r in rows)


@pytest.mark.ray
@pytest.mark.timeout(900)  # the shared fixture runs two sweeps: about 3 minutes here
def test_the_first_sweeps_piped_output_gets_a_few_iteration_lines_and_every_trial_line(corridor_sweep):
    from test_progress import assert_piped_progress

    _, tmp, _ = corridor_sweep
    assert_piped_progress((tmp / "first_sweep_stdout.txt").read_text(), trials=2,
                          iterations_each=SMALL["stop"]["training_iteration"])


@pytest.mark.ray
@pytest.mark.timeout(900)  # the shared fixture runs two sweeps: about 3 minutes here
def test_trial_directories_are_named_by_their_settings(corridor_sweep):
    exp_dir, _, _ = corridor_sweep
    names = [d.name for d in trial_dirs(exp_dir)]
    trial_ids = [rows_of(d)[0]["trial_id"] for d in trial_dirs(exp_dir)]
    expected = sorted(f"runners={r}_rep0_{t}" for r, t in zip(
        [json.loads((d / "params.json").read_text())["num_env_runners"] for d in trial_dirs(exp_dir)], trial_ids,
        strict=True))
    assert names == expected


@pytest.mark.ray
@pytest.mark.timeout(900)  # the shared fixture runs two sweeps: about 3 minutes here
def test_tune_reads_the_directory_and_sees_the_newest_session(corridor_sweep):
    """ExperimentAnalysis (like Tuner.restore) reads the newest experiment_state file: after the suite
    resumed, that lists only the trial the resumed session ran; the other's files are still there."""
    from ray.tune import ExperimentAnalysis

    exp_dir, _, first_ledger = corridor_sweep
    analysis = ExperimentAnalysis(str(exp_dir))
    assert len(list(exp_dir.glob("experiment_state-*.json"))) == 2
    [trial] = analysis.trials
    assert Path(trial.path).name not in {entry["trial_dir"] for entry in first_ledger[:1]}
    assert (exp_dir / Path(trial.path).name / "result.json").exists()
    frame = analysis.trial_dataframes[trial.trial_id]
    assert list(frame["training_iteration"]) == [1, 2, 3]


@pytest.mark.ray
@pytest.mark.timeout(900)  # the shared fixture runs two sweeps: about 3 minutes here
def test_the_analysis_of_the_resumed_experiment_shows_every_trials_status_and_id(corridor_sweep, tmp_path):
    from scaling_study.analysis.command import analyze_command

    exp_dir, _, _ = corridor_sweep
    assert analyze_command(str(exp_dir), str(tmp_path)) == 0
    import pandas as pd

    trials = pd.read_csv(tmp_path / "trials.csv")
    truth = {d.name: rows_of(d)[0]["trial_id"] for d in trial_dirs(exp_dir)}
    assert dict(zip(trials["trial"], trials["trial_id"], strict=True)) == truth
    assert set(trials["status"]) == {"TERMINATED"}


@pytest.mark.ray
@pytest.mark.timeout(900)  # the shared fixture runs two sweeps: about 3 minutes here
def test_tensorboard_event_files_hold_the_scaling_curves(corridor_sweep):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    exp_dir, _, _ = corridor_sweep
    for trial in trial_dirs(exp_dir):
        assert list(trial.glob("events.out.tfevents*")), f"no event file in {trial.name}"
        events = EventAccumulator(str(trial))
        events.Reload()
        tag = "ray/tune/scaling/env_steps_per_s"
        assert tag in events.Tags()["scalars"]
        logged = [e.value for e in events.Scalars(tag)]
        expected = [r["scaling"]["env_steps_per_s"] for r in rows_of(trial)]
        assert logged == pytest.approx(expected, rel=1e-6)  # stored as float32
        assert "ray/tune/scaling/node_ids" not in events.Tags()["scalars"]


@pytest.mark.ray
@pytest.mark.timeout(900)  # the shared fixture runs two sweeps: about 3 minutes here
def test_mlflow_runs_hold_the_scaling_metrics(corridor_sweep):
    from mlflow.tracking import MlflowClient

    _, tmp, _ = corridor_sweep
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=(tmp / "mlruns").as_uri())
    experiment = client.get_experiment_by_name("corridor")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 3, "one run per trial and session: 2, then the one resumed"
    finished = [r for r in runs if r.info.status == "FINISHED"]
    assert len(finished) == 3
    for run in finished:
        history = client.get_metric_history(run.info.run_id, "scaling/env_steps_per_s")
        assert [m.step for m in history] == [1, 2, 3] and all(m.value > 0 for m in history)


@pytest.mark.ray
@pytest.mark.timeout(900)  # the shared fixture runs two sweeps: about 3 minutes here
def test_wandb_offline_runs_hold_the_scaling_metrics(corridor_sweep):
    from wandb_records import history

    exp_dir, _, _ = corridor_sweep
    for trial in trial_dirs(exp_dir):
        runs = list(trial.glob("wandb/offline-run-*/run-*.wandb"))
        assert len(runs) == 1, f"one offline W&B run in {trial.name}, found {runs}"
        logged = [row["scaling/env_steps_per_s"] for row in history(runs[0]) if "scaling/env_steps_per_s" in row]
        assert logged == pytest.approx([r["scaling"]["env_steps_per_s"] for r in rows_of(trial)])
