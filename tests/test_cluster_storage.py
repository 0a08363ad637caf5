"""How the suite decides whether a results path is shared by every node, and how it reads an address:
pure functions, checked without a cluster."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from scaling_study.core.errors import UsageError
from scaling_study.run import cluster, storage
from scaling_study.run.cluster import ClusterError, split_address
from scaling_study.run.storage import check_shared_storage, check_storage_uri

HERE = socket.gethostname()
ELSEWHERE = [{"node_id": "a", "ip": "127.0.0.1", "hostname": HERE},
             {"node_id": "b", "ip": "10.0.0.7", "hostname": "worker-7"}]
ON_THIS_MACHINE = [{"node_id": n, "ip": "127.0.0.1", "hostname": HERE} for n in "abc"]


def test_a_single_node_accepts_any_local_path(tmp_path):
    assert check_shared_storage(tmp_path, ELSEWHERE[:1], asserted_shared=False) == "single node"


def test_a_local_path_on_a_multi_machine_cluster_is_refused_with_the_way_out(tmp_path):
    with pytest.raises(UsageError) as refused:
        check_shared_storage(tmp_path / "results", ELSEWHERE, asserted_shared=False)
    message = str(refused.value)
    assert "2 nodes on 2 machine(s)" in message and "worker-7" in message
    assert "--shared-storage" in message and "NFS" in message and "\n" not in message


def test_the_user_may_assert_a_path_is_shared(tmp_path):
    assert "asserted" in check_shared_storage(tmp_path, ELSEWHERE, asserted_shared=True)


def test_nodes_that_all_run_on_this_machine_share_its_disk(tmp_path):
    assert check_shared_storage(tmp_path, ON_THIS_MACHINE, asserted_shared=False) == "every node runs on this machine"


def test_a_path_on_a_network_file_system_is_accepted(tmp_path, monkeypatch):
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\nfs-1.efs:/ /mnt/efs nfs4 rw 0 0\n/dev/sdb /mnt/efs/x ext4 rw 0 0\n")
    real_path = Path

    def fake_path(*parts):
        return mounts if parts == ("/proc/mounts",) else real_path(*parts)

    monkeypatch.setattr(storage, "Path", fake_path)
    assert storage.network_mount(real_path("/mnt/efs/results/smoke")) == "nfs4"
    assert storage.network_mount(real_path("/mnt/efs")) == "nfs4"
    assert storage.network_mount(real_path("/mnt/efs/x/results")) is None, "the longest mount point decides"
    assert storage.network_mount(real_path("/mnt/efsx")) is None
    assert storage.network_mount(real_path("/home/me/results")) is None


@pytest.mark.parametrize("uri", ["s3://bucket/results", "gs://bucket/r", "file:///tmp/results"])
def test_uris_are_refused_until_the_suite_writes_through_pyarrow(uri):
    with pytest.raises(UsageError, match="not supported yet"):
        check_storage_uri(uri)


def test_a_plain_path_is_not_a_uri():
    check_storage_uri("results")
    check_storage_uri("/mnt/efs/results")


@pytest.mark.parametrize("address, expected", [("127.0.0.1:6379", ("127.0.0.1", 6379)),
                                               ("head.example:40000", ("head.example", 40000)),
                                               ("[::1]:6379", ("::1", 6379))])
def test_addresses_are_host_and_port(address, expected):
    assert split_address(address) == expected


@pytest.mark.parametrize("address", ["127.0.0.1", "head:", ":6379", "auto", "head:port"])
def test_an_address_without_a_port_is_a_one_line_error(address):
    with pytest.raises(ClusterError, match="expected HOST:PORT"):
        split_address(address)


def test_a_ray_client_address_is_refused_with_the_way_out():
    with pytest.raises(ClusterError, match="Ray Client addresses are not supported.*cluster/README.md"):
        cluster.resolve_auto("ray://head:10001")
