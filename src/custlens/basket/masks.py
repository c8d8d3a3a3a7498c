"""Itemset counts over a few items from the set of items of each basket, as a bit mask.

With at most :data:`MAX_MASK_ITEMS` items (the frequent categories, the items of the
co-purchase matrix), each basket's items among them form a number below ``2**m`` (item ``k`` is
bit ``k``). The engine counts the baskets per mask (a group-by per basket, then per mask: at most
``2**m`` rows come back) instead of joining the lines with themselves for every pair and triple;
the number of baskets holding every item of a set ``S`` is then the sum of the counts of the
masks that contain ``S`` (a superset sum over the ``2**m`` masks, exact integers).
"""

from __future__ import annotations

from itertools import combinations

import ibis.expr.types as ir
import numpy as np
import pandas as pd

__all__ = ["MAX_MASK_ITEMS", "mask_counts", "holding", "sets_of"]

MAX_MASK_ITEMS = 16  # 65,536 masks at most per group


def mask_counts(coded: ir.Table, keys: list[str]) -> pd.DataFrame:
    """``keys..., mask, n``: baskets per group and set of items, from ``coded`` (``keys...,
    basket, bit``: one row per distinct item of a basket, ``bit`` = 2 ** the item's code)."""
    per_basket = coded.group_by([*keys, "basket"]).aggregate(mask=coded.bit.sum())
    return per_basket.group_by([*keys, "mask"]).aggregate(n=per_basket.count()).to_pandas()


def holding(masks: np.ndarray, counts: np.ndarray, m: int) -> np.ndarray:
    """``h[S]``: the baskets whose items include every item of ``S`` (for each ``S < 2**m``),
    from the number of baskets per exact mask.

    >>> holding(np.array([0b011, 0b110, 0b111]), np.array([5, 2, 1]), 3)[[0b001, 0b010, 0b011]]
    array([6, 8, 6])
    """
    h = np.zeros(1 << m, dtype=np.int64)
    np.add.at(h, masks.astype(np.int64), counts.astype(np.int64))
    for bit in range(m):
        view = h.reshape(-1, 2, 1 << bit)  # [higher bits, this bit, lower bits]
        view[:, 0, :] += view[:, 1, :]
    return h


def sets_of(m: int, size: int) -> np.ndarray:
    """Every set of ``size`` codes below ``m`` in ascending order, one row each (lexicographic)."""
    rows = list(combinations(range(m), size))
    return np.array(rows, dtype=np.int64).reshape(len(rows), size)
