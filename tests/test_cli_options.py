"""The sweep's flags come from SweepOptions' fields (core/options.py): each field is one flag, its
default is the field's, and the parsed options are the dataclass the sweep takes. Expectations are
written out by hand, not read back from the fields."""

from __future__ import annotations

from dataclasses import fields

import pytest

from scaling_study.cli import build_parser
from scaling_study.core.options import SweepOptions, options_from


def parsed(*words):
    return options_from(SweepOptions, build_parser().parse_args(["sweep", "x.yaml", *words]))


def test_no_flags_give_the_dataclass_defaults(monkeypatch):
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert parsed() == SweepOptions()
    assert (parsed().storage_path, parsed().reuse_actors, parsed().wait) == ("results", True, True)


def test_each_flag_sets_its_field():
    options = parsed("--storage-path", "r", "--name", "n", "--num-cpus", "3", "--max-concurrent-trials", "2",
                     "--allow-pending", "--restart", "--verbose", "--cold-processes", "--recalibrate", "--no-wait",
                     "--shared-storage")
    assert options == SweepOptions(storage_path="r", name="n", num_cpus=3, max_concurrent_trials=2, allow_pending=True,
                                   restart=True, verbose=True, reuse_actors=False, recalibrate=True, wait=False,
                                   shared_storage=True)


def test_the_address_defaults_to_ray_address(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    assert parsed().address == "10.0.0.5:6379"
    assert parsed("--address", "h:1").address == "h:1"


def test_every_field_is_a_flag_with_help():
    help_text = build_parser()._subparsers._group_actions[0].choices["sweep"].format_help()
    flags = ["--storage-path", "--name", "--address", "--num-cpus", "--max-concurrent-trials", "--allow-pending",
             "--restart", "--verbose", "--cold-processes", "--recalibrate", "--no-wait", "--shared-storage"]
    assert len(flags) == len(fields(SweepOptions))
    for flag in flags:
        assert flag in help_text


@pytest.mark.parametrize("words", [["--num-cpus", "0"], ["--num-cpus", "1.5"], ["--max-concurrent-trials", "x"]])
def test_a_bad_number_is_one_line_and_exit_2(words, capsys):
    with pytest.raises(SystemExit) as stopped:
        parsed(*words)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "expected a whole number >= 1" in err
