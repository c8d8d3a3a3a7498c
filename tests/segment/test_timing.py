"""Timing patterns: hour x weekday counts, seasonality, personas, contact windows, charts.

The tiny dataset's expected values were worked out by hand from the calendar
(2024-03-04 is a Monday; 2024-07-02 a Tuesday; 2024-11-08 a Friday).
"""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from custlens.config import TimingConfig, TimingPersonaRule, TimingWindow
from custlens.errors import DataError, MappingError
from custlens.segment.timing import (
    best_contact_windows,
    hour_weekday,
    quarters_of,
    seasonality,
    timing_personas,
    weekday_table,
    weekdays_of,
)

# (order_id, customer_id, timestamp, amount); order 1 has two lines (the first line's time counts)
LINES = [
    ("1", "a", "2024-03-04 09:30", 10.0),  # Mon 9
    ("1", "a", "2024-03-04 09:31", 5.0),
    ("2", "a", "2024-03-11 09:10", 20.0),  # Mon 9
    ("3", "a", "2024-03-05 10:45", 7.0),  # Tue 10
    ("4", "b", "2024-03-09 20:00", 100.0),  # Sat 20
    ("5", "b", "2024-03-10 14:00", 50.0),  # Sun 14
    ("6", "b", "2024-03-06 18:30", 30.0),  # Wed 18
    ("7", "c", "2024-03-07 13:00", 40.0),  # Thu 13
    ("8", "c", "2024-11-08 15:59", 60.0),  # Fri 15 (Q4)
    ("9", "c", "2024-03-14 13:20", 40.0),  # Thu 13
    ("10", "d", "2024-03-08 23:59", 5.0),  # Fri 23
    ("11", "e", "2024-03-18 10:00", 10.0),  # Mon 10
    ("12", "e", "2024-03-13 12:00", 10.0),  # Wed 12
    ("13", "e", "2024-03-14 12:00", 10.0),  # Thu 12
    ("14", "e", "2024-03-16 12:00", 10.0),  # Sat 12
    ("15", "e", "2024-07-02 19:00", 10.0),  # Tue 19 (Q3)
]
SEGMENTS = pd.DataFrame(
    {"customer_id": ["a", "b", "c", "d"], "tier": ["Gold", "Silver", "Gold", "Silver"]}
)


def _frame() -> pd.DataFrame:
    df = pd.DataFrame(LINES, columns=["order_id", "customer_id", "order_ts", "amount"])
    df["order_ts"] = pd.to_datetime(df["order_ts"])
    return df


@pytest.fixture
def tx() -> ibis.Table:
    return ibis.memtable(_frame())


def _cells(table: pd.DataFrame) -> dict:
    nz = table[table["orders"] > 0]
    keys = [c for c in ("segment", "weekday", "hour") if c in nz.columns]
    return {
        tuple(r[k] for k in keys): (int(r["orders"]), float(r["revenue"])) for _, r in nz.iterrows()
    }


def test_hour_weekday_overall_hand_counts(tx):
    table = hour_weekday(tx)
    assert len(table) == 7 * 24
    assert _cells(table) == {
        (0, 9): (2, 35.0),
        (1, 10): (1, 7.0),
        (5, 20): (1, 100.0),
        (6, 14): (1, 50.0),
        (2, 18): (1, 30.0),
        (3, 13): (2, 80.0),
        (4, 15): (1, 60.0),
        (4, 23): (1, 5.0),
        (0, 10): (1, 10.0),
        (2, 12): (1, 10.0),
        (3, 12): (1, 10.0),
        (5, 12): (1, 10.0),
        (1, 19): (1, 10.0),
    }
    assert table["orders"].sum() == 15
    row = table[(table.weekday == 3) & (table.hour == 13)].iloc[0]
    assert row["weekday_name"] == "Thu"
    assert row["share_orders"] == pytest.approx(2 / 15)
    assert row["share_revenue"] == pytest.approx(80 / 417)


