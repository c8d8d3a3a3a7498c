"""The segmentation audit, checked against hand calculations, pandas and scipy called directly."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from custlens.audit import audit_segmentation
from custlens.config import AuditConfig
from custlens.datasets.customer_table_demo import customer_table_demo
from custlens.errors import (
    ConfigError,
    CustlensError,
    DataError,
    InputError,
    MappingError,
    OutputError,
)
from custlens.report.audit_markdown import write_audit

SEG, MET = "profitability_segment", "retention_probability"


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return customer_table_demo(n=1000, seed=0)


@pytest.fixture(scope="module")
def result(demo: pd.DataFrame):
    return audit_segmentation(demo, segment=SEG, metric=MET, seed=0)


def _tiny(**extra) -> pd.DataFrame:
    # A: mean 3 -> deviations -2, -1, 0, +3;  B: mean 11 -> deviations -1, -1, -1, +3
    return pd.DataFrame(
        {"seg": ["A"] * 4 + ["B"] * 4, "m": [1.0, 2.0, 3.0, 6.0, 10.0, 10.0, 10.0, 14.0], **extra}
    )


# ---------------------------------------------------------------- flags and per-segment numbers


def test_flags_by_hand_absolute_and_relative() -> None:
    r = audit_segmentation(_tiny(), segment="seg", metric="m", threshold=1.5)
    assert r.rows["segment_mean"].tolist() == [3.0] * 4 + [11.0] * 4
    assert r.rows["is_anomaly"].tolist() == [True, False, False, True, False, False, False, True]
    seg = r.segments.set_index("segment")
    assert seg.loc["A", "direction"] == "mixed" and seg.loc["B", "direction"] == "above"
    assert seg.loc["A", "share_of_anomalies"] == pytest.approx(2 / 3)
    # a deviation equal to the threshold is not an anomaly (|-2| is not > 2)
    r = audit_segmentation(_tiny(), segment="seg", metric="m", threshold=2.0)
    assert r.rows["is_anomaly"].tolist() == [False, False, False, True, False, False, False, True]
    # relative 0.05: limits 0.15 (A) and 0.55 (B)
    r = audit_segmentation(_tiny(), segment="seg", metric="m", threshold=0.05, relative=True)
    assert r.rows["limit"].tolist() == pytest.approx([0.15] * 4 + [0.55] * 4)
    assert r.rows["is_anomaly"].tolist() == [True, True, False, True, True, True, True, True]
    seg = r.segments.set_index("segment")
    assert (seg.loc["A", "below"], seg.loc["A", "above"], seg.loc["A", "direction"]) == (
        2,
        1,
        "below",
    )
    assert (seg.loc["B", "below"], seg.loc["B", "above"]) == (3, 1)


@pytest.mark.parametrize("relative,threshold", [(False, 0.15), (False, 0.1), (True, 0.25)])
def test_segment_table_matches_independent_pandas(demo: pd.DataFrame, relative, threshold) -> None:
    r = audit_segmentation(demo, segment=SEG, metric=MET, threshold=threshold, relative=relative)
    means = demo.groupby(SEG)[MET].mean()
    mean_per_row = demo[SEG].map(means)
    dev = demo[MET] - mean_per_row
    limit = threshold * mean_per_row.abs() if relative else threshold
    flag = dev.abs() > limit
    assert (r.rows["is_anomaly"].to_numpy() == flag.to_numpy()).all()
    assert np.allclose(r.rows["segment_mean"], mean_per_row)
    seg = r.segments.set_index("segment")
    counts = flag.groupby(demo[SEG]).sum()
    sizes = demo.groupby(SEG).size()
    above = (flag & (dev > 0)).groupby(demo[SEG]).sum()
    below = (flag & (dev < 0)).groupby(demo[SEG]).sum()
    for s in means.index:
        assert seg.loc[s, "mean"] == pytest.approx(means[s])
        assert seg.loc[s, "anomalies"] == counts[s]
        assert seg.loc[s, "anomaly_rate"] == pytest.approx(counts[s] / sizes[s])
        assert seg.loc[s, "share_of_anomalies"] == pytest.approx(counts[s] / flag.sum())
        assert (seg.loc[s, "above"], seg.loc[s, "below"]) == (above[s], below[s])
        want = "above" if above[s] > below[s] else "below" if below[s] > above[s] else "mixed"
        assert seg.loc[s, "direction"] == (want if counts[s] else "none")
    assert r.n_anomalies == int(flag.sum())


# ---------------------------------------------------------------- features and comparisons


def test_derived_features_match_hand_formulas(demo: pd.DataFrame, result) -> None:
    f = result.features
    months = demo["customer_age_days"] / 30.4375
    consistency = demo["transaction_count"] / (demo["avg_transactions_per_month"] * months)
    assert np.allclose(f["derived_transaction_consistency"], consistency)
    cv = demo["transaction_value_std"] / demo["avg_transaction_value"]
    assert np.allclose(f["derived_value_volatility"], cv, equal_nan=True)
    q = demo[["q1_share", "q2_share", "q3_share", "q4_share"]].to_numpy()
    p = q / q.sum(axis=1, keepdims=True)
    assert np.allclose(f["derived_season_imbalance"], p.max(axis=1) - p.min(axis=1))
    assert np.allclose(f["derived_season_entropy"], -(p * np.log(p)).sum(axis=1) / np.log(4))
    # one row by hand: shares .1 .2 .3 .4 -> population std sqrt(0.0125)
    hand = pd.DataFrame(
        {
            "seg": list("aabb"),
            "m": [1.0, 2.0, 3.0, 4.0],
            "q1_share": 0.1,
            "q2_share": 0.2,
            "q3_share": 0.3,
            "q4_share": 0.4,
        }
    )
    hr = audit_segmentation(hand, segment="seg", metric="m", threshold=10.0)
    assert hr.features["derived_season_std"].iloc[0] == pytest.approx(np.sqrt(0.0125))
    assert hr.features["derived_season_imbalance"].iloc[0] == pytest.approx(0.3)
    rev, score = demo["total_revenue"], demo["comprehensive_customer_score"]
    z = (rev - rev.mean()) / rev.std(ddof=0) - (score - score.mean()) / score.std(ddof=0)
    assert np.allclose(f["derived_value_score_mismatch"], z)


def test_mann_whitney_and_effect_size_match_scipy_and_brute_force(demo, result) -> None:
    flag = result.rows["is_anomaly"].to_numpy()
    months = demo["customer_age_days"] / 30.4375
    feat = (demo["transaction_count"] / (demo["avg_transactions_per_month"] * months)).to_numpy()
    x, y = feat[flag], feat[~flag]
    want_p = stats.mannwhitneyu(x, y, alternative="two-sided").pvalue
    greater = (x[:, None] > y[None, :]).mean() + 0.5 * (x[:, None] == y[None, :]).mean()
    row = result.comparisons.query(
        "feature == 'derived_transaction_consistency' and group == 'all'"
    ).iloc[0]
    assert row["p_value"] == pytest.approx(want_p, rel=1e-9)
    assert row["rank_biserial"] == pytest.approx(2 * greater - 1, abs=1e-12)
    assert row["median_anomaly"] == pytest.approx(np.median(x))
    assert row["mean_rest"] == pytest.approx(y.mean())
    # the planted erratic customers make anomalies less consistent
    assert row["rank_biserial"] < -0.2 and row["significant"]


def test_chi_square_matches_scipy_on_a_hand_built_crosstab() -> None:
    # 40 rows; segment A metric 0 except 6 rows at 10 (anomalies), segment B all 5.
    # channel: the 6 anomalies are web x5, shop x1; the 34 others web x10, shop x24.
    seg = ["A"] * 20 + ["B"] * 20
    m = [10.0] * 6 + [0.0] * 14 + [5.0] * 20
    channel = ["web"] * 5 + ["shop"] + ["web"] * 10 + ["shop"] * 4 + ["shop"] * 20
    df = pd.DataFrame({"seg": seg, "m": m, "channel": channel})
    r = audit_segmentation(df, segment="seg", metric="m", threshold=5.0)
    assert r.rows["is_anomaly"].sum() == 6  # A's mean is 3: |10 - 3| = 7 > 5, |0 - 3| = 3
    table = np.array([[1, 24], [5, 10]])  # rows shop, web; columns anomaly, rest
    want = stats.chi2_contingency(table)
    got = r.chi_square.set_index("column").loc["channel"]
    assert got["chi2"] == pytest.approx(want.statistic)
    assert got["p_value"] == pytest.approx(want.pvalue)
    assert got["dof"] == 1
    assert got["cramers_v"] == pytest.approx(np.sqrt(want.statistic / 40))
    tab = r.crosstabs.query("column == 'channel'").set_index("level")
    assert (tab.loc["web", "anomalies"], tab.loc["web", "rest"]) == (5, 10)
    assert (tab.loc["shop", "anomalies"], tab.loc["shop", "rest"]) == (1, 24)


# ---------------------------------------------------------------- snapshots


def _snapshots() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Customer ID": ["a", "a", "b", "b", "b", "c", "c", "d"],
            "as_of": [
                "2024-01-31",
                "2024-03-31",
                "2024-03-31",
                "2024-02-29",
                "2024-03-31",
                None,
                "2023-12-31",
                "2024-01-31",
            ],
            "seg": ["X", "X", "Y", "Y", "Y", "X", "X", "Y"],
            "m": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        }
    )


def test_latest_by_keeps_the_latest_row_and_the_last_of_ties() -> None:
    r = audit_segmentation(
        _snapshots(), segment="seg", metric="m", threshold=100.0, latest_by="as_of"
    )
    # a: 2024-03-31 (row 1); b: tie on 2024-03-31 -> the later row 4; c: the dated row 6; d: row 7
    assert r.rows["source_row"].tolist() == [1, 4, 6, 7]
    assert r.rows["customer_id"].tolist() == ["a", "b", "c", "d"]
    assert r.settings["customer_col"] == "Customer ID"
    assert r.settings["snapshot_mode"] == "latest by as_of"
    assert any("ties on the date go to the last row" in n for n in r.notes)
    # segment means over the kept rows only: X = (2 + 7) / 2, Y = (5 + 8) / 2
    assert r.segments.set_index("segment")["mean"].to_dict() == {"X": 4.5, "Y": 6.5}


def test_tie_break_column_chooses_among_rows_of_one_date() -> None:
    df = _snapshots().assign(version=[0, 0, 9, 0, 1, 0, 0, 0])
    r = audit_segmentation(
        df, segment="seg", metric="m", threshold=100.0, latest_by="as_of", tie_break="version"
    )
    # b: rows 2 and 4 tie on 2024-03-31; version 9 (row 2) beats 1 (row 4)
    assert r.rows["source_row"].tolist() == [1, 2, 6, 7]
    assert any(
        "2 rows share their customer's date" in n and "largest version" in n for n in r.notes
    )
    assert "version" not in r.features.columns
    with pytest.raises(MappingError, match="tie-break"):
        audit_segmentation(df, segment="seg", metric="m", latest_by="as_of", tie_break="nope")


def test_all_rows_are_used_by_default_and_that_is_stated() -> None:
    r = audit_segmentation(_snapshots(), segment="seg", metric="m", threshold=100.0)
    assert len(r.rows) == 8 and r.settings["snapshot_mode"] == "all rows"
    assert any("8 rows for 4 customers" in n and "--latest-by" in n for n in r.notes)


def test_latest_by_on_demo_snapshots_gives_one_row_per_customer() -> None:
    df = customer_table_demo(n=300, seed=2, snapshots=3)
    r = audit_segmentation(df, segment=SEG, metric=MET, latest_by="snapshot_date")
    latest = df[df["snapshot_date"] == df["snapshot_date"].max()]
    assert len(r.rows) == 300
    assert sorted(r.rows["source_row"]) == sorted(latest.index)


# ---------------------------------------------------------------- models


def test_fair_tree_finds_the_planted_misfits(demo: pd.DataFrame, result) -> None:
    m = result.tree_metrics.set_index("model")
    assert m.loc["without_metric", "roc_auc"] > 0.8
    assert m.loc["without_metric", "test_rows"] == 300  # 30 % of 1000, stratified
    fair = result.tree_importances.query("model == 'without_metric'")
    assert MET not in set(fair["feature"]) and "metric" not in set(fair["feature"])
    assert result.tree_rules["without_metric"] and result.tree_rules["without_metric"][
        0
    ].startswith("IF ")
    # the audit never saw the truth, yet the flagged rows contain almost every planted misfit
    truth = demo["_planted_misfit"].to_numpy()
    flag = result.rows["is_anomaly"].to_numpy()
    assert (flag & truth).sum() / truth.sum() > 0.9
    assert "_planted_misfit" not in result.features.columns
    assert not any(c.startswith("_planted") for c in result.feature_catalog["feature"])
    assert set(result.dimensions.loc[result.dimensions["recommended"], "dimension"]) == {
        "stability",
        "seasonality",
        "lifecycle / value realisation",
    }


def test_near_copies_of_the_metric_are_kept_out_of_the_fair_tree(demo: pd.DataFrame) -> None:
    df = demo.assign(retention_score_pct=demo[MET] * 100 + 0.001 * np.arange(len(demo)) % 1)
    r = audit_segmentation(df, segment=SEG, metric=MET)
    fair = r.tree_importances.query("model == 'without_metric'")
    assert "retention_score_pct" not in set(fair["feature"])
    assert any("retention_score_pct" in n and "near-copies" in n for n in r.notes)


def test_clusters_are_chosen_by_silhouette_and_deterministic(demo: pd.DataFrame, result) -> None:
    sel = result.cluster_selection
    assert sel["k"].tolist() == [2, 3, 4, 5, 6]
    best = int(sel.loc[sel["silhouette"].idxmax(), "k"])
    assert len(result.cluster_profiles) == best
    labels = result.rows["cluster"]
    assert (labels[~result.rows["is_anomaly"]] == -1).all()
    assert (labels[result.rows["is_anomaly"]] >= 0).all()
    assert result.cluster_profiles["size"].sum() == result.n_anomalies
    again = audit_segmentation(demo, segment=SEG, metric=MET, seed=0)
    assert (again.rows["cluster"] == labels).all()
    pd.testing.assert_frame_equal(again.tree_metrics, result.tree_metrics)


def test_few_anomalies_skip_clustering_and_trees_with_a_note() -> None:
    r = audit_segmentation(_tiny(), segment="seg", metric="m", threshold=1.5)
    assert r.cluster_profiles.empty and (r.rows["cluster"] == -1).all()
    assert any("Clustering skipped: 3 anomalies" in n for n in r.notes)
    assert r.tree_metrics.empty and any("Decision trees skipped" in n for n in r.notes)


def test_all_null_feature_is_a_stated_skip(demo: pd.DataFrame) -> None:
    df = demo.head(300).assign(loyalty_points=np.nan)
    r = audit_segmentation(df, segment=SEG, metric=MET)
    assert "loyalty_points" not in r.features.columns
    assert any("All-null features skipped: loyalty_points" in n for n in r.notes)


def test_no_anomalies_is_a_clear_result(tmp_path) -> None:
    r = audit_segmentation(_tiny(), segment="seg", metric="m", threshold=5.0)
    assert r.n_anomalies == 0 and r.comparisons.empty and r.chi_square.empty
    assert r.conclusion.startswith("No customer's m is more than 5")
    assert "+3" in r.conclusion  # the largest deviation, by hand: 6 - 3 and 14 - 11
    out = write_audit(r, tmp_path / "audit")
    assert "No customer's m" in (out / "audit.md").read_text()


# ---------------------------------------------------------------- bad input


def test_missing_metric_lists_the_columns(demo: pd.DataFrame) -> None:
    with pytest.raises(MappingError) as err:
        audit_segmentation(demo, segment=SEG, metric="Retention_Probability")
    msg = str(err.value)
    assert "customer_id" in msg and "retention_probability" in msg and "did you mean" in msg


def test_missing_segment_column() -> None:
    with pytest.raises(MappingError, match=r"lack the column\(s\) tier(.|\n)*--segment"):
        audit_segmentation(_tiny(), segment="tier", metric="m")


def test_non_numeric_metric_shows_the_first_bad_row() -> None:
    df = pd.DataFrame({"seg": list("aabb"), "m": ["0.5", "0.7", "high", "n/a"]})
    with pytest.raises(InputError) as err:
        audit_segmentation(df, segment="seg", metric="m")
    assert "row 3" in str(err.value) and "'high'" in str(err.value)
    dates = pd.DataFrame({"seg": list("aabb"), "m": pd.date_range("2024-01-01", periods=4)})
    with pytest.raises(InputError, match="not numeric"):
        audit_segmentation(dates, segment="seg", metric="m")


def test_numeric_text_metric_is_accepted() -> None:
    df = pd.DataFrame({"seg": list("aabb"), "m": ["1", " 3 ", "10", "14"]})
    r = audit_segmentation(df, segment="seg", metric="m", threshold=1.5)
    # a: mean 2, deviations -1, +1; b: mean 12, deviations -2, +2
    assert r.rows["deviation"].tolist() == [-1.0, 1.0, -2.0, 2.0]
    assert r.rows["is_anomaly"].tolist() == [False, False, True, True]


def test_single_segment_is_an_error() -> None:
    df = pd.DataFrame({"seg": ["only"] * 5, "m": [1.0, 2, 3, 4, 5]})
    with pytest.raises(DataError, match="only one value"):
        audit_segmentation(df, segment="seg", metric="m")


@pytest.mark.parametrize("threshold", [0, -0.1, float("nan"), "0.15"])
def test_bad_threshold(threshold) -> None:
    with pytest.raises(ConfigError):
        audit_segmentation(_tiny(), segment="seg", metric="m", threshold=threshold)


def test_bad_latest_by() -> None:
    with pytest.raises(MappingError, match=r"lack the column\(s\) snapshot(.|\n)*--latest-by"):
        audit_segmentation(_snapshots(), segment="seg", metric="m", latest_by="snapshot")
    bad = _snapshots()
    bad.loc[3, "as_of"] = "last tuesday"
    with pytest.raises(InputError, match="row 4 is 'last tuesday'"):
        audit_segmentation(bad, segment="seg", metric="m", latest_by="as_of")
    no_id = _snapshots().drop(columns="Customer ID")
    with pytest.raises(DataError, match="customer id"):
        audit_segmentation(no_id, segment="seg", metric="m", latest_by="as_of")


def test_not_a_dataframe_and_all_null_metric() -> None:
    with pytest.raises(InputError, match="DataFrame"):
        audit_segmentation([1, 2, 3], segment="seg", metric="m")
    with pytest.raises(DataError, match="all null"):
        audit_segmentation(_tiny().assign(m=np.nan), segment="seg", metric="m")
    assert issubclass(InputError, CustlensError)


# ---------------------------------------------------------------- written report


def test_write_audit_files_and_overwrite_rules(result, tmp_path) -> None:
    out = write_audit(result, tmp_path / "audit")
    names = {p.name for p in out.iterdir()}
    assert {
        "audit.md",
        "segments.csv",
        "anomalies.csv",
        "comparisons.csv",
        "chi_square.csv",
        "cluster_profiles.csv",
        "tree_metrics.csv",
        "deviation.png",
        "seasonal.png",
    } <= names
    assert (out / "deviation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "audit.md").read_text()
    assert result.conclusion in md and "![" in md
    seg = pd.read_csv(out / "segments.csv")
    assert seg["anomalies"].sum() == result.n_anomalies
    assert len(pd.read_csv(out / "anomalies.csv")) == result.n_anomalies
    write_audit(result, out)  # a previous audit may be replaced
    assert [p.name for p in tmp_path.iterdir()] == ["audit"]  # no temporary folders left
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"x")
    with pytest.raises(OutputError, match="--force"):
        write_audit(result, foreign)
    assert (foreign / "cat.jpg").exists()


def test_features_computed_from_the_metric_stay_out_of_the_fair_tree(demo: pd.DataFrame) -> None:
    r = audit_segmentation(demo, segment=SEG, metric="total_revenue", threshold=0.5, relative=True)
    cat = r.feature_catalog.set_index("feature")
    assert "total_revenue" not in cat.index  # the metric itself is never a feature
    assert cat.loc["derived_revenue_per_score_point", "uses_metric"]
    assert cat.loc["derived_value_score_mismatch", "uses_metric"]
    assert not cat.loc["derived_transaction_consistency", "uses_metric"]
    fair = set(r.tree_importances.query("model == 'without_metric'")["feature"])
    assert not fair & {
        "total_revenue",
        "metric",
        "derived_revenue_per_score_point",
        "derived_value_score_mismatch",
    }


def test_infinite_and_empty_metric_rows_are_left_out_with_a_note() -> None:
    df = _tiny().assign(m=[1.0, 2.0, 3.0, 6.0, 10.0, 10.0, np.inf, None])
    r = audit_segmentation(df, segment="seg", metric="m", threshold=1.5)
    assert r.rows["source_row"].tolist() == [0, 1, 2, 3, 4, 5]
    assert r.segments.set_index("segment").loc["B", "mean"] == 10.0
    assert any("infinite" in n for n in r.notes) and any(
        "2 rows with an empty" in n for n in r.notes
    )


def test_point_charts_keep_every_anomaly_and_a_seeded_sample(demo: pd.DataFrame) -> None:
    cfg = AuditConfig(max_chart_points=300)
    r = audit_segmentation(demo, segment=SEG, metric=MET, config=cfg)
    dev = r.figures["deviation"]
    assert len(dev) == 300
    assert (dev["group"] == "anomaly").sum() == r.n_anomalies
    again = audit_segmentation(demo, segment=SEG, metric=MET, config=cfg)
    pd.testing.assert_frame_equal(dev, again.figures["deviation"])


def test_point_charts_hold_at_most_their_points_when_the_anomalies_alone_are_more(
    demo: pd.DataFrame,
) -> None:
    """A threshold that flags every row but a few: the charts draw ``max_chart_points`` rows,
    a tenth of them the unflagged rows (all of them when fewer), the rest a seeded sample of
    the anomalies; the chart titles say it is a sample of how many rows."""
    from custlens.charts.audit import audit_charts

    cfg = AuditConfig(max_chart_points=200)
    r = audit_segmentation(demo, segment=SEG, metric=MET, threshold=0.002, config=cfg)
    rest = len(r.rows) - r.n_anomalies
    assert r.n_anomalies > 200 and rest > 0  # the case this test is about
    dev = r.figures["deviation"]
    assert len(dev) == 200
    assert (dev["group"] == "rest").sum() == min(rest, 20)
    assert (dev["group"] == "anomaly").sum() == 200 - min(rest, 20)
    assert set(dev.index) <= set(r.rows.index)
    again = audit_segmentation(demo, segment=SEG, metric=MET, threshold=0.002, config=cfg)
    pd.testing.assert_frame_equal(dev, again.figures["deviation"])
    title = audit_charts(r)["deviation"].to_dict()["title"]
    assert title.endswith(f"(a sample of 200 of {len(r.rows):,} rows, anomalies kept first)")


def test_the_deviation_chart_spreads_its_points_the_same_way_every_time() -> None:
    """The vertical jitter is data (0, 0.618.., 0.236.., the golden-ratio sequence mod 1), not
    Vega's unseeded random(): two audits of the same table drew different PNGs before."""
    import json

    from custlens.charts.audit import deviation_chart

    data = pd.DataFrame(
        {
            "segment": ["A", "A", "B"],
            "deviation": [0.2, -0.1, 0.05],
            "limit": [0.15, 0.15, 0.15],
            "group": ["anomaly", "rest", "rest"],
        }
    )
    spec = deviation_chart(data, "m").to_dict()
    assert "random()" not in json.dumps(spec)
    values = [v for rows in spec["datasets"].values() for v in rows if "jitter" in v]
    golden = (5**0.5 - 1) / 2
    assert [v["jitter"] for v in values] == pytest.approx([0.0, golden, 2 * golden - 1])


