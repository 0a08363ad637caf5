"""How many trials run at once, and node-exclusive trials on a multi-node cluster.

On a cluster of N > 1 alive nodes (`--address`), when every trial fits on the smallest node and asks
to be packed (PACK or STRICT_PACK), each trial's placement group holds a whole node and Tune runs up
to N trials at once: no two trials share a node's cores. The trial's own bundles (RLlib's request)
get one more bundle of padding CPUs, so that they add up to the smallest node's CPUs, and the
strategy STRICT_PACK puts them all on one node. The padding is a bundle of its own rather than more
CPUs in the main process's bundle: Ray gives an actor as many OMP/torch threads as CPUs it holds,
and a trial must run with what it reserved.

Otherwise trials run one at a time, as does a sweep on one node. A value the user gave
(`--max-concurrent-trials`, the file's `max_concurrent_trials`) always wins, and is used as it is.

Pure, except `WholeNode.__call__`, which builds a Tune PlacementGroupFactory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from scaling_study.core.resources import cpus_needed
from scaling_study.core.settings import resolve

SPREADING = ("SPREAD", "STRICT_SPREAD")
"""Strategies that ask for a trial's bundles on different nodes: such a trial cannot hold just one."""


@dataclass(frozen=True)
class Concurrency:
    trials_at_once: int
    """Tune's max_concurrent_trials."""
    node_cpus: float | None
    """CPUs each trial's placement group holds on one node (the smallest node's); None: trials hold
    only what RLlib asks for."""
    why: str
    """One line for the sweep's plan and provenance."""

    @property
    def node_exclusive(self) -> bool:
        return self.node_cpus is not None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "node_exclusive": self.node_exclusive}

    def resources(self, request: Callable[[dict], Any]) -> Callable[[dict], Any]:
        """Tune's per-trial resources: RLlib's `request`, padded to a whole node when node-exclusive."""
        return WholeNode(request, self.node_cpus) if self.node_exclusive else request


def decide(requested: int | None, joining: bool, node_cpus: list[float], trials: list[dict[str, Any]],
           oversubscribed: bool = False) -> Concurrency:
    """Trials at once for a sweep of `trials` (their params) on alive nodes with `node_cpus` CPUs each;
    `oversubscribed`: the nodes share fewer cores than they offer CPUs (nodes of one machine)."""
    if requested is not None:
        return Concurrency(requested, None, f"{requested} trial(s) at once, as asked (max_concurrent_trials)")
    nodes = [cpus for cpus in node_cpus if cpus > 0]  # a head started with --num-cpus 0 runs no trial
    if not joining or len(nodes) < 2:
        return Concurrency(1, None, "one trial at a time (one node)")
    smallest, largest = min(nodes), max(nodes)
    spreading = sorted({resolve(p, ("placement_strategy",))["placement_strategy"] for p in trials} & set(SPREADING))
    if spreading:
        return Concurrency(1, None, f"one trial at a time: placement_strategy {spreading[0]} spreads a trial over "
                                    f"nodes, so it cannot hold just one")
    biggest = max(cpus_needed(p) for p in trials)
    if biggest > smallest:
        return Concurrency(1, None, f"one trial at a time: a trial needs {biggest:g} CPUs, more than the smallest "
                                    f"node's {smallest:g}, so it spans nodes")
    unequal = (f"; nodes are unequal ({smallest:g}-{largest:g} CPUs), so a node with {2 * smallest:g}+ CPUs can hold "
               f"two trials (the report flags trials that shared a node)") if largest >= 2 * smallest else ""
    shared = ("; the nodes share fewer cores than their CPUs, so trials side by side slow each other "
              "(--max-concurrent-trials 1 runs them one at a time)") if oversubscribed else ""
    return Concurrency(len(nodes), smallest, f"node-exclusive: up to {len(nodes)} trials at once, each holding "
                                             f"{smallest:g} CPU(s) on one node of its own{unequal}{shared}")


def pad_bundles(bundles: list[dict[str, float]], node_cpus: float) -> list[dict[str, float]]:
    """The trial's bundles plus one of the CPUs they leave free on a node of `node_cpus` CPUs."""
    spare = round(node_cpus - sum(bundle.get("CPU", 0.0) for bundle in bundles), 4)  # Ray counts in 1e-4 units
    if spare < 0:
        raise ValueError(f"the trial's bundles need more than a node's {node_cpus:g} CPUs")
    return [dict(bundle) for bundle in bundles] + ([{"CPU": spare}] if spare > 0 else [])


class WholeNode:
    """`tune.with_resources` body: RLlib's request for the trial, padded to hold a whole node with
    STRICT_PACK. A class, so tuner.pkl pickles it and a resumed sweep asks for the same."""

    def __init__(self, request: Callable[[dict], Any], node_cpus: float):
        self.request, self.node_cpus = request, node_cpus

    def __call__(self, config: dict[str, Any]):
        from ray.tune import PlacementGroupFactory

        return PlacementGroupFactory(pad_bundles(self.request(config).bundles, self.node_cpus), strategy="STRICT_PACK")
