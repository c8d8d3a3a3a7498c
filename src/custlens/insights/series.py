"""Time series for the insights, aggregated in the engine: daily orders and revenue, monthly
revenue per category or country, and segment sizes at monthly dates.

Only small results are fetched (a row per day, per month and group, per month and segment).
Months are ``year * 12 + month - 1``; an order counts once, on the date of its first line, with
the revenue of all its lines. Periods are kept only when **complete**: on or after the first
purchase date and before ``as_of`` (a partial first or last month would look like a collapse).
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from custlens.config import RFM_BINS, RFMConfig
from custlens.io.sums import exact_sum, exact_sum_of_parts, exact_sum_parts


def _before(purchases: ir.Table, as_of: date) -> ir.Table:
    cutoff = ibis.literal(as_of, type="date")
    return purchases.filter(purchases.order_ts.date() < cutoff)


def order_parts(purchases: ir.Table, as_of: date, by: tuple[str, ...] = ()) -> ir.Table:
    """One row per order, customer, month (``_m``) and value of the ``by`` columns of the lines
    before ``as_of``: ``first_ts``, ``last_ts`` and the parts of the exact revenue sum
    (``_exact``, ``_rest``). Not stored (:func:`stored_order_parts` stores it).

    The daily totals, the monthly totals per ``by`` column and the customer-month table are sums
    of these rows: the exact parts add up to the same totals whatever the grouping
    (:func:`custlens.io.sums.exact_sum_parts`), and a month holds whole rows."""
    p = _before(purchases, as_of)
    keys = {"order_id": p.order_id, "customer_id": p.customer_id, "_m": _month_number(p.order_ts)}
    keys.update({c: p[c] for c in by})
    exact, rest = exact_sum_parts(p.amount)
    return p.group_by(**keys).aggregate(
        first_ts=p.order_ts.min(), last_ts=p.order_ts.max(), _exact=exact, _rest=rest
    )


def stored_order_parts(purchases: ir.Table, as_of: date, by: tuple[str, ...] = ()) -> ir.Table:
    """:func:`order_parts`, computed once and stored: several series read it instead of the
    lines (an order has far fewer rows there than lines)."""
    from custlens.io.materialize import materialize

    return materialize(order_parts(purchases, as_of, by), "insight_order_parts")


def shared_order_parts(purchases: ir.Table, as_of: date, by: tuple[str, ...] = ()) -> ir.Table:
    """Rows that sum to :func:`order_parts` (the same columns, plus ``day`` and ``lines``): the
    lines before ``as_of`` summed per order and *day*
    (:func:`custlens.features.order_days.order_days`, stored once per run and read by other
    analyses too). A day before ``as_of`` holds exactly the lines before it, and every series
    here sums these rows per order, month or customer. :func:`stored_order_parts` when the
    stored rows lack a ``by`` column."""
    from custlens.features.order_days import order_days

    rows = order_days(purchases)
    if any(c not in rows.columns for c in by):
        return stored_order_parts(purchases, as_of, by)
    r = rows.filter(rows.day < ibis.literal(as_of, type="date"))
    return r.mutate(_m=_month_number(r.day))


def daily_totals(purchases: ir.Table, as_of: date, parts: ir.Table | None = None) -> pd.DataFrame:
    """``day`` (datetime64), ``orders``, ``revenue``, ``revenue_sq`` (sum of squared order
    values, for the counting noise of the anomaly scores) for every day from the first purchase to the
    day before ``as_of`` (days without orders are zero). ``parts``: :func:`order_parts` of the
    same lines and ``as_of`` when already stored."""
    p = order_parts(purchases, as_of) if parts is None else parts
    orders = p.group_by("order_id").aggregate(
        day=p.first_ts.min().date(), revenue=exact_sum_of_parts(p._exact.sum(), p._rest.sum())
    )
    daily = orders.group_by("day").aggregate(
        orders=orders.count(),
        revenue=exact_sum(orders.revenue),
        revenue_sq=exact_sum(orders.revenue * orders.revenue),
    )
    frame = daily.to_pandas()
    if frame.empty:
        return pd.DataFrame(
            {"day": pd.to_datetime([]), "orders": [], "revenue": [], "revenue_sq": []}
        )
    frame["day"] = pd.to_datetime(frame["day"])
    days = pd.date_range(frame["day"].min(), pd.Timestamp(as_of) - pd.Timedelta(days=1), freq="D")
    frame = frame.set_index("day").reindex(days, fill_value=0).rename_axis("day").reset_index()
    frame["orders"] = frame["orders"].astype("int64")
    frame["revenue"] = frame["revenue"].astype("float64")
    frame["revenue_sq"] = frame["revenue_sq"].astype("float64")
    return frame


def complete_periods(daily: pd.DataFrame, period: str) -> pd.DataFrame:
    """Weekly (Monday to Sunday) or monthly totals of the daily table, complete periods only,
    with ``start``, ``days``, ``orders``, ``revenue``, ``revenue_sq``."""
    days = daily.set_index("day")
    if period == "week":
        start = days.index - pd.to_timedelta(days.index.day_of_week, unit="D")
    else:
        start = days.index.to_period("M").to_timestamp()
    grouped = days.groupby(start).agg(
        orders=("orders", "sum"), revenue=("revenue", "sum"), revenue_sq=("revenue_sq", "sum")
    )
    grouped["days"] = days.groupby(start).size()
    full = 7 if period == "week" else grouped.index.days_in_month
    grouped = grouped[grouped["days"] == np.asarray(full)]
    return grouped.rename_axis("start").reset_index()


def monthly_by(
    purchases: ir.Table,
    as_of: date,
    column: str,
    first: date | None = None,
    parts: ir.Table | None = None,
) -> pd.DataFrame:
    """Revenue and orders per complete month and value of ``column``: ``month`` (first day),
    ``key``, ``orders``, ``revenue``; months without sales are zero. ``first`` is the day of the
    first purchase (``first_day``; queried when not given). ``parts``: :func:`order_parts` of
    the same lines and ``as_of`` when already stored (used when it holds ``column``)."""
    if parts is not None and column in parts.columns:
        p = parts.filter(parts[column].notnull())
        p = p.mutate(key=p[column].cast("string"))
        revenue = exact_sum_of_parts(p._exact.sum(), p._rest.sum())
    else:  # from the lines (the same sums)
        p = _before(purchases, as_of)
        p = p.filter(p[column].notnull())
        p = p.mutate(_m=_month_number(p.order_ts), key=p[column].cast("string"))
        revenue = exact_sum(p.amount)
    per_order = p.group_by(["_m", "key", "order_id"]).aggregate(revenue=revenue)
    agg = per_order.group_by(["_m", "key"]).aggregate(
        orders=per_order.count(), revenue=exact_sum(per_order.revenue)
    )
    frame = agg.to_pandas()
    return _complete_months(frame, first or first_day(purchases), as_of)


def first_day(purchases: ir.Table, parts: ir.Table | None = None) -> date:
    """The day of the first purchase (one query). ``parts``: :func:`order_parts` of the same
    purchases when stored: the first purchase is before ``as_of`` exactly when any line is, so
    the first of the parts is the first purchase unless there are no parts."""
    if parts is not None:
        found = parts.first_ts.min().to_pyarrow().as_py()
        if found is not None:
            return found.date()
    return purchases.order_ts.min().to_pyarrow().as_py().date()


def _complete_months(frame: pd.DataFrame, first: date, as_of: date) -> pd.DataFrame:
    start_m = first.year * 12 + first.month - 1 + (0 if first.day == 1 else 1)
    end_m = as_of.year * 12 + as_of.month - 1  # exclusive: the month of as_of is not over
    months = np.arange(start_m, end_m)
    keys = sorted(frame["key"].unique()) if not frame.empty else []
    grid = pd.MultiIndex.from_product([months, keys], names=["_m", "key"]).to_frame(index=False)
    out = grid.merge(frame, on=["_m", "key"], how="left").fillna({"orders": 0, "revenue": 0.0})
    out["orders"] = out["orders"].astype("int64")
    out["month"] = pd.to_datetime([f"{m // 12:04d}-{m % 12 + 1:02d}-01" for m in out["_m"]])
    return out[["month", "key", "orders", "revenue"]]


def month_starts(first: date, as_of: date, months: int) -> list[date]:
    """The first days of the last ``months`` months up to ``as_of`` (inclusive when a first),
    after the first purchase."""
    cur = date(as_of.year, as_of.month, 1)
    out: list[date] = []
    while len(out) < months and cur > first:
        out.append(cur)
        prev = cur - timedelta(days=1)
        cur = date(prev.year, prev.month, 1)
    return sorted(out)


def segment_sizes(
    purchases: ir.Table,
    returns: ir.Table | None,
    dates: list[date],
    rfm: RFMConfig,
    parts: ir.Table | None = None,
) -> pd.DataFrame:
    """Customers per RFM segment (each date scored against its own quintiles) at each date:
    ``date``, ``key`` (segment), ``customers`` and ``share`` (of the customers at that date: the
    base grows as customers arrive, so counts would all rise). The dates come after the first
    purchase (``month_starts`` gives such dates).

    When every date is the first day of a month (as ``month_starts`` gives), the lines are read
    once: a stored table of one row per customer and month (last purchase, orders first seen
    that month, the parts of the exact revenue sum) gives each date's recency, frequency and
    monetary value exactly as the customer table before that date would (the same numbers, so
    the same scores), without scanning every line again per date. ``parts``: :func:`order_parts`
    of the same lines before a date on or after the last of ``dates``, when already stored."""
    from custlens.features.rfm import customer_table_before
    from custlens.segment.rfm_segments import score_rfm

    if not dates:
        return pd.DataFrame(columns=["date", "key", "customers"])
    values: list[list[np.ndarray] | None]
    months: ir.Table | None = None
    if all(d.day == 1 for d in dates):
        # not stored: one query reads it (and the fallback below, which stores it first)
        months = _customer_months(purchases, max(dates), parts, store=False)
        values = _month_values(months, dates)
    else:
        tables = [customer_table_before(purchases, None, d) for d in dates]
        values = [_table_values(t) for t in tables]
    frame = _segment_counts(values, dates, rfm)
    if frame is None:  # missing or NaN values: the engine's scoring orders them
        if months is not None:
            from custlens.io.materialize import materialize

            stored = materialize(months, "insight_customer_months")
            tables = [_rfm_before_month(stored, d) for d in dates]
        scored_parts = []
        for d, table in zip(dates, tables, strict=True):
            scored = score_rfm(table, rfm)
            scored_parts.append(
                scored.group_by(key=scored.segment)
                .aggregate(customers=scored.count())
                .mutate(date=ibis.literal(d, type="date"))
            )
        frame = (
            ibis.union(*scored_parts).to_pandas()
            if len(scored_parts) > 1
            else scored_parts[0].to_pandas()
        )
    names = [r.name for r in rfm.segments]
    grid = pd.MultiIndex.from_product([dates, names], names=["date", "key"]).to_frame(index=False)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    out = grid.merge(frame, on=["date", "key"], how="left").fillna({"customers": 0})
    out["customers"] = out["customers"].astype("int64")
    totals = out.groupby("date")["customers"].transform("sum")
    out["share"] = (out["customers"] / totals.where(totals > 0)).astype("float64")
    return out


_RFM_VALUES = ("recency_days", "frequency", "monetary")


def _segment_counts(
    values: list[list[np.ndarray] | None], dates: list[date], rfm: RFMConfig
) -> pd.DataFrame | None:
    """``date, key, customers``: the customers per segment at each date, scored as
    :func:`custlens.segment.rfm_segments.score_rfm` scores a customer table (the same tie-aware
    quintile groups and segment rules), in numpy from each date's recency, frequency and
    monetary arrays: one sort per value and date instead of three rank windows in the engine.
    None when a date's values are None (missing or NaN: the engine's ordering of those is kept
    by scoring there)."""
    rows: dict[tuple[date, str], int] = {}
    for day, columns in zip(dates, values, strict=True):
        if columns is None:
            return None
        n = len(columns[0])
        r = RFM_BINS - _tied_groups(columns[0], n)
        fm = (_tied_groups(columns[1], n) + _tied_groups(columns[2], n) + 3) // 2
        segment = np.full(n, -1, dtype="int64")
        for k in reversed(range(len(rfm.segments))):  # the first matching rule wins
            rule = rfm.segments[k]
            hit = (r >= rule.r[0]) & (r <= rule.r[1]) & (fm >= rule.fm[0]) & (fm <= rule.fm[1])
            segment[hit] = k
        counts = np.bincount(segment[segment >= 0], minlength=len(rfm.segments))
        for rule, count in zip(rfm.segments, counts, strict=True):
            if count:
                rows[(day, rule.name)] = rows.get((day, rule.name), 0) + int(count)
    return pd.DataFrame(
        [(d, key, c) for (d, key), c in rows.items()], columns=["date", "key", "customers"]
    )


def _checked(columns: list[np.ndarray], nulls: int) -> list[np.ndarray] | None:
    if nulls or any(np.isnan(x).any() for x in columns if x.dtype.kind == "f"):
        return None
    return columns


def _table_values(table: ir.Table) -> list[np.ndarray] | None:
    """Recency, frequency and monetary of a customer table, or None when one is missing/NaN."""
    values = table.select(*_RFM_VALUES).to_pyarrow()
    nulls = sum(values.column(c).null_count for c in _RFM_VALUES)
    return _checked([values.column(c).to_numpy() for c in _RFM_VALUES], nulls)


def _month_values(months: ir.Table, dates: list[date]) -> list[list[np.ndarray] | None]:
    """For each date (first days of months): the recency, frequency and monetary value of every
    customer with a line before it, as :func:`_rfm_before_month` gives them, from one query.

    Each row of ``months`` counts for every date after its month: the rows are summed per
    customer and *bucket* (the first date they count for), then cumulated over the buckets in
    order (exact decimal sums, so the same totals as summing the rows before each date); a
    customer's values at a date are those of its last bucket on or before it (``_b <= i <
    _next``)."""
    order = sorted(range(len(dates)), key=lambda i: dates[i])
    starts = [dates[i].year * 12 + dates[i].month - 1 for i in order]
    bucket = ibis.cases(*((months._m < m, k) for k, m in enumerate(starts)), else_=len(starts))
    t = months.mutate(_b=bucket.cast("int64"))
    t = t.filter(t._b < len(starts))
    per = t.group_by(["customer_id", "_b"]).aggregate(
        last_order=t.last_order.max(),
        orders=t.orders.sum(),
        _exact=t._exact.sum(),
        _rest=t._rest.sum(),
    )
    upto = ibis.window(group_by=per.customer_id, order_by=per._b, preceding=None, following=0)
    cumulative = per.select(
        "_b",
        _next=per._b.lead().over(ibis.window(group_by=per.customer_id, order_by=per._b)),
        last_day=per.last_order.max().over(upto).date(),
        frequency=per.orders.sum().over(upto).cast("int64"),
        monetary=exact_sum_of_parts(per._exact.sum().over(upto), per._rest.sum().over(upto)),
    )
    got = cumulative.to_pyarrow()
    if got.column("monetary").null_count or got.column("last_day").null_count:
        return [None] * len(dates)
    b = got.column("_b").to_numpy()
    following = got.column("_next").fill_null(len(starts)).to_numpy()
    last_day = got.column("last_day").to_numpy().astype("datetime64[D]").astype("int64")
    frequency = got.column("frequency").to_numpy()
    monetary = got.column("monetary").to_numpy()
    out: list[list[np.ndarray] | None] = [None] * len(dates)
    for k, i in enumerate(order):
        at = (b <= k) & (k < following)
        day = np.datetime64(dates[i], "D").astype("int64")
        columns = [day - last_day[at], frequency[at], monetary[at]]
        out[i] = _checked(columns, 0)
    return out


def _positions(values: np.ndarray) -> np.ndarray:
    """The number of values below each value (SQL's 0-based ``rank()``): a count per integer
    when the integers span a small range, else from one sort of the values."""
    if values.dtype.kind in "iu" and len(values):
        low, high = int(values.min()), int(values.max())
        if high - low <= 4 * len(values):
            shifted = (values - low).astype("int64")
            counts = np.bincount(shifted, minlength=high - low + 1)
            below = np.cumsum(counts) - counts
            return below[shifted]
    # one sort; each value's position is the start of its run of equal values in the sorted
    # order (as a search in the sorted values finds it, without a search per value)
    order = np.argsort(values)
    ordered = values[order]
    starts = np.ones(len(values), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    first = np.where(starts, np.arange(len(values)), 0)
    np.maximum.accumulate(first, out=first)
    position = np.empty(len(values), dtype="int64")
    position[order] = first
    return position


def _tied_groups(values: np.ndarray, n: int) -> np.ndarray:
    """The 0-based ``ntile(5)`` group of the first position each value holds in the sorted
    order (ties share it): :func:`custlens.segment.rfm_segments._tied_group` in numpy."""
    position = _positions(values)
    q, extra = divmod(n, RFM_BINS)
    big = extra * (q + 1)
    late = extra + (position - big) // max(q, 1)
    return np.where(position < big, position // (q + 1), late).astype("int64")


def _month_number(ts: ir.TimestampValue | ir.DateValue) -> ir.IntegerValue:
    return (ts.year().cast("int64") * 12 + ts.month().cast("int64") - 1).cast("int64")


def _customer_months(
    purchases: ir.Table, last: date, parts: ir.Table | None = None, *, store: bool = True
) -> ir.Table:
    """Stored (unless ``store`` is false): ``customer_id, _m`` (month number), ``last_order`` (latest line of the month),
    ``orders`` (orders whose first line of this customer falls in the month) and ``_exact``,
    ``_rest`` (the parts of the exact revenue sum), from the lines before ``last`` (the first
    day of a month).

    A line is before a month's first day exactly when its month number is smaller, so the rows
    with ``_m`` below a date's month hold exactly the lines before that date: an order counts
    from its first month (``frequency`` is the number of distinct orders with a line before the
    date), and the revenue parts add up exactly (:func:`custlens.io.sums.exact_sum_parts`).
    Both come from :func:`order_parts` (``parts`` when given: of the lines before ``last`` or a
    later day), far fewer rows than the lines."""
    from custlens.io.materialize import materialize

    p = order_parts(purchases, last) if parts is None else parts
    p = p.filter(p.customer_id.notnull() & (p._m < last.year * 12 + last.month - 1))
    per_month = p.group_by(["customer_id", "_m"]).aggregate(
        last_order=p.last_ts.max(), _exact=p._exact.sum(), _rest=p._rest.sum()
    )
    o = p.filter(p.order_id.notnull())
    firsts = o.group_by(["customer_id", "order_id"]).aggregate(_f=o._m.min())
    started = firsts.group_by(["customer_id", "_f"]).aggregate(orders=firsts.count())
    joined = per_month.left_join(
        started,
        [per_month.customer_id == started.customer_id, per_month._m == started._f],
    )
    months = joined.select(
        per_month.customer_id,
        per_month._m,
        per_month.last_order,
        orders=joined.orders.fill_null(0).cast("int64"),
        _exact=per_month._exact,
        _rest=per_month._rest,
    )
    return materialize(months, "insight_customer_months") if store else months


def _rfm_before_month(months: ir.Table, day: date) -> ir.Table:
    """``customer_id, recency_days, frequency, monetary`` as ``customer_table_before(purchases,
    None, day)`` gives them, for ``day`` the first of a month, from :func:`_customer_months`."""
    m = months.filter(months._m < day.year * 12 + day.month - 1)
    agg = m.group_by("customer_id").aggregate(
        last_order=m.last_order.max(),
        frequency=m.orders.sum(),
        monetary=exact_sum_of_parts(m._exact.sum(), m._rest.sum()),
    )
    cutoff = ibis.literal(day, type="date")
    return agg.select(
        "customer_id",
        recency_days=cutoff.delta(agg.last_order.date(), unit="day").cast("int64"),
        frequency=agg.frequency.cast("int64"),
        monetary=agg.monetary,
    )
