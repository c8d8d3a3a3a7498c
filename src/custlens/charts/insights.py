"""Insight chart specs: findings by kind and severity, anomaly z-scores, trend slopes."""

from __future__ import annotations

import altair as alt
import pandas as pd

from custlens._validation import require_columns

_SEVERITY = ["high", "medium", "low"]
_COLOURS = ["#c0392b", "#e67e22", "#95a5a6"]


def insight_overview(insights: pd.DataFrame) -> alt.Chart:
    """Number of insights per kind, stacked by severity."""
    require_columns(
        insights,
        ("kind", "severity", "id"),
        what="the table given to the insights chart",
        fix="pass the insights stage's insights table",
    )
    return (
        alt.Chart(insights)
        .mark_bar()
        .encode(
            y=alt.Y("kind:N", title=None),
            x=alt.X("count():Q", title="insights"),
            color=alt.Color(
                "severity:N",
                sort=_SEVERITY,
                scale=alt.Scale(domain=_SEVERITY, range=_COLOURS),
            ),
            tooltip=["kind:N", "severity:N", alt.Tooltip("count():Q", title="insights")],
        )
        .properties(title="Insights by kind and severity", width=360, height=alt.Step(22))
    )


def anomaly_chart(scores: pd.DataFrame, cut_off: float = 3.5) -> alt.LayerChart:
    """Robust z-score of every complete week and month, per measure, with the cut-offs."""
    require_columns(
        scores,
        ("period", "start", "measure", "robust_z", "value"),
        what="the table given to the anomaly chart",
        fix="pass the insights stage's anomaly_scores table",
    )
    base = alt.Chart(scores).encode(
        x=alt.X("start:T", title=None),
        y=alt.Y("robust_z:Q", title="robust z"),
    )
    line = base.mark_line(point=True).encode(
        color=alt.Color("measure:N"),
        strokeDash=alt.StrokeDash("period:N"),
        tooltip=[
            "period:N",
            alt.Tooltip("start:T"),
            "measure:N",
            alt.Tooltip("value:Q", format=",.0f"),
            alt.Tooltip("robust_z:Q", format="+.2f"),
        ],
    )
    rules = (
        alt.Chart(pd.DataFrame({"z": [-cut_off, cut_off]}))
        .mark_rule(strokeDash=[4, 4], color="#c0392b")
        .encode(y="z:Q")
    )
    return (line + rules).properties(
        title="Revenue and orders against their baseline (robust z)", width=560, height=220
    )


def trend_chart(trends: pd.DataFrame, alpha: float = 0.05) -> alt.Chart:
    """Sen's slope relative to the series' median level, per series; colour: significant after
    Benjamini-Hochberg."""
    require_columns(
        trends,
        ("dimension", "key", "relative_slope", "p_adjusted"),
        what="the table given to the trend chart",
        fix="pass the insights stage's trend_tests table",
    )
    frame = trends.assign(
        series=trends["dimension"] + ": " + trends["key"].astype(str),
        significant=trends["p_adjusted"] < alpha,
    )
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y("series:N", sort="x", title=None),
            x=alt.X(
                "relative_slope:Q",
                title="Sen's slope per month / median",
                axis=alt.Axis(format="%"),
            ),
            color=alt.Color("significant:N", title=f"BH p < {alpha:g}"),
            tooltip=[
                "series:N",
                "test:N",
                alt.Tooltip("relative_slope:Q", format="+.1%"),
                alt.Tooltip("slope:Q", format="+,.1f"),
                alt.Tooltip("p_value:Q", format=".2g"),
                alt.Tooltip("p_adjusted:Q", format=".2g"),
            ],
        )
        .properties(title="Trends (Mann-Kendall, Sen's slope)", width=360, height=alt.Step(16))
    )
