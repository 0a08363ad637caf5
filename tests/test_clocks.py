"""Per-iteration figures checked against clocks RLlib does not share: the trial's own wall clock
(`trial_started_at`, `iter_ended_at`, read with time.time() in trial.py, outside RLlib) and the sleep of
an env whose steps turn slow part-way through, so iterations differ in length on purpose."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from phased_env import FAST_STEPS, SLOW_STEP_S
from ray_processes import own_ray_temp_dir

from scaling_study.core.spec import parse_spec
from scaling_study.run.sweep import SweepOptions, run_sweep

pytestmark = pytest.mark.ray
TESTS = Path(__file__).resolve().parent
BATCH = 200  # env steps per iteration: iterations 1-2 are fast (FAST_STEPS = 400), 3-4 sleep every step
# What happens between two iterations of a trial besides train(): building the row and Tune's report
# round trip. Measured over 5 runs of this sweep (15 gaps): 0.005-0.011 s, against a shortest iteration
# of about 0.25 s. The bound is a share of the same run's shortest iteration, so it scales with the
# machine's speed: 0.6 of it is about 14x the largest gap seen, for a loaded CI machine, and still
# below one iteration, so a lost or double-counted iteration cannot pass.
BETWEEN_ITERATIONS_SHARE = 0.6
# Before setup_s starts and after the last report (env registration, building the config, the trial's
# own start): measured 0.027-0.036 s over the same 5 runs; 0.9 of the shortest iteration is about 6x the
# largest, and still less than the one iteration a miscount would add.
OUTSIDE_SETUP_AND_ITERATIONS_SHARE = 0.9


def shortest_iteration_s(rows: list[dict]) -> float:
    return min(r["iter_s"] for r in rows)


@pytest.fixture(scope="module")
def phased_rows(tmp_path_factory):
    spec = parse_spec({
        "name": "clocks",
        "env": {"id": "phased_env:PhasedFrozenLake-v0"},
        "search_space": {"num_env_runners": [1]},
        "fixed": {"num_envs_per_env_runner": 1, "train_batch_size_per_learner": BATCH, "minibatch_size": 100,
                  "num_epochs": 1, "fcnet_hiddens": [16]},
        "stop": {"training_iteration": 4},
        "warmup_iterations": 1,
    })
    storage = tmp_path_factory.mktemp("results")
    with pytest.MonkeyPatch.context() as patch, own_ray_temp_dir():
        # Env runners import phased_env through gymnasium's module:EnvId syntax: put tests/ on their path.
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))
        exp_dir = run_sweep(spec, SweepOptions(storage_path=str(storage)), argv=["test"])
    (result,) = exp_dir.glob("*/result.json")
    yield [json.loads(line)["scaling"] for line in result.read_text().splitlines() if line.strip()]


def test_iteration_seconds_agree_with_the_trials_own_clock(phased_rows):
    ended = [r["iter_ended_at"] for r in phased_rows]
    assert len(ended) == 4
    for previous_end, row in zip(ended[:-1], phased_rows[1:], strict=True):
        gap = row["iter_ended_at"] - previous_end
        # The iteration ran inside the gap; the rest of the gap is the report round trip.
        assert row["iter_s"] <= gap + 0.005, f"iter_s {row['iter_s']:.3f} s longer than the {gap:.3f} s between ends"
        bound = BETWEEN_ITERATIONS_SHARE * shortest_iteration_s(phased_rows)
        assert gap - row["iter_s"] < bound, f"gap {gap:.3f} s, iter_s {row['iter_s']:.3f} s, bound {bound:.3f} s"


def test_setup_and_iterations_account_for_the_trials_wall_time(phased_rows):
    first, last = phased_rows[0], phased_rows[-1]
    # The first iteration's own time leaves out the build (setup_s); both fit before it ended.
    assert first["trial_started_at"] + first["setup_s"] + first["iter_s"] <= first["iter_ended_at"] + 0.005
    accounted = last["trial_started_at"] + last["setup_s"] + sum(r["iter_s"] for r in phased_rows)
    outside = last["iter_ended_at"] - accounted
    assert 0 <= outside < OUTSIDE_SETUP_AND_ITERATIONS_SHARE * shortest_iteration_s(phased_rows), outside


def test_phase_timers_are_each_iterations_own_not_smoothed(phased_rows):
    # Iteration 2: steps 201-400, no sleep; iteration 4: steps 601-800, each sleeping. Measured over the
    # 5 runs above: 0.17-0.28 s of sampling against 2.40-2.49 s.
    fast, slow = phased_rows[1], phased_rows[3]
    assert fast["env_steps"] == slow["env_steps"] == BATCH
    assert BATCH * 3 > FAST_STEPS >= BATCH * 2
    # Every step of iteration 4 sleeps SLOW_STEP_S: sampling took at least that, and fits in its iteration.
    assert slow["env_steps"] * SLOW_STEP_S <= slow["sample_s"] <= slow["iter_s"]
    # Iteration 2 sleeps not at all. RLlib's own timer is a moving average (coefficient 0.01) that would
    # report nearly the same value for both; ours must show the jump.
    assert fast["sample_s"] < 0.5 * slow["sample_s"], (fast["sample_s"], slow["sample_s"])
    for row in phased_rows:
        phases = row["sample_s"] + row["learn_s"] + row["sync_s"]
        assert phases <= row["iter_s"] * 1.01
