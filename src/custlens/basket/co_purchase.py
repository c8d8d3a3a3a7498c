"""The co-purchase matrix of the most frequent items: baskets holding both, and the lift."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from custlens.basket.baskets import lookup
from custlens.basket.masks import MAX_MASK_ITEMS, holding, mask_counts, sets_of

CO_PURCHASE_COLUMNS = (
    "item_a",
    "item_b",
    "baskets_a",
    "baskets_b",
    "together",
    "baskets",
    "support",
    "lift",
)


def co_purchase(lines: ir.Table, baskets: int, top: int = 15) -> pd.DataFrame:
    """Every ordered pair of the ``top`` items by baskets (both orders, no diagonal).

    ``lines``: ``basket, item``; ``baskets``: the support denominator. ``support`` = together /
    baskets; ``lift`` = support / (support_a * support_b).
    """
    counts = lines.group_by("item").aggregate(n=lines.count())
    ranked = counts.order_by([ibis.desc(counts.n), counts.item]).limit(top).to_pandas()
    if len(ranked) < 2:
        return pd.DataFrame(columns=list(CO_PURCHASE_COLUMNS))
    return _grid(ranked, _together(lines, ranked["item"].tolist()), baskets)


def co_purchase_of_masks(
    counts: pd.DataFrame, items: Sequence[str], baskets: int, top: int = 15
) -> pd.DataFrame:
    """:func:`co_purchase` of baskets given as bit masks (``counts``: ``mask, n`` of the kept
    baskets, item ``k`` of ``items`` being bit ``k``; at most ``MAX_MASK_ITEMS`` items)."""
    m = len(items)
    h = holding(counts["mask"].to_numpy(), counts["n"].to_numpy(), m)
    singles = pd.DataFrame({"item": list(items), "n": h[np.left_shift(1, np.arange(m))]})
    singles = singles[singles["n"] > 0]
    ranked = singles.sort_values(["n", "item"], ascending=[False, True], kind="stable").head(top)
    if len(ranked) < 2:
        return pd.DataFrame(columns=list(CO_PURCHASE_COLUMNS))
    bit = dict(zip(items, range(m), strict=True))
    pairs = [(a, b) for a, b in combinations(sorted(ranked["item"]), 2)]
    together = pd.DataFrame(
        {
            "ia": [a for a, _ in pairs],
            "ib": [b for _, b in pairs],
            "together": [int(h[(1 << bit[a]) | (1 << bit[b])]) for a, b in pairs],
        }
    )
    return _grid(ranked.reset_index(drop=True), together, baskets)


def _grid(ranked: pd.DataFrame, together: pd.DataFrame, baskets: int) -> pd.DataFrame:
    """The ordered pairs of the ``ranked`` items (``item, n``) with their joint baskets."""
    n = dict(zip(ranked["item"], ranked["n"].astype("int64"), strict=True))
    grid = pd.DataFrame(
        [(x, y) for x in ranked["item"] for y in ranked["item"] if x != y],
        columns=["item_a", "item_b"],
    )
    both = pd.concat(
        [
            together.rename(columns={"ia": "item_a", "ib": "item_b"}),
            together.rename(columns={"ia": "item_b", "ib": "item_a"}),
        ],
        ignore_index=True,
    )
    grid = grid.merge(both, on=["item_a", "item_b"], how="left")
    grid["together"] = grid["together"].fillna(0).astype("int64")
    grid["baskets_a"] = grid["item_a"].map(n).astype("int64")
    grid["baskets_b"] = grid["item_b"].map(n).astype("int64")
    grid["baskets"] = int(baskets)
    total = float(baskets)
    grid["support"] = grid["together"] / total
    grid["lift"] = grid["support"] / ((grid["baskets_a"] / total) * (grid["baskets_b"] / total))
    return grid[list(CO_PURCHASE_COLUMNS)]


def _together(lines: ir.Table, top: list) -> pd.DataFrame:
    """``ia, ib, together``: the baskets holding both items, for the pairs of ``top`` items
    (``ia < ib``; pairs never bought together may be left out)."""
    if len(top) <= MAX_MASK_ITEMS:  # the baskets counted per set of top items
        bits = pd.DataFrame({"top_item": top, "bit": np.left_shift(1, np.arange(len(top)))})
        chosen = lookup(bits, lines)
        coded = lines.join(chosen, lines.item == chosen.top_item).select("basket", "bit")
        counts = mask_counts(coded, [])
        h = holding(counts["mask"].to_numpy(), counts["n"].to_numpy(), len(top))
        pairs = sets_of(len(top), 2)
        names = np.array(top, dtype=object)
        a, b = names[pairs[:, 0]], names[pairs[:, 1]]
        first = np.array([x < y for x, y in zip(a, b, strict=True)], dtype=bool)
        return pd.DataFrame(
            {
                "ia": np.where(first, a, b),
                "ib": np.where(first, b, a),
                "together": h[np.left_shift(1, pairs).sum(axis=1)],
            }
        )
    chosen = lookup(pd.DataFrame({"top_item": top}), lines)
    kept = lines.semi_join(chosen, lines.item == chosen.top_item).select("basket", "item")
    a = kept.select("basket", ia="item")
    b = kept.select(b2="basket", ib="item")
    pairs = a.join(b, [a.basket == b.b2, a.ia < b.ib])
    return pairs.group_by(["ia", "ib"]).aggregate(together=pairs.count()).to_pandas()
