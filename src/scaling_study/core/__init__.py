"""The pure layer: imports nothing from Ray, and nothing of the package outside core/."""
