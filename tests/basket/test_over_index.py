"""Over-indexing for several groupings in one pass, against a plain pandas count per grouping."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
from scipy.stats import hypergeom

from custlens.basket import over_index
from custlens.basket.over_index import over_index_by


def _customers_and_items():
    rng = np.random.default_rng(8)
    ids = [f"c{i:03d}" for i in range(300)]
    segment = rng.choice(["s1", "s2", "s3"], size=300).astype(object)
    persona = rng.choice(["p1", "p2"], size=300).astype(object)
    persona[::7] = None  # customers without a persona: left out of that grouping only
    customers = pd.DataFrame({"customer_id": ids, "segment": segment, "persona": persona})
    rows = set()
    for i, c in enumerate(ids):
        for item in rng.choice([f"I{k}" for k in range(6)], size=rng.integers(1, 5)):
            rows.add((c, str(item)))
        if segment[i] == "s2" and rng.random() < 0.6:
            rows.add((c, "I5"))  # s2 over-indexes on I5
    items = pd.DataFrame(sorted(rows), columns=["customer_id", "item"])
    items = items[items["customer_id"] != "c299"]  # a customer with no items
    return customers, items


def _by_hand(customers, items, column, min_buyers):
    """buyers, group size, all buyers and the hypergeometric p per (group, item), in pandas."""
    known = customers.dropna(subset=[column])
    merged = items.merge(known[["customer_id", column]], on="customer_id")
    sizes = merged.groupby(column)["customer_id"].nunique()
    total = int(sizes.sum())
    all_buyers = merged.groupby("item")["customer_id"].nunique()
    cells = merged.groupby([column, "item"])["customer_id"].nunique()
    out = {}
    for (g, item), buyers in cells.items():
        if buyers < min_buyers:
            continue
        p = hypergeom.sf(buyers - 1, total, all_buyers[item], sizes[g])
        out[(g, item)] = (int(buyers), int(sizes[g]), int(all_buyers[item]), total, float(p))
    return out


def test_every_grouping_matches_a_count_of_its_own():
    customers, items = _customers_and_items()
    table = ibis.memtable(items)
    found = over_index_by(
        table, customers, ["segment", "persona"], min_buyers=3, min_index=0.0, alpha=1.0, top=99
    )
    for column in ("segment", "persona"):
        hand = _by_hand(customers, items, column, 3)
        got = found[column]
        assert len(got) == len(hand)
        for r in got.itertuples():
            buyers, size, all_buyers, total, p = hand[(r.group, r.item)]
            assert (r.buyers, r.group_customers, r.all_buyers, r.customers) == (
                buyers,
                size,
                all_buyers,
                total,
            )
            assert r.p_value == min(1.0, max(0.0, p))
        single = over_index(table, customers, column, min_buyers=3, min_index=0.0, alpha=1.0)
        pd.testing.assert_frame_equal(single, got.groupby("group").head(10).reset_index(drop=True))
    s2 = found["segment"]
    assert s2[(s2["group"] == "s2")].iloc[0]["item"] == "I5"
