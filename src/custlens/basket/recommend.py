"""Per-customer recommendations: the items with the best rule score the customer has not bought.

A rule ``A -> c`` (one consequent item) applies to a customer who bought every item of A; its
consequent is a candidate when the customer never bought c. Each candidate keeps its best rule
(by ``score``, then the rule's position in the rules table), and each customer gets the ``n``
best candidates. Joins run in the engine on the customer-item table; only ``n`` rows per customer
come back.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from custlens.basket.baskets import lookup

RECOMMENDATION_COLUMNS = ("customer_id", "rank", "item", "score", "rule_id")


def recommend(
    customer_items: ir.Table,
    rules: pd.DataFrame,
    *,
    n: int = 3,
    score: str = "confidence",
    exclude: ir.Table | None = None,
) -> pd.DataFrame:
    """``customer_id, rank (1..n), item, score, rule_id`` (the row of ``rules`` behind it).

    ``rules``: the output of :func:`custlens.basket.rules.association_rules` (already filtered
    to the rules worth recommending from); rules with two consequent items are not used.
    ``exclude``: further ``customer_id, item`` pairs never to recommend (e.g. returned items);
    only the pairs of the rules' consequent items are read, matched on ``customer_id``.
    """
    single = rules[rules["consequent_2"].isna()]
    if single.empty:
        return pd.DataFrame(columns=list(RECOMMENDATION_COLUMNS))
    # each rule's place in the order a customer's candidates are ranked (score descending, NaN
    # first as the engine sorts it, then the rule's id): the best rule of a candidate is then
    # the one with the smallest place, a plain aggregate instead of a window
    ids = single.index.to_numpy().astype("int64")
    scores = single[score].astype("float64").to_numpy()
    nan = np.isnan(scores)
    order = np.lexsort((ids, -np.where(nan, 0.0, scores), ~nan))
    place = np.empty(len(order), dtype="int64")
    place[order] = np.arange(len(order), dtype="int64")
    r = lookup(
        pd.DataFrame(
            {
                "place": place,
                "a1": single["antecedent_1"].astype(str).to_numpy(),
                # "" for none: PySpark turns a missing string of a pandas lookup into "NaN"
                "a2": ["" if pd.isna(i) else str(i) for i in single["antecedent_2"]],
                "c": single["consequent_1"].astype(str).to_numpy(),
            }
        ),
        customer_items,
        schema={"place": "int64", "a1": "string", "a2": "string", "c": "string"},
    )
    ci = customer_items.select("customer_id", "item")
    cand = ci.join(r, ci.item == r.a1).select(ci.customer_id, r.place, r.a2, r.c)
    # the pairs that can match a second antecedent or a consequent are those of the rules'
    # items only (a handful): filtered before the joins, not after
    seconds = sorted({str(i) for i in single["antecedent_2"] if not pd.isna(i)})
    ci2 = ci.filter(ci.item.isin(seconds or [""])).select(k="customer_id", i2="item")
    two = cand.filter(cand.a2 != "")
    two = two.semi_join(ci2, [two.customer_id == ci2.k, two.a2 == ci2.i2])
    cand = cand.filter(cand.a2 == "").union(two)
    offered = sorted(set(single["consequent_1"].astype(str)))
    seen = ci.filter(ci.item.isin(offered))
    if exclude is not None:
        more = exclude.select("customer_id", "item")
        seen = seen.union(more.filter(more.item.isin(offered)))
    ci3 = seen.select(k="customer_id", i3="item")
    cand = cand.anti_join(ci3, [cand.customer_id == ci3.k, cand.c == ci3.i3])
    best = cand.group_by(["customer_id", "c"]).aggregate(place=cand.place.min())
    # a rule has one consequent: the best rules of a customer's candidates are distinct, so
    # their places alone rank them (score, then rule id)
    ranked = best.mutate(
        rank=ibis.row_number().over(group_by=best.customer_id, order_by=best.place)
    )
    ranked = ranked.filter(ranked["rank"] < n)
    out = ranked.select(
        "customer_id", rank=(ranked["rank"] + 1).cast("int64"), item="c", place="place"
    ).to_pandas()
    at = order[out.pop("place").to_numpy(dtype="int64")]
    out["score"] = scores[at]
    out["rule_id"] = ids[at]
    out = out[list(RECOMMENDATION_COLUMNS)]
    return out.sort_values(["customer_id", "rank"], kind="stable").reset_index(drop=True)
