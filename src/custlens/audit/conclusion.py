"""The audit's verdict: which new dimensions would improve the segmentation, with the evidence."""

from __future__ import annotations

import numpy as np
import pandas as pd

from custlens.config import AuditConfig
from custlens.features.formatting import format_number

# dimension -> (feature families, what it would add, what it needs when absent)
DIMENSIONS = {
    "stability": (
        ("stability",),
        "transaction stability (actual vs expected cadence, order-value volatility)",
        "transaction count, transactions per month and age, or order-value std and average",
    ),
    "seasonality": (
        ("seasonality",),
        "seasonal preference (quarter shares, imbalance, entropy)",
        "quarter shares q1_share .. q4_share",
    ),
    "lifecycle / value realisation": (
        ("lifecycle", "value realisation"),
        "lifecycle stage and value realisation (age, revenue realised per score point)",
        "customer age, total revenue and a customer score",
    ),
}


_SIDE = {
    "above": "mostly above its mean",
    "below": "mostly below its mean",
    "mixed": "as many above as below its mean",
    "none": "none",
}


def _direction(rank_biserial: float, median_anomaly: float, median_rest: float) -> str:
    """The direction claim, from the rank-biserial sign, never contradicted by the medians."""
    side = "higher" if rank_biserial > 0 else "lower"
    med = np.sign(median_anomaly - median_rest)
    if med == 0 or med == np.sign(rank_biserial):
        return f"is {side}"
    return f"ranks {side} (although its median is {'higher' if med > 0 else 'lower'})"


def _fmt_p(p: float) -> str:
    return "n/a" if not np.isfinite(p) else f"{p:.1e}" if p < 0.001 else f"{p:.3f}"


def dimension_evidence(
    comparisons: pd.DataFrame, importances: pd.DataFrame, catalog: pd.DataFrame, config: AuditConfig
) -> pd.DataFrame:
    """Per dimension: the strongest significant difference and the fair tree's importance."""
    out = []
    fair_imp = importances[importances["model"] == "without_metric"] if len(importances) else None
    for dim, (families, _what, _needs) in DIMENSIONS.items():
        feats = catalog.loc[catalog["family"].isin(families) & ~catalog["uses_metric"], "feature"]
        rec = {
            "dimension": dim,
            "features": len(feats),
            "recommended": False,
            "best_feature": "",
            "group": "",
            "rank_biserial": np.nan,
            "p_adjusted": np.nan,
            "median_anomaly": np.nan,
            "median_rest": np.nan,
            "tree_importance": np.nan,
        }
        if len(feats) and len(comparisons):
            cand = comparisons[
                comparisons["feature"].isin(feats) & comparisons["p_adjusted"].notna()
            ]
            sig = cand[cand["p_adjusted"] < config.alpha]
            cand = sig if len(sig) else cand
            if len(cand):
                best = cand.loc[cand["rank_biserial"].abs().idxmax()]
                rec.update(
                    {
                        k: best[k]
                        for k in (
                            "group",
                            "rank_biserial",
                            "p_adjusted",
                            "median_anomaly",
                            "median_rest",
                        )
                    }
                )
                rec["best_feature"] = best["feature"]
                rec["recommended"] = bool(
                    best["p_adjusted"] < config.alpha
                    and abs(best["rank_biserial"]) >= config.min_effect
                )
        if fair_imp is not None and len(feats):
            rec["tree_importance"] = float(
                fair_imp.loc[fair_imp["feature"].isin(feats), "importance"].sum()
            )
        out.append(rec)
    return pd.DataFrame(out)


def write_conclusion(
    *,
    metric: str,
    segment: str,
    threshold: float,
    relative: bool,
    rows: pd.DataFrame,
    segments: pd.DataFrame,
    dimensions: pd.DataFrame,
    comparisons: pd.DataFrame,
    chi_square: pd.DataFrame,
    crosstabs: pd.DataFrame,
    cluster_profiles: pd.DataFrame,
    cluster_selection: pd.DataFrame,
    tree_metrics: pd.DataFrame,
    config: AuditConfig,
    warnings: list[str] | None = None,
) -> str:
    """Plain-language paragraphs, each citing its numbers; ``warnings`` (on the threshold)
    come first. Each claim comes from one decision (``tree_verdict``, a dimension's
    ``recommended``, the sign of a rank-biserial), so two paragraphs cannot contradict."""
    head = "\n\n".join(warnings or [])
    body = _conclusion_body(
        metric=metric,
        segment=segment,
        threshold=threshold,
        relative=relative,
        rows=rows,
        segments=segments,
        dimensions=dimensions,
        comparisons=comparisons,
        chi_square=chi_square,
        crosstabs=crosstabs,
        cluster_profiles=cluster_profiles,
        cluster_selection=cluster_selection,
        tree_metrics=tree_metrics,
        config=config,
    )
    return f"{head}\n\n{body}" if head else body


