"""Insight chart specs: findings by kind and severity, anomaly z-scores, trend slopes."""

from __future__ import annotations

import altair as alt
import pandas as pd

from custlens._validation import require_columns
from custlens.charts import MAX_ROWS, WORDS

_SEVERITY = ["high", "medium", "low"]
_COLOURS = ["#c0392b", "#e67e22", "#95a5a6"]
# the kinds of insights.json in words (any other kind: underscores as spaces)
KIND_WORDS = {
    "segment_shift": "segment shift",
    "high_value_at_risk": "high-value customers at risk",
    "anomaly": "anomaly",
    "trend": "trend",
    "cohort_retention": "cohort retention",
    "cross_sell": "cross-sell",
}


def _whole(counts: pd.DataFrame) -> list[int]:
    """Whole ticks for the stacked counts (Vega's own ticks put some at 0.5 insights): about
    eight of them from 0 to the longest bar."""
    longest = (
        int(counts.groupby("kind", dropna=False)["insights"].sum().max()) if len(counts) else 1
    )
    step = max(1, -(-longest // 8))
    return list(range(0, longest + step, step))


def insight_overview(insights: pd.DataFrame) -> alt.Chart:
    """Number of insights per kind, stacked by severity (counted here: one row per kind and
    severity, however many insights a long history gives)."""
    require_columns(
        insights,
        ("kind", "severity", "id"),
        what="the table given to the insights chart",
        fix="pass the insights stage's insights table",
    )
    counts = (
        insights.groupby(["kind", "severity"], sort=True, dropna=False)
        .size()
        .reset_index(name="insights")
    )
    counts["kind"] = [KIND_WORDS.get(k, str(k).replace("_", " ")) for k in counts["kind"]]
    return (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            y=alt.Y("kind:N", title=None, axis=alt.Axis(labelExpr=WORDS)),
            x=alt.X(
                "sum(insights):Q",
                title="insights",
                axis=alt.Axis(values=_whole(counts), format="d"),
            ),
            color=alt.Color(
                "severity:N",
                sort=_SEVERITY,
                scale=alt.Scale(domain=_SEVERITY, range=_COLOURS),
            ),
            tooltip=["kind:N", "severity:N", alt.Tooltip("sum(insights):Q", title="insights")],
        )
        .properties(title="Insights by kind and severity", width=360, height=alt.Step(22))
    )


def _latest(frame: pd.DataFrame, budget: int) -> pd.DataFrame:
    """The rows of the latest periods (by ``start``) whose rows together fit in ``budget``."""
    per_start = frame.groupby("start").size().sort_index(ascending=False)
    keep = per_start.index[per_start.cumsum() <= budget]
    return frame[frame["start"].isin(keep)]


def _what(shown: pd.DataFrame, every: pd.DataFrame, unit: str) -> str | None:
    n_all = every["start"].nunique()
    n = shown["start"].nunique()
    if n_all == 0:
        return None
    if n == n_all:
        return f"all {n_all:,} {unit}s"
    if n == 0:
        return f"no {unit}s (too many to draw: {n_all:,})"
    return (
        f"the last {n:,} of {n_all:,} {unit}s, from {pd.Timestamp(shown['start'].min()):%Y-%m-%d}"
    )


def _shown_periods(scores: pd.DataFrame, max_rows: int) -> tuple[pd.DataFrame, str | None]:
    """All the scores when they fit in ``max_rows``; else every month (the latest that fit when
    even they do not) and the latest weeks that fit beside them, and what that is."""
    if len(scores) <= max_rows:
        return scores, None
    weeks, months = scores[scores["period"] == "week"], scores[scores["period"] == "month"]
    shown_months = _latest(months, max_rows)
    shown_weeks = _latest(weeks, max_rows - len(shown_months))
    parts = [_what(shown_weeks, weeks, "week"), _what(shown_months, months, "month")]
    shown = pd.concat([shown_weeks, shown_months]).sort_index()
    return shown, "; ".join(p for p in parts if p)


def anomaly_chart(
    scores: pd.DataFrame, cut_off: float = 3.5, max_rows: int = MAX_ROWS
) -> alt.LayerChart:
    """Robust z-score of every complete week and month, per measure, with the cut-offs.

    Above ``max_rows`` rows (a history of about 40 years) it draws every month and the most
    recent weeks that fit beside them, and the title says so.
    """
    require_columns(
        scores,
        ("period", "start", "measure", "robust_z", "value"),
        what="the table given to the anomaly chart",
        fix="pass the insights stage's anomaly_scores table",
    )
    data, shown = _shown_periods(scores, max_rows)
    title = "Revenue and orders against their baseline (robust z)"
    base = alt.Chart(data).encode(
        x=alt.X("start:T", title=None),
        y=alt.Y("robust_z:Q", title="robust z"),
    )
    line = base.mark_line(point=True).encode(
        color=alt.Color("measure:N"),
        # a line sample in the legend: with points on the lines it would show two equal dots
        strokeDash=alt.StrokeDash(
            "period:N",
            legend=alt.Legend(
                symbolType="stroke",
                symbolStrokeColor="#444",
                symbolFillColor="#444",  # without it the sample is not drawn
                symbolStrokeWidth=2,
                symbolSize=500,
            ),
        ),
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
        title=[title, f"({shown})"] if shown else title, width=560, height=220
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
