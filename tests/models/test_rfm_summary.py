"""summary_from_transactions: a hand-checked example, CDNOW against an independent pandas
computation and the published summary of customer 1, and the error messages."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest

from custlens.errors import ConfigError, DataError, MappingError
from custlens.models.rfm_summary import summary_from_transactions


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.fixture()
def tiny() -> ibis.Table:
    rows = [
        # A: two orders on Jan 1 (one purchase day), Jan 8, two orders on Jan 15, holdout Feb 5
        ("A", "2024-01-01 10:00", 10.0),
        ("A", "2024-01-01 15:00", 5.0),
        ("A", "2024-01-08 12:00", 20.0),
        ("A", "2024-01-15 09:00", 30.0),
        ("A", "2024-01-15 18:00", 10.0),
        ("A", "2024-02-05 08:00", 50.0),
        # B: first and only calibration purchase ON calibration_end (inclusive); one holdout
        # purchase on observation_end (inclusive) and one after it (ignored)
        ("B", "2024-01-31 23:59", 7.0),
        ("B", "2024-02-29 00:01", 3.0),
        ("B", "2024-03-01 10:00", 100.0),
        # C: first purchase after calibration_end -> not in the summary
        ("C", "2024-02-01 10:00", 99.0),
    ]
    return ibis.memtable(
        {
            "customer_id": [r[0] for r in rows],
            "order_ts": [_ts(r[1]) for r in rows],
            "amount": [r[2] for r in rows],
        }
    )


def test_hand_example_days(tiny: ibis.Table) -> None:
    s = summary_from_transactions(
        tiny, calibration_end="2024-01-31", observation_end="2024-02-29", time_unit="D"
    )
    assert s["customer_id"].tolist() == ["A", "B"]
    a, b = s.iloc[0], s.iloc[1]
    # A: first Jan 1; repeat days Jan 8 ($20) and Jan 15 ($30 + $10); last Jan 15
    assert a["frequency"] == 2
    assert a["recency"] == 14.0  # Jan 15 - Jan 1
    assert a["T"] == 30.0  # Jan 31 - Jan 1
    assert a["monetary_value"] == pytest.approx((20.0 + 40.0) / 2)
    assert a["frequency_holdout"] == 1
    assert a["monetary_value_holdout"] == pytest.approx(50.0)
    assert a["duration_holdout"] == 29.0  # Feb 29 - Jan 31 (2024 is a leap year)
    # B: bought only on calibration_end itself
    assert (b["frequency"], b["recency"], b["T"], b["monetary_value"]) == (0, 0.0, 0.0, 0.0)
    assert b["frequency_holdout"] == 1
    assert b["monetary_value_holdout"] == pytest.approx(3.0)
    assert s["frequency"].dtype == np.int64


def test_hand_example_weeks_without_holdout(tiny: ibis.Table) -> None:
    s = summary_from_transactions(tiny, calibration_end=dt.date(2024, 1, 31), time_unit="W")
    assert list(s.columns) == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    a = s.iloc[0]
    assert a["recency"] == pytest.approx(2.0)
    assert a["T"] == pytest.approx(30 / 7)


def test_date_column_and_custom_names() -> None:
    t = ibis.memtable(
        {
            "cust": ["x", "x", "x"],
            "day": [dt.date(2020, 1, 1), dt.date(2020, 1, 3), dt.date(2020, 1, 3)],
            "spend": [1.0, 2.0, 4.0],
        }
    )
    s = summary_from_transactions(
        t,
        calibration_end="2020-01-10",
        time_unit="D",
        customer_col="cust",
        ts_col="day",
        amount_col="spend",
    )
    assert s.to_dict("records") == [
        {"cust": "x", "frequency": 1, "recency": 2.0, "T": 9.0, "monetary_value": 6.0}
    ]


@pytest.fixture(scope="module")
def cdnow(cdnow_path) -> tuple[ibis.Table, pd.DataFrame]:
    con = ibis.duckdb.connect()
    raw = con.read_csv(str(cdnow_path))
    table = raw.select(
        customer_id=raw.sample_id.cast("string"),
        order_ts=raw.date,
        amount=raw.dollars.cast("float64"),
    )
    frame = pd.read_csv(cdnow_path, parse_dates=["date"])
    return table, frame


def test_cdnow_matches_independent_pandas(cdnow) -> None:
    table, frame = cdnow
    s = summary_from_transactions(table, calibration_end="1997-09-30", time_unit="W")
    # independent computation: distinct purchase days per customer in the calibration period
    cal = frame[frame["date"] <= "1997-09-30"]
    days = cal.groupby(["sample_id", "date"], as_index=False)["dollars"].sum()
    first = days.groupby("sample_id")["date"].transform("min")
    last = days.groupby("sample_id")["date"].transform("max")
    days["repeat"] = days["date"] > first
    per = (
        days.assign(first=first, last=last)
        .groupby("sample_id")
        .agg(x=("repeat", "sum"), first=("first", "first"), last=("last", "first"))
    )
    repeat_spend = days[days["repeat"]].groupby("sample_id")["dollars"].mean()
    per["m"] = repeat_spend.reindex(per.index).fillna(0.0)
    per.index = per.index.astype(str)
    per = per.loc[s["customer_id"]]

    assert len(s) == 2357  # all CDNOW sample customers bought first in Q1 1997
    assert int((s["frequency"] > 0).sum()) == int((per["x"] > 0).sum())
    np.testing.assert_array_equal(s["frequency"].to_numpy(), per["x"].to_numpy())
    np.testing.assert_allclose(
        s["recency"].to_numpy(), (per["last"] - per["first"]).dt.days.to_numpy() / 7
    )
    np.testing.assert_allclose(
        s["T"].to_numpy(), (pd.Timestamp("1997-09-30") - per["first"]).dt.days.to_numpy() / 7
    )
    np.testing.assert_allclose(s["monetary_value"].to_numpy(), per["m"].to_numpy())


def test_cdnow_customer_one_matches_published_summary(cdnow) -> None:
    # Hardie's CDNOW summary file (used in the BG/NBD paper) lists ID 1 as x=2, t_x=30.43, T=38.86
    s = summary_from_transactions(cdnow[0], calibration_end="1997-09-30")
    one = s[s["customer_id"] == "1"].iloc[0]
    assert (one["frequency"], round(one["recency"], 2), round(one["T"], 2)) == (2, 30.43, 38.86)


def test_cdnow_holdout_against_independent_pandas(cdnow) -> None:
    table, frame = cdnow
    s = summary_from_transactions(table, calibration_end="1997-09-30", observation_end="1998-06-30")
    hold = frame[(frame["date"] > "1997-09-30") & (frame["date"] <= "1998-06-30")]
    expected = hold.groupby("sample_id")["date"].nunique()
    expected.index = expected.index.astype(str)
    got = s.set_index("customer_id")["frequency_holdout"]
    np.testing.assert_array_equal(
        got.to_numpy(), expected.reindex(got.index).fillna(0).astype(int).to_numpy()
    )
    assert s["duration_holdout"].iloc[0] == pytest.approx(273 / 7)  # Oct 1 .. Jun 30: 39 weeks


@pytest.mark.parametrize(
    ("kwargs", "error", "needle"),
    [
        ({"time_unit": "M"}, ConfigError, "time unit"),
        ({"observation_end": "2024-01-31"}, ConfigError, "not after"),
        ({"calibration_end": "next tuesday"}, ConfigError, "calibration_end"),
        ({"amount_col": "price"}, MappingError, "lack the column.*price"),
        ({"calibration_end": "2023-01-01"}, DataError, "No customer"),
    ],
)
def test_errors(tiny: ibis.Table, kwargs: dict, error: type, needle: str) -> None:
    args = {"calibration_end": "2024-01-31", **kwargs}
    with pytest.raises(error, match=needle):
        summary_from_transactions(tiny, **args)


def test_string_timestamp_column_is_rejected() -> None:
    t = ibis.memtable({"customer_id": ["a"], "order_ts": ["2020-01-01"], "amount": [1.0]})
    with pytest.raises(DataError, match="not a date or timestamp"):
        summary_from_transactions(t, calibration_end="2020-02-01")


@pytest.mark.slow
@pytest.mark.spark
def test_pyspark_gives_the_same_summary_as_duckdb(cdnow, spark) -> None:
    table, frame = cdnow
    lines = pd.DataFrame(
        {
            "customer_id": frame["sample_id"].astype(str).astype(object),
            "order_ts": frame["date"].astype("datetime64[us]"),
            "amount": frame["dollars"].astype(float),
        }
    )
    spark.createDataFrame(lines).createOrReplaceTempView("cl_btyd_lines")
    con = ibis.pyspark.connect(spark)
    kwargs = {"calibration_end": "1997-09-30", "observation_end": "1998-06-30"}
    got = summary_from_transactions(con.table("cl_btyd_lines"), **kwargs)
    expected = summary_from_transactions(table, **kwargs)
    assert got["customer_id"].tolist() == expected["customer_id"].tolist()
    for col in expected.columns[1:]:
        np.testing.assert_allclose(
            got[col].to_numpy(float), expected[col].to_numpy(float), rtol=1e-12, err_msg=col
        )
