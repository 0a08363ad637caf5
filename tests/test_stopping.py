"""Precision stopping: the rule by hand, then the shared real tiny sweep (race_sweep.py) that stops on it.

A trial stops once the 95% interval of its median env steps/s over measured iterations lies within
+-precision of that median, after at least 3 measured iterations; the file's other stop keys are caps.
"""

from __future__ import annotations

import math

import pytest
from race_sweep import CAP, SLOW, interval, trials, within

from scaling_study.core.spec import parse_spec
from scaling_study.core.stats import relative_ci
from scaling_study.run.ledger import reached_stop
from scaling_study.run.stopping import stop_reason


def row(measured: int, relative: float, iteration: int = 10) -> dict:
    return {"training_iteration": iteration, "scaling": {"measured_iterations": measured, "relative_ci": relative}}


def test_relative_ci_by_hand():
    # Three values: a bootstrap median is the smallest with probability 7/27 (two or three of three
    # draws), far above 2.5%, so the 95% percentile interval is [min, max]: [98, 102] around 100.
    assert relative_ci([100, 102, 98]) == pytest.approx(0.02)
    assert relative_ci([100, 110, 95]) == pytest.approx(0.10)  # the larger side: +10 against -5
    assert relative_ci([100, 100, 100]) == 0.0
    assert math.isnan(relative_ci([100]))


def test_precision_stops_only_with_three_measured_iterations_inside_the_band():
    stop = {"precision": 0.05, "training_iteration": 30}
    assert stop_reason(row(3, 0.04), stop) == "precision"
    assert stop_reason(row(3, 0.05), stop) == "precision"  # "within" includes the edge
    assert stop_reason(row(2, 0.0), stop) is None  # two iterations are too few however close
    assert stop_reason(row(5, 0.051), stop) is None
    assert stop_reason(row(5, float("nan")), stop) is None
    assert stop_reason({"training_iteration": 3}, stop) is None  # a row without the interval


def test_caps_still_stop_and_precision_wins_a_tie():
    stop = {"precision": 0.05, "training_iteration": 30, "time_total_s": 60}
    assert stop_reason(row(1, float("nan"), iteration=30), stop) == "training_iteration"
    assert stop_reason({**row(1, float("nan")), "time_total_s": 61.0}, stop) == "time_total_s"
    assert stop_reason(row(29, 0.01, iteration=30), stop) == "precision"
    assert stop_reason({"scaling/measured_iterations": 4, "scaling/relative_ci": 0.01}, stop) == "precision"


def test_the_ledger_counts_a_precision_stop_as_finished():
    stop = {"precision": 0.05, "training_iteration": 30}
    assert reached_stop(row(3, 0.01, iteration=4), stop)
    assert not reached_stop(row(3, 0.2, iteration=4), stop)


def test_a_precision_without_a_cap_is_refused():
    from scaling_study.core.errors import SpecError

    base = {"name": "p", "env": "FrozenLake-v1", "search_space": {"num_env_runners": [0]}}
    with pytest.raises(SpecError, match="stop.precision: needs a cap"):
        parse_spec({**base, "stop": {"precision": 0.05}})
    with pytest.raises(SpecError, match="stop.precision: expected a fraction"):
        parse_spec({**base, "stop": {"precision": 5, "training_iteration": 3}})


@pytest.mark.ray
def test_each_trial_stopped_by_what_its_own_rows_show(race_sweep):
    """Whatever the timing: a precision stop only when the interval over the trial's measured rows,
    recomputed here, lies within +-precision after >= 3 of them; a cap stop only when that never held."""
    found = trials(race_sweep)
    assert found and all(t.stopped_by in ("precision", "training_iteration") for t in found)
    for trial in found:
        rates = trial.rates
        assert [r["measured_iterations"] for r in trial.rows if not r["warmup"]] == list(range(1, len(rates) + 1))
        # The trial stopped at its first chance: the rule held after no earlier iteration ...
        assert not any(within(rates[:n]) for n in range(3, len(rates))), trial
        if trial.stopped_by == "precision":  # ... and holds at the end (it wins a tie with the cap)
            assert len(rates) >= 3 and within(rates) and len(trial.rows) <= CAP, trial
        else:
            assert len(trial.rows) == CAP and not within(rates), trial
        median, low, high = interval(rates)
        assert trial.rows[-1]["relative_ci"] == pytest.approx(max(high - median, median - low) / median)
    # Certain by design (race_sweep.py): 50 ms sleeps make the slow point's rates steady. Over 6 runs of
    # this file under the lock (one beside a busy loop on a core) its interval at the stop reached
    # +-0.4% to +-0.9% (the rule asks +-5%), after 3 measured iterations every time. The fast point,
    # RLlib's own work alone, stopped on precision in 5 of its 12 trials and at the cap in 7 (up to
    # +-40%): both branches above were exercised.
    assert {t.stopped_by for t in found if t.point == SLOW} == {"precision"}


@pytest.mark.ray
def test_later_trials_reuse_the_first_ones_process(race_sweep):
    """Every trial reserves the same resources: Tune runs the later ones in the first one's process
    (warm), which skips the process start and imports the first paid before its trial function began."""
    firsts = [t.rows[0] for t in trials(race_sweep)]
    assert firsts[0]["warm_process"] is False
    warm = [r for r in firsts[1:] if r["warm_process"]]
    assert warm and all(r["startup_s"] < firsts[0]["startup_s"] for r in warm)


@pytest.mark.ray
def test_the_report_says_what_stopped_the_trials(race_sweep):
    from scaling_study.analysis.load import load_experiment
    from scaling_study.analysis.report import stopping_text, trials_table

    experiment = load_experiment(race_sweep)
    table = trials_table(experiment.trials, experiment.iterations, experiment.grid)
    found = trials(race_sweep)
    assert sorted(table["stopped_by"].dropna()) == sorted(t.stopped_by for t in found)
    precision_stops = sum(t.stopped_by == "precision" for t in found)
    assert f"precision ({precision_stops} trial" in stopping_text(experiment.trials)
