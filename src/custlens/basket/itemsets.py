"""Frequent itemsets (single items, pairs, triples) counted in the engine with Ibis.

Level-wise (Apriori) counting expressed as joins, so that the same expressions run on DuckDB and
PySpark: items are counted per basket; pairs come from a self-join of the basket lines restricted
to frequent items (``a.item < b.item``); triples extend two frequent pairs that share their first
item within a basket and keep the candidate when its third pair is frequent too. Every subset of
a frequent itemset is frequent, so nothing is missed; the counts are exact.

An itemset is frequent when its count is at least ``min_count`` and its support (count / baskets)
is at least ``min_support``, the same test as ``mlxtend``. With ``by`` (e.g. a segment column in
the lines) every group is counted separately against its own number of baskets.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir
import pandas as pd

from custlens.basket.baskets import lookup
from custlens.errors import DataError
from custlens.io.materialize import materialize

ITEM_COLUMNS = ("item_1", "item_2", "item_3")
_ALL = "__all__"


def count_threshold(baskets: int, min_support: float, min_count: int = 1) -> int:
    """The smallest count ``c >= min_count`` with ``c / baskets >= min_support`` (as floats).

    >>> count_threshold(18296, 0.01), count_threshold(200, 0.05, 20), count_threshold(100, 0.07)
    (183, 20, 7)
    """
    c = max(1, math.ceil(min_support * baskets))
    while c > 1 and (c - 1) / baskets >= min_support:
        c -= 1
    while c / baskets < min_support:
        c += 1
    return max(c, min_count)


def frequent_itemsets(
    lines: ir.Table,
    *,
    min_support: float,
    min_count: int = 1,
    max_size: int = 3,
    by: str | None = None,
) -> pd.DataFrame:
    """Frequent itemsets of ``lines`` (``basket, item`` and ``by``), one row each.

    Columns: ``[by,] size, item_1, item_2, item_3`` (items in ascending order, missing ones
    null), ``count`` (baskets containing every item), ``baskets`` (of the group) and ``support``.
    """
    if max_size not in (1, 2, 3):
        raise DataError(
            f"max_size must be 1, 2 or 3, got {max_size}",
            where="frequent_itemsets",
            fix="count pairs (2) or pairs and triples (3)",
        )
    t = lines.select(
        g=lines[by].cast("string") if by else ibis.literal(_ALL), basket="basket", item="item"
    )
    groups = t.group_by("g").aggregate(baskets=t.basket.nunique()).to_pandas()
    groups["threshold"] = [
        count_threshold(int(n), min_support, min_count) for n in groups["baskets"]
    ]
    thresholds = lookup(groups[["g", "threshold"]], lines)

    singles = _frequent(t.group_by(["g", "item"]).aggregate(n=t.count()), thresholds)
    singles = singles.to_pandas().rename(columns={"item": "i1"})
    found = [singles.assign(size=1)]
    if max_size >= 2 and len(singles):
        frequent_items = lookup(singles[["g", "i1"]].rename(columns={"g": "fg"}), lines)
        kept = t.semi_join(frequent_items, [t.g == frequent_items.fg, t.item == frequent_items.i1])
        kept = materialize(kept, "basket_frequent_lines") if max_size == 3 else kept
        a = kept.select("g", "basket", i1="item")
        b = kept.select(g2="g", b2="basket", i2="item")
        pair_lines = a.join(b, [a.g == b.g2, a.basket == b.b2, a.i1 < b.i2]).select(
            "g", "basket", "i1", "i2"
        )
        pairs = pair_lines.group_by(["g", "i1", "i2"]).aggregate(n=pair_lines.count())
        pairs = _frequent(pairs, thresholds).to_pandas()
        found.append(pairs.assign(size=2))
        if max_size == 3 and len(pairs) > 1:
            found.append(_triples(kept, pairs, thresholds).assign(size=3))
    out = pd.concat(found, ignore_index=True)
    out = out.rename(columns={"i1": "item_1", "i2": "item_2", "i3": "item_3", "n": "count"})
    for col in ITEM_COLUMNS:
        if col not in out.columns:
            out[col] = None
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    out = out.merge(groups[["g", "baskets"]], on="g", how="left")
    out["count"] = out["count"].astype("int64")
    out["baskets"] = out["baskets"].astype("int64")
    out["size"] = out["size"].astype("int64")
    out["support"] = out["count"] / out["baskets"].astype("float64")
    out = out.sort_values(["g", "size", *ITEM_COLUMNS], kind="stable", na_position="first")
    columns = ["size", *ITEM_COLUMNS, "count", "baskets", "support"]
    if by:
        out = out.rename(columns={"g": by})
        columns = [by, *columns]
    return out[columns].reset_index(drop=True)


def _frequent(counts: ir.Table, thresholds: ir.Table) -> ir.Table:
    joined = counts.join(thresholds, "g")
    return joined.filter(joined.n >= joined.threshold).drop("threshold")


def _triples(kept: ir.Table, pairs: pd.DataFrame, thresholds: ir.Table) -> pd.DataFrame:
    """Triples ``i1 < i2 < i3`` whose three pairs are frequent, counted over the baskets."""
    frequent = lookup(pairs[["g", "i1", "i2"]].rename(columns={"g": "fg"}), kept)
    a = kept.select("g", "basket", i1="item")
    b = kept.select(g2="g", b2="basket", i2="item")
    occ = a.join(b, [a.g == b.g2, a.basket == b.b2, a.i1 < b.i2]).select("g", "basket", "i1", "i2")
    occ = occ.semi_join(
        frequent, [occ.g == frequent.fg, occ.i1 == frequent.i1, occ.i2 == frequent.i2]
    )
    occ = materialize(occ, "basket_pair_lines")
    x = occ.select("g", "basket", "i1", "i2")
    y = occ.select(g2="g", b2="basket", j1="i1", i3="i2")
    cand = x.join(y, [x.g == y.g2, x.basket == y.b2, x.i1 == y.j1, x.i2 < y.i3]).select(
        "g", "basket", "i1", "i2", "i3"
    )
    f2 = frequent.select("fg", f1="i1", f2="i2")
    cand = cand.semi_join(f2, [cand.g == f2.fg, cand.i2 == f2.f1, cand.i3 == f2.f2])
    triples = cand.group_by(["g", "i1", "i2", "i3"]).aggregate(n=cand.count())
    return _frequent(triples, thresholds).to_pandas()
