"""make_backtest: nothing after the cutoff reaches the features, labels recomputed with pandas,
a hand example, and the bad-input errors."""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
import pytest

from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.errors import DataError
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models.backtest import make_backtest
from custlens.models.model_rows import BTYD_COLUMNS, PERIOD_COLUMNS

H = 60


@pytest.fixture(scope="module")
def cleaned():
    data = synthetic(300, seed=11)
    c = clean(load(data.orders).table, CleaningConfig())
    return c.purchases, c.returns, data


def _inputs(bt):
    return bt.frame[["customer_id", *bt.feature_names, *BTYD_COLUMNS, *PERIOD_COLUMNS]]


def test_nothing_after_the_cutoff_changes_a_feature(cleaned):
    purchases, returns, data = cleaned
    cutoff = data.cutoff - timedelta(days=100)
    base = make_backtest(purchases, returns, cutoff=cutoff, horizon_days=H)
    after_p = purchases.order_ts.date() > ibis.literal(cutoff, type="date")
    after_r = returns.order_ts.date() > ibis.literal(cutoff, type="date")
    # 1. every later order changed: ten times the quantity and amount, another customer id
    changed_p = purchases.mutate(
        quantity=after_p.ifelse(purchases.quantity * 10.0, purchases.quantity),
        amount=after_p.ifelse(purchases.amount * 10.0, purchases.amount),
        customer_id=after_p.ifelse("99999", purchases.customer_id),
    )
    changed_r = returns.mutate(amount=after_r.ifelse(returns.amount * 10.0, returns.amount))
    changed = make_backtest(
        changed_p, changed_r, cutoff=cutoff, horizon_days=H, check_classes=False
    )
    keep = changed.frame["customer_id"] != "99999"
    pd.testing.assert_frame_equal(
        _inputs(base), _inputs(changed)[keep.to_numpy()].reset_index(drop=True)
    )
    # 2. every later order deleted (labels need a horizon inside the data: keep one late line)
    last_line = purchases.order_by(ibis.desc("order_ts")).limit(1)
    deleted_p = purchases.filter(~after_p).union(last_line)
    deleted = make_backtest(
        deleted_p, returns.filter(~after_r), cutoff=cutoff, horizon_days=H, check_classes=False
    )
    pd.testing.assert_frame_equal(_inputs(base), _inputs(deleted).reset_index(drop=True))
    # and the labels did change, so the comparison had something to detect
    assert not base.frame["future_revenue"].equals(changed.frame.loc[keep, "future_revenue"])


def test_labels_match_an_independent_pandas_computation(cleaned):
    purchases, returns, data = cleaned
    cutoff = data.cutoff - timedelta(days=30)
    bt = make_backtest(purchases, returns, cutoff=cutoff, horizon_days=H)
    lines = purchases.to_pandas()
    day = lines["order_ts"].dt.normalize()
    c0 = pd.Timestamp(cutoff)
    seen = lines[day <= c0]
    fut = lines[(day > c0) & (day <= c0 + pd.Timedelta(days=H))].copy()
    fut["day"] = fut["order_ts"].dt.normalize()
    g = fut.groupby("customer_id")
    exp = pd.DataFrame(
        {
            "future_orders": g["order_id"].nunique(),
            "future_revenue": g["amount"].sum(),
            "days_to_next": (g["day"].min() - c0).dt.days,
        }
    ).reindex(sorted(seen["customer_id"].unique()))
    got = bt.frame.set_index("customer_id")
    assert list(got.index) == list(exp.index)
    np.testing.assert_array_equal(got["future_orders"], exp["future_orders"].fillna(0))
    np.testing.assert_allclose(got["future_revenue"], exp["future_revenue"].fillna(0.0))
    np.testing.assert_array_equal(
        got["days_to_next"].to_numpy("float64", na_value=np.nan), exp["days_to_next"]
    )
    assert (got["churned"] == exp["future_orders"].isna()).all()
    past = seen[day[day <= c0] > c0 - pd.Timedelta(days=H)].groupby("customer_id")["amount"].sum()
    np.testing.assert_allclose(got["last_period_revenue"], past.reindex(exp.index).fillna(0.0))


def test_btyd_summary_columns_match_an_independent_pandas_computation(cleaned):
    purchases, returns, data = cleaned
    cutoff = data.cutoff - timedelta(days=45)
    bt = make_backtest(purchases, returns, cutoff=cutoff, horizon_days=H)
    lines = purchases.to_pandas()
    lines["day"] = lines["order_ts"].dt.normalize()
    c0 = pd.Timestamp(cutoff)
    seen = lines[lines["day"] <= c0]
    totals = seen.groupby(["customer_id", "day"])["amount"].sum().reset_index()
    exp = {}
    for cid, g in totals.groupby("customer_id"):
        g = g.sort_values("day")
        first, last, x = g["day"].iloc[0], g["day"].iloc[-1], len(g) - 1
        exp[cid] = (
            float(x),
            float((last - first).days) if x else 0.0,
            float((c0 - first).days),
            float(g["amount"].iloc[1:].mean()) if x else 0.0,
        )
    got = bt.frame.set_index("customer_id")
    assert sorted(exp) == list(got.index)
    want = pd.DataFrame.from_dict(exp, orient="index", columns=list(BTYD_COLUMNS))
    np.testing.assert_allclose(got[list(BTYD_COLUMNS)], want.loc[got.index], rtol=1e-9)
    # the frame is one row per customer in customer_id order, with a plain row index
    assert bt.frame.index.equals(pd.RangeIndex(len(bt.frame)))


