"""The scikit-learn contract of every custlens estimator: keyword-only constructors that only
store their parameters, get_params / set_params / clone / repr, parameters checked at fit
(ConfigError), fitted attributes that appear only at fit, NotFittedError before it, and the
public names of ``custlens.models``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import custlens.models
from custlens.config import ModelsConfig
from custlens.errors import ConfigError, NotFittedError
from custlens.models import (
    BetaGeoModel,
    ChurnModel,
    ClvModel,
    GammaGammaModel,
    NextPurchaseModel,
    ParetoNBDModel,
)

SMALL = ModelsConfig(n_estimators=5, min_child_samples=5)


# ----------------------------------------------------------------------------- small data
def _features(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {"recency_days": rng.uniform(0, 365, n), "frequency": rng.integers(1, 20, n) * 1.0}
    )


def _fit_bg(model: BetaGeoModel) -> BetaGeoModel:
    return model.fit(
        [0, 1, 1, 2, 2, 4, 5, 8],
        [0, 5, 35, 10, 38, 20, 39, 39],
        [40] * 8,
        weights=[300, 60, 40, 30, 30, 10, 20, 10],
    )


def _fit_gg(model: GammaGammaModel) -> GammaGammaModel:
    return model.fit(
        [1, 1, 1, 1, 2, 2, 2, 3, 3, 5],
        [8.0, 20.0, 35.0, 120.0, 12.0, 30.0, 70.0, 18.0, 40.0, 25.0],
        weights=[20, 30, 15, 5, 15, 12, 6, 8, 6, 5],
    )


def _fit_churn(model: ChurnModel) -> ChurnModel:
    X = _features()
    return model.fit(X, (X["recency_days"] > 180).astype(int))


def _fit_clv(model: ClvModel) -> ClvModel:
    X = _features()
    return model.fit(X, np.where(X["recency_days"] < 180, X["frequency"] * 10.0, 0.0))


def _fit_next(model: NextPurchaseModel) -> NextPurchaseModel:
    X = _features()
    return model.fit(X, np.digitize(X["recency_days"], [100, 250]))


BG_ROW = ([1], [1.0], [2.0])  # frequency, recency, T of one customer

# class, its documented defaults, other valid parameters, fit function, fitted attributes,
# calls that need a fitted model
CASES = {
    "BetaGeoModel": (
        BetaGeoModel,
        {"min_customers": 10, "max_iter": 2000},
        {"min_customers": 20, "max_iter": 50},
        _fit_bg,
        ("params_", "standard_errors_", "log_likelihood_", "n_customers_", "dropout_limit_"),
        [
            lambda m: m.conditional_probability_alive(*BG_ROW),
            lambda m: m.conditional_expected_purchases(4.0, *BG_ROW),
            lambda m: m.expected_purchases([1.0, 2.0]),
            lambda m: m.log_likelihood(*BG_ROW),
        ],
    ),
    "ParetoNBDModel": (
        ParetoNBDModel,
        {"min_customers": 10, "max_iter": 2000},
        {"min_customers": 20, "max_iter": 50},
        _fit_bg,
        ("params_", "standard_errors_", "log_likelihood_", "n_customers_", "dropout_limit_"),
        [
            lambda m: m.conditional_probability_alive(*BG_ROW),
            lambda m: m.conditional_expected_purchases(4.0, *BG_ROW),
            lambda m: m.expected_purchases([1.0, 2.0]),
            lambda m: m.log_likelihood(*BG_ROW),
        ],
    ),
    "GammaGammaModel": (
        GammaGammaModel,
        {"min_customers": 10, "max_iter": 2000},
        {"min_customers": 5, "max_iter": 100},
        _fit_gg,
        (
            "params_",
            "standard_errors_",
            "log_likelihood_",
            "n_customers_",
            "n_excluded_",
            "frequency_monetary_corr_",
        ),
        [
            lambda m: m.conditional_expected_average_profit([1], [10.0]),
            lambda m: m.log_likelihood([1], [10.0]),
            lambda m: m.customer_lifetime_value(
                BetaGeoModel.from_params(0.243, 4.414, 0.793, 2.426),
                *BG_ROW,
                [10.0],
                horizon=4,
                discount_rate=0.1,
            ),
        ],
    ),
    "ChurnModel": (
        ChurnModel,
        {"config": None, "seed": 42},
        {"config": SMALL, "seed": 3},
        _fit_churn,
        ("model_", "feature_names_", "calibrator_", "calibration_report_", "threshold_"),
        [
            lambda m: m.predict_proba(_features(5)),
            lambda m: m.predict_raw(_features(5)),
            lambda m: m.contributions(_features(5)),
        ],
    ),
    "ClvModel": (
        ClvModel,
        {"config": None, "seed": 42},
        {"config": SMALL, "seed": 3},
        _fit_clv,
        ("model_", "feature_names_"),
        [
            lambda m: m.predict(_features(5)),
            lambda m: m.discounted(_features(5), 90, 0.1),
        ],
    ),
    "NextPurchaseModel": (
        NextPurchaseModel,
        {"config": None, "seed": 42},
        {"config": SMALL, "seed": 3},
        _fit_next,
        ("model_", "feature_names_"),
        [
            lambda m: m.predict_proba(_features(5)),
            lambda m: m.predict(_features(5)),
        ],
    ),
}
NAMES = list(CASES)

# invalid values: (parameter, value, words the message must contain)
BAD = {
    "BetaGeoModel": [
        ("max_iter", 0, "range"),
        ("max_iter", 2.5, "int"),
        ("min_customers", "ten", "int"),
    ],
    "ParetoNBDModel": [("max_iter", 0, "range"), ("min_customers", 1.5, "int")],
    "GammaGammaModel": [("min_customers", 0, "range"), ("max_iter", None, "int")],
    "ChurnModel": [
        ("seed", -1, "range"),
        ("seed", 2**32, "range"),
        ("config", {"n_estimators": 5}, "ModelsConfig"),
    ],
    "ClvModel": [("seed", 1.5, "int"), ("config", "fast", "ModelsConfig")],
    "NextPurchaseModel": [("seed", "42", "int"), ("config", 3, "ModelsConfig")],
}


def _small(name: str) -> object:
    """An unfitted estimator that fits quickly on the small data."""
    cls, _, valid, *_ = CASES[name]
    return cls(**valid) if "config" in valid else cls()


# ----------------------------------------------------------------------------- construction
@pytest.mark.parametrize("name", NAMES)
def test_constructor_is_keyword_only_and_only_stores_parameters(name: str) -> None:
    cls, defaults, valid, *_ = CASES[name]
    first_value = next(iter(valid.values()))
    with pytest.raises(TypeError):
        cls(first_value)
    assert vars(cls()) == defaults  # nothing but the parameters, no fitted attribute
    model = cls(**valid)
    assert vars(model) == valid
    for key, value in valid.items():
        assert getattr(model, key) is value  # stored as given, not copied or resolved


@pytest.mark.parametrize("name", NAMES)
def test_get_params_and_set_params(name: str) -> None:
    cls, defaults, valid, *_ = CASES[name]
    model = cls()
    assert model.get_params() == defaults
    assert model.set_params(**valid) is model
    assert model.get_params() == valid
    with pytest.raises(ValueError, match="Invalid parameter"):
        model.set_params(not_a_parameter=1)


@pytest.mark.parametrize("name", NAMES)
def test_repr_shows_the_changed_parameters(name: str) -> None:
    cls, _, valid, *_ = CASES[name]
    assert repr(cls()) == f"{name}()"
    key = "seed" if "seed" in valid else "max_iter"
    assert repr(cls(**{key: valid[key]})) == f"{name}({key}={valid[key]})"


@pytest.mark.parametrize("name", NAMES)
def test_clone_copies_parameters_and_drops_fitted_state(name: str) -> None:
    cls, _, valid, fit, attrs, _ = CASES[name]
    model = fit(_small(name))
    assert all(hasattr(model, a) for a in attrs)
    twin = clone(model)
    assert type(twin) is cls and twin is not model
    assert twin.get_params() == model.get_params()
    assert not any(hasattr(twin, a) for a in attrs)
    # a clone fits to the same result
    fitted_twin = fit(twin)
    if hasattr(model, "params_"):
        assert fitted_twin.params_ == model.params_
    else:
        X = _features(30)
        predict = model.predict_proba if hasattr(model, "predict_proba") else model.predict
        twin_predict = getattr(fitted_twin, predict.__name__)
        np.testing.assert_array_equal(twin_predict(X), predict(X))


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("name", "param", "value", "needle"),
    [(name, *bad) for name, cases in BAD.items() for bad in cases],
)
def test_bad_parameter_raises_config_error_at_fit(name, param, value, needle) -> None:
    cls, _, _, fit, attrs, _ = CASES[name]
    model = cls(**{param: value})  # construction never validates
    with pytest.raises(ConfigError, match=needle) as info:
        fit(model)
    err = info.value
    assert f"'{param}' parameter of {name}" in err.what
    assert err.where == f"{name}({param}=...)"
    assert err.fix
    assert not any(hasattr(model, a) for a in attrs)


@pytest.mark.parametrize("name", NAMES)
def test_not_fitted_error_before_fit(name: str) -> None:
    cls, _, _, _, _, calls = CASES[name]
    for call in calls:
        with pytest.raises(NotFittedError, match=f"This {name} is not fitted yet"):
            call(cls())


@pytest.mark.parametrize("name", ["BetaGeoModel", "GammaGammaModel"])
def test_from_params_is_fitted_and_clones_unfitted(name: str) -> None:
    cls = CASES[name][0]
    params = (0.243, 4.414, 0.793, 2.426) if name == "BetaGeoModel" else (6.25, 3.74, 15.44)
    model = cls.from_params(*params)
    assert list(model.params_.values()) == list(params)
    assert not hasattr(clone(model), "params_")


# ----------------------------------------------------------------------------- package
def test_public_names_of_custlens_models() -> None:
    expected = {
        "BetaGeoModel",
        "GammaGammaModel",
        "ParetoNBDModel",
        "summary_from_transactions",
        "ChurnModel",
        "ClvModel",
        "NextPurchaseModel",
        "save_models",
        "load_models",
    }
    assert set(custlens.models.__all__) == expected
    from custlens.models.persist import load_models, save_models
    from custlens.models.rfm_summary import summary_from_transactions

    assert custlens.models.save_models is save_models
    assert custlens.models.load_models is load_models
    assert custlens.models.summary_from_transactions is summary_from_transactions
    assert expected <= set(dir(custlens.models))
    with pytest.raises(AttributeError, match="no_such_name"):
        custlens.models.no_such_name  # noqa: B018


def test_importing_custlens_models_is_cheap() -> None:
    code = (
        "import sys, custlens.models; "
        "print(sorted(m for m in ('lightgbm', 'skops', 'scipy.optimize') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
