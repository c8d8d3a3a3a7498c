"""The customer table's RFM scores: ranked over recency, frequency and monetary alone and joined
back by customer, in the column order the results have always had."""

from __future__ import annotations

import ibis
import pandas as pd

from custlens.config import Settings
from custlens.features.query import FeatureQuery
from custlens.pipeline.run import _scored


def test_scores_join_back_by_customer_in_the_usual_column_order():
    # rows deliberately not in customer order; a wide extra column rides along untouched
    table = ibis.memtable(
        pd.DataFrame(
            {
                "customer_id": ["e", "c", "a", "d", "b", "f"],
                "recency_days": [300, 50, 1, 100, 10, 50],
                "frequency": [1, 3, 9, 2, 5, 3],
                "monetary": [100.0, 300.0, 900.0, 200.0, 500.0, 300.0],
                "note": ["e", "c", "a", "d", "b", "f"],
                "spend_cv": [0.5, 0.3, 0.1, 0.4, 0.2, 0.3],
            }
        )
    )
    got = (
        _scored(FeatureQuery(table, (), ("spend_cv",)), Settings())
        .order_by("customer_id")
        .to_pandas()
    )
    assert list(got.columns) == [
        "customer_id",
        "recency_days",
        "frequency",
        "monetary",
        "note",
        "r_score",
        "f_score",
        "m_score",
        "fm_score",
        "rfm_cell",
        "segment",
        "spend_cv",
    ]
    assert (got.note == got.customer_id).all()  # each row kept its own values
    # 6 customers in 5 groups: the first group holds positions 0-1, then one position each
    # (group 1 + position - 2); tied values take the position of the first of them and the
    # next value the position after all of them. Recency ascending: a 1 (0), b 10 (1),
    # c/f 50 (2), d 100 (4), e 300 (5) -> groups 0, 0, 1, 3, 4 -> r = 5 minus the group
    assert got.r_score.tolist() == [5, 5, 4, 2, 1, 4]
    # frequency ascending: e 1 (0), d 2 (1), c/f 3 (2), b 5 (4), a 9 (5) -> groups 0, 0, 1, 3, 4
    assert got.f_score.tolist() == [5, 4, 2, 1, 1, 2]
    assert got.m_score.tolist() == got.f_score.tolist()  # the same order as frequency
    assert got.rfm_cell.tolist() == ["555", "544", "422", "211", "111", "422"]
