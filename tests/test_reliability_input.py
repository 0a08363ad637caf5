"""The bad-input catalogue: every mistake in an experiment file or a command line, through the real CLI.

Each case runs `python -m scaling_study.cli ...` in a subprocess and must end with exit status 2, ONE
line on stderr that names what is wrong and what was expected, no traceback, Ray never started (its
temp dir is never created) and nothing written (the storage path is not created; a directory that
already existed is byte-for-byte unchanged). RELIABILITY.md lists these cases.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

GOOD = {
    "name": "tiny",
    "env": {"id": "FrozenLake-v1"},
    "search_space": {"num_env_runners": [0, 1]},
    "fixed": {"train_batch_size_per_learner": 200, "num_epochs": 1},
    "stop": {"training_iteration": 3},
}


def with_(**changes) -> dict:
    """GOOD with top-level keys replaced (None removes a key)."""
    spec = {**GOOD, **changes}
    return {k: v for k, v in spec.items() if v is not None}


@dataclass
class Case:
    id: str
    expect: str
    """A fragment of the one stderr line: what is wrong and what is expected."""
    spec: dict | str | None = None
    """The experiment file: a mapping (written as YAML), raw text, or None for GOOD."""
    args: list[str] = field(default_factory=list)
    """Extra arguments after `sweep EXPERIMENT --storage-path results`; {dir} is the test's directory."""
    argv: list[str] | None = None
    """A whole command line instead (for mistakes before the experiment file)."""


