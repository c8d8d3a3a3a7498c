"""The insight statistics against hand calculation and the libraries called directly."""

from __future__ import annotations

import numpy as np
import pymannkendall as mk
import pytest
from scipy import stats

from custlens.insights.statistics import benjamini_hochberg, robust_z, trend_test, two_proportion


def test_robust_z_by_hand():
    base = np.array([10.0, 12.0, 11.0, 13.0, 9.0])  # median 11, |dev| 1 1 0 2 2 -> MAD 1
    assert robust_z(15.0, base) == pytest.approx(0.6745 * 4 / 1, rel=1e-3)
    assert robust_z(15.0, base, floor=2.0) == pytest.approx(4 / 2.0)
    # MAD zero: mean absolute deviation instead
    flat = np.array([5.0, 5.0, 5.0, 5.0, 9.0])
    assert robust_z(9.0, flat) == pytest.approx(4 / (1.2533 * 0.8))
    assert np.isnan(robust_z(1.0, np.array([2.0, 2.0])))


def test_trend_test_matches_pymannkendall():
    rng = np.random.default_rng(0)
    x = 100 - 2.0 * np.arange(24) + rng.normal(0, 5, 24)
    plain, hr = mk.original_test(x), mk.hamed_rao_modification_test(x)
    got = trend_test(x, monthly=True)
    var_s = max(plain.var_s, hr.var_s)
    z = (plain.s + 1) / np.sqrt(var_s)  # s < 0
    assert got.z == pytest.approx(z)
    assert got.p_value == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert got.slope == pytest.approx(hr.slope)
    raw = trend_test(x, monthly=True, conservative=False)
    assert raw.p_value == pytest.approx(hr.p)


def test_seasonal_variant_from_three_years():
    rng = np.random.default_rng(1)
    months = np.arange(36)
    x = 50 + 10 * np.sin(2 * np.pi * months / 12) + 0.5 * months + rng.normal(0, 1, 36)
    got = trend_test(x, monthly=True, seasonal_min_years=3)
    expected = mk.seasonal_test(x, period=12)
    assert got.test == "seasonal Mann-Kendall"
    assert got.p_value == pytest.approx(expected.p) and got.slope == pytest.approx(expected.slope)


def test_benjamini_hochberg_by_hand():
    p = np.array([0.01, 0.04, 0.03, np.nan, 0.5])
    # sorted 0.01, 0.03, 0.04, 0.5 (m = 4): 0.04, 0.04*4/3 -> min(0.0533, 0.0533), 0.0533, 0.5
    got = benjamini_hochberg(p)
    assert got[0] == pytest.approx(0.04)
    assert got[2] == pytest.approx(0.04 * 4 / 3)
    assert got[1] == pytest.approx(0.04 * 4 / 3)
    assert np.isnan(got[3]) and got[4] == pytest.approx(0.5)


def test_two_proportion_by_hand():
    z, p = two_proportion(20, 200, 60, 300)
    pooled = 80 / 500
    se = np.sqrt(pooled * (1 - pooled) * (1 / 200 + 1 / 300))
    assert z == pytest.approx((0.1 - 0.2) / se)
    assert p == pytest.approx(stats.norm.cdf((0.1 - 0.2) / se))