def test_hour_weekday_matches_independent_pandas(tx):
    df = _frame()
    orders = df.groupby("order_id").agg(ts=("order_ts", "min"), revenue=("amount", "sum"))
    expected = orders.groupby([orders.ts.dt.dayofweek, orders.ts.dt.hour]).size()  # Monday=0
    table = hour_weekday(tx).set_index(["weekday", "hour"])["orders"]
    for (wd, hr), n in expected.items():
        assert table.loc[(wd, hr)] == n
    assert table.sum() == expected.sum()


def test_stored_orders_give_the_tables_of_the_lines():
    """Orders running over midnight into the next day, lines without an order id or a
    customer: the stored orders (from the lines summed per order and day) give the same grids,
    seasonality and personas as the lines."""
    import numpy as np

    from custlens.segment.timing import stored_orders

    rng = np.random.default_rng(3)
    n = 1500
    orders = rng.integers(0, 400, n)
    start = pd.Timestamp("2024-01-01 20:00") + pd.to_timedelta(orders % 300, unit="D")
    ts = start + pd.to_timedelta(rng.integers(0, 6 * 3600, n), unit="s")  # some past midnight
    frame = pd.DataFrame(
        {
            "order_id": [f"o{o}" for o in orders],
            "customer_id": [f"c{o % 90}" for o in orders],
            "order_ts": ts.astype("datetime64[us]"),
            "amount": np.round(rng.lognormal(2.0, 1.0, n), 2),
        }
    )
    frame.loc[rng.random(n) < 0.03, "order_id"] = None
    frame.loc[rng.random(n) < 0.03, "customer_id"] = None
    lines = ibis.memtable(frame)
    stored = stored_orders(lines)
    segments = pd.DataFrame({"customer_id": [f"c{i}" for i in range(90)], "segment": "A"})
    segments.loc[::3, "segment"] = "B"
    for of_lines, of_stored in (
        (hour_weekday(lines), hour_weekday(lines, orders=stored)),
        (hour_weekday(lines, segments), hour_weekday(lines, segments, orders=stored)),
        (
            seasonality(lines, segments, period="month"),
            seasonality(lines, segments, period="month", orders=stored),
        ),
        (timing_personas(lines), timing_personas(lines, orders=stored)),
    ):
        pd.testing.assert_frame_equal(of_stored, of_lines, check_exact=True)


def test_hour_weekday_per_segment(tx):
    table = hour_weekday(tx, SEGMENTS, segment_column="tier")
    assert sorted(table["segment"].unique()) == ["Gold", "Silver"]
    assert len(table) == 2 * 7 * 24
    assert _cells(table) == {  # customer e has no segment and is left out
        ("Gold", 0, 9): (2, 35.0),
        ("Gold", 1, 10): (1, 7.0),
        ("Gold", 3, 13): (2, 80.0),
        ("Gold", 4, 15): (1, 60.0),
        ("Silver", 5, 20): (1, 100.0),
        ("Silver", 6, 14): (1, 50.0),
        ("Silver", 2, 18): (1, 30.0),
        ("Silver", 4, 23): (1, 5.0),
    }
    gold = table[(table.segment == "Gold") & (table.weekday == 3) & (table.hour == 13)].iloc[0]
    assert gold["share_orders"] == pytest.approx(2 / 6)
    assert gold["share_revenue"] == pytest.approx(80 / 182)
    # an Ibis mapping table works the same
    same = hour_weekday(tx, ibis.memtable(SEGMENTS), segment_column="tier")
    pd.testing.assert_frame_equal(same, table)


def test_best_contact_windows(tx):
    table = hour_weekday(tx, SEGMENTS.rename(columns={"tier": "segment"}))
    best = best_contact_windows(table, top_n=2)
    gold = best[best.segment == "Gold"]
    # Thu 13 and Mon 9 both have 2 orders; Thu 13 has more revenue (80 > 35)
    assert list(gold["window"]) == ["Thu 13:00-14:00", "Mon 09:00-10:00"]
    assert list(gold["rank"]) == [1, 2]
    assert list(gold["share_orders"]) == pytest.approx([2 / 6, 2 / 6])
    silver = best[best.segment == "Silver"]
    assert list(silver["window"]) == ["Sat 20:00-21:00", "Sun 14:00-15:00"]  # 100, then 50
    overall = best_contact_windows(hour_weekday(tx), top_n=1)
    assert list(overall["window"]) == ["Thu 13:00-14:00"]
    with pytest.raises(DataError):
        best_contact_windows(table, top_n=0)


