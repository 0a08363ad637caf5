"""Racing (`prune: true`): run the grid a round of repeats at a time and stop running points that are
clearly slower than the best one.

Round r runs repeat r of every point still in the race. After each round, `points_to_prune` compares
every point with the best (the highest median over seeds), with the seed (trial) as the unit:

- with 3 or more seeds each: a point is pruned when its 95% interval over seeds (stats.seed_median_ci)
  lies wholly below the best point's;
- with fewer seeds an interval over seeds does not exist, so a point is pruned only when even its best
  seed, at the top of that seed's own 95% interval over its iterations, is below the best point's worst
  seed at the bottom of its interval: every seed of the point is slower than every seed of the best,
  by more than each seed's own measurement leaves uncertain.

A pruned point keeps what it measured (its trials stay in the tables and figures, marked pruned);
`scaling_study/pruned.json` says when and why. `RacingSearcher` is the Tune searcher that hands out
trials round by round, so one Tune run (and its warm processes) serves every round.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ray.tune.search import Searcher

from scaling_study.core.adaptive import points_to_prune
from scaling_study.core.layout import read_pruned, write_pruned
from scaling_study.core.resources import placement_shape
from scaling_study.core.rows import GROUP
from scaling_study.run.stopping import metric


def measured_rates(rows: list[dict[str, Any]]) -> list[float]:
    """The env steps/s of a trial's measured (non-warmup) iterations, from its result rows (nested, as
    in result.json, or flattened, as Tune hands them to a searcher)."""
    rates = []
    for row in rows:
        rate, warmup = metric(row, f"{GROUP}/env_steps_per_s"), metric(row, f"{GROUP}/warmup")
        if isinstance(rate, (int, float)) and warmup is False:
            rates.append(float(rate))
    return rates


class MeasuringSearcher(Searcher):
    """A searcher that hands out one trial index per suggestion and keeps each running trial's measured
    rates as they come: `rates` (trial index -> {training iteration: env steps/s}) and `running` (Tune
    trial id -> trial index). Racing and `auto`'s exploration both decide from them."""

    rates: dict[int, dict[Any, float]]
    running: dict[str, int]
    params: list[dict[str, Any]]
    queue: list[int]
    last_shape: tuple | None = None

    def take(self, trial_id: str) -> dict[str, Any]:
        """The next queued trial, handed to Tune: the first of the shape of the trial before, if one is
        queued (Tune then gives it that trial's process instead of starting one: about 4.5 s a trial on
        2 cores), else the first."""
        shapes = [placement_shape(self.params[i]) for i in self.queue]
        index = self.queue.pop(shapes.index(self.last_shape) if self.last_shape in shapes else 0)
        self.last_shape = placement_shape(self.params[index])
        self.running[trial_id] = index
        return {**self.params[index], "trial_index": index}

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        if trial_id in self.running:
            for rate in measured_rates([result]):
                self.rates.setdefault(self.running[trial_id], {})[result.get("training_iteration")] = rate

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        # Tune hands the result that stopped the trial to this call only, not to on_trial_result.
        if result:
            self.on_trial_result(trial_id, result)
        self.running.pop(trial_id, None)


class RacingSearcher(MeasuringSearcher):
    """Hands Tune the trials of `todo` a round (repeat index) at a time, leaving out pruned points.

    `finished` holds the measured rates of trials finished before (a resumed sweep), by trial index.
    """

    def __init__(self, params: list[dict[str, Any]], todo: list[int], exp_dir: Path,
                 finished: dict[int, list[float]] | None = None):
        super().__init__()
        self.params, self.exp_dir = params, Path(exp_dir)
        # trial index -> {training iteration: env steps/s}; finished trials of an earlier run by position
        self.rates: dict[int, dict[Any, float]] = {i: dict(enumerate(r)) for i, r in (finished or {}).items()}
        self.pruned = read_pruned(self.exp_dir)
        rounds = sorted({params[i]["repeat"] for i in todo})
        self.rounds = [[i for i in todo if params[i]["repeat"] == r] for r in rounds]
        self.queue: list[int] = []
        self.running: dict[str, int] = {}  # Tune trial id -> trial index

    def suggest(self, trial_id: str):
        if not self.queue and not self.running:
            self._decide()
            if not self.rounds:
                return self.FINISHED
            round_ = self.rounds.pop(0)
            self.queue = [i for i in round_ if self.params[i]["point"] not in self.pruned]
            if not self.queue:
                return None  # a whole round pruned away: the next call moves on
        if not self.queue:
            return None  # wait for the round to finish
        return self.take(trial_id)


    def _decide(self) -> None:
        """Between rounds: prune what the seeds so far show clearly slower (decisions are never undone)."""
        per_point: dict[str, list[list[float]]] = {}
        for index, rates in self.rates.items():
            per_point.setdefault(self.params[index]["point"], []).append(list(rates.values()))
        before = len(self.pruned)
        for point, evidence in points_to_prune(per_point).items():
            if point not in self.pruned:
                self.pruned[point] = {**evidence, "after_seeds": evidence["seeds"]}
        if len(self.pruned) > before:
            write_pruned(self.exp_dir, self.pruned)
            new = list(self.pruned)[before:]
            print(f"Racing: {len(new)} point(s) clearly slower than {self.pruned[new[0]]['best']} are not run "
                  f"again: {'; '.join(new)}", flush=True)


def finished_rates(exp_dir: Path) -> dict[int, list[float]]:
    """Measured rates of the trials the ledger lists as finished (what a resumed race already knows)."""
    from scaling_study.core.tune_files import read_trial
    from scaling_study.run.ledger import finished_trials

    return {index: measured_rates(read_trial(Path(exp_dir) / name).rows)
            for index, name in finished_trials(exp_dir).items()}


def pruned_trials(params: list[dict[str, Any]], exp_dir: Path) -> set[int]:
    """Indices of the trials not run because their point was pruned."""
    pruned = read_pruned(exp_dir)
    return {i for i, p in enumerate(params) if p["point"] in pruned}
