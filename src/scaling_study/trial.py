"""One Tune trial: build PPO from plain params, time the build, train, and report honest metrics."""

from __future__ import annotations

import time
from typing import Any

import ray
from ray import tune

from scaling_study import envs, ppo
from scaling_study.metrics import lifetime_env_steps, scaling_metrics
from scaling_study.spec import cpus_needed

# Keys the inner Algorithm (itself a Tune Trainable) fills for itself; Tune fills them again for the
# trial, so they are dropped to keep one truth. `time_this_iter_s` stays: it is the iteration's own
# wall time, where Tune's would count the build into the first iteration.
TRAINABLE_KEYS = (
    "config", "trial_id", "experiment_id", "date", "timestamp", "pid", "hostname", "node_ip", "done",
    "time_total_s", "time_since_restore", "iterations_since_restore", "timesteps_since_restore",
    "training_iteration", "timesteps_total", "episodes_total",
)


def run_trial(params: dict[str, Any]) -> None:
    """Tune function trainable; Tune stops it when a stop criterion of the spec is met."""
    trial_started_at = time.time()
    envs.register()
    config = ppo.build_config(params)
    build_start = time.perf_counter()
    algo = config.build_algo()
    setup_s = time.perf_counter() - build_start
    node_ids = _nodes_used(algo)
    facts = {
        "setup_s": setup_s,
        "cpus": cpus_needed(params),
        "trial_started_at": trial_started_at,
        "nodes": len(set(node_ids)),
        "node_ids": node_ids,
    }
    previous_steps, iteration = 0, 0
    try:
        while True:
            result = algo.train()
            iteration += 1
            scaling = scaling_metrics(
                result,
                previous_lifetime_steps=previous_steps,
                warmup=iteration <= params.get("warmup_iterations", 0),
                iter_ended_at=time.time(),
                **facts,
            )
            previous_steps = lifetime_env_steps(result)
            for key in TRAINABLE_KEYS:
                result.pop(key, None)
            result["scaling"] = scaling
            tune.report(result)
    finally:
        algo.stop()


def _nodes_used(algo) -> list[str]:
    """Node ids of the main process (which holds the learner when num_learners=0), then of each remote
    env runner (where sampling happens), then of each remote learner."""
    main = ray.get_runtime_context().get_node_id()
    group = algo.env_runner_group
    remote = []
    if group is not None and group.num_remote_env_runners() > 0:
        remote = group.foreach_env_runner(
            lambda runner: ray.get_runtime_context().get_node_id(), local_env_runner=False
        )
    learners = algo.learner_group
    if learners is not None and learners.is_remote:
        calls = learners.foreach_learner(lambda learner: ray.get_runtime_context().get_node_id())
        remote += [call.get() for call in calls if call.ok]
    return [main, *remote]
