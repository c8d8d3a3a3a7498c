"""Stage ``basket``: frequent pairs and triples, association rules, segment over-indexing and
three cross-sell recommendations per customer (see :mod:`custlens.basket`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from custlens.errors import DataError
from custlens.pipeline.stage import StageContext, StageResult

if TYPE_CHECKING:
    import altair as alt
    import ibis.expr.types as ir

    from custlens.basket import Baskets
    from custlens.config import BasketConfig
    from custlens.pipeline.results import Results
    from custlens.story import Section

GROUPINGS = ("segment", "persona")  # customer-table columns the rules and over-indexing split by


@dataclass(frozen=True)
class BasketResult(StageResult):
    """Itemsets, rules (products, categories, per segment and persona), over-indexing, the
    co-purchase matrix; the customer table gets the recommendations."""

    stage = "basket"

    @property
    def rules(self) -> pd.DataFrame:
        return self.tables["rules"]

    def charts(self, results: Results) -> dict[str, alt.TopLevelMixin]:
        from custlens.charts.basket import co_purchase_heatmap, top_rules_chart

        charts: dict[str, alt.TopLevelMixin] = {}
        if len(self.tables.get("co_purchase", ())):
            charts["basket_co_purchase"] = co_purchase_heatmap(self.tables["co_purchase"])
        if len(self.rules):
            charts["basket_top_rules"] = top_rules_chart(self.rules)
        return charts

    def headline(self, results: Results) -> list[str]:
        s = self.summary
        cap = s["max_basket_items"]
        capped = f"{s['capped_baskets']:,} over {cap} products left out" if cap else "no cap"
        lines = [
            f"Basket: {s['baskets']:,} orders ({capped}), {s['frequent_pairs']:,} pairs, "
            f"{s['frequent_triples']:,} triples, {s['rules']:,} rules "
            f"({s['significant_rules']:,} significant)"
        ]
        if len(self.rules):
            top = self.rules.iloc[0]
            lines.append(
                f"Strongest rule: {top['rule']} (lift {top['lift']:.1f}, "
                f"confidence {top['confidence']:.0%})"
            )
        return lines

    def section(self, results: Results) -> Section:
        from custlens.pipeline.stages.sections import basket_section

        return basket_section(self, results)


def run(ctx: StageContext) -> tuple[pd.DataFrame, BasketResult]:
    """Products (and categories when present) as baskets; rules; recommendations per customer."""
    from custlens.basket import (
        association_rules,
        basket_lines,
        bought_items,
        co_purchase,
        count_threshold,
        item_labels,
        line_items,
    )

    cfg, cleaning = ctx.settings.basket, ctx.settings.cleaning
    purchases = ctx.cleaned.purchases
    codes: dict[str, Any] = dict(
        non_product_codes=cleaning.non_product_codes if cfg.exclude_non_product else (),
        non_product_prefixes=cleaning.non_product_prefixes if cfg.exclude_non_product else (),
        before=ctx.as_of,
    )
    baskets = basket_lines(purchases, "product_id", max_items=cfg.max_basket_items, **codes)
    if baskets.multi_item < cfg.min_baskets:
        raise DataError(
            f"Only {baskets.multi_item:,} orders hold two or more products (at least "
            f"{cfg.min_baskets:,} are needed for basket rules)",
            where="order_id and product_id of the cleaned purchases",
            fix="check that order_id groups the lines of one order, or lower "
            "basket.min_baskets in custlens.toml",
        )
    labels = dict(item_labels(purchases).itertuples(index=False, name=None))
    itemsets = _itemsets(baskets, cfg)
    rules = _readable(association_rules(itemsets, min_confidence=cfg.min_confidence), labels)
    tables: dict[str, pd.DataFrame] = {"itemsets": _labelled(itemsets, labels), "rules": rules}
    notes: list[str] = []
    summary: dict[str, Any] = {
        **baskets.summary(),
        "min_support": cfg.min_support,
        "min_count": count_threshold(baskets.baskets, cfg.min_support, cfg.min_count),
        **_counts(itemsets, rules, cfg.alpha),
    }
    if baskets.capped:
        notes.append(
            f"basket: {baskets.capped:,} orders with more than {cfg.max_basket_items} products "
            "were left out of the rules (basket.max_basket_items)"
        )

    items = bought_items(baskets)
    # each level: its customer-item table, one row per order of its customers, its labels
    levels: list[tuple[str, ir.Table, ir.Table, dict]] = [
        ("product", items, _order_customers(baskets.orders), labels)
    ]
    if "category" in purchases.columns:
        co, co_labels = _category_level(purchases, codes, cfg, tables, summary, levels)
    else:
        co = co_purchase(baskets.lines, baskets.baskets, top=cfg.co_purchase_items)
        co_labels = labels
    tables["co_purchase"] = co.assign(
        label_a=co["item_a"].map(lambda i: co_labels.get(i, i)),
        label_b=co["item_b"].map(lambda i: co_labels.get(i, i)),
    )

    groupings = [g for g in GROUPINGS if g in ctx.customers.columns]
    tables["segment_rules"] = _group_rules(baskets, ctx.customers, groupings, cfg, labels)
    tables["over_index"] = _over_index(levels, ctx.customers, groupings, cfg)
    summary["groupings"] = groupings

    usable = rules[(rules["lift"] > 1.0) & (rules["q_value"] <= cfg.alpha)]
    # never offer what a customer already had a line for: bought, cancelled or returned
    # (the cleaning drops offsetting purchase/cancellation pairs from both purchases and returns)
    returned = (
        None
        if ctx.transactions is None
        else line_items(ctx.transactions, "product_id", before=ctx.as_of)
    )
    columns, recommended = _recommendations(ctx.customers, items, returned, usable, cfg)
    summary["customers_with_recommendations"] = recommended
    result = BasketResult(
        tables={k: _text_as_str(v) for k, v in tables.items()},
        summary=summary,
        columns=tuple(columns.columns),
        notes=tuple(notes),
    )
    return _text_as_str(columns), result


def _itemsets(baskets: Baskets, cfg: BasketConfig) -> pd.DataFrame:
    """The frequent itemsets of ``baskets`` with the configured support and size."""
    from custlens.basket import frequent_itemsets

    return frequent_itemsets(
        baskets.lines,
        min_support=cfg.min_support,
        min_count=cfg.min_count,
        max_size=cfg.max_itemset_size,
        baskets=baskets.baskets,
    )


def _category_level(
    purchases: ir.Table,
    codes: dict[str, Any],
    cfg: BasketConfig,
    tables: dict[str, pd.DataFrame],
    summary: dict[str, Any],
    levels: list[tuple[str, ir.Table, ir.Table, dict]],
) -> tuple[pd.DataFrame, dict]:
    """The category itemsets, rules, summary and bought items (added to ``tables``,
    ``summary`` and ``levels``); returns the co-purchase matrix of the categories. A few
    categories (at most 16) are counted from one bit mask per order, more from the lines."""
    from custlens.basket import (
        association_rules,
        basket_lines,
        bought_items,
        co_purchase,
    )
    from custlens.basket.baskets import basket_masks, bought_mask_items
    from custlens.basket.co_purchase import co_purchase_of_masks
    from custlens.basket.itemsets import itemsets_of_masks

    masks = basket_masks(purchases, "category", max_items=cfg.max_basket_items, **codes)
    if masks is not None:
        kept = masks.kept()
        level_summary = masks.summary()
        cat_sets = itemsets_of_masks(
            kept,
            masks.items,
            min_support=cfg.min_support,
            min_count=cfg.min_count,
            max_size=cfg.max_itemset_size,
        )
        bought = bought_mask_items(masks)
        orders = masks.orders
        n = int(level_summary["baskets"] or 0)
        co = co_purchase_of_masks(kept, masks.items, n, top=cfg.co_purchase_items)
    else:
        cat = basket_lines(purchases, "category", max_items=cfg.max_basket_items, **codes)
        level_summary = cat.summary()
        cat_sets = _itemsets(cat, cfg)
        bought = bought_items(cat)
        orders = cat.orders
        co = co_purchase(cat.lines, cat.baskets, top=cfg.co_purchase_items)
    cat_rules = _readable(association_rules(cat_sets, min_confidence=cfg.min_confidence), {})
    tables["category_itemsets"] = cat_sets
    tables["category_rules"] = cat_rules
    summary["category"] = {**level_summary, **_counts(cat_sets, cat_rules, cfg.alpha)}
    levels.append(("category", bought, _order_customers(orders), {}))
    return co, {}


def _order_customers(orders: ir.Table) -> ir.Table:
    """``customer_id`` of every order with a customer: the customers of the level's
    customer-item table (every order, capped ones included), from far fewer rows."""
    return orders.filter(orders.customer_id.notnull()).select("customer_id")


def _text_as_str(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns in pandas' string dtype (missing = NaN), as a results folder reads them."""
    text = [c for c in frame.columns if frame[c].dtype == object]
    return frame.astype(dict.fromkeys(text, "str")) if text else frame


