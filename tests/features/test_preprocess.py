"""CustomerFeaturePreprocessor: the one scale rule, log1p rule, skips, median fill, contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm, skew
from sklearn.base import clone

from custlens.errors import ConfigError, DataError, InputError, MappingError, NotFittedError
from custlens.features.formatting import format_number
from custlens.features.preprocess import CustomerFeaturePreprocessor


def _customers(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "monetary": np.exp(rng.normal(6.0, 1.0, n)),  # log-normal: skewed
            "recency_days": rng.uniform(0, 365, n),  # symmetric
            "return_rate": np.where(rng.random(n) < 0.97, 0.0, rng.uniform(0.1, 1, n)),
            "constant": 1.0,
            "is_b2b": rng.random(n) < 0.3,
            "country": "UK",
        }
    )


def test_scale_rule_log_rule_and_skips_by_hand():
    frame = _customers()
    pre = CustomerFeaturePreprocessor().fit(frame)
    # default: numeric, non-boolean columns except the id; the constant one is skipped
    assert pre.features_ == ["monetary", "recency_days", "return_rate"]
    assert any("'constant' skipped: the same value" in n for n in pre.notes_)
    assert skew(np.log1p(frame["monetary"])) < 1 < skew(frame["monetary"])
    assert pre.log_features_ == ["monetary", "return_rate"]  # both non-negative and skewed
    # recency: median and (Q95 - Q5) / (2 * Phi^-1(0.95)), independently from numpy and scipy
    x = frame["recency_days"].to_numpy()
    q05, q95 = np.percentile(x, [5, 95])
    assert pre.centers_["recency_days"] == pytest.approx(np.median(x))
    assert pre.scales_["recency_days"] == pytest.approx((q95 - q05) / (2 * norm.ppf(0.95)))
    # monetary on the log scale
    lm = np.log1p(frame["monetary"].to_numpy())
    q05, q95 = np.percentile(lm, [5, 95])
    assert pre.scales_["monetary"] == pytest.approx((q95 - q05) / (2 * norm.ppf(0.95)))
    assert pre.medians_["monetary"] == pytest.approx(frame["monetary"].median())
    # return rate is 0 for 97 %: Q95 - Q5 is 0, so the SD is the scale
    lr = np.log1p(frame["return_rate"].to_numpy())
    assert pre.scales_["return_rate"] == pytest.approx(lr.std())
    assert any("'return_rate'" in n and "standard deviation" in n for n in pre.notes_)
    z = pre.transform(frame)
    assert list(z.columns) == pre.features_ and z.index.equals(frame.index)
    assert z["recency_days"].median() == pytest.approx(0.0, abs=1e-12)


def test_explicit_log_list_booleans_missing_values_and_absent_features():
    frame = _customers()
    frame.loc[[0, 1], "recency_days"] = np.nan
    frame.loc[2, "recency_days"] = np.inf
    pre = CustomerFeaturePreprocessor(
        features=["recency_days", "is_b2b", "nowhere"], log_features=[]
    ).fit(frame)
    assert pre.features_ == ["recency_days", "is_b2b"] and pre.log_features_ == []
    assert any("'nowhere' skipped: not in the customer table" in n for n in pre.notes_)
    assert any(
        "'recency_days': 3 missing or infinite values set to the median" in n for n in pre.notes_
    )
    z = pre.transform(frame)
    assert (z.loc[[0, 1, 2], "recency_days"] == 0.0).all()  # the median
    assert np.isnan(pre.robust_z(frame)[:3, 0]).all()


def test_errors():
    frame = _customers()
    with pytest.raises(InputError, match="not numeric"):
        CustomerFeaturePreprocessor(features=["country"]).fit(frame)
    with pytest.raises(DataError, match="No usable feature"):
        CustomerFeaturePreprocessor(features=["constant", "nowhere"]).fit(frame)
    with pytest.raises(InputError, match="DataFrame"):
        CustomerFeaturePreprocessor().fit([[1.0, 2.0]])
    with pytest.raises(NotFittedError, match="not fitted"):
        CustomerFeaturePreprocessor().transform(frame)
    pre = CustomerFeaturePreprocessor(features=["monetary", "recency_days"]).fit(frame)
    with pytest.raises(MappingError, match="recency_days"):
        pre.transform(frame.drop(columns="recency_days"))
    with pytest.raises(ConfigError, match="skew_threshold") as err:
        CustomerFeaturePreprocessor(skew_threshold="high").fit(frame)
    assert err.value.where == "CustomerFeaturePreprocessor(skew_threshold=...)"


def test_follows_the_scikit_learn_estimator_contract():
    pre = CustomerFeaturePreprocessor(features=["monetary"], skew_threshold=2.0)
    assert pre.get_params() == {
        "features": ["monetary"],
        "id_column": "customer_id",
        "log_features": None,
        "skew_threshold": 2.0,
    }
    assert repr(pre) == "CustomerFeaturePreprocessor(features=['monetary'], skew_threshold=2.0)"
    twin = clone(pre)
    assert twin is not pre and twin.get_params() == pre.get_params()
    assert not [a for a in vars(pre) if a.endswith("_")]
    with pytest.raises(TypeError):
        CustomerFeaturePreprocessor(["monetary"])  # keyword-only
    frame = _customers()
    out = twin.fit_transform(frame)
    assert list(twin.get_feature_names_out()) == ["monetary"] and out.shape == (len(frame), 1)
    assert "features_" not in vars(pre)


def test_format_number_by_hand():
    assert format_number(3400.5) == "3,400"  # f"{3400.5:,.0f}" rounds half to even
    assert format_number(152300) == "152,300"
    assert format_number(650.4) == "650"
    assert format_number(12.0) == "12"
    assert format_number(12.25) == "12.2"
    assert format_number(4.5) == "4.5"
    assert format_number(0.125) == "0.125"
    assert format_number(-0.0312) == "-0.0312"
    assert format_number(float("nan")) == "missing" and format_number(None) == "missing"
