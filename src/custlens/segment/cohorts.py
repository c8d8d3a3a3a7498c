"""Monthly acquisition cohorts: customers and revenue retained per month since the first order.

Computed in the engine on purchase lines before ``as_of`` with a two-level aggregation (customer x
month, then cohort x months since first order); only one row per cohort and month is fetched.
Months are numbered ``year * 12 + month - 1`` (portable integer arithmetic, no time zones).

Columns: ``cohort`` (YYYY-MM of the first order), ``months_since`` (0 = the first month),
``cohort_customers``, ``customers`` (customers of the cohort who bought in that month),
``revenue``, ``customer_share`` (of the cohort's customers), ``revenue_share`` (of the cohort's
first-month revenue) and ``complete`` (False for the month of ``as_of``, which is not over).
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from custlens.io.sums import exact_sum, exact_sum_of_parts


def _month(ts: ir.TimestampValue | ir.DateValue) -> ir.IntegerValue:
    return (ts.year().cast("int64") * 12 + ts.month().cast("int64") - 1).cast("int64")


def cohort_table(purchases: ir.Table, as_of: date, max_months: int = 24) -> pd.DataFrame:
    """Retention of each monthly acquisition cohort, long format (see the module docstring)."""
    from custlens.features.order_days import order_days

    cutoff = ibis.literal(as_of, type="date")
    # the lines summed per order and day (stored once per run): the days before as_of hold
    # exactly the lines before it, and the revenue parts add up to the lines' exact sum
    rows = order_days(purchases)
    p = rows.filter(rows.customer_id.notnull() & (rows.day < cutoff))
    p = p.mutate(_m=_month(p.day))
    per_month = p.group_by(["customer_id", "_m"]).aggregate(
        _rev=exact_sum_of_parts(p._exact.sum(), p._rest.sum())
    )
    first = per_month.group_by("customer_id").aggregate(_first=per_month._m.min())
    j = per_month.join(first, "customer_id")
    j = j.mutate(months_since=(j._m - j._first).cast("int64"))
    agg = j.group_by(["_first", "months_since"]).aggregate(
        customers=j.count(), revenue=exact_sum(j._rev)
    )
    frame = agg.to_pandas()
    if frame.empty:
        return pd.DataFrame(
            columns=[
                "cohort",
                "months_since",
                "cohort_customers",
                "customers",
                "revenue",
                "customer_share",
                "revenue_share",
                "complete",
            ]
        )
    frame = frame.sort_values(["_first", "months_since"], kind="stable").reset_index(drop=True)
    base = frame[frame["months_since"] == 0].set_index("_first")
    frame["cohort_customers"] = frame["_first"].map(base["customers"]).astype("int64")
    first_revenue = frame["_first"].map(base["revenue"]).astype("float64")
    frame["customers"] = frame["customers"].astype("int64")
    frame["revenue"] = frame["revenue"].astype("float64")
    frame["customer_share"] = frame["customers"] / frame["cohort_customers"]
    frame["revenue_share"] = frame["revenue"] / first_revenue.where(first_revenue != 0)
    as_of_month = as_of.year * 12 + as_of.month - 1
    frame["complete"] = (frame["_first"] + frame["months_since"]) < as_of_month
    frame["cohort"] = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in frame["_first"]]
    frame = frame[frame["months_since"] <= max_months]
    cols = [
        "cohort",
        "months_since",
        "cohort_customers",
        "customers",
        "revenue",
        "customer_share",
        "revenue_share",
        "complete",
    ]
    return frame[cols].reset_index(drop=True)
