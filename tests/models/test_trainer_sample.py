"""LightGBM learns from a seeded sample of customers above ``max_train_rows``."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from custlens.config import ModelsConfig
from custlens.models.backtest import BacktestData
from custlens.models.trainer import _train_rows


def _bt(n: int) -> BacktestData:
    ids = np.arange(n)
    frame = pd.DataFrame({"customer_id": ids, "x": ids * 2.0})
    return BacktestData(cutoff=date(2024, 1, 1), horizon_days=90, frame=frame, feature_names=("x",))


def test_all_rows_up_to_the_cap_and_a_seeded_aligned_sample_above_it():
    small = _bt(1500)
    X, f = _train_rows(small, ModelsConfig(max_train_rows=2000), seed=1)
    assert X.equals(small.frame[["x"]]) and f is small.frame
    big = _bt(5000)
    X, f = _train_rows(big, ModelsConfig(max_train_rows=1000), seed=1)
    assert len(X) == len(f) == 1000 and list(X.columns) == ["x"]
    assert f["customer_id"].is_unique and f["customer_id"].is_monotonic_increasing
    assert np.array_equal(X["x"].to_numpy(), f["customer_id"].to_numpy() * 2.0)  # rows aligned
    X2, _ = _train_rows(big, ModelsConfig(max_train_rows=1000), seed=1)
    assert X2.equals(X)
    X3, _ = _train_rows(big, ModelsConfig(max_train_rows=None), seed=1)
    assert len(X3) == 5000
