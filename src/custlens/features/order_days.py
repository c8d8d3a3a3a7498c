"""The purchase lines summed per order and day, stored once per purchases table and read by the
analyses that count orders (timing, migration, cohorts, the insight series).

One row per ``order_id``, ``customer_id``, ``day`` (the lines' date) and ``country`` (when the
lines have one): ``first_ts`` and ``last_ts`` (earliest and latest line), ``lines`` (how many)
and ``_exact``, ``_rest``, the parts of the exact revenue sum
(:func:`custlens.io.sums.exact_sum_parts`). An order has one row on most data (its lines share
a day), so the table has about as many rows as there are orders, a few times fewer than lines.

Every total these analyses take from the lines is a total over these rows: a filter on the
lines' date (``order_ts.date() < cutoff``) keeps whole rows (``day < cutoff``), a minimum or
maximum of the timestamps is the minimum or maximum of ``first_ts`` / ``last_ts``, a count of
lines is the sum of ``lines``, and the revenue parts add up exactly to the sum over the lines
whatever the grouping (:func:`custlens.io.sums.exact_sum_of_parts`).
"""

from __future__ import annotations

import weakref
from typing import Any

import ibis.expr.types as ir

from custlens.io.materialize import materialize
from custlens.io.sums import exact_sum_parts

__all__ = ["order_day_rows", "order_days"]

KEYS = ("order_id", "customer_id", "day")
_BY = ("country",)  # kept when the lines have it (the insight series per country read it)
_STORED: weakref.WeakKeyDictionary[Any, ir.Table] = weakref.WeakKeyDictionary()


def order_day_rows(purchases: ir.Table) -> ir.Table:
    """The rows of :func:`order_days` (not stored)."""
    p = purchases
    keys: dict[str, ir.Value] = {
        "order_id": p.order_id,
        "customer_id": p.customer_id,
        "day": p.order_ts.date(),
    }
    keys.update({c: p[c] for c in _BY if c in p.columns})
    exact, rest = exact_sum_parts(p.amount)
    return p.group_by(**keys).aggregate(
        first_ts=p.order_ts.min(),
        last_ts=p.order_ts.max(),
        lines=p.count(),
        _exact=exact,
        _rest=rest,
    )


def order_days(purchases: ir.Table) -> ir.Table:
    """:func:`order_day_rows` of ``purchases``, computed and stored on the first call for these
    purchases and read again by the later calls of the same run (kept while ``purchases`` is)."""
    key = purchases.op()
    found = _STORED.get(key)
    if found is None:
        found = materialize(order_day_rows(purchases), "order_days")
        _STORED[key] = found
    return found
