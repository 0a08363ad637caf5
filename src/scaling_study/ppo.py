"""One trial's plain params -> a PPOConfig on RLlib's new API stack.

A grid cannot be passed inside `.env_runners(...)` (RLlib validates eagerly), so Tune sweeps plain
values and each trial builds its own config here.
"""

from __future__ import annotations

from typing import Any

from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.connectors.env_to_module import FlattenObservations
from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig

from scaling_study import envs
from scaling_study.metrics import PerIterationTimers
from scaling_study.settings import SETTINGS

# Sections applied through their AlgorithmConfig method of the same name.
CONFIG_SECTIONS = ("env_runners", "learners", "resources", "training", "fault_tolerance")


def env_config(params: dict[str, Any]) -> dict[str, Any]:
    return {"id": params["env_id"], "kwargs": params.get("env_config") or {}, "step_cost": params.get("step_cost"),
            "imports": params.get("env_imports") or []}


def _one_hot(env, spaces, device):
    # A named function rather than a lambda so the config pickles cleanly to env runner actors.
    return FlattenObservations()


def build_config(params: dict[str, Any]) -> PPOConfig:
    """The PPOConfig of one trial; settings not in `params` keep RLlib's defaults."""
    config = (
        PPOConfig()
        .framework("torch")
        .environment(env=envs.ENV_NAME, env_config=env_config(params))
        .callbacks(PerIterationTimers)
        .debugging(seed=params.get("seed", 0))
    )
    for section in CONFIG_SECTIONS:
        values = {k: v for k, v in params.items() if k in SETTINGS and SETTINGS[k].section == section}
        if values:
            config = getattr(config, section)(**values)
    if "fcnet_hiddens" in params:
        config = config.rl_module(model_config=DefaultModelConfig(fcnet_hiddens=list(params["fcnet_hiddens"])))
    if envs.needs_flattening(env_config(params)):
        config = config.env_runners(env_to_module_connector=_one_hot)
    return config
