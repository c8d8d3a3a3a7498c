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


def _section_tables(run) -> dict:
    from custlens.story import Table

    section = run.stages["basket"].section(run)
    return {b.name: b for b in section.blocks if isinstance(b, Table)}


def test_report_section_shows_rules_and_products_in_words(synthetic_run):
    tables = _section_tables(synthetic_run)
    result = synthetic_run.stages["basket"]
    rules = tables["basket_rules"].frame
    # the reader's columns only: the statistics stay in basket/rules.csv
    assert list(rules.columns) == ["rule", "orders_with_both", "confidence", "lift"]
    assert "confidence" in tables["basket_rules"].percent
    assert rules["rule"].tolist() == result.tables["rules"]["rule"].head(len(rules)).tolist()
    # bought together: pairs and triples only, the most frequent first
    itemsets = result.tables["itemsets"]
    several = itemsets[itemsets["size"] >= 2]
    together = tables["basket_together"].frame
    assert together["orders"].tolist() == sorted(several["count"], reverse=True)[: len(together)]
    top = several.loc[several["count"].idxmax()]
    labels = [top[f"label_{i}"] for i in range(1, int(top["size"]) + 1)]
    assert together["products"].iloc[0] == " + ".join(labels)


def test_report_section_lists_each_groups_strongest_rules_segments_first(synthetic_run):
    tables = _section_tables(synthetic_run)
    result = synthetic_run.stages["basket"]
    shown = tables["basket_segment_rules"].frame
    full = result.tables["segment_rules"]
    for (by, group), rows in shown.groupby(["by", "group"], sort=False):
        mine = full[(full["by"] == by) & (full["group"] == group)]
        expected = sorted(mine["lift"], reverse=True)[:3]
        assert rows["lift"].tolist() == expected
    # segments before personas, segments in the RFM rules' order
    order = [r.name for r in Settings().rfm.segments]
    by = shown["by"].tolist()
    assert by == sorted(by, key=lambda b: b != "segment")
    groups = list(dict.fromkeys(shown.loc[shown["by"] == "segment", "group"]))
    assert groups == sorted(groups, key=order.index)
    over_index = result.tables["over_index"]
    for level in ("product", "category"):  # the synthetic products have categories
        over = tables[f"basket_over_index_{level}"].frame
        assert over.groupby(["by", "group"]).size().max() <= 3
        assert {level, "share_of_group", "share_of_all_customers", "times_as_likely"} <= set(
            over.columns
        )
        mine = over_index[over_index["level"] == level]
        for (by, group), rows in over.groupby(["by", "group"], sort=False):
            of = mine[(mine["by"] == by) & (mine["group"] == group)]
            assert rows["times_as_likely"].tolist() == sorted(of["index"], reverse=True)[:3]
    assert "basket_category_rules" in tables
