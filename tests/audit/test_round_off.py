"""Floating-point round-off is not a deviation: a segment mean or a deviation within
``ROUND_OFF`` (1e-13) of the segment's largest |metric| counts as exactly 0, in the rows, the
flags, the segment table and the conclusion. Expected values are worked out by hand below."""

from __future__ import annotations

import pandas as pd

from custlens.audit import audit_segmentation
from custlens.audit.flags import flag_rows


def test_flag_rows_sets_round_off_to_zero_and_keeps_real_deviations() -> None:
    # A: 0.5 +/- 2**-52 (both exact in binary): the sum is exactly 1.0, the mean exactly 0.5 and
    #    the deviations +/-2.2e-16, 4.4e-16 of the largest value: round-off -> 0.
    # B: 0.5 +/- 1e-12: deviations of about 1e-12, 2e-12 of the largest value: kept.
    # C: 0.4 and 0.6: mean 0.5, deviations -0.1 and +0.1.
    eps = 2.0**-52
    m = pd.Series([0.5 + eps, 0.5 - eps, 0.5 + 1e-12, 0.5 - 1e-12, 0.4, 0.6])
    seg = pd.Series(["A", "A", "B", "B", "C", "C"])
    rows = flag_rows(m, seg, threshold=0.15, relative=False)
    dev = rows["deviation"].tolist()
    assert dev[:2] == [0.0, 0.0]
    assert abs(dev[2] - 1e-12) < 1e-15 and abs(dev[3] + 1e-12) < 1e-15
    assert abs(dev[4] + 0.1) < 1e-15 and abs(dev[5] - 0.1) < 1e-15
    assert not rows["is_anomaly"].any()  # every |deviation| <= 0.15


def test_a_metric_constant_in_each_segment_has_no_deviation() -> None:
    """0.1 three times and 0.7 three times: each row equals its segment mean, so every deviation
    is 0 and the conclusion says so (it used to cite a largest deviation of +1.11e-16)."""
    df = pd.DataFrame({"seg": ["A"] * 3 + ["B"] * 3, "m": [0.1] * 3 + [0.7] * 3})
    r = audit_segmentation(df, segment="seg", metric="m", threshold=0.15)
    assert r.rows["deviation"].tolist() == [0.0] * 6
    assert r.n_anomalies == 0
    assert r.conclusion == (
        "No customer's m is more than 0.15 away from the mean of their seg (6 rows checked): at "
        "this threshold the segmentation is consistent with m. Every row equals its segment "
        "mean (m is constant within each segment), so no threshold would flag a row. Nothing "
        "further to test."
    )


def test_round_off_does_not_count_in_the_95_percent_spread() -> None:
    """A: 1, 2, 3 (mean 2, deviations -1, 0, +1); B: 0.7 sixty times (deviations 0). The 63
    sorted |deviations| are 61 zeros then 1, 1; the 95 % quantile sits at position
    0.95 x 62 = 58.9, between two zeros: 0. The largest |deviation| is first met at the row
    holding 1 (deviation -1)."""
    df = pd.DataFrame({"seg": ["A"] * 3 + ["B"] * 60, "m": [1.0, 2.0, 3.0] + [0.7] * 60})
    r = audit_segmentation(df, segment="seg", metric="m", threshold=1.5)
    assert r.n_anomalies == 0
    assert r.conclusion.endswith(
        "The largest deviation is -1 (segment A); at least 95 % of rows equal their segment "
        "mean. Nothing further to test."
    )
    assert "e-1" not in r.conclusion  # no 1e-16 anywhere


def test_relative_limit_of_a_segment_whose_mean_is_round_off_of_zero() -> None:
    """A: 0.1, 0.2, -0.3, 0 has mean 0 (computed: about 7e-18); B: 2 three times. With
    --relative, A's limit is 0.15 x 0 = 0: 0.1, 0.2 and -0.3 are anomalies, the row at 0 is
    not (it equals the mean); B's rows equal their mean. So 3 anomalies, and A's mean is 0."""
    df = pd.DataFrame({"seg": ["A"] * 4 + ["B"] * 3, "m": [0.1, 0.2, -0.3, 0.0, 2.0, 2.0, 2.0]})
    r = audit_segmentation(df, segment="seg", metric="m", threshold=0.15, relative=True)
    assert r.rows["is_anomaly"].tolist() == [True, True, True, False, False, False, False]
    assert r.rows["segment_mean"].tolist()[:4] == [0.0] * 4
    assert r.segments.set_index("segment").loc["A", "mean"] == 0.0
    assert any(n.startswith("--relative: the mean of A is 0") for n in r.notes)
