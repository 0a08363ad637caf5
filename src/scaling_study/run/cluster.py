"""Starting or joining Ray, and what the sweep needs to know about the cluster it got.

Joining a cluster is checked before anything is written: `preflight` asks the cluster's GCS, with a
bounded timeout, whether it is there and accepts this client's token (ray.init itself would retry an
unreachable address for minutes, and a rejected token for 20 s, and then name neither), and counts its
nodes so that `storage.check_shared_storage` can refuse a node-local results path on a multi-node cluster.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from dataclasses import asdict, dataclass, field

import ray

from scaling_study.core.cores import granted_cores
from scaling_study.core.errors import UsageError
from scaling_study.run.hosts import all_on_this_machine, is_this_machine

CONNECT_TIMEOUT_S = 5.0
"""TCP connect to the GCS port: a dead host or a dropped packet fails here, well within 30 s."""
RPC_TIMEOUT_S = 10.0
"""One GCS call that needs the token: a rejected or missing token fails here."""
class ClusterError(UsageError):
    """A cluster that cannot be joined, or a storage path it cannot share: one line, exit 2."""


@dataclass
class ClusterInfo:
    address: str | None
    """None when the suite started a local Ray itself."""
    logical_cpus: float
    """CPUs Ray schedules with: the sum over alive nodes."""
    physical_cpus: int
    """Cores granted to the sweep (core/cores.py): this process's on a local Ray or a cluster whose nodes
    all run here, else the sum of what a probe task on each node counted."""
    nodes: int
    node_cpus: list[float]
    """Logical CPUs of each alive node."""
    oversubscribed: bool
    """True when Ray was told of more CPUs than there are cores: timings then share cores."""
    cores: dict = field(default_factory=dict)
    """`Cores.to_dict()` of this process: the machine a local Ray's trials run on."""
    node_cores: list[int] = field(default_factory=list)
    """Granted cores of each alive node, in the order of `node_cpus`."""

    @property
    def trial_node_cpus(self) -> float:
        """The node a reservation is fitted to: a local Ray, or the cluster's largest node (a trial then
        holds one node whole, its runners sharing what the main process leaves)."""
        nodes = [cpus for cpus in self.node_cpus if cpus > 0]
        return max(nodes) if self.address and nodes else self.logical_cpus

    @property
    def trial_cores(self) -> int:
        """Granted cores of that node (the largest node's on a cluster)."""
        nodes = [(cpus, c) for cpus, c in zip(self.node_cpus, self.node_cores, strict=False) if cpus > 0]
        return max(nodes)[1] if self.address and nodes else self.physical_cpus

    def describe_cores(self) -> str:
        from scaling_study.core.cores import Cores

        if not self.address:
            return Cores(**self.cores).describe()
        return f"{self.trial_cores} core(s) granted on the largest of {self.nodes} node(s)"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Preflight:
    """What the GCS said about the cluster before we joined it."""
    address: str
    nodes: list[dict]
    """Alive nodes: {"node_id", "ip", "hostname"}."""


def split_address(address: str) -> tuple[str, int]:
    host, sep, port = address.strip().rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ClusterError(f"--address {address!r}: expected HOST:PORT of the cluster's head (its GCS port, "
                           f"6379 unless `ray start --head --port` said otherwise), e.g. 10.0.0.5:6379")
    return host.strip("[]"), int(port)


def resolve_auto(address: str) -> str:
    """`auto` (Ray's word for "the cluster running on this machine") -> its HOST:PORT; Ray Client
    addresses are refused, since Tune's driver must run inside the cluster."""
    if address.startswith("ray://"):
        raise ClusterError(
            f"--address {address}: Ray Client addresses are not supported; run the sweep on the cluster's head "
            f"(`ray exec`, `ray job submit`, or a KubeRay RayJob: see cluster/README.md) with its GCS address"
        )
    if address != "auto":
        return address
    try:
        found = ray._private.services.canonicalize_bootstrap_address("auto")
    except (ConnectionError, ValueError):
        found = None
    if not found:
        raise ClusterError("--address auto: no running Ray cluster found on this machine; start one "
                           "(`make cluster-up`) or give the head's HOST:PORT")
    return found


def enable_token_for_local_cluster(host: str) -> None:
    """Send the token to a cluster on this machine without RAY_AUTH_MODE=token, as Ray itself does for
    a cluster it finds with address="auto"; a remote address gets the token only when asked for."""
    from ray._private.authentication.authentication_token_setup import (
        maybe_enable_token_auth_if_token_available,
    )

    if "RAY_AUTH_MODE" not in os.environ and is_this_machine(host):
        setup_logger = logging.getLogger("ray._private.authentication.authentication_token_setup")
        level = setup_logger.level
        setup_logger.setLevel(logging.ERROR)  # its "token authentication is enabled" is not news here
        try:
            maybe_enable_token_auth_if_token_available(warn_if_disabled=False)
        finally:
            setup_logger.setLevel(level)


def _token_state() -> str:
    """What ray.init will send: "token" (token mode and a token found), "missing" (token mode, no token
    found) or "none" (token mode off)."""
    from ray._raylet import AuthenticationTokenLoader

    if os.environ.get("RAY_AUTH_MODE", "").lower() != "token":
        return "none"
    return "token" if AuthenticationTokenLoader.instance().has_token(ignore_auth_mode=True) else "missing"


TOKEN_HOW = "the cluster's token (`ray get-auth-token` on its head) in ~/.ray/auth_token, RAY_AUTH_TOKEN_PATH or RAY_AUTH_TOKEN"


