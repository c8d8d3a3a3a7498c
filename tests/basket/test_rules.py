"""Association rules: hand-computed metrics, mlxtend as an independent oracle, Online Retail."""

from __future__ import annotations

import math
from collections import Counter
from itertools import combinations

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from custlens.basket import association_rules, basket_lines, frequent_itemsets
from custlens.config import CleaningConfig

from .fixtures import ORDERS, purchase_lines, random_orders

CODES = CleaningConfig().non_product_codes
METRICS = ("support", "confidence", "lift", "leverage", "conviction", "zhangs_metric", "jaccard")


def _engine_rules(orders: dict, min_support: float, min_confidence: float, max_items=None):
    b = basket_lines(
        ibis.memtable(purchase_lines(orders)), max_items=max_items, non_product_codes=CODES
    )
    sets = frequent_itemsets(b.lines, min_support=min_support, max_size=3)
    return b, sets, association_rules(sets, min_confidence=min_confidence)


def _key(row) -> tuple[frozenset, frozenset]:
    ante = {i for i in (row.antecedent_1, row.antecedent_2) if isinstance(i, str)}
    cons = {i for i in (row.consequent_1, row.consequent_2) if isinstance(i, str)}
    return frozenset(ante), frozenset(cons)


def _hand_rules(orders: dict, min_count: int, min_confidence: float) -> dict:
    """Every rule of every frequent itemset (size 2-3) with textbook formulas, by hand."""
    baskets = [frozenset(items) for _, items in orders.values()]
    n = len(baskets)

    def count(items) -> int:
        return sum(1 for b in baskets if set(items) <= b)

    counts: Counter = Counter()
    for b in baskets:
        for k in (1, 2, 3):
            counts.update(frozenset(c) for c in combinations(sorted(b), k))
    rules = {}
    for itemset, n_ac in counts.items():
        if len(itemset) < 2 or n_ac < min_count:
            continue
        for r in range(1, len(itemset)):
            for ante in combinations(sorted(itemset), r):
                a, c = frozenset(ante), itemset - frozenset(ante)
                s_ac, s_a, s_c = n_ac / n, count(a) / n, count(c) / n
                conf = s_ac / s_a
                if conf < min_confidence:
                    continue
                lev = s_ac - s_a * s_c
                zden = max(s_ac * (1 - s_a), s_a * (s_c - s_ac))
                rules[(a, c)] = {
                    "count": n_ac,
                    "support": s_ac,
                    "confidence": conf,
                    "lift": conf / s_c,
                    "leverage": lev,
                    "conviction": math.inf if conf >= 1 else (1 - s_c) / (1 - conf),
                    "zhangs_metric": 0.0 if zden == 0 else lev / zden,
                    "jaccard": s_ac / (s_a + s_c - s_ac),
                    "p_value": fisher_exact(
                        [
                            [n_ac, count(a) - n_ac],
                            [count(c) - n_ac, n - count(a) - count(c) + n_ac],
                        ],
                        alternative="greater",
                    ).pvalue,
                }
    return rules


def _close(a: float, b: float, tol: float = 1e-12) -> bool:
    return (math.isinf(a) and math.isinf(b)) or abs(a - b) <= tol


@pytest.mark.parametrize(("orders", "min_count", "min_conf"), [(ORDERS, 2, 0.0), (None, 12, 0.3)])
def test_rules_match_hand_computation(orders, min_count, min_conf):
    orders = orders or random_orders()
    n = len(orders)
    _, _, rules = _engine_rules(orders, min_count / n, min_conf)
    hand = _hand_rules(orders, min_count, min_conf)
    got = {_key(r): r for r in rules.itertuples()}
    assert set(got) == set(hand)
    for key, expected in hand.items():
        row = got[key]
        assert row.count == expected["count"]
        for m in METRICS:
            assert _close(getattr(row, m), expected[m]), (key, m)
        assert row.p_value == pytest.approx(expected["p_value"], rel=1e-9, abs=1e-300)
    # sorted by lift; q-values are Benjamini-Hochberg: q_i = min over p_j >= p_i of p_j m / rank_j
    assert rules["lift"].is_monotonic_decreasing
    p = sorted(rules["p_value"])
    m = len(p)
    q = [
        min(1.0, min(p[j] * m / (j + 1) for j in range(m) if p[j] >= pi)) for pi in rules["p_value"]
    ]
    np.testing.assert_allclose(rules["q_value"].to_numpy(), q, rtol=1e-12, atol=1e-300)


