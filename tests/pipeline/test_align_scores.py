"""The scores are put in the customer table's row order, whether they come in that order (no
merge) or not (looked up by customer id; a customer without scores gets nulls)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custlens.pipeline.stages.predictions import align_scores


def _scores(ids, churn):
    return pd.DataFrame({"customer_id": ids, "churn_probability": churn, "extra": 0})


def test_same_order_is_taken_as_is_with_the_table_index():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"]}, index=[10, 11, 12])
    got = align_scores(customers, _scores(["a", "b", "c"], [0.1, 0.2, 0.3]))
    assert got.columns.tolist() == ["churn_probability"]  # score columns only
    assert got.index.tolist() == [10, 11, 12]
    assert got["churn_probability"].tolist() == [0.1, 0.2, 0.3]


def test_other_order_or_missing_customers_are_looked_up():
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"]}, index=[10, 11, 12])
    got = align_scores(customers, _scores(["c", "a"], [0.3, 0.1]))
    assert got.index.tolist() == [10, 11, 12]
    np.testing.assert_array_equal(got["churn_probability"], [0.1, np.nan, 0.3])
    same_length = align_scores(customers, _scores(["c", "b", "a"], [0.3, 0.2, 0.1]))
    assert same_length["churn_probability"].tolist() == [0.1, 0.2, 0.3]
