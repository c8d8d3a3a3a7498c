"""When customers buy: hour x weekday patterns, seasonality, timing personas, contact windows.

Aggregations run in the engine (Ibis) on purchase lines (``Cleaned.purchases``); only the small
results (at most 7 x 24 cells per segment, one row per customer) are materialised.

Conventions (portable across DuckDB and PySpark through ``order_ts.day_of_week.index()``):
``weekday`` is 0 = Monday ... 6 = Sunday; ``hour`` is 0-23 of the order's timestamp as stored (no
time-zone conversion). An order is counted once, at its earliest line's timestamp, with revenue =
the sum of its lines' ``amount``.
"""

from __future__ import annotations

import re

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from custlens._validation import require_columns
from custlens.config import TimingConfig, TimingWindow
from custlens.errors import DataError
from custlens.io.sums import exact_sum, exact_sum_of_parts

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # index = weekday (Monday=0)
_REQUIRED = ("customer_id", "order_id", "order_ts", "amount")
_NO_VALUE = 31  # a missing weekday or hour in the most-common-value key (values are 0..23)


def _check(transactions: ir.Table, stage: str) -> None:
    if not isinstance(transactions, ir.Table):
        raise DataError(
            f"{stage} expects an Ibis table of purchase lines, got {type(transactions).__name__}",
            where=stage,
            fix="pass Cleaned.purchases (or ibis.memtable(dataframe))",
        )
    require_columns(transactions, _REQUIRED, what=f"the transactions given to {stage}")


def orders_with_time(transactions: ir.Table) -> ir.Table:
    """One row per order: ``order_id, customer_id, order_ts, revenue, weekday, hour`` (Ibis)."""
    _check(transactions, "orders_with_time")
    t = transactions
    orders = t.group_by("order_id").aggregate(
        customer_id=t.customer_id.min(), order_ts=t.order_ts.min(), revenue=exact_sum(t.amount)
    )
    return orders.mutate(
        weekday=orders.order_ts.day_of_week.index().cast("int64"),
        hour=orders.order_ts.hour().cast("int64"),
    )


def stored_orders(transactions: ir.Table) -> ir.Table:
    """:func:`orders_with_time` (but ``order_id``) computed once and stored: the grids, the
    seasonality and the timing personas then each read one row per order instead of grouping
    every line again (pass it as ``orders=``)."""
    from custlens.features.order_days import order_days
    from custlens.io.materialize import materialize

    _check(transactions, "stored_orders")
    # from the lines summed per order and day (stored once per run, read by other analyses
    # too): the same first timestamp, customer and exact revenue per order
    rows = order_days(transactions)
    orders = rows.group_by("order_id").aggregate(
        customer_id=rows.customer_id.min(),
        order_ts=rows.first_ts.min(),
        revenue=exact_sum_of_parts(rows._exact.sum(), rows._rest.sum()),
    )
    orders = orders.mutate(
        weekday=orders.order_ts.day_of_week.index().cast("int64"),
        hour=orders.order_ts.hour().cast("int64"),
    )
    # without ``order_id``: no analysis of these rows reads it, and it is the costliest
    # column to write
    return materialize(orders.drop("order_id"), "timing_orders")


def _orders(transactions: ir.Table, orders: ir.Table | None) -> ir.Table:
    """``orders`` when given (the :func:`orders_with_time` of ``transactions``), else computed."""
    if orders is None:
        return orders_with_time(transactions)
    _check(transactions, "the timing analysis")
    return orders


def has_time_of_day(transactions: ir.Table) -> bool:
    """Whether any order carries a time of day (a timestamp not at midnight).

    Date-only sources (``2024-01-05``) load as midnight timestamps: an hour analysis on them
    would put every order at 00:00.
    """
    from custlens.features.order_days import order_days

    _check(transactions, "has_time_of_day")
    # read from the lines summed per order and day (stored once per run): the lines of a row
    # lie between its first and last timestamp on one day, so when both are at midnight
    # (within the second) all of them are
    rows = order_days(transactions)

    def timed(ts: ir.TimestampValue) -> ir.BooleanValue:
        return (ts.hour() != 0) | (ts.minute() != 0) | (ts.second() != 0)

    either = timed(rows.first_ts) | timed(rows.last_ts)
    return bool(rows.aggregate(n=either.cast("int64").sum().fill_null(0)).to_pandas()["n"].iloc[0])


