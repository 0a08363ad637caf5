"""Experiment files: aliases, `auto`, explicit points, CPU counting and one-line validation messages."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scaling_study.core.resources import cpus_needed
from scaling_study.core.spec import (
    STOP_KEYS,
    SpecError,
    auto_candidates,
    grid_points,
    load_spec,
    parse_spec,
    points_that_do_not_fit,
    trial_params,
)

REPO = Path(__file__).resolve().parents[1]


def minimal(**overrides):
    raw = {
        "name": "t",
        "env": {"id": "FrozenLake-v1"},
        "search_space": {"num_env_runners": [0, 1]},
        "stop": {"training_iteration": 3},
    }
    raw.update(overrides)
    return raw


def error_of(raw) -> str:
    with pytest.raises(SpecError) as caught:
        parse_spec(raw, source="x.yaml")
    message = str(caught.value)
    assert "\n" not in message and message.startswith("x.yaml: ")
    return message


@pytest.mark.parametrize("path", sorted((REPO / "experiments").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_experiments_load_and_start_with_a_header(path):
    spec = load_spec(path)
    assert spec.name == path.stem
    assert path.read_text().startswith("#"), "each experiment starts with a comment: what, how long, expect"
    assert grid_points(spec, node_cpus=2)


def test_course_words_are_stored_under_current_names():
    spec = parse_spec(minimal(search_space={"num_rollout_workers": [1, 2], "num_envs_per_worker": [2]},
                              fixed={"num_sgd_iter": 3}))
    assert spec.search_space == {"num_env_runners": [1, 2], "num_envs_per_env_runner": [2]}
    assert spec.fixed == {"num_epochs": 3}


def test_alias_and_current_name_together_are_refused():
    message = error_of(minimal(search_space={"num_rollout_workers": [1], "num_env_runners": [2]}))
    assert "num_rollout_workers" in message and "num_env_runners" in message and "keep one" in message


def test_unknown_setting_suggests_the_nearest_known_one():
    assert "did you mean num_envs_per_env_runner?" in error_of(minimal(fixed={"num_envs_per_env_runer": 2}))


def test_rllib_setting_at_top_level_says_where_it_belongs():
    assert "go under fixed: or search_space:" in error_of(minimal(num_env_runners=2))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (minimal(search_space={"num_env_runners": [-1]}), "search_space.num_env_runners: expected a whole number >= 0, got -1"),
        (minimal(search_space={"num_envs_per_env_runner": [0]}), "expected a whole number >= 1, got 0"),
        (minimal(search_space={"num_env_runners": []}), "empty grid"),
        (minimal(search_space={}), "expected at least one axis"),
        (minimal(search_space={"num_env_runners": 2}), "expected a list of values to sweep"),
        (minimal(search_space={"num_epochs": "auto"}), "'auto' is only for num_env_runners"),
        (minimal(fixed={"num_epochs": "three"}), "fixed.num_epochs: expected a whole number >= 1, got 'three'"),
        (minimal(fixed={"num_epochs": True}), "fixed.num_epochs: expected a whole number >= 1, got True"),
        (minimal(fixed={"fcnet_hiddens": []}), "fixed.fcnet_hiddens: expected a non-empty list"),
        (minimal(repeats=0), "repeats: expected a whole number >= 1 or {first: 1, most: 5}, got 0"),
        (minimal(env={"id": "FrozenLak-v1"}), "gymnasium does not know 'FrozenLak-v1' (did you mean FrozenLake-v1?)"),
        (minimal(name="a/b"), "name: expected letters, digits"),
        (minimal(stop={"episode_reward_mean": 1}), "stop.episode_reward_mean: unknown metric"),
        (minimal(stop={"training_iteration": 0}), "stop.training_iteration: expected a whole number >= 1"),
        (minimal(warmup_iterations=3), "warmup_iterations: expected fewer than stop.training_iteration (3)"),
        (minimal(fixed={"num_env_runners": 1}), "num_env_runners: both fixed and swept"),
        (minimal(search_space=[{"num_env_runners": 1}, {"num_envs_per_env_runner": 2}]), "expected the same keys"),
        (minimal(fixed={"placement_strategy": "SCATTER"}), "expected one of PACK, SPREAD, STRICT_PACK, STRICT_SPREAD"),
        ({"env": {"id": "FrozenLake-v1"}}, "name: missing"),
        ([1, 2], "expected a mapping of keys"),
    ],
)
def test_bad_input_gets_one_line_naming_the_key(raw, expected):
    assert expected in error_of(raw)


def test_broken_yaml_and_missing_file_name_the_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nsearch_space: {num_env_runners: [0, 1]\n")
    with pytest.raises(SpecError, match=r"broken.yaml: broken YAML at line \d+"):
        load_spec(broken)
    with pytest.raises(SpecError, match="nope.yaml: no such experiment file"):
        load_spec(tmp_path / "nope.yaml")


def test_yaml_is_never_evaluated(tmp_path):
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text("name: !!python/object/apply:os.system ['touch pwned']\n")
    with pytest.raises(SpecError, match="broken YAML"):
        load_spec(hostile)
    assert not Path("pwned").exists()


def test_auto_candidates_go_past_the_reservation_to_twice_the_cores():
    # Worked by hand from the rule: 0-4, then doubling, up to the first value >= 2 x cores.
    assert auto_candidates("num_env_runners", cores=1) == [0, 1, 2]
    assert auto_candidates("num_env_runners", cores=2) == [0, 1, 2, 3, 4]
    assert auto_candidates("num_env_runners", cores=3) == [0, 1, 2, 3, 4, 8]
    assert auto_candidates("num_env_runners", cores=9) == [0, 1, 2, 3, 4, 8, 16, 32]
    assert auto_candidates("num_env_runners", cores=9, cap=5) == [0, 1, 2, 3, 4]
    assert auto_candidates("num_envs_per_env_runner", cores=2) == [1, 2, 4, 8, 16, 32, 64]
    assert auto_candidates("num_envs_per_env_runner", cores=2, cap=10) == [1, 2, 4, 8]


def test_auto_lists_every_candidate_with_a_fitted_reservation_and_the_reference():
    spec = parse_spec(minimal(search_space={"num_env_runners": "auto", "num_envs_per_env_runner": [1, 8]}))
    points = grid_points(spec, node_cpus=2)
    assert [(p["num_env_runners"], p["num_envs_per_env_runner"]) for p in points] == [
        (0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (0, 8), (1, 8), (2, 8), (3, 8), (4, 8)]
    # 2 CPUs: the main process keeps 1, the runners share the other one (1/2, 1/3, 1/4 each).
    assert [p.get("num_cpus_per_env_runner") for p in points[:5]] == [None, None, 0.5, 0.3333, 0.25]
    assert points[2]["num_cpus_for_main_process"] == 1.0
    assert points[3]["num_cpus_for_main_process"] == 1.0001  # 2 - 3 x 0.3333: rounding goes to the main process
    assert {cpus_needed(p) for p in points} == {1, 2}  # every trial with runners reserves the node, exactly
    assert points_that_do_not_fit(spec, node_cpus=2) == []


def test_the_reference_point_is_added_when_the_grid_lacks_it():
    spec = parse_spec(minimal(search_space={"num_env_runners": "auto", "num_envs_per_env_runner": [4]}))
    points = grid_points(spec, node_cpus=2)
    assert (points[-1]["num_env_runners"], points[-1]["num_envs_per_env_runner"]) == (2, 1)
    labels = [p["point"] for p in trial_params(spec, node_cpus=2) if p["reference"]]
    assert labels == ["num_env_runners=2, num_envs_per_env_runner=1"]


def test_a_reservation_the_file_writes_is_honoured_and_can_fail_to_fit():
    spec = parse_spec(minimal(search_space={"num_env_runners": [0, 1, 2, 4]}, fixed={"num_cpus_per_env_runner": 1}))
    assert points_that_do_not_fit(spec, node_cpus=2) == [("num_env_runners=2", 3), ("num_env_runners=4", 5)]
    listed = parse_spec(minimal(search_space={"num_env_runners": [0, 1, 2, 4]}))
    assert points_that_do_not_fit(listed, node_cpus=2) == []  # fitted: 4 runners x 0.25 + 1


@pytest.mark.parametrize("axis, expected", [
    ({"num_env_runners": {"auto": {"max": 0}}}, "auto.max: expected a whole number >= 1"),
    ({"num_env_runners": {"auto": {"most": 3}}}, "expected auto or {auto: {max: N}}"),
    ({"num_epochs": "auto"}, "'auto' is only for num_env_runners or num_envs_per_env_runner"),
    ({"num_env_runners": "auto", "num_envs_per_env_runner": "auto"}, "'auto' on one setting at a time"),
])
def test_bad_auto_is_one_line(axis, expected):
    assert expected in error_of(minimal(search_space=axis))


def test_trial_params_are_plain_values_per_repeat():
    spec = parse_spec(minimal(repeats=2, seed=7, fixed={"num_epochs": 2}, env={"id": "FrozenLake-v1", "config": {"is_slippery": False}}))
    params = trial_params(spec, node_cpus=2)
    assert len(params) == 4
    first = params[0]
    assert first["num_env_runners"] == 0 and first["num_epochs"] == 2
    assert first["env_config"] == {"is_slippery": False}
    assert [p["seed"] for p in params] == [7, 8, 7, 8]
    assert first["point"] == "num_env_runners=0"
    yaml.safe_dump(params)  # plain values only: what Tune writes to params.json


def test_explicit_points_keep_their_order():
    spec = parse_spec(minimal(search_space=[{"num_rollout_workers": 2, "num_envs_per_worker": 2},
                                            {"num_rollout_workers": 1, "num_envs_per_worker": 1}]))
    assert [p["num_env_runners"] for p in grid_points(spec, 8)] == [2, 1]


def test_step_cost_in_env_becomes_a_fixed_setting():
    spec = parse_spec(minimal(env={"id": "FrozenLake-v1", "step_cost": {"seconds": 0.002, "mode": "sleep"}}))
    assert spec.fixed["step_cost"] == {"seconds": 0.002, "mode": "sleep"}
    assert "env.step_cost: expected" in error_of(minimal(env={"id": "FrozenLake-v1", "step_cost": {"seconds": -1}}))


def test_stop_keys_are_rllibs_metric_names():
    from ray.rllib.utils.metrics import (
        ENV_RUNNER_RESULTS,
        EPISODE_RETURN_MEAN,
        NUM_ENV_STEPS_SAMPLED_LIFETIME,
    )

    assert NUM_ENV_STEPS_SAMPLED_LIFETIME in STOP_KEYS
    assert f"{ENV_RUNNER_RESULTS}/{EPISODE_RETURN_MEAN}" in STOP_KEYS