def _counts(itemsets: pd.DataFrame, rules: pd.DataFrame, alpha: float) -> dict[str, int]:
    sizes = itemsets["size"].value_counts()
    return {
        "frequent_items": int(sizes.get(1, 0)),
        "frequent_pairs": int(sizes.get(2, 0)),
        "frequent_triples": int(sizes.get(3, 0)),
        "rules": len(rules),
        "significant_rules": int((rules["q_value"] <= alpha).sum()),
    }


def _labelled(itemsets: pd.DataFrame, labels: dict) -> pd.DataFrame:
    if not labels:
        return itemsets
    out = itemsets.copy()
    for k in (1, 2, 3):
        col = f"item_{k}"
        out[f"label_{k}"] = out[col].map(lambda i: None if i is None else labels.get(i, i))
    return out


def _readable(rules: pd.DataFrame, labels: dict) -> pd.DataFrame:
    from custlens.basket import rule_text

    return rules.assign(rule=rule_text(rules, labels))


def _group_rules(
    baskets: Baskets,
    customers: pd.DataFrame,
    groupings: list[str],
    cfg: BasketConfig,
    labels: dict,
) -> pd.DataFrame:
    """Rules within each of the largest segments (and personas), the best by lift per group."""
    from custlens.basket import association_rules, frequent_itemsets
    from custlens.basket.baskets import lookup
    from custlens.io.materialize import materialize

    if not groupings:
        return pd.DataFrame(columns=["by", "group", "rule"])
    keys = [f"g{k}" for k in range(len(groupings))]
    mapping = pd.DataFrame({"cid": customers["customer_id"].astype(str).to_numpy()})
    for key, grouping in zip(keys, groupings, strict=True):
        mapping[key] = customers[grouping].astype(str).to_numpy()
    schema = {"cid": "string", **dict.fromkeys(keys, "string")}
    # the kept baskets of every combination of groups, from one row per basket
    orders = baskets.orders
    if baskets.max_items is not None:
        orders = orders.filter(orders.size <= baskets.max_items)
    m = lookup(mapping, orders, schema)
    joined = orders.join(m, orders.customer_id == m.cid)
    counts = joined.group_by(keys).aggregate(n=joined.count()).to_pandas()
    chosen = mapping[["cid"]].copy()
    sizes: dict[str, dict[str, int]] = {}
    for key in keys:
        per_group = counts.groupby(key, as_index=False)["n"].sum()
        top = per_group.sort_values(["n", key], ascending=[False, True]).head(cfg.top_segments)
        sizes[key] = dict(zip(top[key], top["n"].astype("int64"), strict=True))
        chosen[key] = mapping[key].where(mapping[key].isin(list(sizes[key])), None)
    chosen = chosen[chosen[keys].notna().any(axis=1)]
    lines = baskets.lines
    c = lookup(chosen.astype(object), lines, schema)
    grouped = lines.join(c, lines.customer_id == c.cid).select("basket", "item", *keys)
    # the lines of the chosen groups, stored once for every grouping
    grouped = materialize(grouped, "basket_group_lines")
    frames = []
    for key, grouping in zip(keys, groupings, strict=True):
        part = grouped.filter(grouped[key].notnull()).select("basket", "item", grp=key)
        sets = frequent_itemsets(
            part,
            min_support=cfg.min_support,
            min_count=cfg.min_count,
            max_size=cfg.max_itemset_size,
            by="grp",
            baskets=sizes[key],
        )
        rules = association_rules(sets, min_confidence=cfg.min_confidence, by="grp")
        rules = rules.groupby("grp", sort=False).head(cfg.rules_per_segment)
        frames.append(_readable(rules, labels).rename(columns={"grp": "group"}).assign(by=grouping))
    out = pd.concat(frames, ignore_index=True)
    return out[["by", *[c for c in out.columns if c != "by"]]]


