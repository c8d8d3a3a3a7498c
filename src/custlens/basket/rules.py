"""Association rules from frequent itemsets: every split of each itemset, mlxtend's metrics.

For a rule A -> C over N baskets, with n_A, n_C and n_AC the baskets containing A, C and both
(supports s = n / N), the metrics follow ``mlxtend.frequent_patterns.association_rules``:

- support = s_AC; confidence = n_AC / n_A; lift = confidence / s_C
- leverage = s_AC - s_A s_C; conviction = (1 - s_C) / (1 - confidence) (inf when confidence = 1)
- Zhang's metric = leverage / max(s_AC (1 - s_A), s_A (s_C - s_AC)) (0 when that is 0)
- Jaccard = s_AC / (s_A + s_C - s_AC)

Each rule also gets a one-sided Fisher exact test of positive association (the hypergeometric
probability of at least n_AC joint baskets given n_A, n_C and N) and Benjamini-Hochberg
q-values over all the rules of a group, so that a rule from a handful of baskets does not pass
for a finding. Rules are computed from the itemset table alone (small) in pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import hypergeom

from custlens.basket.itemsets import ITEM_COLUMNS

RULE_COLUMNS = (
    "antecedent_size",
    "antecedent_1",
    "antecedent_2",
    "consequent_1",
    "consequent_2",
    "count",
    "antecedent_count",
    "consequent_count",
    "baskets",
    "antecedent_support",
    "consequent_support",
    "support",
    "confidence",
    "lift",
    "leverage",
    "conviction",
    "zhangs_metric",
    "jaccard",
    "p_value",
    "q_value",
)


def association_rules(
    itemsets: pd.DataFrame,
    *,
    min_confidence: float = 0.0,
    by: str | None = None,
) -> pd.DataFrame:
    """Rules from :func:`custlens.basket.itemsets.frequent_itemsets` output, sorted by lift.

    Columns: ``[by,]`` then :data:`RULE_COLUMNS` (antecedent and consequent items in ascending
    order, missing ones null). Only rules with ``confidence >= min_confidence`` are kept; the
    q-values are adjusted over the rules kept in each group.
    """
    names = ["g", *RULE_COLUMNS[:9]]
    rules = _splits(itemsets, by)
    if rules is None:
        rules = pd.DataFrame([], columns=names)
    # the confidence filter first: the exact test is the costly part, and only kept rules need it
    confidence = rules["count"].to_numpy(dtype="float64") / rules["antecedent_count"].to_numpy(
        dtype="float64"
    )
    rules = _metrics(rules[confidence >= min_confidence].reset_index(drop=True))
    rules["q_value"] = rules.groupby("g", sort=False)["p_value"].transform(_bh)
    rules = rules.sort_values(
        ["g", "lift", "confidence", "antecedent_1", "antecedent_2", "consequent_1"],
        ascending=[True, False, False, True, True, True],
        kind="stable",
        na_position="first",
    )
    columns = list(RULE_COLUMNS)
    if by:
        rules = rules.rename(columns={"g": by})
        columns = [by, *columns]
    for col in ("antecedent_2", "consequent_2"):
        rules[col] = rules[col].astype(object).where(rules[col].notna(), None)
    return rules[columns].reset_index(drop=True)


# every split of a pair (x1, x2) and of a triple (x1, x2, x3) into antecedent -> consequent, in
# the order of itertools.combinations over the antecedent sizes: positions of the items
_SPLITS: dict[int, list[tuple[tuple[int, ...], tuple[int, ...]]]] = {
    2: [((0,), (1,)), ((1,), (0,))],
    3: [
        ((0,), (1, 2)),
        ((1,), (0, 2)),
        ((2,), (0, 1)),
        ((0, 1), (2,)),
        ((0, 2), (1,)),
        ((1, 2), (0,)),
    ],
}


def _splits(itemsets: pd.DataFrame, by: str | None) -> pd.DataFrame | None:
    """``g``, the antecedent and consequent items and the counts of every rule of every
    itemset of size 2 or 3, in itemset order then split order; None when there is none."""
    group = (itemsets[by].astype(str) if by else pd.Series("", index=itemsets.index)).to_numpy(
        dtype=object
    )
    items = itemsets[list(ITEM_COLUMNS)].to_numpy(dtype=object)
    sizes = itemsets["size"].to_numpy()
    counts = itemsets["count"].to_numpy(dtype="int64")
    baskets = itemsets["baskets"].to_numpy(dtype="int64")
    # the count of any frequent itemset by (group, items), items missing as None
    index = pd.MultiIndex.from_arrays([group, items[:, 0], items[:, 1], items[:, 2]])

    def count_of(rows: np.ndarray, positions: tuple[int, ...]) -> np.ndarray:
        picked = [items[rows, k] for k in positions]
        none = np.full(len(rows), None, dtype=object)
        picked += [none] * (3 - len(positions))
        found = index.get_indexer(pd.MultiIndex.from_arrays([group[rows], *picked]))
        return counts[found]

    parts = []
    for k, splits in _SPLITS.items():
        rows = np.flatnonzero(sizes == k)
        if not len(rows):
            continue
        for order, (ante, cons) in enumerate(splits):
            none = np.full(len(rows), None, dtype=object)
            part = pd.DataFrame(
                {
                    "g": group[rows],
                    "antecedent_size": np.full(len(rows), len(ante), dtype="int64"),
                    "antecedent_1": items[rows, ante[0]],
                    "antecedent_2": items[rows, ante[1]] if len(ante) > 1 else none,
                    "consequent_1": items[rows, cons[0]],
                    "consequent_2": items[rows, cons[1]] if len(cons) > 1 else none,
                    "count": counts[rows],
                    "antecedent_count": count_of(rows, ante),
                    "consequent_count": count_of(rows, cons),
                    "baskets": baskets[rows],
                    "_row": rows,
                    "_split": order,
                }
            )
            parts.append(part)
    if not parts:
        return None
    rules = pd.concat(parts, ignore_index=True)
    rules = rules.sort_values(["_row", "_split"], kind="stable")
    return rules.drop(columns=["_row", "_split"]).reset_index(drop=True)


def _metrics(rules: pd.DataFrame) -> pd.DataFrame:
    n = rules["baskets"].to_numpy(dtype="float64")
    n_ac = rules["count"].to_numpy(dtype="float64")
    n_a = rules["antecedent_count"].to_numpy(dtype="float64")
    n_c = rules["consequent_count"].to_numpy(dtype="float64")
    s_ac, s_a, s_c = n_ac / n, n_a / n, n_c / n
    confidence = n_ac / n_a
    lift = confidence / s_c
    leverage = s_ac - s_a * s_c
    with np.errstate(divide="ignore", invalid="ignore"):
        conviction = np.where(confidence < 1.0, (1.0 - s_c) / (1.0 - confidence), np.inf)
        denominator = np.maximum(s_ac * (1 - s_a), s_a * (s_c - s_ac))
        zhang = np.where(denominator == 0, 0.0, leverage / denominator)
    jaccard = s_ac / (s_a + s_c - s_ac)
    # P(X >= n_AC), X ~ hypergeometric(N baskets, n_C with C, n_A drawn): Fisher's exact test
    p_value = hypergeom.sf(n_ac - 1, n, n_c, n_a) if len(rules) else np.array([])
    return rules.assign(
        antecedent_support=s_a,
        consequent_support=s_c,
        support=s_ac,
        confidence=confidence,
        lift=lift,
        leverage=leverage,
        conviction=conviction,
        zhangs_metric=zhang,
        jaccard=jaccard,
        p_value=np.clip(p_value, 0.0, 1.0),
    )


def _bh(p: pd.Series) -> pd.Series:
    """Benjamini-Hochberg adjusted p-values (step-up, monotone, capped at 1)."""
    values = p.to_numpy(dtype="float64")
    m = len(values)
    if m == 0:
        return p
    order = np.argsort(values, kind="stable")
    ranked = values[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return pd.Series(out, index=p.index)


def rule_text(rules: pd.DataFrame, labels: dict[str, str] | None = None) -> pd.Series:
    """``"A + B -> C"`` for each rule, with item labels when given."""
    labels = labels or {}

    def name(item) -> str:
        return labels.get(item, str(item))

    def one(row) -> str:
        ante = [name(i) for i in (row.antecedent_1, row.antecedent_2) if i is not None]
        cons = [name(i) for i in (row.consequent_1, row.consequent_2) if i is not None]
        return " + ".join(ante) + " -> " + " + ".join(cons)

    return pd.Series([one(r) for r in rules.itertuples()], index=rules.index, dtype=object)
