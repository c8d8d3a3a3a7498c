"""Customer-level anomalies: an isolation forest on a one-row-per-customer feature table.

Steps (each one a rule with a default in :class:`custlens.config.AnomalyConfig`):

1. choose the features (explicit list, else every numeric column except the id); features that
   are absent, entirely null or constant are skipped with a note in ``notes_``;
2. ``log1p`` every non-negative feature whose skewness exceeds ``skew_threshold``;
3. robust-scale: ``z = (x - median) / scale`` with ``scale = IQR / 1.349`` (falling back to
   ``1.4826 * MAD``, then the standard deviation), so ``z`` reads like a standard score;
4. fit a seeded :class:`sklearn.ensemble.IsolationForest` on the robust scores (missing values
   are imputed with the median, i.e. ``z = 0``).

Outputs per customer: ``anomaly_score`` (``-score_samples``: higher is more anomalous, in 0..1),
``is_anomaly`` (score above the ``contamination`` quantile of the training scores) and, for
flagged customers, ``anomaly_reasons``: the features furthest from typical (largest ``|z|``),
each with the customer's value and the median, e.g. ``"monetary 152,300 (typical 650)"``
(empty for the others; ``reasons()`` gives them for any customer).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from joblib import parallel_config
from sklearn.ensemble import IsolationForest

from custlens.config import AnomalyConfig
from custlens.errors import ConfigError, DataError

logger = logging.getLogger(__name__)

MIN_CUSTOMERS = 5
_IQR_TO_SIGMA = 1.349  # IQR of a standard normal
_MAD_TO_SIGMA = 1.4826  # 1 / Phi^-1(3/4)


def format_number(x: float) -> str:
    """A compact human rendering: ``152300 -> '152,300'``, ``3.25 -> '3.2'``, ``0.0312 -> '0.031'``."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "missing"
    ax = abs(x)
    if ax >= 100 or float(x).is_integer():
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    return f"{x:.2g}"


