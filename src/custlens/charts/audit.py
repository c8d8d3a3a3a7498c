"""Altair chart specs for the segmentation audit; each draws one table of ``AuditResult.figures``."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from custlens.audit import AuditResult

_GOLDEN = (5**0.5 - 1) / 2  # successive multiples mod 1 spread evenly over 0..1
_GROUP_COLORS = alt.Scale(domain=["anomaly", "rest"], range=["#d62728", "#9aa5b1"])
TITLES = {
    "deviation": "Deviation from the segment mean",
    "segment_rates": "Anomalies per segment",
    "seasonal": "Average quarter shares: anomalies vs the rest",
    "value_realisation": "Score vs revenue (value realisation)",
    "stability": "Transaction consistency vs value volatility",
    "cluster_selection": "Choosing the number of anomaly clusters",
    "importances": "What predicts the anomaly flag (decision trees)",
}


def _title(
    name: str, drawn: int, rows: int | None, segments: tuple[int, int] | None = None
) -> str | list[str]:
    """The chart's title; when it draws a sample, how many rows of how many (``rows`` = those of
    the segments drawn), and when it draws only some segments (``segments`` = (drawn, all)),
    which ones: then on a second line, which would otherwise outgrow the chart's width."""
    sampled = rows is not None and drawn < rows
    if segments is None or segments[0] >= segments[1]:
        if not sampled:
            return TITLES[name]
        return f"{TITLES[name]} (a sample of {drawn:,} of {rows:,} rows, anomalies kept first)"
    which = f"the {segments[0]:,} of {segments[1]:,} segments with the most anomalies"
    if sampled:
        which += f"; a sample of {drawn:,} of their {rows:,} rows, anomalies kept first"
    return [TITLES[name], f"({which})"]


def deviation_chart(
    data: pd.DataFrame,
    metric: str,
    order: list[str] | None = None,
    rows: int | None = None,
    segments: tuple[int, int] | None = None,
) -> alt.Chart:
    # the vertical spread within a segment's band: a fixed low-discrepancy sequence, not Vega's
    # unseeded random(), so that the same audit draws the same image
    spread = data.assign(jitter=(np.arange(len(data)) * _GOLDEN) % 1.0)
    points = (
        alt.Chart(spread)
        .mark_circle(size=18, opacity=0.55)
        .encode(
            x=alt.X("deviation:Q", title=f"{metric} minus segment mean"),
            y=alt.Y("segment:N", title=None, sort=order),
            yOffset=alt.YOffset("jitter:Q"),
            color=alt.Color("group:N", scale=_GROUP_COLORS, title=None),
        )
    )
    limits = data.groupby("segment", as_index=False)["limit"].first()
    rules = pd.concat([limits.assign(x=limits["limit"]), limits.assign(x=-limits["limit"])])
    edge = (
        alt.Chart(rules)
        .mark_tick(color="black", thickness=2, size=28)
        .encode(x="x:Q", y=alt.Y("segment:N", sort=order))
    )
    return (points + edge).properties(
        title=_title("deviation", len(data), rows, segments),
        width=520,
        height=60 * limits.shape[0],
    )


def segment_rates_chart(data: pd.DataFrame, segments: tuple[int, int] | None = None) -> alt.Chart:
    long = data.melt(
        id_vars=["segment"],
        value_vars=["above", "below"],
        var_name="direction",
        value_name="anomalies",
    )
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("anomalies:Q", title="anomalies", stack="zero"),
            y=alt.Y("segment:N", title=None, sort=list(data["segment"])),
            color=alt.Color(
                "direction:N",
                scale=alt.Scale(domain=["above", "below"], range=["#2ca02c", "#d62728"]),
            ),
            tooltip=["segment", "direction", "anomalies"],
        )
        .properties(title=_title("segment_rates", 0, None, segments), width=480)
    )