def _conclusion_body(
    *,
    metric: str,
    segment: str,
    threshold: float,
    relative: bool,
    rows: pd.DataFrame,
    segments: pd.DataFrame,
    dimensions: pd.DataFrame,
    comparisons: pd.DataFrame,
    chi_square: pd.DataFrame,
    crosstabs: pd.DataFrame,
    cluster_profiles: pd.DataFrame,
    cluster_selection: pd.DataFrame,
    tree_metrics: pd.DataFrame,
    config: AuditConfig,
) -> str:
    n, k = len(rows), int(rows["is_anomaly"].sum())
    limit = f"{threshold:g} x |segment mean|" if relative else f"{threshold:g}"
    if k == 0:
        # round-off is 0 in ``deviation`` already (``flags.flag_rows``)
        dev = rows["deviation"].abs()
        head = (
            f"No customer's {metric} is more than {limit} away from the mean of their {segment} "
            f"({n} rows checked): at this threshold the segmentation is consistent with {metric}. "
        )
        if not (dev > 0).any():
            return head + (
                f"Every row equals its segment mean ({metric} is constant within each segment), "
                "so no threshold would flag a row. Nothing further to test."
            )
        worst = rows.loc[dev.idxmax()]
        q95 = float(dev.quantile(0.95))
        spread = (
            f"95 % of rows are within {q95:.4g} of their segment mean, so a threshold below "
            "that would flag the most deviant 5 %"
            if q95 > 0
            else "at least 95 % of rows equal their segment mean"
        )
        return head + (
            f"The largest deviation is {worst['deviation']:+.4g} (segment {worst['segment']}); "
            f"{spread}. Nothing further to test."
        )
    paras: list[str] = []
    few = config.min_segment_rows
    # ranked by count among segments of at least ``few`` rows first: a 3-row segment's anomalies
    # are no place to start
    ranked = segments.assign(_solid=segments["rows"] >= few).sort_values(
        ["_solid", "anomalies"], ascending=False, kind="mergesort"
    )
    top = ranked[ranked["anomalies"] > 0].head(3)
    where = ", ".join(
        f"{r.segment} {r.anomalies} ({r.anomaly_rate:.0%} of the segment, {_SIDE[r.direction]})"
        if r.rows >= few
        else f"{r.segment} {r.anomalies} (of only {r.rows} rows, too few to judge)"
        for r in top.itertuples()
    )
    who = f"{k} of {n} rows ({k / n:.1%}"
    if "customer_id" in rows.columns:
        ids = rows["customer_id"]
        who += f"; {ids[rows['is_anomaly']].nunique()} of {ids.nunique()} customers"
    paras.append(
        f"{who}) have a {metric} more than {limit} away from their "
        f"{segment}'s mean. Most are in: {where}." + _small_segments(segments, few)
    )
    paras.append(_tree_paragraph(metric, tree_metrics, config))
    # a tree no better than chance on held-out rows: its importances are no evidence
    tree_counts = _fair_auc(tree_metrics) > 0.5
    for r in dimensions.itertuples():
        what, needs = DIMENSIONS[r.dimension][1], DIMENSIONS[r.dimension][2]
        if r.features == 0:
            paras.append(
                f"{r.dimension.capitalize()}: cannot be assessed; the table lacks {needs}."
            )
            continue
        if not r.best_feature:
            paras.append(f"{r.dimension.capitalize()}: too few anomalies to test.")
            continue
        grp = "anomalies" if r.group == "all" else _group_name(r.group)
        ev = (
            f"{r.best_feature} {_direction(r.rank_biserial, r.median_anomaly, r.median_rest)} "
            f"among {grp} (median {format_number(r.median_anomaly)} vs "
            f"{format_number(r.median_rest)}; rank-biserial {r.rank_biserial:+.2f}, adjusted p "
            f"{_fmt_p(r.p_adjusted)}"
        )
        ev += (
            f"; {r.tree_importance:.0%} of the fair tree's importance)"
            if np.isfinite(r.tree_importance) and tree_counts
            else ")"
        )
        if r.recommended:
            paras.append(f"Add {what}: {ev}.")
        else:
            paras.append(
                f"{r.dimension.capitalize()} shows no difference worth a new dimension: {ev}."
            )
    other = _other_sentence(comparisons, config)
    if other:
        paras.append(other)
    cat = _categorical_sentence(chi_square, crosstabs, config.alpha)
    if cat:
        paras.append(cat)
    if len(cluster_profiles):
        sil = float(cluster_selection["silhouette"].max())
        quality = (
            "well separated"
            if sil >= 0.5
            else "moderately separated"
            if sil >= 0.25
            else "weakly separated, so read them as tendencies"
        )
        parts = [
            f"cluster {p.cluster} ({p.size}, {p.below} below / {p.above} above; "
            f"{p.main_segment}): {p.distinguishing}"
            for p in cluster_profiles.itertuples()
        ]
        paras.append(
            f"The anomalies form {len(cluster_profiles)} groups (silhouette {sil:.2f}, {quality}): "
            + "; ".join(parts)
            + "."
        )
    closing = (
        "These are associations, not causes; comparisons pool all segments but keep above-mean "
        "and below-mean anomalies apart."
    )
    verdict = tree_verdict(tree_metrics, config)
    if dimensions["recommended"].any():
        closing += (
            " Rebuild the segments with the recommended dimensions and re-run this audit to "
            "check that the anomaly rate falls."
        )
    elif other:
        closing += (
            " The other columns listed above are the candidates to add; re-run this audit after "
            "rebuilding the segments with them."
        )
    elif verdict == "behaviour":
        closing += (
            " The fair tree's leading columns (see its rules) are the candidates to add, although "
            "no single column differs enough on its own."
        )
    else:
        closing += " Nothing here argues for adding a new dimension to the segmentation."
    paras.append(closing)
    return "\n\n".join(paras)