def preflight(address: str) -> Preflight:
    """Is there a Ray cluster at `address` that accepts this client? Answers within about 20 s.

    A TCP connect to the GCS port first (a dead host fails in CONNECT_TIMEOUT_S), then Ray's own GCS
    client in a child process: with short reconnect timeouts it aborts its process on a port that is not
    a GCS, so it must not run in this one; a missing or wrong token raises ray.exceptions.AuthenticationError.
    """
    import json
    import subprocess
    import sys

    host, port = split_address(resolve_auto(address))
    enable_token_for_local_cluster(host)
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as err:
        timed_out = isinstance(err, TimeoutError | socket.timeout)
        reason = f"no answer within {CONNECT_TIMEOUT_S:g} s" if timed_out else (err.strerror or str(err)).lower()
        raise ClusterError(
            f"cannot reach a Ray cluster at {address} ({reason}): check that the "
            f"head is up (`ray status` on it; `make cluster-up` for a local one) and that HOST:PORT is its GCS "
            f"address (6379 unless set with `ray start --head --port`)"
        ) from None
    token = _token_state()
    if token == "missing":
        raise ClusterError(f"RAY_AUTH_MODE=token but no Ray authentication token was found: put {TOKEN_HOW}")
    env = {**os.environ, "RAY_gcs_rpc_server_connect_timeout_s": "5", "RAY_gcs_rpc_server_reconnect_timeout_s": "5"}
    try:
        done = subprocess.run([sys.executable, "-m", "scaling_study.run.cluster", "probe", f"{host}:{port}"], env=env,
                              capture_output=True, text=True, timeout=RPC_TIMEOUT_S + 10)
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, ValueError, IndexError):
        answer = {"error": "no answer"}
    if answer.get("error") == "auth" and token == "token":
        raise ClusterError(f"the Ray cluster at {address} rejected this client's authentication token: use {TOKEN_HOW}")
    if answer.get("error") == "auth":
        raise ClusterError(f"the Ray cluster at {address} requires token authentication and this client sent no "
                           f"token: set RAY_AUTH_MODE=token and put {TOKEN_HOW}")
    if "error" in answer:
        raise ClusterError(
            f"{address} accepts connections but did not answer as a Ray {ray.__version__} cluster "
            f"({answer['error']}): check that the port is the head's GCS port and that the cluster runs Ray "
            f"{ray.__version__}"
        )
    return Preflight(address=address, nodes=answer["nodes"])


def _probe(address: str) -> dict:
    """Run in a child process by `preflight`: the alive nodes as Ray's GCS reports them."""
    from ray._raylet import GcsClient
    from ray.exceptions import AuthenticationError

    try:
        infos = GcsClient(address=address).get_all_node_info(timeout=RPC_TIMEOUT_S)
    except AuthenticationError:
        return {"error": "auth"}
    except Exception as err:  # noqa: BLE001  (reported to the parent, which words it)
        return {"error": f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"}
    nodes = [{"node_id": info.node_id.hex(), "ip": info.node_manager_address, "hostname": info.node_manager_hostname}
             for info in infos.values() if info.state == 0]  # GcsNodeInfo.ALIVE
    return {"nodes": nodes}


def start_or_join(address: str | None, num_cpus: int | None, quiet: bool, runtime_env: dict | None = None) -> ClusterInfo:
    """Join the cluster at `address`, or start a local Ray bound to 127.0.0.1 with no dashboard.

    Token authentication, which Ray 2.60 turns on for clusters it starts, is left on. Call `preflight`
    first when joining: ray.init alone can hang for minutes on a bad address.
    """
    common = dict(include_dashboard=False, log_to_driver=not quiet, configure_logging=not quiet, runtime_env=runtime_env)
    if address:
        ray.init(address=address, **common)
    else:
        ray.init(num_cpus=num_cpus, _node_ip_address="127.0.0.1", **common)
    return describe(address, num_cpus)


def describe(address: str | None, requested_cpus: float | None) -> ClusterInfo:
    alive = [n for n in ray.nodes() if n.get("Alive")]
    logical = float(sum(n["Resources"].get("CPU", 0) for n in alive))
    here = all_on_this_machine([{"ip": n["NodeManagerAddress"], "hostname": n["NodeManagerHostname"]} for n in alive])
    mine = granted_cores()
    # A cluster's cores are not visible from the driver: a probe task on each node counts them there.
    node_cores = [mine.granted] * len(alive) if not address else probe_node_cores([n["NodeID"] for n in alive])
    physical = mine.granted if not address or here else sum(node_cores)
    node_cpus = [float(n["Resources"].get("CPU", 0)) for n in alive]
    return ClusterInfo(
        address=address,
        logical_cpus=logical,
        physical_cpus=physical,
        nodes=len(alive),
        node_cpus=node_cpus,
        oversubscribed=logical > physical,
        cores=mine.to_dict(),
        node_cores=node_cores,
    )


def probe_node_cores(node_ids: list[str], timeout_s: float = 60.0) -> list[int]:
    """Granted cores of each node, counted by a zero-CPU task pinned to it (it runs even on a node
    whose CPUs are all held). A node that does not answer in time counts as 0 cores and is warned of."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    @ray.remote(num_cpus=0)
    def count() -> int:
        from scaling_study.core.cores import granted_cores

        return granted_cores().granted

    refs = [count.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False)).remote()
            for node_id in node_ids]
    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=timeout_s)
    counts = [ray.get(ref) if ref in ready else 0 for ref in refs]
    if len(ready) < len(refs):
        print(f"warning: {len(refs) - len(ready)} node(s) did not count their cores within {timeout_s:g} s",
              file=sys.stderr)
    return counts


if __name__ == "__main__":
    import json
    import sys

    if sys.argv[1:2] == ["probe"]:
        print(json.dumps(_probe(sys.argv[2])))
