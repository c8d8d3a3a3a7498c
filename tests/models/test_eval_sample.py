"""The backtest's metrics on a seeded sample of the evaluation customers (``[models]
eval_rows``), and BTYD scores computed once per distinct (x, t_x, T)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import roc_auc_score

from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models.backtest import BacktestData, backtest_customer_ids, make_backtest
from custlens.models.baselines import BtydBaseline, p_no_purchase, p_no_purchase_pareto
from custlens.models.churn import ChurnModel
from custlens.models.trainer import backtest_and_evaluate, evaluation_sample, sample_note


def _bt(n: int) -> BacktestData:
    ids = np.arange(n)
    frame = pd.DataFrame({"customer_id": ids, "x": ids * 2.0}, index=ids + 10)
    return BacktestData(cutoff=date(2024, 1, 1), horizon_days=90, frame=frame, feature_names=("x",))


def test_every_customer_up_to_the_cap_and_a_seeded_sample_above_it():
    small = _bt(1500)
    assert evaluation_sample(small, 1500, seed=3) is small
    assert evaluation_sample(small, None, seed=3) is small
    big = _bt(5000)
    part = evaluation_sample(big, 1200, seed=3)
    # the sample drawn here without the code under test: numpy's generator, sorted positions
    rows = np.sort(np.random.default_rng(3).choice(5000, size=1200, replace=False))
    assert part.frame["customer_id"].tolist() == rows.tolist()
    assert part.frame.index.tolist() == list(range(1200))
    assert np.array_equal(part.frame["x"].to_numpy(), rows * 2.0)  # rows stay whole
    assert (part.cutoff, part.horizon_days, part.feature_names) == (
        big.cutoff,
        big.horizon_days,
        big.feature_names,
    )


def test_sample_note_only_when_sampled():
    assert sample_note({"periods": {"eval_customers": 900}}) is None
    note = sample_note({"periods": {"eval_customers": 1_000_000, "eval_sample": 200_000}})
    assert note is not None and "200,000 of the 1,000,000" in note and "eval_rows" in note


@pytest.fixture(scope="module")
def purchases():
    data = synthetic(1500, seed=11)
    c = clean(load(data.orders).table, CleaningConfig())
    return c.purchases, c.returns


def test_metrics_are_those_of_the_sampled_customers(purchases):
    p, r = purchases
    config = ModelsConfig(n_estimators=30, eval_rows=1000)
    ev = backtest_and_evaluate(p, r, config=config, seed=5)
    full = ev.backtest.frame
    n = len(full)
    assert n > 1000
    periods = ev.metrics["periods"]
    assert periods["eval_customers"] == n and periods["eval_sample"] == 1000
    assert ev.metrics["notes"][0] == sample_note(ev.metrics)
    rows = full.iloc[np.sort(np.random.default_rng(5).choice(n, size=1000, replace=False))]
    y = rows["churned"].to_numpy("int64")
    churn = ev.metrics["churn"]
    raw = ev.models.churn.predict_raw(rows)
    assert churn["lightgbm_uncalibrated"]["roc_auc"] == pytest.approx(roc_auc_score(y, raw))
    recency = rows["recency_days"].to_numpy("float64")
    assert churn["recency"]["roc_auc"] == pytest.approx(roc_auc_score(y, recency))
    assert churn["lightgbm"]["n"] == 1000
    assert int(ev.tables["churn_lift"]["n"].sum()) == 1000
    # the BTYD models are still fitted on the whole evaluation period (no fit cap reached)
    for kind in ("bgnbd", "pareto_nbd"):
        if kind in ev.metrics["btyd"]:
            assert ev.metrics["btyd"][kind]["fit_customers"] == n
    by_freq = ev.tables["btyd_by_frequency"]
    assert int(by_freq["customers"].sum()) == 1000
    # without a cap reached, every customer is evaluated and nothing says otherwise
    everyone = backtest_and_evaluate(p, r, config=config.model_copy(update={"eval_rows": None}))
    assert "eval_sample" not in everyone.metrics["periods"]
    assert sample_note(everyone.metrics) is None
    assert everyone.metrics["churn"]["lightgbm"]["n"] == n


@pytest.mark.parametrize("kind", ["bgnbd", "pareto_nbd"])
def test_btyd_scores_per_distinct_triple_equal_those_per_customer(kind):
    rng = np.random.default_rng(4)
    n = 4000
    big_t = rng.integers(30, 200, size=n).astype(float)
    x = rng.poisson(1.2, size=n).astype(float)
    tx = np.where(x > 0, np.floor(rng.uniform(0.1, 1.0, size=n) * big_t), 0.0)
    m = np.where(x > 0, rng.gamma(3.0, 12.0, size=n), 0.0)
    frame = pd.DataFrame(
        {"btyd_frequency": x, "btyd_recency": tx, "btyd_T": big_t, "btyd_monetary": m}
    )
    assert len(np.unique(frame[["btyd_frequency", "btyd_recency", "btyd_T"]], axis=0)) < n
    btyd = BtydBaseline.fit(frame, kind=kind)
    out = btyd.predict(frame, 60, discount_rate=0.1)
    model = btyd.bg
    # each quantity computed per customer, straight from the model's own formulas
    alive = model.conditional_probability_alive(x, tx, big_t)
    churn = (
        p_no_purchase_pareto(model, x, tx, big_t, 60.0)
        if kind == "pareto_nbd"
        else p_no_purchase(model, x, tx, big_t, 60.0)
    )
    expected = model.conditional_expected_purchases(60.0, x, tx, big_t)
    np.testing.assert_allclose(out["p_alive"], alive, rtol=1e-13, atol=0)
    np.testing.assert_allclose(out["churn_probability"], churn, rtol=1e-13, atol=0)
    np.testing.assert_allclose(out["expected_purchases"], expected, rtol=1e-13, atol=0)
    assert out.index.equals(frame.index)


def test_remembered_p_alive_follows_the_rows_and_cannot_be_changed_from_outside():
    rng = np.random.default_rng(9)
    n = 3000
    big_t = rng.integers(30, 200, size=n).astype(float)
    x = rng.poisson(1.5, size=n).astype(float)
    tx = np.where(x > 0, np.floor(rng.uniform(0.1, 1.0, size=n) * big_t), 0.0)
    model = BtydBaseline.fit(
        pd.DataFrame(
            {"btyd_frequency": x, "btyd_recency": tx, "btyd_T": big_t, "btyd_monetary": x + 1}
        ),
        kind="pareto_nbd",
    ).bg
    first = model.conditional_probability_alive(x, tx, big_t)
    first[:] = -1.0  # the caller's copy only
    again = model.conditional_probability_alive(x, tx, big_t)
    assert (again >= 0).all()
    # other rows (even of the same length) are computed anew: here one customer each
    for i in (0, 1, 2):
        one = model.conditional_probability_alive(x[i : i + 1], tx[i : i + 1], big_t[i : i + 1])
        assert one[0] == pytest.approx(again[i], rel=1e-12)
    shifted = model.conditional_probability_alive(x, tx, big_t + 5.0)
    assert not np.allclose(shifted, again)


def test_backtest_of_some_customers_equals_those_rows_of_the_whole_backtest(purchases):
    p, r = purchases
    full = make_backtest(p, r, cutoff=None, horizon_days=90, config=ModelsConfig())
    ids = backtest_customer_ids(p, full.cutoff)
    assert ids.to_pylist() == full.frame["customer_id"].tolist()
    rows = np.sort(np.random.default_rng(2).choice(len(ids), size=300, replace=False))
    part = make_backtest(
        p,
        r,
        cutoff=full.cutoff,
        horizon_days=90,
        config=ModelsConfig(min_class=2),
        customers=ids.take(pa.array(rows)),
    )
    expected = full.frame.iloc[rows].reset_index(drop=True)
    pd.testing.assert_frame_equal(part.frame, expected, check_exact=True)


def test_training_on_the_sample_built_alone_gives_the_same_models(purchases):
    p, r = purchases
    config = ModelsConfig(n_estimators=30, max_train_rows=1000)
    ev = backtest_and_evaluate(p, r, config=config, seed=7)
    train_cutoff = date.fromisoformat(ev.metrics["periods"]["train_cutoff"])
    whole = make_backtest(p, r, cutoff=train_cutoff, horizon_days=90, config=config)
    n = len(whole.frame)
    assert n > 1000
    assert ev.metrics["periods"]["train_customers"] == ev.metrics["periods"]["train_rows"] == n
    assert ev.metrics["periods"]["lightgbm_train_rows"] == 1000
    # LightGBM's sample of the whole training backtest, drawn here without the code under test
    rows = whole.frame.iloc[np.sort(np.random.default_rng(7).choice(n, size=1000, replace=False))]
    direct = ChurnModel(config=config, seed=7).fit(
        rows.loc[:, list(whole.feature_names)], rows["churned"], rows["last_period_revenue"]
    )
    scored = ev.backtest.frame
    np.testing.assert_array_equal(ev.models.churn.predict_raw(scored), direct.predict_raw(scored))
