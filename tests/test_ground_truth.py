"""Known answers: with a simulated step cost the sampling rate has an expectation worked out in advance,
and real sweeps must land within 15% of it. A sleeping env costs no CPU, so these hold on 2 cores."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from ray_processes import own_ray_temp_dir

from scaling_study.calibrate import best_step_rate, raw_step_rate
from scaling_study.envs import StepCost, make_env
from scaling_study.spec import parse_spec
from scaling_study.sweep import SweepOptions, run_sweep

STEP_S = 0.05  # 50 ms: RLlib's own cost per step (2-3 ms here with one env) stays about 5% of it


def test_step_cost_wraps_any_gymnasium_env():
    env = make_env({"id": "CartPole-v1", "step_cost": {"seconds": 0.001, "mode": "spin"}})
    assert isinstance(env, StepCost) and env.mode == "spin"
    assert not isinstance(make_env({"id": "CartPole-v1", "step_cost": None}), StepCost)


@pytest.mark.parametrize("mode", ["spin", "sleep"])
def test_raw_rate_of_a_costly_env_is_one_over_its_cost(mode):
    rate = best_step_rate({"id": "FrozenLake-v1", "step_cost": {"seconds": 0.002, "mode": mode}}, seconds=0.6)
    assert rate == pytest.approx(500, rel=0.15)


def test_raw_rate_of_plain_frozenlake_is_far_above_rllibs():
    assert raw_step_rate({"id": "FrozenLake-v1"}, seconds=0.3) > 10_000


# (settings, expected env steps/s while sampling): one env per runner stepped in sequence gives
# 1/S per runner; two async envs in one runner step side by side and give 2/S.
KNOWN_ANSWERS = {
    "one runner, one env": ({"num_env_runners": 1, "num_envs_per_env_runner": 1}, 1 / STEP_S),
    "two runners, one env each": ({"num_env_runners": 2, "num_envs_per_env_runner": 1}, 2 / STEP_S),
    "one runner, two sync envs": ({"num_env_runners": 1, "num_envs_per_env_runner": 2,
                                   "gym_env_vectorize_mode": "sync"}, 1 / STEP_S),
    "one runner, two async envs": ({"num_env_runners": 1, "num_envs_per_env_runner": 2,
                                    "gym_env_vectorize_mode": "async"}, 2 / STEP_S),
}


@pytest.fixture(scope="module")
def known_answer_sweep(tmp_path_factory):
    keys = ["num_env_runners", "num_envs_per_env_runner", "gym_env_vectorize_mode"]
    points = [{k: {"gym_env_vectorize_mode": "sync", **s}[k] for k in keys} for s, _ in KNOWN_ANSWERS.values()]
    spec = parse_spec({
        "name": "known",
        "env": {"id": "FrozenLake-v1", "step_cost": {"seconds": STEP_S, "mode": "sleep"}},
        "search_space": points,
        # A sleeping runner needs little CPU: half a core each lets two runners fit on 2 cores.
        "fixed": {"num_cpus_per_env_runner": 0.5, "train_batch_size_per_learner": 60, "minibatch_size": 30,
                  "num_epochs": 1, "fcnet_hiddens": [16]},
        "stop": {"training_iteration": 3},
        "warmup_iterations": 1,
    })
    with own_ray_temp_dir():
        yield run_sweep(spec, SweepOptions(storage_path=str(tmp_path_factory.mktemp("results"))), argv=["test"])


def sampling_rates(exp_dir: Path) -> dict[tuple, float]:
    """Median of env_steps / sample_s over measured iterations, per grid point."""
    rates = {}
    for params_file in exp_dir.glob("*/params.json"):
        params = json.loads(params_file.read_text())
        rows = [json.loads(line) for line in (params_file.parent / "result.json").read_text().splitlines()]
        measured = [r["scaling"] for r in rows if not r["scaling"]["warmup"]]
        key = (params["num_env_runners"], params["num_envs_per_env_runner"], params["gym_env_vectorize_mode"])
        rates[key] = statistics.median(s["env_steps"] / s["sample_s"] for s in measured)
    return rates


@pytest.mark.ray
@pytest.mark.parametrize("case", list(KNOWN_ANSWERS))
def test_sampling_rate_lands_within_15_percent_of_the_known_answer(known_answer_sweep, case):
    settings, expected = KNOWN_ANSWERS[case]
    key = (settings["num_env_runners"], settings["num_envs_per_env_runner"],
           settings.get("gym_env_vectorize_mode", "sync"))
    measured = sampling_rates(known_answer_sweep)[key]
    assert measured == pytest.approx(expected, rel=0.15), f"{case}: {measured:.0f} env steps/s, expected {expected:.0f}"


@pytest.mark.ray
def test_doubling_parallel_envs_doubles_the_rate(known_answer_sweep):
    rates = sampling_rates(known_answer_sweep)
    assert rates[(2, 1, "sync")] / rates[(1, 1, "sync")] == pytest.approx(2, rel=0.15)
    assert rates[(1, 2, "async")] / rates[(1, 2, "sync")] == pytest.approx(2, rel=0.15)


@pytest.mark.ray
def test_calibration_measured_the_costly_env(known_answer_sweep):
    calibration = json.loads((known_answer_sweep / "scaling_study" / "calibration.json").read_text())
    assert calibration["step_cost"] == {"seconds": STEP_S, "mode": "sleep"}
    assert calibration["steps_per_s_per_core"] == pytest.approx(1 / STEP_S, rel=0.1)


@pytest.mark.ray
def test_report_states_each_point_against_its_physical_limit(known_answer_sweep, tmp_path):
    import pandas as pd

    from scaling_study.analysis.command import analyze_command

    assert analyze_command(str(known_answer_sweep), str(tmp_path)) == 0
    summary = pd.read_csv(tmp_path / "summary.csv").set_index("point")
    raw = json.loads((known_answer_sweep / "scaling_study" / "calibration.json").read_text())["steps_per_s_per_core"]
    # A sleeping env needs no core: the limit counts the envs that wait at once.
    async_two = summary.loc["num_env_runners=1, num_envs_per_env_runner=2, gym_env_vectorize_mode=async"]
    sync_two = summary.loc["num_env_runners=1, num_envs_per_env_runner=2, gym_env_vectorize_mode=sync"]
    assert async_two["limit_env_steps_per_s"] == pytest.approx(2 * raw)
    assert sync_two["limit_env_steps_per_s"] == pytest.approx(raw)
    # End to end (learning included) each point stays below its limit, and not far below.
    assert summary["pct_of_limit"].between(50, 101).all(), summary["pct_of_limit"].to_dict()