def _tiny() -> ibis.Table:
    rows = []
    # 60 customers: c00..c59; even customers buy again 10 (c < 20) or 45 days after the cutoff
    for i in range(60):
        rows.append((f"c{i:02d}", f"o{i}a", "2024-01-05 10:00", 10.0))
        if i % 2 == 0:
            later = "2024-03-11 09:00" if i < 20 else "2024-04-15 09:00"
            rows.append((f"c{i:02d}", f"o{i}b", later, 20.0))
    rows.append(("c01", "o1z", "2024-05-30 12:00", 5.0))  # after the horizon: ignored
    df = pd.DataFrame(rows, columns=["customer_id", "order_id", "order_ts", "amount"])
    df["order_ts"] = pd.to_datetime(df["order_ts"])
    df["quantity"] = 1.0
    df["unit_price"] = df["amount"]
    return ibis.memtable(df)


def test_hand_example_labels_and_windows():
    # cutoff 2024-03-01, horizon 90 days -> labels from 2024-03-02 to 2024-05-30 inclusive
    bt = make_backtest(_tiny(), cutoff=date(2024, 3, 1), horizon_days=90)
    f = bt.frame.set_index("customer_id")
    assert f.loc["c00", "days_to_next"] == 10  # 2024-03-11 - 2024-03-01
    assert f.loc["c20", "days_to_next"] == 45  # 2024-04-15 - 2024-03-01
    assert f.loc["c01", "future_orders"] == 1  # 2024-05-30 is the last horizon day
    assert f.loc["c03", "churned"]
    assert f.loc["c00", "next_window"] == 0 and f.loc["c20", "next_window"] == 1
    assert f.loc["c03", "next_window"] == 2
    assert f.loc["c00", "future_revenue"] == 20.0
    assert int(f["churned"].sum()) == 29  # odd customers except c01
    assert f.loc["c00", "recency_days"] == 57  # 2024-03-02 - 2024-01-05: 26 + 29 + 2 days


def test_default_cutoff_is_last_date_minus_horizon():
    bt = make_backtest(_tiny(), horizon_days=80)
    assert bt.cutoff == date(2024, 5, 30) - timedelta(days=80)


@pytest.mark.parametrize(
    ("cutoff", "horizon", "message"),
    [
        (date(2023, 12, 1), 30, "outside the data"),
        (date(2024, 5, 30), 30, "outside the data"),
        (date(2024, 4, 1), 90, "after the last purchase"),
        (None, 400, "longer than the data"),
    ],
)
def test_bad_cutoff_or_horizon(cutoff, horizon, message):
    with pytest.raises(DataError, match=message):
        make_backtest(_tiny(), cutoff=cutoff, horizon_days=horizon)


def test_too_few_customers_or_positives():
    with pytest.raises(DataError, match="Only 60 customers"):
        make_backtest(_tiny(), cutoff=date(2024, 3, 1), config=ModelsConfig(min_customers=100))
    with pytest.raises(DataError, match="Too few customers in one class"):
        make_backtest(_tiny(), cutoff=date(2024, 3, 1), config=ModelsConfig(min_class=31))


def test_features_from_a_known_customer_table_equal_those_read_again(cleaned):
    from custlens.features.query import feature_query
    from custlens.io.frames import round_floats
    from custlens.models.model_rows import customer_features

    purchases, returns, data = cleaned
    as_of = data.cutoff
    table = feature_query(purchases, returns, as_of, behavioral=True).table
    known = round_floats(table.order_by("customer_id").to_pandas())
    known["r_score"] = 1  # a column of the pipeline's table that is not a feature
    read, names = customer_features(purchases, returns, as_of)
    got, got_names = customer_features(purchases, returns, as_of, known=known)
    assert got_names == names
    pd.testing.assert_frame_equal(got, read, check_exact=True)
    # the known rows are what is read: a changed value shows through
    changed = known.assign(monetary=known["monetary"] + 1.0)
    moved, _ = customer_features(purchases, returns, as_of, known=changed)
    np.testing.assert_allclose(moved["monetary"], read["monetary"] + 1.0)
    # not one row per customer of the query in customer_id order: read again
    for bad in (changed.iloc[1:], changed.iloc[::-1], changed.drop(columns="monetary")):
        again, _ = customer_features(purchases, returns, as_of, known=bad)
        pd.testing.assert_frame_equal(again, read, check_exact=True)
