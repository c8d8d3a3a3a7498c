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
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import StratifiedKFold, train_test_split

from custlens.config import ModelsConfig
from custlens.errors import ModelError
from custlens.models.evaluation import Threshold, choose_threshold

log = logging.getLogger(__name__)

CALIBRATIONS = ("none", "sigmoid", "isotonic")
_EPS = 1e-6
# LightGBM predictions run on OpenMP's default thread count (0): every core, unless
# OMP_NUM_THREADS says otherwise. Each row is scored on its own, so the scores do not depend on
# the count; training keeps ``n_jobs`` (LightGBM's trees are reproducible for a fixed count).
# On two cores this about halves the time to score 1M customers.
SCORING_THREADS = 0


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


class ChurnModel:
    """LightGBM binary classifier of ``churned`` with an optional held-out calibration."""

    def __init__(self, config: ModelsConfig | None = None, seed: int = 42) -> None:
        self.config = config or ModelsConfig()
        self.seed = seed

    def fit(self, X: pd.DataFrame, y: object, value: object | None = None) -> ChurnModel:
        """Fit on ``X``/``y`` (1 = churned); ``value`` (e.g. last-period revenue) for the
        profit threshold, chosen on the held-out part."""
        y_arr = np.asarray(y, dtype="int64")
        v = np.zeros(len(y_arr)) if value is None else np.asarray(value, dtype="float64")
        idx_fit, idx_hold = train_test_split(
            np.arange(len(y_arr)),
            test_size=self.config.holdout_share,
            stratify=y_arr,
            random_state=self.seed,
        )
        self.feature_names_ = list(X.columns)
        self.model_ = lgb.LGBMClassifier(**lgbm_params(self.config, self.seed))
        self.model_.fit(X.iloc[idx_fit], y_arr[idx_fit])
        raw = self.model_.predict_proba(X.iloc[idx_hold], num_threads=SCORING_THREADS)[:, 1]
        self.calibration_report_ = choose_calibration(raw, y_arr[idx_hold], self.seed)
        self.calibrator_ = fit_calibrator(self.calibration_report_["chosen"], raw, y_arr[idx_hold])
        p_hold = apply_calibrator(self.calibrator_, raw)
        self.threshold_: Threshold = choose_threshold(
            y_arr[idx_hold], p_hold, v[idx_hold], self.config
        )
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
    ) -> ChurnModel:
        """A fitted model from saved parts (see custlens.models.persist)."""
        out = cls(config)
        out.model_, out.calibrator_ = model, calibrator
        out.feature_names_ = list(model.feature_name_)
        out.threshold_, out.calibration_report_ = threshold, calibration_report
        return out

    def _check(self, X: pd.DataFrame) -> None:
        if not hasattr(self, "model_"):
            raise ModelError("The churn model is not fitted", where="ChurnModel", fix="call fit")

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        self._check(X)
        return self.model_.predict_proba(X[self.feature_names_], num_threads=SCORING_THREADS)[:, 1]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probability (raw when no calibration won)."""
        return apply_calibrator(self.calibrator_, self.predict_raw(X))

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Exact TreeSHAP values in log-odds (LightGBM ``pred_contrib``), one column a feature."""
        self._check(X)
        contrib = self.model_.booster_.predict(
            X[self.feature_names_], pred_contrib=True, num_threads=SCORING_THREADS
        )
        return pd.DataFrame(contrib[:, :-1], columns=self.feature_names_, index=X.index)
