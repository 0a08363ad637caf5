"""A known answer for an algorithm that samples while it learns: APPO with a 20 ms sleeping env step and
one env per runner, at 1, 2 and 4 env runners, in one real tiny sweep.

Each runner waits 20 ms a step, so runners sample side by side and APPO's sampled throughput must follow
the number of runners until the learner caps it. The expected rates come from arithmetic on the 1-runner
trial (n x its rate, capped by what the learner could take: its rate over its busy share), not from the
suite's models; the tolerance from the trials' own 95% intervals over iterations (the suite's noise
model: ScalingRow.relative_ci), added for the two trials compared. The overlap model (core/overlap_model)
must predict the same from the same inputs.
"""

from __future__ import annotations

import pytest

from scaling_study.core.overlap_model import predict_async

STEP_S = 0.02


@pytest.mark.ray
@pytest.mark.timeout(420)
def test_appos_sampled_throughput_follows_the_runners_until_the_learner_caps_it(tmp_path):
    from ray_processes import own_ray_temp_dir

    from scaling_study.analysis.load import load_experiment
    from scaling_study.core.spec import parse_spec
    from scaling_study.run.sweep import SweepOptions, run_sweep

    spec = parse_spec({
        "name": "appo_known", "env": {"id": "FrozenLake-v1", "step_cost": {"seconds": STEP_S, "mode": "sleep"}},
        "algorithm": "APPO", "search_space": {"num_env_runners": [1, 2, 4]},
        "fixed": {"num_envs_per_env_runner": 1, "num_cpus_per_env_runner": 0.25, "train_batch_size_per_learner": 100,
                  # 0.1 s a sample call, 1 s an iteration: rates in steps of 5 env steps/s
                  "rollout_fragment_length": 5, "min_time_s_per_iteration": 1, "fcnet_hiddens": [8]},
        # the first iterations wait for the runners' first samples (about 3 s after the build)
        "stop": {"training_iteration": 6}, "warmup_iterations": 3})
    with own_ray_temp_dir():
        exp_dir = run_sweep(spec, SweepOptions(storage_path=str(tmp_path)), argv=["test"])
    experiment = load_experiment(exp_dir)
    measured = experiment.iterations[~experiment.iterations["warmup"]]
    runners = experiment.trials.set_index("trial")["num_env_runners"]
    by_runners = {}
    for trial, rows in measured.groupby("trial"):
        by_runners[int(runners[trial])] = {
            "rate": rows["env_steps_per_s"].median(),
            "busy": 1.0 - rows["learner_wait_share"].median(),
            "ci": rows["relative_ci"].iloc[-1],  # the trial's own interval after its last iteration
        }
    assert sorted(by_runners) == [1, 2, 4]
    one = by_runners[1]
    # one runner: at most one env step per 20 ms, less RLlib's own work per step
    assert 0.5 / STEP_S < one["rate"] <= 1.0 / STEP_S
    for n in (2, 4):
        got = by_runners[n]
        learner_cap = got["rate"] / got["busy"]  # what the learner could take, were it never idle
        expected = min(n * one["rate"], learner_cap)
        tolerance = got["ci"] + one["ci"]
        assert abs(got["rate"] / expected - 1.0) <= tolerance, (n, got, one, expected, tolerance)
        model = predict_async(100, sampling_rate=n * one["rate"], learner_rate=learner_cap)
        assert model.env_steps_per_s == pytest.approx(expected, rel=1e-9)
        assert model.waiting_side == ("learner" if n * one["rate"] < learner_cap else "sampling")
