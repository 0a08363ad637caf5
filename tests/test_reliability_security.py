"""Security: files are data, never code; a local Ray is reachable from this machine only (under
`make test`), with no dashboard and token authentication on; provenance records environment variables
from an allow-list only."""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

import pytest

from scaling_study.run import provenance

SRC = Path(__file__).resolve().parents[1] / "src"
DANGEROUS = {
    "eval": re.compile(r"(?<![\w.])eval\("),  # ast.literal_eval is fine: it evaluates literals only
    "exec": re.compile(r"(?<![\w.])exec\("),
    "shell=True": re.compile(r"shell\s*=\s*True"),
    "os.system": re.compile(r"os\.system\("),
    "os.popen": re.compile(r"os\.popen\("),
    "yaml.load": re.compile(r"yaml\.(unsafe_)?load\("),
    "pickle.load": re.compile(r"pickle\.loads?\("),
}


def test_no_string_reaches_eval_exec_a_shell_or_an_unsafe_loader():
    found = [
        f"{path.relative_to(SRC)}:{number}: {name}"
        for path in sorted(SRC.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        for name, pattern in DANGEROUS.items()
        if pattern.search(line.split("#", 1)[0])
    ]
    assert found == []


def test_experiment_files_are_read_with_safe_load(tmp_path):
    from scaling_study.core.spec import SpecError, load_spec

    sentinel = tmp_path / "pwned"
    evil = tmp_path / "evil.yaml"
    evil.write_text(f"!!python/object/apply:os.system ['touch {sentinel}']\n")
    with pytest.raises(SpecError, match="broken YAML"):
        load_spec(evil)
    assert not sentinel.exists()


def test_provenance_records_allow_listed_environment_variables_only(monkeypatch):
    secret = "s3cr3t-value-that-must-not-be-written"
    for name in ("AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "WANDB_API_KEY", "RAY_AUTH_TOKEN", "MY_PASSWORD"):
        monkeypatch.setenv(name, secret)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    record = provenance.collect({"name": "t"}, {"address": None}, argv=["scaling-study", "sweep", "x.yaml"])
    text = json.dumps(record, default=str)
    assert secret not in text
    assert set(record["threads"]["env"]) <= set(provenance.ENV_ALLOW_LIST)
    assert record["threads"]["env"]["OMP_NUM_THREADS"] == "1"


DASHBOARD_PORT = 8265


def listening_sockets() -> dict[str, list[str]]:
    """socket inode -> local addresses of LISTEN sockets (TCP over IPv4 and IPv6)."""
    sockets: dict[str, list[str]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A":  # TCP_LISTEN
                sockets.setdefault(inode, []).append(local)  # hex address:hex port
    return sockets


def is_loopback(hex_address: str) -> bool:
    hex_address = hex_address.split(":")[0]
    if len(hex_address) == 8:  # IPv4, little-endian: 127.x.x.x has 7F as its last byte
        return hex_address[-2:] == "7F"
    return hex_address in ("00000000000000000000000001000000", "0000000000000000FFFF00000100007F")


def sockets_of(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray started the suite's way, in a temp dir of its own; every process it started is
    ended by pid at teardown (the ray_tmp pattern, module-scoped so Ray starts once)."""
    from ray_processes import own_ray_temp_dir, processes_naming

    from scaling_study.run.cluster import start_or_join

    with own_ray_temp_dir() as tmp:
        info = start_or_join(None, 1, quiet=True)
        yield info, [os.getpid(), *processes_naming(tmp)]


def listeners_of(pids: list[int]) -> list[str]:
    listening = listening_sockets()
    return [a for pid in pids for inode in sockets_of(pid) if inode in listening for a in listening[inode]]


@pytest.mark.ray
def test_a_local_ray_has_no_dashboard_and_token_auth_on(local_ray):
    from ray._private.authentication.authentication_utils import is_token_auth_enabled

    info, pids = local_ray
    assert info.address is None and info.logical_cpus == 1
    commands = [Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode() for p in pids
                if Path(f"/proc/{p}/cmdline").exists()]
    assert any("gcs_server" in c for c in commands), "found no process of this Ray: the check would prove nothing"
    # include_dashboard=False still starts Ray's dashboard head process, but without its web modules:
    # nothing of this Ray serves the dashboard's web UI.
    ports = {int(a.split(":")[1], 16) for a in listeners_of(pids)}
    assert DASHBOARD_PORT not in ports, "the dashboard's web UI is being served"
    assert os.environ.get("RAY_AUTH_MODE") == "token" and is_token_auth_enabled()


def is_wildcard(hex_address: str) -> bool:
    return set(hex_address.split(":")[0]) == {"0"}


def only_loopback_interfaces() -> bool:
    return {name for _, name in socket.if_nameindex()} == {"lo"}


@pytest.mark.ray
def test_nothing_a_local_ray_listens_on_is_reachable_from_another_machine(local_ray):
    """Ray 2.60 binds its gRPC servers (GCS, raylet, workers) to [::] even with _node_ip_address=127.0.0.1,
    and no setting keeps them on loopback. `make test` therefore runs the tests in a network namespace
    whose only interface is loopback: there a wildcard listener is reachable from this machine alone."""
    if not only_loopback_interfaces():
        pytest.skip("interfaces beyond loopback here, and Ray 2.60 listens on all of them: this check runs "
                    "under `make test`, which gives the tests a loopback-only network namespace")
    _, pids = local_ray
    addresses = listeners_of(pids)
    assert addresses, "found no listening socket of this Ray: the check would prove nothing"
    assert [a for a in addresses if not (is_loopback(a) or is_wildcard(a))] == []
