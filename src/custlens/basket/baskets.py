"""Baskets: the distinct items of each order, in the engine, with the oversized ones left out.

A basket is one order's set of distinct items (products, or categories) after cleaning. Lines
without an item and non-product codes (postage, fees...: the cleaning's list) are excluded even
when the cleaning kept them. Orders with more than ``max_items`` distinct items are left out of
every count (and counted in ``Baskets.capped``): a few wholesale orders with hundreds of lines
would otherwise add more pairs than thousands of ordinary orders.
"""

from __future__ import annotations

import functools
import operator
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from custlens.basket.masks import MAX_MASK_ITEMS
from custlens.errors import DataError
from custlens.io.materialize import materialize

_REQUIRED = ("order_id", "customer_id")


@dataclass(frozen=True)
class Baskets:
    """Basket lines ``basket`` (an integer per order, in order-id order), ``customer_id, item``:
    one row per distinct item of a kept basket."""

    lines: ir.Table
    every: ir.Table  # the same for every basket, capped ones included
    orders: ir.Table  # one row per basket (capped ones included): basket, customer_id, size
    column: str  # the transaction column the items come from
    baskets: int  # baskets kept (single-item ones included: the support denominator)
    multi_item: int  # kept baskets with at least two items
    capped: int  # baskets left out for having more than max_items items
    largest: int  # most items in one basket, before the cap
    max_items: int | None

    def summary(self) -> dict[str, int | None]:
        return {
            "baskets": self.baskets,
            "multi_item_baskets": self.multi_item,
            "capped_baskets": self.capped,
            "largest_basket": self.largest,
            "max_basket_items": self.max_items,
        }


def non_product_filter(
    t: ir.Table, codes: Sequence[str], prefixes: Sequence[str] = ()
) -> ir.BooleanValue:
    """True for lines whose ``product_id`` is a non-product code (case-insensitive)."""
    code = t.product_id.cast("string").strip().lower()
    cond = code.isin([c.strip().lower() for c in codes] or [""])
    for prefix in prefixes:
        if prefix:
            cond = cond | code.startswith(prefix.lower())
    return cond.fill_null(False)


def basket_lines(
    purchases: ir.Table,
    column: str = "product_id",
    *,
    max_items: int | None = 100,
    non_product_codes: Sequence[str] = (),
    non_product_prefixes: Sequence[str] = (),
    before: date | None = None,
) -> Baskets:
    """The baskets of ``purchases`` (Ibis purchase lines) over ``column``; stored once."""
    t = _item_lines(purchases, column, non_product_codes, non_product_prefixes, before)
    distinct = t.group_by(order_id=t.order_id.cast("string"), item=t.item).aggregate(
        customer_id=t.customer_id.cast("string").min()
    )
    # per basket (one row per order, far fewer than lines): its size, customer and an integer
    # number in order-id order (the itemset joins compare integers, not order-id strings);
    # joined back to the lines by hash instead of windows over every line
    orders = distinct.group_by(_order="order_id").aggregate(
        size=distinct.count(), _customer=distinct.customer_id.min(), _first=distinct.item.min()
    )
    orders = orders.mutate(basket=ibis.row_number().over(order_by=orders._order).cast("int64"))
    joined = distinct.join(orders, distinct.order_id.identical_to(orders._order))
    # the order id itself is not stored: nothing reads it after the numbering
    every = joined.select(
        "item",
        customer_id=joined._customer,
        size=joined.size,
        basket=joined.basket,
        # one line per basket is marked (its smallest item): the baskets are then counted
        # and listed from the stored lines without grouping them again
        _first=joined.item == joined._first,
    )
    every = materialize(every, "basket_all_lines")
    per_basket = every.filter(every._first).select("basket", "customer_id", "size")
    kept_expr = per_basket.size <= max_items if max_items is not None else ibis.literal(True)
    stats = per_basket.aggregate(
        kept=per_basket.count(where=kept_expr),
        multi=per_basket.count(where=kept_expr & (per_basket.size >= 2)),
        capped=per_basket.count(where=~kept_expr),
        largest=per_basket.size.max(),
    ).to_pandas()
    row = stats.iloc[0]
    lines = every if max_items is None else every.filter(every.size <= max_items)
    return Baskets(
        lines=lines.select("basket", "customer_id", "item"),
        every=every.select("basket", "customer_id", "item"),
        orders=per_basket,
        column=column,
        baskets=_int(row["kept"]),
        multi_item=_int(row["multi"]),
        capped=_int(row["capped"]),
        largest=_int(row["largest"]),
        max_items=max_items,
    )


