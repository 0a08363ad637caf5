"""A results directory written before the spec format gained a key still resumes when the key is at its
default; a real difference is still refused. Pure: no Ray."""

from __future__ import annotations

import pytest

from scaling_study.core.spec import parse_spec
from scaling_study.run.resume import _same_experiment

TINY = {
    "name": "tiny",
    "env": {"id": "FrozenLake-v1"},
    "search_space": {"num_env_runners": [0, 1]},
    "fixed": {"train_batch_size_per_learner": 200, "num_epochs": 1},
    "stop": {"training_iteration": 3},
}

# What main's code (before `prune` and stop.precision) writes to provenance.json for TINY, by hand.
STORED_BY_MAIN = {
    "name": "tiny", "description": "", "env": {"id": "FrozenLake-v1", "config": {}},
    "search_space": {"num_env_runners": [0, 1]},
    "fixed": {"train_batch_size_per_learner": 200, "num_epochs": 1},
    "repeats": 1, "stop": {"training_iteration": 3}, "warmup_iterations": 1, "max_concurrent_trials": 1,
    "num_cpus": None, "trial_timeout_s": None, "seed": 0, "source": "experiments/tiny.yaml",
}


def test_a_directory_written_without_the_new_keys_resumes():
    assert _same_experiment(STORED_BY_MAIN, parse_spec(TINY))
    assert _same_experiment(STORED_BY_MAIN, parse_spec({**TINY, "prune": False}))


@pytest.mark.parametrize("change", [
    {"prune": True},  # a new key away from its default runs the experiment differently
    {"stop": {"training_iteration": 3, "precision": 0.05}},
    {"repeats": 2},
    {"seed": 1},
    {"fixed": {"train_batch_size_per_learner": 400, "num_epochs": 1}},
])
def test_a_real_difference_is_still_refused(change):
    assert not _same_experiment(STORED_BY_MAIN, parse_spec({**TINY, **change}))


def test_a_key_the_stored_spec_holds_is_compared_even_at_its_default():
    stored_with_prune = {**STORED_BY_MAIN, "prune": True}
    assert not _same_experiment(stored_with_prune, parse_spec(TINY))
    assert _same_experiment(stored_with_prune, parse_spec({**TINY, "prune": True}))
