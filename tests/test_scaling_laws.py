"""The baseline scaling laws (core/scaling_laws.py) on data made by hand from each law, so each fit must
give back what made it; answers worked on paper. No Ray."""

from __future__ import annotations

import numpy as np
import pytest

from scaling_study.core import scaling_laws as laws


def test_amdahl_gives_back_its_serial_fraction():
    # s = 0.2, 100 env steps/s on 1 CPU: 2 CPUs give 100 / (0.2 + 0.4) = 166.7, 4 CPUs 100 / 0.4 = 250
    n, x = [1, 2, 4], [100.0, 100 / 0.6, 250.0]
    assert laws.amdahl_predict(n, x, [8])[0] == pytest.approx(100 / (0.2 + 0.8 / 8))  # 333.3
    # relative to the smallest fitted point when it is not n = 1: the same law from 2 and 4 CPUs
    assert laws.amdahl_predict(n[1:], x[1:], [1])[0] == pytest.approx(100.0)


def test_usl_falls_past_its_peak_and_is_given_back():
    # l = 100, sigma = 0.1, kappa = 0.02: x(1) = 100, x(4) = 400 / (1 + 0.3 + 0.24) = 259.7,
    # x(16) = 1600 / (1 + 1.5 + 4.8) = 219.2: past the peak (near sqrt((1 - sigma) / kappa) = 6.7)
    assert laws.usl([1, 4, 16], 100, 0.1, 0.02) == pytest.approx([100.0, 400 / 1.54, 1600 / 7.3])
    n = np.array([1, 2, 3, 4, 6, 8])
    fitted = laws.fit_usl(n, laws.usl(n, 100, 0.1, 0.02))
    assert fitted == pytest.approx((100, 0.1, 0.02), rel=1e-4)


def test_ernest_gives_back_non_negative_terms():
    # one env step takes 1 ms serial + 4 ms spread over n + 0.5 ms per n (coordination): at n = 1 that is
    # 5.5 ms (181.8 env steps/s), at n = 2 4 ms (250), at n = 4 4 ms, at n = 8 5.5 ms
    n = np.array([1, 2, 4, 8])
    x = 1.0 / (1e-3 + 4e-3 / n + 0.5e-3 * n)
    assert x[[0, 1]] == pytest.approx([1 / 5.5e-3, 250.0])
    theta = laws.fit_ernest(n, x)
    assert theta == pytest.approx([1e-3, 4e-3, 0.0, 0.5e-3], abs=1e-9)
    assert (theta >= 0).all()
    assert laws.ernest_predict(n, x, [16])[0] == pytest.approx(1.0 / (1e-3 + 0.25e-3 + 8e-3))