def date_only_config(config: TimingConfig) -> TimingConfig:
    """The timing personas that need no time of day: whole-day windows (hours 0-24) only.

    A rule of whole-day windows only is kept as it is. A rule that also has windows of hours
    keeps its whole-day ones (e.g. the weekend) under its ``date_only_name`` ("Evening/Weekend
    Buyer" becomes "Weekend Buyer"), or is dropped when it has none: its name would promise
    hours the data do not have. A rule with no whole-day window is dropped.
    """
    rules = []
    for rule in config.personas:
        whole = [w for w in rule.windows if tuple(w.hours) == (0, 24)]
        if len(whole) == len(rule.windows):
            rules.append(rule)
        elif whole and rule.date_only_name:
            update = {"windows": whole, "name": rule.date_only_name}
            if rule.date_only_description:
                update["description"] = rule.date_only_description
            rules.append(rule.model_copy(update=update))
    return config.model_copy(update={"personas": rules})


def weekday_table(
    transactions: ir.Table,
    segments=None,
    *,
    segment_column: str = "segment",
    orders: ir.Table | None = None,
) -> pd.DataFrame:
    """Orders and revenue per weekday (0 = Monday, all 7 rows), overall or per segment."""
    return weekdays_of(hour_weekday(transactions, segments, segment_column=segment_column))


def weekdays_of(grid: pd.DataFrame) -> pd.DataFrame:
    """``weekday_table`` from an ``hour_weekday`` grid already fetched: the hours summed."""
    by = ["segment"] if "segment" in grid.columns else []
    keys = [*by, "weekday", "weekday_name"]
    days = grid.groupby(keys, as_index=False, sort=True)[["orders", "revenue"]].sum()
    return _add_shares(days, by)


def _with_segment(orders: ir.Table, segments, segment_column: str) -> ir.Table:
    """Inner-join the customer -> segment mapping (Ibis table or pandas DataFrame) in the engine."""
    frame = segments if isinstance(segments, pd.DataFrame) else None
    if frame is not None:
        segments = ibis.memtable(frame)
    if not isinstance(segments, ir.Table):
        raise DataError(
            f"segments must be a table mapping customer_id to {segment_column!r}, "
            f"got {type(segments).__name__}",
            where="timing segments argument",
            fix="pass the scored customer table (customer_id, segment)",
        )
    require_columns(
        segments,
        ("customer_id", segment_column),
        what="the segment table",
        fix=f"pass a table with customer_id and {segment_column!r} (or set segment_column)",
    )
    mapping = segments.select(
        customer_id=segments.customer_id.cast("string"),
        segment=segments[segment_column].cast("string"),
    )
    if frame is not None:  # already in memory: no query
        n, n_ids = len(frame), frame["customer_id"].astype("string").nunique()
    else:
        counts = mapping.aggregate(n=mapping.count(), n_ids=mapping.customer_id.nunique())
        n, n_ids = counts.to_pyarrow().to_pylist()[0].values()
    if n != n_ids:
        raise DataError(
            "The segment table lists some customers more than once",
            where=f"segment table, column customer_id ({n} rows, {n_ids} distinct customers)",
            fix="pass one row per customer",
        )
    keyed = orders.mutate(customer_id=orders.customer_id.cast("string"))
    return keyed.join(mapping, "customer_id")


def _grouped(orders: ir.Table, keys: list[str]) -> pd.DataFrame:
    agg = orders.group_by(keys).aggregate(orders=orders.count(), revenue=exact_sum(orders.revenue))
    return agg.order_by(keys).to_pandas()  # in one order, for the sums of the shares


