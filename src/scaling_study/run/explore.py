"""`auto` explores: run a series' candidates in order and stop once adding no longer pays.

A grid with `num_env_runners: auto` (or `num_envs_per_env_runner: auto`) lists every candidate the rule
allows (core/spec.py `auto_candidates`), one series per combination of the other axes. This searcher
hands Tune one candidate at a time (all its repeats), and after each asks `core.adaptive.series_verdict`
whether the series' next one is worth measuring: it stops after two steps in a row under +5% over the
best so far, or at once when a step's interval lies wholly below the best's. Env runners are judged from
2 on: 0 and 1 are always measured (one runner only moves sampling out of the main process; runners
sample in parallel from two). RLlib's default (2 runners x 1 env), when outside the grid, is a point
outside any series.

Order pays: Tune gives a trial the process of the trial before only when both ask for the same placement
group (core/resources.placement_shape), and a fresh process costs about 4.5 s on 2 cores. So the series
advance side by side (2 runners x 4 envs, then 2 runners x 16 envs), a point outside them runs next to
a candidate of its shape, and each round of seeds starts with the shape the last one ended with.

Each series' decision (what was tried, what was not, and why) goes to scaling_study/explored.json,
which the report shows; decisions are never undone, so a resumed sweep keeps them.

With `repeats: {first: F, most: M}` (a grid with or without `auto`), every point visited runs on its first
F seeds; then, round by round, seeds go to the fastest point and the next (core/adaptive.seeds_round)
until they come apart or have M. What each point got and why goes to scaling_study/seeded.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scaling_study.core import layout
from scaling_study.core.adaptive import seeds_round, series_verdict
from scaling_study.core.resources import placement_shape
from scaling_study.run.racing import MeasuringSearcher

JUDGED_FROM = {"num_env_runners": 2, "num_envs_per_env_runner": 1}
"""Candidates (by position) measured whatever they give, before the stopping rule applies."""
UNIT = {"num_env_runners": "env runner(s)", "num_envs_per_env_runner": "env(s) per runner"}


class ExploreSearcher(MeasuringSearcher):
    """Hands Tune the trials of `todo` one candidate point at a time, series by series, then the points
    outside any series (the reference; every point of a grid without `auto`); with `first_seeds`, only
    those first seeds of each, then rounds of seeds_round. `finished`: measured rates of trials finished
    before (a resume)."""

    def __init__(self, params: list[dict[str, Any]], todo: list[int], exp_dir: Path,
                 finished: dict[int, list[float]] | None = None, first_seeds: int | None = None):
        super().__init__()
        self.params, self.todo, self.exp_dir = params, set(todo), Path(exp_dir)
        self.setting = params[0].get("auto_setting")
        self.first_seeds = first_seeds  # None: every repeat of a visited point at once
        self.most = max(p["repeat"] for p in params) + 1
        self.seeded = layout.read_seeded(self.exp_dir)
        self.confirming = False
        self.given: set[int] = set()  # trial indices handed to Tune (an errored one is not handed again)
        self.rates: dict[int, dict[Any, float]] = {i: dict(enumerate(r)) for i, r in (finished or {}).items()}
        self.explored = layout.read_explored(self.exp_dir)
        self.series: dict[str, list[str]] = {}  # series label -> its candidate points, in order
        self.trials: dict[str, list[int]] = {}  # point label -> trial indices
        self.outside: list[str] = []  # points outside any series, not yet queued
        for index, p in enumerate(params):
            self.trials.setdefault(p["point"], []).append(index)
            if p.get("auto_series") is None:
                if p["point"] not in self.outside:
                    self.outside.append(p["point"])
            elif p["point"] not in self.series.setdefault(p["auto_series"], []):
                self.series[p["auto_series"]].append(p["point"])
        self.started = {label: 0 for label in self.series}  # candidates handed out per series
        self.queue: list[int] = []
        self.running: dict[str, int] = {}
        self.done = False

    def suggest(self, trial_id: str):
        while not self.queue and not self.running and not self.done:
            self._advance()
        if not self.queue and not self.running and self.first_seeds is not None:
            self._add_seeds()
        if not self.queue:
            return self.FINISHED if self.done and not self.running and not self.confirming else None
        suggested = self.take(trial_id)
        self.given.add(suggested["trial_index"])
        return suggested

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False) -> None:
        super().on_trial_complete(trial_id, result, error)
        # The round's last trial: decide the next round now. Tune stops calling suggest once it has made
        # as many trials as the grid has, so the last round's settling cannot wait for the next suggest.
        if self.confirming and not self.running and not self.queue:
            self._add_seeds()

    def _advance(self) -> None:
        """Decide a series the rule stops, or queue the next point to visit: one of the shape of the trial
        before, if a series' next candidate or a point outside the series has it (Tune then hands it that
        trial's process); else the next candidate of the series furthest behind, so the series advance
        side by side and their candidates of one value follow each other; the points outside any series
        (RLlib's default) not run by then go after the series."""
        open_series = []
        for label, points in self.series.items():
            if label in self.explored:
                continue
            measured = points[:self.started[label]]
            steps = [(self.params[self.trials[p][0]][self.setting], p, self._seeds(p)) for p in measured]
            if measured:
                verdict = series_verdict(steps, JUDGED_FROM[self.setting], len(measured) == len(points),
                                         UNIT[self.setting])
                if not verdict.go_on:
                    self._decide(label, points, len(measured), verdict)
                    return
            open_series.append(label)
        nexts = {label: self.series[label][self.started[label]] for label in open_series}
        for point in [*nexts.values(), *self.outside]:
            if placement_shape(self.params[self.trials[point][0]]) == self.last_shape:
                break
        else:
            point = min(nexts.items(), key=lambda item: self.started[item[0]])[1] if nexts else None
        if point is None:
            self.queue, self.done = [i for p in self.outside for i in self._first(self.trials[p])], True
            self.outside, self.confirming = [], self.first_seeds is not None
        elif point in self.outside:
            self.outside.remove(point)
            self.queue = self._first(self.trials[point])
        else:
            label = next(label for label, p in nexts.items() if p == point)
            self.started[label] += 1
            self.queue = self._first(self.trials[point])

    def _first(self, trials: list[int]) -> list[int]:
        """The trials a visited point runs at once: all its repeats, or its first `first_seeds`."""
        return [i for i in trials if i in self.todo
                and (self.first_seeds is None or self.params[i]["repeat"] < self.first_seeds)]

    def _add_seeds(self) -> None:
        """After every point visited has its first seeds: one round of seeds_round, queued; the points it
        settles are recorded; no seed to add ends the sweep."""
        if not self.confirming:
            return
        visited = {self.params[i]["point"] for i in self.rates}
        per_point = {p: self._seeds(p) for p in visited}
        found = seeds_round(per_point, self.most)
        for point, why in found.settled.items():
            self.seeded[point] = {"seeds": sum(1 for s in per_point[point] if s), "why": why}
            print(f"Seeds: {why}", flush=True)
        if found.settled:
            layout.write_seeded(self.exp_dir, self.seeded)
        for point in found.add:
            run = [i for i in self.trials[point] if i in self.todo and i not in self.given]
            if run:
                self.queue.append(run[0])
        if not self.queue:
            self.confirming = False

    def _seeds(self, point: str) -> list[list[float]]:
        return [list(self.rates.get(i, {}).values()) for i in self.trials[point]]

    def _decide(self, label: str, points: list[str], tried: int, verdict) -> None:
        value = lambda p: self.params[self.trials[p][0]][self.setting]  # noqa: E731
        self.explored[label] = {
            "setting": self.setting, "best": verdict.best, "why": verdict.why,
            "tried": [value(p) for p in points[:tried]], "not_tried": [value(p) for p in points[tried:]],
            "not_tried_points": points[tried:],
        }
        layout.write_explored(self.exp_dir, self.explored)
        series = f" ({label})" if label else ""
        print(f"auto{series}: best {verdict.best} {UNIT[self.setting]}; {verdict.why}", flush=True)


def unexplored_trials(params: list[dict[str, Any]], exp_dir: Path) -> set[int]:
    """Indices of the trials `auto` decided not to run (candidates past where a series stopped)."""
    skipped = {p for decision in layout.read_explored(exp_dir).values() for p in decision.get("not_tried_points", [])}
    return {i for i, p in enumerate(params) if p["point"] in skipped}


def unseeded_trials(params: list[dict[str, Any]], exp_dir: Path) -> set[int]:
    """Indices of the trials of points whose seeds are settled (seeded.json): a settled point is handed no
    more trials, and is settled only while none of its trials runs, so its trials that neither finished
    nor errored were never meant to run."""
    settled = layout.read_seeded(exp_dir)
    return {i for i, p in enumerate(params) if p["point"] in settled}
