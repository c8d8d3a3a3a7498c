"""How the app's tables show their columns: names in words, amounts with separators and two
decimals, ids and small values (p-values) untouched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")

from custlens.app.views.common import column_config  # noqa: E402


def test_columns_read_as_words_and_amounts_are_rounded_but_not_ids_or_p_values():
    frame = pd.DataFrame(
        {
            "customer_id": [12973, 12852],  # an id: no separators
            "avg_order_value": [4782.6443, 2418.106],
            "recency_days": [4, 14],
            "p_value": [1e-12, 0.2],  # would read 0.00 with two decimals
            "segment": ["Champions", "Lost"],
            "churn_probability": [np.nan, 0.25],
        }
    )
    config = column_config(frame)
    assert config["customer_id"] == "customer id"
    assert config["segment"] == "segment"
    assert config["avg_order_value"]["label"] == "avg order value"
    assert config["avg_order_value"]["type_config"]["format"] == "%,.2f"
    assert config["recency_days"]["type_config"]["format"] == "%,d"
    assert config["p_value"]["label"] == "p value"
    assert config["p_value"]["type_config"].get("format") is None
    assert config["churn_probability"]["type_config"]["format"] == "%,.2f"
