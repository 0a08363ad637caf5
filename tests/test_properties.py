"""Property tests (hypothesis): the experiment-file parser accepts any YAML-like input or refuses it with one
line (SpecError), never another exception; and the statistics keep their promises on any data: an interval
holds the median of the seeds, a point's speedup against itself is 1. No Ray; about 20 s."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scaling_study.core import stats
from scaling_study.core.errors import SpecError
from scaling_study.core.spec import TOP_LEVEL_KEYS, load_spec, parse_spec

GOOD = {
    "name": "tiny",
    "env": {"id": "FrozenLake-v1"},
    "search_space": {"num_env_runners": [0, 1]},
    "fixed": {"train_batch_size_per_learner": 200, "num_epochs": 1},
    "stop": {"training_iteration": 3},
}
# Keys the parser knows, and near misses, so generated documents reach past the first check.
KEYS = [*TOP_LEVEL_KEYS, "id", "config", "step_cost", "seconds", "mode", "auto", "max", "training_iteration",
        "num_env_runners", "num_envs_per_env_runner", "num_epochs", "train_batch_size_per_learner", "minibatch_size",
        "num_cpus_per_env_runner", "gym_env_vectorize_mode", "repeat", "num_workers", "lr", ""]
# Env ids only from this list: an id of the form module:Env, or env.import, imports that module, and a
# property test must not import whatever a generator happens to spell.
ENV_IDS = ["FrozenLake-v1", "CartPole-v1", "FrozenLak-v1", "", "no-such-env-v0"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 70), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from(["auto", "sync", "async", "spin", "sleep", "x", "1", "", "FrozenLake-v1"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4), max_leaves=12)
envs = st.one_of(st.sampled_from(ENV_IDS), st.fixed_dictionaries(
    {"id": st.sampled_from(ENV_IDS)},
    optional={"config": values, "step_cost": values, "seed": values}), values.filter(lambda v: not isinstance(v, str)))


def _no_import(value) -> bool:
    """True when nothing in `value` would make the parser import a module: no env.import key and no
    string holding a ':' where an env id could be."""
    if isinstance(value, dict):
        return "import" not in value and all(_no_import(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_import(v) for v in value)
    return not (isinstance(value, str) and ":" in value)


@st.composite
def documents(draw):
    """GOOD with some top-level keys replaced, dropped or added: mostly near-valid files."""
    doc = dict(GOOD)
    for key in draw(st.lists(st.sampled_from(KEYS), max_size=4)):
        choice = draw(st.integers(0, 2))
        if choice == 0:
            doc.pop(key, None)
        else:
            doc[key] = draw(envs if key == "env" else values)
    return doc if draw(st.integers(0, 9)) else draw(values)


def assert_accepted_or_one_line(parse) -> None:
    try:
        parse()
    except SpecError as error:
        message = str(error)
        assert message and "\n" not in message and "Traceback" not in message, message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_any_document_is_accepted_or_refused_in_one_line(doc):
    if not _no_import(doc.get("env") if isinstance(doc, dict) else doc):
        return
    assert_accepted_or_one_line(lambda: parse_spec(doc, source="x.yaml"))


# Edits that keep ':' out of what they insert (see ENV_IDS: no generated module names to import).
NOISE = st.sampled_from(list("[]{},-#&*!|>'\"%@` \n\t0a.\\"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_text_is_accepted_or_refused_in_one_line(tmp_path, data):
    text = yaml.safe_dump(GOOD, sort_keys=False)
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(text)))
        edit = data.draw(st.integers(0, 2))
        if edit == 0:
            text = text[:at]
        elif edit == 1:
            text = text[:at] + text[at + 1:]
        else:
            text = text[:at] + data.draw(NOISE) + text[at:]
    if text.count(":") > yaml.safe_dump(GOOD).count(":"):
        return
    path = tmp_path / "experiment.yaml"
    path.write_text(text)
    assert_accepted_or_one_line(lambda: load_spec(path))


def test_the_good_document_is_accepted():
    """The generators start from GOOD: it must parse, or every example above is a refusal."""
    assert parse_spec(GOOD).name == "tiny"


# ---------------------------------------------------------------- statistics

rates = st.floats(min_value=1.0, max_value=1e6, allow_nan=False, allow_infinity=False)
seeds = st.lists(st.lists(rates, min_size=1, max_size=6), min_size=stats.MIN_SEEDS_FOR_CI, max_size=6)


@settings(max_examples=150, deadline=None)
@given(seeds)
def test_a_seed_interval_contains_the_median_of_the_seeds(per_seed):
    estimate, low, high = stats.seed_median_ci(per_seed, n_resamples=999)
    by_hand = float(np.median([np.median(v) for v in per_seed]))  # the median of the seeds' medians
    assert estimate == pytest.approx(by_hand)
    slack = 1e-12 * abs(by_hand)  # rounding only (see the next test)
    assert low - slack <= by_hand <= high + slack, (low, by_hand, high)


@settings(max_examples=150, deadline=None)
@given(st.lists(rates, min_size=2, max_size=12))
def test_a_median_interval_contains_the_median(values):
    median, low, high = stats.median_ci(values, n_resamples=999)
    assert median == pytest.approx(float(np.median(values)))
    # up to rounding: hypothesis found [113284.0, 113283.83885878678 x 2], whose interval's low end came
    # out one unit in the last place above the median (scipy's percentile interpolation)
    slack = 1e-12 * abs(median)
    assert low - slack <= median <= high + slack


@settings(max_examples=100, deadline=None)
@given(rates, st.floats(min_value=0.25, max_value=64))
def test_a_point_against_itself_has_speedup_and_efficiency_one(rate, cpus):
    speedup = stats.speedup([rate], rate)
    assert speedup.tolist() == [1.0]
    assert stats.efficiency(speedup, [cpus], cpus).tolist() == pytest.approx([1.0])


@pytest.fixture(scope="module")
def suite():
    from analysis_helpers import SUITE

    from scaling_study.analysis.load import load_experiment

    return load_experiment(SUITE)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(rates, min_size=12, max_size=12))
def test_the_summarys_baseline_point_has_speedup_one(suite, values):
    """Through build_summary: the suite fixture's 12 iterations given any rates; its baseline point (0
    runners, the fewest CPUs) is measured against itself, so its speedup is 1 and its efficiency 1."""
    from scaling_study.analysis.summary import build_summary

    iterations = suite.iterations.assign(env_steps_per_s=values)
    summary = build_summary(iterations, suite.trials, grid=suite.grid).set_index("point")
    baseline = summary.loc["num_env_runners=0, num_envs_per_env_runner=1"]
    assert baseline["speedup"] == pytest.approx(1.0) and baseline["efficiency"] == pytest.approx(1.0)
    other = summary.loc["num_env_runners=1, num_envs_per_env_runner=2"]
    assert other["speedup"] == pytest.approx(other["env_steps_per_s"] / baseline["env_steps_per_s"])
