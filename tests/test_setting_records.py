"""A setting's facts sit in its `Setting` record (core/settings.py): its default, its short name and the
config section it is applied in; what reads them (trial names, figure labels, config_calls) follows it.
Pure: no Ray is started."""

from __future__ import annotations

import pytest

from scaling_study.analysis.plots import short_point
from scaling_study.core import settings
from scaling_study.core.trial_names import settings_words
from scaling_study.run import config_calls


def test_a_setting_in_a_section_config_calls_does_not_apply_fails_loudly(monkeypatch):
    made_up = settings.Setting("evaluation_interval", settings.positive_int, "evaluation", "made up for the test")
    monkeypatch.setitem(settings.SETTINGS, made_up.name, made_up)
    with pytest.raises(config_calls.UnappliedSetting, match="evaluation_interval.*'evaluation'"):
        config_calls.config_calls({"env_id": "FrozenLake-v1", "evaluation_interval": 2})


def test_every_setting_reaches_a_config_call():
    values = {"num_env_runners": 2, "num_envs_per_env_runner": 4, "num_cpus_per_env_runner": 1,
              "rollout_fragment_length": "auto", "gym_env_vectorize_mode": "sync", "sample_timeout_s": 60.0,
              "num_learners": 0, "num_cpus_per_learner": 1, "num_cpus_for_main_process": 1,
              "placement_strategy": "PACK", "train_batch_size_per_learner": 256, "minibatch_size": 64,
              "num_epochs": 2, "lr": 0.001, "gamma": 0.9, "fcnet_hiddens": [8],
              "step_cost": {"seconds": 0.001, "mode": "sleep"}, "restart_failed_env_runners": True,
              "min_time_s_per_iteration": 1, "broadcast_interval": 2, "num_aggregator_actors_per_learner": 1,
              "circular_buffer_num_batches": 4, "circular_buffer_iterations_per_batch": 2}
    assert set(values) | {"algorithm"} == set(settings.SETTINGS)  # a new setting needs a value here
    text = config_calls.as_python({"env_id": "FrozenLake-v1", "algorithm": "APPO", **values})
    assert text.splitlines()[1].strip() == "APPOConfig()"
    for name in values:
        assert f"{name}=" in text or f"'{name}'" in text, name


def test_a_setting_its_algorithm_does_not_take_is_left_out_of_that_trials_config():
    # a sweep over PPO and APPO with APPO's buffer fixed: APPO's trials get it, PPO's do not (PPOConfig's
    # training() has no such argument and would raise)
    params = {"env_id": "FrozenLake-v1", "circular_buffer_num_batches": 4, "broadcast_interval": 2, "lr": 0.01}
    ppo = config_calls.as_python({**params, "algorithm": "PPO"})
    impala = config_calls.as_python({**params, "algorithm": "impala"})
    assert "circular_buffer_num_batches" not in ppo and "broadcast_interval" not in ppo and "lr=0.01" in ppo
    assert "circular_buffer_num_batches" not in impala and "broadcast_interval=2" in impala
    assert impala.splitlines()[1].strip() == "IMPALAConfig()"
    assert config_calls.as_python({"env_id": "FrozenLake-v1"}).splitlines()[1].strip() == "PPOConfig()"


def test_defaults_are_the_records_and_rllibs():
    assert settings.DEFAULTS["num_envs_per_env_runner"] == 1
    assert settings.DEFAULTS["num_env_runners"] == 0
    assert "num_epochs" not in settings.DEFAULTS  # RLlib's, but not written into every trial's params
    assert settings.default_of("num_epochs") == 30  # RLlib 2.60's PPO default
    assert settings.default_of("num_epochs", "APPO") == 1  # AlgorithmConfig's, which APPO keeps
    assert settings.default_of("min_time_s_per_iteration", "IMPALA") == 10
    assert settings.DEFAULTS["algorithm"] == "PPO"
    assert settings.default_of("lr") is None
    assert settings.resolve({"num_envs_per_worker": 3}, ("num_envs_per_env_runner", "num_env_runners")) == \
        {"num_envs_per_env_runner": 3, "num_env_runners": 0}


def test_trial_directories_and_figure_labels_use_the_same_short_names():
    label = "num_env_runners=2, num_envs_per_env_runner=4"
    assert settings_words({"point": label}) == "runners=2_envs=4"
    assert short_point(label) == "runners=2, envs=4"
    assert short_point("num_epochs=30, step_cost=0.002/sleep") == "num_epochs=30, step_cost=0.002/sleep"
