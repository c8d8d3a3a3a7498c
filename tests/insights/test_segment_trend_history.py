"""Segment-size trends start a year after the first purchase: before, every customer's history
is cut short by the data's start, so the shares drift from that alone (Online Retail's first
year: "New Customers share fell 8.5% per month")."""

from __future__ import annotations

import pandas as pd
from tests.insights.planted import orders

import custlens
from custlens.config import Settings

# the 12 month starts up to the as-of date 2024-01-01, which is one
MONTHS = pd.date_range("2023-02-01", "2024-01-01", freq="MS")


def _insights(data: pd.DataFrame):
    results = custlens.run(data, settings=Settings(analyses=["insights"]))
    assert str(results.as_of) == "2024-01-01"
    return results.stages["insights"]


def _first_day(data: pd.DataFrame) -> pd.Timestamp:
    return pd.Timestamp(data["order_ts"].min()).normalize()


def test_segment_dates_start_a_year_after_the_first_purchase():
    data = orders(3)  # 2022-01 .. 2023-12
    stage = _insights(data)
    trends = stage.tables["trend_tests"]
    segment = trends[trends["dimension"] == "segment"]
    assert len(segment) > 0
    kept = [d for d in MONTHS if d >= _first_day(data) + pd.Timedelta(days=365)]
    assert len(kept) == 12  # the first purchase is in January 2022
    assert set(pd.to_datetime(segment["first"])) == {kept[0]}
    assert set(pd.to_datetime(segment["last"])) == {pd.Timestamp("2024-01-01")}


def test_a_log_of_eighteen_months_has_no_segment_trend_and_says_why():
    data = orders(3)
    data = data[data["order_ts"] >= pd.Timestamp("2022-07-01")]
    first = _first_day(data)
    kept = [d for d in MONTHS if d >= first + pd.Timedelta(days=365)]
    assert 0 < len(kept) < 12
    stage = _insights(data)
    trends = stage.tables["trend_tests"]
    assert (trends["dimension"] == "segment").sum() == 0
    reason = stage.summary["skipped"]["trend:segment"]
    assert reason.startswith(
        f"{len(kept)} monthly dates before 2024-01-01 at least 365 days after the first "
        f"purchase ({first:%Y-%m-%d}; {12 - len(kept)} earlier dates left out"
    ), reason
