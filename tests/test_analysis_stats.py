"""Pure statistics on tiny arrays whose answers are worked out by hand."""

import math

import numpy as np
import pytest

from scaling_study.core import stats


def test_median_ci_of_equal_values_has_zero_width():
    assert stats.median_ci([5.0, 5.0, 5.0]) == (5.0, 5.0, 5.0)


def test_median_ci_of_one_value_has_no_interval():
    median, low, high = stats.median_ci([7.0])
    assert median == 7.0 and math.isnan(low) and math.isnan(high)


def test_median_ci_ignores_nan_and_empty_is_nan():
    assert stats.median_ci([1.0, np.nan, 3.0])[0] == 2.0
    assert all(math.isnan(v) for v in stats.median_ci([]))


def test_median_ci_brackets_the_median_within_the_data_and_is_reproducible():
    values = [800.0, 1000.0, 1000.0, 1250.0]
    median, low, high = stats.median_ci(values)
    assert median == 1000.0  # (1000 + 1000) / 2
    assert 800.0 <= low <= median <= high <= 1250.0
    assert stats.median_ci(values) == (median, low, high)  # fixed seed


def test_median_ci_of_two_values_spans_them():
    # Resampled medians of [a, b] are a, (a+b)/2 or b; a 95% percentile interval reaches both ends.
    assert stats.median_ci([10.0, 20.0]) == (15.0, 10.0, 20.0)


def test_seed_median_ci_counts_each_seed_once_however_long_it_ran():
    # Three seeds at 1,000, 1,600 and 1,700 env steps/s, the last run 40 iterations long. Pooled, the
    # long seed is the whole sample: the pooled median and its interval are all 1,700.
    seeds = [[1000.0] * 3, [1600.0] * 5, [1700.0] * 40]
    assert stats.median_ci(np.concatenate(seeds)) == (1700.0, 1700.0, 1700.0)
    # By hand, seeds as the unit: the median of 3 seeds drawn with replacement from {a < b < c} is a
    # with probability P(at least two draws are a) = 3 (1/3)^2 (2/3) + (1/3)^3 = 7/27 = 26%, c likewise,
    # b otherwise. Both tails hold more than 2.5%, so the 95% interval is exactly [a, c].
    assert stats.seed_median_ci(seeds) == (1600.0, 1000.0, 1700.0)


def test_seed_median_ci_adds_each_seeds_own_noise():
    # Inner resampling of [990, 1000, 1010] gives medians 990, 1000 or 1010 (990 with probability 7/27),
    # so the bounds can widen past the seeds' medians by at most their own spread, never beyond the data.
    estimate, low, high = stats.seed_median_ci([[990.0, 1000.0, 1010.0], [1590.0, 1600.0, 1610.0],
                                                [1690.0, 1700.0, 1710.0]])
    assert estimate == 1600.0
    assert 990.0 <= low <= 1000.0 and 1700.0 <= high <= 1710.0
    assert stats.seed_median_ci([[990.0, 1000.0, 1010.0], [1590.0]] + [[1700.0]]) == \
        stats.seed_median_ci([[990.0, 1000.0, 1010.0], [1590.0]] + [[1700.0]])  # fixed seed


def test_seed_median_ci_gives_no_interval_below_three_seeds():
    # Two seeds: estimate (1125 + 900) / 2, and no interval (a bootstrap of two can only return them).
    estimate, low, high = stats.seed_median_ci([[1000.0, 1250.0], [1000.0, 800.0]])
    assert estimate == 1012.5 and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in stats.seed_median_ci([[], [np.nan]]))


def test_coefficient_of_variation():
    # mean 1012.5, sample sd |1125 - 900| / sqrt(2) = 159.099 -> 0.157135
    assert stats.coefficient_of_variation([1125.0, 900.0]) == pytest.approx(159.0990 / 1012.5, rel=1e-5)
    assert stats.coefficient_of_variation([3.0, 3.0, 3.0]) == 0.0
    assert math.isnan(stats.coefficient_of_variation([3.0]))


def test_speedup_and_efficiency():
    speedups = stats.speedup([1000.0, 1500.0, 2000.0], baseline=1000.0)
    np.testing.assert_allclose(speedups, [1.0, 1.5, 2.0])
    # 1.5x on 2x the CPUs = 75% efficient; 2x on 4x the CPUs = 50%
    np.testing.assert_allclose(stats.efficiency(speedups, [1, 2, 4], baseline_cpus=1), [1.0, 0.75, 0.5])


def test_phase_shares_are_ratios_of_sums_and_other_is_the_rest():
    shares = stats.phase_shares(iter_s=[1.0, 3.0], sample_s=[0.5, 1.5], learn_s=[0.25, 1.75], sync_s=[0.0, 0.4])
    # sums: iter 4.0, sample 2.0, learn 2.0, sync 0.4 -> other = 4 - 4.4 = -0.4 (phases overlapped)
    assert shares == pytest.approx({"sample": 0.5, "learn": 0.5, "sync": 0.1, "other": -0.1})


def test_phase_shares_unavailable_when_not_measured():
    shares = stats.phase_shares([1.0], [np.nan], [np.nan], [np.nan])
    assert all(math.isnan(v) for v in shares.values())


def test_amdahl_speedup_by_hand():
    # serial 0.2: n=2 -> 1 / (0.2 + 0.4) = 1.667; n=4 -> 1 / (0.2 + 0.2) = 2.5
    np.testing.assert_allclose(stats.amdahl_speedup([1, 2, 4], 0.2), [1.0, 1 / 0.6, 2.5])


def test_fit_amdahl_recovers_the_serial_fraction_and_ceiling():
    fit = stats.fit_amdahl([1, 2, 4], [1.0, 1 / 0.6, 2.5])
    assert fit.serial_fraction == pytest.approx(0.2)
    assert fit.ceiling_speedup == pytest.approx(5.0)


def test_fit_amdahl_edge_cases():
    perfect = stats.fit_amdahl([1, 2], [1.0, 2.0])
    assert perfect.serial_fraction == 0.0 and perfect.ceiling_speedup == math.inf
    slower = stats.fit_amdahl([1, 2], [1.0, 0.9])  # more CPUs made it slower: all serial
    assert slower.serial_fraction == 1.0 and slower.ceiling_speedup == 1.0
    assert math.isnan(stats.fit_amdahl([1], [1.0]).serial_fraction)


def test_max_gain_if_free():
    assert stats.max_gain_if_free(0.29) == pytest.approx(1 / 0.71)  # ~1.4x
    assert stats.max_gain_if_free(1.0) == math.inf


def test_intervals_overlap():
    assert stats.intervals_overlap(1, 3, 2, 4)
    assert not stats.intervals_overlap(1, 2, 3, 4)
    assert stats.intervals_overlap(1, 2, 2, 4)  # touching counts as overlapping
    assert stats.intervals_overlap(1, np.nan, 3, 4)  # unknown: cannot claim a difference


def test_overlapping_pairs():
    starts, ends = [0.0, 5.0, 9.5, 20.0], [10.0, 8.0, 15.0, 30.0]
    pairs = stats.overlapping_pairs(starts, ends)
    assert pairs.tolist() == [[0, 1], [0, 2]]
    # with one second of slack, 9.5-10.0 no longer counts
    assert stats.overlapping_pairs(starts, ends, tolerance_s=1.0).tolist() == [[0, 1]]
