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
