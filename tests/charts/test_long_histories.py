"""Charts whose rows grow with the length of the history keep to Altair's 5,000 rows per dataset
(``MaxRowsError`` in ``to_dict`` otherwise) and say in their titles what they draw."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custlens.charts.insights import anomaly_chart, insight_overview
from custlens.charts.migration import cohort_heatmap
from custlens.charts.models import btyd_tracking_chart

ALTAIR_MAX_ROWS = 5000  # altair.vegalite.data.default_data_transformer(max_rows=5000)


def _datasets(spec: dict) -> list[list[dict]]:
    return list(spec.get("datasets", {}).values())


def _title(spec: dict) -> str:
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    return " ".join(title) if isinstance(title, list) else str(title)


def _scores(weeks: pd.DatetimeIndex, months: pd.DatetimeIndex) -> pd.DataFrame:
    """An anomaly_scores table: one row per period and measure."""
    rows = [
        {"period": period, "start": start, "measure": measure, "value": 10.0, "robust_z": 0.5}
        for period, starts in (("week", weeks), ("month", months))
        for start in starts
        for measure in ("orders", "revenue")
    ]
    return pd.DataFrame(rows)


def test_anomaly_chart_of_fifty_years_draws_every_month_and_the_latest_weeks():
    # complete weeks (Mondays) and months of 1975-2025: 2,661 weeks and 612 months, two
    # measures each = 6,546 rows (the crash: 6,544 rows in a run on 50 years of orders)
    weeks = pd.date_range("1975-01-06", "2025-12-29", freq="W-MON")
    months = pd.date_range("1975-01-01", "2025-12-01", freq="MS")
    assert (len(weeks), len(months)) == (2661, 612)
    spec = anomaly_chart(_scores(weeks, months)).to_dict()  # raised MaxRowsError
    assert all(len(d) <= ALTAIR_MAX_ROWS for d in _datasets(spec))
    drawn = pd.DataFrame(max(_datasets(spec), key=len))
    drawn["start"] = pd.to_datetime(drawn["start"])
    # months: 612 x 2 = 1,224 rows; the weeks get the other 3,776 rows = 1,888 weeks
    drawn_months = drawn.loc[drawn["period"] == "month", "start"]
    drawn_weeks = drawn.loc[drawn["period"] == "week", "start"]
    assert sorted(drawn_months.unique()) == list(months)
    assert sorted(drawn_weeks.unique()) == list(weeks[-1888:])
    assert len(drawn) == 5000
    first = weeks[-1888]  # 2661 - 1888 = 773 weeks after 1975-01-06
    assert first == pd.Timestamp("1975-01-06") + pd.Timedelta(weeks=773)
    title = _title(spec)
    assert f"the last 1,888 of 2,661 weeks, from {first:%Y-%m-%d}" in title
    assert "all 612 months" in title


def test_anomaly_chart_draws_everything_when_it_fits():
    weeks = pd.date_range("2022-01-03", "2023-12-25", freq="W-MON")
    months = pd.date_range("2022-01-01", "2023-12-01", freq="MS")
    spec = anomaly_chart(_scores(weeks, months)).to_dict()
    drawn = max(_datasets(spec), key=len)
    assert len(drawn) == 2 * (len(weeks) + len(months))
    assert spec["title"] == "Revenue and orders against their baseline (robust z)"


def test_anomaly_chart_drops_the_weeks_when_the_months_fill_the_budget():
    weeks = pd.date_range("2020-01-06", periods=20, freq="W-MON")
    months = pd.date_range("2020-01-01", periods=10, freq="MS")
    scores = _scores(weeks, months)
    # 30 rows: 10 months (20 rows) and the latest 5 weeks (10 rows)
    drawn = pd.DataFrame(max(_datasets(anomaly_chart(scores, max_rows=30).to_dict()), key=len))
    assert (drawn["period"] == "month").sum() == 20
    assert sorted(pd.to_datetime(drawn.loc[drawn["period"] == "week", "start"]).unique()) == list(
        weeks[-5:]
    )
    # 10 rows: the latest 5 months, no week
    spec = anomaly_chart(scores, max_rows=10).to_dict()
    drawn = pd.DataFrame(max(_datasets(spec), key=len))
    assert set(drawn["period"]) == {"month"}
    assert sorted(pd.to_datetime(drawn["start"]).unique()) == list(months[-5:])
    assert "no weeks (too many to draw: 20)" in _title(spec)
    assert "the last 5 of 10 months, from 2020-06-01" in _title(spec)


def test_insight_overview_counts_per_kind_and_severity():
    # 6,100 insights (a long history flags many weeks): one row per kind and severity
    insights = pd.DataFrame(
        {
            "kind": ["anomaly"] * 5500 + ["trend"] * 600,
            "severity": ["high"] * 4000 + ["low"] * 1500 + ["medium"] * 600,
        }
    ).assign(id=lambda d: [f"i{i}" for i in range(len(d))])
    spec = insight_overview(insights).to_dict()  # raised MaxRowsError
    (data,) = _datasets(spec)
    counts = {(r["kind"], r["severity"]): r["insights"] for r in data}
    assert counts == {("anomaly", "high"): 4000, ("anomaly", "low"): 1500, ("trend", "medium"): 600}


def _tracking(n: int, calibration: int, unit: str = "week") -> pd.DataFrame:
    step = 7 if unit == "week" else 1
    end = pd.Timestamp("1975-01-05") + pd.to_timedelta(np.arange(n) * step, unit="D")
    return pd.DataFrame(
        {
            "period": np.arange(n),
            "period_end": end.date,
            "unit": unit,
            "phase": np.where(np.arange(n) < calibration, "calibration", "holdout"),
            "actual_cumulative": np.arange(n, dtype=float) * 3,
            "predicted_cumulative": np.arange(n, dtype=float) * 2.5,
        }
    )


def test_btyd_tracking_of_fifty_years_draws_one_week_in_two():
    # 2,650 weekly periods, two rows each = 5,300 rows; room for 2,500 periods, one of them the
    # end of calibration: one week in ceil(2650 / 2499) = 2, counted back from the last (odd
    # positions: 1,325 weeks) and the last calibration week (position 2000, even) = 1,326
    table = _tracking(2650, calibration=2001)
    spec = btyd_tracking_chart(table).to_dict()  # raised MaxRowsError
    assert all(len(d) <= ALTAIR_MAX_ROWS for d in _datasets(spec))
    lines = pd.DataFrame(max(_datasets(spec), key=len))
    assert len(lines) == 2 * 1326
    ends = pd.to_datetime(lines["period_end"])
    expected = [p for p in range(2650) if p % 2 == 1] + [2000]
    wanted = pd.to_datetime(table["period_end"].iloc[sorted(expected)])
    assert sorted(ends.unique()) == list(wanted)
    # the values drawn are the table's cumulative counts at those weeks
    actual = lines[lines["series"] == "actual"].sort_values("period_end")["purchases"]
    assert actual.tolist() == [3.0 * p for p in sorted(expected)]
    assert "one week in 2 drawn: 1,326 of 2,650" in _title(spec)


def test_btyd_tracking_draws_every_period_when_it_fits_and_names_days_daily():
    spec = btyd_tracking_chart(_tracking(300, calibration=200, unit="day")).to_dict()
    lines = max(_datasets(spec), key=len)
    assert len(lines) == 600
    assert spec["title"] == "Cumulative repeat purchases (daily): actual vs expected"


def test_cohort_heatmap_of_fifty_years_draws_the_latest_cohorts():
    # 612 monthly cohorts (1975-01 .. 2025-12), months 0..24 each: 612 x 24 cells after month 0
    cohorts = [f"{1975 + m // 12}-{m % 12 + 1:02d}" for m in range(612)]
    frame = pd.DataFrame(
        [(c, k) for c in cohorts for k in range(25)], columns=["cohort", "months_since"]
    ).assign(customers=5, revenue=10.0, customer_share=0.5, cohort_customers=10)
    spec = cohort_heatmap(frame).to_dict()  # raised MaxRowsError
    (data,) = _datasets(spec)
    # 5,000 // 24 = 208 cohorts; the latest 208 start 404 months after 1975-01: 2008-09
    assert len(data) == 208 * 24
    assert sorted({r["cohort"] for r in data}) == cohorts[-208:]
    assert cohorts[-208] == "2008-09"
    assert "the latest 208 of 612 cohorts, from 2008-09" in _title(spec)


def test_insight_overview_names_the_kinds_in_words():
    insights = pd.DataFrame(
        {
            "kind": ["high_value_at_risk", "cross_sell", "segment_shift", "some_new_kind"],
            "severity": ["high"] * 4,
            "id": ["a", "b", "c", "d"],
        }
    )
    (data,) = _datasets(insight_overview(insights).to_dict())
    assert sorted(r["kind"] for r in data) == [
        "cross-sell",
        "high-value customers at risk",
        "segment shift",
        "some new kind",
    ]


def test_btyd_tracking_has_one_legend_and_labels_the_end_of_calibration():
    spec = btyd_tracking_chart(_tracking(30, calibration=20)).to_dict()
    [lines] = [layer for layer in spec["layer"] if layer["mark"]["type"] == "line"]
    encoding = lines["encoding"]
    # a legend=None on the dash channel hid the shared legend: neither channel hides it
    assert encoding["color"].get("legend", {}) is not None
    assert encoding["strokeDash"].get("legend", {}) is not None
    data = max(_datasets(spec), key=len)
    assert sorted({row["series"] for row in data}) == ["actual", "expected"]
    [note] = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    [label] = [d for d in _datasets(spec) if d and "label" in d[0]]
    assert label[0]["label"] == "end of calibration"
    assert note["encoding"]["text"]["field"] == "label"
