"""The sampling-cost model against answers worked out by hand (pure: no Ray)."""

from __future__ import annotations

import pytest

from scaling_study.core.sampling_model import (
    Observation,
    WakeUp,
    envs_waiting_at_once,
    fit_wake_up,
    relative_errors,
    reset_share_from_episode_length,
    sampler_env_steps_per_s,
    sampler_key,
    seconds_per_vector_step,
    waits_per_vector_step,
)

WAKE = WakeUp(fixed_s=0.001, fraction=0.05)  # 1 ms + 5% of S per waiting step


def test_sync_envs_pay_their_step_costs_in_turn_async_envs_side_by_side():
    assert waits_per_vector_step(4, "sync") == 4
    assert waits_per_vector_step(4, "async") == 1
    assert waits_per_vector_step(1, "sync") == 1
    assert waits_per_vector_step(3, None) == 3  # no mode in params.json: RLlib's default, sync
    # the analysis's physical limit: how many of a runner's envs wait side by side
    assert envs_waiting_at_once(4, "sync") == 1
    assert envs_waiting_at_once(4, "async") == 4


def test_free_steps_cost_only_the_overhead_and_no_wake_up():
    assert WAKE.seconds(0.0) == 0.0
    assert seconds_per_vector_step(0.0012, 0.0, 2, "sync", WAKE) == pytest.approx(0.0012)


def test_one_sync_env_at_4_ms():
    # 1.2 ms overhead + (4 ms + 1 ms + 0.05 * 4 ms) = 6.4 ms per step -> 156.25 steps/s
    assert seconds_per_vector_step(0.0012, 0.004, 1, "sync", WAKE) == pytest.approx(0.0064)
    assert sampler_env_steps_per_s(0.0012, 0.004, 1, "sync", WAKE) == pytest.approx(156.25)


def test_two_sync_envs_at_20_ms_pay_two_waits():
    # 2 ms + 2 * (20 + 1 + 1) ms = 46 ms per vector step of 2 env steps -> 43.48 steps/s
    assert seconds_per_vector_step(0.002, 0.02, 2, "sync", WAKE) == pytest.approx(0.046)
    assert sampler_env_steps_per_s(0.002, 0.02, 2, "sync", WAKE) == pytest.approx(2 / 0.046)


def test_two_async_envs_at_50_ms_pay_one_wait():
    # 3 ms + (50 + 1 + 2.5) ms = 56.5 ms per vector step of 2 env steps -> 35.40 steps/s
    assert seconds_per_vector_step(0.003, 0.05, 2, "async", WAKE) == pytest.approx(0.0565)
    assert sampler_env_steps_per_s(0.003, 0.05, 2, "async", WAKE) == pytest.approx(2 / 0.0565)


def test_independent_runners_add_up():
    one = sampler_env_steps_per_s(0.0012, 0.004, 1, "sync", WAKE)
    assert sampler_env_steps_per_s(0.0012, 0.004, 1, "sync", WAKE, runners=2) == pytest.approx(2 * one)


def test_without_any_penalty_the_model_is_the_naive_sum():
    # The arithmetic the suite used to teach: 1 / (1/676 + 0.004) = 182.6 steps/s
    assert sampler_env_steps_per_s(1 / 676, 0.004, 1, "sync") == pytest.approx(182.6, abs=0.1)


def test_async_envs_wait_on_more_turns_when_resets_take_turns():
    # q = 1 / (7 + 1) = 0.125 (mean episode length 7): two async envs wait on 1 - q**2 of turns and
    # count 2 * (1 - q) steps per turn: (1 - 0.015625) / 0.875 = 1.125 waits per vector step.
    q = reset_share_from_episode_length(7)
    assert q == pytest.approx(0.125)
    assert waits_per_vector_step(2, "async", q) == pytest.approx(1.125)
    assert waits_per_vector_step(2, "sync", q) == 2  # every counted step is a step stepped in turn
    # 3 ms + 1.125 * (50 + 1 + 2.5) ms = 63.1875 ms per vector step
    assert seconds_per_vector_step(0.003, 0.05, 2, "async", WAKE, q) == pytest.approx(0.0631875)


def test_fit_recovers_a_known_line():
    # Times built by hand for wake-up 0.8 ms + 6% of S, over sync and async configurations.
    def obs(step, envs, mode, overhead, q=0.0):
        waits = {("sync", 1): 1, ("sync", 2): 2, ("async", 2): (1 - q * q) / (1 - q)}[(mode, envs)]
        return Observation(step, overhead + waits * (step + 0.0008 + 0.06 * step), overhead, envs, mode, q)

    observed = [obs(s, e, m, o, q) for s in (0.002, 0.004, 0.02, 0.05)
                for e, m, o, q in [(1, "sync", 0.0012, 0.1), (2, "sync", 0.0015, 0.1), (2, "async", 0.003, 0.1)]]
    wake = fit_wake_up(observed)
    assert wake.fixed_s == pytest.approx(0.0008)
    assert wake.fraction == pytest.approx(0.06)
    assert abs(relative_errors(observed, wake)).max() == pytest.approx(0, abs=1e-9)


def test_fit_needs_two_costly_step_sizes():
    with pytest.raises(ValueError, match="two or more"):
        fit_wake_up([Observation(0.004, 0.006, 0.001, 1, "sync"), Observation(0.0, 0.001, 0.001, 1, "sync")])


def test_sampler_key_defaults_to_sync():
    assert sampler_key(2, None) == "2xsync"
    assert sampler_key(2, "async") == "2xasync"
    assert sampler_key(1, "sync", {"seconds": 0.004, "mode": "sleep"}) == "1xsync@4ms-sleep"
    assert sampler_key(1, "sync", {"seconds": 0.0, "mode": "sleep"}) == "1xsync"
