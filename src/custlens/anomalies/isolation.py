"""Customer-level anomalies: an isolation forest on a one-row-per-customer feature table.

Steps (each one a rule with a default in :class:`custlens.config.AnomalyConfig`):

1. preprocess with :class:`custlens.features.preprocess.CustomerFeaturePreprocessor`: choose the
   features (explicit list, else every numeric column except the id; absent, entirely null or
   constant ones are skipped with a note in ``notes_``), ``log1p`` every non-negative feature
   whose skewness exceeds ``skew_threshold``, robust-scale by custlens's one scale rule
   (``z = (x - median) / scale``, ``scale = (Q95 - Q5) / 3.29``, the standard deviation when most
   customers share one value), so ``z`` reads like a standard score;
2. fit a seeded :class:`sklearn.ensemble.IsolationForest` on the robust scores (missing values
   are imputed with the median, i.e. ``z = 0``).

Outputs per customer: ``anomaly_score`` (``-score_samples``: higher is more anomalous, in 0..1),
``is_anomaly`` (score above the ``contamination`` quantile of the training scores) and, for
flagged customers, ``anomaly_reasons``: the features furthest from typical (largest ``|z|``), in
words with the customer's value and the median, e.g. ``"spent 152,300 (typical 650)"``,
``"returned 100% of items (typical 0%)"`` (the phrases of :mod:`custlens.features.labels`), and
``anomaly_reason_features``: the same reasons for machines, feature name, value and median,
e.g. ``"monetary 152300 (typical 650)"`` (both empty for the others; ``reasons()`` gives the
words for any customer). A reason list names at most one feature of a group that measures one
fact (``FeatureLabel.group``: e.g. the return rate by value and by items): the next strongest
feature of another group takes the place of a repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd
from joblib import parallel_config
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest
from sklearn.utils._param_validation import Interval

from custlens._validation import check_fitted, validate_params
from custlens.config import AnomalyConfig
from custlens.errors import DataError
from custlens.features.customer_frame import as_customer_frame, feature_values
from custlens.features.labels import label, reason_text
from custlens.features.preprocess import CustomerFeaturePreprocessor
from custlens.features.sampling import sample_rows

logger = logging.getLogger(__name__)

MIN_CUSTOMERS = 5
SCORE_BLOCK = 250_000  # customers scored at a time


class CustomerAnomalyDetector(BaseEstimator):
    """Isolation-forest anomalies with readable reasons (a scikit-learn estimator).

    Parameters
    ----------
    features : list of str or None, default=None
        Columns to use; ``None`` = every numeric (non-boolean) column except ``id_column``.
    contamination : float, default=0.02
        Expected share of anomalies, in (0, 0.5]; sets the ``is_anomaly`` threshold.
    seed : int, default=0
        Random seed of the forest (same data and seed give the same scores).
    n_top_reasons : int, default=3
        How many features are named in ``anomaly_reasons`` (at most one per feature group).
    skew_threshold : float, default=1.0
        A non-negative feature whose sample skewness exceeds this is transformed with ``log1p``.
    n_estimators : int, default=200
        Trees in the forest.
    id_column : str, default="customer_id"
        Customer id column copied to the output when present.

    Attributes
    ----------
    preprocessor_ : CustomerFeaturePreprocessor
        The fitted feature transform; ``features_``, ``log_features_``, ``centers_``,
        ``scales_``, ``medians_`` (the "typical" values) are its attributes.
    forest_ : sklearn.ensemble.IsolationForest
        The fitted forest.
    threshold_ : float
        Scores above this are anomalies (the ``1 - contamination`` quantile of training scores).
    notes_ : list of str
        Skipped features and filled values, as sentences.

    Raises
    ------
    custlens.errors.ConfigError
        A parameter has the wrong type or range (at ``fit``).
    custlens.errors.InputError
        The input is not a customer table, or a listed feature is not numeric.
    custlens.errors.DataError
        Fewer than 5 customers, or no usable feature.
    custlens.errors.MappingError
        ``transform`` gets a table without the fitted features.
    custlens.errors.NotFittedError
        ``transform`` / ``reasons`` before ``fit``.

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({
    ...     "customer_id": [f"c{i}" for i in range(8)],
    ...     "monetary": [600.0, 650, 640, 700, 610, 690, 152300, 660],
    ...     "frequency": [3, 4, 3, 5, 4, 3, 4, 5],
    ... })
    >>> scored = CustomerAnomalyDetector(n_top_reasons=1, n_estimators=50,
    ...                                  contamination=0.1).fit_transform(customers)
    >>> scored.loc[scored["is_anomaly"], ["customer_id", "anomaly_reasons"]]
      customer_id                anomaly_reasons
    6          c6  spent 152,300 (typical 655)
    """

    _parameter_constraints: dict = {
        "features": ["array-like", None],
        "contamination": [Interval(Real, 0, 0.5, closed="right")],
        "seed": [Interval(Integral, 0, 2**32 - 1, closed="both")],
        "n_top_reasons": [Interval(Integral, 1, None, closed="left")],
        "skew_threshold": [Interval(Real, None, None, closed="neither")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "id_column": [str],
        "fit_rows": [Interval(Integral, 1000, None, closed="left"), None],
    }

    def __init__(
        self,
        *,
        features: Sequence[str] | None = None,
        contamination: float = 0.02,
        seed: int = 0,
        n_top_reasons: int = 3,
        skew_threshold: float = 1.0,
        n_estimators: int = 200,
        id_column: str = "customer_id",
        fit_rows: int | None = 200_000,
    ) -> None:
        self.features = features
        self.contamination = contamination
        self.seed = seed
        self.n_top_reasons = n_top_reasons
        self.skew_threshold = skew_threshold
        self.n_estimators = n_estimators
        self.id_column = id_column
        self.fit_rows = fit_rows

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
            fit_rows=config.fit_rows,
        )

    # ------------------------------------------------------------------ fit
    def fit(self, customers: pd.DataFrame, y: object = None) -> CustomerAnomalyDetector:
        """Learn the transform, the robust scaling and the forest from ``customers``."""
        self._fit(customers)
        return self

    def _fit(self, customers: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """Fit; return the frame and its anomaly scores."""
        validate_params(self)
        frame = as_customer_frame(customers, where="CustomerAnomalyDetector input")
        if len(frame) < MIN_CUSTOMERS:
            raise DataError(
                f"Anomaly detection needs at least {MIN_CUSTOMERS} customers, got {len(frame)}",
                where="customer feature table",
                fix="run it on more customers (or widen the date range)",
            )
        pre = CustomerFeaturePreprocessor(
            features=self.features, skew_threshold=self.skew_threshold, id_column=self.id_column
        ).fit(frame)
        self.preprocessor_ = pre
        self.features_, self.log_features_ = pre.features_, pre.log_features_
        self.centers_, self.scales_, self.medians_ = pre.centers_, pre.scales_, pre.medians_
        self.notes_ = list(pre.notes_)
        # each tree learns from 256 customers: a seeded sample of ``fit_rows`` gives the trees
        # the same population to draw from, and the robust scores are never held for every row
        rows = sample_rows(len(frame), self.fit_rows, self.seed)
        fitted = frame if rows is None else pre.rows(frame, rows)
        if rows is not None:
            self.notes_.append(
                f"isolation forest fitted on a seeded sample of {len(rows):,} of {len(frame):,} "
                "customers (anomalies.fit_rows); every customer is scored"
            )
        # contamination="auto" spares the forest a scoring pass over the training rows; the
        # threshold is the same quantile of the scores, taken from our one pass
        self.forest_ = IsolationForest(
            n_estimators=self.n_estimators, contamination="auto", random_state=self.seed
        ).fit(np.nan_to_num(pre.robust_z(fitted), nan=0.0))
        score = self._score(frame)
        self.threshold_ = float(np.percentile(score, 100.0 * (1.0 - self.contamination)))
        return frame, score

    # ------------------------------------------------------------ transform
    def transform(self, customers: pd.DataFrame) -> pd.DataFrame:
        """Score customers: ``anomaly_score``, ``is_anomaly``, ``anomaly_reasons``,
        ``anomaly_reason_features`` (index kept)."""
        check_fitted(self, "forest_")
        frame = as_customer_frame(customers, where="CustomerAnomalyDetector input")
        return self._scored(frame, self._score(frame))

    def _score(self, frame: pd.DataFrame) -> np.ndarray:
        """Anomaly scores of every row, computed ``SCORE_BLOCK`` rows at a time (a row's score
        does not depend on the others; the robust scores of one block are held at a time)."""
        out = np.empty(len(frame))
        # the trees walk the rows without the GIL: threads halve the time on two cores; the
        # threads add the trees' depths in any order, so the last bits vary between runs:
        # rounding to 10 decimals makes the scores and the threshold reproducible
        with parallel_config(backend="threading", n_jobs=-1):
            for start in range(0, len(frame), SCORE_BLOCK):
                block = frame.iloc[start : start + SCORE_BLOCK]
                z = np.nan_to_num(self.preprocessor_.robust_z(block), nan=0.0)
                out[start : start + len(block)] = -self.forest_.score_samples(z)
        return np.round(out, 10)

    def _scored(self, frame: pd.DataFrame, score: np.ndarray) -> pd.DataFrame:
        out = pd.DataFrame(index=frame.index)
        if self.id_column in frame.columns:
            out[self.id_column] = frame[self.id_column]
        out["anomaly_score"] = score
        flagged = score > self.threshold_
        out["is_anomaly"] = flagged
        # reasons explain a flag; formatting them for every customer would cost seconds per
        # million rows and say little about typical customers (see ``reasons`` for any row)
        words = np.full(len(frame), "", dtype=object)
        names = np.full(len(frame), "", dtype=object)
        rows = np.flatnonzero(flagged)
        picked = self.preprocessor_.rows(frame, rows)  # their features only
        words[rows], names[rows] = self._reasons(picked, self.preprocessor_.robust_z(picked))
        out["anomaly_reasons"] = words
        out["anomaly_reason_features"] = names
        return out

    def reasons(self, customers: pd.DataFrame) -> pd.Series:
        """The top reasons of any customers (flagged or not), in words, indexed like
        ``customers``."""
        check_fitted(self, "forest_")
        frame = as_customer_frame(customers, where="CustomerAnomalyDetector input")
        z = self.preprocessor_.robust_z(frame)
        return pd.Series(self._reasons(frame, z)[0], index=frame.index)

    def fit_transform(self, customers: pd.DataFrame) -> pd.DataFrame:
        """``fit(customers).transform(customers)``, scoring the rows once."""
        return self._scored(*self._fit(customers))

    # -------------------------------------------------------------- helpers
    def _reasons(self, frame: pd.DataFrame, z: np.ndarray) -> tuple[list[str], list[str]]:
        """Per row: the reasons in words and for machines (``name value (typical median)``)."""
        k = int(self.n_top_reasons)
        # rank by |z|, missing values last; stable order keeps feature order on ties
        strength = np.nan_to_num(np.abs(z), nan=-1.0)
        order = np.argsort(-strength, axis=1, kind="stable")
        raw = {f: feature_values(frame, f) for f in self.features_}
        groups = [label(f).group for f in self.features_]
        words, names = [], []
        for i, idx in enumerate(order):
            said, seen = [], set()
            for j in idx:
                group = groups[j]
                if group is not None:
                    if group in seen:  # one fact once: the group's strongest feature says it
                        continue
                    seen.add(group)
                said.append(self.features_[j])
                if len(said) == k:
                    break
            words.append("; ".join(reason_text(f, raw[f][i], self.medians_[f]) for f in said))
            names.append(
                "; ".join(f"{f} {raw[f][i]:.6g} (typical {self.medians_[f]:.6g})" for f in said)
            )
        return words, names
