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
    from scaling_study.run.calibration_cache import CACHE_ENV

    patch = pytest.MonkeyPatch()
    patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("calibration-cache")))
    yield
    patch.undo()


@pytest.fixture(autouse=True, scope="session")
def _sweep_locks_of_this_session(tmp_path_factory):
    """Sweeps in tests take the one-sweep-at-a-time locks (sweep_lock.py) in a directory of the
    session's own: a sweep the user runs meanwhile neither blocks the tests nor is blocked by them
    (the tests' own Ray runs are kept apart by the shared flock of COMMON practice)."""
    from scaling_study.run.sweep_lock import LOCK_DIR_ENV

    patch = pytest.MonkeyPatch()
    patch.setenv(LOCK_DIR_ENV, str(tmp_path_factory.mktemp("sweep-locks")))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def race_sweep(tmp_path_factory):
    """The results directory of race_sweep.SPEC, run once for test_stopping.py and test_racing.py."""
    from race_sweep import SPEC

    from scaling_study.core.spec import parse_spec
    from scaling_study.run.sweep import SweepOptions, run_sweep

    storage = tmp_path_factory.mktemp("race")
    with own_ray_temp_dir():
        return run_sweep(parse_spec(SPEC), SweepOptions(storage_path=str(storage)), argv=["test"])
