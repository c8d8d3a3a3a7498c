"""Itemsets and co-purchase counts from basket bit masks, against hand counts and the joins."""

from __future__ import annotations

import importlib
from collections import Counter
from itertools import combinations

import ibis
import numpy as np
import pandas as pd
import pytest

from custlens.basket import basket_lines, co_purchase, count_threshold, frequent_itemsets
from custlens.basket import itemsets as itemsets_module
from custlens.basket.masks import holding, sets_of
from custlens.config import CleaningConfig

from .fixtures import purchase_lines, random_orders

CODES = CleaningConfig().non_product_codes


def test_holding_is_the_superset_sum():
    rng = np.random.default_rng(4)
    m = 6
    masks = rng.integers(0, 1 << m, size=40)
    counts = rng.integers(1, 9, size=40)
    got = holding(masks, counts, m)
    for s in range(1 << m):  # by hand: the baskets whose mask contains every bit of s
        assert got[s] == counts[(masks & s) == s].sum()


def test_sets_of_lists_combinations_in_order():
    assert sets_of(4, 2).tolist() == [list(c) for c in combinations(range(4), 2)]
    assert sets_of(2, 3).shape == (0, 3)


def _hand_count(orders: dict, keep=lambda customer: True) -> tuple[Counter, int]:
    counts: Counter = Counter()
    kept = 0
    for customer, items in orders.values():
        if not keep(customer):
            continue
        kept += 1
        basket = sorted(set(items))
        for k in (1, 2, 3):
            counts.update(combinations(basket, k))
    return counts, kept


def _as_dict(found: pd.DataFrame) -> dict:
    return {
        tuple(i for i in (r.item_1, r.item_2, r.item_3) if isinstance(i, str)): r.count
        for r in found.itertuples()
    }


@pytest.fixture
def few_items():
    """Random baskets over 10 products: every frequent set fits in a mask."""
    orders = random_orders(500, n_items=10, seed=17)
    return orders, basket_lines(ibis.memtable(purchase_lines(orders)), non_product_codes=CODES)


@pytest.mark.parametrize("limit", [0, 16], ids=["joins", "masks"])
def test_both_counting_paths_match_the_hand_count(few_items, limit, monkeypatch):
    monkeypatch.setattr(itemsets_module, "MAX_MASK_ITEMS", limit)
    orders, b = few_items
    hand, kept = _hand_count(orders)
    threshold = count_threshold(kept, 0.03, 5)
    found = frequent_itemsets(b.lines, min_support=0.03, min_count=5, max_size=3)
    assert (found["size"] == 3).any()
    assert _as_dict(found) == {k: n for k, n in hand.items() if n >= threshold}
    pairs = frequent_itemsets(b.lines, min_support=0.03, min_count=5, max_size=2)
    assert _as_dict(pairs) == {k: n for k, n in hand.items() if n >= threshold and len(k) < 3}


@pytest.mark.parametrize("limit", [0, 16], ids=["joins", "masks"])
def test_grouped_paths_with_known_basket_counts(few_items, limit, monkeypatch):
    monkeypatch.setattr(itemsets_module, "MAX_MASK_ITEMS", limit)
    orders, b = few_items
    lines = b.lines.mutate(grp=(b.lines.customer_id < "c20").ifelse("low", "high"))
    counted = frequent_itemsets(lines, min_support=0.05, min_count=3, by="grp")
    low = sum(1 for c, _ in orders.values() if c < "c20")
    known = frequent_itemsets(
        lines, min_support=0.05, min_count=3, by="grp", baskets={"low": low, "high": 500 - low}
    )
    pd.testing.assert_frame_equal(counted, known)
    for name, keep in (("low", lambda c: c < "c20"), ("high", lambda c: c >= "c20")):
        hand, kept = _hand_count(orders, keep)
        threshold = count_threshold(kept, 0.05, 3)
        got = counted[counted["grp"] == name]
        assert (got["baskets"] == kept).all()
        assert _as_dict(got) == {k: n for k, n in hand.items() if n >= threshold}


@pytest.mark.parametrize("top", [4, 10])
def test_co_purchase_counts_pairs_of_the_top_items(few_items, top, monkeypatch):
    orders, b = few_items
    got = co_purchase(b.lines, b.baskets, top=top)
    baskets = [set(items) for _, items in orders.values()]
    singles = Counter(i for basket in baskets for i in basket)
    ranked = sorted(singles, key=lambda i: (-singles[i], i))[:top]
    assert sorted(set(got["item_a"])) == sorted(ranked)
    for row in got.itertuples():
        both = sum(1 for basket in baskets if {row.item_a, row.item_b} <= basket)
        assert row.together == both
        assert row.baskets_a == singles[row.item_a]
        assert row.lift == pytest.approx(
            (both / 500) / ((singles[row.item_a] / 500) * (singles[row.item_b] / 500)), rel=1e-12
        )
    module = importlib.import_module("custlens.basket.co_purchase")
    monkeypatch.setattr(module, "MAX_MASK_ITEMS", 0)  # the self-join: the same table
    pd.testing.assert_frame_equal(got, co_purchase(b.lines, b.baskets, top=top))
