"""Honesty: nothing after the cutoff can reach a feature, even through cleaning.

Starting from RAW order lines (with cancellations that may pair across the cutoff), changing or
deleting every line after the cutoff must leave every backtest feature unchanged.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

import custlens
from custlens.config import Settings
from custlens.io.clean import clean
from custlens.models.backtest import make_backtest
from custlens.pipeline.stages.predictions import history_of

CUTOFF = date(2023, 6, 30)


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    return custlens.datasets.synthetic(700, seed=4).orders


def _features(orders: pd.DataFrame, history_orders: pd.DataFrame | None = None) -> pd.DataFrame:
    """Backtest features; the history function sees ``history_orders`` (default: ``orders``)."""
    settings = Settings()
    src = custlens.load(orders)
    past = custlens.load(history_orders) if history_orders is not None else src
    cleaned = clean(src.table, settings.cleaning)
    bt = make_backtest(
        cleaned.purchases,
        cleaned.returns,
        cutoff=CUTOFF,
        horizon_days=90,
        config=settings.models,
        history=history_of(past.table, settings),
    )
    return bt.features.set_index(bt.frame["customer_id"]).sort_index()


def test_changing_or_deleting_every_later_line_changes_no_feature(orders: pd.DataFrame) -> None:
    later = orders["InvoiceDate"] >= pd.Timestamp(CUTOFF + timedelta(days=1))
    assert later.sum() > 1000 and (~later).sum() > 1000
    baseline = _features(orders)

    deleted = _features(orders, history_orders=orders.loc[~later])
    pd.testing.assert_frame_equal(baseline, deleted)

    changed = orders.copy()
    changed.loc[later, "Quantity"] = -changed.loc[later, "Quantity"]  # every later line a return
    changed.loc[later, "UnitPrice"] = changed.loc[later, "UnitPrice"] * 10
    changed.loc[later, "InvoiceNo"] = "C" + changed.loc[later, "InvoiceNo"].astype(str)
    pd.testing.assert_frame_equal(baseline, _features(orders, history_orders=changed))


def test_whole_period_cleaning_alone_would_leak(orders: pd.DataFrame) -> None:
    """The guard is needed: a later cancellation that offsets an earlier purchase changes the
    features when cleaning sees the whole period (this is what ``history`` prevents)."""
    later = orders["InvoiceDate"] >= pd.Timestamp(CUTOFF + timedelta(days=1))
    # a purchase close enough to the cancellation for the offsetting-pair rule (30-day window)
    recent = orders["InvoiceDate"] >= pd.Timestamp(CUTOFF - timedelta(days=20))
    early_purchase = orders.loc[~later & recent & (orders["Quantity"] > 0)].iloc[0]
    cancel = early_purchase.copy()
    cancel["InvoiceNo"] = "C999999"
    cancel["Quantity"] = -early_purchase["Quantity"]
    cancel["InvoiceDate"] = pd.Timestamp(CUTOFF + timedelta(days=2))
    with_cancel = pd.concat([orders, cancel.to_frame().T.astype(orders.dtypes)], ignore_index=True)

    settings = Settings()

    def naive(frame: pd.DataFrame) -> pd.DataFrame:
        cleaned = clean(custlens.load(frame).table, settings.cleaning)
        bt = make_backtest(
            cleaned.purchases, cleaned.returns, cutoff=CUTOFF, config=settings.models
        )
        return bt.features.set_index(bt.frame["customer_id"]).sort_index()

    assert not naive(orders).equals(naive(with_cancel))
    pd.testing.assert_frame_equal(_features(orders), _features(with_cancel))


def _stacked(orders: pd.DataFrame, history_orders: pd.DataFrame, eval_cutoff: date):
    """The stacked training backtests of an evaluation at ``eval_cutoff`` (features, labels)."""
    from custlens.models.trainer import stacked_backtests

    settings = Settings()
    cfg = settings.models.model_copy(
        update={"stack_cutoffs": 4, "stack_step_days": 30, "stack_month_feature": True}
    )
    cleaned = clean(custlens.load(orders).table, settings.cleaning)
    history = history_of(custlens.load(history_orders).table, settings)
    last = eval_cutoff - timedelta(days=cfg.horizon_days)
    return stacked_backtests(cleaned.purchases, cleaned.returns, last, cfg, history)


def test_stacked_training_cutoffs_see_nothing_of_the_evaluation_period(orders: pd.DataFrame):
    """Every stacked training cutoff's features come only from lines before it, and its labels
    end by the evaluation cutoff: deleting (or turning into returns) every line after the
    evaluation cutoff changes no training row, and each cutoff's features ignore later lines."""
    eval_cutoff = CUTOFF
    bts = _stacked(orders, orders, eval_cutoff)
    assert [b.cutoff for b in bts] == [eval_cutoff - timedelta(days=90 + 30 * i) for i in range(4)]
    assert all(b.cutoff + timedelta(days=b.horizon_days) <= eval_cutoff for b in bts)
    assert {float(b.frame["cutoff_month"].iloc[0]) for b in bts} == {
        float(b.cutoff.month) for b in bts
    }
    future = orders["InvoiceDate"] >= pd.Timestamp(eval_cutoff + timedelta(days=1))
    kept = orders.loc[~future]
    for other in (_stacked(kept, kept, eval_cutoff),):
        for a, b in zip(bts, other, strict=True):
            pd.testing.assert_frame_equal(a.frame, b.frame)
    oldest = bts[-1].cutoff
    after_oldest = orders["InvoiceDate"] >= pd.Timestamp(oldest + timedelta(days=1))
    changed = orders.copy()
    changed.loc[after_oldest, "UnitPrice"] = changed.loc[after_oldest, "UnitPrice"] * 10
    changed.loc[after_oldest, "InvoiceNo"] = "C" + changed.loc[after_oldest, "InvoiceNo"].astype(
        str
    )
    changed.loc[after_oldest, "Quantity"] = -changed.loc[after_oldest, "Quantity"]
    # the history (what was knowable) is the changed log: the oldest cutoff's features must not move
    alt = _stacked(orders, changed, eval_cutoff)
    pd.testing.assert_frame_equal(bts[-1].features, alt[-1].features)
