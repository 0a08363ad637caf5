"""Known answers: with a simulated step cost S, sampling has an expectation worked out in advance from the
sampling model (scaling_study.core.sampling_model), fed only with what this file measures itself, on a path
that shares no code with the suite (tests/bare_rllib.py: RLlib's own env runner in a 1-CPU Ray worker):
RLlib's cost per vector step at S = 0 for each envs-per-runner and vectorize mode, and the wake-up line
from one sync env at two step costs. Real sweeps must land within the spread measured over repeated runs
of this file. A waiting (sleep) step costs no CPU, so these hold on 2 cores."""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from ray_processes import own_ray_temp_dir, wait_for_quiet_machine

from scaling_study.core.sampling_model import (
    WakeUp,
    reset_share_from_episode_length,
    sampler_env_steps_per_s,
)
from scaling_study.core.spec import parse_spec
from scaling_study.run.calibrate import best_step_rate, raw_step_rate
from scaling_study.run.envs import StepCost, make_env
from scaling_study.run.sweep import SweepOptions, run_sweep

STEP_S = 0.004  # the step cost of most points (the first one's is what the raw calibration measures)


def sleep_overshoot_s(step_s: float, count: int = 25) -> float:
    """time.sleep's own overshoot at `step_s` on this machine, now: the median of `count` sleeps past
    their time (0.08-0.12 ms on the 2-core machine at 2 and 4 ms; a VM's timer slack can be 1 ms)."""
    overshoots = []
    for _ in range(count):
        started = time.perf_counter()
        time.sleep(step_s)
        overshoots.append(time.perf_counter() - started - step_s)
    return statistics.median(overshoots)

# Tolerances from the runs of this file on the 2-core machine (RELIABILITY.md section 6 has the table),
# measured / model: the rate of a one-runner point 0.83-1.126 (two async envs at 4 ms apart: their band is
# below; the low end in full suites, where the trials' runners sample 10-17% below a bare runner at 4 ms),
# bare-runner ceilings 0.82-1.061, two runners / one 1.72-2.25 (of 2). Each bound covers the widest
# deviation seen on its side with about a third of it to spare. Those runs fed the model the calibration's
# overhead and a wake-up line from bench/arms/step_cost.py; with this file's own inputs (measure_inputs), three
# runs of the file alone gave rates 0.935-1.032, ceilings 0.967-1.057, two runners / one 1.91-2.00,
# async / sync 0.956-1.007 of the model: inside the same bands, which stay for the full suite's low end.
RATE_BAND = (0.78, 1.17)
CEILING_TOLERANCE = 0.21
DOUBLING_TOLERANCE = 0.19
# Two async envs at 4 ms are the exception, bimodal between runs: 0.92-1.13 of the model in six of eleven runs
# of this file alone, 0.75-0.87 in the other five and in all six runs after other Ray tests in the same
# pytest run (CI's full suite among them), most with the cores idle before the sweep. What async adds is the
# env processes' wake-ups through pipes; why their latency differs between runs was not pinned down. So this
# point's band, and the async / sync ratio's, are the measured range with a third of the widest deviation
# to spare.
ASYNC_4MS_BAND = (0.67, 1.15)
# The sweep's sampling against the calibrated ceiling: both spreads at once (1.126 / 0.934 = 1.21).
CEILING_SLACK = 1.25


def test_step_cost_wraps_any_gymnasium_env():
    env = make_env({"id": "CartPole-v1", "step_cost": {"seconds": 0.001, "mode": "spin"}})
    assert isinstance(env, StepCost) and env.mode == "spin"
    assert not isinstance(make_env({"id": "CartPole-v1", "step_cost": None}), StepCost)


@pytest.mark.parametrize("mode", ["spin", "sleep"])
def test_raw_rate_of_a_costly_env_is_one_over_its_cost(mode):
    overshoot = sleep_overshoot_s(0.002) if mode == "sleep" else 0.0  # a spin ends on time (if it has a core)
    rate = best_step_rate({"id": "FrozenLake-v1", "step_cost": {"seconds": 0.002, "mode": mode}}, seconds=0.6)
    assert rate == pytest.approx(1 / (0.002 + overshoot), rel=0.15)


