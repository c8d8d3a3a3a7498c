"""The personas stage's notes: a fact the clustering and the explanation both report (a
feature's missing values set to the median) is said once."""

from __future__ import annotations

import numpy as np

import custlens


def test_a_feature_filled_with_its_median_is_noted_once():
    orders = custlens.datasets.synthetic(400, seed=1).orders
    results = custlens.run(orders, settings=custlens.Settings(analyses=["personas"]))
    customers = results.customers
    values = customers["days_overdue"].to_numpy(dtype=float)
    missing = int((~np.isfinite(values)).sum())  # one-order customers have no overdue days
    assert missing > 0
    notes = list(results.stages["personas"].notes)
    about = [n for n in notes if n.startswith("feature 'days_overdue':") and "median" in n]
    assert about == [
        f"feature 'days_overdue': {missing} missing or infinite values set to the median"
    ]
    assert len(notes) == len(set(notes))
