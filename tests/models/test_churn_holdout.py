"""The churn model's held-out part (calibration and threshold) with rare classes: rows grouped
by customer (stacked cutoffs) are held out stratified by the customers' classes, and a held-out
part with too few of a class keeps the raw scores with a note instead of crashing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models.churn import ChurnModel, _group_split, calibration_note
from custlens.models.model_card import render_model_card
from custlens.models.trainer import backtest_and_evaluate

CFG = ModelsConfig(n_estimators=20, min_child_samples=5)
N_GROUPS, CUTOFFS = 200, 2  # 200 customers, each a row at 2 stacked cutoffs


def _stacked(churning: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features, labels and customer ids: customers 0 .. churning-1 churned at both cutoffs."""
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(N_GROUPS), CUTOFFS).astype(str)
    X = pd.DataFrame(
        {
            "recency_days": rng.uniform(0, 365, len(groups)),
            "frequency": rng.integers(1, 20, len(groups)).astype(float),
        }
    )
    y = np.isin(groups, np.arange(churning).astype(str)).astype(int)
    return X, y, groups


@pytest.mark.parametrize("seed", [1, 3, 4])
def test_two_churning_customers_never_crash_the_calibration(seed):
    # With the old split (a seeded 25% of the customers, ignoring their classes) seeds 1, 3
    # and 4 held out neither churning customer: calibration on one class raised ValueError.
    X, y, groups = _stacked(churning=2)
    model = ChurnModel(config=CFG, seed=seed).fit(X, y, groups=groups)
    report = model.calibration_report_
    # by hand: the stratum of the 2 churning customers gives max(1, round(0.25 * 2)) = 1
    # customer (2 rows); the 198 others give round(0.25 * 198) = round(49.5) = 50 (100 rows)
    assert report["holdout_n"] == 102
    assert report["chosen"] == "none" and model.calibrator_ is None
    assert "hold 2 churners and 100 non-churners" in report["skipped"]
    assert "fewer than the 10 of each" in report["skipped"]
    assert set(report["holdout_brier"]) == {"none"}
    note = calibration_note(model)
    assert note is not None and note.startswith("churn model: calibration skipped: the 102")
    p = model.predict_proba(X)
    np.testing.assert_array_equal(p, model.predict_raw(X))  # raw scores, no calibration


def test_a_single_churning_row_without_groups_does_not_crash():
    # scikit-learn cannot stratify a class of one row (the old code raised ValueError)
    X, _, _ = _stacked(churning=0)
    y = np.zeros(len(X), dtype=int)
    y[7] = 1
    model = ChurnModel(config=CFG, seed=0).fit(X, y)
    report = model.calibration_report_
    # by hand: the lone churner's stratum (1 row) gives none; round(0.25 * 399) = 100 rows
    assert report["holdout_n"] == 100
    assert "hold 0 churners and 100 non-churners" in report["skipped"]
    assert "rests on one class only" in report["skipped"]
    assert model.threshold_.contact_nobody  # no churner held out: no contact pays


def test_the_group_split_is_stratified_disjoint_and_seeded():
    X, y, groups = _stacked(churning=40)
    fit, hold = _group_split(y, groups, 0.25, seed=3)
    assert set(groups[fit]).isdisjoint(groups[hold])
    assert len(fit) + len(hold) == len(y)
    # 40 churning customers -> 10 held out (20 rows); 160 others -> 40 (80 rows)
    assert y[hold].sum() == 20 and len(hold) == 100
    again = _group_split(y, groups, 0.25, seed=3)
    np.testing.assert_array_equal(hold, again[1])
    assert not np.array_equal(hold, _group_split(y, groups, 0.25, seed=4)[1])
    # a customer who churned at one cutoff only is a stratum of its own (both classes)
    mixed = y.copy()
    mixed[np.flatnonzero(groups == "150")[0]] = 1
    mixed[np.flatnonzero(groups == "151")[0]] = 1
    fit, hold = _group_split(mixed, groups, 0.25, seed=3)
    assert len({"150", "151"} & set(groups[hold])) == 1  # max(1, round(0.5)) = 1 of the 2
    assert len({"150", "151"} & set(groups[fit])) == 1
    # 20 churner rows held out, >= min_class 10: a calibration is still chosen
    model = ChurnModel(config=CFG, seed=3).fit(X, y, groups=groups)
    assert "skipped" not in model.calibration_report_
    assert set(model.calibration_report_["holdout_brier"]) == {"none", "sigmoid", "isotonic"}
    assert calibration_note(model) is None


def test_stacked_backtest_notes_a_skipped_calibration():
    # 2 stacked cutoffs of ~280 customers each with 112 and 119 non-churners (counted from
    # make_backtest): min_class 100 lets both backtests through, while the held-out quarter
    # of the customers holds about 2 x 0.25 x 115 ~ 58 non-churner rows, fewer than 100
    c = clean(load(synthetic(300, seed=5).orders).table, CleaningConfig())
    cfg = ModelsConfig(n_estimators=20, stack_cutoffs=2, min_class=100)
    ev = backtest_and_evaluate(c.purchases, c.returns, config=cfg)
    assert len(ev.metrics["periods"]["train_cutoffs"]) == 2
    cal = ev.metrics["churn"]["calibration"]
    assert cal["chosen"] == "none" and "fewer than the 100 of each" in cal["skipped"]
    assert any(
        n.startswith("backtest churn model: calibration skipped") for n in ev.metrics["notes"]
    )
    assert "Calibration: **none** (skipped: the " in render_model_card(ev)
