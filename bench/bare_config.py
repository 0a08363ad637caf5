"""A PPOConfig built by hand, as a plain RLlib script on Ray 2.60 writes it (notes/ray-2.60.md): new
API stack, FrozenLake's Discrete observations one-hot encoded, the model set through DefaultModelConfig.

Used by the bare loop and the plain Tune script; tests/test_bench.py holds it equal to the suite's own
`scaling_study.ppo.build_config` on every setting that shapes the work.
"""

from __future__ import annotations

from typing import Any

from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.connectors.env_to_module import FlattenObservations
from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig


def one_hot(env, spaces, device):
    # A named function (not a lambda) so the config pickles by reference to env runner actors.
    return FlattenObservations()


def build_config(settings: dict[str, Any], env_id: str = "FrozenLake-v1", seed: int = 0) -> PPOConfig:
    """`settings` holds keys of grid_file.KNOWN_SETTINGS; the rest keep RLlib's defaults."""
    config = (
        PPOConfig()
        .framework("torch")
        .environment(env_id)
        .env_runners(
            num_env_runners=settings.get("num_env_runners", 0),
            num_envs_per_env_runner=settings.get("num_envs_per_env_runner", 1),
            env_to_module_connector=one_hot,
        )
        .debugging(seed=seed)
    )
    training = {k: settings[k] for k in ("train_batch_size_per_learner", "minibatch_size", "num_epochs") if k in settings}
    if training:
        config = config.training(**training)
    if "fcnet_hiddens" in settings:
        config = config.rl_module(model_config=DefaultModelConfig(fcnet_hiddens=list(settings["fcnet_hiddens"])))
    return config
