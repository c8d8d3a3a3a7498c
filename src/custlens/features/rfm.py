"""The customer table: one row per customer with recency, frequency, monetary value and more.

Everything is computed **as of** a date: only lines with ``order_ts < as_of`` (that is, order
date before ``as_of``) count. Day differences are taken between dates (``as_of`` minus the order
date), never as unit-boundary counts of timestamps, so DuckDB and PySpark agree.

Columns:

- ``customer_id``; ``first_order``, ``last_order``: timestamps of the first and last purchase line.
- ``tenure_days``: days from the first order date to ``as_of``; ``recency_days``: days from the
  last order date to ``as_of`` (1 for a purchase the day before ``as_of``).
- ``frequency``: distinct ``order_id``; ``monetary``: sum of ``amount`` (added exactly, so the
  same on every run: ``custlens.io.sums``);
  ``avg_order_value``: monetary / frequency.
- ``distinct_products``: distinct ``product_id``; **null** when the purchases have no
  ``product_id`` column (unknown, not zero).
- ``return_rate``: value returned / value purchased, both before ``as_of``. The returned value is
  the sum of the absolute amounts of the customer's return lines; 0 when there are none. It can
  exceed 1 when a customer returns goods bought before the data start.

Lines without a customer id are ignored (a customer table has no null customer).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import ibis
import ibis.expr.types as ir

from custlens._validation import as_date, require_columns
from custlens.errors import DataError
from custlens.io.clean import PurchaseSpan
from custlens.io.sums import exact_sum

_NEEDED = ("customer_id", "order_id", "order_ts", "amount")


def _check(table: ir.Table, what: str) -> None:
    require_columns(
        table,
        _NEEDED,
        what=f"the {what} given for the customer table",
        fix="pass the purchases/returns produced by custlens.io.clean.clean",
    )


def resolve_as_of(
    purchases: ir.Table,
    as_of: date | datetime | str | None = None,
    *,
    span: PurchaseSpan | None = None,
) -> date:
    """The as-of date: ``as_of`` if given (checked), else the day after the last purchase.

    ``span``: the purchases' first and last order time and count when already known
    (``Cleaned.span``, from cleaning's report query): no query runs then."""
    _check(purchases, "purchases")
    if span is None:
        row = (
            purchases.aggregate(
                first=purchases.order_ts.min(), last=purchases.order_ts.max(), n=purchases.count()
            )
            .to_pyarrow()
            .to_pylist()[0]
        )
        span = PurchaseSpan(row["first"], row["last"], int(row["n"] or 0))
    if not span.rows or span.first is None or span.last is None:
        raise DataError(
            "There are no purchases with a date to build customers from",
            where="purchases (0 dated lines)",
            fix="check the cleaning report: a rule or filter may have removed every line",
        )
    first, last = span.first.date(), span.last.date()
    if as_of is None:
        return last + timedelta(days=1)
    resolved = as_date(
        as_of, "as_of", fix="give the as_of date (--as-of) as YYYY-MM-DD", error=DataError
    )
    if resolved <= first:
        raise DataError(
            f"as_of {resolved.isoformat()} is on or before the first purchase date, so no "
            "purchase comes before it",
            where=f"the purchases run from {first.isoformat()} to {last.isoformat()}",
            fix=f"choose an as_of (--as-of) after {first.isoformat()}, or leave it unset to use "
            f"{(last + timedelta(days=1)).isoformat()} (the day after the last purchase)",
        )
    return resolved


def customer_table(
    purchases: ir.Table,
    returns: ir.Table | None = None,
    as_of: date | datetime | str | None = None,
) -> ir.Table:
    """One row per customer from the purchase lines dated before ``as_of``.

    Parameters
    ----------
    purchases : ibis.Table
        Purchase lines (``Cleaned.purchases``).
    returns : ibis.Table, optional
        Return lines (``Cleaned.returns``), for ``return_rate``.
    as_of : date, datetime or ISO text, optional
        Only lines before this day count (default: the day after the last purchase).

    Returns
    -------
    ibis.Table
        ``customer_id, first_order, last_order, tenure_days, recency_days, frequency, monetary,
        avg_order_value, distinct_products, return_rate``; recency and tenure in days to
        ``as_of``.

    Raises
    ------
    MappingError
        A table lacks a canonical column.

    Examples
    --------
    >>> import ibis
    >>> import pandas as pd
    >>> lines = ibis.memtable(pd.DataFrame({
    ...     "customer_id": ["a", "a", "b"], "order_id": ["1", "2", "3"],
    ...     "order_ts": pd.to_datetime(["2024-01-01", "2024-01-21", "2024-01-30"]),
    ...     "amount": [10.0, 30.0, 5.0]}))
    >>> table = customer_table(lines, as_of="2024-02-01").order_by("customer_id").to_pandas()
    >>> table[["customer_id", "recency_days", "frequency", "monetary"]].values.tolist()
    [['a', 11, 2, 40.0], ['b', 2, 1, 5.0]]
    """
    return customer_table_before(purchases, returns, resolve_as_of(purchases, as_of))


def customer_table_before(
    purchases: ir.Table, returns: ir.Table | None, day: date | ir.DateValue
) -> ir.Table:
    """``customer_table`` as of ``day``, a date already checked with ``resolve_as_of`` (or an
    Ibis date value, such as the placeholder of ``custlens.features.query``).

    No query runs here (``customer_table`` runs one to check or find the date): for callers that
    build several tables from one checked range, such as a series of month starts after the first
    purchase.
    """
    _check(purchases, "purchases")
    if returns is not None:
        _check(returns, "returns")
    cutoff = day if isinstance(day, ir.Value) else ibis.literal(day, type="date")
    p = purchases.filter(purchases.customer_id.notnull() & (purchases.order_ts.date() < cutoff))
    has_products = "product_id" in p.columns
    products = p.product_id.nunique() if has_products else ibis.null().cast("int64")
    agg = p.group_by("customer_id").aggregate(
        first_order=p.order_ts.min(),
        last_order=p.order_ts.max(),
        frequency=p.order_id.nunique(),
        monetary=exact_sum(p.amount),
        distinct_products=products,
    )
    if returns is not None:
        r = returns.filter(returns.customer_id.notnull() & (returns.order_ts.date() < cutoff))
        ret = r.group_by(_cid=r.customer_id).aggregate(_returned=exact_sum(r.amount.abs()))
        agg = agg.left_join(ret, agg.customer_id == ret._cid)
        returned = agg._returned.fill_null(0.0).cast("float64")
    else:
        returned = ibis.literal(0.0, type="float64")
    return_rate = ibis.ifelse(agg.monetary > 0.0, returned / agg.monetary, 0.0)
    return agg.select(
        "customer_id",
        "first_order",
        "last_order",
        tenure_days=cutoff.delta(agg.first_order.date(), unit="day").cast("int64"),
        recency_days=cutoff.delta(agg.last_order.date(), unit="day").cast("int64"),
        frequency=agg.frequency.cast("int64"),
        monetary=agg.monetary,
        avg_order_value=agg.monetary / agg.frequency.cast("float64"),
        distinct_products=agg.distinct_products.cast("int64"),
        return_rate=return_rate.cast("float64"),
    )
