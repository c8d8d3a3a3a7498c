"""The ``basket`` stage inside a run: tables, customer columns, and skipping with a note."""

from __future__ import annotations

import pytest

import custlens
from custlens.config import Settings
from custlens.errors import DataError
from custlens.pipeline.stage import StageContext


@pytest.fixture(scope="module")
def synthetic_run():
    orders = custlens.datasets.synthetic(800, seed=5).orders
    settings = Settings(seed=5, analyses=["personas", "basket"])
    return custlens.run(orders, settings=settings)


def test_stage_tables_summary_and_columns(synthetic_run):
    result = synthetic_run.stages["basket"]
    s = result.summary
    assert s["baskets"] > 1000 and s["multi_item_baskets"] <= s["baskets"]
    assert s["groupings"] == ["segment", "persona"]
    rules = result.tables["rules"]
    assert rules["lift"].is_monotonic_decreasing
    assert (rules["confidence"] >= Settings().basket.min_confidence).all()
    assert {"category_rules", "category_itemsets", "co_purchase", "over_index"} <= set(
        result.tables
    )
    assert s["category"]["frequent_pairs"] > 0
    seg = result.tables["segment_rules"]
    assert set(seg["by"]) <= {"segment", "persona"}
    assert seg.groupby(["by", "group"]).size().max() <= Settings().basket.rules_per_segment
    customers = synthetic_run.customers
    for k in (1, 2, 3):
        assert f"recommendation_{k}" in customers.columns
        assert f"recommendation_{k}_rule" in customers.columns
    has = customers["recommendation_1"].notna()
    assert has.sum() == s["customers_with_recommendations"] > 0
    assert customers.loc[has, "recommendation_1_rule"].str.contains("->").all()
    assert set(result.charts(synthetic_run)) == {"basket_co_purchase", "basket_top_rules"}
    assert result.headline(synthetic_run)[0].startswith("Basket: ")


def test_recommendations_are_not_bought_yet(synthetic_run):
    orders = custlens.datasets.synthetic(800, seed=5).orders
    bought = set(
        zip(orders["CustomerID"].astype("Int64").astype(str), orders["StockCode"], strict=True)
    )
    customers = synthetic_run.customers
    for k in (1, 2, 3):
        picked = customers[customers[f"recommendation_{k}"].notna()]
        pairs = zip(picked["customer_id"], picked[f"recommendation_{k}"], strict=True)
        assert not any(p in bought for p in pairs)


def test_without_products_the_stage_is_skipped_with_a_note():
    orders = custlens.datasets.synthetic(200, seed=1).orders.drop(
        columns=["StockCode", "Description", "Category"]
    )
    results = custlens.run(orders, settings=Settings(analyses=["basket"]))
    assert "basket" not in results.stages
    assert "product_id" in results.skipped["basket"]


def test_too_few_multi_item_baskets_is_a_data_error():
    orders = custlens.datasets.synthetic(150, seed=1).orders
    settings = Settings(analyses=["basket"]).with_overrides(**{"basket.min_baskets": 10**6})
    results = custlens.run(orders, settings=settings)
    assert "basket" not in results.stages
    assert "two or more products" in results.skipped["basket"]


def test_runner_raises_data_error_directly(synthetic_run):
    from custlens.pipeline.stages.basket import run

    ctx = StageContext(
        customers=synthetic_run.customers,
        transactions=None,
        cleaned=type("C", (), {"purchases": _no_products()})(),
        as_of=synthetic_run.as_of,
        settings=Settings(),
    )
    with pytest.raises(DataError, match="product_id"):
        run(ctx)


def _no_products():
    import ibis
    import pandas as pd

    return ibis.memtable(
        pd.DataFrame({"customer_id": ["1"], "order_id": ["1"], "order_ts": [pd.Timestamp(0)]})
    )
