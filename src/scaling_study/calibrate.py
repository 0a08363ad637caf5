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

from scaling_study.envs import make_env
from scaling_study.provenance import cpu_model


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


def calibrate(env_config: dict[str, Any], seconds: float = 1.0) -> dict[str, Any]:
    """Measure every alive node (Ray must be running); the median is the figure used for limits.

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
    return {
        "env_id": env_config["id"],
        "step_cost": env_config.get("step_cost"),
        "seconds_per_node": seconds,
        "nodes": results,
        "steps_per_s_per_core": statistics.median(r["steps_per_s"] for r in results),
    }
