"""PastLines gives, for each date, exactly what cleaning the raw lines before that date gives.

The oracle is the direct computation, ``clean(lines before the date)``, on order lines with many
offsetting pairs and exact duplicates that straddle the dates.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

import custlens
from custlens.config import CleaningConfig
from custlens.io.clean import clean
from custlens.io.past_lines import PastLines

DATES = (date(2023, 3, 1), date(2023, 6, 30), date(2023, 9, 15))


@pytest.fixture(scope="module")
def orders() -> pd.DataFrame:
    """Synthetic lines plus, around each date, cancellations of purchases made shortly before
    it (dated after it, inside and outside the 30-day window, and at the very instant of the
    date), copies of some of those purchases and of some cancellations."""
    base = custlens.datasets.synthetic(500, seed=4).orders
    extra = []
    for d in DATES:
        at = pd.Timestamp(d)
        before = base[
            (base["InvoiceDate"] < at) & (base["InvoiceDate"] >= at - pd.Timedelta(days=25))
        ]
        buys = before[before["Quantity"] > 0].iloc[:60]
        for i, (_, row) in enumerate(buys.iterrows()):
            cancel = row.copy()
            cancel["InvoiceNo"] = f"C9{i:03d}{d.month:02d}"
            cancel["Quantity"] = -row["Quantity"]
            lag = (0, 1, 3, 10, 29, 45)[i % 6]  # 45 days: too late to pair
            cancel["InvoiceDate"] = at + pd.Timedelta(days=lag, hours=i % 3)
            if i % 6 == 0:
                cancel["InvoiceDate"] = at  # the first instant on or after the date
            extra.append(cancel)
            if i % 5 == 0:
                extra.append(row.copy())  # an exact copy of the purchase
            if i % 7 == 0:
                extra.append(cancel.copy())  # an exact copy of the cancellation
    more = pd.DataFrame(extra).astype(base.dtypes)
    return pd.concat([base, more], ignore_index=True)


def _frame(t) -> pd.DataFrame:
    df = t.to_pandas()
    cols = sorted(df.columns)
    return df[cols].sort_values(cols, kind="mergesort").reset_index(drop=True)


@pytest.mark.parametrize(
    "config",
    [
        CleaningConfig(),
        CleaningConfig(offsetting_window_days=5),
        CleaningConfig(mode="minimal"),
    ],
    ids=["default", "window-5", "minimal"],
)
def test_equals_cleaning_the_earlier_lines_alone(orders: pd.DataFrame, config) -> None:
    table = custlens.load(orders).table
    past = PastLines(table, config)
    for d in DATES:
        alone = clean(table.filter(table.order_ts < d), config)
        purchases, returns = past(d)
        pd.testing.assert_frame_equal(_frame(purchases), _frame(alone.purchases))
        pd.testing.assert_frame_equal(_frame(returns), _frame(alone.returns))


def test_the_whole_cleaning_alone_differs(orders: pd.DataFrame) -> None:
    """Not vacuous: on these lines the whole-period cleaning cut at a date loses purchases."""
    table = custlens.load(orders).table
    config = CleaningConfig()
    whole = clean(table, config).purchases
    for d in DATES:
        alone = clean(table.filter(table.order_ts < d), config).purchases
        cut = whole.filter(whole.order_ts < d)
        assert alone.count().execute() - cut.count().execute() >= 10


def test_reuses_the_given_cleaning(orders: pd.DataFrame) -> None:
    table = custlens.load(orders).table
    cleaned = clean(table, CleaningConfig())
    past = PastLines(table, CleaningConfig(), cleaned)
    assert past.cleaned is cleaned
    purchases, _ = past(DATES[0])
    alone = clean(table.filter(table.order_ts < DATES[0]), CleaningConfig()).purchases
    pd.testing.assert_frame_equal(_frame(purchases), _frame(alone))
    assert timedelta(days=1)  # dates are plain dates, as the backtest passes them


def test_customers_at_most_bounds_the_customers_at_every_date(orders: pd.DataFrame) -> None:
    table = custlens.load(orders).table
    past = PastLines(table, CleaningConfig())
    known = orders["CustomerID"].dropna().nunique()  # counted here, on the raw lines
    assert past.customers_at_most == known
    for d in DATES:
        purchases, _ = past(d)
        assert purchases.customer_id.nunique().execute() <= known


def test_customers_at_most_is_unknown_when_lines_without_a_customer_are_kept(
    orders: pd.DataFrame,
) -> None:
    table = custlens.load(orders).table
    assert PastLines(table, CleaningConfig(missing_customer=False)).customers_at_most is None
