"""scaling-study: how does PPO training speed scale with parallel rollouts, and where does it stop paying?"""

__version__ = "0.1.0"
