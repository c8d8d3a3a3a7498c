"""The insights' sentences never print ``nan``: a ratio to a baseline of 0, or a slope relative to
a median level of 0, is left out and the level given instead."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custlens.config.insights import InsightsConfig
from custlens.insights.record import rate
from custlens.insights.series_kinds import (
    ANOMALY_COLUMNS,
    anomaly_insights,
    trend_insights,
    trend_table,
)


def _scores(*rows: tuple[str, str, float, float, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "period": period,
                "start": pd.Timestamp(start),
                "measure": "orders",
                "value": value,
                "baseline_median": median,
                "baseline": "neighbouring",
                "baseline_periods": 40,
                "robust_z": z,
            }
            for period, start, value, median, z in rows
        ],
        columns=ANOMALY_COLUMNS,
    )


def test_anomaly_against_a_baseline_of_zero_has_no_ratio():
    config = InsightsConfig()
    scores = _scores(
        ("week", "2023-09-04", 80.0, 0.0, 8.9),  # sixcust.parquet: a median week of no orders
        ("week", "2023-10-02", 80.0, 0.38, 6.0),  # 80 / 0.38 = 210.526...
        ("month", "2023-11-01", 300.0, 100.0, 5.0),
    )
    zero, small, plain = anomaly_insights(scores, config)
    assert zero.finding == (
        "Orders in the week of 2023-09-04: 80, against a baseline median of 0 (neighbouring "
        "weeks, robust z = +8.9, above the +/-4 cut-off)."
    )
    assert zero.effect_size is None
    assert zero.to_dict()["effect_size"] is None
    # a median below one order is not printed as 0
    assert "80, 210.53 times the baseline median 0.38 (" in small.finding
    assert small.effect_size == 80.0 / 0.38
    assert "November 2023: 300, 3.00 times the baseline median 100 (" in plain.finding
    for insight in (zero, small, plain):
        assert "nan" not in insight.finding and "inf" not in insight.finding


def test_trend_from_a_median_level_of_zero_gives_the_level_not_a_relative_slope():
    config = InsightsConfig()
    # a segment with no customers for 7 months, then 1% to 5%: its median share is 0
    share = np.array([0.0] * 7 + [0.01, 0.02, 0.03, 0.04, 0.05])
    months = pd.date_range("2023-01-01", periods=12, freq="MS")
    table = trend_table({("segment", "New Customers"): pd.Series(share, index=months)}, config)
    assert np.isnan(table["relative_slope"].iloc[0])  # slope / median level 0
    assert table["p_adjusted"].iloc[0] < config.alpha
    (insight,) = trend_insights(table, config)
    # Sen's slope: the median of the 66 pairwise slopes (independent computation)
    pairs = [
        (share[j] - share[i]) / (j - i) for i in range(len(share)) for j in range(i + 1, len(share))
    ]
    slope = float(np.median(pairs))
    assert insight.finding.startswith(
        f"The New Customers share of customers rose from a median level of 0.0% (Sen's slope "
        f"{slope:+.2%} per month over 12 months, 2023-01-01 to 2023-12-01;"
    )
    assert "nan" not in insight.finding
    rated = rate(insight, config)  # no relative size: low, and a score that orders
    assert (rated.severity, rated.severity_score) == ("low", 0.0)


def test_a_period_without_revenue_is_not_called_zero_times_its_baseline():
    # Online Retail's week of 2010-12-27: the shop was closed, no order at all
    scores = _scores(("week", "2010-12-27", 0.0, 119_585.0, -51.6))
    (closed,) = anomaly_insights(scores, InsightsConfig())
    assert closed.finding == (
        "Orders in the week of 2010-12-27: 0, against a baseline median of 119,585 "
        "(neighbouring weeks, robust z = -51.6, below the +/-4 cut-off)."
    )


def test_orders_and_revenue_flagged_together_are_one_finding():
    # Online Retail's closed Christmas week: no orders, so no revenue either; one finding
    scores = pd.concat(
        [
            _scores(("week", "2010-12-27", 0.0, 268.0, -23.0)),
            _scores(("week", "2010-12-27", 0.0, 119_585.0, -51.6)).assign(measure="revenue"),
            # the week before: only revenue is flagged, on its own
            _scores(("week", "2010-12-20", 45_137.0, 122_184.0, -4.3)).assign(measure="revenue"),
        ],
        ignore_index=True,
    )
    closed, before = anomaly_insights(scores, InsightsConfig())
    assert closed.id == "anomaly:orders+revenue:week:2010-12-27"
    assert closed.title == "Unusual orders and revenue in the week of 2010-12-27"
    assert closed.finding == (
        "Orders in the week of 2010-12-27: 0, against a baseline median of 268 (neighbouring "
        "weeks, robust z = -23.0); revenue: 0, against a baseline median of 119,585 (robust z = "
        "-51.6, both below the +/-4 cut-off)."
    )
    assert closed.metric_value == -51.6  # the stronger of the two sets the severity
    assert closed.numbers["orders_value"] == 0.0
    assert closed.numbers["revenue_baseline_median"] == 119_585.0
    assert before.id == "anomaly:revenue:week:2010-12-20"
    assert before.finding.startswith("Revenue in the week of 2010-12-20: 45,137, 0.37 times")


def test_cross_sell_names_the_segment_once_and_its_adjusted_p_value():
    from custlens.insights.customer_kinds import cross_sell

    rules = pd.DataFrame(
        {
            "segment": ["Loyal Customers", "At Risk"],
            "antecedent": ["TEA PLATE PINK", "PAPER CUPS"],
            "consequent": ["TEA PLATE GREEN", "PAPER PLATES"],
            "lift": [58.07, 50.33],
            "confidence": [0.84, 0.8333],
            "support": [0.0108, 0.0132],
            "p_value": [1e-30, 0.004],
            "q_value": [0.0, 0.012],
        }
    )
    at_risk, loyal = cross_sell({"segment_rules": rules}, InsightsConfig())
    assert loyal.finding == (
        "In the segment Loyal Customers, customers who buy TEA PLATE PINK also buy TEA PLATE "
        "GREEN with confidence 84.0%, 58.07 times as often as the segment's customers in "
        "general (support 1.08%); p < 1e-16, BH-adjusted p < 1e-16."
    )
    assert at_risk.finding.endswith("(support 1.32%); p = 0.004, BH-adjusted p = 0.012.")
    overall = cross_sell({"rules": rules.drop(columns="segment")}, InsightsConfig())
    assert overall[0].finding.startswith("Customers who buy TEA PLATE PINK also buy")
    assert "as often as customers in general" in overall[0].finding
