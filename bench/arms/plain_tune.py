"""The sweep-efficiency baseline: a plain Tune script running the grid of a suite experiment file.

    python -m bench.arms.plain_tune bench/specs/grid6.yaml STORAGE_DIR

What a Tune user writes without the suite: a function trainable that builds PPO by hand
(bench.arms.bare_loop.build_config) and reports every iteration, the grid as `tune.grid_search` axes, RLlib's
own resource request per trial, `max_concurrent_trials=1`, Tune's defaults for everything else (loggers,
progress output, no actor reuse). Ray is started as the suite starts it (no dashboard), so the
comparison is about how each uses Tune, not about Ray's options. Each row carries `build_s` (the
trainable's own timing of build_algo) and the algorithm's `time_this_iter_s`: a trial's own time is
their sum, as the suite's is setup_s + the sum of scaling/iter_s. `BENCH_EVENT {"event", "t"}` lines
let the bench split the wall time. RLlib is imported lazily, in Tune's set-up, as a user's script would.
"""

from __future__ import annotations

import json
import sys
import time

ENV_KEY = "env_id"


def event(name: str) -> None:
    print("BENCH_EVENT " + json.dumps({"event": name, "t": time.time()}), flush=True)


def config_of(config: dict):
    """The PPOConfig of one trial's Tune config."""
    from bench.arms.bare_loop import build_config

    return build_config({k: v for k, v in config.items() if k != ENV_KEY}, env_id=config[ENV_KEY])


def train_ppo(config: dict) -> None:
    from ray import tune

    ppo = config_of(config)
    started_at = time.time()
    build_start = time.perf_counter()
    algo = ppo.build_algo()
    build_s = time.perf_counter() - build_start
    try:
        while True:  # Tune ends the trial at the stop criterion
            result = algo.train()
            tune.report({"env_steps": int(result["env_runners"]["num_env_steps_sampled"]),
                         "time_this_iter_s": float(result["time_this_iter_s"]), "build_s": build_s,
                         "trial_started_at": started_at, "iter_ended_at": time.time()})
    finally:
        algo.stop()


def resources(config: dict):
    from ray.rllib.algorithms.ppo import PPO

    return PPO.default_resource_request(config_of(config))


def main(argv: list[str] | None = None) -> None:
    experiment, storage = (argv if argv is not None else sys.argv[1:])[:2]
    import ray
    from ray import tune

    from bench.harness.experiments import read_grid

    event("imported")
    ray.init(include_dashboard=False, _node_ip_address="127.0.0.1")
    event("ray_started")
    grid = read_grid(experiment)
    if grid.axes is None:
        raise SystemExit(f"{experiment}: the plain script takes grid axes, not a list of points")
    tuner = tune.Tuner(
        tune.with_resources(train_ppo, resources),
        param_space={ENV_KEY: grid.env_id, **grid.fixed, **{k: tune.grid_search(v) for k, v in grid.axes.items()}},
        tune_config=tune.TuneConfig(max_concurrent_trials=1, num_samples=grid.repeats),  # the grid, `repeats` times
        run_config=tune.RunConfig(storage_path=storage, name="plain", stop={"training_iteration": grid.iterations}),
    )
    tuner.fit()
    event("fit_done")
    ray.shutdown()
    event("ray_stopped")


if __name__ == "__main__":
    main()
