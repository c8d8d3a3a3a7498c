"""Customer clusters for personas: K-Means on robust-scaled behavioural features.

Steps (each one a setting with a default in :class:`custlens.config.PersonaConfig`):

1. choose the features (explicit list, else ``PersonaConfig.features``); features that are
   absent, entirely null or constant are skipped with a note in ``notes_``; missing values are
   imputed with the median (noted);
2. ``log1p`` the features listed in ``log_features``, or (when that is ``None``) every
   non-negative feature whose sample skewness exceeds ``skew_threshold`` (money, counts);
3. robust-scale: ``z = (x - median) / ((Q95 - Q5) / 3.29)``: the 5-95% quantile range divided
   by its value for a standard normal, ``2 * 1.645``, so ``z`` reads like a standard score and the
   5% most extreme customers on either side cannot stretch the scale. Not the interquartile
   range: when a feature has two groups of customers (e.g. ``days_overdue``, where a fifth
   of the customers have lapsed) a quartile falls in the gap between them and the scale jumps
   by a factor of four between samples of the same shop. When that robust scale is below
   ``MIN_SCALE_TO_SD`` times the standard deviation (a feature where most customers share one
   value, e.g. a return rate that is 0 for most) the standard deviation is used instead;
4. outliers: a customer with any ``|z| > outlier_z`` (and, when ``outlier_quantile`` is set,
   one whose robust distance ``||z||`` is above that quantile) is kept out of the fit, at most
   ``max_outlier_share`` of customers (the most distant ones). They are listed in ``outliers_``
   with a reason, and still assigned to their nearest cluster (``is_outlier_`` marks them);
5. above ``fit_sample`` customers, steps 5-8 use a seeded sample of them (everyone is assigned
   to the nearest centre at the end);
   for every k in ``k_range``: seeded K-Means (MiniBatchKMeans above ``minibatch_threshold``
   customers), with inertia, silhouette (on a seeded sample above ``silhouette_sample``),
   Davies-Bouldin and Calinski-Harabasz;
6. the elbow: the k whose normalised inertia lies furthest below the chord joining the first
   and last k (the Kneedle difference curve, Satopaa et al. 2011);
7. the choice (:mod:`custlens.segment.k_choice`): each k is ranked on silhouette (higher is
   better), Davies-Bouldin (lower) and elbow strength (the gap below the inertia chord); the
   smallest mean rank wins; ties go to the k nearest the elbow, then to the smaller k.
   ``selection_`` holds every score (Calinski-Harabasz too, for reference) and
   ``selection_reason_`` a sentence;
8. stability: mean pairwise adjusted Rand index between the labelings of ``stability_seeds``
   seeded runs at the chosen k (``stability_``).

Clusters are numbered by size (0 = largest), so labels do not depend on K-Means' internal order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.stats import skew
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
)
from threadpoolctl import threadpool_limits

from custlens.config import DEFAULT_PERSONA_FEATURES, PersonaConfig
from custlens.errors import ConfigError, DataError, InputError
from custlens.segment.k_choice import choose_k, knee_point, selection_reason
from custlens.segment.silhouette import mean_silhouettes, sample_indices

logger = logging.getLogger(__name__)

__all__ = ["PersonaClusterer", "feature_values", "is_skewed", "knee_point"]

MIN_CUSTOMERS = 10
SMALL_FIT = 20_000  # customers up to which K-Means runs single-threaded
SPREAD_QUANTILE = 0.05  # the scale is the range between this quantile and 1 minus it
_RANGE_TO_SIGMA = 3.289707  # Q95 - Q5 of a standard normal: 2 * Phi^-1(0.95)
MIN_SCALE_TO_SD = 0.2  # a robust scale below this share of the SD gives way to the SD


def is_skewed(values: np.ndarray, threshold: float) -> bool:
    """True when the finite ``values`` are non-negative with sample skewness above ``threshold``."""
    finite = values[np.isfinite(values)]
    if finite.size < 3 or finite.min() < 0 or np.ptp(finite) == 0:
        return False
    return bool(skew(finite) > threshold)


def _robust_center_scale(values: np.ndarray) -> tuple[float, float, bool]:
    """Median and robust scale; ``True`` when the standard deviation had to be used."""
    center = float(np.median(values))
    low, high = np.percentile(values, [100 * SPREAD_QUANTILE, 100 * (1 - SPREAD_QUANTILE)])
    scale = float(high - low) / _RANGE_TO_SIGMA
    sd = float(np.std(values))
    if scale < MIN_SCALE_TO_SD * sd:  # most values at one point (e.g. zero): a tail, no bulk
        return center, sd, True
    return center, scale, False


def _as_frame(customers: object) -> pd.DataFrame:
    if isinstance(customers, pd.DataFrame):
        return customers
    to_pandas = getattr(customers, "to_pandas", None)
    if callable(to_pandas):  # pyarrow / ibis tables
        return to_pandas()
    raise InputError(
        f"Expected a customer table (pandas DataFrame), got {type(customers).__name__}",
        where="PersonaClusterer input",
        fix="pass one row per customer as a pandas DataFrame (e.g. customer_table(...).to_pandas())",
    )


def feature_values(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column as float64 with NaN for missing and infinite values."""
    values = frame[name].astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    values[~np.isfinite(values)] = np.nan
    return values


