"""Timing, seasonality and lifecycle features (Ibis expressions, portable to PySpark).

The functions here work on the orders table built by ``behavioral`` (one row per customer and
order, with the order's first timestamp ``ts``) and on the customer table aggregated from it.
Day differences are taken on dates, ratios divide floats, ties are broken explicitly.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir

from custlens.config import LifecycleConfig
from custlens.io.sums import exact_std, exact_sum, with_exact_std_terms

RECENT_DAYS = 90  # the "last 90 days" window of revenue_last_90d / orders_last_90d


def _f(x: ir.Value) -> ir.FloatingValue:
    return x.cast("float64")


def add_calendar(orders: ir.Table) -> ir.Table:
    """Calendar parts of each order's first timestamp: date, quarter, month, hour, weekday."""
    return orders.mutate(**calendar_parts(orders.ts))


def calendar_parts(ts: ir.TimestampValue) -> dict[str, ir.Value]:
    """The columns of :func:`add_calendar` from a timestamp (also the ``min`` of an order's
    line times inside the aggregation that builds the orders: the engine then stores one table
    of orders instead of the orders and a copy of them with these columns)."""
    return {
        "d": ts.date(),
        "qtr": ts.quarter(),
        "mon": ts.month(),
        "hr": ts.hour(),
        "dow": ts.day_of_week.index(),  # Monday = 0 ... Sunday = 6 on every backend
        "ym": ts.year() * 12 + ts.month() - 1,
    }


def as_of_value(as_of: date | ir.DateValue) -> ir.DateValue:
    """``as_of`` as an Ibis date (a Python date becomes a literal)."""
    return as_of if isinstance(as_of, ir.Value) else ibis.literal(as_of, type="date")


def days_before(as_of: date | ir.DateValue, days: int) -> ir.DateValue:
    """The date ``days`` days before ``as_of``, computed by the engine (so that a query built
    for one as_of date holds it in one place; see ``custlens.features.query``)."""
    return (as_of_value(as_of) - ibis.interval(days=days)).cast("date")


def calendar_aggregates(o: ir.Table, as_of: date | ir.DateValue) -> dict[str, Any]:
    """Per-customer aggregations over orders for the temporal features (one pass)."""
    recent = o.d >= days_before(as_of, RECENT_DAYS)
    prev = (o.d >= days_before(as_of, 2 * RECENT_DAYS)) & ~recent
    # filtered counts and sums (COUNT(*) FILTER (WHERE ...)) run several times faster than
    # sums of CASE expressions on engines like DuckDB; a filtered sum over no rows is null
    aggs: dict[str, Any] = {
        "_first_date": o.d.min(),
        "_last_date": o.d.max(),
        "_first_ym": o.ym.min(),
        "orders_last_90d": o.count(where=recent),
        "revenue_last_90d": exact_sum(o.value, where=recent).fill_null(0.0),
        "revenue_prev_90d": exact_sum(o.value, where=prev).fill_null(0.0),
        "_weekend": o.count(where=o.dow >= 5),
    }
    for q in range(1, 5):
        aggs[f"_q{q}"] = o.count(where=o.qtr == q)
    for m in range(1, 13):
        aggs[f"_m{m:02d}"] = o.count(where=o.mon == m)
    for wd in range(7):
        aggs[f"_dow{wd}"] = o.count(where=o.dow == wd)
    return aggs


def day_and_month_counts(o: ir.Table) -> ir.Table:
    """Distinct order dates and distinct active months per customer.

    Counted as rows of de-duplicated (customer, date) and (customer, month) tables: engines
    such as DuckDB do that several times faster than COUNT(DISTINCT ...) beside many other
    aggregates.
    """
    days = o.select("customer_id", "d", "ym").distinct()
    months = days.select("customer_id", "ym").distinct()
    n_months = months.group_by("customer_id").aggregate(active_months=months.count())
    n_days = days.group_by("customer_id").aggregate(distinct_order_days=days.count())
    joined = n_days.join(n_months, "customer_id")
    return joined.select("customer_id", "distinct_order_days", "active_months")


def interval_stats(o: ir.Table) -> ir.Table:
    """Std and max of the day gaps between consecutive distinct order dates, per customer."""
    dates = o.select("customer_id", "d").distinct()
    w = ibis.window(group_by="customer_id", order_by="d")  # (customer_id, d) is unique
    gaps = dates.mutate(gap=dates.d.delta(dates.d.lag().over(w), unit="day"))
    gaps = gaps.filter(gaps.gap.notnull())
    gaps = with_exact_std_terms(gaps, "gap", "customer_id", "_gap_sd")
    return gaps.group_by("customer_id").aggregate(
        interval_std_days=exact_std(gaps, "gap", "_gap_sd"),
        interval_max_days=gaps.gap.max(),
    )