def _add_shares(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    for measure in ("orders", "revenue"):
        if by:
            totals = frame.groupby(by)[measure].transform("sum")
        else:
            totals = pd.Series(frame[measure].sum(), index=frame.index)
        safe = totals.where(totals != 0, 1)
        frame[f"share_{measure}"] = (frame[measure] / safe).astype("float64")
    return frame


def hour_weekday(
    transactions: ir.Table,
    segments=None,
    *,
    segment_column: str = "segment",
    orders: ir.Table | None = None,
) -> pd.DataFrame:
    """Orders and revenue per weekday x hour cell, overall or per segment (full 7 x 24 grid).

    Columns: ``[segment,] weekday, weekday_name, hour, orders, revenue, share_orders,
    share_revenue`` (shares within the segment, or overall). Weekday: 0 = Monday.
    ``orders``: the :func:`orders_with_time` of ``transactions`` when already stored
    (:func:`stored_orders`).
    """
    orders = _orders(transactions, orders)
    by: list[str] = []
    if segments is not None:
        orders = _with_segment(orders, segments, segment_column)
        by = ["segment"]
    counts = _grouped(orders, [*by, "weekday", "hour"])
    groups = sorted(counts["segment"].unique()) if by else [None]
    grid = pd.MultiIndex.from_product(
        [groups, range(7), range(24)], names=["segment", "weekday", "hour"]
    ).to_frame(index=False)
    if not by:
        grid = grid.drop(columns="segment")
    out = grid.merge(counts, on=[*by, "weekday", "hour"], how="left")
    out["orders"] = out["orders"].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0).astype("float64")
    out.insert(len(by) + 1, "weekday_name", [WEEKDAY_NAMES[d] for d in out["weekday"]])
    return _add_shares(out, by)


def seasonality(
    transactions: ir.Table,
    segments=None,
    *,
    period: str = "quarter",
    segment_column: str = "segment",
    orders: ir.Table | None = None,
) -> pd.DataFrame:
    """Orders and revenue per quarter (1-4) or month (1-12), overall or per segment, with shares.

    Years are pooled: a period's share is its orders (revenue) over all orders (revenue) of the
    segment, so partial years at the ends of the data weigh on their periods.
    """
    if period not in ("quarter", "month"):
        raise DataError(
            f"period must be 'quarter' or 'month', got {period!r}",
            where="seasonality(period=...)",
            fix="use period='quarter' or period='month'",
        )
    orders = _orders(transactions, orders)
    orders = orders.mutate(**{period: getattr(orders.order_ts, period)().cast("int64")})
    by: list[str] = []
    if segments is not None:
        orders = _with_segment(orders, segments, segment_column)
        by = ["segment"]
    counts = _grouped(orders, [*by, period])
    counts = counts.sort_values([*by, period], kind="stable").reset_index(drop=True)
    counts["orders"] = counts["orders"].astype("int64")
    return _add_shares(counts, by)


