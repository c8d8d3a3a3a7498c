"""Which groups of customers (RFM segments, personas) over-index on which items.

For a group g and an item i: the share of the group's customers who bought i against the share
of all customers who did; ``index`` is their ratio. Counts run in the engine on the
customer-item table; each (group, item) with at least ``min_buyers`` buyers in the group is
tested (one-sided hypergeometric test: would a random draw of the group's size hold that many
buyers?) and the p-values are adjusted with Benjamini-Hochberg over every test.

Several groupings (segment, persona) share one pass over the customer-item table
(:func:`over_index_by`): the engine counts buyers per combination of the groups and item, and
each grouping's counts are sums of those (exact integers).
"""

from __future__ import annotations

from collections.abc import Sequence

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
    found = over_index_by(
        customer_items,
        groups,
        [column],
        min_buyers=min_buyers,
        min_index=min_index,
        alpha=alpha,
        top=top,
    )
    return found[column]


def over_index_by(
    customer_items: ir.Table,
    groups: pd.DataFrame,
    columns: Sequence[str],
    *,
    min_buyers: int = 10,
    min_index: float = 1.2,
    alpha: float = 0.05,
    top: int = 10,
    present: ir.Table | None = None,
) -> dict[str, pd.DataFrame]:
    """:func:`over_index` for each grouping column of ``groups``, from two engine queries in
    all (the buyers per groups and item, the customers per groups).

    ``present``: a table whose ``customer_id`` values are exactly the customers of
    ``customer_items`` (e.g. one row per order, far fewer rows); by default they are read from
    ``customer_items``."""
    columns = list(columns)
    keys = [f"g{k}" for k in range(len(columns))]
    # a customer without a group in one grouping is left out of that grouping only
    mapping = pd.DataFrame({"customer_id": groups["customer_id"].astype(str).to_numpy()})
    for key, column in zip(keys, columns, strict=True):
        values = groups[column]
        mapping[key] = values.astype(str).where(values.notna(), None).astype(object).to_numpy()
    mapping = mapping[mapping[keys].notna().any(axis=1)]
    m = lookup(
        mapping, customer_items, schema={"customer_id": "string", **dict.fromkeys(keys, "string")}
    )
    ci = customer_items.select("customer_id", "item")
    ci = ci.join(m, ci.customer_id == m.customer_id).select(ci.customer_id, ci.item, *keys)
    cells = ci.group_by([*keys, "item"]).aggregate(buyers=ci.count()).to_pandas()
    # the customers present: their distinct ids first (one per customer), then their groups
    ids = (customer_items if present is None else present).select(cid="customer_id").distinct()
    present = m.join(ids, m.customer_id == ids.cid)
    present = present.group_by(keys).aggregate(n=present.count()).to_pandas()
    return {
        column: _tested(
            cells.rename(columns={key: "grp"}),
            present.rename(columns={key: "grp"}),
            min_buyers=min_buyers,
            min_index=min_index,
            alpha=alpha,
            top=top,
        )
        for key, column in zip(keys, columns, strict=True)
    }


def _tested(
    cells: pd.DataFrame,
    present: pd.DataFrame,
    *,
    min_buyers: int,
    min_index: float,
    alpha: float,
    top: int,
) -> pd.DataFrame:
    """The tests of one grouping ``grp`` from the counts per combination of groups."""
    cells = cells[cells["grp"].notna()]
    present = present[present["grp"].notna()]
    sizes = present.groupby("grp", as_index=False)["n"].sum()
    sizes = sizes.rename(columns={"n": "group_customers"})
    customers = int(sizes["group_customers"].sum())
    item_buyers = cells.groupby("item", as_index=False)["buyers"].sum()
    item_buyers = item_buyers.rename(columns={"buyers": "all_buyers"})
    cells = cells.groupby(["grp", "item"], as_index=False)["buyers"].sum()
    cells = cells[cells["buyers"] >= min_buyers].merge(item_buyers, on="item")
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
