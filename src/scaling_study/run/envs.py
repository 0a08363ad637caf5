"""Environments for trials and calibration: any gymnasium env, optionally with a simulated step cost.

FrozenLake steps in about 15 microseconds, far cheaper than a real simulator. `step_cost` adds a known
cost to every step so the regime where parallel rollouts pay off can be studied, and measured against
an answer known in advance:
    spin  - burns CPU for S seconds (a CPU-bound simulator)
    sleep - waits S seconds (a simulator behind I/O or in another process)
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym

from scaling_study.core.env_imports import import_in_worker

ENV_NAME = "scaling_study_env"


class StepCost(gym.Wrapper):
    """Adds `seconds` of simulated work to every `step`."""

    def __init__(self, env: gym.Env, seconds: float, mode: str = "spin"):
        super().__init__(env)
        self.seconds = float(seconds)
        self.mode = mode

    def step(self, action):
        if self.mode == "sleep":
            time.sleep(self.seconds)
        else:
            deadline = time.perf_counter() + self.seconds
            while time.perf_counter() < deadline:
                pass
        return self.env.step(action)


# gymnasium's own extras, by a word of its DependencyNotInstalled message -> this package's extra
EXTRAS = {"mujoco": "mujoco", "box2d": "box2d"}


class MissingEnvExtra(ImportError):
    """The env's simulator is not installed; the message says which extra installs it."""


def make_env(env_config: dict[str, Any]) -> gym.Env:
    """Build `{"id": ..., "kwargs": {...}, "step_cost": {...} | None, "imports": [...]}` as a gymnasium
    env; the modules in "imports" register envs and are imported first (in whatever process this runs)."""
    import_in_worker(env_config.get("imports") or [])
    try:
        env = gym.make(env_config["id"], **(env_config.get("kwargs") or {}))
    except gym.error.DependencyNotInstalled as err:
        extra = next((name for word, name in EXTRAS.items() if word in str(err).lower()), None)
        if extra is None:
            raise
        raise MissingEnvExtra(f"{env_config['id']} needs the {extra} extra, not installed here: "
                              f"pip install -e '.[{extra}]' (or `make setup`, which includes it)") from None
    cost = env_config.get("step_cost")
    if cost and cost["seconds"] > 0:
        env = StepCost(env, cost["seconds"], cost.get("mode", "spin"))
    return env


def register() -> str:
    """Register the creator with Tune's registry (shared with every Ray worker); returns the name."""
    from ray.tune.registry import register_env

    register_env(ENV_NAME, make_env)
    return ENV_NAME


def needs_flattening(env_config: dict[str, Any]) -> bool:
    """RLlib's default encoder has no config for Discrete observations (FrozenLake's): one-hot them."""
    env = make_env(env_config)
    try:
        return not isinstance(env.observation_space, gym.spaces.Box) or len(env.observation_space.shape) != 1
    finally:
        env.close()


# Spaces RLlib's default models take once FlattenObservations has made them one vector: Discrete and
# MultiDiscrete are one-hot encoded, Box (images too: an MLP over their pixels) and MultiBinary flattened.
FLAT_SPACES = (gym.spaces.Box, gym.spaces.Discrete, gym.spaces.MultiDiscrete, gym.spaces.MultiBinary)


def unsupported_part(space: gym.Space) -> gym.Space | None:
    """The first part of an observation space that cannot be flattened into one vector, or None."""
    if isinstance(space, gym.spaces.Dict):
        parts = list(space.spaces.values())
    elif isinstance(space, gym.spaces.Tuple):
        parts = list(space.spaces)
    else:
        return None if isinstance(space, FLAT_SPACES) else space
    return next((bad for bad in map(unsupported_part, parts) if bad is not None), None)


def observation_space_problem(space: gym.Space) -> str | None:
    """Why RLlib's default models cannot take these observations, in one line, or None."""
    bad = unsupported_part(space)
    if bad is None:
        return None
    return (f"observation space {type(bad).__name__} ({bad}) is not one RLlib's default models take; wrap the "
            f"env in a gymnasium.ObservationWrapper whose observations are Box, Discrete, MultiDiscrete, "
            f"MultiBinary, or a Dict/Tuple of them")
