"""Corridor-v0: a robot drives along a corridor to the far end, behind a simulator that answers each step
in about 2 ms. An example of sweeping an env of your own:

    env:
      id: "examples.envs.corridor:Corridor-v0"    # module:EnvId, gymnasium's own convention

Importing this module registers the env (that is all `env.import` or `module:` in an id does), so
`gymnasium.make("examples.envs.corridor:Corridor-v0")` works from the repository root.

Observations are a Dict, as many robotics envs have: the robot's cell (Discrete) and a few range
readings (Box). The step's cost stands for an external simulator: a little numpy physics, then a wait
of `latency_s` for the simulator's answer (set it to 0 for a free step).
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
from gymnasium import spaces


class Corridor(gym.Env):
    """Actions: 0 left, 1 right. Reward -0.01 a step, +1 on reaching the last cell."""

    metadata = {"render_modes": []}

    def __init__(self, length: int = 16, sensors: int = 8, latency_s: float = 0.002, max_steps: int = 100):
        self.length, self.latency_s, self.max_steps = int(length), float(latency_s), int(max_steps)
        self.observation_space = spaces.Dict({
            "cell": spaces.Discrete(self.length),
            "ranges": spaces.Box(0.0, 1.0, shape=(int(sensors),), dtype=np.float32),
        })
        self.action_space = spaces.Discrete(2)
        self._angles = np.linspace(0.0, np.pi, int(sensors), dtype=np.float32)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._cell, self._steps = 0, 0
        return self._observe(), {}

    def step(self, action):
        self._cell = int(np.clip(self._cell + (1 if action == 1 else -1), 0, self.length - 1))
        self._steps += 1
        observation = self._observe()
        if self.latency_s > 0:
            time.sleep(self.latency_s)  # the simulator's round trip
        reached = self._cell == self.length - 1
        return observation, (1.0 if reached else -0.01), reached, self._steps >= self.max_steps, {}

    def _observe(self) -> dict:
        # Range readings to the far wall, with sensor noise: cheap numpy physics.
        ahead = (self.length - 1 - self._cell) / self.length
        ranges = np.clip(ahead * np.abs(np.cos(self._angles)) + self.np_random.normal(0, 0.01, self._angles.shape), 0, 1)
        return {"cell": self._cell, "ranges": ranges.astype(np.float32)}


gym.register(id="Corridor-v0", entry_point=Corridor)