CASES = [
    # experiment files: syntax and shape
    Case("broken-yaml", "broken YAML at line", "name: tiny\nenv: [FrozenLake-v1\n"),
    Case("not-a-mapping", "expected a mapping of keys", "- name\n- env\n"),
    Case("empty-file", "expected a mapping of keys (name, env, search_space, ...), got nothing", ""),
    Case("missing-required-key", "search_space: missing; this key is required", with_(search_space=None)),
    Case("unknown-key-suggests", "repeat: unknown key; did you mean repeats?", with_(repeat=2)),
    Case("rllib-setting-at-top-level", "RLlib settings go under fixed: or search_space: (did you mean num_env_runners?)",
         with_(num_env_runners=2)),
    Case("unknown-rllib-setting", "fixed.num_env_runner: unknown RLlib setting; did you mean num_env_runners?",
         with_(fixed={"num_env_runner": 1})),
    Case("unknown-env-key", "env.seed: unknown key", with_(env={"id": "FrozenLake-v1", "seed": 3})),
    # types and counts
    Case("wrong-type", "repeats: expected a whole number >= 1 or {first: 1, most: 5}, got 'three'", with_(repeats="three")),
    Case("zero-count", "repeats: expected a whole number >= 1 or {first: 1, most: 5}, got 0", with_(repeats=0)),
    Case("negative-count", "search_space.num_env_runners: expected a whole number >= 0, got -1",
         with_(search_space={"num_env_runners": [-1, 1]})),
    Case("fraction-where-whole", "num_envs_per_env_runner: expected a whole number >= 1, got 1.5",
         with_(search_space={"num_envs_per_env_runner": [1.5]})),
    Case("boolean-where-number", "trial_timeout_s: expected a number > 0, got True", with_(trial_timeout_s=True)),
    Case("bad-choice", "env.step_cost: expected null or {seconds: S >= 0, mode: spin|sleep}",
         with_(env={"id": "FrozenLake-v1", "step_cost": {"seconds": 0.01, "mode": "fast"}})),
    # grids
    Case("empty-grid-axis", "search_space.num_env_runners: empty grid; expected at least one value",
         with_(search_space={"num_env_runners": []})),
    Case("empty-search-space", "search_space: expected at least one axis", with_(search_space={})),
    Case("empty-point-list", "search_space: empty list of points", with_(search_space=[])),
    Case("value-listed-twice", "a value is listed twice; expected distinct values",
         with_(search_space={"num_env_runners": [1, 1]})),
    Case("alias-plus-current-name", "num_rollout_workers: is the old name of num_env_runners, which is also set",
         with_(search_space={"num_rollout_workers": [1], "num_env_runners": [2]})),
    Case("fixed-and-swept", "num_epochs: both fixed and swept",
         with_(search_space={"num_epochs": [1, 2]}, fixed={"num_epochs": 1})),
    Case("grid-needs-more-cpus", "1 grid point(s) need more than the 2 CPUs Ray has (num_env_runners=4 needs 5)",
         with_(search_space={"num_env_runners": [0, 4]}, fixed={"num_cpus_per_env_runner": 1}), ["--num-cpus", "2"]),
    Case("auto-max-zero", "search_space.num_env_runners.auto.max: expected a whole number >= 1, got 0",
         with_(search_space={"num_env_runners": {"auto": {"max": 0}}})),
    Case("auto-on-a-setting-that-cannot-take-it", "search_space.num_epochs: 'auto' is only for num_env_runners or",
         with_(search_space={"num_epochs": "auto"})),
    Case("cpus-per-runner-zero", "num_cpus_per_env_runner",
         with_(fixed={"num_cpus_per_env_runner": 0})),
    # env, stop, name
    Case("adaptive-too-few", "repeats: expected {first: F, most: M} with whole numbers 1 <= F <= M and M >= 3",
         with_(repeats={"first": 1, "most": 2})),
    # algorithms
    Case("unknown-algorithm", "algorithm: expected one of PPO, APPO, IMPALA, got 'SAC'", with_(algorithm="SAC")),
    Case("unknown-algorithm-axis", "search_space.algorithm: expected one of PPO, APPO, IMPALA, got 'DQN'",
         with_(search_space={"algorithm": ["PPO", "DQN"]})),
    Case("algorithm-setting-without-its-algorithm",
         "fixed.circular_buffer_num_batches: a setting of APPO only, and this study runs PPO; expected algorithm: APPO",
         with_(fixed={"circular_buffer_num_batches": 4})),
    Case("algorithm-setting-typo", "fixed.broadcast_intervall: unknown RLlib setting; did you mean broadcast_interval?",
         with_(algorithm="APPO", fixed={"broadcast_intervall": 2})),
    Case("algorithm-twice", "algorithm: also set under fixed or search_space; keep one",
         with_(algorithm="APPO", fixed={"algorithm": "PPO"})),
    Case("env-kwarg-gymnasium-refuses", "env.config: gymnasium.make('FrozenLake-v1', **{'map_name': '9x9'}) failed",
         with_(env={"id": "FrozenLake-v1", "config": {"map_name": "9x9"}})),
    Case("setting-rllib-refuses", "minibatch_size=1000: RLlib refuses this configuration: ValueError: `minibatch_size` (1000) must be <=",
         with_(search_space={"minibatch_size": [100, 1000]})),
    Case("unknown-env-id", "env.id: gymnasium does not know 'FrozenLak-v1' (did you mean FrozenLake-v1?)",
         with_(env={"id": "FrozenLak-v1"})),
    Case("stop-on-unknown-metric", "stop.episode_reward_mean: unknown metric",
         with_(stop={"episode_reward_mean": 0.5})),
    Case("stop-zero-iterations", "stop.training_iteration: expected a whole number >= 1, got 0",
         with_(stop={"training_iteration": 0})),
    Case("warmup-eats-every-iteration", "warmup_iterations: expected fewer than stop.training_iteration (3), got 3",
         with_(warmup_iterations=3)),
    Case("name-with-path-separator", "name: expected letters, digits, '_', '-' or '.' (no path separators)",
         with_(name="../escape")),
    # storage
    Case("storage-path-is-a-file", "is a file; expected a directory to hold results",
         args=["--storage-path", "{dir}/a_file"]),
    Case("storage-path-under-a-file", "a_file is a file; expected a directory to hold results",
         args=["--storage-path", "{dir}/a_file/results"]),
    # As root, os.access says every path is writable; /sys (sysfs) refuses new directories even to root,
    # so it is an honest unwritable path for root and non-root alike.
    Case("storage-path-unwritable", "/sys is not writable; expected a directory you can write to",
         args=["--storage-path", "/sys/scaling-study-reliability-test"]),
    # command lines
    Case("missing-experiment-file", "no such experiment file (expected a YAML file",
         argv=["sweep", "{dir}/nope.yaml"]),
    Case("experiment-is-a-directory", "no such experiment file", argv=["sweep", "{dir}"]),
    Case("unknown-flag", "unrecognized arguments: --num-workers 2", args=["--num-workers", "2"]),
    Case("course-flag-typo", "unrecognized arguments: --num_cpus 2", args=["--num_cpus", "2"]),
    Case("address-with-num-cpus", "--num-cpus starts a local Ray with that many CPUs; it cannot be combined with --address",
         args=["--address", "127.0.0.1:6379", "--num-cpus", "4"]),
    Case("num-cpus-zero", "--num-cpus: expected a whole number >= 1, got '0'", args=["--num-cpus", "0"]),
    Case("num-cpus-not-a-number", "--num-cpus: expected a whole number >= 1, got 'many'", args=["--num-cpus", "many"]),
    # Ray's CPU count is whole: 2.5 would pass a fit check for 2.5 and start Ray with 2.
    Case("num-cpus-fraction", "--num-cpus: expected a whole number >= 1, got '2.5'", args=["--num-cpus", "2.5"]),
    Case("num-cpus-fraction-in-file", "num_cpus: expected a whole number >= 1, got 2.5", with_(num_cpus=2.5)),
    Case("max-concurrent-negative", "--max-concurrent-trials: expected a whole number >= 1, got '-1'",
         args=["--max-concurrent-trials=-1"]),
    Case("no-command", "the following arguments are required: command", argv=[]),
    Case("unknown-command", "invalid choice: 'swep'", argv=["swep", "x.yaml"]),
    Case("sweep-without-experiment", "the following arguments are required: experiment", argv=["sweep"]),
    Case("validate-broken-file", "broken YAML", "env: [\n", argv=["validate", "{dir}/experiment.yaml"]),
    Case("analyze-missing-dir", "no such directory", argv=["analyze", "{dir}/no_results"]),
]


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under root and a hash of its bytes: 'unchanged' means this is equal before and after."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