@dataclass(frozen=True)
class MaskBaskets:
    """The baskets of a level of at most ``MAX_MASK_ITEMS`` items (e.g. the categories), one row
    per order: ``customer_id`` and ``mask`` (item ``k`` of ``items`` is bit ``k``), every basket
    (capped ones included; a basket's size is its number of bits)."""

    orders: ir.Table
    items: tuple[str, ...]  # distinct items in ascending order
    counts: pd.DataFrame  # mask, n: baskets per mask (every basket)
    column: str
    max_items: int | None

    def kept(self) -> pd.DataFrame:
        """``mask, n`` of the kept baskets (at most ``max_items`` items)."""
        c = self.counts
        return c if self.max_items is None else c[_sizes(c["mask"]) <= self.max_items]

    def summary(self) -> dict[str, int | None]:
        sizes = _sizes(self.counts["mask"])
        n = self.counts["n"].to_numpy(dtype="int64")
        kept = sizes <= self.max_items if self.max_items is not None else np.ones(len(n), bool)
        return {
            "baskets": int(n[kept].sum()),
            "multi_item_baskets": int(n[kept & (sizes >= 2)].sum()),
            "capped_baskets": int(n[~kept].sum()),
            "largest_basket": int(sizes.max()) if len(sizes) else 0,
            "max_basket_items": self.max_items,
        }


def basket_masks(
    purchases: ir.Table,
    column: str,
    *,
    max_items: int | None = 100,
    non_product_codes: Sequence[str] = (),
    non_product_prefixes: Sequence[str] = (),
    before: date | None = None,
) -> MaskBaskets | None:
    """The baskets of ``column`` as one bit mask per order, when the column holds at most
    ``MAX_MASK_ITEMS`` distinct items (else None: use :func:`basket_lines`).

    The same baskets as :func:`basket_lines` (the same lines, items and customers), from one
    aggregate per order instead of the distinct (order, item) lines: a few items give at most
    ``2**MAX_MASK_ITEMS`` masks, and every itemset count is a superset sum over them
    (:mod:`custlens.basket.masks`).
    """
    if column not in purchases.columns:
        _item_lines(purchases, column, non_product_codes, non_product_prefixes, before)  # raises
    # the candidate items: the column's distinct values trimmed (one cheap pass over one
    # column); an item whose lines are all filtered out below gets a bit but no basket
    raw = purchases.select(_raw=purchases[column].cast("string")).distinct()
    raw = raw.select(item=raw._raw.strip())
    raw = raw.filter(raw.item.notnull() & (raw.item.length() > 0)).distinct()
    found = raw.limit(MAX_MASK_ITEMS + 1).to_pandas()["item"]
    if len(found) > MAX_MASK_ITEMS:
        return None
    t = _item_lines(purchases, column, non_product_codes, non_product_prefixes, before)
    items = tuple(sorted(str(i) for i in found))
    if not items:
        mask = ibis.literal(0, type="int64")
    elif getattr(t._find_backend(use_default=True), "name", None) == "duckdb":
        bit = ibis.cases(*((t.item == i, 1 << k) for k, i in enumerate(items))).cast("int64")
        mask = bit.bit_or()
    else:  # engines without a bitwise-or aggregate in Ibis (PySpark): each item's bit, added
        bits = [
            ibis.ifelse(t.item == i, 1 << k, 0).cast("int64").max() for k, i in enumerate(items)
        ]
        mask = functools.reduce(operator.add, bits)
    per_order = t.group_by(_order=t.order_id.cast("string")).aggregate(
        customer_id=t.customer_id.cast("string").min(), mask=mask
    )
    orders = materialize(per_order.select("customer_id", "mask"), "basket_masks")
    counts = orders.group_by("mask").aggregate(n=orders.count()).to_pandas()
    counts = counts.astype({"mask": "int64", "n": "int64"})
    counts = counts.sort_values("mask").reset_index(drop=True)
    return MaskBaskets(orders, items, counts, column, max_items)


def bought_mask_items(baskets: MaskBaskets) -> ir.Table:
    """:func:`bought_items` of mask baskets: ``customer_id, item, orders`` (every basket).

    Not stored: it is computed from the one row per order of ``baskets`` (far fewer rows than
    the lines) by each query that reads it, which costs less than writing it once."""
    bits = pd.DataFrame(
        {"item": list(baskets.items), "bit": [1 << k for k in range(len(baskets.items))]}
    )
    o = baskets.orders.filter(baskets.orders.customer_id.notnull())
    b = lookup(bits, o, {"item": "string", "bit": "int64"})
    joined = o.join(b, (o.mask & b.bit) != 0)
    return joined.group_by(["customer_id", "item"]).aggregate(orders=joined.count())


