"""LightGBM next-purchase window: within the first edge (default 30 days), up to the second
(31-90 days), or later / never (multiclass, classes 0, 1, 2)."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from custlens.config import ModelsConfig
from custlens.errors import ModelError
from custlens.models.churn import SCORING_THREADS, lgbm_params

N_CLASSES = 3


def window_labels(edges: tuple[int, int]) -> tuple[str, str, str]:
    """Plain names of the three classes, e.g. ('0-30 days', '31-90 days', 'later or never')."""
    return (f"0-{edges[0]} days", f"{edges[0] + 1}-{edges[1]} days", "later or never")


class NextPurchaseModel:
    """LightGBM multiclass classifier of ``next_window``."""

    def __init__(self, config: ModelsConfig | None = None, seed: int = 42) -> None:
        self.config = config or ModelsConfig()
        self.seed = seed

    def fit(self, X: pd.DataFrame, window: object) -> NextPurchaseModel:
        y = np.asarray(window, dtype="int64")
        self.feature_names_ = list(X.columns)
        self.model_ = lgb.LGBMClassifier(
            objective="multiclass", **lgbm_params(self.config, self.seed)
        )
        self.model_.fit(X, y)
        return self

    @classmethod
    def from_parts(cls, model: lgb.LGBMClassifier, config: ModelsConfig) -> NextPurchaseModel:
        out = cls(config)
        out.model_, out.feature_names_ = model, list(model.feature_name_)
        return out

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities of the three windows (columns 0, 1, 2; 0 for a class never seen)."""
        if not hasattr(self, "model_"):
            raise ModelError(
                "The next-purchase model is not fitted", where="NextPurchaseModel", fix="call fit"
            )
        raw = self.model_.predict_proba(X[self.feature_names_], num_threads=SCORING_THREADS)
        out = np.zeros((len(X), N_CLASSES))
        out[:, self.model_.classes_.astype("int64")] = raw
        return out

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.predict_proba(X).argmax(axis=1)
