"""Shared fixtures. Tests that start Ray give it a temp dir of its own and, whatever happens, end every
process whose command line or environment names that dir: only processes the test started, by their id."""

from __future__ import annotations

import pytest
from ray_processes import own_ray_temp_dir


@pytest.fixture
def ray_tmp():
    """A RAY_TMPDIR of this test's own; every process started with it is ended at teardown."""
    with own_ray_temp_dir() as tmp:
        yield tmp


@pytest.fixture(autouse=True, scope="session")
def _calibration_cache_of_this_session(tmp_path_factory):
    """Sweeps in tests cache calibrations in a directory of the session's own, not the user's cache."""
    from scaling_study.calibration_cache import CACHE_ENV

    patch = pytest.MonkeyPatch()
    patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("calibration-cache")))
    yield
    patch.undo()
