"""Retries without Ray: the file's `retries` key, what an attempt's error says happened, setting a failed
attempt's files aside, and whether a trial's bundles fit on the nodes left (the real node-loss runs are
in test_node_loss.py)."""

from __future__ import annotations

import pytest

from scaling_study.core.errors import SpecError
from scaling_study.core.spec import parse_spec
from scaling_study.run.retries import fits, reason_of, retry_facts, set_aside_attempt

BASE = {"name": "r", "env": {"id": "FrozenLake-v1"}, "search_space": {"num_env_runners": [0]},
        "stop": {"training_iteration": 2}}


def test_retries_defaults_to_2_and_takes_a_whole_number_from_0():
    assert parse_spec(BASE).retries == 2
    assert parse_spec({**BASE, "retries": 0}).retries == 0


@pytest.mark.parametrize("value", [-1, 1.5, "two", True])
def test_a_bad_retries_value_is_one_line_naming_the_key(value):
    with pytest.raises(SpecError) as caught:
        parse_spec({**BASE, "retries": value}, source="x.yaml")
    message = str(caught.value)
    assert message.startswith("x.yaml: retries: ") and "\n" not in message


# error.txt of a trial whose node was killed (test_node_loss.py, Ray 2.60: ActorUnavailableError), and
# the words of Ray's ActorDiedError for a trial whose process was killed; shortened.
NODE_DIED = ("Failure # 1 (occurred at 2026-12-03_15-55-00)\nThe actor 30b3598c083125ca3efb668702000000 is unavailable: "
             "The actor is temporarily unavailable: RpcError: RPC error: Socket closed rpc_code: 14.")
PROCESS_DIED = ("Failure # 1\nray.exceptions.ActorDiedError: The actor died unexpectedly before finishing this task.\n"
                "The actor is dead because its worker process has died. Worker exit type: SYSTEM_ERROR")


def test_the_reason_of_an_attempt_is_read_from_its_error():
    assert reason_of(NODE_DIED) == "node loss"
    assert reason_of(PROCESS_DIED) == "its process died"
    assert reason_of("Failure # 1\nTraceback ...\nValueError: bad env") == "ValueError: bad env"
    assert reason_of(None) == "an error"


def test_a_failed_attempt_is_set_aside_and_counted(tmp_path):
    for name, text in [("result.json", "{}\n"), ("progress.csv", "a\n1\n"), ("error.txt", NODE_DIED),
                       ("params.json", "{}")]:
        (tmp_path / name).write_text(text)
    assert retry_facts(tmp_path) == {"retries": 0}
    set_aside_attempt(tmp_path, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["attempts", "params.json"]
    assert (tmp_path / "attempts" / "1" / "error.txt").read_text() == NODE_DIED
    (tmp_path / "error.txt").write_text(PROCESS_DIED)
    set_aside_attempt(tmp_path, 2)
    assert retry_facts(tmp_path) == {"retries": 2, "retried_after": ["node loss", "its process died"]}


TRIAL = [{"CPU": 1.0}, {"CPU": 1.0}]  # main process + one env runner


@pytest.mark.parametrize("strategy, nodes, expected", [
    ("PACK", [{"CPU": 2.0}], True),
    ("PACK", [{"CPU": 1.0}], False),
    ("PACK", [{"CPU": 1.0}, {"CPU": 1.0}], True),          # PACK may spread when it must
    ("STRICT_PACK", [{"CPU": 1.0}, {"CPU": 1.0}], False),  # all on one node
    ("STRICT_PACK", [{"CPU": 3.0}], True),
    ("STRICT_SPREAD", [{"CPU": 4.0}], False),               # one node per bundle
    ("STRICT_SPREAD", [{"CPU": 1.0}, {"CPU": 1.0}], True),
    ("PACK", [], False),
])
def test_whether_a_trial_fits_on_the_nodes_left(strategy, nodes, expected):
    assert fits(TRIAL, strategy, nodes) is expected


def test_the_report_phrase_for_a_retried_trial():
    from scaling_study.analysis.findings import retried_phrase

    assert retried_phrase(1, "node loss") == "retried once after node loss"
    assert retried_phrase(2, "node loss; node loss") == "retried twice after node loss"
    assert retried_phrase(3, "node loss; its process died; node loss") == \
        "retried 3 times after node loss and its process died"