def _other_sentence(comparisons: pd.DataFrame, config: AuditConfig) -> str:
    """Columns outside the three dimensions that differ clearly, each direction on its own
    (above-mean and below-mean anomalies against the rest, and all anomalies pooled), so that
    opposite effects cannot cancel; the strongest three (feature, group) pairs by effect."""
    if comparisons.empty:
        return ""
    c = comparisons[
        comparisons["family"].isin(["other", "volume"])
        & ~comparisons["uses_metric"].astype(bool)
        & (comparisons["p_adjusted"] < config.alpha)
        & (comparisons["rank_biserial"].abs() >= config.min_effect)
    ]
    if c.empty:
        return ""
    c = c.reindex(c["rank_biserial"].abs().sort_values(ascending=False).index)
    # a pooled result is listed only when neither direction of that feature is listed
    c = pd.concat([c[c["group"] != "all"], c[c["group"] == "all"]])
    c = c[~((c["group"] == "all") & c["feature"].isin(c.loc[c["group"] != "all", "feature"]))]
    c = c.reindex(c["rank_biserial"].abs().sort_values(ascending=False).index).head(3)
    parts = [
        f"{r.feature} ({_group_name(r.group)}: "
        f"{_direction(r.rank_biserial, r.median_anomaly, r.median_rest)}, median "
        f"{format_number(r.median_anomaly)} vs {format_number(r.median_rest)}, rank-biserial "
        f"{r.rank_biserial:+.2f}, adjusted p {_fmt_p(r.p_adjusted)})"
        for r in c.itertuples()
    ]
    return "Other columns that differ for anomalies: " + "; ".join(parts) + "."


def _group_name(group: str) -> str:
    return "all anomalies" if group == "all" else f"{group}-mean anomalies"


def tree_verdict(tree_metrics: pd.DataFrame, config: AuditConfig) -> str:
    """One decision for the tree claim: ``behaviour`` (the fair tree beats the segment-only
    tree by at least ``min_auc_gain`` and reaches ``auc_weak``), ``segment`` (it does not, and
    the segment alone reaches ``auc_weak``: the deviations sit in some segments), ``noise``
    (neither) or ``skipped``."""
    if tree_metrics.empty:
        return "skipped"
    m = tree_metrics.set_index("model")["roc_auc"]
    fair = float(m["without_metric"])
    seg = float(m.get("segment_only", 0.5))
    if fair - seg >= config.min_auc_gain and fair >= config.auc_weak:
        return "behaviour"
    if seg >= config.auc_weak:
        return "segment"
    return "noise"