def run_cli(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env_ray_tmp = cwd / "ray_tmp_never_created"
    import os

    env = {**os.environ, "RAY_TMPDIR": str(env_ray_tmp)}
    env.pop("RAY_ADDRESS", None)
    return subprocess.run([sys.executable, "-m", "scaling_study.cli", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def assert_refused(result: subprocess.CompletedProcess, expect: str, cwd: Path) -> None:
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(lines) == 1, f"expected one line on stderr, got {lines}"
    assert expect in lines[0], lines[0]
    assert lines[0].startswith(("scaling-study: ", "error: "))
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout == ""
    assert not (cwd / "ray_tmp_never_created").exists(), "Ray was started before the refusal"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_refused_in_one_line_with_nothing_written(case: Case, tmp_path: Path):
    experiment = tmp_path / "experiment.yaml"
    text = case.spec if isinstance(case.spec, str) else yaml.safe_dump(case.spec or GOOD)
    experiment.write_text(text)
    (tmp_path / "a_file").write_text("not a directory\n")
    before = tree_digest(tmp_path)
    if case.argv is not None:
        argv = [a.format(dir=tmp_path) for a in case.argv]
    else:
        storage = [] if any(a == "--storage-path" for a in case.args) else ["--storage-path", "results"]
        argv = ["sweep", str(experiment), *storage, *[a.format(dir=tmp_path) for a in case.args]]
    result = run_cli(argv, tmp_path)
    assert_refused(result, case.expect, tmp_path)
    assert tree_digest(tmp_path) == before, "a refusal wrote something"
    assert not Path("/sys/scaling-study-reliability-test").exists()


def test_reliability_md_lists_exactly_these_cases():
    """The catalogue's table in RELIABILITY.md (written for readers, not generated) names every case with
    the fragment this file expects, and no case the tests do not run."""
    import re

    text = (Path(__file__).resolve().parents[1] / "RELIABILITY.md").read_text()
    section = text.split("## 1. Bad input: the catalogue", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| (\d+) \| ([a-z0-9-]+) \| `(.*)` \|$", section, flags=re.MULTILINE)
    listed = [(n, case, fragment.replace("&#124;", "|")) for n, case, fragment in listed]  # a | in a table cell
    assert [int(n) for n, _, _ in listed] == list(range(1, len(listed) + 1)), "rows numbered 1.. in order"
    assert {case: fragment for _, case, fragment in listed} == {c.id: c.expect for c in CASES}
    assert len({c.id for c in CASES}) == len(CASES), "two cases share an id"


def test_results_of_a_different_experiment_are_refused_and_left_untouched(tmp_path: Path):
    """A results directory from another version of the experiment is neither resumed nor overwritten."""
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(yaml.safe_dump(GOOD))
    old = tmp_path / "results" / "tiny"
    (old / "scaling_study").mkdir(parents=True)
    (old / "scaling_study" / "provenance.json").write_text(json.dumps({"spec": {**GOOD, "repeats": 5}}))
    (old / "trial_0").mkdir()
    (old / "trial_0" / "result.json").write_text('{"training_iteration": 1}\n')
    before = tree_digest(tmp_path)
    result = run_cli(["sweep", str(experiment), "--storage-path", "results"], tmp_path)
    assert_refused(result, "holds results of a different version of experiment 'tiny'; pass --restart", tmp_path)
    assert tree_digest(tmp_path) == before


def test_a_foreign_directory_in_the_way_is_refused_and_left_untouched(tmp_path: Path):
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(yaml.safe_dump(GOOD))
    (tmp_path / "results" / "tiny").mkdir(parents=True)
    (tmp_path / "results" / "tiny" / "notes.txt").write_text("mine\n")
    before = tree_digest(tmp_path)
    result = run_cli(["sweep", str(experiment), "--storage-path", "results"], tmp_path)
    assert_refused(result, "exists but was not written by a scaling-study sweep; pass --name NEW", tmp_path)
    assert tree_digest(tmp_path) == before
