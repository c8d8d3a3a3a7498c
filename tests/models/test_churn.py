"""Churn on synthetic data whose truth knows who buys again; calibration choice; default rule;
the BG/NBD no-purchase probability against a simulation."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models.backtest import make_backtest
from custlens.models.baselines import p_no_purchase
from custlens.models.btyd import BetaGeoModel
from custlens.models.churn import ChurnModel, choose_calibration
from custlens.models.trainer import backtest_and_evaluate, choose_default

CFG = ModelsConfig(n_estimators=100, learning_rate=0.09)


@pytest.fixture(scope="module")
def evaluated():
    data = synthetic(1500, seed=21)
    c = clean(load(data.orders).table, CleaningConfig())
    cutoff = data.cutoff - timedelta(days=1)  # truth counts orders dated >= data.cutoff
    horizon = (data.end - cutoff).days
    cfg = CFG.model_copy(update={"horizon_days": horizon})
    return backtest_and_evaluate(c.purchases, c.returns, cutoff=cutoff, config=cfg), data, c


def test_churn_beats_chance_and_the_recency_rule(evaluated):
    ev, _, _ = evaluated
    churn = ev.metrics["churn"]
    assert churn["lightgbm"]["roc_auc"] > 0.8
    # stated margin: LightGBM within 0.02 of the recency rule or better
    assert churn["lightgbm"]["roc_auc"] > churn["recency"]["roc_auc"] - 0.02
    assert set(churn) >= {"btyd", "last_period", "recency", "threshold", "calibration"}
    assert (
        ev.metrics["periods"]["train_cutoff"]
        == (ev.eval_cutoff - timedelta(ev.horizon_days)).isoformat()
    )


def test_churn_against_the_synthetic_truth(evaluated):
    ev, data, c = evaluated
    bt = make_backtest(c.purchases, c.returns, cutoff=ev.eval_cutoff, horizon_days=ev.horizon_days)
    p = ev.models.churn.predict_proba(bt.features)
    truth = data.truth.set_index("customer_id").loc[bt.frame["customer_id"]]
    never = (~truth["buys_after_cutoff"]).to_numpy()
    # labels from the cleaned data agree with the truth for nearly everyone
    assert (bt.frame["churned"].to_numpy() == never).mean() > 0.97
    assert roc_auc_score(never, p) > 0.8


def test_training_is_deterministic(evaluated):
    _, _, c = evaluated
    bt = make_backtest(c.purchases, c.returns, horizon_days=90)
    a = (
        ChurnModel(config=CFG, seed=3)
        .fit(bt.features, bt.frame["churned"])
        .predict_proba(bt.features)
    )
    b = (
        ChurnModel(config=CFG, seed=3)
        .fit(bt.features, bt.frame["churned"])
        .predict_proba(bt.features)
    )
    np.testing.assert_array_equal(a, b)


def test_calibration_is_chosen_only_when_it_helps():
    rng = np.random.default_rng(5)
    true_p = rng.uniform(0, 1, 4000)
    y = (rng.uniform(size=4000) < true_p).astype(int)
    report = choose_calibration(true_p, y, seed=1)  # already calibrated
    assert report["chosen"] == "none"
    squashed = true_p**3  # badly calibrated, same ranking
    report = choose_calibration(squashed, y, seed=1)
    assert report["chosen"] in ("sigmoid", "isotonic")
    assert report["holdout_brier"]["none"] == pytest.approx(brier_score_loss(y, squashed))
    assert min(report["holdout_brier"].values()) < report["holdout_brier"]["none"]


def test_choose_default_prefers_a_better_baseline():
    metrics = {
        "churn": {"lightgbm": {"roc_auc": 0.70}, "recency": {"roc_auc": 0.74}},
        "clv": {"lightgbm": {"spearman": 0.5}, "last_period": {"spearman": 0.49}},
    }
    assert choose_default(metrics) == {"churn": "recency", "clv": "lightgbm"}
    assert choose_default(metrics, margin=0.05) == {"churn": "lightgbm", "clv": "lightgbm"}


def test_bgnbd_no_purchase_probability_matches_a_simulation():
    r, alpha, a, b = 0.6, 10.0, 0.8, 2.5
    bg = BetaGeoModel.from_params(r, alpha, a, b)
    rng = np.random.default_rng(0)
    n, big_t, t = 200_000, 30.0, 20.0
    lam, p = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    # simulate each customer over (0, T + t]; record x, t_x in (0, T] and any purchase after T
    x, tx, later = np.zeros(n), np.zeros(n), np.zeros(n, bool)
    clock, alive = np.zeros(n), np.ones(n, bool)
    while alive.any():
        clock[alive] += rng.exponential(1 / lam[alive])
        step = alive & (clock <= big_t + t)
        in_cal = step & (clock <= big_t)
        x[in_cal] += 1
        tx[in_cal] = clock[in_cal]
        later |= step & (clock > big_t)
        dropped = step & (rng.uniform(size=n) < p)
        alive = step & ~dropped & ~(clock > big_t)
    key = (x == 2) & (tx > 10) & (tx <= 20)  # one history cell, compare the mean
    expected = p_no_purchase(bg, x[key], tx[key], np.full(key.sum(), big_t), t).mean()
    assert (~later[key]).mean() == pytest.approx(expected, abs=0.015)


def test_scores_do_not_depend_on_the_scoring_threads(evaluated):
    ev, _, c = evaluated
    bt = make_backtest(c.purchases, c.returns, cutoff=ev.eval_cutoff, horizon_days=ev.horizon_days)
    X, models = bt.features, ev.models
    churn_names, clv_names = models.churn.feature_names_, models.clv.feature_names_
    one_thread = {
        "churn": models.churn.model_.predict_proba(X[churn_names], num_threads=1)[:, 1],
        "contributions": models.churn.model_.booster_.predict(
            X[churn_names], pred_contrib=True, num_threads=1
        )[:, :-1],
        "clv": models.clv.model_.predict(X[clv_names], num_threads=1),
    }
    many = {"churn": models.churn.predict_raw(X), "clv": models.clv.predict(X)}
    many["contributions"] = models.churn.contributions(X).to_numpy()
    for name, expected in one_thread.items():
        np.testing.assert_array_equal(many[name], expected, err_msg=name)
