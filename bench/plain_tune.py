"""The sweep-efficiency baseline: a plain Tune script running the grid of a suite experiment file.

    python -m bench.plain_tune bench/specs/grid6.yaml STORAGE_DIR

What a Tune user writes without the suite: a function trainable that builds PPO by hand
(bench.bare_loop.build_config) and reports every iteration, the grid as `tune.grid_search` axes, RLlib's own
resource request per trial, `max_concurrent_trials=1`, Tune's defaults for everything else (loggers,
progress output, no actor reuse). Ray is started as the suite starts it (no dashboard), so the
comparison is about how each uses Tune, not about Ray's options.

Each result row carries `build_s` (the trainable's own timing of build_algo) and the algorithm's
`time_this_iter_s`, so Tune's time_total_s is the sum of iteration times and a trial's own time is
time_total_s + build_s: the same definition as the suite's setup_s + sum of scaling/iter_s.
The script prints `BENCH_EVENT {"event": ..., "t": epoch}` lines so the bench can split its wall time.
"""

from __future__ import annotations

import json
import sys
import time

ENV_KEY = "env_id"


def event(name: str) -> None:
    print("BENCH_EVENT " + json.dumps({"event": name, "t": time.time()}), flush=True)


def _settings(config: dict) -> tuple[dict, str]:
    return {k: v for k, v in config.items() if k != ENV_KEY}, config[ENV_KEY]


def train_ppo(config: dict) -> None:
    from ray import tune

    from bench.bare_loop import build_config

    started_at = time.time()
    settings, env_id = _settings(config)
    build_start = time.perf_counter()
    algo = build_config(settings, env_id=env_id).build_algo()
    build_s = time.perf_counter() - build_start
    try:
        while True:  # Tune ends the trial at the stop criterion
            result = algo.train()
            tune.report({
                "env_steps": int(result["env_runners"]["num_env_steps_sampled"]),
                "time_this_iter_s": float(result["time_this_iter_s"]),
                "build_s": build_s,
                "trial_started_at": started_at,
                "iter_ended_at": time.time(),
            })
    finally:
        algo.stop()


def resources(config: dict):
    from ray.rllib.algorithms.ppo import PPO

    from bench.bare_loop import build_config

    settings, env_id = _settings(config)
    return PPO.default_resource_request(build_config(settings, env_id=env_id))


def param_space(path: str) -> tuple[dict, int, int]:
    """The file's fixed settings plus one `tune.grid_search` per axis; its iterations and repeats."""
    from ray import tune

    from bench.experiments import read_grid

    grid = read_grid(path)
    if grid.axes is None:
        raise SystemExit(f"{path}: the plain script takes grid axes, not a list of points")
    space = {ENV_KEY: grid.env_id, **grid.fixed, **{k: tune.grid_search(v) for k, v in grid.axes.items()}}
    return space, grid.iterations, grid.repeats


def main(argv: list[str] | None = None) -> None:
    experiment, storage = (argv if argv is not None else sys.argv[1:])[:2]
    import ray
    from ray import tune

    event("imported")
    ray.init(include_dashboard=False, _node_ip_address="127.0.0.1")
    event("ray_started")
    space, iterations, repeats = param_space(experiment)
    tuner = tune.Tuner(
        tune.with_resources(train_ppo, resources),
        param_space=space,
        tune_config=tune.TuneConfig(max_concurrent_trials=1, num_samples=repeats),  # the grid, `repeats` times
        run_config=tune.RunConfig(storage_path=storage, name="plain", stop={"training_iteration": iterations}),
    )
    tuner.fit()
    event("fit_done")
    ray.shutdown()
    event("ray_stopped")


if __name__ == "__main__":
    main()
