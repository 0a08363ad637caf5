"""The suite's own files (core/layout.py): one reader for the ledger, one tolerance rule, and a
trial_index never counted twice. Pure: no Ray is started (the fixture is a real suite directory)."""

from __future__ import annotations

import json
import shutil

from analysis_helpers import FIXTURES, copy_fixture

from scaling_study.analysis.load import load_experiment
from scaling_study.core import layout
from scaling_study.run.ledger import finished_trials


def write_ledger(exp_dir, lines):
    path = exp_dir / layout.LEDGER
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))


def test_damaged_lines_are_skipped_with_one_warning(tmp_path):
    write_ledger(tmp_path, ['{"trial_index": 0, "trial_dir": "a", "stopped_by": "training_iteration"}',
                            '{"trial_dir": "b"}',                # no trial_index: no KeyError
                            '[1, 2]',                            # not an object
                            '{"trial_index": 2, "trial_dir": "c"}',
                            '{"trial_index": 3, "trial_d'])      # cut short by a kill
    ledger = layout.read_ledger(tmp_path)
    assert sorted(ledger.by_index) == [0, 2]
    assert len(ledger.warnings) == 1 and "3 damaged line(s)" in ledger.warnings[0]
    assert "2, 3, 5" in ledger.warnings[0]
    assert finished_trials(tmp_path) == {0: "a", 2: "c"}


def test_a_trial_index_twice_keeps_the_first_and_says_so(tmp_path):
    write_ledger(tmp_path, ['{"trial_index": 1, "trial_dir": "first"}', '{"trial_index": 1, "trial_dir": "second"}'])
    ledger = layout.read_ledger(tmp_path)
    assert ledger.by_index[1]["trial_dir"] == "first"
    assert ledger.repeated == {"second": "first"}
    assert ledger.warnings == ["finished.jsonl: trial_index 1 twice: kept the first (first), not second"]


def test_writing_refuses_a_trial_index_listed_already(tmp_path):
    assert layout.append_finished(tmp_path, 1, "first", "training_iteration")
    assert not layout.append_finished(tmp_path, 1, "second", "training_iteration")
    assert layout.append_finished(tmp_path, 2, "third")
    lines = (tmp_path / layout.LEDGER).read_text().splitlines()
    assert [json.loads(line)["trial_dir"] for line in lines] == ["first", "third"]


def test_a_directory_with_a_trial_run_twice_counts_it_once(tmp_path):
    exp_dir = copy_fixture(FIXTURES / "suite_smoke", tmp_path)
    first = layout.read_ledger(exp_dir).by_index[1]["trial_dir"]
    shutil.copytree(exp_dir / first, exp_dir / "second_run_of_trial_1")
    with (exp_dir / layout.LEDGER).open("a") as ledger:  # as a second sweep into the same directory wrote it
        ledger.write(json.dumps({"trial_index": 1, "trial_dir": "second_run_of_trial_1"}) + "\n")
    experiment = load_experiment(exp_dir)
    analysed = experiment.trials[experiment.trials["skipped"].isna()]
    assert sorted(analysed["trial"]) == sorted(layout.read_ledger(exp_dir).by_dir())
    assert any("trial_index 1 twice: kept the first" in w for w in experiment.warnings)
    assert any(w.startswith("second_run_of_trial_1: skipped") for w in experiment.warnings)
