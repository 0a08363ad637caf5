"""What the learner did, for an algorithm that samples while it learns (APPO, IMPALA) and for PPO: env steps
trained, the share of its time it waited for samples, which algorithm a trial ran, and the sentence that
says which side waits. Hand-worked numbers; no Ray is started."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from scaling_study.analysis.findings import learner_sentence
from scaling_study.analysis.load import algorithm_of_trial
from scaling_study.analysis.summary import learner_per_point
from scaling_study.run.metrics import learner_wait_share, lifetime_trained_steps, scaling_metrics

FACTS = dict(warmup=False, iter_ended_at=0.0, measured_iterations=1, relative_ci=math.nan, setup_s=1.0,
             startup_s=0.0, warm_process=False, cpus=2.0, cores=2, trial_started_at=0.0, nodes=1, node_ids=["n"],
             env_runner_restarts=0, degraded=False)


def appo_result(lifetime_sampled, lifetime_trained, wait, update):
    return {"time_this_iter_s": 2.0, "num_env_steps_sampled_lifetime": lifetime_sampled,
            "timers": {"sample": 0.1, "learner_update_timer": 0.02, "synch_weights": 0.01},
            "learners": {"__all_modules__": {"num_env_steps_trained_lifetime": lifetime_trained,
                                             "learner_thread_in_queue_wait_timer": wait,
                                             "learner_thread_update_timer": update}}}


def test_an_asynchronous_learner_thread_says_how_long_it_waited():
    # 0.03 s waiting for each batch, 0.01 s updating on it: it waited 3 / 4 of its time
    assert learner_wait_share(appo_result(0, 0, 0.03, 0.01), iter_s=2.0, learn_s=0.02) == pytest.approx(0.75)


def test_ppos_learner_waits_out_the_rest_of_the_iteration():
    ppo = {"learners": {"__all_modules__": {"num_env_steps_trained_lifetime": 4000}}}
    assert learner_wait_share(ppo, iter_s=2.0, learn_s=0.5) == pytest.approx(0.75)  # (2.0 - 0.5) / 2.0
    assert math.isnan(learner_wait_share({}, iter_s=2.0, learn_s=math.nan))
    assert lifetime_trained_steps(ppo) == 4000 and lifetime_trained_steps({}) == 0


def test_a_row_holds_this_iterations_trained_steps_and_apps_sample_timer():
    row = scaling_metrics(appo_result(3000, 2500, 0.01, 0.03), previous_lifetime_steps=1000,
                          previous_trained_steps=2000, **FACTS)
    assert row["env_steps"] == 2000 and row["trained_env_steps"] == 500
    assert row["sample_s"] == 0.1  # APPO's `sample` timer, where PPO's env_runner_sampling_timer is absent
    assert row["learner_wait_share"] == pytest.approx(0.25)  # 0.01 / (0.01 + 0.03)


def test_the_algorithm_comes_from_params_then_from_tunes_directory_name():
    assert algorithm_of_trial("trial_0", {"algorithm": "appo"}) == "APPO"
    assert algorithm_of_trial("IMPALA_scaling_env_1a2b3_00000_0_2026-12-04", {}) == "IMPALA"
    assert algorithm_of_trial("PPO_FrozenLake-v1_1a2b3_00000", {}) == "PPO"
    assert algorithm_of_trial("runners=1_rep0_1a2b3", {}) == "PPO"  # this suite's older trials: PPO only


def test_learner_columns_take_the_seed_as_the_unit():
    # point A: trial 1's iterations train 100 and 300 env steps in 1 s (median 200/s), trial 2's 400 and 400
    # (400/s): the point's median over its two trials is 300/s. Wait shares: medians 0.2 and 0.6 -> 0.4.
    measured = pd.DataFrame({
        "point": ["A"] * 4, "trial": ["t1", "t1", "t2", "t2"], "iter_s": [1.0] * 4,
        "trained_env_steps": [100, 300, 400, 400], "learner_wait_share": [0.1, 0.3, 0.6, 0.6]})
    row = learner_per_point(measured).loc["A"]
    assert row["trained_env_steps_per_s"] == pytest.approx(300.0)
    assert row["learner_wait_share"] == pytest.approx(0.4)


@pytest.mark.parametrize(("wait", "words"), [(0.8, "sampling is the bottleneck"), (0.2, "learning is the bottleneck")])
def test_the_sentence_says_which_side_waits(wait, words):
    fastest = pd.Series({"algorithm": "APPO", "env_steps_per_s": 1200.0, "trained_env_steps_per_s": 1000.0,
                         "learner_wait_share": wait, "point": "num_env_runners=2"})
    sentence = learner_sentence(fastest, "at the fastest point")
    assert words in sentence and "1,200" in sentence and "1,000" in sentence
    assert f"{wait:.0%}" in sentence
