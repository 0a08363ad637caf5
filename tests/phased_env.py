"""A FrozenLake whose steps turn slow part-way through a trial: iterations of deliberately different
lengths, so a smoothed phase timer cannot pass for a per-iteration one.

Imported by gymnasium itself from the env id "phased_env:PhasedFrozenLake-v0" (its `module:EnvId`
syntax), in the driver and in every env runner (tests/ is put on the workers' PYTHONPATH by the test).
"""

from __future__ import annotations

import time

import gymnasium as gym

FAST_STEPS = 400  # steps of each env process before its steps start to cost SLOW_STEP_S
SLOW_STEP_S = 0.010


class PhasedFrozenLake(gym.Wrapper):
    metadata = {"render_modes": []}  # gymnasium.make reads it off the class, where Wrapper has none

    def __init__(self, **kwargs):
        super().__init__(gym.make("FrozenLake-v1", **kwargs))
        self.steps = 0

    def step(self, action):
        self.steps += 1
        if self.steps > FAST_STEPS:
            time.sleep(SLOW_STEP_S)
        return self.env.step(action)


gym.register("PhasedFrozenLake-v0", entry_point=PhasedFrozenLake)