class PersonaClusterer:
    """K-Means personas with a documented choice of k and outliers kept out of the fit.

    Parameters follow :class:`custlens.config.PersonaConfig` (``from_config`` builds one);
    ``features=None`` uses ``DEFAULT_PERSONA_FEATURES`` (those present in the data).
    """

    def __init__(
        self,
        features: Sequence[str] | None = None,
        k_range: tuple[int, int] = (2, 10),
        seed: int = 0,
        minibatch_threshold: int = 50_000,
        outlier_z: float = 5.0,
        outlier_quantile: float | None = None,
        max_outlier_share: float = 0.05,
        silhouette_sample: int = 10_000,
        fit_sample: int | None = 200_000,
        skew_threshold: float = 1.0,
        log_features: Sequence[str] | None = None,
        stability_seeds: int = 5,
        n_init: int = 10,
        id_column: str = "customer_id",
    ) -> None:
        self.features = features
        self.k_range = k_range
        self.seed = seed
        self.minibatch_threshold = minibatch_threshold
        self.outlier_z = outlier_z
        self.outlier_quantile = outlier_quantile
        self.max_outlier_share = max_outlier_share
        self.silhouette_sample = silhouette_sample
        self.fit_sample = fit_sample
        self.skew_threshold = skew_threshold
        self.log_features = log_features
        self.stability_seeds = stability_seeds
        self.n_init = n_init
        self.id_column = id_column

    @classmethod
    def from_config(cls, config: PersonaConfig, seed: int = 0) -> PersonaClusterer:
        """Build from a :class:`custlens.config.PersonaConfig`."""
        return cls(
            features=config.features,
            k_range=(config.k_min, config.k_max),
            seed=seed,
            minibatch_threshold=config.minibatch_threshold,
            outlier_z=config.outlier_z,
            outlier_quantile=config.outlier_quantile,
            max_outlier_share=config.max_outlier_share,
            silhouette_sample=config.silhouette_sample,
            fit_sample=config.fit_sample,
            skew_threshold=config.skew_threshold,
            log_features=config.log_features,
            stability_seeds=config.stability_seeds,
        )

    # ------------------------------------------------------------------ fit
    def fit(self, customers: pd.DataFrame, y: object = None) -> PersonaClusterer:
        """Learn the scaling, keep outliers out, score every k, choose one and fit it."""
        k_min, k_max = self._check_params()
        frame = _as_frame(customers)
        notes: list[str] = []
        self._learn_scaling(frame, notes)
        z = self.transform(frame).to_numpy()
        self.is_outlier_, self.outliers_ = self._find_outliers(frame, z, notes)
        fit_z = z[~self.is_outlier_]
        k_max_eff = min(k_max, len(fit_z) - 1)
        if len(fit_z) < MIN_CUSTOMERS or k_max_eff < k_min:
            raise DataError(
                f"Clustering needs at least {max(MIN_CUSTOMERS, k_min + 1)} customers after "
                f"outliers are set aside, got {len(fit_z)}",
                where="customer feature table",
                fix="run it on more customers, or lower k_min / raise outlier_z",
            )
        if k_max_eff < k_max:
            notes.append(f"k limited to {k_max_eff}: only {len(fit_z)} customers in the fit")
        if self.fit_sample and len(fit_z) > self.fit_sample:
            rng = np.random.default_rng(self.seed)
            pick = np.sort(rng.choice(len(fit_z), size=self.fit_sample, replace=False))
            notes.append(
                f"k chosen and centres fitted on a seeded sample of {self.fit_sample:,} of "
                f"{len(fit_z):,} customers; every customer is then assigned to the nearest centre"
            )
            fit_z = fit_z[pick]
        models = {}
        # one thread below SMALL_FIT: thread start-up dominates and oversubscribes busy machines
        with threadpool_limits(limits=1 if len(fit_z) <= SMALL_FIT else None):
            for k in range(k_min, k_max_eff + 1):
                models[k] = self._kmeans(k, self.seed, len(fit_z)).fit(fit_z)
            # one seeded sample, its distances computed once for every k
            pick = sample_indices(len(fit_z), self.silhouette_sample, self.seed)
            silhouettes = mean_silhouettes(
                fit_z[pick], {k: m.labels_[pick] for k, m in models.items()}
            )
            rows = [self._scores(fit_z, models[k], k, silhouettes[k]) for k in models]
            self.selection_, self.knee_k_, self.k_ = choose_k(pd.DataFrame(rows))
            self.cluster_centers_ = _order_by_size(models[self.k_], fit_z)
            self.labels_ = self._nearest(z)
            self.stability_ = self._stability(fit_z, self.k_)
        self.selection_reason_ = selection_reason(
            self.selection_, self.k_, self.knee_k_, self.stability_
        )
        self.notes_ = notes
        self.n_fit_ = len(fit_z)
        for note in notes:
            logger.info("personas: %s", note)
        return self

    def fit_predict(self, customers: pd.DataFrame, y: object = None) -> np.ndarray:
        return self.fit(customers).labels_

    def predict(self, customers: pd.DataFrame) -> np.ndarray:
        """The nearest cluster of every customer (outliers included)."""
        return self._nearest(self.transform(customers).to_numpy())

    def transform(self, customers: pd.DataFrame, impute: bool = True) -> pd.DataFrame:
        """The clustering space: log1p where chosen, robust-scaled; missing -> 0 (the median)."""
        self._check_fitted("features_")
        frame = _as_frame(customers)
        missing = [f for f in self.features_ if f not in frame.columns]
        if missing:
            raise InputError(
                f"The customer table lacks the features the clusters were fitted on: {missing}",
                where="columns " + ", ".join(map(str, frame.columns)),
                fix="compute the same features as for fitting (or refit on this table)",
            )
        out = {}
        for name in self.features_:
            values = feature_values(frame, name)
            if name in self.log_features_:
                values = np.log1p(np.clip(values, 0.0, None))
            scaled = (values - self.centers_[name]) / self.scales_[name]
            out[name] = np.nan_to_num(scaled, nan=0.0) if impute else scaled
        return pd.DataFrame(out, index=frame.index)

    def is_outlier(self, customers: pd.DataFrame) -> np.ndarray:
        """Outlier flags for (new) customers by the ``outlier_z`` rule learnt in ``fit``."""
        z = self.transform(customers).to_numpy()
        return np.abs(z).max(axis=1) > self.outlier_z

    # ------------------------------------------------------------------ steps
    def _check_params(self) -> tuple[int, int]:
        try:
            k_min, k_max = (int(v) for v in self.k_range)
        except (TypeError, ValueError):
            raise ConfigError(
                f"k_range must be two integers (k_min, k_max), got {self.k_range!r}",
                where="PersonaClusterer(k_range=...)",
                fix="pass e.g. k_range=(2, 10)",
            ) from None
        if not 2 <= k_min <= k_max:
            raise ConfigError(
                f"k_range {self.k_range!r} must satisfy 2 <= k_min <= k_max",
                where="PersonaClusterer(k_range=...)",
                fix="pass e.g. k_range=(2, 10)",
            )
        if self.outlier_quantile is not None and not 0.5 < self.outlier_quantile < 1:
            raise ConfigError(
                f"outlier_quantile must lie in (0.5, 1), got {self.outlier_quantile}",
                where="PersonaClusterer(outlier_quantile=...)",
                fix="pass e.g. 0.99, or None to use only the outlier_z rule",
            )
        if self.outlier_z <= 0 or not 0 < self.max_outlier_share < 0.5:
            raise ConfigError(
                "outlier_z must be positive and max_outlier_share in (0, 0.5)",
                where="PersonaClusterer(outlier_z=..., max_outlier_share=...)",
                fix="use the defaults outlier_z=5.0, max_outlier_share=0.05",
            )
        if self.stability_seeds < 2:
            raise ConfigError(
                f"stability_seeds must be at least 2, got {self.stability_seeds}",
                where="PersonaClusterer(stability_seeds=...)",
                fix="pass e.g. stability_seeds=5",
            )
        return k_min, k_max

    def _learn_scaling(self, frame: pd.DataFrame, notes: list[str]) -> None:
        wanted = list(self.features) if self.features is not None else DEFAULT_PERSONA_FEATURES
        log_list = set(self.log_features) if self.log_features is not None else None
        features, log_features, centers, scales, medians = [], [], {}, {}, {}
        for name in dict.fromkeys(wanted):
            if name not in frame.columns:
                notes.append(f"feature {name!r} skipped: not in the customer table")
                continue
            dtype = frame[name].dtype
            if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
                raise InputError(
                    f"Feature {name!r} is not numeric (dtype {dtype})",
                    where=f"column {name!r}",
                    fix="list only numeric features, or convert the column to numbers",
                )
            values = feature_values(frame, name)
            finite = values[~np.isnan(values)]
            if finite.size == 0:
                notes.append(f"feature {name!r} skipped: every value is missing")
                continue
            use_log = (
                name in log_list if log_list is not None else is_skewed(values, self.skew_threshold)
            )
            if use_log:
                finite = np.log1p(np.clip(finite, 0.0, None))
            center, scale, by_sd = _robust_center_scale(finite)
            if scale <= 0:
                notes.append(f"feature {name!r} skipped: the same value for every customer")
                continue
            if by_sd:
                notes.append(
                    f"feature {name!r}: most customers share one value, so it is scaled by its "
                    "standard deviation instead of its 5-95% quantile range"
                )
            n_missing = values.size - finite.size
            if n_missing:
                notes.append(f"feature {name!r}: {n_missing} missing values set to the median")
            features.append(name)
            if use_log:
                log_features.append(name)
            centers[name], scales[name] = center, scale
            medians[name] = float(np.median(values[~np.isnan(values)]))
        if not features:
            raise DataError(
                "No usable feature for clustering: every candidate is absent, null or constant",
                where="customer table columns " + ", ".join(map(str, frame.columns)),
                fix="pass numeric features that vary between customers "
                "(e.g. recency_days, frequency, monetary)",
            )
        self.features_, self.log_features_ = features, log_features
        self.centers_, self.scales_, self.medians_ = centers, scales, medians
        self.n_features_in_ = len(features)

    def _find_outliers(
        self, frame: pd.DataFrame, z: np.ndarray, notes: list[str]
    ) -> tuple[np.ndarray, pd.DataFrame]:
        absz = np.abs(z)
        worst = absz.argmax(axis=1)
        max_z = absz[np.arange(len(z)), worst]
        distance = np.sqrt((z**2).sum(axis=1))
        by_z = max_z > self.outlier_z
        by_dist = np.zeros(len(z), dtype=bool)
        threshold = np.nan
        if self.outlier_quantile is not None:
            threshold = float(np.quantile(distance, self.outlier_quantile))
            by_dist = distance > threshold
        flagged = by_z | by_dist
        cap = int(np.floor(self.max_outlier_share * len(z)))
        if flagged.sum() > cap:
            order = np.argsort(-np.where(flagged, distance, -np.inf), kind="stable")
            keep = np.zeros(len(z), dtype=bool)
            keep[order[:cap]] = True
            notes.append(
                f"{int(flagged.sum())} customers met the outlier rule; only the {cap} most "
                f"distant (max_outlier_share={self.max_outlier_share}) are kept out of the fit"
            )
            flagged = keep
        rows = []
        for i in np.flatnonzero(flagged):
            name = self.features_[worst[i]]
            value = float(frame[name].iloc[i]) if pd.notna(frame[name].iloc[i]) else np.nan
            if by_z[i]:
                reason = (
                    f"{name} = {value:,.4g} is {z[i, worst[i]]:+.1f} robust SD from the typical "
                    f"{self.medians_[name]:,.4g} (limit {self.outlier_z:g})"
                )
            else:
                reason = (
                    f"robust distance {distance[i]:.1f} is above the {self.outlier_quantile:.1%} "
                    f"quantile ({threshold:.1f}); furthest in {name} = {value:,.4g}"
                )
            ident = frame[self.id_column].iloc[i] if self.id_column in frame.columns else None
            rows.append(
                {
                    "row": frame.index[i],
                    self.id_column: ident,
                    "feature": name,
                    "value": value,
                    "robust_z": float(z[i, worst[i]]),
                    "distance": float(distance[i]),
                    "reason": reason,
                }
            )
        columns = ["row", self.id_column, "feature", "value", "robust_z", "distance", "reason"]
        if flagged.any():
            notes.append(f"{int(flagged.sum())} outlying customers kept out of the fit")
        return flagged, pd.DataFrame(rows, columns=columns)

    def _kmeans(self, k: int, seed: int, n: int) -> KMeans | MiniBatchKMeans:
        if n > self.minibatch_threshold:
            return MiniBatchKMeans(
                n_clusters=k, random_state=seed, n_init=3, batch_size=4096, max_iter=200
            )
        return KMeans(n_clusters=k, random_state=seed, n_init=self.n_init)

    def _scores(self, z: np.ndarray, model: KMeans | MiniBatchKMeans, k: int, sil: float) -> dict:
        labels = model.labels_
        if len(np.unique(labels)) < 2:
            sil = db = ch = np.nan
        else:
            db = float(davies_bouldin_score(z, labels))
            ch = float(calinski_harabasz_score(z, labels))
        return {
            "k": k,
            "inertia": float(model.inertia_),
            "silhouette": sil,
            "davies_bouldin": db,
            "calinski_harabasz": ch,
        }

    def _stability(self, z: np.ndarray, k: int) -> float:
        labelings = [
            self._kmeans(k, self.seed + s, len(z)).fit(z).labels_
            for s in range(self.stability_seeds)
        ]
        pairs = [adjusted_rand_score(a, b) for a, b in combinations(labelings, 2)]
        return float(np.mean(pairs))

    def _nearest(self, z: np.ndarray) -> np.ndarray:
        self._check_fitted("cluster_centers_")
        return _assign(z, self.cluster_centers_)

    def _check_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise DataError(
                "This PersonaClusterer is not fitted yet",
                where=f"PersonaClusterer.{attribute}",
                fix="call fit(customers) first",
            )


def _assign(z: np.ndarray, centers: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    """Index of the nearest centre for every row (in chunks, to bound memory)."""
    out = np.empty(len(z), dtype=np.int64)
    for start in range(0, len(z), chunk):
        block = z[start : start + chunk]
        d = ((block[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
        out[start : start + chunk] = d.argmin(axis=1)
    return out


def _order_by_size(model: KMeans | MiniBatchKMeans, z: np.ndarray) -> np.ndarray:
    centers = model.cluster_centers_
    sizes = np.bincount(_assign(z, centers), minlength=len(centers))
    order = sorted(range(len(centers)), key=lambda c: (-sizes[c], tuple(centers[c])))
    return centers[order]
