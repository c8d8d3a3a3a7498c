"""Timing chart specs: hour x weekday heatmaps (overall, per segment) and quarterly seasonality."""

from __future__ import annotations

import altair as alt
import pandas as pd

from custlens._validation import require_columns
from custlens.errors import DataError

WEEKDAY_ORDER = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_TITLES = {
    "orders": "orders",
    "revenue": "revenue",
    "share_orders": "share of orders",
    "share_revenue": "share of revenue",
}


def _need(frame: pd.DataFrame, columns: tuple[str, ...], chart: str, source: str) -> None:
    require_columns(
        frame,
        columns,
        what=f"the table given to the {chart} chart",
        fix=f"pass the output of custlens.segment.timing.{source}",
    )


def _metric(metric: str) -> tuple[str, str]:
    if metric not in _TITLES:
        raise DataError(
            f"Unknown metric {metric!r}",
            where="timing chart metric",
            fix="use one of " + ", ".join(_TITLES),
        )
    fmt = ".1%" if metric.startswith("share") else ",.0f"
    return _TITLES[metric], fmt


def _heat(frame: pd.DataFrame, metric: str) -> alt.Chart:
    title, fmt = _metric(metric)
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("hour:O", title="hour of day"),
            y=alt.Y("weekday_name:O", sort=WEEKDAY_ORDER, title=None),
            color=alt.Color(f"{metric}:Q", title=title, scale=alt.Scale(scheme="blues")),
            tooltip=[
                "weekday_name:O",
                "hour:O",
                alt.Tooltip("orders:Q", format=",.0f"),
                alt.Tooltip("revenue:Q", format=",.2f"),
                alt.Tooltip(f"{metric}:Q", format=fmt, title=title),
            ],
        )
    )


def hour_weekday_heatmap(table: pd.DataFrame, metric: str = "orders") -> alt.Chart:
    """Weekday x hour heatmap of ``metric`` from :func:`hour_weekday` without segments."""
    _need(
        table,
        ("weekday_name", "hour", "orders", "revenue", metric),
        "hour x weekday",
        "hour_weekday",
    )
    if "segment" in table.columns:
        raise DataError(
            "This table is per segment",
            where="hour_weekday_heatmap",
            fix="use hour_weekday_heatmap_by_segment, or compute hour_weekday without segments",
        )
    return _heat(table, metric).properties(
        title=f"When customers order ({_metric(metric)[0]})", width=480, height=180
    )


def _segment_order(present: pd.Series, order: list[str] | None) -> list[str]:
    """The segments of ``present`` in ``order`` (the RFM rules' order: best customers first),
    any others after them by name."""
    names = sorted(set(present.dropna().astype(str)))
    first = [s for s in (order or []) if s in names]
    return first + [s for s in names if s not in first]


def hour_weekday_heatmap_by_segment(
    table: pd.DataFrame,
    metric: str = "share_orders",
    *,
    columns: int = 3,
    order: list[str] | None = None,
) -> alt.FacetChart:
    """One heatmap per segment (shares by default, so segments of different sizes compare), in
    ``order`` (the segment rules' order; by name without it)."""
    _need(
        table,
        ("segment", "weekday_name", "hour", "orders", "revenue", metric),
        "hour x weekday by segment",
        "hour_weekday(..., segments)",
    )
    return (
        _heat(table, metric)
        .properties(width=260, height=110)
        .facet(
            facet=alt.Facet("segment:N", title=None, sort=_segment_order(table["segment"], order)),
            columns=columns,
        )
        .properties(title=f"When each segment orders ({_metric(metric)[0]})")
        .resolve_scale(color="independent" if not metric.startswith("share") else "shared")
    )


def quarter_seasonality(
    table: pd.DataFrame, metric: str = "share_revenue", *, order: list[str] | None = None
) -> alt.Chart:
    """Stacked bars: each segment's share of orders or revenue per quarter (Q1-Q4), segments in
    ``order`` (by name without it)."""
    _need(table, ("quarter", metric), "quarter seasonality", "seasonality(period='quarter')")
    title, fmt = _metric(metric)
    frame = table.copy()
    frame["quarter_label"] = "Q" + frame["quarter"].astype(int).astype(str)
    head = f"Seasonality by segment ({title} per quarter)"
    heading: str | list[str] = head
    if "segment" not in frame.columns:
        frame["segment"] = "All customers"
    else:  # RFM segments are set by recency: New Customers are all in the latest quarter
        heading = [head, "(segments depend on recency: recent buyers fall in the latest months)"]
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("segment:N", title=None, sort=_segment_order(frame["segment"], order)),
            y=alt.Y(f"{metric}:Q", title=title, stack="zero", axis=alt.Axis(format=fmt)),
            color=alt.Color("quarter_label:N", title="quarter", sort=["Q1", "Q2", "Q3", "Q4"]),
            order=alt.Order("quarter:Q"),
            tooltip=[
                "segment:N",
                "quarter_label:N",
                alt.Tooltip("orders:Q", format=",.0f"),
                alt.Tooltip("revenue:Q", format=",.2f"),
                alt.Tooltip(f"{metric}:Q", format=fmt, title=title),
            ],
        )
        .properties(title=heading, width=alt.Step(40), height=260)
    )
