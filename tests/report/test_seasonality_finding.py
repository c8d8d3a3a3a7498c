"""The peak-quarter finding compares quarters per day of data: 18 months hold two first and
second quarters but one third and fourth, which pooled revenue would count twice."""

from __future__ import annotations

import pandas as pd

import custlens
from custlens.pipeline.stages.sections import timing_section
from custlens.segment.timing import days_per_quarter


def test_days_per_quarter_by_hand():
    # 2023-01-01 .. 2024-06-30: Q1 90 + 91 (leap year), Q2 91 + 91, Q3 92, Q4 92
    days = days_per_quarter(pd.Timestamp("2023-01-01 10:00"), pd.Timestamp("2024-06-30 08:00"))
    assert days.to_dict() == {1: 181, 2: 182, 3: 92, 4: 92}
    assert days_per_quarter(pd.Timestamp("2023-03-31"), pd.Timestamp("2023-04-01")).to_dict() == {
        1: 1,
        2: 1,
        3: 0,
        4: 0,
    }


def _daily_orders(amount_by_quarter: dict[int, float]) -> pd.DataFrame:
    """One order a day from 2023-01-01 to 2024-06-30, customers in turn, amount by quarter."""
    days = pd.date_range("2023-01-01 12:00", "2024-06-30 12:00", freq="D")
    return pd.DataFrame(
        {
            "customer_id": [f"c{i % 12}" for i in range(len(days))],
            "order_id": [f"o{i}" for i in range(len(days))],
            "date": days,
            "amount": [amount_by_quarter[q] for q in days.quarter],
        }
    )


def _peak_findings(orders: pd.DataFrame) -> list[str]:
    settings = custlens.Settings(analyses=["timing"])
    results = custlens.run(orders, settings=settings)
    section = timing_section(results.stages["timing"], results)
    return [f.text for f in section.findings if f.rule == "peak_quarter"]


def test_the_same_revenue_every_day_has_no_peak_quarter():
    # pooled, Q1 would bring 181 / 547 = 33 % (above the 30 % bar); per day each quarter has 25 %
    assert _peak_findings(_daily_orders({1: 10.0, 2: 10.0, 3: 10.0, 4: 10.0})) == []


def test_a_quarter_with_three_times_the_daily_revenue_brings_half_a_year():
    # per day: 10, 10, 10, 30 -> Q4 brings 30 / 60 = 50 % (pooled: 2,760 / 7,310 = 38 %)
    found = _peak_findings(_daily_orders({1: 10.0, 2: 10.0, 3: 10.0, 4: 30.0}))
    assert found == [
        "Q4 brings 50% of a year's revenue (each quarter's revenue per day of data in it)."
    ]
