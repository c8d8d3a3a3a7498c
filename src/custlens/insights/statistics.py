"""The tests behind the insights: robust z-scores, Mann-Kendall with Sen's slope, two-proportion
tests and the Benjamini-Hochberg adjustment. Pure functions of small arrays (no engine).

- ``robust_z``: ``0.6745 (x - median) / MAD`` (Iglewicz and Hoaglin); when the MAD is zero,
  ``(x - median) / (1.2533 * mean absolute deviation)``; the scale is never below a given
  floor (the counting noise of the period, see ``series_kinds``); NaN without any spread.
- ``trend_test``: Mann-Kendall through pymannkendall. Monthly series with at least
  ``seasonal_min_years`` years use the seasonal test (period 12); the others the Hamed-Rao
  test, whose variance correction for autocorrelated ranks is used only when it **widens** the
  variance (``conservative=True``): on short series (a year of months) the correction estimated
  from a dozen detrended ranks often shrinks the variance several-fold and would turn ordinary
  noise into "significant" trends. Sen's slope is the effect, per period.
- ``two_proportion``: one-sided z-test (statsmodels ``proportions_ztest``) that the first
  proportion is smaller than the second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


def robust_z(value: float, baseline: np.ndarray, floor: float = 0.0) -> float:
    """The robust z-score of ``value`` against ``baseline``: ``(value - median) / scale`` with
    ``scale = 1.4826 * MAD`` (= ``0.6745 (x - median) / MAD``), never below ``floor`` (NaN
    without spread)."""
    base = np.asarray(baseline, dtype=float)
    base = base[np.isfinite(base)]
    if len(base) == 0:
        return float("nan")
    med = float(np.median(base))
    mad = float(np.median(np.abs(base - med)))
    scale = 1.4826 * mad if mad > 0 else 1.2533 * float(np.mean(np.abs(base - med)))
    scale = max(scale, floor)
    return (value - med) / scale if scale > 0 else float("nan")


def z_p_value(z: float) -> float:
    """Two-sided normal p-value of a z-score."""
    return float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan")


@dataclass(frozen=True)
class TrendTest:
    test: str
    n: int
    z: float
    p_value: float
    tau: float
    slope: float  # Sen's slope per period
    intercept: float


def trend_test(
    values: np.ndarray, *, monthly: bool, seasonal_min_years: int = 3, conservative: bool = True
) -> TrendTest:
    """Mann-Kendall trend test with Sen's slope (see the module docstring for the variant)."""
    import pymannkendall as mk

    x = np.asarray(values, dtype=float)
    n = len(x)
    if monthly and n >= 12 * seasonal_min_years:
        r = mk.seasonal_test(x, period=12)
        return TrendTest("seasonal Mann-Kendall", n, r.z, r.p, r.Tau, r.slope, r.intercept)
    with np.errstate(invalid="ignore", divide="ignore"):  # a negative corrected variance
        hr = mk.hamed_rao_modification_test(x)
    if not conservative:
        return TrendTest("Mann-Kendall (Hamed-Rao)", n, hr.z, hr.p, hr.Tau, hr.slope, hr.intercept)
    plain = mk.original_test(x)
    var_s = max(float(hr.var_s), float(plain.var_s))
    s = float(plain.s)
    z = 0.0 if s == 0 or var_s <= 0 else (s - np.sign(s)) / np.sqrt(var_s)
    return TrendTest(
        "Mann-Kendall (Hamed-Rao, variance not reduced)",
        n,
        float(z),
        z_p_value(z),
        float(plain.Tau),
        float(hr.slope),
        float(hr.intercept),
    )


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN stays NaN and is not counted)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        from statsmodels.stats.multitest import multipletests

        out[ok] = multipletests(p[ok], method="fdr_bh")[1]
    return out


def two_proportion(success_a: int, n_a: int, success_b: int, n_b: int) -> tuple[float, float]:
    """z and one-sided p-value that proportion a is smaller than proportion b."""
    from statsmodels.stats.proportion import proportions_ztest

    if n_a == 0 or n_b == 0 or success_a + success_b in (0, n_a + n_b):
        return float("nan"), float("nan")
    z, p = proportions_ztest([success_a, success_b], [n_a, n_b], alternative="smaller")
    return float(z), float(p)
