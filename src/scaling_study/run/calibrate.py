"""The physical limit: raw env steps per second on one core of each node (random actions, no RLlib).

One Ray task per alive node, pinned there, so mixed node types are each measured on their own.
A grid point's limit is this rate times the CPUs it samples with.
"""

from __future__ import annotations

import platform
import statistics
import time
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from scaling_study.core.sampling_model import sampler_key, waits_per_vector_step
from scaling_study.core.settings import resolve
from scaling_study.run.envs import make_env
from scaling_study.run.provenance import cpu_model


def raw_step_rate(env_config: dict[str, Any], seconds: float = 1.0) -> float:
    """Env steps per second of one env on this core, resetting at episode ends like a sampler does."""
    env = make_env(env_config)
    env.action_space.seed(0)
    env.reset(seed=0)
    steps, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        # The clock is read every step (a costly step may take longer than the whole budget); reading
        # it costs well under 1% of FrozenLake's own step.
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
        steps += 1
        now = time.perf_counter()
        if now >= deadline:
            break
    env.close()
    return steps / (now - start)


def best_step_rate(env_config: dict[str, Any], seconds: float, rounds: int = 3) -> float:
    """The fastest of a few short rounds: other work on the machine only ever slows a round down,
    so the best one is the closest to what the core can do."""
    rates = []
    for _ in range(rounds):
        round_start = time.perf_counter()
        rates.append(raw_step_rate(env_config, seconds / rounds))
        if time.perf_counter() - round_start > 2 * seconds / rounds:
            break  # steps too slow for the budget: one round is all the time allows
    return max(rates)


@ray.remote(num_cpus=1)
def _measure_on_node(env_config: dict[str, Any], seconds: float) -> dict[str, Any]:
    return {
        "node_id": ray.get_runtime_context().get_node_id(),
        "node_ip": ray.util.get_node_ip_address(),
        "hostname": platform.node(),
        "cpu_model": cpu_model(),
        "steps_per_s": best_step_rate(env_config, seconds),
    }


def calibrate(env_config: dict[str, Any], trial_params: list[dict[str, Any]] | None = None,
              seconds: float = 1.0) -> dict[str, Any]:
    """Measure every alive node (Ray must be running); the median is the figure used for limits.
    With the grid's `trial_params`, also the bare sampler ceiling of each of its sampler configurations.

    Nodes are measured one after another: nodes of a local test cluster share this machine's cores.
    """
    nodes = [n for n in ray.nodes() if n.get("Alive") and n["Resources"].get("CPU", 0) >= 1]
    results = [
        ray.get(
            _measure_on_node.options(
                scheduling_strategy=NodeAffinitySchedulingStrategy(node_id=n["NodeID"], soft=False)
            ).remote(env_config, seconds)
        )
        for n in nodes
    ]
    calibration = {
        "env_id": env_config["id"],
        "step_cost": env_config.get("step_cost"),
        "seconds_per_node": seconds,
        "nodes": results,
        "steps_per_s_per_core": statistics.median(r["steps_per_s"] for r in results),
    }
    if trial_params:
        calibration["sampler_ceilings"] = sampler_ceilings(trial_params)
    return calibration


# --- The second calibration: RLlib's own sampler ceiling -------------------------------------------
# A bare SingleAgentEnvRunner built from a trial's own params (same env and step cost, same envs per
# runner and vectorize mode, same connector and model), sampling with its policy and learning nothing.
# Every sampler in the sweep runs under this ceiling; the gap to the raw env rate is RLlib's per-step cost.

WARMUP_VECTOR_STEPS = 5
LONGEST_SAMPLER_CALIBRATION_S = 6.0  # a slower configuration (say a 30 s step) is not calibrated


def envs_per_runner(params: dict[str, Any]) -> int:
    """The trial's envs per runner, RLlib's default where its params do not say."""
    return resolve(params, ("num_envs_per_env_runner",))["num_envs_per_env_runner"]


def expected_vector_step_s(params: dict[str, Any]) -> float:
    """A guess at one vector step's time, for budgets: the step costs paid in turn plus 2 ms standing in
    for RLlib's own cost."""
    cost = (params.get("step_cost") or {}).get("seconds", 0.0)
    waits = waits_per_vector_step(envs_per_runner(params), params.get("gym_env_vectorize_mode"))
    return waits * cost + 0.002


