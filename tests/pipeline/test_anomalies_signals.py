"""The anomalies stage puts the order signals beside the customers as a left merge would."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.pipeline.stages.anomalies import _with_signals


def test_signals_beside_customers_equal_a_left_merge():
    customers = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "monetary": [10.0, 20.0, 30.0, 40.0],
            "frequency": [1, 2, 3, 4],
        },
        index=[7, 3, 9, 1],  # not a range: the merge numbers its rows anew
    )
    signals = pd.DataFrame(
        {
            "customer_id": ["d", "a", "x"],  # another order; "x" has no customer row
            "max_line_units": [5.0, 2.0, 9.0],
            "cancelled_units_share": [0.5, 0.0, 1.0],
        }
    )
    got = _with_signals(customers, signals)
    want = customers.merge(signals, on="customer_id", how="left", validate="1:1")
    pd.testing.assert_frame_equal(got, want)
    assert np.isnan(got.loc[1, "max_line_units"])  # "b" has no signals


def test_repeated_customer_in_signals_is_refused():
    customers = pd.DataFrame({"customer_id": ["a", "b"], "monetary": [1.0, 2.0]})
    signals = pd.DataFrame({"customer_id": ["a", "a"], "max_line_units": [1.0, 2.0]})
    with pytest.raises(RuntimeError, match="repeat"):
        _with_signals(customers, signals)
