"""The harness-tax baseline: a bare `algo.train()` loop in the driver, no Tune, no suite.

    python -m bench.arms.bare_loop bench/specs/harness_tax.yaml [--torch-threads 1]

Builds the file's single point by hand (`build_config`: what a plain RLlib script on Ray 2.60 writes,
held equal to the suite's config by tests/test_bench.py), trains it for the file's iterations and prints
`BENCH_RESULT {json}`: the build time and, per iteration, env steps sampled, time_this_iter_s and their
ratio. Ray starts as the suite starts it (2 CPUs, no dashboard, 127.0.0.1); the Algorithm lives in this
driver, where the suite's lives in a 1-CPU Tune trial actor that Ray gives OMP_NUM_THREADS=1, so torch
is pinned to one thread here too by default.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.connectors.env_to_module import FlattenObservations
from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig

from bench.harness.experiments import read_grid


def one_hot(env, spaces, device):
    # A named function (not a lambda) so the config pickles to env runner actors.
    return FlattenObservations()


def build_config(settings: dict[str, Any], env_id: str = "FrozenLake-v1", seed: int = 0) -> PPOConfig:
    """A PPOConfig from `settings` (keys of experiments.KNOWN_SETTINGS); the rest keep RLlib's defaults.
    The plain Tune script's trainable builds the same."""
    config = (PPOConfig().framework("torch").environment(env_id).debugging(seed=seed)
              .env_runners(num_env_runners=settings.get("num_env_runners", 0),
                           num_envs_per_env_runner=settings.get("num_envs_per_env_runner", 1),
                           env_to_module_connector=one_hot))
    training = {k: settings[k] for k in ("train_batch_size_per_learner", "minibatch_size", "num_epochs") if k in settings}
    if training:
        config = config.training(**training)
    if "fcnet_hiddens" in settings:
        config = config.rl_module(model_config=DefaultModelConfig(fcnet_hiddens=list(settings["fcnet_hiddens"])))
    return config


def iteration_row(iteration: int, result: dict[str, Any]) -> dict[str, Any]:
    """One iteration's throughput, from RLlib's own result keys."""
    env_steps, seconds = int(result["env_runners"]["num_env_steps_sampled"]), float(result["time_this_iter_s"])
    return {"iteration": iteration, "env_steps": env_steps, "time_this_iter_s": seconds,
            "env_steps_per_s": env_steps / seconds}


def median_throughput(rows: list[dict[str, Any]], warmup_iterations: int) -> float:
    """Median env steps/s over the iterations after warmup (the suite's own rule)."""
    return statistics.median(r["env_steps_per_s"] for r in rows if r["iteration"] > warmup_iterations)


def run_loop(path: str, torch_threads: int) -> dict[str, Any]:
    import ray
    import torch

    grid = read_grid(path)
    if len(grid.points) != 1:
        raise SystemExit(f"{path}: the bare loop runs one point; this file has {len(grid.points)}")
    torch.set_num_threads(torch_threads)
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        config = build_config(grid.points[0], env_id=grid.env_id)
        started = time.perf_counter()
        algo = config.build_algo()
        build_s = time.perf_counter() - started
        rows = [iteration_row(i, algo.train()) for i in range(1, grid.iterations + 1)]
        algo.stop()
    finally:
        ray.shutdown()
    return {"build_s": build_s, "torch_threads": torch.get_num_threads(), "iterations": rows,
            "env_steps_per_s": median_throughput(rows, grid.warmup_iterations)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", help="a one-point experiment file, e.g. bench/specs/harness_tax.yaml")
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch intra-op threads (default 1: what Ray gives the suite's 1-CPU trial actor)")
    args = parser.parse_args(argv)
    print("BENCH_RESULT " + json.dumps(run_loop(args.experiment, args.torch_threads)), flush=True)


if __name__ == "__main__":
    main()
