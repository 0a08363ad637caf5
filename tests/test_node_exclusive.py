"""How many trials run at once, and the whole-node placement group of a node-exclusive trial: pure
arithmetic, with answers worked by hand."""

import pytest

from scaling_study.run.node_exclusive import decide, pad_bundles

ONE_CPU = {"num_env_runners": 0, "num_cpus_for_main_process": 0.5, "num_cpus_per_learner": 0.5}  # 0.5 CPU
THREE_CPU = {"num_env_runners": 2}  # main 1 + 2 runners x 1


def test_a_cluster_of_three_runs_three_half_cpu_trials_each_on_a_node():
    plan = decide(None, True, [1.0, 1.0, 1.0], [ONE_CPU] * 4)
    assert (plan.trials_at_once, plan.node_cpus, plan.node_exclusive) == (3, 1.0, True)


def test_a_cpu_less_head_holds_no_trial():
    plan = decide(None, True, [0.0, 4.0, 4.0], [THREE_CPU])
    assert (plan.trials_at_once, plan.node_cpus) == (2, 4.0)


def test_unequal_nodes_pad_to_the_smallest_and_say_so():
    plan = decide(None, True, [2.0, 8.0], [THREE_CPU | {"num_env_runners": 1}])  # 2 CPUs
    assert (plan.trials_at_once, plan.node_cpus) == (2, 2.0)
    assert "unequal (2-8 CPUs)" in plan.why and "4+ CPUs can hold two trials" in plan.why


@pytest.mark.parametrize("requested, joining, nodes, trials, words", [
    (None, False, [2.0], [ONE_CPU], "one node"),  # a local Ray
    (None, True, [4.0], [ONE_CPU], "one node"),  # a one-node cluster
    (None, True, [2.0, 2.0], [ONE_CPU, THREE_CPU], "needs 3 CPUs, more than the smallest node's 2"),
    (None, True, [4.0, 4.0], [THREE_CPU | {"placement_strategy": "SPREAD"}], "SPREAD spreads"),
    (None, True, [4.0, 4.0], [THREE_CPU | {"placement_strategy": "STRICT_SPREAD"}], "STRICT_SPREAD"),
    (1, True, [1.0, 1.0, 1.0], [ONE_CPU], "as asked"),  # --max-concurrent-trials 1 wins
])
def test_one_trial_at_a_time(requested, joining, nodes, trials, words):
    plan = decide(requested, joining, nodes, trials)
    assert (plan.trials_at_once, plan.node_exclusive) == (1, False)
    assert words in plan.why


def test_an_explicit_count_is_used_as_it_is_without_padding():
    plan = decide(2, True, [1.0, 1.0, 1.0], [ONE_CPU])
    assert (plan.trials_at_once, plan.node_exclusive) == (2, False)
    assert plan.resources(print) is print  # RLlib's request, unpadded


@pytest.mark.parametrize("bundles, node_cpus, padded", [
    ([{"CPU": 1.0}, {"CPU": 1.0}], 4.0, [{"CPU": 1.0}, {"CPU": 1.0}, {"CPU": 2.0}]),
    ([{"CPU": 0.5}], 1.0, [{"CPU": 0.5}, {"CPU": 0.5}]),
    ([{"CPU": 0.3}, {"CPU": 0.3}, {"CPU": 0.3}], 1.0, [{"CPU": 0.3}] * 3 + [{"CPU": 0.1}]),  # not 0.10000000000000009
    ([{"CPU": 1.0, "GPU": 1.0}, {"CPU": 1.0}], 2.0, [{"CPU": 1.0, "GPU": 1.0}, {"CPU": 1.0}]),  # already a node
])
def test_padding_fills_the_node(bundles, node_cpus, padded):
    assert pad_bundles(bundles, node_cpus) == padded


def test_bundles_bigger_than_a_node_are_refused():
    with pytest.raises(ValueError, match="more than a node's 2 CPUs"):
        pad_bundles([{"CPU": 2.0}, {"CPU": 1.0}], 2.0)


def test_a_node_exclusive_trial_asks_ray_for_its_bundles_plus_padding_strictly_packed():
    from scaling_study.core.spec import parse_spec, trial_params
    from scaling_study.run.sweep import resources_for

    plan = decide(None, True, [4.0, 4.0], [THREE_CPU])
    params = trial_params(parse_spec({"name": "t", "env": {"id": "CartPole-v1"},
                                          "search_space": {"num_env_runners": [1]}}), 8)[0]
    request = plan.resources(resources_for)(params)
    # RLlib: main process 1 CPU, one env runner 1 CPU; the padding: 4 - 2 = 2.
    assert request.bundles == [{"CPU": 1.0}, {"CPU": 1.0}, {"CPU": 2.0}]
    assert request.strategy == "STRICT_PACK"
    assert request.head_cpus == 1.0  # the main process keeps its own CPU count (its torch threads)


def test_nodes_sharing_cores_still_run_side_by_side_but_say_what_it_costs():
    plan = decide(None, True, [1.0, 1.0, 1.0], [ONE_CPU], oversubscribed=True)
    assert (plan.trials_at_once, plan.node_exclusive) == (3, True)
    assert "slow each other" in plan.why and "--max-concurrent-trials 1" in plan.why