def test_seasonality_quarter_and_month(tx):
    q = seasonality(tx)
    assert list(q["quarter"]) == [1, 3, 4]
    assert list(q["orders"]) == [13, 1, 1]
    assert list(q["revenue"]) == pytest.approx([347.0, 10.0, 60.0])
    assert list(q["share_orders"]) == pytest.approx([13 / 15, 1 / 15, 1 / 15])
    assert list(q["share_revenue"]) == pytest.approx([347 / 417, 10 / 417, 60 / 417])
    seg = seasonality(tx, SEGMENTS, segment_column="tier").set_index(["segment", "quarter"])
    assert seg.loc[("Gold", 1), "orders"] == 5
    assert seg.loc[("Gold", 1), "share_revenue"] == pytest.approx(122 / 182)
    assert seg.loc[("Gold", 4), "share_orders"] == pytest.approx(1 / 6)
    assert seg.loc[("Silver", 1), "share_orders"] == pytest.approx(1.0)
    m = seasonality(tx, period="month")
    assert list(m["month"]) == [3, 7, 11]
    with pytest.raises(DataError, match="period"):
        seasonality(tx, period="week")


def test_quarters_of_the_monthly_table_hand_counts(tx):
    # quarters summed from the months fetched once (the timing stage's one seasonality query)
    q = quarters_of(seasonality(tx, period="month"))
    assert list(q["quarter"]) == [1, 3, 4]
    assert list(q["orders"]) == [13, 1, 1]
    assert list(q["revenue"]) == pytest.approx([347.0, 10.0, 60.0])
    assert list(q["share_orders"]) == pytest.approx([13 / 15, 1 / 15, 1 / 15])
    assert list(q["share_revenue"]) == pytest.approx([347 / 417, 10 / 417, 60 / 417])
    months = seasonality(tx, SEGMENTS, period="month", segment_column="tier")
    seg = quarters_of(months).set_index(["segment", "quarter"])
    assert seg.loc[("Gold", 1), "orders"] == 5
    assert seg.loc[("Gold", 1), "share_revenue"] == pytest.approx(122 / 182)
    assert seg.loc[("Gold", 4), "share_orders"] == pytest.approx(1 / 6)
    assert seg.loc[("Silver", 1), "share_orders"] == pytest.approx(1.0)
    assert len(seg) == 3  # Gold Q1 and Q4, Silver Q1: no empty quarters


def test_weekdays_of_a_grid_matches_independent_pandas(tx):
    df = _frame()
    orders = df.groupby("order_id").agg(ts=("order_ts", "min"), revenue=("amount", "sum"))
    by_day = orders.groupby(orders.ts.dt.day_of_week).agg(
        n=("revenue", "size"), r=("revenue", "sum")
    )
    days = weekdays_of(hour_weekday(tx)).set_index("weekday")
    assert list(days.index) == list(range(7))
    for wd in range(7):
        n, r = (by_day.loc[wd, "n"], by_day.loc[wd, "r"]) if wd in by_day.index else (0, 0.0)
        assert days.loc[wd, "orders"] == n
        assert days.loc[wd, "revenue"] == pytest.approx(r)
    assert days["share_orders"].sum() == pytest.approx(1.0)
    per_segment = weekdays_of(hour_weekday(tx, SEGMENTS, segment_column="tier"))
    pd.testing.assert_frame_equal(per_segment, weekday_table(tx, SEGMENTS, segment_column="tier"))