def vector_steps_for(params: dict[str, Any], seconds: float, most: int = 300, fewest: int = 10) -> int:
    """A step-count budget: a costly step would make a time budget alone overrun (one vector step of
    four sync 50 ms envs is 0.2 s)."""
    return max(fewest, min(most, int(seconds / expected_vector_step_s(params))))


def bare_runner_sample(params: dict[str, Any], vector_steps: int,
                       warmup_vector_steps: int = WARMUP_VECTOR_STEPS, windows: int = 1) -> dict[str, Any]:
    """A bare env runner sampling in this process: seconds per vector step (env steps counted by RLlib /
    envs per runner) and the share of an env's loop turns spent on resets (RLlib resets an ended
    episode's env on the next turn, without stepping it). With several windows of `vector_steps`, the
    fastest counts: a ceiling is the best the sampler does, and a burst of other work on the machine
    only ever slows a window down."""
    import torch
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

    from scaling_study.run import algorithm_config, envs

    envs.register()
    config = algorithm_config.build_config({**params, "num_env_runners": 0})
    runner = SingleAgentEnvRunner(config=config)
    num_envs = config.num_envs_per_env_runner
    found = []
    try:
        torch.manual_seed(0)
        runner.sample(num_timesteps=warmup_vector_steps * num_envs)  # first forward passes, env resets
        for _ in range(windows):
            start = time.perf_counter()
            episodes = runner.sample(num_timesteps=vector_steps * num_envs)
            seconds = time.perf_counter() - start
            steps = sum(len(e) for e in episodes)
            resets = sum(e.is_done for e in episodes)
            found.append({"seconds_per_vector_step": seconds / (steps / num_envs),
                          "reset_share": float(resets / (steps + resets))})
    finally:
        runner.stop()
    return {**min(found, key=lambda window: window["seconds_per_vector_step"]),
            "torch_threads": torch.get_num_threads()}


# Best of this many windows per sampler configuration (see bare_runner_sample): a single 0.5 s window was
# 20% slow now and then on a loaded 2-core machine (tests/test_ground_truth.py).
SAMPLER_WINDOWS = 3


def _sampler_key_of(params: dict[str, Any]) -> str:
    return sampler_key(envs_per_runner(params), params.get("gym_env_vectorize_mode"),
                       params.get("step_cost"))


@ray.remote(num_cpus=1)
def _sampler_ceilings(configs: dict[str, dict[str, Any]], seconds: float) -> dict[str, dict[str, Any]]:
    measured: dict[str, dict[str, Any]] = {}  # by sampler key: configs that differ only in step cost share a free run

    def measure(params: dict[str, Any]) -> dict[str, Any]:
        key = _sampler_key_of(params)
        if key not in measured:
            measured[key] = bare_runner_sample(params, vector_steps_for(params, seconds), windows=SAMPLER_WINDOWS)
        return measured[key]

    out = {}
    for key, params in configs.items():
        steps = vector_steps_for(params, seconds)
        if (SAMPLER_WINDOWS * steps + WARMUP_VECTOR_STEPS) * expected_vector_step_s(params) > \
                LONGEST_SAMPLER_CALIBRATION_S:
            out[key] = {"skipped": f"steps too slow to calibrate within {LONGEST_SAMPLER_CALIBRATION_S:g} s"}
            continue
        sampled = measure(params)
        # RLlib's own time per vector step, with free env steps: the sampling model's overhead
        free = measure({**params, "step_cost": None})
        out[key] = {
            "num_envs_per_env_runner": envs_per_runner(params),
            "gym_env_vectorize_mode": params.get("gym_env_vectorize_mode") or "sync",
            "step_cost": params.get("step_cost"),
            "vector_steps": steps,
            **sampled,
            "overhead_s_per_vector_step": free["seconds_per_vector_step"],
            "env_steps_per_s_per_runner": envs_per_runner(params) / sampled["seconds_per_vector_step"],
        }
    return out


def sampler_ceilings(trial_params: list[dict[str, Any]], seconds: float = 0.3) -> dict[str, Any]:
    """One bare-runner measurement (the best of SAMPLER_WINDOWS windows of about `seconds` each) per distinct
    (envs per runner, vectorize mode, step cost) of the grid, in one 1-CPU Ray worker (Ray must be running),
    keyed by `sampler_key`."""
    configs = {}
    for params in trial_params:
        configs.setdefault(_sampler_key_of(params), params)
    return {"seconds_per_window": seconds, "windows": SAMPLER_WINDOWS,
            "configs": ray.get(_sampler_ceilings.remote(configs, seconds))}
