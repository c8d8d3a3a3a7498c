"""The audit's anomaly personas: K-Means on the anomalies' behaviour features, k by silhouette.

Features are prepared by :class:`custlens.features.preprocess.CustomerFeaturePreprocessor`
(constant ones skipped, log1p where skewed, custlens's one robust scale, medians fill gaps), the
same preprocessing as the customer personas and the anomaly detector.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from custlens.config import AuditConfig
from custlens.errors import DataError
from custlens.features.formatting import format_number
from custlens.features.preprocess import CustomerFeaturePreprocessor, robust_center_scale

SILHOUETTE_SAMPLE = 5000
DUPLICATE_CORR = 0.9
SKEW_THRESHOLD = 1.0  # as the personas' and the anomaly detector's default


@dataclass(frozen=True)
class Clusters:
    selection: pd.DataFrame  # k, silhouette, inertia
    profiles: (
        pd.DataFrame
    )  # cluster, size, share, above, below, main_segment, distinguishing, medians
    labels: pd.Series  # cluster per anomaly row (index = audited rows), -1 = not clustered
    features: tuple[str, ...]
    notes: tuple[str, ...]


def cluster_anomalies(
    features: pd.DataFrame,
    catalog: pd.DataFrame,
    rows: pd.DataFrame,
    *,
    seed: int,
    config: AuditConfig,
) -> Clusters:
    """K-Means on the preprocessed behaviour features of the anomalies; k by silhouette."""
    labels = pd.Series(-1, index=rows.index, dtype="int64")
    flag = rows["is_anomaly"].to_numpy()
    n = int(flag.sum())
    empty = Clusters(
        pd.DataFrame(columns=["k", "silhouette", "inertia"]), pd.DataFrame(), labels, (), ()
    )
    if n < config.min_anomalies_for_clusters:
        note = (
            f"Clustering skipped: {n} anomalies, at least "
            f"{config.min_anomalies_for_clusters} needed for personas."
        )
        return Clusters(empty.selection, empty.profiles, labels, (), (note,))
    fair = catalog[~catalog["uses_metric"]]
    usable = [
        *fair.loc[fair["source"] == "derived", "feature"],
        *fair.loc[fair["source"] != "derived", "feature"],
    ]
    X = features.loc[flag, usable]
    try:
        pre = CustomerFeaturePreprocessor(features=usable, skew_threshold=SKEW_THRESHOLD).fit(X)
    except DataError:
        return Clusters(
            empty.selection,
            empty.profiles,
            labels,
            (),
            ("Clustering skipped: no behaviour feature varies among the anomalies.",),
        )
    kept, dupes = _drop_near_duplicates(X[pre.features_], DUPLICATE_CORR)
    Xs = pre.transform(X)[list(kept.columns)].to_numpy()
    X = kept
    records = []
    fits: dict[int, np.ndarray] = {}
    for k in range(2, min(config.max_clusters, n - 1) + 1):
        # one thread: on a few hundred rows OpenMP start-up costs 20x the work itself
        with threadpool_limits(limits=1):
            km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(Xs)
        if len(np.unique(km.labels_)) < 2:
            continue
        sample = SILHOUETTE_SAMPLE if n > SILHOUETTE_SAMPLE else None
        sil = silhouette_score(Xs, km.labels_, sample_size=sample, random_state=seed)
        records.append({"k": k, "silhouette": float(sil), "inertia": float(km.inertia_)})
        fits[k] = km.labels_
    selection = pd.DataFrame(records, columns=["k", "silhouette", "inertia"])
    if selection.empty:
        return Clusters(
            selection,
            pd.DataFrame(),
            labels,
            tuple(X.columns),
            ("Clustering skipped: the anomalies' features have too few distinct values.",),
        )
    best = int(selection.sort_values(["silhouette", "k"], ascending=[False, True]).iloc[0]["k"])
    labels.loc[X.index] = fits[best]
    profiles = _profiles(features[X.columns], rows, labels)
    note = (
        f"K-Means on {n} anomalies and {X.shape[1]} robust-scaled features (log1p where "
        f"skewed, medians fill gaps); k = {best} has the best silhouette among k = 2..{int(selection['k'].max())}."
    )
    if dupes:
        note += (
            f" Left out as near-duplicates of a kept feature (|Spearman| > {DUPLICATE_CORR} "
            "among the anomalies; derived summaries are kept first): " + ", ".join(dupes) + "."
        )
    return Clusters(selection, profiles, labels, tuple(X.columns), (note,))


def _drop_near_duplicates(X: pd.DataFrame, limit: float) -> tuple[pd.DataFrame, list[str]]:
    """Keep columns in order, skipping any whose |Spearman| with a kept column exceeds ``limit``."""
    corr = X.corr(method="spearman").abs()
    kept: list[str] = []
    dropped: list[str] = []
    for c in X.columns:
        if any(corr.at[c, k] > limit for k in kept if np.isfinite(corr.at[c, k])):
            dropped.append(c)
        else:
            kept.append(c)
    return X[kept], dropped


def _reference(rest: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Median and robust scale (custlens's one scale rule) of every column of the other rows."""
    centers, scales = {}, {}
    for f in rest.columns:
        values = rest[f].dropna().to_numpy(dtype="float64")
        center, scale = (np.nan, np.nan)
        if values.size:
            center, scale, _ = robust_center_scale(values)
        centers[f], scales[f] = center, scale if scale > 0 else np.nan
    return pd.Series(centers, dtype="float64"), pd.Series(scales, dtype="float64")


def _profiles(features: pd.DataFrame, rows: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Size, direction mix, main segment, medians and what sets each cluster apart."""
    ref_med, ref_scale = _reference(features.loc[~rows["is_anomaly"]])
    n_anom = int((labels >= 0).sum())
    out = []
    for c in sorted(labels[labels >= 0].unique()):
        idx = labels.index[labels == c]
        med = features.loc[idx].median()
        z = ((med - ref_med) / ref_scale).replace([np.inf, -np.inf], np.nan).dropna()
        top = z[z.abs() >= 0.5].abs().sort_values(ascending=False).index[:3]
        parts = [
            f"{f} {'high' if z[f] > 0 else 'low'} ({format_number(med[f])} vs "
            f"{format_number(ref_med[f])})"
            for f in top
        ]
        segs = rows.loc[idx, "segment"].value_counts()
        rec = {
            "cluster": int(c),
            "size": len(idx),
            "share": len(idx) / n_anom,
            "above": int((rows.loc[idx, "direction"] == "above").sum()),
            "below": int((rows.loc[idx, "direction"] == "below").sum()),
            "main_segment": f"{segs.index[0]} ({segs.iloc[0] / len(idx):.0%})",
            "distinguishing": "; ".join(parts) if parts else "close to typical customers",
        }
        rec.update({f"median_{f}": med[f] for f in features.columns})
        out.append(rec)
    return pd.DataFrame(out)
