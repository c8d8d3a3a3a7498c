"""Market basket settings (stage ``basket``, :mod:`custlens.basket`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from custlens.config.base import _Strict

RULE_METRICS = ("confidence", "lift", "leverage", "conviction", "zhangs_metric", "jaccard")


class BasketConfig(_Strict):
    """Frequent itemsets, association rules, segment over-indexing and recommendations.

    A basket is the set of distinct products of one order after cleaning, non-product codes
    excluded. Baskets with more than ``max_basket_items`` products (wholesale orders) are left
    out of the counts and reported: one 500-line order adds as many pairs as a thousand median
    orders, so a handful of them would decide every rule.
    """

    min_support: float = Field(default=0.01, gt=0, le=1)  # share of baskets
    min_count: int = Field(default=20, ge=1)  # and at least this many baskets (both must hold)
    max_itemset_size: int = Field(default=3, ge=2, le=3)  # pairs, or pairs and triples
    max_basket_items: int | None = Field(default=100, ge=2)  # None: no cap
    exclude_non_product: bool = True  # the cleaning's non_product_codes / prefixes, always
    min_confidence: float = Field(default=0.2, ge=0, le=1)
    alpha: float = Field(default=0.05, gt=0, lt=1)  # Benjamini-Hochberg, rules and over-indexing
    min_baskets: int = Field(default=100, ge=10)  # multi-item baskets needed to run at all
    # per segment / persona: the largest groups by baskets, the best rules of each by lift
    top_segments: int = Field(default=5, ge=1)
    rules_per_segment: int = Field(default=20, ge=1)
    # over-indexing: share of the group's customers who bought the item vs all customers
    min_index: float = Field(default=1.2, gt=1)
    min_buyers: int = Field(default=10, ge=1)  # buyers of the item inside the group
    over_index_per_segment: int = Field(default=10, ge=1)
    # recommendations: products not yet bought, by the best significant rule with lift > 1
    recommendations: int = Field(default=3, ge=1, le=10)
    recommend_by: Literal[
        "confidence", "lift", "leverage", "conviction", "zhangs_metric", "jaccard"
    ] = "confidence"
    co_purchase_items: int = Field(default=15, ge=2, le=50)  # heatmap size
