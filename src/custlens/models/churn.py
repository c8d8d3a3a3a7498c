"""LightGBM churn model: will a customer place no order in the horizon?

Training uses a backtest whose labels end where evaluation begins. Its customers are split
(stratified, seeded) into a fitting part and a held-out part (``holdout_share``). The model is
fitted on the first. On the held-out part, sigmoid (Platt) and isotonic calibration are each
cross-fitted in two folds; a calibration is used only when its out-of-fold Brier score beats
the raw model's, and the decision is recorded in ``calibration_report_``. The chosen calibrator
is then fitted on the whole held-out part, where the decision threshold is also chosen.

When rows come in groups (a customer at several stacked cutoffs), whole groups are held out,
stratified by each group's classes, so both classes reach the held-out part whenever at least
two groups have each. A held-out part with fewer than ``min_class`` churners or non-churners
cannot choose a calibration: the raw scores are kept and ``calibration_report_["skipped"]`` says
why (``calibration_note``).
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


def _group_split(
    y: np.ndarray, groups: np.ndarray, share: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (fit, held out) with a seeded ``share`` of the distinct groups held out,
    stratified by the classes of each group's rows (only churned, only retained, both).

    Each stratum of ``n`` groups holds out ``round(share * n)`` of them, and at least one when
    ``n >= 2`` (``share`` < 0.5, so the fitting part keeps at least one group of every
    stratum): the held-out part holds a class whenever two or more groups have it and the
    fitting part holds every class the groups have. At least one group is held out."""
    uniq, inverse = np.unique(groups, return_inverse=True)
    churned = np.bincount(inverse, weights=y, minlength=len(uniq)) > 0
    retained = np.bincount(inverse, weights=1 - y, minlength=len(uniq)) > 0
    stratum = churned.astype("int64") + 2 * retained.astype("int64")  # 1, 2 or 3
    rng = np.random.default_rng(seed)
    held = [
        members[rng.permutation(len(members))[: _held_count(len(members), share)]]
        for members in (np.flatnonzero(stratum == k) for k in (1, 2, 3))
    ]
    picked = np.concatenate(held)
    if len(picked) == 0:  # every stratum too small to give a group: one group at random
        picked = rng.permutation(len(uniq))[:1]
    hold = np.isin(inverse, picked)
    return np.flatnonzero(~hold), np.flatnonzero(hold)


def _held_count(n: int, share: float) -> int:
    """Groups held out of a stratum of ``n``: ``round(share * n)``, at least 1 when n >= 2."""
    return max(1, round(share * n)) if n >= 2 else 0


def _row_split(y: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (fit, held out): scikit-learn's stratified split, or, when a class has a
    single row (which it cannot stratify), ``_group_split`` with every row its own group."""
    if np.bincount(y, minlength=2).min() < 2:
        return _group_split(y, np.arange(len(y)), share, seed)
    idx_fit, idx_hold = train_test_split(
        np.arange(len(y)), test_size=share, stratify=y, random_state=seed
    )
    return idx_fit, idx_hold


def calibration_skip(y_hold: np.ndarray, min_class: int) -> str | None:
    """Why the held-out labels ``y_hold`` cannot choose a calibration (fewer than
    ``min_class`` churners or non-churners), else None."""
    churners = int(y_hold.sum())
    stayers = len(y_hold) - churners
    if min(churners, stayers) >= min_class:
        return None
    return (
        f"the {len(y_hold)} held-out training rows hold {churners} churners and {stayers} "
        f"non-churners, fewer than the {min_class} of each ([models] min_class) that choosing "
        "a calibration needs: the raw LightGBM probabilities are used"
        + (
            ", and the decision threshold chosen there rests on one class only"
            if min(churners, stayers) == 0
            else ""
        )
    )


def calibration_note(model: ChurnModel, what: str = "churn model") -> str | None:
    """The run note when ``model`` skipped calibration (``calibration_report_["skipped"]``)."""
    why = getattr(model, "calibration_report_", {}).get("skipped")
    return f"{what}: calibration skipped: {why}" if why else None


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
        The held-out Brier score of each calibration and the one chosen; with ``"skipped"``
        (why) when the held-out part had too few of a class to choose one.
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
            held-out part then holds whole groups (a seeded ``holdout_share`` of them,
            stratified by the classes of each group's rows), so a customer is never both fitted
            and held out. When the held-out part has fewer than ``config.min_class`` churners
            or non-churners, calibration is skipped (``calibration_report_["skipped"]``).

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
            idx_fit, idx_hold = _row_split(y_arr, config.holdout_share, self.seed)
        else:
            idx_fit, idx_hold = _group_split(
                y_arr, np.asarray(groups), config.holdout_share, self.seed
            )
        self.feature_names_ = list(X.columns)
        self.model_ = lgb.LGBMClassifier(**lgbm_params(config, self.seed))
        self.model_.fit(X.iloc[idx_fit], y_arr[idx_fit])
        # the training thread count, not SCORING_THREADS: the fits run side by side on threads
        # (trainer.fit_side_by_side), and LightGBM keeps one thread count for the whole
        # process; a call that changes it while another fit trains crashed the process
        # (a segmentation fault in a test run)
        held = self.model_.predict_proba(X.iloc[idx_hold], num_threads=config.n_jobs)
        raw = np.asarray(held)[:, 1]
        y_hold = y_arr[idx_hold]
        skip = calibration_skip(y_hold, config.min_class)
        if skip is None:
            self.calibration_report_ = choose_calibration(raw, y_hold, self.seed)
        else:
            log.warning("churn model: calibration skipped: %s", skip)
            self.calibration_report_ = {
                "chosen": "none",
                "holdout_brier": {"none": float(brier_score_loss(y_hold, raw, labels=[0, 1]))},
                "holdout_n": len(y_hold),
                "skipped": skip,
            }
        self.calibrator_ = fit_calibrator(self.calibration_report_["chosen"], raw, y_hold)
        p_hold = apply_calibrator(self.calibrator_, raw)
        self.threshold_: Threshold = choose_threshold(y_hold, p_hold, v[idx_hold], config)
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
