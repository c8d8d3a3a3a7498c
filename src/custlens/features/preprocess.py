"""Customer-feature preprocessing shared by personas, anomalies and the segmentation audit.

:class:`CustomerFeaturePreprocessor` turns a one-row-per-customer table into robust scores:

1. **select**: the listed features (default: every numeric, non-boolean column except the id);
   a feature that is absent, entirely missing or constant is skipped with a note in ``notes_``;
   a listed feature that is not numeric is an error;
2. **log1p** a non-negative feature whose sample skewness exceeds ``skew_threshold`` (money,
   counts), or exactly the features in ``log_features`` when that is given;
3. **scale** with the one scale rule of custlens (:func:`robust_center_scale`):
   ``z = (x - median) / scale``, ``scale = (Q95 - Q5) / 3.29``: the 5-95 % quantile range divided
   by its value for a standard normal (``2 * 1.645``), so ``z`` reads like a standard score and the
   5 % most extreme customers on either side cannot stretch it. Not the interquartile range: when
   a feature has two groups of customers (e.g. ``days_overdue`` with a lapsed fifth) a quartile
   falls in the gap between them and the IQR jumps several-fold between samples of one shop.
   When that scale is below ``MIN_SCALE_TO_SD`` (0.2) times the standard deviation, or zero
   (most customers share one value, e.g. a return rate that is 0 for most), the standard
   deviation is used instead (noted);
4. **fill**: a missing or infinite value becomes the median, i.e. ``z = 0`` (noted).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from numbers import Real

import numpy as np
import pandas as pd
from scipy.stats import skew
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval

from custlens._validation import check_fitted, require_columns, validate_params
from custlens.errors import DataError, InputError
from custlens.features.customer_frame import (
    as_customer_frame,
    feature_values,
    is_numeric_feature,
    numeric_columns,
)

logger = logging.getLogger(__name__)

__all__ = ["CustomerFeaturePreprocessor", "is_skewed", "robust_center_scale"]

SPREAD_QUANTILE = 0.05  # the scale is the range between this quantile and 1 minus it
RANGE_TO_SIGMA = 3.289707  # Q95 - Q5 of a standard normal: 2 * Phi^-1(0.95)
MIN_SCALE_TO_SD = 0.2  # a quantile-range scale below this share of the SD gives way to the SD


def is_skewed(values: np.ndarray, threshold: float) -> bool:
    """True when the finite ``values`` are non-negative with sample skewness above ``threshold``."""
    finite = values[np.isfinite(values)]
    if finite.size < 3 or finite.min() < 0 or np.ptp(finite) == 0:
        return False
    return bool(skew(finite) > threshold)


def robust_center_scale(values: np.ndarray) -> tuple[float, float, bool]:
    """The median and the robust scale of finite ``values``; ``True`` when the SD was used.

    The scale is ``(Q95 - Q5) / 3.289707``, or the standard deviation when that is below
    ``MIN_SCALE_TO_SD`` times it. A scale of 0 means the values are constant.

    >>> center, scale, by_sd = robust_center_scale(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    >>> center, round(scale, 4), by_sd  # (4.8 - 1.2) / 3.289707
    (3.0, 1.0943, False)
    >>> center, scale, by_sd = robust_center_scale(np.array([0.0] * 19 + [10.0]))
    >>> center, round(scale, 4), by_sd  # the quantile range is 0.5: the SD, sqrt(4.75), is used
    (0.0, 2.1794, True)
    """
    center = float(np.median(values))
    low, high = np.percentile(values, [100 * SPREAD_QUANTILE, 100 * (1 - SPREAD_QUANTILE)])
    scale = float(high - low) / RANGE_TO_SIGMA
    sd = float(np.std(values))
    if scale < MIN_SCALE_TO_SD * sd:  # most values at one point (e.g. zero): a tail, no bulk
        return center, sd, True
    return center, scale, False


class CustomerFeaturePreprocessor(TransformerMixin, BaseEstimator):
    """Skip unusable features, log1p skewed ones, robust-scale, fill gaps with the median.

    The steps and the scale rule are described in :mod:`custlens.features.preprocess`.

    Parameters
    ----------
    features : list of str or None, default=None
        Columns to use, in order; ``None`` uses every numeric, non-boolean column except
        ``id_column``. Listed booleans are used as 0/1.
    skew_threshold : float, default=1.0
        A non-negative feature whose sample skewness exceeds this is transformed with ``log1p``.
    log_features : list of str or None, default=None
        When given, exactly these features are log-transformed (skewness is not consulted).
    id_column : str, default="customer_id"
        Never chosen as a feature by default.

    Attributes
    ----------
    features_ : list of str
        The features kept, in order.
    log_features_ : list of str
        The kept features that are log-transformed.
    centers_, scales_ : dict of str to float
        Median and robust scale of each kept feature (after ``log1p`` where chosen).
    medians_ : dict of str to float
        Median of each kept feature in its original units (the "typical" value).
    notes_ : list of str
        What was skipped, filled or scaled by the standard deviation, as sentences.

    Raises
    ------
    custlens.errors.ConfigError
        A parameter has the wrong type or range (at ``fit``).
    custlens.errors.InputError
        The input is not a table, or a listed feature is not numeric.
    custlens.errors.DataError
        No feature is usable (all absent, missing or constant).
    custlens.errors.MappingError
        ``transform`` gets a table without the fitted features.
    custlens.errors.NotFittedError
        ``transform`` before ``fit``.

    Examples
    --------
    >>> import pandas as pd
    >>> customers = pd.DataFrame({
    ...     "customer_id": ["a", "b", "c", "d", "e"],
    ...     "monetary": [10.0, 12.0, 11.0, 13.0, 900.0],
    ...     "country_code": [1, 1, 1, 1, 1],
    ... })
    >>> pre = CustomerFeaturePreprocessor(skew_threshold=1.0).fit(customers)
    >>> pre.features_, pre.log_features_
    (['monetary'], ['monetary'])
    >>> pre.notes_
    ["feature 'country_code' skipped: the same value for every customer"]
    >>> pre.transform(customers)["monetary"].round(2).tolist()
    [-0.15, 0.0, -0.07, 0.07, 3.92]
    """

    _parameter_constraints: dict = {
        "features": ["array-like", None],
        "skew_threshold": [Interval(Real, None, None, closed="neither")],
        "log_features": ["array-like", None],
        "id_column": [str],
    }

    def __init__(
        self,
        *,
        features: Sequence[str] | None = None,
        skew_threshold: float = 1.0,
        log_features: Sequence[str] | None = None,
        id_column: str = "customer_id",
    ) -> None:
        self.features = features
        self.skew_threshold = skew_threshold
        self.log_features = log_features
        self.id_column = id_column

    def fit(self, X: pd.DataFrame, y: object = None) -> CustomerFeaturePreprocessor:
        """Choose the features and learn their transform, centre, scale and median."""
        validate_params(self)
        frame = as_customer_frame(X, where=f"{type(self).__name__} input")
        if self.features is None:
            candidates = numeric_columns(frame, exclude={self.id_column})
        else:
            candidates = list(dict.fromkeys(self.features))
        log_list = set(self.log_features) if self.log_features is not None else None
        notes: list[str] = []
        features, log_features, centers, scales, medians = [], [], {}, {}, {}
        for name in candidates:
            if name not in frame.columns:
                notes.append(f"feature {name!r} skipped: not in the customer table")
                continue
            if not is_numeric_feature(frame[name]):
                raise InputError(
                    f"Feature {name!r} is not numeric (dtype {frame[name].dtype})",
                    where=f"column {name!r}",
                    fix="list only numeric features, or convert the column to numbers",
                )
            values = feature_values(frame, name)
            finite = values[~np.isnan(values)]
            if finite.size == 0:
                notes.append(f"feature {name!r} skipped: every value is missing")
                continue
            use_log = (
                name in log_list if log_list is not None else is_skewed(finite, self.skew_threshold)
            )
            shaped = np.log1p(np.clip(finite, 0.0, None)) if use_log else finite
            center, scale, by_sd = robust_center_scale(shaped)
            if not scale > 0:
                notes.append(f"feature {name!r} skipped: the same value for every customer")
                continue
            if by_sd:
                notes.append(
                    f"feature {name!r}: most customers share one value, so it is scaled by its "
                    "standard deviation instead of its 5-95% quantile range"
                )
            n_missing = values.size - finite.size
            if n_missing:
                notes.append(
                    f"feature {name!r}: {n_missing} missing or infinite values set to the median"
                )
            features.append(name)
            if use_log:
                log_features.append(name)
            centers[name], scales[name] = center, scale
            medians[name] = float(np.median(finite))
        if not features:
            raise DataError(
                "No usable feature: every candidate is absent, null or constant",
                where="customer table columns " + ", ".join(map(str, frame.columns)),
                fix="pass numeric features that vary between customers "
                "(e.g. recency_days, frequency, monetary)",
            )
        self.features_, self.log_features_ = features, log_features
        self.centers_, self.scales_, self.medians_ = centers, scales, medians
        self.notes_ = notes
        for note in notes:
            logger.info("features: %s", note)
        return self

    def robust_z(self, X: pd.DataFrame) -> np.ndarray:
        """Robust scores (rows x ``features_``) with NaN where a value is missing or infinite."""
        frame = self._fitted_input(X)
        cols = []
        for name in self.features_:
            values = feature_values(frame, name)
            if name in self.log_features_:
                # a negative value at scoring time cannot be log-transformed; clip to 0
                values = np.log1p(np.clip(values, 0.0, None))
            cols.append((values - self.centers_[name]) / self.scales_[name])
        return np.column_stack(cols) if cols else np.empty((len(frame), 0))

    def rows(self, X: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
        """The fitted features of the rows at ``positions`` (only those cells are copied, not
        every column of a wide table; index kept)."""
        frame = self._fitted_input(X)
        return pd.DataFrame({name: frame[name].take(positions) for name in self.features_})

    def _fitted_input(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` as a customer frame holding the fitted features (checked)."""
        check_fitted(self, "features_")
        frame = as_customer_frame(X, where=f"{type(self).__name__} input")
        require_columns(
            frame,
            self.features_,
            what="the customer features",
            fix="compute the same features as for fitting (or refit on this table)",
        )
        return frame

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Robust scores as a frame (index kept); missing values are the median, ``z = 0``."""
        z = np.nan_to_num(self.robust_z(X), nan=0.0)
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(z, columns=list(self.features_), index=index)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """The names of the output columns: ``features_``."""
        check_fitted(self, "features_")
        return np.asarray(self.features_, dtype=object)
