"""Shared helpers for tests/test_analysis_*.py: fixture copies and a large suite-format directory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SUITE = FIXTURES / "suite_format"
NEW_STACK = FIXTURES / "new_stack"
OLD_STACK = FIXTURES / "old_stack"


def copy_fixture(source: Path, tmp_path: Path, name: str | None = None) -> Path:
    target = tmp_path / (name or source.name)
    shutil.copytree(source, target)
    return target


def trial_dirs(experiment: Path) -> list[Path]:
    return sorted(p for p in experiment.iterdir() if p.is_dir() and (p / "params.json").exists())


def set_trial_status(experiment: Path, trial_dir: Path, status: str) -> None:
    """Rewrite one trial's status in experiment_state-*.json, as Tune would record it."""
    state_file = next(experiment.glob("experiment_state-*.json"))
    state = json.loads(state_file.read_text())
    for entry in state["trial_data"]:
        trial = json.loads(entry[0])
        if Path(trial["relative_logdir"]).name == trial_dir.name:
            trial["status"] = status
            entry[0] = json.dumps(trial)
    state_file.write_text(json.dumps(state))


def template_row() -> dict:
    """A real new-stack RLlib result row (about 17 KB of JSON), to make synthetic rows realistic in size."""
    first = next(p for p in trial_dirs(NEW_STACK))
    return json.loads((first / "result.json").read_text().splitlines()[0])


def write_large_experiment(root: Path, runners=(0, 1, 2, 3, 4), envs=(1, 2, 4, 8), repeats=5,
                           iterations=20) -> Path:
    """A suite-format directory of len(runners) x len(envs) x repeats trials (100 by default).

    Throughput follows a made-up Amdahl-like model, so figures and findings have something to show.
    """
    template = template_row()
    root.mkdir(parents=True)
    start = 1_700_000_000.0
    for index, (r, e, k) in enumerate((r, e, k) for r in runners for e in envs for k in range(repeats)):
        directory = root / f"trial_{index:05d}_num_env_runners={r},num_envs_per_env_runner={e},repeat={k}"
        directory.mkdir()
        params = {"num_env_runners": r, "num_envs_per_env_runner": e, "num_cpus_per_env_runner": 1,
                  "repeat": k, "seed": k, "point": f"num_env_runners={r}, num_envs_per_env_runner={e}",
                  "warmup_iterations": 1}
        (directory / "params.json").write_text(json.dumps(params))
        learn_s, sample_s = 0.5, 2.0 / (max(r, 1) * (1 + 0.5 * (e - 1) ** 0.5))
        lines, ended = [], start + 3.0
        for it in range(1, iterations + 1):
            jitter = 1.0 + 0.02 * ((index * 7 + it * 13) % 5 - 2)
            iter_s = (learn_s + sample_s + 0.05) * jitter
            ended += iter_s
            row = dict(template, training_iteration=it, time_this_iter_s=iter_s, timestamp=int(ended),
                       trial_id=f"big_{index:05d}")
            row["scaling"] = {"env_steps": 4000, "iter_s": iter_s, "env_steps_per_s": 4000 / iter_s,
                              "sample_s": sample_s * jitter, "learn_s": learn_s * jitter, "sync_s": 0.02,
                              "setup_s": 3.0, "cpus": 1 + r, "warmup": it == 1, "trial_started_at": start,
                              "iter_ended_at": ended, "nodes": 1, "node_ids": ["node-a"]}
            lines.append(json.dumps(row))
        (directory / "result.json").write_text("\n".join(lines) + "\n")
        start = ended + 1.0
    return root


def raw_rows(trial_dir: Path) -> list[dict]:
    """A trial's result.json rows as Tune wrote them, read here without the code under test."""
    return [json.loads(line) for line in (trial_dir / "result.json").read_text().splitlines() if line.strip()]


def rows_by_runners(experiment: Path) -> dict[int, list[dict]]:
    """Each trial's raw rows, keyed by the num_env_runners its params.json names (one trial per count)."""
    return {json.loads((d / "params.json").read_text())["num_env_runners"]: raw_rows(d)
            for d in trial_dirs(experiment)}


def rllib_rate(row: dict) -> float:
    """Env steps per second of one raw RLlib row: the iteration's sampled steps (new stack under env_runners/,
    old stack at the top level) over Tune's time_this_iter_s."""
    steps = row.get("env_runners", {}).get("num_env_steps_sampled", row.get("num_env_steps_sampled_this_iter"))
    return steps / row["time_this_iter_s"]