def preferred_hour(o: ir.Table) -> ir.Table:
    """Hour with the most orders per customer; ties go to the earliest hour (count + row_number)."""
    counts = o.group_by("customer_id", "hr").aggregate(n=ibis._.count())
    w = ibis.window(group_by="customer_id", order_by=[ibis.desc("n"), ibis.asc("hr")])
    ranked = counts.mutate(rn=ibis.row_number().over(w))
    return ranked.filter(ranked.rn == 0).select("customer_id", preferred_hour=ranked.hr)


def _argmax_first(values: list[ir.NumericValue], labels: list[int]) -> ir.IntegerValue:
    """Label of the largest value; ties go to the first (values are non-null counts)."""
    top = ibis.greatest(*values)
    branches = [(v == top, lab) for v, lab in zip(values[:-1], labels[:-1], strict=True)]
    return ibis.cases(*branches, else_=labels[-1])


def timing_columns(t: ir.Table, as_of: date | ir.DateValue) -> dict[str, ir.Value]:
    """Timing features from the customer table (needs the calendar aggregates and intervals)."""
    as_of_lit = as_of_value(as_of)
    span = _f(t._last_date.delta(t._first_date, unit="day"))
    gaps = t.distinct_order_days - 1
    mean = (gaps > 0).ifelse(span / _f(gaps), ibis.null("float64"))
    recency = _f(as_of_lit.delta(t._last_date, unit="day"))
    cv = t.interval_std_days / mean
    last_day = days_before(as_of, 1)  # the month of the day before as_of, inclusive
    tenure_months = (last_day.year() * 12 + last_day.month()) - t._first_ym
    return {
        "interval_mean_days": mean,
        "interval_cv": cv,
        "purchase_consistency": 1.0 / (1.0 + cv),
        "days_overdue": recency - mean,
        "tenure_months": tenure_months,
        "active_month_ratio": _f(t.active_months) / _f(tenure_months),
        "orders_per_active_month": _f(t._n_orders) / _f(t.active_months),
        "_recency": recency,
        "_tenure": _f(as_of_lit.delta(t._first_date, unit="day")),
    }


def seasonality_columns(t: ir.Table) -> dict[str, ir.Value]:
    """Quarter/month/weekend shares, their spread, and the preferred quarter and weekday."""
    n = _f(t._n_orders)
    qs = [_f(t[f"_q{q}"]) / n for q in range(1, 5)]
    cols: dict[str, ir.Value] = {f"q{q}_share": qs[q - 1] for q in range(1, 5)}
    cols |= {f"month_{m:02d}_share": _f(t[f"_m{m:02d}"]) / n for m in range(1, 13)}
    # the four shares sum to 1, so their mean is 0.25
    cols["quarter_share_std"] = (sum((s - 0.25) ** 2 for s in qs) / 4.0).sqrt()
    cols["quarter_imbalance"] = ibis.greatest(*qs) - ibis.least(*qs)
    plogp = [(s > 0.0).ifelse(s * s.ln(), 0.0) for s in qs]
    cols["quarter_entropy"] = (0.0 - sum(plogp)) / math.log(4.0)  # 0.0 - x avoids -0.0
    cols["preferred_quarter"] = _argmax_first([t[f"_q{q}"] for q in range(1, 5)], [1, 2, 3, 4])
    cols["preferred_weekday"] = _argmax_first([t[f"_dow{d}"] for d in range(7)], list(range(7)))
    cols["weekend_share"] = _f(t._weekend) / n
    return cols


def lifecycle_stage(t: ir.Table, rules: LifecycleConfig) -> ir.StringValue:
    """Lifecycle stage by the rules in ``LifecycleConfig`` (first match wins)."""
    rec, ten, mean, trend = t._recency, t._tenure, t.interval_mean_days, t.revenue_trend_90d
    has_cadence = mean.notnull()
    lapsed_after = has_cadence.ifelse(
        ibis.greatest(
            ibis.literal(float(rules.lapsed_min_recency_days)), rules.lapsed_cadence_multiple * mean
        ),
        float(rules.lapsed_min_recency_days),
    )
    risk_after = has_cadence.ifelse(
        rules.at_risk_cadence_multiple * mean, float(rules.at_risk_single_date_recency_days)
    )
    return ibis.cases(
        (ten < float(rules.new_max_tenure_days), "new"),
        (rec > lapsed_after, "lapsed"),
        ((rec > risk_after) | (trend < rules.at_risk_max_revenue_trend), "at_risk"),
        (
            (ten < float(rules.mature_min_tenure_days))
            | (trend >= rules.growing_min_revenue_trend),
            "growing",
        ),
        else_="mature",
    )
