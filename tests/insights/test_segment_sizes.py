"""The monthly segment sizes from the one customer-month table equal those of a customer table
built before each date (``customer_table_before`` + ``score_rfm``, the definition)."""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd

from custlens.config import RFMConfig
from custlens.features.rfm import customer_table_before
from custlens.insights.series import segment_sizes
from custlens.segment.rfm_segments import score_rfm

DATES = [date(2023, m, 1) for m in range(3, 13)]


def _lines(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 4000
    orders = rng.integers(0, 1500, n)
    # an order's lines keep its customer; most share a day, some run into the next month
    start = pd.Timestamp("2023-01-01") + pd.to_timedelta(orders % 340, unit="D")
    late = rng.random(n) < 0.15
    ts = start + pd.to_timedelta(np.where(late, rng.integers(1, 40, n), 0), unit="D")
    ts = ts + pd.to_timedelta(rng.integers(0, 86400, n), unit="s")
    amount = np.round(rng.lognormal(2.0, 1.2, n), 2)
    amount += np.where(rng.random(n) < 0.3, rng.random(n) * 1e-7, 0.0)  # past 6 decimals
    order_id = [f"o{o}" for o in orders]
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{int(o) % 280}" for o in orders],
            "order_id": order_id,
            "order_ts": ts.astype("datetime64[us]"),
            "amount": amount,
        }
    )
    frame.loc[rng.random(n) < 0.02, "order_id"] = None  # orders without an id are not counted
    frame.loc[rng.random(n) < 0.01, "customer_id"] = None
    return frame


def _expected(table: ibis.Table, rfm: RFMConfig) -> pd.DataFrame:
    rows = []
    for d in DATES:
        scored = score_rfm(customer_table_before(table, None, d), rfm).to_pandas()
        counts = scored["segment"].value_counts()
        total = len(scored)
        for rule in rfm.segments:
            n = int(counts.get(rule.name, 0))
            rows.append((d, rule.name, n, n / total))
    return pd.DataFrame(rows, columns=["date", "key", "customers", "share"])


def test_segment_sizes_equal_customer_tables_per_date():
    rfm = RFMConfig()
    for seed in (1, 2):
        table = ibis.memtable(_lines(seed))
        got = segment_sizes(table, None, DATES, rfm)
        want = _expected(table, rfm)
        got = got.sort_values(["date", "key"]).reset_index(drop=True)
        want = want.sort_values(["date", "key"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got[want.columns], want, check_exact=True)


def test_segment_sizes_from_the_shared_order_rows_equal_customer_tables_per_date():
    """The insights read the lines summed per order and day (``shared_order_parts``, some
    orders running into the next month): the same sizes as the definition."""
    from custlens.insights.series import shared_order_parts

    rfm = RFMConfig()
    table = ibis.memtable(_lines(4))
    parts = shared_order_parts(table, date(2023, 12, 15))
    got = segment_sizes(table, None, DATES, rfm, parts)
    want = _expected(table, rfm)
    got = got.sort_values(["date", "key"]).reset_index(drop=True)
    want = want.sort_values(["date", "key"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[want.columns], want, check_exact=True)


def test_scores_see_frequency_and_money_before_each_date():
    """Hand example: one customer's order spans a month boundary; it counts once, from its first
    month, and only the lines before the date add to the money."""
    lines = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c", "d", "e"],
            "order_id": ["1", "1", "2", "3", "4", "5", "6"],
            "order_ts": pd.to_datetime(
                [
                    "2023-01-30",
                    "2023-02-02",
                    "2023-02-10",
                    "2023-01-05",
                    "2023-01-06",
                    "2023-01-07",
                    "2023-01-08",
                ]  # fmt: skip
            ).astype("datetime64[us]"),
            "amount": [0.1, 0.2, 5.0, 1.0, 2.0, 3.0, 4.0],
        }
    )
    table = ibis.memtable(lines)
    from custlens.insights.series import _customer_months, _rfm_before_month

    months = _customer_months(table, date(2023, 3, 1))
    feb = _rfm_before_month(months, date(2023, 2, 1)).to_pandas().set_index("customer_id")
    mar = _rfm_before_month(months, date(2023, 3, 1)).to_pandas().set_index("customer_id")
    assert feb.loc["a"].tolist() == [2, 1, 0.1]  # recency from Jan 30 to Feb 1
    assert mar.loc["a"].tolist() == [19, 2, 5.3]  # 0.1 + 0.2 + 5.0 exactly, two orders
    assert sorted(mar.index) == ["a", "b", "c", "d", "e"]


def test_ties_and_missing_values_score_as_the_customer_tables():
    """Many equal values (the numpy scoring's tie groups), and a NaN amount (scored in the
    engine instead): the same sizes as the definition."""
    rfm = RFMConfig()
    frame = _lines(3)
    frame["amount"] = np.where(np.arange(len(frame)) % 4 == 0, 10.0, frame["amount"])
    frame["order_ts"] = frame["order_ts"].dt.floor("7D")  # recency ties too
    for amounts in (frame["amount"], frame["amount"].where(frame.index != 5, np.nan)):
        table = ibis.memtable(frame.assign(amount=amounts))
        got = segment_sizes(table, None, DATES, rfm)
        want = _expected(table, rfm)
        got = got.sort_values(["date", "key"]).reset_index(drop=True)
        want = want.sort_values(["date", "key"]).reset_index(drop=True)
        pd.testing.assert_frame_equal(got[want.columns], want, check_exact=True)


def test_positions_count_the_values_below_each_value():
    from custlens.insights.series import _positions

    rng = np.random.default_rng(1)
    for x in (
        rng.integers(-5, 50, 500),  # a small range: counted per integer
        rng.integers(0, 10**9, 500),  # a wide range: searched
        rng.normal(size=500).round(1),  # floats with ties
    ):
        want = np.array([(x < v).sum() for v in x], dtype="int64")
        assert np.array_equal(_positions(x), want)
