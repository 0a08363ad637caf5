"""One source per fact: the pure modules both halves share, and the one-way import graph.

See docs/architecture.md. No test here starts Ray; those that compare with RLlib import it.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys

import pandas as pd
import pytest
from analysis_helpers import NEW_STACK, SUITE, copy_fixture, trial_dirs
from ray_processes import REPO

from scaling_study.core import rows
from scaling_study.core.resources import cpus_needed

# ---------------------------------------------------------------- resources: one formula, RLlib's


RESOURCE_GRID = list(itertools.product(
    [0, 1, 2, 3, 4],          # num_env_runners
    [0.5, 1, 2],              # num_cpus_per_env_runner
    [0, 1, 2],                # num_learners
    [1, 2],                   # num_cpus_per_learner
    [1, 2],                   # num_cpus_for_main_process
))


def test_cpus_needed_is_rllibs_own_resource_request_over_many_configs():
    """180 configs, among them num_learners=0 with more CPUs per learner than for the main process
    (where RLlib reserves the larger of the two for the main process)."""
    from ray.rllib.algorithms.ppo import PPO

    from scaling_study.run import algorithm_config

    for runners, per_runner, learners, per_learner, main in RESOURCE_GRID:
        settings = {"num_env_runners": runners, "num_cpus_per_env_runner": per_runner, "num_learners": learners,
                    "num_cpus_per_learner": per_learner, "num_cpus_for_main_process": main}
        bundles = PPO.default_resource_request(algorithm_config.build_config({"env_id": "FrozenLake-v1", **settings})).bundles
        assert cpus_needed(settings) == sum(b.get("CPU", 0) for b in bundles), settings


def test_cpus_needed_counts_main_runners_and_learners():
    assert cpus_needed({"num_env_runners": 0}) == 1
    assert cpus_needed({"num_env_runners": 2}) == 3
    assert cpus_needed({"num_env_runners": 2, "num_learners": 2}) == 5
    assert cpus_needed({"num_env_runners": 2, "num_cpus_per_env_runner": 0.5}) == 2


def test_cpus_needed_reads_old_names_and_rllibs_auto():
    """What a foreign params.json may hold: course-era names, and RLlib's own "auto" default."""
    assert cpus_needed({"num_workers": 3, "num_cpus_per_worker": 2, "num_cpus_for_driver": 2}) == 8
    assert cpus_needed({"num_env_runners": 1, "num_cpus_per_learner": "auto"}) == 2
    assert cpus_needed({"num_env_runners": 0, "num_learners": 0, "num_cpus_per_learner": 3}) == 3


def test_the_analysis_counts_cpus_with_the_same_formula(tmp_path):
    """A foreign trial with num_learners=0 and 2 CPUs per learner: the main process holds 2 CPUs."""
    from scaling_study.analysis.load import load_experiment

    experiment = copy_fixture(NEW_STACK, tmp_path)
    for trial in trial_dirs(experiment):
        params = json.loads((trial / "params.json").read_text())
        params.update(num_learners=0, num_cpus_per_learner=2, num_cpus_for_main_process=1)
        (trial / "params.json").write_text(json.dumps(params))
    trials = load_experiment(experiment).trials.set_index("num_env_runners")
    assert trials.loc[0, "cpus"] == 2 and trials.loc[1, "cpus"] == 3


# ---------------------------------------------------------------- rows: one definition of scaling/*


def test_scaling_metrics_fill_exactly_the_row_contract():
    from scaling_study.run.metrics import scaling_metrics

    result = {"num_env_steps_sampled_lifetime": 1500, "time_this_iter_s": 2.0,
              "timers": {"env_runner_sampling_timer": 1.5, "learner_update_timer": 0.4,
                         "synch_env_connectors": 0.0, "synch_weights": 0.05}}
    facts = {"setup_s": 3.0, "startup_s": 4.0, "warm_process": False, "cpus": 2, "cores": 2, "warmup": False,
             "trial_started_at": 10.0, "iter_ended_at": 15.0, "nodes": 1, "node_ids": ["n"],
             "env_runner_restarts": 0, "degraded": False, "measured_iterations": 1, "relative_ci": float("nan")}
    scaling = scaling_metrics(result, previous_lifetime_steps=500, **facts)
    assert tuple(scaling) == rows.FIELDS
    assert scaling["env_steps"] == 1000 and scaling["env_steps_per_s"] == 500.0
    with pytest.raises(TypeError):  # a fact the contract does not name is refused where it is written
        scaling_metrics(result, previous_lifetime_steps=0, **facts, extra=1)
    with pytest.raises(TypeError):
        scaling_metrics(result, previous_lifetime_steps=0, **{k: v for k, v in facts.items() if k != "cpus"})


