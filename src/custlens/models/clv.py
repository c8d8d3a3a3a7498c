"""LightGBM CLV model: revenue in the horizon.

Future revenue has many zeros (customers who do not come back) and a long tail, so the model
uses the Tweedie objective (a compound Poisson-Gamma loss, log link) and predicts the expected
revenue directly. ``predict`` is undiscounted revenue over the horizon; ``discounted`` applies
an annual discount rate at the middle of the horizon.
"""

from __future__ import annotations

from typing import ClassVar

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from custlens._validation import check_fitted, validate_params
from custlens.config import ModelsConfig
from custlens.models.churn import SCORING_THREADS, SEED_CONSTRAINT, lgbm_params, resolved_config

TWEEDIE_POWER = 1.5


class ClvModel(BaseEstimator):
    """LightGBM regressor of the revenue in the horizon, with a Tweedie loss.

    Parameters
    ----------
    config : ModelsConfig, optional
        LightGBM settings (``None``: the defaults).
    seed : int, default=42
        LightGBM's seed (0 .. 2**32 - 1).

    Attributes
    ----------
    model_ : lightgbm.LGBMRegressor
        The fitted regressor.
    feature_names_ : list of str
        The columns of ``X`` at fit, in order.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from custlens.config import ModelsConfig
    >>> from custlens.models import ClvModel
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"monetary": rng.gamma(2.0, 50.0, 200),
    ...                   "recency_days": rng.uniform(0, 365, 200)})
    >>> revenue = np.where(X["recency_days"] < 180, 0.5 * X["monetary"], 0.0)
    >>> model = ClvModel(config=ModelsConfig(n_estimators=20, min_child_samples=5), seed=0)
    >>> pred = model.fit(X, revenue).predict(X)
    >>> pred.shape, bool(pred.min() > 0)
    ((200,), True)
    >>> ClvModel(seed=7)
    ClvModel(seed=7)
    """

    _parameter_constraints: ClassVar[dict[str, list]] = {
        "config": [ModelsConfig, None],
        "seed": SEED_CONSTRAINT,
    }

    def __init__(self, *, config: ModelsConfig | None = None, seed: int = 42) -> None:
        self.config = config
        self.seed = seed

    def fit(self, X: pd.DataFrame, revenue: object) -> ClvModel:
        """Fit LightGBM on the revenue in the horizon (negative revenue, refunds, counts as 0).

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_customers, n_features)
            Numeric features.
        revenue : array-like of shape (n_customers,)
            Revenue of each customer in the horizon.

        Returns
        -------
        ClvModel
            The fitted model (``self``).

        Raises
        ------
        ConfigError
            When ``config`` or ``seed`` is invalid.
        """
        validate_params(self)
        config = resolved_config(self.config)
        y = np.clip(np.asarray(revenue, dtype="float64"), 0.0, None)  # refunds are not revenue
        self.feature_names_ = list(X.columns)
        self.model_ = lgb.LGBMRegressor(
            objective="tweedie",
            tweedie_variance_power=TWEEDIE_POWER,
            **lgbm_params(config, self.seed),
        )
        self.model_.fit(X, y)
        return self

    @classmethod
    def from_parts(
        cls, model: lgb.LGBMRegressor, config: ModelsConfig, *, seed: int = 42
    ) -> ClvModel:
        """A fitted model from saved parts (see custlens.models.persist)."""
        out = cls(config=config, seed=seed)
        out.model_, out.feature_names_ = model, list(model.feature_name_)
        return out

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Expected revenue in the horizon (undiscounted).

        Parameters
        ----------
        X : pandas.DataFrame
            Holds at least the features seen at fit (extra columns are ignored).

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
            Expected revenue of each customer.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        """
        check_fitted(self, ("model_", "feature_names_"))
        return np.asarray(self.model_.predict(X[self.feature_names_], num_threads=SCORING_THREADS))

    def discounted(self, X: pd.DataFrame, horizon_days: int, discount_rate: float) -> np.ndarray:
        """``predict`` discounted at ``discount_rate`` a year from the middle of the horizon."""
        factor = (1.0 + discount_rate) ** (-(horizon_days / 2.0) / 365.25)
        return self.predict(X) * factor