def seasonal_chart(
    data: pd.DataFrame, order: list[str] | None = None, segments: tuple[int, int] | None = None
) -> alt.Chart:
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("share:Q", stack="normalize", title="share of transactions"),
            y=alt.Y("group:N", title=None),
            row=alt.Row("segment:N", title=None, sort=order),
            color=alt.Color("quarter:N", scale=alt.Scale(scheme="tableau10")),
            tooltip=["segment", "group", "quarter", alt.Tooltip("share:Q", format=".2f")],
        )
        .properties(title=_title("seasonal", 0, None, segments), width=420, height=40)
    )


def scatter_chart(data: pd.DataFrame, name: str, rows: int | None = None) -> alt.Chart:
    x_name, y_name = data["x_name"].iloc[0], data["y_name"].iloc[0]
    return (
        alt.Chart(data)
        .mark_circle(size=22, opacity=0.6)
        .encode(
            x=alt.X("x:Q", title=x_name, scale=alt.Scale(zero=False)),
            y=alt.Y("y:Q", title=y_name, scale=alt.Scale(zero=False)),
            color=alt.Color("group:N", scale=_GROUP_COLORS, title=None),
            order=alt.Order("group:N", sort="descending"),
            tooltip=["segment", "group", "x", "y"],
        )
        .properties(title=_title(name, len(data), rows), width=460, height=320)
    )


def cluster_selection_chart(data: pd.DataFrame) -> alt.Chart:
    base = alt.Chart(data).encode(x=alt.X("k:O", title="number of clusters k"))
    sil = base.mark_line(point=True).encode(
        y=alt.Y("silhouette:Q", title="silhouette (higher is better)")
    )
    return sil.properties(title=TITLES["cluster_selection"], width=360, height=220)


# the three trees of the audit's tree test, in words and in the order the conclusion reads them
TREE_NAMES = {
    "without_metric": "without the metric (the fair test)",
    "segment_only": "the segment alone",
    "with_metric": "with the metric (circular)",
}


def importances_chart(data: pd.DataFrame) -> alt.Chart:
    data = data.assign(tree=data["model"].map(TREE_NAMES).fillna(data["model"]))
    order = [TREE_NAMES[m] for m in TREE_NAMES if m in set(data["model"])]
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("importance:Q", title="importance"),
            y=alt.Y("feature:N", sort="-x", title=None),
            column=alt.Column("tree:N", title=None, sort=order),
            tooltip=["model", "feature", alt.Tooltip("importance:Q", format=".3f")],
        )
        .properties(title=TITLES["importances"], width=260)
    )


def audit_charts(result: AuditResult) -> dict[str, alt.TopLevelMixin]:
    """Every chart the result has data for, keyed like ``result.figures``."""
    figs = result.figures
    metric = str(result.settings["metric"])
    out: dict[str, alt.TopLevelMixin] = {}
    # the per-segment charts draw the segments listed in segment_rates (the most anomalies), in
    # the order of ``result.segments`` (by segment mean, highest first); a sort list of every
    # segment would also overflow Vega's stack at a few thousand segments
    drawn = figs.get("segment_rates", result.segments)
    order = [str(s) for s in drawn["segment"]]
    segments = (len(drawn), len(result.segments))
    if "deviation" in figs:
        rows = int(drawn["rows"].sum())  # the rows of the segments drawn
        out["deviation"] = deviation_chart(figs["deviation"], metric, order, rows, segments)
    if "segment_rates" in figs and int(figs["segment_rates"][["above", "below"]].to_numpy().sum()):
        out["segment_rates"] = segment_rates_chart(figs["segment_rates"], segments)
    if "seasonal" in figs:
        out["seasonal"] = seasonal_chart(figs["seasonal"], order, segments)
    for name in ("value_realisation", "stability"):
        if name in figs and figs[name][["x", "y"]].notna().all(axis=1).any():
            out[name] = scatter_chart(figs[name], name, len(result.rows))
    if "cluster_selection" in figs:
        out["cluster_selection"] = cluster_selection_chart(figs["cluster_selection"])
    if "importances" in figs:
        out["importances"] = importances_chart(figs["importances"])
    return out
