"""Example envs of your own: importing a module here registers its envs with gymnasium."""
