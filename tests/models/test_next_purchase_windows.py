"""Next-purchase labels with fewer than three windows: two windows give a binary model (the
third window has probability 0), one window is a DataError for the estimator and a skipped
model with a note in training (the evaluation and the final scores then have no window)."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pandas as pd
import pytest

from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.errors import DataError
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models.backtest import make_backtest
from custlens.models.next_purchase import NextPurchaseModel
from custlens.models.scoring import score_customers
from custlens.models.trainer import evaluate, train

CONFIG = ModelsConfig(n_estimators=20, min_child_samples=5)


def test_two_windows_give_a_binary_model_that_never_predicts_the_third():
    x = np.arange(200, dtype="float64")
    X = pd.DataFrame({"days_between": x})
    window = np.where(x < 100, 1, 2)  # no customer in window 0
    proba = NextPurchaseModel(config=CONFIG).fit(X, window).predict_proba(X)
    assert proba.shape == (200, 3)
    assert (proba[:, 0] == 0).all()
    assert np.allclose(proba.sum(axis=1), 1.0)
    # the rule is a clean split on the one feature: the model recovers it
    assert (proba.argmax(axis=1) == window).all()


def test_a_single_window_is_a_data_error():
    X = pd.DataFrame({"days_between": np.arange(50, dtype="float64")})
    with pytest.raises(DataError, match="'later or never'"):
        NextPurchaseModel(config=CONFIG).fit(X, np.full(50, 2))


@pytest.fixture(scope="module")
def backtest():
    c = clean(load(synthetic(300, seed=4).orders).table, CleaningConfig())
    bt = make_backtest(c.purchases, c.returns, horizon_days=90, config=CONFIG)
    windows = set(bt.frame["next_window"])
    assert windows == {0, 1, 2}  # the data have every window; the tests remove some
    return bt


def _with_windows(bt, windows):
    return dataclasses.replace(bt, frame=bt.frame.assign(next_window=windows))


def test_training_on_one_window_skips_the_model_with_a_note(backtest, caplog):
    bt = _with_windows(backtest, 2)  # e.g. every next order after the last edge
    with caplog.at_level(logging.WARNING, logger="custlens"):
        models = train(bt, CONFIG, seed=1)
    assert models.next_purchase is None
    skipped = [r.getMessage() for r in caplog.records if "next-purchase" in r.getMessage()]
    assert len(skipped) == 1
    assert (
        f"of every one of the {len(bt.frame)} training customers fell in 'later or never'"
        in (skipped[0])
    )
    metrics, _ = evaluate(models, backtest, np.array([0.0, 0.0, 1.0]))
    assert "next_purchase" not in metrics and "churn" in metrics
    scores = score_customers(models, backtest.frame)
    assert "next_purchase_window" not in scores.columns
    assert scores["churn_probability"].between(0, 1).all()


def test_training_on_two_windows_notes_the_one_never_predicted(backtest, caplog):
    two = backtest.frame["next_window"].replace({0: 1})
    with caplog.at_level(logging.WARNING, logger="custlens"):
        models = train(_with_windows(backtest, two), CONFIG, seed=1)
    assert models.next_purchase is not None
    assert models.next_purchase.model_.classes_.tolist() == [1, 2]
    notes = [r.getMessage() for r in caplog.records if "next-purchase" in r.getMessage()]
    assert len(notes) == 1 and "'0-30 days'" in notes[0] and "never predicts" in notes[0]
    metrics, _ = evaluate(models, backtest, np.array([0.0, 0.5, 0.5]))
    block = metrics["next_purchase"]["lightgbm"]
    assert 0 <= block["accuracy"] <= 1 and np.isfinite(block["log_loss"])
    windows = score_customers(models, backtest.frame)["next_purchase_window"]
    assert set(windows) <= {"31-90 days", "later or never"}
