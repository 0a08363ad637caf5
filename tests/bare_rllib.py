"""RLlib's own env runner, timed by the tests themselves: the inputs of tests/test_ground_truth.py's known
answers, measured on a path that shares no code with the suite (not calibrate.py, not ppo.py, not
envs.py). An env runner is built from RLlib's PPOConfig around a FrozenLake whose steps sleep (a wrapper
of this file's own), in this process, with one torch thread (as in a 1-CPU Ray worker).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import gymnasium as gym

ENV_ID = "BareSleepingFrozenLake-v0"


class SleepingStep(gym.Wrapper):
    """Every step first sleeps `seconds`."""

    def __init__(self, env: gym.Env, seconds: float = 0.0):
        super().__init__(env)
        self.seconds = seconds

    def step(self, action):
        if self.seconds > 0:
            time.sleep(self.seconds)
        return self.env.step(action)


def _make(seconds: float = 0.0) -> gym.Env:
    return SleepingStep(gym.make("FrozenLake-v1"), seconds)


if ENV_ID not in gym.envs.registry:
    gym.register(ENV_ID, entry_point=f"{__name__}:_make")


@dataclass(frozen=True)
class Timing:
    seconds_per_vector_step: float
    reset_share: float
    """Of an env's loop turns, those spent on resets (RLlib resets an ended env on a turn of its own)."""


def time_env_runner(num_envs: int, mode: str, step_s: float, vector_steps: int, windows: int = 3,
                    hiddens: tuple[int, ...] = (16,)) -> Timing:
    """The fastest of `windows` windows of `vector_steps` vector steps (a burst of other work on the
    machine only ever slows a window)."""
    import torch
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.connectors.env_to_module import FlattenObservations
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

    config = (PPOConfig()
              .environment(ENV_ID, env_config={"seconds": step_s})
              .env_runners(num_env_runners=0, num_envs_per_env_runner=num_envs,
                           gym_env_vectorize_mode=mode,
                           # FrozenLake's Discrete observation one-hot encoded, as RLlib's examples do
                           env_to_module_connector=lambda env, spaces=None, device=None: FlattenObservations())
              .rl_module(model_config=DefaultModelConfig(fcnet_hiddens=list(hiddens))))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    runner = SingleAgentEnvRunner(config=config)
    try:
        runner.sample(num_timesteps=5 * num_envs)  # first forward passes, env resets
        found = []
        for _ in range(windows):
            started = time.perf_counter()
            episodes = runner.sample(num_timesteps=vector_steps * num_envs)
            seconds = time.perf_counter() - started
            steps = sum(len(e) for e in episodes)
            resets = sum(e.is_done for e in episodes)
            found.append(Timing(seconds / (steps / num_envs), resets / (steps + resets)))
    finally:
        runner.stop()
        torch.set_num_threads(threads)
    return min(found, key=lambda t: t.seconds_per_vector_step)
