"""The Makefile as a new user meets it, dry-run (`make -n`: nothing is installed or run): `make` alone
is the help, which names every target and variable; `sweep` installs the runtime packages only and
`test` the test tools too; TORCH_INDEX is opt-in; cluster/local.py refuses off Linux in one line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from ray_processes import REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
MAKEFILE = (REPO / "Makefile").read_text()


def make(*args: str) -> str:
    done = subprocess.run(["make", "--no-print-directory", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_alone_lists_every_target_and_variable_in_one_screen():
    shown = make()
    listed = set(re.findall(r"^  ([a-z-]+) ", shown, re.M))
    targets = set(re.search(r"^\.PHONY: (.+)$", MAKEFILE, re.M).group(1).split())
    assert targets <= listed, f"missing from make help: {targets - listed}"
    variables = set(re.findall(r"^([A-Z_]+) \?=", MAKEFILE, re.M))
    assert variables <= set(re.findall(r"^  ([A-Z_]+) ", shown, re.M)), variables
    assert len(shown.splitlines()) <= 40


def test_sweep_installs_the_runtime_only_and_test_adds_the_test_tools():
    # -W pyproject.toml: as if it had just changed, so the install steps are shown
    sweep = make("-n", "-W", "pyproject.toml", "sweep")
    assert "pip install" in sweep and "-e ." in sweep and "[dev]" not in sweep and "--index-url" not in sweep
    assert "-e '.[dev]'" in make("-n", "-W", "pyproject.toml", "test")


def test_torch_index_installs_torch_at_the_pinned_version_from_that_index():
    pin = re.search(r'"(torch==[^"]+)"', (REPO / "pyproject.toml").read_text()).group(1)
    shown = make("-n", "-W", "pyproject.toml", "sweep", "TORCH_INDEX=https://download.pytorch.org/whl/cpu")
    assert f"--index-url https://download.pytorch.org/whl/cpu '{pin}'" in shown
    assert shown.index("--index-url") < shown.index("-e ."), "torch first, so the project's pin is already met"


def test_local_cluster_script_refuses_off_linux_in_one_line(tmp_path):
    # Run it as macOS would see it: only sys.platform differs; the refusal comes before any /proc access.
    code = ("import runpy, sys; sys.platform = 'darwin'; sys.argv = ['local.py', 'status', '--state', sys.argv[1]];"
            f"runpy.run_path({str(REPO / 'cluster' / 'local.py')!r}, run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "state.json")], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [done.stderr.strip()] and "needs Linux" in done.stderr
