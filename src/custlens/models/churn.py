"""LightGBM churn model: will a customer place no order in the horizon?

Training uses a backtest whose labels end where evaluation begins. Its customers are split
(stratified, seeded) into a fitting part and a held-out part (``holdout_share``). The model is
fitted on the first. On the held-out part, sigmoid (Platt) and isotonic calibration are each
cross-fitted in two folds; a calibration is used only when its out-of-fold Brier score beats
the raw model's, and the decision is recorded in ``calibration_report_``. The chosen calibrator
is then fitted on the whole held-out part, where the decision threshold is also chosen.
"""

from __future__ import annotations

import logging
from numbers import Integral
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils._param_validation import Interval

from custlens._validation import check_fitted, validate_params
from custlens.config import ModelsConfig
from custlens.models.evaluation import Threshold, choose_threshold

log = logging.getLogger(__name__)

CALIBRATIONS = ("none", "sigmoid", "isotonic")
_EPS = 1e-6
# LightGBM predictions run on OpenMP's default thread count (0): every core, unless
# OMP_NUM_THREADS says otherwise. Each row is scored on its own, so the scores do not depend on
# the count; training keeps ``n_jobs`` (LightGBM's trees are reproducible for a fixed count).
# On two cores this about halves the time to score 1M customers.
SCORING_THREADS = 0
# seeds go to LightGBM and scikit-learn's splitters (numpy's RandomState: 0 .. 2**32 - 1)
SEED_CONSTRAINT = [Interval(Integral, 0, 2**32 - 1, closed="both")]


def lgbm_params(config: ModelsConfig, seed: int) -> dict[str, Any]:
    """Shared, deterministic LightGBM settings."""
    return {
        "n_estimators": config.n_estimators,
        "learning_rate": config.learning_rate,
        "num_leaves": config.num_leaves,
        "min_child_samples": config.min_child_samples,
        "subsample": 1.0,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "random_state": seed,
        "n_jobs": config.n_jobs,
        "deterministic": True,
        "force_col_wise": True,
        "verbose": -1,
    }


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, _EPS, 1 - _EPS)
    return np.log(p / (1 - p)).reshape(-1, 1)


def fit_calibrator(method: str, p: np.ndarray, y: np.ndarray) -> Any:
    if method == "sigmoid":
        return LogisticRegression(C=1e6).fit(_logit(p), y)
    if method == "isotonic":
        return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(p, y)
    return None


def apply_calibrator(calibrator: Any, p: np.ndarray) -> np.ndarray:
    if calibrator is None:
        return p
    if isinstance(calibrator, LogisticRegression):
        return calibrator.predict_proba(_logit(p))[:, 1]
    return calibrator.predict(p)


def choose_calibration(p: np.ndarray, y: np.ndarray, seed: int) -> dict[str, Any]:
    """Out-of-fold Brier of each calibration on (p, y); the best that beats 'none' wins."""
    briers = {"none": float(brier_score_loss(y, p))}
    folds = StratifiedKFold(n_splits=2, shuffle=True, random_state=seed)
    for method in CALIBRATIONS[1:]:
        oof = np.empty_like(p)
        for fit_idx, test_idx in folds.split(p.reshape(-1, 1), y):
            cal = fit_calibrator(method, p[fit_idx], y[fit_idx])
            oof[test_idx] = apply_calibrator(cal, p[test_idx])
        briers[method] = float(brier_score_loss(y, oof))
    chosen = min(CALIBRATIONS, key=lambda m: (briers[m], CALIBRATIONS.index(m)))
    return {"chosen": chosen, "holdout_brier": briers, "holdout_n": len(y)}


def resolved_config(config: ModelsConfig | None) -> ModelsConfig:
    """The estimators' ``config`` parameter, with ``None`` meaning the defaults."""
    return config if config is not None else ModelsConfig()


