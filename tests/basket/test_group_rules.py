"""Rules per segment and per persona (two groupings at once), counted by hand in Python."""

from __future__ import annotations

import ibis
import pandas as pd

from custlens.basket import basket_lines
from custlens.config import BasketConfig
from custlens.pipeline.stages.basket import _group_rules

from .fixtures import purchase_lines, random_orders


def test_each_grouping_counts_only_its_own_groups_baskets():
    orders = random_orders(n_orders=600, n_items=12, seed=11)
    customers = sorted({c for c, _ in orders.values()})
    # two groupings that cut across each other: every basket is in one group of each
    groups = pd.DataFrame(
        {
            "customer_id": customers,
            "segment": [f"s{i % 2}" for i in range(len(customers))],
            "persona": [f"p{i % 3}" for i in range(len(customers))],
        }
    )
    baskets = basket_lines(ibis.memtable(purchase_lines(orders, extra_codes=False)))
    cfg = BasketConfig(min_support=0.05, min_count=5, min_confidence=0.1, rules_per_segment=1000)
    got = _group_rules(baskets, groups, ["segment", "persona"], cfg, {})
    assert set(zip(got["by"], got["group"], strict=True)) == {
        *(("segment", f"s{i}") for i in range(2)),
        *(("persona", f"p{i}") for i in range(3)),
    }
    by_customer = groups.set_index("customer_id")
    for row in got.itertuples(index=False):
        mine = [
            set(items)
            for customer, items in orders.values()
            if by_customer.loc[customer, row.by] == row.group
        ]
        left = {i for i in (row.antecedent_1, row.antecedent_2) if isinstance(i, str)}
        right = {i for i in (row.consequent_1, row.consequent_2) if isinstance(i, str)}
        assert row.baskets == len(mine)
        assert row.antecedent_count == sum(left <= b for b in mine)
        assert row.count == sum(left | right <= b for b in mine)
