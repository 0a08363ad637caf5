"""The command line as a new user meets it, in a subprocess: --version, `python -m scaling_study`, and a
usage line whose suggested command works. None of these start Ray."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ray_processes import REPO

SCRIPT = Path(sys.executable).with_name("scaling-study")  # the console script pip installed beside python


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_version_names_the_package_ray_and_torch(tmp_path):
    pyproject = (REPO / "pyproject.toml").read_text()  # tomllib is 3.11+; the suite runs on 3.10 too
    version = re.search(r'^version = "(.+)"', pyproject, re.M).group(1)
    pins = dict(re.findall(r'"(ray|torch)(?:\[[^\]]*\])?==([^"]+)"', pyproject))
    done = run([str(SCRIPT), "--version"], tmp_path)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith(f"scaling-study {version} ")
    assert f"ray {pins['ray']}," in line
    assert re.search(rf"torch {re.escape(pins['torch'])}(\+\w+)?\)", line), line


def test_python_dash_m_is_the_same_command_line(tmp_path):
    module = run([sys.executable, "-m", "scaling_study", "--help"], tmp_path)
    script = run([str(SCRIPT), "--help"], tmp_path)
    assert module.returncode == 0, module.stderr
    assert module.stdout == script.stdout and "sweep" in module.stdout


def test_a_missing_command_names_a_help_command_that_works(tmp_path):
    for argv, command in (([], "scaling-study"), (["sweep"], "scaling-study sweep")):
        done = run([str(SCRIPT), *argv], tmp_path)
        assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
        hint = re.search(r"\(see (.+) --help\)$", done.stderr.strip())
        assert hint and hint.group(1) == command, done.stderr
        helped = run([str(SCRIPT), *command.split()[1:], "--help"], tmp_path)
        assert helped.returncode == 0 and helped.stdout.startswith(f"usage: {command}"), helped.stderr