def _group_split(groups: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (fit, held out) with a seeded ``share`` of the distinct groups held out."""
    uniq = np.unique(groups)
    held = np.random.default_rng(seed).permutation(len(uniq))[: max(1, round(share * len(uniq)))]
    hold = np.isin(groups, uniq[held])
    return np.flatnonzero(~hold), np.flatnonzero(hold)


class ChurnModel(BaseEstimator):
    """LightGBM classifier of churn (no order in the horizon), calibrated on a held-out part.

    The customers are split (stratified, seeded) into a fitting part and a held-out part
    (``config.holdout_share``). LightGBM is fitted on the first. On the held-out part, sigmoid
    and isotonic calibration are each cross-fitted in two folds and used only when their
    out-of-fold Brier score beats the raw model's; the decision threshold is chosen there too.

    Parameters
    ----------
    config : ModelsConfig, optional
        LightGBM settings, the held-out share and the threshold rule (``None``: the defaults).
    seed : int, default=42
        Seed of the split, the calibration folds and LightGBM (0 .. 2**32 - 1).

    Attributes
    ----------
    model_ : lightgbm.LGBMClassifier
        The fitted classifier.
    feature_names_ : list of str
        The columns of ``X`` at fit, in order.
    calibrator_ : sklearn estimator or None
        The calibration chosen (``None`` when the raw scores won).
    calibration_report_ : dict
        The held-out Brier score of each calibration and the one chosen.
    threshold_ : Threshold
        The decision threshold chosen on the held-out part.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from custlens.config import ModelsConfig
    >>> from custlens.models import ChurnModel
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"recency_days": rng.uniform(0, 365, 200),
    ...                   "frequency": rng.integers(1, 20, 200).astype(float)})
    >>> churned = (X["recency_days"] > 180).astype(int)
    >>> model = ChurnModel(config=ModelsConfig(n_estimators=20, min_child_samples=5), seed=0)
    >>> p = model.fit(X, churned).predict_proba(X)
    >>> p.shape, bool(p[churned == 1].mean() > p[churned == 0].mean())
    ((200,), True)
    >>> ChurnModel(seed=7)
    ChurnModel(seed=7)
    """

    _parameter_constraints: ClassVar[dict[str, list]] = {
        "config": [ModelsConfig, None],
        "seed": SEED_CONSTRAINT,
    }

    def __init__(self, *, config: ModelsConfig | None = None, seed: int = 42) -> None:
        self.config = config
        self.seed = seed

    def fit(
        self,
        X: pd.DataFrame,
        y: object,
        value: object | None = None,
        groups: object | None = None,
    ) -> ChurnModel:
        """Fit LightGBM, the calibration and the decision threshold.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_customers, n_features)
            Numeric features.
        y : array-like of shape (n_customers,)
            1 = churned, 0 = bought again; both classes must be present.
        value : array-like of shape (n_customers,), optional
            Value of each customer (e.g. last-period revenue) for the profit threshold
            (zeros when absent).
        groups : array-like of shape (n_customers,), optional
            Who each row is (e.g. the customer id when rows come from several cutoffs): the
            held-out part then holds whole groups (a seeded ``holdout_share`` of them), so a
            customer is never both fitted and held out.

        Returns
        -------
        ChurnModel
            The fitted model (``self``).

        Raises
        ------
        ConfigError
            When ``config`` or ``seed`` is invalid.
        """
        validate_params(self)
        config = resolved_config(self.config)
        y_arr = np.asarray(y, dtype="int64")
        v = np.zeros(len(y_arr)) if value is None else np.asarray(value, dtype="float64")
        if groups is None:
            idx_fit, idx_hold = train_test_split(
                np.arange(len(y_arr)),
                test_size=config.holdout_share,
                stratify=y_arr,
                random_state=self.seed,
            )
        else:
            idx_fit, idx_hold = _group_split(np.asarray(groups), config.holdout_share, self.seed)
        self.feature_names_ = list(X.columns)
        self.model_ = lgb.LGBMClassifier(**lgbm_params(config, self.seed))
        self.model_.fit(X.iloc[idx_fit], y_arr[idx_fit])
        raw = np.asarray(self.model_.predict_proba(X.iloc[idx_hold], num_threads=SCORING_THREADS))[
            :, 1
        ]
        self.calibration_report_ = choose_calibration(raw, y_arr[idx_hold], self.seed)
        self.calibrator_ = fit_calibrator(self.calibration_report_["chosen"], raw, y_arr[idx_hold])
        p_hold = apply_calibrator(self.calibrator_, raw)
        self.threshold_: Threshold = choose_threshold(y_arr[idx_hold], p_hold, v[idx_hold], config)
        log.info("churn model: calibration %s", self.calibration_report_)
        return self

    @classmethod
    def from_parts(
        cls,
        model: lgb.LGBMClassifier,
        calibrator: Any,
        *,
        config: ModelsConfig,
        threshold: Threshold,
        calibration_report: dict[str, Any],
        seed: int = 42,
    ) -> ChurnModel:
        """A fitted model from saved parts (see custlens.models.persist)."""
        out = cls(config=config, seed=seed)
        out.model_, out.calibrator_ = model, calibrator
        out.feature_names_ = list(model.feature_name_)
        out.threshold_, out.calibration_report_ = threshold, calibration_report
        return out

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        """Uncalibrated churn probability of LightGBM.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        """
        check_fitted(self, ("model_", "feature_names_"))
        proba = self.model_.predict_proba(X[self.feature_names_], num_threads=SCORING_THREADS)
        return np.asarray(proba)[:, 1]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probability (raw when no calibration won).

        Parameters
        ----------
        X : pandas.DataFrame
            Holds at least the features seen at fit (extra columns are ignored).

        Returns
        -------
        numpy.ndarray of shape (n_customers,)
            Probability of no order in the horizon.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        """
        return self.calibrate(self.predict_raw(X))  # predict_raw checks the model is fitted

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """The calibrated probabilities of raw LightGBM probabilities (``predict_raw``)."""
        check_fitted(self, ("model_", "feature_names_"))
        return apply_calibrator(self.calibrator_, raw)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Exact TreeSHAP values in log-odds (LightGBM ``pred_contrib``), one column a feature.

        Raises
        ------
        NotFittedError
            Before ``fit``.
        """
        check_fitted(self, ("model_", "feature_names_"))
        contrib = self.model_.booster_.predict(
            X[self.feature_names_], pred_contrib=True, num_threads=SCORING_THREADS
        )
        return pd.DataFrame(np.asarray(contrib)[:, :-1], columns=self.feature_names_, index=X.index)