def _fair_auc(tree_metrics: pd.DataFrame) -> float:
    """The fair tree's held-out ROC-AUC (NaN when the tree test was skipped)."""
    if tree_metrics.empty:
        return float("nan")
    return float(tree_metrics.set_index("model").loc["without_metric", "roc_auc"])


def _tree_paragraph(metric: str, tree_metrics: pd.DataFrame, config: AuditConfig) -> str:
    verdict = tree_verdict(tree_metrics, config)
    if verdict == "skipped":
        return "The decision-tree test was skipped (too few anomalies or other rows)."
    m = tree_metrics.set_index("model")
    fair = m.loc["without_metric"]
    auc = fair["roc_auc"]
    seg = float(m.loc["segment_only", "roc_auc"]) if "segment_only" in m.index else 0.5
    gain = auc - seg
    text = {
        "behaviour": "behaviour the segmentation ignores adds to the segment in explaining who "
        "deviates, so the segments can be improved",
        "segment": "the segment alone explains who deviates about as well, so the deviations "
        "sit in particular segments rather than in behaviour the segmentation ignores",
        "noise": "neither the segment nor behaviour explains who deviates; the deviations look "
        "like noise around the segment means",
    }[verdict]
    fit = (
        f"predicts the anomaly flag with ROC-AUC {auc:.2f} on held-out rows (recall "
        f"{fair['recall']:.0%}, precision {fair['precision']:.0%})"
        if auc > 0.5
        else f"does no better than chance at the anomaly flag (ROC-AUC {auc:.2f} on held-out "
        "rows, where 0.50 is a coin toss)"
    )
    adds = f"behaviour adds {gain:+.2f}" if auc > 0.5 else "behaviour adds nothing"
    return (
        f"Fair test: a depth-{config.tree_max_depth} decision tree that never sees {metric} (nor "
        f"columns computed from it) {fit}; a tree on the segment alone reaches {seg:.2f}, so "
        f"{adds}: {text}. With "
        f"{metric} itself the tree reaches ROC-AUC {m.loc['with_metric', 'roc_auc']:.2f}, which is "
        "circular because the flag is computed from it."
    )


def _categorical_sentence(chi_square: pd.DataFrame, crosstabs: pd.DataFrame, alpha: float) -> str:
    if chi_square.empty:
        return ""
    sig = chi_square[chi_square["significant"].astype(bool)]
    if sig.empty:
        cols = ", ".join(chi_square["column"])
        return f"No categorical column ({cols}) is associated with being an anomaly (chi-square, adjusted p >= {alpha:g})."
    parts = []
    for r in sig.itertuples():
        tab = crosstabs[(crosstabs["column"] == r.column) & (crosstabs["rows"] >= 5)]
        overall = tab["anomalies"].sum() / max(tab["rows"].sum(), 1)
        hi = tab.loc[tab["anomaly_rate"].idxmax()] if len(tab) else None
        lvl = (
            f"; highest rate in {hi['level']} ({hi['anomaly_rate']:.0%} vs {overall:.0%} overall)"
            if hi is not None
            else ""
        )
        parts.append(
            f"{r.column} (chi-square p {_fmt_p(r.p_adjusted)} adjusted, Cramer's V {r.cramers_v:.2f}{lvl})"
        )
    return "Anomalies are unevenly spread over " + "; ".join(parts) + "."


def small_segments_sentence(segments: pd.DataFrame, few: int) -> str:
    """A sentence naming the segments of fewer than ``few`` rows (their means are too thin to
    judge a row against), or ``""`` when there are none."""
    small = segments[segments["rows"] < few]
    if small.empty:
        return ""
    listed = ", ".join(
        f"{r.segment} ({r.rows} {'row' if r.rows == 1 else 'rows'}, {r.anomalies} flagged)"
        for r in small.head(5).itertuples()
    )
    if len(small) > 5:
        listed += f" and {len(small) - 5} more"
    one = len(small) == 1
    return (
        f"{'One segment has' if one else f'{len(small)} segments have'} fewer than {few} rows: "
        f"{listed}; {'its mean rests' if one else 'their means rest'} on too few customers to "
        f"judge anyone against, so {'its' if one else 'their'} anomalies and "
        f"{'rate are' if one else 'rates are'} weak evidence."
    )


def _small_segments(segments: pd.DataFrame, few: int) -> str:
    sentence = small_segments_sentence(segments, few)
    return f" {sentence}" if sentence else ""
