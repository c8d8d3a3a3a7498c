"""The audit's models: K-Means personas of the anomalies and decision trees for the anomaly flag."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    precision_score,
    recall_score,
    roc_auc_score,
    silhouette_score,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import RobustScaler
from sklearn.tree import DecisionTreeClassifier, export_text
from threadpoolctl import threadpool_limits

from custlens.config import AuditConfig

MIN_LEAF = 5
SILHOUETTE_SAMPLE = 5000
DUPLICATE_CORR = 0.9


@dataclass(frozen=True)
class Clusters:
    selection: pd.DataFrame  # k, silhouette, inertia
    profiles: (
        pd.DataFrame
    )  # cluster, size, share, above, below, main_segment, distinguishing, medians
    labels: pd.Series  # cluster per anomaly row (index = audited rows), -1 = not clustered
    features: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Trees:
    metrics: pd.DataFrame  # one row per model
    importances: pd.DataFrame  # model, feature, importance
    rules: dict[str, tuple[str, ...]]  # model -> readable leaf rules (anomaly-rich leaves)
    text: dict[str, str]  # model -> sklearn export_text
    dropped_for_leakage: tuple[str, ...]
    notes: tuple[str, ...]


def cluster_anomalies(
    features: pd.DataFrame,
    catalog: pd.DataFrame,
    rows: pd.DataFrame,
    *,
    seed: int,
    config: AuditConfig,
) -> Clusters:
    """K-Means on robust-scaled behaviour features of the anomalies; k by silhouette."""
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
    X = X.loc[:, X.notna().any()]
    X = X.loc[:, X.nunique() > 1]
    X, dupes = _drop_near_duplicates(X, DUPLICATE_CORR)
    if X.shape[1] == 0:
        return Clusters(
            empty.selection,
            empty.profiles,
            labels,
            (),
            ("Clustering skipped: no behaviour feature varies among the anomalies.",),
        )
    filled = X.fillna(X.median())
    Xs = RobustScaler().fit_transform(filled.to_numpy())
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
        f"K-Means on {n} anomalies and {X.shape[1]} robust-scaled features (medians fill "
        f"gaps); k = {best} has the best silhouette among k = 2..{int(selection['k'].max())}."
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


def _profiles(features: pd.DataFrame, rows: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Size, direction mix, main segment, medians and what sets each cluster apart."""
    rest = features.loc[~rows["is_anomaly"]]
    ref_med = rest.median()
    ref_scale = (rest.quantile(0.75) - rest.quantile(0.25)).where(lambda s: s > 0, rest.std())
    n_anom = int((labels >= 0).sum())
    out = []
    for c in sorted(labels[labels >= 0].unique()):
        idx = labels.index[labels == c]
        med = features.loc[idx].median()
        z = ((med - ref_med) / ref_scale).replace([np.inf, -np.inf], np.nan).dropna()
        top = z[z.abs() >= 0.5].abs().sort_values(ascending=False).index[:3]
        parts = [
            f"{f} {'high' if z[f] > 0 else 'low'} ({med[f]:.3g} vs {ref_med[f]:.3g})" for f in top
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


def anomaly_trees(
    features: pd.DataFrame,
    catalog: pd.DataFrame,
    rows: pd.DataFrame,
    categoricals: pd.DataFrame,
    *,
    seed: int,
    config: AuditConfig,
) -> Trees:
    """Depth-limited trees predicting the flag with and without the metric (the fair test).

    Without the metric also means without every feature computed from it and without features
    whose |Spearman correlation| with it exceeds ``leakage_corr``. Both models share one seeded,
    stratified split, median imputation learned on the training part and balanced class weights.
    """
    y = rows["is_anomaly"].to_numpy()
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if min(n_pos, n_neg) < config.min_class_for_tree:
        note = (
            f"Decision trees skipped: {n_pos} anomalies and {n_neg} other rows; each needs at "
            f"least {config.min_class_for_tree}."
        )
        return Trees(pd.DataFrame(), pd.DataFrame(), {}, {}, (), (note,))
    fair_cols = catalog.loc[~catalog["uses_metric"], "feature"].tolist()
    corr = features[fair_cols].corrwith(rows["metric"], method="spearman")
    leaky = tuple(corr.index[corr.abs() > config.leakage_corr])
    fair = features[[c for c in fair_cols if c not in leaky]]
    dummies = pd.get_dummies(
        categoricals.astype("object").fillna("(missing)").astype(str), prefix_sep=" = "
    ).astype("float64")
    base = pd.concat([fair, dummies], axis=1)
    with_metric = pd.concat(
        [features, dummies, rows["metric"].rename("__metric__")], axis=1
    ).rename(columns={"__metric__": "metric"})
    idx_train, idx_test = train_test_split(
        np.arange(len(y)), test_size=config.test_size, stratify=y, random_state=seed
    )
    metrics, imps, rules, texts = [], [], {}, {}
    for name, X in (("with_metric", with_metric), ("without_metric", base)):
        X = X.loc[:, X.notna().any()]
        tr, te = X.iloc[idx_train], X.iloc[idx_test]
        med = tr.median()
        tr, te = tr.fillna(med).fillna(0.0), te.fillna(med).fillna(0.0)
        tree = DecisionTreeClassifier(
            max_depth=config.tree_max_depth,
            min_samples_leaf=MIN_LEAF,
            class_weight="balanced",
            random_state=seed,
        ).fit(tr.to_numpy(), y[idx_train])
        proba = tree.predict_proba(te.to_numpy())[:, 1]
        pred = proba > 0.5
        yt = y[idx_test]
        metrics.append(
            {
                "model": name,
                "features": X.shape[1],
                "train_rows": len(idx_train),
                "test_rows": len(idx_test),
                "test_anomalies": int(yt.sum()),
                "accuracy": accuracy_score(yt, pred),
                "baseline_accuracy": float(max(yt.mean(), 1 - yt.mean())),
                "balanced_accuracy": balanced_accuracy_score(yt, pred),
                "roc_auc": roc_auc_score(yt, proba),
                "recall": recall_score(yt, pred, zero_division=0),
                "precision": precision_score(yt, pred, zero_division=0),
            }
        )
        imp = pd.Series(tree.feature_importances_, index=X.columns)
        imp = imp[imp > 0].sort_values(ascending=False)
        imps.extend({"model": name, "feature": f, "importance": v} for f, v in imp.items())
        rules[name] = _leaf_rules(
            tree, list(X.columns), tr.to_numpy(), y[idx_train], config.top_rules
        )
        texts[name] = export_text(tree, feature_names=list(X.columns), decimals=3)
    notes = [
        f"Trees: depth <= {config.tree_max_depth}, leaves >= {MIN_LEAF} rows, balanced class "
        f"weights, stratified {1 - config.test_size:.0%}/{config.test_size:.0%} split (seed {seed}); "
        "scores are on the held-out part."
    ]
    if leaky:
        notes.append(
            "Left out of the without-metric tree as near-copies of the metric (|Spearman| > "
            f"{config.leakage_corr}): " + ", ".join(leaky) + "."
        )
    return Trees(
        pd.DataFrame(metrics),
        pd.DataFrame(imps, columns=["model", "feature", "importance"]),
        rules,
        texts,
        leaky,
        tuple(notes),
    )


def _leaf_rules(
    tree: DecisionTreeClassifier, names: list[str], X: np.ndarray, y: np.ndarray, top: int
) -> tuple[str, ...]:
    """Paths to the leaves richest in anomalies (training rows), as readable conditions."""
    t = tree.tree_
    paths: dict[int, list[str]] = {}
    stack: list[tuple[int, list[str]]] = [(0, [])]
    while stack:
        node, conds = stack.pop()
        if t.children_left[node] == -1:
            paths[node] = conds
            continue
        f, thr = names[t.feature[node]], t.threshold[node]
        if " = " in f:  # one-hot column
            left, right = f"{f.replace(' = ', ' is not ', 1)}", f"{f.replace(' = ', ' is ', 1)}"
        else:
            left, right = f"{f} <= {thr:.4g}", f"{f} > {thr:.4g}"
        stack.append((t.children_left[node], [*conds, left]))
        stack.append((t.children_right[node], [*conds, right]))
    leaf = tree.apply(X)
    base = y.mean()
    stats = pd.DataFrame({"leaf": leaf, "y": y}).groupby("leaf")["y"].agg(["sum", "count"])
    stats = stats[stats["sum"] / stats["count"] > base]
    stats = stats.sort_values(["sum", "count"], ascending=[False, True]).head(top)
    return tuple(
        f"IF {' AND '.join(paths[int(lf)]) or 'always'} THEN anomaly rate "
        f"{s / c:.0%} ({int(s)} of {int(c)} training rows; overall {base:.0%})"
        for lf, s, c in zip(stats.index, stats["sum"], stats["count"], strict=True)
    )
