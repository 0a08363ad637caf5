"""One Tune trial: build the algorithm (PPO, APPO, IMPALA) from plain params, time the build, train, and report honest metrics."""

from __future__ import annotations

import os
import time
from typing import Any

import ray
from ray import tune

from scaling_study.core.cores import granted_cores
from scaling_study.core.resources import cpus_needed
from scaling_study.core.rows import GROUP
from scaling_study.core.stats import relative_ci
from scaling_study.run import algorithm_config, envs
from scaling_study.run.config_calls import CONFIG_CLASSES, algorithm_of
from scaling_study.run.deadline import Deadline, TrialTimeout
from scaling_study.run.metrics import lifetime_env_steps, lifetime_trained_steps, scaling_metrics

# Keys the inner Algorithm (itself a Tune Trainable) fills for itself; Tune fills them again for the
# trial, so they are dropped to keep one truth. `time_this_iter_s` stays: it is the iteration's own
# wall time, where Tune's would count the build into the first iteration.
TRAINABLE_KEYS = (
    "config", "trial_id", "experiment_id", "date", "timestamp", "pid", "hostname", "node_ip", "done",
    "time_total_s", "time_since_restore", "iterations_since_restore", "timesteps_since_restore",
    "training_iteration", "timesteps_total", "episodes_total",
)


_trials_in_this_process = 0
"""Trials this process has run: more than one when Tune reuses the actor (a warm process)."""


def run_trial(params: dict[str, Any]) -> None:
    """Tune function trainable; Tune stops it when a stop criterion of the spec is met."""
    global _trials_in_this_process
    called_at = time.time()
    # Tune reuses this process only once the previous trial's thread has ended (its algo.stop() included),
    # waiting 2 s by default and failing the next trial past that; stopping env runners can take longer.
    os.environ.setdefault("TUNE_FUNCTION_THREAD_TIMEOUT_S", "60")
    warm = _trials_in_this_process > 0
    _trials_in_this_process += 1
    _import_rllib_and_torch(algorithm_of(params))
    # A cold process started for this trial: its start and imports count; a warm one: only what is left.
    trial_started_at = time.time()  # ready to build: what came before is startup_s
    startup_s = trial_started_at - (called_at if warm else _process_started_at())
    envs.register()
    config = algorithm_config.build_config(params)
    deadline = Deadline(params.get("trial_timeout_s"))
    build_start = time.perf_counter()
    algo = deadline.run("building the algorithm", config.build_algo)
    setup_s = time.perf_counter() - build_start
    node_ids = _nodes_used(algo)
    facts = {
        "setup_s": setup_s,
        "startup_s": startup_s,
        "warm_process": warm,
        "cpus": cpus_needed(params),
        "cores": granted_cores().granted,
        "trial_started_at": trial_started_at,
        "nodes": len(set(node_ids)),
        "node_ids": node_ids,
    }
    previous_steps, previous_trained, iteration, stalled, measured = 0, 0, 0, False, []
    try:
        while True:
            result = deadline.run(f"iteration {iteration + 1}", algo.train)
            iteration += 1
            faults = fault_facts(result, params.get("num_env_runners", 0))
            # An iteration short of env runners measures the fault, not the setting: left out too.
            warmup = iteration <= params.get("warmup_iterations", 0) or faults["degraded"]
            scaling = scaling_metrics(
                result,
                previous_lifetime_steps=previous_steps,
                previous_trained_steps=previous_trained,
                warmup=warmup,
                iter_ended_at=time.time(),
                measured_iterations=len(measured) + (not warmup),
                relative_ci=float("nan"),
                **facts,
                **faults,
            )
            if not warmup:
                measured.append(scaling["env_steps_per_s"])
                # The interval so far, for `stop: {precision: p}` (stopping.py) and for the reader.
                scaling["relative_ci"] = relative_ci(measured)
            previous_steps, previous_trained = lifetime_env_steps(result), lifetime_trained_steps(result)
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


# The torch RLModule and Learner modules building each algorithm imports, beside its config's module
# (config_calls.CONFIG_CLASSES).
TORCH_MODULES = {
    "PPO": ("ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module",
            "ray.rllib.algorithms.ppo.torch.ppo_torch_learner"),
    "APPO": ("ray.rllib.algorithms.appo.torch.default_appo_torch_rl_module",
             "ray.rllib.algorithms.appo.torch.appo_torch_learner"),
    "IMPALA": ("ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module",
               "ray.rllib.algorithms.impala.torch.impala_torch_learner"),
}


def _import_rllib_and_torch(algorithm: str) -> None:
    """Import what building `algorithm` needs before the build is timed, so setup_s is the build alone
    and a cold trial's setup_s compares with a warm one's."""
    import importlib

    import torch  # noqa: F401
    import torch._inductor.config  # noqa: F401  RLlib's torch learner reads it: 1.3 s of the first build

    for module in (CONFIG_CLASSES[algorithm][0], *TORCH_MODULES[algorithm]):
        importlib.import_module(module)


def _process_started_at() -> float:
    """Unix time this process started (Linux /proc); NaN elsewhere."""
    try:
        ticks = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in open("/proc/stat") if line.startswith("btime"))
    except (OSError, ValueError, IndexError, StopIteration):
        return float("nan")
    return boot + ticks / os.sysconf("SC_CLK_TCK")


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
