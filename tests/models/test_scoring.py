"""Scoring everyone: confidence tiers from hand-made rows, one-order customers never get a
LightGBM churn score, reasons agree with the SHAP values, output columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.config import CleaningConfig, ModelsConfig, TierRule
from custlens.datasets.synthetic import synthetic
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models.backtest import customer_features
from custlens.models.scoring import confidence_tiers, fit_final, reasons


@pytest.fixture(scope="module")
def scored():
    data = synthetic(600, seed=8)
    c = clean(load(data.orders).table, CleaningConfig())
    models, scores = fit_final(c.purchases, c.returns, config=ModelsConfig(n_estimators=30))
    frame, _ = customer_features(c.purchases, c.returns, models.as_of, models.config)
    return models, scores, frame


def test_confidence_tiers_first_match_hand_example():
    frame = pd.DataFrame(
        {"frequency": [1, 1, 3, 3, 9, 9], "tenure_days": [10, 400, 100, 400, 100, 400]}
    )
    names, low = confidence_tiers(frame, ModelsConfig().tiers)
    assert names.tolist() == [
        "new",
        "cold start",
        "emerging",
        "emerging",
        "emerging",
        "established",
    ]
    assert low.tolist() == [True, True, False, False, False, False]
    custom = [TierRule(name="few", max_orders=2, low_confidence=True), TierRule(name="rest")]
    assert confidence_tiers(frame, custom)[0].tolist() == [
        "few",
        "few",
        "rest",
        "rest",
        "rest",
        "rest",
    ]


def test_scores_cover_everyone_and_one_order_customers_are_not_confident(scored):
    models, scores, frame = scored
    assert scores["customer_id"].tolist() == frame["customer_id"].tolist()
    one = (frame["frequency"] == 1).to_numpy()
    assert one.any()
    assert scores.loc[one, "low_confidence"].all()
    assert (scores.loc[one, "churn_source"] == "btyd").all()
    assert scores.loc[one, "reason_1"].str.startswith("few orders so far").all()
    p = scores["churn_probability"]
    assert p.between(0, 1).all() and scores["p_alive"].between(0, 1).all()
    assert scores["next_purchase_window"].isin(["0-30 days", "31-90 days", "later or never"]).all()
    assert (scores["clv"] >= 0).all()


def test_reasons_follow_the_largest_shap_values(scored):
    models, _, frame = scored
    X = frame[list(models.feature_names)].iloc[:50]
    words = reasons(models, X, k=3)
    contrib = models.churn.contributions(X)
    # exact TreeSHAP: bias + contributions = raw log-odds
    raw = models.churn.model_.booster_.predict(X, raw_score=True)
    full = models.churn.model_.booster_.predict(X, pred_contrib=True)
    np.testing.assert_allclose(full.sum(axis=1), raw, rtol=1e-6, atol=1e-9)
    i = int(np.argmax(frame["recency_days"].iloc[:50].to_numpy()))
    top = contrib.iloc[i].abs().sort_values(ascending=False).index[0]
    effect = "raises" if contrib.iloc[i][top] > 0 else "lowers"
    assert words[i][0].endswith(f"{effect} churn risk")
    if top == "recency_days":
        assert words[i][0].startswith(f"recency {frame['recency_days'].iloc[i]:,.0f} days")