def test_the_analysis_reads_every_field_of_the_contract():
    from scaling_study.analysis.load import ROW_KEYS

    read = {path for paths in ROW_KEYS.values() for path in paths}
    assert {rows.flat_key(name) for name in rows.FIELDS} <= read
    source = (REPO / "src/scaling_study/core/rows.py").read_text()
    for name in rows.FIELDS:
        after = source.split(f"    {name}: ", 1)[1].splitlines()[1].strip()
        assert after.startswith('"""'), f"ScalingRow.{name} has no docstring"


# ---------------------------------------------------------------- grid points as columns


def analyse(experiment, out):
    done = subprocess.run([sys.executable, "-m", "scaling_study.cli", "analyze", str(experiment), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return pd.read_csv(out / "summary.csv"), pd.read_csv(out / "trials.csv")


def test_every_swept_setting_of_a_suite_directory_is_a_column(tmp_path):
    experiment = copy_fixture(SUITE, tmp_path)
    for trial in trial_dirs(experiment):
        params = json.loads((trial / "params.json").read_text())
        params["gym_env_vectorize_mode"] = "async" if params["num_env_runners"] else "sync"
        (trial / "params.json").write_text(json.dumps(params))
    summary, trials = analyse(experiment, tmp_path / "out")
    assert summary.set_index("num_env_runners")["gym_env_vectorize_mode"].to_dict() == {0: "sync", 1: "async"}
    assert list(summary.columns[:4]) == ["point", "num_env_runners", "num_envs_per_env_runner",
                                         "gym_env_vectorize_mode"]
    assert sorted(trials["gym_env_vectorize_mode"]) == ["async", "async", "sync", "sync"]


def test_every_swept_setting_of_a_foreign_directory_is_a_column(tmp_path):
    experiment = copy_fixture(NEW_STACK, tmp_path)
    for lr, trial in zip((0.001, 0.01), trial_dirs(experiment), strict=True):
        params = json.loads((trial / "params.json").read_text())
        params.update(lr=lr)
        (trial / "params.json").write_text(json.dumps(params))
    summary, trials = analyse(experiment, tmp_path / "out")
    assert summary.set_index("num_env_runners")["lr"].to_dict() == {0: 0.001, 1: 0.01}
    assert trials.set_index("num_env_runners")["lr"].to_dict() == {0: 0.001, 1: 0.01}


# ---------------------------------------------------------------- the import graph runs one way


@pytest.mark.parametrize("argv", [
    ["validate", "experiments/smoke.yaml", "experiments/frozenlake.yaml"],
    ["validate", "--show-config", "experiments/course.yaml"],
    ["analyze", str(SUITE), "--out", "{tmp}"],
])
def test_validate_and_analyze_never_import_ray(argv, tmp_path):
    argv = [a.replace("{tmp}", str(tmp_path / "out")) for a in argv]
    script = ("import sys\nfrom scaling_study.cli import main\ncode = main(sys.argv[1:])\n"
              "assert 'ray' not in sys.modules, sorted(m for m in sys.modules if m.startswith('ray'))[:5]\n"
              "sys.exit(code)\n")
    done = subprocess.run([sys.executable, "-c", script, *argv], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


def test_pure_modules_import_nothing_of_the_running_half():
    script = ("import sys\nimport scaling_study.core.settings, scaling_study.core.resources, scaling_study.core.rows, "
              "scaling_study.run.config_calls, scaling_study.core.spec, scaling_study.core.layout, scaling_study.core.errors, "
              "scaling_study.run.node_exclusive\n"
              "assert 'ray' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", script], cwd=REPO, check=True, timeout=60)


# ---------------------------------------------------------------- show-config is what a trial builds


@pytest.mark.parametrize("experiment", ["smoke", "course", "slow_simulator"])
def test_shown_config_is_the_config_a_trial_builds(experiment):
    """Run the printed Python and compare each point's PPOConfig with ppo.build_config's."""
    from scaling_study.core.resources import local_cpus
    from scaling_study.core.spec import load_spec, trial_params
    from scaling_study.run import algorithm_config

    done = subprocess.run([sys.executable, "-m", "scaling_study.cli", "validate", "--show-config",
                           f"experiments/{experiment}.yaml"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    script = done.stdout.split("\n", 1)[1]  # after the "ok" line
    namespace: dict = {}
    exec(compile(script, "show-config", "exec"), namespace)  # noqa: S102  (our own output, under test)
    spec = load_spec(REPO / "experiments" / f"{experiment}.yaml")
    firsts = [p for p in trial_params(spec, local_cpus(spec.num_cpus)) if p["repeat"] == 0]
    for number, params in enumerate(firsts, start=1):
        shown, built = namespace[f"point_{number}"].to_dict(), algorithm_config.build_config(params).to_dict()
        differing = {k for k in built if not _same(shown.get(k), built[k])}
        assert not differing, (params["point"], differing)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b
