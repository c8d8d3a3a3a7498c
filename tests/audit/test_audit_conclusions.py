"""The audit's conclusion on planted cases: one decision per claim, each branch's wording;
quarter counts, derived-feature names, the dacomp-style measures and the dacomp-like table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.audit import audit_segmentation
from custlens.audit.conclusion import _direction, tree_verdict
from custlens.config import AuditConfig
from custlens.datasets.customer_table_demo import customer_table_demo
from custlens.datasets.dacomp_like import dacomp_like_table

SEG, MET = "profitability_segment", "retention_probability"


def _metrics(fair: float, segment_only: float) -> pd.DataFrame:
    base = {"recall": 0.5, "precision": 0.5}
    return pd.DataFrame(
        [
            {"model": "with_metric", "roc_auc": 1.0, **base},
            {"model": "without_metric", "roc_auc": fair, **base},
            {"model": "segment_only", "roc_auc": segment_only, **base},
        ]
    )


@pytest.mark.parametrize(
    ("fair", "segment_only", "verdict"),
    [
        (0.80, 0.55, "behaviour"),  # +0.25 over the segment alone
        (0.80, 0.78, "segment"),  # the segment alone does as well
        (0.62, 0.60, "segment"),
        (0.55, 0.50, "noise"),  # gain 0.05 but below auc_weak 0.6
        (0.58, 0.52, "noise"),
    ],
)
def test_tree_verdict_is_the_fair_minus_segment_only_difference(fair, segment_only, verdict):
    assert tree_verdict(_metrics(fair, segment_only), AuditConfig()) == verdict
    assert tree_verdict(pd.DataFrame(), AuditConfig()) == "skipped"


def _planted(kind: str, seed: int = 0) -> pd.DataFrame:
    """Three segments of 120 rows; ``segment``: every anomaly in segment C (a bimodal C, no
    behaviour signal); ``behaviour``: anomalies in every segment, all with a high ``churn_signal``
    column; ``noise``: anomalies in every segment at random."""
    rng = np.random.default_rng(seed)
    seg = np.repeat(["A", "B", "C"], 120)
    level = {"A": 0.8, "B": 0.5, "C": 0.2}
    metric = np.array([level[s] for s in seg]) + rng.normal(0, 0.03, len(seg))
    signal = rng.normal(0, 1, len(seg))
    if kind == "segment":
        c = np.flatnonzero(seg == "C")
        metric[c[::2]] += 0.25
        metric[c[1::2]] -= 0.25
    else:
        hit = rng.random(len(seg)) < 0.2
        metric[hit] -= 0.4
        if kind == "behaviour":
            signal[hit] += 3.0
    return pd.DataFrame({"seg": seg, "m": metric, "churn_signal": signal})


def test_conclusion_wording_per_tree_branch():
    seg = audit_segmentation(_planted("segment"), segment="seg", metric="m", threshold=0.15)
    assert "the segment alone explains who deviates about as well" in seg.conclusion
    assert "behaviour the segmentation ignores adds" not in seg.conclusion
    assert "Nothing here argues for adding a new dimension" in seg.conclusion

    beh = audit_segmentation(_planted("behaviour"), segment="seg", metric="m", threshold=0.15)
    assert "behaviour the segmentation ignores adds to the segment" in beh.conclusion
    assert "Nothing here argues for adding a new dimension" not in beh.conclusion
    m = beh.tree_metrics.set_index("model")["roc_auc"]
    assert m["without_metric"] - m["segment_only"] >= 0.05

    noise = audit_segmentation(_planted("noise"), segment="seg", metric="m", threshold=0.15)
    assert "the deviations look like noise" in noise.conclusion


def test_direction_wording_never_contradicts_the_medians():
    assert _direction(0.4, 10.0, 5.0) == "is higher"
    assert _direction(-0.4, 1.0, 5.0) == "is lower"
    # the dacomp case: rank-biserial positive but the anomalies' median is lower
    assert _direction(0.12, 541.0, 642.0) == "ranks higher (although its median is lower)"


def test_opposite_effects_are_reported_per_direction():
    """Above-mean anomalies spend much more on wine, below-mean ones much less: pooled, the
    effects cancel; per direction both are listed."""
    rng = np.random.default_rng(3)
    seg = np.repeat(["A", "B"], 200)
    m = np.where(seg == "A", 0.7, 0.3) + rng.normal(0, 0.02, 400)
    wine = rng.normal(300, 30, 400)
    up, down = np.arange(0, 400, 10), np.arange(5, 400, 10)
    m[up] += 0.3
    m[down] -= 0.3
    wine[up] += 200
    wine[down] -= 200
    df = pd.DataFrame({"seg": seg, "m": m, "MntWines": wine})
    r = audit_segmentation(df, segment="seg", metric="m", threshold=0.15)
    pooled = r.comparisons.query("feature == 'MntWines' and group == 'all'").iloc[0]
    assert abs(pooled["rank_biserial"]) < 0.2  # the pooled effect cancels
    assert "MntWines (above-mean anomalies: is higher" in r.conclusion
    assert "MntWines (below-mean anomalies: is lower" in r.conclusion


def test_absolute_threshold_on_a_large_scale_metric_warns_and_suggests_relative():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"seg": np.repeat(list("ABC"), 100), "Income": rng.lognormal(10.8, 0.5, 300)})
    r = audit_segmentation(df, segment="seg", metric="Income", threshold=0.15)
    assert r.n_anomalies == 300
    assert r.conclusion.startswith("Warning: --threshold 0.15 is tiny against Income's scale")
    assert "Use --relative" in r.conclusion
    assert "A robust centre (the segment median)" in r.conclusion  # lognormal: skewed
    ok = audit_segmentation(df, segment="seg", metric="Income", threshold=0.5, relative=True)
    assert "tiny against" not in ok.conclusion


@pytest.mark.parametrize(
    "names",
    [
        ["q1_transactions", "q2_transactions", "q3_transactions", "q4_transactions"],
        ["Q1 Orders", "Q2 Orders", "Q3 Orders", "Q4 Orders"],
        ["transactions_q1", "transactions_q2", "transactions_q3", "transactions_q4"],
        ["quarter_1_orders", "quarter_2_orders", "quarter_3_orders", "quarter_4_orders"],
    ],
)
def test_quarter_counts_are_recognised_and_named(names):
    counts = np.array([[1, 2, 3, 4], [0, 0, 5, 5], [2, 2, 2, 2], [4, 0, 0, 0]] * 3)
    df = pd.DataFrame(counts, columns=names).assign(seg=list("ab") * 6, m=np.linspace(0, 1, 12))
    r = audit_segmentation(df, segment="seg", metric="m", threshold=10.0)
    p = counts / counts.sum(axis=1, keepdims=True)
    f = r.features
    assert np.allclose(f["derived_season_imbalance"], p.max(axis=1) - p.min(axis=1))
    # coverage gap: quarters without transactions / 4
    assert f["derived_quarter_coverage_gap"].tolist()[:4] == [0.0, 0.5, 0.0, 0.75]
    assert any(
        n == "Seasonality from the quarter counts " + ", ".join(names) + "." for n in r.notes
    )
    assert "Seasonality: cannot be assessed" not in r.conclusion
    cat = r.feature_catalog.set_index("feature")
    assert cat.loc["derived_season_entropy", "ingredients"] == ", ".join(names)


def test_derived_features_never_shadow_an_input_column():
    df = customer_table_demo(200, seed=1)
    df["transaction_consistency"] = np.where(df.index % 3 == 0, "Irregular", "Consistent")
    r = audit_segmentation(df, segment=SEG, metric=MET, threshold=0.15)
    assert "derived_transaction_consistency" in r.features.columns
    assert "transaction_consistency" not in r.features.columns  # categorical: a crosstab
    assert "transaction_consistency" in set(r.crosstabs["column"])
    assert all(
        c.startswith("derived_")
        for c in r.feature_catalog.loc[r.feature_catalog["source"] == "derived", "feature"]
    )


def test_dacomp_style_measures_match_hand_formulas():
    df = customer_table_demo(300, seed=5)
    r = audit_segmentation(df, segment=SEG, metric=MET, threshold=0.15)
    expected = df["avg_transactions_per_month"] * df["customer_age_days"] / 30.4375
    err = (df["transaction_count"] - expected).abs() / expected
    assert np.allclose(r.features["derived_consistency_error"], err)
    rev, score = df["total_revenue"], df["comprehensive_customer_score"]
    z = (rev - rev.mean()) / rev.std(ddof=0) - (score - score.mean()) / score.std(ddof=0)
    assert np.allclose(r.features["derived_abs_value_score_mismatch"], z.abs())
    cv = df["transaction_value_std"] / df["avg_transaction_value"]
    n_high = int((cv > 1).sum())
    assert any(
        n.startswith("Order-value CV above 1") and f": {n_high} of 300 rows" in n for n in r.notes
    )


def test_dacomp_like_table_rows_customers_ties_and_conclusion():
    df = dacomp_like_table(seed=0)
    assert (len(df), df["customer_id"].nunique(), df[SEG].nunique()) == (149, 107, 5)
    assert df["snapshot_date"].nunique() == 1
    assert not pd.api.types.is_numeric_dtype(df["transaction_consistency"])
    every = audit_segmentation(df, segment=SEG, metric=MET, threshold=0.15)
    flagged = every.rows[every.rows["is_anomaly"]]
    assert every.headline() == (
        f"{len(flagged)} of 149 rows ({flagged['customer_id'].nunique()} of 107 customers)"
    )
    n_cust = flagged["customer_id"].nunique()
    assert every.conclusion.startswith(f"{len(flagged)} of 149 rows (")
    assert f"; {n_cust} of 107 customers) have a {MET}" in every.conclusion
    latest = audit_segmentation(
        df, segment=SEG, metric=MET, threshold=0.15, latest_by="snapshot_date"
    )
    assert len(latest.rows) == 107
    assert any(
        "84 rows share their customer's date" in n and "last row in file order" in n
        for n in latest.notes
    )
    assert "Seasonality: cannot be assessed" not in latest.conclusion
    assert "derived_transaction_consistency" in latest.features.columns


def test_a_tiny_segment_is_weak_evidence_and_not_listed_first() -> None:
    # Big: 29 rows at 0.5 and one at 0.9 (mean 0.51333, the 0.9 row is 0.387 above: 1 anomaly);
    # Tiny: 0.1, 0.5, 0.9 (mean 0.5, the outer two are 0.4 away: 2 anomalies of only 3 rows)
    df = pd.DataFrame(
        {
            "seg": ["Big"] * 30 + ["Tiny"] * 3,
            "m": [0.5] * 29 + [0.9] + [0.1, 0.5, 0.9],
        }
    )
    r = audit_segmentation(df, segment="seg", metric="m", threshold=0.15)
    assert r.segments.set_index("segment")["few_rows"].to_dict() == {"Big": False, "Tiny": True}
    assert (
        "Most are in: Big 1 (3% of the segment, mostly above its mean), "
        "Tiny 2 (of only 3 rows, too few to judge). One segment has fewer than 10 rows: "
        "Tiny (3 rows, 2 flagged); its mean rests on too few customers to judge anyone against, "
        "so its anomalies and rate are weak evidence."
    ) in r.conclusion
    big = audit_segmentation(
        df, segment="seg", metric="m", threshold=0.15, config=AuditConfig(min_segment_rows=3)
    )
    assert "Most are in: Tiny 2 (67% of the segment" in big.conclusion
    assert "fewer than" not in big.conclusion


def test_a_fair_tree_no_better_than_chance_is_said_so_and_its_importances_not_quoted():
    from custlens.audit.conclusion import _tree_paragraph

    config = AuditConfig()
    below = _tree_paragraph(MET, _metrics(0.40, 0.46), config)
    assert "does no better than chance at the anomaly flag (ROC-AUC 0.40 on held-out rows" in below
    assert "behaviour adds nothing" in below and "predicts" not in below
    above = _tree_paragraph(MET, _metrics(0.80, 0.55), config)
    assert "predicts the anomaly flag with ROC-AUC 0.80 on held-out rows" in above
    assert "behaviour adds +0.25" in above


def test_the_with_metric_tree_names_the_metric_in_its_rules():
    table = _planted("behaviour").rename(columns={"m": "retention_probability"})
    result = audit_segmentation(
        table, segment="seg", metric="retention_probability", threshold=0.15
    )
    rules = " ".join(result.tree_rules["with_metric"])
    assert "retention_probability" in rules
    assert not any(word == "metric" for word in rules.replace("(", " ").split())
