"""Market basket analysis in the engine: baskets, frequent itemsets, rules, over-indexing,
recommendations and the co-purchase matrix (see the modules for the definitions)."""

from custlens.basket.baskets import (
    Baskets,
    basket_lines,
    bought_items,
    customer_items,
    item_labels,
    line_items,
)
from custlens.basket.co_purchase import co_purchase
from custlens.basket.itemsets import count_threshold, frequent_itemsets
from custlens.basket.over_index import over_index
from custlens.basket.recommend import recommend
from custlens.basket.rules import association_rules, rule_text

__all__ = [
    "Baskets",
    "association_rules",
    "basket_lines",
    "bought_items",
    "co_purchase",
    "count_threshold",
    "customer_items",
    "frequent_itemsets",
    "item_labels",
    "line_items",
    "over_index",
    "recommend",
    "rule_text",
]
