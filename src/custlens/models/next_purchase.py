"""LightGBM next-purchase window: within the first edge (default 30 days), up to the second
(31-90 days), or later / never (multiclass, classes 0, 1, 2)."""

from __future__ import annotations

from typing import ClassVar

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from custlens._validation import check_fitted, validate_params
from custlens.config import ModelsConfig
from custlens.errors import DataError
from custlens.models.churn import SCORING_THREADS, SEED_CONSTRAINT, lgbm_params, resolved_config

N_CLASSES = 3


def window_labels(edges: tuple[int, int]) -> tuple[str, str, str]:
    """Plain names of the three classes, e.g. ('0-30 days', '31-90 days', 'later or never')."""
    return (f"0-{edges[0]} days", f"{edges[0] + 1}-{edges[1]} days", "later or never")


def single_window(window: object, edges: tuple[int, int]) -> str | None:
    """Why no next-purchase model can learn from ``window`` (every customer in one class), in
    words, or None when it holds at least two classes."""
    y = np.asarray(window, dtype="int64")
    classes = np.unique(y)
    if len(classes) > 1:
        return None
    if len(classes) == 0:
        return "there are no training customers"
    name = window_labels(edges)[int(classes[0])]
    return f"the next order of every one of the {len(y):,} training customers fell in '{name}'"


def missing_windows(window: object, edges: tuple[int, int]) -> list[str]:
    """The names of the windows that no customer of ``window`` fell in."""
    present = set(np.unique(np.asarray(window, dtype="int64")).tolist())
    return [name for k, name in enumerate(window_labels(edges)) if k not in present]


class NextPurchaseModel(BaseEstimator):
    """LightGBM multiclass classifier of the next purchase window (classes 0, 1, 2).

    Class 0 is a first order within ``config.next_purchase_edges[0]`` days, class 1 within
    the second edge, class 2 later or never (see :func:`window_labels`). When the training
    labels hold only two of the classes, a binary LightGBM model learns them and the third
    gets probability 0 (it was never seen); a single class is a ``DataError``.

    Parameters
    ----------
    config : ModelsConfig, optional
        LightGBM settings (``None``: the defaults).
    seed : int, default=42
        LightGBM's seed (0 .. 2**32 - 1).

    Attributes
    ----------
    model_ : lightgbm.LGBMClassifier
        The fitted classifier.
    feature_names_ : list of str
        The columns of ``X`` at fit, in order.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from custlens.config import ModelsConfig
    >>> from custlens.models import NextPurchaseModel
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"days_between": rng.uniform(5, 200, 300)})
    >>> window = np.digitize(X["days_between"], [30, 90])  # 0, 1 or 2
    >>> model = NextPurchaseModel(config=ModelsConfig(n_estimators=20, min_child_samples=5))
    >>> proba = model.fit(X, window).predict_proba(X)
    >>> proba.shape, bool(np.allclose(proba.sum(axis=1), 1.0))
    ((300, 3), True)
    >>> NextPurchaseModel(seed=7)
    NextPurchaseModel(seed=7)
    """

    _parameter_constraints: ClassVar[dict[str, list]] = {
        "config": [ModelsConfig, None],
        "seed": SEED_CONSTRAINT,
    }

    def __init__(self, *, config: ModelsConfig | None = None, seed: int = 42) -> None:
        self.config = config
        self.seed = seed

    def fit(self, X: pd.DataFrame, window: object) -> NextPurchaseModel:
        """Fit LightGBM on the window classes.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_customers, n_features)
            Numeric features.
        window : array-like of shape (n_customers,)
            Class of each customer: 0, 1 or 2.

        Returns
        -------
        NextPurchaseModel
            The fitted model (``self``).

        Raises
        ------
        ConfigError
            When ``config`` or ``seed`` is invalid.
        DataError
            When ``window`` holds a single class (nothing to tell apart).
        """
        validate_params(self)
        config = resolved_config(self.config)
        y = np.asarray(window, dtype="int64")
        why = single_window(y, config.next_purchase_edges)
        if why is not None:
            raise DataError(
                f"The next-purchase model needs customers in at least two windows: {why}",
                where="next-purchase window labels",
                fix="use a longer history, another --cutoff or other models.next_purchase_edges",
            )
        # LightGBM's multiclass objective needs more than two classes; two are a binary model
        objective = "multiclass" if len(np.unique(y)) > 2 else "binary"
        self.feature_names_ = list(X.columns)
        self.model_ = lgb.LGBMClassifier(objective=objective, **lgbm_params(config, self.seed))
        self.model_.fit(X, y)
        return self

    @classmethod
    def from_parts(
        cls, model: lgb.LGBMClassifier, config: ModelsConfig, *, seed: int = 42
    ) -> NextPurchaseModel:
        """A fitted model from saved parts (see custlens.models.persist)."""
        out = cls(config=config, seed=seed)
        out.model_, out.feature_names_ = model, list(model.feature_name_)
        return out

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Probabilities of the three windows (columns 0, 1, 2; 0 for a class never seen).

        Raises
        ------
        NotFittedError
            Before ``fit``.
        """
        check_fitted(self, ("model_", "feature_names_"))
        raw = self.model_.predict_proba(X[self.feature_names_], num_threads=SCORING_THREADS)
        out = np.zeros((len(X), N_CLASSES))
        out[:, self.model_.classes_.astype("int64")] = raw
        return out

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The most likely window (0, 1 or 2) of each customer.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        """
        return self.predict_proba(X).argmax(axis=1)
