"""The evaluation backtest built for the customers its samples use (``trainer.evaluation_rows``)
gives the same evaluation as the whole backtest; ``BacktestData.sample`` draws a seeded sample
of the whole backtest's customers from a frame that holds only some of them."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.isotonic import IsotonicRegression

from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.errors import DataError
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models import trainer
from custlens.models.backtest import BacktestData, backtest_population, make_backtest
from custlens.models.scoring import refit


def _draw(n: int, size: int, seed: int) -> np.ndarray:
    """A seeded sample drawn here without the code under test: numpy's generator, sorted."""
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def _whole(n: int) -> BacktestData:
    ids = np.arange(n)
    frame = pd.DataFrame({"customer_id": ids, "x": ids * 2.0}, index=ids + 10)
    return BacktestData(cutoff=date(2024, 1, 1), horizon_days=90, frame=frame, feature_names=("x",))


def test_sample_of_the_whole_backtest():
    whole = _whole(5000)
    part = whole.sample(1200, seed=3)
    assert part["customer_id"].tolist() == _draw(5000, 1200, 3).tolist()
    assert whole.sample(None, seed=3) is whole.frame
    assert whole.sample(5000, seed=3) is whole.frame


def test_sample_from_a_frame_holding_some_customers_equals_the_whole_ones():
    whole = _whole(5000)
    rows = np.union1d(_draw(5000, 1200, 3), np.arange(0, 5000, 7))
    some = BacktestData(
        cutoff=whole.cutoff,
        horizon_days=90,
        frame=whole.frame.iloc[rows],
        feature_names=("x",),
        population=5000,
        rows=rows,
    )
    assert some.customers == 5000
    got = some.sample(1200, seed=3)
    assert got["customer_id"].tolist() == _draw(5000, 1200, 3).tolist()
    assert np.array_equal(got["x"].to_numpy(), _draw(5000, 1200, 3) * 2.0)
    with pytest.raises(DataError, match="not the seeded sample"):
        some.sample(1200, seed=4)  # another sample: not all its customers are held
    with pytest.raises(DataError):
        some.sample(None, seed=3)  # every customer is asked for


def test_evaluation_rows_are_the_union_of_the_four_samples():
    config = ModelsConfig(eval_rows=2000, btyd_fit_rows=1000, shap_rows=500, max_train_rows=1500)
    got = trainer.evaluation_rows(5000, config, seed=7)
    expected = set(_draw(5000, 2000, 7)) | set(_draw(5000, 1000, 0))  # BTYD: seed 0
    expected |= set(_draw(5000, 500, 7)) | set(_draw(5000, 1500, 7))
    assert got is not None and got.tolist() == sorted(expected)
    # a cap not reached, or several training cutoffs: every customer
    assert trainer.evaluation_rows(1800, config, seed=7) is None
    assert trainer.evaluation_rows(5000, config.model_copy(update={"eval_rows": None}), 7) is None
    stacked = config.model_copy(update={"stack_cutoffs": 2})
    assert trainer.evaluation_rows(5000, stacked, seed=7) is None


@pytest.fixture(scope="module")
def lines():
    data = synthetic(4000, seed=21)
    c = clean(load(data.orders).table, CleaningConfig())
    return c.purchases, c.returns


CONFIG = ModelsConfig(
    n_estimators=30, eval_rows=1000, btyd_fit_rows=1000, shap_rows=300, max_train_rows=1000
)


def _json(x: object) -> str:
    return json.dumps(x, sort_keys=True, default=str)


def test_a_bound_within_the_caps_builds_the_backtests_without_counting(lines, monkeypatch):
    """``customers_at_most`` at or below a cap: every sample keeps everyone, so neither the
    evaluation's nor LightGBM's customers are counted first; the evaluation is the same."""
    p, r = lines
    config = CONFIG.model_copy(update={"max_train_rows": 10_000, "eval_rows": 10_000})
    counted = trainer.backtest_and_evaluate(p, r, config=config, seed=5)
    n = counted.metrics["periods"]["eval_customers"]

    def refuse(*args, **kwargs):
        raise AssertionError("customers counted")

    monkeypatch.setattr(trainer, "backtest_population", refuse)
    monkeypatch.setattr(trainer, "backtest_customer_ids", refuse)
    bounded = trainer.backtest_and_evaluate(p, r, config=config, seed=5, customers_at_most=n)
    assert bounded.backtest.rows is None and len(bounded.backtest.frame) == n
    assert _json(bounded.metrics) == _json(counted.metrics)
    assert bounded.importance == counted.importance
    for name, table in counted.tables.items():
        pd.testing.assert_frame_equal(bounded.tables[name], table, check_exact=True)
    # a bound above every cap counts them (the backtest is built for the samples' customers)
    with pytest.raises(AssertionError, match="customers counted"):
        trainer.backtest_and_evaluate(p, r, config=CONFIG, seed=5, customers_at_most=10_001)


def test_evaluation_on_some_customers_equals_the_evaluation_on_all(lines, monkeypatch):
    p, r = lines
    seed = 5
    some = trainer.backtest_and_evaluate(p, r, config=CONFIG, seed=seed)
    bt = some.backtest
    whole = make_backtest(p, r, cutoff=bt.cutoff, horizon_days=90, config=CONFIG)
    n = len(whole.frame)
    assert bt.population == n and bt.rows is not None and 1000 < len(bt.frame) < n
    pd.testing.assert_frame_equal(
        bt.frame.reset_index(drop=True),
        whole.frame.iloc[bt.rows].reset_index(drop=True),
        check_exact=True,
    )
    ids, first = backtest_population(p, bt.cutoff)
    assert ids.to_pylist() == whole.frame["customer_id"].tolist()
    assert first == min(whole.frame["first_order"])
    assert some.metrics["periods"]["eval_customers"] == n
    # the same evaluation, built from the whole backtest
    monkeypatch.setattr(trainer, "evaluation_rows", lambda *a, **k: None)
    full = trainer.backtest_and_evaluate(p, r, config=CONFIG, seed=seed)
    assert full.backtest.rows is None and len(full.backtest.frame) == n
    assert _json(some.metrics) == _json(full.metrics)
    assert some.importance == full.importance
    assert some.tables.keys() == full.tables.keys()
    for name, table in full.tables.items():
        pd.testing.assert_frame_equal(some.tables[name], table, check_exact=True)
    # the refit reuses the backtest (its cutoff is the refit's): the same LightGBM models
    a = refit(p, r, config=CONFIG, seed=seed, known=(bt,))
    b = refit(p, r, config=CONFIG, seed=seed, known=(full.backtest,))
    assert a.train_cutoff == bt.cutoff
    X = whole.frame
    np.testing.assert_array_equal(a.churn.predict_raw(X), b.churn.predict_raw(X))
    np.testing.assert_array_equal(a.clv.predict(X), b.clv.predict(X))
    # the score maps learn from LightGBM's sample of the whole backtest
    rows = whole.frame.iloc[_draw(n, 1000, seed)]
    y = rows["churned"].to_numpy("float64")
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    iso.fit(rows["recency_days"].to_numpy("float64"), y)
    grid = np.linspace(0, 800, 81)
    np.testing.assert_allclose(a.score_maps["recency"].predict(grid), iso.predict(grid))
    np.testing.assert_allclose(b.score_maps["recency"].predict(grid), iso.predict(grid))
