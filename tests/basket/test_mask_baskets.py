"""Baskets of a few items as one bit mask per order (the category level): the same baskets,
itemsets, co-purchase counts and bought items as hand counts of the orders."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import ibis
import pandas as pd
import pytest

from custlens.basket import basket_lines, co_purchase, count_threshold, frequent_itemsets
from custlens.basket.baskets import basket_masks, bought_mask_items
from custlens.basket.co_purchase import co_purchase_of_masks
from custlens.basket.itemsets import itemsets_of_masks
from custlens.config import CleaningConfig

from .fixtures import purchase_lines, random_orders

CODES = CleaningConfig().non_product_codes
CAP = 4  # baskets of more than 4 distinct items are capped


@pytest.fixture(scope="module")
def orders_and_table():
    orders = random_orders(500, n_items=10, seed=23)
    return orders, ibis.memtable(purchase_lines(orders))


def _masks(table):
    found = basket_masks(table, "product_id", max_items=CAP, non_product_codes=CODES)
    assert found is not None
    return found


def test_summary_counts_kept_capped_and_largest_baskets(orders_and_table):
    orders, table = orders_and_table
    sizes = [len(set(items)) for _, items in orders.values()]
    got = _masks(table).summary()
    assert got == {
        "baskets": sum(s <= CAP for s in sizes),
        "multi_item_baskets": sum(2 <= s <= CAP for s in sizes),
        "capped_baskets": sum(s > CAP for s in sizes),
        "largest_basket": max(sizes),
        "max_basket_items": CAP,
    }
    assert got["capped_baskets"] > 0  # the cap is exercised


@pytest.mark.parametrize("max_size", [1, 2, 3])
def test_itemsets_are_the_hand_count_of_the_kept_baskets(orders_and_table, max_size):
    orders, table = orders_and_table
    kept = [sorted(set(items)) for _, items in orders.values() if len(set(items)) <= CAP]
    hand: Counter = Counter()
    for basket in kept:
        for k in range(1, max_size + 1):
            hand.update(combinations(basket, k))
    threshold = count_threshold(len(kept), 0.03, 5)
    masks = _masks(table)
    found = itemsets_of_masks(
        masks.kept(), masks.items, min_support=0.03, min_count=5, max_size=max_size
    )
    got = {
        tuple(i for i in (r.item_1, r.item_2, r.item_3) if isinstance(i, str)): r.count
        for r in found.itertuples()
    }
    assert got == {k: n for k, n in hand.items() if n >= threshold}
    assert (found["baskets"] == len(kept)).all()
    if max_size == 3:
        assert (found["size"] == 3).any()
    # the same table as the engine's counting of the basket lines
    lines = basket_lines(table, max_items=CAP, non_product_codes=CODES)
    expected = frequent_itemsets(
        lines.lines, min_support=0.03, min_count=5, max_size=max_size, baskets=lines.baskets
    )
    pd.testing.assert_frame_equal(found, expected)


@pytest.mark.parametrize("top", [3, 15])
def test_co_purchase_of_masks_counts_pairs_of_the_top_items(orders_and_table, top):
    orders, table = orders_and_table
    baskets = [set(items) for _, items in orders.values() if len(set(items)) <= CAP]
    singles = Counter(i for basket in baskets for i in basket)
    ranked = sorted(singles, key=lambda i: (-singles[i], i))[:top]
    masks = _masks(table)
    got = co_purchase_of_masks(masks.kept(), masks.items, len(baskets), top=top)
    assert len(got) == len(ranked) * (len(ranked) - 1)
    assert list(dict.fromkeys(got["item_a"])) == ranked
    n = float(len(baskets))
    for row in got.itertuples():
        both = sum(1 for basket in baskets if {row.item_a, row.item_b} <= basket)
        assert row.together == both
        assert row.baskets_a == singles[row.item_a]
        assert row.lift == pytest.approx(
            (both / n) / ((singles[row.item_a] / n) * (singles[row.item_b] / n)), rel=1e-12
        )
    lines = basket_lines(table, max_items=CAP, non_product_codes=CODES)
    pd.testing.assert_frame_equal(got, co_purchase(lines.lines, lines.baskets, top=top))


def test_bought_items_count_every_order_of_each_customer(orders_and_table):
    orders, table = orders_and_table
    hand: Counter = Counter()
    for customer, items in orders.values():  # every order, capped ones included
        for item in set(items):
            hand[(customer, item)] += 1
    got = bought_mask_items(_masks(table)).to_pandas()
    keys = zip(got["customer_id"], got["item"], strict=True)
    assert dict(zip(keys, got["orders"], strict=True)) == dict(hand)


def test_more_items_than_a_mask_holds_gives_none():
    table = ibis.memtable(purchase_lines(random_orders(300, n_items=25, seed=2)))
    assert basket_masks(table, "product_id", non_product_codes=CODES) is None