def test_latest_by_ignores_dates_outside_the_plausible_window() -> None:
    # a's 2104 row (a typo for 2024) and b's 2304 row (beyond pandas' dates) must not be latest
    df = _snapshots()
    df.loc[0, "as_of"] = "2104-01-31"
    df.loc[3, "as_of"] = "2304-02-29"
    r = audit_segmentation(
        df,
        segment="seg",
        metric="m",
        threshold=100.0,
        latest_by="as_of",
        plausible_dates=(date(1970, 1, 1), date(2030, 1, 28)),
    )
    # a: row 1 (2024-03-31) beats the typo row 0; b: row 4 (tie with row 2, the later wins)
    assert r.rows["source_row"].tolist() == [1, 4, 6, 7]
    note = next(n for n in r.notes if "plausible window" in n)
    assert note.startswith("2 rows with a as_of outside the plausible window 1970-01-01 .. ")
    assert "2104-01-31" in note and "2304-02-29" in note
    # a customer whose only row is implausible keeps it, as an undated row does
    alone = audit_segmentation(
        df.assign(as_of=df["as_of"].where(df["Customer ID"] != "d", "2999-01-01")),
        segment="seg",
        metric="m",
        threshold=100.0,
        latest_by="as_of",
        plausible_dates=(date(1970, 1, 1), date(2030, 1, 28)),
    )
    assert alone.rows["source_row"].tolist() == [1, 4, 6, 7]
    assert any(n.startswith("3 rows with a as_of outside") for n in alone.notes)


def test_latest_by_window_defaults_to_cleanings_and_applies_to_datetime_columns() -> None:
    df = _snapshots().assign(as_of=lambda d: pd.to_datetime(d["as_of"]))
    df.loc[0, "as_of"] = pd.Timestamp("2104-01-31")
    r = audit_segmentation(df, segment="seg", metric="m", threshold=100.0, latest_by="as_of")
    assert r.rows["source_row"].tolist() == [1, 4, 6, 7]
    assert any("1 row with a as_of outside" in n and "(e.g. 2104-01-31) was" in n for n in r.notes)
