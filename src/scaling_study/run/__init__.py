"""The running layer: what touches Ray, Tune and RLlib. Imports core/, never analysis/."""