def test_timing_personas_hand_built_customers(tx):
    got = timing_personas(tx).set_index("customer_id")
    assert got["timing_persona"].to_dict() == {
        "a": "Morning Planner",  # 3 of 3 orders before 11:00
        "b": "Evening/Weekend Buyer",  # Sat 20:00, Sun 14:00, Wed 18:30
        "c": "Business-Hours Buyer",  # Thu 13:00, Fri 15:59, Thu 13:20
        "d": "Too Few Orders",  # one order
        "e": "Anytime",  # morning 1/5, evening/weekend 2/5, office hours 3/5
    }
    assert got.loc["e", "share_morning_planner"] == pytest.approx(0.2)
    assert got.loc["e", "share_evening_weekend_buyer"] == pytest.approx(0.4)
    assert got.loc["e", "share_business_hours_buyer"] == pytest.approx(0.6)
    assert got.loc["a", "n_orders"] == 3
    assert (got.loc["a", "usual_weekday"], got.loc["a", "usual_hour"]) == (0, 9)
    assert got.loc["c", "usual_weekday_name"] == "Thu"
    assert got.loc["e", "usual_weekday"] == 0  # five weekdays tie: the earliest wins
    assert got.loc["e", "usual_hour"] == 12


def test_timing_persona_rules_are_data(tx):
    cfg = TimingConfig(
        personas=[
            TimingPersonaRule(
                name="Lunch Buyer",
                windows=[TimingWindow(hours=(12, 14))],
                min_share=0.6,
                description="Orders around lunch.",
            )
        ],
        min_orders=1,
        fallback_persona="Other",
    )
    got = timing_personas(tx, cfg).set_index("customer_id")["timing_persona"].to_dict()
    # lunch-time shares: a 0/3, b 0/3, c 2/3, d 0/1, e 3/5
    assert got == {"a": "Other", "b": "Other", "c": "Lunch Buyer", "d": "Other", "e": "Lunch Buyer"}
    with pytest.raises(ValueError):
        TimingWindow(hours=(20, 8))


def test_bad_input(tx):
    with pytest.raises(MappingError, match="amount"):
        hour_weekday(tx.drop("amount"))
    with pytest.raises(MappingError, match="segment table lack"):
        hour_weekday(tx, SEGMENTS)  # no "segment" column
    dup = pd.DataFrame({"customer_id": ["a", "a"], "segment": ["x", "y"]})
    with pytest.raises(DataError, match="more than once"):
        hour_weekday(tx, dup)
    with pytest.raises(DataError, match="more than once"):  # an Ibis table: checked in the engine
        hour_weekday(tx, ibis.memtable(dup))
    with pytest.raises(DataError, match="Ibis table"):
        timing_personas(_frame())


