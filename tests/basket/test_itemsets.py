"""Frequent itemsets in the engine against a hand-written pandas count."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import ibis
import pytest

from custlens.basket import basket_lines, count_threshold, frequent_itemsets
from custlens.config import CleaningConfig
from custlens.errors import DataError

from .fixtures import ORDERS, purchase_lines, random_orders

CODES = CleaningConfig().non_product_codes


def _hand_count(orders: dict, max_items: int | None, max_size: int = 3) -> tuple[Counter, int]:
    """Itemset -> number of baskets, by enumerating every subset of every basket."""
    counts: Counter = Counter()
    kept = 0
    for _, items in orders.values():
        basket = sorted(set(items))
        if max_items is not None and len(basket) > max_items:
            continue
        kept += 1
        for k in range(1, max_size + 1):
            counts.update(combinations(basket, k))
    return counts, kept


def _as_dict(itemsets) -> dict:
    out = {}
    for row in itemsets.itertuples():
        key = tuple(i for i in (row.item_1, row.item_2, row.item_3) if isinstance(i, str))
        out[key] = row.count
    return out


def _baskets(orders: dict, max_items: int | None = None):
    return basket_lines(
        ibis.memtable(purchase_lines(orders)), max_items=max_items, non_product_codes=CODES
    )


def test_count_threshold_is_the_float_test_of_mlxtend():
    for n in (7, 100, 999, 18293, 123457):
        for s in (0.001, 0.005, 0.01, 0.07, 0.1, 0.3):
            c = count_threshold(n, s)
            assert c / n >= s and (c - 1) / n < s
    assert count_threshold(1000, 0.01, min_count=25) == 25


@pytest.mark.parametrize("max_items", [None, 4])
def test_small_fixture_matches_hand_count(max_items):
    b = _baskets(ORDERS, max_items)
    hand, kept = _hand_count(ORDERS, max_items)
    assert b.baskets == kept
    assert b.capped == (1 if max_items == 4 else 0)  # o09 has five products
    assert b.largest == 5
    assert b.multi_item == sum(
        1 for _, items in ORDERS.values() if 2 <= len(set(items)) <= (max_items or 99)
    )
    found = frequent_itemsets(b.lines, min_support=2 / kept, max_size=3)
    expected = {k: n for k, n in hand.items() if n >= 2}
    assert _as_dict(found) == expected
    assert (found["baskets"] == kept).all()
    assert (found["support"] == found["count"] / kept).all()
    assert "POST" not in set(found["item_1"])  # non-product code left out


def test_random_baskets_match_hand_count_with_min_count():
    orders = random_orders()
    b = _baskets(orders, 6)
    hand, kept = _hand_count(orders, 6)
    threshold = count_threshold(kept, 0.02, min_count=10)
    found = frequent_itemsets(b.lines, min_support=0.02, min_count=10, max_size=3)
    assert _as_dict(found) == {k: n for k, n in hand.items() if n >= threshold}
    assert (found["size"] == 3).any()
    pairs_only = frequent_itemsets(b.lines, min_support=0.02, min_count=10, max_size=2)
    assert pairs_only["size"].max() == 2
    assert _as_dict(pairs_only) == {k: n for k, n in hand.items() if n >= threshold and len(k) < 3}


def test_grouped_counts_each_group_against_its_own_baskets():
    orders = random_orders(300, seed=9)
    b = _baskets(orders)
    lines = b.lines.mutate(grp=(b.lines.customer_id < "c30").ifelse("low", "high"))
    found = frequent_itemsets(lines, min_support=0.05, min_count=5, max_size=3, by="grp")
    for name, keep in (("low", lambda c: c < "c30"), ("high", lambda c: c >= "c30")):
        subset = {o: v for o, v in orders.items() if keep(v[0])}
        hand, kept = _hand_count(subset, None)
        threshold = count_threshold(kept, 0.05, 5)
        got = found[found["grp"] == name]
        assert (got["baskets"] == kept).all()
        assert _as_dict(got) == {k: n for k, n in hand.items() if n >= threshold}


def test_missing_product_column_is_a_data_error():
    lines = purchase_lines().drop(columns=["product_id"])
    with pytest.raises(DataError, match="product_id"):
        basket_lines(ibis.memtable(lines))