def _over_index(
    levels: list[tuple[str, ir.Table, ir.Table, dict]],
    customers: pd.DataFrame,
    groupings: list[str],
    cfg: BasketConfig,
) -> pd.DataFrame:
    from custlens.basket.over_index import over_index_by

    frames = []
    for level, items, present, labels in levels:
        if not groupings:
            continue
        by = over_index_by(
            items,
            customers,
            groupings,
            min_buyers=cfg.min_buyers,
            min_index=cfg.min_index,
            alpha=cfg.alpha,
            top=cfg.over_index_per_segment,
            present=present,
        )
        for grouping in groupings:
            found = by[grouping]
            found.insert(0, "by", grouping)
            found.insert(0, "level", level)
            found["label"] = found["item"].map(lambda i, lb=labels: lb.get(i, i))
            frames.append(found)
    if not frames:
        return pd.DataFrame(columns=["level", "by", "group", "item", "label"])
    return pd.concat(frames, ignore_index=True)


def _recommendations(
    customers: pd.DataFrame,
    items: ir.Table,
    returned: ir.Table | None,
    rules: pd.DataFrame,
    cfg: BasketConfig,
) -> tuple[pd.DataFrame, int]:
    """``recommendation_k`` (product id) and ``recommendation_k_rule`` for k = 1..n."""
    from custlens.basket import recommend

    n = cfg.recommendations
    found = recommend(items, rules, n=n, score=cfg.recommend_by, exclude=returned)
    names = [f"recommendation_{k}" for k in range(1, n + 1)]
    columns = pd.DataFrame(index=customers.index)
    ids = pd.Index(customers["customer_id"].astype(str).to_numpy())
    because = _because(rules, cfg.recommend_by)
    # each recommendation's customer row, looked up once for every rank (missing: NaN)
    rows = ids.get_indexer(found["customer_id"].astype(str).to_numpy())
    ranks = found["rank"].to_numpy()
    for k, name in enumerate(names, start=1):
        at = (ranks == k) & (rows >= 0)
        item = np.full(len(ids), np.nan, dtype=object)
        item[rows[at]] = found["item"].to_numpy()[at]
        why = np.full(len(ids), np.nan, dtype=object)
        why[rows[at]] = because.reindex(found["rule_id"].to_numpy()[at]).to_numpy()
        columns[name] = item
        # as pandas infers it: a column without any justification is a float column of NaN
        columns[f"{name}_rule"] = why.astype("float64") if pd.isna(why).all() else why
    return columns, int(found["customer_id"].nunique()) if len(found) else 0


def _because(rules: pd.DataFrame, metric: str) -> pd.Series:
    """The justification of each rule, by the rules' index: text, confidence, lift (and the
    ranking metric when it is another one)."""
    if rules.empty:  # no usable rule: nothing to justify (and no text columns to join)
        return pd.Series(dtype=object)
    text = (
        rules["rule"]
        + " (confidence "
        + (rules["confidence"] * 100).round().astype(int).astype(str)
        + "%, lift "
        + rules["lift"].map("{:.1f}".format)
    )
    if metric not in ("confidence", "lift"):
        text = text + f", {metric} " + rules[metric].map("{:.3g}".format)
    return (text + ")").astype(object)
