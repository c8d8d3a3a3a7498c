"""Temporal building blocks: tie-breaks, gaps between order dates, lifecycle rules as data, and
portability (the same expressions compile for PySpark and give the same numbers there)."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from custlens.config import FeaturesConfig, LifecycleConfig, Settings
from custlens.features import temporal
from custlens.features.behavioral import behavioral_features

from .test_behavioral import AS_OF, run, tiny_purchases, tiny_returns

CON = ibis.duckdb.connect()


def _orders(rows):
    df = pd.DataFrame(rows, columns=["customer_id", "ts"])
    df["ts"] = pd.to_datetime(df.ts)
    df["value"] = 1.0
    return temporal.add_calendar(ibis.memtable(df))


def test_preferred_hour_tie_goes_to_earliest_hour():
    o = _orders(
        [
            ("a", "2021-01-01 17:00"),
            ("a", "2021-01-02 17:30"),
            ("a", "2021-01-03 06:00"),
            ("a", "2021-01-04 06:59"),
            ("a", "2021-01-05 12:00"),  # 17 x2, 6 x2, 12 x1 -> 6
            ("b", "2021-01-01 23:00"),
            ("b", "2021-01-02 23:10"),
            ("b", "2021-01-03 01:00"),  # 23
            ("c", "2021-01-01 00:30"),
        ]
    )
    got = CON.to_pandas(temporal.preferred_hour(o)).set_index("customer_id").preferred_hour
    assert got.sort_index().to_dict() == {"a": 6, "b": 23, "c": 0}


def test_interval_stats_use_distinct_dates():
    o = _orders(
        [
            ("a", "2021-01-01 10:00"),
            ("a", "2021-01-01 18:00"),  # same date twice
            ("a", "2021-01-03 09:00"),
            ("a", "2021-01-10 23:59"),
            ("a", "2021-01-11 00:01"),
            ("b", "2021-03-01 10:00"),
            ("b", "2021-03-31 10:00"),
        ]
    )
    got = CON.to_pandas(temporal.interval_stats(o)).set_index("customer_id").sort_index()
    gaps = [2, 7, 1]  # 01-01 -> 01-03 -> 01-10 -> 01-11 (calendar days, not 24-hour periods)
    assert got.loc["a", "interval_max_days"] == 7
    assert got.loc["a", "interval_std_days"] == pytest.approx(np.std(gaps, ddof=1))
    assert got.loc["b", "interval_max_days"] == 30 and pd.isna(got.loc["b", "interval_std_days"])


# hand-made customers: (tenure days, recency days, mean interval days or None, revenue trend)
CUSTOMERS = {
    "new": (30, 10, 10.0, 0.0),
    "lapsed_cadence": (400, 200, 50.0, -1.0),  # 200 > max(180, 150)
    "slow_cadence": (800, 200, 100.0, 0.0),  # 200 < max(180, 300); 200 > 1.5 x 100 -> at risk
    "one_date_old": (120, 120, None, -1.0),  # one order date 120 days ago: 120 > 90
    "falling": (500, 10, 20.0, -0.6),  # on cadence but trend < -0.5
    "young": (200, 10, 20.0, 0.0),  # tenure < 365
    "rising": (500, 10, 20.0, 0.5),  # trend >= 0.5
    "steady": (500, 10, 20.0, 0.1),
}


def _stages(**rules) -> dict[str, str]:
    df = pd.DataFrame(
        [(k, *v) for k, v in CUSTOMERS.items()],
        columns=["customer_id", "_tenure", "_recency", "interval_mean_days", "revenue_trend_90d"],
    )
    t = ibis.memtable(df.astype({"_tenure": float, "_recency": float}))
    t = t.mutate(stage=temporal.lifecycle_stage(t, LifecycleConfig(**rules)))
    return CON.to_pandas(t).set_index("customer_id").stage.to_dict()


def test_lifecycle_default_rules():
    assert _stages() == {
        "new": "new",
        "lapsed_cadence": "lapsed",
        "slow_cadence": "at_risk",
        "one_date_old": "at_risk",
        "falling": "at_risk",
        "young": "growing",
        "rising": "growing",
        "steady": "mature",
    }


def test_lifecycle_thresholds_are_data():
    assert _stages(new_max_tenure_days=20)["new"] == "growing"
    assert _stages(lapsed_min_recency_days=250)["lapsed_cadence"] == "at_risk"
    assert _stages(lapsed_cadence_multiple=1.9)["slow_cadence"] == "lapsed"
    assert _stages(at_risk_cadence_multiple=2.5)["slow_cadence"] == "mature"
    assert _stages(at_risk_single_date_recency_days=150)["one_date_old"] == "at_risk"  # trend -1
    assert _stages(at_risk_max_revenue_trend=-1.0)["one_date_old"] == "at_risk"  # 120 > 90
    assert _stages(at_risk_max_revenue_trend=-0.7)["falling"] == "mature"
    assert _stages(mature_min_tenure_days=150)["young"] == "mature"
    assert _stages(growing_min_revenue_trend=0.6)["rising"] == "mature"
    assert _stages(growing_min_revenue_trend=0.1)["steady"] == "growing"


def test_lifecycle_end_to_end_with_config():
    config = FeaturesConfig(lifecycle=LifecycleConfig(new_max_tenure_days=200))
    df, _ = run(tiny_purchases(), config=config)
    assert df.lifecycle_stage["A"] == "new"  # tenure 178 < 200 (at_risk by default)


def test_lifecycle_config_lives_in_settings():
    s = Settings().with_overrides(**{"features.lifecycle.new_max_tenure_days": 30})
    assert s.features.lifecycle.new_max_tenure_days == 30
    assert s.features.bulk_min_median_items == 100


def test_compiles_for_pyspark_without_mode():
    result = behavioral_features(
        ibis.memtable(tiny_purchases()), ibis.memtable(tiny_returns()), as_of=AS_OF
    )
    pytest.importorskip("pyspark")
    assert ibis.pyspark.name == "pyspark"  # loading the backend registers its compile options
    sql = ibis.to_sql(result.table, dialect="pyspark")
    assert "mode(" not in sql.lower()
    assert "row_number()" in sql.lower()


@pytest.mark.slow
@pytest.mark.spark
def test_pyspark_gives_the_same_numbers_as_duckdb(spark):  # the session fixture in conftest
    # Spark's pandas conversion would turn the missing customer id into the text "NaN"
    purchases = tiny_purchases().dropna(subset=["customer_id"])
    con = ibis.pyspark.connect(spark)
    spark.createDataFrame(purchases).createOrReplaceTempView("cl_feat_p")
    spark.createDataFrame(tiny_returns()).createOrReplaceTempView("cl_feat_r")
    result = behavioral_features(con.table("cl_feat_p"), con.table("cl_feat_r"), as_of=AS_OF)
    got = con.to_pandas(result.table).set_index("customer_id").sort_index()
    expected, _ = run(tiny_purchases(), tiny_returns())
    assert list(got.index) == list(expected.index)
    for col in expected.columns:
        if col == "lifecycle_stage":
            assert got[col].tolist() == expected[col].tolist()
        else:
            np.testing.assert_allclose(
                got[col].to_numpy(float), expected[col].to_numpy(float), rtol=1e-9, err_msg=col
            )


def test_orders_carry_the_calendar_parts_of_their_first_line():
    # the orders table computes the calendar parts inside its aggregation (one stored table of
    # orders in the engine); expected values from pandas' own calendar of each first line
    from custlens.features.behavioral import _orders as orders_of

    lines = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b"],
            "order_id": ["1", "1", "2", "3", "3"],
            "order_ts": pd.to_datetime(
                [
                    "2021-03-31 23:59",  # order 1 starts on a Wednesday in March (Q1) ...
                    "2021-04-01 08:00",  # ... and ends in April (Q2): the first line counts
                    "2021-12-26 00:30",  # a Sunday
                    "2020-06-06 13:15",  # a Saturday
                    "2020-06-05 07:00",  # order 3's first line, a Friday
                ]
            ),
            "quantity": [1.0, 2.0, 1.0, 1.0, 3.0],
            "unit_price": [2.0, 1.0, 5.0, 4.0, 1.0],
        }
    )
    lines["amount"] = lines.quantity * lines.unit_price
    got = orders_of(ibis.memtable(lines)).to_pandas().set_index("order_id").sort_index()
    first = lines.groupby("order_id").order_ts.min().sort_index()
    assert got.ts.tolist() == first.tolist()
    assert [d.isoformat() for d in pd.to_datetime(got.d).dt.date] == [
        "2021-03-31",
        "2021-12-26",
        "2020-06-05",
    ]
    assert got.qtr.tolist() == [1, 4, 2]
    assert got.mon.tolist() == [3, 12, 6]
    assert got.hr.tolist() == [23, 0, 7]
    assert got.dow.tolist() == [2, 6, 4]  # Monday = 0
    assert got.ym.tolist() == [2021 * 12 + 2, 2021 * 12 + 11, 2020 * 12 + 5]
    assert got.value.tolist() == [4.0, 5.0, 7.0]