class CustomerAnomalyDetector:
    """Isolation-forest anomalies with readable reasons (scikit-learn style estimator).

    Parameters
    ----------
    features:
        Columns to use; ``None`` = every numeric (non-boolean) column except ``id_column``.
    contamination:
        Expected share of anomalies, in (0, 0.5]; sets the ``is_anomaly`` threshold.
    seed:
        Random seed of the forest (same data and seed give the same scores).
    n_top_reasons:
        How many features are named in ``anomaly_reasons``.
    skew_threshold:
        A non-negative feature whose sample skewness exceeds this is transformed with ``log1p``.
    n_estimators:
        Trees in the forest.
    id_column:
        Customer id column copied to the output when present.
    """

    def __init__(
        self,
        features: Sequence[str] | None = None,
        contamination: float = 0.02,
        seed: int = 0,
        n_top_reasons: int = 3,
        skew_threshold: float = 1.0,
        n_estimators: int = 200,
        id_column: str = "customer_id",
    ) -> None:
        self.features = features
        self.contamination = contamination
        self.seed = seed
        self.n_top_reasons = n_top_reasons
        self.skew_threshold = skew_threshold
        self.n_estimators = n_estimators
        self.id_column = id_column

    @classmethod
    def from_config(cls, config: AnomalyConfig, seed: int = 0) -> CustomerAnomalyDetector:
        """Build from a :class:`custlens.config.AnomalyConfig`."""
        return cls(
            features=config.features,
            contamination=config.contamination,
            seed=seed,
            n_top_reasons=config.n_top_reasons,
            skew_threshold=config.skew_threshold,
            n_estimators=config.n_estimators,
        )

    # ------------------------------------------------------------------ fit
    def fit(self, customers: pd.DataFrame) -> CustomerAnomalyDetector:
        """Learn the transform, the robust scaling and the forest from ``customers``."""
        self._fit(customers)
        return self

    def _fit(self, customers: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """Fit; return the frame, its robust scores ``z`` and its anomaly scores."""
        self._check_params()
        frame = _as_pandas(customers)
        if len(frame) < MIN_CUSTOMERS:
            raise DataError(
                f"Anomaly detection needs at least {MIN_CUSTOMERS} customers, got {len(frame)}",
                where="customer feature table",
                fix="run it on more customers (or widen the date range)",
            )
        notes: list[str] = []
        features = self._select_features(frame, notes)
        log_features, centers, scales, medians = [], {}, {}, {}
        for name in list(features):
            values = _numeric(frame, name)
            medians[name] = float(np.nanmedian(values))
            finite = values[~np.isnan(values)]
            if finite.min() >= 0 and _skewness(finite) > self.skew_threshold:
                log_features.append(name)
                finite = np.log1p(finite)
            center, scale = _robust_center_scale(finite)
            if scale == 0.0:
                notes.append(f"feature {name!r} skipped: it has the same value for every customer")
                features.remove(name)
                continue
            centers[name], scales[name] = center, scale
            n_missing = int(np.isnan(values).sum())
            if n_missing:
                notes.append(
                    f"feature {name!r}: {n_missing} missing or infinite values treated as typical"
                )
        if not features:
            raise DataError(
                "No usable feature for anomaly detection: every candidate is absent, null or constant",
                where="customer feature table columns " + ", ".join(map(str, frame.columns)),
                fix="pass numeric features that vary between customers (e.g. recency_days, frequency, monetary)",
            )
        self.features_ = features
        self.log_features_ = [f for f in features if f in log_features]
        self.centers_ = centers
        self.scales_ = scales
        self.medians_ = {f: medians[f] for f in features}
        self.notes_ = notes
        for note in notes:
            logger.info("anomalies: %s", note)
        z = self._robust_z(frame)
        # contamination="auto" spares the forest a scoring pass over the training rows; the
        # threshold is the same quantile of the scores, taken from our one pass
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators, contamination="auto", random_state=self.seed
        ).fit(np.nan_to_num(z, nan=0.0))
        score = self._score(z)
        self.threshold_ = float(np.percentile(score, 100.0 * (1.0 - self.contamination)))
        return frame, z, score

    # ------------------------------------------------------------ transform
    def transform(self, customers: pd.DataFrame) -> pd.DataFrame:
        """Score customers: ``anomaly_score``, ``is_anomaly``, ``anomaly_reasons`` (index kept)."""
        self._check_fitted()
        frame = _as_pandas(customers)
        missing = [f for f in self.features_ if f not in frame.columns]
        if missing:
            raise DataError(
                f"Columns used when fitting are missing: {', '.join(missing)}",
                where="customer feature table",
                fix="score a table with the same feature columns as the one used to fit",
            )
        z = self._robust_z(frame)
        return self._scored(frame, z, self._score(z))

    def _score(self, z: np.ndarray) -> np.ndarray:
        # the trees walk the rows without the GIL: threads halve the time on two cores (every row
        # still adds the trees' depths in the same order, so scores and ranks are reproducible)
        with parallel_config(backend="threading", n_jobs=-1):
            return -self.forest_.score_samples(np.nan_to_num(z, nan=0.0))

    def _scored(self, frame: pd.DataFrame, z: np.ndarray, score: np.ndarray) -> pd.DataFrame:
        out = pd.DataFrame(index=frame.index)
        if self.id_column in frame.columns:
            out[self.id_column] = frame[self.id_column]
        out["anomaly_score"] = score
        flagged = score > self.threshold_
        out["is_anomaly"] = flagged
        # reasons explain a flag; formatting them for every customer would cost seconds per
        # million rows and say little about typical customers (see ``reasons`` for any row)
        reasons = np.full(len(frame), "", dtype=object)
        rows = np.flatnonzero(flagged)
        reasons[rows] = self._reasons(frame.iloc[rows], z[rows])
        out["anomaly_reasons"] = reasons
        return out

    def reasons(self, customers: pd.DataFrame) -> pd.Series:
        """The top reasons of any customers (flagged or not), indexed like ``customers``."""
        self._check_fitted()
        frame = _as_pandas(customers)
        return pd.Series(self._reasons(frame, self._robust_z(frame)), index=frame.index)

    def fit_transform(self, customers: pd.DataFrame) -> pd.DataFrame:
        """``fit(customers).transform(customers)``, scoring the rows once."""
        return self._scored(*self._fit(customers))

    # -------------------------------------------------------------- helpers
    def _check_fitted(self) -> None:
        if not hasattr(self, "forest_"):
            raise DataError(
                "CustomerAnomalyDetector is not fitted",
                where="CustomerAnomalyDetector.transform",
                fix="call fit(customers) first (or use fit_transform)",
            )

    def _check_params(self) -> None:
        c = self.contamination
        if not isinstance(c, int | float) or not 0 < c <= 0.5:
            raise ConfigError(
                f"contamination must be a number in (0, 0.5], got {c!r}",
                where="anomalies.contamination",
                fix="use the expected share of anomalous customers, e.g. 0.02",
            )
        if not isinstance(self.n_estimators, int) or self.n_estimators < 1:
            raise ConfigError(
                f"n_estimators must be a positive whole number, got {self.n_estimators!r}",
                where="anomalies.n_estimators",
                fix="use e.g. 200",
            )
        if int(self.n_top_reasons) < 1:
            raise ConfigError(
                f"n_top_reasons must be at least 1, got {self.n_top_reasons!r}",
                where="anomalies.n_top_reasons",
                fix="use a positive whole number, e.g. 3",
            )

    def _select_features(self, frame: pd.DataFrame, notes: list[str]) -> list[str]:
        if self.features is None:
            candidates = [
                c
                for c in frame.columns
                if c != self.id_column
                and pd.api.types.is_numeric_dtype(frame[c])
                and not pd.api.types.is_bool_dtype(frame[c])
            ]
        else:
            candidates = list(dict.fromkeys(self.features))
        chosen = []
        for name in candidates:
            if name not in frame.columns:
                notes.append(f"feature {name!r} skipped: no such column")
                continue
            col = frame[name]
            if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
                raise DataError(
                    f"Feature {name!r} is not numeric (dtype {col.dtype})",
                    where=f"customer feature table, column {name!r}",
                    fix="pass only numeric feature columns (or encode this one as a number)",
                )
            values = _numeric(frame, name)
            if np.isnan(values).all():
                notes.append(f"feature {name!r} skipped: all values are missing")
                continue
            chosen.append(name)
        return chosen

    def _transformed(self, frame: pd.DataFrame, name: str) -> np.ndarray:
        values = _numeric(frame, name)
        if name in self.log_features_:
            # a negative value at scoring time cannot be log-transformed; clip to 0
            values = np.log1p(np.clip(values, 0.0, None))
        return values

    def _robust_z(self, frame: pd.DataFrame) -> np.ndarray:
        cols = [
            (self._transformed(frame, f) - self.centers_[f]) / self.scales_[f]
            for f in self.features_
        ]
        return np.column_stack(cols)

    def _reasons(self, frame: pd.DataFrame, z: np.ndarray) -> list[str]:
        k = min(int(self.n_top_reasons), z.shape[1])
        # rank by |z|, missing values last; stable order keeps feature order on ties
        strength = np.nan_to_num(np.abs(z), nan=-1.0)
        order = np.argsort(-strength, axis=1, kind="stable")[:, :k]
        raw = {f: _numeric(frame, f) for f in self.features_}
        reasons = []
        for i, idx in enumerate(order):
            parts = []
            for j in idx:
                name = self.features_[j]
                parts.append(
                    f"{name} {format_number(raw[name][i])} "
                    f"(typical {format_number(self.medians_[name])})"
                )
            reasons.append("; ".join(parts))
        return reasons


def _as_pandas(customers) -> pd.DataFrame:
    if isinstance(customers, pd.DataFrame):
        return customers
    to_pandas = getattr(customers, "to_pandas", None)
    if callable(to_pandas):  # an Ibis table (one row per customer, small) or Arrow table
        return to_pandas()
    raise DataError(
        f"Expected a customer table (pandas DataFrame or Ibis table), got {type(customers).__name__}",
        where="CustomerAnomalyDetector input",
        fix="pass the one-row-per-customer feature table",
    )


def _numeric(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A feature as float64 with missing and infinite values as NaN."""
    values = frame[name].to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def _skewness(x: np.ndarray) -> float:
    if x.size < 3:
        return 0.0
    sd = x.std()
    if sd == 0:
        return 0.0
    return float(np.mean((x - x.mean()) ** 3) / sd**3)


def _robust_center_scale(x: np.ndarray) -> tuple[float, float]:
    center = float(np.median(x))
    q1, q3 = np.percentile(x, [25, 75])
    scale = float(q3 - q1) / _IQR_TO_SIGMA
    if scale <= 0:
        scale = float(np.median(np.abs(x - center))) * _MAD_TO_SIGMA
    if scale <= 0:
        scale = float(x.std())
    return center, scale
