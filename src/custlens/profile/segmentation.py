"""Personas of a customer table: K-Means on numeric and one-hot categorical features together.

**Design matrix.** Numeric features go through custlens's one customer-feature preprocessor
(:class:`custlens.features.preprocess.CustomerFeaturePreprocessor`: constant ones skipped,
``log1p`` when skewed, the robust scale rule, median fill), so each has a spread of about one.
A categorical feature is one-hot encoded (levels rarer than ``rare_level_share`` merged into
``Other``, missing values a level of their own), centred, and every indicator divided by
``sqrt(sum_j p_j (1 - p_j))``: the block then has total variance exactly 1, the same weight as
one numeric feature, whatever the number of levels. Unscaled 0/1 indicators would weigh a
5-level variable like ~0.8 numeric features and a 2-level one like 0.5, and robust-scaling each
indicator separately (as for numbers) would blow a 5 % level up to a spread of ~3: both let the
encoding rather than the data decide. ``bench/profile_segmentation.py`` measures this encoding
against numeric-only K-Means, unscaled one-hot and Gower distance with average linkage on the
planted personas (adjusted Rand index and time).

**k**: 2..10 by the same three votes as the order-log personas
(:func:`custlens.segment.k_choice.choose_k`: silhouette, Davies-Bouldin, the elbow gap), on a
seeded sample above ``fit_sample`` customers, with customers beyond ``outlier_z`` on a numeric
feature kept out of the fit (at most ``max_outlier_share``, the most distant) and assigned to
their nearest centre afterwards. Stability: mean pairwise adjusted Rand index of
``stability_seeds`` seeded fits at the chosen k. Clusters are numbered by size (0 = largest).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score
from threadpoolctl import threadpool_limits

from custlens.config.profile import ProfileConfig
from custlens.errors import DataError
from custlens.features.preprocess import CustomerFeaturePreprocessor
from custlens.segment.k_choice import choose_k, selection_reason
from custlens.segment.silhouette import mean_silhouettes, sample_indices

logger = logging.getLogger(__name__)

__all__ = ["Segmentation", "design_matrix", "segment_customers"]

MINIBATCH_ABOVE = 30_000


@dataclass(frozen=True)
class Segmentation:
    """Clusters of the customers, how k was chosen and the space they were found in."""

    labels: np.ndarray  # cluster per customer, 0 = largest
    k: int
    selection: pd.DataFrame  # every k: inertia, silhouette, davies_bouldin, knee_gap, ranks
    reason: str
    knee: int | None
    stability: float
    numeric: list[str]  # numeric features used (after skipping unusable ones)
    categorical: list[str]
    log_features: list[str]
    design: pd.DataFrame  # the clustering space, one column per feature or level
    is_outlier: np.ndarray
    n_fit: int
    notes: list[str] = field(default_factory=list)


def design_matrix(
    frame: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    config: ProfileConfig,
    id_column: str,
) -> tuple[pd.DataFrame, CustomerFeaturePreprocessor | None, list[str], list[str]]:
    """The clustering space: robust-scaled numbers and unit-variance one-hot blocks.

    Returns the matrix, the fitted numeric preprocessor (None without numbers), the categorical
    features kept and notes.

    Examples
    --------
    >>> frame = pd.DataFrame({"id": list("abcd"), "x": [1.0, 2, 3, 4], "c": list("ppqr")})
    >>> z, _, cats, _ = design_matrix(frame, ["x"], ["c"], ProfileConfig(), "id")
    >>> list(z.columns), round(float(z[["c=p", "c=q", "c=r"]].var(ddof=0).sum()), 6)
    (['x', 'c=p', 'c=q', 'c=r'], 1.0)
    """
    notes: list[str] = []
    blocks = []
    pre = None
    if numeric:
        pre = CustomerFeaturePreprocessor(features=numeric, id_column=id_column).fit(frame)
        notes += list(pre.notes_)
        blocks.append(pre.transform(frame).reset_index(drop=True))
    kept = []
    for column in categorical:
        values = frame[column].astype("string").fillna("(missing)").reset_index(drop=True)
        shares = values.value_counts(normalize=True)
        rare = shares.index[shares < config.rare_level_share]
        if len(rare):
            values = values.where(~values.isin(rare), "Other")
            notes.append(
                f"{column}: {len(rare)} level(s) under {config.rare_level_share:.0%} merged into Other"
            )
        if values.nunique() < 2:
            notes.append(f"categorical {column!r} skipped: one level only")
            continue
        dummies = pd.get_dummies(values, prefix=column, prefix_sep="=", dtype="float64")
        p = dummies.mean()
        weight = 1.0 / np.sqrt(float((p * (1 - p)).sum()))
        blocks.append((dummies - p) * weight)
        kept.append(column)
    if not blocks:
        raise DataError(
            "No feature to segment the customers on",
            where="profile segmentation",
            fix="give at least one column the role numeric, spend or categorical",
        )
    z = pd.concat(blocks, axis=1)
    z.index = frame.index
    return z, pre, kept, notes


def _kmeans(k: int, seed: int, n: int) -> KMeans | MiniBatchKMeans:
    if n > MINIBATCH_ABOVE:
        return MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
    return KMeans(n_clusters=k, random_state=seed, n_init=4)


def nearest(z: np.ndarray, centers: np.ndarray, chunk: int = 65_536) -> np.ndarray:
    """Index of the nearest centre of every row."""
    out = np.empty(len(z), dtype=np.int64)
    for start in range(0, len(z), chunk):
        block = z[start : start + chunk]
        d = ((block[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
        out[start : start + chunk] = d.argmin(axis=1)
    return out


def _outliers(zn: np.ndarray, config: ProfileConfig, notes: list[str]) -> np.ndarray:
    if zn.shape[1] == 0:
        return np.zeros(len(zn), dtype=bool)
    flagged = np.abs(zn).max(axis=1) > config.outlier_z
    cap = int(np.floor(config.max_outlier_share * len(zn)))
    if flagged.sum() > cap:
        distance = np.where(flagged, np.sqrt((zn**2).sum(axis=1)), -np.inf)
        keep = np.zeros(len(zn), dtype=bool)
        keep[np.argsort(-distance, kind="stable")[:cap]] = True
        flagged = keep
    if flagged.any():
        notes.append(
            f"{int(flagged.sum())} customers beyond {config.outlier_z:g} robust SD on a numeric "
            "feature kept out of the fit (assigned to their nearest persona afterwards)"
        )
    return flagged


def segment_customers(
    frame: pd.DataFrame,
    numeric: list[str],
    categorical: list[str],
    config: ProfileConfig | None = None,
    *,
    seed: int = 0,
    id_column: str = "customer_id",
) -> Segmentation:
    """Cluster ``frame`` on ``numeric`` and ``categorical`` features; choose k; measure stability."""
    config = config or ProfileConfig()
    z, pre, cats, notes = design_matrix(frame, numeric, categorical, config, id_column)
    values = z.to_numpy(dtype="float64")
    used_numeric = list(pre.features_) if pre is not None else []
    is_outlier = _outliers(values[:, : len(used_numeric)], config, notes)
    fit = values[~is_outlier]
    k_max = min(config.k_max, len(fit) - 1)
    if len(fit) < 10 or k_max < config.k_min:
        raise DataError(
            f"Segmentation needs at least 10 customers after outliers, got {len(fit)}",
            where="profile segmentation",
            fix="profile a larger table",
        )
    if len(fit) > config.fit_sample:
        pick = np.sort(np.random.default_rng(seed).choice(len(fit), config.fit_sample, False))
        notes.append(
            f"k chosen and centres fitted on a seeded sample of {config.fit_sample:,} of "
            f"{len(fit):,} customers; everyone is assigned to the nearest centre"
        )
        fit = fit[pick]
    with threadpool_limits(limits=1 if len(fit) <= 50_000 else None):
        models = {k: _kmeans(k, seed, len(fit)).fit(fit) for k in range(config.k_min, k_max + 1)}
        pick = sample_indices(len(fit), config.silhouette_sample, seed)
        sil = mean_silhouettes(fit[pick], {k: m.labels_[pick] for k, m in models.items()})
        rows = []
        for k, m in models.items():
            two = len(np.unique(m.labels_)) >= 2
            rows.append(
                {
                    "k": k,
                    "inertia": float(m.inertia_),
                    "silhouette": sil[k],
                    "davies_bouldin": float(davies_bouldin_score(fit, m.labels_))
                    if two
                    else np.nan,
                    "calinski_harabasz": float(calinski_harabasz_score(fit, m.labels_))
                    if two
                    else np.nan,
                }
            )
        selection, knee, k = choose_k(pd.DataFrame(rows))
        runs = [models[k].labels_] + [
            _kmeans(k, seed + s, len(fit)).fit(fit).labels_
            for s in range(1, config.stability_seeds)
        ]
    stability = float(np.mean([adjusted_rand_score(a, b) for a, b in combinations(runs, 2)]))
    centers = models[k].cluster_centers_
    sizes = np.bincount(nearest(fit, centers), minlength=k)
    order = sorted(range(k), key=lambda c: (-sizes[c], tuple(centers[c])))
    centers = centers[order]
    labels = nearest(values, centers)
    for note in notes:
        logger.info("profile segmentation: %s", note)
    return Segmentation(
        labels=labels,
        k=k,
        selection=selection,
        reason=selection_reason(selection, k, knee, stability),
        knee=knee,
        stability=stability,
        numeric=used_numeric,
        categorical=cats,
        log_features=list(pre.log_features_) if pre is not None else [],
        design=z,
        is_outlier=is_outlier,
        n_fit=len(fit),
        notes=notes,
    )
