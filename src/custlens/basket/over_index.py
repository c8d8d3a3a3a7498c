"""Which groups of customers (RFM segments, personas) over-index on which items.

For a group g and an item i: the share of the group's customers who bought i against the share
of all customers who did; ``index`` is their ratio. Counts run in the engine on the
customer-item table; each (group, item) with at least ``min_buyers`` buyers in the group is
tested (one-sided hypergeometric test: would a random draw of the group's size hold that many
buyers?) and the p-values are adjusted with Benjamini-Hochberg over every test.
"""

from __future__ import annotations

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from custlens.basket.baskets import lookup
from custlens.basket.rules import _bh

OVER_INDEX_COLUMNS = (
    "group",
    "item",
    "buyers",
    "group_customers",
    "group_share",
    "all_buyers",
    "customers",
    "overall_share",
    "index",
    "p_value",
    "q_value",
)


def over_index(
    customer_items: ir.Table,
    groups: pd.DataFrame,
    column: str,
    *,
    min_buyers: int = 10,
    min_index: float = 1.2,
    alpha: float = 0.05,
    top: int = 10,
) -> pd.DataFrame:
    """The items each group over-indexes on (``index >= min_index``, q-value <= ``alpha``).

    ``customer_items``: ``customer_id, item`` (Ibis); ``groups``: pandas ``customer_id`` and
    ``column``. At most ``top`` rows per group, highest index first.
    """
    mapping = groups[["customer_id", column]].dropna()
    mapping = pd.DataFrame(
        {"customer_id": mapping["customer_id"].astype(str), "grp": mapping[column].astype(str)}
    )
    m = lookup(mapping, customer_items)
    ci = customer_items.select("customer_id", "item")
    ci = ci.join(m, ci.customer_id == m.customer_id).select(ci.customer_id, ci.item, m.grp)
    present = ci.select("customer_id", "grp").distinct()
    sizes = present.group_by("grp").aggregate(group_customers=present.count()).to_pandas()
    customers = int(sizes["group_customers"].sum())
    item_buyers = ci.group_by("item").aggregate(all_buyers=ci.count())
    cells = ci.group_by(["grp", "item"]).aggregate(buyers=ci.count())
    cells = cells.filter(cells.buyers >= min_buyers)
    cells = cells.join(item_buyers, "item").to_pandas()
    out = cells.merge(sizes, on="grp").rename(columns={"grp": "group"})
    if out.empty:
        return pd.DataFrame(columns=list(OVER_INDEX_COLUMNS))
    from scipy.stats import hypergeom

    out["customers"] = customers
    out["group_share"] = out["buyers"] / out["group_customers"].astype("float64")
    out["overall_share"] = out["all_buyers"] / float(customers)
    out["index"] = out["group_share"] / out["overall_share"]
    p = hypergeom.sf(out["buyers"] - 1, customers, out["all_buyers"], out["group_customers"])
    out["p_value"] = np.clip(p, 0.0, 1.0)
    out["q_value"] = _bh(out["p_value"]).to_numpy()
    kept = out[(out["index"] >= min_index) & (out["q_value"] <= alpha)]
    kept = kept.sort_values(
        ["group", "index", "buyers", "item"], ascending=[True, False, False, True], kind="stable"
    )
    kept = kept.groupby("group", sort=False).head(top)
    for col in ("buyers", "group_customers", "all_buyers", "customers"):
        kept[col] = kept[col].astype("int64")
    return kept[list(OVER_INDEX_COLUMNS)].reset_index(drop=True)
