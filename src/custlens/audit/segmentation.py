"""Segmentation audit: who does not fit their segment on a metric, and what explains it.

``audit_segmentation(df, segment=..., metric=...)`` takes a customer-level table (one or several
snapshot rows per customer) and:

1. flags rows whose metric is more than ``threshold`` from their segment's mean (``relative``:
   more than threshold x |segment mean|) and summarises count, rate, share and direction per
   segment;
2. compares anomalies with the rest (means, medians, Mann-Whitney U, rank-biserial effect) on the
   behaviour columns the table has or that can be derived (see
   :mod:`custlens.audit.behaviour_features`), and
   cross-tabulates categorical columns with the flag (chi-square);
3. clusters the anomalies into personas (K-Means, k by silhouette) and fits decision trees for the
   flag with and without the metric (the fair test);
4. writes a plain-language conclusion on which new dimensions would improve the segmentation.

Columns whose names start with an underscore are dropped before anything else (a place for
ground truth or private fields). The result is a frozen ``AuditResult``; ``custlens.report.
audit_markdown.write_audit`` turns it into CSV tables, PNG figures and ``audit.md``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from custlens.audit.anomaly_clusters import cluster_anomalies
from custlens.audit.anomaly_trees import anomaly_trees
from custlens.audit.behaviour_features import build_features
from custlens.audit.conclusion import dimension_evidence, write_conclusion
from custlens.audit.flags import flag_rows, segment_table, threshold_warnings
from custlens.audit.group_tests import chi_square_tests, compare_groups
from custlens.audit.prepare import prepare_input
from custlens.config import AuditConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditResult:
    """Everything the audit found; every table is a pandas DataFrame."""

    settings: Mapping[str, object]
    rows: (
        pd.DataFrame
    )  # per audited row: id, segment, metric, mean, deviation, flag, direction, cluster
    segments: pd.DataFrame
    features: pd.DataFrame  # numeric features used, aligned with ``rows``
    feature_catalog: pd.DataFrame
    comparisons: pd.DataFrame
    chi_square: pd.DataFrame
    crosstabs: pd.DataFrame
    cluster_selection: pd.DataFrame
    cluster_profiles: pd.DataFrame
    tree_metrics: pd.DataFrame
    tree_importances: pd.DataFrame
    tree_rules: Mapping[str, tuple[str, ...]]
    tree_text: Mapping[str, str]
    dimensions: pd.DataFrame
    figures: Mapping[str, pd.DataFrame]
    notes: tuple[str, ...]
    conclusion: str
    n_anomalies: int = field(default=0)

    def headline(self) -> str:
        """ "k of n rows (c of m customers) deviate ...": rows and customers, never confused."""
        flag = self.rows["is_anomaly"]
        text = f"{int(flag.sum()):,} of {len(self.rows):,} rows"
        if "customer_id" in self.rows.columns:
            ids = self.rows["customer_id"]
            text += f" ({ids[flag].nunique():,} of {ids.nunique():,} customers)"
        return text

    @property
    def anomalies(self) -> pd.DataFrame:
        """The flagged rows with their features."""
        return self.rows_with_features()[self.rows["is_anomaly"]]

    def rows_with_features(self) -> pd.DataFrame:
        """``rows`` side by side with ``features`` (a clashing feature name gets ``_feature``)."""
        clash = {c: f"{c}_feature" for c in self.features.columns if c in self.rows.columns}
        return pd.concat([self.rows, self.features.rename(columns=clash)], axis=1)


def audit_segmentation(
    df: pd.DataFrame,
    *,
    segment: str,
    metric: str,
    threshold: float = 0.15,
    relative: bool = False,
    latest_by: str | None = None,
    customer_col: str | None = None,
    seed: int = 0,
    config: AuditConfig | None = None,
    tie_break: str | None = None,
    plausible_dates: tuple[date, date] | None = None,
) -> AuditResult:
    """Audit how well ``segment`` groups customers with respect to ``metric``.

    A row is an anomaly when its metric is more than ``threshold`` from its segment's mean
    (``relative``: more than ``threshold`` x |segment mean|). Columns whose names start with an
    underscore are dropped first. The steps are described in :mod:`custlens.audit.segmentation`.

    Parameters
    ----------
    df : pandas.DataFrame
        A customer-level table: one row per customer, or several snapshot rows per customer.
    segment : str
        The column holding the current segment labels.
    metric : str
        The numeric column the segmentation should explain (numbers as text are accepted).
    threshold : float, default=0.15
        The largest deviation from the segment mean that is not an anomaly (strictly greater
        is one); positive.
    relative : bool, default=False
        The limit is ``threshold`` times the absolute segment mean.
    latest_by : str or None, default=None
        A date column: keep each customer's latest row. Without it every row is used.
    customer_col : str or None, default=None
        The customer id column; ``None`` detects ``customer_id``, ``cust_id``, ``client_id``,
        ``account_id``, ``customer``, ``id`` ... (case and punctuation ignored). Without one
        every row is a customer.
    tie_break : str or None, default=None
        With ``latest_by``: among a customer's rows of the latest date keep the one with the
        largest value of this column; ``None`` keeps the last of them in file order. The rule
        used is printed in the notes.
    plausible_dates : (date, date) or None, default=None
        With ``latest_by``: the first and last plausible snapshot date (both inclusive); a date
        outside them counts as no date (a typo such as 2104 cannot be the latest), with a note.
        ``None`` uses cleaning's window, ``CleaningConfig().plausible_window()``.
    seed : int, default=0
        Seed of the clustering, the tree split and the chart samples.
    config : custlens.config.AuditConfig or None, default=None
        Significance level, minimum effect, tree and cluster limits; ``None`` uses defaults.

    Returns
    -------
    AuditResult
        Flags per row, the per-segment table, the comparisons, chi-square tests, anomaly
        clusters, decision trees, candidate dimensions, chart data, notes and the conclusion.

    Raises
    ------
    custlens.errors.InputError
        ``df`` is not a DataFrame, or the metric or the ``latest_by`` dates are not readable.
    custlens.errors.MappingError
        The segment, metric, customer id or ``latest_by`` column is not in the table.
    custlens.errors.ConfigError
        The threshold is not a positive number, or segment and metric are the same column.
    custlens.errors.DataError
        No rows, an all-null metric, a single segment, or ``latest_by`` without a customer id.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "segment": ["A"] * 4 + ["B"] * 4,
    ...     "retention": [0.80, 0.82, 0.50, 0.81, 0.30, 0.31, 0.29, 0.60],
    ... })
    >>> result = audit_segmentation(table, segment="segment", metric="retention", threshold=0.15)
    >>> result.n_anomalies
    2
    >>> result.segments[["segment", "rows", "anomalies", "direction"]]
      segment  rows  anomalies direction
    0       A     4          1     below
    1       B     4          1     above
    """
    config = config or AuditConfig()
    prep = prepare_input(
        df,
        segment=segment,
        metric=metric,
        threshold=threshold,
        latest_by=latest_by,
        customer_col=customer_col,
        tie_break=tie_break,
        plausible=plausible_dates,
    )
    notes = list(prep.notes)
    frame = prep.frame
    rows = flag_rows(prep.metric, prep.segment, threshold=threshold, relative=relative)
    segments = segment_table(rows)
    # a mean of so few rows is no reference to judge a row against (the conclusion says so)
    segments["few_rows"] = segments["rows"] < config.min_segment_rows
    warnings = threshold_warnings(rows, metric=metric, threshold=threshold, relative=relative)
    for w in warnings:
        log.warning(w)
    notes.extend(warnings)
    if relative and (segments["mean"] == 0).any():
        zero = ", ".join(map(str, segments.loc[segments["mean"] == 0, "segment"]))
        notes.append(
            f"--relative: the mean of {zero} is 0, so any non-zero deviation there is an anomaly."
        )
    small = segments.loc[segments["rows"] < 2, "segment"].tolist()
    if small:
        notes.append(
            "Segments with a single row cannot hold anomalies (the row is its own mean): "
            + ", ".join(map(str, small))
            + "."
        )
    exclude = {c for c in (segment, prep.customer_col, latest_by, tie_break) if c is not None}
    fs = build_features(
        frame, metric=metric, exclude=exclude, max_category_levels=config.max_category_levels
    )
    notes.extend(fs.notes)
    n_anom = int(rows["is_anomaly"].sum())
    log.info("audit: %d of %d rows are anomalies", n_anom, len(rows))

    comparisons, chi, tabs = _empty_comparisons(), pd.DataFrame(), pd.DataFrame()
    clusters = cluster_anomalies(fs.values, fs.catalog, rows, seed=seed, config=config)
    trees = anomaly_trees(
        fs.values,
        fs.catalog,
        rows,
        frame[[segment, *fs.categoricals]],
        seed=seed,
        config=config,
        metric_name=metric,
    )
    if n_anom:
        comparisons, more = compare_groups(fs.values, fs.catalog, rows, alpha=config.alpha)
        notes.extend(more)
        chi, tabs, more = chi_square_tests(
            frame, [segment, *fs.categoricals], rows["is_anomaly"], alpha=config.alpha
        )
        notes.extend(more)
        notes.extend(clusters.notes)
        notes.extend(trees.notes)
    else:
        notes.append(
            "No anomalies at this threshold: comparisons, clusters and trees were skipped."
        )

    rows = rows.assign(cluster=clusters.labels)
    if prep.customer_col is not None:
        rows.insert(0, "customer_id", frame[prep.customer_col])
    rows.insert(0, "source_row", rows.index)
    dims = dimension_evidence(comparisons, trees.importances, fs.catalog, config)
    conclusion = write_conclusion(
        metric=metric,
        segment=segment,
        threshold=threshold,
        relative=relative,
        rows=rows,
        segments=segments,
        dimensions=dims,
        comparisons=comparisons,
        chi_square=chi,
        crosstabs=tabs,
        cluster_profiles=clusters.profiles,
        cluster_selection=clusters.selection,
        tree_metrics=trees.metrics,
        config=config,
        warnings=warnings,
    )
    settings = {
        "segment": segment,
        "metric": metric,
        "threshold": threshold,
        "relative": relative,
        "latest_by": latest_by,
        "tie_break": tie_break,
        "customer_col": prep.customer_col,
        "seed": seed,
        "rows_in": prep.rows_in,
        "rows_used": len(rows),
        "snapshot_mode": prep.snapshot_mode,
        "alpha": config.alpha,
        "min_effect": config.min_effect,
    }
    return AuditResult(
        settings=settings,
        rows=rows,
        segments=segments,
        features=fs.values,
        feature_catalog=fs.catalog,
        comparisons=comparisons,
        chi_square=chi,
        crosstabs=tabs,
        cluster_selection=clusters.selection,
        cluster_profiles=clusters.profiles,
        tree_metrics=trees.metrics,
        tree_importances=trees.importances,
        tree_rules=trees.rules,
        tree_text=trees.text,
        dimensions=dims,
        figures=_figure_data(
            rows,
            fs.values,
            fs.catalog,
            segments,
            clusters.selection,
            trees.importances,
            seed=seed,
            max_points=config.max_chart_points,
            max_segments=config.max_chart_segments,
        ),
        notes=tuple(notes),
        conclusion=conclusion,
        n_anomalies=n_anom,
    )


def _empty_comparisons() -> pd.DataFrame:
    return pd.DataFrame(
        columns=[
            "feature",
            "family",
            "source",
            "uses_metric",
            "group",
            "n_anomaly",
            "n_rest",
            "mean_anomaly",
            "mean_rest",
            "median_anomaly",
            "median_rest",
            "rank_biserial",
            "p_value",
            "p_adjusted",
            "significant",
        ]
    )


def _figure_data(
    rows: pd.DataFrame,
    features: pd.DataFrame,
    catalog: pd.DataFrame,
    segments: pd.DataFrame,
    selection: pd.DataFrame,
    importances: pd.DataFrame,
    *,
    seed: int,
    max_points: int,
    max_segments: int,
) -> dict[str, pd.DataFrame]:
    """Small tables the charts draw from. Point charts draw at most ``max_points`` rows: every
    anomaly and a seeded sample of the rest; when the anomalies alone are more, a seeded sample
    of them and a tenth of the points for the rest. Per-segment charts (deviation, anomalies per
    segment, seasonality) draw at most ``max_segments`` segments: those with the most anomalies
    (then the most rows), in the order of ``segments``; ``segment_rates`` lists the ones drawn."""
    flag = rows["is_anomaly"]
    shown = chart_segments(segments, max_segments)
    in_shown = rows["segment"].isin(set(shown["segment"]))
    sample = _point_sample(rows, max_points, seed)  # the scatter charts: every segment
    by_segment = sample if in_shown.all() else _point_sample(rows[in_shown], max_points, seed)
    group = sample["is_anomaly"].map({True: "anomaly", False: "rest"})
    figs: dict[str, pd.DataFrame] = {
        "deviation": pd.DataFrame(
            {
                "segment": by_segment["segment"],
                "deviation": by_segment["deviation"],
                "limit": by_segment["limit"],
                "group": by_segment["is_anomaly"].map({True: "anomaly", False: "rest"}),
            }
        ),
        "segment_rates": shown[["segment", "above", "below", "rows", "anomaly_rate"]].copy(),
    }
    role = dict(zip(catalog["role"], catalog["feature"], strict=True))
    quarters = [role.get(f"q{i}_share") for i in range(1, 5)]
    if all(quarters):
        q = features.loc[in_shown, quarters].copy()
        q.columns = ["Q1", "Q2", "Q3", "Q4"]
        q["segment"] = rows.loc[in_shown, "segment"]
        q["group"] = flag[in_shown].map({True: "anomaly", False: "rest"})
        long = q.groupby(["segment", "group"]).mean().reset_index()
        figs["seasonal"] = long.melt(
            id_vars=["segment", "group"], var_name="quarter", value_name="share"
        )
    for name, xr, yr in (
        ("value_realisation", "score", "total_revenue"),
        ("stability", "transaction_consistency", "value_volatility"),
    ):
        if xr in role and yr in role:
            figs[name] = pd.DataFrame(
                {
                    "x": features.loc[sample.index, role[xr]],
                    "y": features.loc[sample.index, role[yr]],
                    "group": group,
                    "segment": sample["segment"],
                }
            ).assign(x_name=role[xr], y_name=role[yr])
    if len(selection):
        figs["cluster_selection"] = selection.copy()
    if len(importances):
        figs["importances"] = (
            importances.sort_values("importance", ascending=False)
            .groupby("model")
            .head(10)
            .reset_index(drop=True)
        )
    return figs


def chart_segments(segments: pd.DataFrame, max_segments: int) -> pd.DataFrame:
    """The rows of ``segments`` a per-segment chart draws: all when there are at most
    ``max_segments``, else the ``max_segments`` with the most anomalies (ties: more rows, then
    the earlier row), kept in ``segments``' order."""
    if len(segments) <= max_segments:
        return segments
    top = segments.sort_values(["anomalies", "rows"], ascending=False, kind="mergesort")
    return segments.loc[segments.index.isin(top.index[:max_segments])]


def _point_sample(rows: pd.DataFrame, max_points: int, seed: int) -> pd.DataFrame:
    """``rows`` when at most ``max_points``; else every anomaly and a seeded sample of the rest,
    or, when the anomalies alone are more, a seeded sample of them and a tenth of the points for
    the rest (file order kept)."""
    if len(rows) <= max_points:
        return rows
    flag = rows["is_anomaly"]
    rng = np.random.default_rng(seed)
    anomalies, rest = rows.index[flag].to_numpy(), rows.index[~flag].to_numpy()
    n_rest = max(0, max_points - len(anomalies))
    if len(anomalies) > max_points:
        n_rest = min(len(rest), max_points // 10)
        anomalies = rng.choice(anomalies, size=max_points - n_rest, replace=False)
    if len(rest) > n_rest:
        rest = rng.choice(rest, size=n_rest, replace=False)
    keep = np.concatenate([anomalies, rest])
    return rows.loc[rows.index.isin(keep)]