def test_raw_rate_of_plain_frozenlake_is_far_above_rllibs():
    # Against a step of known cost timed the same way, now: a 1 ms spin. Plain FrozenLake outruns it 10x,
    # i.e. its step costs under 0.1 ms, where RLlib's own work is about 1 ms a vector step (notes/ray-2.60.md).
    # Both rates are this machine's at this moment, so a busy machine slows both.
    one_ms = raw_step_rate({"id": "FrozenLake-v1", "step_cost": {"seconds": 0.001, "mode": "spin"}}, seconds=0.3)
    assert raw_step_rate({"id": "FrozenLake-v1"}, seconds=0.3) > 10 * one_ms


def test_a_step_too_slow_for_the_sampler_calibration_is_skipped_not_waited_for():
    from scaling_study.run.calibrate import _sampler_ceilings

    slow = {"env_id": "FrozenLake-v1", "step_cost": {"seconds": 30, "mode": "sleep"}}
    found = _sampler_ceilings._function({"1xsync@30000ms-sleep": slow}, 0.5)  # the task's body, no Ray
    assert "skipped" in found["1xsync@30000ms-sleep"]


def point(runners: int, envs: int, mode: str, step_s: float = STEP_S, batch: int = 120) -> dict:
    return {"num_env_runners": runners, "num_envs_per_env_runner": envs, "gym_env_vectorize_mode": mode,
            "step_cost": {"seconds": step_s, "mode": "sleep"}, "train_batch_size_per_learner": batch}


ASYNC_4MS = "one runner, two async envs, 4 ms"
CASES = {
    "one runner, one env, 4 ms": point(1, 1, "sync"),
    "two runners, one env each, 4 ms": point(2, 1, "sync"),
    "one runner, two sync envs, 4 ms": point(1, 2, "sync"),
    "one runner, two async envs, 4 ms": point(1, 2, "async"),
    # Half the batch where steps are slow: an iteration still samples for over a second.
    "one runner, two sync envs, 20 ms": point(1, 2, "sync", 0.02, batch=60),
    "one runner, two async envs, 50 ms": point(1, 2, "async", 0.05, batch=60),
}


TESTS = Path(__file__).resolve().parent
WAKE_UP_STEPS_S = (STEP_S, 0.02)  # the wake-up line's two step costs: those of the sync cases


@dataclass(frozen=True)
class Inputs:
    """The model's inputs as this file measured them: RLlib's seconds per vector step at S = 0 by
    (envs per runner, vectorize mode), and the wake-up line."""

    overhead_s: dict[tuple[int, str], float]
    wake_up: WakeUp


