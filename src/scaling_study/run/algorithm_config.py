"""One trial's plain params -> its algorithm's config (PPOConfig, APPOConfig or IMPALAConfig) on RLlib's
new API stack.

A grid cannot be passed inside `.env_runners(...)` (RLlib validates eagerly), so Tune sweeps plain
values and each trial builds its own config here, by applying the calls `config_calls.py` lists.
"""

from __future__ import annotations

import importlib
from typing import Any

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.rllib.connectors.env_to_module import FlattenObservations
from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig

from scaling_study.run.config_calls import CONFIG_CLASSES, Name, algorithm_of, config_calls, env_config
from scaling_study.run.metrics import PerIterationTimers

__all__ = ["build_config", "env_config", "one_hot_observations"]


def one_hot_observations(env, spaces, device):
    # A named function rather than a lambda so the config pickles cleanly to env runner actors.
    return FlattenObservations()


# The objects config_calls names; see its preamble() for where a script imports them from.
OBJECTS = {"PerIterationTimers": PerIterationTimers, "DefaultModelConfig": DefaultModelConfig,
           "one_hot_observations": one_hot_observations}


def build_config(params: dict[str, Any]) -> AlgorithmConfig:
    """The config of one trial; settings not in `params` keep RLlib's defaults."""
    module, name = CONFIG_CLASSES[algorithm_of(params)]
    config = getattr(importlib.import_module(module), name)()
    for call in config_calls(params):
        config = getattr(config, call.method)(**{key: _resolve(value) for key, value in call.kwargs.items()})
    return config


def _resolve(value: Any) -> Any:
    if not isinstance(value, Name):
        return value
    found = OBJECTS[value.name]
    return found if value.kwargs is None else found(**value.kwargs)
