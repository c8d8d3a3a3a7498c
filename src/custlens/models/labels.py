"""Backtest labels and last-period values, computed in the engine with Ibis.

Dates, not timestamps, decide which period an order line belongs to. With ``cutoff`` the last
day of the feature window (features use order dates ``<= cutoff``, i.e. ``< as_of`` with
``as_of = cutoff + 1 day``):

- the **future** period is the order dates in ``(cutoff, cutoff + horizon_days]``;
- the **last** period is the order dates in ``(cutoff - horizon_days, cutoff]``.

Per customer: ``future_orders`` (distinct order_id), ``future_revenue`` (sum of amount),
``days_to_next`` (days from the cutoff to the first future order date, 1..horizon; null when
none); ``last_period_orders`` and ``last_period_revenue`` the same for the last period.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from custlens.io.sums import exact_sum


def _window(purchases: ir.Table, start_exclusive: date, end_inclusive: date) -> ir.Table:
    day = purchases.order_ts.date()
    lo = ibis.literal(start_exclusive, type="date")
    hi = ibis.literal(end_inclusive, type="date")
    return purchases.filter(purchases.customer_id.notnull(), day > lo, day <= hi)


def future_labels(purchases: ir.Table, cutoff: date, horizon_days: int) -> ir.Table:
    """customer_id, future_orders, future_revenue, days_to_next for orders after ``cutoff``.

    Only customers with at least one future order appear; join it to the feature table and
    fill the others with 0 orders, 0 revenue and a null ``days_to_next``.
    """
    p = _window(purchases, cutoff, cutoff + timedelta(days=horizon_days))
    base = ibis.literal(cutoff, type="date")
    agg = p.group_by("customer_id").aggregate(
        future_orders=p.order_id.nunique(),
        future_revenue=exact_sum(p.amount),
        _first_day=p.order_ts.date().min(),
    )
    return agg.select(
        "customer_id",
        future_orders=agg.future_orders.cast("int64"),
        future_revenue=agg.future_revenue,
        days_to_next=agg._first_day.delta(base, unit="day").cast("int64"),
    )


def last_period(purchases: ir.Table, cutoff: date, horizon_days: int) -> ir.Table:
    """customer_id, last_period_orders, last_period_revenue in ``(cutoff - horizon, cutoff]``."""
    p = _window(purchases, cutoff - timedelta(days=horizon_days), cutoff)
    agg = p.group_by("customer_id").aggregate(
        last_period_orders=p.order_id.nunique(),
        last_period_revenue=exact_sum(p.amount),
    )
    return agg.select(
        "customer_id",
        last_period_orders=agg.last_period_orders.cast("int64"),
        last_period_revenue=agg.last_period_revenue,
    )
