"""One Tune trial: build PPO from plain params, time the build, train, and report honest metrics."""

from __future__ import annotations

import time
from typing import Any

import ray
from ray import tune

from scaling_study import envs, ppo
from scaling_study.deadline import Deadline, TrialTimeout
from scaling_study.metrics import lifetime_env_steps, scaling_metrics
from scaling_study.resources import cpus_needed
from scaling_study.rows import GROUP

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
    deadline = Deadline(params.get("trial_timeout_s"))
    build_start = time.perf_counter()
    algo = deadline.run("building the algorithm", config.build_algo)
    setup_s = time.perf_counter() - build_start
    node_ids = _nodes_used(algo)
    facts = {
        "setup_s": setup_s,
        "cpus": cpus_needed(params),
        "trial_started_at": trial_started_at,
        "nodes": len(set(node_ids)),
        "node_ids": node_ids,
    }
    previous_steps, iteration, stalled = 0, 0, False
    try:
        while True:
            result = deadline.run(f"iteration {iteration + 1}", algo.train)
            iteration += 1
            faults = fault_facts(result, params.get("num_env_runners", 0))
            scaling = scaling_metrics(
                result,
                previous_lifetime_steps=previous_steps,
                # An iteration short of env runners measures the fault, not the setting: left out too.
                warmup=iteration <= params.get("warmup_iterations", 0) or faults["degraded"],
                iter_ended_at=time.time(),
                **facts,
                **faults,
            )
            previous_steps = lifetime_env_steps(result)
            for key in TRAINABLE_KEYS:
                result.pop(key, None)
            result[GROUP] = scaling
            tune.report(result)
    except TrialTimeout:
        stalled = True  # the stalled call still holds the algorithm; Tune ends this process instead
        raise
    finally:
        if not stalled:
            algo.stop()


def fault_facts(result: dict[str, Any], num_env_runners: int) -> dict[str, Any]:
    """Env runner health this iteration, from RLlib's `fault_tolerance` group: restarts so far, and
    whether fewer runners than asked for were healthy (a dead runner samples nothing until restored)."""
    tolerance = result.get("fault_tolerance") or {}
    healthy = tolerance.get("num_healthy_workers", num_env_runners)
    return {
        "env_runner_restarts": int(tolerance.get("num_remote_worker_restarts", 0)),
        "degraded": bool(num_env_runners) and healthy < num_env_runners,
    }


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
