"""Where a simulated step cost goes: ms per vector step, layer by layer, in a plain process and in Ray.

    python -m bench.arms.step_cost [--costs-ms 0 2 4 10 20 50] [--repeats 3]

For FrozenLake with a `sleep` (waiting) or `spin` (busy) step cost of S, and for three vectorizations
(1 env sync, 2 envs sync, 2 envs async), it times one vector step (every env of the runner stepped once):
    sleep   - `time.sleep(S)` alone (the sleep's own overshoot; sleep mode only)
    gym     - a gymnasium vector env stepped with random actions (no RLlib): the pipe cost of async
    runner  - a bare RLlib SingleAgentEnvRunner built from the suite's own config (same wrapper,
              FlattenObservations connector, model [16]), sampling with its policy
each in this process (`plain`) and in a Ray task (`ray`, num_cpus=1; `ray-0.5`, num_cpus=0.5 as the
known-answer sweep gives its runners). Prints one `STEP_COST {json}` line per cell, the medians as a
markdown table, and the fitted penalty of `scaling_study.core.sampling_model`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from functools import partial
from typing import Any

VECTORIZATIONS = {"1 sync": (1, "sync"), "2 sync": (2, "sync"), "2 async": (2, "async")}
MODEL = [16]


def params_for(cost_s: float, cost_mode: str, num_envs: int, vectorize: str) -> dict[str, Any]:
    return {"env_id": "FrozenLake-v1", "step_cost": {"seconds": cost_s, "mode": cost_mode} if cost_s else None,
            "num_envs_per_env_runner": num_envs, "gym_env_vectorize_mode": vectorize, "fcnet_hiddens": MODEL}


def time_sleep(cost_s: float, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        time.sleep(cost_s)
    return (time.perf_counter() - start) / count


def time_gym(params: dict[str, Any], count: int) -> float:
    """Seconds per vector step of env steps that count: gymnasium (like RLlib) resets an ended env on its
    next turn instead of stepping it, so turns are counted per env and reset turns left out."""
    import gymnasium as gym
    import numpy as np

    from scaling_study.run.algorithm_config import env_config
    from scaling_study.run.envs import make_env

    num_envs = params["num_envs_per_env_runner"]
    fns = [partial(make_env, env_config(params))] * num_envs
    vector = gym.vector.AsyncVectorEnv(fns) if params["gym_env_vectorize_mode"] == "async" else gym.vector.SyncVectorEnv(fns)
    try:
        vector.action_space.seed(0)
        vector.reset(seed=0)
        ended = np.zeros(num_envs, bool)
        for _ in range(3):
            _, _, terminated, truncated, _ = vector.step(vector.action_space.sample())
            ended = terminated | truncated
        stepped, start = 0, time.perf_counter()
        for _ in range(count):
            stepped += int((~ended).sum())
            _, _, terminated, truncated, _ = vector.step(vector.action_space.sample())
            ended = terminated | truncated
        return (time.perf_counter() - start) / (stepped / num_envs)
    finally:
        vector.close()


def measure(layer: str, params: dict[str, Any], seconds: float) -> dict[str, Any]:
    import torch

    from scaling_study.run.calibrate import bare_runner_sample, vector_steps_for

    count = vector_steps_for(params, seconds)
    cost = (params["step_cost"] or {}).get("seconds", 0.0)
    if layer == "runner":
        sampled = bare_runner_sample(params, count)
        per_step = sampled.pop("seconds_per_vector_step")
        extra = {k: round(1000 * v, 4) if k.endswith("_s") else v for k, v in sampled.items()}
    else:
        per_step = time_sleep(cost, count) if layer == "sleep" else time_gym(params, count)
        extra = {"torch_threads": torch.get_num_threads()}
    return {"ms": 1000 * per_step, "vector_steps": count, **extra}


def cells(costs_ms: list[float]) -> list[dict[str, Any]]:
    """Waiting steps through every layer; busy (spin) steps through the runner only, to compare."""
    out = []
    for cost_ms in costs_ms:
        if cost_ms:
            out.append({"layer": "sleep", "cost_ms": cost_ms, "cost_mode": "sleep", "vectorize": "1 sync"})
        for vectorize in VECTORIZATIONS:
            for layer in ("gym", "runner"):
                out.append({"layer": layer, "cost_ms": cost_ms, "cost_mode": "sleep", "vectorize": vectorize})
            if cost_ms:
                out.append({"layer": "runner", "cost_ms": cost_ms, "cost_mode": "spin", "vectorize": vectorize})
    return out


def run_cell(cell: dict[str, Any], seconds: float) -> dict[str, Any]:
    num_envs, vectorize = VECTORIZATIONS[cell["vectorize"]]
    return measure(cell["layer"], params_for(cell["cost_ms"] / 1000, cell["cost_mode"], num_envs, vectorize), seconds)


def measure_all(todo: list[dict[str, Any]], kinds: list[str], seconds: float, repeats: int) -> list[dict[str, Any]]:
    import ray

    remote = ray.remote(run_cell)
    rows = []
    for repeat in range(repeats):
        for kind in kinds:
            for cell in todo:
                if kind == "ray-0.5" and (cell["layer"] != "runner" or cell["cost_mode"] == "spin"):
                    continue
                if kind == "plain":
                    result = run_cell(cell, seconds)
                else:
                    cpus = 1 if kind == "ray" else 0.5
                    result = ray.get(remote.options(num_cpus=cpus).remote(cell, seconds))
                row = {**cell, "kind": kind, "repeat": repeat, **result}
                print("STEP_COST " + json.dumps(row), flush=True)
                rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """Median ms per vector step: one row per (layer, kind, cost mode, vectorization), one column per cost."""
    costs = sorted({r["cost_ms"] for r in rows})
    groups: dict[tuple, dict[float, list[float]]] = {}
    for r in rows:
        cost_mode = r["cost_mode"] if r["cost_ms"] else "-"
        for mode in ("sleep", "spin") if cost_mode == "-" else (cost_mode,):
            groups.setdefault((r["layer"], r["kind"], mode, r["vectorize"]), {}).setdefault(r["cost_ms"], []).append(r["ms"])
    lines = ["| layer | process | step | envs | " + " | ".join(f"{c:g} ms" for c in costs) + " |",
             "|---|---|---|---|" + "---|" * len(costs)]
    for key in sorted(groups):
        values = [f"{statistics.median(groups[key][c]):.2f}" if c in groups[key] else "" for c in costs]
        lines.append("| " + " | ".join(key) + " | " + " | ".join(values) + " |")
    return "\n".join(lines)


def observations(rows: list[dict[str, Any]], kind: str, layer: str = "runner") -> list:
    """The model's observations from one process kind's rows: medians per (cost, mode, vectorization),
    each with the median time at S = 0 of its vectorization as overhead."""
    from scaling_study.core.sampling_model import Observation

    mine = [r for r in rows if r["kind"] == kind and r["layer"] == layer]
    cells: dict[tuple, list[dict]] = {}
    for r in mine:
        cells.setdefault((r["cost_ms"], r["cost_mode"], r["vectorize"]), []).append(r)
    out = []
    for (cost_ms, cost_mode, vectorize), group in cells.items():
        free = cells.get((0, "sleep", vectorize))
        if not free:
            continue
        num_envs, mode = VECTORIZATIONS[vectorize]
        out.append((cost_mode, Observation(
            cost_ms / 1000, statistics.median(r["ms"] for r in group) / 1000,
            statistics.median(r["ms"] for r in free) / 1000, num_envs, mode,
            statistics.median(r.get("reset_share", 0.0) for r in group))))
    return out


def fitted_penalties(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The wake-up line fitted (scipy least squares) to the runner rows of each process kind and step
    mode, and the model's worst relative error over those rows."""
    from scaling_study.core import sampling_model

    fits = {}
    for kind in sorted({r["kind"] for r in rows}):
        for cost_mode in ("sleep", "spin"):
            found = [o for m, o in observations(rows, kind) if m == cost_mode or o.step_s == 0]
            if len({o.step_s for o in found if o.step_s > 0}) < 2:
                continue
            wake = sampling_model.fit_wake_up(found)
            errors = sampling_model.relative_errors(found, wake)
            naive = sampling_model.relative_errors(found, sampling_model.WakeUp())
            fits[f"{kind} {cost_mode}"] = {"fixed_ms": round(1000 * wake.fixed_s, 3), "fraction": round(wake.fraction, 4),
                                           "max_error_pct": round(100 * float(abs(errors).max()), 1),
                                           "max_error_without_wake_up_pct": round(100 * float(abs(naive).max()), 1)}
    return fits


