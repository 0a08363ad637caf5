"""Textbook scaling laws, fitted to throughput against resources: the baselines the iteration model is
measured against (bench/sections/baselines.py). Pure functions on plain arrays.

`n` is the resources a point holds (here: the CPUs its trial reserves), `x` its env steps/s.

- Amdahl: x(n) = x1 / (s + (1 - s) / (n / n1)), a serial fraction s (core/stats.fit_amdahl), taken
  relative to the smallest n fitted (n1, x1).
- USL (Gunther's Universal Scalability Law): x(n) = l n / (1 + sigma (n - 1) + kappa n (n - 1)); sigma
  for contention, kappa for coherency (the cost that makes throughput fall past a peak). Fitted by
  scipy's least squares on relative errors, every parameter >= 0.
- Ernest (Venkataraman et al., NSDI'16): the time of one env step, 1 / x, as theta0 + theta1 / n +
  theta2 log n + theta3 n with every theta >= 0, by non-negative least squares (scipy.optimize.nnls)
  weighted to relative errors.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares, nnls

from scaling_study.core.stats import amdahl_speedup, fit_amdahl


def _arrays(n, x) -> tuple[np.ndarray, np.ndarray]:
    n, x = np.asarray(n, dtype=float), np.asarray(x, dtype=float)
    keep = np.isfinite(n) & np.isfinite(x) & (n > 0) & (x > 0)
    return n[keep], x[keep]


def amdahl_predict(n_fit, x_fit, n) -> np.ndarray:
    """Amdahl fitted to (n_fit, x_fit), relative to its smallest n, at `n`."""
    n_fit, x_fit = _arrays(n_fit, x_fit)
    base = int(np.argmin(n_fit))
    fit = fit_amdahl(n_fit / n_fit[base], x_fit / x_fit[base])
    serial = 0.0 if np.isnan(fit.serial_fraction) else fit.serial_fraction
    return x_fit[base] * amdahl_speedup(np.asarray(n, dtype=float) / n_fit[base], serial)


def usl(n, lam: float, sigma: float, kappa: float) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    return lam * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0))


def fit_usl(n, x) -> tuple[float, float, float]:
    n, x = _arrays(n, x)
    start = [float(np.max(x / n)), 0.1, 0.01]
    fit = least_squares(lambda p: usl(n, *p) / x - 1.0, start, bounds=([0.0, 0.0, 0.0], [np.inf, np.inf, np.inf]))
    return tuple(float(v) for v in fit.x)


def usl_predict(n_fit, x_fit, n) -> np.ndarray:
    return usl(n, *fit_usl(n_fit, x_fit))


def ernest_features(n) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    return np.column_stack([np.ones_like(n), 1.0 / n, np.log(n), n])


def fit_ernest(n, x) -> np.ndarray:
    """theta >= 0 of 1 / x = theta . [1, 1/n, log n, n], each row scaled by x so errors are relative."""
    n, x = _arrays(n, x)
    theta, _ = nnls(ernest_features(n) * x[:, None], np.ones_like(x))
    return theta


def ernest_predict(n_fit, x_fit, n) -> np.ndarray:
    seconds = ernest_features(n) @ fit_ernest(n_fit, x_fit)
    return np.where(seconds > 0, 1.0 / np.where(seconds > 0, seconds, 1.0), np.inf)


BASELINES = {"Amdahl": amdahl_predict, "USL": usl_predict, "Ernest (NNLS)": ernest_predict}
"""name -> predict(n_fit, x_fit, n): each fitted to the same points, predicting the same others."""
