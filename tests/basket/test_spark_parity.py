"""The same baskets, itemsets, rules and recommendations on DuckDB and on PySpark."""

from __future__ import annotations

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from custlens.basket import (
    association_rules,
    basket_lines,
    customer_items,
    frequent_itemsets,
    recommend,
)
from custlens.config import CleaningConfig

from .fixtures import purchase_lines, random_orders

pytestmark = [pytest.mark.spark, pytest.mark.slow]

CODES = CleaningConfig().non_product_codes


def _analyse(table: ibis.Table):
    b = basket_lines(table, max_items=6, non_product_codes=CODES)
    sets = frequent_itemsets(b.lines, min_support=0.02, min_count=5, max_size=3)
    grouped_lines = b.lines.mutate(grp=(b.lines.customer_id < "c30").ifelse("low", "high"))
    grouped = frequent_itemsets(grouped_lines, min_support=0.04, min_count=5, by="grp")
    rules = association_rules(sets, min_confidence=0.1)
    items = customer_items(table, non_product_codes=CODES)
    recs = recommend(items, rules[rules["lift"] > 1], n=3)
    return b.summary(), sets, grouped, recs


def test_duckdb_and_spark_find_the_same_itemsets(spark):
    lines = purchase_lines(random_orders(500, seed=21))
    data = pa.Table.from_pandas(lines, preserve_index=False)
    duck = _analyse(ibis.memtable(data))
    spark.createDataFrame(lines).createOrReplaceTempView("basket_parity")
    on_spark = _analyse(ibis.pyspark.connect(spark).table("basket_parity"))

    assert duck[0] == on_spark[0]
    assert (duck[1]["size"] == 3).any() and duck[0]["capped_baskets"] > 0 and len(duck[3]) > 50
    for a, b in zip(duck[1:], on_spark[1:], strict=True):
        pd.testing.assert_frame_equal(
            a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False
        )


def _masks(table: ibis.Table):
    from custlens.basket.baskets import basket_masks, bought_mask_items
    from custlens.basket.itemsets import itemsets_of_masks

    masks = basket_masks(table, "product_id", max_items=4, non_product_codes=CODES)
    assert masks is not None
    sets = itemsets_of_masks(masks.kept(), masks.items, min_support=0.03, min_count=5)
    bought = bought_mask_items(masks).to_pandas().sort_values(["customer_id", "item"])
    return masks.summary(), sets, bought


def test_duckdb_and_spark_build_the_same_mask_baskets(spark):
    lines = purchase_lines(random_orders(400, n_items=10, seed=5))
    duck = _masks(ibis.memtable(pa.Table.from_pandas(lines, preserve_index=False)))
    spark.createDataFrame(lines).createOrReplaceTempView("basket_mask_parity")
    on_spark = _masks(ibis.pyspark.connect(spark).table("basket_mask_parity"))

    assert duck[0] == on_spark[0] and duck[0]["capped_baskets"] > 0
    for a, b in zip(duck[1:], on_spark[1:], strict=True):
        pd.testing.assert_frame_equal(
            a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False
        )