def sweep_breakdown(exp_dir: str) -> list[dict[str, Any]]:
    """Per trial of a finished sweep (bench/specs/step_cost_sweep.yaml): ms per vector step of the sampling
    phase (the suite's sample_s) and of the runner's own sample() calls (RLlib's `env_runners/sample`, a
    moving average), medians over measured iterations, with RLlib's mean episode length."""
    from pathlib import Path

    out = []
    for params_file in sorted(Path(exp_dir).glob("*/params.json")):
        params = json.loads(params_file.read_text())
        rows = [json.loads(line) for line in (params_file.parent / "result.json").read_text().splitlines()]
        rows = [r for r in rows if not r["scaling"]["warmup"]]
        vector = [r["scaling"]["env_steps"] / params.get("num_envs_per_env_runner", 1) for r in rows]
        out.append({
            "point": params["point"],
            "sample_phase_ms": statistics.median(1000 * r["scaling"]["sample_s"] / v for r, v in zip(rows, vector, strict=True)),
            "runner_sample_ms": statistics.median(1000 * r["env_runners"]["sample"] / v for r, v in zip(rows, vector, strict=True)),
            "episode_len_mean": statistics.median(r["env_runners"]["episode_len_mean"] for r in rows),
        })
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--costs-ms", type=float, nargs="+", default=[0, 2, 4, 10, 20, 50])
    parser.add_argument("--kinds", nargs="+", default=["plain", "ray", "ray-0.5"], choices=["plain", "ray", "ray-0.5"])
    parser.add_argument("--layers", nargs="+", default=["sleep", "gym", "runner"], choices=["sleep", "gym", "runner"])
    parser.add_argument("--seconds", type=float, default=0.6, help="time budget per cell (turned into a step count)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--sweep-dir", help="instead: break down the sampling of a finished sweep "
                        "(bench/specs/step_cost_sweep.yaml) into RLlib's timers, and exit")
    args = parser.parse_args(argv)
    if args.sweep_dir:
        for row in sweep_breakdown(args.sweep_dir):
            print("SWEEP_STEP " + json.dumps(row))
        return

    import ray

    todo = [c for c in cells(args.costs_ms) if c["layer"] in args.layers]
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        rows = measure_all(todo, args.kinds, args.seconds, args.repeats)
    finally:
        ray.shutdown()
    print(table(rows))
    print("FITTED (ms, fraction): " + json.dumps(fitted_penalties(rows), indent=1))


if __name__ == "__main__":
    main()
