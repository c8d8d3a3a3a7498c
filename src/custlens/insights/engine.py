"""The insight engine: run every kind that these data and the earlier stages allow, rate each
finding by the severity rules and rank them.

A kind that cannot run is skipped with its reason (e.g. ``cross_sell`` without the basket stage,
category trends without a ``category`` column); ``tested`` counts the series or groups each kind
tested, so a reader can judge the number of findings against the number of chances.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis.expr.types as ir
import pandas as pd

from custlens.config import RFMConfig
from custlens.config.insights import InsightsConfig
from custlens.insights import customer_kinds, series_kinds
from custlens.insights.record import Insight, headline_first, ranked, rate
from custlens.insights.series import (
    complete_periods,
    daily_totals,
    first_day,
    month_starts,
    monthly_by,
    segment_sizes,
    shared_order_parts,
)

log = logging.getLogger(__name__)


@dataclass
class InsightRun:
    """Everything the engine found and tested."""

    insights: list[Insight] = field(default_factory=list)
    tested: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    crm: list[pd.DataFrame] = field(default_factory=list)


def series_insights(
    purchases: ir.Table,
    returns: ir.Table | None,
    as_of: date,
    config: InsightsConfig,
    rfm: RFMConfig,
    run: InsightRun,
) -> None:
    """Anomalies and trends (the kinds that read the purchase lines)."""
    # the lines before as_of summed per order, customer, day (and country), stored once per run:
    # the daily totals, the monthly country totals and the customer-month table are sums of them
    by = ("country",) if "country" in purchases.columns else ()
    parts = shared_order_parts(purchases, as_of, by)
    daily = daily_totals(purchases, as_of, parts)
    scores = []
    for period in ("week", "month"):
        periods = complete_periods(daily, period)
        scores.append(series_kinds.anomaly_scores(periods, period, config))
    anomaly = pd.concat(scores, ignore_index=True)
    run.tables["anomaly_scores"] = anomaly
    run.tested["anomaly"] = (
        int(anomaly.groupby(["period", "measure"]).ngroups) if not anomaly.empty else 0
    )
    run.insights += series_kinds.anomaly_insights(anomaly, config)

    series: dict[tuple[str, str], pd.Series] = {}
    # the first purchase day, queried once for the monthly series and the month starts
    wanted = {"category", "country"} & set(purchases.columns) or config.segment_trend_months
    first = first_day(purchases, parts) if wanted else None
    for dimension in ("category", "country"):
        if dimension not in purchases.columns:
            run.skipped[f"trend:{dimension}"] = f"the purchases have no {dimension} column"
            continue
        monthly = monthly_by(purchases, as_of, dimension, first, parts)
        for key in series_kinds.select_series(monthly, config):
            rows = monthly[monthly["key"] == key]
            series[(dimension, key)] = rows.set_index("month")["revenue"]
    if config.segment_trend_months:
        start = first or first_day(purchases, parts)
        dates = month_starts(start, as_of, config.segment_trend_months)
        history = timedelta(days=config.segment_trend_min_history_days)
        cut_short = [d for d in dates if d < start + history]
        dates = [d for d in dates if d >= start + history]
        if len(dates) >= config.trend_min_periods:
            sizes = segment_sizes(purchases, returns, dates, rfm, parts)
            for key, rows in sizes.groupby("key", sort=False):
                if rows["customers"].median() >= config.cohort_min_customers:
                    series[("segment", str(key))] = rows.set_index("date")["share"]
        else:
            run.skipped["trend:segment"] = (
                f"{len(dates)} monthly dates before {as_of}"
                + (
                    f" at least {config.segment_trend_min_history_days} days after the first "
                    f"purchase ({start}; {len(cut_short)} earlier dates left out: customers' "
                    "histories there are cut short by the data's start)"
                    if cut_short
                    else ""
                )
                + f"; the trend test needs {config.trend_min_periods}"
            )
    trends = series_kinds.trend_table(series, config)
    run.tables["trend_tests"] = trends
    run.tested["trend"] = len(trends)
    run.insights += series_kinds.trend_insights(trends, config)


def build_insights(
    customers: pd.DataFrame,
    purchases: ir.Table,
    returns: ir.Table | None,
    as_of: date,
    config: InsightsConfig,
    rfm: RFMConfig,
    earlier: Mapping[str, Any],
) -> InsightRun:
    """Every insight kind these inputs allow, rated and ranked (most severe first)."""
    run = InsightRun()
    migration = earlier.get("migration")
    if migration is not None:
        found, crm = customer_kinds.segment_shifts(
            dict(migration.summary),
            migration.tables["state_tests"],
            migration.tables["customer_states"],
            config,
        )
        run.insights += found
        run.crm.append(crm)
        run.tested["segment_shift"] = len(migration.tables["state_tests"])
        found, cohort_tests = customer_kinds.cohort_drops(
            migration.tables["cohorts"], as_of, config
        )
        run.insights += found
        run.tables["cohort_tests"] = cohort_tests
        run.tested["cohort_retention"] = len(cohort_tests)
    else:
        for kind in ("segment_shift", "cohort_retention"):
            run.skipped[kind] = "the migration stage did not run"

    if "predictions" not in earlier:
        run.skipped["high_value_at_risk:clv"] = (
            "predictions did not run: value is historical revenue and risk is the overdue rule "
            "only (no churn probability)"
        )
    found, crm = customer_kinds.at_risk(customers, config)
    run.insights += found
    run.crm.append(crm.head(config.max_listed))
    run.tested["high_value_at_risk"] = 1

    series_insights(purchases, returns, as_of, config, rfm, run)

    basket = earlier.get("basket")
    if basket is None:
        run.skipped["cross_sell"] = "the basket stage did not run"
    else:
        found = customer_kinds.cross_sell(dict(basket.tables), config)
        if not found:
            run.skipped["cross_sell"] = "the basket stage found no rules"
        run.insights += found
        run.tested["cross_sell"] = len(found)

    rated = ranked([rate(i, config) for i in run.insights])
    run.insights = headline_first(rated, config.top, config.top_per_kind)
    return run
