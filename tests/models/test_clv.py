"""CLV: the Tweedie model on a known generating process, discounting by hand, and the
evaluation of CLV beside the baselines on synthetic data (with the model card and charts)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from custlens.charts.models import model_charts
from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models.clv import ClvModel
from custlens.models.model_card import render_model_card
from custlens.models.trainer import backtest_and_evaluate

CFG = ModelsConfig(n_estimators=100, learning_rate=0.09)


def test_tweedie_model_recovers_a_known_mean():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.uniform(0, 1, 3000), "noise": rng.uniform(0, 1, 3000)})
    mean = 50 * np.exp(2 * X["a"])  # E[revenue] grows with a
    buys = rng.uniform(size=3000) < 0.4
    y = np.where(buys, rng.gamma(2.0, mean / 2.0 / 0.4), 0.0)  # many zeros, long tail
    pred = ClvModel(config=CFG, seed=1).fit(X, y).predict(X)
    assert spearmanr(pred, mean).statistic > 0.9
    assert pred.mean() == pytest.approx(y.mean(), rel=0.1)
    disc = ClvModel(config=CFG, seed=1).fit(X, y).discounted(X, 90, 0.1)
    np.testing.assert_allclose(disc, pred * 1.1 ** (-45 / 365.25))


def test_clv_against_baselines_on_synthetic_data():
    data = synthetic(1200, seed=31)
    c = clean(load(data.orders).table, CleaningConfig())
    cutoff = data.cutoff - timedelta(days=1)
    cfg = CFG.model_copy(update={"horizon_days": (data.end - cutoff).days})
    ev = backtest_and_evaluate(c.purchases, c.returns, cutoff=cutoff, config=cfg)
    clv = ev.metrics["clv"]
    assert clv["lightgbm"]["spearman"] > 0.5
    assert clv["lightgbm"]["top_decile_capture"] > 0.4
    # honest comparison: LightGBM within 0.05 of the last-period value forecast or better
    assert clv["lightgbm"]["spearman"] > clv["last_period"]["spearman"] - 0.05
    # against the generator's truth (spend after the cutoff, net of returns)
    features, ids = _eval_features(ev, c)
    pred = ev.models.clv.predict(features)
    truth = data.truth.set_index("customer_id").loc[ids, "spend_after_cutoff"]
    assert spearmanr(pred, truth).statistic > 0.5
    text = render_model_card(ev)
    assert "| LightGBM |" in text and "Recency rule" in text and "top-decile capture" in text
    assert set(model_charts(ev)) == {
        "churn_gains",
        "clv_gains",
        "churn_calibration",
        "churn_shap",
        "btyd_by_frequency",
        "btyd_tracking",
    }
    assert "## BTYD models (BG/NBD, Pareto/NBD)" in text
    assert all(chart.to_dict() for chart in model_charts(ev).values())


def _eval_features(ev, c):
    from custlens.models.backtest import make_backtest

    bt = make_backtest(c.purchases, c.returns, cutoff=ev.eval_cutoff, horizon_days=ev.horizon_days)
    return bt.features, bt.frame["customer_id"].tolist()
