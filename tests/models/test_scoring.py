"""Scoring everyone: confidence tiers from hand-made rows, one-order customers never get a
LightGBM churn score, reasons agree with the SHAP values (for the ``reason_rows`` customers with
the largest churn probability x spend), output columns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from custlens.config import CleaningConfig, ModelsConfig, TierRule
from custlens.datasets.synthetic import synthetic
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models.model_rows import customer_features
from custlens.models.scoring import (
    confidence_tiers,
    fit_final,
    reason_customers,
    reasons,
    reasons_note,
    score_customers,
)


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
    beyond = (frame["recency_days"] > models.train_recency_max).to_numpy()  # see below
    assert (one & ~beyond).any()
    assert scores.loc[one, "low_confidence"].all()
    assert (scores.loc[one, "churn_source"] == "btyd").all()
    assert scores.loc[one & ~beyond, "reason_1"].str.startswith("few orders so far").all()
    p = scores["churn_probability"]
    assert p.between(0, 1).all() and scores["p_alive"].between(0, 1).all()
    windows = scores.loc[~beyond, "next_purchase_window"]
    assert windows.isin(["0-30 days", "31-90 days", "later or never"]).all()
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
        assert words[i][0].startswith(f"last order {frame['recency_days'].iloc[i]:,.0f} day")


def test_reasons_read_as_the_anomaly_reasons_do():
    from custlens.models.scoring import _format

    # by hand: a share as a percentage, the singular for 1, a currency value rounded
    assert _format("returned_items_share", 0.5) == "returned 50% of items"
    assert _format("days_overdue", 1.0) == "1 day later than the usual gap between orders"
    assert _format("days_overdue", -12.0) == "12 days before the usual gap between orders is over"
    assert _format("recency_days", 236.0) == "last order 236 days ago"
    assert _format("max_order_value", 2064.8) == "largest order worth 2,065"
    assert _format("active_months", 2.0) == "ordered in 2 different months"
    # a feature without a phrase keeps its name in words; an unknown value says so
    assert _format("interval_cv", 0.25) == "interval cv 0.25"
    assert _format("recency_days", float("nan")) == "recency unknown"


def test_reason_customers_hand_example():
    frame = pd.DataFrame({"monetary": [10.0, 100.0, 1000.0, np.nan, -50.0]})
    churn = np.array([0.9, 0.5, 0.2, 0.8, 0.9])
    # churn x spend = 9, 50, 200, 0 (missing spend), 0 (negative spend counts as 0)
    assert reason_customers(churn, frame, 2).tolist() == [1, 2]
    assert reason_customers(churn, frame, 3).tolist() == [0, 1, 2]
    # a tie at the limit keeps the earlier row
    assert reason_customers(churn, frame, 4).tolist() == [0, 1, 2, 3]
    assert reason_customers(churn, frame, 5).tolist() == [0, 1, 2, 3, 4]
    assert reason_customers(churn, frame, None).tolist() == [0, 1, 2, 3, 4]


def test_reasons_only_for_the_riskiest_by_value(scored):
    models, everyone, frame = scored
    assert reasons_note(len(frame), models.config) is None  # 600 customers < 100,000
    limit = 100
    few = dataclasses.replace(
        models, config=models.config.model_copy(update={"reason_rows": limit})
    )
    scores = score_customers(few, frame)
    assert "100 of 600 customers" in reasons_note(len(frame), few.config)
    # independently: pandas' nlargest keeps the first of tied rows too
    key = everyone["churn_probability"] * frame["monetary"].fillna(0).clip(lower=0)
    chosen = np.zeros(len(frame), dtype=bool)
    chosen[key.reset_index(drop=True).nlargest(limit, keep="first").index] = True
    reason_cols = ["reason_1", "reason_2", "reason_3"]
    # the chosen customers' reasons are those of scoring everyone
    pd.testing.assert_frame_equal(
        scores.loc[chosen, reason_cols], everyone.loc[chosen, reason_cols]
    )
    low = scores["low_confidence"].to_numpy(dtype=bool)
    rest = ~chosen & ~low
    assert rest.any() and (scores.loc[rest, reason_cols] == "").all().all()
    rest_low = ~chosen & low
    assert rest_low.any()
    beyond = (scores["confidence_tier"] == "out of range").to_numpy()
    assert scores.loc[rest_low & ~beyond, "reason_1"].str.startswith("few orders so far").all()
    assert scores.loc[rest_low & beyond, "reason_1"].str.startswith("recency ").all()
    assert (scores.loc[rest_low, ["reason_2", "reason_3"]] == "").all().all()
    # every other column is unchanged
    others = [c for c in scores.columns if c not in reason_cols]
    pd.testing.assert_frame_equal(scores[others], everyone[others])


@pytest.mark.parametrize("defaults", [None, {"churn": "btyd", "clv": "btyd"}])
def test_scoring_in_blocks_changes_nothing(scored, monkeypatch, defaults):
    from custlens.models import scoring

    models, everyone, frame = scored
    if defaults is not None:
        models = dataclasses.replace(models, defaults=defaults)
        everyone = score_customers(models, frame)  # one block: 600 customers
        assert (everyone["clv_source"] == "btyd").all()
    monkeypatch.setattr(scoring, "SCORE_BLOCK", 97)
    pd.testing.assert_frame_equal(score_customers(models, frame), everyone, check_exact=True)


def test_btyd_clv_not_finite_in_one_block_means_lightgbm_clv_for_all(scored, monkeypatch):
    from custlens.models import scoring

    models, everyone, frame = scored
    models = dataclasses.replace(models, defaults={"churn": "lightgbm", "clv": "btyd"})
    real = models.btyd.predict
    last = frame["customer_id"].iloc[-1]

    def predict(block, horizon, rate):
        out = real(block, horizon, rate).copy()
        if block["customer_id"].iloc[-1] == last:  # only the last block has a non-finite CLV
            out.iloc[-1, out.columns.get_loc("clv")] = np.inf
        return out

    monkeypatch.setattr(models.btyd, "predict", predict)
    monkeypatch.setattr(scoring, "SCORE_BLOCK", 97)
    scores = score_customers(models, frame)
    # customers beyond the training range keep their (finite) BTYD CLV: never LightGBM's
    beyond = (frame["recency_days"] > models.train_recency_max).to_numpy()
    assert beyond.any() and not beyond[-1]
    assert (scores.loc[~beyond, "clv_source"] == "lightgbm").all()
    assert (scores.loc[beyond, "clv_source"] == "btyd").all()
    np.testing.assert_array_equal(scores["clv"], everyone["clv"])  # the fixture's CLV
    assert "_lightgbm_clv" not in scores.columns


def test_reasons_say_whose_score_they_explain_when_a_baseline_scores_churn(scored):
    """CDNOW: the recency rule won the backtest and gave every established customer's churn
    probability, but reason_1..3 were LightGBM's SHAP reasons, unlabelled."""
    models, _, frame = scored
    baseline = score_customers(dataclasses.replace(models, defaults={"churn": "recency"}), frame)
    usual = score_customers(models, frame)
    confident = ~baseline["low_confidence"].to_numpy(bool)
    assert confident.any()
    first = baseline.loc[confident, "reason_1"]
    assert first.str.startswith(
        "churn probability from the recency rule, the scorer that won"
    ).all()
    # the LightGBM reasons follow it, one place later
    np.testing.assert_array_equal(
        baseline.loc[confident, "reason_2"].to_numpy(), usual.loc[confident, "reason_1"].to_numpy()
    )
    # LightGBM as the default: no such note
    assert not usual["reason_1"].str.startswith("churn probability from").any()
