"""Is an address this machine? Used to tell a cluster whose nodes all run here (one shared disk, cores
visible) from a real multi-machine one."""

from __future__ import annotations

import socket


def is_this_machine(host: str) -> bool:
    if host in ("localhost", "127.0.0.1", "::1") or host.startswith("127."):
        return True
    from ray._private.services import get_node_ip_address  # Ray's own idea of this node's address

    try:
        mine = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
        mine.add(get_node_ip_address())
        return host in mine or socket.gethostbyname(host) in mine
    except OSError:
        return False


def all_on_this_machine(nodes: list[dict]) -> bool:
    """Every node runs on the machine of this driver (a local test cluster): they share its disk."""
    hostname = socket.gethostname()
    return bool(nodes) and all(n["hostname"] == hostname and is_this_machine(n["ip"]) for n in nodes)
