"""Recommendations and over-indexing on hand-made examples."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from custlens.basket import line_items, over_index, recommend


def _rules(rows) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=["antecedent_1", "antecedent_2", "consequent_1", "consequent_2", "confidence"],
    )


RULES = _rules(
    [
        ("A", None, "C", None, 0.5),
        ("A", "B", "D", None, 0.9),
        ("B", None, "A", None, 0.95),  # A is bought already by everyone who has B here
        ("A", None, "D", None, 0.3),
        ("B", None, "E", None, 0.4),
        ("A", None, "F", None, 0.2),
        ("A", None, "E", "F", 0.99),  # two consequents: never a recommendation
    ]
)


def test_three_best_unbought_items_with_their_rule():
    items = ibis.memtable(
        pd.DataFrame({"customer_id": ["c1", "c1", "c2", "c3"], "item": ["A", "B", "A", "Z"]})
    )
    got = recommend(items, RULES, n=3, score="confidence")
    by = {c: g.sort_values("rank") for c, g in got.groupby("customer_id")}
    assert set(by) == {"c1", "c2"}  # nothing applies to c3
    assert by["c1"]["item"].tolist() == ["D", "C", "E"]
    assert by["c1"]["rule_id"].tolist() == [1, 0, 4]  # D through A + B -> D, not A -> D
    assert by["c1"]["score"].tolist() == [0.9, 0.5, 0.4]
    assert by["c2"]["item"].tolist() == ["C", "D", "F"]
    assert by["c2"]["rule_id"].tolist() == [0, 3, 5]
    assert recommend(items, RULES, n=1)["rank"].eq(1).all()


def _lines() -> ibis.Table:
    rows = [
        ("c1", "2024-01-02", " C "),  # padded: the item is "C"
        ("c1", "2024-01-03", "C"),
        ("c2", "2024-01-02", "POST"),  # a non-product code, kept
        (None, "2024-01-02", "D"),  # no customer, kept
        ("c2", "2024-01-02", ""),  # no item
        ("c2", "2024-01-02", None),
        ("c2", "2024-02-01", "E"),  # on the date given: left out
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_ts", "product_id"])
    return ibis.memtable(frame.assign(order_id="o", order_ts=pd.to_datetime(frame["order_ts"])))


def test_line_items_are_the_distinct_pairs_of_lines_with_an_item():
    got = line_items(_lines(), before=pd.Timestamp("2024-02-01").date()).to_pandas()
    pairs = set(zip(got["customer_id"], got["item"], strict=True))
    assert len(got) == 3
    assert {p for p in pairs if isinstance(p[0], str)} == {("c1", "C"), ("c2", "POST")}
    assert {p[1] for p in pairs if not isinstance(p[0], str)} == {"D"}


def test_excluding_line_items_equals_excluding_the_customers_products():
    items = ibis.memtable(
        pd.DataFrame({"customer_id": ["c1", "c1", "c2", "c2"], "item": ["A", "B", "A", "B"]})
    )
    lines = line_items(_lines(), before=pd.Timestamp("2024-02-01").date())
    products = ibis.memtable(pd.DataFrame({"customer_id": ["c1"], "item": ["C"]}))
    got = recommend(items, RULES, n=3, exclude=lines)
    assert got.equals(recommend(items, RULES, n=3, exclude=products))
    assert "C" not in set(got.loc[got["customer_id"] == "c1", "item"])
    assert "C" in set(got.loc[got["customer_id"] == "c2", "item"])


def test_over_index_shares_index_and_exact_test():
    customers = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(10)], "segment": ["g1"] * 4 + ["g2"] * 6}
    )
    bought = [(f"c{i}", "X") for i in (0, 1, 2, 5)] + [(f"c{i}", "Y") for i in range(10)]
    items = ibis.memtable(pd.DataFrame(bought, columns=["customer_id", "item"]))
    got = over_index(items, customers, "segment", min_buyers=1, min_index=1.2, alpha=1.0)
    assert len(got) == 1  # Y: index 1 everywhere; X in g2: 1/6 vs 0.4
    row = got.iloc[0]
    assert (row["group"], row["item"], row["buyers"], row["group_customers"]) == ("g1", "X", 3, 4)
    assert row["group_share"] == 0.75 and row["overall_share"] == 0.4
    assert row["index"] == pytest.approx(1.875, rel=1e-15)
    expected = fisher_exact([[3, 1], [1, 5]], alternative="greater").pvalue
    assert row["p_value"] == pytest.approx(expected, rel=1e-12)
    # four cells tested (X: g1, g2; Y: g1, g2); BH q of the smallest p = p * 4 / 1
    assert row["q_value"] == pytest.approx(min(1.0, expected * 4), rel=1e-12)
    strict = over_index(items, customers, "segment", min_buyers=1, alpha=0.05)
    assert strict.empty  # 3 of 4 is not significant
