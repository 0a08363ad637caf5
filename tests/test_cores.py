"""Cores as the OS grants them (core/cores.py): each source faked in a temporary tree, and one real
run under `taskset -c 0`. The expected counts are worked out by hand from the files each test writes."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from cgroup_tree import grant, write
from ray_processes import REPO

from scaling_study.core import cores
from scaling_study.core.cores import parse_cpu_list, quota_cores


@pytest.mark.parametrize("text, expected", [("0", 1), ("0-3", 4), ("0-3,8,10-11\n", 7), ("2,4", 2)])
def test_cpu_lists_count_by_hand(text, expected):
    assert parse_cpu_list(text) == expected


@pytest.mark.parametrize("text", ["", "a-b", "3-1", "0-"])
def test_a_bad_cpu_list_is_refused(text):
    with pytest.raises(ValueError):
        parse_cpu_list(text)


@pytest.mark.parametrize("quota, period, expected", [(-1, 100000, None), (200000, 100000, 2), (150000, 100000, 1),
                                                     (50000, 100000, 1), (400000, 100000, 4)])
def test_quota_rounds_down_to_at_least_one(quota, period, expected):
    assert quota_cores(quota, period) == expected


def test_nothing_limits_an_empty_machine(tmp_path):
    found = grant(tmp_path, cpu_count=4)
    assert (found.granted, found.limit, found.describe()) == (4, None, "4 cores")


def test_affinity_alone(tmp_path):
    found = grant(tmp_path, affinity=1, cpu_count=2)
    assert (found.granted, found.limit) == (1, cores.AFFINITY)
    assert found.describe() == "1 core granted (CPU affinity) of 2"


def test_cgroup2_quota_of_an_ancestor_limits_the_process(tmp_path):
    write(tmp_path, "proc/self/cgroup", "0::/job/step\n")
    write(tmp_path, "sys/fs/cgroup/cgroup.controllers", "cpu cpuset\n")
    write(tmp_path, "sys/fs/cgroup/job/cpu.max", "300000 100000\n")     # 3 cores for the job
    write(tmp_path, "sys/fs/cgroup/job/step/cpu.max", "max 100000\n")   # no limit of its own
    found = grant(tmp_path, affinity=8)
    assert (found.granted, found.limit) == (3, cores.CGROUP2_QUOTA)


def test_cgroup2_cpuset_is_read_though_ray_does_not(tmp_path):
    write(tmp_path, "proc/self/cgroup", "0::/\n")
    write(tmp_path, "sys/fs/cgroup/cgroup.controllers", "cpuset\n")
    write(tmp_path, "sys/fs/cgroup/cpuset.cpus.effective", "0-1,4\n")
    found = grant(tmp_path, affinity=8)
    assert (found.granted, found.limit) == (3, cores.CGROUP2_CPUSET)


def test_cgroup1_quota_and_cpuset_the_least_wins(tmp_path):
    write(tmp_path, "proc/self/cgroup", "3:cpuset:/\n2:cpu,cpuacct:/\n")
    write(tmp_path, "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "250000\n")
    write(tmp_path, "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n")
    write(tmp_path, "sys/fs/cgroup/cpuset/cpuset.effective_cpus", "0-5\n")
    found = grant(tmp_path, affinity=8)
    assert (found.granted, found.limit) == (2, cores.CGROUP1_QUOTA)
    assert found.limits[cores.CGROUP1_CPUSET] == 6


def test_slurm_allocation(tmp_path):
    found = grant(tmp_path, affinity=8, environ={"SLURM_CPUS_ON_NODE": "4"})
    assert (found.granted, found.limit) == (4, cores.SLURM)


def test_never_more_than_the_machine(tmp_path):
    found = grant(tmp_path, affinity=2, environ={"SLURM_CPUS_ON_NODE": "64"}, cpu_count=2)
    assert (found.granted, found.limit) == (2, None)


def test_an_unreadable_file_warns_once_and_the_next_source_decides(tmp_path):
    write(tmp_path, "proc/self/cgroup", "0::/\n")
    write(tmp_path, "sys/fs/cgroup/cgroup.controllers", "cpu\n")
    write(tmp_path, "sys/fs/cgroup/cpu.max", "lots 100000\n")
    found = grant(tmp_path, affinity=3)
    assert (found.granted, found.limit) == (3, cores.AFFINITY)
    assert len(found.warnings) == 1 and "cpu.max" in found.warnings[0]


def test_a_bad_slurm_value_warns(tmp_path):
    found = grant(tmp_path, affinity=8, environ={"SLURM_CPUS_ON_NODE": "zero"})
    assert found.granted == 8 and len(found.warnings) == 1 and "SLURM" in found.warnings[0]


@pytest.mark.skipif(shutil.which("taskset") is None, reason="taskset (util-linux) is not installed")
def test_validate_under_taskset_reports_one_core():
    """The real thing: one core granted by affinity, counted by the command a user runs."""
    done = subprocess.run(["taskset", "-c", "0", sys.executable, "-m", "scaling_study.cli", "validate",
                           "experiments/frozenlake.yaml"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "1 core granted (CPU affinity) of" in done.stdout, done.stdout
    # auto's rule on 1 core: runners 0, 1, 2 (the first >= 2 x cores) x the file's 4 and 16 envs per
    # runner, and RLlib's default (2 runners x 1 env) beside them: 7 points.
    assert "7 grid points x up to 5 seeds" in done.stdout, done.stdout
    assert "a local Ray of 1 CPU)" in done.stdout, done.stdout
