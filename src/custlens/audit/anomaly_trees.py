"""The audit's fair test: decision trees for the anomaly flag with and without the metric."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier, export_text

from custlens.config import AuditConfig
from custlens.segment.tree_rules import ONE_HOT_SEPARATOR, leaf_bounds, rule_text

MIN_LEAF = 5


@dataclass(frozen=True)
class Trees:
    metrics: pd.DataFrame  # one row per model
    importances: pd.DataFrame  # model, feature, importance
    rules: dict[str, tuple[str, ...]]  # model -> readable leaf rules (anomaly-rich leaves)
    text: dict[str, str]  # model -> sklearn export_text
    dropped_for_leakage: tuple[str, ...]
    notes: tuple[str, ...]


def anomaly_trees(
    features: pd.DataFrame,
    catalog: pd.DataFrame,
    rows: pd.DataFrame,
    categoricals: pd.DataFrame,
    *,
    seed: int,
    config: AuditConfig,
    metric_name: str = "metric",
) -> Trees:
    """Depth-limited trees predicting the flag with and without the metric (the fair test),
    and from the segment alone (``segment_only``, the first column of ``categoricals``): the
    fair tree's gain over it is what behaviour adds to the segmentation.

    ``metric_name`` names the metric in the with-metric tree's rules. Without the metric also
    means without every feature computed from it and without features
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
    fair_cols = [c for c in fair_cols if features[c].nunique() > 1]  # constants say nothing
    corr = features[fair_cols].corrwith(rows["metric"], method="spearman")
    leaky = tuple(corr.index[corr.abs() > config.leakage_corr])
    fair = features[[c for c in fair_cols if c not in leaky]]
    dummies = pd.get_dummies(
        categoricals.astype("object").fillna("(missing)").astype(str), prefix_sep=ONE_HOT_SEPARATOR
    ).astype("float64")
    base = pd.concat([fair, dummies], axis=1)
    # the metric under its own name in the rules ("IF retention_probability > 0.95"), unless a
    # feature or level already has that name
    shown = metric_name if metric_name not in features.columns.union(dummies.columns) else "metric"
    with_metric = pd.concat(
        [features, dummies, rows["metric"].rename("__metric__")], axis=1
    ).rename(columns={"__metric__": shown})
    idx_train, idx_test = train_test_split(
        np.arange(len(y)), test_size=config.test_size, stratify=y, random_state=seed
    )
    metrics: list[dict] = []
    imps: list[pd.DataFrame] = []
    rules: dict = {}
    texts: dict = {}
    # the baseline: the segment column alone (the first of ``categoricals``); the fair tree is
    # credited only with what it adds to it
    segment_only = pd.get_dummies(
        categoricals.iloc[:, [0]].astype("object").fillna("(missing)").astype(str),
        prefix_sep=ONE_HOT_SEPARATOR,
    ).astype("float64")
    for name, X in (
        ("with_metric", with_metric),
        ("without_metric", base),
        ("segment_only", segment_only),
    ):
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
            tree, list(X.columns), tr.to_numpy(), y[idx_train], config.top_rules, set(dummies)
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
    tree: DecisionTreeClassifier,
    names: list[str],
    X: np.ndarray,
    y: np.ndarray,
    top: int,
    one_hot: set[str],
) -> tuple[str, ...]:
    """Paths to the leaves richest in anomalies (training rows), as readable conditions."""
    paths = leaf_bounds(tree)
    leaf = tree.apply(X)
    base = y.mean()
    stats = pd.DataFrame({"leaf": leaf, "y": y}).groupby("leaf")["y"].agg(["sum", "count"])
    stats = stats[stats["sum"] / stats["count"] > base]
    stats = stats.sort_values(["sum", "count"], ascending=[False, True]).head(top)
    return tuple(
        f"IF {rule_text(paths[int(lf)], names, joiner=' AND ', always='always', one_hot=one_hot)} "
        f"THEN anomaly rate {s / c:.0%} ({int(s)} of {int(c)} training rows; overall {base:.0%})"
        for lf, s, c in zip(stats.index, stats["sum"], stats["count"], strict=True)
    )