def test_timing_charts_and_save(tx, tmp_path):
    from custlens.charts import save_chart
    from custlens.charts.timing import (
        hour_weekday_heatmap,
        hour_weekday_heatmap_by_segment,
        quarter_seasonality,
    )

    overall = hour_weekday(tx)
    chart = hour_weekday_heatmap(overall)
    spec = chart.to_dict()
    assert spec["mark"]["type"] == "rect"
    assert spec["encoding"]["color"]["field"] == "orders"
    assert spec["encoding"]["y"]["sort"] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    per_seg = hour_weekday(tx, SEGMENTS, segment_column="tier")
    facet = hour_weekday_heatmap_by_segment(per_seg).to_dict()
    assert facet["facet"]["field"] == "segment"
    with pytest.raises(DataError):
        hour_weekday_heatmap(per_seg)
    seas = quarter_seasonality(seasonality(tx, SEGMENTS, segment_column="tier")).to_dict()
    assert seas["mark"]["type"] == "bar"
    assert seas["encoding"]["y"]["field"] == "share_revenue"
    assert seas["encoding"]["y"]["stack"] == "zero"
    # segments are set by recency: the title says so (New Customers are all in the last quarter)
    assert seas["title"][1].startswith("(segments depend on recency")
    # segments in the order given (the RFM rules' order), any others after them by name
    table = seasonality(tx, SEGMENTS, segment_column="tier")
    names = sorted(set(table["segment"]))
    wanted = [names[-1], "Not present", names[0]]
    ordered = quarter_seasonality(table, order=wanted).to_dict()
    assert ordered["encoding"]["x"]["sort"] == [names[-1], names[0], *names[1:-1]]
    by_name = quarter_seasonality(table).to_dict()
    assert by_name["encoding"]["x"]["sort"] == names
    facet = hour_weekday_heatmap_by_segment(per_seg, order=wanted).to_dict()
    assert facet["facet"]["sort"][:2] == [names[-1], names[0]]
    whole = quarter_seasonality(seasonality(tx)).to_dict()
    assert whole["title"] == "Seasonality by segment (share of revenue per quarter)"
    png = save_chart(chart, tmp_path / "heat.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = save_chart(hour_weekday_heatmap_by_segment(per_seg), tmp_path / "seg.svg")
    assert svg.read_text().lstrip().startswith("<svg")


def test_weekday_compiles_portably_for_pyspark(tx):
    pytest.importorskip("ibis.backends.pyspark")
    assert ibis.pyspark is not None  # loading the backend registers its compile options
    from custlens.segment.timing import orders_with_time

    sql = ibis.to_sql(orders_with_time(tx), dialect="pyspark").lower()
    assert "dayofweek" in sql  # Spark: Sunday=1 ... Saturday=7, shifted by ibis to Monday=0


@pytest.mark.slow
@pytest.mark.spark
def test_pyspark_gives_the_same_timing_as_duckdb(tx, spark):
    spark.createDataFrame(_frame()).createOrReplaceTempView("cl_timing_tx")
    stx = ibis.pyspark.connect(spark).table("cl_timing_tx")
    pd.testing.assert_frame_equal(hour_weekday(stx), hour_weekday(tx))
    pd.testing.assert_frame_equal(
        hour_weekday(stx, SEGMENTS, segment_column="tier"),
        hour_weekday(tx, SEGMENTS, segment_column="tier"),
    )
    got = timing_personas(stx).set_index("customer_id")
    want = timing_personas(tx).set_index("customer_id")
    assert got["timing_persona"].to_dict() == want["timing_persona"].to_dict()
    assert got["usual_weekday"].tolist() == want["usual_weekday"].tolist()


@pytest.mark.parametrize(
    ("stamps", "want"),
    [
        (["2024-03-04 00:00", "2024-03-04 00:00", "2024-03-05 00:00"], False),
        (["2024-03-04 00:00", "2024-03-04 00:00:01", "2024-03-05 00:00"], True),  # last line
        (["2024-03-04 00:00", "2024-03-04 10:00", "2024-03-05 00:00"], True),  # a middle line
        (["2024-03-04 00:00:00.5", "2024-03-04 00:00", "2024-03-05 00:00"], False),  # < 1 s
    ],
)
def test_has_time_of_day_sees_any_line_past_midnight(stamps, want):
    from custlens.segment.timing import has_time_of_day

    frame = pd.DataFrame(
        {
            "order_id": ["1", "1", "1"],  # one order over two days
            "customer_id": ["a", "a", "a"],
            "order_ts": pd.to_datetime(stamps, format="ISO8601").astype("datetime64[us]"),
            "amount": [1.0, 2.0, 3.0],
        }
    )
    ts = frame["order_ts"]
    assert ((ts.dt.hour != 0) | (ts.dt.minute != 0) | (ts.dt.second != 0)).any() == want
    assert has_time_of_day(ibis.memtable(frame)) is want


def test_usual_weekday_and_hour_match_independent_pandas():
    """Many customers with few orders (many ties: the smallest value wins)."""
    import numpy as np

    rng = np.random.default_rng(11)
    n = 3000
    frame = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(n)],
            "customer_id": [f"c{c}" for c in rng.integers(0, 700, n)],
            "order_ts": (
                pd.Timestamp("2024-01-01")
                + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
                + pd.to_timedelta(rng.integers(0, 24, n), unit="h")
            ).astype("datetime64[us]"),
            "amount": 1.0,
        }
    )
    got = timing_personas(ibis.memtable(frame)).set_index("customer_id")
    ts = frame.set_index("customer_id")["order_ts"]
    for column, values in (("usual_weekday", ts.dt.dayofweek), ("usual_hour", ts.dt.hour)):
        counts = values.groupby(level=0).value_counts().rename("n").reset_index()
        counts.columns = ["customer_id", "value", "n"]
        best = counts.sort_values(["customer_id", "n", "value"], ascending=[True, False, True])
        want = best.groupby("customer_id")["value"].first()
        assert (got.loc[want.index, column].to_numpy() == want.to_numpy()).all()
    assert (got["n_orders"] == frame.groupby("customer_id").size().loc[got.index]).all()
