"""The customer table, checked against values counted by hand."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest

from custlens.errors import DataError
from custlens.features.rfm import customer_table, customer_table_before, resolve_as_of

# customer, order, time, product, quantity, price
PURCHASES = [
    ("a", "1", "2021-03-01 09:00", "X", 2, 5.0),  # 10
    ("a", "1", "2021-03-01 09:00", "Y", 1, 4.0),  # 4   (same order, second product)
    ("a", "2", "2021-03-10 18:30", "X", 1, 5.0),  # 5
    ("a", "3", "2021-03-20 00:00", "Z", 1, 100.0),  # 100, exactly at midnight of 2021-03-20
    ("b", "4", "2021-03-05 12:00", "X", 3, 2.0),  # 6
    ("b", "5", "2021-03-25 08:00", "X", 1, 2.0),  # 2, the last purchase overall
]
RETURNS = [
    ("a", "C6", "2021-03-11 10:00", "X", -1, 5.0),  # -5
    ("b", "C7", "2021-03-26 10:00", "X", -1, 2.0),  # -2, after the default as_of
]


def _table(lines, drop_product: bool = False) -> ibis.Table:
    cols = ["customer_id", "order_id", "order_ts", "product_id", "quantity", "unit_price"]
    df = pd.DataFrame(lines, columns=cols)
    df["order_ts"] = pd.to_datetime(df["order_ts"])
    df["quantity"] = df["quantity"].astype("float64")
    df["amount"] = df["quantity"] * df["unit_price"]
    if drop_product:
        df = df.drop(columns=["product_id"])
    return ibis.memtable(df)


def _by_id(table: ibis.Table) -> pd.DataFrame:
    return table.to_pandas().set_index("customer_id").sort_index()


def test_default_as_of_is_the_day_after_the_last_purchase():
    assert resolve_as_of(_table(PURCHASES)) == date(2021, 3, 26)


def test_customer_table_by_hand():
    t = _by_id(customer_table(_table(PURCHASES), _table(RETURNS)))
    assert list(t.columns) == [
        "first_order",
        "last_order",
        "tenure_days",
        "recency_days",
        "frequency",
        "monetary",
        "avg_order_value",
        "distinct_products",
        "return_rate",
    ]
    a, b = t.loc["a"], t.loc["b"]
    assert a.first_order == pd.Timestamp("2021-03-01 09:00")
    assert a.last_order == pd.Timestamp("2021-03-20 00:00")
    assert (a.tenure_days, a.recency_days) == (25, 6)  # 03-26 minus 03-01 and 03-20
    assert a.frequency == 3
    assert a.monetary == pytest.approx(119.0)
    assert a.avg_order_value == pytest.approx(119.0 / 3)
    assert a.distinct_products == 3
    assert a.return_rate == pytest.approx(5 / 119)
    assert (b.tenure_days, b.recency_days, b.frequency) == (21, 1, 2)
    assert b.monetary == pytest.approx(8.0)
    assert b.distinct_products == 1
    assert b.return_rate == 0.0  # C7 is dated on the as_of day, so it does not count


def test_lines_on_or_after_as_of_are_ignored():
    # as_of 2021-03-20: order 3 (exactly 2021-03-20 00:00) and b's order 5 are excluded
    t = _by_id(customer_table(_table(PURCHASES), _table(RETURNS), as_of=date(2021, 3, 20)))
    a, b = t.loc["a"], t.loc["b"]
    assert (a.frequency, a.recency_days, a.tenure_days) == (2, 10, 19)
    assert a.monetary == pytest.approx(19.0)
    assert a.last_order == pd.Timestamp("2021-03-10 18:30")
    assert a.return_rate == pytest.approx(5 / 19)
    assert (b.frequency, b.recency_days, b.tenure_days) == (1, 15, 15)
    assert b.monetary == pytest.approx(6.0)


def test_customers_without_purchases_before_as_of_are_absent():
    t = _by_id(customer_table(_table(PURCHASES), as_of=date(2021, 3, 3)))
    assert list(t.index) == ["a"]
    assert t.loc["a", "return_rate"] == 0.0  # no returns table given


def test_distinct_products_is_null_without_product_column():
    t = _by_id(customer_table(_table(PURCHASES, drop_product=True)))
    assert t["distinct_products"].isna().all()
    assert t.loc["a", "frequency"] == 3


def test_as_of_on_or_before_first_purchase_is_a_data_error():
    with pytest.raises(DataError) as err:
        customer_table(_table(PURCHASES), as_of=date(2021, 3, 1))
    message = str(err.value)
    assert "2021-03-01" in message and "2021-03-25" in message  # the data's date range
    assert "2021-03-26" in message  # the default it suggests


def test_as_of_must_be_a_date():
    with pytest.raises(DataError, match="YYYY-MM-DD"):
        resolve_as_of(_table(PURCHASES), "yesterday")
    assert resolve_as_of(_table(PURCHASES), "2021-03-15") == date(2021, 3, 15)


def test_no_purchases_is_a_data_error():
    empty = _table(PURCHASES)
    with pytest.raises(DataError, match="no purchases"):
        resolve_as_of(empty.filter(empty.customer_id == "nobody"))


def test_customer_table_before_a_checked_date_hand_values():
    # a: orders on Jan 1 and Jan 21 (40.0), b: Jan 30 (5.0); as of Feb 1 by hand:
    # recency a = 11 days, b = 2 days; tenure a = 31 days; the Feb 3 line is after as_of
    lines = ibis.memtable(
        pd.DataFrame(
            {
                "customer_id": ["a", "a", "b", "b"],
                "order_id": ["1", "2", "3", "4"],
                "order_ts": pd.to_datetime(
                    ["2024-01-01", "2024-01-21", "2024-01-30", "2024-02-03"]
                ),
                "amount": [10.0, 30.0, 5.0, 99.0],
            }
        )
    )
    table = customer_table_before(lines, None, date(2024, 2, 1)).order_by("customer_id")
    rows = table.to_pandas()[
        ["customer_id", "recency_days", "tenure_days", "frequency", "monetary"]
    ]
    assert rows.values.tolist() == [["a", 11, 31, 2, 40.0], ["b", 2, 2, 1, 5.0]]
