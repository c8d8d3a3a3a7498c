"""A ``customer_id,date,amount`` log (the README's simplest layout) runs every stage.

Before the fix, the missing quantity became a ``DECIMAL(2,1)`` literal in the engine, the item
features arrived as Python Decimals and personas and anomalies were skipped.
"""

from __future__ import annotations

import pandas as pd
import pytest

import custlens
from custlens.pipeline.registry import STAGES


@pytest.fixture(scope="module")
def three_column_log() -> pd.DataFrame:
    orders = custlens.datasets.synthetic(600, seed=3).orders
    orders = orders[orders["CustomerID"].notna() & (orders["Quantity"] > 0)]
    lines = orders.assign(amount=orders["Quantity"] * orders["UnitPrice"])
    log = lines.groupby(["CustomerID", "InvoiceNo"], as_index=False).agg(
        date=("InvoiceDate", "min"), amount=("amount", "sum")
    )
    return pd.DataFrame(
        {
            "customer_id": log["CustomerID"].astype("int64").astype(str),
            "date": pd.to_datetime(log["date"]).dt.strftime("%Y-%m-%d %H:%M"),
            "amount": log["amount"],
        }
    )


def test_canonical_numbers_are_float64_without_quantity(three_column_log):
    cleaned = custlens.clean(custlens.load(three_column_log).table)
    for table in (cleaned.purchases, cleaned.returns):
        for column in ("quantity", "unit_price", "amount"):
            assert table[column].type().is_float64(), (column, table[column].type())


def test_every_stage_runs_on_a_three_column_log(three_column_log):
    results = custlens.run(three_column_log)
    # every stage runs except the basket, which needs products (and says so)
    assert list(results.skipped) == ["basket"]
    assert "product_id" in results.skipped["basket"]
    assert set(results.stages) == {s.name for s in STAGES} - {"basket"}
    numeric = results.customers[["avg_items_per_order", "max_items_per_order"]]
    assert all(str(d) == "float64" for d in numeric.dtypes)


def test_date_only_logs_skip_the_hour_analyses(three_column_log):
    dates_only = three_column_log.assign(date=three_column_log["date"].str[:10])
    settings = custlens.Settings().with_overrides(analyses=["timing"])
    results = custlens.run(dates_only, settings=settings)
    timing = results.stages["timing"]
    assert "hour_weekday" not in timing.tables and "contact_windows" not in timing.tables
    assert "best_windows" not in timing.summary and timing.summary["time_of_day"] is False
    assert any("no time of day" in note for note in timing.notes)
    weekday = timing.tables["weekday"]
    overall = weekday[weekday["segment"] == "All customers"]
    assert overall["weekday"].tolist() == list(range(7))
    assert overall["orders"].sum() == dates_only.groupby(["customer_id", "date"]).ngroups
    assert {"quarter_seasonality", "month_seasonality"} <= set(timing.tables)
    # no rule may read a time of day that is not there: "Morning Planner" (hours 0-11) is gone
    assert "Morning Planner" not in set(timing.summary["timing_personas"])
    assert set(timing.charts(None)) == {"quarter_seasonality"}
    # the report's section has no contact windows then (it used to fail on the missing grid)
    section = timing.section(results)
    assert "contact_windows" not in repr(section)
    assert "Quarter" in repr(section) or "quarter" in repr(section)


def test_timed_logs_keep_the_hour_analyses(three_column_log):
    settings = custlens.Settings().with_overrides(analyses=["timing"])
    timing = custlens.run(three_column_log, settings=settings).stages["timing"]
    assert {"hour_weekday", "contact_windows", "weekday"} <= set(timing.tables)
    assert timing.summary["time_of_day"] is True and timing.summary["best_windows"]


def test_date_only_logs_name_the_weekend_persona_without_the_evening():
    # a: four Saturdays; b: four Mondays; c-f: two orders (too few); dates only
    saturdays = pd.date_range("2024-03-02", periods=4, freq="7D")
    mondays = pd.date_range("2024-03-04", periods=4, freq="7D")
    rows = [("a", d) for d in saturdays] + [("b", d) for d in mondays]
    rows += [(c, d) for c in "cdef" for d in (mondays[0], saturdays[1])]
    log = pd.DataFrame(
        {
            "customer_id": [c for c, _ in rows],
            "date": [d.strftime("%Y-%m-%d") for _, d in rows],
            "amount": 10.0,
        }
    )
    results = custlens.run(log, settings=custlens.Settings(analyses=["timing"]))
    customers = results.customers
    personas = dict(zip(customers["customer_id"], customers["timing_persona"], strict=True))
    assert personas == {
        "a": "Weekend Buyer",
        "b": "Anytime",
        **{c: "Too Few Orders" for c in "cdef"},
    }