def quarters_of(months: pd.DataFrame) -> pd.DataFrame:
    """``seasonality(period="quarter")`` from the monthly table already fetched: months summed."""
    by = ["segment"] if "segment" in months.columns else []
    frame = months.assign(quarter=(months["month"] - 1) // 3 + 1)
    counts = frame.groupby([*by, "quarter"], as_index=False, sort=True)[["orders", "revenue"]].sum()
    counts["orders"] = counts["orders"].astype("int64")
    return _add_shares(counts, by)


def days_per_quarter(first: pd.Timestamp, last: pd.Timestamp) -> pd.Series:
    """How many days from ``first`` to ``last`` (both included) fall in each quarter (1-4) of
    the year: a quarter's pooled revenue over its days is comparable with another's even when the
    data cover it more often (18 months hold two first quarters and one fourth)."""
    days = pd.date_range(pd.Timestamp(first).normalize(), pd.Timestamp(last).normalize())
    counts = pd.Series(days.quarter).value_counts()
    return counts.reindex([1, 2, 3, 4], fill_value=0).astype("int64")


def _slug(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def _in_windows(orders: ir.Table, windows: list[TimingWindow]) -> ir.BooleanValue:
    cond = ibis.literal(False)
    for w in windows:
        part = (orders.hour >= w.hours[0]) & (orders.hour < w.hours[1])
        if len(set(w.weekdays)) < 7:
            part = part & orders.weekday.isin(sorted(set(w.weekdays)))
        cond = cond | part
    return cond


def _most_common(orders: ir.Table, column: str, values: int) -> ir.IntegerValue:
    """Per customer (an aggregate of the customer's orders), the most frequent value of
    ``column`` (ties: the smallest value; a missing value counts as the largest), for values in
    ``0 .. values - 1`` (at most 30: weekdays, hours).

    Each value's count and value are packed into one integer, ``n * 32 + (31 - value)``, whose
    largest is the value wanted: the counts of every value are sums in the one pass that
    groups the orders per customer (no grouping per customer and value, no join). A value the
    customer never used packs to at most 31, below any used value."""
    v = orders[column]
    keys = [orders.count(where=v == k) * (_NO_VALUE + 1) + (_NO_VALUE - k) for k in range(values)]
    keys.append(orders.count(where=v.isnull()) * (_NO_VALUE + 1))
    found = (_NO_VALUE - ibis.greatest(*keys) % (_NO_VALUE + 1)).cast("int64")
    return ibis.ifelse(found == _NO_VALUE, ibis.null().cast("int64"), found)


def timing_personas(
    transactions: ir.Table, config: TimingConfig | None = None, *, orders: ir.Table | None = None
) -> pd.DataFrame:
    """One row per customer: order count, share of orders in each rule's windows, usual weekday
    and hour, and ``timing_persona`` (first rule whose share reaches ``min_share``; customers with
    fewer than ``min_orders`` orders get ``few_orders_persona``; the rest ``fallback_persona``).
    """
    config = config or TimingConfig()
    orders = _orders(transactions, orders)
    orders = orders.filter(orders.customer_id.notnull())
    share_cols = {f"share_{_slug(rule.name)}": rule for rule in config.personas}
    n = orders.count()
    per_customer = orders.group_by("customer_id").aggregate(
        n_orders=n,
        **{
            col: ibis.ifelse(_in_windows(orders, rule.windows), 1.0, 0.0).sum() / n.cast("float64")
            for col, rule in share_cols.items()
        },
        usual_weekday=_most_common(orders, "weekday", 7),
        usual_hour=_most_common(orders, "hour", 24),
    )
    frame = per_customer.order_by("customer_id").to_pandas().reset_index(drop=True)
    frame["n_orders"] = frame["n_orders"].astype("int64")
    frame["usual_weekday_name"] = [WEEKDAY_NAMES[int(d)] for d in frame["usual_weekday"]]
    conditions = [frame["n_orders"] < config.min_orders]
    choices = [config.few_orders_persona]
    for col, rule in share_cols.items():
        conditions.append(frame[col] >= rule.min_share)
        choices.append(rule.name)
    frame["timing_persona"] = np.select(conditions, choices, default=config.fallback_persona)
    return frame


def best_contact_windows(hour_weekday_table: pd.DataFrame, top_n: int = 3) -> pd.DataFrame:
    """Top-N weekday x hour cells by orders (ties: revenue, then earlier weekday and hour), per
    segment when the table has a ``segment`` column; ``share_orders`` is the cell's share."""
    if top_n < 1:
        raise DataError(
            f"top_n must be at least 1, got {top_n}",
            where="best_contact_windows(top_n=...)",
            fix="ask for one or more windows",
        )
    by = ["segment"] if "segment" in hour_weekday_table.columns else []
    cells = hour_weekday_table[hour_weekday_table["orders"] > 0]
    cells = cells.sort_values(
        [*by, "orders", "revenue", "weekday", "hour"],
        ascending=[*([True] * len(by)), False, False, True, True],
        kind="stable",
    )
    top = cells.groupby(by).head(top_n) if by else cells.head(top_n)
    top = top.copy()
    top.insert(len(by), "rank", top.groupby(by).cumcount() + 1 if by else range(1, len(top) + 1))
    top["window"] = [
        f"{d} {h:02d}:00-{h + 1:02d}:00"
        for d, h in zip(top["weekday_name"], top["hour"], strict=True)
    ]
    cols = [
        *by,
        "rank",
        "window",
        "weekday",
        "weekday_name",
        "hour",
        "orders",
        "share_orders",
        "revenue",
        "share_revenue",
    ]
    return top[cols].reset_index(drop=True)
