"""Hand-worked answers for core/overlap_model.py."""

import pytest

from scaling_study.core.overlap_model import predict_async, predict_sync


def test_runner_bound_then_learner_caps():
    # 20 ms sleeping step, 1 env per runner: 50 env steps/s per runner; learner 120 env steps/s.
    # 1, 2 runners: 50, 100 (learner waits); 4 runners: 200 > 120, so the learner caps it at 120.
    got = [predict_async(100, 50.0 * n, 120.0) for n in (1, 2, 4)]
    assert [p.env_steps_per_s for p in got] == pytest.approx([50.0, 100.0, 120.0])
    assert [p.waiting_side for p in got] == ["learner", "learner", "sampling"]
    # 4 runners: sampling 100/200 = 0.5 s, learning 100/120 = 0.8333 s: samples wait 0.3333 s.
    assert got[2].wait_seconds == pytest.approx(1 / 3)


def test_serial_cost_adds_and_sync_sums():
    # batch 100, sampling 1 s, learning 0.5 s, 0.5 s serial: async 100/1.5, sync 100/2.0.
    assert predict_async(100, 100.0, 200.0, 0.5).env_steps_per_s == pytest.approx(66.6667, rel=1e-4)
    assert predict_sync(100, 100.0, 200.0, 0.5) == pytest.approx(50.0)


def test_bad_rate_refused():
    with pytest.raises(ValueError):
        predict_async(100, 0.0, 10.0)


# --- fitted to measured points, and its self-checks (analysis/overlap_check.py) --------------------

def test_the_fit_takes_medians_and_the_main_process_counts_as_one_sampler():
    from scaling_study.core.overlap_model import AsyncPoint, fit_async, predict_point

    points = [AsyncPoint(0, 40.0, 0.1), AsyncPoint(2, 100.0, 0.25), AsyncPoint(4, 120.0, 0.0)]
    fit = fit_async(points)
    # per sampler: 40 / 1, 100 / 2, 120 / 4 -> median 40; learner: 400 and 400 (a learner never busy says nothing)
    assert fit.per_sampler == 40.0 and fit.learner_rate == 400.0
    assert predict_point(0, fit) == 40.0 and predict_point(8, fit) == 320.0 and predict_point(16, fit) == 400.0


def test_both_self_checks_apply_to_an_asynchronous_algorithms_points():
    import pandas as pd

    from scaling_study.analysis.overlap_check import add_overlap_errors, overlap_checks, overlap_sentences

    # 1, 2, 4 runners sampled 50, 100, 150 env steps/s, the learner busy 10%, 20%, 60% (it could take 500,
    # 500, 250). Held out, worked by hand:
    #   4: fit on 1, 2 -> 50 a sampler, learner 500 -> min(200, 500) = 200 against 150: +33.3%
    #   1: fit on 2, 4 -> median(50, 37.5) = 43.75 a sampler, learner median(500, 250) = 375 -> 43.75: -12.5%
    #   2: fit on 1, 4 -> 43.75 a sampler, learner 375 -> 87.5 against 100: -12.5%
    # Extrapolation: 3 counts, fitted on 1-2, predicts 4: +33.3%. A PPO point is left to the iteration model.
    summary = pd.DataFrame({
        "point": ["r1", "r2", "r4", "ppo"], "algorithm": ["APPO", "APPO", "APPO", "PPO"],
        "num_env_runners": [1, 2, 4, 2], "env_steps_per_s": [50.0, 100.0, 150.0, 300.0],
        "learner_wait_share": [0.9, 0.8, 0.4, 0.7], "prediction_error_pct": [float("nan")] * 3 + [5.0]})
    (check,) = overlap_checks(summary)
    assert check.error_pct.to_dict() == pytest.approx({"r1": -12.5, "r2": -12.5, "r4": 100 / 3})
    assert check.extrapolation_pct.to_dict() == pytest.approx({"r4": 100 / 3})
    out = add_overlap_errors(summary, [check]).set_index("point")
    assert out.loc["ppo", "prediction_error_pct"] == 5.0 and out.loc["r4", "prediction_error_pct"] == pytest.approx(100 / 3)
    assert out.loc["r4", "extrapolation_error_pct"] == pytest.approx(100 / 3)
    assert pd.isna(out.loc["r1", "extrapolation_error_pct"])
    (line,) = overlap_sentences([check])
    assert "off by 12% (median; worst 33%)" in line and "fitted on 1-2 runners, predicted 4: +33%" in line


def test_two_points_are_too_few_for_the_check():
    import pandas as pd

    from scaling_study.analysis.overlap_check import overlap_checks

    summary = pd.DataFrame({"point": ["a", "b"], "algorithm": ["IMPALA"] * 2, "num_env_runners": [1, 2],
                            "env_steps_per_s": [1.0, 2.0], "learner_wait_share": [0.5, 0.5]})
    assert overlap_checks(summary) == []
