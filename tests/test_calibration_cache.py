"""Calibration is measured once per machine, env, step cost and versions: a second sweep reuses it,
--recalibrate measures afresh."""

from __future__ import annotations

import json

import pytest
from ray_processes import own_ray_temp_dir

from scaling_study.cli import build_parser
from scaling_study.run import calibration_cache

FROZENLAKE = {"id": "FrozenLake-v1", "kwargs": {}, "step_cost": None, "imports": []}


def test_the_key_changes_with_the_env_and_its_step_cost_and_not_otherwise():
    nodes = [{"NodeManagerAddress": "127.0.0.1", "Resources": {"CPU": 2.0}}]
    plain = {"id": "FrozenLake-v1", "kwargs": {}, "step_cost": None}
    costly = {**plain, "step_cost": {"seconds": 0.001, "mode": "spin"}}
    path = calibration_cache.cache_path
    assert path(calibration_cache.cache_key(plain, nodes)) == path(calibration_cache.cache_key(dict(plain), nodes))
    assert path(calibration_cache.cache_key(plain, nodes)) != path(calibration_cache.cache_key(costly, nodes))
    more = [*nodes, {"NodeManagerAddress": "10.0.0.2", "Resources": {"CPU": 8.0}}]
    assert path(calibration_cache.cache_key(plain, nodes)) != path(calibration_cache.cache_key(plain, more))


def test_a_changed_calibration_method_is_a_different_key(monkeypatch):
    nodes = [{"NodeManagerAddress": "127.0.0.1", "Resources": {"CPU": 2.0}}]
    before = calibration_cache.cache_path(calibration_cache.cache_key(FROZENLAKE, nodes))
    monkeypatch.setattr(calibration_cache, "method_digest", lambda: "another-method")
    assert calibration_cache.cache_path(calibration_cache.cache_key(FROZENLAKE, nodes)) != before


def test_the_command_line_passes_recalibrate():
    assert build_parser().parse_args(["sweep", "x.yaml", "--recalibrate"]).recalibrate is True
    assert build_parser().parse_args(["sweep", "x.yaml"]).recalibrate is False


@pytest.mark.ray
def test_a_second_calibration_reuses_the_cache_and_recalibrate_does_not(tmp_path, monkeypatch):
    """calibration_cache.calibration is the sweep's call site (sweep.write_suite_files); one Ray serves
    the three calls, where three sweeps would each start Ray again."""
    import ray

    monkeypatch.setenv(calibration_cache.CACHE_ENV, str(tmp_path / "cache"))
    with own_ray_temp_dir():
        ray.init(num_cpus=1, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
        try:
            first = calibration_cache.calibration(FROZENLAKE)
            (cached_file,) = (tmp_path / "cache" / "calibration").glob("FrozenLake-v1-*.json")
            written = cached_file.stat().st_mtime_ns
            second = calibration_cache.calibration(FROZENLAKE)
            assert cached_file.stat().st_mtime_ns == written, "the cached file was not rewritten"
            third = calibration_cache.calibration(FROZENLAKE, recalibrate=True)
        finally:
            ray.shutdown()
    assert first["cache"]["hit"] is False and second["cache"]["hit"] is True and third["cache"]["hit"] is False
    # A measured rate is a float of a timed loop: equal to the last bit only when it was not measured again.
    assert second["steps_per_s_per_core"] == first["steps_per_s_per_core"]
    assert third["steps_per_s_per_core"] != first["steps_per_s_per_core"]
    assert cached_file.stat().st_mtime_ns > written
    assert json.loads(cached_file.read_text())["steps_per_s_per_core"] == third["steps_per_s_per_core"]


@pytest.mark.ray
def test_the_sweep_records_where_its_calibration_came_from(race_sweep):
    """The shared sweep (race_sweep.py) calibrated through the cache: calibration.json says so."""
    calibration = json.loads((race_sweep / "scaling_study" / "calibration.json").read_text())
    assert set(calibration["cache"]) >= {"hit", "path", "measured_at", "key"}
    assert calibration["cache"]["key"]["env"]["id"] == "FrozenLake-v1"
