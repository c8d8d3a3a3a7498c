"""Customer clusters for personas: K-Means on robust-scaled behavioural features.

Steps (each one a setting with a default in :class:`custlens.config.PersonaConfig`):

1. preprocess with :class:`custlens.features.preprocess.CustomerFeaturePreprocessor`: choose
   the features (explicit list, else ``PersonaConfig.features``; absent, entirely null or
   constant ones are skipped with a note in ``notes_``), ``log1p`` the features listed in
   ``log_features``, or (when that is ``None``) every non-negative feature whose sample skewness
   exceeds ``skew_threshold``, robust-scale by custlens's one scale rule (median and 5-95 %
   quantile range / 3.29, the standard deviation when most customers share one value; see
   :func:`custlens.features.preprocess.robust_center_scale`) and fill missing values with the
   median;
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
from collections.abc import Iterator, Sequence
from itertools import combinations
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
)
from sklearn.utils._param_validation import Interval
from threadpoolctl import threadpool_limits

from custlens._validation import check_fitted, validate_params
from custlens.config import DEFAULT_PERSONA_FEATURES, PersonaConfig
from custlens.errors import ConfigError, DataError
from custlens.features.customer_frame import as_customer_frame
from custlens.features.formatting import format_number
from custlens.features.preprocess import CustomerFeaturePreprocessor
from custlens.features.sampling import sample_rows
from custlens.segment.k_choice import choose_k, knee_point, selection_reason
from custlens.segment.silhouette import mean_silhouettes, sample_indices

logger = logging.getLogger(__name__)

__all__ = ["PersonaClusterer", "knee_point"]

MIN_CUSTOMERS = 10
SMALL_FIT = 20_000  # customers up to which K-Means runs single-threaded
ROW_BLOCK = 250_000  # customers whose robust scores are held at a time


class PersonaClusterer(BaseEstimator):
    """K-Means personas with a documented choice of k and outliers kept out of the fit.

    The steps are described in :mod:`custlens.segment.clustering`; ``from_config`` builds one
    from a :class:`custlens.config.PersonaConfig`.

    Parameters
    ----------
    features : list of str or None, default=None
        Features to cluster on; ``None`` uses ``DEFAULT_PERSONA_FEATURES`` (those present).
    k_range : tuple of int, default=(2, 10)
        The smallest and largest k tried, ``2 <= k_min <= k_max``.
    seed : int, default=0
        Seed of K-Means, the samples and the stability runs.
    minibatch_threshold : int, default=50_000
        Above this many customers MiniBatchKMeans replaces KMeans.
    outlier_z : float, default=5.0
        A customer with a robust score beyond this on any feature is kept out of the fit.
    outlier_quantile : float or None, default=None
        When set, in (0.5, 1): customers whose robust distance is above this quantile are too.
    max_outlier_share : float, default=0.05
        At most this share of customers (the most distant) is kept out, in (0, 0.5).
    silhouette_sample : int, default=10_000
        Silhouettes are computed on a seeded sample of this many customers.
    fit_sample : int or None, default=200_000
        Above this many customers k is chosen on a seeded sample; ``None`` uses everyone.
    skew_threshold : float, default=1.0
        Skewness above which a non-negative feature is log-transformed.
    log_features : list of str or None, default=None
        Exactly these features are log-transformed (skewness is not consulted).
    stability_seeds : int, default=5
        Seeded runs at the chosen k whose mean pairwise ARI is ``stability_``.
    n_init : int, default=10
        K-Means restarts.
    id_column : str, default="customer_id"
        The customer id, copied into ``outliers_``.

    Attributes
    ----------
    preprocessor_ : CustomerFeaturePreprocessor
        The fitted feature transform; ``features_``, ``log_features_``, ``centers_``,
        ``scales_`` and ``medians_`` are its attributes.
    k_, labels_, cluster_centers_ : int, ndarray, ndarray
        The chosen k, every customer's cluster (0 = largest), the centres in robust units.
    selection_, selection_reason_, knee_k_, stability_ : DataFrame, str, int, float
        The scores of every k and why the chosen one won.
    is_outlier_, outliers_, n_fit_, notes_ : ndarray, DataFrame, int, list of str
        Customers kept out of the fit and why; customers fitted on; notes.
    fit_rows_ : ndarray
        Positions of the customers fitted on (the non-outliers, or the seeded sample of them).

    Raises
    ------
    custlens.errors.ConfigError
        A parameter has the wrong type or range (at ``fit``).
    custlens.errors.InputError
        The input is not a customer table, or a feature is not numeric.
    custlens.errors.DataError
        No usable feature, or too few customers for ``k_range``.
    custlens.errors.NotFittedError
        ``predict`` / ``transform`` before ``fit``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> customers = pd.DataFrame({
    ...     "frequency": np.r_[rng.normal(2, 0.3, 40), rng.normal(20, 2, 40)],
    ...     "recency_days": np.r_[rng.normal(200, 20, 40), rng.normal(10, 3, 40)],
    ... })
    >>> model = PersonaClusterer(features=["frequency", "recency_days"], k_range=(2, 4),
    ...                          stability_seeds=2, n_init=2).fit(customers)
    >>> model.k_, np.bincount(model.labels_).tolist()
    (2, [40, 40])
    """

    _parameter_constraints: dict = {
        "features": ["array-like", None],
        "k_range": [tuple, list],
        "seed": [Interval(Integral, 0, None, closed="left")],
        "minibatch_threshold": [Interval(Integral, 1, None, closed="left")],
        "outlier_z": [Interval(Real, 0, None, closed="neither")],
        "outlier_quantile": [Interval(Real, 0.5, 1, closed="neither"), None],
        "max_outlier_share": [Interval(Real, 0, 0.5, closed="neither")],
        "silhouette_sample": [Interval(Integral, 2, None, closed="left")],
        "fit_sample": [Interval(Integral, 1, None, closed="left"), None],
        "skew_threshold": [Interval(Real, None, None, closed="neither")],
        "log_features": ["array-like", None],
        "stability_seeds": [Interval(Integral, 2, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "id_column": [str],
    }

    def __init__(
        self,
        *,
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
        frame = as_customer_frame(customers, where="PersonaClusterer input")
        wanted = list(self.features) if self.features is not None else DEFAULT_PERSONA_FEATURES
        pre = CustomerFeaturePreprocessor(
            features=wanted,
            skew_threshold=self.skew_threshold,
            log_features=self.log_features,
            id_column=self.id_column,
        ).fit(frame)
        self.preprocessor_ = pre
        self.features_, self.log_features_ = pre.features_, pre.log_features_
        self.centers_, self.scales_, self.medians_ = pre.centers_, pre.scales_, pre.medians_
        notes: list[str] = list(pre.notes_)
        # the robust scores of every customer are never held at once: the outlier rule reads
        # three numbers per row, computed a block of rows at a time; the fit reads its rows
        self.is_outlier_, self.outliers_ = self._find_outliers(frame, notes)
        fit_rows = np.flatnonzero(~self.is_outlier_)
        k_max_eff = min(k_max, len(fit_rows) - 1)
        if len(fit_rows) < MIN_CUSTOMERS or k_max_eff < k_min:
            raise DataError(
                f"Clustering needs at least {max(MIN_CUSTOMERS, k_min + 1)} customers after "
                f"outliers are set aside, got {len(fit_rows)}",
                where="customer feature table",
                fix="run it on more customers, or lower k_min / raise outlier_z",
            )
        if k_max_eff < k_max:
            notes.append(f"k limited to {k_max_eff}: only {len(fit_rows)} customers in the fit")
        if self.fit_sample and len(fit_rows) > self.fit_sample:
            notes.append(
                f"k chosen and centres fitted on a seeded sample of {self.fit_sample:,} of "
                f"{len(fit_rows):,} customers; every customer is then assigned to the nearest centre"
            )
            fit_rows = fit_rows[sample_rows(len(fit_rows), self.fit_sample, self.seed)]
        self.fit_rows_ = fit_rows
        fit_z = self.rows_z(frame, fit_rows)
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
            self.labels_ = self._nearest_blocks(frame)
            self.stability_ = self._stability(fit_z, self.k_, models[self.k_].labels_)
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
        check_fitted(self, "cluster_centers_")
        return self._nearest_blocks(as_customer_frame(customers, where="PersonaClusterer input"))

    def transform(self, customers: pd.DataFrame) -> pd.DataFrame:
        """The clustering space: log1p where chosen, robust-scaled; missing -> 0 (the median)."""
        check_fitted(self, "preprocessor_")
        return self.preprocessor_.transform(customers)

    def is_outlier(self, customers: pd.DataFrame) -> np.ndarray:
        """Outlier flags for (new) customers by the ``outlier_z`` rule learnt in ``fit``."""
        z = self.transform(customers).to_numpy()
        return np.abs(z).max(axis=1) > self.outlier_z

    # ------------------------------------------------------------------ steps
    def _check_params(self) -> tuple[int, int]:
        validate_params(self)
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
        return k_min, k_max

    def rows_z(self, frame: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
        """The robust scores (missing -> 0) of the rows at positions ``rows`` (only the
        features of those rows are copied, not the whole table's columns)."""
        return self.preprocessor_.transform(self.preprocessor_.rows(frame, rows)).to_numpy()

    def blocks(self, frame: pd.DataFrame) -> Iterator[tuple[int, np.ndarray]]:
        """``(start, z)``: the robust scores (missing -> 0) of ``ROW_BLOCK`` rows at a time."""
        for start in range(0, len(frame), ROW_BLOCK):
            yield (
                start,
                self.preprocessor_.transform(frame.iloc[start : start + ROW_BLOCK]).to_numpy(),
            )

    def _find_outliers(
        self, frame: pd.DataFrame, notes: list[str]
    ) -> tuple[np.ndarray, pd.DataFrame]:
        n = len(frame)
        worst, signed, distance = np.empty(n, np.int64), np.empty(n), np.empty(n)
        for start, z in self.blocks(frame):
            part = slice(start, start + len(z))
            worst[part] = np.abs(z).argmax(axis=1)
            signed[part] = z[np.arange(len(z)), worst[part]]
            distance[part] = np.sqrt((z**2).sum(axis=1))
        max_z = np.abs(signed)
        by_z = max_z > self.outlier_z
        by_dist = np.zeros(n, dtype=bool)
        threshold = np.nan
        if self.outlier_quantile is not None:
            threshold = float(np.quantile(distance, self.outlier_quantile))
            by_dist = distance > threshold
        flagged = by_z | by_dist
        cap = int(np.floor(self.max_outlier_share * n))
        if flagged.sum() > cap:
            order = np.argsort(-np.where(flagged, distance, -np.inf), kind="stable")
            keep = np.zeros(n, dtype=bool)
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
                    f"{name} = {format_number(value)} is {signed[i]:+.1f} robust SD from "
                    f"the typical {format_number(self.medians_[name])} (limit {self.outlier_z:g})"
                )
            else:
                reason = (
                    f"robust distance {distance[i]:.1f} is above the {self.outlier_quantile:.1%} "
                    f"quantile ({threshold:.1f}); furthest in {name} = {format_number(value)}"
                )
            ident = frame[self.id_column].iloc[i] if self.id_column in frame.columns else None
            rows.append(
                {
                    "row": frame.index[i],
                    self.id_column: ident,
                    "feature": name,
                    "value": value,
                    "robust_z": float(signed[i]),
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

    def _stability(self, z: np.ndarray, k: int, first: np.ndarray) -> float:
        """Mean pairwise ARI of the runs seeded ``seed``, ``seed + 1``, ...; ``first`` holds
        the labels of the run seeded ``seed`` (the model scored for k, not fitted again)."""
        labelings = [first] + [
            self._kmeans(k, self.seed + s, len(z)).fit(z).labels_
            for s in range(1, self.stability_seeds)
        ]
        pairs = [adjusted_rand_score(a, b) for a, b in combinations(labelings, 2)]
        return float(np.mean(pairs))

    def _nearest_blocks(self, frame: pd.DataFrame) -> np.ndarray:
        """The nearest centre of every row of ``frame``, scored a block of rows at a time."""
        out = np.empty(len(frame), dtype=np.int64)
        for start, z in self.blocks(frame):
            out[start : start + len(z)] = _assign(z, self.cluster_centers_)
        return out


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