def measure_inputs() -> Inputs:
    """In one 1-CPU Ray worker (where trials' env runners run too): a vector step's time at S = 0 for each
    (envs, mode) of CASES, and one sync env's at the two WAKE_UP_STEPS_S. The wake-up line through those
    two: at each, the time beyond the S = 0 time and S itself, solved for fixed + fraction * S."""
    import ray

    @ray.remote(num_cpus=1)
    def timings() -> dict:
        from bare_rllib import time_env_runner

        free = {(n, mode): time_env_runner(n, mode, 0.0, vector_steps=200).seconds_per_vector_step
                for n, mode in sorted({(s["num_envs_per_env_runner"], s["gym_env_vectorize_mode"])
                                       for s in CASES.values()})}
        costly = {step_s: time_env_runner(1, "sync", step_s, vector_steps=int(0.4 / step_s)).seconds_per_vector_step
                  for step_s in WAKE_UP_STEPS_S}
        return {"free": free, "costly": costly}

    with pytest.MonkeyPatch.context() as patch, own_ray_temp_dir():
        # The worker imports bare_rllib from tests/, as test_clocks.py's workers import phased_env.
        patch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])))
        ray.init(num_cpus=1, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
        try:
            found = ray.get(timings.remote(), timeout=120)
        finally:
            ray.shutdown()
    (s1, s2), free_one = WAKE_UP_STEPS_S, found["free"][(1, "sync")]
    beyond = [found["costly"][s] - free_one - s for s in (s1, s2)]  # fixed + fraction * S at each S
    fraction = (beyond[1] - beyond[0]) / (s2 - s1)
    return Inputs(found["free"], WakeUp(fixed_s=beyond[0] - fraction * s1, fraction=fraction))


@pytest.fixture(scope="module")
def inputs() -> Inputs:
    return measure_inputs()


@pytest.fixture(scope="module")
def known_answer_sweep(tmp_path_factory, inputs):
    spec = parse_spec({
        "name": "known",
        "env": {"id": "FrozenLake-v1"},
        "search_space": list(CASES.values()),
        # A sleeping runner needs little CPU: half a core each lets two runners fit on 2 cores.
        "fixed": {"num_cpus_per_env_runner": 0.5, "minibatch_size": 60,
                  "num_epochs": 1, "fcnet_hiddens": [16]},
        # Three measured iterations: their median stands when one of them is hit by a burst of other work.
        "stop": {"training_iteration": 4},
        "warmup_iterations": 1,
    })
    busy = wait_for_quiet_machine()
    with own_ray_temp_dir():
        # Measured now, never a cached calibration: the ceilings are compared with the model.
        exp_dir = run_sweep(spec, SweepOptions(storage_path=str(tmp_path_factory.mktemp("results")), recalibrate=True),
                            argv=["test"])
        # Said beside a failure: these answers hold on a quiet machine (nothing else using the cores).
        (exp_dir / "busy_cores_before.txt").write_text(f"{busy:.2f}")
        yield exp_dir


def case_of(params: dict) -> str:
    return next(name for name, settings in CASES.items() if all(params.get(k) == v for k, v in settings.items()))


def measured(exp_dir: Path) -> dict[str, dict]:
    """Per case: env steps / sample_s and RLlib's mean episode length, medians over measured iterations."""
    out = {}
    for params_file in exp_dir.glob("*/params.json"):
        params = json.loads(params_file.read_text())
        rows = [json.loads(line) for line in (params_file.parent / "result.json").read_text().splitlines()]
        rows = [r for r in rows if not r["scaling"]["warmup"]]
        out[case_of(params)] = {
            "rate": statistics.median(r["scaling"]["env_steps"] / r["scaling"]["sample_s"] for r in rows),
            "episode_len": statistics.median(r["env_runners"]["episode_len_mean"] for r in rows),
            "params": params,
        }
    return out


def busy_note(exp_dir: Path) -> str:
    return f" (other work kept {(exp_dir / 'busy_cores_before.txt').read_text()} cores busy before the sweep)"


def calibration(exp_dir: Path) -> dict:
    return json.loads((exp_dir / "scaling_study" / "calibration.json").read_text())


def expected_rate(inputs: Inputs, case: str, episode_len: float) -> float:
    """The model's rate for a case, from this file's own measurements: RLlib's time per vector step at
    S = 0 for its envs and mode, the wake-up line, the reset share from the trial's own mean episode length."""
    settings = CASES[case]
    num_envs, mode = settings["num_envs_per_env_runner"], settings["gym_env_vectorize_mode"]
    return sampler_env_steps_per_s(inputs.overhead_s[(num_envs, mode)], settings["step_cost"]["seconds"], num_envs,
                                   mode, inputs.wake_up, reset_share_from_episode_length(episode_len),
                                   runners=settings["num_env_runners"])


@pytest.mark.ray
@pytest.mark.timeout(300)
# One runner each: two runners are the doubling test's (their own rate is one runner's times that ratio).
@pytest.mark.parametrize("case", [case for case, settings in CASES.items() if settings["num_env_runners"] == 1])
def test_sampling_rate_matches_the_model(known_answer_sweep, inputs, case):
    found = measured(known_answer_sweep)[case]
    expected = expected_rate(inputs, case, found["episode_len"])
    low, high = ASYNC_4MS_BAND if case == ASYNC_4MS else RATE_BAND
    assert low <= found["rate"] / expected <= high, (
        f"{case}: {found['rate']:.1f} env steps/s while sampling, the model says {expected:.1f}"
        f"{busy_note(known_answer_sweep)}")


@pytest.mark.ray
@pytest.mark.timeout(300)
def test_doubling_runners_of_a_waiting_env_doubles_the_rate(known_answer_sweep):
    rates = {case: m["rate"] for case, m in measured(known_answer_sweep).items()}
    ratio = rates["two runners, one env each, 4 ms"] / rates["one runner, one env, 4 ms"]
    assert ratio == pytest.approx(2, rel=DOUBLING_TOLERANCE), busy_note(known_answer_sweep)


@pytest.mark.ray
@pytest.mark.timeout(300)
def test_async_beats_sync_by_what_the_model_says(known_answer_sweep, inputs):
    found = measured(known_answer_sweep)
    ratio = found[ASYNC_4MS]["rate"] / found["one runner, two sync envs, 4 ms"]["rate"]
    expected = (expected_rate(inputs, ASYNC_4MS, found[ASYNC_4MS]["episode_len"])
                / expected_rate(inputs, "one runner, two sync envs, 4 ms",
                                found["one runner, two sync envs, 4 ms"]["episode_len"]))
    # Not 2 (the naive "envs wait side by side"): RLlib's own overhead and the async reset turns cost.
    assert 1.2 < expected < 1.9
    low, high = ASYNC_4MS_BAND
    assert ratio > 1, "async must beat sync for a waiting env (measured at least 1.25x at 4 ms)"
    assert low * expected <= ratio <= high * expected, (
        f"async / sync {ratio:.2f}, the model says {expected:.2f}{busy_note(known_answer_sweep)}")


@pytest.mark.ray
@pytest.mark.timeout(300)
def test_calibration_measured_the_costly_env_and_its_sampler(known_answer_sweep, inputs):
    calib = calibration(known_answer_sweep)
    assert calib["step_cost"] == {"seconds": STEP_S, "mode": "sleep"}
    assert calib["steps_per_s_per_core"] == pytest.approx(1 / (STEP_S + sleep_overshoot_s(STEP_S)), rel=0.1)
    configs = calib["sampler_ceilings"]["configs"]
    assert set(configs) == {"1xsync@4ms-sleep", "2xsync@4ms-sleep", "2xasync@4ms-sleep", "2xsync@20ms-sleep",
                            "2xasync@50ms-sleep"}
    for key, ceiling in configs.items():
        # The calibration's bare runner follows the model fed with this file's own measurements (and
        # the calibration's reset share: a count of episodes, not a time).
        step_s = ceiling["step_cost"]["seconds"]
        num_envs, mode = ceiling["num_envs_per_env_runner"], ceiling["gym_env_vectorize_mode"]
        expected = sampler_env_steps_per_s(inputs.overhead_s[(num_envs, mode)], step_s, num_envs, mode,
                                           inputs.wake_up, ceiling["reset_share"])
        assert ceiling["env_steps_per_s_per_runner"] == pytest.approx(expected, rel=CEILING_TOLERANCE), (
            key + busy_note(known_answer_sweep))
        # and sits below the raw env rate of the envs that wait at once
        waiting = 1 if ceiling["gym_env_vectorize_mode"] == "async" else ceiling["num_envs_per_env_runner"]
        assert ceiling["env_steps_per_s_per_runner"] < ceiling["num_envs_per_env_runner"] / (waiting * step_s), key


@pytest.mark.ray
@pytest.mark.timeout(300)
def test_report_states_each_layer_of_the_waterfall(known_answer_sweep, tmp_path):
    import pandas as pd

    from scaling_study.analysis.command import analyze_command

    assert analyze_command(str(known_answer_sweep), str(tmp_path)) == 0
    summary = pd.read_csv(tmp_path / "summary.csv")
    raw = calibration(known_answer_sweep)["steps_per_s_per_core"]
    at_4ms = summary[summary["point"].str.contains("step_cost=0.004/")].set_index("point")
    async_two = at_4ms.loc[[p for p in at_4ms.index if "=async" in p][0]]
    sync_two = at_4ms.loc[[p for p in at_4ms.index if "num_envs_per_env_runner=2" in p and "=sync" in p][0]]
    # A sleeping env needs no core: the limit counts the envs that wait at once.
    assert async_two["limit_env_steps_per_s"] == pytest.approx(2 * raw)
    assert sync_two["limit_env_steps_per_s"] == pytest.approx(raw)
    # Each layer at most the one before it (with the measured spread as slack), end to end the lowest.
    assert (at_4ms["sampler_ceiling_env_steps_per_s"] <= at_4ms["limit_env_steps_per_s"]).all()
    assert (summary["sampling_env_steps_per_s"] <= CEILING_SLACK * summary["sampler_ceiling_env_steps_per_s"]).all()
    assert (summary["env_steps_per_s"] < summary["sampling_env_steps_per_s"]).all()
    assert "## Where the env steps go" in (tmp_path / "report.md").read_text()
