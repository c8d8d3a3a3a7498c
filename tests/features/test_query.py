"""feature_query: the customer table with its behavioural features from one compiled query.

Hand-computed values at two dates from one compiled template, equality with the Ibis
expressions it is compiled from, no rebuild for another date or other lines, views dropped
with the result, and the same numbers on Spark.
"""

from __future__ import annotations

import gc
from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest

from custlens.config import FeaturesConfig
from custlens.features import query
from custlens.features.behavioral import behavioral_features
from custlens.features.query import feature_query
from custlens.features.rfm import customer_table_before


def _line(cust: str, order: str, ts: str, qty: float, price: float) -> dict:
    return {
        "customer_id": cust,
        "order_id": order,
        "order_ts": pd.Timestamp(ts),
        "product_id": f"p{order}",
        "quantity": qty,
        "unit_price": price,
        "amount": qty * price,
    }


def purchases() -> pd.DataFrame:
    return pd.DataFrame(
        [
            _line("A", "A1", "2021-01-04 10:00", 1.0, 10.0),
            _line("A", "A2", "2021-04-01 12:00", 2.0, 10.0),
            _line("A", "A3", "2021-06-15 09:00", 3.0, 10.0),
            _line("B", "B1", "2021-06-30 23:59", 1.0, 5.0),
        ]
    )


def returns() -> pd.DataFrame:
    row = _line("A", "R1", "2021-06-20 10:00", -1.0, 10.0)
    return pd.DataFrame([row])


def _frame(table: ibis.Table) -> pd.DataFrame:
    return table.order_by("customer_id").to_pyarrow().to_pandas().set_index("customer_id")


def test_hand_values_at_two_dates_from_one_template():
    con = ibis.duckdb.connect()
    p = con.create_table("p", purchases())
    late = _frame(feature_query(p, None, date(2021, 7, 1)).table)
    early = _frame(feature_query(p, None, date(2021, 4, 2)).table)
    # as of 2021-07-01: A bought on 01-04, 04-01 and 06-15 (10 + 20 + 30); B on 06-30
    a = late.loc["A"]
    assert (a.recency_days, a.tenure_days, a.frequency, a.monetary) == (16, 178, 3, 60.0)
    # last 90 days: from 2021-04-02 on (06-15 only); the 90 before: 01-02 .. 04-01
    assert (a.revenue_last_90d, a.revenue_prev_90d, a.orders_last_90d) == (30.0, 30.0, 1)
    assert a.tenure_months == 6  # January .. June (the day before as_of is 06-30)
    assert late.loc["B"].recency_days == 1
    # as of 2021-04-02: B has not bought yet, A's third order is in the future
    assert list(early.index) == ["A"]
    a = early.loc["A"]
    assert (a.recency_days, a.frequency, a.monetary) == (1, 2, 30.0)
    assert (a.revenue_last_90d, a.revenue_prev_90d, a.tenure_months) == (30.0, 0.0, 4)


@pytest.mark.parametrize("as_of", [date(2021, 4, 2), date(2021, 6, 21), date(2021, 7, 1)])
def test_equals_the_ibis_expressions_it_is_compiled_from(as_of):
    con = ibis.duckdb.connect()
    p, r = con.create_table("p", purchases()), con.create_table("r", returns())
    got = feature_query(p, r, as_of, FeaturesConfig())
    table = customer_table_before(p, r, as_of)
    behave = behavioral_features(p, r, as_of=as_of).table
    expected = _frame(table.left_join(behave, "customer_id").drop("customer_id_right"))
    assert list(got.behavioral_columns) == [c for c in behave.columns if c != "customer_id"]
    pd.testing.assert_frame_equal(_frame(got.table), expected, check_exact=True)


def test_another_date_or_other_lines_reuse_the_compiled_query(monkeypatch):
    con = ibis.duckdb.connect()
    p = con.create_table("p", purchases())
    feature_query(p, None, date(2021, 7, 1))

    def fail(*args, **kwargs):
        raise AssertionError("the feature expression was built again")

    monkeypatch.setattr(query, "behavioral_table", fail)
    monkeypatch.setattr(query, "customer_table_before", fail)
    fewer = p.filter(p.customer_id == "A")
    got = _frame(feature_query(fewer, None, date(2021, 6, 16)).table)
    assert list(got.index) == ["A"]
    assert got.loc["A"].recency_days == 1


def test_the_views_go_with_the_result():
    con = ibis.duckdb.connect()
    p = con.create_table("p", purchases())

    def views() -> int:
        sql = "SELECT count(*) FROM duckdb_views() WHERE view_name LIKE 'custlens_%'"
        return con.raw_sql(sql).fetchone()[0]

    result = feature_query(p, None, date(2021, 7, 1))
    assert views() == 2  # the purchases and the features
    del result
    gc.collect()
    assert views() == 0


