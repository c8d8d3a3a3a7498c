"""Migration chart specs: the segment transition matrix and the cohort retention heatmap."""

from __future__ import annotations

import altair as alt
import pandas as pd

from custlens._validation import require_columns
from custlens.charts import MAX_ROWS


def transition_heatmap(
    transitions: pd.DataFrame, date_then: str, date_now: str, lost_after_days: int | None = None
) -> alt.Chart:
    """Rows: state at the earlier date; columns: state now; colour: row share; text: count.

    Migration's own states are named in words: "new" (first order after ``date_then``) and
    "lost" (no order in ``lost_after_days``), which sat beside the RFM segment "Lost"."""
    from custlens.segment.migration import state_words

    require_columns(
        transitions,
        ("from_state", "to_state", "customers", "row_share"),
        what="the table given to the migration chart",
        fix="pass the migration stage's transitions table",
    )
    words = state_words(date_then, lost_after_days)
    transitions = transitions.assign(
        from_state=transitions["from_state"].replace(words),
        to_state=transitions["to_state"].replace(words),
    )
    rows = list(dict.fromkeys(transitions["from_state"]))
    cols = list(dict.fromkeys(transitions["to_state"]))
    base = alt.Chart(transitions).encode(
        x=alt.X("to_state:N", sort=cols, title=f"state on {date_now}"),
        y=alt.Y("from_state:N", sort=rows, title=f"state on {date_then}"),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("row_share:Q", title="share of row", scale=alt.Scale(scheme="blues")),
        tooltip=[
            "from_state:N",
            "to_state:N",
            alt.Tooltip("customers:Q", format=",.0f"),
            alt.Tooltip("row_share:Q", format=".1%"),
        ],
    )
    text = (
        base.transform_filter(alt.datum.customers > 0)
        .mark_text(fontSize=9)
        .encode(
            text=alt.Text("customers:Q", format=",.0f"),
            color=alt.condition(alt.datum.row_share > 0.5, alt.value("white"), alt.value("black")),
        )
    )
    return (cells + text).properties(
        title=f"Segment migration {date_then} -> {date_now}",
        width=alt.Step(44),
        height=alt.Step(22),
    )


def cohort_heatmap(
    cohorts: pd.DataFrame, metric: str = "customer_share", max_rows: int = MAX_ROWS
) -> alt.Chart:
    """Cohort (month of first order) x months since the first order; colour: retained share.

    Above ``max_rows`` cells (about 200 monthly cohorts at 24 months each) it draws the latest
    cohorts that fit, and the title says so.
    """
    require_columns(
        cohorts,
        ("cohort", "months_since", "customers", "revenue", metric),
        what="the table given to the cohort chart",
        fix="pass the migration stage's cohorts table",
    )
    frame = cohorts[cohorts["months_since"] > 0]
    what = "customers retained" if metric == "customer_share" else "revenue retained"
    head = f"Monthly cohorts: {what}"
    title: str | list[str] = head
    if len(frame) > max_rows:
        per_cohort = frame.groupby("cohort").size().sort_index(ascending=False)
        kept = per_cohort.index[per_cohort.cumsum() <= max_rows]
        frame = frame[frame["cohort"].isin(kept)]
        title = [
            head,
            f"(the latest {len(kept):,} of {len(per_cohort):,} cohorts, from {min(kept)})",
        ]
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("months_since:O", title="months since first order"),
            y=alt.Y("cohort:O", title="cohort (first order)"),
            color=alt.Color(f"{metric}:Q", title=what, scale=alt.Scale(scheme="greens")),
            tooltip=[
                "cohort:O",
                "months_since:O",
                alt.Tooltip("cohort_customers:Q", format=",.0f"),
                alt.Tooltip("customers:Q", format=",.0f"),
                alt.Tooltip("revenue:Q", format=",.2f"),
                alt.Tooltip(f"{metric}:Q", format=".1%"),
            ],
        )
        .properties(title=title, width=alt.Step(18), height=alt.Step(14))
    )