def _sizes(masks: pd.Series) -> np.ndarray:
    """The number of bits of each mask (items of each basket)."""
    m = masks.to_numpy(dtype="int64")
    return np.array([bin(int(x)).count("1") for x in m], dtype="int64")


def bought_items(baskets: Baskets) -> ir.Table:
    """``customer_id, item, orders``: every item each customer bought (all baskets, no cap)."""
    t = baskets.every.filter(baskets.every.customer_id.notnull())
    items = t.group_by(["customer_id", "item"]).aggregate(orders=t.count())
    return materialize(items, "customer_items")


def customer_items(
    purchases: ir.Table,
    column: str = "product_id",
    *,
    non_product_codes: Sequence[str] = (),
    non_product_prefixes: Sequence[str] = (),
    before: date | None = None,
) -> ir.Table:
    """``customer_id, item, orders``: every item each customer bought (all orders, no cap); stored."""
    t = _item_lines(purchases, column, non_product_codes, non_product_prefixes, before)
    t = t.filter(t.customer_id.notnull())
    items = t.group_by(customer_id=t.customer_id.cast("string"), item=t.item).aggregate(
        orders=t.order_id.nunique()
    )
    return materialize(items, "customer_items")


def line_items(
    lines: ir.Table, column: str = "product_id", *, before: date | None = None
) -> ir.Table:
    """``customer_id, item``: the distinct pairs of every line of ``lines`` with an item (before
    ``before``), not stored, for one query that keeps a few known items of them and joins them
    on the customer, such as the recommendations' exclusion.

    Lines without a customer and non-product codes are not left out: such a join never matches
    a missing customer, and known items (from the baskets) are never non-product codes. Testing
    them here as well costs more than the whole query on DuckDB (Online Retail: the exclusion
    query took 0.46 CPU seconds with these tests, 0.12 without).
    """
    t = _item_lines(lines, column, (), (), before)
    return t.select(customer_id=t.customer_id.cast("string"), item=t.item).distinct()


def _item_lines(
    purchases: ir.Table,
    column: str,
    codes: Sequence[str],
    prefixes: Sequence[str],
    before: date | None,
) -> ir.Table:
    missing = [c for c in (*_REQUIRED, column) if c not in purchases.columns]
    if missing:
        raise DataError(
            f"Market basket analysis needs the column(s) {', '.join(missing)}",
            where="transaction columns: " + ", ".join(purchases.columns),
            fix="map a product column (--map product_id=<column>), or leave the basket "
            "analysis out (--analyses without basket)",
        )
    t = purchases
    if before is not None:
        t = t.filter(t.order_ts.date() < ibis.literal(before, type="date"))
    item = t[column].cast("string").strip()
    keep = item.notnull() & (item.length() > 0)
    if "product_id" in t.columns and (codes or prefixes):
        keep = keep & ~non_product_filter(t, codes, prefixes)
    return t.filter(keep).mutate(item=item)


def item_labels(purchases: ir.Table, column: str = "product_id") -> pd.DataFrame:
    """``item, label``: each product's most frequent description (ties: the smallest text)."""
    if column != "product_id" or "description" not in purchases.columns:
        return pd.DataFrame({"item": pd.Series(dtype=object), "label": pd.Series(dtype=object)})
    t = purchases.filter(purchases.description.notnull() & purchases.product_id.notnull())
    t = t.select(item=t.product_id.cast("string").strip(), label=t.description.strip())
    counts = t.group_by(["item", "label"]).aggregate(n=t.count())
    ranked = counts.mutate(
        rank=ibis.row_number().over(
            group_by=counts.item, order_by=[ibis.desc(counts.n), counts.label]
        )
    )
    best = ranked.filter(ranked["rank"] == 0).select("item", "label")
    return best.to_pandas().sort_values("item", kind="stable").reset_index(drop=True)


def lookup(frame: pd.DataFrame, near: ir.Table, schema: dict | None = None) -> ir.Table:
    """A small pandas table usable in joins with ``near`` on its backend.

    An Ibis memtable, except on PySpark, where a memtable inside a cached query is not
    registered: there it becomes a temporary view of the session.
    """
    table = ibis.memtable(frame, schema=schema)
    con = near._find_backend(use_default=True)
    if getattr(con, "name", None) != "pyspark":
        return table
    return con.create_view(f"custlens_lookup_{uuid.uuid4().hex[:12]}", table, overwrite=True)


def _int(value) -> int:
    return 0 if value is None or pd.isna(value) else int(value)
