"""Calibration is measured once per machine, env, step cost and versions: a second sweep reuses it,
--recalibrate measures afresh."""

from __future__ import annotations

import json

import pytest
from ray_processes import own_ray_temp_dir

from scaling_study import calibration_cache
from scaling_study.cli import build_parser
from scaling_study.spec import parse_spec
from scaling_study.sweep import SweepOptions, run_sweep


def test_the_key_changes_with_the_env_and_its_step_cost_and_not_otherwise():
    nodes = [{"NodeManagerAddress": "127.0.0.1", "Resources": {"CPU": 2.0}}]
    plain = {"id": "FrozenLake-v1", "kwargs": {}, "step_cost": None}
    costly = {**plain, "step_cost": {"seconds": 0.001, "mode": "spin"}}
    path = calibration_cache.cache_path
    assert path(calibration_cache.cache_key(plain, nodes)) == path(calibration_cache.cache_key(dict(plain), nodes))
    assert path(calibration_cache.cache_key(plain, nodes)) != path(calibration_cache.cache_key(costly, nodes))
    more = [*nodes, {"NodeManagerAddress": "10.0.0.2", "Resources": {"CPU": 8.0}}]
    assert path(calibration_cache.cache_key(plain, nodes)) != path(calibration_cache.cache_key(plain, more))


def test_the_command_line_passes_recalibrate():
    assert build_parser().parse_args(["sweep", "x.yaml", "--recalibrate"]).recalibrate is True
    assert build_parser().parse_args(["sweep", "x.yaml"]).recalibrate is False


ONE_ITERATION = {
    "name": "cached",
    "env": {"id": "FrozenLake-v1"},
    "search_space": {"num_env_runners": [0]},
    "fixed": {"train_batch_size_per_learner": 100, "minibatch_size": 50, "num_epochs": 1, "fcnet_hiddens": [8]},
    "stop": {"training_iteration": 1},
    "warmup_iterations": 0,
}


@pytest.mark.ray
@pytest.mark.timeout(300)
def test_a_second_sweep_reuses_the_calibration_and_recalibrate_does_not(tmp_path, monkeypatch):
    monkeypatch.setenv(calibration_cache.CACHE_ENV, str(tmp_path / "cache"))
    spec = parse_spec(ONE_ITERATION)

    def sweep(name: str, recalibrate: bool = False) -> dict:
        options = SweepOptions(storage_path=str(tmp_path / "results"), name=name, recalibrate=recalibrate)
        exp_dir = run_sweep(spec, options, argv=["test"])
        return json.loads((exp_dir / "scaling_study" / "calibration.json").read_text())

    with own_ray_temp_dir():
        first = sweep("first")
        (cached_file,) = (tmp_path / "cache" / "calibration").glob("FrozenLake-v1-*.json")
        written = cached_file.stat().st_mtime_ns
        second = sweep("second")
        assert cached_file.stat().st_mtime_ns == written, "the cached file was not rewritten"
        third = sweep("third", recalibrate=True)
    assert first["cache"]["hit"] is False and second["cache"]["hit"] is True and third["cache"]["hit"] is False
    # A measured rate is a float of a timed loop: equal to the last bit only when it was not measured again.
    assert second["steps_per_s_per_core"] == first["steps_per_s_per_core"]
    assert third["steps_per_s_per_core"] != first["steps_per_s_per_core"]
    assert cached_file.stat().st_mtime_ns > written
    assert json.loads(cached_file.read_text())["steps_per_s_per_core"] == third["steps_per_s_per_core"]
