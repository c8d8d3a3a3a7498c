"""RFM chart specs: segment sizes against their revenue, and the R x FM grid."""

from __future__ import annotations

import altair as alt
import pandas as pd


def segment_share_chart(summary: pd.DataFrame) -> alt.Chart:
    """Share of customers beside share of revenue for each segment (from ``segment_summary``)."""
    order = summary["segment"].tolist()
    long = summary.melt(
        id_vars=["segment"],
        value_vars=["share", "revenue_share"],
        var_name="measure",
        value_name="value",
    )
    long["measure"] = long["measure"].map({"share": "customers", "revenue_share": "revenue"})
    return (
        alt.Chart(long, title="Segments: share of customers and of revenue")
        .mark_bar()
        .encode(
            y=alt.Y("segment:N", sort=order, title=None),
            x=alt.X("value:Q", axis=alt.Axis(format="%"), title="share"),
            yOffset="measure:N",
            color=alt.Color("measure:N", title=None),
            tooltip=["segment", "measure", alt.Tooltip("value:Q", format=".1%")],
        )
        .properties(width=420)
    )


def rfm_grid_chart(customers: pd.DataFrame) -> alt.LayerChart:
    """Customers per R x FM cell, labelled with the segment each cell belongs to."""
    cells = (
        customers.groupby(["r_score", "fm_score", "segment"], observed=True)
        .size()
        .reset_index(name="customers")
    )
    base = alt.Chart(cells, title="Customers per R x FM cell").encode(
        x=alt.X("fm_score:O", title="FM score"),
        y=alt.Y("r_score:O", sort="descending", title="R score"),
    )
    heat = base.mark_rect().encode(
        color=alt.Color("customers:Q", scale=alt.Scale(scheme="blues")),
        tooltip=["segment", "r_score", "fm_score", "customers"],
    )
    text = base.mark_text(fontSize=9).encode(text="segment:N")
    return (heat + text).properties(width=420, height=300)