@pytest.mark.slow
@pytest.mark.spark
def test_spark_gives_the_same_numbers_as_duckdb(spark):  # the session fixture in conftest
    con = ibis.pyspark.connect(spark)
    spark.createDataFrame(purchases()).createOrReplaceTempView("cl_query_p")
    spark.createDataFrame(returns()).createOrReplaceTempView("cl_query_r")
    duck = ibis.duckdb.connect()
    dp, dr = duck.create_table("p", purchases()), duck.create_table("r", returns())
    for as_of in (date(2021, 4, 2), date(2021, 7, 1)):
        got = _frame(feature_query(con.table("cl_query_p"), con.table("cl_query_r"), as_of).table)
        expected = _frame(feature_query(dp, dr, as_of).table)
        assert list(got.index) == list(expected.index)
        for col in expected.columns:
            if expected[col].dtype.kind in "fiu":
                np.testing.assert_allclose(
                    got[col].to_numpy(float), expected[col].to_numpy(float), rtol=1e-9, err_msg=col
                )
            else:
                assert got[col].tolist() == expected[col].tolist(), col


def test_kept_rows_are_read_again_for_the_same_lines_and_date(monkeypatch):
    con = ibis.duckdb.connect()
    p = con.create_table("p", purchases())
    first = _frame(feature_query(p, None, date(2021, 7, 1), keep=True).table)
    runs = []
    original = con.raw_sql

    def counting(sql, *args, **kwargs):
        runs.append(str(sql))
        return original(sql, *args, **kwargs)

    monkeypatch.setattr(con, "raw_sql", counting)
    again = _frame(feature_query(p, None, date(2021, 7, 1)).table)
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    assert not any('VIEW "custlens_features_' in s for s in runs)  # not run
    # another date or other lines run the query
    other = _frame(feature_query(p, None, date(2021, 4, 2)).table)
    assert list(other.index) == ["A"]
    assert any('VIEW "custlens_features_' in s for s in runs)


def _edge_lines() -> pd.DataFrame:
    rows = [
        # C1's lines have two dates: the customer's last purchase is C1's later line
        _line("C", "C1", "2021-03-01 09:00", 2.0, 5.0),
        _line("C", "C1", "2021-03-20 18:30", 1.0, 2.5),
        # a line without an order id: its money counts, it is no order
        {**_line("C", "x", "2021-03-05 10:00", 1.0, 4.0), "order_id": None},
        # a product bought only with quantity 0: a distinct product without spend
        {**_line("C", "C2", "2021-03-10 10:00", 0.0, 3.0), "product_id": "pzero"},
        _line("C", "C3", "2021-03-12 10:00", 1.0, 0.25),
        # D only has a zero-amount line: no spend shares at all
        {**_line("D", "D1", "2021-03-02 10:00", 0.0, 9.0), "product_id": "pd"},
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("with_products", [True, False])
def test_customer_columns_from_order_groups_match_hand_values(with_products):
    con = ibis.duckdb.connect()
    lines = _edge_lines() if with_products else _edge_lines().drop(columns="product_id")
    p = con.create_table("p", lines)
    r = con.create_table("r", pd.DataFrame([_line("C", "R1", "2021-03-11 10:00", -1.0, 5.0)]))
    got = _frame(feature_query(p, r, date(2021, 4, 1)).table)
    c, d = got.loc["C"], got.loc["D"]
    assert c.first_order == pd.Timestamp("2021-03-01 09:00")
    assert c.last_order == pd.Timestamp("2021-03-20 18:30")
    assert c.recency_days == 12
    assert (c.frequency, d.frequency) == (3, 1)  # C1, C2, C3 (the line without an id is none)
    assert c.monetary == 10.0 + 2.5 + 4.0 + 0.0 + 0.25
    assert c.avg_order_value == pytest.approx(16.75 / 3)
    assert c.return_rate == pytest.approx(5.0 / 16.75)
    assert (d.monetary, d.return_rate, d.recency_days) == (0.0, 0.0, 30)
    if with_products:
        # C: pC1, px, pzero, pC3 (each line's product; C1's two lines share pC1)
        assert (c.distinct_products, d.distinct_products) == (4, 1)
        assert np.isnan(d.product_entropy)  # no positive spend to share out
        shares = np.array([12.5, 4.0, 0.25]) / 16.75
        assert c.product_entropy == pytest.approx(-(shares * np.log(shares)).sum())
    else:
        assert got["distinct_products"].isna().all()
    # the same as the line-level customer table
    table = _frame(customer_table_before(p, r, date(2021, 4, 1)))
    pd.testing.assert_frame_equal(got[table.columns], table, check_exact=True)
