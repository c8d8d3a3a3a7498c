"""LightGBM CLV model: revenue in the horizon.

Future revenue has many zeros (customers who do not come back) and a long tail, so the model
uses the Tweedie objective (a compound Poisson-Gamma loss, log link) and predicts the expected
revenue directly. ``predict`` is undiscounted revenue over the horizon; ``discounted`` applies
an annual discount rate at the middle of the horizon.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from custlens.config import ModelsConfig
from custlens.errors import ModelError
from custlens.models.churn import SCORING_THREADS, lgbm_params

TWEEDIE_POWER = 1.5


class ClvModel:
    """LightGBM regressor of ``future_revenue`` with a Tweedie loss."""

    def __init__(self, config: ModelsConfig | None = None, seed: int = 42) -> None:
        self.config = config or ModelsConfig()
        self.seed = seed

    def fit(self, X: pd.DataFrame, revenue: object) -> ClvModel:
        y = np.clip(np.asarray(revenue, dtype="float64"), 0.0, None)  # refunds are not revenue
        self.feature_names_ = list(X.columns)
        self.model_ = lgb.LGBMRegressor(
            objective="tweedie",
            tweedie_variance_power=TWEEDIE_POWER,
            **lgbm_params(self.config, self.seed),
        )
        self.model_.fit(X, y)
        return self

    @classmethod
    def from_parts(cls, model: lgb.LGBMRegressor, config: ModelsConfig) -> ClvModel:
        out = cls(config)
        out.model_, out.feature_names_ = model, list(model.feature_name_)
        return out

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Expected revenue in the horizon (undiscounted)."""
        if not hasattr(self, "model_"):
            raise ModelError("The CLV model is not fitted", where="ClvModel", fix="call fit")
        return self.model_.predict(X[self.feature_names_], num_threads=SCORING_THREADS)

    def discounted(self, X: pd.DataFrame, horizon_days: int, discount_rate: float) -> np.ndarray:
        """``predict`` discounted at ``discount_rate`` a year from the middle of the horizon."""
        factor = (1.0 + discount_rate) ** (-(horizon_days / 2.0) / 365.25)
        return self.predict(X) * factor
