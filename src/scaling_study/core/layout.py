"""Where the suite keeps its own files inside a Tune experiment directory (beside Tune's trial dirs)."""

from __future__ import annotations

from pathlib import Path

SUITE_DIR = Path("scaling_study")
PROVENANCE = SUITE_DIR / "provenance.json"
"""The resolved experiment file, the cluster and the software versions (provenance.py)."""
CALIBRATION = SUITE_DIR / "calibration.json"
"""Raw env steps/s on one core of each node: the physical limit (calibrate.py)."""
RAY_LOG = SUITE_DIR / "ray.log"
"""Ray's and Tune's driver-side log, unless --verbose shows it (ray_logs.py)."""
LEDGER = SUITE_DIR / "finished.jsonl"
"""A line per trial that met a stop criterion (ledger.py)."""
SET_ASIDE = SUITE_DIR / "interrupted"
"""Directories of interrupted attempts, moved out of the way when a sweep resumes (ledger.py)."""
CONFIGS = SUITE_DIR / "configs.json"
"""Each grid point's PPOConfig as copyable Python (config_calls.py), for the report's answer."""
EXPLORED = SUITE_DIR / "explored.json"
"""What `auto` tried in each series, what it did not, and why it stopped (explore.py)."""
PRUNED = SUITE_DIR / "pruned.json"
"""Grid points racing stopped running (`prune: true`), with the evidence (racing.py)."""
