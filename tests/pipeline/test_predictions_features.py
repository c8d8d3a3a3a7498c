"""``--analyses predictions`` scores every customer from the customer table's features.

Before the fix the predictions stage did not ask for the behavioural features, so the customer
table was built without them and the final scoring ran the feature query again and fetched every
customer's rows whole (at 1M customers 43 s and +4.9 GB).
"""

from __future__ import annotations

import pandas as pd

import custlens
from custlens.models import model_rows
from custlens.pipeline.registry import selected


def test_predictions_alone_reads_the_customer_tables_features(monkeypatch):
    built = []
    original = model_rows.feature_rows

    def spy(*args, **kwargs):
        rows = original(*args, **kwargs)
        built.append(rows.added is not None)  # True: built beside the customer table's rows
        return rows

    monkeypatch.setattr(model_rows, "feature_rows", spy)
    monkeypatch.setattr("custlens.models.scoring.feature_rows", spy)
    orders = custlens.datasets.synthetic(800, seed=5).orders
    settings = custlens.Settings().with_overrides(analyses=["predictions"])
    alone = custlens.run(orders, settings=settings)
    assert "predictions" in alone.stages, alone.skipped
    assert built[-1] is True  # the final scoring's call, as of the customer table's date
    assert selected(["predictions"])[1]

    # the same scores as a run that asked for the features explicitly (computed independently
    # of the spy: the features come from the customer table in both)
    both = custlens.run(
        orders, settings=custlens.Settings().with_overrides(analyses=["features", "predictions"])
    )
    cols = [c for c in alone.customers.columns if c.startswith(("churn", "clv", "next_"))]
    assert cols
    pd.testing.assert_frame_equal(alone.customers[cols], both.customers[cols])
