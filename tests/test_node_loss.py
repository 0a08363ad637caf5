"""Losing a node mid-trial, for real: on the local 3-node cluster (cluster/local.py: a head of 1 CPU and two
workers of 2), a trial that needs 2 CPUs runs on a worker; every process of that worker node is killed
by its id in the middle of the trial. The trial is run again from scratch on the other worker, the
sweep exits 0, the ledger and the report say it was retried after node loss, and the trial's own files
hold its last attempt only (iterations 1..N once). Then, with one worker left, its trial is lost too and
no longer fits on the head: one line, exit 1. About 95 s for both (one cluster start)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml
from ray_processes import REPO, end_processes, processes_naming

from scaling_study.run.ledger import finished_trials

pytestmark = [pytest.mark.ray, pytest.mark.timeout(360)]

LOCAL = REPO / "cluster" / "local.py"
WORKERS = ("w1", "w2")  # the worker nodes' temp dirs under the cluster's directory (cluster/local.py)
SPEC = {
    "name": "node-loss",
    "env": {"id": "FrozenLake-v1", "step_cost": {"seconds": 0.002, "mode": "sleep"}},
    "search_space": {"num_env_runners": [1]},  # main process + 1 runner: 2 CPUs, a worker node's all
    # RLlib's reservation, written: a trial fitted to the node would fit the 1-CPU head too.
    "fixed": {"train_batch_size_per_learner": 400, "minibatch_size": 100, "num_epochs": 1, "fcnet_hiddens": [8],
              "num_cpus_per_env_runner": 1},
    "stop": {"training_iteration": 6},
    "warmup_iterations": 1,
    "retries": 2,
}


def _title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""


def _holds_file_under(pid: int, root: Path) -> bool:
    prefix = str(root).rstrip("/") + "/"
    try:
        return any(os.readlink(fd).startswith(prefix) for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


class NodeKiller(threading.Thread):
    """Waits until a trial is training (its process and its env runner are up, for a while) on one of
    the worker nodes, then SIGKILLs every process of that node (those holding files under its temp dir,
    as cluster/local.py finds a node's processes). Once."""

    def __init__(self, cluster_dir: Path, workers: list[str], busy_for_s: float = 3.0):
        super().__init__(daemon=True, name="node-killer")
        self.cluster_dir, self.workers, self.busy_for_s = cluster_dir, workers, busy_for_s
        self.killed_node: str | None = None
        self.killed: list[int] = []
        self._halt = threading.Event()

    def node_of(self, pid: int) -> str | None:
        return next((w for w in self.workers if _holds_file_under(pid, self.cluster_dir / w)), None)

    def run(self) -> None:
        seen_at: dict[str, float] = {}
        while not self._halt.is_set() and self.killed_node is None:
            for pid in processes_naming(str(self.cluster_dir)):
                if _title(pid).startswith("ray::SingleAgentEnvRunner"):
                    node = self.node_of(pid)
                    if node:
                        seen_at.setdefault(node, time.monotonic())
            for node, since in seen_at.items():
                if time.monotonic() - since >= self.busy_for_s:
                    self.kill(node)
                    break
            self._halt.wait(0.2)

    def kill(self, node: str) -> None:
        pids = [p for p in processes_naming(str(self.cluster_dir)) if _holds_file_under(p, self.cluster_dir / node)]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.killed_node, self.killed = node, pids

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Head (1 CPU) + 2 workers of 2 CPUs, shared by the module's tests (one cluster start, about 15 s);
    ended by id after them. The first test leaves it with one worker, which the second one needs."""
    tmp_path = tmp_path_factory.mktemp("node-loss-cluster")
    token = tmp_path / "auth_token"
    token.write_text("fedcba9876543210" * 4)
    env = {k: v for k, v in os.environ.items()
           if k not in ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")}
    env["RAY_AUTH_TOKEN_PATH"] = str(token)
    # The GCS notices a dead node after its health checks fail (Ray's default: 5 checks 3 s apart, about
    # 15 s or more); these tests are about what the sweep does then, not how soon Ray notices: 3 checks
    # 1 s apart, each allowed 2 s on a busy 2-core machine.
    env.update({"RAY_health_check_period_ms": "1000", "RAY_health_check_timeout_ms": "2000",
                "RAY_health_check_failure_threshold": "3"})
    state = tmp_path / "state.json"
    up = subprocess.run([sys.executable, str(LOCAL), "up", "--state", str(state), "--workers", "2", "--cpus", "2",
                         "--head-cpus", "1"], env=env, capture_output=True, text=True, timeout=180)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        info = json.loads(state.read_text())
        yield {"address": info["address"], "dir": Path(info["dir"]), "env": env}
    finally:
        root = json.loads(state.read_text())["dir"] if state.exists() else None
        subprocess.run([sys.executable, str(LOCAL), "down", "--state", str(state)], env=env,
                       capture_output=True, text=True, timeout=120)
        if root:
            end_processes(processes_naming(root))


def sweep_killing_a_node(tmp_path, cluster, workers: list[str], env: dict[str, str] | None = None):
    experiment = tmp_path / "node-loss.yaml"
    experiment.write_text(yaml.safe_dump(SPEC))
    killer = NodeKiller(cluster["dir"], workers)
    killer.start()
    try:
        done = subprocess.run([sys.executable, "-m", "scaling_study.cli", "sweep", str(experiment), "--storage-path",
                               str(tmp_path / "results"), "--address", cluster["address"], "--no-analyze"], cwd=REPO,
                              env={**cluster["env"], **(env or {})}, capture_output=True, text=True, timeout=300)
    finally:
        killer.stop()
    return done, killer


def test_a_trial_whose_node_is_lost_is_run_again_from_scratch_and_the_sweep_exits_0(tmp_path, cluster):
    done, killer = sweep_killing_a_node(tmp_path, cluster, list(WORKERS))
    storage = tmp_path / "results"
    out = done.stdout[-3000:] + done.stderr[-3000:]
    assert killer.killed_node, "no trial was seen training on a worker node\n" + out
    assert done.returncode == 0, out
    assert "running it again from scratch, retry 1 of 2" in done.stdout, out
    assert "raylet" not in done.stdout + done.stderr, "Ray's own log lines reached the terminal"

    exp_dir = storage / "node-loss"
    ledger = [json.loads(line) for line in (exp_dir / "scaling_study" / "finished.jsonl").read_text().splitlines()]
    assert len(ledger) == 1 and ledger[0]["retries"] == 1 and ledger[0]["retried_after"] == ["node loss"], ledger
    trial_dir = exp_dir / finished_trials(exp_dir)[0]
    rows = [json.loads(line) for line in (trial_dir / "result.json").read_text().splitlines() if line.strip()]
    assert [r["training_iteration"] for r in rows] == list(range(1, 7)), "the retry ran from scratch, once"
    assert not (trial_dir / "error.txt").exists()
    assert (trial_dir / "attempts" / "1" / "error.txt").exists()

    report = subprocess.run([sys.executable, "-m", "scaling_study.cli", "analyze", str(exp_dir), "--out",
                             str(tmp_path / "report")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    assert "retried once after node loss" in report.stdout + report.stderr


def alive_workers(cluster) -> list[str]:
    return [w for w in WORKERS if any(_holds_file_under(p, cluster["dir"] / w)
                                      for p in processes_naming(str(cluster["dir"])))]


def test_a_trial_that_no_longer_fits_on_the_nodes_left_is_reported_and_the_sweep_exits_1(tmp_path, cluster):
    """Head (1 CPU) + one worker (2 CPUs) left: the 2-CPU trial's worker is killed, and the head alone
    cannot hold it. After the grace (5 s here, 60 s by default) the sweep says so in its last line."""
    left = alive_workers(cluster)
    if len(left) == 2:  # run on its own: lose one worker first, as the test above does
        NodeKiller(cluster["dir"], left).kill(left[0])
        left = left[1:]
    assert len(left) == 1, left
    done, killer = sweep_killing_a_node(tmp_path, cluster, left, env={"SCALING_STUDY_NO_FIT_GRACE_S": "5"})
    out = done.stdout[-3000:] + done.stderr[-3000:]
    assert killer.killed_node == left[0], out
    assert done.returncode == 1, out
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("scaling-study: 1 trial(s) no longer fit on the nodes left after a node loss"), out
    assert "needs 2 CPUs" in last and "1 node(s) left, the largest with 1 CPUs" in last, last
    assert "Traceback" not in done.stderr, out
