"""BTYD fits on a seeded sample of customers (``[models] btyd_fit_rows``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from custlens.models.baselines import BtydBaseline
from custlens.models.btyd import BetaGeoModel, GammaGammaModel


def _frame(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    big_t = rng.integers(60, 365, size=n).astype(float)
    x = rng.poisson(1.5, size=n).astype(float)
    tx = np.where(x > 0, np.floor(rng.uniform(0.2, 1.0, size=n) * big_t), 0.0)
    m = np.where(x > 0, rng.gamma(4.0, 10.0, size=n), 0.0)
    return pd.DataFrame(
        {"btyd_frequency": x, "btyd_recency": tx, "btyd_T": big_t, "btyd_monetary": m}
    )


def test_sample_fit_equals_a_fit_on_the_same_rows_drawn_independently():
    frame = _frame(3000)
    fitted = BtydBaseline.fit(frame, max_rows=1000, seed=5)
    # the sample drawn here without the code under test: numpy's generator, sorted positions
    rows = np.sort(np.random.default_rng(5).choice(3000, size=1000, replace=False))
    part = frame.iloc[rows]
    x, tx, t = (part[c].to_numpy() for c in ("btyd_frequency", "btyd_recency", "btyd_T"))
    direct = BetaGeoModel().fit(x, tx, t)
    gg = GammaGammaModel().fit(x, part["btyd_monetary"].to_numpy())
    assert fitted.fit_rows == 1000
    for k, v in direct.params_.items():
        assert fitted.bg.params_[k] == pytest.approx(v, rel=1e-12)
    assert fitted.gg is not None
    for k, v in gg.params_.items():
        assert fitted.gg.params_[k] == pytest.approx(v, rel=1e-12)


def test_no_sample_when_the_cap_is_not_reached():
    frame = _frame(1500)
    full = BtydBaseline.fit(frame)
    capped = BtydBaseline.fit(frame, max_rows=1500)
    assert full.fit_rows == capped.fit_rows == 1500
    assert full.bg.params_ == capped.bg.params_
    # a different sample gives different (but close) estimates: the cap is really applied
    small = BtydBaseline.fit(frame, max_rows=1000)
    assert small.fit_rows == 1000 and small.bg.params_ != full.bg.params_
