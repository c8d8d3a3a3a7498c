"""Order-level anomalies: extreme order values and purchase/cancellation pairs."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest

from custlens.anomalies.orders import cancellation_pairs, extreme_orders
from custlens.config import AnomalyConfig
from custlens.errors import DataError, MappingError

T0 = datetime(2024, 3, 4, 10, 0)  # a Monday


def _lines(rows: list[tuple]) -> ibis.Table:
    """rows: (order_id, customer_id, product_id, quantity, unit_price, minutes after T0)."""
    df = pd.DataFrame(
        rows, columns=["order_id", "customer_id", "product_id", "quantity", "unit_price", "minutes"]
    )
    df["order_ts"] = [T0 + timedelta(minutes=int(m)) for m in df.pop("minutes")]
    df["quantity"] = df["quantity"].astype("float64")
    df["unit_price"] = df["unit_price"].astype("float64")
    df["amount"] = df["quantity"] * df["unit_price"]
    return ibis.memtable(df)


# order values: 50, 80, 100, 100, 120, 150, 200 and one of 10,000 (two lines: 6000 + 4000)
TINY_ORDERS = [
    ("1", "a", "p1", 5, 10.0, 0),
    ("2", "a", "p1", 8, 10.0, 60),
    ("3", "b", "p2", 10, 10.0, 120),
    ("4", "b", "p2", 20, 5.0, 180),
    ("5", "c", "p3", 12, 10.0, 240),
    ("6", "c", "p3", 15, 10.0, 300),
    ("7", "d", "p4", 20, 10.0, 360),
    ("8", "e", "p5", 600, 10.0, 420),
    ("8", "e", "p6", 400, 10.0, 420),
    ("C9", "e", "p5", -600, 10.0, 480),  # a cancellation: not a purchase order
    ("10", "f", "p7", -3, 10.0, 500),  # negative line: not a purchase order
]


def test_extreme_orders_tiny_dataset():
    result = extreme_orders(_lines(TINY_ORDERS))
    values = np.array([50, 80, 100, 100, 120, 150, 200, 10000], dtype=float)
    lv = np.log(values)
    med = np.median(lv)
    mad = np.median(np.abs(lv - med))
    expected_threshold = float(np.exp(med + 4.0 * 1.4826 * mad))
    assert result.threshold == pytest.approx(expected_threshold)
    assert result.n_orders == 8
    assert result.median_value == pytest.approx(110.0)  # (100 + 120) / 2
    assert result.n_extreme == 1
    row = result.orders.iloc[0]
    assert (row["order_id"], row["customer_id"]) == ("8", "e")
    assert row["value"] == pytest.approx(10000.0)
    assert row["n_lines"] == 2
    assert row["units"] == pytest.approx(1000.0)
    assert row["times_median"] == pytest.approx(10000.0 / 110.0)
    assert row["order_ts"] == pd.Timestamp(T0 + timedelta(minutes=420))


def test_extreme_orders_quantile_rule():
    cfg = AnomalyConfig(order_value_rule="quantile", order_value_quantile=0.75)
    result = extreme_orders(_lines(TINY_ORDERS), cfg)
    values = np.array([50, 80, 100, 100, 120, 150, 200, 10000], dtype=float)
    q = float(np.quantile(values, 0.75))  # linear interpolation: 162.5
    assert q == pytest.approx(162.5)
    assert result.threshold == pytest.approx(q)
    assert list(result.orders["order_id"]) == ["8", "7"]


def test_extreme_orders_fall_back_to_the_quantile_when_most_orders_share_a_value():
    # five of eight orders are worth 100: the MAD of ln(value) is 0, so the log-MAD rule
    # cannot scale and the quantile rule decides
    rows = [(str(i), "a", "p1", 10, 10.0, i) for i in range(5)]
    rows += [("5", "b", "p2", 3, 10.0, 5), ("6", "b", "p2", 50, 10.0, 6)]
    rows += [("7", "c", "p3", 400, 10.0, 7)]
    cfg = AnomalyConfig(order_value_quantile=0.75)
    assert cfg.order_value_rule == "log_mad"
    result = extreme_orders(_lines(rows), cfg)
    values = np.array([100, 100, 100, 100, 100, 30, 500, 4000], dtype=float)
    assert np.median(np.abs(np.log(values) - np.median(np.log(values)))) == 0.0
    q = float(np.quantile(values, 0.75))  # linear interpolation: 200.0
    assert result.threshold == pytest.approx(q)
    assert "MAD = 0" in result.notes[0] and "quantile" in result.rule
    assert list(result.orders["order_id"]) == ["7", "6"]
    assert result.n_extreme == 2


# the eight orders of TINY_ORDERS: the rule's numbers by hand (numpy over the listed values)
TINY_VALUES = np.array([50, 80, 100, 100, 120, 150, 200, 10000], dtype=float)


def _tiny_log_mad_threshold() -> float:
    lv = np.log(TINY_VALUES)
    med = np.median(lv)
    return float(np.exp(med + 4.0 * 1.4826 * np.median(np.abs(lv - med))))


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """rows: (order_id, customer_id, quantity, unit_price, amount); amount None -> q * p."""
    df = pd.DataFrame(rows, columns=["order_id", "customer_id", "quantity", "unit_price", "amount"])
    df["quantity"] = df["quantity"].astype("float64")
    df["unit_price"] = df["unit_price"].astype("float64")
    given = df["amount"].astype("float64")
    df["amount"] = given.where(given.notna(), df["quantity"] * df["unit_price"])
    df["product_id"] = "p"
    df["order_ts"] = [T0 + timedelta(minutes=1000 + i) for i in range(len(df))]
    return df


def _with_tiny(extra: pd.DataFrame) -> ibis.Table:
    return ibis.memtable(pd.concat([_lines(TINY_ORDERS).to_pandas(), extra], ignore_index=True))


def test_extreme_orders_leave_out_orders_worth_nothing_at_six_decimals():
    # order 11: three lines of 5e-9 each, positive but 0.0 once each is rounded to 6 decimals
    # (io.sums.MONEY_SCALE); ln(0) used to stop the run. It has no value to compare on a log
    # scale, so it is left out of the rule (the eight other orders decide, as without it)
    extra = _frame([("11", "g", 5, 1e-9, None)] * 3)
    assert (extra["amount"] > 0).all() and (extra["amount"].round(6) == 0).all()
    result = extreme_orders(_with_tiny(extra))
    assert result.threshold == pytest.approx(_tiny_log_mad_threshold())
    assert result.n_orders == 8
    assert result.median_value == pytest.approx(110.0)
    assert list(result.orders["order_id"]) == ["8"]
    assert any("1 order" in n and "0 at 6 decimals" in n for n in result.notes), result.notes
    # the quantile rule leaves it out too: the 0.75 quantile of the eight values, not of nine
    cfg = AnomalyConfig(order_value_rule="quantile", order_value_quantile=0.75)
    quantile = extreme_orders(_with_tiny(extra), cfg)
    assert quantile.threshold == pytest.approx(float(np.quantile(TINY_VALUES, 0.75)))  # 162.5
    assert list(quantile.orders["order_id"]) == ["8", "7"]


def test_extreme_orders_all_worth_nothing_is_a_data_error():
    with pytest.raises(DataError, match="No purchase orders"):
        extreme_orders(
            ibis.memtable(_frame([("1", "a", 5, 1e-9, None), ("2", "b", 1, 1e-8, None)]))
        )


def test_extreme_orders_leave_out_orders_with_invalid_numbers():
    # each extra order would be the largest (or has no known value): a line whose quantity,
    # price or amount is missing, NaN, infinite or beyond 1e15 (cleaning's rule 10) makes the
    # order's value unknown, so the whole order is left out, however large its other lines
    inf, nan = float("inf"), float("nan")
    extra = _frame(
        [
            ("12", "h", 300, 100.0, None),
            ("12", "h", 2, inf, None),  # infinite price and amount
            ("13", "i", 400, 100.0, None),
            ("13", "i", 1, nan, None),  # NaN price and amount
            ("14", "j", 2e15, 1.0, None),  # quantity and amount beyond 1e15
            ("15", "k", 500, 100.0, None),
            ("15", "k", 1, nan, 100.0),  # the amount given, the price NaN
            ("16", "l", 600, 100.0, None),
            ("16", "l", nan, 1.0, 5.0),  # no quantity
            ("17", "m", 700, 100.0, None),
            ("17", "m", -1, inf, None),  # a negative line, but infinite
        ]
    )
    result = extreme_orders(_with_tiny(extra))
    assert result.threshold == pytest.approx(_tiny_log_mad_threshold())
    assert result.n_orders == 8
    assert result.median_value == pytest.approx(110.0)
    assert result.n_extreme == 1
    assert list(result.orders["order_id"]) == ["8"]
    assert np.isfinite(result.orders[["value", "units", "times_median"]].to_numpy()).all()
    assert any("6 orders" in n and "invalid" in n for n in result.notes), result.notes


def test_extreme_orders_only_orders_of_known_customers():
    # orders without a customer id (null or blank, cleaning's rule 1) are nobody's orders:
    # they are neither listed nor part of the statistics, as in the cancellation pairs
    extra = _frame(
        [
            ("20", None, 5000, 10.0, None),
            ("21", "  ", 3000, 10.0, None),
            ("22", "", 4000, 10.0, None),
        ]
    )
    result = extreme_orders(_with_tiny(extra))
    assert result.threshold == pytest.approx(_tiny_log_mad_threshold())
    assert result.n_orders == 8
    assert result.median_value == pytest.approx(110.0)
    assert list(result.orders["order_id"]) == ["8"]
    assert result.orders["customer_id"].tolist() == ["e"]


def test_extreme_orders_bad_input():
    with pytest.raises(MappingError, match="amount"):
        extreme_orders(_lines(TINY_ORDERS).drop("amount"))
    with pytest.raises(DataError, match="Ibis table"):
        extreme_orders(pd.DataFrame({"a": [1]}))
    with pytest.raises(DataError, match="No purchase orders"):
        extreme_orders(_lines([("C1", "a", "p", -1, 1.0, 0)]))


DAY = 24 * 60
TINY_PAIRS = [
    ("100", "a", "p1", 10, 2.0, 0),
    ("C101", "a", "p1", -10, 2.0, DAY + 30),  # pair 100 / C101, 1470 minutes later
    ("102", "a", "p2", 5, 3.0, 0),
    ("C103", "a", "p2", -4, 3.0, 10),  # quantity differs: no pair
    ("104", "b", "p1", 7, 1.0, 0),
    ("C105", "c", "p1", -7, 1.0, 5),  # another customer: no pair
    ("106", "d", "p3", 3, 4.0, 100),
    ("C107", "d", "p3", -3, 4.0, 50),  # before the purchase: no pair
    ("108", "e", "p4", 2, 5.0, 0),
    ("C109", "e", "p4", -2, 5.0, 31 * DAY),  # beyond 30 days: no pair
    ("110", "f", "p5", 6, 1.5, 0),
    ("111", "f", "p5", 6, 1.5, 20),
    ("112", "f", "p5", -6, 1.5, 45),  # negative, no prefix: pairs with the latest purchase 111
]


def test_cancellation_pairs_tiny_dataset():
    result = cancellation_pairs(_lines(TINY_PAIRS))
    got = result.pairs
    assert result.n_pairs == 2
    assert list(got["purchase_order_id"]) == ["100", "111"]  # by value: 20.0, then 9.0
    assert list(got["cancel_order_id"]) == ["C101", "112"]
    assert list(got["quantity"]) == [10.0, 6.0]
    assert list(got["value"]) == [20.0, 9.0]
    assert list(got["minutes_between"]) == [DAY + 30, 25]
    assert list(got["customer_id"]) == ["a", "f"]
    assert list(got["product_id"]) == ["p1", "p5"]


def test_cancellation_pairs_window_and_limit():
    cfg = AnomalyConfig(pair_window_days=31, max_listed=1)
    result = cancellation_pairs(_lines(TINY_PAIRS), cfg)
    assert result.n_pairs == 3  # the 31-day cancellation now counts
    assert len(result.pairs) == 1 and result.pairs["purchase_order_id"].iloc[0] == "100"


def test_cancelled_value_of_the_orders_asked_about_counts_every_pair_not_only_the_listed():
    # order 100 with a second line (p9) that no one cancelled: 20 of its 20 + 7 cancelled
    rows = [*TINY_PAIRS, ("100", "a", "p9", 1, 7.0, 0)]
    cfg = AnomalyConfig(max_listed=1)  # lists only pair 100 / C101; 111's pair must count too
    result = cancellation_pairs(_lines(rows), cfg, orders=["100", "111", "102", "404"])
    # by hand: 100 -> 10 x 2.0; 111 -> 6 x 1.5; 102's cancellation had another quantity
    assert result.cancelled_value == {"100": 20.0, "111": 9.0}
    assert list(result.pairs["purchase_order_id"]) == ["100"]
    assert cancellation_pairs(_lines(rows), cfg).cancelled_value == {}


def test_cancellation_pairs_without_product_column_is_skipped_with_note():
    result = cancellation_pairs(_lines(TINY_PAIRS).drop("product_id"))
    assert result.n_pairs == 0 and result.pairs.empty
    assert "skipped" in result.notes[0]


@pytest.fixture(scope="module")
def online_retail(online_retail_path):
    """Online Retail in a DuckDB table, renamed to the canonical columns."""
    con = duckdb.connect()
    con.execute(
        f"""
        create table tx as
        select cast(InvoiceNo as varchar) as order_id, cast(StockCode as varchar) as product_id,
               Description as description, cast(Quantity as double) as quantity,
               cast(InvoiceDate as timestamp) as order_ts, cast(UnitPrice as double) as unit_price,
               cast(CustomerID as varchar) as customer_id, Country as country,
               cast(Quantity as double) * cast(UnitPrice as double) as amount
        from read_csv('{online_retail_path}')
        """
    )
    backend = ibis.duckdb.from_connection(con)
    return con, backend.table("tx")


def test_online_retail_famous_cancellation_pairs(online_retail):
    _, tx = online_retail
    result = cancellation_pairs(tx)
    pairs = result.pairs.set_index("purchase_order_id")
    for purchase, cancel, customer, qty, price, minutes in [
        ("581483", "C581484", "16446", 80995, 2.08, 12),  # 09:15 -> 09:27 on 2011-12-09
        ("541431", "C541433", "12346", 74215, 1.04, 16),  # 10:01 -> 10:17 on 2011-01-18
    ]:
        row = pairs.loc[purchase]
        assert row["cancel_order_id"] == cancel
        assert row["customer_id"] == customer
        assert row["quantity"] == qty
        assert row["value"] == pytest.approx(qty * price)
        assert row["minutes_between"] == minutes
    # they are the two largest pairs
    assert list(result.pairs["purchase_order_id"][:2]) == ["581483", "541431"]


def test_online_retail_largest_extreme_orders_were_cancelled_minutes_later(online_retail):
    _, tx = online_retail
    extreme = extreme_orders(tx)
    top = list(extreme.orders["order_id"][:2])
    assert top == ["581483", "541431"]  # one line each: 80,995 and 74,215 units
    cancelled = cancellation_pairs(tx, orders=top).cancelled_value
    # each order's one line cancelled whole (the pairs above): value = quantity x price
    assert cancelled["581483"] == pytest.approx(80995 * 2.08)
    assert cancelled["541431"] == pytest.approx(74215 * 1.04)


def test_online_retail_extreme_orders_match_independent_sql(online_retail):
    con, tx = online_retail
    result = extreme_orders(tx)
    med, mad, n_orders = con.execute(
        """
        with o as (select order_id, ln(sum(amount)) as lv from tx
                   where quantity > 0 and amount > 0 and not starts_with(order_id, 'C')
                     and trim(customer_id) <> ''
                   group by order_id),
             m as (select median(lv) as med from o)
        select any_value(med), median(abs(lv - med)), count(*) from o, m
        """
    ).fetchone()
    threshold = float(np.exp(med + 4.0 * 1.4826 * mad))
    n_extreme = con.execute(
        f"""select count(*) from (select sum(amount) as v from tx
            where quantity > 0 and amount > 0 and not starts_with(order_id, 'C')
              and trim(customer_id) <> ''
            group by order_id) where v > {threshold!r}"""
    ).fetchone()[0]
    assert result.threshold == pytest.approx(threshold)
    assert result.n_orders == n_orders
    assert result.n_extreme == n_extreme
    assert list(result.orders["order_id"][:2]) == ["581483", "541431"]
    assert result.orders["value"].iloc[0] == pytest.approx(80995 * 2.08)
    # the orders without a customer (a quarter of the lines) are not listed
    assert result.orders["customer_id"].notna().all()


@pytest.mark.slow
@pytest.mark.spark
def test_pyspark_gives_the_same_order_anomalies_as_duckdb(spark):
    con = ibis.pyspark.connect(spark)
    spark.createDataFrame(_lines(TINY_PAIRS).to_pandas()).createOrReplaceTempView("cl_pairs")
    spark.createDataFrame(_lines(TINY_ORDERS).to_pandas()).createOrReplaceTempView("cl_orders")
    got = cancellation_pairs(con.table("cl_pairs"))
    want = cancellation_pairs(_lines(TINY_PAIRS))
    assert got.n_pairs == want.n_pairs == 2
    pd.testing.assert_frame_equal(got.pairs, want.pairs, check_dtype=False)
    e_got = extreme_orders(con.table("cl_orders"))
    e_want = extreme_orders(_lines(TINY_ORDERS))
    assert e_got.threshold == pytest.approx(e_want.threshold)
    assert list(e_got.orders["order_id"]) == list(e_want.orders["order_id"])


def test_customer_order_signals_tiny_dataset():
    from custlens.anomalies.orders import customer_order_signals

    got = customer_order_signals(_lines(TINY_PAIRS)).to_pandas().set_index("customer_id")
    # a: bought 10 + 5 units, cancelled 10 + 4; f: bought 6 + 6, cancelled 6
    assert got.loc["a", "max_line_units"] == 10
    assert got.loc["a", "cancelled_units_share"] == pytest.approx(14 / 15)
    assert got.loc["f", "cancelled_units_share"] == pytest.approx(6 / 12)
    assert got.loc["b", "cancelled_units_share"] == 0.0
    assert "c" not in got.index  # only a cancellation, no purchase
    # as_of keeps only earlier lines: 1440 minutes after T0 drops C101
    early = customer_order_signals(_lines(TINY_PAIRS), as_of=T0 + timedelta(days=1))
    early = early.to_pandas().set_index("customer_id")
    assert early.loc["a", "cancelled_units_share"] == pytest.approx(4 / 15)
