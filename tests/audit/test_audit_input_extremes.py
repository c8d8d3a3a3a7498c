"""Inputs that once crashed the audit: numbers beyond float32's range, input columns named like
the audit's derived features (auditing an audit's own rows.csv), and thousands of segments."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custlens.audit import audit_segmentation
from custlens.config import AuditConfig
from custlens.datasets.customer_table_demo import customer_table_demo
from custlens.report.audit_markdown import write_audit

SEG, MET = "profitability_segment", "retention_probability"
F32_MAX = 3.4028234663852886e38  # numpy.finfo(numpy.float32).max, written out


def _two_segments() -> pd.DataFrame:
    """A: 20 x 0.5, 10 x 0.0, 10 x 1.0 (mean 0.5: 20 anomalies at threshold 0.15, 20 not);
    B the same shifted by 2; a feature ``x`` that varies."""
    a = [0.5] * 20 + [0.0] * 10 + [1.0] * 10
    return pd.DataFrame(
        {
            "seg": ["A"] * 40 + ["B"] * 40,
            "m": a + [v + 2 for v in a],
            "x": np.arange(80, dtype="float64") % 7,
        }
    )


@pytest.fixture(scope="module")
def small_demo() -> pd.DataFrame:
    return customer_table_demo(200, seed=1).drop(columns=["_planted_misfit", "_planted_persona"])


# ------------------------------------------------ 1. finite numbers too large for float32 trees


def test_a_metric_beyond_float32_is_treated_as_empty_with_a_note() -> None:
    df = _two_segments()
    df.loc[0, "m"] = 1e39  # was 0.5; A's other 39 rows still average (9.5 + 0 + 10) / 39 = 0.5
    r = audit_segmentation(df, segment="seg", metric="m", threshold=0.15)
    assert 0 not in set(r.rows["source_row"]) and len(r.rows) == 79
    seg = r.segments.set_index("segment")
    assert seg.loc["A", "mean"] == pytest.approx(0.5) and seg.loc["A", "anomalies"] == 20
    assert any("1 rows with a 'm' beyond" in n and "treated as empty" in n for n in r.notes)
    assert len(r.tree_metrics) == 3  # the trees ran


@pytest.mark.parametrize("value", [1e300, -1e39, np.inf])
def test_a_feature_beyond_float32_or_infinite_becomes_missing_with_a_note(value) -> None:
    df = _two_segments().assign(extra=1.0)
    df.loc[:, "extra"] = np.arange(80) % 5 + 0.5
    df.loc[3, "extra"] = value
    r = audit_segmentation(df, segment="seg", metric="m", threshold=0.15)
    assert np.isnan(r.features.loc[3, "extra"])
    assert (
        r.features["extra"].drop(index=3).tolist()
        == (np.arange(80) % 5 + 0.5)[np.arange(80) != 3].tolist()
    )
    assert any("treated as empty: extra (1 " in n for n in r.notes)
    assert len(r.tree_metrics) == 3
    assert df.loc[3, "extra"] == value  # the input is never modified


def test_revenue_and_quarter_share_beyond_float32_leave_the_derived_features_empty(
    small_demo: pd.DataFrame,
) -> None:
    df = small_demo.copy()
    df.loc[0, "total_revenue"] = 1e300
    df.loc[1, "q1_share"] = 1e300
    r = audit_segmentation(df, segment=SEG, metric=MET)
    f = r.features
    assert np.isnan(f.loc[0, "total_revenue"]) and np.isnan(f.loc[1, "q1_share"])
    assert np.isnan(f.loc[0, "derived_revenue_per_score_point"])
    assert np.isnan(f.loc[1, "derived_season_std"])
    # row 2 is untouched: its revenue per score point is revenue / score, computed here
    row = df.loc[2]
    assert f.loc[2, "derived_revenue_per_score_point"] == pytest.approx(
        row["total_revenue"] / row["comprehensive_customer_score"]
    )
    assert len(r.tree_metrics) == 3


def test_a_derived_feature_that_overflows_float32_from_finite_inputs_is_emptied(
    small_demo: pd.DataFrame,
) -> None:
    df = small_demo.copy()
    df.loc[0, "total_revenue"] = 1e38  # fits float32, but 1e38 / 1e-3 = 1e41 does not
    df.loc[0, "comprehensive_customer_score"] = 1e-3
    r = audit_segmentation(df, segment=SEG, metric=MET)
    assert r.features.loc[0, "total_revenue"] == 1e38
    assert np.isnan(r.features.loc[0, "derived_revenue_per_score_point"])
    assert any(
        "Derived values" in n and "derived_revenue_per_score_point (1 rows)" in n for n in r.notes
    )
    assert (r.features.abs().max() <= F32_MAX).all()


# ------------------------------------------------- 2. input columns named like derived features


def test_an_input_column_named_like_a_derived_feature_stays_and_the_derived_one_is_renamed(
    small_demo: pd.DataFrame,
) -> None:
    df = small_demo.assign(derived_season_std=0.1)
    r = audit_segmentation(df, segment=SEG, metric=MET)
    cat = r.feature_catalog.set_index("feature")
    assert cat.index.is_unique
    assert cat.loc["derived_season_std", "source"] == "column"
    assert (r.features["derived_season_std"] == 0.1).all()
    assert cat.loc["derived_season_std_2", "source"] == "derived"
    # population standard deviation of the four shares normalised to sum 1, by numpy
    q = df[["q1_share", "q2_share", "q3_share", "q4_share"]].to_numpy()
    expected = (q / q.sum(axis=1, keepdims=True)).std(axis=1)
    np.testing.assert_allclose(r.features["derived_season_std_2"], expected, rtol=1e-12)
    assert any("derived_season_std -> derived_season_std_2" in n for n in r.notes)


def test_auditing_an_audits_own_rows_again(small_demo: pd.DataFrame) -> None:
    first = audit_segmentation(small_demo, segment=SEG, metric=MET)
    rows = first.rows_with_features()  # what rows.csv holds (the CLI test reads the file)
    derived_in = [c for c in rows.columns if c.startswith("derived_")]
    assert len(derived_in) >= 10  # the case this test is about
    again = audit_segmentation(rows, segment="segment", metric="metric")
    cat = again.feature_catalog.set_index("feature")
    assert cat.index.is_unique
    assert set(derived_in) <= set(cat.index[cat["source"] == "column"])
    # the flags are the same: same metric, same segments
    assert again.rows["is_anomaly"].tolist() == first.rows["is_anomaly"].tolist()
    assert len(again.tree_metrics) == 3 and len(again.cluster_profiles) > 0


# --------------------------------------------------------------- 3. charts of many segments


def _graded_segments(n_segments: int = 12, size: int = 24) -> pd.DataFrame:
    """Segment S<k> (mean k) has k rows at k + 1 and k rows at k - 1, the rest at k: 2k
    anomalies at threshold 0.5."""
    seg, m = [], []
    for k in range(n_segments):
        seg += [f"S{k}"] * size
        m += [k + 1.0] * k + [k - 1.0] * k + [float(k)] * (size - 2 * k)
    return pd.DataFrame({"seg": seg, "m": m})


def test_per_segment_charts_draw_the_segments_with_the_most_anomalies() -> None:
    from custlens.charts.audit import audit_charts

    cfg = AuditConfig(max_chart_segments=5)
    r = audit_segmentation(_graded_segments(), segment="seg", metric="m", threshold=0.5, config=cfg)
    top = ["S11", "S10", "S9", "S8", "S7"]  # 22, 20, 18, 16, 14 anomalies; highest mean first
    assert r.figures["segment_rates"]["segment"].tolist() == top
    assert set(r.figures["deviation"]["segment"]) == set(top)
    assert len(r.figures["deviation"]) == 5 * 24  # every row of those segments
    assert len(r.segments) == 12  # the table keeps every segment
    charts = audit_charts(r)
    for name in ("deviation", "segment_rates"):
        title = charts[name].to_dict()["title"]
        assert title[1] == "(the 5 of 12 segments with the most anomalies)", name
    assert charts["deviation"].to_dict()["layer"][0]["encoding"]["y"]["sort"] == top


def test_per_segment_charts_sample_the_rows_of_the_segments_drawn() -> None:
    from custlens.charts.audit import audit_charts

    df = pd.concat([_graded_segments(12, 24)] * 5, ignore_index=True)  # 120 rows per segment
    cfg = AuditConfig(max_chart_segments=5, max_chart_points=100)
    r = audit_segmentation(df, segment="seg", metric="m", threshold=0.5, config=cfg)
    dev = r.figures["deviation"]
    # 5 segments x 120 rows, 5 x (22+20+18+16+14) = 450 of them anomalies > 100 points:
    # 10 rest rows and 90 anomalies
    assert len(dev) == 100 and (dev["group"] == "rest").sum() == 10
    title = audit_charts(r)["deviation"].to_dict()["title"]
    assert title[1] == (
        "(the 5 of 12 segments with the most anomalies; a sample of 100 of their 600 rows, "
        "anomalies kept first)"
    )


def test_thousands_of_segments_write_every_figure(tmp_path: Path) -> None:
    """2,600 segments of two rows: the chart of anomalies per segment once had 5,200 rows and
    Altair refused it (MaxRowsError)."""
    n = 2600
    df = pd.DataFrame(
        {
            "seg": np.repeat([f"S{i}" for i in range(n)], 2),
            "m": np.tile([0.0, 1.0], n),  # every row 0.5 from its segment mean: all anomalies
            "x": np.arange(2 * n) % 13,
        }
    )
    r = audit_segmentation(df, segment="seg", metric="m", threshold=0.15)
    for name, data in r.figures.items():
        assert len(data) <= 5000, name
    out = write_audit(r, tmp_path / "audit")
    assert (out / "segment_rates.png").stat().st_size > 5_000
    assert (out / "deviation.png").is_file()
    assert "(the 30 of 2,600 segments with the most anomalies)" in (out / "audit.html").read_text()