def test_conviction_is_infinite_for_certain_rules():
    orders = {f"o{i}": ("c1", ["100A", "100B"]) for i in range(5)} | {"o9": ("c2", ["100B"])}
    _, _, rules = _engine_rules(orders, 0.1, 0.0)
    a_to_b = rules[(rules["antecedent_1"] == "100A") & (rules["consequent_1"] == "100B")]
    assert a_to_b["confidence"].iloc[0] == 1.0 and math.isinf(a_to_b["conviction"].iloc[0])


def _mlxtend(lines: pd.DataFrame, min_support: float, min_confidence: float):
    fp = pytest.importorskip("mlxtend.frequent_patterns")
    encoder = pytest.importorskip("mlxtend.preprocessing").TransactionEncoder()
    transactions = lines.groupby("basket")["item"].apply(list).tolist()
    onehot = pd.DataFrame(
        encoder.fit(transactions).transform(transactions), columns=encoder.columns_
    )
    sets = fp.fpgrowth(onehot, min_support=min_support, use_colnames=True, max_len=3)
    rules = fp.association_rules(
        sets, num_itemsets=len(onehot), metric="confidence", min_threshold=min_confidence
    )
    return len(onehot), sets, rules


def _compare_with_mlxtend(b, sets, rules, min_support, min_confidence):
    n, their_sets, their_rules = _mlxtend(b.lines.to_pandas(), min_support, min_confidence)
    assert n == b.baskets
    ours = {
        frozenset(i for i in (r.item_1, r.item_2, r.item_3) if isinstance(i, str)): r.count
        for r in sets.itertuples()
    }
    theirs = {
        s: round(v * n) for s, v in zip(their_sets["itemsets"], their_sets["support"], strict=True)
    }
    assert ours == theirs
    assert len(rules) == len(their_rules)
    got = {_key(r): r for r in rules.itertuples()}
    worst = 0.0
    for row in their_rules.itertuples():
        mine = got[(frozenset(row.antecedents), frozenset(row.consequents))]
        for m in METRICS:
            a, b_ = getattr(mine, m), getattr(row, m)
            assert _close(a, b_), m
            if not math.isinf(a):
                worst = max(worst, abs(a - b_))
    return worst


def test_same_as_mlxtend_on_random_baskets():
    orders = random_orders(600, seed=4)
    b, sets, rules = _engine_rules(orders, 0.02, 0.1, max_items=6)
    _compare_with_mlxtend(b, sets, rules, 0.02, 0.1)


@pytest.mark.slow
def test_online_retail_same_as_mlxtend(online_retail_path):
    """Online Retail, default cleaning and cap, min support 0.01: identical itemsets and counts,
    every rule metric within 1e-12 of mlxtend's fpgrowth + association_rules."""
    import custlens
    from custlens.io.clean import clean

    settings = custlens.Settings()
    purchases = clean(custlens.load(online_retail_path).table, settings.cleaning).purchases
    b = basket_lines(purchases, max_items=100, non_product_codes=CODES)
    sets = frequent_itemsets(b.lines, min_support=0.01, max_size=3)
    rules = association_rules(sets, min_confidence=0.2)
    assert b.capped > 0 and (sets["size"] == 3).any() and len(rules) > 100
    worst = _compare_with_mlxtend(b, sets, rules, 0.01, 0.2)
    assert worst <= 1e-12
