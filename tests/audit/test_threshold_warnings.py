"""Warnings about a threshold that does not suit the metric: relative limits against segment
means near 0, and no skewness finding from floating-point round-off."""

from __future__ import annotations

import pandas as pd

from custlens.audit import audit_segmentation
from custlens.audit.flags import flag_rows, threshold_warnings
from custlens.datasets.customer_table_demo import customer_table_demo


def _near_zero_and_far() -> pd.DataFrame:
    """A: 1.001 and -1 alternating (mean 0.0005, deviations about +/-1); B: 10 and 12
    alternating (mean 11, deviations +/-1); 40 rows each."""
    return pd.DataFrame(
        {"seg": ["A"] * 40 + ["B"] * 40, "m": [1.001, -1.0] * 20 + [10.0, 12.0] * 20}
    )


def test_relative_threshold_against_a_segment_mean_near_zero_warns() -> None:
    r = audit_segmentation(_near_zero_and_far(), segment="seg", metric="m", threshold=0.15,
                           relative=True)  # fmt: skip
    # A's limit 0.15 x 0.0005 = 7.5e-5 flags all 40 rows; B's 0.15 x 11 = 1.65 flags none
    assert r.n_anomalies == 40
    warning = [n for n in r.notes if "near 0" in n]
    assert len(warning) == 1
    assert "in 1 of 2 segments: A (0.0005)" in warning[0]
    assert "40 of their 40 rows are flagged" in warning[0]
    assert "Omit --relative" in warning[0]
    assert r.conclusion.startswith("Warning: with --relative")


def test_relative_threshold_on_a_metric_centred_on_its_segment_means_warns() -> None:
    """The metric minus its segment mean: every mean is round-off (about 1e-17)."""
    demo = customer_table_demo(300, seed=2)
    seg, met = "profitability_segment", "retention_probability"
    centred = demo.assign(**{met: demo[met] - demo.groupby(seg)[met].transform("mean")})
    r = audit_segmentation(centred, segment=seg, metric=met, threshold=0.15, relative=True)
    n_seg = demo[seg].nunique()
    assert any(f"in {n_seg} of {n_seg} segments" in n for n in r.notes)


def test_relative_threshold_on_means_far_from_zero_does_not_warn() -> None:
    demo = customer_table_demo(300, seed=2)
    r = audit_segmentation(demo, segment="profitability_segment",
                           metric="retention_probability", threshold=0.25, relative=True)  # fmt: skip
    assert not any("near 0" in n for n in r.notes)
    r = audit_segmentation(_near_zero_and_far(), segment="seg", metric="m", threshold=0.15)
    assert not any("near 0" in n for n in r.notes)  # absolute thresholds do not use the mean


def test_round_off_deviations_of_a_constant_metric_give_no_skewness_finding() -> None:
    """0.7 in 53 rows averages to 0.7 with round-off: each deviation would be -3.3e-16 (3 ulps
    of 0.7), against 0 for 0.2 in 10 rows, and the sample skewness of those 63 numbers about
    1.9; flag_rows sets that round-off to 0."""
    df = pd.DataFrame({"seg": ["A"] * 53 + ["B"] * 10, "m": [0.7] * 53 + [0.2] * 10})
    rows = flag_rows(df["m"], df["seg"], threshold=0.15, relative=False)
    assert (rows["deviation"] == 0).all()
    r = audit_segmentation(df, segment="seg", metric="m", threshold=0.15)
    assert not any("skewed" in n for n in r.notes)


def test_a_skewed_metric_still_gets_the_skewness_finding() -> None:
    # 36 rows at 0 and 4 at 10 per segment: deviations -1 (x36) and +9 (x4), skewness about 2.7
    m = [0.0] * 36 + [10.0] * 4
    df = pd.DataFrame({"seg": ["A"] * 40 + ["B"] * 40, "m": m + [v + 5 for v in m]})
    rows = flag_rows(df["m"], df["seg"], threshold=0.15, relative=False)
    warnings = threshold_warnings(rows, metric="m", threshold=0.15, relative=False)
    assert any("skewed within segments (skewness +2." in w for w in warnings)
