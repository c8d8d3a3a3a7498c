"""Segments: the summary table, a segment's customers (search, sort) and its CRM list."""

from __future__ import annotations

import streamlit as st

from custlens.app.downloads import crm_csv
from custlens.app.panel import plain
from custlens.app.state import initial
from custlens.app.views.common import ROW_PX, charts, table
from custlens.exports import CRM_COLUMNS
from custlens.pipeline import Results

SUMMARY_FORMAT = {
    "customers": "{:,.0f}",
    "share": "{:.1%}",
    "revenue": "{:,.0f}",
    "revenue_share": "{:.1%}",
    "avg_monetary": "{:,.2f}",
    "avg_recency": "{:,.0f}",
    "avg_frequency": "{:,.1f}",
}


def formatted(summary):
    """The summary for reading: rounded numbers, a dash for empty segments."""
    shown = summary.copy()
    for column, fmt in SUMMARY_FORMAT.items():
        if column in shown:
            shown[column] = [
                fmt.format(v) if v == v and v is not None else "—" for v in shown[column]
            ]
    return shown


def render(results: Results) -> None:
    st.title("Segments")
    summary = results.segment_summary
    st.caption(
        f"{len(results.customers):,} customers in {len(summary)} segments, as of {results.as_of}"
    )
    table(formatted(summary), height=ROW_PX * (len(summary) + 1) + 3, key="segment_summary")

    st.subheader("Customers of a segment")
    names = list(summary["segment"])
    left, mid, right = st.columns([2, 2, 1])
    segment = left.selectbox("Segment", names, key="seg_pick")
    query = mid.text_input("Search customer id", key="seg_search").strip()
    customers = results.customers
    cols = [c for c in CRM_COLUMNS if c in customers.columns]
    sortable = [c for c in cols if c not in ("segment", "action")]
    sort_by = right.selectbox(
        "Sort by",
        sortable,
        key="seg_sort",
        format_func=lambda column: column.replace("_", " "),  # as the table's headers read
        **initial("seg_sort", index=sortable.index("monetary")),
    )
    ascending = right.toggle("Ascending", key="seg_asc", **initial("seg_asc", value=False))
    rows = customers.loc[customers["segment"] == segment, cols]
    if query:
        rows = rows[rows["customer_id"].astype(str).str.contains(query, case=False, regex=False)]
    rows = rows.sort_values([sort_by, "customer_id"], ascending=[ascending, True])
    st.caption(f"{len(rows):,} customers")
    table(rows, height=420, key="segment_customers")
    name, data = crm_csv(results, segment)
    st.download_button(
        f"Download the CRM list of {plain(segment)} ({plain(name)})",
        data,
        file_name=name,
        mime="text/csv",
        on_click="ignore",
        key="crm_download",
    )
    st.subheader("Charts")
    charts(results, ["segments", "rfm_grid"])
